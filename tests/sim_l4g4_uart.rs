//! The USART2 output of the G474 and L476 blinky images (m4_blinky.c) on the
//! console of the built binary: `program … verify reset`, then a watchpoint
//! on `blinky_result.lines` stops the core when the first "tick" line is
//! due (1 s of virtual time after SysTick started, whatever the host's
//! speed); after a short resume the console holds exactly "hello" and
//! "tick 1" from `[<target>.usart2]`, `sim uart` lists the route, and the
//! result block counts the 15 bytes written to USART_TDR with no TXE
//! timeout (the USART answered).

mod common;

use common::{firmware, fresh_board_run, tempdir};

/// `blinky_result.lines` (m4_result.h: the result block at 0x2000_0000, +0x50).
const LINES: u32 = 0x2000_0050;

/// Runs `elf` on `board` and checks the console lines of `target`'s USART2.
fn blinky_prints_hello_and_tick_1(board: &str, elf: &str, target: &str) {
    let dir = tempdir();
    let prog = format!("program {} verify reset", firmware(elf).display());
    let wp = format!("wp 0x{LINES:08x} 4 w");
    let rwp = format!("rwp 0x{LINES:08x}");
    // lines = 1 is stored just before "tick 1" is sent.
    let cmds = [
        prog.as_str(),
        &wp,
        "wait_halt 120000",
        &rwp,
        "resume",
        "sleep 300",
        "halt",
        "sim uart",
        "mdw 0x20000050 3",
        "shutdown",
    ];
    let r = fresh_board_run(dir.path(), board, &cmds);
    r.expect_code(0);
    let prefix = format!("[{target}.usart2] ");
    let uart: Vec<&str> = r
        .lines()
        .into_iter()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .collect();
    assert_eq!(uart, ["hello", "tick 1"], "{}", r.stdout);
    assert!(
        r.lines().contains(&"usart2: console"),
        "sim uart: {}",
        r.stdout
    );
    // lines 1, tx_bytes 7 + 8 ("hello\r\n", "tick 1\r\n"), tx_timeouts 0.
    assert!(
        r.lines()
            .contains(&"0x20000050: 00000001 0000000f 00000000 "),
        "{}",
        r.stdout
    );
}

#[test]
fn g474_blinky_prints_on_usart2() {
    blinky_prints_hello_and_tick_1("board/sim-st_nucleo_g4.rhai", "g474-blinky.elf", "stm32g4x");
}

#[test]
fn l476_blinky_prints_on_usart2() {
    blinky_prints_hello_and_tick_1("board/sim-st_nucleo_l4.rhai", "l476-blinky.elf", "stm32l4x");
}
