//! The three new chips (STM32F303VC, STM32G474RE, STM32L476RG) through the built binary, one
//! harness parameterised by board: program + verify read back byte for byte, `reset halt` from
//! the vector table, the examine-end DBGMCU writes, bp / step / wp, the blinky's result block,
//! and the SWD-off field report on the G474 (option bytes and protection: family_protection.rs).

mod common;

use std::path::Path;

use common::chips::{CHIPS, flash_of, program, run, sym, words_at};
use common::{assert_has, objcopy_binary, tempdir};

#[test]
fn program_verify_reads_back_byte_for_byte_and_reset_halt_follows_the_vectors() {
    for c in CHIPS.iter().rev() {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let image = objcopy_binary(c.blinky, dir.path());
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "{}; reset halt; reg pc; reg msp; mdw 0xE0042004; mdw 0x{:08x}; shutdown",
                program(c.blinky),
                c.freeze.0
            ),
        );
        r.expect_code(0);
        assert_has(&r.stdout, "** Verified OK **");
        assert_eq!(
            flash_of(c, &storage, 0x0800_0000, image.len()),
            image,
            "{}: flash differs from objcopy -O binary",
            c.board
        );
        // The rest of the first page stays erased.
        let tail = flash_of(c, &storage, 0x0800_0000 + image.len() as u32, 64);
        assert!(tail.iter().all(|&b| b == 0xFF), "{}: {tail:02x?}", c.board);
        let reset = sym(c.blinky, "Reset_Handler");
        let sp = sym(c.blinky, "_estack");
        assert_eq!(u32::from_le_bytes(image[0..4].try_into().unwrap()), sp);
        assert_eq!(
            u32::from_le_bytes(image[4..8].try_into().unwrap()),
            reset | 1
        );
        assert_has(&r.stdout, &format!("pc (/32): 0x{reset:08x}\n"));
        assert_has(&r.stdout, &format!("msp (/32): 0x{sp:08x}\n"));
        // examine-end: DBGMCU_CR |= DBG_SLEEP | DBG_STOP | DBG_STANDBY, and the watchdog freeze.
        assert_has(&r.stdout, "0xe0042004: 00000007 \n");
        assert_has(
            &r.stdout,
            &format!("0x{:08x}: {:08x} \n", c.freeze.0, c.freeze.1),
        );
    }
}

#[test]
fn breakpoint_step_watchpoint_and_the_blinky_result_block() {
    for c in CHIPS.iter().rev() {
        let dir = tempdir();
        let main = sym(c.blinky, "main");
        let cmds = format!(
            "{prog}; bp 0x{main:08x} 2 hw; reset run; sleep 300; reg pc; step; reg pc; rbp 0x{main:08x}; \
             wp 0x2000001c 4 w; resume; sleep 300; targets; reg pc; mdw 0x2000001c; rwp 0x2000001c; \
             resume; sleep 1500; halt; mdw 0x20000000 0x19; resume; sleep 500; halt; mdw 0x20000020; shutdown",
            prog = program(c.blinky)
        );
        let r = run(dir.path(), c, Path::new("none"), &cmds);
        r.expect_code(0);
        let out = r.stdout.as_str();
        // The hardware breakpoint on main hit, and a step moved past it.
        assert_has(out, &format!("breakpoint set at 0x{main:08x}\n"));
        let pcs: Vec<u32> = out
            .lines()
            .filter_map(|l| l.strip_prefix("pc (/32): 0x"))
            .map(|h| u32::from_str_radix(h, 16).unwrap())
            .collect();
        assert_eq!(pcs.len(), 3, "{out}");
        assert_eq!(pcs[0], main, "{}: not halted on main\n{out}", c.board);
        assert!(
            pcs[1] > main && pcs[1] <= main + 4,
            "{}: step from 0x{main:08x} went to 0x{:08x}",
            c.board,
            pcs[1]
        );
        // The write watchpoint on `counter` halted the core right after its first store.
        assert!(
            out.lines()
                .any(|l| l.starts_with(" 0* ") && l.trim_end().ends_with("halted")),
            "{out}"
        );
        assert_eq!(words_at(out, 0x2000_001c)[0], 1, "{}: {out}", c.board);
        assert!(pcs[2] > main, "{out}");
        // The result block after a run.
        let w = words_at(out, 0x2000_0000);
        assert_eq!(w.len(), 0x19, "{out}");
        assert_eq!(w[0], c.magic, "{}: magic", c.board);
        assert_eq!(w[1], 4, "{}: stage", c.board);
        assert_eq!(w[2], 0x600D_D0E5, "{}: done", c.board);
        assert_eq!(w[3], 0, "{}: error", c.board);
        assert_eq!(w[4], 0xDA7A_5EED, "{}: data_word", c.board);
        assert_eq!(w[5], 8, "{}: data_ok", c.board);
        assert_eq!(w[6], 0, "{}: bss_nonzero", c.board);
        assert!(w[7] > 1, "{}: counter {}", c.board, w[7]);
        assert!(w[8] > 0, "{}: ticks", c.board);
        assert_eq!(w[0xB], 0x00F0_0000, "{}: cpacr", c.board);
        assert_eq!(w[0xC], 0x0800_0000, "{}: vtor", c.board);
        assert_eq!(w[0xD], c.syst_load, "{}: syst_load", c.board);
        assert_eq!(w[0xE], 7, "{}: syst_ctrl", c.board);
        let later = words_at(out.split("0x20000060:").nth(1).unwrap(), 0x2000_0020)[0];
        assert!(later > w[8], "{}: ticks {} then {later}", c.board, w[8]);
    }
}

