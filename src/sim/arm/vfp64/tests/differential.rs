//! Random operands (seeded) against the host's IEEE binary64 in
//! round-to-nearest-even: bit-exact for every non-NaN result. A NaN result is
//! checked against Arm's rules instead (the host's NaNs are its own): the
//! first signalling operand, else the first quiet one, quietened; the default
//! NaN `0x7FF8_0000_0000_0000` when no operand is a NaN or with `FPSCR.DN`.

use super::super::FpRegs;
use super::vectors::{DEFAULT_NAN, DN, QUIET};
use super::{TestRegs, enc, run};

/// SplitMix64: a fixed, seeded sequence (no dependency needed).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A double from a mix of classes: normals over the whole exponent range,
    /// normals near 1, subnormals, zeros, infinities and (if `nans`) NaNs.
    fn double(&mut self, nans: bool) -> u64 {
        let sign = (self.next() & 1) << 63;
        let frac = self.next() & ((1 << 52) - 1);
        let pick = self.below(if nans { 100 } else { 94 });
        sign | match pick {
            0..=44 => (self.below(2046) + 1) << 52 | frac,
            45..=69 => (self.below(80) + 1023 - 40) << 52 | frac,
            70..=84 => frac.max(1),
            85..=88 => 0,
            89..=93 => 0x7ff0_0000_0000_0000,
            94..=96 => 0x7ff8_0000_0000_0000 | frac,
            _ => 0x7ff0_0000_0000_0000 | frac.max(1) & !QUIET,
        }
    }
}

fn is_nan(v: u64) -> bool {
    v & 0x7ff0_0000_0000_0000 == 0x7ff0_0000_0000_0000 && v & ((1 << 52) - 1) != 0
}

fn is_snan(v: u64) -> bool {
    is_nan(v) && v & QUIET == 0
}

/// Arm's NaN result for NaN operands given in `FPProcessNaNs` order, or
/// `None` if none is a NaN.
fn arm_nan(ops: &[u64], fpscr: u32) -> Option<u64> {
    let pick = ops
        .iter()
        .find(|&&v| is_snan(v))
        .or_else(|| ops.iter().find(|&&v| is_nan(v)))?;
    Some(if fpscr & DN != 0 {
        DEFAULT_NAN
    } else {
        pick | QUIET
    })
}

/// Checks one result: the host's bits when not a NaN, else Arm's rule.
fn expect(what: &str, got: u64, host: f64, nan_ops: &[u64], fpscr: u32) {
    let want = if host.is_nan() {
        arm_nan(nan_ops, fpscr).unwrap_or(DEFAULT_NAN)
    } else {
        host.to_bits()
    };
    assert_eq!(
        got, want,
        "{what}: got {got:#018x}, want {want:#018x} (host {host:e})"
    );
}

/// `d1 = name(d1, d2, d3)` with FPSCR = `fpscr`.
fn exec3(name: &str, fpscr: u32, acc: u64, a: u64, b: u64) -> u64 {
    let mut r = TestRegs {
        fpscr,
        ..TestRegs::default()
    };
    r.set_d(1, acc);
    r.set_d(2, a);
    r.set_d(3, b);
    run(enc(name), &mut r, 0);
    r.d(1)
}

const CASES: usize = 200_000;

#[test]
fn arithmetic_matches_host_f64() {
    let mut rng = Rng(0x5eed_0f64);
    let h = f64::from_bits;
    let mut checked = 0usize;
    for i in 0..CASES {
        let fpscr = if i % 8 == 7 { DN } else { 0 };
        let (a, b, c) = (rng.double(true), rng.double(true), rng.double(true));
        let (x, y, z) = (h(a), h(b), h(c));
        let t = |n: &str| format!("#{i} {n} a={a:#018x} b={b:#018x} c={c:#018x} fpscr={fpscr:#x}");
        expect(
            &t("vadd"),
            exec3("vadd.f64 d1, d2, d3", fpscr, 0, a, b),
            x + y,
            &[a, b],
            fpscr,
        );
        expect(
            &t("vsub"),
            exec3("vsub.f64 d1, d2, d3", fpscr, 0, a, b),
            x - y,
            &[a, b],
            fpscr,
        );
        expect(
            &t("vmul"),
            exec3("vmul.f64 d1, d2, d3", fpscr, 0, a, b),
            x * y,
            &[a, b],
            fpscr,
        );
        expect(
            &t("vdiv"),
            exec3("vdiv.f64 d1, d2, d3", fpscr, 0, a, b),
            x / y,
            &[a, b],
            fpscr,
        );
        expect(
            &t("vsqrt"),
            exec3("vsqrt.f64 d1, d2", fpscr, 0, a, 0),
            x.sqrt(),
            &[a],
            fpscr,
        );
        // VFMA: d1 + d2 * d3, one rounding; NaN order addend, op1, op2. The
        // quiet-NaN addend with inf * 0 case is the default NaN.
        let fma = exec3("vfma.f64 d1, d2, d3", fpscr, c, a, b);
        let inf_zero = (x.is_infinite() && y == 0.0) || (x == 0.0 && y.is_infinite());
        if is_nan(c) && !is_snan(c) && inf_zero {
            assert_eq!(fma, DEFAULT_NAN, "{}", t("vfma qnan * inf*0"));
        } else {
            expect(&t("vfma"), fma, x.mul_add(y, z), &[c, a, b], fpscr);
        }
        // VMLA: two roundings, FPAdd(d1, FPMul(d2, d3)).
        let p = x * y;
        let p_bits = if p.is_nan() {
            arm_nan(&[a, b], fpscr).unwrap_or(DEFAULT_NAN)
        } else {
            p.to_bits()
        };
        let mla = exec3("vmla.f64 d1, d2, d3", fpscr, c, a, b);
        expect(&t("vmla"), mla, z + p, &[c, p_bits], fpscr);
        checked += 7;
    }
    assert_eq!(checked, 7 * CASES);
}

