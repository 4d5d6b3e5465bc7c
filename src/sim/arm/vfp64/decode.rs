//! The FPv5-D16 double-precision encodings rsemu 0.0.7 leaves UNDEFINED, and
//! their disassembly (GNU syntax, as `arm-none-eabi-objdump` prints them).
//!
//! Three windows of the T32 coprocessor space (DDI 0403E §A6.4, Armv8-M ARM
//! DDI 0553 for the FPv5 group):
//!
//! | `hw1[15:8]` | `hw2[11:8]` | Group |
//! | --- | --- | --- |
//! | `0xEE` | `1011` (cp11) | data processing (`hw2[4] == 0`), core↔scalar `VMOV.32` (`hw2[4] == 1`) |
//! | `0xEE` | `1010` (cp10) | only `VCVT.F64.F32 Dd, Sm`, which has `sz == 0` |
//! | `0xFE` | `1011` (cp11) | the unconditional FPv5 group: `VSEL`, `VMAXNM`/`VMINNM`, `VRINTA/N/P/M`, `VCVTA/N/P/M` |
//!
//! A D register is `D:Vd`, `N:Vn`, `M:Vm` (top bit first), an S register
//! `Vd:D` etc. A D-register number above 15 does not exist on a D16 unit, so
//! such an encoding is left to rsemu, which raises UNDEFINED for it. The
//! should-be-zero bits (`(0)` in the encoding diagrams, e.g. `Vm` of
//! `VCMP #0.0`) are ignored as rsemu's single-precision decoder ignores them
//! (an UNPREDICTABLE encoding may execute as the canonical one). Where an
//! UNPREDICTABLE case is refused instead (Rt = SP/PC in `VMOV.32`, negative
//! `frac_bits`), it stays UNDEFINED.

use core::fmt;

use rsemu::cpu::arm::v7m::fpisa::RoundMode;

/// A two-source operation, `Dd = Dn op Dm`, or an accumulation into `Dd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinOp {
    /// `VADD.F64`.
    Add,
    /// `VSUB.F64`.
    Sub,
    /// `VMUL.F64`.
    Mul,
    /// `VNMUL.F64`: `-(Dn * Dm)`.
    Nmul,
    /// `VDIV.F64`.
    Div,
    /// `VMLA.F64`: `Dd + Dn * Dm`, rounded twice.
    Mla,
    /// `VMLS.F64`: `Dd - Dn * Dm`, rounded twice.
    Mls,
    /// `VNMLA.F64`: `-Dd - Dn * Dm`, rounded twice.
    Nmla,
    /// `VNMLS.F64`: `-Dd + Dn * Dm`, rounded twice.
    Nmls,
    /// `VFMA.F64`: `Dd + Dn * Dm`, fused.
    Fma,
    /// `VFMS.F64`: `Dd + (-Dn) * Dm`, fused.
    Fms,
    /// `VFNMA.F64`: `-Dd + (-Dn) * Dm`, fused.
    Fnma,
    /// `VFNMS.F64`: `-Dd + Dn * Dm`, fused.
    Fnms,
    /// `VMAXNM.F64` (FPv5, unconditional).
    Maxnm,
    /// `VMINNM.F64` (FPv5, unconditional).
    Minnm,
}

impl BinOp {
    const fn mnemonic(self) -> &'static str {
        match self {
            BinOp::Add => "vadd",
            BinOp::Sub => "vsub",
            BinOp::Mul => "vmul",
            BinOp::Nmul => "vnmul",
            BinOp::Div => "vdiv",
            BinOp::Mla => "vmla",
            BinOp::Mls => "vmls",
            BinOp::Nmla => "vnmla",
            BinOp::Nmls => "vnmls",
            BinOp::Fma => "vfma",
            BinOp::Fms => "vfms",
            BinOp::Fnma => "vfnma",
            BinOp::Fnms => "vfnms",
            BinOp::Maxnm => "vmaxnm",
            BinOp::Minnm => "vminnm",
        }
    }
}

/// A one-source operation, `Dd = op(Dm)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UnOp {
    /// `VMOV.F64 Dd, Dm`.
    Mov,
    /// `VABS.F64`.
    Abs,
    /// `VNEG.F64`.
    Neg,
    /// `VSQRT.F64`.
    Sqrt,
    /// `VRINTR.F64`: `FPSCR.RMode`, inexact not signalled.
    RintR,
    /// `VRINTZ.F64`: toward zero.
    RintZ,
    /// `VRINTX.F64`: `FPSCR.RMode`, inexact signalled.
    RintX,
    /// `VRINTA/N/P/M.F64` (unconditional): the mode the instruction names.
    Rint(RoundMode),
}