/// The G474 SWD-off field report: the firmware takes PA13/PA14 out of AF0, the link dies, the
/// ladder connects under reset and names GPIOA_MODER, not the F1's AFIO_MAPR.
#[test]
fn g474_swd_off_link_lost_then_connect_under_reset() {
    let c = &CHIPS[1];
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let image = objcopy_binary("g474-swd-off.elf", dir.path());
    let reset = sym("g474-swd-off.elf", "Reset_Handler");
    let r = run(
        dir.path(),
        c,
        &storage,
        &format!(
            // `wait_halt` returns when the host sees the link go and re-attaches under reset
            // (the core is then halted at the reset vector): no wall-clock sleep.
            "{}; reset run; wait_halt 20000; reg pc; mdw 0x20000000 2; shutdown",
            program("g474-swd-off.elf")
        ),
    );
    r.expect_code(0);
    assert_has(&r.stderr, "lost the debug link (no ACK from the SW-DP)");
    assert_has(
        &r.stderr,
        "GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode)",
    );
    assert!(!r.stderr.contains("AFIO_MAPR"), "{}", r.stderr);
    assert_has(
        &r.stderr,
        "connect: plain attach at 1800 kHz failed: no ACK from the SW-DP",
    );
    assert_has(
        &r.stderr,
        &format!(
            "connect: connected under reset at 1800 kHz; the core is halted at the reset vector (PC 0x{reset:08x}) before the firmware ran"
        ),
    );
    assert_has(&r.stdout, &format!("pc (/32): 0x{reset:08x}\n"));
    // The firmware had got to stage 3 of this run at most: "G4SW", halted before it ran again.
    assert_eq!(words_at(&r.stdout, 0x2000_0000)[0], 0x5753_3447);
    assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
}

/// The same firmware with NRST not wired: the ladder fails and its fix names the G4's pins and
/// the `stm32l4x` commands, not the F1's.
#[test]
fn g474_swd_off_without_nrst_names_the_stm32l4x_fix() {
    let c = &CHIPS[1];
    let dir = tempdir();
    let r = run(
        dir.path(),
        c,
        Path::new("none"),
        &format!(
            // NRST cut before the run (`reset run` is a SYSRESETREQ); `wait_halt` ends when the
            // link goes and the re-attach fails.
            "{}; sim fault no-nrst; reset run; wait_halt 20000; shutdown",
            program("g474-swd-off.elf")
        ),
    );
    assert_has(&r.stderr, "NRST is not wired to the probe");
    assert_has(
        &r.stderr,
        "the firmware disabled the SWD pins (GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode))",
    );
    assert_has(&r.stderr, "connect and run `stm32l4x mass_erase 0`");
    assert!(!r.stderr.contains("stm32f1x"), "{}", r.stderr);
    assert!(!r.stderr.contains("AFIO_MAPR"), "{}", r.stderr);
}
