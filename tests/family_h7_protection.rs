//! Write protection (FLASH_WPSN, RM0433 §4.5.4) and read-out protection (RDP, §4.5.3) of the
//! virtual STM32H743ZI through the built binary, on both banks: `flash protect bank first last
//! on|off` with OpenOCD 0.12's output, `flash info` showing the protected sectors, `program`
//! refused before anything is erased (the flash read back through the sim unchanged), and the
//! `flash protect` of the stm32l4x family naming its own commands.

mod common;

use std::path::Path;

use common::{Run, assert_has, stdbg, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

fn run(dir: &Path, storage: &Path, cmds: &str) -> Run {
    common::stored_board_run(dir, common::H743_BOARD, storage, cmds)
}

fn flash(storage: &Path, addr: u32, len: usize) -> Vec<u8> {
    Sim::new(SimConfig {
        chip: ChipModel::Stm32h743zi,
        storage: Some(storage.to_path_buf()),
    })
    .expect("virtual H743")
    .read_nonvolatile(addr, len)
}

fn raw(dir: &Path, name: &str, len: usize, seed: u32) -> (String, Vec<u8>) {
    let data: Vec<u8> = (0..len as u32).map(|i| (i * seed + 3) as u8).collect();
    let p = dir.join(name);
    std::fs::write(&p, &data).unwrap();
    (p.display().to_string(), data)
}

/// WPSN on bank 1 sector 0 and bank 2 sectors 1-2: `flash info` lists them, FLASH_WPSN_CURxR
/// reads the bits cleared, `program` into either bank and across the bank boundary is refused
/// naming the sector and the register, nothing is erased; `flash protect … off` removes it.
#[test]
fn h743_wpsn_protect_on_both_banks_refuses_program_before_any_erase() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let (a, a_data) = raw(dir.path(), "a.bin", 4096, 7);
    let (b, b_data) = raw(dir.path(), "b.bin", 4096, 13);
    // 0x080f0000 + 0x40000 covers bank 1 sector 7 and bank 2 sectors 0-1.
    let (x, x_data) = raw(dir.path(), "x.bin", 0x40000, 5);
    let r = run(
        dir.path(),
        &storage,
        &format!(
            "init; reset halt; program {a} verify 0x08000000; program {b} verify 0x08120000; \
             program {a} verify 0x080e0000; flash protect 0 0 0 on; flash protect 1 1 2 on; \
             flash info 0; flash info 1; stm32h7x option_read 0 0x38; stm32h7x option_read 1 0x38; shutdown"
        ),
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "set protection for blocks 0 through 0 on flash bank 0\n",
    );
    assert_has(
        &r.stdout,
        "set protection for blocks 1 through 2 on flash bank 1\n",
    );
    assert_has(
        &r.stdout,
        "#0 : stm32h7x at 0x08000000, size 0x00100000, buswidth 0, chipwidth 0\n\t#  0: 0x00000000 (0x20000 128kB) protected\n\t#  1: 0x00020000 (0x20000 128kB) not protected\n",
    );
    assert_has(
        &r.stdout,
        "#1 : stm32h7x at 0x08100000, size 0x00100000, buswidth 0, chipwidth 0\n\t#  0: 0x00000000 (0x20000 128kB) not protected\n\t#  1: 0x00020000 (0x20000 128kB) protected\n\t#  2: 0x00040000 (0x20000 128kB) protected\n\t#  3: 0x00060000 (0x20000 128kB) not protected\n",
    );
    assert_has(
        &r.stdout,
        "Option Register: <0x52002038> = 0xfe\nOption Register: <0x52002138> = 0xf9\n",
    );

    // Bank 1: refused before the erase; sector 0 still holds a.bin.
    let r = run(
        dir.path(),
        &storage,
        &format!("init; reset halt; program {b} verify 0x08000000; shutdown"),
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    common::assert_refused_before_erase(&r);
    assert_has(
        &r.stderr,
        "cannot program the image: sector 0 (0x08000000-0x0801ffff) is write-protected by FLASH_WPSN_CUR1R = 0x000000fe: bit 0 = 0 protects sector 0; the flash controller would refuse to erase or program it (FLASH_SR1.WRPERR); nothing was erased.\n",
    );
    assert_has(
        &r.stderr,
        "fix: 'flash protect 0 0 0 off' (FLASH_WPSN_PRG1R + OPTSTART: in force at once). stdbg never changes the option bytes for you.",
    );
    assert_eq!(flash(&storage, 0x0800_0000, a_data.len()), a_data);

    // Bank 2, and an image across the bank boundary: the bank 2 part is checked too.
    for cmd in [
        format!("program {a} verify 0x08120000"),
        format!("program {x} verify 0x080f0000"),
    ] {
        let r = run(
            dir.path(),
            &storage,
            &format!("init; reset halt; {cmd}; shutdown"),
        );
        assert_eq!(r.code, 1, "{cmd}: {}\n{}", r.stdout, r.stderr);
        assert_has(
            &r.stderr,
            "cannot program the image: sector 1 (0x08120000-0x0813ffff) is write-protected by FLASH_WPSN_CUR2R = 0x000000f9: bit 1 = 0 protects sector 1; the flash controller would refuse to erase or program it (FLASH_SR2.WRPERR); nothing was erased.\n",
        );
        assert_has(
            &r.stderr,
            "fix: 'flash protect 1 1 1 off' (FLASH_WPSN_PRG2R + OPTSTART: in force at once).",
        );
        assert_eq!(flash(&storage, 0x0812_0000, b_data.len()), b_data);
        assert_eq!(flash(&storage, 0x080e_0000, a_data.len()), a_data);
    }

    // Out of range, then the protection off: the image across both banks is written.
    let r = run(
        dir.path(),
        &storage,
        &format!(
            "init; reset halt; flash protect 1 0 last off; flash protect 0 0 0 off; \
             stm32h7x option_read 0 0x38; stm32h7x option_read 1 0x38; program {x} verify 0x080f0000; \
             flash protect 0 8 8 on; shutdown"
        ),
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_has(
        &r.stdout,
        "cleared protection for blocks 0 through 7 on flash bank 1\ncleared protection for blocks 0 through 0 on flash bank 0\nOption Register: <0x52002038> = 0xff\nOption Register: <0x52002138> = 0xff\n",
    );
    assert_has(&r.stdout, "** Verified OK **");
    assert_has(
        &r.stderr,
        "blocks 8 through 8 are not in flash bank #0: it has protection blocks 0 through 7 (1 sector each); nothing was changed",
    );
    assert_eq!(flash(&storage, 0x080f_0000, x_data.len()), x_data);
}

/// `flash protect` on an stm32l4x bank (the G474) changes nothing and names the family's own
/// commands; the option register is unchanged.
#[test]
fn stm32l4x_flash_protect_names_the_option_commands_and_changes_nothing() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let st = format!("sim storage {}", storage.display());
    let g4 = |cmds: &str| {
        stdbg(
            dir.path(),
            &[
                "-c",
                &st,
                "-f",
                "board/sim-st_nucleo_g4.rhai",
                "-c",
                common::QUIET,
                "-c",
                cmds,
            ],
        )
    };
    let r = g4("init; reset halt; flash protect 0 0 1 on; shutdown");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_has(
        &r.stderr,
        "flash bank #0 (driver stm32l4x): stdbg does not set the WRP areas (FLASH_WRP1AR/WRP1BR/WRP2AR/WRP2BR, RM0351 §3.5.2) with 'flash protect' yet; nothing was changed. Set area A of bank 1 with 'stm32l4x option_write 0 0x2c 0x00EE00SS 0x00ff00ff'",
    );
    assert_has(&r.stderr, "'stm32l4x wrp_info 0' lists the protected pages");
    assert!(!r.stdout.contains("set protection"), "{}", r.stdout);
    let r = g4("init; reset halt; stm32l4x wrp_info 0; shutdown");
    r.expect_code(0);
    assert_has(&r.stdout, "no protected areas\n");
}

/// RDP level 1 on the H743: `stm32h7x lock`, then `program` into either bank refused before
/// anything is erased (the flash unchanged), then `stm32h7x unlock` with the mass erase of both
/// banks observed (0xFF read back through the debugger and the sim).
#[test]
fn h743_rdp_level_1_refuses_program_and_unlock_mass_erases_both_banks() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let (a, a_data) = raw(dir.path(), "a.bin", 4096, 7);
    let (b, b_data) = raw(dir.path(), "b.bin", 4096, 13);
    let r = run(
        dir.path(),
        &storage,
        &format!(
            "init; reset halt; program {a} verify 0x08000000; program {b} verify 0x08100000; \
             stm32h7x lock 0; stm32h7x option_read 0 0x1c; shutdown"
        ),
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "stm32h7x locked\nOption Register: <0x5200201c> = 0x600d0\n",
    );
    for (cmd, bank) in [
        (format!("program {b} verify 0x08000000"), 0),
        (format!("program {a} verify 0x08100000"), 1),
    ] {
        let r = run(
            dir.path(),
            &storage,
            &format!("init; reset halt; {cmd}; shutdown"),
        );
        assert_eq!(r.code, 1, "{cmd}: {}\n{}", r.stdout, r.stderr);
        common::assert_refused_before_erase(&r);
        assert_has(
            &r.stderr,
            "cannot program the flash: read-out protection (RDP level 1) is active: FLASH_OPTSR_CUR = 0x000600d0, RDP = 0x00. While a debugger is connected the chip refuses every read, erase and program of its flash. Nothing was erased.\n",
        );
        assert_has(
            &r.stderr,
            &format!(
                "fix: 'stm32h7x unlock {bank}' (in force when the option change ends; the chip mass-erases both banks) then 'reset halt'."
            ),
        );
        assert_eq!(flash(&storage, 0x0800_0000, a_data.len()), a_data);
        assert_eq!(flash(&storage, 0x0810_0000, b_data.len()), b_data);
    }
    let r = run(
        dir.path(),
        &storage,
        "init; reset halt; stm32h7x unlock 0; stm32h7x option_read 0 0x1c; mdw 0x08000000 2; \
         mdw 0x08100000 2; shutdown",
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "stm32h7x unlocked\nOption Register: <0x5200201c> = 0x6aad0\n0x08000000: ffffffff ffffffff \n0x08100000: ffffffff ffffffff \n",
    );
    assert!(
        flash(&storage, 0x0800_0000, 0x20_0000)
            .iter()
            .all(|&x| x == 0xFF)
    );
}

