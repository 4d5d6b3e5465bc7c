//! Real-probe code paths without hardware: they must fail with a clear message, never panic.

mod common;
use common::*;

#[test]
fn stlink_without_a_probe_attached_fails_clearly() {
    let dir = tempdir();
    let r = stdbg(
        dir.path(),
        &["-f", "interface/stlink.rhai", "-f", "board/bluepill.rhai"],
    );
    r.expect_code(1);
    assert!(
        r.stderr.contains("Error: no stlink probe found"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("'adapter list' shows the probes"),
        "{}",
        r.stderr
    );
}

#[test]
fn every_real_driver_reports_a_missing_probe() {
    let dir = tempdir();
    for iface in ["interface/cmsis-dap.rhai", "interface/jlink.rhai"] {
        let r = stdbg(dir.path(), &["-f", iface, "-f", "board/bluepill.rhai"]);
        r.expect_code(1);
        let driver = iface
            .trim_start_matches("interface/")
            .trim_end_matches(".rhai");
        assert!(
            r.stderr.contains(&format!("no {driver} probe found")),
            "{iface}: {}",
            r.stderr
        );
    }
}

#[test]
fn unknown_driver_lists_the_supported_ones() {
    let dir = tempdir();
    let r = stdbg(dir.path(), &["-c", "adapter driver usb-blaster"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("The specified debug interface was not found (usb-blaster)")
            && r.stderr.contains("sim, stlink, cmsis-dap, jlink, ftdi"),
        "{}",
        r.stderr
    );
}

#[test]
fn init_without_adapter_or_target_says_what_to_add() {
    let dir = tempdir();
    let r = stdbg(dir.path(), &["-c", "init"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("no target is defined: source a target script first"),
        "{}",
        r.stderr
    );
    let r = stdbg(dir.path(), &["-f", "targets/stm32f1x.rhai", "-c", "init"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("Debug Adapter has to be specified"),
        "{}",
        r.stderr
    );
}

#[test]
fn adapter_list_always_shows_the_virtual_probe() {
    let dir = tempdir();
    let r = stdbg(dir.path(), &["-c", "adapter list; shutdown"]);
    r.expect_code(0);
    assert_eq!(
        r.lines()[..2],
        [
            "The following debug adapters were found:",
            "0: sim: virtual STM32 (built in, always available)"
        ]
    );
}
