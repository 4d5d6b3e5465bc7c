//! What stdbg does around a probe-rs flash-algorithm run: the run must leave the debug state as
//! it found it, as OpenOCD's `target_run_algorithm` does (it saves the core registers and
//! restores them after its loader ran).
//!
//! probe-rs resets and halts the core before it loads the algorithm into RAM, and leaves the
//! algorithm's registers behind. Without this, `flash write_image` then `resume` would resume
//! the loader in RAM (PC 0x2000xxxx) instead of the program the user had halted.

use probe_rs::{Core, MemoryInterface, RegisterId};

use crate::command::CommandError;
use crate::diagnose::fault::scb::DFSR;
use crate::diagnose::regs::{
    DHCSR,
    dhcsr::{S_HALT, S_LOCKUP},
};
use crate::host::Host;
use crate::probe::batch::{core_regs_read, core_regs_written};
use crate::probe::memap::{CSW_SIZE, CSW_WORD, DRW, TAR};

/// DFSR's flags (ARMv7-M ARM §C1.6.1).
pub(super) const DFSR_FLAGS: u32 = 0x1F;
pub(super) use crate::host::control::regsel::XPSR;
use crate::host::control::regsel::{MSP, PSP, SPECIAL};

/// DCRSR REGSEL values restored after the run (ARMv7-M ARM §C1.6.3), after xPSR, in restore
/// order: r0–r12, LR, PC (DebugReturnAddress), CONTROL/FAULTMASK/BASEPRI/PRIMASK (before the
/// stack pointers, because CONTROL.SPSEL picks which one SP names), MSP, PSP. SP (13) itself is
/// not written: it is MSP or PSP.
const CORE_REGSEL: [u16; 18] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, SPECIAL, MSP, PSP,
];

/// FPSCR (0x21) and S0–S31 (0x40–0x5f) on a core with an FPU.
fn fp_regsel() -> impl Iterator<Item = u16> {
    std::iter::once(0x21).chain(0x40..0x60)
}

/// What to do after the algorithm ran.
enum After {
    /// Nothing: the core was running (the algorithm starts from a reset, as in probe-rs).
    Nothing,
    /// Write these registers back: the core was halted in Thread mode.
    Restore(Vec<(u16, u32)>),
    /// Reset and halt: the core was halted in an exception handler or locked up, a state that
    /// register writes cannot bring back after probe-rs's reset (the NVIC's active exception is
    /// gone); the core is left as `reset halt` leaves it, at the new image's reset vector.
    ResetHalt,
}

/// The REGSEL values [`save_thread_registers`] saves, xPSR first.
fn thread_regsel(fpu: bool) -> Vec<u16> {
    let mut sel = vec![XPSR];
    sel.extend(CORE_REGSEL);
    if fpu {
        sel.extend(fp_regsel());
    }
    sel
}

/// [`save`] through the banked registers (`probe/batch.rs`): a DHCSR read, then all registers
/// and DFSR (see [`restore_fast`]) in one batch with a probe that batches reads, instead of
/// about two round trips per register. `None` when that path failed
/// (probe-rs's [`save`] then runs, for its errors).
fn save_fast(host: &Host) -> Option<(After, Option<u32>)> {
    let dhcsr = host.read_dhcsr_fast().ok()?;
    if dhcsr & S_HALT == 0 {
        return Some((After::Nothing, None));
    }
    if dhcsr & S_LOCKUP != 0 {
        return Some((After::ResetHalt, None));
    }
    let sel = thread_regsel(host.core_has_fpu().ok()?);
    let v = host
        .with_reads(CSW_SIZE, CSW_WORD, |r| {
            r.read_core_regs(&sel)?;
            r.write(TAR, DFSR as u32)?;
            r.read(DRW)
        })
        .ok()?;
    let (regs, dfsr) = v.split_at(2 * sel.len());
    let values = core_regs_read(regs).ok()?;
    if values[0] & 0x1ff != 0 {
        return Some((After::ResetHalt, None));
    }
    Some((
        After::Restore(sel.into_iter().zip(values).collect()),
        Some(dfsr[0]),
    ))
}

