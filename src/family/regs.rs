//! Per series: where DBGMCU_CR and the watchdog-freeze bits are, where the reset flags are, with
//! the reference manuals' register and bit names, and how the SWD pins get lost.
//!
//! - STM32F1: DBGMCU_CR 0xE004_2004 with DBG_IWDG_STOP/DBG_WWDG_STOP in it (RM0008 §31.16.3);
//!   RCC_CSR 0x4002_1024 (RM0008 §7.3.10); SWD pins through AFIO_MAPR.SWJ_CFG (§9.4.2).
//! - STM32F3: DBGMCU_CR (low-power bits only) and DBGMCU_APB1_FZ 0xE004_2008 with
//!   DBG_WWDG_STOP bit 11 / DBG_IWDG_STOP bit 12 (RM0316 §33.16.3-4); RCC_CSR 0x4002_1024
//!   (§9.4.10); SWD pins PA13/PA14 through GPIOA_MODER (§11.4.1).
//! - STM32G4/L4: DBGMCU_CR and DBGMCU_APB1FZR1 0xE004_2008, same bits (RM0440 §47.6.4-5, RM0351
//!   §48.6.3-4); RCC_CSR 0x4002_1094 (RM0440 §7.4.29, RM0351 §6.4.29); PA13/PA14 MODER.
//! - STM32H7: DBGMCU at 0x5C00_1000 (CPU view): CR +0x04, APB4FZ1 +0x54 with DBG_IWDG1 bit 18
//!   (RM0433 §60.5.8); RCC_RSR 0x5802_44D0 (§8.7.39).

/// DBGMCU of one series.
#[derive(Debug)]
pub struct DebugRegs {
    /// DBGMCU_CR address.
    pub cr: u64,
    /// Its bits by name (DBG_SLEEP, DBG_STOP, DBG_STANDBY, and on F1 the watchdog bits).
    pub cr_bits: &'static [(u32, &'static str)],
    /// DBG_STOP | DBG_STANDBY: the debug port stays up in Stop/Standby.
    pub lowpower: u32,
    /// The register holding the watchdog-freeze bits (DBGMCU_CR itself on F1).
    pub freeze: u64,
    /// Its name, e.g. `DBGMCU_APB1FZR1`.
    pub freeze_name: &'static str,
    /// DBG_IWDG_STOP in [`Self::freeze`].
    pub iwdg_stop: u32,
    /// DBG_WWDG_STOP in [`Self::freeze`] (0 where it lives elsewhere: H7).
    pub wwdg_stop: u32,
    /// The examine-end handler's writes of the series' target script, as commands.
    pub examine_end: &'static str,
    /// What firmware changes to turn the SWD pins off.
    pub swd_pins: &'static str,
    /// How to keep them.
    pub swd_keep: &'static str,
    /// Where read-out protection level 2 is set, on the series that have it: it keeps the debug
    /// port off from reset on, for good ("Read protection" in the flash chapters of RM0316,
    /// RM0440, RM0351 and RM0433). `None` on the F1, which has one level only (PM0075).
    pub rdp2: Option<&'static str>,
    /// DBGMCU_CR on the system debug bus where the chip has one: (access port, address), read
    /// there in preference to [`DebugRegs::cr`] because it answers without the CPU's bus (the
    /// H7's APB-D through AP2, RM0433 §60.4); `None` elsewhere.
    pub cr_debug_ap: Option<(u8, u64)>,
}

/// The reset-flag register of one series.
#[derive(Debug)]
pub struct ResetRegs {
    /// Address.
    pub csr: u64,
    /// Name, `RCC_CSR` (`RCC_RSR` on H7).
    pub name: &'static str,
    /// Flags by bit, lowest first, with their meaning.
    pub flags: &'static [(u32, &'static str)],
    /// The independent-watchdog reset flag.
    pub iwdg: u32,
    /// The window-watchdog reset flag.
    pub wwdg: u32,
}

const CR_LP: &[(u32, &str)] = &[
    (1 << 0, "DBG_SLEEP"),
    (1 << 1, "DBG_STOP"),
    (1 << 2, "DBG_STANDBY"),
];

