//! The firmware of the virtual chip through the `stdbg` binary: USART output
//! on the console and over `sim uart … tcp`, the fault decode under the halt
//! message and from `fault`, `sim stats`, the FPU registers in `reg`.

mod common;
mod telnet_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{QUIET, assert_has, firmware, stdbg, tempdir};
use telnet_support::{Client, Running};

fn fw(name: &str) -> String {
    firmware(name).display().to_string()
}

#[test]
fn usart_output_appears_on_the_console_as_chip_usart_lines() {
    let dir = tempdir();
    let prog = format!("program {} verify reset", fw("f103-usart.elf"));
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            &prog,
            "-c",
            "sleep 350",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    assert_has(&r.stdout, "[stm32f1x.usart1] hello\n");
    assert_has(&r.stdout, "[stm32f1x.usart1] count 1\n");
    assert_has(&r.stdout, "[stm32f1x.usart1] count 2\n");
}

#[test]
fn sim_uart_file_appends_the_raw_bytes_and_off_discards_them() {
    let dir = tempdir();
    let prog = format!("program {} verify reset", fw("f103-usart.elf"));
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            "sim uart usart1 file uart.log",
            "-c",
            "sim uart usart2 off",
            "-c",
            "sim uart",
            "-c",
            &prog,
            "-c",
            "sleep 250",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    assert_has(&r.stdout, "usart1: file uart.log\nusart2: off\n");
    let log = std::fs::read(dir.path().join("uart.log")).unwrap();
    assert!(
        log.starts_with(b"hello\r\ncount 1\r\n"),
        "{:?}",
        String::from_utf8_lossy(&log)
    );
    assert!(!r.stdout.contains("[stm32f1x.usart1]"), "{}", r.stdout);
    let bad = stdbg(dir.path(), &["-c", "sim uart usart9 off", "-c", "shutdown"]);
    bad.expect_code(1);
    assert_has(
        &bad.stderr,
        "no USART \"usart9\" on the virtual STM32F103C8; use usart1, usart2 or usart3",
    );
}

#[test]
fn sim_uart_tcp_carries_the_firmwares_bytes_both_ways() {
    let dir = tempdir();
    let prog = format!("program {} verify reset", fw("f103-usart.elf"));
    let cmd = telnet_support::stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            "gdb_port disabled",
            "-c",
            "telnet_port 0",
            "-c",
            "sim uart usart1 tcp 0",
            "-c",
            &prog,
        ],
    );
    let run = Running::spawn(cmd);
    let mut console = Client::connect(run.addr());
    let route = console.command("sim uart usart1");
    let port: u16 = route
        .iter()
        .find_map(|l| l.strip_prefix("usart1: tcp 127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no TCP route: {route:?}"));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = Vec::new();
    let read_until = |s: &mut TcpStream, got: &mut Vec<u8>, needle: &[u8]| {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 256];
        while !got.windows(needle.len()).any(|w| w == needle) {
            assert!(
                Instant::now() < deadline,
                "never got {:?}: {:?}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(got)
            );
            if let Ok(n) = s.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
        }
    };
    // Sent at boot, before anyone connected: kept for the first client.
    read_until(&mut s, &mut got, b"hello\r\n");
    // The firmware enables RXNEIE only after its SPI and I2C checks, which follow "hello": bytes
    // sent before that overrun (USART_SR.ORE keeps the first, loses the rest, as on silicon), so
    // the echo test waits for the first "count" line, sent after the receiver is armed.
    read_until(&mut s, &mut got, b"count 1\r\n");
    s.write_all(b"ping").unwrap();
    read_until(&mut s, &mut got, b"ping");
    read_until(&mut s, &mut got, b"count 3\r\n");
    console.send("shutdown\r\n");
    console.read_to_eof();
    let (code, stdout, _) = run.wait();
    assert_eq!(code, Some(0));
    assert!(
        !stdout.contains("[stm32f1x.usart1] hello"),
        "the TCP route replaces the console:\n{stdout}"
    );
}

#[test]
fn the_halt_message_and_fault_explain_a_hardfault_with_function_and_line() {
    let dir = tempdir();
    let prog = format!("program {} verify", fw("f103-faults.elf"));
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            &prog,
            "-c",
            "reset halt",
            // DEMCR: TRCENA | VC_HARDERR (OpenOCD's `cortex_m vector_catch hard_err`).
            "-c",
            "mww 0xE000EDFC 0x01000400",
            "-c",
            "resume",
            "-c",
            "sleep 100",
            "-c",
            "poll",
            "-c",
            "fault",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    let line = "HardFault (forced): UsageFault UNDEFINSTR at 0x08000336 in fault_case_udf16 (faults_cases.S:57); stacked LR 0xca5e0000";
    let lines = r.lines();
    let halt = lines
        .iter()
        .position(|l| {
            l.starts_with(
                "[stm32f1x.cpu] halted due to debug-request, current mode: Handler HardFault",
            )
        })
        .unwrap_or_else(|| panic!("no HardFault halt message:\n{}", r.stdout));
    let handler = lines[halt + 1];
    assert!(
        handler.starts_with("xPSR: 0x") && handler.contains("000003 pc: 0x0800031c"),
        "{}",
        r.stdout
    );
    assert_eq!(lines[halt + 2], line, "the decode follows the halt message");
    assert!(
        lines[halt + 3].starts_with(
            "  likely cause: the instruction at the stacked PC is not valid Thumb code"
        )
    );
    assert_eq!(
        lines.iter().filter(|l| **l == line).count(),
        2,
        "and 'fault' prints it again:\n{}",
        r.stdout
    );
}

