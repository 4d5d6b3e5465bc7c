//! Power control of the STM32H743 (RM0433 §6) at 0x5802_4800, minimal:
//!
//! * PWR_CR1 0x00 (reset 0xF000_C000), PWR_CR2 0x08, PWR_CR3 0x0C (reset
//!   0x0000_0006: SCUEN, LDOEN) stored;
//! * PWR_CSR1 0x04 (§6.8.3): ACTVOSRDY (bit 13) = 1, ACTVOS [15:14] = the
//!   voltage scale of PWR_D3CR.VOS;
//! * PWR_D3CR 0x18 (§6.8.7): VOS [15:14] (reset 0b01, Scale 3), VOSRDY
//!   (bit 13) reads 1 at once;
//! * PWR_CPUCR 0x10 (§6.8.5): PDDS_D1 (bit 0), PDDS_D2 (1), PDDS_D3 (2)
//!   select, at a deep sleep (SCB_SCR.SLEEPDEEP), Standby when all three are
//!   set (the system enters Standby only when every domain may, §6.6.1),
//!   else Stop; STOPF (5) and SBF (6) say what the last low-power mode was,
//!   CSSF (9) clears them.
//!
//! Not modelled: the SMPS/LDO supply configuration (any value is accepted),
//! voltage scaling timing, the D2 domain's own DStop/DStandby, wake-up pins,
//! the backup regulator.

/// PWR_CPUCR bits (§6.8.5).
const PDDS_ALL: u32 = 0b111;
const STOPF: u32 = 1 << 5;
const SBF: u32 = 1 << 6;
const CSSF: u32 = 1 << 9;
const ACTVOSRDY: u32 = 1 << 13;
const VOSRDY: u32 = 1 << 13;

#[derive(Debug, Clone)]
pub(crate) struct Pwr {
    cr1: u32,
    cr2: u32,
    cr3: u32,
    cpucr: u32,
    d3cr: u32,
}

impl Pwr {
    pub(crate) fn after_reset() -> Pwr {
        Pwr {
            cr1: 0xF000_C000,
            cr2: 0,
            cr3: 0x0000_0006,
            cpucr: 0,
            d3cr: 0x0000_4000,
        }
    }

    /// A deep sleep now enters Standby (`true`) or Stop.
    pub(crate) fn standby_selected(&self) -> bool {
        self.cpucr & PDDS_ALL == PDDS_ALL
    }

    /// Records the low-power mode left (STOPF or SBF).
    pub(crate) fn note_low_power(&mut self, standby: bool) {
        self.cpucr |= if standby { SBF } else { STOPF };
    }

    /// After a system reset: the flags survive it (`cpucr` of before).
    pub(crate) fn keep_flags(&mut self, before: &Pwr) {
        self.cpucr |= before.cpucr & (STOPF | SBF);
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => self.cr1,
            0x04 => (self.d3cr & 0xC000) | ACTVOSRDY,
            0x08 => self.cr2,
            0x0C => self.cr3,
            0x10 => self.cpucr,
            0x18 => self.d3cr | VOSRDY,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x00 => self.cr1 = v,
            0x08 => self.cr2 = v,
            0x0C => self.cr3 = v,
            0x10 => {
                let flags = if v & CSSF != 0 {
                    0
                } else {
                    self.cpucr & (STOPF | SBF)
                };
                self.cpucr = (v & 0x0807) | flags;
            }
            0x18 => self.d3cr = v & 0xC000,
            _ => {}
        }
    }
}
