//! Tests of the double-precision layer.
//!
//! * `vectors`: known results, flags and NZCV for every instruction, rounding
//!   mode, FZ and DN (values worked out from DDI 0403E's pseudocode).
//! * `differential`: random operands against the host's IEEE binary64.
//! * `boundary`: rsemu itself decides what is UNDEFINED; `decode` must agree,
//!   checked on a GNU-assembled table and on random words (GNU `as`/`objdump`
//!   as the independent oracle).
//! * `firmware`: a C routine built for `cortex-m7 fpv5-d16` run on rsemu with
//!   this layer stepped in, against the same C built for the host.

mod boundary;
mod differential;
mod firmware;
mod gnu;
mod harness;
mod random_words;
mod vectors;
mod vectors_cvt;

use super::{FpRegs, decode, execute};

/// A plain register file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TestRegs {
    pub(super) s: [u32; 32],
    pub(super) fpscr: u32,
    pub(super) r: [u32; 15],
}

impl FpRegs for TestRegs {
    fn s(&self, n: u8) -> u32 {
        self.s[usize::from(n)]
    }
    fn set_s(&mut self, n: u8, v: u32) {
        self.s[usize::from(n)] = v;
    }
    fn fpscr(&self) -> u32 {
        self.fpscr
    }
    fn set_fpscr(&mut self, v: u32) {
        self.fpscr = v;
    }
    fn r(&self, n: u8) -> u32 {
        self.r[usize::from(n)]
    }
    fn set_r(&mut self, n: u8, v: u32) {
        self.r[usize::from(n)] = v;
    }
}

/// Decodes and executes one encoding (`hw1 << 16 | hw2`); panics if it does
/// not decode.
pub(super) fn run(word: u32, regs: &mut TestRegs, apsr: u32) {
    let insn = decode((word >> 16) as u16, word as u16)
        .unwrap_or_else(|| panic!("{word:#010x} does not decode"));
    execute(&insn, regs, apsr);
}

/// Encodings used by the vector tests, with their GNU spelling. Every one is
/// checked against `arm-none-eabi-as` (`boundary::table_matches_gnu_as`) and
/// against `decode`'s disassembly (`named_encodings_disassemble_to_their_names`).
pub(super) const NAMED: &[(&str, u32)] = &[
    ("vadd.f64 d1, d2, d3", 0xee32_1b03),
    ("vsub.f64 d1, d2, d3", 0xee32_1b43),
    ("vmul.f64 d1, d2, d3", 0xee22_1b03),
    ("vnmul.f64 d1, d2, d3", 0xee22_1b43),
    ("vdiv.f64 d1, d2, d3", 0xee82_1b03),
    ("vmla.f64 d1, d2, d3", 0xee02_1b03),
    ("vmls.f64 d1, d2, d3", 0xee02_1b43),
    ("vnmla.f64 d1, d2, d3", 0xee12_1b43),
    ("vnmls.f64 d1, d2, d3", 0xee12_1b03),
    ("vfma.f64 d1, d2, d3", 0xeea2_1b03),
    ("vfms.f64 d1, d2, d3", 0xeea2_1b43),
    ("vfnma.f64 d1, d2, d3", 0xee92_1b43),
    ("vfnms.f64 d1, d2, d3", 0xee92_1b03),
    ("vmaxnm.f64 d1, d2, d3", 0xfe82_1b03),
    ("vminnm.f64 d1, d2, d3", 0xfe82_1b43),
    ("vseleq.f64 d1, d2, d3", 0xfe02_1b03),
    ("vselvs.f64 d1, d2, d3", 0xfe12_1b03),
    ("vselge.f64 d1, d2, d3", 0xfe22_1b03),
    ("vselgt.f64 d1, d2, d3", 0xfe32_1b03),
    ("vmov.f64 d1, d2", 0xeeb0_1b42),
    ("vabs.f64 d1, d2", 0xeeb0_1bc2),
    ("vneg.f64 d1, d2", 0xeeb1_1b42),
    ("vsqrt.f64 d1, d2", 0xeeb1_1bc2),
    ("vrintr.f64 d1, d2", 0xeeb6_1b42),
    ("vrintz.f64 d1, d2", 0xeeb6_1bc2),
    ("vrintx.f64 d1, d2", 0xeeb7_1b42),
    ("vrinta.f64 d1, d2", 0xfeb8_1b42),
    ("vrintn.f64 d1, d2", 0xfeb9_1b42),
    ("vrintp.f64 d1, d2", 0xfeba_1b42),
    ("vrintm.f64 d1, d2", 0xfebb_1b42),
    ("vcmp.f64 d1, d2", 0xeeb4_1b42),
    ("vcmpe.f64 d1, d2", 0xeeb4_1bc2),
    ("vcmp.f64 d1, #0.0", 0xeeb5_1b40),
    ("vcmpe.f64 d1, #0.0", 0xeeb5_1bc0),
    ("vcvt.f64.f32 d1, s4", 0xeeb7_1ac2),
    ("vcvt.f32.f64 s2, d2", 0xeeb7_1bc2),
    ("vcvt.f64.s32 d1, s4", 0xeeb8_1bc2),
    ("vcvt.f64.u32 d1, s4", 0xeeb8_1b42),
    ("vcvt.s32.f64 s2, d2", 0xeebd_1bc2),
    ("vcvt.u32.f64 s2, d2", 0xeebc_1bc2),
    ("vcvtr.s32.f64 s2, d2", 0xeebd_1b42),
    ("vcvtr.u32.f64 s2, d2", 0xeebc_1b42),
    ("vcvta.s32.f64 s2, d2", 0xfebc_1bc2),
    ("vcvtn.s32.f64 s2, d2", 0xfebd_1bc2),
    ("vcvtp.s32.f64 s2, d2", 0xfebe_1bc2),
    ("vcvtm.s32.f64 s2, d2", 0xfebf_1bc2),
    ("vcvta.u32.f64 s2, d2", 0xfebc_1b42),
    ("vcvtn.u32.f64 s2, d2", 0xfebd_1b42),
    ("vcvtp.u32.f64 s2, d2", 0xfebe_1b42),
    ("vcvtm.u32.f64 s2, d2", 0xfebf_1b42),
    ("vcvtb.f64.f16 d1, s4", 0xeeb2_1b42),
    ("vcvtt.f64.f16 d1, s4", 0xeeb2_1bc2),
    ("vcvtb.f16.f64 s2, d2", 0xeeb3_1b42),
    ("vcvtt.f16.f64 s2, d2", 0xeeb3_1bc2),
    ("vcvt.s16.f64 d1, d1, #8", 0xeebe_1b44),
    ("vcvt.u16.f64 d1, d1, #0", 0xeebf_1b48),
    ("vcvt.s32.f64 d1, d1, #32", 0xeebe_1bc0),
    ("vcvt.u32.f64 d1, d1, #1", 0xeebf_1bef),
    ("vcvt.f64.s16 d1, d1, #8", 0xeeba_1b44),
    ("vcvt.f64.u16 d1, d1, #16", 0xeebb_1b40),
    ("vcvt.f64.s32 d1, d1, #32", 0xeeba_1bc0),
    ("vcvt.f64.u32 d1, d1, #32", 0xeebb_1bc0),
    ("vmov.f64 d1, #1.0", 0xeeb7_1b00),
    ("vmov.f64 d1, #-0.125", 0xeebc_1b00),
    ("vmov.f64 d1, #31.0", 0xeeb3_1b0f),
    ("vmov.f64 d1, #0.1328125", 0xeeb4_1b01),
    ("vmov.f64 d1, #-2.0", 0xeeb8_1b00),
    ("vmov.32 d1[0], r4", 0xee01_4b10),
    ("vmov.32 d1[1], r4", 0xee21_4b10),
    ("vmov.32 r4, d2[0]", 0xee12_4b10),
    ("vmov.32 r4, d2[1]", 0xee32_4b10),
];

