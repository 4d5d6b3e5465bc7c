//! Known vectors for the conversions, `VRINT*`, `VMOV` (immediate and
//! scalar) and `VSEL`: rounding modes, saturation with IOC, FZ, DN and NaN
//! payloads (DDI 0403E §A2.5: `FPToFixed`, `FixedToFP`, `FPDoubleToSingle`,
//! `FPSingleToDouble`, `FPRoundInt`; Armv8-M `FPConvert` for F16).

use super::super::FpRegs;
use super::vectors::*;
use super::{TestRegs, enc, run};

// Table instructions: `vcvt{r,a,n,p,m}.{s,u}32.f64 s2, d2`, `vcvt{b,t}` both ways.
const RS32: &str = "vcvtr.s32.f64 s2, d2";
const RU32: &str = "vcvtr.u32.f64 s2, d2";
const AS32: &str = "vcvta.s32.f64 s2, d2";
const NS32: &str = "vcvtn.s32.f64 s2, d2";
const PS32: &str = "vcvtp.s32.f64 s2, d2";
const MS32: &str = "vcvtm.s32.f64 s2, d2";
const AU32: &str = "vcvta.u32.f64 s2, d2";
const NU32: &str = "vcvtn.u32.f64 s2, d2";
const PU32: &str = "vcvtp.u32.f64 s2, d2";
const MU32: &str = "vcvtm.u32.f64 s2, d2";
const B2D: &str = "vcvtb.f64.f16 d1, s4";
const T2D: &str = "vcvtt.f64.f16 d1, s4";
const D2B: &str = "vcvtb.f16.f64 s2, d2";
const D2T: &str = "vcvtt.f16.f64 s2, d2";

/// Runs `name` (destination `s2`, source `d2`) with `s2` preset to
/// `0x1234_5678`; returns `s2` and the flags.
fn to_s(name: &str, mode: u32, src: u64) -> (u32, u32) {
    let mut r = TestRegs {
        fpscr: mode,
        ..TestRegs::default()
    };
    r.set_d(2, src);
    r.set_s(2, 0x1234_5678);
    run(enc(name), &mut r, 0);
    assert_eq!(r.fpscr & !FLAGS, mode, "{name}");
    assert_eq!((r.d(2), r.s(3)), (src, 0), "{name}: only s2 is written");
    (r.s(2), r.fpscr & FLAGS)
}

/// Runs `name` (destination `d1`, source `s4`); returns `d1` and the flags.
fn to_d(name: &str, mode: u32, src: u32) -> (u64, u32) {
    let mut r = TestRegs {
        fpscr: mode,
        ..TestRegs::default()
    };
    r.set_d(1, 0x5555_5555_5555_5555);
    r.set_s(4, src);
    run(enc(name), &mut r, 0);
    assert_eq!(r.fpscr & !FLAGS, mode, "{name}");
    (r.d(1), r.fpscr & FLAGS)
}

fn check_to_s(rows: &[(&str, u32, u64, u32, u32)]) {
    for (i, &(name, mode, src, want, flags)) in rows.iter().enumerate() {
        let got = to_s(name, mode, src);
        assert_eq!(
            got,
            (want, flags),
            "row {i}: {name} fpscr={mode:#x} d2={src:#018x}: got ({:#010x}, {:#x})",
            got.0,
            got.1
        );
    }
}

fn check_to_d(rows: &[(&str, u32, u32, u64, u32)]) {
    for (i, &(name, mode, src, want, flags)) in rows.iter().enumerate() {
        let got = to_d(name, mode, src);
        assert_eq!(
            got,
            (want, flags),
            "row {i}: {name} fpscr={mode:#x} s4={src:#010x}: got ({:#018x}, {:#x})",
            got.0,
            got.1
        );
    }
}

