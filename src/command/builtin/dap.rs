//! `dap names`, `dap apsel`, `dap apcsw` (OpenOCD's DAP commands, also reached as
//! `<dap> apcsw …`, e.g. `stm32h7x.dap apcsw 0x08000000 0x08000000` in target/stm32h7x.cfg).
//!
//! stdbg reaches memory through probe-rs, which programs each MEM-AP's CSW itself (ADIv5
//! §C2.2.1): on an AHB-AP DbgSwEnable (31), MasterType (29), HPROT[3] cacheable (27), HPROT[1]
//! privileged (25) and HPROT[0] data (24), and HNONSEC (30) when SPIDEN reads 0. `dap apcsw`
//! therefore accepts a request that asks for what probe-rs drives and refuses, naming the bits,
//! one that asks for something else; it does not change the CSW.

use super::parse_u32;
use crate::command::{CommandError, Mode, Registry, bad_args, command};

/// CSW bits probe-rs drives on an AHB-AP access (ADIv5 §C2.2.1 and Appendix E; AMBA AHB
/// HPROT): DbgSwEnable, MasterType, Cacheable, Privileged, Data.
pub const PROBE_RS_AHB_CSW: u32 = 0xAB00_0000;
/// The CSW bits [`PROBE_RS_AHB_CSW`] covers: 31 and 29..24 (HNONSEC, bit 30, follows SPIDEN).
pub const DRIVEN_MASK: u32 = 0xBF00_0000;
/// CSW.Size (2:0) and CSW.AddrInc (5:4): set per access, never by `apcsw` (OpenOCD refuses them).
const SIZE_ADDRINC: u32 = 0x0000_0037;

/// Names of CSW bits for messages.
fn bit_names(mask: u32) -> String {
    const NAMES: [(u32, &str); 8] = [
        (31, "DbgSwEnable"),
        (30, "HNONSEC"),
        (29, "MasterType"),
        (28, "HPROT[4] allocate"),
        (27, "HPROT[3] cacheable"),
        (26, "HPROT[2] bufferable"),
        (25, "HPROT[1] privileged"),
        (24, "HPROT[0] data"),
    ];
    let mut v: Vec<String> = NAMES
        .iter()
        .filter(|(b, _)| mask & (1 << b) != 0)
        .map(|(b, n)| format!("{n} (bit {b})"))
        .collect();
    let other = mask & !0xFF00_0000;
    if other != 0 {
        v.push(format!("bits 0x{other:08x}"));
    }
    v.join(", ")
}

/// Checks an `apcsw` request (`value`, `mask`; a one-argument request has mask 0xffffffff
/// minus Size/AddrInc) against what probe-rs drives. Errors name the bits that differ.
pub fn check_apcsw(value: u32, mask: u32) -> Result<(), CommandError> {
    if mask & SIZE_ADDRINC != 0 || value & mask & SIZE_ADDRINC != 0 {
        return Err(CommandError::failed(
            "CSW value cannot include 'Size' and 'AddrInc' bit-fields: they are set for each access",
        ));
    }
    let beyond = mask & !DRIVEN_MASK & !SIZE_ADDRINC & value;
    let differ = (value ^ PROBE_RS_AHB_CSW) & mask & DRIVEN_MASK;
    let bad = differ | beyond;
    if bad == 0 {
        return Ok(());
    }
    Err(CommandError::failed(format!(
        "dap apcsw 0x{value:08x} 0x{mask:08x} asks for CSW bits stdbg does not drive: {}. stdbg's memory accesses go through probe-rs, which programs the AHB-AP's CSW itself (0x{PROBE_RS_AHB_CSW:08x}: DbgSwEnable, MasterType, HPROT cacheable, privileged and data; ADIv5 §C2.2.1) and cannot be told otherwise. Remove the apcsw line, or keep only bits of 0x{PROBE_RS_AHB_CSW:08x} (e.g. `apcsw 0x08000000 0x08000000`, the cacheable bit target/stm32h7x.cfg asks for)",
        bit_names(bad)
    )))
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "dap names",
        Mode::Any,
        "",
        "List the DAP instances the target scripts declared.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            let names: Vec<String> = {
                let t = ctx.host.targets();
                let mut v: Vec<String> = Vec::new();
                for d in &t.list {
                    if !d.dap.is_empty() && !v.contains(&d.dap) {
                        v.push(d.dap.clone());
                    }
                }
                v
            };
            for n in names {
                ctx.println(n);
            }
            Ok(())
        },
    ));
    reg.add(command(
        "dap apsel",
        Mode::Any,
        "[ap_num]",
        "Show or select the access port that 'dap apcsw' works on (0 to 255).",
        |ctx, args| {
            let dap = current_dap(ctx)?;
            match args {
                [] => {
                    let ap = ctx.host.targets().dap_apsel.get(&dap).copied().unwrap_or(0);
                    ctx.println(ap.to_string());
                    Ok(())
                }
                [n] => {
                    let ap = parse_u32(n)?;
                    let ap = u8::try_from(ap).map_err(|_| {
                        CommandError::failed(format!(
                            "ap {ap} is not an access port number: ADIv5 APSEL is 8 bits (0 to 255)"
                        ))
                    })?;
                    ctx.host.targets().dap_apsel.insert(dap, ap);
                    Ok(())
                }
                _ => Err(bad_args()),
            }
        },
    ));
    reg.add(command(
        "dap apcsw",
        Mode::Any,
        "[value [mask]]",
        "Show the selected access port's CSW (as probe-rs programs it), or check that a requested CSW value (under a mask) is what stdbg drives.",
        |ctx, args| {
            let dap = current_dap(ctx)?;
            let ap = ctx.host.targets().dap_apsel.get(&dap).copied().unwrap_or(0);
            match args {
                [] => {
                    let csw = if ctx.host.initialized() {
                        ctx.host.read_ap_register(ap, 0x00)? & !SIZE_ADDRINC
                    } else {
                        PROBE_RS_AHB_CSW
                    };
                    ctx.println(format!("ap {ap} selected, csw 0x{csw:08x}"));
                    Ok(())
                }
                [v] => {
                    let value = if v == "default" {
                        PROBE_RS_AHB_CSW
                    } else {
                        parse_u32(v)?
                    };
                    check_apcsw(value, !SIZE_ADDRINC)
                }
                [v, m] => check_apcsw(parse_u32(v)?, parse_u32(m)?),
                _ => Err(bad_args()),
            }
        },
    ));
}

/// The DAP of the current target (the one `<dap> …` made current).
fn current_dap(ctx: &crate::command::Ctx<'_>) -> Result<String, CommandError> {
    let t = ctx.host.targets();
    t.current().map(|d| d.dap.clone()).ok_or_else(|| {
        CommandError::failed(
            "no DAP is declared: source a target script first (e.g. -f targets/stm32h7x.rhai)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_h7_cacheable_request_is_what_probe_rs_drives() {
        check_apcsw(0x0800_0000, 0x0800_0000).unwrap();
        check_apcsw(0, 0).unwrap();
        check_apcsw(0xAB00_0000, 0xBF00_0000).unwrap();
    }

    #[test]
    fn other_bits_are_refused_by_name() {
        let e = check_apcsw(0, 0x0800_0000).unwrap_err().to_string();
        assert!(e.contains("HPROT[3] cacheable (bit 27)"), "{e}");
        let e = check_apcsw(0x0400_0000, 0x0400_0000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("HPROT[2] bufferable (bit 26)"), "{e}");
        let e = check_apcsw(0x0000_0002, 0x0000_0007)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'Size' and 'AddrInc'"), "{e}");
    }
}
