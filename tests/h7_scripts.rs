//! The STM32H7 target scripts through the built binary: targets/stm32h7x.rhai and
//! stm32h7x_dual_bank.rhai as ports of OpenOCD 0.12's configs (the AP2 `mem_ap` target, both
//! flash banks, the examine-end DBGMCU writes through AP2, `dap apcsw`), the `<target> …` and
//! `<dap> …` object commands, and program + verify across both banks of the virtual H743.

mod common;

use std::path::Path;

use common::{QUIET, Run, assert_has, stdbg, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

fn h7(dir: &Path, storage: &Path, cmds: &str) -> Run {
    common::stored_board_run(dir, common::H743_BOARD, storage, cmds)
}

#[test]
fn targets_lists_the_ap2_mem_ap_and_cpu0_on_one_tap() {
    let dir = tempdir();
    let r = h7(
        dir.path(),
        &dir.path().join("chip.bin"),
        "targets; flash banks; dap names; init; targets; stm32h7x.ap2 curstate; shutdown",
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "    TargetName         Type       Endian TapName            State       \n\
         --  ------------------ ---------- ------ ------------------ ------------\n \
         0  stm32h7x.ap2       mem_ap     little stm32h7x.cpu       unknown\n \
         1* stm32h7x.cpu0      cortex_m   little stm32h7x.cpu       unknown\n\
         #0 : stm32h7x.bank1.cpu0 (stm32h7x) at 0x08000000, size 0x00000000, buswidth 0, chipwidth 0\n\
         #1 : stm32h7x.bank2.cpu0 (stm32h7x) at 0x08100000, size 0x00000000, buswidth 0, chipwidth 0\n\
         stm32h7x.dap\n",
    );
    assert_has(
        &r.stdout,
        " 0  stm32h7x.ap2       mem_ap     little stm32h7x.cpu       running\n \
         1* stm32h7x.cpu0      cortex_m   little stm32h7x.cpu       ",
    );
    assert_has(&r.stdout, "\nrunning\n");
}

#[test]
fn examine_end_writes_dbgmcu_through_ap2_and_the_cpu_bus_sees_the_same_register() {
    let dir = tempdir();
    let r = h7(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; stm32h7x.ap2 mdw 0xe00e1000 2; stm32h7x.ap2 mdw 0xe00e1034; \
         stm32h7x.ap2 mdw 0xe00e103c; stm32h7x.ap2 mdw 0xe00e1054; stm32h7x.ap2 mdw 0xe00e4000; \
         mdw 0x5c001004; shutdown",
    );
    r.expect_code(0);
    // DBGMCU_IDCODE 0x20036450; DBGMCU_CR = D3DBGCKEN | D1DBGCKEN | TRACECLKEN | the D1 and D2
    // sleep/stop/standby bits (0x0070003f); APB3FZ1.WWDG1; APB1LFZ1 and APB4FZ1 keep only the
    // bits a single-core H743 has (no WWDG2, no WDGLSD2); SWTF_CTRL ENS0|ENS1 on its reset value
    // 0x300 (HT = 3, CoreSight funnel).
    assert_has(
        &r.stdout,
        "0xe00e1000: 20036450 0070003f \n\
         0xe00e1034: 00000040 \n\
         0xe00e103c: 00000000 \n\
         0xe00e1054: 00040000 \n\
         0xe00e4000: 00000303 \n\
         0x5c001004: 0070003f \n",
    );
}

#[test]
fn examine_end_through_ap2_works_when_connecting_under_reset() {
    let dir = tempdir();
    let r = h7(
        dir.path(),
        &dir.path().join("chip.bin"),
        "reset_config srst_only srst_nogate connect_assert_srst; init; \
         stm32h7x.ap2 mdw 0xe00e1004; shutdown",
    );
    r.expect_code(0);
    assert_has(&r.stdout, "0xe00e1004: 0070003f \n");
}

#[test]
fn mem_ap_target_refuses_run_control_by_name_and_memory_commands_restore_the_current_target() {
    let dir = tempdir();
    let r = h7(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; targets stm32h7x.ap2; mdw 0xe00e1000; halt",
    );
    r.expect_code(1);
    assert_has(&r.stdout, "0xe00e1000: 20036450 \n");
    assert_has(
        &r.stderr,
        "[stm32h7x.ap2] is a mem_ap target (memory through access port 2, no core): only memory commands (mdw, mww, mmw, read_memory, …) work on it; make a core current first: `targets stm32h7x.cpu0`",
    );
    // `<target> cmd` runs on that target and leaves cpu0 current.
    let r = h7(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; stm32h7x.ap2 mww 0xe00e1034 0; stm32h7x.ap2 mdw 0xe00e1034; halt; \
         stm32h7x.cpu0 curstate; targets; shutdown",
    );
    r.expect_code(0);
    assert_has(&r.stdout, "0xe00e1034: 00000000 \n");
    assert_has(&r.stdout, "\nhalted\n");
    assert_has(
        &r.stdout,
        " 1* stm32h7x.cpu0      cortex_m   little stm32h7x.cpu       halted\n",
    );
}

#[test]
fn dap_apcsw_shows_the_csw_probe_rs_drives_and_refuses_bits_it_cannot_set() {
    let dir = tempdir();
    let r = h7(
        dir.path(),
        &dir.path().join("chip.bin"),
        "stm32h7x.dap apcsw; init; stm32h7x.dap apcsw; stm32h7x.dap apsel 2; stm32h7x.dap apsel; \
         stm32h7x.dap apcsw; stm32h7x.dap apsel 0; stm32h7x.dap apcsw 0x04000000 0x04000000",
    );
    r.expect_code(1);
    // Before init: the bits probe-rs programs on an AHB-AP; after: CSW read from AP0 (HNONSEC
    // set as SPIDEN reads 0, DeviceEn) and from AP2, the APB-AP.
    assert_has(
        &r.stdout,
        "ap 0 selected, csw 0xab000000\nap 0 selected, csw 0xeb000040\n2\nap 2 selected, csw 0x83000040\n",
    );
    assert_has(
        &r.stderr,
        "dap apcsw 0x04000000 0x04000000 asks for CSW bits stdbg does not drive: HPROT[2] bufferable (bit 26).",
    );
}

#[test]
fn program_and_verify_across_both_banks_and_read_back() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let raw = dir.path().join("span.bin");
    // 192 KiB from 0x080f0000: the last 64 KiB of bank 1 and the first 128 KiB of bank 2.
    let data: Vec<u8> = (0..196_608u32)
        .map(|i| (i * 131 + (i >> 9)) as u8)
        .collect();
    std::fs::write(&raw, &data).unwrap();
    let r = h7(
        dir.path(),
        &storage,
        &format!(
            "init; reset halt; flash write_image erase {0} 0x080f0000 bin; \
             verify_image {0} 0x080f0000 bin; mdw 0x08100000; reset init; shutdown",
            raw.display()
        ),
    );
    r.expect_code(0);
    assert_has(
        &r.stderr,
        "Info : Bank (1) size is 1024 kb, base address is 0x08100000\n",
    );
    assert_has(&r.stdout, "wrote 196608 bytes from file ");
    assert_has(&r.stdout, "verified 196608 bytes in ");
    let w = u32::from_le_bytes(data[0x10000..0x10004].try_into().unwrap());
    assert_has(&r.stdout, &format!("0x08100000: {w:08x} \n"));
    let back = Sim::new(SimConfig {
        chip: ChipModel::Stm32h743zi,
        storage: Some(storage),
    })
    .unwrap()
    .read_nonvolatile(0x080f_0000, data.len());
    assert_eq!(back, data);
}

