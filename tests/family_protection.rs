//! Option bytes and protection on the STM32F303VC, STM32G474RE and STM32L476RG through the built
//! binary: the family's option-byte commands (`stm32f1x` on F3, `stm32l4x` on G4/L4) with OpenOCD's
//! output, RDP level 1 set and removed with the mass erase observed, WRP on and off with `program`
//! refused before anything is erased, and read-out protection level 2 named as permanent.

mod common;

use common::chips::{CHIPS, flash_of, program, run};
use common::{assert_has, firmware, objcopy_binary, tempdir};
use stdbg::sim::ChipModel;

/// The `stm32l4x` option bytes on G474 and L476: factory OPTR, RDP level 1 and back (mass
/// erase observed, the OTP written before it kept), WRP on and off, mass erase, wrp_info.
#[test]
fn stm32l4x_rdp_lock_unlock_with_the_mass_erase_observed() {
    for c in CHIPS.iter().filter(|c| c.l4x) {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let image = objcopy_binary(c.blinky, dir.path());
        let otp = dir.path().join("otp.bin");
        std::fs::write(&otp, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]).unwrap();
        // Factory OPTR; program; write a double word of OTP; lock.
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "init; reset halt; stm32l4x option_read 0 0x20; {}; reset halt; stm32l4x otp 1 enable; \
                 flash write_bank 1 {} 0; stm32l4x lock 0; stm32l4x option_load 0; \
                 reset halt; stm32l4x option_read 0 0x20; mdw 0x08000000",
                program(c.blinky),
                otp.display()
            ),
        );
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        // The factory OPTR (RDP 0xAA, DBANK and the user bits of RM0440 §5.4.1 / RM0351 §3.7.8).
        assert_has(&r.stdout, "Option Register: <0x40022020> = 0xffeff8aa\n");
        assert_has(&r.stdout, "stm32l4x locked\n");
        assert_has(
            &r.stdout,
            "stm32l4x option load completed. Power-on reset might be required\n",
        );
        assert_has(&r.stdout, "Option Register: <0x40022020> = 0xffeff800\n");
        assert_has(
            &r.stderr,
            "read-out protection (RDP level 1) is active: FLASH_OPTR = 0xffeff800, RDP = 0x00",
        );
        assert_has(
            &r.stderr,
            "fix: 'stm32l4x unlock 0' then 'stm32l4x option_load 0'",
        );
        assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
        // `program` under RDP level 1 is refused before anything is erased.
        let other = if c.model == ChipModel::Stm32g474re {
            "g474-fpu.elf"
        } else {
            "l476-fpu.elf"
        };
        let r = run(dir.path(), c, &storage, &program(other));
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        common::assert_refused_before_erase(&r);
        assert_has(
            &r.stderr,
            "cannot program the flash: read-out protection (RDP level 1) is active: FLASH_OPTR = 0xffeff800, RDP = 0x00",
        );
        assert_has(&r.stderr, "Nothing was erased.");
        assert_has(
            &r.stderr,
            "'stm32l4x unlock 0' then 'stm32l4x option_load 0'",
        );
        assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
        // Unlock: level 0, the flash mass-erased, the OTP kept.
        let r = run(
            dir.path(),
            c,
            &storage,
            "init; reset halt; stm32l4x unlock 0; stm32l4x option_load 0; reset halt; \
             stm32l4x option_read 0 0x20; mdw 0x08000000 4; mdw 0x1fff7000 2; shutdown",
        );
        r.expect_code(0);
        assert_has(&r.stdout, "stm32l4x unlocked\n");
        assert_has(&r.stdout, "Option Register: <0x40022020> = 0xffeff8aa\n");
        assert_has(
            &r.stdout,
            "0x08000000: ffffffff ffffffff ffffffff ffffffff \n",
        );
        assert_has(&r.stdout, "0x1fff7000: 44332211 88776655 \n");
        assert!(
            flash_of(c, &storage, 0x0800_0000, image.len())
                .iter()
                .all(|&b| b == 0xFF),
            "{}: flash not mass-erased",
            c.board
        );
    }
}

