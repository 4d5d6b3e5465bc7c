//! The gdbstub target: what one GDB session knows (register layout, memory map, its
//! breakpoints and watchpoints, staged flash data, console lines waiting for GDB) and the
//! helpers that run work on the host thread.
//!
//! Nothing here holds the probe-rs session: every access is a closure executed by the host
//! thread through [`HostHandle::call`], which returns when the access is done.

use std::collections::HashMap;
use std::time::Duration;

use gdbstub::common::Signal;
use gdbstub::stub::SingleThreadStopReason;
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{BreakpointsOps, WatchKind};
use gdbstub::target::ext::extended_mode::ExtendedModeOps;
use gdbstub::target::ext::flash::FlashOps;
use gdbstub::target::ext::memory_map::MemoryMapOps;
use gdbstub::target::ext::monitor_cmd::MonitorCmdOps;
use gdbstub::target::ext::target_description_xml_override::TargetDescriptionXmlOverrideOps;
use gdbstub::target::{Target, TargetError};
use probe_rs::{BreakpointCause, Core, CoreStatus, HaltReason, RegisterId};

use super::arch::CortexM;
use super::flash::FlashStage;
use super::memory_map::MemoryMap;
use super::target_desc;
use crate::command::{Collect, CommandError, Ctx, Origin};
use crate::host::Host;
use crate::host::gdb_settings::GdbSettings;
use crate::host::target::TargetState;
use crate::host::worker::HostHandle;

/// The only error that ends a GDB session: the host thread is gone (stdbg is shutting down).
/// Target problems are never fatal: they answer `E` and explain themselves on GDB's console.
#[derive(Debug, thiserror::Error)]
pub enum GdbError {
    /// The host thread has ended.
    #[error("the debug host has shut down")]
    HostGone,
}

impl From<GdbError> for TargetError<GdbError> {
    fn from(e: GdbError) -> Self {
        TargetError::Fatal(e)
    }
}

/// What the host thread saw when the core stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopInfo {
    /// probe-rs's reading of DFSR.
    pub reason: HaltReason,
    /// Program counter.
    pub pc: u32,
    /// For a watchpoint halt: the address of the DWT comparator that matched.
    pub watch: Option<u32>,
}

/// How a breakpoint was asked for by GDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BpType {
    /// Z0: software (BKPT in RAM; an FPB comparator in flash).
    Software,
    /// Z1: FPB comparator.
    Hardware,
}

/// A GDB breakpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GdbBreakpoint {
    /// Z0 or Z1.
    pub kind: BpType,
    /// Whether this session created it (false when a console had set one there already; then it
    /// is left in place when GDB removes it).
    pub owned: bool,
}

/// A GDB watchpoint and the DWT range that implements it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GdbWatchpoint {
    /// Address GDB asked for.
    pub addr: u32,
    /// Length GDB asked for (bytes).
    pub len: u32,
    /// Z2 write, Z3 read, Z4 access.
    pub kind: WatchKind,
    /// The aligned power-of-two range the DWT comparator watches.
    pub dwt_addr: u32,
    /// Its length in bytes.
    pub dwt_len: u32,
}