#[test]
fn vcvt_f64_to_s32_u32_saturates_with_ioc() {
    const S: &str = "vcvt.s32.f64 s2, d2";
    const U: &str = "vcvt.u32.f64 s2, d2";
    check_to_s(&[
        (S, RN, f(2.5), 2, IXC),
        (S, RN, f(-2.5), 0xffff_fffe, IXC),
        // VCVT rounds toward zero whatever FPSCR.RMode says.
        (S, RP, f(2.9), 2, IXC),
        (S, RM, f(-2.9), 0xffff_fffe, IXC),
        (S, RN, f(2147483647.9), 0x7fff_ffff, IXC),
        (S, RN, f(2147483648.0), 0x7fff_ffff, IOC),
        (S, RN, f(-2147483648.0), 0x8000_0000, 0),
        (S, RN, f(-2147483648.5), 0x8000_0000, IXC),
        (S, RN, f(-2147483649.0), 0x8000_0000, IOC),
        (S, RN, QNAN_A, 0, IOC),
        (S, RN, SNAN_B, 0, IOC),
        (S, RN, INF, 0x7fff_ffff, IOC),
        (S, RN, INF | SIGN, 0x8000_0000, IOC),
        (S, RN, SIGN, 0, 0),
        (S, RN, MIN_SUB, 0, IXC),
        (S, FZ, MIN_SUB, 0, IDC),
        (U, RN, f(-0.5), 0, IXC),
        (U, RN, f(-1.0), 0, IOC),
        (U, RN, f(4294967295.5), 0xffff_ffff, IXC),
        (U, RN, f(4294967296.0), 0xffff_ffff, IOC),
        (U, RN, f(3.99), 3, IXC),
        (U, RN, QNAN_A, 0, IOC),
        (U, RN, INF | SIGN, 0, IOC),
        (U, RN, f(2147483648.0), 0x8000_0000, 0),
    ]);
}

#[test]
fn vcvtr_and_vcvt_anpm_rounding() {
    check_to_s(&[
        (RS32, RN, f(2.5), 2, IXC),
        (RS32, RN, f(3.5), 4, IXC),
        (RS32, RN, f(-2.5), 0xffff_fffe, IXC),
        (RS32, RP, f(2.1), 3, IXC),
        (RS32, RM, f(-2.1), 0xffff_fffd, IXC),
        (RS32, RZ, f(-2.9), 0xffff_fffe, IXC),
        (RS32, RN, f(2147483647.5), 0x7fff_ffff, IOC),
        (RS32, RN, f(7.0), 7, 0),
        (RU32, RM, f(-0.5), 0, IOC),
        (RU32, RN, f(-0.5), 0, IXC),
        (RU32, RP, f(0.1), 1, IXC),
        // The named modes ignore FPSCR.RMode (here: toward zero).
        (AS32, RZ, f(2.5), 3, IXC),
        (NS32, RZ, f(2.5), 2, IXC),
        (PS32, RZ, f(2.5), 3, IXC),
        (MS32, RZ, f(2.5), 2, IXC),
        (AS32, RZ, f(-2.5), 0xffff_fffd, IXC),
        (NS32, RZ, f(-2.5), 0xffff_fffe, IXC),
        (PS32, RZ, f(-2.5), 0xffff_fffe, IXC),
        (MS32, RZ, f(-2.5), 0xffff_fffd, IXC),
        (AS32, RN, f(-0.5), 0xffff_ffff, IXC),
        (NS32, RN, f(-0.5), 0, IXC),
        (NS32, RN, f(3.5), 4, IXC),
        (AS32, RN, f(2147483647.5), 0x7fff_ffff, IOC),
        (MS32, RN, f(-2147483648.5), 0x8000_0000, IOC),
        (AS32, RN, QNAN_A, 0, IOC),
        (AU32, RN, f(2.5), 3, IXC),
        (AU32, RN, f(-0.5), 0, IOC),
        (NU32, RN, f(-0.5), 0, IXC),
        (MU32, RN, f(-0.1), 0, IOC),
        (PU32, RN, f(-0.9), 0, IXC),
        (PU32, RN, f(4294967294.5), 0xffff_ffff, IXC),
        (PU32, FZ, MIN_SUB, 0, IDC),
    ]);
}

