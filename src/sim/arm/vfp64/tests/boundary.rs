//! The decode boundary, decided by rsemu itself: on a Cortex-M7F
//! (FPv5-SP-D16) with CP10/CP11 enabled, an encoding takes a UsageFault with
//! `CFSR.UNDEFINSTR` exactly when `decode` claims it, or when it is UNDEFINED
//! on the FPv5-D16 M7 too. So the wrapper never intercepts what rsemu
//! implements, and never lets rsemu fault on what the M7's DP FPU executes.
//! GNU `as`/`objdump` (`cortex-m7`, `fpv5-d16`) supply the encodings and the
//! independent reading.

use super::differential::Rng;
use super::gnu::assemble;
use super::harness::Prober;
use super::{NAMED, decode};

/// What an encoding is on an FPv5-D16 Cortex-M7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A double-precision instruction rsemu lacks: `decode` is `Some`.
    Dp,
    /// An instruction rsemu executes (integer, single precision, transfers).
    Rsemu,
    /// UNDEFINED on the M7 as well.
    Undef,
}

const R3: [(u8, u8, u8); 5] = [(0, 0, 0), (1, 2, 3), (15, 14, 13), (8, 15, 0), (7, 9, 11)];
const R2: [(u8, u8); 5] = [(0, 0), (1, 2), (15, 14), (8, 15), (6, 9)];
const DS: [(u8, u8); 5] = [(0, 0), (1, 4), (15, 31), (7, 1), (8, 30)];

