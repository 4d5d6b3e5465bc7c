//! Run control and target events on the host thread: init/examine, halt, resume, step, reset,
//! polling, and OpenOCD's event order.

use std::time::Duration;

use probe_rs::{Core, CoreStatus, HaltReason, MemoryInterface, RegisterId};

use super::connection;
use super::target::{EventHandler, TargetKind, TargetState};
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
        HaltReason::Breakpoint(_) => "breakpoint",
        HaltReason::Watchpoint => "watchpoint",
        HaltReason::Step => "single-step",
        HaltReason::Multiple => "watchpoint-and-breakpoint",
        // OpenOCD reports vector catch and external requests as debug-request.
        HaltReason::Exception | HaltReason::Request | HaltReason::External => "debug-request",
        HaltReason::Unknown => "undefined",
    }
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
    let spsel = (special >> 24) & 0x2 != 0 && xpsr & 0x1ff == 0;
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
        let mut core = match conn.session.core(idx) {
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
        let mut first_err = None;
        for h in handlers {
            tracing::debug!("target event '{event}' on {target}");
            let _level = crate::command::nesting::enter(format!("event '{event}' of {target}"))?;
            let r = match h {
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

    /// `init`: opens the adapter, attaches (climbing the recovery ladder of
    /// [`connection::connect`] when needed), checks the chip against the target script's
    /// expected IDs, examines the target (events `examine-start`, `examine-end`, or
    /// `examine-fail`) and marks the host initialised.
    pub fn init(&self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        self.init_with(ctx, None)
    }

    /// [`Host::init`] reusing a virtual chip that is already running (after `doctor`).
    pub fn init_with(
        &self,
        ctx: &mut Ctx<'_>,
        sim: Option<crate::sim::Sim>,
    ) -> Result<(), CommandError> {
        if self.initialized() {
            return Ok(());
        }
        let (target, chip, ap) = {
            let mut t = self.targets();
            let cur = t.attach_target().ok_or_else(|| {
                CommandError::failed(connection::ConnectError::NoTarget.to_string())
            })?;
            let picked = (cur.name.clone(), cur.chip.clone(), cur.ap);
            // The core attached to becomes current (a mem_ap target may have been current).
            if let Some(i) = t.list.iter().position(|d| d.name == picked.0) {
                t.current = i;
            }
            picked
        };
        self.fire_event(ctx, &target, "examine-start")?;
        let connected = match connection::connect(self, &chip, ap, sim) {
            Ok(c) => c,
            Err(e) => {
                self.set_state(&target, TargetState::Unknown);
                let _ = self.fire_event(ctx, &target, "examine-fail");
                return Err(diagnose::connect_error(&e));
            }
        };
        let recovery = connected.recovery.clone();
        let conn = connected.conn;
        tracing::info!(
            "{} adapter connected, SWD clock {} kHz",
            conn.driver,
            conn.speed_khz
        );
        *self.conn() = Some(conn);
        if let Err(e) = self.check_chip(&target) {
            self.drop_connection();
            self.set_state(&target, TargetState::Unknown);
            let _ = self.fire_event(ctx, &target, "examine-fail");
            return Err(e);
        }
        self.explain_recovery(&target, &recovery);
        self.config().initialized = true;
        // A mem_ap target needs no examining beyond the link: OpenOCD shows it running.
        for t in self.targets().list.iter_mut().filter(|t| !t.is_core()) {
            t.state = TargetState::Running;
        }
        // Learn the state, announce the core like OpenOCD does.
        let (status, cpuid, units) = self.with_core(|core, _| {
            let cpuid = core.read_word_32(diagnose::ids::CPUID).ok();
            // FPB code comparators and DWT_CTRL.NUMCOMP (ARMv7-M ARM §C1.11.3, §C1.8.7).
            let bps = core.available_breakpoint_units().ok();
            let wps = core
                .read_word_32(super::breakpoints::dwt::CTRL)
                .ok()
                .map(|c| c >> 28);
            let units = bps.zip(wps);
            Ok((core.status()?, cpuid, units))
        })?;
        self.set_state(&target, state_of(status));
        let core_words = cpuid
            .map(diagnose::ids::describe_cpuid)
            .unwrap_or_else(|| "Cortex-M".into());
        tracing::info!("[{target}] {core_words} processor detected");
        if let Some((bps, wps)) = units {
            tracing::info!("[{target}] target has {bps} breakpoints, {wps} watchpoints");
        }
        if let CoreStatus::Sleeping = status {
            tracing::info!(
                "[{target}] the core is sleeping (DHCSR.S_SLEEP: WFI/WFE); the debugger can halt it"
            );
        }
        self.fire_event(ctx, &target, "examine-end")?;
        self.tpiu_init(ctx)?; // OpenOCD's init runs 'tpiu init' (host/swo.rs)
        Ok(())
    }

    /// Drops the session without the `disconnect` bookkeeping (used when examine refuses the
    /// chip). The virtual chip's storage is flushed.
    fn drop_connection(&self) {
        let conn = self.conn().take();
        // The virtual chip kept while the link is down (see `reattach`) is flushed too: the
        // flash it holds is what the user's next run starts from.
        let lost = self.take_lost_sim();
        let sim = match conn {
            Some(conn) => {
                let sim = conn.sim.clone();
                drop(conn);
                sim.or(lost)
            }
            None => lost,
        };
        if let Some(sim) = sim
            && let Err(e) = sim.flush_storage()
        {
            tracing::error!("{e}");
        }
    }

    /// Logs which rung of the recovery ladder connected and the board-script line that makes
    /// it the default.
    fn explain_recovery(&self, target: &str, recovery: &connection::Recovery) {
        match recovery {
            connection::Recovery::None | connection::Recovery::Configured => {}
            connection::Recovery::UnderResetLowerSpeed { from_khz, to_khz } => {
                // Both causes: the line at the configured speed, and the firmware.
                self.explain_recovery(
                    target,
                    &connection::Recovery::LowerSpeed {
                        from_khz: *from_khz,
                        to_khz: *to_khz,
                    },
                );
                self.explain_recovery(target, &connection::Recovery::UnderReset);
            }
            connection::Recovery::LowerSpeed { from_khz, to_khz } => {
                tracing::warn!(
                    "[{target}] connected at {to_khz} kHz after the plain attach at {from_khz} kHz failed: the SWD signal is not clean at {from_khz} kHz (long or loose wires, no ground return, a weak probe); make it the default with `adapter.speed = {to_khz};` in the board script (or -c \"adapter speed {to_khz}\" before init)"
                );
            }
            connection::Recovery::UnderReset => {
                let line = crate::family::target_line(self, Some(target));
                let d = crate::family::debug_of(line);
                let driver = line
                    .driver
                    .map(|x| x.name())
                    .unwrap_or(crate::family::Driver::Stm32f1x.name());
                let (cr, fz) = self
                    .with_core(|core, _| {
                        let cr = core.read_word_32(d.cr).ok();
                        let fz = if d.freeze_in_cr() {
                            cr
                        } else {
                            core.read_word_32(d.freeze).ok()
                        };
                        Ok((cr, fz))
                    })
                    .unwrap_or((None, None));
                let cr_words = d.describe(cr, fz);
                tracing::warn!(
                    "[{target}] connected under reset after the plain attach got no ACK from a powered target: the firmware most likely disables the SWD pins ({}) or enters Stop/Standby with the DBGMCU_CR debug bits cleared ({cr_words} before examine-end)",
                    d.swd_pins
                );
                tracing::warn!(
                    "[{target}] make connect-under-reset the default with `reset_config(\"srst_only srst_nogate connect_assert_srst\");` in the board script"
                );
                tracing::warn!(
                    "[{target}] the core is halted before the firmware ran; resuming lets the firmware cut the link again. Fix the firmware ({}, keep DBGMCU_CR), or erase it: `{driver} mass_erase 0` (asked for, never automatic)",
                    d.swd_keep
                );
            }
        }
    }

    /// Compares the chip with the target's expected IDs: the SW-DP DPIDR with `cputapid`
    /// (0 = accept any) and DBGMCU_IDCODE DEV_ID with `dev_ids`. A mismatch names both chips and
    /// the script to use, and fails unless the user set `CPUTAPID 0` (then it warns).
    pub fn check_chip(&self, target: &str) -> Result<(), CommandError> {
        let (expected_dpidr, expected_dev_ids) = {
            let t = self.targets();
            let Some(d) = t.by_name(target) else {
                return Ok(());
            };
            (d.expected_dpidr, d.expected_dev_ids.clone())
        };
        let dpidr = {
            let mut g = self.conn();
            let Some(conn) = g.as_mut() else {
                return Ok(());
            };
            conn.session.get_arm_interface().ok().and_then(|i| {
                use probe_rs::architecture::arm::dp::{DPIDR, DpAddress, DpRegister};
                i.read_raw_dp_register(DpAddress::Default, DPIDR::ADDRESS)
                    .ok()
            })
        };
        // The DEV_ID table says where each family has DBGMCU_IDCODE (H7 and the M0 parts
        // elsewhere than 0xE004_2000).
        let idcode = self
            .with_core(|core, _| {
                let mut rd = |a: u64| core.read_word_32(a).ok();
                Ok(crate::family::read_idcode(&mut rd))
            })
            .ok()
            .flatten();
        if let Some(t) = self.targets().list.iter_mut().find(|t| t.name == target) {
            t.idcode = idcode;
        }
        if let Some(d) = dpidr {
            tracing::debug!("[{target}] {}", diagnose::ids::describe_dpidr(d));
        }
        let dpidr_bad = expected_dpidr != 0 && dpidr.is_some_and(|d| d != expected_dpidr);
        let dev_bad = !expected_dev_ids.is_empty()
            && idcode.is_some_and(|c| !expected_dev_ids.contains(&(c & 0xFFF)));
        if !dpidr_bad && !dev_bad {
            return Ok(());
        }
        let found = match (idcode, dpidr) {
            (Some(c), Some(d)) => format!("{}, DPIDR {d:#010x}", diagnose::ids::describe_idcode(c)),
            (Some(c), None) => diagnose::ids::describe_idcode(c),
            (None, Some(d)) => diagnose::ids::describe_dpidr(d),
            (None, None) => "an unidentified chip".into(),
        };
        let prefix = target.split('.').next().unwrap_or(target).to_string();
        let script_name = format!("targets/{prefix}.rhai");
        let script = if crate::script::find::find(self, &script_name).is_some() {
            script_name
        } else {
            format!("the target script of {target}")
        };
        let mut expects = Vec::new();
        if !expected_dev_ids.is_empty() {
            expects.push(diagnose::ids::describe_expected(&expected_dev_ids));
        }
        if expected_dpidr != 0 {
            expects.push(format!("DPIDR (CPUTAPID) {expected_dpidr:#010x}"));
        }
        let use_instead = idcode
            .and_then(|c| diagnose::ids::line_of(c & 0xFFF))
            .map(|l| {
                let s = diagnose::ids::script_for(l.series, |n| {
                    crate::script::find::find(self, n).is_some()
                });
                format!("use {s} instead")
            })
            .unwrap_or_else(|| "use the target script of the chip on the board".into());
        let msg = format!(
            "[{target}] wrong chip for this configuration: found {found}, but {script} expects {}\n  fix: {use_instead}; if the chip is a compatible clone, accept it with -c \"set CPUTAPID 0\" before the target script (like OpenOCD's CPUTAPID 0)",
            expects.join(" and ")
        );
        if expected_dpidr == 0 {
            tracing::warn!("{}", msg.lines().next().unwrap_or_default());
            tracing::warn!("[{target}] continuing because CPUTAPID is 0 (accept any chip)");
            return Ok(());
        }
        Err(CommandError::failed(msg))
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
                Some(conn) => conn.session.core(idx).and_then(|mut c| c.run()),
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
        let lines = self.with_core(|core, name| {
            prepare_run(core, name, addr)?;
            if !self.before_resume(core, name)? {
                core.step()?;
            }
            halt_lines(core, name, "single-step", self.halt_suffix(), &|a| {
                self.symbolize(a)
            })
        })?;
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

    /// Waits until the current target halts (up to `timeout`).
    pub fn wait_halt(&self, ctx: &mut Ctx<'_>, timeout: Duration) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        let was_running = self
            .targets()
            .by_name(&target)
            .is_some_and(|t| t.state == TargetState::Running);
        let start = std::time::Instant::now();
        loop {
            // The poll is the background poller's (open the core, DHCSR, the halt lines), so
            // that a lost link is reported and handled the same way whichever polls first.
            self.reattach_if_lost()?;
            let idx = self.current_target()?.1;
            let polled = self.poll_core(idx, &target, was_running).ok_or_else(|| {
                CommandError::failed("the target is not connected: 'init' failed or was not run; see the error printed by init, or run 'doctor'")
            })?;
            let (status, lines) = match polled {
                Ok(v) => v,
                // The link went while waiting (firmware that turns SWD off or sleeps): the same
                // explanation and re-attach as when the background poller sees it first, so the
                // outcome does not depend on which of the two polls first.
                Err(e) if crate::diagnose::is_link_failure(&e) => {
                    self.report_link_lost(&target, &e);
                    self.reattach_if_lost()?;
                    if start.elapsed() >= timeout {
                        return Err(CommandError::failed(format!(
                            "timed out while waiting for target halted ({} ms): the debug link kept going down",
                            timeout.as_millis()
                        )));
                    }
                    continue;
                }
                Err(e) => return Err(diagnose::command_error(&format!("access {target}"), &e)),
            };
            if let CoreStatus::Halted(_) = status {
                self.set_state(&target, TargetState::Halted);
                if let Some(lines) = lines {
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
            // Serves the other front ends meanwhile; Ctrl-C ends the wait (host/jobs.rs).
            self.pause("wait_halt", Duration::from_millis(5))?;
        }
    }

    /// One poll of core `idx` (target `name`): its status (DHCSR), and on a halt the halt
    /// message when `lines_on_halt`. `None` when no connection is open. Shared by the background
    /// poller and `wait_halt`, so a lost link is seen the same way by both.
    fn poll_core(
        &self,
        idx: usize,
        name: &str,
        lines_on_halt: bool,
    ) -> Option<Result<(CoreStatus, Option<Vec<String>>), probe_rs::Error>> {
        let mut guard = self.conn();
        let conn = guard.as_mut()?;
        Some(conn.session.core(idx).and_then(|mut core| {
            let status = core.status()?;
            // Semihosting calls are served here, transparently (host/semihosting.rs).
            let status = self.serve_semihosting(&mut core, name, status)?;
            let lines = match status {
                CoreStatus::Halted(reason) if lines_on_halt => {
                    let suffix = self.halt_suffix();
                    let mut l = halt_lines(&mut core, name, reason_name(reason), suffix, &|a| {
                        self.symbolize(a)
                    })?;
                    l.extend(self.semihosting_disabled_note(name, status));
                    Some(l)
                }
                _ => None,
            };
            Ok((status, lines))
        }))
    }

    /// Polls running targets; announces halts to every console.
    pub fn poll_targets(&self) {
        self.poll_swo(); // SWO/ITM capture (host/swo.rs)
        let running: Vec<(String, usize)> = {
            let t = self.targets();
            t.list
                .iter()
                .filter(|t| t.is_core() && t.state == TargetState::Running)
                .map(|t| (t.name.clone(), t.core_index))
                .collect()
        };
        for (name, idx) in running {
            let Some(r) = self.poll_core(idx, &name, true) else {
                return;
            };
            match r.map(|(_, lines)| lines) {
                Ok(Some(lines)) => {
                    self.set_state(&name, TargetState::Halted);
                    self.events().send(HostEvent::Target {
                        target: name.clone(),
                        lines: lines.to_vec(),
                        origin: None,
                    });
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
                Err(e) => self.report_link_lost(&name, &e),
            }
        }
        self.poll_halted();
        // RTT: drain the up channels at `rtt polling_interval` (host/rtt.rs).
        self.poll_rtt();
    }

    /// A poll of running `name` failed with `e`: the target's state is unknown, a link failure
    /// is noted (the next access re-attaches), and the explanation goes to the log and every
    /// console.
    fn report_link_lost(&self, name: &str, e: &probe_rs::Error) {
        self.set_state(name, TargetState::Unknown);
        self.note_link_failure(e);
        let msg = self.link_lost_message(name, e);
        for l in msg.lines() {
            tracing::error!("{l}");
        }
        self.set_pending_diagnosis(&msg);
        self.events().send(HostEvent::Target {
            target: name.to_string(),
            lines: msg.lines().map(String::from).collect(),
            origin: None,
        });
    }

    fn set_pending_diagnosis(&self, msg: &str) {
        if let Some(c) = self.conn().as_mut() {
            c.notes.pending_diagnosis = Some(msg.to_string());
        }
    }

    /// Takes the last diagnosis of the poller (a lost link, a reset while halted), for front
    /// ends that show it with their next error (GDB's console).
    pub fn take_diagnosis(&self) -> Option<String> {
        self.conn()
            .as_mut()
            .and_then(|c| c.notes.pending_diagnosis.take())
    }

    /// Remembers when the target was resumed and what DBGMCU_CR held then.
    fn note_resume(&self, dbgmcu_cr: Option<u32>) {
        if let Some(c) = self.conn().as_mut() {
            c.notes.resumed_at = Some(std::time::Instant::now());
            c.notes.dbgmcu_cr_at_resume = dbgmcu_cr;
        }
    }

    /// The diagnosis of a poll failure on a running target: the link dropped. When it dropped
    /// soon after a resume, the firmware did it (SWD pins disabled, or Stop/Standby without the
    /// DBGMCU_CR debug bits), and the DBGMCU_CR value read just before the resume says which bits
    /// were set.
    pub fn link_lost_message(&self, name: &str, e: &probe_rs::Error) -> String {
        let (since, cr) = {
            let g = self.conn();
            match g.as_ref() {
                Some(c) => (
                    c.notes.resumed_at.map(|t| t.elapsed()),
                    c.notes.dbgmcu_cr_at_resume,
                ),
                None => (None, None),
            }
        };
        let ev = diagnose::evidence(e);
        let what = match ev {
            diagnose::Evidence::NoAck => "no ACK from the SW-DP",
            diagnose::Evidence::Wait => "the debug port answers WAIT",
            diagnose::Evidence::LineErrors => "parity errors on the SWD line",
            diagnose::Evidence::Fault => "FAULT responses",
            _ => "the core does not answer",
        };
        let mut msg = match since {
            Some(t) => format!(
                "[{name}] lost the debug link {:.1} s after resume ({what}): {}",
                t.as_secs_f32(),
                diagnose::chain(e).join(": ")
            ),
            None => format!(
                "[{name}] lost the debug link ({what}): {}",
                diagnose::chain(e).join(": ")
            ),
        };
        if matches!(ev, diagnose::Evidence::NoAck | diagnose::Evidence::Wait) {
            let d = crate::family::debug_of(crate::family::target_line(self, Some(name)));
            let cr_words = match cr {
                Some(v) if v & d.lowpower == d.lowpower => format!(
                    "DBGMCU_CR was {v:#010x} ({}) at resume, so if the firmware enters Stop/Standby it cleared {} itself; otherwise it disabled the SWD pins ({})",
                    d.cr_words(v),
                    d.lowpower_names(),
                    d.swd_pins
                ),
                Some(v) => format!(
                    "DBGMCU_CR was {v:#010x} ({}) at resume: without {} the debug port goes dark when the firmware enters Stop/Standby; the target script's examine-end handler sets them (`{}`)",
                    d.cr_words(v),
                    d.lowpower_names(),
                    d.examine_end
                ),
                None => format!(
                    "the firmware disabled the SWD pins ({}) or entered Stop/Standby without the DBGMCU_CR debug bits",
                    d.swd_pins
                ),
            };
            msg.push_str(&format!(
                "\n  cause: the running firmware cut the link: {cr_words}"
            ));
            msg.push_str("\n  fix: reconnect under reset (restart with `reset_config(\"srst_only srst_nogate connect_assert_srst\");` in the board script, or run 'doctor'); keep the DBGMCU_CR bits and the SWD pins in the firmware");
        } else if let Some(a) = diagnose::advice(ev) {
            msg.push_str("\n  why: ");
            msg.push_str(a);
        }
        msg
    }

    /// Checks halted targets for a reset nobody asked for (DHCSR.S_RESET_ST): a watchdog that
    /// kept counting while the core was halted. The reset cause comes from RCC_CSR; the fix is
    /// DBGMCU_CR.DBG_IWDG_STOP/DBG_WWDG_STOP (RM0008 §31.16.3).
    fn poll_halted(&self) {
        let halted: Vec<(String, usize)> = {
            let t = self.targets();
            t.list
                .iter()
                .filter(|t| t.is_core() && t.state == TargetState::Halted)
                .map(|t| (t.name.clone(), t.core_index))
                .collect()
        };
        for (name, idx) in halted {
            let r = {
                let mut guard = self.conn();
                let Some(conn) = guard.as_mut() else { return };
                let line = crate::family::target_line(self, Some(&name));
                let (d, rr) = (crate::family::debug_of(line), crate::family::reset_of(line));
                conn.session.core(idx).and_then(|mut core| {
                    let dhcsr = core.read_word_32(diagnose::regs::DHCSR)?;
                    if dhcsr & diagnose::regs::dhcsr::S_RESET_ST == 0 {
                        return Ok(None);
                    }
                    let csr = core.read_word_32(rr.csr).ok();
                    let cr = core.read_word_32(d.cr).ok();
                    let fz = if d.freeze_in_cr() {
                        cr
                    } else {
                        core.read_word_32(d.freeze).ok()
                    };
                    let status = core.status()?;
                    Ok(Some((line, dhcsr, csr, cr, fz, status)))
                })
            };
            let Ok(Some((line, dhcsr, csr, cr, fz, status))) = r else {
                continue;
            };
            let msg = watchdog_message(&name, line, dhcsr, csr, cr, fz);
            self.set_state(&name, state_of(status));
            self.set_pending_diagnosis(&msg);
            for l in msg.lines() {
                tracing::warn!("{l}");
            }
            self.events().send(HostEvent::Target {
                target: name.clone(),
                lines: msg.lines().map(String::from).collect(),
                origin: None,
            });
        }
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

/// The explanation of a reset that happened while the core was halted, with the reset flags
/// (`rcc_csr`), DBGMCU_CR and the watchdog-freeze register (`dbgmcu_fz`; DBGMCU_CR itself on F1)
/// of the chip's `line`.
pub fn watchdog_message(
    name: &str,
    line: &crate::family::Line,
    dhcsr: u32,
    rcc_csr: Option<u32>,
    dbgmcu_cr: Option<u32>,
    dbgmcu_fz: Option<u32>,
) -> String {
    use diagnose::regs;
    let d = crate::family::debug_of(line);
    let rr = crate::family::reset_of(line);
    let flags = rcc_csr.map(|c| rr.flags_set(c)).unwrap_or_default();
    let iwdg = rcc_csr.is_some_and(|c| c & rr.iwdg != 0);
    let wwdg = rcc_csr.is_some_and(|c| c & rr.wwdg != 0);
    let state = if dhcsr & regs::dhcsr::S_HALT != 0 {
        "it is halted again"
    } else {
        "the firmware is running again from the reset vector"
    };
    let mut msg = format!(
        "[{name}] the target was reset while halted (DHCSR.S_RESET_ST; {state}); {} reset flags: {}",
        rr.name,
        if flags.is_empty() {
            "none readable".to_string()
        } else {
            flags.join(", ")
        }
    );
    let cr_words = d.describe(dbgmcu_cr, dbgmcu_fz);
    if iwdg || (wwdg && d.wwdg_stop != 0) {
        let (dog, mask) = if iwdg {
            ("independent watchdog (IWDG)", d.iwdg_stop)
        } else {
            ("window watchdog (WWDG)", d.wwdg_stop)
        };
        let bit = d.bit_name(mask);
        let cleared = if dbgmcu_fz.is_some_and(|v| v & mask == 0) {
            "; the target script's examine-end handler sets it at every examine, so something cleared it since (the firmware, or a command)"
        } else {
            ""
        };
        msg.push_str(&format!(
            "\n  cause: the {dog} kept counting while the core was halted and reset the chip: {bit} is not set ({cr_words}){cleared}\n  fix: set it before halting: `mmw 0x{:08X} 0x{mask:x} 0` (or keep the examine-end handler of targets/{}.rhai and do not clear {} in the firmware)",
            d.freeze,
            line.series,
            d.freeze_name
        ));
    } else {
        msg.push_str(&format!("\n  cause: a reset from outside the debugger (NRST pin, power dip, or another tool); {cr_words}"));
    }
    msg
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
        Ok(())
    }
}