#[test]
fn vcvt_f64_from_s32_u32_is_exact() {
    check_to_d(&[
        ("vcvt.f64.s32 d1, s4", RN, 0x8000_0000, f(-2147483648.0), 0),
        ("vcvt.f64.s32 d1, s4", RN, 0xffff_ffff, f(-1.0), 0),
        ("vcvt.f64.s32 d1, s4", RM, 0, 0, 0),
        ("vcvt.f64.s32 d1, s4", RN, 7, f(7.0), 0),
        ("vcvt.f64.s32 d1, s4", RN, 0x7fff_ffff, f(2147483647.0), 0),
        ("vcvt.f64.u32 d1, s4", RN, 0xffff_ffff, f(4294967295.0), 0),
        ("vcvt.f64.u32 d1, s4", RN, 0x8000_0000, f(2147483648.0), 0),
        ("vcvt.f64.u32 d1, s4", RM, 0, 0, 0),
    ]);
}

#[test]
fn vcvt_between_f64_and_f32() {
    const DS: &str = "vcvt.f32.f64 s2, d2";
    const SD: &str = "vcvt.f64.f32 d1, s4";
    let third = 0x3fd5_5555_5555_5555;
    // Halfway between FLT_MAX and 2^128.
    let flt_max_tie = 0x47ef_ffff_f000_0000;
    check_to_s(&[
        (DS, RN, third, 0x3eaa_aaab, IXC),
        (DS, RP, third, 0x3eaa_aaab, IXC),
        (DS, RM, third, 0x3eaa_aaaa, IXC),
        (DS, RZ, third, 0x3eaa_aaaa, IXC),
        (DS, RN, f(1.0), 0x3f80_0000, 0),
        (DS, RN, f(1e300), 0x7f80_0000, OFC | IXC),
        (DS, RZ, f(1e300), 0x7f7f_ffff, OFC | IXC),
        (DS, RM, f(1e300), 0x7f7f_ffff, OFC | IXC),
        (DS, RM, f(-1e300), 0xff80_0000, OFC | IXC),
        (DS, RN, flt_max_tie, 0x7f80_0000, OFC | IXC),
        (DS, RZ, flt_max_tie, 0x7f7f_ffff, IXC),
        (DS, RN, p2(-149), 0x0000_0001, 0),
        (DS, FZ, p2(-149), 0, UFC),
        (DS, RN, p2(-150), 0, UFC | IXC),
        (DS, RP, p2(-150), 1, UFC | IXC),
        (DS, FZ | RP, p2(-150), 0, UFC),
        (DS, FZ, p2(-126), 0x0080_0000, 0),
        (DS, RN, MIN_SUB, 0, UFC | IXC),
        (DS, RP, MIN_SUB, 1, UFC | IXC),
        (DS, FZ, MIN_SUB, 0, IDC),
        (DS, FZ, MIN_SUB | SIGN, 0x8000_0000, IDC),
        (DS, RN, INF | SIGN, 0xff80_0000, 0),
        (DS, RN, SIGN, 0x8000_0000, 0),
        // NaN payload: sign : 1111_1111_1 : operand<50:29>.
        (DS, RN, 0x7ff0_0000_2000_0000, 0x7fc0_0001, IOC),
        (DS, RN, 0xfffc_0000_0000_0000, 0xffe0_0000, 0),
        (DS, RN, 0x7ff8_0000_1fff_ffff, 0x7fc0_0000, 0),
        (DS, DN, 0xfffc_0000_0000_0000, 0x7fc0_0000, 0),
        (DS, DN, SNAN_A, 0x7fc0_0000, IOC),
    ]);
    check_to_d(&[
        (SD, RN, 0x3f80_0000, f(1.0), 0),
        (SD, RM, 0x3eaa_aaab, 0x3fd5_5555_6000_0000, 0),
        (SD, RN, 0x0000_0001, p2(-149), 0),
        (SD, FZ, 0x0000_0001, 0, IDC),
        (SD, FZ, 0x8000_0001, SIGN, IDC),
        (SD, FZ, 0x0080_0000, p2(-126), 0),
        (SD, RN, 0x7f80_0000, INF, 0),
        // sign : 1111_1111_111 : 1 : operand<21:0> : Zeros(29).
        (SD, RN, 0x7f80_0001, 0x7ff8_0000_2000_0000, IOC),
        (SD, RN, 0xffc0_0000, 0xfff8_0000_0000_0000, 0),
        (SD, RN, 0x7fff_ffff, 0x7fff_ffff_e000_0000, 0),
        (SD, DN, 0x7f80_0001, DEFAULT_NAN, IOC),
    ]);
}

