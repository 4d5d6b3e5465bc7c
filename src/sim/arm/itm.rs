//! Instrumentation trace macrocell (ARMv7-M ARM §C1.7) at 0xE000_0000 and the
//! TPIU (§C1.10) at 0xE004_0000: registers only, no trace output. Stimulus
//! ports always read 1 (FIFO ready) and discard writes.

use super::romtable::{ITM_ID, TPIU_ID, id_register};

#[derive(Debug, Clone, Default)]
pub(crate) struct Itm {
    pub ter: u32,
    pub tpr: u32,
    pub tcr: u32,
    pub unlocked: bool,
    pub tpiu_acpr: u32,
    pub tpiu_sppr: u32,
    pub tpiu_ffcr: u32,
}

impl Itm {
    pub(crate) fn read(&self, off: u32) -> u32 {
        if let Some(v) = id_register(&ITM_ID, off) {
            return v;
        }
        match off {
            0x000..=0x07C => 1,
            0xE00 => self.ter,
            0xE40 => self.tpr,
            0xE80 => self.tcr,
            0xFB4 => {
                if self.unlocked {
                    0x1
                } else {
                    0x3
                }
            } // LSR: lock implemented, locked
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0xFB0 => self.unlocked = v == 0xC5AC_CE55,
            0xE00 if self.unlocked => self.ter = v,
            0xE40 if self.unlocked => self.tpr = v & 0xF,
            0xE80 if self.unlocked => self.tcr = v & 0x00FF_FF3F,
            _ => {}
        }
    }

    pub(crate) fn tpiu_read(&self, off: u32) -> u32 {
        if let Some(v) = id_register(&TPIU_ID, off) {
            return v;
        }
        match off {
            0x000 => 0xF, // SSPSR: port sizes 1..4
            0x004 => 1,   // CSPSR
            0x010 => self.tpiu_acpr,
            0x0F0 => self.tpiu_sppr,
            0x304 => self.tpiu_ffcr,
            0xFC8 => 0xCA0, // DEVID: NRZ + Manchester, no ETM
            _ => 0,
        }
    }

    pub(crate) fn tpiu_write(&mut self, off: u32, v: u32) {
        match off {
            0x010 => self.tpiu_acpr = v & 0x1FFF,
            0x0F0 => self.tpiu_sppr = v & 3,
            0x304 => self.tpiu_ffcr = v & 0x102,
            _ => {}
        }
    }
}
