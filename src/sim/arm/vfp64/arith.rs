//! Arm's floating-point pseudocode for 64-bit operands, over rsemu's soft float.
//!
//! Every rounded value comes out of `rsemu::float` (the crate's IEEE 754
//! implementation, which rsemu's own single-precision path uses). What is here
//! are the rules of DDI 0403E §A2.5 ("Floating-point pseudocode") that IEEE
//! leaves open or that `rsemu::float` answers differently, each written for
//! binary64 the way `rsemu::cpu::arm::v7m::fp` writes them for binary32:
//!
//! * `FPProcessNaNs` on the operands as given, also for `FPSub` (whose `op2`
//!   NaN keeps its sign; `rsemu::float::sub` negates `op2` first);
//!   `FPProcessNaNs3` (signalling NaN first, addend first) and `FPMulAdd`'s
//!   rule that a quiet-NaN addend loses to `∞ × 0` (default NaN, IOC);
//! * `FPUnpack` with `FPSCR.FZ`: a subnormal operand is a zero (IDC), also for
//!   the special-case tests of `FPMulAdd` and `FPCompare`, and IDC is raised
//!   even when the result is a propagated NaN;
//! * `FPRound` with `FPSCR.FZ`: a tiny result is a zero with **only** UFC
//!   (`rsemu::float` also raises inexact there, as x86's FTZ does; [`fz`]
//!   removes it);
//! * `FPCompare`'s NZCV, `FPMaxNum`/`FPMinNum`'s quiet-NaN substitution, and
//!   `FPConvert`'s flush rules (a half operand or result is never flushed).
//!
//! Every function returns the result bits and the exceptions raised;
//! `Flags::DENORMAL` is IDC.

use rsemu::float::{self, B16, B32, B64, Category, Env, Flags, Propagate};

/// The sign bit.
const SIGN: u64 = 1 << 63;
/// `FPDefaultNaN()` for 64 bits (DDI 0403E §A2.5, "Floating-point pseudocode").
const DEFAULT_NAN: u64 = 0x7ff8_0000_0000_0000;
/// The quiet bit of a NaN.
const QUIET: u64 = 1 << 51;

/// The class of a double, as encoded (no flushing).
fn class(v: u64) -> Category {
    float::classify::<B64>(v)
}

fn is_subnormal(v: u64) -> bool {
    matches!(
        class(v),
        Category::PositiveSubnormal | Category::NegativeSubnormal
    )
}

fn is_zero(v: u64) -> bool {
    matches!(class(v), Category::PositiveZero | Category::NegativeZero)
}

fn is_inf(v: u64) -> bool {
    matches!(
        class(v),
        Category::PositiveInfinity | Category::NegativeInfinity
    )
}

fn is_qnan(v: u64) -> bool {
    class(v) == Category::QuietNan
}

fn is_snan(v: u64) -> bool {
    class(v) == Category::SignalingNan
}

/// `FPUnpack`'s flush-to-zero: the operand as the special-case tests see it
/// (a subnormal is a zero of its sign under `FPSCR.FZ`) and IDC if flushed.
fn unpack(v: u64, env: Env) -> (u64, Flags) {
    if is_subnormal(v) && env.subnormal_inputs.flushes() {
        let f = if env.subnormal_inputs.reports() {
            Flags::DENORMAL
        } else {
            Flags::NONE
        };
        (v & SIGN, f)
    } else {
        (v, Flags::NONE)
    }
}

/// `FPRound` under `FPSCR.FZ`: a flushed result raises UFC only. With
/// `flush_outputs`, `rsemu::float` reports underflow exactly when it flushed
/// (tininess before rounding), and then also inexact, which Arm does not.
fn fz(env: Env, (v, f): (u64, Flags)) -> (u64, Flags) {
    if env.flush_outputs && f.contains(Flags::UNDERFLOW) {
        (v, Flags(f.0 & !Flags::INEXACT.0))
    } else {
        (v, f)
    }
}

/// `FPNeg`: flips the sign, nothing else (no NaN quietening, no flags).
pub(super) const fn neg(a: u64) -> u64 {
    a ^ SIGN
}

/// `FPAbs`: clears the sign.
pub(super) const fn abs(a: u64) -> u64 {
    a & !SIGN
}

