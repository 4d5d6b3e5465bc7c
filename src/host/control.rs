//! Run control and target events on the host thread: init/examine, halt, resume, step, reset,
//! polling, and OpenOCD's event order.

use std::time::Duration;

use probe_rs::{BreakpointCause, Core, CoreStatus, HaltReason, MemoryInterface, RegisterId};

use super::connection;
use super::target::{EventHandler, TargetState};
use super::{Host, HostEvent};
use crate::command::format::halt_message;
use crate::command::{CommandError, Ctx, Origin};
use crate::diagnose;

/// probe-rs register numbers (DCRSR REGSEL, ARMv7-M ARM §C1.6.3).
pub mod regsel {
    /// xPSR.
    pub const XPSR: u16 = 16;
    /// Main stack pointer.
    pub const MSP: u16 = 17;
    /// Process stack pointer.
    pub const PSP: u16 = 18;
    /// CONTROL[31:24], FAULTMASK[23:16], BASEPRI[15:8], PRIMASK[7:0].
    pub const SPECIAL: u16 = 20;
}

/// OpenOCD's name for why a core halted (`debug_reason_name`).
pub fn reason_name(reason: HaltReason) -> &'static str {
    match reason {
        HaltReason::Breakpoint(BreakpointCause::Semihosting(_)) => "breakpoint",
        HaltReason::Breakpoint(_) => "breakpoint",
        HaltReason::Watchpoint => "watchpoint",
        HaltReason::Step => "single-step",
        HaltReason::Multiple => "watchpoint-and-breakpoint",
        // OpenOCD reports vector catch and external requests as debug-request.
        HaltReason::Exception | HaltReason::Request | HaltReason::External => "debug-request",
        HaltReason::Unknown => "undefined",
    }
}

/// Reads what the halt message needs and formats it.
pub fn halt_lines(core: &mut Core<'_>, target: &str, reason: &str) -> Result<[String; 2], probe_rs::Error> {
    let xpsr: u32 = core.read_core_reg(RegisterId(regsel::XPSR))?;
    let pc: u32 = core.read_core_reg(RegisterId(15))?;
    let special: u32 = core.read_core_reg(RegisterId(regsel::SPECIAL))?;
    let spsel = (special >> 24) & 0x2 != 0 && xpsr & 0x1ff == 0;
    let sp: u32 = core.read_core_reg(RegisterId(if spsel { regsel::PSP } else { regsel::MSP }))?;
    Ok(halt_message(target, reason, xpsr, pc, sp, spsel))
}

impl Host {
    /// Whether any target is believed to be running (so the host thread polls it).
    pub fn any_target_running(&self) -> bool {
        self.conn().is_some() && self.targets().list.iter().any(|t| t.state == TargetState::Running)
    }

    /// Name and core index of the current target.
    pub fn current_target(&self) -> Result<(String, usize), CommandError> {
        let t = self.targets();
        let cur = t.current().ok_or_else(|| {
            CommandError::failed("no current target: source a target script (e.g. -f targets/stm32f1x.rhai)")
        })?;
        Ok((cur.name.clone(), cur.core_index))
    }

    /// Sets the remembered state of a target.
    pub fn set_state(&self, target: &str, state: TargetState) {
        if let Some(t) = self.targets().by_name_mut(target) {
            t.state = state;
        }
    }

