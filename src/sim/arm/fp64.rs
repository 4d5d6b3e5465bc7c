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

/// The FP register file of the processor and a copy of its core registers
/// (written back after the instruction), as `vfp64` sees them.
struct Regs<'a> {
    core: &'a super::core::Core,
    regs: &'a mut rsemu::cpu::arm::v7m::Regs,
}

impl FpRegs for Regs<'_> {
    fn s(&self, n: u8) -> u32 {
        self.core.s(n)
    }
    fn set_s(&mut self, n: u8, v: u32) {
        self.core.set_s(n, v)
    }
    fn fpscr(&self) -> u32 {
        self.core.fpscr()
    }
    fn set_fpscr(&mut self, v: u32) {
        self.core.set_fpscr(v)
    }
    fn r(&self, n: u8) -> u32 {
        self.regs.r[(n & 15) as usize]
    }
    fn set_r(&mut self, n: u8, v: u32) {
        self.regs.r[(n & 15) as usize] = v;
    }
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
    let pass = insn.unconditional() || vfp64::it_condition_passed(regs.xpsr);
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
        let apsr = regs.xpsr;
        let core = &chip.core;
        vfp64::execute(
            &insn,
            &mut Regs {
                core,
                regs: &mut regs,
            },
            apsr,
        );
    }
    regs.r[15] = pc.wrapping_add(4);
    regs.xpsr = vfp64::it_advance(regs.xpsr);
    chip.core.set_regs(&regs);
    Some(CYCLES)
}
