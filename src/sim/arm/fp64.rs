//! The Cortex-M7's double-precision instructions, executed by the wrapper:
//! the processor model implements FPv5-SP only (`core.rs`), the STM32H7's
//! core has FPv5-D16 with double precision (MVFR0 = 0x1011_0221). The
//! arithmetic is `vfp64.rs`; this file is the architectural plumbing around
//! it, as ExecuteFPCheck does it (ARMv7-M ARM §B1.5.2, §A7.3): the CPACR
//! check (when access is denied the processor takes the instruction and
//! raises NOCP), the IT condition, the lazy preservation of the FP context
//! (FPCCR.LSPACT: S0–S15 and FPSCR written to FPCAR), CONTROL.FPCA
//! (FPCCR.ASPEN), the PC and ITSTATE advance.

use rsemu::cpu::arm::v7m::sys::{control, fpccr};

use super::super::chip::Chip;
use super::super::soc::Origin;
use super::core::Cpu;
use super::vfp64::{self, FpRegs};

/// Core cycles charged for a double-precision instruction (Cortex-M7 TRM
/// §3.3: most are single-issue; divide and square root are longer).
const CYCLES: u64 = 3;

/// The FP register file of the processor, as `vfp64` sees it.
struct Regs<'a>(&'a super::core::Core);

impl FpRegs for Regs<'_> {
    fn s(&self, n: u8) -> u32 {
        self.0.s(n)
    }
    fn set_s(&mut self, n: u8, v: u32) {
        self.0.set_s(n, v)
    }
    fn fpscr(&self) -> u32 {
        self.0.fpscr()
    }
    fn set_fpscr(&mut self, v: u32) {
        self.0.set_fpscr(v)
    }
}

/// ConditionPassed for condition `cond` and APSR.NZCV `nzcv` (§A7.3.1).
pub(crate) fn condition_passed(cond: u32, nzcv: u32) -> bool {
    let (n, z, c, v) = (nzcv & 8 != 0, nzcv & 4 != 0, nzcv & 2 != 0, nzcv & 1 != 0);
    let r = match cond >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => !z && n == v,
        _ => true,
    };
    if cond & 1 == 1 && cond != 0xF { !r } else { r }
}

/// ITSTATE from xPSR (IT[1:0] at bits 26:25, IT[7:2] at bits 15:10).
pub(crate) fn itstate(xpsr: u32) -> u32 {
    ((xpsr >> 25) & 3) | ((xpsr >> 8) & 0xFC)
}

/// xPSR with ITSTATE advanced by one instruction (ITAdvance, §A7.3.3).
pub(crate) fn it_advance(xpsr: u32) -> u32 {
    let it = itstate(xpsr);
    let next = if it & 7 == 0 {
        0
    } else {
        (it & 0xE0) | ((it << 1) & 0x1F)
    };
    (xpsr & !((3 << 25) | (0x3F << 10))) | ((next & 3) << 25) | ((next & 0xFC) << 8)
}

/// Executes the instruction at `pc` (first halfword `hw1`) if it is a
/// double-precision instruction the wrapper handles; returns its cycles.
pub(crate) fn execute_at(chip: &mut Chip, pc: u32, hw1: u16) -> Option<u64> {
    // Coprocessor data-processing space: 0xEE/0xEF (conditional), 0xFE/0xFF
    // (FPv5 unconditional).
    if hw1 & 0xEE00 != 0xEE00 {
        return None;
    }
    let hw2 = chip.port.debug_read(pc.wrapping_add(2), 2).ok()? as u16;
    let insn = vfp64::decode(hw1, hw2)?;
    let mut regs = chip.core.regs();
    let privileged = regs.xpsr & 0x1FF != 0 || regs.control & control::NPRIV == 0;
    if !chip.core.with_sys(|s| s.fp_enabled(privileged)) {
        return None; // the processor raises NOCP
    }
    let it = itstate(regs.xpsr);
    let pass = it & 0xF == 0 || insn.unconditional() || condition_passed(it >> 4, regs.xpsr >> 28);
    if pass {
        let (lspact, fpcar, aspen) = chip.core.with_sys(|s| {
            let l = s.fpccr & fpccr::LSPACT != 0;
            s.fpccr &= !fpccr::LSPACT;
            (l, s.fpcar, s.fpccr & fpccr::ASPEN != 0)
        });
        if lspact {
            // The deferred push of the exception frame's FP part.
            let c = chip.cycles();
            let mut b = chip.port.lock();
            let mut e = 0;
            for k in 0..16u32 {
                let v = chip.core.s(k as u8);
                let _ = b.write(fpcar.wrapping_add(4 * k), 4, v, Origin::Cpu, c, &mut e);
            }
            let v = chip.core.fpscr();
            let _ = b.write(fpcar.wrapping_add(0x40), 4, v, Origin::Cpu, c, &mut e);
        }
        if aspen {
            regs.control |= control::FPCA;
        }
        vfp64::execute(&insn, &mut Regs(&chip.core), regs.xpsr >> 28);
    }
    regs.r[15] = pc.wrapping_add(4);
    regs.xpsr = it_advance(regs.xpsr);
    chip.core.set_regs(&regs);
    Some(CYCLES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_state_advances_and_ends() {
        // ITTE EQ: firstcond 0000, mask 0b0110 → IT = 0x06 → 0x0C → 0x18 → 0
        // (three instructions).
        let x = (0x06 & 3) << 25 | (0x06 & 0xFC) << 8;
        let a = it_advance(x);
        assert_eq!(itstate(a), 0x0C);
        assert_eq!(itstate(it_advance(a)), 0x18);
        assert_eq!(itstate(it_advance(it_advance(a))), 0);
        assert!(condition_passed(0, 0b0100));
        assert!(!condition_passed(1, 0b0100));
        assert!(condition_passed(0xE, 0));
    }
}