#[test]
fn the_real_nucleo_h743zi_board_declares_what_openocds_does() {
    let dir = tempdir();
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/st_nucleo_h743zi.rhai",
            "-c",
            "targets; flash banks; reset_config; adapter speed; shutdown",
        ],
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        " 0  stm32h7x.ap2       mem_ap     little stm32h7x.cpu       unknown\n \
         1* stm32h7x.cpu0      cortex_m   little stm32h7x.cpu       unknown\n\
         #0 : stm32h7x.bank1.cpu0 (stm32h7x) at 0x08000000, size 0x00000000, buswidth 0, chipwidth 0\n\
         #1 : stm32h7x.bank2.cpu0 (stm32h7x) at 0x08100000, size 0x00000000, buswidth 0, chipwidth 0\n\
         srst_only separate srst_nogate connect_deassert_srst\n\
         adapter speed: 1800 kHz\n",
    );
}

/// Regression: a configured `connect_assert_srst` on a chip fresh from power-on timed out in
/// probe-rs's attach under reset (vector catch without C_DEBUGEN), the ladder then connected
/// at 1000 kHz and blamed the SWD signal at 1800 kHz ("lower the speed"), and probe-rs's own
/// "Unable to wait for 0 halted: An ARM specific error occurred." reached the user.
#[test]
fn connect_assert_srst_on_a_fresh_chip_is_not_blamed_on_the_swd_signal() {
    for board in [
        "board/sim-st_nucleo_h743zi.rhai",
        "board/sim-st_nucleo_g4.rhai",
    ] {
        let dir = tempdir();
        let st = format!("sim storage {}", dir.path().join("chip.bin").display());
        let r = stdbg(
            dir.path(),
            &[
                "-c",
                &st,
                "-f",
                board,
                "-c",
                QUIET,
                "-c",
                "reset_config srst_only connect_assert_srst; init; adapter speed; shutdown",
            ],
        );
        r.expect_code(0);
        assert_has(&r.stdout, "adapter speed: 1800 kHz\n");
        assert_has(
            &r.stderr,
            "Info : connect: the debug port answered under reset at 1800 kHz but the core left reset running",
        );
        for bad in ["not clean", "Unable to wait", "ARM specific"] {
            assert!(!r.stderr.contains(bad), "{board}: {}", r.stderr);
        }
    }
}

/// Regression: `mdw 0x90000000` on the H743 said the chip has no memory there; it is the QUADSPI
/// memory-mapped window, which answers only once QUADSPI is configured (RM0433 §23).
#[test]
fn a_read_of_the_quadspi_window_names_it_instead_of_no_memory() {
    let dir = tempdir();
    let r = h7(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; mdw 0x90000000",
    );
    r.expect_code(1);
    assert_has(
        &r.stderr,
        "the access at 0x90000000 failed (bus error): on the STM32H7 0x90000000-0x9fffffff is the QUADSPI memory-mapped window (RM0433 §23; QUADSPI registers at 0x52005000)",
    );
    assert!(!r.stderr.contains("is not memory that"), "{}", r.stderr);
}
