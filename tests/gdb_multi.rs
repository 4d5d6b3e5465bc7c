//! Several GDB connections at once (`-gdb-max-connections`, cortex-debug's live watch), `gdb_port
//! pipe`, and OpenOCD's `gdb_*` commands, against the virtual Blue Pill: the real `gdb-multiarch`
//! where a GDB is what matters, raw RSP packets where the packet is.

#[path = "gdb/harness.rs"]
mod harness;
#[path = "gdb/rsp.rs"]
mod rsp;

use std::time::Duration;

use harness::{Server, ex, sigint, wait_output};
use rsp::{Rsp, frame};

/// The value of GDB's `$n = value` line.
fn value_of(text: &str, n: u32) -> u64 {
    let prefix = format!("${n} = ");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {prefix:?} line:\n{text}"));
    line.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{line:?} is not a number:\n{text}"))
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Runs `monitor <cmd>` over raw RSP; returns the console text (the `O` packets) before `OK`.
fn monitor(g: &mut Rsp, cmd: &str) -> String {
    g.raw(&frame(format!("qRcmd,{}", hex(cmd)).as_bytes()));
    let mut text = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no OK after {cmd}: {text}"
        );
        let p = g.packet_raw(Duration::from_secs(10)).expect("a reply");
        if p == b"OK" {
            return text;
        }
        if let Some(h) = p.strip_prefix(b"O") {
            let bytes: Vec<u8> = h
                .chunks(2)
                .filter_map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
                .collect();
            text.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            panic!(
                "unexpected reply to qRcmd {cmd}: {}",
                String::from_utf8_lossy(&p)
            );
        }
    }
}

/// A raw client past the handshake GDB makes.
fn client(port: u16) -> Rsp {
    let mut g = Rsp::connect(port);
    let r = g.ask("qSupported:multiprocess+;swbreak+;hwbreak+").unwrap();
    assert!(r.contains("PacketSize"), "{r}");
    g
}

