//! `cortex_m maskisr`: how a step and a resume treat interrupts, with OpenOCD 0.12's modes
//! (`src/target/cortex_m.c`) on ARMv7-M's DHCSR.C_MASKINTS (ARMv7-M ARM §C1.6.3: it may only be
//! changed while the core is halted).
//!
//! * `steponly`: interrupts are masked during a step and taken while running (probe-rs's step).
//! * `auto` (default): a step first lets pending interrupts run (a breakpoint on the current PC,
//!   a resume with interrupts enabled, at most [`AUTO_WAIT`]), then steps with them masked; when
//!   the handlers do not come back in time the core is left running, as in OpenOCD. Without a
//!   free FPB comparator the step is taken with interrupts enabled (OpenOCD does the same).
//! * `on`: interrupts stay masked while stepping and while running.
//! * `off`: interrupts are taken during a step too (a step may land in a handler).

use std::time::Duration;

use probe_rs::{Core, CoreInterface, CoreStatus, HaltReason, MemoryInterface};

use super::Host;

/// How long `auto` lets pending interrupt handlers run before the step (OpenOCD: 500 ms).
pub const AUTO_WAIT: Duration = Duration::from_millis(500);

/// How long a single step may take to halt again (probe-rs: 100 ms).
pub(crate) const STEP_WAIT: Duration = Duration::from_millis(100);

use crate::diagnose::regs::dhcsr::{
    C_DEBUGEN, C_HALT, C_MASKINTS, C_STEP, DBGKEY, S_HALT, S_LOCKUP,
};
use crate::diagnose::regs::{DHCSR, ICSR};

const FP_CTRL: u64 = 0xE000_2000;

/// The `cortex_m maskisr` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskIsr {
    /// Pending interrupts run before a masked step.
    Auto,
    /// Masked always.
    On,
    /// Never masked.
    Off,
    /// Masked during steps only.
    StepOnly,
}

impl MaskIsr {
    /// The mode from OpenOCD's word (`auto`, `on`, `off`, `steponly`).
    pub fn from_word(w: &str) -> Option<MaskIsr> {
        Some(match w {
            "auto" => MaskIsr::Auto,
            "on" => MaskIsr::On,
            "off" => MaskIsr::Off,
            "steponly" => MaskIsr::StepOnly,
            _ => return None,
        })
    }
}

impl Host {
    /// The `cortex_m maskisr` setting.
    pub fn maskisr(&self) -> MaskIsr {
        MaskIsr::from_word(&self.config().compat.maskisr).unwrap_or(MaskIsr::Auto)
    }

    /// One instruction step of a halted core, as `cortex_m maskisr` says.
    pub fn step_core(&self, core: &mut Core<'_>) -> Result<(), probe_rs::Error> {
        match self.maskisr() {
            MaskIsr::StepOnly | MaskIsr::On => step_masked(core),
            MaskIsr::Off => step_unmasked(core),
            MaskIsr::Auto => {
                if !run_pending_handlers(core)? {
                    return Ok(()); // left running: the handlers did not return in time
                }
                step_masked(core)
            }
        }
    }

    /// Resumes a halted core, as `cortex_m maskisr` says (`on`: interrupts stay masked).
    pub fn run_core(&self, core: &mut Core<'_>) -> Result<(), probe_rs::Error> {
        if self.maskisr() != MaskIsr::On {
            if run_off_a_breakpoint_halt(core)? {
                return Ok(());
            }
            return core.run();
        }
        // Off a breakpoint first (probe-rs's step knows how), then run with C_MASKINTS set.
        if matches!(
            core.status()?,
            CoreStatus::Halted(HaltReason::Breakpoint(_))
        ) {
            step_masked(core)?;
        }
        core.write_word_32(DHCSR, DBGKEY | C_DEBUGEN | C_HALT | C_MASKINTS)?;
        core.write_word_32(DHCSR, DBGKEY | C_DEBUGEN | C_MASKINTS)?;
        core.flush()?;
        core.status()?;
        Ok(())
    }
}

/// probe-rs's `run` steps first, and after a breakpoint halt its step moves the PC on by 2 when
/// the instruction did not move it (meant for a `BKPT` instruction): a `resume` after a hit on
/// a `b .` whose breakpoint was removed would start 2 bytes on. probe-rs keeps that halt reason
/// until the core runs. So where the PC holds no `BKPT` instruction (stdbg's own breakpoints at
/// the PC were stepped off before), the core is run here (DHCSR: C_HALT, C_STEP and C_MASKINTS
/// clear, ARMv7-M ARM §C1.6.2) and probe-rs reads its status; true when it was.
fn run_off_a_breakpoint_halt(core: &mut Core<'_>) -> Result<bool, probe_rs::Error> {
    if !matches!(
        core.status()?,
        CoreStatus::Halted(HaltReason::Breakpoint(_))
    ) {
        return Ok(false);
    }
    let pc: u32 = core.read_core_reg(probe_rs::RegisterId(15))?;
    let mut insn = [0u16];
    if core.read_16(u64::from(pc & !1), &mut insn).is_ok() && insn[0] & 0xFF00 == 0xBE00 {
        return Ok(false); // a BKPT instruction: probe-rs steps over it
    }
    core.write_word_32(DHCSR, DBGKEY | C_DEBUGEN)?;
    core.flush()?;
    core.status()?;
    Ok(true)
}