#[test]
fn vcvtb_vcvtt_between_f64_and_f16() {
    check_to_d(&[
        (B2D, RN, 0xabcd_3c00, f(1.0), 0),
        (T2D, RN, 0x3c00_abcd, f(1.0), 0),
        (B2D, RN, 0x7bff, f(65504.0), 0),
        // A half subnormal is never flushed (no IDC even with FZ).
        (B2D, RN, 0x0001, p2(-24), 0),
        (B2D, FZ, 0x0001, p2(-24), 0),
        (T2D, FZ, 0x8001_0000, p2(-24) | SIGN, 0),
        (B2D, RN, 0xfc00, INF | SIGN, 0),
        // sign : 1111_1111_111 : 1 : operand<8:0> : Zeros(42).
        (B2D, RN, 0x7c01, 0x7ff8_0400_0000_0000, IOC),
        (B2D, RN, 0xfeff, 0xfffb_fc00_0000_0000, 0),
        (B2D, DN, 0x7e00, DEFAULT_NAN, 0),
    ]);
    check_to_s(&[
        (D2B, RN, f(1.0), 0x1234_3c00, 0),
        (D2T, RN, f(1.0), 0x3c00_5678, 0),
        (D2B, RN, f(-2.0), 0x1234_c000, 0),
        (D2B, RN, f(65520.0), 0x1234_7c00, OFC | IXC),
        (D2B, RZ, f(65520.0), 0x1234_7bff, IXC),
        (D2B, RN, f(65519.99), 0x1234_7bff, IXC),
        (D2B, RN, p2(-24), 0x1234_0001, 0),
        (D2B, RN, p2(-25), 0x1234_0000, UFC | IXC),
        (D2B, RP, p2(-25), 0x1234_0001, UFC | IXC),
        // A half result is never flushed: FZ changes nothing here.
        (D2B, FZ | RP, p2(-25), 0x1234_0001, UFC | IXC),
        (D2T, FZ, p2(-24), 0x0001_5678, 0),
        // A double subnormal operand is flushed (IDC).
        (D2B, FZ | RP, MIN_SUB, 0x1234_0000, IDC),
        (D2B, RP, MIN_SUB, 0x1234_0001, UFC | IXC),
        (D2B, RN, 0x7ff0_0400_0000_0000, 0x1234_7e01, IOC),
        (D2T, RN, 0xfff8_0000_0000_0000, 0xfe00_5678, 0),
        (D2T, DN, SNAN_A, 0x7e00_5678, IOC),
        (D2B, RN, INF, 0x1234_7c00, 0),
    ]);
}