/// STM32F1 DBGMCU (RM0008 §31.16.3).
pub static F1_DEBUG: DebugRegs = DebugRegs {
    cr: 0xE004_2004,
    cr_bits: &[
        (1 << 0, "DBG_SLEEP"),
        (1 << 1, "DBG_STOP"),
        (1 << 2, "DBG_STANDBY"),
        (1 << 8, "DBG_IWDG_STOP"),
        (1 << 9, "DBG_WWDG_STOP"),
    ],
    lowpower: 0b110,
    freeze: 0xE004_2004,
    freeze_name: "DBGMCU_CR",
    iwdg_stop: 1 << 8,
    wwdg_stop: 1 << 9,
    examine_end: "mmw 0xE0042004 0x307 0",
    swd_pins: "AFIO_MAPR.SWJ_CFG",
    swd_keep: "keep SWJ_CFG at 0b000/0b010",
    rdp2: None,
    cr_debug_ap: None,
};

/// STM32F3 DBGMCU (RM0316 §33.16.3-4).
pub static F3_DEBUG: DebugRegs = DebugRegs {
    cr: 0xE004_2004,
    cr_bits: CR_LP,
    lowpower: 0b110,
    freeze: 0xE004_2008,
    freeze_name: "DBGMCU_APB1_FZ",
    iwdg_stop: 1 << 12,
    wwdg_stop: 1 << 11,
    examine_end: "mmw 0xE0042004 0x7 0; mmw 0xE0042008 0x1800 0",
    swd_pins: "GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode)",
    swd_keep: "keep PA13/PA14 in alternate-function mode (GPIOA_MODER = 0b10)",
    rdp2: Some("RDP option byte 0xCC, FLASH_OBR.RDPRT = 0b11"),
    cr_debug_ap: None,
};

/// STM32G4/L4 DBGMCU (RM0440 §47.6.4-5, RM0351 §48.6.3-4).
pub static L4_DEBUG: DebugRegs = DebugRegs {
    cr: 0xE004_2004,
    cr_bits: CR_LP,
    lowpower: 0b110,
    freeze: 0xE004_2008,
    freeze_name: "DBGMCU_APB1FZR1",
    iwdg_stop: 1 << 12,
    wwdg_stop: 1 << 11,
    examine_end: "mmw 0xE0042004 0x7 0; mmw 0xE0042008 0x1800 0",
    swd_pins: "GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode)",
    swd_keep: "keep PA13/PA14 in alternate-function mode (GPIOA_MODER = 0b10)",
    rdp2: Some("FLASH_OPTR.RDP = 0xCC"),
    cr_debug_ap: None,
};

/// STM32H7 DBGMCU as the CPU's AP sees it (RM0433 §60.5.8).
pub static H7_DEBUG: DebugRegs = DebugRegs {
    cr: 0x5C00_1004,
    cr_bits: &[
        (1 << 0, "DBGSLEEP_D1"),
        (1 << 1, "DBGSTOP_D1"),
        (1 << 2, "DBGSTBY_D1"),
        (1 << 21, "D1DBGCKEN"),
        (1 << 22, "D3DBGCKEN"),
    ],
    lowpower: 0b110,
    freeze: 0x5C00_1054,
    freeze_name: "DBGMCU_APB4FZ1",
    iwdg_stop: 1 << 18,
    wwdg_stop: 0,
    examine_end: "stm32h7x.ap2 mmw 0xE00E1004 0x00700007 0; stm32h7x.ap2 mmw 0xE00E1054 0x40000 0",
    swd_pins: "GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode)",
    swd_keep: "keep PA13/PA14 in alternate-function mode (GPIOA_MODER = 0b10)",
    rdp2: Some("FLASH_OPTSR_CUR.RDP = 0xCC"),
    cr_debug_ap: Some((2, 0xE00E_1004)),
};

/// STM32F1 RCC_CSR (RM0008 §7.3.10).
pub static F1_RESET: ResetRegs = ResetRegs {
    csr: 0x4002_1024,
    name: "RCC_CSR",
    flags: &[
        (1 << 26, "PINRSTF (NRST pin)"),
        (1 << 27, "PORRSTF (power-on)"),
        (1 << 28, "SFTRSTF (software, SYSRESETREQ)"),
        (1 << 29, "IWDGRSTF (independent watchdog)"),
        (1 << 30, "WWDGRSTF (window watchdog)"),
        (1 << 31, "LPWRRSTF (low-power)"),
    ],
    iwdg: 1 << 29,
    wwdg: 1 << 30,
};

