//! The library API the GDB server will use: `Host::add_watchpoint` / `watchpoint_hit` /
//! `add_breakpoint` on the virtual Blue Pill running `f103-blinky.elf`, driven through the
//! dispatcher on the test thread.

use std::path::Path;

use stdbg::command::{Collect, Ctx, Origin, dispatch};
use stdbg::host::breakpoints::{BreakpointError, BreakpointKind, WatchKind};
use stdbg::host::{Host, HostConfig};

const COUNTER: u32 = 0x2000_0004;
const BLINK_PERIOD: u32 = 0x2000_0000;

fn host_with_blinky(dir: &Path) -> Host {
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/f103-blinky.elf");
    let host = Host::new(HostConfig::default());
    run(&host, "script board/sim-bluepill.rhai");
    run(
        &host,
        &format!("sim storage {}", dir.join("f103.sim").display()),
    );
    run(&host, "init");
    let out = run(&host, &format!("program {} verify", elf.display()));
    assert!(out.contains("** Verified OK **"), "{out}");
    host
}

fn run(host: &Host, line: &str) -> String {
    let mut out = Collect::default();
    let mut ctx = Ctx::new(host, Origin::Cli, &mut out);
    if let Err(e) = dispatch(&mut ctx, line) {
        panic!("{line}: {e}");
    }
    out.text()
}

#[test]
fn watchpoint_hit_names_the_comparator_that_matched() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_blinky(dir.path());
    run(&host, "reset halt");
    // Run to main (Reset_Handler writes both .data and .bss), then watch writes to both
    // blink_period (never written again) and counter (written every loop).
    host.add_breakpoint(0x0800_0174, 2, BreakpointKind::Hardware)
        .unwrap();
    let out = run(&host, "resume; wait_halt");
    assert!(out.contains("halted due to breakpoint"), "{out}");
    host.add_watchpoint(BLINK_PERIOD, 4, WatchKind::Write, None, None)
        .unwrap();
    host.add_watchpoint(COUNTER, 4, WatchKind::Write, None, None)
        .unwrap();
    host.remove_breakpoint(0x0800_0174).unwrap();
    assert_eq!(
        host.watchpoint_hit().unwrap(),
        None,
        "no watchpoint matched at a breakpoint halt"
    );
    let out = run(&host, "resume; wait_halt");
    assert!(out.contains("halted due to watchpoint"), "{out}");
    assert_eq!(host.watchpoint_hit().unwrap(), Some(COUNTER));
    // MATCHED is read-to-clear; the answer is remembered until the next resume.
    assert_eq!(host.watchpoint_hit().unwrap(), Some(COUNTER));
    assert_eq!(
        host.watchpoints()
            .iter()
            .map(|w| (w.address, w.comparator))
            .collect::<Vec<_>>(),
        [(BLINK_PERIOD, 0), (COUNTER, 1)]
    );
    host.remove_watchpoint(COUNTER).unwrap();
    assert!(matches!(
        host.remove_watchpoint(COUNTER),
        Err(BreakpointError::WatchNotFound(COUNTER))
    ));
}

#[test]
fn release_on_disconnect_restores_ram_and_clears_comparators() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_blinky(dir.path());
    run(&host, "reset halt; mwh 0x20001000 0xbf00");
    let id = host
        .add_breakpoint(0x2000_1000, 2, BreakpointKind::Software)
        .unwrap();
    assert_eq!(host.breakpoints()[0].id, id);
    assert_eq!(host.breakpoints()[0].kind, BreakpointKind::Software);
    assert_eq!(run(&host, "mdh 0x20001000"), "0x20001000: be00 ");
    host.add_breakpoint(0x0800_0164, 2, BreakpointKind::Hardware)
        .unwrap();
    host.add_watchpoint(COUNTER, 4, WatchKind::Access, None, None)
        .unwrap();
    // What disconnect does before closing the session.
    host.release_debug_units();
    assert!(host.breakpoints().is_empty() && host.watchpoints().is_empty());
    // The nop is back, no FPB comparator and no DWT function is left enabled.
    assert_eq!(run(&host, "mdh 0x20001000"), "0x20001000: bf00 ");
    assert_eq!(
        run(&host, "mdw 0xe0002008 6"),
        "0xe0002008: 00000000 00000000 00000000 00000000 00000000 00000000 "
    );
    // DWT_FUNCTION0: FUNCTION = 0 (disabled); bit 9 is the read-only LNK1ENA.
    assert_eq!(run(&host, "mdw 0xe0001028"), "0xe0001028: 00000200 ");
    host.disconnect();
}