/// The default NaN of `env`'s profile.
fn default_nan(env: Env) -> u64 {
    if env.nan.default_sign {
        DEFAULT_NAN | SIGN
    } else {
        DEFAULT_NAN
    }
}

/// `FPAdd`.
pub(super) fn add(a: u64, b: u64, env: Env) -> (u64, Flags) {
    fz(env, float::add::<B64>(a, b, env))
}

/// `FPSub`. The NaN operands are processed before the subtraction, so a
/// propagated `op2` NaN keeps its sign (`rsemu::float::sub` negates `op2`
/// first and would flip it).
pub(super) fn sub(a: u64, b: u64, env: Env) -> (u64, Flags) {
    if let Some((v, f)) = process_nans(&[a, b], env) {
        let (_, fa) = unpack(a, env);
        let (_, fb) = unpack(b, env);
        return (v, f | fa | fb);
    }
    fz(env, float::sub::<B64>(a, b, env))
}

/// `FPMul`.
pub(super) fn mul(a: u64, b: u64, env: Env) -> (u64, Flags) {
    fz(env, float::mul::<B64>(a, b, env))
}

/// `FPDiv`.
pub(super) fn div(a: u64, b: u64, env: Env) -> (u64, Flags) {
    fz(env, float::div::<B64>(a, b, env))
}

/// `FPSqrt`.
pub(super) fn sqrt(a: u64, env: Env) -> (u64, Flags) {
    fz(env, float::sqrt::<B64>(a, env))
}

/// `FPProcessNaNs`/`FPProcessNaNs3(op1, ...)`: the first signalling NaN, else
/// the first quiet NaN, quietened (or the default NaN with `FPSCR.DN`); IOC
/// if any operand is signalling. `None` when no operand is a NaN.
fn process_nans(ops: &[u64], env: Env) -> Option<(u64, Flags)> {
    let pick = ops
        .iter()
        .find(|&&v| is_snan(v))
        .or_else(|| ops.iter().find(|&&v| is_qnan(v)))?;
    let flags = if ops.iter().any(|&v| is_snan(v)) {
        Flags::INVALID
    } else {
        Flags::NONE
    };
    if env.nan.propagate == Propagate::Default {
        return Some((default_nan(env), flags));
    }
    Some((pick | QUIET, flags))
}

/// `FPMulAdd(addend, op1, op2)`: `addend + op1 × op2`, rounded once.
///
/// All three operands are unpacked first (IDC for each flushed one). The NaN
/// order is addend, op1, op2; a quiet-NaN addend with `∞ × 0` gives the
/// default NaN with IOC instead of the addend.
pub(super) fn mul_add(addend: u64, op1: u64, op2: u64, env: Env) -> (u64, Flags) {
    let (a, fa) = unpack(addend, env);
    let (x, f1) = unpack(op1, env);
    let (y, f2) = unpack(op2, env);
    let idc = fa | f1 | f2;
    let inf_times_zero = (is_inf(x) && is_zero(y)) || (is_zero(x) && is_inf(y));
    if is_qnan(a) && inf_times_zero {
        return (default_nan(env), Flags::INVALID | idc);
    }
    if let Some((v, f)) = process_nans(&[a, x, y], env) {
        return (v, f | idc);
    }
    let (v, f) = fz(env, float::fma::<B64>(x, y, a, env));
    (v, f | idc)
}

/// `FPCompare(op1, op2, quiet_nan_exc)`: the NZCV that `VCMP`/`VCMPE` write
/// to `FPSCR[31:28]` (in place) and the exceptions. Unordered is `0011`;
/// IOC for a signalling NaN, or for any NaN with `signal_all` (`VCMPE`).
pub(super) fn compare(a: u64, b: u64, signal_all: bool, env: Env) -> (u32, Flags) {
    use core::cmp::Ordering;
    const N: u32 = 1 << 31;
    const Z: u32 = 1 << 30;
    const C: u32 = 1 << 29;
    const V: u32 = 1 << 28;
    let (a, fa) = unpack(a, env);
    let (b, fb) = unpack(b, env);
    let mut flags = fa | fb;
    let nzcv = match float::compare::<B64>(a, b) {
        Some(Ordering::Equal) => Z | C,
        Some(Ordering::Less) => N,
        Some(Ordering::Greater) => C,
        None => {
            if is_snan(a) || is_snan(b) || signal_all {
                flags |= Flags::INVALID;
            }
            C | V
        }
    };
    (nzcv, flags)
}

