//! Power control PWR_CR / PWR_CSR (RM0008 §5.4). Registers only: low-power
//! modes beyond sleep (WFI/WFE with SLEEPDEEP) are not modelled.

#[derive(Debug, Clone, Default)]
pub(crate) struct Pwr {
    pub cr: u32,
    pub csr: u32,
}

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
                // CWUF (bit 2) / CSBF (bit 3) clear flags and read as 0.
                if v & 4 != 0 {
                    self.csr &= !1;
                }
                if v & 8 != 0 {
                    self.csr &= !2;
                }
                self.cr = v & 0x1F3;
            }
            4 => self.csr = (self.csr & 3) | (v & 0x100),
            _ => {}
        }
    }
}
