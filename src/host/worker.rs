//! The host thread: the one thread that executes command lines and owns the probe-rs session.
//!
//! Front ends (`-c`, REPL, telnet, GDB) send [`Request`]s through a [`HostHandle`]; output lines
//! stream back as [`Reply::Line`] and end with [`Reply::Done`]. Between requests, while a target
//! runs, the thread polls it every [`POLL_INTERVAL`] and turns state changes (a breakpoint hit,
//! a halt requested elsewhere) into [`HostEvent`]s for every console.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc as tmpsc;

use super::{Host, HostEvent};
use crate::command::{self, Ctx, Origin, Output};

/// Stack of the host thread: 256 MiB of address space (only the pages used are backed by
/// memory). Scripts, commands and event handlers run inside each other on this thread, up to
/// [`crate::command::nesting::MAX_NESTING`] levels, each with up to Rhai's 64 call levels.
pub const HOST_STACK_BYTES: usize = 256 << 20;

/// How often a running target is polled (OpenOCD's default poll period is 100 ms).
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A streamed reply to an [`Request::Exec`].
#[derive(Debug, Clone)]
pub enum Reply {
    /// One output line.
    Line(String),
    /// The line finished: `Err` carries the error message. `close` is set by `exit`.
    Done {
        /// Success, or the error message.
        result: Result<(), String>,
        /// The console should close its session.
        close: bool,
    },
}

/// Work for the host thread.
pub enum Request {
    /// Run a command line; output goes to `reply`.
    Exec {
        /// The line.
        line: String,
        /// The front end it came from.
        origin: Origin,
        /// Where output and the final result go.
        reply: tmpsc::UnboundedSender<Reply>,
        /// Write output lines straight to stdout from the host thread instead of sending them
        /// on `reply` (the command line uses this, so its lines and the progress bars that the
        /// same thread draws on stderr appear in the order they happen).
        to_stdout: bool,
    },
    /// Run a closure on the host thread (used by servers that need the session directly).
    Call {
        /// The work.
        f: Box<dyn FnOnce(&Host) + Send>,
        /// Called instead of `f` while a command holds the probe (`doctor`, a flash write), with
        /// the "busy" message; `None`: `f` waits until that command ends.
        busy: Option<Box<dyn FnOnce(String) + Send>>,
    },
}

/// Sends requests to the host thread. Cheap to clone.
#[derive(Clone)]
pub struct HostHandle {
    tx: mpsc::Sender<Request>,
    host: Host,
}

struct ChannelOutput(tmpsc::UnboundedSender<Reply>);

struct StdoutOutput;

