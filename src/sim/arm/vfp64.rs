//! Double precision for the virtual Cortex-M7: the FPv5-D16 instructions that
//! rsemu 0.0.7 does not have.
//!
//! The STM32H743's Cortex-M7 has the double-precision FPv5-D16 unit
//! (`MVFR0 = 0x1011_0221`, Cortex-M7 Technical Reference Manual, FPU
//! chapter). rsemu models FPv4-SP-D16 and FPv5-SP-D16 only: every
//! double-precision data-processing and conversion encoding is UNDEFINED there
//! (UsageFault with `CFSR.UNDEFINSTR`), while the doubleword *transfers*
//! (`VLDR`/`VSTR.64`, D-register `VLDM`/`VSTM`/`VPUSH`/`VPOP`,
//! `VMOV Dm, Rt, Rt2` and back) are implemented. The core wrapper peeks each
//! 32-bit instruction before rsemu executes it; when [`decode`] recognises one
//! of the missing instructions the wrapper checks the IT condition
//! ([`F64Insn::unconditional`], [`it_condition_passed`]), `CPACR` and lazy
//! state preservation, calls [`execute`], and then advances the PC by 4 and the
//! IT state ([`it_advance`]) itself.
//!
//! Covered (ARMv7-M ARM DDI 0403E §A6.4, §A7.5, §A7.7 and the FPv5 additions of
//! the Armv8-M ARM DDI 0553, all with `sz == 1` unless noted):
//! `VADD VSUB VMUL VNMUL VDIV`, the chained `VMLA VMLS VNMLA VNMLS` (two
//! roundings), the fused `VFMA VFMS VFNMA VFNMS`, `VABS VNEG VSQRT`,
//! `VMOV.F64` (register and immediate), `VCMP`/`VCMPE` (register and `#0.0`),
//! `VCVT.F64.F32` (encoded with `sz == 0` in coprocessor 10 space) and
//! `VCVT.F32.F64`, `VCVT`/`VCVTR` between F64 and S32/U32, `VCVT` between F64
//! and 16/32-bit fixed point, `VCVTB`/`VCVTT` between F64 and F16, and the
//! FPv5 `VSEL VMAXNM VMINNM VRINTA/N/P/M/X/Z/R VCVTA/N/P/M` with F64
//! operands. Also `VMOV.32 Dd[x], Rt` and `VMOV.32 Rt, Dn[x]` (§A7.7 "VMOV (ARM core
//! register to scalar)" and "VMOV (scalar to ARM core register)"): they are present on every FPv4/FPv5 unit, but rsemu 0.0.7
//! leaves them UNDEFINED, so the wrapper must do them too.
//!
//! The arithmetic is rsemu's soft float (`rsemu::float`), the same code its
//! single-precision path runs; `arith.rs` adds Arm's pseudocode rules around
//! it for 64 bits (`FPProcessNaNs3`, `FPMulAdd`'s quiet-NaN rule, `FPCompare`,
//! `FPMaxNum`, flush-to-zero flags). Files: `decode.rs` (encodings and their
//! disassembly), `arith.rs` (the Arm rules), `exec.rs` (register plumbing).

mod arith;
mod decode;
mod exec;
#[cfg(test)]
mod tests;

pub(crate) use decode::decode;
pub(crate) use exec::execute;

/// The FP register file as the wrapper exposes it (over rsemu's
/// `ArmV7m::s`/`set_s`/`fpscr`/`set_fpscr`/`reg`/`set_reg`).
///
/// `D<n>` is `S<2n>` (low word) and `S<2n+1>` (high word), `n = 0..=15`
/// (DDI 0403E §A2.5.1; FPv5-D16 has 16 D registers).
pub(crate) trait FpRegs {
    /// `S<n>`, `n = 0..=31`.
    fn s(&self, n: u8) -> u32;
    /// Writes `S<n>`, `n = 0..=31`.
    fn set_s(&mut self, n: u8, v: u32);
    /// `FPSCR` (DDI 0403E §A2.5.3).
    fn fpscr(&self) -> u32;
    /// Writes `FPSCR`.
    fn set_fpscr(&mut self, v: u32);
    /// Core register `R<n>`, `n = 0..=12` or 14: only `VMOV.32 Rt, Dn[x]` and
    /// `VMOV.32 Dd[x], Rt` use it, and [`decode`] refuses SP and PC there.
    fn r(&self, n: u8) -> u32;
    /// Writes core register `R<n>`, `n = 0..=12` or 14 (never SP or PC).
    fn set_r(&mut self, n: u8, v: u32);

    /// `D<n>`, `n = 0..=15`: `S<2n+1>:S<2n>`.
    fn d(&self, n: u8) -> u64 {
        let n = n & 15;
        (u64::from(self.s(2 * n + 1)) << 32) | u64::from(self.s(2 * n))
    }
    /// Writes `D<n>`, `n = 0..=15`.
    fn set_d(&mut self, n: u8, v: u64) {
        let n = n & 15;
        self.set_s(2 * n, v as u32);
        self.set_s(2 * n + 1, (v >> 32) as u32);
    }
}

/// `ITSTATE` (`IT[7:0]`) from an xPSR value: `IT[7:2] = xPSR[15:10]`,
/// `IT[1:0] = xPSR[26:25]` (DDI 0403E §B1.4.2, EPSR).
pub(crate) fn itstate(xpsr: u32) -> u8 {
    ((((xpsr >> 10) & 0x3f) << 2) | ((xpsr >> 25) & 3)) as u8
}

/// Whether an instruction at the current IT position executes: `ConditionPassed()`
/// with the condition `ITSTATE[7:4]` inside an IT block, always outside one
/// (DDI 0403E §A7.3, `ConditionPassed()`). `xpsr` supplies both ITSTATE and
/// APSR.NZCV.
pub(crate) fn it_condition_passed(xpsr: u32) -> bool {
    let it = itstate(xpsr);
    if it & 0xf == 0 {
        return true;
    }
    rsemu::cpu::arm::v7m::isa::Cond(it >> 4).passes(xpsr)
}

/// xPSR after `ITAdvance()` (DDI 0403E §A7.3): leaves the block after its
/// last instruction, otherwise shifts `IT[4:0]` left by one.
pub(crate) fn it_advance(xpsr: u32) -> u32 {
    let it = itstate(xpsr);
    let next = if it & 0x7 == 0 {
        0
    } else {
        (it & 0xe0) | ((it << 1) & 0x1f)
    };
    let cleared = xpsr & !((0x3f << 10) | (3 << 25));
    cleared | (u32::from(next >> 2) << 10) | (u32::from(next & 3) << 25)
}