/// One GDB session's view of the target.
pub struct GdbTarget {
    pub(crate) handle: HostHandle,
    pub(crate) id: u64,
    pub(crate) fpu: bool,
    pub(crate) target_xml: String,
    pub(crate) memory_map: MemoryMap,
    pub(crate) memory_map_xml: String,
    /// Lines waiting for a moment when GDB accepts console output.
    pub(crate) console: Vec<String>,
    /// A stop reason to report as soon as GDB waits (after a synchronous step, or a failed
    /// resume).
    pub(crate) pending_stop: Option<SingleThreadStopReason<u32>>,
    pub(crate) breakpoints: HashMap<u32, GdbBreakpoint>,
    pub(crate) watchpoints: Vec<GdbWatchpoint>,
    pub(crate) flash: FlashStage,
    /// A poll failure has been reported to GDB since the last resume.
    pub(crate) poll_failed: bool,
    /// The session's count of packets that may change memory (set by the session loop).
    pub(crate) read_epoch: u64,
    /// Memory read ahead for GDB's many small reads (see `base.rs`).
    pub(crate) read_cache: Option<super::read_ahead::ReadCache>,
    /// The session's code epoch ([`super::wire::Reader::code_epoch`]): like `read_epoch`, but
    /// single steps do not change it.
    pub(crate) code_epoch: u64,
    /// Registers (remote number, value) to expedite in the stop reply of the last step.
    pub(crate) expedite: Option<Vec<(u8, u32)>>,
    /// Read-ahead of flash, kept across single steps while the flash controller stays locked.
    pub(crate) code_cache: Option<super::read_ahead::ReadCache>,
    /// The client's socket, watched for Ctrl-C (0x03) while a `monitor` command runs.
    pub(crate) interrupt_socket: Option<std::net::TcpStream>,
    /// The firmware's semihosting console output waiting for GDB's console (raw bytes).
    pub(crate) output: Vec<u8>,
    /// A semihosting File-I/O request to send GDB (`gdb/fileio.rs`).
    pub(crate) fileio_out: Option<String>,
    /// GDB has a File-I/O request and has not replied yet.
    pub(crate) fileio_waiting: bool,
    /// Every GDB session served (this one included): says whether this one is the primary.
    pub(crate) sessions: super::Sessions,
    /// The `gdb_*` settings when GDB connected (those that are config-stage only).
    pub(crate) settings: GdbSettings,
    /// The registers last read, answered while the core runs and register access errors are
    /// not reported (`gdb_report_register_access_error disable`, OpenOCD's default).
    pub(crate) last_regs: Option<super::arch::CortexMRegs>,
}

impl GdbTarget {
    /// Prepares a session: learns the core (FPU) and memory map, and fires `gdb-attach`
    /// (default action: `halt 1000`, as OpenOCD). Problems are queued for GDB's console; the
    /// session is served anyway.
    pub fn attach(handle: HostHandle, id: u64, sessions: super::Sessions) -> GdbTarget {
        let origin = Origin::Gdb(id);
        // Only the oldest connection stops the target when it connects; the others (a live
        // watch reading memory while the program runs) leave it running.
        let primary = sessions.is_primary(id);
        let r = handle.call(move |host| {
            // From now on the firmware's semihosting output also goes to this session.
            host.semihosting().gdb_attached(true);
            let mut notes = Vec::new();
            let info = (|| -> Result<(bool, MemoryMap), CommandError> {
                let fpu = host.with_core(|core, _| core.fpu_support())?;
                let guard = host.conn();
                let conn = guard.as_ref().ok_or_else(|| {
                    CommandError::failed("the target is not connected: 'init' failed; see stdbg's log")
                })?;
                Ok((fpu, MemoryMap::from_target(conn.session.target())))
            })();
            let (fpu, map) = match info {
                Ok(i) => i,
                Err(e) => {
                    notes.push(format!("stdbg: cannot examine the target for GDB: {e}"));
                    (false, MemoryMap::default())
                }
            };
            if let Ok((target, _)) = host.current_target() {
                let custom = host.targets().by_name(&target).is_some_and(|t| t.events.iter().any(|(e, _)| e == "gdb-attach"));
                let mut out = Collect::default();
                let r = {
                    let mut ctx = Ctx::new(host, origin, &mut out);
                    if custom {
                        host.fire_event(&mut ctx, &target, "gdb-attach")
                    } else if host.initialized() && primary {
                        host.halt(&mut ctx, Duration::from_millis(1000))
                    } else {
                        Ok(())
                    }
                };
                if custom {
                    notes.extend(out.0);
                }
                if let Err(e) = r {
                    notes.push(format!("stdbg: gdb-attach: {e}"));
                }
                // GDB reads the registers as soon as it connects and gives up if it cannot, so a
                // gdb-attach handler that leaves the core running is followed by a halt.
                let running = host.initialized() && host.with_core(|core, _| core.core_halted()).is_ok_and(|h| !h);
                if custom && running && primary {
                    let mut out = Collect::default();
                    let mut ctx = Ctx::new(host, origin, &mut out);
                    match host.halt(&mut ctx, Duration::from_millis(1000)) {
                        Ok(()) => notes.push(
                            "stdbg: the gdb-attach handler left the target running; halted it, as GDB needs a halted core to attach".into(),
                        ),
                        Err(e) => notes.push(format!("stdbg: could not halt the target for GDB: {e}")),
                    }
                }
            }
            host.config().gdb.sync.remove(&id);
            let settings = host.config().gdb.clone();
            (fpu, map, notes, settings)
        });
        let (fpu, memory_map, console, settings) = r.unwrap_or_else(|| {
            (
                false,
                MemoryMap::default(),
                vec!["stdbg: the debug host has shut down".into()],
                GdbSettings::default(),
            )
        });
        for n in &console {
            tracing::warn!("{n}");
        }
        GdbTarget {
            handle,
            id,
            fpu,
            target_xml: target_desc::build(fpu),
            memory_map_xml: memory_map.xml(),
            memory_map,
            console,
            pending_stop: None,
            breakpoints: HashMap::new(),
            watchpoints: Vec::new(),
            flash: FlashStage::default(),
            poll_failed: false,
            read_epoch: 0,
            read_cache: None,
            code_epoch: 0,
            expedite: None,
            code_cache: None,
            interrupt_socket: None,
            output: Vec::new(),
            fileio_out: None,
            fileio_waiting: false,
            sessions,
            settings,
            last_regs: None,
        }
    }

