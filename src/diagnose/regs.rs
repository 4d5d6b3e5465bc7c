//! Debug and reset registers stdbg reads as evidence, with their bits in words.

/// Debug Halting Control and Status Register (ARMv7-M ARM §C1.6.2).
pub const DHCSR: u64 = 0xE000_EDF0;
/// DBGMCU_CR on STM32F1 (RM0008 §31.16.3): DBG_SLEEP 0, DBG_STOP 1, DBG_STANDBY 2,
/// DBG_IWDG_STOP 8, DBG_WWDG_STOP 9.
pub const DBGMCU_CR: u64 = 0xE004_2004;
/// RCC_CSR on STM32F1 (RM0008 §7.3.10): reset flags PINRSTF 26, PORRSTF 27, SFTRSTF 28,
/// IWDGRSTF 29, WWDGRSTF 30, LPWRRSTF 31.
pub const RCC_CSR: u64 = 0x4002_1024;
/// FLASH_OBR on STM32F1 (RM0008 §3.4.7 / PM0075): bit 1 RDPRT (read protection active).
pub const FLASH_OBR: u64 = 0x4002_201C;
/// FLASH_WRPR on STM32F1 (PM0075 §2.4.8): a 0 bit = those pages write-protected.
pub const FLASH_WRPR: u64 = 0x4002_2020;

/// DHCSR status bits.
pub mod dhcsr {
    /// S_RESET_ST: the core was reset since the last DHCSR read (sticky, cleared on read).
    pub const S_RESET_ST: u32 = 1 << 25;
    /// S_RETIRE_ST.
    pub const S_RETIRE_ST: u32 = 1 << 24;
    /// S_LOCKUP: the core is locked up.
    pub const S_LOCKUP: u32 = 1 << 19;
    /// S_SLEEP: the core sleeps (WFI/WFE, or deeper).
    pub const S_SLEEP: u32 = 1 << 18;
    /// S_HALT: the core is in Debug state.
    pub const S_HALT: u32 = 1 << 17;
    /// C_HALT: request a halt (write with [`DBGKEY`]).
    pub const C_HALT: u32 = 1 << 1;
    /// C_DEBUGEN.
    pub const C_DEBUGEN: u32 = 1 << 0;
    /// DBGKEY: bits 31:16 of every DHCSR write, or the write is ignored.
    pub const DBGKEY: u32 = 0xA05F_0000;
}

/// DEMCR bits (ARMv7-M ARM §C1.6.5); the address is
/// [`crate::host::breakpoints::dwt::DEMCR`].
pub mod demcr {
    /// VC_CORERESET: halt on the reset vector (needs DHCSR.C_DEBUGEN).
    pub const VC_CORERESET: u32 = 1 << 0;
}

/// DBGMCU_CR bits (STM32F1).
pub mod dbgmcu {
    /// DBG_SLEEP.
    pub const SLEEP: u32 = 1 << 0;
    /// DBG_STOP.
    pub const STOP: u32 = 1 << 1;
    /// DBG_STANDBY.
    pub const STANDBY: u32 = 1 << 2;
    /// DBG_IWDG_STOP: the independent watchdog stops while the core is halted.
    pub const IWDG_STOP: u32 = 1 << 8;
    /// DBG_WWDG_STOP.
    pub const WWDG_STOP: u32 = 1 << 9;
}

/// RCC_CSR reset flag: independent watchdog reset.
pub const IWDGRSTF: u32 = 1 << 29;
/// RCC_CSR reset flag: window watchdog reset.
pub const WWDGRSTF: u32 = 1 << 30;

/// DHCSR status in words: `halted`, `sleeping (S_SLEEP)`, …, with the raw value.
pub fn describe_dhcsr(v: u32) -> String {
    let mut w: Vec<&str> = Vec::new();
    if v & dhcsr::S_HALT != 0 {
        w.push("halted (S_HALT)");
    } else if v & dhcsr::S_LOCKUP != 0 {
        w.push("locked up (S_LOCKUP)");
    } else if v & dhcsr::S_SLEEP != 0 {
        w.push("sleeping (S_SLEEP)");
    } else {
        w.push("running");
    }
    if v & dhcsr::S_RESET_ST != 0 {
        w.push("reset since the last read (S_RESET_ST)");
    }
    if v & dhcsr::C_DEBUGEN == 0 {
        w.push("debug disabled (C_DEBUGEN 0)");
    }
    format!("{} (DHCSR {v:#010x})", w.join(", "))
}

/// The set DBGMCU_CR bits by name, or `none`.
pub fn dbgmcu_bits(v: u32) -> String {
    let names = [
        (dbgmcu::SLEEP, "DBG_SLEEP"),
        (dbgmcu::STOP, "DBG_STOP"),
        (dbgmcu::STANDBY, "DBG_STANDBY"),
        (dbgmcu::IWDG_STOP, "DBG_IWDG_STOP"),
        (dbgmcu::WWDG_STOP, "DBG_WWDG_STOP"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(b, _)| v & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if set.is_empty() {
        "none".into()
    } else {
        set.join(" ")
    }
}

/// The reset flags set in RCC_CSR, by name.
pub fn reset_flags(csr: u32) -> Vec<&'static str> {
    [
        (1u32 << 26, "PINRSTF (NRST pin)"),
        (1 << 27, "PORRSTF (power-on)"),
        (1 << 28, "SFTRSTF (software, SYSRESETREQ)"),
        (IWDGRSTF, "IWDGRSTF (independent watchdog)"),
        (WWDGRSTF, "WWDGRSTF (window watchdog)"),
        (1 << 31, "LPWRRSTF (low-power)"),
    ]
    .iter()
    .filter(|(b, _)| csr & b != 0)
    .map(|(_, n)| *n)
    .collect()
}

/// WRPR in words: `none` or the protected 4-page groups (F1 medium density: bit n = pages 4n..4n+3).
pub fn describe_wrpr(wrpr: u32) -> String {
    let prot: Vec<String> = (0..32)
        .filter(|b| wrpr & (1 << b) == 0)
        .map(|b| format!("{}-{}", b * 4, b * 4 + 3))
        .collect();
    if prot.is_empty() {
        "no page write-protected".into()
    } else {
        format!("pages {} write-protected", prot.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            dbgmcu_bits(0x307),
            "DBG_SLEEP DBG_STOP DBG_STANDBY DBG_IWDG_STOP DBG_WWDG_STOP"
        );
        assert_eq!(dbgmcu_bits(0), "none");
        assert!(describe_dhcsr(0x0204_0001).starts_with("sleeping (S_SLEEP), reset since"));
        assert_eq!(
            reset_flags(IWDGRSTF | (1 << 26)),
            vec!["PINRSTF (NRST pin)", "IWDGRSTF (independent watchdog)"]
        );
        assert_eq!(describe_wrpr(0xFFFF_FFFE), "pages 0-3 write-protected");
    }
}
