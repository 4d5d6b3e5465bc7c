//! The debug host: configuration, targets, flash banks, the probe-rs session and the event bus.
//!
//! One host thread (see [`worker`]) executes every command line; front ends send it
//! [`worker::Request`]s. The state below sits behind mutexes only so that Rhai functions (which
//! must be `Send + Sync`) can reach it; it is used from the host thread, and no lock is held while
//! a command, script or event handler runs, so commands and scripts can call each other.

mod adapter;
mod attach;
pub mod breakpoints;
pub mod config;
pub mod connection;
pub mod control;
pub mod event;
mod fastread;
pub mod faststep;
mod fault;
pub mod gdb_settings; // GDB server settings (gdb_* commands, gdb_port pipe)
pub mod jobs;
mod ladder;
pub mod lines;
pub mod maskisr;
pub mod memory;
pub mod poll;
mod reattach;
pub mod rtt;
pub mod rtt_defmt;
pub mod rtt_server;
pub mod semihosting;
mod semihosting_fileio;
mod semihosting_ops;
pub mod serial;
pub mod swo;
pub mod swo_out;
pub mod symbols;
pub mod target;
pub mod worker;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::command::Registry;
use crate::script::ScriptEngine;
pub use config::HostConfig;
pub use connection::Connection;
pub use event::{EventBus, HostEvent};
pub use target::{FlashBank, TargetDef, Targets};

/// How the process should end after `shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `shutdown`: exit status 0.
    Ok,
    /// `shutdown error`: exit status 1.
    Error,
    /// The firmware's exit status (semihosting SYS_EXIT, see [`semihosting`]).
    Code(i32),
}

/// The shared host state. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    registry: RwLock<Registry>,
    config: Mutex<HostConfig>,
    targets: Mutex<Targets>,
    conn: Mutex<Option<Connection>>,
    script: OnceLock<ScriptEngine>,
    events: EventBus,
    shutdown: Mutex<Option<Shutdown>>,
    /// Breakpoints and watchpoints per target name (see [`breakpoints`]).
    debug_units: Mutex<std::collections::HashMap<String, breakpoints::DebugUnits>>,
    /// Where the virtual chip's USART output goes.
    serial: serial::SerialRouter,
    /// The symbols of the last ELF programmed or loaded.
    /// (The symbolizer is not `Sync`: it is only used under this lock.)
    symbols: Mutex<Option<symbols::Symbols>>,
    /// The host thread's request queue and running commands (see [`jobs`]).
    jobs: jobs::Jobs,
    /// The virtual chip of a session dropped because its link was lost, kept for attaching
    /// again (see `reattach.rs`).
    lost_sim: Mutex<Option<crate::sim::Sim>>,
    /// The virtual chip served to remote_bitbang clients (`remote_bitbang_port`), which stdbg
    /// does not attach to itself.
    served_sim: Mutex<Option<crate::sim::Sim>>,
    /// RTT: the control block, its channels, servers and defmt decoder (see [`rtt`]).
    rtt: rtt::RttHub,
    /// ARM semihosting (see [`semihosting`]).
    semihosting: Mutex<semihosting::Semihosting>,
    /// SWO/ITM trace: TPIU objects, ITM ports, the running capture (see [`swo`]).
    swo: Mutex<swo::Swo>,
}

impl Host {
    /// A host with every built-in command registered and the script engine ready.
    pub fn new(config: HostConfig) -> Host {
        let mut registry = Registry::default();
        crate::command::builtin::register_all(&mut registry);
        let events = EventBus::new();
        let host = Host {
            inner: Arc::new(HostInner {
                registry: RwLock::new(registry),
                config: Mutex::new(config),
                targets: Mutex::new(Targets::default()),
                conn: Mutex::new(None),
                script: OnceLock::new(),
                serial: serial::SerialRouter::new(events.clone()),
                events,
                shutdown: Mutex::new(None),
                debug_units: Mutex::default(),
                symbols: Mutex::new(None),
                jobs: jobs::Jobs::default(),
                lost_sim: Mutex::new(None),
                served_sim: Mutex::new(None),
                rtt: rtt::RttHub::default(),
                semihosting: Mutex::default(),
                swo: Mutex::default(),
            }),
        };
        let engine = ScriptEngine::new(&host);
        let _ = host.inner.script.set(engine);
        host
    }

