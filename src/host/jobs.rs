//! Long commands that let the other front ends in, and cancelling a running command.
//!
//! Every command runs on the one host thread ([`super::worker`]). A command that waits
//! (`sleep`, `wait_halt`) does not block that thread: it waits in [`Host::pause`], which serves
//! the requests of the other front ends meanwhile (a telnet line, a GDB packet's target access,
//! a REPL line), each as a job of its own on top of the waiting one, up to [`MAX_NESTED_JOBS`]
//! deep (deeper requests wait in a queue until a level is free). A command that holds the probe
//! for a long time (`doctor`, a flash write) cannot let others touch the target: at its
//! checkpoints ([`Host::checkpoint`]) the lines of other consoles are queued and told so at once
//! ("queued: … is running"), and GDB's target accesses are answered "busy" so that GDB gets an
//! error instead of a timeout.
//!
//! Ctrl-C in the REPL, the telnet interrupt (IAC IP or ^C) and GDB's Ctrl-C during `monitor`
//! cancel the command of that console ([`Jobs::interrupt`]): `sleep` and `wait_halt` end at
//! once with "cancelled", a script stops at its next operation, `doctor` at its next check. A
//! flash write is not cancelled halfway (that would leave erased pages): it says so and ends.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::Host;
use super::worker::{Reply, Request};
use crate::command::{CommandError, Origin};

/// How many jobs may run inside each other on the host thread (the outermost one waiting in
/// `sleep`, another console's command on top of it, …). Further requests are queued.
pub const MAX_NESTED_JOBS: usize = 4;

/// Longest `sleep`/`wait_halt`/`halt` time a command accepts: one day, in ms.
pub const MAX_WAIT_MS: u64 = 24 * 60 * 60 * 1000;

/// A command running on the host thread.
#[derive(Debug, Clone)]
pub struct Job {
    /// The console it came from.
    pub origin: Origin,
    /// Its command line (shortened), for "busy" messages.
    pub line: String,
    /// When it started.
    pub started: Instant,
    /// Set to cancel it.
    pub cancel: Arc<AtomicBool>,
    /// Set while it holds the probe and must not be interleaved (`doctor`, a flash write).
    pub exclusive: Option<String>,
}

/// The request queue of the host thread and the jobs running on it.
#[derive(Default)]
pub struct Jobs {
    rx: Mutex<Option<Receiver<Request>>>,
    queued: Mutex<VecDeque<Request>>,
    stack: Mutex<Vec<Job>>,
    /// Set when some job was cancelled (cheap to test on every script operation).
    signal: Arc<AtomicBool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A short form of a command line for messages.
fn shorten(line: &str) -> String {
    let one: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(60).collect::<String>())
    } else {
        one
    }
}

/// How a console is named in messages.
pub fn origin_words(o: Origin) -> String {
    match o {
        Origin::Cli => "the command line".into(),
        Origin::Script => "a script".into(),
        Origin::Repl => "the local console".into(),
        Origin::Telnet(n) => format!("telnet console {n}"),
        Origin::Gdb(n) => format!("GDB connection {n}"),
        Origin::Tcl(n) => format!("Tcl connection {n}"),
    }
}

impl Jobs {
    /// Gives the queue its receiver (done once by [`super::worker::spawn`]).
    pub fn attach(&self, rx: Receiver<Request>) {
        *lock(&self.rx) = Some(rx);
    }

    /// Drops the receiver and the queue when the host thread ends, so that senders see the
    /// host is gone (instead of waiting for a reply that never comes).
    pub fn close(&self) {
        lock(&self.rx).take();
        lock(&self.queued).clear();
    }

    /// The flag set while some job is cancelled (for the script engine's progress check).
    pub fn signal(&self) -> Arc<AtomicBool> {
        self.signal.clone()
    }

    /// The next request: a queued one first, else one from the channel within `timeout`.
    /// `Err(true)`: the channel is closed; `Err(false)`: nothing came.
    pub fn next(&self, timeout: Duration) -> Result<Request, bool> {
        if let Some(r) = lock(&self.queued).pop_front() {
            return Ok(r);
        }
        let g = lock(&self.rx);
        let Some(rx) = g.as_ref() else {
            return Err(true);
        };
        match rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => Err(false),
            Err(RecvTimeoutError::Disconnected) => Err(true),
        }
    }

    /// A request from the channel, if one is there now (the queue is not looked at).
    fn try_channel(&self) -> Option<Request> {
        lock(&self.rx).as_ref()?.try_recv().ok()
    }

    /// Puts a request back at the end of the queue.
    fn queue(&self, r: Request) {
        lock(&self.queued).push_back(r);
    }

    /// Requests waiting in the queue (not yet taken from it).
    pub fn queued_len(&self) -> usize {
        lock(&self.queued).len()
    }

    /// The running jobs, outermost first.
    pub fn running(&self) -> Vec<Job> {
        lock(&self.stack).clone()
    }

    /// Starts a job (the guard ends it).
    pub fn begin(&self, origin: Origin, line: &str) -> JobGuard<'_> {
        lock(&self.stack).push(Job {
            origin,
            line: shorten(line),
            started: Instant::now(),
            cancel: Arc::new(AtomicBool::new(false)),
            exclusive: None,
        });
        JobGuard(self)
    }

    fn end(&self) {
        let mut s = lock(&self.stack);
        s.pop();
        let any = s.iter().any(|j| j.cancel.load(Ordering::SeqCst));
        self.signal.store(any, Ordering::SeqCst);
    }

    /// Cancels the innermost running job of `origin`, and drops the lines of that console that
    /// wait in the queue (each gets "cancelled"). Returns whether anything was cancelled.
    pub fn interrupt(&self, origin: Origin) -> bool {
        let mut hit = false;
        if let Some(j) = lock(&self.stack).iter().rev().find(|j| j.origin == origin) {
            j.cancel.store(true, Ordering::SeqCst);
            self.signal.store(true, Ordering::SeqCst);
            hit = true;
        }
        let mut q = lock(&self.queued);
        let before = q.len();
        q.retain(|r| match r {
            Request::Exec {
                origin: o, reply, ..
            } if *o == origin => {
                let _ = reply.send(Reply::Done {
                    result: Err("cancelled (interrupted while it waited in the queue)".into()),
                    close: false,
                });
                false
            }
            _ => true,
        });
        hit || q.len() != before
    }

    /// Whether the job running right now (the innermost) was cancelled.
    pub fn cancelled(&self) -> bool {
        if !self.signal.load(Ordering::SeqCst) {
            return false;
        }
        lock(&self.stack)
            .last()
            .is_some_and(|j| j.cancel.load(Ordering::SeqCst))
    }

    /// Marks the innermost job exclusive (`what`: e.g. "doctor") until the guard drops.
    pub fn exclusive(&self, what: &str) -> ExclusiveGuard<'_> {
        let prev = lock(&self.stack)
            .last_mut()
            .map(|j| j.exclusive.replace(what.to_string()));
        ExclusiveGuard(self, prev.flatten())
    }

    /// The outermost exclusive job, if one runs.
    fn exclusive_job(&self) -> Option<Job> {
        lock(&self.stack)
            .iter()
            .find(|j| j.exclusive.is_some())
            .cloned()
    }

    fn depth(&self) -> usize {
        lock(&self.stack).len()
    }
}