/// How a float-to-integer `VCVT` rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IntRound {
    /// `VCVT`: toward zero.
    Zero,
    /// `VCVTR`: `FPSCR.RMode`.
    Fpscr,
    /// `VCVTA/N/P/M` (unconditional): the mode the instruction names.
    Mode(RoundMode),
}

/// One decoded instruction. Register numbers are architectural: `d`/`n`/`m`
/// name a D register (0..=15) or an S register (0..=31) as the variant says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// `Dd = Dn op Dm` (or an accumulation into `Dd`).
    Bin { op: BinOp, d: u8, n: u8, m: u8 },
    /// `Dd = op(Dm)`.
    Un { op: UnOp, d: u8, m: u8 },
    /// `VMOV.F64 Dd, #imm`; `imm8` is the encoded field (`VFPExpandImm`).
    MovImm { d: u8, imm8: u8 },
    /// `VCMP{E}.F64 Dd, Dm` (`m == None`: `Dd, #0.0`).
    Cmp { d: u8, m: Option<u8>, e: bool },
    /// `VCVT.F64.F32 Dd, Sm`.
    F32ToF64 { d: u8, m: u8 },
    /// `VCVT.F32.F64 Sd, Dm`.
    F64ToF32 { d: u8, m: u8 },
    /// `VCVT.F64.S32/U32 Dd, Sm`.
    IntToF64 { d: u8, m: u8, signed: bool },
    /// `VCVT{R,A,N,P,M}.S32/U32.F64 Sd, Dm`.
    F64ToInt {
        d: u8,
        m: u8,
        signed: bool,
        round: IntRound,
    },
    /// `VCVT` between F64 and fixed point in `Dd` (`bits` 16 or 32,
    /// `fbits` 0..=bits).
    Fixed {
        d: u8,
        to_fixed: bool,
        unsigned: bool,
        bits: u8,
        fbits: u8,
    },
    /// `VCVTB/VCVTT.F64.F16 Dd, Sm` (`top`: the high halfword of `Sm`).
    F16ToF64 { d: u8, m: u8, top: bool },
    /// `VCVTB/VCVTT.F16.F64 Sd, Dm` (`top`: the high halfword of `Sd`).
    F64ToF16 { d: u8, m: u8, top: bool },
    /// `VSEL<cc>.F64 Dd, Dn, Dm` (unconditional; `cond` is EQ, VS, GE or GT).
    Sel { cond: u8, d: u8, n: u8, m: u8 },
    /// `VMOV.32 Dd[x], Rt`.
    ToScalar { d: u8, x: u8, rt: u8 },
    /// `VMOV.32 Rt, Dn[x]`.
    FromScalar { rt: u8, n: u8, x: u8 },
}

/// A decoded double-precision instruction (opaque to the caller; its
/// `Display` is the GNU disassembly, e.g. `vadd.f64 d1, d2, d3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct F64Insn {
    pub(super) op: Op,
}

impl F64Insn {
    /// True if the instruction is unconditional by encoding (`VSEL`,
    /// `VMAXNM`/`VMINNM`, `VRINTA/N/P/M`, `VCVTA/N/P/M`: the FPv5 "T1
    /// unconditional" group in the `0xFE` window, UNPREDICTABLE inside an IT
    /// block); false if it obeys the IT condition.
    pub(crate) fn unconditional(&self) -> bool {
        matches!(
            self.op,
            Op::Bin {
                op: BinOp::Maxnm | BinOp::Minnm,
                ..
            } | Op::Un {
                op: UnOp::Rint(_),
                ..
            } | Op::F64ToInt {
                round: IntRound::Mode(_),
                ..
            } | Op::Sel { .. }
        )
    }
}