/// The assembly table: every covered instruction in several register (and
/// size/fbits) variants, then single precision and transfers.
fn table() -> Vec<(String, Class)> {
    let mut t = Vec::new();
    let mut dp = |s: String| t.push((s, Class::Dp));
    for op in [
        "vadd", "vsub", "vmul", "vnmul", "vdiv", "vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms",
        "vfnma", "vfnms", "vmaxnm", "vminnm", "vseleq", "vselvs", "vselge", "vselgt",
    ] {
        for (d, n, m) in R3 {
            dp(format!("{op}.f64 d{d}, d{n}, d{m}"));
        }
    }
    for op in [
        "vmov", "vabs", "vneg", "vsqrt", "vrintr", "vrintz", "vrintx", "vrinta", "vrintn",
        "vrintp", "vrintm", "vcmp", "vcmpe",
    ] {
        for (d, m) in R2 {
            dp(format!("{op}.f64 d{d}, d{m}"));
        }
    }
    for (d, _) in R2 {
        dp(format!("vcmp.f64 d{d}, #0.0"));
        dp(format!("vcmpe.f64 d{d}, #0.0"));
    }
    for (i, imm) in ["1.0", "-0.125", "31.0", "0.1328125", "-2.0"]
        .iter()
        .enumerate()
    {
        for d in [0, 9, 15] {
            dp(format!("vmov.f64 d{}, #{imm}", (d + i) % 16));
        }
    }
    for op in ["f64.f32", "f64.s32", "f64.u32"] {
        for (d, s) in DS {
            dp(format!("vcvt.{op} d{d}, s{s}"));
        }
    }
    for bt in ["b", "t"] {
        for (d, s) in DS {
            dp(format!("vcvt{bt}.f64.f16 d{d}, s{s}"));
            dp(format!("vcvt{bt}.f16.f64 s{s}, d{d}"));
        }
    }
    for op in [
        "vcvt.f32.f64",
        "vcvt.s32.f64",
        "vcvt.u32.f64",
        "vcvtr.s32.f64",
        "vcvtr.u32.f64",
        "vcvta.s32.f64",
        "vcvtn.s32.f64",
        "vcvtp.s32.f64",
        "vcvtm.s32.f64",
        "vcvta.u32.f64",
        "vcvtn.u32.f64",
        "vcvtp.u32.f64",
        "vcvtm.u32.f64",
    ] {
        for (d, s) in DS {
            dp(format!("{op} s{s}, d{d}"));
        }
    }
    for fx in ["s16", "u16", "s32", "u32"] {
        let fbits: &[u8] = if fx.ends_with("16") {
            &[0, 1, 8, 16]
        } else {
            &[1, 16, 31, 32]
        };
        for &fb in fbits {
            for d in [0, 13] {
                dp(format!("vcvt.{fx}.f64 d{d}, d{d}, #{fb}"));
                dp(format!("vcvt.f64.{fx} d{d}, d{d}, #{fb}"));
            }
        }
    }
    for (n, x, r) in [(0, 0, 0), (15, 1, 14), (7, 1, 12), (3, 0, 5)] {
        dp(format!("vmov.32 d{n}[{x}], r{r}"));
        dp(format!("vmov.32 r{r}, d{n}[{x}]"));
    }
    let mut sp = |s: &str| t.push((s.to_string(), Class::Rsemu));
    for op in [
        "vadd", "vsub", "vmul", "vnmul", "vdiv", "vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms",
        "vfnma", "vfnms", "vmaxnm", "vminnm", "vseleq", "vselge",
    ] {
        sp(&format!("{op}.f32 s1, s2, s3"));
        sp(&format!("{op}.f32 s31, s0, s30"));
    }
    for op in [
        "vmov", "vabs", "vneg", "vsqrt", "vrintr", "vrintz", "vrintx", "vrinta", "vrintm", "vcmp",
        "vcmpe",
    ] {
        sp(&format!("{op}.f32 s1, s2"));
        sp(&format!("{op}.f32 s30, s31"));
    }
    for s in [
        "vcmp.f32 s3, #0.0",
        "vmov.f32 s5, #1.0",
        "vcvt.s32.f32 s0, s1",
        "vcvtr.u32.f32 s2, s3",
        "vcvt.f32.s32 s4, s5",
        "vcvt.f32.u32 s31, s30",
        "vcvtb.f32.f16 s0, s1",
        "vcvtt.f16.f32 s2, s3",
        "vcvt.s16.f32 s4, s4, #8",
        "vcvt.f32.u32 s5, s5, #32",
        "vcvta.s32.f32 s6, s7",
        "vcvtm.u32.f32 s8, s9",
        "vldr d0, [r0]",
        "vldr d15, [r1, #8]",
        "vstr d7, [r2, #-16]",
        "vldr s3, [r0, #4]",
        "vstr s31, [r1]",
        "vldmia r0, {d0-d3}",
        "vldmia r0!, {d8-d15}",
        "vstmdb r1!, {d0-d1}",
        "vstmia r3, {d15}",
        "vpush {d8-d15}",
        "vpop {d8-d9}",
        "vpush {s0-s3}",
        "vldmia r4, {s1-s5}",
        "vmov r0, r1, d5",
        "vmov d5, r0, r1",
        "vmov r2, r3, d15",
        "vmov d0, r11, r12",
        "vmov s0, r0",
        "vmov r0, s31",
        "vmov s0, s1, r0, r1",
        "vmov r6, r7, s30, s31",
        "vmrs r0, fpscr",
        "vmsr fpscr, r1",
        "vmrs APSR_nzcv, fpscr",
        "vmrs r2, mvfr0",
        "vmrs r3, mvfr1",
        "add.w r0, r1, r2",
        "ldr.w r0, [r1, #4]",
        "mul.w r0, r1, r2",
        "smlabb r0, r1, r2, r3",
    ] {
        sp(s);
    }
    t
}

