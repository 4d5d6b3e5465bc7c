//! Run control and target events on the host thread: init/examine, halt, resume, step, reset,
//! polling, and OpenOCD's event order.

use std::time::Duration;

use probe_rs::{Core, CoreStatus, HaltReason, MemoryInterface, RegisterId};

use super::target::{EventHandler, TargetKind, TargetState};
use super::{Host, HostEvent};
use crate::command::format::halt_message;
use crate::command::{CommandError, Ctx};
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
        HaltReason::Breakpoint(_) => "breakpoint",
        HaltReason::Watchpoint => "watchpoint",
        HaltReason::Step => "single-step",
        HaltReason::Multiple => "watchpoint-and-breakpoint",
        // OpenOCD reports vector catch and external requests as debug-request.
        HaltReason::Exception | HaltReason::Request | HaltReason::External => "debug-request",
        HaltReason::Unknown => "undefined",
    }
}

/// Whether SP is PSP: CONTROL.SPSEL (bit 1 of the CONTROL byte, bits 31:24 of the REGSEL 20
/// word, ARMv7-M ARM §C1.6.3) in Thread mode (no exception number in `xpsr`).
pub fn uses_psp(xpsr: u32, special: u32) -> bool {
    (special >> 24) & 0x2 != 0 && xpsr & 0x1ff == 0
}

/// Reads what the halt message needs and formats it: OpenOCD's two lines,
/// then, when the core is in a fault handler, was halted by a fault vector
/// catch or is locked up, the decoded fault (`diagnose::fault`), with code
/// addresses named by `symbolize`. `suffix` ends the second line (OpenOCD's `, semihosting`:
/// [`Host::halt_suffix`]).
pub fn halt_lines(
    core: &mut Core<'_>,
    target: &str,
    reason: &str,
    suffix: &str,
    symbolize: &dyn Fn(u32) -> Option<String>,
) -> Result<Vec<String>, probe_rs::Error> {
    let xpsr: u32 = core.read_core_reg(RegisterId(regsel::XPSR))?;
    let pc: u32 = core.read_core_reg(RegisterId(15))?;
    let special: u32 = core.read_core_reg(RegisterId(regsel::SPECIAL))?;
    let spsel = uses_psp(xpsr, special);
    let sp: u32 = core.read_core_reg(RegisterId(if spsel { regsel::PSP } else { regsel::MSP }))?;
    let mut lines = halt_message(target, reason, xpsr, pc, sp, spsel).to_vec();
    lines[1].push_str(suffix);
    if let Ok(Some(f)) = diagnose::fault::FaultReport::read(core, false) {
        lines.extend(f.explain(symbolize));
    }
    Ok(lines)
}

impl Host {
    /// Whether any target is believed to be running (so the host thread polls it).
    pub fn any_target_running(&self) -> bool {
        self.conn().is_some()
            && self
                .targets()
                .list
                .iter()
                .any(|t| t.is_core() && t.state == TargetState::Running)
    }

    /// Name and core index of the current target, which must be a core: a `mem_ap` target
    /// (no core) is refused with the name of a core target to make current.
    pub fn current_target(&self) -> Result<(String, usize), CommandError> {
        let t = self.targets();
        let cur = t.current().ok_or_else(|| {
            CommandError::failed(
                "no current target: source a target script (e.g. -f targets/stm32f1x.rhai)",
            )
        })?;
        if !cur.is_core() {
            let core = t
                .attach_target()
                .map(|c| format!("make a core current first: `targets {}`", c.name))
                .unwrap_or_else(|| "no core target is declared".into());
            return Err(CommandError::failed(format!(
                "[{}] is a mem_ap target (memory through access port {}, no core): only memory commands (mdw, mww, mmw, read_memory, …) work on it; {core}",
                cur.name, cur.ap
            )));
        }
        Ok((cur.name.clone(), cur.core_index))
    }

    /// The current target's name, kind and access port number, for commands that work on
    /// every target kind (the memory commands).
    pub fn current_any(&self) -> Result<(String, TargetKind, u8), CommandError> {
        let t = self.targets();
        let cur = t.current().ok_or_else(|| {
            CommandError::failed(
                "no current target: source a target script (e.g. -f targets/stm32f1x.rhai)",
            )
        })?;
        Ok((cur.name.clone(), cur.kind, cur.ap))
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
        // A link lost by an earlier access is attached again first (host/reattach.rs).
        self.reattach_if_lost()?;
        let mut guard = self.conn();
        let conn = guard.as_mut().ok_or_else(|| {
            CommandError::failed("the target is not connected: 'init' failed or was not run; see the error printed by init, or run 'doctor'")
        })?;
        let mut core = match conn
            .settle_core_state(idx)
            .and_then(|()| conn.session.core(idx))
        {
            Ok(c) => c,
            Err(e) => {
                if crate::diagnose::is_link_failure(&e) {
                    conn.notes.link_lost = true;
                }
                return Err(diagnose::command_error("open the core", &e));
            }
        };
        // Flush posted writes before returning: a write the bus refuses (an unmapped address)
        // must fail here, on this access, and not poison the next one.
        let r = f(&mut core, &name).and_then(|r| core.flush().map(|()| r));
        drop(core);
        r.map_err(|e| {
            if crate::diagnose::is_link_failure(&e) {
                conn.notes.link_lost = true;
            }
            diagnose::command_error(&format!("access {name}"), &e)
        })
    }

