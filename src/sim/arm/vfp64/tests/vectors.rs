//! Known vectors for the arithmetic: every rounding mode, the cumulative
//! flags, FZ, DN, the NaN rules and `VCMP`'s NZCV. Expected values are worked
//! out by hand from DDI 0403E §A2.5's pseudocode (`FPRound`, `FPProcessNaNs`,
//! `FPMulAdd`, `FPCompare`, `FPMaxNum`).

use super::{TestRegs, enc, run};

pub(super) const RN: u32 = 0;
pub(super) const RP: u32 = 1 << 22;
pub(super) const RM: u32 = 2 << 22;
pub(super) const RZ: u32 = 3 << 22;
pub(super) const FZ: u32 = 1 << 24;
pub(super) const DN: u32 = 1 << 25;

pub(super) const IOC: u32 = 1 << 0;
pub(super) const DZC: u32 = 1 << 1;
pub(super) const OFC: u32 = 1 << 2;
pub(super) const UFC: u32 = 1 << 3;
pub(super) const IXC: u32 = 1 << 4;
pub(super) const IDC: u32 = 1 << 7;
/// The cumulative bits.
pub(super) const FLAGS: u32 = 0x9f;

pub(super) const SIGN: u64 = 1 << 63;
pub(super) const INF: u64 = 0x7ff0_0000_0000_0000;
pub(super) const MAX: u64 = 0x7fef_ffff_ffff_ffff;
pub(super) const MIN_NORM: u64 = 0x0010_0000_0000_0000;
pub(super) const MIN_SUB: u64 = 0x0000_0000_0000_0001;
pub(super) const DEFAULT_NAN: u64 = 0x7ff8_0000_0000_0000;
pub(super) const QUIET: u64 = 1 << 51;
pub(super) const QNAN_A: u64 = 0x7ff8_0000_0000_00a1;
pub(super) const QNAN_B: u64 = 0x7ffc_0000_0000_00b2;
pub(super) const SNAN_A: u64 = 0x7ff0_0000_0000_00a3;
pub(super) const SNAN_B: u64 = 0xfff4_0000_0000_00b4;
pub(super) const SNAN_C: u64 = 0x7ff0_0000_0000_00c5;

// The instructions of the tables (all `d1 = op(d1, d2, d3)`).
const ADD: &str = "vadd.f64 d1, d2, d3";
const SUB: &str = "vsub.f64 d1, d2, d3";
const MUL: &str = "vmul.f64 d1, d2, d3";
const NMUL: &str = "vnmul.f64 d1, d2, d3";
const DIV: &str = "vdiv.f64 d1, d2, d3";
const SQRT: &str = "vsqrt.f64 d1, d2";
const MLA: &str = "vmla.f64 d1, d2, d3";
const MLS: &str = "vmls.f64 d1, d2, d3";
const NMLA: &str = "vnmla.f64 d1, d2, d3";
const NMLS: &str = "vnmls.f64 d1, d2, d3";
const FMA: &str = "vfma.f64 d1, d2, d3";
const FMS: &str = "vfms.f64 d1, d2, d3";
const FNMA: &str = "vfnma.f64 d1, d2, d3";
const FNMS: &str = "vfnms.f64 d1, d2, d3";
const MAXNM: &str = "vmaxnm.f64 d1, d2, d3";
const MINNM: &str = "vminnm.f64 d1, d2, d3";

/// The bits of an `f64`.
pub(super) fn f(x: f64) -> u64 {
    x.to_bits()
}

/// `2^e` as bits (normal range).
pub(super) fn p2(e: i32) -> u64 {
    ((1023 + e) as u64) << 52
}

/// Runs `name` with `d1 = acc`, `d2 = a`, `d3 = b` under `fpscr` (mode
/// bits); returns `d1` and the cumulative flags raised.
pub(super) fn dp(name: &str, fpscr: u32, acc: u64, a: u64, b: u64) -> (u64, u32) {
    use super::super::FpRegs;
    let mut r = TestRegs {
        fpscr,
        ..TestRegs::default()
    };
    r.set_d(1, acc);
    r.set_d(2, a);
    r.set_d(3, b);
    run(enc(name), &mut r, 0);
    assert_eq!(
        r.fpscr & !FLAGS,
        fpscr,
        "{name}: only the cumulative bits change"
    );
    assert_eq!((r.d(2), r.d(3)), (a, b), "{name}: sources unchanged");
    (r.d(1), r.fpscr & FLAGS)
}

