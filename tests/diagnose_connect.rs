//! Connection failures from the field reports, reproduced on the virtual Blue Pill with real
//! firmware: stdbg's recovery ladder, its diagnosis (cause and fix), and that flash survives.

mod common;

use std::path::Path;

use common::{assert_has, board_run, objcopy_binary, programmed_chip, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

/// Runs stdbg on the virtual Blue Pill whose storage is `storage`, with `pre` before the board
/// script and `cmds` after it.
fn run(dir: &Path, storage: &Path, pre: &[&str], cmds: &str) -> common::Run {
    board_run(dir, storage, pre, &[cmds])
}

/// The flash bytes of a storage file (read back through the virtual chip's back door).
fn flash_of(storage: &Path, len: usize) -> Vec<u8> {
    let sim = Sim::new(SimConfig {
        chip: ChipModel::Stm32f103c8,
        storage: Some(storage.to_path_buf()),
    })
    .unwrap();
    sim.read_nonvolatile(0x0800_0000, len)
}

#[test]
fn swd_off_firmware_plain_attach_fails_and_the_ladder_connects_under_reset() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-swd-off.elf");
    let image = objcopy_binary("f103-swd-off.elf", dir.path());
    let r = run(
        dir.path(),
        &chip,
        &[],
        "init; reg pc; mdw 0x08000000 2; shutdown",
    );
    r.expect_code(0);
    // The ladder: plain attach fails (no ACK), lower speeds fail, under reset works.
    assert_has(
        &r.stderr,
        "connect: plain attach at 1000 kHz failed: no ACK from the SW-DP",
    );
    assert_has(&r.stderr, "connect: trying plain attach at 480 kHz");
    assert_has(
        &r.stderr,
        "the core is halted at the reset vector (PC 0x080000f0) before the firmware ran",
    );
    // Cause and fix.
    assert_has(&r.stderr, "AFIO_MAPR.SWJ_CFG");
    assert!(
        r.stderr
            .contains("`reset_config(\"srst_only srst_nogate connect_assert_srst\");`"),
        "{}",
        r.stderr
    );
    assert_has(
        &r.stderr,
        "`stm32f1x mass_erase 0` (asked for, never automatic)",
    );
    // Halted on the reset vector, flash readable and intact.
    assert_has(&r.stdout, "pc (/32): 0x080000f0");
    assert_has(&r.stdout, "0x08000000: 20005000 080000f1");
    assert_eq!(
        flash_of(&chip, image.len()),
        image,
        "flash changed by the recovery"
    );
}

#[test]
fn swd_off_firmware_with_connect_assert_srst_in_the_config_connects_without_warnings() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-swd-off.elf");
    let r = run(
        dir.path(),
        &chip,
        &[],
        "reset_config srst_only srst_nogate connect_assert_srst; init; reg pc; shutdown",
    );
    r.expect_code(0);
    assert_has(&r.stdout, "pc (/32): 0x080000f0");
    assert!(
        !r.stderr.contains("make connect-under-reset the default"),
        "{}",
        r.stderr
    );
}

#[test]
fn stop_firmware_connects_under_reset_and_a_resume_reports_the_lost_link() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-stop.elf");
    let image = objcopy_binary("f103-stop.elf", dir.path());
    let r = run(dir.path(), &chip, &[], "init; reg pc; resume");
    r.expect_code(1);
    assert_has(
        &r.stderr,
        "connected under reset after the plain attach got no ACK",
    );
    assert_has(&r.stderr, "Stop/Standby");
    assert_has(&r.stdout, "pc (/32): 0x080000f0");
    // The resume: the firmware clears DBGMCU_CR and enters Stop; the link is gone.
    assert_has(&r.stderr, "lost the debug link");
    assert_has(&r.stderr, "DBGMCU_CR was 0x00000307");
    assert_has(&r.stderr, "cleared DBG_STOP/DBG_STANDBY itself");
    assert_has(&r.stderr, "connect_assert_srst");
    assert_eq!(flash_of(&chip, image.len()), image);
}

#[test]
fn stop_firmware_keeps_the_link_when_dbg_stop_stays_set() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-stop.elf");
    // Stop right after the firmware's `DBGMCU_CR = 0` (the store at 0x08000158), put
    // DBG_SLEEP|DBG_STOP|DBG_STANDBY back, and let it enter Stop: the debugger keeps working.
    let r = run(
        dir.path(),
        &chip,
        &[],
        "init; bp 0x0800015a 2 hw; resume; wait_halt 2000; reg pc; mdw 0xE0042004; mww 0xE0042004 0x307; rbp 0x0800015a; resume; sleep 300; halt; mdw 0x20000000; mdw 0x40007000; shutdown",
    );
    r.expect_code(0);
    assert_has(&r.stdout, "pc (/32): 0x0800015a");
    assert!(
        r.stdout.contains("0xe0042004: 00000000"),
        "the firmware cleared DBGMCU_CR: {}",
        r.stdout
    );
    // Halted in the Stop loop, counter incremented once, LPDS set.
    assert_has(&r.stdout, "0x20000000: 00000001");
    assert_has(&r.stdout, "0x40007000: 00000001");
    assert!(!r.stderr.contains("lost the debug link"), "{}", r.stderr);
}