/// Writes the saved registers back through the banked registers, then clears the DFSR flags
/// the algorithm's `BKPT` set (ARMv7-M ARM §C1.6.1: write 1 to clear), so the core reads as
/// halted as before: probe-rs, seeing DFSR.BKPT, would read the instruction at the restored PC
/// (its semihosting check), which faults where the PC is not in memory (a blank chip's
/// 0xFFFFFFFE).
/// False when that failed (probe-rs's writes then run, for their errors).
fn restore_fast(host: &Host, saved: &[(u16, u32)], dfsr: Option<u32>) -> bool {
    let d = host.with_reads(CSW_SIZE, CSW_WORD, |r| {
        r.write_core_regs(saved)?;
        if let Some(before) = dfsr {
            r.write(TAR, DFSR as u32)?;
            r.write(DRW, !before & DFSR_FLAGS)?;
        }
        Ok(())
    });
    d.is_ok_and(|d| core_regs_written(&d).is_ok())
}

/// What the core looks like before the algorithm runs.
fn save(core: &mut Core<'_>) -> Result<After, probe_rs::Error> {
    if !core.core_halted()? {
        return Ok(After::Nothing);
    }
    let xpsr: u32 = core.read_core_reg(RegisterId(XPSR))?;
    let dhcsr = core.read_word_32(DHCSR)?;
    if xpsr & 0x1ff != 0 || dhcsr & S_LOCKUP != 0 {
        return Ok(After::ResetHalt);
    }
    Ok(After::Restore(save_thread_registers(core, xpsr)?))
}

/// The registers of a core halted in Thread mode, `xpsr` (already read) first, in the order
/// [`restore_registers`] writes them back: [`CORE_REGSEL`], then FPSCR and S0–S31 with an FPU.
pub(super) fn save_thread_registers(
    core: &mut Core<'_>,
    xpsr: u32,
) -> Result<Vec<(u16, u32)>, probe_rs::Error> {
    let sel = thread_regsel(core.fpu_support()?);
    let mut saved = Vec::with_capacity(sel.len());
    saved.push((XPSR, xpsr));
    for &s in &sel[1..] {
        saved.push((s, core.read_core_reg::<u32>(RegisterId(s))?));
    }
    Ok(saved)
}

/// Writes back what [`save_thread_registers`] saved.
pub(super) fn restore_registers(
    core: &mut Core<'_>,
    saved: &[(u16, u32)],
) -> Result<(), probe_rs::Error> {
    for &(s, v) in saved {
        core.write_core_reg(RegisterId(s), v)?;
    }
    Ok(())
}

fn restore(core: &mut Core<'_>, after: &After) -> Result<(), probe_rs::Error> {
    match after {
        After::Nothing => {}
        After::Restore(saved) => restore_registers(core, saved)?,
        After::ResetHalt => {
            core.reset_and_halt(std::time::Duration::from_millis(500))?;
        }
    }
    Ok(())
}

/// Runs `f`, which runs a flash algorithm on the target: with the DWT comparators disabled (a
/// watchpoint on the work area must not halt the algorithm), and with the core registers of a
/// core halted in Thread mode saved before and written back after (a core halted in a handler
/// or locked up is reset and halted after instead, see [`After::ResetHalt`]), then programs the
/// breakpoints and watchpoints again (see `host::breakpoints`). The RAM the algorithm used is not restored, as
/// in OpenOCD (its work area is not backed up by default either).
pub(super) fn around_algorithm(
    host: &Host,
    f: impl FnOnce() -> Result<(), CommandError>,
) -> Result<(), CommandError> {
    host.suspend_watchpoints()?;
    // A core that cannot be read (a lost link) is left to the flash path to report.
    let (after, dfsr) = save_fast(host)
        .or_else(|| host.with_core(|core, _| save(core)).ok().map(|a| (a, None)))
        .unwrap_or((After::Nothing, None));
    let result = f();
    let restored = match &after {
        After::Nothing => Ok(()),
        _ if result.is_err() => Ok(()),
        // One batch through the banked registers; probe-rs's writes when that fails.
        After::Restore(saved) if restore_fast(host, saved, dfsr) => Ok(()),
        a => host.with_core(|core, _| restore(core, a)),
    };
    let units = host.restore_debug_units();
    result?;
    restored?;
    Ok(units?)
}