/// Ends a job when dropped.
pub struct JobGuard<'a>(&'a Jobs);

impl Drop for JobGuard<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// Ends an exclusive section when dropped.
pub struct ExclusiveGuard<'a>(&'a Jobs, Option<String>);

impl Drop for ExclusiveGuard<'_> {
    fn drop(&mut self) {
        if let Some(j) = lock(&self.0.stack).last_mut() {
            j.exclusive = self.1.take();
        }
    }
}

/// The error of a cancelled command.
pub fn cancelled_error(what: &str) -> CommandError {
    CommandError::failed(format!("{what} cancelled (interrupted by the user)"))
}

impl Host {
    /// The request queue and the running jobs.
    pub fn jobs(&self) -> &Jobs {
        &self.inner.jobs
    }

    /// Whether the command running now was cancelled (Ctrl-C, telnet interrupt).
    pub fn cancelled(&self) -> bool {
        self.jobs().cancelled()
    }

    /// Waits `d` without blocking the other front ends: serves their requests meanwhile (see the
    /// module documentation) and polls running targets. Ends early with an error when this
    /// command is cancelled or the host shuts down.
    pub fn pause(&self, what: &str, d: Duration) -> Result<(), CommandError> {
        let end = Instant::now() + d;
        loop {
            if self.cancelled() {
                return Err(cancelled_error(what));
            }
            if self.shutdown_requested().is_some() {
                return Err(CommandError::failed(format!(
                    "{what} ended: stdbg is shutting down"
                )));
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            self.serve_one(left.min(super::worker::POLL_INTERVAL));
            self.poll_targets();
        }
    }

    /// Waits up to `timeout` for one request of another front end and runs it as a nested job
    /// (or queues it when [`MAX_NESTED_JOBS`] are running).
    fn serve_one(&self, timeout: Duration) {
        let req = match self.jobs().next(timeout) {
            Ok(r) => r,
            // No host thread queue (a command run directly, e.g. by a test): just wait.
            Err(true) => return std::thread::sleep(timeout),
            Err(false) => return,
        };
        if self.jobs().depth() >= MAX_NESTED_JOBS {
            self.jobs().queue(req);
            // Do not spin on the queue: wait the rest of the slice.
            std::thread::sleep(timeout);
            return;
        }
        let chain = crate::command::nesting::take();
        super::worker::handle(self, req);
        crate::command::nesting::restore(chain);
    }

    /// For commands that hold the probe (`doctor`, flash writes): tells the other front ends'
    /// requests that arrived meanwhile that they wait (command lines are queued and run when the
    /// command ends; GDB's target accesses are answered "busy" at once). Fails when this command
    /// was cancelled and `cancellable` is set.
    pub fn checkpoint(&self, cancellable: bool) -> Result<(), CommandError> {
        let job = self.jobs().exclusive_job();
        let busy = match &job {
            Some(j) => format!(
                "stdbg is busy: '{}' from {} has been running for {:.1} s",
                j.line,
                origin_words(j.origin),
                j.started.elapsed().as_secs_f32()
            ),
            None => "stdbg is busy".into(),
        };
        while let Some(req) = self.jobs().try_channel() {
            match req {
                Request::Exec {
                    line,
                    origin,
                    reply,
                    to_stdout,
                } => {
                    let _ = reply.send(Reply::Line(format!(
                        "({busy}; this line runs when it ends)"
                    )));
                    self.jobs().queue(Request::Exec {
                        line,
                        origin,
                        reply,
                        to_stdout,
                    });
                }
                Request::Call { f, busy: Some(b) } => {
                    drop(f);
                    b(busy.clone());
                }
                other => self.jobs().queue(other),
            }
        }
        if cancellable && self.cancelled() {
            return Err(cancelled_error(
                &job.map(|j| format!("'{}'", j.line))
                    .unwrap_or_else(|| "the command".into()),
            ));
        }
        Ok(())
    }
}
