//! The STM32F1 option-byte commands (`stm32f1x options_read`, built into stdbg: src/command/builtin/stm32f1x.rs;
//! `options_write`, `options_load`, `lock`, `unlock`, `mass_erase`) and what stdbg says about
//! read-out and write protection, against the virtual Blue Pill through the built binary.
//! Option bytes and flash are checked through the virtual chip's back door.

mod common;

use std::path::Path;

use common::{objcopy_binary, programmed_chip, sim_run, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

/// Flash (64 KiB) and option bytes (16) of the chip kept in `storage`, read without the DAP.
fn nonvolatile(storage: &Path) -> (Vec<u8>, Vec<u8>) {
    let sim = Sim::new(SimConfig {
        chip: ChipModel::Stm32f103c8,
        storage: Some(storage.to_path_buf()),
    })
    .expect("virtual chip");
    (
        sim.read_nonvolatile(0x0800_0000, 0x10000),
        sim.read_nonvolatile(0x1FFF_F800, 16),
    )
}

const FRESH_OPTIONS: &[&str] = &[
    "option byte register = 0x3fffffc",
    "write protection register = 0xffffffff",
    "read protection: off",
    "watchdog: software",
    "stop mode: no reset generated upon entry",
    "standby mode: no reset generated upon entry",
    "user data = 0xffff",
];

/// Writes the option bytes by hand (PM0075 §2.5): RDP 0xA5, USER 0xFF, WRP0 = `wrp0`, then a
/// reset loads them.
fn raw_wrp0(wrp0: u8) -> String {
    format!(
        "mww 0x40022004 0x45670123; mww 0x40022004 0xCDEF89AB; mww 0x40022008 0x45670123; mww 0x40022008 0xCDEF89AB; \
         mww 0x40022010 0x220; mww 0x40022010 0x260; mww 0x40022010 0x210; \
         mwh 0x1ffff800 0xa5; mwh 0x1ffff802 0xff; mwh 0x1ffff808 0x{wrp0:02x}; mww 0x40022010 0x80; reset halt"
    )
}

#[test]
fn options_read_on_a_fresh_chip_prints_openocd_lines() {
    let dir = tempdir();
    let r = sim_run(
        dir.path(),
        Path::new("none"),
        "init; halt; stm32f1x options_read 0; shutdown",
    );
    r.expect_code(0);
    let lines = r.lines();
    let at = lines
        .iter()
        .position(|l| *l == FRESH_OPTIONS[0])
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(&lines[at..at + 7], FRESH_OPTIONS, "{}", r.stdout);
    // Also by bank name, from the Rhai side.
    let r = sim_run(
        dir.path(),
        Path::new("none"),
        "init; halt; eval {stm32f1x(\"options_read\", \"stm32f1x.flash\")}; shutdown",
    );
    r.expect_code(0);
    assert!(r.stdout.contains("user data = 0xffff"), "{}", r.stdout);
}

#[test]
fn options_write_keeps_other_bytes_and_shows_after_reset() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let r = sim_run(
        dir.path(),
        &storage,
        "init; halt; stm32f1x options_write 0 HWWDG RSTSTOP USEROPT 0x1234; stm32f1x options_read 0; stm32f1x options_load 0; stm32f1x options_read 0; shutdown",
    );
    r.expect_code(0);
    let out = r.stdout.as_str();
    assert!(out.contains("stm32x write options complete.\nINFO: power cycle is required for the new settings to take effect.\n"), "{out}");
    // Before the reset FLASH_OBR still holds the old values; after it the new ones.
    let first = out.find("option byte register = 0x3fffffc").expect(out);
    let load = out.find("the STM32F1 has no OBL_LAUNCH bit: option bytes reloaded by a system reset (reset halt)").expect(out);
    assert!(first < load, "{out}");
    let after: Vec<&str> = out[load..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("shutdown"))
        .filter(|l| !l.starts_with('[') && !l.starts_with("xPSR"))
        .collect();
    assert_eq!(
        after,
        [
            "option byte register = 0x48d3f0",
            "write protection register = 0xffffffff",
            "read protection: off",
            "watchdog: hardware",
            "stop mode: reset generated upon entry",
            "standby mode: no reset generated upon entry",
            "user data = 0x1234",
        ],
        "{out}"
    );
    // RDP, WRP kept; USER = 0xFC, Data0 = 0x34, Data1 = 0x12, each with its complement.
    let (_, opt) = nonvolatile(&storage);
    assert_eq!(
        opt,
        [
            0xA5, 0x5A, 0xFC, 0x03, 0x34, 0xCB, 0x12, 0xED, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00,
            0xFF, 0x00
        ]
    );
    // A second options_write changes only what it names.
    let r = sim_run(
        dir.path(),
        &storage,
        "init; halt; stm32f1x options_write 0 SWWDG; reset halt; stm32f1x options_read 0; shutdown",
    );
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("watchdog: software\nstop mode: reset generated upon entry\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("user data = 0x1234"), "{}", r.stdout);
}

#[test]
fn option_commands_refuse_bad_words_and_a_running_target() {
    let dir = tempdir();
    let r = sim_run(
        dir.path(),
        Path::new("none"),
        "init; halt; stm32f1x options_write 0 SWWDG FOO; shutdown",
    );
    r.expect_code(1);
    assert!(r.stderr.contains("unknown option 'FOO'"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("usage: stm32f1x options_write bank_id ('SWWDG'|'HWWDG')"),
        "{}",
        r.stderr
    );
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        "init; reset run; stm32f1x lock 0; shutdown",
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("Target not halted: stm32f1x.cpu is running"),
        "{}",
        r.stderr
    );
    let r = sim_run(
        dir.path(),
        Path::new("none"),
        "init; halt; stm32f1x mass_erase 3; shutdown",
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("flash bank '3' not found: the banks are #0 stm32f1x.flash"),
        "{}",
        r.stderr
    );
}

#[test]
fn mass_erase_erases_the_whole_flash() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        "init; halt; stm32f1x mass_erase 0; mdw 0x08000000 2; shutdown",
    );
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("stm32x mass erase complete\n0x08000000: ffffffff ffffffff \n"),
        "{}",
        r.stdout
    );
    assert!(nonvolatile(&storage).0.iter().all(|b| *b == 0xFF));
}

