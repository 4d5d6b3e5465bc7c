//! Memory display and write: `mdw/mdh/mdb/mdd`, `mww/mwh/mwb/mwd`, `read_memory`,
//! `write_memory`. Accesses use the width the command names (a 16-bit peripheral register gets
//! 16-bit bus cycles), as OpenOCD does.

use super::parse_u64;
use crate::command::format::memory_dump;
use crate::command::range::{self, MAX_ITEMS};
use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command, usage_error};

/// Reads `count` items of `width` bytes with accesses of that width.
/// A failed read of STM32F1 flash under read-out protection says so
/// ([`crate::flashing::diagnosis::explain_read_error`]).
pub fn read_items(
    ctx: &Ctx<'_>,
    addr: u64,
    width: usize,
    count: usize,
) -> Result<Vec<u64>, CommandError> {
    let len = (width * count) as u64;
    ctx.host
        .with_memory(|core, _| {
            Ok(match width {
                1 => {
                    let mut b = vec![0u8; count];
                    core.read_8(addr, &mut b)?;
                    b.into_iter().map(u64::from).collect()
                }
                2 => {
                    let mut b = vec![0u16; count];
                    core.read_16(addr, &mut b)?;
                    b.into_iter().map(u64::from).collect()
                }
                4 => {
                    let mut b = vec![0u32; count];
                    core.read_32(addr, &mut b)?;
                    b.into_iter().map(u64::from).collect()
                }
                _ => {
                    let mut b = vec![0u64; count];
                    core.read_64(addr, &mut b)?;
                    b
                }
            })
        })
        .map_err(|e| {
            outside_memory(ctx, addr, len, e, |e| {
                crate::flashing::diagnosis::explain_read_error(ctx.host, addr, len, e)
            })
        })
}

/// When an access failed and the address range is not memory the chip has, says so plainly,
/// with the chip's memory map, instead of only the bus fault's error chain; for memory the
/// chip has, `explain` gives the error (read protection and the like).
fn outside_memory(
    ctx: &Ctx<'_>,
    addr: u64,
    len: u64,
    err: CommandError,
    explain: impl FnOnce(CommandError) -> CommandError,
) -> CommandError {
    // From the memory map alone (no access to the chip): is the address memory at all?
    let note = {
        let mut g = ctx.host.conn();
        let Some(conn) = g.as_mut() else {
            drop(g);
            return explain(err);
        };
        let target = conn.session.target();
        let end = addr.saturating_add(len.max(1));
        let regions: Vec<_> = target
            .memory_map
            .iter()
            .filter(|r| !r.as_nvm_region().is_some_and(|n| n.is_alias))
            .map(|r| r.address_range())
            .collect();
        let mapped = regions.iter().any(|r| r.start <= addr && end <= r.end);
        // Peripherals, system memory/option bytes and the private peripheral bus are not in
        // probe-rs's map but exist on every STM32.
        let system = (0x1FF0_0000..0x2000_0000).contains(&addr)
            || (0x4000_0000..0x6000_0000).contains(&addr)
            || addr >= 0xE000_0000;
        if mapped || system {
            drop(g);
            return explain(err);
        }
        // The FAULT is explained by the address, not by the link: no re-attach follows (the
        // lookups below must not re-attach either).
        conn.notes.link_lost = false;
        let map: Vec<String> = regions
            .iter()
            .map(|r| format!("0x{:08x}-0x{:08x}", r.start, r.end - 1))
            .collect();
        format!(
            "0x{addr:08x} is not memory that {} has (its memory: {}; peripherals 0x40000000-0x5fffffff; system 0xe0000000-0xffffffff), so the bus refused the access; check the address",
            target.name,
            map.join(", ")
        )
    };
    // An external-memory window of the chip (the H7's QUADSPI bank) is memory that answers only
    // once configured: say that, not "no memory there".
    let line = crate::family::target_line(ctx.host, None);
    if let Some(w) = line
        .driver
        .and_then(|d| d.family())
        .and_then(|f| f.external_window(addr))
    {
        return CommandError::failed(format!(
            "the access at 0x{addr:08x} failed (bus error): {w}\n  detail: {err}"
        ));
    }
    CommandError::failed(format!("{note}\n  detail: {err}"))
}

/// Writes items of `width` bytes with accesses of that width.
pub fn write_items(
    ctx: &Ctx<'_>,
    addr: u64,
    width: usize,
    values: &[u64],
) -> Result<(), CommandError> {
    ctx.host
        .with_memory(|core, _| {
            match width {
                1 => core.write_8(addr, &values.iter().map(|v| *v as u8).collect::<Vec<_>>())?,
                2 => core.write_16(addr, &values.iter().map(|v| *v as u16).collect::<Vec<_>>())?,
                4 => core.write_32(addr, &values.iter().map(|v| *v as u32).collect::<Vec<_>>())?,
                _ => core.write_64(addr, values)?,
            }
            // Probes batch writes; flush so a write the bus refused fails here, on this command,
            // and not later on an unrelated one.
            core.flush()
        })
        .map_err(|e| outside_memory(ctx, addr, (width * values.len()) as u64, e, |e| e))
}

/// Checks `count` items of `width` bytes at `addr` against the limits of [`range`] (before
/// anything is allocated); returns the count as a `usize`.
fn check_range(ctx: &Ctx<'_>, addr: u64, width: usize, count: u64) -> Result<usize, CommandError> {
    let regions = range::regions(ctx.host);
    range::check_access(&regions, addr, width as u64, count, MAX_ITEMS)?;
    Ok(count as usize)
}