#[test]
fn line_errors_above_600_khz_make_the_ladder_lower_the_speed() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = run(
        dir.path(),
        &chip,
        &["sim fault line-errors-above 600"],
        "init; adapter speed; mdw 0x08000000 1; shutdown",
    );
    r.expect_code(0);
    assert_has(
        &r.stderr,
        "connect: plain attach at 1000 kHz failed: no ACK from the SW-DP",
    );
    assert_has(&r.stderr, "connect: connected at 480 kHz");
    assert!(r.stderr.contains("`adapter.speed = 480;`"), "{}", r.stderr);
    assert_has(&r.stdout, "adapter speed: 480 kHz");
    assert_has(&r.stdout, "0x08000000: 20005000");
}

#[test]
fn no_power_says_no_target_power_and_zero_volts() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = run(dir.path(), &chip, &["sim fault no-power"], "init; shutdown");
    r.expect_code(1);
    assert_has(&r.stderr, "cause: no target power");
    assert_has(&r.stderr, "target voltage 0.00 V");
    assert_has(&r.stderr, "the recovery steps were skipped");
    assert!(!r.stderr.contains("connect: connected"), "{}", r.stderr);
    assert!(!r.stderr.contains("adapter connected"), "{}", r.stderr);
    assert!(!r.stderr.contains("trying plain attach"), "{}", r.stderr);
}

#[test]
fn no_nrst_with_swd_off_firmware_says_nrst_is_not_wired() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-swd-off.elf");
    let r = run(dir.path(), &chip, &["sim fault no-nrst"], "init; shutdown");
    r.expect_code(1);
    assert_has(&r.stderr, "attach under reset skipped: NRST is not wired");
    assert_has(&r.stderr, "NRST is not wired to the probe");
    assert_has(&r.stderr, "target voltage 3.30 V");
    assert_has(&r.stderr, "wire the board's NRST to the probe's RST pin");
    // Power is fine: the message must not blame it.
    assert!(!r.stderr.contains("no target power"), "{}", r.stderr);
}

#[test]
fn f303_on_the_f1_board_names_both_chips_and_cputapid_0_overrides() {
    let dir = tempdir();
    let storage = dir.path().join("f3.bin");
    let r = run(
        dir.path(),
        &storage,
        &["sim chip STM32F303VC"],
        "init; shutdown",
    );
    r.expect_code(1);
    assert_has(
        &r.stderr,
        "wrong chip for this configuration: found STM32F303xB/C (DBGMCU_IDCODE 0x10036422",
    );
    assert_has(
        &r.stderr,
        "but targets/stm32f1x.rhai expects an STM32F1 (DEV_ID 0x412, 0x410",
    );
    assert_has(&r.stderr, "DPIDR 0x2ba01477");
    assert_has(&r.stderr, "set CPUTAPID 0");
    let r = run(
        dir.path(),
        &storage,
        &["sim chip STM32F303VC", "set CPUTAPID 0"],
        "init; mdw 0xE0042000; shutdown",
    );
    r.expect_code(0);
    assert_has(&r.stdout, "0xe0042000: 10036422");
    assert_has(&r.stderr, "continuing because CPUTAPID is 0");
}

#[test]
fn iwdg_reset_while_halted_is_detected_and_explained() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-iwdg.elf");
    // The examine-end handler sets DBG_IWDG_STOP; clear it as a careless firmware would.
    let r = run(
        dir.path(),
        &chip,
        &[],
        "init; halt; mww 0xE0042004 0; sleep 1000; shutdown",
    );
    r.expect_code(0);
    assert_has(
        &r.stderr,
        "the target was reset while halted (DHCSR.S_RESET_ST",
    );
    assert_has(&r.stderr, "IWDGRSTF (independent watchdog)");
    assert_has(&r.stderr, "DBG_IWDG_STOP (DBGMCU_CR bit 8) is not set");
    assert_has(&r.stderr, "`mmw 0xE0042004 0x100 0`");
}

#[test]
fn iwdg_firmware_halted_with_dbg_iwdg_stop_is_not_reset() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-iwdg.elf");
    let r = run(
        dir.path(),
        &chip,
        &[],
        "init; halt; sleep 1000; reg pc; shutdown",
    );
    r.expect_code(0);
    assert!(!r.stderr.contains("reset while halted"), "{}", r.stderr);
}