/// One row: instruction, FPSCR mode, d1 (accumulator), d2, d3, expected d1
/// and expected flags.
type Row = (&'static str, u32, u64, u64, u64, u64, u32);

fn check(rows: &[Row]) {
    for (i, &(name, mode, acc, a, b, want, flags)) in rows.iter().enumerate() {
        let got = dp(name, mode, acc, a, b);
        assert_eq!(
            got,
            (want, flags),
            "row {i}: {name} fpscr={mode:#x} d1={acc:#018x} d2={a:#018x} d3={b:#018x}: \
             got ({:#018x}, {:#x}), want ({want:#018x}, {flags:#x})",
            got.0,
            got.1
        );
    }
}

#[test]
fn vadd_vsub_rounding_modes_and_overflow() {
    let one = f(1.0);
    let tiny = p2(-53);
    let next = one + 1;
    check(&[
        (ADD, RN, 0, one, tiny, one, IXC),
        (ADD, RP, 0, one, tiny, next, IXC),
        (ADD, RM, 0, one, tiny, one, IXC),
        (ADD, RZ, 0, one, tiny, one, IXC),
        (ADD, RN, 0, one | SIGN, tiny | SIGN, one | SIGN, IXC),
        (ADD, RM, 0, one | SIGN, tiny | SIGN, next | SIGN, IXC),
        (ADD, RP, 0, one | SIGN, tiny | SIGN, one | SIGN, IXC),
        (ADD, RZ, 0, one | SIGN, tiny | SIGN, one | SIGN, IXC),
        // A tie with an odd last bit goes to even.
        (ADD, RN, 0, next, tiny, one + 2, IXC),
        (ADD, RN, 0, MAX, MAX, INF, OFC | IXC),
        (ADD, RZ, 0, MAX, MAX, MAX, OFC | IXC),
        (ADD, RM, 0, MAX, MAX, MAX, OFC | IXC),
        (ADD, RP, 0, MAX, MAX, INF, OFC | IXC),
        (ADD, RP, 0, MAX | SIGN, MAX | SIGN, MAX | SIGN, OFC | IXC),
        (ADD, RM, 0, MAX | SIGN, MAX | SIGN, INF | SIGN, OFC | IXC),
        // Exact cancellation is +0, except toward minus infinity.
        (ADD, RN, 0, one, one | SIGN, 0, 0),
        (ADD, RM, 0, one, one | SIGN, SIGN, 0),
        (SUB, RN, 0, one, one, 0, 0),
        (SUB, RM, 0, one, one, SIGN, 0),
        (ADD, RN, 0, 0, SIGN, 0, 0),
        (ADD, RM, 0, 0, SIGN, SIGN, 0),
        (ADD, RN, 0, SIGN, SIGN, SIGN, 0),
        (SUB, RN, 0, f(2.5), f(0.5), f(2.0), 0),
        (ADD, RN, 0, INF, INF | SIGN, DEFAULT_NAN, IOC),
        (SUB, RN, 0, INF, INF, DEFAULT_NAN, IOC),
        (ADD, RN, 0, INF, one, INF, 0),
        (SUB, RN, 0, one, INF, INF | SIGN, 0),
    ]);
}

#[test]
fn vadd_nan_propagation_and_default_nan() {
    let one = f(1.0);
    let neg_q = 0xfff8_0000_0000_0007;
    check(&[
        (ADD, RN, 0, QNAN_A, one, QNAN_A, 0),
        (ADD, RN, 0, one, neg_q, neg_q, 0),
        (ADD, RN, 0, SNAN_A, one, SNAN_A | QUIET, IOC),
        // Signalling first, whichever operand it is.
        (ADD, RN, 0, QNAN_A, SNAN_B, SNAN_B | QUIET, IOC),
        (ADD, RN, 0, SNAN_A, SNAN_B, SNAN_A | QUIET, IOC),
        (ADD, RN, 0, QNAN_A, QNAN_B, QNAN_A, 0),
        (SUB, RN, 0, one, QNAN_B, QNAN_B, 0),
        (ADD, DN, 0, QNAN_A, one, DEFAULT_NAN, 0),
        (ADD, DN, 0, SNAN_A, one, DEFAULT_NAN, IOC),
        (ADD, DN, 0, INF, INF | SIGN, DEFAULT_NAN, IOC),
        (ADD, DN, 0, one, one, f(2.0), 0),
    ]);
}

#[test]
fn flush_to_zero_inputs_and_outputs() {
    let just_above = MIN_NORM + 1;
    check(&[
        (ADD, RN, 0, MIN_SUB, MIN_SUB, 2, 0),
        (ADD, FZ, 0, MIN_SUB, MIN_SUB, 0, IDC),
        (ADD, FZ, 0, MIN_SUB | SIGN, MIN_SUB | SIGN, SIGN, IDC),
        // An exact subnormal result: no flags at all without FZ ...
        (SUB, RN, 0, just_above, MIN_NORM, MIN_SUB, 0),
        // ... flushed with UFC only (no IXC) with FZ.
        (SUB, FZ, 0, just_above, MIN_NORM, 0, UFC),
        (SUB, FZ, 0, MIN_NORM, just_above, SIGN, UFC),
        (SUB, RN, 0, MIN_NORM, MIN_SUB, 0x000f_ffff_ffff_ffff, 0),
        (SUB, FZ, 0, MIN_NORM, MIN_SUB, MIN_NORM, IDC),
        // IDC is raised even when the result is a NaN.
        (ADD, FZ, 0, QNAN_A, MIN_SUB, QNAN_A, IDC),
        (ADD, FZ | DN, 0, MIN_SUB, SNAN_B, DEFAULT_NAN, IOC | IDC),
        (MUL, RN, 0, MIN_NORM, f(0.5), 0x0008_0000_0000_0000, 0),
        (MUL, FZ, 0, MIN_NORM, f(0.5), 0, UFC),
        (MUL, FZ | RP, 0, MIN_NORM | SIGN, f(0.5), SIGN, UFC),
        (MUL, RN, 0, MIN_SUB, p2(1000), p2(-74), 0),
        (MUL, FZ, 0, MIN_SUB, p2(1000), 0, IDC),
        // A result that rounds up to the smallest normal is tiny before
        // rounding, so FZ flushes it.
        (MUL, FZ, 0, 0x001f_ffff_ffff_ffff, f(0.5), 0, UFC),
        (
            MUL,
            RN,
            0,
            0x001f_ffff_ffff_ffff,
            f(0.5),
            MIN_NORM,
            UFC | IXC,
        ),
        (DIV, RN, 0, MIN_NORM, p2(52), MIN_SUB, 0),
        (DIV, FZ, 0, MIN_NORM, p2(52), 0, UFC),
        (DIV, RN, 0, f(1.0), MIN_SUB, INF, OFC | IXC),
        (DIV, FZ, 0, f(1.0), MIN_SUB, INF, DZC | IDC),
    ]);
}

#[test]
fn vmul_vnmul_rounding_underflow_and_specials() {
    let third = 0x3fd5_5555_5555_5555;
    let below_one = 0x3fef_ffff_ffff_ffff;
    let half = f(0.5);
    check(&[
        // 3 * RN(1/3) = 1 - 2^-54 exactly: a tie between 1 - 2^-53 and 1.
        (MUL, RN, 0, f(3.0), third, f(1.0), IXC),
        (MUL, RZ, 0, f(3.0), third, below_one, IXC),
        (MUL, RM, 0, f(3.0), third, below_one, IXC),
        (MUL, RP, 0, f(3.0), third, f(1.0), IXC),
        (
            MUL,
            RN,
            0,
            MIN_NORM + 1,
            half,
            0x0008_0000_0000_0000,
            UFC | IXC,
        ),
        (
            MUL,
            RP,
            0,
            MIN_NORM + 1,
            half,
            0x0008_0000_0000_0001,
            UFC | IXC,
        ),
        (MUL, RN, 0, MIN_SUB, half, 0, UFC | IXC),
        (MUL, RP, 0, MIN_SUB, half, MIN_SUB, UFC | IXC),
        (MUL, RM, 0, MIN_SUB, half, 0, UFC | IXC),
        (MUL, RM, 0, MIN_SUB | SIGN, half, MIN_SUB | SIGN, UFC | IXC),
        (MUL, RZ, 0, MIN_SUB | SIGN, half, SIGN, UFC | IXC),
        (MUL, RN, 0, MAX, f(2.0), INF, OFC | IXC),
        (MUL, RZ, 0, MAX, f(2.0), MAX, OFC | IXC),
        (MUL, RN, 0, 0, INF, DEFAULT_NAN, IOC),
        (MUL, RN, 0, INF | SIGN, 0, DEFAULT_NAN, IOC),
        (MUL, RN, 0, SIGN, f(5.0), SIGN, 0),
        (MUL, RN, 0, INF | SIGN, f(-2.0), INF, 0),
        (MUL, RN, 0, SNAN_A, 0, SNAN_A | QUIET, IOC),
        (NMUL, RN, 0, f(2.0), f(3.0), f(-6.0), 0),
        (NMUL, RM, 0, f(3.0), third, below_one | SIGN, IXC),
        // FPNeg of the product: a propagated NaN, and even the default NaN,
        // come out with the sign flipped.
        (NMUL, RN, 0, QNAN_A, f(1.0), QNAN_A | SIGN, 0),
        (NMUL, DN, 0, QNAN_A, f(1.0), DEFAULT_NAN | SIGN, 0),
        (NMUL, RN, 0, 0, INF, DEFAULT_NAN | SIGN, IOC),
    ]);
}

#[test]
fn vdiv_rounding_and_division_by_zero() {
    let third = 0x3fd5_5555_5555_5555;
    let one = f(1.0);
    check(&[
        (DIV, RN, 0, one, f(3.0), third, IXC),
        (DIV, RP, 0, one, f(3.0), third + 1, IXC),
        (DIV, RM, 0, one, f(3.0), third, IXC),
        (DIV, RZ, 0, one, f(3.0), third, IXC),
        (DIV, RM, 0, one | SIGN, f(3.0), (third + 1) | SIGN, IXC),
        (DIV, RN, 0, f(6.0), f(-3.0), f(-2.0), 0),
        (DIV, RN, 0, one, 0, INF, DZC),
        (DIV, RN, 0, one | SIGN, 0, INF | SIGN, DZC),
        (DIV, RN, 0, one, SIGN, INF | SIGN, DZC),
        (DIV, RN, 0, 0, 0, DEFAULT_NAN, IOC),
        (DIV, RN, 0, INF, INF, DEFAULT_NAN, IOC),
        (DIV, RN, 0, INF, 0, INF, 0),
        (DIV, RN, 0, 0, f(5.0), 0, 0),
        (DIV, RN, 0, f(5.0), INF, 0, 0),
        (DIV, RN, 0, f(-5.0), INF, SIGN, 0),
        (DIV, RN, 0, SNAN_A, 0, SNAN_A | QUIET, IOC),
        (DIV, RN, 0, MAX, f(0.5), INF, OFC | IXC),
    ]);
}

#[test]
fn vsqrt_rounding_and_specials() {
    let lo = 0x3ff6_a09e_667f_3bcc;
    let hi = lo + 1;
    let two = f(2.0);
    check(&[
        (SQRT, RN, 0, two, 0, hi, IXC),
        (SQRT, RP, 0, two, 0, hi, IXC),
        (SQRT, RM, 0, two, 0, lo, IXC),
        (SQRT, RZ, 0, two, 0, lo, IXC),
        (SQRT, RN, 0, f(4.0), 0, two, 0),
        (SQRT, RN, 0, SIGN, 0, SIGN, 0),
        (SQRT, RN, 0, INF, 0, INF, 0),
        (SQRT, RN, 0, f(-1.0), 0, DEFAULT_NAN, IOC),
        (SQRT, RN, 0, INF | SIGN, 0, DEFAULT_NAN, IOC),
        (SQRT, RN, 0, QNAN_A, 0, QNAN_A, 0),
        (SQRT, RN, 0, SNAN_B, 0, SNAN_B | QUIET, IOC),
        (SQRT, DN, 0, SNAN_B, 0, DEFAULT_NAN, IOC),
        (SQRT, RN, 0, MIN_SUB, 0, p2(-537), 0),
        (SQRT, FZ, 0, MIN_SUB, 0, 0, IDC),
        (SQRT, RN, 0, MIN_SUB | SIGN, 0, DEFAULT_NAN, IOC),
        (SQRT, FZ, 0, MIN_SUB | SIGN, 0, SIGN, IDC),
    ]);
}

#[test]
fn multiply_accumulate_chained_versus_fused() {
    let x = f(1.0) + 1; // 1 + 2^-52; x * x = 1 + 2^-51 + 2^-104
    let acc = (f(1.0) + 2) | SIGN; // -(1 + 2^-51)
    let (one, two, three) = (f(1.0), f(2.0), f(3.0));
    check(&[
        (FMA, RN, acc, x, x, p2(-104), 0),
        (MLA, RN, acc, x, x, 0, IXC),
        (MLA, RM, acc, x, x, SIGN, IXC),
        (FMA, RM, acc, x, x, p2(-104), 0),
        (MLA, RN, one, two, three, f(7.0), 0),
        (MLS, RN, one, two, three, f(-5.0), 0),
        (NMLA, RN, one, two, three, f(-7.0), 0),
        (NMLS, RN, one, two, three, f(5.0), 0),
        (FMA, RN, one, two, three, f(7.0), 0),
        (FMS, RN, one, two, three, f(-5.0), 0),
        (FNMA, RN, one, two, three, f(-7.0), 0),
        (FNMS, RN, one, two, three, f(5.0), 0),
        // One rounding: 1 + 2^-53 is a tie.
        (FMA, RN, one, p2(-53), one, one, IXC),
        (FMA, RP, one, p2(-53), one, one + 1, IXC),
        (FMA, RN, f(-6.0), two, three, 0, 0),
        (FMA, RM, f(-6.0), two, three, SIGN, 0),
        (FMA, RN, SIGN, 0, f(5.0), 0, 0),
        (FMA, RN, SIGN, SIGN, f(5.0), SIGN, 0),
        (FMA, RN, INF, INF | SIGN, one, DEFAULT_NAN, IOC),
        (FMA, RN, MAX, MAX, one, INF, OFC | IXC),
        (MLA, RN, MAX, MAX, one, INF, OFC | IXC),
        // Fused: an exact subnormal result, flushed under FZ with UFC only.
        (FMA, RN, MIN_NORM | SIGN, MIN_NORM + 1, one, MIN_SUB, 0),
        (FMA, FZ, MIN_NORM | SIGN, MIN_NORM + 1, one, 0, UFC),
        // Chained: the product is flushed (UFC), then the sum is exact.
        (MLA, FZ, one, MIN_NORM, f(0.5), one, UFC),
    ]);
}

#[test]
fn multiply_accumulate_nan_rules() {
    let one = f(1.0);
    check(&[
        // FPMulAdd: a quiet-NaN addend loses to inf * 0 ...
        (FMA, RN, QNAN_A, INF, 0, DEFAULT_NAN, IOC),
        (FMA, RN, QNAN_A, 0, INF | SIGN, DEFAULT_NAN, IOC),
        // ... a signalling one does not.
        (FMA, RN, SNAN_A, INF, 0, SNAN_A | QUIET, IOC),
        (FMA, RN, QNAN_A, f(2.0), f(3.0), QNAN_A, 0),
        // The chained form multiplies first: FPMul(inf, 0) is the default
        // NaN, then FPAdd picks the addend's NaN (first operand).
        (MLA, RN, QNAN_A, INF, 0, QNAN_A, IOC),
        // FPProcessNaNs3 order: addend, op1, op2; signalling first.
        (FMA, RN, QNAN_A, SNAN_B, one, SNAN_B | QUIET, IOC),
        (FMA, RN, QNAN_A, QNAN_B, one, QNAN_A, 0),
        (FMA, RN, one, QNAN_B, SNAN_C, SNAN_C | QUIET, IOC),
        (FMA, RN, one, QNAN_B, QNAN_A, QNAN_B, 0),
        (FMA, RN, SNAN_A, SNAN_B, SNAN_C, SNAN_A | QUIET, IOC),
        // The negations come before FPMulAdd, so they reach the NaN.
        (FMS, RN, one, QNAN_B, one, QNAN_B ^ SIGN, 0),
        (FNMA, RN, QNAN_A, one, one, QNAN_A | SIGN, 0),
        (FNMS, RN, QNAN_A, one, one, QNAN_A | SIGN, 0),
        (NMLA, RN, QNAN_A, one, one, QNAN_A | SIGN, 0),
        (FMA, DN, QNAN_A, one, one, DEFAULT_NAN, 0),
        (FMA, DN, SNAN_A, one, one, DEFAULT_NAN, IOC),
        // FZ: a flushed subnormal is a zero for the inf * 0 test, and IDC is
        // raised for it.
        (FMA, FZ, QNAN_A, MIN_SUB, INF, DEFAULT_NAN, IOC | IDC),
        (FMA, RN, QNAN_A, MIN_SUB, INF, QNAN_A, 0),
        (FMA, FZ, QNAN_A, MIN_SUB, one, QNAN_A, IDC),
        (FMA, FZ, MIN_SUB, INF, 0, DEFAULT_NAN, IOC | IDC),
    ]);
}

#[test]
fn vmaxnm_vminnm() {
    let (one, two) = (f(1.0), f(2.0));
    check(&[
        (MAXNM, RN, 0, one, two, two, 0),
        (MINNM, RN, 0, one, two, one, 0),
        (MAXNM, RN, 0, one, QNAN_B, one, 0),
        (MAXNM, RN, 0, QNAN_A, one, one, 0),
        (MINNM, RN, 0, QNAN_A, one, one, 0),
        (MAXNM, RN, 0, QNAN_A, INF | SIGN, INF | SIGN, 0),
        (MINNM, RN, 0, INF, QNAN_B, INF, 0),
        (MAXNM, RN, 0, one, SNAN_B, SNAN_B | QUIET, IOC),
        (MINNM, RN, 0, SNAN_A, QNAN_B, SNAN_A | QUIET, IOC),
        (MAXNM, RN, 0, QNAN_A, SNAN_B, SNAN_B | QUIET, IOC),
        (MAXNM, RN, 0, QNAN_A, QNAN_B, QNAN_A, 0),
        (MAXNM, DN, 0, QNAN_A, QNAN_B, DEFAULT_NAN, 0),
        (MAXNM, DN, 0, QNAN_A, one, one, 0),
        (MAXNM, RN, 0, 0, SIGN, 0, 0),
        (MAXNM, RN, 0, SIGN, 0, 0, 0),
        (MINNM, RN, 0, 0, SIGN, SIGN, 0),
        (MINNM, RN, 0, SIGN, 0, SIGN, 0),
        (MAXNM, RN, 0, f(-5.0), INF | SIGN, f(-5.0), 0),
        (MAXNM, RN, 0, MIN_SUB, MIN_SUB | SIGN, MIN_SUB, 0),
        (MINNM, RN, 0, MIN_SUB, MIN_SUB | SIGN, MIN_SUB | SIGN, 0),
        (MAXNM, FZ, 0, MIN_SUB, MIN_SUB | SIGN, 0, IDC),
        (MINNM, FZ, 0, MIN_SUB, MIN_SUB | SIGN, SIGN, IDC),
    ]);
}

#[test]
fn bit_operations_raise_nothing_and_keep_signalling_nans() {
    check(&[
        ("vmov.f64 d1, d2", FZ | DN, 0, SNAN_A, 0, SNAN_A, 0),
        ("vmov.f64 d1, d2", FZ, 0, MIN_SUB, 0, MIN_SUB, 0),
        ("vabs.f64 d1, d2", FZ | DN, 0, SNAN_B, 0, SNAN_B & !SIGN, 0),
        ("vabs.f64 d1, d2", FZ, 0, MIN_SUB | SIGN, 0, MIN_SUB, 0),
        ("vabs.f64 d1, d2", RN, 0, SIGN, 0, 0, 0),
        ("vneg.f64 d1, d2", FZ | DN, 0, SNAN_A, 0, SNAN_A | SIGN, 0),
        ("vneg.f64 d1, d2", RN, 0, 0, 0, SIGN, 0),
        ("vneg.f64 d1, d2", RN, 0, f(-3.5), 0, f(3.5), 0),
    ]);
}

#[test]
fn vcmp_nzcv_and_flags() {
    const N: u32 = 1 << 31;
    const Z: u32 = 1 << 30;
    const C: u32 = 1 << 29;
    const V: u32 = 1 << 28;
    let (one, two) = (f(1.0), f(2.0));
    // (instruction, mode, d1, d2, NZCV, flags)
    let rows: &[(&str, u32, u64, u64, u32, u32)] = &[
        ("vcmp.f64 d1, d2", RN, one, two, N, 0),
        ("vcmp.f64 d1, d2", RN, two, one, C, 0),
        ("vcmp.f64 d1, d2", RN, one, one, Z | C, 0),
        ("vcmp.f64 d1, d2", RN, SIGN, 0, Z | C, 0),
        ("vcmp.f64 d1, d2", RN, INF | SIGN, INF, N, 0),
        ("vcmp.f64 d1, d2", RN, INF, INF, Z | C, 0),
        ("vcmp.f64 d1, d2", RN, QNAN_A, one, C | V, 0),
        ("vcmpe.f64 d1, d2", RN, QNAN_A, one, C | V, IOC),
        ("vcmp.f64 d1, d2", RN, SNAN_A, one, C | V, IOC),
        ("vcmp.f64 d1, d2", RN, one, SNAN_B, C | V, IOC),
        ("vcmpe.f64 d1, d2", RN, one, two, N, 0),
        ("vcmp.f64 d1, d2", RN, MIN_SUB, MIN_SUB | SIGN, C, 0),
        ("vcmp.f64 d1, d2", FZ, MIN_SUB, MIN_SUB | SIGN, Z | C, IDC),
        ("vcmp.f64 d1, #0.0", RN, MIN_SUB, 0, C, 0),
        ("vcmp.f64 d1, #0.0", FZ, MIN_SUB, 0, Z | C, IDC),
        ("vcmp.f64 d1, #0.0", RN, f(-1.0), 0, N, 0),
        ("vcmp.f64 d1, #0.0", RN, SIGN, 0, Z | C, 0),
        ("vcmp.f64 d1, #0.0", RN, QNAN_A, 0, C | V, 0),
        ("vcmpe.f64 d1, #0.0", RN, QNAN_A, 0, C | V, IOC),
        ("vcmpe.f64 d1, #0.0", DN, SNAN_A, 0, C | V, IOC),
    ];
    for &(name, mode, a, b, nzcv, flags) in rows {
        use super::super::FpRegs;
        // Start from NZCV = 1111 to see it replaced, and IXC already set to
        // see the cumulative bits kept.
        let before = mode | 0xf000_0000 | IXC;
        let mut r = TestRegs {
            fpscr: before,
            ..TestRegs::default()
        };
        r.set_d(1, a);
        r.set_d(2, b);
        run(enc(name), &mut r, 0);
        assert_eq!(
            r.fpscr,
            (before & 0x0fff_ffff) | nzcv | flags,
            "{name} fpscr={mode:#x} {a:#018x} vs {b:#018x}"
        );
        assert_eq!((r.d(1), r.d(2)), (a, b), "{name}: registers unchanged");
    }
}