/// STM32F3 RCC_CSR (RM0316 §9.4.10).
pub static F3_RESET: ResetRegs = ResetRegs {
    csr: 0x4002_1024,
    name: "RCC_CSR",
    flags: &[
        (1 << 23, "V18PWRRSTF (1.8 V domain reset)"),
        (1 << 25, "OBLRSTF (option-byte load)"),
        (1 << 26, "PINRSTF (NRST pin)"),
        (1 << 27, "PORRSTF (power-on)"),
        (1 << 28, "SFTRSTF (software, SYSRESETREQ)"),
        (1 << 29, "IWDGRSTF (independent watchdog)"),
        (1 << 30, "WWDGRSTF (window watchdog)"),
        (1 << 31, "LPWRRSTF (low-power)"),
    ],
    iwdg: 1 << 29,
    wwdg: 1 << 30,
};

/// STM32G4/L4 RCC_CSR (RM0440 §7.4.29, RM0351 §6.4.29).
pub static L4_RESET: ResetRegs = ResetRegs {
    csr: 0x4002_1094,
    name: "RCC_CSR",
    flags: &[
        (1 << 24, "FWRSTF (firewall)"),
        (1 << 25, "OBLRSTF (option-byte load)"),
        (1 << 26, "PINRSTF (NRST pin)"),
        (1 << 27, "BORRSTF (brown-out or power-on)"),
        (1 << 28, "SFTRSTF (software, SYSRESETREQ)"),
        (1 << 29, "IWDGRSTF (independent watchdog)"),
        (1 << 30, "WWDGRSTF (window watchdog)"),
        (1 << 31, "LPWRRSTF (low-power)"),
    ],
    iwdg: 1 << 29,
    wwdg: 1 << 30,
};

/// STM32H7 RCC_RSR (RM0433 §8.7.39).
pub static H7_RESET: ResetRegs = ResetRegs {
    csr: 0x5802_44D0,
    name: "RCC_RSR",
    flags: &[
        (1 << 17, "CPURSTF (CPU reset)"),
        (1 << 19, "D1RSTF (D1 domain power switch)"),
        (1 << 20, "D2RSTF (D2 domain power switch)"),
        (1 << 21, "BORRSTF (brown-out)"),
        (1 << 22, "PINRSTF (NRST pin)"),
        (1 << 23, "PORRSTF (power-on)"),
        (1 << 24, "SFTRSTF (software, SYSRESETREQ)"),
        (1 << 26, "IWDG1RSTF (independent watchdog)"),
        (1 << 28, "WWDG1RSTF (window watchdog)"),
        (1 << 30, "LPWRRSTF (low-power)"),
    ],
    iwdg: 1 << 26,
    wwdg: 1 << 28,
};

/// The DBGMCU of a series (`stm32f1x`, `stm32f3x`, …).
pub fn debug_of(series: &str) -> Option<&'static DebugRegs> {
    match series {
        "stm32f1x" => Some(&F1_DEBUG),
        "stm32f3x" => Some(&F3_DEBUG),
        "stm32g4x" | "stm32l4x" => Some(&L4_DEBUG),
        "stm32h7x" => Some(&H7_DEBUG),
        _ => None,
    }
}

/// The reset-flag register of a series.
pub fn reset_of(series: &str) -> Option<&'static ResetRegs> {
    match series {
        "stm32f1x" => Some(&F1_RESET),
        "stm32f3x" => Some(&F3_RESET),
        "stm32g4x" | "stm32l4x" => Some(&L4_RESET),
        "stm32h7x" => Some(&H7_RESET),
        _ => None,
    }
}

