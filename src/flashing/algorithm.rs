//! What stdbg does around a probe-rs flash-algorithm run: the run must leave the debug state as
//! it found it, as OpenOCD's `target_run_algorithm` does (it saves the core registers and
//! restores them after its loader ran).
//!
//! probe-rs resets and halts the core before it loads the algorithm into RAM, and leaves the
//! algorithm's registers behind. Without this, `flash write_image` then `resume` would resume
//! the loader in RAM (PC 0x2000xxxx) instead of the program the user had halted.

use probe_rs::{Core, RegisterId};

use crate::command::CommandError;
use crate::host::Host;

/// DCRSR REGSEL values restored after the run (ARMv7-M ARM §C1.6.3), in restore order: r0–r12,
/// LR, PC (DebugReturnAddress), xPSR, CONTROL/FAULTMASK/BASEPRI/PRIMASK (before the stack
/// pointers, because CONTROL.SPSEL picks which one SP names), MSP, PSP. SP (13) itself is not
/// written: it is MSP or PSP.
const CORE_REGSEL: [u16; 19] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 20, 17, 18,
];

/// FPSCR (0x21) and S0–S31 (0x40–0x5f) on a core with an FPU.
fn fp_regsel() -> impl Iterator<Item = u16> {
    std::iter::once(0x21).chain(0x40..0x60)
}

/// The registers of a halted core, `None` when it runs (the algorithm then starts from a reset
/// and nothing is restored: there was no halted state to go back to).
fn save(core: &mut Core<'_>) -> Result<Option<Vec<(u16, u32)>>, probe_rs::Error> {
    if !core.core_halted()? {
        return Ok(None);
    }
    let mut sel: Vec<u16> = CORE_REGSEL.to_vec();
    if core.fpu_support()? {
        sel.extend(fp_regsel());
    }
    let mut saved = Vec::with_capacity(sel.len());
    for s in sel {
        saved.push((s, core.read_core_reg::<u32>(RegisterId(s))?));
    }
    Ok(Some(saved))
}

fn restore(core: &mut Core<'_>, saved: &[(u16, u32)]) -> Result<(), probe_rs::Error> {
    for &(s, v) in saved {
        core.write_core_reg(RegisterId(s), v)?;
    }
    Ok(())
}

/// Runs `f`, which runs a flash algorithm on the target: with the DWT comparators disabled (a
/// watchpoint on the work area must not halt the algorithm), and with the core registers of a
/// halted core saved before and written back after, then programs the breakpoints and
/// watchpoints again (see `host::breakpoints`). The RAM the algorithm used is not restored, as
/// in OpenOCD (its work area is not backed up by default either).
pub(super) fn around_algorithm(
    host: &Host,
    f: impl FnOnce() -> Result<(), CommandError>,
) -> Result<(), CommandError> {
    host.suspend_watchpoints()?;
    // A core that cannot be read (a lost link) is left to the flash path to report.
    let saved = host.with_core(|core, _| save(core)).ok().flatten();
    let result = f();
    let restored = match &saved {
        Some(regs) if result.is_ok() => host.with_core(|core, _| restore(core, regs)),
        _ => Ok(()),
    };
    let units = host.restore_debug_units();
    result?;
    restored?;
    Ok(units?)
}
