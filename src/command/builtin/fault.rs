//! `fault`: what the fault status registers say about the halted core (the
//! decode the halt message shows when the core stops in a fault handler).

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
}
