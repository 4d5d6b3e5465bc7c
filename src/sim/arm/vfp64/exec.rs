//! Executes a decoded instruction on an [`FpRegs`]: operand fetch, the
//! operation of DDI 0403E §A7.7 (with the Armv8-M FPv5 additions), write-back
//! and `FPSCR`.

use rsemu::cpu::arm::v7m::fp::{accumulate, env as fpscr_env, fpscr};
use rsemu::cpu::arm::v7m::isa::Cond;
use rsemu::float::{Flags, Round};

use super::FpRegs;
use super::arith::{self, abs, neg};
use super::decode::{BinOp, F64Insn, IntRound, Op, UnOp, expand_imm};

/// Executes `insn` on `regs`.
///
/// The caller has already checked the IT condition (for a conditional
/// instruction), `CPACR` access (`NOCP` otherwise) and done lazy FP state
/// preservation and `CONTROL.FPCA` (`ExecuteFPCheck`, DDI 0403E §B1.5.7), and
/// advances the PC and ITSTATE afterwards. `apsr_nzcv` is the APSR (or
/// xPSR) word: only its N, Z, C, V bits \[31:28\] are read, by `VSEL`.
///
/// Rounding, flush-to-zero and default-NaN follow `FPSCR.RMode`/`FZ`/`DN`;
/// the cumulative flags (IOC, DZC, OFC, UFC, IXC, IDC) are ORed into
/// `FPSCR`, and `VCMP`/`VCMPE` replace `FPSCR.NZCV`.
pub(crate) fn execute(insn: &F64Insn, regs: &mut impl FpRegs, apsr_nzcv: u32) {
    let old = regs.fpscr();
    let mut new = old;
    let env = fpscr_env(old);
    let flags = match insn.op {
        Op::Bin { op, d, n, m } => {
            let (a, b, c) = (regs.d(d), regs.d(n), regs.d(m));
            let (v, f) = binary(op, a, b, c, env);
            regs.set_d(d, v);
            f
        }
        Op::Un { op, d, m } => {
            let a = regs.d(m);
            let (v, f) = match op {
                UnOp::Mov => (a, Flags::NONE),
                UnOp::Abs => (abs(a), Flags::NONE),
                UnOp::Neg => (neg(a), Flags::NONE),
                UnOp::Sqrt => arith::sqrt(a, env),
                UnOp::RintR => arith::round_int(a, env, false),
                UnOp::RintZ => arith::round_int(a, env.round(Round::TowardZero), false),
                UnOp::RintX => arith::round_int(a, env, true),
                UnOp::Rint(mode) => arith::round_int(a, env.round(mode.round()), false),
            };
            regs.set_d(d, v);
            f
        }
        Op::MovImm { d, imm8 } => {
            regs.set_d(d, expand_imm(imm8));
            Flags::NONE
        }
        Op::Cmp { d, m, e } => {
            let b = m.map_or(0, |m| regs.d(m));
            let (nzcv, f) = arith::compare(regs.d(d), b, e, env);
            new = (new & !fpscr::FLAGS) | nzcv;
            f
        }
        Op::F32ToF64 { d, m } => {
            let (v, f) = arith::from_single(regs.s(m), env);
            regs.set_d(d, v);
            f
        }
        Op::F64ToF32 { d, m } => {
            let (v, f) = arith::to_single(regs.d(m), env);
            regs.set_s(d, v);
            f
        }
        Op::IntToF64 { d, m, signed } => {
            let (v, f) = arith::from_fixed(u64::from(regs.s(m)), 32, !signed, 0, env);
            regs.set_d(d, v);
            f
        }
        Op::F64ToInt {
            d,
            m,
            signed,
            round,
        } => {
            let env = match round {
                IntRound::Zero => env.round(Round::TowardZero),
                IntRound::Fpscr => env,
                IntRound::Mode(mode) => env.round(mode.round()),
            };
            let (v, f) = arith::to_fixed(regs.d(m), 32, !signed, 0, env);
            regs.set_s(d, v as u32);
            f
        }
        Op::Fixed {
            d,
            to_fixed,
            unsigned,
            bits,
            fbits,
        } => {
            let (bits, fbits) = (u32::from(bits), u32::from(fbits));
            let (v, f) = if to_fixed {
                // Always toward zero: there is no VCVTR form of this one.
                let env = env.round(Round::TowardZero);
                arith::to_fixed(regs.d(d), bits, unsigned, fbits, env)
            } else {
                arith::from_fixed(regs.d(d), bits, unsigned, fbits, env)
            };
            regs.set_d(d, v);
            f
        }
        Op::F16ToF64 { d, m, top } => {
            let src = regs.s(m);
            let half = if top { (src >> 16) as u16 } else { src as u16 };
            let (v, f) = arith::from_half(half, env);
            regs.set_d(d, v);
            f
        }
        Op::F64ToF16 { d, m, top } => {
            // Only the named halfword of Sd is written.
            let (half, f) = arith::to_half(regs.d(m), env);
            let old = regs.s(d);
            let v = if top {
                (old & 0x0000_ffff) | (u32::from(half) << 16)
            } else {
                (old & 0xffff_0000) | u32::from(half)
            };
            regs.set_s(d, v);
            f
        }
        Op::Sel { cond, d, n, m } => {
            let v = if Cond(cond).passes(apsr_nzcv) {
                regs.d(n)
            } else {
                regs.d(m)
            };
            regs.set_d(d, v);
            Flags::NONE
        }
        Op::ToScalar { d, x, rt } => {
            let v = regs.r(rt);
            regs.set_s(2 * d + x, v);
            Flags::NONE
        }
        Op::FromScalar { rt, n, x } => {
            let v = regs.s(2 * n + x);
            regs.set_r(rt, v);
            Flags::NONE
        }
    };
    accumulate(&mut new, flags);
    if new != old {
        regs.set_fpscr(new);
    }
}

