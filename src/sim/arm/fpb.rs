//! Flash patch and breakpoint unit, FPBv1 (ARMv7-M ARM §C1.11) at 0xE000_2000:
//! FP_CTRL (6 code + 2 literal comparators), FP_REMAP, FP_COMP0–7. An enabled
//! code comparator with REPLACE = 01/10/11 matches the lower/upper/both
//! half-words of its word; a match halts the core before the instruction with
//! DFSR.BKPT (when halting debug is enabled). Remapping (REPLACE = 00 and the
//! literal comparators) is not modelled: those comparators are stored only.

use super::romtable::{FPB_ID, id_register};

pub(crate) const NUM_CODE: usize = 6;
pub(crate) const NUM_LIT: usize = 2;

#[derive(Debug, Clone, Default)]
pub(crate) struct Fpb {
    pub enable: bool,
    pub remap: u32,
    pub comp: [u32; NUM_CODE + NUM_LIT],
    /// Half-word addresses that currently break (precomputed).
    bps: Vec<u32>,
}

impl Fpb {
    pub(crate) fn read(&self, off: u32) -> u32 {
        if let Some(v) = id_register(&FPB_ID, off) {
            return v;
        }
        match off {
            0x000 => ((NUM_LIT as u32) << 8) | ((NUM_CODE as u32) << 4) | self.enable as u32,
            0x004 => (1 << 29) | (self.remap & 0x1FFF_FFE0), // RMPSPT = 1
            0x008..=0x024 => self.comp[((off - 8) / 4) as usize],
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x000 => {
                if v & 2 != 0 {
                    self.enable = v & 1 != 0; // KEY must be written as 1
                }
            }
            0x004 => self.remap = v & 0x1FFF_FFE0,
            0x008..=0x024 => self.comp[((off - 8) / 4) as usize] = v & 0xDFFF_FFFD,
            _ => return,
        }
        self.recompute();
    }

    fn recompute(&mut self) {
        self.bps.clear();
        if !self.enable {
            return;
        }
        for c in &self.comp[..NUM_CODE] {
            if c & 1 == 0 {
                continue;
            }
            let base = c & 0x1FFF_FFFC;
            match c >> 30 {
                1 => self.bps.push(base),
                2 => self.bps.push(base + 2),
                3 => {
                    self.bps.push(base);
                    self.bps.push(base + 2);
                }
                _ => {}
            }
        }
    }

    /// Some breakpoint comparator is enabled (and the unit is).
    pub(crate) fn enabled(&self) -> bool {
        !self.bps.is_empty()
    }

    /// True when an instruction fetched at `pc` hits a breakpoint comparator.
    /// Comparators only cover the code region 0x0000_0000–0x1FFF_FFFF.
    #[inline]
    pub(crate) fn breaks_at(&self, pc: u32) -> bool {
        !self.bps.is_empty() && pc < 0x2000_0000 && self.bps.contains(&pc)
    }
}