/// `word[hi:lo]`.
const fn field(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// `word[n]`.
const fn bit(w: u32, n: u32) -> bool {
    (w >> n) & 1 != 0
}

/// A D register from its 4-bit field and its top bit, or `None` above D15.
fn dreg(top: bool, low: u32) -> Option<u8> {
    if top { None } else { Some(low as u8) }
}

/// `Dd` = `D:Vd`.
fn dd(w: u32) -> Option<u8> {
    dreg(bit(w, 22), field(w, 15, 12))
}
/// `Dn` = `N:Vn`.
fn dn(w: u32) -> Option<u8> {
    dreg(bit(w, 7), field(w, 19, 16))
}
/// `Dm` = `M:Vm`.
fn dm(w: u32) -> Option<u8> {
    dreg(bit(w, 5), field(w, 3, 0))
}
/// `Sd` = `Vd:D`.
fn sd(w: u32) -> u8 {
    ((field(w, 15, 12) << 1) | u32::from(bit(w, 22))) as u8
}
/// `Sm` = `Vm:M`.
fn sm(w: u32) -> u8 {
    ((field(w, 3, 0) << 1) | u32::from(bit(w, 5))) as u8
}

/// `Some(..)` iff the 32-bit Thumb encoding (`hw1` = first halfword, `hw2` =
/// second) is one of the FPv5-D16 double-precision data-processing or
/// conversion instructions (or a core↔scalar `VMOV.32`) that rsemu 0.0.7
/// treats as UNDEFINED; `None` for everything else (all of which rsemu
/// handles: integer, single precision, data transfers, and genuinely
/// UNDEFINED encodings, which stay UNDEFINED). Never panics.
pub(crate) fn decode(hw1: u16, hw2: u16) -> Option<F64Insn> {
    let w = (u32::from(hw1) << 16) | u32::from(hw2);
    let op = match (field(w, 31, 24), field(w, 11, 8)) {
        (0xee, 0b1011) if bit(w, 4) => scalar(w),
        (0xee, 0b1011) => data(w),
        (0xee, 0b1010) => cvt_f64_f32(w),
        (0xfe, 0b1011) => unconditional(w),
        _ => None,
    }?;
    Some(F64Insn { op })
}

/// The FP data-processing table with `sz == 1` (DDI 0403E §A6.4,
/// "Floating-point data-processing instructions"). `opc1` is `w[23:20]` with the D bit (22) masked out.
fn data(w: u32) -> Option<Op> {
    let three = |op| {
        Some(Op::Bin {
            op,
            d: dd(w)?,
            n: dn(w)?,
            m: dm(w)?,
        })
    };
    let op6 = bit(w, 6);
    match (field(w, 23, 20) & 0b1011, op6) {
        (0b0000, false) => three(BinOp::Mla),
        (0b0000, true) => three(BinOp::Mls),
        (0b0001, false) => three(BinOp::Nmls),
        (0b0001, true) => three(BinOp::Nmla),
        (0b0010, false) => three(BinOp::Mul),
        (0b0010, true) => three(BinOp::Nmul),
        (0b0011, false) => three(BinOp::Add),
        (0b0011, true) => three(BinOp::Sub),
        (0b1000, false) => three(BinOp::Div),
        (0b1001, false) => three(BinOp::Fnms),
        (0b1001, true) => three(BinOp::Fnma),
        (0b1010, false) => three(BinOp::Fma),
        (0b1010, true) => three(BinOp::Fms),
        (0b1011, false) => Some(Op::MovImm {
            d: dd(w)?,
            imm8: ((field(w, 19, 16) << 4) | field(w, 3, 0)) as u8,
        }),
        (0b1011, true) => other(w),
        _ => None,
    }
}

/// The `opc1 == 1x11, opc3 == x1` rows, selected by `opc2 = w[19:16]` and
/// `opc3<1> = w[7]` (the same table, with the FPv5 `VRINTR/Z/X` rows).
fn other(w: u32) -> Option<Op> {
    let b7 = bit(w, 7);
    let un = |op| {
        Some(Op::Un {
            op,
            d: dd(w)?,
            m: dm(w)?,
        })
    };
    match field(w, 19, 16) {
        0b0000 => un(if b7 { UnOp::Abs } else { UnOp::Mov }),
        0b0001 => un(if b7 { UnOp::Sqrt } else { UnOp::Neg }),
        // VCVTB/VCVTT: w[16] = op (1: to half), w[7] = T.
        0b0010 => Some(Op::F16ToF64 {
            d: dd(w)?,
            m: sm(w),
            top: b7,
        }),
        0b0011 => Some(Op::F64ToF16 {
            d: sd(w),
            m: dm(w)?,
            top: b7,
        }),
        0b0100 => Some(Op::Cmp {
            d: dd(w)?,
            m: Some(dm(w)?),
            e: b7,
        }),
        0b0101 => Some(Op::Cmp {
            d: dd(w)?,
            m: None,
            e: b7,
        }),
        0b0110 => un(if b7 { UnOp::RintZ } else { UnOp::RintR }),
        0b0111 if !b7 => un(UnOp::RintX),
        0b0111 => Some(Op::F64ToF32 {
            d: sd(w),
            m: dm(w)?,
        }),
        0b1000 => Some(Op::IntToF64 {
            d: dd(w)?,
            m: sm(w),
            signed: b7,
        }),
        0b1100 | 0b1101 => Some(Op::F64ToInt {
            d: sd(w),
            m: dm(w)?,
            signed: bit(w, 16),
            round: if b7 { IntRound::Zero } else { IntRound::Fpscr },
        }),
        // `1 op 1 U`: fixed point; w[7] = sx (32-bit), imm4:i = w[3:0]:w[5].
        0b1010 | 0b1011 | 0b1110 | 0b1111 => {
            let bits: u32 = if b7 { 32 } else { 16 };
            let imm = (field(w, 3, 0) << 1) | u32::from(bit(w, 5));
            // frac_bits = size - imm4:i < 0 is UNPREDICTABLE: left UNDEFINED.
            let fbits = bits.checked_sub(imm)?;
            Some(Op::Fixed {
                d: dd(w)?,
                to_fixed: bit(w, 18),
                unsigned: bit(w, 16),
                bits: bits as u8,
                fbits: fbits as u8,
            })
        }
        // 0b1001 (and anything else) is UNDEFINED on FPv5-D16.
        _ => None,
    }
}

/// `VCVT.F64.F32 Dd, Sm` (DDI 0403E §A7.7, "VCVT (between double-precision and
/// single-precision)"): `opc2 == 0111`, `opc3 == 11`,
/// `sz == 0`. Every other cp10 encoding is single precision, rsemu's.
fn cvt_f64_f32(w: u32) -> Option<Op> {
    let is = !bit(w, 4)
        && field(w, 23, 20) & 0b1011 == 0b1011
        && field(w, 19, 16) == 0b0111
        && field(w, 7, 6) == 0b11;
    if !is {
        return None;
    }
    Some(Op::F32ToF64 {
        d: dd(w)?,
        m: sm(w),
    })
}

/// `VMOV.32 Dd[x], Rt` and `VMOV.32 Rt, Dn[x]` (DDI 0403E §A7.7, "VMOV (ARM core
/// register to scalar)" and "VMOV (scalar to ARM core register)"):
/// `w[23] == 0` (U), `opc1<1> = w[22] == 0`, `opc2 = w[6:5] == 00` (the 32-bit
/// size, the only one without Advanced SIMD); `x = w[21]`. The register is
/// `w[7]:w[19:16]` in both directions.
fn scalar(w: u32) -> Option<Op> {
    if bit(w, 23) || bit(w, 22) || field(w, 6, 5) != 0 {
        return None;
    }
    let rt = field(w, 15, 12) as u8;
    // t == 13 || t == 15 is UNPREDICTABLE: left UNDEFINED.
    if rt == 13 || rt == 15 {
        return None;
    }
    let reg = dn(w)?;
    let x = u8::from(bit(w, 21));
    Some(if bit(w, 20) {
        Op::FromScalar { rt, n: reg, x }
    } else {
        Op::ToScalar { d: reg, x, rt }
    })
}

/// The FPv5 unconditional group with `size == 11` (Armv8-M ARM DDI 0553,
/// floating-point data-processing with `cond == 1111`:
/// `VSEL`, `VMAXNM`/`VMINNM`, `VRINTA/N/P/M`, `VCVTA/N/P/M`). `w[4]` is 0 in
/// all of them.
fn unconditional(w: u32) -> Option<Op> {
    if bit(w, 4) {
        return None;
    }
    if !bit(w, 23) {
        // VSEL: w[6] == 0; cond = cc<1>:cc<0>:(cc<1> EOR cc<0>):0.
        if bit(w, 6) {
            return None;
        }
        let cc = field(w, 21, 20);
        let (hi, lo) = (cc >> 1, cc & 1);
        return Some(Op::Sel {
            cond: ((hi << 3) | (lo << 2) | ((hi ^ lo) << 1)) as u8,
            d: dd(w)?,
            n: dn(w)?,
            m: dm(w)?,
        });
    }
    let mode = RoundMode::from_rm(field(w, 17, 16));
    match (field(w, 21, 20), field(w, 19, 18)) {
        (0b00, _) => Some(Op::Bin {
            op: if bit(w, 6) {
                BinOp::Minnm
            } else {
                BinOp::Maxnm
            },
            d: dd(w)?,
            n: dn(w)?,
            m: dm(w)?,
        }),
        (0b11, 0b10) if field(w, 7, 6) == 0b01 => Some(Op::Un {
            op: UnOp::Rint(mode),
            d: dd(w)?,
            m: dm(w)?,
        }),
        (0b11, 0b11) if bit(w, 6) => Some(Op::F64ToInt {
            d: sd(w),
            m: dm(w)?,
            signed: bit(w, 7),
            round: IntRound::Mode(mode),
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Disassembly
// ---------------------------------------------------------------------------

/// `VFPExpandImm(imm8)` for 64 bits (DDI 0403E §A6.4, "Floating-point modified
/// immediate constants"):
/// `imm8<7> : NOT(imm8<6>) : Replicate(imm8<6>, 8) : imm8<5:0> : Zeros(48)`.
pub(super) const fn expand_imm(imm8: u8) -> u64 {
    let imm8 = imm8 as u64;
    let sign = (imm8 >> 7) & 1;
    let b6 = (imm8 >> 6) & 1;
    let exp = ((b6 ^ 1) << 10) | (if b6 != 0 { 0xff << 2 } else { 0 }) | ((imm8 >> 4) & 3);
    (sign << 63) | (exp << 52) | ((imm8 & 0xf) << 48)
}

/// A condition suffix (`eq`, `vs`, `ge`, `gt`).
fn cond_name(cond: u8) -> &'static str {
    const NAMES: [&str; 16] = [
        "eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "", "",
    ];
    NAMES[usize::from(cond & 15)]
}

fn mode_letter(mode: RoundMode) -> &'static str {
    match mode {
        RoundMode::Away => "a",
        RoundMode::Nearest => "n",
        RoundMode::Plus => "p",
        RoundMode::Minus => "m",
    }
}

fn int_name(signed: bool) -> &'static str {
    if signed { "s32" } else { "u32" }
}

impl fmt::Display for F64Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Op::Bin { op, d, n, m } => write!(f, "{}.f64 d{d}, d{n}, d{m}", op.mnemonic()),
            Op::Un { op, d, m } => {
                let name = match op {
                    UnOp::Mov => "vmov",
                    UnOp::Abs => "vabs",
                    UnOp::Neg => "vneg",
                    UnOp::Sqrt => "vsqrt",
                    UnOp::RintR => "vrintr",
                    UnOp::RintZ => "vrintz",
                    UnOp::RintX => "vrintx",
                    UnOp::Rint(mode) => {
                        return write!(f, "vrint{}.f64 d{d}, d{m}", mode_letter(mode));
                    }
                };
                write!(f, "{name}.f64 d{d}, d{m}")
            }
            Op::MovImm { d, imm8 } => {
                write!(f, "vmov.f64 d{d}, #{:?}", f64::from_bits(expand_imm(imm8)))
            }
            Op::Cmp { d, m, e } => {
                let e = if e { "e" } else { "" };
                match m {
                    Some(m) => write!(f, "vcmp{e}.f64 d{d}, d{m}"),
                    None => write!(f, "vcmp{e}.f64 d{d}, #0.0"),
                }
            }
            Op::F32ToF64 { d, m } => write!(f, "vcvt.f64.f32 d{d}, s{m}"),
            Op::F64ToF32 { d, m } => write!(f, "vcvt.f32.f64 s{d}, d{m}"),
            Op::IntToF64 { d, m, signed } => write!(f, "vcvt.f64.{} d{d}, s{m}", int_name(signed)),
            Op::F64ToInt {
                d,
                m,
                signed,
                round,
            } => {
                let r = match round {
                    IntRound::Zero => "",
                    IntRound::Fpscr => "r",
                    IntRound::Mode(mode) => mode_letter(mode),
                };
                write!(f, "vcvt{r}.{}.f64 s{d}, d{m}", int_name(signed))
            }
            Op::Fixed {
                d,
                to_fixed,
                unsigned,
                bits,
                fbits,
            } => {
                let fx = format!("{}{bits}", if unsigned { "u" } else { "s" });
                if to_fixed {
                    write!(f, "vcvt.{fx}.f64 d{d}, d{d}, #{fbits}")
                } else {
                    write!(f, "vcvt.f64.{fx} d{d}, d{d}, #{fbits}")
                }
            }
            Op::F16ToF64 { d, m, top } => {
                write!(f, "vcvt{}.f64.f16 d{d}, s{m}", if top { "t" } else { "b" })
            }
            Op::F64ToF16 { d, m, top } => {
                write!(f, "vcvt{}.f16.f64 s{d}, d{m}", if top { "t" } else { "b" })
            }
            Op::Sel { cond, d, n, m } => {
                write!(f, "vsel{}.f64 d{d}, d{n}, d{m}", cond_name(cond))
            }
            Op::ToScalar { d, x, rt } => write!(f, "vmov.32 d{d}[{x}], r{rt}"),
            Op::FromScalar { rt, n, x } => write!(f, "vmov.32 r{rt}, d{n}[{x}]"),
        }
    }
}