    /// The origin of this session's command lines.
    pub fn origin(&self) -> Origin {
        Origin::Gdb(self.id)
    }

    /// Runs `f` with the current core on the host thread. The inner `Err` is the explained
    /// failure (see [`crate::diagnose`]).
    pub fn with_core<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core<'_>, &str) -> Result<R, probe_rs::Error> + Send + 'static,
    ) -> Result<Result<R, String>, GdbError> {
        // While another console's command holds the probe (doctor, a flash write) GDB gets
        // the "busy" message as the error at once, instead of waiting past its timeout.
        self.handle
            .call_or_busy(move |host| host.with_core(f).map_err(|e| e.to_string()))
            .ok_or(GdbError::HostGone)
            .map(|r| r.and_then(|x| x))
    }

    /// Runs `f` on the host thread with a command context of this session; returns its result
    /// and the lines it printed.
    pub fn with_host<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Host, &mut Ctx<'_>) -> R + Send + 'static,
    ) -> Result<(R, Vec<String>), GdbError> {
        let origin = self.origin();
        self.handle
            .call(move |host| {
                let mut out = Collect::default();
                let r = {
                    let mut ctx = Ctx::new(host, origin, &mut out);
                    f(host, &mut ctx)
                };
                (r, out.0)
            })
            .ok_or(GdbError::HostGone)
    }

    /// Logs `msg`, queues it for GDB's console and returns the non-fatal error GDB gets (`E79`).
    pub fn fail(&mut self, msg: impl Into<String>) -> TargetError<GdbError> {
        let msg = msg.into();
        tracing::warn!("GDB: {msg}");
        self.note(msg);
        // The poller's diagnosis of what happened to the target (link lost after resume, reset
        // while halted), which GDB has not seen.
        if let Some(Some(d)) = self.handle.call(|h| h.take_diagnosis()) {
            for l in d.lines() {
                self.note(format!("stdbg: {}", l.trim_start()));
            }
        }
        TargetError::NonFatal
    }

    /// The value of a host-thread result, or `None` after [`Self::fail`] reported
    /// "stdbg: `what`: `error`" (GDB then gets gdbstub's "not done" answer).
    pub fn ok_or_report<T>(
        &mut self,
        r: Result<T, String>,
        what: impl FnOnce() -> String,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                let _ = self.fail(format!("stdbg: {}: {e}", what()));
                None
            }
        }
    }

    /// Queues a line for GDB's console (sent before the next stop reply or monitor output).
    pub fn note(&mut self, msg: String) {
        if !self.console.contains(&msg) {
            self.console.push(msg);
        }
        if self.console.len() > 20 {
            self.console.remove(0);
        }
    }

    /// Takes the queued console lines.
    pub fn take_console(&mut self) -> Vec<String> {
        std::mem::take(&mut self.console)
    }

    /// While GDB waits for a stop reply: the pending stop, or whether the core has halted (the
    /// host's poller announces the halt to every console first). `None` while it runs.
    pub fn poll_stop(&mut self) -> Option<SingleThreadStopReason<u32>> {
        if let Some(r) = self.pending_stop.take() {
            return Some(r);
        }
        let r = self.handle.call(|h| {
            let r = poll_on_host(h);
            let out = h.semihosting().take_gdb_output();
            (r, out, h.take_fileio_request())
        });
        let r = r.map(|(r, out, fileio)| {
            self.output.extend(out);
            if let Some(req) = fileio {
                self.fileio_out = Some(req);
                self.fileio_waiting = true;
            }
            r
        });
        match r {
            None => Some(SingleThreadStopReason::Signal(Signal::SIGHUP)),
            Some(Ok(None)) => {
                self.poll_failed = false;
                None
            }
            Some(Ok(Some(info))) => Some(self.stop_reason(info)),
            Some(Err(e)) => {
                if !self.poll_failed {
                    self.poll_failed = true;
                    let _ = self.fail(format!(
                        "stdbg: the target does not answer while running: {e}\nstdbg: still waiting; press Ctrl-C to stop waiting, then check the connection ('monitor poll')"
                    ));
                }
                None
            }
        }
    }

    /// Ctrl-C: halts the core (unless it already stopped on its own) and says why it stopped.
    pub fn interrupt(&mut self) -> SingleThreadStopReason<u32> {
        if let Some(r) = self.pending_stop.take() {
            return r;
        }
        if let Some(Ok(Some(info))) = self.handle.call(poll_on_host) {
            return self.stop_reason(info);
        }
        match self.with_host(|host, ctx| {
            host.halt(ctx, Duration::from_millis(1000))
                .map_err(|e| e.to_string())
        }) {
            Ok((Ok(()), _)) => {}
            Ok((Err(e), _)) => {
                let _ = self.fail(format!("stdbg: could not halt the target: {e}"));
            }
            Err(GdbError::HostGone) => return SingleThreadStopReason::Signal(Signal::SIGHUP),
        }
        SingleThreadStopReason::Signal(Signal::SIGINT)
    }

    /// Translates a halt into GDB's stop reply: our breakpoints as swbreak/hwbreak, watchpoints
    /// with the watched address, debug requests (Ctrl-C, `halt` on a console) as SIGINT, vector
    /// catch (a fault or a reset) as SIGTRAP with an explanation.
    pub fn stop_reason(&mut self, info: StopInfo) -> SingleThreadStopReason<u32> {
        use SingleThreadStopReason as S;
        // A stop in a fault handler, on a fault vector catch or from lockup: say why on
        // GDB's console, as the other consoles' halt message does.
        if let Some(Ok(lines)) = self.handle.call(|h| h.fault_lines()) {
            for l in lines {
                self.note(format!("stdbg: {}", l.trim_start()));
            }
        }
        match info.reason {
            // While semihosting is enabled, the only call the host leaves halted is SYS_EXIT
            // (without `arm semihosting_resexit enable`); its message is already on the console.
            HaltReason::Breakpoint(BreakpointCause::Semihosting(_))
                if self.handle.call(|h| h.semihosting().enabled) == Some(true) =>
            {
                S::Signal(Signal::SIGTRAP)
            }
            HaltReason::Breakpoint(BreakpointCause::Semihosting(_)) => {
                self.note(
                    "stdbg: the program made a semihosting call (BKPT 0xAB), which stdbg does not serve while semihosting is disabled; fix: `monitor arm semihosting enable`, then `continue`".into(),
                );
                S::Signal(Signal::SIGTRAP)
            }
            HaltReason::Breakpoint(_) => match self.breakpoints.get(&info.pc) {
                Some(GdbBreakpoint {
                    kind: BpType::Software,
                    ..
                }) => S::SwBreak(()),
                Some(GdbBreakpoint {
                    kind: BpType::Hardware,
                    ..
                }) => S::HwBreak(()),
                None => S::Signal(Signal::SIGTRAP),
            },
            HaltReason::Watchpoint | HaltReason::Multiple => {
                let hit = info
                    .watch
                    .and_then(|a| self.watchpoints.iter().find(|w| w.dwt_addr == a))
                    .copied();
                match hit {
                    Some(w) => S::Watch {
                        tid: (),
                        kind: w.kind,
                        addr: w.addr,
                    },
                    None => S::Signal(Signal::SIGTRAP),
                }
            }
            HaltReason::Step => S::DoneStep,
            HaltReason::Request | HaltReason::External => S::Signal(Signal::SIGINT),
            HaltReason::Exception => {
                self.note(format!(
                    "stdbg: the core halted on a vector catch at pc 0x{:08x} (a reset, or a fault exception such as HardFault)",
                    info.pc
                ));
                S::Signal(Signal::SIGTRAP)
            }
            HaltReason::Unknown => S::Signal(Signal::SIGTRAP),
        }
    }

    /// Ends the session: removes this session's breakpoints and watchpoints, resumes the core
    /// on `detach`, fires `gdb-detach`.
    pub fn end_session(&mut self, detach: bool) {
        // A secondary connection's detach leaves the run state to the primary one; the last
        // connection to leave ends the firmware's semihosting output to GDB.
        let primary = self.sessions.is_primary(self.id);
        let last = self.sessions.count() <= 1;
        let id = self.id;
        let bps: Vec<u32> = self
            .breakpoints
            .iter()
            .filter(|(_, b)| b.owned)
            .map(|(a, _)| *a)
            .collect();
        let wps: Vec<u32> = self.watchpoints.iter().map(|w| w.dwt_addr).collect();
        let r = self.with_host(move |host, ctx| {
            let mut errors = Vec::new();
            for a in bps {
                if let Err(e) = host.remove_breakpoint(a) {
                    errors.push(e.to_string());
                }
            }
            for a in wps {
                if let Err(e) = host.remove_watchpoint(a) {
                    errors.push(e.to_string());
                }
            }
            host.config().gdb.sync.remove(&id);
            if detach && primary && host.initialized() {
                let halted = host
                    .with_core(|core, _| core.core_halted())
                    .unwrap_or(false);
                if halted && let Err(e) = host.resume(ctx, None) {
                    errors.push(format!("could not resume the target after detach: {e}"));
                }
            }
            if let Ok((target, _)) = host.current_target()
                && let Err(e) = host.fire_event(ctx, &target, "gdb-detach")
            {
                errors.push(e.to_string());
            }
            if last {
                host.semihosting().gdb_attached(false);
            }
            errors
        });
        if let Ok((errors, _)) = r {
            for e in errors {
                tracing::warn!("GDB session end: {e}");
            }
        }
        self.breakpoints.clear();
        self.watchpoints.clear();
    }
}