/// A step with C_MASKINTS set (set while halted, ARMv7-M ARM §C1.6.2; left set, as probe-rs
/// does: its `run` clears it), for a core with no breakpoint of stdbg's at the PC. Not
/// probe-rs's `Core::step`: after a breakpoint halt, that one takes a step which leaves the PC
/// in place (a `b .`) for a step over a `BKPT` instruction and moves the PC on by 2. A core
/// that locks up is halted, as probe-rs does. The status read at the end tells probe-rs the
/// core halted after a step (DFSR.HALTED), not on the earlier breakpoint.
pub(crate) fn step_masked(core: &mut Core<'_>) -> Result<(), probe_rs::Error> {
    let dhcsr = core.read_word_32(DHCSR)?;
    if masked_step(core, dhcsr)?.is_err() {
        return Err(probe_rs::Error::Timeout);
    }
    core.status()?;
    Ok(())
}

/// DHCSR reads and writes, through probe-rs's core or straight through the banked registers
/// (host/faststep.rs), for [`masked_step`].
pub(crate) trait DhcsrAccess {
    type Error;
    fn read_dhcsr(&mut self) -> Result<u32, Self::Error>;
    fn write_dhcsr(&mut self, value: u32) -> Result<(), Self::Error>;
    /// Sends posted writes now (so that a refused one fails here).
    fn flush_dhcsr(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl DhcsrAccess for Core<'_> {
    type Error = probe_rs::Error;
    fn read_dhcsr(&mut self) -> Result<u32, probe_rs::Error> {
        self.read_word_32(DHCSR)
    }
    fn write_dhcsr(&mut self, value: u32) -> Result<(), probe_rs::Error> {
        self.write_word_32(DHCSR, value)
    }
    fn flush_dhcsr(&mut self) -> Result<(), probe_rs::Error> {
        self.flush()
    }
}

/// The masked single step of a halted core whose DHCSR reads `dhcsr` (ARMv7-M ARM §C1.6.2):
/// C_MASKINTS set while halted (when clear), C_STEP with C_HALT clear, then DHCSR reads until
/// S_HALT; a core that locks up is halted (as probe-rs does). `Ok(Err(dhcsr))`: not halted
/// again within [`STEP_WAIT`], with the last DHCSR value.
pub(crate) fn masked_step<A: DhcsrAccess>(
    a: &mut A,
    dhcsr: u32,
) -> Result<Result<(), u32>, A::Error> {
    if dhcsr & C_MASKINTS == 0 {
        a.write_dhcsr(DBGKEY | C_DEBUGEN | C_HALT | C_MASKINTS)?;
    }
    a.write_dhcsr(DBGKEY | C_DEBUGEN | C_MASKINTS | C_STEP)?;
    a.flush_dhcsr()?;
    let start = std::time::Instant::now();
    loop {
        let d = a.read_dhcsr()?;
        if d & S_HALT != 0 {
            return Ok(Ok(()));
        }
        if d & S_LOCKUP != 0 {
            a.write_dhcsr(DBGKEY | C_DEBUGEN | C_MASKINTS | C_HALT)?;
        }
        if start.elapsed() > STEP_WAIT {
            return Ok(Err(d));
        }
    }
}

/// A step with C_MASKINTS clear; the FPB is off during it so that a breakpoint on the current
/// instruction does not hold the core where it is.
fn step_unmasked(core: &mut Core<'_>) -> Result<(), probe_rs::Error> {
    let fp = core.read_word_32(FP_CTRL)?;
    if fp & 1 != 0 {
        core.write_word_32(FP_CTRL, (fp & !1) | 2)?; // KEY, ENABLE = 0
    }
    core.write_word_32(DHCSR, DBGKEY | C_DEBUGEN | C_HALT)?; // C_MASKINTS cleared while halted
    core.write_word_32(DHCSR, DBGKEY | C_DEBUGEN | C_STEP)?;
    core.flush()?;
    let halted = wait_halt(core, STEP_WAIT);
    if fp & 1 != 0 {
        core.write_word_32(FP_CTRL, fp | 2)?;
    }
    halted?;
    core.status()?;
    Ok(())
}

/// `auto`: when an interrupt is pending (ICSR.VECTPENDING), lets it run back to the current PC
/// with a breakpoint there. Returns false when the core was left running.
fn run_pending_handlers(core: &mut Core<'_>) -> Result<bool, probe_rs::Error> {
    let icsr = core.read_word_32(ICSR)?;
    if (icsr >> 12) & 0x1FF == 0 {
        return Ok(true);
    }
    let pc: u32 = core.read_core_reg(core.program_counter())?;
    let units = core.hw_breakpoints()?;
    // A breakpoint of the user's on this PC serves as well (and stays).
    let ours = !units.contains(&Some(u64::from(pc)));
    if ours && !units.iter().any(|u| u.is_none()) {
        tracing::debug!("maskisr auto: no free breakpoint; stepping with interrupts enabled");
        return step_unmasked(core).map(|()| true);
    }
    if ours {
        core.set_hw_breakpoint(u64::from(pc))?;
    }
    core.write_word_32(DHCSR, DBGKEY | C_DEBUGEN | C_HALT)?; // interrupts enabled
    core.write_word_32(DHCSR, DBGKEY | C_DEBUGEN)?;
    core.flush()?;
    let back = wait_halt(core, AUTO_WAIT);
    // FPB comparators may be written while the core runs.
    if ours {
        core.clear_hw_breakpoint(u64::from(pc))?;
    }
    core.status()?;
    if back.is_err() {
        tracing::debug!(
            "maskisr auto: the interrupt handlers did not return within 500 ms; leaving the target running"
        );
        return Ok(false);
    }
    Ok(true)
}

fn wait_halt(core: &mut Core<'_>, timeout: Duration) -> Result<(), probe_rs::Error> {
    let start = std::time::Instant::now();
    loop {
        if core.read_word_32(DHCSR)? & S_HALT != 0 {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(probe_rs::Error::Timeout);
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}
