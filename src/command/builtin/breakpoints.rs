//! `bp`, `rbp`, `wp`, `rwp`: breakpoints and watchpoints with OpenOCD 0.12's syntax and output
//! (`src/target/target.c`, `handle_bp_command` and friends). The work is done by
//! [`crate::host::breakpoints`]; unlike OpenOCD these commands also work while the core runs
//! (the FPB, the DWT and RAM are reachable through the AHB-AP at any time).

use super::{parse_u32, parse_u64};
use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command, usage_error};
use crate::host::breakpoints::{BreakpointKind, WatchKind, breakpoint_line, watchpoint_line};

fn parse_addr(s: &str) -> Result<u32, CommandError> {
    let v = parse_u64(s)?;
    u32::try_from(v).map_err(|_| {
        usage_error(format!(
            "address {s} is beyond the 32-bit address space of a Cortex-M"
        ))
    })
}

fn context_unsupported() -> CommandError {
    CommandError::failed(
        "context (ASID) breakpoints need a core with an MMU and address-space IDs; a Cortex-M has none: use 'bp <address> <length> [hw]'",
    )
}

fn bp(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (addr, len, kind) = match args {
        [] => {
            for b in ctx.host.breakpoints() {
                ctx.println(breakpoint_line(&b));
            }
            return Ok(());
        }
        [a, l] => (a, l, BreakpointKind::Software),
        [a, l, k] if k == "hw" => (a, l, BreakpointKind::Hardware),
        [_, _, k] if k == "hw_ctx" => return Err(context_unsupported()),
        [_, _, _, k] if k == "hw" => return Err(context_unsupported()),
        [_, _, k] | [_, _, _, k] => {
            return Err(usage_error(format!(
                "unknown breakpoint type '{k}': use 'hw' or nothing"
            )));
        }
        _ => return Err(bad_args()),
    };
    let addr = parse_addr(addr)?;
    let len = parse_u32(len)?;
    ctx.host.add_breakpoint(addr, len, kind)?;
    ctx.println(format!("breakpoint set at 0x{addr:08x}"));
    Ok(())
}

fn wp(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    if args.is_empty() {
        for w in ctx.host.watchpoints() {
            ctx.println(watchpoint_line(&w));
        }
        return Ok(());
    }
    if args.len() < 2 || args.len() > 5 {
        return Err(bad_args());
    }
    let addr = parse_addr(&args[0])?;
    let len = parse_u32(&args[1])?;
    let kind = match args.get(2) {
        None => WatchKind::Access,
        Some(k) => WatchKind::from_word(k).ok_or_else(|| {
            usage_error(format!(
                "invalid watchpoint mode ('{k}'): use r (read), w (write) or a (access)"
            ))
        })?,
    };
    let value = args.get(3).map(|v| parse_u32(v)).transpose()?;
    let mask = args.get(4).map(|v| parse_u32(v)).transpose()?;
    ctx.host.add_watchpoint(addr, len, kind, value, mask)?;
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "bp",
        Mode::Exec,
        "[<address> [<asid>] <length> ['hw'|'hw_ctx']]",
        "List breakpoints, or set one: in RAM a BKPT instruction (software), with 'hw' or in flash an FPB comparator (6 on a Cortex-M3, code region below 0x20000000).",
        bp,
    ));
    reg.add(command(
        "rbp",
        Mode::Exec,
        "'all' | address",
        "Remove the breakpoint at address, or all of them.",
        |ctx, args| match args {
            [a] if a == "all" => Ok(ctx.host.remove_all_breakpoints()?),
            [a] => Ok(ctx.host.remove_breakpoint(parse_addr(a)?)?),
            _ => Err(bad_args()),
        },
    ));
    reg.add(command(
        "wp",
        Mode::Exec,
        "[address length [('r'|'w'|'a') value [mask]]]",
        "List watchpoints, or set one on an aligned power-of-two range (DWT, 4 comparators on a Cortex-M3); the default mode is a (access). Value matching is not supported.",
        wp,
    ));
    reg.add(command(
        "rwp",
        Mode::Exec,
        "address",
        "Remove the watchpoint at address.",
        |ctx, args| {
            let [a] = args else { return Err(bad_args()) };
            Ok(ctx.host.remove_watchpoint(parse_addr(a)?)?)
        },
    ));
}
