//! Flash patch and breakpoint unit (ARMv7-M ARM §C1.11) at 0xE000_2000:
//! FP_CTRL, FP_REMAP, FP_COMPn.
//!
//! - FPBv1 (FP_CTRL.REV = 0; Cortex-M3, Cortex-M4): 6 code + 2 literal
//!   comparators. An enabled code comparator with REPLACE = 01/10/11 matches
//!   the lower/upper/both half-words of its word, in the code region
//!   0x0000_0000–0x1FFF_FFFF only. Remapping (REPLACE = 00 and the literal
//!   comparators) is not modelled: those comparators are stored only.
//! - FPBv2 (FP_CTRL.REV = 1; Cortex-M7, Cortex-M7 TRM §3.4): 8 breakpoint
//!   comparators, no literal comparators, no remap (FP_REMAP.RMPSPT = 0).
//!   FP_COMPn holds BPADDR[31:1] and BE (bit 0) and matches the half-word at
//!   BPADDR anywhere in the address space.
//!
//! A match halts the core before the instruction with DFSR.BKPT (when halting
//! debug is enabled).

use super::core::CoreKind;
use super::romtable::{FPB_ID, FPB_M7_ID, id_register};

/// Most comparators of any version (FPBv2's 8).
const MAX_COMP: usize = 8;

#[derive(Debug, Clone)]
pub(crate) struct Fpb {
    /// FPBv2 (Cortex-M7) rather than FPBv1.
    v2: bool,
    pub enable: bool,
    pub remap: u32,
    pub comp: [u32; MAX_COMP],
    /// Half-word addresses that currently break (precomputed).
    bps: Vec<u32>,
}

impl Fpb {
    /// The FPB of `core` after a debug power-on reset (unit disabled).
    pub(crate) fn power_on(core: CoreKind) -> Fpb {
        Fpb {
            v2: core == CoreKind::CortexM7,
            enable: false,
            remap: 0,
            comp: [0; MAX_COMP],
            bps: Vec::new(),
        }
    }

    /// (code comparators, literal comparators).
    fn counts(&self) -> (usize, usize) {
        if self.v2 { (8, 0) } else { (6, 2) }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        let id = if self.v2 { &FPB_M7_ID } else { &FPB_ID };
        if let Some(v) = id_register(id, off) {
            return v;
        }
        let (code, lit) = self.counts();
        match off {
            0x000 => {
                let rev = if self.v2 { 1u32 << 28 } else { 0 };
                rev | (((code as u32) >> 4) << 12)
                    | ((lit as u32) << 8)
                    | (((code as u32) & 0xF) << 4)
                    | self.enable as u32
            }
            0x004 if self.v2 => 0, // RMPSPT = 0: no remap
            0x004 => (1 << 29) | (self.remap & 0x1FFF_FFE0), // RMPSPT = 1
            0x008..=0x024 if (((off - 8) / 4) as usize) < code + lit => {
                self.comp[((off - 8) / 4) as usize]
            }
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        let (code, lit) = self.counts();
        match off {
            0x000 => {
                if v & 2 != 0 {
                    self.enable = v & 1 != 0; // KEY must be written as 1
                }
            }
            0x004 if self.v2 => return,
            0x004 => self.remap = v & 0x1FFF_FFE0,
            0x008..=0x024 if (((off - 8) / 4) as usize) < code + lit => {
                let mask = if self.v2 { 0xFFFF_FFFF } else { 0xDFFF_FFFD };
                self.comp[((off - 8) / 4) as usize] = v & mask;
            }
            _ => return,
        }
        self.recompute();
    }

    fn recompute(&mut self) {
        self.bps.clear();
        if !self.enable {
            return;
        }
        let (code, _) = self.counts();
        for &c in &self.comp[..code] {
            if c & 1 == 0 {
                continue;
            }
            if self.v2 {
                self.bps.push(c & !1);
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
    /// FPBv1 comparators only cover the code region 0x0000_0000–0x1FFF_FFFF.
    #[inline]
    pub(crate) fn breaks_at(&self, pc: u32) -> bool {
        !self.bps.is_empty() && (self.v2 || pc < 0x2000_0000) && self.bps.contains(&pc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fpb_v1_has_6_code_and_2_literal_comparators_in_the_code_region() {
        let mut f = Fpb::power_on(CoreKind::CortexM3);
        assert_eq!(f.read(0), 0x0000_0260);
        f.write(0, 3);
        f.write(8, 0x0800_0101 | (1 << 30)); // lower half-word of 0x08000100
        assert!(f.breaks_at(0x0800_0100));
        assert!(!f.breaks_at(0x0800_0102));
        assert_eq!(f.read(0x004) >> 29, 1);
    }

    #[test]
    fn fpb_v2_on_the_m7_has_8_comparators_anywhere() {
        let mut f = Fpb::power_on(CoreKind::CortexM7);
        assert_eq!(f.read(0), 0x1000_0080);
        f.write(0, 3);
        f.write(8 + 7 * 4, 0x2000_0102 | 1);
        assert!(f.breaks_at(0x2000_0102));
        assert_eq!(f.read(8 + 7 * 4), 0x2000_0103);
        assert_eq!(f.read(0x004), 0);
        assert_eq!(f.read(0xFE0), 0x0E);
    }
}
