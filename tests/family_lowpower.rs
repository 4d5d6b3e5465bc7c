//! Stop and Standby on the STM32F303VC, STM32G474RE and STM32L476RG through the built binary,
//! with no firmware: after `reset halt` the debugger clears DBGMCU_CR, puts `nop; wfi; b .` in
//! SRAM, sets SCB_SCR.SLEEPDEEP and the family's low-power mode (F3: PWR_CR.PDDS, RM0316 §6.3.5,
//! §6.4.1; G4/L4: PWR_CR1.LPMS = Stop 0 or Standby, RM0440 §6.4.1, RM0351 §5.4.1; PWR needs its
//! clock, RCC_APB1ENR(1).PWREN bit 28) and resumes. What the user sees: the lost link named with
//! DBGMCU_CR and DBG_STOP/DBG_STANDBY, the next command's ladder connecting under reset (Stop
//! keeps the debug logic; Standby's wake-up by NRST resets it, so the reset-vector halt with
//! C_DEBUGEN does it, at the configured speed), PWR's standby flag, `doctor`'s verdict, and that
//! with DBG_STOP/DBG_STANDBY set the link stays up.
//!
//! probe-rs's resume steps one instruction first, and a stepped WFI does not sleep: the program
//! starts with a `nop` so that the WFI is executed running.

mod common;

use common::chips::{CHIPS, Chip, run};
use common::{Run, assert_has, tempdir};

/// The program: `nop; wfi; b .` at PROG.
const PROG: u32 = 0x2000_0100;
/// A word of SRAM1 that Stop keeps.
const MARK: u32 = 0x2000_0200;

/// The chip's low-power registers: (RCC_APB1ENR(1), PWR control value for Stop, for Standby,
/// PWR status register, its standby flag).
fn pwr_of(c: &Chip) -> (u32, u32, u32, u32, u32) {
    if c.l4x {
        // RCC_APB1ENR1 (RM0440 §7.4.19, RM0351 §6.4.19); PWR_CR1 keeps VOS = Range 1 (0x200),
        // LPMS 000 Stop 0 / 011 Standby; PWR_SR1.SBF bit 8 (RM0440 §6.4.5, RM0351 §5.4.5).
        (0x4002_1058, 0x200, 0x203, 0x4000_7010, 1 << 8)
    } else {
        // RCC_APB1ENR (RM0316 §9.4.8); PWR_CR.PDDS bit 1; PWR_CSR.SBF bit 1 (RM0316 §6.4.2).
        (0x4002_101C, 0, 2, 0x4000_7004, 1 << 1)
    }
}

/// The target name the messages start with.
fn target_of(c: &Chip) -> &'static str {
    match (c.l4x, c.syst_load) {
        (false, _) => "stm32f3x.cpu",
        (true, 15999) => "stm32g4x.cpu",
        _ => "stm32l4x.cpu",
    }
}

/// Writes and runs the script: program, DBGMCU_CR = `dbgmcu`, low-power mode `mode`, resume,
/// then `then`, or when empty `halt` (which attaches again if the link went), the PC, the mark
/// and the PWR status.
fn low_power_run(c: &Chip, mode: u32, dbgmcu: u32, then: &str) -> Run {
    let dir = tempdir();
    let (apb1enr, _, _, sr, _) = pwr_of(c);
    let script = format!(
        r#"cmd("reset halt");
cmd("mww 0xE0042004 {dbgmcu:#x}");
cmd("mww 0x40007000 {mode:#x}");
print("gated: " + cmd("mdw 0x40007000"));
cmd("mwh {PROG:#x} 0xBF00");
cmd("mwh {:#x} 0xBF30");
cmd("mwh {:#x} 0xE7FE");
cmd("mww {MARK:#x} 0xCAFEF00D");
cmd("mww 0xE000ED10 4");
cmd("mww {apb1enr:#x} 0x10000000");
cmd("mww 0x40007000 {mode:#x}");
print("set: " + cmd("mdw 0x40007000"));
cmd("reg pc {PROG:#x}");
try {{ cmd("resume"); print("resume: ok"); }} catch (e) {{ print("resume: " + e); }}
{}
"#,
        PROG + 2,
        PROG + 4,
        if then.is_empty() {
            format!(
                r#"cmd("sleep 50");
print("dhcsr: " + cmd("mdw 0xE000EDF0"));
try {{ cmd("halt"); print("halt: ok"); }} catch (e) {{ print("halt: " + e); }}
print(cmd("reg pc"));
print(cmd("mdw {MARK:#x}"));
cmd("mww {apb1enr:#x} 0x10000000");
print("pwr status: " + cmd("mdw {sr:#x}"));"#
            )
        } else {
            then.to_string()
        }
    );
    std::fs::write(dir.path().join("lp.rhai"), script).unwrap();
    let r = run(
        dir.path(),
        c,
        &dir.path().join("chip.bin"),
        "init; script lp.rhai; shutdown",
    );
    r.expect_code(0);
    r
}