#[test]
fn stm32l4x_wrp_refuses_program_before_erase_then_removing_it_works() {
    for c in CHIPS.iter().filter(|c| c.l4x) {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let image = objcopy_binary(c.blinky, dir.path());
        // Program, then protect pages 0-1 through FLASH_WRP1AR (start 0, end 1).
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "{}; reset halt; stm32l4x wrp_info 0; stm32l4x option_write 0 0x2c 0x00010000 0x00ff00ff; \
                 stm32l4x option_load 0; reset halt; stm32l4x wrp_info 0; stm32l4x option_read 0 0x2c; \
                 program {} verify",
                program(c.blinky),
                firmware(if c.model == ChipModel::Stm32g474re {
                    "g474-fpu.elf"
                } else {
                    "l476-fpu.elf"
                })
                .display()
            ),
        );
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_has(&r.stdout, "no protected areas\n");
        assert_has(
            &r.stdout,
            "stm32l4x Option written.\nINFO: a reset or power cycle is required for the new settings to take effect.\n",
        );
        assert_has(&r.stdout, "protected areas: 0-1\n");
        assert_has(
            &r.stderr,
            "page 0 (0x08000000-0x080007ff) is write-protected by FLASH_WRP1AR = 0x",
        );
        assert_has(&r.stderr, "(protects pages 0-1)");
        assert_has(&r.stderr, "(FLASH_SR.WRPERR); nothing was erased.");
        assert_has(
            &r.stderr,
            "fix: 'stm32l4x option_write 0 0x2c 0x000000ff 0x00ff00ff' (start above end turns the area off) then 'stm32l4x option_load 0'",
        );
        // Refused before the erase: the blinky is still there.
        assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
        // The suggested fix, then program works; then a mass erase.
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "init; reset halt; stm32l4x option_write 0 0x2c 0x000000ff 0x00ff00ff; stm32l4x option_load 0; \
                 reset halt; stm32l4x wrp_info 0; {}; reset halt; stm32l4x mass_erase 0; mdw 0x08000000 2; shutdown",
                program(c.blinky)
            ),
        );
        r.expect_code(0);
        assert_has(&r.stdout, "no protected areas\n");
        assert_has(&r.stdout, "** Verified OK **");
        assert_has(&r.stdout, "stm32l4x mass erase complete\n");
        assert_has(&r.stdout, "0x08000000: ffffffff ffffffff \n");
    }
}

