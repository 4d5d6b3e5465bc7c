//! Power control of the STM32F303 (RM0316 §6.4): PWR_CR 0x00 (LPDS 0, PDDS 1,
//! CWUF 2 and CSBF 3 (write 1 to clear WUF/SBF, read 0), PVDE 4, PLS 7:5, DBP
//! 8), PWR_CSR 0x04 (WUF 0, SBF 1, PVDO 2 read-only; EWUP1..3 bits 8..10).
//! Both reset to 0 (SBF/WUF survive a system reset, the SoC keeps them).
//! Sleep/Stop/Standby entry is the SoC's (`mod.rs`): deep sleep is Standby
//! with PDDS, else Stop (LPDS only selects the regulator mode). No PVD (PVDO
//! stays 0), no wake-up pins.

#[derive(Debug, Clone, Default)]
pub(crate) struct Pwr {
    pub cr: u32,
    pub csr: u32,
}

/// PWR_CR.PDDS and DBP.
pub(crate) const PDDS: u32 = 1 << 1;
pub(crate) const DBP: u32 = 1 << 8;
/// PWR_CSR.SBF.
pub(crate) const SBF: u32 = 1 << 1;

impl Pwr {
    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0 => self.cr,
            4 => self.csr,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0 => {
                if v & 4 != 0 {
                    self.csr &= !1;
                }
                if v & 8 != 0 {
                    self.csr &= !SBF;
                }
                self.cr = v & 0x1F3;
            }
            4 => self.csr = (self.csr & 3) | (v & 0x700),
            _ => {}
        }
    }
}
