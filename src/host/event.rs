//! The event bus: asynchronous lines (target state changes, log lines) pushed to every console.

use tokio::sync::broadcast;

use crate::command::Origin;

/// Something every console should see.
#[derive(Debug, Clone)]
pub enum HostEvent {
    /// Lines announcing a target state change, e.g. the halt message after a breakpoint.
    /// `origin` is the console whose command caused it (that console already printed it).
    Target {
        /// Target name.
        target: String,
        /// The lines to print.
        lines: Vec<String>,
        /// The console that caused the change, if a command did.
        origin: Option<Origin>,
    },
    /// A log line (level and message), as printed on stderr.
    Log {
        /// `Error`, `Warn`, `Info`, `Debug`.
        level: &'static str,
        /// The message.
        message: String,
    },
    /// A target event fired (OpenOCD's event names: `halted`, `resumed`, `reset-start`, …),
    /// with the target's state after it (`halted`, `running`, `reset`, `unknown`); for the Tcl
    /// port's `tcl_notifications`.
    TargetEvent {
        /// Target name.
        target: String,
        /// The event name.
        event: String,
        /// The target's state as OpenOCD names it.
        state: &'static str,
    },
    /// The host is shutting down; consoles close.
    Shutdown,
}

/// A broadcast channel of [`HostEvent`]s. Slow receivers lose the oldest events (they are told
/// how many), they never block the host.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<HostEvent>,
}

impl EventBus {
    /// A bus keeping the last 1024 events for slow receivers.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        EventBus { tx }
    }

    /// Publishes an event (no-op when nobody listens).
    pub fn send(&self, ev: HostEvent) {
        let _ = self.tx.send(ev);
    }

    /// A new receiver that sees events sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<HostEvent> {
        self.tx.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
