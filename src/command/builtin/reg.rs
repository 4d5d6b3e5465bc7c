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

/// Finds a register by OpenOCD name (case-insensitive; `xpsr` too) or index.
pub fn find_reg(key: &str) -> Option<&'static RegInfo> {
    if let Ok(n) = key.parse::<usize>() {
        return ARMV7M_REGS.iter().find(|r| r.index == n);
    }
    ARMV7M_REGS
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(key))
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
                ctx.println("===== arm v7m registers");
                for (r, v) in ARMV7M_REGS.iter().zip(values) {
                    ctx.println(reg_line(r.index, r.name, r.bits, v.map(u64::from)));
                }
                ctx.println("===== Cortex-M DWT registers");
                Ok(())
            }
            [key] | [key, _] => {
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