#[test]
fn vcvt_fixed_point() {
    // (instruction, mode, d1 in, d1 out, flags)
    let rows: &[(&str, u32, u64, u64, u32)] = &[
        ("vcvt.s16.f64 d1, d1, #8", RN, f(1.5), 0x180, 0),
        // Signed results are sign-extended to 64 bits.
        (
            "vcvt.s16.f64 d1, d1, #8",
            RN,
            f(-1.5),
            0xffff_ffff_ffff_fe80,
            0,
        ),
        ("vcvt.s16.f64 d1, d1, #8", RN, f(127.99609375), 0x7fff, 0),
        ("vcvt.s16.f64 d1, d1, #8", RN, f(128.0), 0x7fff, IOC),
        (
            "vcvt.s16.f64 d1, d1, #8",
            RN,
            f(-128.0),
            0xffff_ffff_ffff_8000,
            0,
        ),
        (
            "vcvt.s16.f64 d1, d1, #8",
            RN,
            f(-128.5),
            0xffff_ffff_ffff_8000,
            IOC,
        ),
        ("vcvt.s16.f64 d1, d1, #8", RN, f(0.001), 0, IXC),
        ("vcvt.s16.f64 d1, d1, #8", RN, QNAN_A, 0, IOC),
        // Always toward zero.
        ("vcvt.s16.f64 d1, d1, #8", RP, f(1.999), 0x1ff, IXC),
        (
            "vcvt.s16.f64 d1, d1, #8",
            RM,
            f(-1.999),
            0xffff_ffff_ffff_fe01,
            IXC,
        ),
        ("vcvt.s16.f64 d1, d1, #8", FZ, MIN_SUB, 0, IDC),
        ("vcvt.u16.f64 d1, d1, #0", RN, f(65535.0), 0xffff, 0),
        ("vcvt.u16.f64 d1, d1, #0", RN, f(65536.0), 0xffff, IOC),
        ("vcvt.u16.f64 d1, d1, #0", RN, f(-1.0), 0, IOC),
        ("vcvt.u16.f64 d1, d1, #0", RN, f(2.5), 2, IXC),
        ("vcvt.s32.f64 d1, d1, #32", RN, f(0.25), 0x4000_0000, 0),
        ("vcvt.s32.f64 d1, d1, #32", RN, f(0.5), 0x7fff_ffff, IOC),
        (
            "vcvt.s32.f64 d1, d1, #32",
            RN,
            f(-0.5),
            0xffff_ffff_8000_0000,
            0,
        ),
        ("vcvt.s32.f64 d1, d1, #32", RN, f(1e-10), 0, IXC),
        (
            "vcvt.u32.f64 d1, d1, #1",
            RN,
            f(2147483647.5),
            0xffff_ffff,
            0,
        ),
        ("vcvt.u32.f64 d1, d1, #1", RN, f(1e300), 0xffff_ffff, IOC),
        ("vcvt.u32.f64 d1, d1, #1", RN, INF, 0xffff_ffff, IOC),
        // From fixed: only the low 16/32 bits of Dd are the operand.
        (
            "vcvt.f64.s16 d1, d1, #8",
            RN,
            0xdead_beef_0000_fe80,
            f(-1.5),
            0,
        ),
        (
            "vcvt.f64.s16 d1, d1, #8",
            RN,
            0xffff_ffff_ffff_7fff,
            f(127.99609375),
            0,
        ),
        (
            "vcvt.f64.u16 d1, d1, #16",
            RN,
            0x0000_0001_ffff_ffff,
            f(0.9999847412109375),
            0,
        ),
        (
            "vcvt.f64.s32 d1, d1, #32",
            RN,
            0x1234_5678_8000_0000,
            f(-0.5),
            0,
        ),
        ("vcvt.f64.s32 d1, d1, #32", RM, 0, 0, 0),
        (
            "vcvt.f64.u32 d1, d1, #32",
            RN,
            0xffff_ffff_ffff_ffff,
            f(4294967295.0 / 4294967296.0),
            0,
        ),
    ];
    for (i, &(name, mode, src, want, flags)) in rows.iter().enumerate() {
        let mut r = TestRegs {
            fpscr: mode,
            ..TestRegs::default()
        };
        r.set_d(1, src);
        run(enc(name), &mut r, 0);
        let got = (r.d(1), r.fpscr & FLAGS);
        assert_eq!(
            got,
            (want, flags),
            "row {i}: {name} fpscr={mode:#x} d1={src:#018x}: got ({:#018x}, {:#x})",
            got.0,
            got.1
        );
        assert_eq!(r.fpscr & !FLAGS, mode);
    }
}

