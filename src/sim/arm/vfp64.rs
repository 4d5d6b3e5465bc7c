//! Placeholder until the double-precision layer lands: recognises nothing,
//! so every double-precision encoding stays UNDEFINED.

/// The FP register file (S registers and FPSCR).
pub(crate) trait FpRegs {
    fn s(&self, n: u8) -> u32;
    fn set_s(&mut self, n: u8, v: u32);
    fn fpscr(&self) -> u32;
    fn set_fpscr(&mut self, v: u32);
}

/// A decoded double-precision instruction.
pub(crate) struct F64Insn;

impl F64Insn {
    pub(crate) fn unconditional(&self) -> bool {
        false
    }
}

pub(crate) fn decode(_hw1: u16, _hw2: u16) -> Option<F64Insn> {
    None
}

pub(crate) fn execute(_insn: &F64Insn, _regs: &mut impl FpRegs, _apsr_nzcv: u32) {}
