//! `doctor` on the virtual Blue Pill: the report table for a healthy board and for broken
//! setups, run the way a user with a broken setup would (`-f board -c doctor`, no init).

mod common;

use std::path::Path;

use common::{assert_has, board_run, programmed_chip, tempdir};

fn doctor(dir: &Path, storage: &Path, pre: &[&str], after: &str) -> common::Run {
    board_run(dir, storage, pre, &["doctor", after])
}

/// The verdict column of the row whose check is `check` (the row must exist).
fn verdict(out: &str, check: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with(check))
        .unwrap_or_else(|| panic!("no row '{check}' in\n{out}"));
    line.split_whitespace().last().unwrap().to_string()
}

fn row<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(check))
        .unwrap_or_else(|| panic!("no row '{check}' in\n{out}"))
}

#[test]
fn healthy_board_all_ok_then_init_works() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = doctor(dir.path(), &chip, &[], "init; mdw 0x08000000 1; shutdown");
    r.expect_code(0);
    let o = &r.stdout;
    assert!(
        o.starts_with("doctor: stm32f1x.cpu (STM32F103C8)\ncheck "),
        "{o}"
    );
    assert_eq!(verdict(o, "target voltage"), "ok");
    assert!(row(o, "target voltage").contains("3.30 V"));
    for k in [4000, 1800, 1000, 480, 240, 125, 100] {
        let c = format!("DPIDR at {k} kHz");
        assert!(row(o, &c).contains("0x1ba01477"), "{o}");
        assert_eq!(verdict(o, &c), "ok");
    }
    assert!(row(o, "AP IDR").contains("0x14770011"), "{o}");
    assert!(row(o, "CPUID").contains("0x411fc231 Cortex-M3 r1p1"), "{o}");
    assert!(
        row(o, "DBGMCU_IDCODE")
            .contains("STM32F10xx8/B (medium density) (DBGMCU_IDCODE 0x20036410"),
        "{o}"
    );
    assert!(row(o, "RDP (FLASH_OBR)").contains("level 0"), "{o}");
    assert!(
        row(o, "WRP (FLASH_WRPR)").contains("no page write-protected"),
        "{o}"
    );
    assert_eq!(verdict(o, "connect (plain)"), "ok");
    assert_eq!(verdict(o, "connect under reset"), "ok");
    assert!(!o.contains("FAIL"), "{o}");
    assert!(
        o.contains("ok: no problem found: the link works at 1000 kHz"),
        "{o}"
    );
    // The implicit init after doctor still connects.
    assert!(o.contains("0x08000000: 20005000"), "{o}");
}

#[test]
fn no_power_fails_on_voltage_and_every_speed() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = doctor(dir.path(), &chip, &["sim fault no-power"], "shutdown");
    r.expect_code(1);
    let o = &r.stdout;
    assert!(
        row(o, "target voltage").contains("0.00 V (below 1.4 V: no target power)"),
        "{o}"
    );
    assert_eq!(verdict(o, "target voltage"), "FAIL");
    assert!(row(o, "DPIDR at 1000 kHz").contains("no ACK"), "{o}");
    assert_eq!(verdict(o, "connect (plain)"), "-");
    assert!(o.contains("FAIL: no target power (0.00 V)"), "{o}");
    assert_has(&r.stderr, "doctor found problems");
}

#[test]
fn line_errors_show_per_speed_and_the_speed_fix() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = doctor(
        dir.path(),
        &chip,
        &["sim fault line-errors-above 600"],
        "shutdown",
    );
    r.expect_code(1);
    let o = &r.stdout;
    assert_eq!(verdict(o, "DPIDR at 1000 kHz"), "FAIL");
    assert!(row(o, "DPIDR at 480 kHz").contains("0x1ba01477"), "{o}");
    assert!(o.contains("warn: the SWD line fails above 480 kHz"), "{o}");
    assert!(o.contains("fix: `adapter.speed = 480;`"), "{o}");
}

#[test]
fn swd_off_firmware_fails_plain_but_connects_under_reset() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-swd-off.elf");
    let r = doctor(dir.path(), &chip, &[], "shutdown");
    r.expect_code(1);
    let o = &r.stdout;
    assert_eq!(verdict(o, "target voltage"), "ok");
    // The firmware may still be in its start-up delay for the first looks; by the end it has cut SWD.
    assert_eq!(verdict(o, "DPIDR at 100 kHz"), "FAIL");
    assert_eq!(verdict(o, "connect (plain)"), "FAIL");
    assert!(
        row(o, "connect under reset").contains("halted at the reset vector, PC 0x080000f0"),
        "{o}"
    );
    assert!(
        o.contains("gives no ACK while its firmware runs; under reset it answers"),
        "{o}"
    );
    assert!(
        o.contains("`reset_config(\"srst_only srst_nogate connect_assert_srst\");`"),
        "{o}"
    );
}

#[test]
fn no_nrst_and_swd_off_says_nrst_not_wired() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-swd-off.elf");
    let r = doctor(dir.path(), &chip, &["sim fault no-nrst"], "shutdown");
    r.expect_code(1);
    let o = &r.stdout;
    assert!(
        row(o, "connect under reset").contains("NRST is not wired"),
        "{o}"
    );
    assert_eq!(verdict(o, "connect under reset"), "FAIL");
    assert!(
        o.contains("NRST is not wired, so connecting under reset is impossible"),
        "{o}"
    );
}

#[test]
fn f303_on_the_f1_board_is_named() {
    let dir = tempdir();
    let storage = dir.path().join("f3.bin");
    let r = doctor(dir.path(), &storage, &["sim chip STM32F303VC"], "shutdown");
    r.expect_code(1);
    let o = &r.stdout;
    assert!(row(o, "DBGMCU_IDCODE").contains("STM32F303xB/C"), "{o}");
    assert_eq!(verdict(o, "DPIDR vs CPUTAPID"), "FAIL");
    assert!(row(o, "CPUID").contains("Cortex-M4"), "{o}");
    assert!(o.contains("wrong chip"), "{o}");
    assert!(o.contains("set CPUTAPID 0"), "{o}");
}

#[test]
fn doctor_runs_after_a_failing_init_on_the_command_line() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = board_run(
        dir.path(),
        &chip,
        &["sim fault no-power"],
        &["init", "doctor"],
    );
    r.expect_code(1);
    assert_has(&r.stderr, "cause: no target power");
    assert_has(&r.stdout, "FAIL: no target power (0.00 V)");
}

#[test]
fn doctor_on_a_live_connection_reconnects() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = board_run(
        dir.path(),
        &chip,
        &[],
        &["init; doctor; halt; mdw 0xE0042004; shutdown"],
    );
    r.expect_code(0);
    assert_has(&r.stdout, "doctor: closing the live connection");
    assert_has(&r.stdout, "ok: no problem found");
    assert_has(&r.stdout, "0xe0042004: 00000307");
}