#[test]
fn vrint_all_modes() {
    use super::vectors::dp;
    let rows: &[(&str, u32, f64, f64, u32)] = &[
        ("vrinta.f64 d1, d2", RN, 2.5, 3.0, 0),
        ("vrinta.f64 d1, d2", RZ, -2.5, -3.0, 0),
        ("vrinta.f64 d1, d2", RN, 0.5, 1.0, 0),
        ("vrinta.f64 d1, d2", RN, -0.3, -0.0, 0),
        ("vrinta.f64 d1, d2", RN, 2.4, 2.0, 0),
        ("vrintn.f64 d1, d2", RP, 2.5, 2.0, 0),
        ("vrintn.f64 d1, d2", RN, 3.5, 4.0, 0),
        ("vrintn.f64 d1, d2", RN, -0.5, -0.0, 0),
        ("vrintp.f64 d1, d2", RM, 2.1, 3.0, 0),
        ("vrintp.f64 d1, d2", RN, -2.1, -2.0, 0),
        ("vrintp.f64 d1, d2", RN, -0.5, -0.0, 0),
        ("vrintm.f64 d1, d2", RP, 2.1, 2.0, 0),
        ("vrintm.f64 d1, d2", RN, -2.1, -3.0, 0),
        ("vrintm.f64 d1, d2", RN, 0.5, 0.0, 0),
        ("vrintz.f64 d1, d2", RM, -2.9, -2.0, 0),
        ("vrintz.f64 d1, d2", RP, 2.9, 2.0, 0),
        ("vrintx.f64 d1, d2", RN, 2.5, 2.0, IXC),
        ("vrintx.f64 d1, d2", RN, 2.0, 2.0, 0),
        ("vrintx.f64 d1, d2", RM, 2.5, 2.0, IXC),
        ("vrintx.f64 d1, d2", RP, 2.5, 3.0, IXC),
        ("vrintx.f64 d1, d2", RZ, -2.5, -2.0, IXC),
        ("vrintr.f64 d1, d2", RN, 2.5, 2.0, 0),
        ("vrintr.f64 d1, d2", RP, 2.5, 3.0, 0),
        ("vrintr.f64 d1, d2", RM, -2.5, -3.0, 0),
        ("vrintr.f64 d1, d2", RZ, -2.5, -2.0, 0),
        (
            "vrinta.f64 d1, d2",
            RN,
            4503599627370497.0,
            4503599627370497.0,
            0,
        ),
        ("vrintm.f64 d1, d2", RN, 1e300, 1e300, 0),
        ("vrintp.f64 d1, d2", RN, f64::INFINITY, f64::INFINITY, 0),
        (
            "vrintx.f64 d1, d2",
            RN,
            4503599627370495.5,
            4503599627370496.0,
            IXC,
        ),
    ];
    for &(name, mode, a, want, flags) in rows {
        assert_eq!(
            dp(name, mode, 0, f(a), 0),
            (f(want), flags),
            "{name} fpscr={mode:#x} {a}"
        );
    }
    let bits: &[(&str, u32, u64, u64, u32)] = &[
        ("vrinta.f64 d1, d2", RN, SNAN_A, SNAN_A | QUIET, IOC),
        ("vrintz.f64 d1, d2", RN, QNAN_B, QNAN_B, 0),
        ("vrintx.f64 d1, d2", DN, QNAN_B, DEFAULT_NAN, 0),
        ("vrintp.f64 d1, d2", RN, MIN_SUB, f(1.0), 0),
        ("vrintp.f64 d1, d2", FZ, MIN_SUB, 0, IDC),
        ("vrintm.f64 d1, d2", RN, MIN_SUB | SIGN, f(-1.0), 0),
        ("vrintx.f64 d1, d2", RN, MIN_SUB, 0, IXC),
        ("vrintx.f64 d1, d2", FZ, MIN_SUB | SIGN, SIGN, IDC),
    ];
    for &(name, mode, a, want, flags) in bits {
        assert_eq!(dp(name, mode, 0, a, 0), (want, flags), "{name} {a:#x}");
    }
}

