//! Target commands over telnet against the virtual Blue Pill (built binary, `sim storage none`).

mod telnet_support;

use telnet_support::{Client, Running, stdbg};

const HALT: &str = "[stm32f1x.cpu] halted due to debug-request, current mode: Thread ";
/// A blank chip that ran: its reset vector (0xffffffff) faults, HardFault's does too, and the
/// core locks up in the HardFault handler with the frame it could not stack at 0xffffffdc (as on
/// a real STM32F103, whose Cortex-M3 r1p1 stacks with 4-byte alignment).
const HALT_LOCKED: &str =
    "[stm32f1x.cpu] halted due to debug-request, current mode: Handler HardFault ";

fn sim_args() -> Vec<&'static str> {
    vec![
        "-f",
        "board/sim-bluepill.rhai",
        "-c",
        "sim storage none",
        "-c",
        "gdb_port disabled",
    ]
}

#[test]
fn target_commands_over_telnet_match_dash_c_and_halt_reaches_the_other_console() {
    let dir = tempfile::tempdir().unwrap();
    let seq = "reset halt; mdw 0x08000000 4; mdw 0x20000000 2";

    let mut args = sim_args();
    args.extend(["-c", "init", "-c", seq, "-c", "shutdown"]);
    let out = stdbg(dir.path(), &args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut expected: Vec<&str> = stdout.lines().collect();
    assert_eq!(expected.pop(), Some("shutdown command invoked"));
    assert!(expected.contains(&HALT), "{expected:?}");
    assert!(
        expected.contains(&"0x08000000: ffffffff ffffffff ffffffff ffffffff "),
        "{expected:?}"
    );

    let mut args = sim_args();
    args.extend(["-c", "telnet_port 0"]);
    let run = Running::spawn(stdbg(dir.path(), &args));
    let mut a = Client::connect(run.addr());
    let mut b = Client::connect(run.addr());
    // a sees b's connection announced as a log line (OpenOCD's, without the level) above its
    // prompt.
    assert_eq!(
        a.expect("\r\n> "),
        format!(
            "\r\x1b[Kaccepting 'telnet' connection on tcp/{}\r\n> ",
            run.port
        )
    );
    assert_eq!(a.command(seq), expected);

    // a resumes; b halts: b prints the halt message as command output, and a gets it
    // asynchronously above its prompt.
    a.send("resume\r\n");
    a.expect("resume\r\n");
    a.expect("> ");
    b.send("halt\r\n");
    b.expect("halt\r\n");
    let b_out = b.expect("\r\n> ");
    assert!(
        b_out.contains(&format!(
            "{HALT_LOCKED}\r\nxPSR: 0x01000003 pc: 0xfffffffe msp: 0xffffffdc"
        )),
        "b: {b_out:?}"
    );
    let a_out = a.expect(HALT_LOCKED);
    assert!(
        a_out.ends_with(&format!("\r\x1b[K{HALT_LOCKED}")),
        "a: {a_out:?}"
    );
    a.expect("\r\n> ");
    // The console that issued the halt is not told twice.
    b.send("echo done\r\n");
    assert_eq!(b.expect("done\r\n> "), "echo done\r\ndone\r\n> ");

    a.send("shutdown\r\n");
    a.read_to_eof();
    b.read_to_eof();
    let (code, _, err) = run.wait();
    assert_eq!(code, Some(0), "stderr: {err}");
}