fn names(v: u32, bits: &[(u32, &'static str)]) -> Vec<&'static str> {
    bits.iter()
        .filter(|(b, _)| v & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

impl DebugRegs {
    /// The set DBGMCU_CR bits by name, or `none`.
    pub fn cr_words(&self, cr: u32) -> String {
        let set = names(cr, self.cr_bits);
        if set.is_empty() {
            "none".into()
        } else {
            set.join(" ")
        }
    }

    /// The names of the DBGMCU_CR bits that keep the debug port alive in Stop and Standby
    /// (`DBG_STOP/DBG_STANDBY`, on the H7 `DBGSTOP_D1/DBGSTBY_D1`).
    pub fn lowpower_names(&self) -> String {
        names(self.lowpower, self.cr_bits).join("/")
    }

    /// Whether the freeze bits live in DBGMCU_CR itself (F1).
    pub fn freeze_in_cr(&self) -> bool {
        self.freeze == self.cr
    }

    /// `DBGMCU_CR = 0x00000307 (DBG_SLEEP …)`, plus the freeze register where it is separate.
    pub fn describe(&self, cr: Option<u32>, fz: Option<u32>) -> String {
        let mut s = match cr {
            Some(v) => format!("DBGMCU_CR = {v:#010x} ({})", self.cr_words(v)),
            None => "DBGMCU_CR unreadable".into(),
        };
        if !self.freeze_in_cr() {
            match fz {
                Some(v) => {
                    let mut set = Vec::new();
                    if v & self.iwdg_stop != 0 {
                        set.push("DBG_IWDG_STOP");
                    }
                    if self.wwdg_stop != 0 && v & self.wwdg_stop != 0 {
                        set.push("DBG_WWDG_STOP");
                    }
                    let w = if set.is_empty() {
                        "no watchdog frozen".to_string()
                    } else {
                        set.join(" ")
                    };
                    s.push_str(&format!(", {} = {v:#010x} ({w})", self.freeze_name));
                }
                None => s.push_str(&format!(", {} unreadable", self.freeze_name)),
            }
        }
        s
    }

    /// `DBG_IWDG_STOP (DBGMCU_CR bit 8)`-style name of a freeze bit.
    pub fn bit_name(&self, mask: u32) -> String {
        let name = if mask == self.iwdg_stop {
            "DBG_IWDG_STOP"
        } else {
            "DBG_WWDG_STOP"
        };
        format!(
            "{name} ({} bit {})",
            self.freeze_name,
            mask.trailing_zeros()
        )
    }
}

impl ResetRegs {
    /// The flags set in the register, by name.
    pub fn flags_set(&self, csr: u32) -> Vec<&'static str> {
        names(csr, self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_words_as_before() {
        assert_eq!(
            F1_DEBUG.cr_words(0x307),
            "DBG_SLEEP DBG_STOP DBG_STANDBY DBG_IWDG_STOP DBG_WWDG_STOP"
        );
        assert_eq!(F1_DEBUG.cr_words(0), "none");
        assert_eq!(
            F1_DEBUG.describe(Some(0x307), Some(0x307)),
            "DBGMCU_CR = 0x00000307 (DBG_SLEEP DBG_STOP DBG_STANDBY DBG_IWDG_STOP DBG_WWDG_STOP)"
        );
        assert_eq!(
            F1_RESET.flags_set((1 << 29) | (1 << 26)),
            vec!["PINRSTF (NRST pin)", "IWDGRSTF (independent watchdog)"]
        );
        assert_eq!(
            F1_DEBUG.bit_name(F1_DEBUG.iwdg_stop),
            "DBG_IWDG_STOP (DBGMCU_CR bit 8)"
        );
    }

    #[test]
    fn l4_freeze_register_is_separate() {
        assert_eq!(
            L4_DEBUG.bit_name(L4_DEBUG.iwdg_stop),
            "DBG_IWDG_STOP (DBGMCU_APB1FZR1 bit 12)"
        );
        assert_eq!(
            L4_DEBUG.describe(Some(0x7), Some(0x1000)),
            "DBGMCU_CR = 0x00000007 (DBG_SLEEP DBG_STOP DBG_STANDBY), DBGMCU_APB1FZR1 = 0x00001000 (DBG_IWDG_STOP)"
        );
        assert_eq!(L4_RESET.csr, 0x4002_1094);
        assert_eq!(
            L4_RESET.flags_set(1 << 29),
            vec!["IWDGRSTF (independent watchdog)"]
        );
        assert_eq!(
            F3_DEBUG.bit_name(1 << 11),
            "DBG_WWDG_STOP (DBGMCU_APB1_FZ bit 11)"
        );
    }
}