/// The two-source and multiply-accumulate operations. The chained forms are
/// `FPAdd(±Dd, ±FPMul(Dn, Dm))`, two roundings (DDI 0403E §A7.7 VMLA, VMLS,
/// VNMLA, VNMLS, VNMUL); the fused ones `FPMulAdd(±Dd, ±Dn, Dm)` (VFMA, VFMS,
/// VFNMA, VFNMS).
fn binary(op: BinOp, a: u64, b: u64, c: u64, env: rsemu::float::Env) -> (u64, Flags) {
    let chained = |negate_acc: bool, negate_prod: bool| {
        let (p, f1) = arith::mul(b, c, env);
        let acc = if negate_acc { neg(a) } else { a };
        let p = if negate_prod { neg(p) } else { p };
        let (v, f2) = arith::add(acc, p, env);
        (v, f1 | f2)
    };
    match op {
        BinOp::Add => arith::add(b, c, env),
        BinOp::Sub => arith::sub(b, c, env),
        BinOp::Mul => arith::mul(b, c, env),
        BinOp::Nmul => {
            let (v, f) = arith::mul(b, c, env);
            (neg(v), f)
        }
        BinOp::Div => arith::div(b, c, env),
        BinOp::Mla => chained(false, false),
        BinOp::Mls => chained(false, true),
        BinOp::Nmla => chained(true, true),
        BinOp::Nmls => chained(true, false),
        BinOp::Fma => arith::mul_add(a, b, c, env),
        BinOp::Fms => arith::mul_add(a, neg(b), c, env),
        BinOp::Fnma => arith::mul_add(neg(a), neg(b), c, env),
        BinOp::Fnms => arith::mul_add(neg(a), b, c, env),
        BinOp::Maxnm => arith::max_min_num(b, c, false, env),
        BinOp::Minnm => arith::max_min_num(b, c, true, env),
    }
}
