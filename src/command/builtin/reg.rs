//! `reg`: list, read or write core registers in OpenOCD's format.

use probe_rs::RegisterId;

use super::parse_u64;
use crate::command::format::{reg_line, reg_single};
use crate::command::{CommandError, Mode, Registry, bad_args, command};
use crate::host::control::regsel;

/// One entry of OpenOCD's ARMv7-M register list.
#[derive(Debug, Clone, Copy)]
pub struct RegInfo {
    /// OpenOCD's index.
    pub index: usize,
    /// Name as OpenOCD prints it.
    pub name: &'static str,
    /// Width in bits.
    pub bits: u32,
    /// Where it lives: a DCRSR REGSEL number, and for the packed special registers the bit
    /// offset inside REGSEL 20.
    pub regsel: u16,
    /// Bit offset inside the packed CONTROL/FAULTMASK/BASEPRI/PRIMASK word.
    pub shift: u32,
}

const fn r(index: usize, name: &'static str, bits: u32, regsel: u16, shift: u32) -> RegInfo {
    RegInfo {
        index,
        name,
        bits,
        regsel,
        shift,
    }
}

/// The registers `reg` lists on a Cortex-M3 (OpenOCD 0.12 numbering; 19 is hidden there too).
pub const ARMV7M_REGS: &[RegInfo] = &[
    r(0, "r0", 32, 0, 0),
    r(1, "r1", 32, 1, 0),
    r(2, "r2", 32, 2, 0),
    r(3, "r3", 32, 3, 0),
    r(4, "r4", 32, 4, 0),
    r(5, "r5", 32, 5, 0),
    r(6, "r6", 32, 6, 0),
    r(7, "r7", 32, 7, 0),
    r(8, "r8", 32, 8, 0),
    r(9, "r9", 32, 9, 0),
    r(10, "r10", 32, 10, 0),
    r(11, "r11", 32, 11, 0),
    r(12, "r12", 32, 12, 0),
    r(13, "sp", 32, 13, 0),
    r(14, "lr", 32, 14, 0),
    r(15, "pc", 32, 15, 0),
    r(16, "xPSR", 32, regsel::XPSR, 0),
    r(17, "msp", 32, regsel::MSP, 0),
    r(18, "psp", 32, regsel::PSP, 0),
    r(20, "primask", 1, regsel::SPECIAL, 0),
    r(21, "basepri", 8, regsel::SPECIAL, 8),
    r(22, "faultmask", 1, regsel::SPECIAL, 16),
    r(23, "control", 3, regsel::SPECIAL, 24),
];

/// The FP registers of a core with an FPU (Cortex-M4F/M7), after the core
/// registers: OpenOCD 0.12's d0–d15 (64 bits, indices 42–57) and fpscr (58),
/// then s0–s31 (59–90), which OpenOCD leaves to GDB (docs/commands.md).
/// DCRSR selectors (ARMv7-M ARM §C1.6.3): S<n> = 0x40 + n, FPSCR = 0x21.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpReg {
    /// D0–D15: S(2n+1):S(2n).
    D(u8),
    /// FPSCR.
    Fpscr,
    /// S0–S31.
    S(u8),
}

impl FpReg {
    /// All of them, in listing order.
    pub fn all() -> impl Iterator<Item = FpReg> {
        (0..16)
            .map(FpReg::D)
            .chain(std::iter::once(FpReg::Fpscr))
            .chain((0..32).map(FpReg::S))
    }

    /// OpenOCD-style register number.
    pub fn index(self) -> usize {
        match self {
            FpReg::D(n) => 42 + n as usize,
            FpReg::Fpscr => 58,
            FpReg::S(n) => 59 + n as usize,
        }
    }

    /// Name (`d3`, `fpscr`, `s7`).
    pub fn name(self) -> String {
        match self {
            FpReg::D(n) => format!("d{n}"),
            FpReg::Fpscr => "fpscr".into(),
            FpReg::S(n) => format!("s{n}"),
        }
    }

    /// Width in bits.
    pub fn bits(self) -> u32 {
        if matches!(self, FpReg::D(_)) { 64 } else { 32 }
    }

    /// Finds one by name or number.
    pub fn find(key: &str) -> Option<FpReg> {
        let key = key.to_ascii_lowercase();
        if let Ok(n) = key.parse::<usize>() {
            return FpReg::all().find(|r| r.index() == n);
        }
        FpReg::all().find(|r| r.name() == key)
    }

    /// Reads it from a halted core.
    pub fn read(self, core: &mut probe_rs::Core<'_>) -> Result<u64, probe_rs::Error> {
        let s = |core: &mut probe_rs::Core<'_>, n: u8| -> Result<u64, probe_rs::Error> {
            Ok(u64::from(
                core.read_core_reg::<u32>(RegisterId(0x40 + u16::from(n)))?,
            ))
        };
        Ok(match self {
            FpReg::D(n) => s(core, 2 * n)? | (s(core, 2 * n + 1)? << 32),
            FpReg::Fpscr => u64::from(core.read_core_reg::<u32>(RegisterId(0x21))?),
            FpReg::S(n) => s(core, n)?,
        })
    }

    /// Writes it to a halted core.
    pub fn write(self, core: &mut probe_rs::Core<'_>, v: u64) -> Result<(), probe_rs::Error> {
        match self {
            FpReg::D(n) => {
                core.write_core_reg(RegisterId(0x40 + u16::from(2 * n)), v as u32)?;
                core.write_core_reg(RegisterId(0x41 + u16::from(2 * n)), (v >> 32) as u32)
            }
            FpReg::Fpscr => core.write_core_reg(RegisterId(0x21), v as u32),
            FpReg::S(n) => core.write_core_reg(RegisterId(0x40 + u16::from(n)), v as u32),
        }
    }
}

