//! `continue` and `stepi` (c/s/vCont packets).
//!
//! Continue goes through `Host::resume` (the same path as the `resume` command: resume events,
//! stepping off a breakpoint at the PC, the host's target state becomes running, so the host's
//! poller announces the next halt on every console). A step is done at once on the host thread
//! (without announcing each step on the consoles) and its stop reply is queued; gdbstub then
//! collects it from the Running state, as it requires.

use gdbstub::common::Signal;
use gdbstub::stub::SingleThreadStopReason;
use gdbstub::target::ext::base::singlethread::{
    SingleThreadResume, SingleThreadSingleStep, SingleThreadSingleStepOps,
};
use probe_rs::{CoreStatus, MemoryInterface, RegisterId};

use super::target::{GdbError, GdbTarget, StopInfo};
use crate::command::CommandError;
use crate::host::faststep::{FastStep, not_halted};
use crate::host::target::TargetState;

impl SingleThreadResume for GdbTarget {
    fn resume(&mut self, _signal: Option<Signal>) -> Result<(), GdbError> {
        self.read_cache = None;
        self.code_cache = None;
        self.expedite = None;
        self.pending_stop = None;
        self.poll_failed = false;
        self.fileio_waiting = false;
        self.fileio_out = None;
        tracing::debug!("GDB continue: the target runs until it stops");
        let id = self.id;
        let (r, _) = self.with_host(move |host, ctx| -> Result<(), CommandError> {
            // Any continue or step ends a `gdb_sync` request (OpenOCD).
            host.config().gdb.sync.remove(&id);
            let (name, _) = host.current_target()?;
            let halted = host.with_core(|core, _| core.core_halted())?;
            if !halted {
                // Already running (resumed from a console): just wait for it to stop.
                host.set_state(&name, TargetState::Running);
                return Ok(());
            }
            host.resume(ctx, None)
        })?;
        if let Err(e) = r {
            let _ = self.fail(format!("stdbg: could not resume the target: {e}"));
            self.pending_stop = Some(SingleThreadStopReason::Signal(Signal::SIGTRAP));
        }
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

/// What a step ended in: a stop to report other than "step done" (`None`: done), whether flash
/// may have changed (the flash controller was unlocked), the registers to expedite.
type StepOutcome = (Option<StopInfo>, bool, Option<Vec<(u8, u32)>>);

impl SingleThreadSingleStep for GdbTarget {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), GdbError> {
        self.read_cache = None;
        self.poll_failed = false;
        self.expedite = None;
        let id = self.id;
        // What GDB reads after a step, sent in the stop reply (wire::expedite) so that it needs
        // no `g`: pc, r7 (frame pointer), sp, lr and, with the target description, xPSR (16;
        // the Thumb bit), MSP and PSP (17, 18: GDB's Arm unwinder reads both to tell which
        // stack sp is).
        let mut sels: Vec<u16> = vec![15, 7, 13, 14];
        if self.settings.target_description {
            sels.extend([16, 17, 18]);
        }
        let (r, _) = self.with_host(move |host, ctx| -> Result<StepOutcome, CommandError> {
            let (target, _) = host.current_target()?;
            // `monitor gdb_sync`: this stepi reports the halted core as it is (SIGINT, as
            // OpenOCD's "T02"), so GDB fetches fresh registers after a reset.
            let sync = host.config().gdb.sync.remove(&id);
            if sync && host.with_core(|core, _| core.core_halted())? {
                tracing::debug!(
                    "stepi ignored. GDB will now fetch the register state from the target."
                );
                return Ok((
                    Some(StopInfo {
                        reason: probe_rs::HaltReason::Request,
                        pc: 0,
                        watch: None,
                    }),
                    true,
                    None,
                ));
            }
            host.fire_event(ctx, &target, "step-start")?;
            let locks = crate::family::target_line(host, None)
                .driver
                .and_then(|d| d.family())
                .map(|f| f.control_locks())
                .unwrap_or(&[]);
            let fast = host.step_fast(locks)?;
            let status = match fast {
                FastStep::Done { flash_may_change } => (
                    CoreStatus::Halted(probe_rs::HaltReason::Step),
                    flash_may_change,
                ),
                FastStep::NotTaken => host.with_core(|core, name| {
                    if !core.core_halted()? {
                        return Err(probe_rs::Error::Other(not_halted(name)));
                    }
                    if !host.before_resume(core, name)? {
                        host.step_core(core)?;
                    }
                    let status = core.status()?;
                    // Flash read before the step is still valid unless the instruction could have
                    // programmed it: only an unlocked flash controller can (no family: assume so).
                    let mut flash_may_change = locks.is_empty();
                    for &(cr, lock) in locks {
                        flash_may_change |= core.read_word_32(cr)? & lock == 0;
                    }
                    Ok((status, flash_may_change))
                })?,
            };
            host.set_state(&target, TargetState::Halted);
            host.fire_event(ctx, &target, "step-end")?;
            // The registers, after the step-end handlers (which may change them), through the
            // banked DCB registers (host/fastread.rs); without them the PC through probe-rs and
            // nothing expedited.
            let mut values = vec![0u32; sels.len()];
            let expedite = host
                .read_core_regs_fast(&sels, &mut values)
                .is_ok()
                .then(|| {
                    sels.iter()
                        .zip(&values)
                        .map(|(&n, &v)| (n as u8, v))
                        .collect::<Vec<_>>()
                });
            let pc = match &expedite {
                Some(_) => values[0],
                None => host.with_core(|core, _| core.read_core_reg::<u32>(RegisterId(15)))?,
            };
            let (status, flash_may_change) = status;
            if crate::host::breakpoints::is_watchpoint_halt(status)
                && let CoreStatus::Halted(reason) = status
            {
                let watch = host.watchpoint_hit().map_err(CommandError::from)?;
                return Ok((
                    Some(StopInfo { reason, pc, watch }),
                    flash_may_change,
                    expedite,
                ));
            }
            Ok((None, flash_may_change, expedite))
        })?;
        if !matches!(r, Ok((_, false, _))) {
            self.code_cache = None;
        }
        let r = r.map(|(stop, _, expedite)| {
            self.expedite = expedite;
            stop
        });
        self.pending_stop = Some(match r {
            Ok(None) => SingleThreadStopReason::DoneStep,
            Ok(Some(StopInfo {
                reason: probe_rs::HaltReason::Request,
                ..
            })) => SingleThreadStopReason::Signal(Signal::SIGINT),
            Ok(Some(info)) => match self.stop_reason(info) {
                w @ SingleThreadStopReason::Watch { .. } => w,
                _ => SingleThreadStopReason::DoneStep,
            },
            Err(e) => {
                let _ = self.fail(format!("stdbg: single step failed: {e}"));
                SingleThreadStopReason::Signal(Signal::SIGTRAP)
            }
        });
        Ok(())
    }
}
