//! The telnet console on the STM32F303VC, STM32G474RE, STM32L476RG and STM32H743ZI boards: after `program`, a
//! command line typed over telnet prints exactly what the same line printed from `-c` (one
//! dispatcher), including the family's option-byte command; the log lines come too.

mod telnet_support;

use telnet_support::{Client, Running, stdbg};

#[test]
fn telnet_prints_what_dash_c_prints_on_each_board() {
    for (board, elf, opt) in [
        (
            "board/sim-stm32f3discovery.rhai",
            "f303-blinky.elf",
            "stm32f1x options_read 0",
        ),
        (
            "board/sim-st_nucleo_g4.rhai",
            "g474-blinky.elf",
            "flash probe 1; stm32l4x option_read 0 0x20",
        ),
        (
            "board/sim-st_nucleo_l4.rhai",
            "l476-blinky.elf",
            "flash probe 1; stm32l4x option_read 0 0x20",
        ),
        (
            "board/sim-st_nucleo_h743zi.rhai",
            "h743-blinky.elf",
            "flash probe 1; stm32h7x option_read 0 0x1c; stm32h7x.ap2 mdw 0xe00e1004",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("chip.bin");
        let st = format!("sim storage {}", storage.display());
        let elf = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/firmware")
            .join(elf);
        let prog = format!("program {} verify", elf.display());
        let seq =
            format!("reset halt; mdw 0x08000000 4; reg pc; flash probe 0; {opt}; flash banks");
        let base = ["-c", st.as_str(), "-f", board, "-c", "gdb_port disabled"];

        let mut args = base.to_vec();
        args.extend(["-c", &prog, "-c", &seq, "-c", "shutdown"]);
        let out = stdbg(dir.path(), &args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{board}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        // Log lines (stderr from `-c`) reach the telnet console too, without their level, as
        // soon as they are logged; command output follows its command.
        let logs: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.strip_prefix("Info : ").map(str::to_string))
            .collect();
        // The lines of `seq`: from the first halt message after "** Verified OK **".
        let lines: Vec<&str> = stdout.lines().collect();
        let ok = lines
            .iter()
            .position(|l| *l == "** Verified OK **")
            .expect("program verified");
        let mut expected: Vec<String> = lines[ok + 1..]
            .iter()
            .filter(|l| !l.contains(".usart"))
            .map(|l| l.to_string())
            .collect();
        assert_eq!(expected.pop().as_deref(), Some("shutdown command invoked"));
        assert!(
            expected
                .iter()
                .any(|l| l.starts_with("0x08000000: ") && !l.starts_with("0x08000000: ffffffff")),
            "{board}: {expected:?}"
        );

        let mut args = base.to_vec();
        args.extend(["-c", "telnet_port 0"]);
        let run = Running::spawn(stdbg(dir.path(), &args));
        let mut a = Client::connect(run.addr());
        a.expect("> ");
        let got: Vec<String> = a
            .command(&seq)
            .into_iter()
            .filter(|l| !l.contains(".usart") && !logs.contains(l))
            .collect();
        assert_eq!(got, expected, "{board}");
        a.send("shutdown\r\n");
        a.read_to_eof();
        let (code, _, err) = run.wait();
        assert_eq!(code, Some(0), "{board}: {err}");
    }
}