/// Finds a register by OpenOCD name (case-insensitive; `xpsr` too) or index.
pub fn find_reg(key: &str) -> Option<&'static RegInfo> {
    if let Ok(n) = key.parse::<usize>() {
        return ARMV7M_REGS.iter().find(|r| r.index == n);
    }
    ARMV7M_REGS
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(key))
}

/// `reg NAME [VALUE]` for an FP register.
fn fp_reg(
    ctx: &mut crate::command::Ctx<'_>,
    r: FpReg,
    new: Option<u64>,
) -> Result<(), CommandError> {
    let value = ctx.host.with_core(|core, _| {
        if !core.fpu_support()? {
            return Err(probe_rs::Error::Other(format!(
                "register {} not found in current target: this core has no FPU",
                r.name()
            )));
        }
        if !core.core_halted()? {
            return Err(probe_rs::Error::Other(format!(
                "Could not read register '{}': the target is running; halt it first",
                r.name()
            )));
        }
        if let Some(v) = new {
            r.write(core, v)?;
        }
        r.read(core)
    })?;
    ctx.println(reg_single(&r.name(), r.bits(), value));
    Ok(())
}

fn mask(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

/// Registers `reg`.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "reg",
        Mode::Exec,
        "[(register_number|register_name) [(value|'force')]]",
        "Display or set a core register; with no argument list them all.",
        |ctx, args| match args {
            [] => {
                let values: Vec<Option<u32>> = ctx.host.with_core(|core, _| {
                    if !core.core_halted()? {
                        return Ok(vec![None; ARMV7M_REGS.len()]);
                    }
                    let special: u32 = core.read_core_reg(RegisterId(regsel::SPECIAL))?;
                    ARMV7M_REGS
                        .iter()
                        .map(|r| {
                            if r.regsel == regsel::SPECIAL {
                                Ok(Some((special >> r.shift) & mask(r.bits)))
                            } else {
                                core.read_core_reg::<u32>(RegisterId(r.regsel)).map(Some)
                            }
                        })
                        .collect()
                })?;
                let fp: Option<Vec<(FpReg, Option<u64>)>> = ctx.host.with_core(|core, _| {
                    if !core.fpu_support()? {
                        return Ok(None);
                    }
                    let halted = core.core_halted()?;
                    FpReg::all()
                        .map(|r| Ok((r, if halted { Some(r.read(core)?) } else { None })))
                        .collect::<Result<Vec<_>, probe_rs::Error>>()
                        .map(Some)
                })?;
                ctx.println("===== arm v7m registers");
                for (r, v) in ARMV7M_REGS.iter().zip(values) {
                    ctx.println(reg_line(r.index, r.name, r.bits, v.map(u64::from)));
                }
                for (r, v) in fp.unwrap_or_default() {
                    ctx.println(reg_line(r.index(), &r.name(), r.bits(), v));
                }
                ctx.println("===== Cortex-M DWT registers");
                Ok(())
            }
            [key] | [key, _] => {
                if find_reg(key).is_none()
                    && let Some(r) = FpReg::find(key)
                {
                    let new = match args.get(1) {
                        Some(v) if v == "force" => None,
                        Some(v) => Some(parse_u64(v)?),
                        None => None,
                    };
                    return fp_reg(ctx, r, new);
                }
                let info = find_reg(key).ok_or_else(|| match key.parse::<usize>() {
                    Ok(n) => CommandError::failed(format!(
                        "{n} is out of bounds, the current target has only {} registers (0 - {})",
                        24, 23
                    )),
                    Err(_) => {
                        CommandError::failed(format!("register {key} not found in current target"))
                    }
                })?;
                let new = match args.get(1) {
                    Some(v) if v == "force" => None,
                    Some(v) => Some(parse_u64(v)? as u32),
                    None => None,
                };
                let value = ctx.host.with_core(|core, _| {
                    if !core.core_halted()? {
                        return Err(probe_rs::Error::Other(format!(
                            "Could not read register '{}': the target is running; halt it first",
                            info.name
                        )));
                    }
                    if let Some(v) = new {
                        if info.regsel == regsel::SPECIAL {
                            let old: u32 = core.read_core_reg(RegisterId(regsel::SPECIAL))?;
                            let m = mask(info.bits) << info.shift;
                            core.write_core_reg(
                                RegisterId(regsel::SPECIAL),
                                (old & !m) | ((v << info.shift) & m),
                            )?;
                        } else {
                            core.write_core_reg(RegisterId(info.regsel), v)?;
                        }
                    }
                    let raw: u32 = core.read_core_reg(RegisterId(info.regsel))?;
                    Ok(if info.regsel == regsel::SPECIAL {
                        (raw >> info.shift) & mask(info.bits)
                    } else {
                        raw
                    })
                })?;
                ctx.println(reg_single(info.name, info.bits, value as u64));
                Ok(())
            }
            _ => Err(bad_args()),
        },
    ));
}