    /// Runs `f` with the current target's core. Errors are explained (see [`diagnose`]).
    pub fn with_core<R>(
        &self,
        f: impl FnOnce(&mut Core<'_>, &str) -> Result<R, probe_rs::Error>,
    ) -> Result<R, CommandError> {
        let (name, idx) = self.current_target()?;
        let mut guard = self.conn();
        let conn = guard.as_mut().ok_or_else(|| {
            CommandError::failed("the target is not connected: 'init' failed or was not run; see the error printed by init, or run 'doctor'")
        })?;
        let mut core = conn.session.core(idx).map_err(|e| diagnose::command_error("open the core", &e))?;
        f(&mut core, &name).map_err(|e| diagnose::command_error(&format!("access {name}"), &e))
    }

    /// Fires `event` on `target`: runs its handlers in registration order (no lock is held while
    /// they run). Errors from handlers are returned after all handlers ran.
    pub fn fire_event(&self, ctx: &mut Ctx<'_>, target: &str, event: &str) -> Result<(), CommandError> {
        let handlers: Vec<EventHandler> = {
            let t = self.targets();
            match t.by_name(target) {
                Some(t) => t.events.iter().filter(|(e, _)| e == event).map(|(_, h)| h.clone()).collect(),
                None => return Ok(()),
            }
        };
        let mut first_err = None;
        for h in handlers {
            tracing::debug!("target event '{event}' on {target}");
            let r = match h {
                EventHandler::Command(body) => ctx.run(&body),
                EventHandler::Script(cb) => self.script().call_event(ctx, &cb, target, event),
            };
            if let Err(e) = r {
                let e = CommandError::failed(format!("[{target}] error in the '{event}' event handler: {e}"));
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// `init`: opens the adapter, attaches, examines every target (events `examine-start`,
    /// `examine-end`) and marks the host initialised.
    pub fn init(&self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        if self.initialized() {
            return Ok(());
        }
        let (target, chip) = {
            let t = self.targets();
            let cur = t.current().ok_or_else(|| CommandError::failed(connection::ConnectError::NoTarget.to_string()))?;
            (cur.name.clone(), cur.chip.clone())
        };
        self.fire_event(ctx, &target, "examine-start")?;
        let conn = connection::connect(self, &chip).map_err(|e| diagnose::connect_error(&e))?;
        tracing::info!("{} adapter connected, SWD clock {} kHz", conn.driver, conn.speed_khz);
        *self.conn() = Some(conn);
        self.config().initialized = true;
        // Learn the state, announce the core like OpenOCD does.
        let status = self.with_core(|core, _| core.status())?;
        self.set_state(&target, state_of(status));
        tracing::info!("[{target}] Cortex-M3 r1p1 processor detected");
        tracing::info!("[{target}] target has 6 breakpoints, 4 watchpoints");
        self.fire_event(ctx, &target, "examine-end")?;
        Ok(())
    }

    /// Halts the current target and waits up to `timeout`; prints the halt message when it
    /// halted (nothing when it already was halted).
    pub fn halt(&self, ctx: &mut Ctx<'_>, timeout: Duration) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        let lines = self.with_core(|core, name| {
            if core.core_halted()? {
                return Ok(None);
            }
            if timeout.is_zero() {
                core.halt(Duration::from_millis(100))?;
            } else {
                core.halt(timeout)?;
            }
            Ok(Some(halt_lines(core, name, "debug-request")?))
        })?;
        self.set_state(&target, TargetState::Halted);
        if let Some(lines) = lines {
            self.announce(ctx, &target, lines.to_vec());
            self.fire_event(ctx, &target, "halted")?;
        }
        Ok(())
    }

    /// Prints state-change lines on `ctx` and sends them to the other consoles.
    pub fn announce(&self, ctx: &mut Ctx<'_>, target: &str, lines: Vec<String>) {
        for l in &lines {
            ctx.println(l);
        }
        self.events().send(HostEvent::Target { target: target.to_string(), lines, origin: Some(ctx.origin) });
    }

    /// Resumes the current target, at `addr` when given.
    pub fn resume(&self, ctx: &mut Ctx<'_>, addr: Option<u32>) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        self.fire_event(ctx, &target, "resume-start")?;
        self.with_core(|core, name| {
            if !core.core_halted()? {
                return Err(probe_rs::Error::Other(format!("[{name}] target not halted")));
            }
            if let Some(a) = addr {
                core.write_core_reg(RegisterId(15), a)?;
            }
            self.before_resume(core, name)?;
            core.run()
        })?;
        self.set_state(&target, TargetState::Running);
        self.fire_event(ctx, &target, "resume-end")?;
        self.fire_event(ctx, &target, "resumed")?;
        Ok(())
    }

    /// Executes one instruction (from `addr` when given) and prints the halt message.
    pub fn step(&self, ctx: &mut Ctx<'_>, addr: Option<u32>) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        self.fire_event(ctx, &target, "step-start")?;
        let lines = self.with_core(|core, name| {
            if !core.core_halted()? {
                return Err(probe_rs::Error::Other(format!("[{name}] target not halted")));
            }
            if let Some(a) = addr {
                core.write_core_reg(RegisterId(15), a)?;
            }
            if !self.before_resume(core, name)? {
                core.step()?;
            }
            halt_lines(core, name, "single-step")
        })?;
        self.set_state(&target, TargetState::Halted);
        self.announce(ctx, &target, lines.to_vec());
        self.fire_event(ctx, &target, "step-end")?;
        Ok(())
    }

    /// `reset [run|halt|init]` with OpenOCD's event order: reset-start, examine-start/end,
    /// reset-assert-pre/post, reset-deassert-pre/post, then for init reset-init, then reset-end.
    pub fn reset(&self, ctx: &mut Ctx<'_>, mode: &str) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        for ev in ["reset-start", "examine-start"] {
            self.fire_event(ctx, &target, ev)?;
        }
        self.fire_event(ctx, &target, "examine-end")?;
        self.fire_event(ctx, &target, "reset-assert-pre")?;
        let halt = mode != "run";
        let lines = self.with_core(|core, name| {
            if halt {
                core.reset_and_halt(Duration::from_millis(1000))?;
                self.reapply_debug_units(core, name)?;
                Ok(Some(halt_lines(core, name, "debug-request")?))
            } else if self.has_debug_units(name) {
                // Halt at the reset vector to put breakpoints/watchpoints back before any code runs.
                core.reset_and_halt(Duration::from_millis(1000))?;
                self.reapply_debug_units(core, name)?;
                core.run()?;
                Ok(None)
            } else {
                core.reset()?;
                Ok(None)
            }
        });
        let lines = match lines {
            Ok(l) => l,
            Err(e) => {
                self.set_state(&target, TargetState::Unknown);
                return Err(e);
            }
        };
        for ev in ["reset-assert-post", "reset-deassert-pre", "reset-deassert-post"] {
            self.fire_event(ctx, &target, ev)?;
        }
        if let Some(lines) = lines {
            self.set_state(&target, TargetState::Halted);
            self.announce(ctx, &target, lines.to_vec());
            if mode == "init" {
                self.fire_event(ctx, &target, "reset-init")?;
            }
        } else {
            self.set_state(&target, TargetState::Running);
        }
        self.fire_event(ctx, &target, "reset-end")?;
        Ok(())
    }

    /// Waits until the current target halts (up to `timeout`).
    pub fn wait_halt(&self, ctx: &mut Ctx<'_>, timeout: Duration) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        let was_running = self.targets().by_name(&target).is_some_and(|t| t.state == TargetState::Running);
        let start = std::time::Instant::now();
        loop {
            let status = self.with_core(|core, _| core.status())?;
            if let CoreStatus::Halted(reason) = status {
                self.set_state(&target, TargetState::Halted);
                if was_running {
                    let lines = self.with_core(|core, name| halt_lines(core, name, reason_name(reason)))?;
                    self.announce(ctx, &target, lines.to_vec());
                    self.fire_event(ctx, &target, "halted")?;
                }
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(CommandError::failed(format!(
                    "timed out while waiting for target halted ({} ms): the core is {}; use 'halt' to stop it",
                    timeout.as_millis(),
                    status_words(status)
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Polls running targets; announces halts to every console.
    pub fn poll_targets(&self) {
        let running: Vec<(String, usize)> = {
            let t = self.targets();
            t.list.iter().filter(|t| t.state == TargetState::Running).map(|t| (t.name.clone(), t.core_index)).collect()
        };
        for (name, idx) in running {
            let r = {
                let mut guard = self.conn();
                let Some(conn) = guard.as_mut() else { return };
                conn.session.core(idx).and_then(|mut core| match core.status()? {
                    CoreStatus::Halted(reason) => halt_lines(&mut core, &name, reason_name(reason)).map(Some),
                    _ => Ok(None),
                })
            };
            match r {
                Ok(Some(lines)) => {
                    self.set_state(&name, TargetState::Halted);
                    self.events().send(HostEvent::Target { target: name.clone(), lines: lines.to_vec(), origin: None });
                    let mut out = crate::command::Collect::default();
                    let mut ctx = Ctx::new(self, Origin::Script, &mut out);
                    if let Err(e) = self.fire_event(&mut ctx, &name, "halted") {
                        tracing::error!("{e}");
                    }
                    for l in out.0 {
                        tracing::info!("{l}");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.set_state(&name, TargetState::Unknown);
                    let msg = diagnose::command_error(&format!("poll {name}"), &e).to_string();
                    tracing::error!("{msg}");
                }
            }
        }
    }

    /// Closes the session (detaches; probe-rs restores DBGMCU and clears breakpoints) and flushes
    /// the virtual chip's storage.
    pub fn disconnect(&self) {
        self.release_debug_units();
        let conn = self.conn().take();
        if let Some(conn) = conn {
            let sim = conn.sim.clone();
            drop(conn);
            if let Some(sim) = sim
                && let Err(e) = sim.flush_storage()
            {
                tracing::error!("{e}");
            }
        }
        self.config().initialized = false;
    }

    /// Reads `len` bytes of target memory with the widest accesses alignment allows.
    pub fn read_memory(&self, addr: u64, len: usize) -> Result<Vec<u8>, CommandError> {
        self.with_core(|core, _| {
            let mut buf = vec![0u8; len];
            core.read(addr, &mut buf)?;
            Ok(buf)
        })
    }
}

/// Maps a probe-rs status to OpenOCD's state words.
pub fn state_of(status: CoreStatus) -> TargetState {
    match status {
        CoreStatus::Halted(_) => TargetState::Halted,
        CoreStatus::Running | CoreStatus::Sleeping | CoreStatus::LockedUp => TargetState::Running,
        CoreStatus::Unknown => TargetState::Unknown,
    }
}

/// A status in words, for messages.
pub fn status_words(status: CoreStatus) -> &'static str {
    match status {
        CoreStatus::Running => "running",
        CoreStatus::Halted(_) => "halted",
        CoreStatus::LockedUp => "locked up (a fault with faults disabled, or blank flash)",
        CoreStatus::Sleeping => "sleeping (WFI/WFE)",
        CoreStatus::Unknown => "in an unknown state",
    }
}

#[allow(unused_imports)]
use MemoryInterface as _;

impl Host {
    /// Drives the adapter's NRST line (`adapter assert/deassert srst`) through the probe's SWJ
    /// pins (CMSIS-DAP `DAP_SWJ_Pins` bit 7, nRESET; the virtual probe models it).
    pub fn set_srst(&self, assert: bool) -> Result<(), CommandError> {
        let mut g = self.conn();
        let conn = g.as_mut().ok_or_else(|| CommandError::failed("the adapter is not connected: run 'init' first"))?;
        let iface = conn.session.get_arm_interface().map_err(|e| diagnose::command_error("reach the debug interface", &e))?;
        let dap = iface.try_dap_probe_mut().ok_or_else(|| {
            CommandError::failed(format!(
                "the {} adapter does not expose its reset pin to stdbg; use 'reset' (system reset request) instead",
                conn.driver
            ))
        })?;
        dap.swj_pins(if assert { 0 } else { 0x80 }, 0x80, 0)
            .map_err(|e| diagnose::command_error("drive NRST", &e))?;
        Ok(())
    }
}