/// `FPMaxNum`/`FPMinNum` (`VMAXNM`/`VMINNM`): a single quiet NaN is replaced
/// by `-∞` (max) or `+∞` (min) before `FPMax`/`FPMin`, so the other operand
/// wins; a signalling NaN still propagates (with IOC).
pub(super) fn max_min_num(a: u64, b: u64, want_min: bool, env: Env) -> (u64, Flags) {
    const INF: u64 = 0x7ff0_0000_0000_0000;
    let identity = if want_min { INF } else { INF | SIGN };
    let (a, b) = match (is_qnan(a), is_qnan(b)) {
        (true, false) => (identity, b),
        (false, true) => (a, identity),
        _ => (a, b),
    };
    if want_min {
        float::min::<B64>(a, b, env)
    } else {
        float::max::<B64>(a, b, env)
    }
}

/// `FPRoundInt(op, rounding, exact)`: `VRINT*`. Only `exact` (`VRINTX`)
/// raises inexact; a zero result keeps the operand's sign.
pub(super) fn round_int(a: u64, env: Env, exact: bool) -> (u64, Flags) {
    float::round_to_integral::<B64>(a, env, exact)
}

/// `FPDoubleToSingle` / `FPConvert(op, 32)`: `FPSCR.FZ` flushes a subnormal
/// double operand (IDC) and a tiny single result (UFC).
pub(super) fn to_single(a: u64, env: Env) -> (u32, Flags) {
    let (v, f) = fz(env, float::convert::<B64, B32>(a, env));
    (v as u32, f)
}

/// `FPSingleToDouble` / `FPConvert(op, 64)`: exact; `FPSCR.FZ` flushes a
/// subnormal single operand (IDC).
pub(super) fn from_single(a: u32, env: Env) -> (u64, Flags) {
    float::convert::<B32, B64>(u64::from(a), env)
}

/// `FPConvert(op, 16)` (Armv8-M `FPUnpackCV`/`FPRoundCV`): the double operand
/// is flushed under `FPSCR.FZ` (IDC), the half result never is. IEEE half
/// format (`FPSCR.AHP` is RES0 on rsemu's FPU).
pub(super) fn to_half(a: u64, env: Env) -> (u16, Flags) {
    let env = Env {
        flush_outputs: false,
        ..env
    };
    let (v, f) = float::convert::<B64, B16>(a, env);
    (v as u16, f)
}

/// `FPConvert(op16, 64)`: exact, and a half operand is never flushed.
pub(super) fn from_half(h: u16, env: Env) -> (u64, Flags) {
    float::convert::<B16, B64>(u64::from(h), env.flush(false))
}

/// `FPToFixed(op, bits, fbits, unsigned, rounding)`: saturating, NaN → 0, IOC
/// when saturated or NaN, IXC when inexact (not both). The result is
/// sign-extended (signed) or zero-extended (unsigned) to 64 bits, as the
/// fixed-point `VCVT` writes it to `Dd`.
pub(super) fn to_fixed(a: u64, bits: u32, unsigned: bool, fbits: u32, env: Env) -> (u64, Flags) {
    if unsigned {
        float::to_unsigned_fixed::<B64>(a, bits, fbits, env)
    } else {
        let (v, f) = float::to_signed_fixed::<B64>(a, bits, fbits, env);
        (v as u64, f)
    }
}

/// `FixedToFP(op<bits-1:0>, 64, fbits, unsigned)`: exact for every width a
/// `VCVT` can name (at most 32 significant bits).
pub(super) fn from_fixed(v: u64, bits: u32, unsigned: bool, fbits: u32, env: Env) -> (u64, Flags) {
    if unsigned {
        float::from_unsigned_fixed::<B64>(v, bits, fbits, env)
    } else {
        float::from_signed_fixed::<B64>(v as i64, bits, fbits, env)
    }
}