/// F303 (`stm32f1x` on the F3 FPEC): options_read, RDP level 1 with `stm32f1x lock` (reads
/// refused with FLASH_OBR as evidence), `unlock` + `options_load` (OBL_LAUNCH) with the mass
/// erase observed, `options_write`, WRP with `flash protect` refusing `program` before any erase,
/// and `mass_erase`.
#[test]
fn stm32f1x_lock_unlock_wrp_options_and_mass_erase_on_the_f303() {
    let c = &CHIPS[0];
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let image = objcopy_binary(c.blinky, dir.path());
    // Factory options; lock; OBL_LAUNCH; the flash cannot be read.
    let r = run(
        dir.path(),
        c,
        &storage,
        &format!(
            "{}; reset halt; stm32f1x options_read 0; stm32f1x lock 0; stm32f1x options_load 0; \
             reset halt; stm32f1x options_read 0; mdw 0x08000000",
            program(c.blinky)
        ),
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_has(
        &r.stdout,
        "option byte register = 0xffff7700\nwrite protection register = 0xffffffff\nread protection: off\n",
    );
    assert_has(&r.stdout, "stm32x locked\n");
    assert_has(
        &r.stdout,
        "option byte register = 0xffff7702\nwrite protection register = 0xffffffff\nread protection: on\n",
    );
    assert_has(
        &r.stderr,
        "cannot read 0x08000000 in flash bank #0 (stm32f3x.flash): read-out protection (RDP level 1) is active: FLASH_OBR = 0xffff7702, RDPRT = 1.",
    );
    assert_has(&r.stderr, "fix: 'stm32f1x unlock 0' then 'reset halt'");
    assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
    // Unlock: the chip mass-erases its flash when the level-0 RDP byte is loaded.
    let r = run(
        dir.path(),
        c,
        &storage,
        "init; reset halt; stm32f1x unlock 0; stm32f1x options_load 0; reset halt; \
         stm32f1x options_read 0; mdw 0x08000000 4; shutdown",
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "stm32x unlocked.\nINFO: a reset or power cycle is required for the new settings to take effect.\n",
    );
    assert_has(&r.stdout, "read protection: off\n");
    assert_has(
        &r.stdout,
        "0x08000000: ffffffff ffffffff ffffffff ffffffff \n",
    );
    assert!(
        flash_of(c, &storage, 0x0800_0000, image.len())
            .iter()
            .all(|&b| b == 0xFF),
        "RDP regression mass-erases the flash"
    );
    // options_write (OBL_LAUNCH loads it), then WRP on blocks 0-1 (pages 0-3): program refused.
    let raw = dir.path().join("raw.bin");
    std::fs::write(
        &raw,
        (0..8192u32).map(|i| (i * 7) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let r = run(
        dir.path(),
        c,
        &storage,
        &format!(
            "{}; reset halt; stm32f1x options_write 0 HWWDG RSTSTOP USEROPT 0x1234; stm32f1x options_load 0; \
             reset halt; stm32f1x options_read 0; flash protect 0 0 1 on; stm32f1x options_load 0; reset halt; \
             flash info 0; program {} verify 0x08000000",
            program(c.blinky),
            raw.display()
        ),
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_has(
        &r.stdout,
        "stm32x write options complete.\nINFO: 'stm32f1x options_load' command or power cycle is required for the new settings to take effect.\n",
    );
    assert_has(
        &r.stdout,
        "option byte register = 0x12347400\nwrite protection register = 0xffffffff\nread protection: off\nwatchdog: hardware\nstop mode: reset generated upon entry\nstandby mode: no reset generated upon entry\nuser data = 0x1234\n",
    );
    assert_has(
        &r.stdout,
        "set protection for blocks 0 through 1 on flash bank 0\n",
    );
    assert_has(
        &r.stdout,
        "\t#  1: 0x00001000 (0x1000 4kB) protected\n\t#  2: 0x00002000 (0x1000 4kB) not protected\n",
    );
    assert_has(
        &r.stdout,
        "\t# 31: 0x0001f000 (0x21000 132kB) not protected\nSTM32F302xB/C - Rev: ",
    );
    assert_has(&r.stdout, "** Programming Failed **");
    assert_has(
        &r.stderr,
        "page 0 (0x08000000-0x080007ff) is write-protected by WRP0 bit 0 (FLASH_WRPR = 0xfffffffc: bit 0 = 0 protects pages 0-1); the flash controller would refuse to erase or program it (FLASH_SR.WRPRTERR); nothing was erased.",
    );
    assert_has(
        &r.stderr,
        "fix: 'flash protect 0 0 0 off' then 'reset halt'",
    );
    assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
    // The protection off; program works; mass erase.
    let r = run(
        dir.path(),
        c,
        &storage,
        &format!(
            "init; reset halt; flash protect 0 0 1 off; reset halt; stm32f1x options_read 0; \
             program {} verify 0x08000000; reset halt; stm32f1x mass_erase 0; mdw 0x08000000 2; shutdown",
            raw.display()
        ),
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "cleared protection for blocks 0 through 1 on flash bank 0\n",
    );
    assert_has(&r.stdout, "write protection register = 0xffffffff\n");
    assert_has(&r.stdout, "** Verified OK **");
    assert_has(&r.stdout, "stm32x mass erase complete\n");
    assert_has(&r.stdout, "0x08000000: ffffffff ffffffff \n");
    assert!(
        flash_of(c, &storage, 0x0800_0000, 8192)
            .iter()
            .all(|&b| b == 0xFF)
    );
}

/// Read-out protection level 2 on each chip: G474/L476 through `stm32l4x option_write` (a warning
/// that it is permanent) and `option_load` (the link goes, said so); the F303 through raw FPEC
/// writes of the RDP option byte (OpenOCD's `stm32f1x` commands cannot set level 2) and a system
/// reset. The next `init` fails even under reset and names level 2 as permanent.
#[test]
fn rdp_level_2_is_named_permanent_on_each_chip() {
    for c in CHIPS {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let set = if c.l4x {
            "init; reset halt; stm32l4x option_write 0 0x20 0xCC 0xFF; stm32l4x option_load 0; shutdown"
        } else {
            // FLASH_KEYR, FLASH_OPTKEYR keys; OPTER + STRT; OPTPG; RDP byte = 0xCC; reset.
            "init; reset halt; mww 0x40022004 0x45670123; mww 0x40022004 0xCDEF89AB; \
             mww 0x40022008 0x45670123; mww 0x40022008 0xCDEF89AB; mww 0x40022010 0x220; \
             mww 0x40022010 0x260; mww 0x40022010 0x210; mwh 0x1FFFF800 0xCC; reset run; shutdown"
        };
        let r = run(dir.path(), c, &storage, set);
        if c.l4x {
            assert_eq!(r.code, 1, "{}: {}\n{}", c.board, r.stdout, r.stderr);
            assert_has(
                &r.stderr,
                "Warn : FLASH_OPTR.RDP = 0xCC is read-out protection level 2: once loaded ('stm32l4x option_load' or a power cycle) it is permanent",
            );
            assert_has(&r.stdout, "stm32l4x option load failed\n");
            assert_has(
                &r.stderr,
                "the option bytes were loaded with read-out protection level 2 (FLASH_OPTR = 0xffeff8cc, RDP = 0xcc): the chip switched its debug port off for good at the reload, so the debug link is gone. Level 2 is permanent: nothing can be done over SWD",
            );
        }
        if !c.l4x {
            // The option byte is in the storage file: 0xCC and its complement.
            assert_eq!(flash_of(c, &storage, 0x1FFF_F800, 2), [0xCC, 0x33]);
        }
        let r = run(dir.path(), c, &storage, "init; shutdown");
        assert_eq!(r.code, 1, "{}: {}\n{}", c.board, r.stdout, r.stderr);
        assert_has(
            &r.stderr,
            "tried attach under reset at 100 kHz: no ACK from the SW-DP",
        );
        assert_has(
            &r.stderr,
            &format!(
                "A chip at read-out protection level 2 ({}) looks exactly like this: it keeps its debug port off from reset on, even under reset.",
                if c.l4x {
                    "FLASH_OPTR.RDP = 0xCC"
                } else {
                    "RDP option byte 0xCC, FLASH_OBR.RDPRT = 0b11"
                }
            ),
        );
        assert_has(
            &r.stderr,
            "If the chip was set to RDP level 2, that is permanent: nothing can be done over SWD (no unlock, no erase, not even with BOOT0)",
        );
    }
}

/// The 1 KiB OTP of the G474 and L476 through the flash commands: refused until `stm32l4x otp 1
/// enable` (OpenOCD's switch), then written by double words through FLASH_CR.PG (the probe-rs
/// algorithm does not cover it); the same bytes again are accepted, other bytes over a programmed
/// double word and any erase are refused before anything is written.
#[test]
fn otp_is_written_once_through_the_flash_commands_and_never_erased() {
    for c in CHIPS.iter().filter(|c| c.l4x) {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let otp = dir.path().join("otp.bin");
        std::fs::write(&otp, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]).unwrap();
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!("init; reset halt; flash write_bank 1 {} 0", otp.display()),
        );
        assert_eq!(r.code, 1, "{}: {}\n{}", c.board, r.stdout, r.stderr);
        assert_has(
            &r.stderr,
            "OTP memory is disabled for write commands: bank ",
        );
        assert_has(
            &r.stderr,
            "nothing was written. If these bytes are meant to be permanent, run 'stm32l4x otp 1 enable' first",
        );
        let w = |off: u32| format!("flash write_bank 1 {} {off}", otp.display());
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "init; reset halt; stm32l4x otp 1 show; stm32l4x otp 1 enable; stm32l4x otp 1 show; {}; {}; {}; \
                 mdw 0x1fff7000 4; shutdown",
                w(0),
                w(0),
                w(0x3f8)
            ),
        );
        r.expect_code(0);
        assert_has(
            &r.stdout,
            "OTP memory bank #1 is disabled for write commands.\nOTP memory bank #1 is enabled for write commands.\n",
        );
        assert_has(&r.stdout, "wrote 8 bytes from file ");
        assert_has(&r.stdout, "to flash bank 1 at offset 0x000003f8 in ");
        assert_has(
            &r.stdout,
            "0x1fff7000: 44332211 88776655 ffffffff ffffffff \n",
        );
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!("init; reset halt; stm32l4x otp 1 enable; {}", w(4)),
        );
        assert_eq!(r.code, 1, "{}: {}\n{}", c.board, r.stdout, r.stderr);
        assert_has(
            &r.stderr,
            "OTP double word 0x1fff7000 already holds 0x8877665544332211 and cannot take 0x44332211ffffffff: the OTP never erases (the flash controller would refuse with FLASH_SR.PROGERR); nothing was written",
        );
        let r = run(
            dir.path(),
            c,
            &storage,
            "init; reset halt; flash erase_sector 1 0 0",
        );
        assert_eq!(r.code, 1, "{}: {}\n{}", c.board, r.stdout, r.stderr);
        assert_has(&r.stderr, "cannot erase OTP memory: bank ");
        assert_has(&r.stderr, "nothing was erased");
        // What is in the chip (kept in the storage file): the two double words, nothing else.
        let r = run(
            dir.path(),
            c,
            &storage,
            "init; reset halt; mdw 0x1fff7000 4; mdw 0x1fff73f0 4; shutdown",
        );
        r.expect_code(0);
        assert_has(
            &r.stdout,
            "0x1fff7000: 44332211 88776655 ffffffff ffffffff \n",
        );
        assert_has(
            &r.stdout,
            "0x1fff73f0: ffffffff ffffffff 44332211 88776655 \n",
        );
    }
}