/// RDP level 2 on the H743 (`stm32h7x option_write 0 0x20 0xCC00 0xFF00`): the warning before,
/// the link loss named after the option change, then `init` (the connect ladder, even under
/// reset) and `doctor` name level 2 as permanent with the H7's FLASH_OPTSR_CUR.
#[test]
fn rdp_level_2_is_named_permanent_on_the_h743() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let r = run(
        dir.path(),
        &storage,
        "init; reset halt; stm32h7x option_write 0 0x20 0xCC00 0xFF00; shutdown",
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_has(
        &r.stderr,
        "Warn : FLASH_OPTSR_PRG.RDP = 0xCC is read-out protection level 2: it is permanent once the option change ends",
    );
    assert_has(
        &r.stderr,
        "the option change to read-out protection level 2 (FLASH_OPTSR_PRG.RDP = 0xCC) ended and the chip switched its debug port off for good, so the debug link is gone. Level 2 is permanent: nothing can be done over SWD",
    );
    let r = run(dir.path(), &storage, "init; shutdown");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_has(
        &r.stderr,
        "tried attach under reset at 100 kHz: no ACK from the SW-DP",
    );
    assert_has(
        &r.stderr,
        "A chip at read-out protection level 2 (FLASH_OPTSR_CUR.RDP = 0xCC) looks exactly like this: it keeps its debug port off from reset on, even under reset.",
    );
    assert_has(
        &r.stderr,
        "run `stm32h7x mass_erase 0` to remove the firmware. If the chip was set to RDP level 2, that is permanent: nothing can be done over SWD (no unlock, no erase, not even with BOOT0)",
    );
    let r = run(dir.path(), &storage, "doctor; shutdown");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_has(
        &r.stdout,
        "RDP (FLASH_OPTSR_CUR)   not read: no DPIDR at any speed",
    );
    assert_has(
        &r.stdout,
        "WRP (FLASH_WPSN_CURxR)  not read: no DPIDR at any speed",
    );
    assert_has(
        &r.stdout,
        "note: a chip at read-out protection level 2 (FLASH_OPTSR_CUR.RDP = 0xCC) looks exactly like this: its debug port stays off from reset on. That is permanent: nothing can be done over SWD.",
    );
}
