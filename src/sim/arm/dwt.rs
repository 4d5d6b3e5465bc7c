//! Data watchpoint and trace unit (ARMv7-M ARM §C1.8) at 0xE000_1000, as on
//! the Cortex-M3/M4: DWT_CTRL with NUMCOMP = 4, the profiling counters (read
//! as 0), PCSR, and COMP/MASK/FUNCTION 0–3. CYCCNT and CTRL.CYCCNTENA are the
//! processor model's (the firmware's delay loops read them there); the
//! debugger's view combines both (`bus.rs`, `Chip::dwt_read`).
//!
//! FUNCTION 0b0100 (instruction address) halts before the instruction,
//! 0b0101/0b0110/0b0111 (data read/write/access) halt after the instruction
//! that made the access (watchpoints are imprecise, §C1.8.5); both set
//! FUNCTION.MATCHED (cleared on read) and DFSR.DWTTRAP. The comparators only
//! act while DEMCR.TRCENA is set. Data-value matching, linked comparators
//! and the ITM/ETM trace functions are stored but have no effect.

use super::romtable::{DWT_ID, id_register};

pub(crate) const NUM_COMP: usize = 4;
/// Largest MASK value the Cortex-M3 implements (read back after writing 0x1F).
const MAX_MASK: u32 = 0x1F;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Dwt {
    /// DWT_CTRL as written (CYCCNTENA lives in the processor model).
    pub ctrl: u32,
    pub comp: [u32; NUM_COMP],
    pub mask: [u32; NUM_COMP],
    pub function: [u32; NUM_COMP],
    /// TRCENA mirrored from DEMCR.
    trcena: bool,
    /// Some data-address comparator is armed (fast path for the bus).
    pub data_armed: bool,
    /// Some PC comparator is armed.
    pub pc_armed: bool,
    /// A data watchpoint matched during the current instruction.
    pub pending_trap: bool,
}

impl Dwt {
    pub(crate) fn after_power_on() -> Dwt {
        Dwt {
            ctrl: 0x4000_0000,
            ..Default::default()
        }
    }

    pub(crate) fn set_trcena(&mut self, on: bool) {
        self.trcena = on;
        self.recompute();
    }

    /// Debugger read at `off`; CTRL (0x000) and CYCCNT (0x004) are combined
    /// with the processor's by the caller.
    pub(crate) fn read(&mut self, off: u32, pc: u32) -> u32 {
        if let Some(v) = id_register(&DWT_ID, off) {
            return v;
        }
        match off {
            0x000 => self.ctrl,
            0x008..=0x018 => 0,
            0x01C => pc,
            0x020..=0x05C => {
                let n = ((off - 0x20) / 16) as usize;
                match off & 0xC {
                    0x0 => self.comp[n],
                    0x4 => self.mask[n],
                    0x8 => {
                        let v = self.function[n];
                        self.function[n] &= !(1 << 24); // MATCHED clears on read
                        v
                    }
                    _ => 0,
                }
            }
            _ => 0,
        }
    }

    /// Debugger write at `off` (CYCCNT is the processor's).
    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x000 => {
                self.ctrl = 0x4000_0000 | (v & 0x0000_1FFF) | (v & 0x003F_0000);
            }
            0x020..=0x05C => {
                let n = ((off - 0x20) / 16) as usize;
                match off & 0xC {
                    0x0 => self.comp[n] = v,
                    0x4 => self.mask[n] = (v & 0x1F).min(MAX_MASK),
                    0x8 => {
                        // FUNCTION, DATAVMATCH(1 only), CYCMATCH(0 only), EMITRANGE, LNK1ENA RO, DATAVSIZE, DATAVADDRx
                        let mut w = v & 0x000F_0D2F;
                        if n != 1 {
                            w &= !(1 << 8);
                        }
                        if n != 0 {
                            w &= !(1 << 7);
                        }
                        self.function[n] = (self.function[n] & (1 << 24)) | w | (1 << 9);
                    }
                    _ => {}
                }
                self.recompute();
            }
            _ => {}
        }
    }

    fn recompute(&mut self) {
        let f = |i: usize| self.function[i] & 0xF;
        self.data_armed = self.trcena && (0..NUM_COMP).any(|i| matches!(f(i), 5..=7));
        self.pc_armed = self.trcena && (0..NUM_COMP).any(|i| f(i) == 4);
    }

    fn range(&self, n: usize) -> (u64, u64) {
        let m = self.mask[n];
        let base = (self.comp[n] as u64) & !((1u64 << m) - 1);
        (base, base + (1u64 << m))
    }

    /// A data access by the core; records MATCHED and a pending trap.
    #[inline]
    pub(crate) fn data_access(&mut self, addr: u32, len: u32, kind: Access) {
        let a = addr as u64;
        let b = a + len as u64;
        for n in 0..NUM_COMP {
            let hit_kind = match self.function[n] & 0xF {
                5 => kind == Access::Read,
                6 => kind == Access::Write,
                7 => true,
                _ => false,
            };
            if !hit_kind {
                continue;
            }
            let (s, e) = self.range(n);
            if a < e && s < b {
                self.function[n] |= 1 << 24;
                self.pending_trap = true;
            }
        }
    }

    /// Instruction-address comparators: true when `pc` matches (sets MATCHED).
    pub(crate) fn pc_match(&mut self, pc: u32) -> bool {
        let mut hit = false;
        for n in 0..NUM_COMP {
            if self.function[n] & 0xF == 4 {
                let (s, e) = self.range(n);
                if (pc as u64) >= s && (pc as u64) < e {
                    self.function[n] |= 1 << 24;
                    hit = true;
                }
            }
        }
        hit
    }
}