impl Output for StdoutOutput {
    fn line(&mut self, line: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not stop the host.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

impl Output for ChannelOutput {
    fn line(&mut self, line: &str) {
        let _ = self.0.send(Reply::Line(line.to_string()));
    }
}

impl HostHandle {
    /// The host (for read-only use by front ends: registry for completion, event bus).
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Queues `line`; the returned receiver yields its output and then [`Reply::Done`].
    pub fn exec(&self, line: &str, origin: Origin) -> tmpsc::UnboundedReceiver<Reply> {
        self.exec_inner(line, origin, false)
    }

    /// Runs `line` with its output written to this process's stdout by the host thread, and
    /// waits for the result (used by `-c` and `-f`).
    pub fn exec_to_stdout(&self, line: &str, origin: Origin) -> (Result<(), String>, bool) {
        let mut rx = self.exec_inner(line, origin, true);
        while let Some(r) = rx.blocking_recv() {
            if let Reply::Done { result, close } = r {
                return (result, close);
            }
        }
        (Err("the host has shut down".into()), true)
    }

    fn exec_inner(
        &self,
        line: &str,
        origin: Origin,
        to_stdout: bool,
    ) -> tmpsc::UnboundedReceiver<Reply> {
        let (tx, rx) = tmpsc::unbounded_channel();
        if self
            .tx
            .send(Request::Exec {
                line: line.to_string(),
                origin,
                reply: tx.clone(),
                to_stdout,
            })
            .is_err()
        {
            let _ = tx.send(Reply::Done {
                result: Err("the host has shut down".into()),
                close: true,
            });
        }
        rx
    }

    /// Runs `line` and waits, passing each output line to `on_line` (for non-async callers).
    pub fn exec_blocking(
        &self,
        line: &str,
        origin: Origin,
        mut on_line: impl FnMut(&str),
    ) -> (Result<(), String>, bool) {
        let mut rx = self.exec(line, origin);
        while let Some(r) = rx.blocking_recv() {
            match r {
                Reply::Line(l) => on_line(&l),
                Reply::Done { result, close } => return (result, close),
            }
        }
        (Err("the host has shut down".into()), true)
    }

    /// Runs a closure on the host thread and returns its result (`None`: the host has shut
    /// down). While a command holds the probe, it waits until that command ends.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Host) -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = mpsc::channel();
        let req = Request::Call {
            f: Box::new(move |h| {
                let _ = tx.send(f(h));
            }),
            busy: None,
        };
        self.tx.send(req).ok()?;
        rx.recv().ok()
    }

    /// [`HostHandle::call`], but while a command holds the probe (`doctor`, a flash write) it
    /// returns at once with `Some(Err(busy message))` instead of waiting.
    pub fn call_or_busy<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Host) -> R + Send + 'static,
    ) -> Option<Result<R, String>> {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let req = Request::Call {
            f: Box::new(move |h| {
                let _ = tx.send(Ok(f(h)));
            }),
            busy: Some(Box::new(move |msg| {
                let _ = tx2.send(Err(msg));
            })),
        };
        self.tx.send(req).ok()?;
        rx.recv().ok()
    }

    /// Cancels the command that `origin` is running (Ctrl-C, telnet interrupt, GDB Ctrl-C
    /// during `monitor`) and its lines waiting in the queue; also stops a script it runs.
    /// Works from any thread. Returns whether something was cancelled.
    pub fn interrupt(&self, origin: Origin) -> bool {
        self.host.jobs().interrupt(origin)
    }
}

/// Starts the host thread.
pub fn spawn(host: Host) -> (HostHandle, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Request>();
    host.jobs().attach(rx);
    let h = host.clone();
    let join = std::thread::Builder::new()
        .name("stdbg-host".into())
        .stack_size(HOST_STACK_BYTES)
        .spawn(move || run(h))
        .expect("spawning the host thread");
    (HostHandle { tx, host }, join)
}

/// Executes one line on the current thread (the host thread, or a test).
pub fn execute(
    host: &Host,
    line: &str,
    origin: Origin,
    out: &mut dyn Output,
) -> (Result<(), String>, bool) {
    let mut ctx = Ctx::new(host, origin, out);
    let r = command::dispatch(&mut ctx, line);
    let close = ctx.close_session;
    (r.map_err(|e| e.to_string()), close)
}

/// Runs one request on the current thread (the host thread), as a job of its own (see
/// [`super::jobs`]).
pub fn handle(host: &Host, req: Request) {
    match req {
        Request::Exec {
            line,
            origin,
            reply,
            to_stdout,
        } => {
            let _job = host.jobs().begin(origin, &line);
            let (result, close) = if to_stdout {
                execute(host, &line, origin, &mut StdoutOutput)
            } else {
                execute(host, &line, origin, &mut ChannelOutput(reply.clone()))
            };
            let _ = reply.send(Reply::Done { result, close });
        }
        Request::Call { f, .. } => f(host),
    }
}

fn run(host: Host) {
    loop {
        let timeout = if host.any_target_running() {
            // `poll_period` (OpenOCD's setting), 1 ms at least.
            Duration::from_millis(host.config().compat.poll_period_ms.max(1))
        } else {
            Duration::from_millis(500)
        };
        // RTT polls at its own interval (host/rtt.rs).
        let timeout = host.rtt_poll_timeout(timeout);
        match host.jobs().next(timeout) {
            Ok(req) => handle(&host, req),
            Err(false) => host.poll_targets(),
            Err(true) => break,
        }
        if host.shutdown_requested().is_some() {
            host.events().send(HostEvent::Shutdown);
            // Answer what is still queued so callers get their Done.
            while let Ok(req) = host.jobs().next(Duration::ZERO) {
                if let Request::Exec { reply, .. } = req {
                    let _ = reply.send(Reply::Done {
                        result: Err("shutdown in progress".into()),
                        close: true,
                    });
                }
            }
            break;
        }
    }
    host.jobs().close();
    host.disconnect();
}
