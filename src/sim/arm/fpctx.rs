//! The FP context at exception entry, as the architecture has it (ARMv7-M
//! ARM §B1.5.7, ExecuteFPCheck in §B1.5.2 and PreserveFPState in §B1.5.7),
//! where the processor model differs.
//!
//! rsemu 0.0.7 loads all of FPSCR from FPDSCR *at exception entry*. The
//! architecture leaves FPSCR alone at entry (the interrupted code's value is
//! what lazy state preservation must save) and loads only FPSCR[26:22] (AHP,
//! DN, FZ, RMode) from FPDSCR when the handler executes its first FP
//! instruction. Left alone, every interrupt would replace the interrupted
//! code's FPSCR (its NZCV between a VCMP and a VMRS, its rounding mode, its
//! cumulative flags) by FPDSCR's.
//!
//! The run loop (`run.rs`) therefore, on a core with an FPU: remembers FPSCR
//! before each step; when a step was an exception entry (the vector was read),
//! puts it back and owes the handler the FPDSCR load; before the next FP
//! instruction with CONTROL.FPCA = 0, performs the lazy preservation itself
//! (S0–S15 and the *interrupted* FPSCR to FPCAR, FPCCR.LSPACT cleared) and
//! then loads FPSCR[26:22] from FPDSCR, so that the processor model finds
//! nothing left to preserve.

use rsemu::cpu::arm::v7m::sys::{control, fpccr};

use super::super::chip::Chip;
use super::super::soc::Origin;
use super::core::Cpu;

/// FPSCR bits loaded from FPDSCR for a new FP context (AHP, DN, FZ, RMode).
const FPDSCR_BITS: u32 = 0x1F << 22;

/// Whether the 32-bit encoding (`hw1`, `hw2`) is in coprocessor 10/11 space
/// (every FP instruction, VMRS/VMSR and the transfers included, §A6.4).
pub(crate) fn is_fp(hw1: u16, hw2: u16) -> bool {
    matches!(hw1 >> 8, 0xEC..=0xEF | 0xFC..=0xFF) && (hw2 >> 9) & 7 == 5
}

impl Chip {
    /// After a step that read an exception vector: if it was an exception
    /// entry, puts back the FPSCR the interrupted code had (`before`).
    pub(crate) fn fp_entry_fixup(&mut self, before: u32) {
        let regs = self.core.regs();
        let ipsr = regs.xpsr & 0x1FF;
        if ipsr == 0 {
            return;
        }
        let vtor = self.core.with_sys(|s| s.vtor);
        let entry = self.port.debug_read(vtor.wrapping_add(4 * ipsr), 4).ok();
        if entry.map(|v| v & !1) != Some(regs.r[15]) {
            return; // a read of the vector table, not an entry
        }
        self.core.set_fpscr(before);
        self.rl.fpdscr_owed = true;
    }

    /// Before an instruction while the FPDSCR load is owed: if it is an FP
    /// instruction of a new FP context, do what ExecuteFPCheck does first.
    pub(crate) fn fp_context_check(&mut self, pc: u32) {
        let Ok(hw1) = self.port.debug_read(pc, 2) else {
            return;
        };
        let Ok(hw2) = self.port.debug_read(pc.wrapping_add(2), 2) else {
            return;
        };
        if !is_fp(hw1 as u16, hw2 as u16) {
            return;
        }
        self.rl.fpdscr_owed = false;
        let regs = self.core.regs();
        let privileged = regs.xpsr & 0x1FF != 0 || regs.control & control::NPRIV == 0;
        let (fpca, enabled) = (
            regs.control & control::FPCA != 0,
            self.core.with_sys(|s| s.fp_enabled(privileged)),
        );
        if fpca || !enabled {
            return; // an existing context, or NOCP: nothing to do here
        }
        let (lspact, fpcar, aspen, fpdscr) = self.core.with_sys(|s| {
            let l = s.fpccr & fpccr::LSPACT != 0;
            s.fpccr &= !fpccr::LSPACT;
            (l, s.fpcar, s.fpccr & fpccr::ASPEN != 0, s.fpdscr)
        });
        if lspact {
            let c = self.cycles();
            let mut b = self.port.lock();
            let mut e = 0;
            for k in 0..16u32 {
                let v = self.core.s(k as u8);
                let _ = b.write(fpcar.wrapping_add(4 * k), 4, v, Origin::Cpu, c, &mut e);
            }
            let v = self.core.fpscr();
            let _ = b.write(fpcar.wrapping_add(0x40), 4, v, Origin::Cpu, c, &mut e);
        }
        if aspen {
            let f = self.core.fpscr();
            self.core
                .set_fpscr((f & !FPDSCR_BITS) | (fpdscr & FPDSCR_BITS));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fp_space() {
        // vadd.f32 s0, s0, s1 = EE30 0A20; vmrs APSR_nzcv, fpscr = EEF1 FA10;
        // vldr d0 = ED9F 0B00; vsel (FE..) = FE00 0A00; mcr p15 (not FP) = EE00 0F10.
        assert!(super::is_fp(0xEE30, 0x0A20));
        assert!(super::is_fp(0xEEF1, 0xFA10));
        assert!(super::is_fp(0xED9F, 0x0B00));
        assert!(super::is_fp(0xFE00, 0x0A00));
        assert!(!super::is_fp(0xEE00, 0x0F10));
        assert!(!super::is_fp(0xF000, 0xF800));
    }
}