/// Runs on the host thread: lets the host's poller notice a halt (it announces it to every
/// console and fires `halted`), then reads why the core stopped. `Ok(None)` while it runs.
fn poll_on_host(host: &Host) -> Result<Option<StopInfo>, String> {
    host.poll_targets();
    let (name, _) = host.current_target().map_err(|e| e.to_string())?;
    let state = host.targets().by_name(&name).map(|t| t.state);
    if state == Some(TargetState::Running) {
        return Ok(None);
    }
    // One core access for the status and, when halted, the PC.
    let (status, pc) = host
        .with_core(|core, _| {
            let status = core.status()?;
            let pc = match status {
                CoreStatus::Halted(_) => Some(core.read_core_reg::<u32>(RegisterId(15))?),
                _ => None,
            };
            Ok((status, pc))
        })
        .map_err(|e| e.to_string())?;
    match (status, pc) {
        (CoreStatus::Halted(reason), Some(pc)) => {
            let watch = if crate::host::breakpoints::is_watchpoint_halt(status) {
                host.watchpoint_hit().map_err(|e| e.to_string())?
            } else {
                None
            };
            host.set_state(&name, TargetState::Halted);
            Ok(Some(StopInfo { reason, pc, watch }))
        }
        _ => {
            // Running again (e.g. the poller lost it for a moment): let the host poll it.
            host.set_state(&name, TargetState::Running);
            Ok(None)
        }
    }
}

impl Target for GdbTarget {
    type Arch = CortexM;
    type Error = GdbError;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    fn support_extended_mode(&mut self) -> Option<ExtendedModeOps<'_, Self>> {
        Some(self)
    }

    fn support_target_description_xml_override(
        &mut self,
    ) -> Option<TargetDescriptionXmlOverrideOps<'_, Self>> {
        Some(self)
    }

    // `gdb_memory_map disable`: qXfer:memory-map:read is not offered.
    fn support_memory_map(&mut self) -> Option<MemoryMapOps<'_, Self>> {
        self.settings.memory_map.then_some(self)
    }

    // `gdb_flash_program disable`: vFlash packets get the empty ("not supported") reply.
    fn support_flash_operations(&mut self) -> Option<FlashOps<'_, Self>> {
        self.settings.flash_program.then_some(self)
    }

    // `gdb_target_description disable`: qXfer:features:read is not offered.
    fn use_target_description_xml(&self) -> bool {
        self.settings.target_description
    }
}
