//! The STM32H743ZI firmware that cuts the debug link (tests/firmware/h743-stop.elf: D1 Stop with
//! DBGMCU_CR cleared; h743-standby.elf: Standby; h743-swd-off.elf: PA13/PA14 away from AF0)
//! through the built binary: the lost-link explanation names the H7's DBGMCU_CR bits
//! (DBGSTOP_D1/DBGSTBY_D1), the link comes back by itself under reset with the core halted on
//! the reset vector, the examine-end handler's DBGMCU_CR is there again through AP2, and
//! `doctor` names the H7's mass erase.

mod common;

use common::{Run, assert_has, firmware, tempdir};

/// The reset vector's PC of an image (its ELF entry point without the Thumb bit).
fn entry_pc(elf: &str) -> u32 {
    let bytes = std::fs::read(firmware(elf)).unwrap();
    let e = goblin::elf::Elf::parse(&bytes).unwrap();
    (e.entry as u32) & !1
}

fn h743(dir: &std::path::Path, cmds: &str) -> Run {
    common::stored_board_run(dir, common::H743_BOARD, &dir.join("chip.bin"), cmds)
}

#[test]
fn h743_stop_standby_and_swd_off_lose_the_link_with_the_h7_bits_named_and_it_comes_back() {
    for elf in ["h743-stop.elf", "h743-standby.elf", "h743-swd-off.elf"] {
        let dir = tempdir();
        let r = h743(
            dir.path(),
            &format!(
                "program {} verify; reset halt; resume; sleep 300; halt; reg pc; \
                 stm32h7x.ap2 mdw 0xe00e1004; shutdown",
                firmware(elf).display()
            ),
        );
        r.expect_code(0);
        assert_has(&r.stderr, "Error: [stm32h7x.cpu0] lost the debug link ");
        assert_has(
            &r.stderr,
            " s after resume (no ACK from the SW-DP): Target device did not respond to request.\n",
        );
        // The examine-end handler had set the bits; the firmware cleared them (or the pins).
        assert_has(
            &r.stderr,
            "Error:   cause: the running firmware cut the link: DBGMCU_CR was 0x0070003f (DBGSLEEP_D1 DBGSTOP_D1 DBGSTBY_D1 D1DBGCKEN D3DBGCKEN) at resume, so if the firmware enters Stop/Standby it cleared DBGSTOP_D1/DBGSTBY_D1 itself; otherwise it disabled the SWD pins (GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode))\n",
        );
        assert_has(
            &r.stderr,
            "Info : [stm32h7x.cpu0] the debug link was lost; attaching again\n",
        );
        let pc = entry_pc(elf);
        assert_has(
            &r.stderr,
            &format!(
                "the core is halted at the reset vector (PC {pc:#010x}) before the firmware ran\n"
            ),
        );
        assert_has(&r.stderr, "('doctor' is not needed); the core is halted\n");
        assert_has(
            &r.stdout,
            &format!("pc (/32): {pc:#010x}\n0xe00e1004: 0070003f \n"),
        );
        if elf == "h743-standby.elf" {
            // Standby reset the debug logic: probe-rs's attach under reset cannot catch the
            // core (no C_DEBUGEN), the ladder's own halt on the reset vector does.
            assert_has(
                &r.stderr,
                "Info : connect: halt on the reset vector at 4000 kHz (NRST held, DHCSR.C_DEBUGEN + DEMCR.VC_CORERESET, NRST released)\n",
            );
        }
    }
}

#[test]
fn doctor_on_the_h743_in_stop_says_it_answers_under_reset_and_names_the_h7_mass_erase() {
    let dir = tempdir();
    let r = h743(
        dir.path(),
        &format!(
            "program {} verify; shutdown",
            firmware("h743-stop.elf").display()
        ),
    );
    r.expect_code(0);
    let r = h743(dir.path(), "init; reset run; sleep 300; doctor; shutdown");
    r.expect_code(1);
    assert_has(
        &r.stdout,
        "connect (plain)         at 1800 kHz: no ACK from the SW-DP",
    );
    assert_has(
        &r.stdout,
        "connect under reset     ok (the target was reset); halted at the reset vector, PC ",
    );
    assert_has(
        &r.stdout,
        "fix: add `reset_config(\"srst_only srst_nogate connect_assert_srst\");` to the board script (init also falls back to it by itself); then erase or fix the firmware (`stm32h7x mass_erase 0`).\n",
    );
}
