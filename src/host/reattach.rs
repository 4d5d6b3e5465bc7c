//! Recovering a lost debug link by itself: after the link failed (no ACK, WAIT, parity errors:
//! the cable was pulled, the board lost power, the firmware cut the link, or on the virtual chip
//! a `sim fault`), the next command that needs the target attaches again before it runs, as if
//! `init` ran once more (the recovery ladder of [`super::connection::connect`], the same virtual
//! chip), says so on every console, programs the breakpoints and watchpoints again and fires
//! `examine-start`/`examine-end` (the target script's handler sets DBGMCU_CR again, which a power
//! cycle cleared), as OpenOCD re-examines a target that comes back. `doctor` is not needed.
//!
//! When the link is still down the command fails with the ladder's diagnosis and the next one
//! tries again.

use probe_rs::CoreStatus;

use super::Host;
use super::connection;
use super::control::state_of;
use super::target::TargetState;
use crate::command::{Collect, CommandError, Ctx, Origin};

thread_local! {
    /// Set while this thread attaches again (the examine handlers it fires must not start
    /// another attach).
    static REATTACHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Clears [`REATTACHING`] when dropped.
struct Done;

impl Drop for Done {
    fn drop(&mut self) {
        REATTACHING.with(|r| r.set(false));
    }
}

impl Host {
    fn lost_sim(&self) -> std::sync::MutexGuard<'_, Option<crate::sim::Sim>> {
        self.inner
            .lost_sim
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the virtual chip kept while the link is down (at disconnect).
    pub(crate) fn take_lost_sim(&self) -> Option<crate::sim::Sim> {
        self.lost_sim().take()
    }

    /// The virtual chip in use: the session's, or the one kept while the link is down.
    pub fn live_sim(&self) -> Option<crate::sim::Sim> {
        let from_conn = self.conn().as_ref().and_then(|c| c.sim.clone());
        from_conn.or_else(|| self.lost_sim().clone())
    }

    /// Marks the link as lost when `err` is a link failure (the next access re-attaches).
    pub(crate) fn note_link_failure(&self, err: &(dyn std::error::Error + 'static)) {
        if crate::diagnose::is_link_failure(err)
            && let Some(c) = self.conn().as_mut()
        {
            c.notes.link_lost = true;
        }
    }

    /// Re-attaches when an earlier access lost the link (see the module documentation). Call
    /// without holding the connection lock.
    pub(crate) fn reattach_if_lost(&self) -> Result<(), CommandError> {
        if REATTACHING.with(|r| r.get()) {
            return Ok(());
        }
        let lost = match self.conn().as_ref() {
            Some(c) => c.notes.link_lost,
            // The last attempt dropped the session of a real probe: try again.
            None => self.initialized(),
        };
        if !lost {
            return Ok(());
        }
        let (target, chip, ap) = {
            let t = self.targets();
            let Some(cur) = t.current() else {
                return Ok(());
            };
            (cur.name.clone(), cur.chip.clone(), cur.ap)
        };
        // The old session goes first: its clean-up (breakpoints, debug power-down) would
        // disturb a new session on the same chip. The virtual chip is kept for the next try.
        let old = self.conn().take();
        let sim = match old.as_ref().and_then(|c| c.sim.clone()) {
            Some(s) => Some(s),
            None => self.lost_sim().take(),
        };
        drop(old);
        REATTACHING.with(|r| r.set(true));
        let _done = Done;
        tracing::info!("[{target}] the debug link was lost; attaching again");
        let sim_keep = sim.clone();
        match connection::connect(self, &chip, ap, sim) {
            Ok(c) => {
                let khz = c.conn.speed_khz;
                *self.conn() = Some(c.conn);
                let status = self.with_core(|core, name| {
                    let _ = self.reapply_debug_units(core, name);
                    core.status()
                });
                let state = status
                    .as_ref()
                    .map(|s| state_of(*s))
                    .unwrap_or(TargetState::Unknown);
                self.set_state(&target, state);
                let mut out = Collect::default();
                let mut ctx = Ctx::new(self, Origin::Script, &mut out);
                for ev in ["examine-start", "examine-end"] {
                    if let Err(e) = self.fire_event(&mut ctx, &target, ev) {
                        tracing::warn!("{e}");
                    }
                }
                let words = match status {
                    Ok(CoreStatus::Halted(_)) => "halted",
                    Ok(CoreStatus::Running | CoreStatus::Sleeping) => "running",
                    Ok(_) => "in an unknown state",
                    Err(_) => "not readable yet",
                };
                tracing::info!(
                    "[{target}] the debug link is back: re-attached at {khz} kHz by itself ('doctor' is not needed); the core is {words}"
                );
                Ok(())
            }
            Err(e) => {
                *self.lost_sim() = sim_keep;
                Err(CommandError::failed(format!(
                    "[{target}] the debug link is still down (stdbg tried to attach again; the next command tries once more):\n{}",
                    crate::diagnose::connect_error(&e)
                )))
            }
        }
    }
}
