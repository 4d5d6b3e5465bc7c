//! Power control of the L4 (RM0351 §5.4) and G4 (RM0440 §6.4) at
//! 0x4000_7000: CR1 (LPMS[2:0]: 000 Stop 0, 001 Stop 1, 010 Stop 2 (L4),
//! 011 Standby, 1xx Shutdown; DBP 8; VOS[10:9]), CR2, CR3, CR4, SR1 (SBF
//! bit 8 after Standby, WUFx), SR2 (VOSF reads 0: voltage scaling is
//! instant), SCR (CSBF clears SBF, CWUFx), the pull-up/down registers
//! (stored) and on the G4 CR5 (R1MODE bit 8, reset 1: the Range 1 boost
//! mode for 170 MHz is off, RM0440 §6.4.18; stored, HCLK is not limited).

#[derive(Debug, Clone)]
pub(crate) struct Pwr {
    pub cr1: u32,
    regs: [u32; 0x24],
    pub sr1: u32,
}

/// The low-power mode CR1.LPMS selects for deep sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lpms {
    Stop,
    Standby,
    Shutdown,
}

impl Pwr {
    pub(crate) fn after_reset(g4: bool) -> Pwr {
        let mut regs = [0u32; 0x24];
        regs[0x08 / 4] = 1 << 15; // CR3.EIWUL/EIWF
        if g4 {
            regs[0x80 / 4] = 1 << 8; // CR5.R1MODE
        }
        Pwr {
            cr1: 0x0000_0200, // VOS = Range 1
            regs,
            sr1: 0,
        }
    }

    pub(crate) fn lpms(&self) -> Lpms {
        match self.cr1 & 7 {
            0..=2 => Lpms::Stop,
            3 => Lpms::Standby,
            _ => Lpms::Shutdown,
        }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => self.cr1,
            0x10 => self.sr1,
            0x14 | 0x18 => 0, // SR2: VOSF/REGLPF 0; SCR write-only
            o if (o as usize) < 0x24 * 4 => self.regs[o as usize / 4],
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x00 => self.cr1 = v & 0x0000_4707,
            0x10 | 0x14 => {}
            0x18 => self.sr1 &= !(v & 0x11F), // CSBF, CWUF1..5
            o if (o as usize) < 0x24 * 4 => self.regs[o as usize / 4] = v,
            _ => {}
        }
    }
}