#[test]
fn second_gdb_reads_a_changing_variable_while_the_first_keeps_the_target_running() {
    let s = Server::start_with(&["stm32f1x.cpu configure -gdb-max-connections 2"]);
    let first = s
        .gdb_command(&[
            ex("load"),
            ex("continue"),
            ex("p counter"),
            ex("info registers pc"),
            ex("detach"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting gdb-multiarch");
    s.wait_log("GDB continue: the target runs until it stops");
    // The live watch: a second GDB reads `counter` twice, 300 ms apart, while the first one's
    // target runs; connecting does not stop it.
    let second = s.gdb(&[
        ex("monitor stm32f1x.cpu cget -gdb-max-connections"),
        ex("p counter"),
        ex("shell sleep 0.3"),
        ex("p counter"),
        ex("monitor targets"),
        ex("detach"),
    ]);
    let (a, b) = (value_of(&second.text, 1), value_of(&second.text, 2));
    assert!(
        b > a,
        "counter did not advance between the reads ({a}, {b}):\n{}",
        second.text
    );
    second.expect("\n2\n");
    assert!(
        second
            .text
            .lines()
            .any(|l| l.contains("stm32f1x.cpu") && l.contains("running")),
        "the target was not running during the second GDB's reads:\n{}",
        second.text
    );
    s.wait_log("GDB detached; the target's run state is left to the first GDB connection");
    // The first GDB still controls the target: Ctrl-C stops it in the program, and its counter
    // went on from where the second GDB saw it.
    sigint(first.id());
    let r = wait_output(first);
    r.expect("Program received signal SIGINT, Interrupt.")
        .expect("[Inferior 1 (process 1) detached]");
    let c = value_of(&r.text, 1);
    assert!(c >= b, "counter went back from {b} to {c}:\n{}", r.text);
    assert!(r.line("pc ").contains("0x80001"), "{}", r.text);
    assert!(
        !s.log().contains("rejected 'gdb' connection"),
        "{}",
        s.log()
    );
}

#[test]
fn connections_beyond_gdb_max_connections_are_refused_naming_the_limit() {
    let s = Server::start_with(&["stm32f1x.cpu configure -gdb-max-connections 2"]);
    let _a = client(s.gdb_port);
    let _b = client(s.gdb_port);
    let mut c = Rsp::connect(s.gdb_port);
    let r = c.ask("qSupported:multiprocess+").unwrap_or_default();
    assert!(
        r.starts_with("E.stdbg: 2 GDB clients are already connected to this target, its limit (-gdb-max-connections 2)"),
        "{r}"
    );
    s.wait_log("rejected 'gdb' connection, no more connections allowed");
    // -1: no limit.
    let s = Server::start_with(&["stm32f1x.cpu configure -gdb-max-connections -1"]);
    let clients: Vec<Rsp> = (0..4).map(|_| client(s.gdb_port)).collect();
    assert_eq!(clients.len(), 4);
    // 0: none.
    let s = Server::start_with(&["stm32f1x.cpu configure -gdb-max-connections 0"]);
    let mut c = Rsp::connect(s.gdb_port);
    let r = c.ask("qSupported:multiprocess+").unwrap_or_default();
    assert!(
        r.starts_with("E.stdbg: this target serves no GDB connection (-gdb-max-connections 0)"),
        "{r}"
    );
}

#[test]
fn registers_of_a_running_target_read_as_last_known_unless_errors_are_reported() {
    for report in [false, true] {
        let mut cmds = vec!["stm32f1x.cpu configure -gdb-max-connections 2"];
        if report {
            cmds.push("gdb_report_register_access_error enable");
        }
        let s = Server::start_with(&cmds);
        let mut a = client(s.gdb_port);
        a.ask("g").unwrap();
        a.raw(&frame(b"c"));
        s.wait_log("GDB continue: the target runs until it stops");
        let mut b = client(s.gdb_port);
        let g = b.ask("g").unwrap();
        if report {
            assert!(g.starts_with('E'), "{g}");
        } else {
            // 23 registers of 32 bits, hex: zeros, as this connection read none before.
            assert_eq!(g, "0".repeat(23 * 8), "{g}");
        }
        // Memory reads work either way while the core runs.
        let m = b.ask("m08000000,4").unwrap();
        assert_eq!(m.len(), 8, "{m}");
    }
}

#[test]
fn gdb_port_pipe_serves_gdb_on_stdin_and_stdout() {
    harness::require_gdb();
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_stdbg");
    let storage = dir.path().join("chip.bin");
    let target = format!(
        "target extended-remote | {exe} -f board/sim-bluepill.rhai -c \"sim storage {}\" -c \"telnet_port disabled\" -c \"gdb_port pipe\"",
        storage.display()
    );
    let out = std::process::Command::new(harness::GDB)
        .args(["-batch", "-nx", "-ex", "set pagination off", "-ex", &target])
        .args(["-ex", "load", "-ex", "x/1xw 0x08000000", "-ex", "p/x $sp"])
        .args(["-ex", "monitor mdw 0x08000000", "-ex", "detach"])
        .arg(harness::firmware("f103-blinky.elf"))
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running gdb-multiarch");
    let r = harness::GdbRun::from(out);
    r.expect("Start address 0x080000f0, load size 440")
        .expect("0x8000000 <vector_table>:\t0x20005000")
        .expect("$1 = 0x")
        .expect("0x08000000: 20005000 \n")
        .reject("Ignoring packet error")
        .reject("Remote communication error");
}

#[test]
fn gdb_memory_map_and_gdb_target_description_disable_take_the_features_away() {
    let on = Server::start();
    let mut g = Rsp::connect(on.gdb_port);
    let r = g.ask("qSupported:multiprocess+").unwrap();
    assert!(r.contains("qXfer:memory-map:read+"), "{r}");
    assert!(r.contains("qXfer:features:read+"), "{r}");
    drop(g);
    on.wait_log("GDB connection closed without detach");
    let off = Server::start_with(&["gdb_memory_map disable", "gdb_target_description disable"]);
    let mut g = Rsp::connect(off.gdb_port);
    let r = g.ask("qSupported:multiprocess+").unwrap();
    assert!(!r.contains("qXfer:memory-map"), "{r}");
    assert!(!r.contains("qXfer:features"), "{r}");
    assert_eq!(g.ask("qXfer:memory-map:read::0,100").unwrap(), "");
    // Without a description GDB expects its built-in M-profile layout: r0-r15 and xpsr only.
    assert_eq!(g.ask("g").unwrap().len(), 17 * 8);
    let mut g = Rsp::connect(on.gdb_port);
    assert_eq!(g.ask("g").unwrap().len(), 23 * 8);
    // gdb_save_tdesc writes what GDB gets.
    let sent = g.ask("qXfer:features:read:target.xml:0,3fff").unwrap();
    monitor(&mut g, "gdb_save_tdesc");
    let saved = std::fs::read_to_string(on.dir.path().join("cortex_m.xml")).unwrap();
    // (gdbstub marks the reply 'm' or 'l', more or last; the document is the rest.)
    assert_eq!(&sent[1..], saved);
    assert!(
        saved.contains("<feature name=\"org.gnu.gdb.arm.m-system\">"),
        "{saved}"
    );
}

#[test]
fn gdb_flash_program_disable_refuses_vflash_and_gdb_load_fails() {
    let s = Server::start_with(&["gdb_flash_program disable"]);
    let mut g = client(s.gdb_port);
    assert_eq!(g.ask("vFlashErase:08000000,400").unwrap(), "");
    drop(g);
    s.wait_log("GDB connection closed without detach");
    let r = s.gdb(&[ex("load")]);
    r.expect("Remote target does not support flash erase")
        .reject("Start address 0x080000f0, load size 440");
    assert!(!s.log().contains("GDB load: programmed"), "{}", s.log());
    let on = Server::start();
    let mut g = client(on.gdb_port);
    assert_eq!(g.ask("vFlashErase:08000000,400").unwrap(), "OK");
}

#[test]
fn gdb_breakpoint_override_chooses_the_breakpoint_type_of_z0_and_z1() {
    // The Cortex-M3's FPB compares code addresses below 0x20000000 only: in RAM a hardware
    // breakpoint is refused and a software one (BKPT patched into RAM) works, which shows
    // which type GDB's Z0/Z1 got.
    let s = Server::start();
    let mut g = client(s.gdb_port);
    assert_eq!(g.ask("Z0,20000100,2").unwrap(), "OK");
    assert_eq!(g.ask("z0,20000100,2").unwrap(), "OK");
    assert!(g.ask("Z1,20000100,2").unwrap().starts_with('E'));
    assert!(
        monitor(&mut g, "gdb_breakpoint_override soft").ends_with("\nforce soft breakpoints\n")
    );
    assert_eq!(g.ask("Z1,20000100,2").unwrap(), "OK");
    let bp = monitor(&mut g, "bp");
    assert!(bp.contains("IVA breakpoint: 0x20000100, 0x2, 0x"), "{bp}");
    assert_eq!(g.ask("z1,20000100,2").unwrap(), "OK");
    assert!(monitor(&mut g, "gdb_breakpoint_override hard").ends_with("force hard breakpoints\n"));
    assert!(g.ask("Z0,20000100,2").unwrap().starts_with('E'));
    // In flash the hardware breakpoint it forces works.
    assert_eq!(g.ask("Z0,08000150,2").unwrap(), "OK");
    let bp = monitor(&mut g, "bp");
    assert!(bp.contains("Breakpoint(IVA): 0x08000150, 0x2, "), "{bp}");
    assert!(
        monitor(&mut g, "gdb_breakpoint_override disable")
            .ends_with("breakpoint type is not overridden\n")
    );
    assert_eq!(g.ask("Z0,20000100,2").unwrap(), "OK");
    assert_eq!(
        monitor(&mut g, "gdb_breakpoint_override"),
        "breakpoint type is not overridden\n"
    );
}

#[test]
fn gdb_sync_makes_the_next_stepi_report_without_stepping() {
    let s = Server::start();
    let r = s.gdb(&[
        ex("load"),
        ex("monitor reset halt"),
        ex("p/x $pc"),
        ex("monitor gdb_sync"),
        ex("stepi"),
        ex("p/x $pc"),
        ex("stepi"),
        ex("p/x $pc"),
        ex("detach"),
    ]);
    let pcs: Vec<&str> = r
        .text
        .lines()
        .filter_map(|l| l.split_once(" = 0x").map(|(_, v)| v))
        .collect();
    assert_eq!(pcs.len(), 3, "{}", r.text);
    assert_eq!(
        pcs[0], pcs[1],
        "gdb_sync's stepi moved the core:\n{}",
        r.text
    );
    assert_ne!(
        pcs[1], pcs[2],
        "the stepi after it did not step:\n{}",
        r.text
    );
    r.expect("Program received signal SIGINT");
    // Outside GDB it explains itself, as in OpenOCD.
    let t = std::process::Command::new(env!("CARGO_BIN_EXE_stdbg"))
        .args(["-c", "gdb_sync", "-c", "shutdown"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&t.stderr).into_owned() + &String::from_utf8_lossy(&t.stdout);
    assert!(
        text.contains(
            "gdb_sync command can only be run from within gdb using \"monitor gdb_sync\""
        ),
        "{text}"
    );
}

#[test]
fn gdb_report_data_abort_chooses_between_zeros_and_an_error() {
    for report in [false, true] {
        let cmds: &[&str] = if report {
            &["gdb_report_data_abort enable"]
        } else {
            &[]
        };
        let s = Server::start_with(cmds);
        let mut g = client(s.gdb_port);
        // 0x60000000: FSMC space, which the STM32F103C8 does not have: the bus faults.
        let r = g.ask("m60000000,4").unwrap();
        if report {
            assert!(r.starts_with('E'), "{r}");
        } else {
            assert_eq!(r, "00000000");
        }
    }
}