#[test]
fn conversions_and_rounding_match_host() {
    let mut rng = Rng(0x0c0f_fee5);
    let h = f64::from_bits;
    for i in 0..CASES {
        let a = rng.double(false);
        let x = h(a);
        let mut r = TestRegs::default();
        r.set_d(2, a);
        let t = |n: &str| format!("#{i} {n} d2={a:#018x}");
        // Rust's `as` saturates and maps NaN to 0, like FPToFixed; no NaN
        // operands here, so the host cast is the specification.
        for (name, want) in [
            ("vcvt.s32.f64 s2, d2", (x as i32) as u32),
            ("vcvt.u32.f64 s2, d2", x as u32),
            ("vcvta.s32.f64 s2, d2", (x.round() as i32) as u32),
            ("vcvtn.s32.f64 s2, d2", (x.round_ties_even() as i32) as u32),
            ("vcvtp.u32.f64 s2, d2", x.ceil() as u32),
            ("vcvtm.s32.f64 s2, d2", (x.floor() as i32) as u32),
            ("vcvtr.s32.f64 s2, d2", (x.round_ties_even() as i32) as u32),
            ("vcvt.f32.f64 s2, d2", (x as f32).to_bits()),
        ] {
            run(enc(name), &mut r, 0);
            assert_eq!(r.s(2), want, "{}", t(name));
        }
        for (name, want) in [
            ("vrinta.f64 d1, d2", x.round()),
            ("vrintn.f64 d1, d2", x.round_ties_even()),
            ("vrintp.f64 d1, d2", x.ceil()),
            ("vrintm.f64 d1, d2", x.floor()),
            ("vrintz.f64 d1, d2", x.trunc()),
            ("vrintr.f64 d1, d2", x.round_ties_even()),
        ] {
            run(enc(name), &mut r, 0);
            assert_eq!(r.d(1), want.to_bits(), "{}", t(name));
        }
        // Integers and singles to double are exact.
        let w = rng.next() as u32;
        r.set_s(4, w);
        run(enc("vcvt.f64.s32 d1, s4"), &mut r, 0);
        assert_eq!(r.d(1), f64::from(w as i32).to_bits(), "#{i} s32 {w:#x}");
        run(enc("vcvt.f64.u32 d1, s4"), &mut r, 0);
        assert_eq!(r.d(1), f64::from(w).to_bits(), "#{i} u32 {w:#x}");
        let single = f32::from_bits(w);
        if !single.is_nan() {
            run(enc("vcvt.f64.f32 d1, s4"), &mut r, 0);
            assert_eq!(r.d(1), f64::from(single).to_bits(), "#{i} f32 {w:#x}");
        }
        // Half to double, exactly (IEEE half from its fields).
        let half = w as u16;
        run(enc("vcvtb.f64.f16 d1, s4"), &mut r, 0);
        if let Some(v) = half_value(half) {
            assert_eq!(r.d(1), v.to_bits(), "#{i} f16 {half:#06x}");
        }
    }
}

/// The value of an IEEE binary16 bit pattern (`None` for a NaN).
fn half_value(h: u16) -> Option<f64> {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => Some(sign * frac * 2f64.powi(-24)),
        31 if frac == 0.0 => Some(sign * f64::INFINITY),
        31 => None,
        _ => Some(sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15)),
    }
}