/// The encoding of a [`NAMED`] instruction.
pub(super) fn enc(name: &str) -> u32 {
    NAMED
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no named encoding {name:?}"))
        .1
}

#[test]
fn named_encodings_disassemble_to_their_names() {
    for &(name, word) in NAMED {
        let insn = decode((word >> 16) as u16, word as u16)
            .unwrap_or_else(|| panic!("{name} ({word:#010x}) does not decode"));
        assert_eq!(insn.to_string(), name, "{word:#010x}");
    }
}

#[test]
fn unconditional_is_the_fpv5_t1_group() {
    for &(name, word) in NAMED {
        let insn = decode((word >> 16) as u16, word as u16).unwrap();
        assert_eq!(
            insn.unconditional(),
            word >> 24 == 0xfe,
            "{name}: the 0xFE window is exactly the unconditional group"
        );
    }
}

#[test]
fn it_state_helpers_follow_itadvance() {
    use super::{it_advance, it_condition_passed, itstate};
    // `ITTE EQ`: firstcond = 0000, mask = 0110 -> IT = 0000_0110... as the
    // IT instruction leaves it: IT[7:0] = firstcond:mask = 0x06.
    let put = |it: u8| (u32::from(it >> 2) << 10) | (u32::from(it & 3) << 25);
    let z = 1 << 30;
    let mut xpsr = put(0x06) | z;
    assert_eq!(itstate(xpsr), 0x06);
    assert!(it_condition_passed(xpsr), "EQ with Z set");
    xpsr = it_advance(xpsr);
    assert_eq!(itstate(xpsr), 0x0c);
    assert!(it_condition_passed(xpsr), "second T: EQ");
    xpsr = it_advance(xpsr);
    assert_eq!(itstate(xpsr), 0x18);
    assert!(!it_condition_passed(xpsr), "E: NE with Z set");
    xpsr = it_advance(xpsr);
    assert_eq!(itstate(xpsr), 0, "block finished");
    assert!(it_condition_passed(xpsr));
    assert_eq!(xpsr, z, "only ITSTATE changed");
}