fn check_align(addr: u64, width: usize) -> Result<(), CommandError> {
    if !addr.is_multiple_of(width as u64) {
        return Err(CommandError::failed(format!(
            "address 0x{addr:08x} is not aligned to {width} bytes: {}-bit accesses need an address that is a multiple of {width}",
            width * 8
        )));
    }
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    for (name, width) in [("mdd", 8usize), ("mdw", 4), ("mdh", 2), ("mdb", 1)] {
        reg.add(command(
            name,
            Mode::Exec,
            "['phys'] address [count]",
            &format!("Display memory as {}-bit words.", width * 8),
            move |ctx, args| {
                let args: Vec<&String> = args.iter().filter(|a| *a != "phys").collect();
                let (addr, count) = match args.as_slice() {
                    [a] => (parse_u64(a)?, 1),
                    [a, c] => (parse_u64(a)?, parse_u64(c)?),
                    _ => return Err(bad_args()),
                };
                if count == 0 {
                    return Ok(());
                }
                check_align(addr, width)?;
                let count = check_range(ctx, addr, width, count)?;
                let values = read_items(ctx, addr, width, count)?;
                for l in memory_dump(addr, width, &values) {
                    ctx.println(l);
                }
                Ok(())
            },
        ));
    }
    for (name, width) in [("mwd", 8usize), ("mww", 4), ("mwh", 2), ("mwb", 1)] {
        reg.add(command(
            name,
            Mode::Exec,
            "['phys'] address value [count]",
            &format!("Write {}-bit words to memory (count = fill).", width * 8),
            move |ctx, args| {
                let args: Vec<&String> = args.iter().filter(|a| *a != "phys").collect();
                let (addr, value, count) = match args.as_slice() {
                    [a, v] => (parse_u64(a)?, parse_u64(v)?, 1),
                    [a, v, c] => (parse_u64(a)?, parse_u64(v)?, parse_u64(c)?),
                    _ => return Err(bad_args()),
                };
                if width < 8 && value >> (width * 8) != 0 {
                    return Err(usage_error(format!(
                        "value 0x{value:x} does not fit in {} bits",
                        width * 8
                    )));
                }
                check_align(addr, width)?;
                let count = check_range(ctx, addr, width, count)?;
                write_items(ctx, addr, width, &vec![value; count])
            },
        ));
    }
    // OpenOCD 0.12 mem_helper.tcl: mrw/mrh/mrb return [read_memory $reg W 1].
    for (name, width, help) in [
        (
            "mrw",
            4usize,
            "Return the 32-bit word at address (OpenOCD mem_helper).",
        ),
        (
            "mrh",
            2,
            "Return the 16-bit halfword at address (OpenOCD mem_helper).",
        ),
        ("mrb", 1, "Return the byte at address (OpenOCD mem_helper)."),
    ] {
        reg.add(command(
            name,
            Mode::Exec,
            "address",
            help,
            move |ctx, args| {
                let [a] = args else { return Err(bad_args()) };
                let addr = parse_u64(a)?;
                check_align(addr, width)?;
                let v = read_items(ctx, addr, width, 1)?[0];
                ctx.println(format!("{v:#x}"));
                Ok(())
            },
        ));
    }
    reg.add(command(
        "mmw",
        Mode::Exec,
        "address setbits clearbits",
        "Read-modify-write a 32-bit word: clear clearbits, then set setbits (OpenOCD mem_helper).",
        |ctx, args| {
            let [a, set, clear] = args else {
                return Err(bad_args());
            };
            let (addr, set, clear) = (parse_u64(a)?, parse_u64(set)?, parse_u64(clear)?);
            check_align(addr, 4)?;
            let v = read_items(ctx, addr, 4, 1)?[0];
            write_items(ctx, addr, 4, &[(v & !clear) | set])
        },
    ));
    reg.add(command(
        "read_memory",
        Mode::Exec,
        "address width count ['phys']",
        "Read count items of width bits (8/16/32/64) and return them as a list.",
        |ctx, args| {
            let args: Vec<&String> = args.iter().filter(|a| *a != "phys").collect();
            let [a, w, c] = args.as_slice() else {
                return Err(bad_args());
            };
            let (addr, width, count) = (parse_u64(a)?, parse_u64(w)?, parse_u64(c)?);
            let width = match width {
                8 | 16 | 32 | 64 => width as usize / 8,
                _ => return Err(usage_error(format!("width {width} is not 8, 16, 32 or 64"))),
            };
            check_align(addr, width)?;
            let count = check_range(ctx, addr, width, count)?;
            let values = read_items(ctx, addr, width, count)?;
            ctx.println(
                values
                    .iter()
                    .map(|v| format!("{v:#x}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            Ok(())
        },
    ));
    reg.add(command("write_memory", Mode::Exec, "address width data ['phys']", "Write a list of items of width bits (8/16/32/64), e.g. write_memory 0x20000000 32 {0x1 0x2}.", |ctx, args| {
        let args: Vec<&String> = args.iter().filter(|a| *a != "phys").collect();
        let [a, w, data] = args.as_slice() else { return Err(bad_args()) };
        let (addr, width) = (parse_u64(a)?, parse_u64(w)?);
        let width = match width {
            8 | 16 | 32 | 64 => width as usize / 8,
            _ => return Err(usage_error(format!("width {width} is not 8, 16, 32 or 64"))),
        };
        let values = data.split_whitespace().map(parse_u64).collect::<Result<Vec<_>, _>>()?;
        if let Some(v) = values.iter().find(|v| width < 8 && **v >> (width * 8) != 0) {
            return Err(usage_error(format!("value 0x{v:x} does not fit in {} bits", width * 8)));
        }
        check_align(addr, width)?;
        check_range(ctx, addr, width, values.len() as u64)?;
        write_items(ctx, addr, width, &values)
    }));
}