    /// Fires `event` on `target`: runs its handlers in registration order (no lock is held while
    /// they run). Errors from handlers are returned after all handlers ran.
    pub fn fire_event(
        &self,
        ctx: &mut Ctx<'_>,
        target: &str,
        event: &str,
    ) -> Result<(), CommandError> {
        let state = self
            .targets()
            .by_name(target)
            .map(|t| t.state.as_str())
            .unwrap_or("unknown");
        self.events().send(super::HostEvent::TargetEvent {
            target: target.to_string(),
            event: event.to_string(),
            state,
        });
        let handlers: Vec<EventHandler> = {
            let t = self.targets();
            match t.by_name(target) {
                Some(t) => t
                    .events
                    .iter()
                    .filter(|(e, _)| e == event)
                    .map(|(_, h)| h.clone())
                    .collect(),
                None => return Ok(()),
            }
        };
        // OpenOCD's default handlers (startup.tcl `init_target_events`), for a target whose
        // scripts registered none: a GDB `load` starts from `reset init` and ends with
        // `reset halt`, so the core runs the new image from its reset vector.
        if handlers.is_empty() {
            let default = match event {
                "gdb-flash-erase-start" => Some("reset init"),
                "gdb-flash-write-end" => Some("reset halt"),
                _ => None,
            };
            if let Some(line) = default {
                tracing::debug!("target event '{event}' on {target}: OpenOCD's default '{line}'");
                return ctx.run(line);
            }
        }
        let mut first_err = None;
        for h in handlers {
            tracing::debug!("target event '{event}' on {target}");
            let _level = crate::command::nesting::enter(format!("event '{event}' of {target}"))?;
            let r = match h {
                // A body with Tcl substitutions (`mww $ADDR 1`, `[expr …]`), registered by a Tcl
                // config file, runs in Tcl; plain command lines go to the dispatcher.
                EventHandler::Command(body) if body.contains(['$', '[']) => {
                    crate::script::tcl::eval_text(ctx, &body)
                }
                EventHandler::Command(body) => ctx.run(&body),
                EventHandler::Script(cb) => self.script().call_event(ctx, &cb, target, event),
            };
            if let Err(e) = r {
                let text = e.to_string();
                let e = CommandError::failed(
                    crate::command::nesting::too_deep_part(&text).unwrap_or_else(|| {
                        format!("[{target}] error in the '{event}' event handler: {text}")
                    }),
                );
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
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
            Ok(Some(halt_lines(
                core,
                name,
                "debug-request",
                self.halt_suffix(),
                &|a| self.symbolize(a),
            )?))
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
        self.events().send(HostEvent::Target {
            target: target.to_string(),
            lines,
            origin: Some(ctx.origin),
        });
    }

    /// Resumes the current target, at `addr` when given.
    pub fn resume(&self, ctx: &mut Ctx<'_>, addr: Option<u32>) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        // A File-I/O call left for GDB is abandoned by a resume (after a Ctrl-C).
        self.semihosting().fileio_call = None;
        self.fire_event(ctx, &target, "resume-start")?;
        let d = crate::family::debug_of(crate::family::target_line(self, Some(&target)));
        // Where the chip has DBGMCU on its debug bus (the H7's AP2), that is the evidence kept;
        // the CPU-bus address is read only without one, or when that read fails.
        let cr = self.with_core(|core, name| {
            prepare_run(core, name, addr)?;
            self.before_resume(core, name)?;
            Ok(match d.cr_debug_ap {
                Some(_) => None,
                None => core.read_word_32(d.cr).ok(),
            })
        })?;
        let cr = match d.cr_debug_ap {
            Some((ap, a)) => match self.with_ap_memory(
                ap,
                |m| {
                    let mut w = [0u32];
                    m.read_32(a, &mut w)?;
                    Ok(w[0])
                },
                &target,
            ) {
                Ok(v) => Some(v),
                Err(_) => self.with_core(|core, _| Ok(core.read_word_32(d.cr).ok()))?,
            },
            None => cr,
        };
        self.note_resume(cr);
        // The run itself: a firmware that disables SWD or enters Stop at once makes even the
        // confirmation of the run fail; that is a lost link, explained as such.
        let (_, idx) = self.current_target()?;
        let ran = {
            let mut g = self.conn();
            match g.as_mut() {
                Some(conn) => conn.open_core(idx).and_then(|mut c| self.run_core(&mut c)),
                None => {
                    return Err(CommandError::failed(
                        "the target is not connected: 'init' failed or was not run; see the error printed by init, or run 'doctor'",
                    ));
                }
            }
        };
        if let Err(e) = ran {
            self.set_state(&target, TargetState::Unknown);
            self.note_link_failure(&e);
            return Err(CommandError::failed(self.link_lost_message(&target, &e)));
        }
        self.set_state(&target, TargetState::Running);
        self.fire_event(ctx, &target, "resume-end")?;
        self.fire_event(ctx, &target, "resumed")?;
        Ok(())
    }

    /// Executes one instruction (from `addr` when given) and prints the halt message.
    pub fn step(&self, ctx: &mut Ctx<'_>, addr: Option<u32>) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        self.fire_event(ctx, &target, "step-start")?;
        // The banked-register step (host/faststep.rs) where it does what probe-rs's does.
        let fast = addr
            .is_none()
            .then(|| self.step_console_fast("single-step"))
            .flatten();
        let lines = match fast {
            Some(lines) => lines?,
            None => self.with_core(|core, name| {
                prepare_run(core, name, addr)?;
                if !self.before_resume(core, name)? {
                    self.step_core(core)?;
                }
                halt_lines(core, name, "single-step", self.halt_suffix(), &|a| {
                    self.symbolize(a)
                })
            })?,
        };
        self.set_state(&target, TargetState::Halted);
        self.announce(ctx, &target, lines.to_vec());
        self.fire_event(ctx, &target, "halted")?;
        self.fire_event(ctx, &target, "step-end")?;
        Ok(())
    }

    /// `reset [run|halt|init]` with OpenOCD's event order: reset-start, examine-start/end,
    /// reset-assert-pre/post, reset-deassert-pre/post, then for init reset-init, then reset-end.
    pub fn reset(&self, ctx: &mut Ctx<'_>, mode: &str) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        for ev in [
            "reset-start",
            "examine-start",
            "examine-end",
            "reset-assert-pre",
        ] {
            self.fire_event(ctx, &target, ev)?;
        }
        let halt = mode != "run";
        let lines = self.with_core(|core, name| {
            if halt {
                core.reset_and_halt(Duration::from_millis(1000))?;
                self.reapply_debug_units(core, name)?;
                Ok(Some(halt_lines(
                    core,
                    name,
                    "debug-request",
                    self.halt_suffix(),
                    &|a| self.symbolize(a),
                )?))
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
        for ev in [
            "reset-assert-post",
            "reset-deassert-pre",
            "reset-deassert-post",
        ] {
            self.fire_event(ctx, &target, ev)?;
        }
        if let Some(lines) = lines {
            self.set_state(&target, TargetState::Halted);
            self.announce(ctx, &target, lines.to_vec());
            self.fire_event(ctx, &target, "halted")?;
            if mode == "init" {
                self.fire_event(ctx, &target, "reset-init")?;
            }
        } else {
            self.set_state(&target, TargetState::Running);
        }
        self.fire_event(ctx, &target, "reset-end")?;
        Ok(())
    }

    /// Closes the session but keeps the virtual chip running (for `doctor`, which then opens
    /// its own connections to the same chip). Returns the chip, `None` for real probes.
    pub fn detach_keep_sim(&self) -> Option<crate::sim::Sim> {
        self.release_debug_units();
        let conn = self.conn().take();
        self.config().initialized = false;
        conn.and_then(|c| c.sim.clone())
    }

    /// Closes the session (detaches; probe-rs restores DBGMCU and clears breakpoints) and flushes
    /// the virtual chip's storage.
    pub fn disconnect(&self) {
        self.release_debug_units();
        self.drop_connection();
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

/// Checks that the core is halted (OpenOCD's `target not halted` otherwise) and moves the PC to
/// `addr` when one is given: the common start of `resume` and `step`.
fn prepare_run(core: &mut Core<'_>, name: &str, addr: Option<u32>) -> Result<(), probe_rs::Error> {
    if !core.core_halted()? {
        return Err(probe_rs::Error::Other(format!(
            "[{name}] target not halted"
        )));
    }
    if let Some(a) = addr {
        core.write_core_reg(RegisterId(15), a)?;
    }
    Ok(())
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

impl Host {
    /// Drives the adapter's NRST line (`adapter assert/deassert srst`) through the probe's SWJ
    /// pins (CMSIS-DAP `DAP_SWJ_Pins` bit 7, nRESET; the virtual probe models it).
    pub fn set_srst(&self, assert: bool) -> Result<(), CommandError> {
        let mut g = self.conn();
        let conn = g.as_mut().ok_or_else(|| {
            CommandError::failed("the adapter is not connected: run 'init' first")
        })?;
        let iface = conn
            .session
            .get_arm_interface()
            .map_err(|e| diagnose::command_error("reach the debug interface", &e))?;
        let dap = iface.try_dap_probe_mut().ok_or_else(|| {
            CommandError::failed(format!(
                "the {} adapter does not expose its reset pin to stdbg; use 'reset' (system reset request) instead",
                conn.driver
            ))
        })?;
        dap.swj_pins(if assert { 0 } else { 0x80 }, 0x80, 0)
            .map_err(|e| diagnose::command_error("drive NRST", &e))?;
        drop(g);
        // `adapter srst delay`: the chip gets that long after NRST rises.
        let delay = self.config().compat.srst_delay_ms;
        if !assert && delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        Ok(())
    }
}