#[test]
fn fault_says_so_when_there_is_none() {
    let dir = tempdir();
    let prog = format!("program {} verify", fw("f103-hal.elf"));
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            &prog,
            "-c",
            "reset halt",
            "-c",
            "fault",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "no fault: the core is not in a fault handler (CFSR 0x00000000, HFSR 0x00000000)\n",
    );
}

#[test]
fn sim_stats_reports_instructions_and_virtual_against_real_time() {
    let dir = tempdir();
    let prog = format!("program {} verify reset", fw("f103-hal.elf"));
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            &prog,
            "-c",
            "sim stats reset",
            "-c",
            "sleep 300",
            "-c",
            "sim stats",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    let line = r
        .lines()
        .into_iter()
        .find(|l| l.starts_with("instructions "))
        .unwrap_or_else(|| panic!("no sim stats line:\n{}", r.stdout))
        .to_string();
    // "instructions N, X MIPS; core cycles C (P% skipped asleep or idle); virtual time V s in W s real time: Rx"
    let ratio: f64 = line
        .rsplit(": ")
        .next()
        .unwrap()
        .trim_end_matches('x')
        .parse()
        .unwrap();
    assert!(ratio > 0.3 && ratio < 3.0, "virtual/real {ratio}: {line}");
    assert!(line.contains("% skipped asleep or idle"), "{line}");
}

#[test]
fn reg_lists_and_sets_the_fpu_registers_of_a_cortex_m4f() {
    let dir = tempdir();
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-stm32f3discovery.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            "init",
            "-c",
            "reset halt",
            "-c",
            "reg s1 0x3f800000",
            "-c",
            "reg d0",
            "-c",
            "reg fpscr 0x03000000",
            "-c",
            "reg",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    let lines = r.lines();
    assert!(lines.contains(&"s1 (/32): 0x3f800000"), "{}", r.stdout);
    assert!(
        lines.contains(&"d0 (/64): 0x3f80000000000000"),
        "d0 = s1:s0\n{}",
        r.stdout
    );
    assert!(lines.contains(&"fpscr (/32): 0x03000000"));
    assert!(
        lines.contains(&"(42) d0 (/64): 0x3f80000000000000"),
        "{}",
        r.stdout
    );
    assert!(lines.contains(&"(58) fpscr (/32): 0x03000000"));
    assert!(lines.contains(&"(60) s1 (/32): 0x3f800000"));
}

/// The address of `name` in a firmware's symbol table (Thumb bit cleared).
fn symbol(elf: &str, name: &str) -> u32 {
    let bytes = std::fs::read(firmware(elf)).unwrap();
    let e = goblin::elf::Elf::parse(&bytes).unwrap();
    e.syms
        .iter()
        .find(|s| e.strtab.get_at(s.st_name) == Some(name))
        .unwrap_or_else(|| panic!("{name} not in {elf}"))
        .st_value as u32
        & !1
}

#[test]
fn a_hardware_breakpoint_in_ram_hits_on_the_cortex_m7s_fpb_v2() {
    // The Cortex-M7's FPBv2 matches any address (Cortex-M7 TRM §3.4), so `hw`
    // works on code in the H743's DTCM; FPBv1 (M3/M4) refuses it.
    let target = symbol("h743-fpu.elf", "fpu_double_checks");
    let dir = tempdir();
    let elf = fw("h743-fpu.elf");
    let bp = format!("bp 0x{target:08x} 2 hw");
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-st_nucleo_h743zi.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            "init",
            "-c",
            "reset halt",
            "-c",
            &format!("load_image {elf}"),
            "-c",
            &bp,
            "-c",
            "reg pc 0x20000000",
            "-c",
            "reg sp 0x20020000",
            "-c",
            "resume",
            "-c",
            "wait_halt 5000",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    assert_has(&r.stdout, "halted due to breakpoint");
    assert_has(&r.stdout, &format!("pc: 0x{target:08x}"));

    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-stm32f3discovery.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            "init",
            "-c",
            "reset halt",
            "-c",
            "bp 0x20000100 2 hw",
            "-c",
            "shutdown",
        ],
    );
    assert_has(
        &r.stderr,
        "only matches code-region addresses below 0x20000000",
    );
}

#[test]
fn cortex_m_vector_catch_sets_demcr_and_lists_like_openocd() {
    let dir = tempdir();
    let prog = format!("program {} verify", fw("f103-faults.elf"));
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
            "-c",
            &prog,
            "-c",
            "reset halt",
            "-c",
            "cortex_m vector_catch hard_err bus_err",
            "-c",
            "mdw 0xE000EDFC",
            "-c",
            "resume",
            "-c",
            "sleep 100",
            "-c",
            "poll",
            "-c",
            "cortex_m vector_catch none",
            "-c",
            "cortex_m vector_catch bogus",
            "-c",
            "shutdown",
        ],
    );
    let lines = r.lines();
    let at = lines
        .iter()
        .position(|l| *l == " hard_err: catch")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(
        &lines[at..at + 8],
        &[
            " hard_err: catch",
            "  int_err: ignore",
            "  bus_err: catch",
            "state_err: ignore",
            "  chk_err: ignore",
            " nocp_err: ignore",
            "   mm_err: ignore",
            "    reset: ignore",
        ]
    );
    assert_eq!(lines[at + 8], "0xe000edfc: 00000500 ");
    assert_has(
        &r.stdout,
        "halted due to debug-request, current mode: Handler HardFault",
    );
    assert_has(&r.stdout, "HardFault (forced): UsageFault UNDEFINSTR at 0x");
    assert_eq!(
        lines.iter().filter(|l| **l == " hard_err: ignore").count(),
        1,
        "'none' clears them:\n{}",
        r.stdout
    );
    assert_has(&r.stderr, "unknown vector catch \"bogus\"");
}