/// PCROP (execute-only code) on the G474 and L476: an area over page 0 set through
/// FLASH_PCROP1SR/ER makes `program` refuse before anything is erased, naming PCROP1 and the way
/// out (PCROP_RDP, then the RDP regression's full mass erase); that fix works.
#[test]
fn pcrop_area_refuses_program_and_the_named_regression_removes_it() {
    for c in CHIPS.iter().filter(|c| c.l4x) {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let image = objcopy_binary(c.blinky, dir.path());
        let other = if c.model == ChipModel::Stm32g474re {
            "g474-fpu.elf"
        } else {
            "l476-fpu.elf"
        };
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "{}; reset halt; stm32l4x option_write 0 0x24 0x0 0xffff; stm32l4x option_write 0 0x28 0x7f 0xffff; \
                 stm32l4x option_load 0; reset halt; {}",
                program(c.blinky),
                program(other)
            ),
        );
        assert_eq!(r.code, 1, "{}: {}\n{}", c.board, r.stdout, r.stderr);
        assert_has(&r.stdout, "** Programming Failed **");
        assert_has(
            &r.stderr,
            "page 0 (0x08000000-0x080007ff) is write-protected by PCROP1 (FLASH_PCROP1SR = 0x",
        );
        assert_has(&r.stderr, ": execute-only code, double words 0-127)");
        assert_has(&r.stderr, "nothing was erased.");
        assert_has(
            &r.stderr,
            "fix: PCROP is removed only by the RDP regression to level 0 with PCROP_RDP set (it is clear: FLASH_PCROP1ER bit 31 = 0, so a regression now would keep the PCROP area): 'stm32l4x option_write 0 0x28 0x80000000 0x80000000', then 'stm32l4x lock 0', 'stm32l4x option_load 0', 'stm32l4x unlock 0', 'stm32l4x option_load 0' (mass-erases the flash)",
        );
        assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
        // The fix, then program works.
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "init; reset halt; stm32l4x option_write 0 0x28 0x80000000 0x80000000; stm32l4x lock 0; \
                 stm32l4x option_load 0; reset halt; stm32l4x unlock 0; stm32l4x option_load 0; reset halt; \
                 {}; shutdown",
                program(other)
            ),
        );
        r.expect_code(0);
        assert_has(&r.stdout, "** Verified OK **");
    }
}