#[test]
fn vmov_immediate_expands_for_64_bits() {
    for (name, want) in [
        ("vmov.f64 d1, #1.0", 0x3ff0_0000_0000_0000),
        ("vmov.f64 d1, #-0.125", 0xbfc0_0000_0000_0000),
        ("vmov.f64 d1, #31.0", 0x403f_0000_0000_0000),
        ("vmov.f64 d1, #0.1328125", 0x3fc1_0000_0000_0000),
        ("vmov.f64 d1, #-2.0", 0xc000_0000_0000_0000),
    ] {
        let mut r = TestRegs {
            fpscr: FZ | DN | RM,
            ..TestRegs::default()
        };
        run(enc(name), &mut r, 0);
        assert_eq!((r.d(1), r.fpscr), (want, FZ | DN | RM), "{name}");
    }
}

#[test]
fn vsel_reads_apsr() {
    const N: u32 = 1 << 31;
    const Z: u32 = 1 << 30;
    const V: u32 = 1 << 28;
    let (one, two) = (f(1.0), f(2.0));
    for (name, apsr, want) in [
        ("vseleq.f64 d1, d2, d3", Z, one),
        ("vseleq.f64 d1, d2, d3", 0, two),
        ("vselvs.f64 d1, d2, d3", V, one),
        ("vselvs.f64 d1, d2, d3", N | Z, two),
        ("vselge.f64 d1, d2, d3", N | V, one),
        ("vselge.f64 d1, d2, d3", N, two),
        ("vselgt.f64 d1, d2, d3", 0, one),
        ("vselgt.f64 d1, d2, d3", Z, two),
        ("vselgt.f64 d1, d2, d3", V, two),
    ] {
        let mut r = TestRegs::default();
        r.set_d(2, one);
        r.set_d(3, two);
        // The other APSR bits (Q, GE, ITSTATE, exception number) are ignored.
        run(enc(name), &mut r, apsr | 0x080f_fc1f);
        assert_eq!((r.d(1), r.fpscr), (want, 0), "{name} apsr={apsr:#x}");
    }
    // The FPSCR flags are not what VSEL reads.
    let mut r = TestRegs {
        fpscr: Z,
        ..TestRegs::default()
    };
    r.set_d(2, one);
    r.set_d(3, two);
    run(enc("vseleq.f64 d1, d2, d3"), &mut r, 0);
    assert_eq!(r.d(1), two);
}

#[test]
fn vmov_scalar_moves_one_word() {
    let mut r = TestRegs::default();
    r.set_d(1, 0x1111_1111_2222_2222);
    r.set_d(2, 0x3333_3333_4444_4444);
    r.r[4] = 0xdead_beef;
    run(enc("vmov.32 d1[1], r4"), &mut r, 0);
    assert_eq!(r.d(1), 0xdead_beef_2222_2222);
    run(enc("vmov.32 d1[0], r4"), &mut r, 0);
    assert_eq!(r.d(1), 0xdead_beef_dead_beef);
    run(enc("vmov.32 r4, d2[0]"), &mut r, 0);
    assert_eq!(r.r[4], 0x4444_4444);
    run(enc("vmov.32 r4, d2[1]"), &mut r, 0);
    assert_eq!(r.r[4], 0x3333_3333);
    assert_eq!(r.fpscr, 0);
}
