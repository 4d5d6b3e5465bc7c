//! Alternate-function I/O (RM0008 §9.4): EVCR, MAPR (with the write-only
//! SWJ_CFG field, stored but read as 0), EXTICR1–4, MAPR2.

#[derive(Debug, Clone, Default)]
pub(crate) struct Afio {
    pub evcr: u32,
    pub mapr: u32,
    /// MAPR.SWJ_CFG[2:0] as last written (RM0008 §9.4.2): 0b000 full SWJ,
    /// 0b001 no NJTRST, 0b010 SW-DP only, 0b100 JTAG-DP and SW-DP disabled.
    pub swj_cfg: u8,
    pub exticr: [u32; 4],
    pub mapr2: u32,
}

impl Afio {
    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => self.evcr,
            0x04 => self.mapr, // SWJ_CFG reads back as 0
            0x08..=0x14 => self.exticr[((off - 8) / 4) as usize],
            0x1C => self.mapr2,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x00 => self.evcr = v & 0xFF,
            0x04 => {
                self.swj_cfg = ((v >> 24) & 7) as u8;
                self.mapr = v & 0x001F_FFFF;
            }
            0x08..=0x14 => self.exticr[((off - 8) / 4) as usize] = v & 0xFFFF,
            0x1C => self.mapr2 = v & 0x7E0,
            _ => {}
        }
    }
}