/// The lines every run without the DBGMCU bits shows: PWR needs PWREN, the resume loses the link
/// and names DBGMCU_CR, the family's examine-end handler and the fix; `halt` attaches again.
fn assert_link_lost(c: &Chip, r: &Run, mode: u32) {
    let t = target_of(c);
    assert_has(&r.stdout, "gated: 0x40007000: 00000000 \n");
    assert_has(&r.stdout, &format!("set: 0x40007000: {mode:08x} \n"));
    assert_has(&r.stdout, &format!("resume: [{t}] lost the debug link "));
    assert_has(
        &r.stdout,
        " s after resume (no ACK from the SW-DP): Target device did not respond to request.\n",
    );
    assert_has(
        &r.stdout,
        "\n  cause: the running firmware cut the link: DBGMCU_CR was 0x00000000 (none) at resume: without DBG_STOP/DBG_STANDBY the debug port goes dark when the firmware enters Stop/Standby; the target script's examine-end handler sets them (`mmw 0xE0042004 0x7 0; mmw 0xE0042008 0x1800 0`)\n",
    );
    assert_has(
        &r.stdout,
        "\n  fix: reconnect under reset (restart with `reset_config(\"srst_only srst_nogate connect_assert_srst\");` in the board script, or run 'doctor'); keep the DBGMCU_CR bits and the SWD pins in the firmware\n",
    );
    assert_has(
        &r.stderr,
        &format!("Info : [{t}] the debug link was lost; attaching again\n"),
    );
    assert_has(&r.stdout, "halt: ok\n");
    assert_has(&r.stdout, "pc (/32): 0xfffffffe\n");
}

/// The configured SWCLK the board's sim adapter runs at (the first line naming it).
fn khz_of(r: &Run) -> u32 {
    let l = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Info : sim adapter connected, SWD clock "))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    l.trim_end_matches(" kHz").parse().unwrap()
}

#[test]
fn stop_without_dbg_stop_loses_the_link_and_the_ladder_connects_under_reset() {
    for c in CHIPS {
        let (_, stop, _, _, sbf) = pwr_of(c);
        let r = low_power_run(c, stop, 0, "");
        assert_link_lost(c, &r, stop);
        let khz = khz_of(&r);
        let t = target_of(c);
        // Stop keeps the debug logic (C_DEBUGEN): probe-rs's attach under reset works at once.
        assert_has(
            &r.stderr,
            &format!(
                "Info : connect: plain attach at {khz} kHz failed: no ACK from the SW-DP (DPIDR not read)\n"
            ),
        );
        assert_has(
            &r.stderr,
            &format!(
                "Info : connect: connected under reset at {khz} kHz; the core is halted at the reset vector (PC 0xfffffffe) before the firmware ran\n"
            ),
        );
        assert_has(
            &r.stderr,
            &format!(
                "Info : [{t}] the debug link is back: re-attached at {khz} kHz by itself ('doctor' is not needed); the core is halted\n"
            ),
        );
        // SRAM is kept in Stop and across the reset; no standby flag.
        assert_has(&r.stdout, &format!("0x{MARK:08x}: cafef00d \n"));
        let status = status_of(&r);
        assert_eq!(
            status & sbf,
            0,
            "{}: no SBF after Stop\n{}",
            c.board,
            r.stdout
        );
    }
}

/// The PWR status word printed after `pwr status: `.
fn status_of(r: &Run) -> u32 {
    let l = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("pwr status: "))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let w = l.split_whitespace().nth(1).unwrap();
    u32::from_str_radix(w, 16).unwrap()
}