    /// The virtual chip `init` created for the remote_bitbang server, if it did.
    pub fn served_sim(&self) -> Option<crate::sim::Sim> {
        self.inner
            .served_sim
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether `other` is this host (a clone of the same one).
    pub fn same_as(&self, other: &Host) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The names of the TPIU/SWO objects (`tpiu create`), which are commands.
    pub fn trace_object_names(&self) -> Vec<String> {
        self.swo_state()
            .lock()
            .map(|s| s.objects.iter().map(|o| o.name.clone()).collect())
            .unwrap_or_default()
    }

    /// A weak reference, for objects owned by the host that must refer back to it.
    pub fn downgrade(&self) -> WeakHost {
        WeakHost(Arc::downgrade(&self.inner))
    }

    /// The SWO/ITM state behind [`Host::swo`].
    fn swo_state(&self) -> &Mutex<swo::Swo> {
        &self.inner.swo
    }

    /// The routes of the virtual chip's USART output (`sim uart`).
    pub fn serial(&self) -> &serial::SerialRouter {
        &self.inner.serial
    }

    /// Remembers `path` as the program on the target: its symbols name the
    /// code in fault reports (ignored if it is not an ELF with symbols).
    pub fn set_program(&self, path: &std::path::Path) {
        let s = symbols::Symbols::load(path);
        *self.inner.symbols.lock().unwrap_or_else(|e| e.into_inner()) = s;
        // RTT: the control block and defmt table of the old program are forgotten (host/rtt.rs).
        self.rtt_program_changed();
    }

    /// `function (file.c:line)` for `addr` in the last ELF programmed or loaded.
    pub fn symbolize(&self, addr: u32) -> Option<String> {
        let g = self.inner.symbols.lock().unwrap_or_else(|e| e.into_inner());
        g.as_ref().and_then(|s| s.describe(addr))
    }

    /// The command registry (read).
    pub fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.inner
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The command registry (write), e.g. for scripts registering commands.
    pub fn registry_mut(&self) -> RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Configuration set by config-stage commands.
    pub fn config(&self) -> MutexGuard<'_, HostConfig> {
        self.inner.config.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Targets and flash banks declared by scripts.
    pub fn targets(&self) -> MutexGuard<'_, Targets> {
        self.inner.targets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live connection (probe-rs session), `None` before `init` or after a failed one.
    pub fn conn(&self) -> MutexGuard<'_, Option<Connection>> {
        self.inner.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Rhai engine.
    pub fn script(&self) -> &ScriptEngine {
        self.inner
            .script
            .get()
            .expect("script engine is set in Host::new")
    }

    fn semihosting_state(&self) -> MutexGuard<'_, semihosting::Semihosting> {
        self.inner
            .semihosting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The event bus shared by all front ends.
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// Whether `init` has completed.
    pub fn initialized(&self) -> bool {
        self.config().initialized
    }

    /// Requests the end of the process after the current line.
    pub fn request_shutdown(&self, kind: Shutdown) {
        *self
            .inner
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(kind);
    }

    /// The pending shutdown request, if any.
    pub fn shutdown_requested(&self) -> Option<Shutdown> {
        *self
            .inner
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// A weak reference to a [`Host`].
#[derive(Clone)]
pub struct WeakHost(std::sync::Weak<HostInner>);

impl WeakHost {
    /// The host, if it still exists.
    pub fn upgrade(&self) -> Option<Host> {
        self.0.upgrade().map(|inner| Host { inner })
    }
}
