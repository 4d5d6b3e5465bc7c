//! Per-family diagnosis words: the watchdog-while-halted explanation names the chip family's
//! reset-flag register, freeze register and bit, and the fix writes that register (RM0008
//! §31.16.3 for F1; RM0316 §33.16.4, RM0351 §48.6.4, RM0440 §47.6.5 for F3/L4/G4).

use stdbg::family::line;
use stdbg::host::poll::watchdog_message;

const S_RESET_ST_AND_HALT: u32 = (1 << 25) | (1 << 17);

#[test]
fn f1_watchdog_message_is_unchanged() {
    let m = watchdog_message(
        "stm32f1x.cpu",
        line(0x410).unwrap(),
        S_RESET_ST_AND_HALT,
        Some(1 << 29),
        Some(0),
        Some(0),
    );
    assert!(
        m.contains("RCC_CSR reset flags: IWDGRSTF (independent watchdog)"),
        "{m}"
    );
    assert!(
        m.contains("DBG_IWDG_STOP (DBGMCU_CR bit 8) is not set (DBGMCU_CR = 0x00000000 (none))"),
        "{m}"
    );
    assert!(m.contains("`mmw 0xE0042004 0x100 0`"), "{m}");
    assert!(m.contains("targets/stm32f1x.rhai"), "{m}");
}

#[test]
fn l4_and_g4_name_apb1fzr1_and_rcc_csr_bit_29() {
    for (dev, script) in [
        (0x415, "targets/stm32l4x.rhai"),
        (0x469, "targets/stm32g4x.rhai"),
    ] {
        let m = watchdog_message(
            "x.cpu",
            line(dev).unwrap(),
            S_RESET_ST_AND_HALT,
            Some((1 << 29) | (1 << 26)),
            Some(0x7),
            Some(0x0800),
        );
        assert!(
            m.contains("RCC_CSR reset flags: PINRSTF (NRST pin), IWDGRSTF (independent watchdog)"),
            "{m}"
        );
        assert!(
            m.contains("DBG_IWDG_STOP (DBGMCU_APB1FZR1 bit 12) is not set (DBGMCU_CR = 0x00000007 (DBG_SLEEP DBG_STOP DBG_STANDBY), DBGMCU_APB1FZR1 = 0x00000800 (DBG_WWDG_STOP))"),
            "{m}"
        );
        assert!(m.contains("`mmw 0xE0042008 0x1000 0`"), "{m}");
        assert!(m.contains(script), "{m}");
    }
}

#[test]
fn f3_names_apb1_fz_and_a_window_watchdog() {
    let m = watchdog_message(
        "stm32f3x.cpu",
        line(0x422).unwrap(),
        S_RESET_ST_AND_HALT,
        Some(1 << 30),
        Some(0x7),
        Some(0x1000),
    );
    assert!(m.contains("window watchdog (WWDG)"), "{m}");
    assert!(
        m.contains("DBG_WWDG_STOP (DBGMCU_APB1_FZ bit 11) is not set"),
        "{m}"
    );
    assert!(m.contains("`mmw 0xE0042008 0x800 0`"), "{m}");
}

#[test]
fn a_reset_without_watchdog_flag_blames_outside() {
    let m = watchdog_message(
        "x.cpu",
        line(0x415).unwrap(),
        S_RESET_ST_AND_HALT,
        Some(1 << 26),
        Some(0x7),
        Some(0x1800),
    );
    assert!(
        m.contains("cause: a reset from outside the debugger"),
        "{m}"
    );
}