#[test]
fn lock_makes_mdw_say_read_protection_and_the_fix() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        "init; halt; stm32f1x lock 0; reset halt; stm32f1x options_read 0; mdw 0x08000000",
    );
    r.expect_code(1);
    assert!(r.stdout.contains("stm32x locked\n"), "{}", r.stdout);
    assert!(r.stdout.contains("option byte register = 0x3fffffe\nwrite protection register = 0xffffffff\nread protection: on\n"), "{}", r.stdout);
    assert!(
        r.stderr.contains("cannot read 0x08000000 in flash bank #0 (stm32f1x.flash): read-out protection (RDP level 1) is active: FLASH_OBR = 0x03fffffe, RDPRT = 1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("fix: 'stm32f1x unlock 0' then 'reset halt'"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("MASS-ERASES its whole flash"),
        "{}",
        r.stderr
    );
    let (_, opt) = nonvolatile(&storage);
    assert_eq!(
        &opt[..2],
        [0x00, 0xFF],
        "RDP byte = 0x00 (level 1) with its complement"
    );
}

#[test]
fn program_and_verify_under_rdp_name_it_and_erase_nothing() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    sim_run(
        dir.path(),
        &storage,
        "init; halt; stm32f1x lock 0; shutdown",
    )
    .expect_code(0);
    let before = nonvolatile(&storage).0;
    let big = common::firmware("f103-big.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        &format!("program {} verify", big.display()),
    );
    r.expect_code(1);
    assert!(
        r.stdout.contains("** Programming Failed **"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("** Programming Started **"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("cannot program the flash: read-out protection (RDP level 1) is active"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Nothing was erased."), "{}", r.stderr);
    assert!(r.stderr.contains("'stm32f1x unlock 0'"), "{}", r.stderr);
    assert_eq!(
        nonvolatile(&storage).0,
        before,
        "the flash must be untouched"
    );
    let blinky = common::firmware("f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        &format!("init; verify_image {}", blinky.display()),
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("cannot read the flash: read-out protection (RDP level 1) is active"),
        "{}",
        r.stderr
    );
}

#[test]
fn unlock_then_reset_mass_erases_and_program_works_again() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    sim_run(
        dir.path(),
        &storage,
        "init; halt; stm32f1x lock 0; shutdown",
    )
    .expect_code(0);
    let r = sim_run(
        dir.path(),
        &storage,
        "init; halt; stm32f1x unlock 0; reset halt; stm32f1x options_read 0; mdw 0x08000000 4; shutdown",
    );
    r.expect_code(0);
    assert!(
        r.stdout.contains("stm32x unlocked.\nINFO: a reset or power cycle is required for the new settings to take effect.\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("read protection: off"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("0x08000000: ffffffff ffffffff ffffffff ffffffff \n"),
        "{}",
        r.stdout
    );
    assert!(
        nonvolatile(&storage).0.iter().all(|b| *b == 0xFF),
        "RDP regression mass-erases the flash"
    );
    let blinky = common::firmware("f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        &format!("program {} verify exit", blinky.display()),
    );
    r.expect_code(0);
    assert!(r.stdout.contains("** Verified OK **"), "{}", r.stdout);
    let want = objcopy_binary("f103-blinky.elf", dir.path());
    assert_eq!(&nonvolatile(&storage).0[..want.len()], &want[..]);
}

#[test]
fn write_protected_page_0_refuses_program_naming_page_and_bit() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        &format!(
            "init; halt; {}; stm32f1x options_read 0; shutdown",
            raw_wrp0(0xFE)
        ),
    );
    r.expect_code(0);
    assert!(
        r.stdout.contains("write protection register = 0xfffffffe"),
        "{}",
        r.stdout
    );
    let before = nonvolatile(&storage).0;
    let big = common::firmware("f103-big.elf");
    let r = sim_run(dir.path(), &storage, &format!("program {}", big.display()));
    r.expect_code(1);
    assert!(
        r.stdout.contains("** Programming Failed **"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("page 0 (0x08000000-0x080003ff) is write-protected by WRP0 bit 0 (FLASH_WRPR = 0xfffffffe: bit 0 = 0 protects pages 0-3)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("FLASH_SR.WRPRTERR"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("fix: 'flash protect 0 0 0 off' then 'reset halt'"),
        "{}",
        r.stderr
    );
    assert_eq!(
        nonvolatile(&storage).0,
        before,
        "page 0 and every other page unchanged"
    );
    // The proposed fix works.
    let r = sim_run(
        dir.path(),
        &storage,
        &format!(
            "init; halt; flash protect 0 0 0 off; reset halt; program {} verify exit",
            big.display()
        ),
    );
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("cleared protection for blocks 0 through 0 on flash bank 0\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("** Verified OK **"), "{}", r.stdout);
    assert_eq!(&nonvolatile(&storage).1[8..10], [0xFF, 0x00]);
}

#[test]
fn flash_controller_error_is_decoded_with_the_page() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let blinky = common::firmware("f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &storage,
        &format!(
            "init; sim fault flash-program-error; program {}",
            blinky.display()
        ),
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("the flash controller failed at page 0 (0x08000000)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("evidence: FLASH_SR = 0x"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("FLASH_OBR = 0x03fffffc (RDPRT = 0), FLASH_WRPR = 0xffffffff"),
        "{}",
        r.stderr
    );
}