#[test]
fn standby_without_dbg_standby_resets_the_debug_logic_and_the_ladder_halts_on_the_reset_vector() {
    for c in CHIPS {
        let (_, _, standby, _, sbf) = pwr_of(c);
        let r = low_power_run(c, standby, 0, "");
        assert_link_lost(c, &r, standby);
        let khz = khz_of(&r);
        let t = target_of(c);
        // The wake-up by NRST reset the debug logic: probe-rs's attach under reset sets the
        // vector catch without C_DEBUGEN and times out; the ladder then halts on the reset
        // vector itself, at the same speed (the line is fine, no lower speed is tried).
        assert_has(
            &r.stderr,
            &format!(
                "Info : connect: attach under reset at {khz} kHz failed: could not attach to "
            ),
        );
        assert_has(&r.stderr, "Timeout while attaching to target under reset.");
        assert_has(
            &r.stderr,
            &format!(
                "Info : connect: halt on the reset vector at {khz} kHz (NRST held, DHCSR.C_DEBUGEN + DEMCR.VC_CORERESET, NRST released)\n"
            ),
        );
        assert_has(
            &r.stderr,
            &format!(
                "Info : connect: connected at {khz} kHz; the core is halted at the reset vector (PC 0xfffffffe) before the firmware ran\n"
            ),
        );
        assert_has(
            &r.stderr,
            &format!(
                "Info : [{t}] the debug link is back: re-attached at {khz} kHz by itself ('doctor' is not needed); the core is halted\n"
            ),
        );
        assert_eq!(
            r.stderr
                .matches("connect: attach under reset (NRST asserted) at ")
                .count(),
            1,
            "one attach under reset only:\n{}",
            r.stderr
        );
        // The standby flag: set by the wake-up, kept by the ladder's further resets.
        assert_eq!(status_of(&r) & sbf, sbf, "{}: SBF\n{}", c.board, r.stdout);
    }
}

#[test]
fn dbg_stop_and_dbg_standby_keep_the_link_in_stop_and_standby() {
    for c in CHIPS {
        let (_, stop, standby, _, _) = pwr_of(c);
        for mode in [stop, standby] {
            // DBG_STOP | DBG_STANDBY (bits 1, 2 of DBGMCU_CR on all three: RM0316 §33.16.3,
            // RM0440 §47.16.3, RM0351 §48.16.3).
            let r = low_power_run(c, mode, 0x6, "");
            assert!(!r.stdout.contains("lost the debug link"), "{}", r.stdout);
            assert_has(&r.stdout, "resume: ok\n");
            // Asleep: DHCSR.S_SLEEP (bit 18) with C_DEBUGEN.
            assert_has(&r.stdout, "dhcsr: 0xe000edf0: 01040001 \n");
            assert_has(&r.stdout, "halt: ok\n");
            // The halt ends the low-power mode after the WFI.
            assert_has(&r.stdout, &format!("pc (/32): 0x{:08x}\n", PROG + 4));
            assert_has(&r.stdout, &format!("0x{MARK:08x}: cafef00d \n"));
        }
    }
}

#[test]
fn doctor_in_stop_names_the_family_s_swd_pins_and_stop_standby() {
    for c in CHIPS {
        let (_, stop, _, _, _) = pwr_of(c);
        let r = low_power_run(
            c,
            stop,
            0,
            r#"try { cmd("doctor"); } catch (e) { print("doctor: " + e); }"#,
        );
        let driver = if c.l4x { "stm32l4x" } else { "stm32f1x" };
        assert_has(
            &r.stdout,
            "FAIL: the target is powered (3.30 V) but gives no ACK while its firmware runs; under reset it answers. The firmware disables the SWD pins (GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode)) or enters Stop/Standby without the DBGMCU_CR debug bits.\n",
        );
        assert_has(
            &r.stdout,
            &format!(
                "fix: add `reset_config(\"srst_only srst_nogate connect_assert_srst\");` to the board script (init also falls back to it by itself); then erase or fix the firmware (`{driver} mass_erase 0`).\n"
            ),
        );
        assert!(!r.stdout.contains("AFIO_MAPR"), "{}", r.stdout);
    }
}