/// Encodings UNDEFINED on the FPv5-D16 M7: a table line with bits flipped.
const UNDEF: &[(&str, u32, &str)] = &[
    ("vadd.f64 d1, d2, d3", 1 << 22, "Dd = D17"),
    ("vadd.f64 d1, d2, d3", 1 << 7, "Dn = D18"),
    ("vmul.f64 d1, d2, d3", 1 << 5, "Dm = D19"),
    ("vsqrt.f64 d1, d2", 1 << 5, "Dm = D18"),
    ("vcvt.f32.f64 s2, d2", 1 << 5, "Dm = D18"),
    ("vcvt.f64.f32 d1, s4", 1 << 22, "Dd = D17 (cp10)"),
    ("vmaxnm.f64 d1, d2, d3", 1 << 22, "Dd = D17"),
    ("vseleq.f64 d1, d2, d3", 1 << 7, "Dn = D18"),
    ("vmov.32 d1[0], r4", 1 << 7, "D17[0]"),
    ("vdiv.f64 d1, d2, d3", 1 << 6, "opc1 1x00, opc3 x1"),
    ("vcvt.f64.s32 d1, s4", 1 << 16, "opc2 1001"),
    ("vseleq.f64 d1, d2, d3", 1 << 6, "VSEL with bit 6"),
    ("vseleq.f64 d1, d2, d3", 1 << 4, "bit 4 in the 0xFE group"),
    ("vmaxnm.f64 d1, d2, d3", 1 << 20, "0xFE, opc 01"),
    ("vrinta.f64 d1, d2", 1 << 7, "VRINT with bit 7"),
    ("vcvta.s32.f64 s2, d2", 1 << 6, "VCVTA without bit 6"),
    ("vrinta.f64 d1, d2", 1 << 19, "0xFE, opc2 00xx"),
    ("vcvt.s16.f64 d1, d1, #8", 0x002c, "fbits = 16 - 17 < 0"),
    (
        "vmov.32 d1[0], r4",
        1 << 22,
        "VMOV.16 scalar (Advanced SIMD)",
    ),
    ("vmov.32 r4, d2[0]", 1 << 23, "VMOV.U32 scalar (U = 1)"),
    ("vmov.32 d1[0], r4", 1 << 5, "VMOV.16 scalar (opc2)"),
    (
        "vmov.32 d1[0], r4",
        0x9000,
        "Rt = SP (UNPREDICTABLE, left UNDEFINED)",
    ),
    (
        "vmov.32 r4, d2[0]",
        0xb000,
        "Rt = PC (UNPREDICTABLE, left UNDEFINED)",
    ),
    ("vldmia r0, {d0-d3}", 1, "FLDMX (odd imm8)"),
    ("vldr d0, [r0]", 1 << 22, "VLDR D16"),
    ("vadd.f64 d1, d2, d3", 0x0100_0000, "0xEF: Advanced SIMD"),
    ("vcmp.f64 d1, d2", 0x1000_0000, "0xFE: CDP2 p11"),
    ("vmov.32 d1[0], r4", 0x1000_0000, "0xFE, bit 4: MCR2 p11"),
    ("vldr d0, [r0]", 0x1000_0000, "0xFD: LDC2 p11"),
];

#[test]
fn table_and_named_encodings_match_gnu_as() {
    let names: Vec<String> = NAMED.iter().map(|(n, _)| n.to_string()).collect();
    for ((name, word), got) in NAMED.iter().zip(assemble(&names)) {
        assert_eq!(got, Some(*word), "as encodes {name} differently");
    }
}

#[test]
fn rsemu_undefinstr_exactly_when_decode_is_some_on_the_table() {
    let table = table();
    let lines: Vec<String> = table.iter().map(|(s, _)| s.clone()).collect();
    let words = assemble(&lines);
    let prober = Prober::new();
    let mut counts = [0usize; 3];
    let mut check = |what: &str, word: u32, class: Class| {
        let got = decode((word >> 16) as u16, word as u16);
        let out = prober.probe(word);
        assert_eq!(
            got.is_some(),
            class == Class::Dp,
            "{what} ({word:#010x}): decode"
        );
        assert_eq!(
            out.undefinstr,
            class != Class::Rsemu,
            "{what} ({word:#010x}): rsemu UNDEFINSTR (CFSR={:#x})",
            out.cfsr
        );
        counts[class as usize] += 1;
        got
    };
    for ((line, class), word) in table.iter().zip(&words) {
        let word = word.unwrap_or_else(|| panic!("as rejects {line:?}"));
        if let Some(insn) = check(line, word, *class) {
            assert_eq!(&insn.to_string(), line, "{word:#010x} disassembles");
        }
    }
    let bases: Vec<String> = UNDEF.iter().map(|(b, _, _)| b.to_string()).collect();
    for ((_, flip, why), word) in UNDEF.iter().zip(assemble(&bases)) {
        check(why, word.unwrap() ^ flip, Class::Undef);
    }
    eprintln!(
        "decode boundary table: {} double precision, {} rsemu-executed, {} undefined",
        counts[0], counts[1], counts[2]
    );
    assert_eq!(
        counts,
        [357, 98, UNDEF.len()],
        "every table line was checked"
    );
}

#[test]
fn decode_never_panics_on_a_million_random_pairs() {
    let mut rng = Rng(0xdec0_de00);
    let mut some = 0usize;
    for _ in 0..1_000_000 {
        let w = rng.next();
        let insn = decode((w >> 16) as u16, w as u16);
        if let Some(insn) = insn {
            some += 1;
            let _ = insn.unconditional();
            assert!(!insn.to_string().is_empty());
        }
    }
    // Uniform pairs seldom land in the FP windows: 0xEE/0xFE with cp10/11 is
    // 2/256 * 2/16 of the space, and decode accepts part of that.
    assert!((10..500).contains(&some), "{some} decoded");
}
