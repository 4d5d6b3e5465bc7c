//! `fault`: what the fault status registers say about the halted core (the
//! decode the halt message shows when the core stops in a fault handler), and
//! `cortex_m vector_catch`: which faults halt the core on their handler's
//! first instruction.

use probe_rs::MemoryInterface;

use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command};
use crate::diagnose::fault::FaultReport;

/// Prints the decoded fault of the halted current target, or says there is none.
pub fn fault(ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
    let host = ctx.host.clone();
    let sym = move |a: u32| host.symbolize(a);
    let lines = ctx.host.with_core(|core, name| {
        let status = core.status()?;
        if !status.is_halted() {
            return Ok(vec![format!(
                "[{name}] is running: 'halt' it first (the fault registers are read from a halted core)"
            )]);
        }
        let r = FaultReport::read(core, false)?;
        Ok(match r {
            Some(r) => r.explain(&sym),
            None => {
                let cfsr = core.read_word_32(crate::diagnose::fault::scb::CFSR)?;
                let hfsr = core.read_word_32(crate::diagnose::fault::scb::HFSR)?;
                vec![format!(
                    "no fault: the core is not in a fault handler (CFSR 0x{cfsr:08x}, HFSR 0x{hfsr:08x})"
                )]
            }
        })
    })?;
    for l in lines {
        ctx.println(l);
    }
    Ok(())
}

/// DEMCR (ARMv7-M ARM §C1.6.5).
const DEMCR: u64 = 0xE000_EDFC;

/// OpenOCD's vector-catch names and their DEMCR bits (ARMv7-M ARM §C1.6.5), in
/// OpenOCD's order.
const VECTOR_CATCH: [(&str, u32); 8] = [
    ("hard_err", 1 << 10),
    ("int_err", 1 << 9),
    ("bus_err", 1 << 8),
    ("state_err", 1 << 7),
    ("chk_err", 1 << 6),
    ("nocp_err", 1 << 5),
    ("mm_err", 1 << 4),
    ("reset", 1 << 0),
];

/// All DEMCR.VC_* bits.
const VC_ALL: u32 = 0x7F1;

/// The DEMCR.VC_* bits `args` select: `all`, `none`, or a list of names.
fn vector_catch_mask(args: &[String]) -> Result<u32, CommandError> {
    match args {
        [a] if a == "all" => Ok(VC_ALL),
        [a] if a == "none" => Ok(0),
        names => names.iter().try_fold(0, |m, n| {
            VECTOR_CATCH
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, bit)| m | bit)
                .ok_or_else(|| {
                    let all: Vec<&str> = VECTOR_CATCH.iter().map(|(n, _)| *n).collect();
                    CommandError::failed(format!(
                        "unknown vector catch \"{n}\": use 'all', 'none' or any of {}",
                        all.join(", ")
                    ))
                })
        }),
    }
}

/// `cortex_m vector_catch ['all'|'none'|name…]`: sets DEMCR's vector-catch bits
/// (keeping TRCENA and the monitor bits), then prints each as OpenOCD does
/// (`%9s: catch|ignore`).
pub fn vector_catch(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let set = if args.is_empty() {
        None
    } else {
        Some(vector_catch_mask(args)?)
    };
    let demcr = ctx.host.with_core(|core, _| {
        let mut demcr = core.read_word_32(DEMCR)?;
        if let Some(mask) = set {
            demcr = (demcr & !VC_ALL) | mask;
            core.write_word_32(DEMCR, demcr)?;
            core.flush()?;
            demcr = core.read_word_32(DEMCR)?;
        }
        Ok(demcr)
    })?;
    for (name, bit) in VECTOR_CATCH {
        let state = if demcr & bit != 0 { "catch" } else { "ignore" };
        ctx.println(format!("{name:>9}: {state}"));
    }
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "fault",
        Mode::Exec,
        "",
        "Explain the fault the halted core is in: the exception, CFSR/HFSR by name, the stacked PC and LR with their function and line, the faulting address.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            fault(ctx)
        },
    ));
    reg.add(command(
        "cortex_m vector_catch",
        Mode::Exec,
        "['all'|'none'|('hard_err'|'int_err'|'bus_err'|'state_err'|'chk_err'|'nocp_err'|'mm_err'|'reset')...]",
        "Which faults halt the core on the first instruction of their handler (DEMCR.VC_*), as OpenOCD's command; with no argument, print them.",
        vector_catch,
    ));
}
