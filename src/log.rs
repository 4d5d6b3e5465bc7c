//! Logging: OpenOCD-style lines (`Info : …`, `Warn : …`, `Error: …`, `Debug: …`) on stderr or
//! the `-l` file, mirrored to the event bus so telnet consoles see them too.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::host::{EventBus, HostEvent};

/// Maps OpenOCD's `-d` levels (0 error, 1 warn, 2 info, 3 debug, 4 low-level I/O) onto tracing.
pub fn level_for(debug: u8) -> Level {
    match debug {
        0 => Level::ERROR,
        1 => Level::WARN,
        2 => Level::INFO,
        3 => Level::DEBUG,
        _ => Level::TRACE,
    }
}

/// OpenOCD's prefix for a level.
pub fn prefix(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "Error",
        Level::WARN => "Warn ",
        Level::INFO => "Info ",
        Level::DEBUG => "Debug",
        Level::TRACE => "Trace",
    }
}

/// Where log lines go while the REPL shows its prompt (rustyline's external printer), so they
/// are printed above the prompt instead of through it.
type PromptSink = Box<dyn FnMut(String) + Send>;

static PROMPT_SINK: Mutex<Option<PromptSink>> = Mutex::new(None);
static PROMPT_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Installs (or removes) the REPL's printer for log lines.
pub fn set_prompt_sink(sink: Option<PromptSink>) {
    *PROMPT_SINK.lock().unwrap_or_else(|e| e.into_inner()) = sink;
}

/// Tells the logger whether the REPL is waiting at its prompt (lines then go to the prompt
/// sink) or running a command (lines go to stderr directly, in order with the output).
pub fn set_prompt_active(active: bool) {
    PROMPT_ACTIVE.store(active, Ordering::SeqCst);
}

/// A tracing layer writing OpenOCD-style lines.
pub struct OcdLayer {
    bus: Arc<OnceLock<EventBus>>,
}

/// The `-d` level (`debug_level`), 0-4.
static DEBUG_LEVEL: AtomicU8 = AtomicU8::new(2);
/// The log file (`-l`, `log_output`); `None` = stderr.
static LOG_FILE: Mutex<Option<Box<dyn Write + Send>>> = Mutex::new(None);

thread_local! {
    /// Log lines captured by `capture` on this thread (the host thread), innermost last.
    static CAPTURE: std::cell::RefCell<Vec<Vec<String>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Starts capturing the log lines this thread emits (OpenOCD's `capture` returns them with the
/// command's output); they are still logged as usual. Pair with [`capture_end`].
pub fn capture_begin() {
    CAPTURE.with(|c| c.borrow_mut().push(Vec::new()));
}

/// Ends the innermost [`capture_begin`] and returns its lines (`Info : …` form).
pub fn capture_end() -> Vec<String> {
    CAPTURE.with(|c| c.borrow_mut().pop().unwrap_or_default())
}

/// Sets the log level at run time (`debug_level N`, OpenOCD's 0-4).
pub fn set_debug_level(level: u8) {
    DEBUG_LEVEL.store(level.min(4), Ordering::SeqCst);
}

/// The current `-d` level.
pub fn debug_level() -> u8 {
    DEBUG_LEVEL.load(Ordering::SeqCst)
}

/// Sends the log to `file` (appending), or back to stderr for `None` (`log_output`).
///
/// # Errors
/// The file cannot be opened for appending.
pub fn set_output(file: Option<&std::path::Path>) -> std::io::Result<()> {
    let out: Option<Box<dyn Write + Send>> = match file {
        Some(p) => Some(Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?,
        )),
        None => None,
    };
    *LOG_FILE.lock().unwrap_or_else(|e| e.into_inner()) = out;
    Ok(())
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        } else if !field.name().starts_with("log.") {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        } else if !field.name().starts_with("log.") {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}

/// A log message fit for users: without the `Stack backtrace:` that `anyhow` appends to the
/// `{:?}` form of its errors when `RUST_BACKTRACE`/`RUST_LIB_BACKTRACE` is set (probe-rs logs
/// some errors that way), with an `anyhow` "Caused by:" list folded into one `a: b: c` line, and
/// without upstream bug-report links. The `log.target`/`log.file`/… fields that the `log` bridge
/// adds to third-party records are dropped by the visitor above.
pub fn clean_message(msg: &str) -> String {
    let mut text = match msg.find("Stack backtrace:") {
        Some(i) => msg[..i].trim_end().to_string(),
        None => msg.to_string(),
    };
    if let Some(i) = text.find("\n\nCaused by:") {
        let (head, causes) = text.split_at(i);
        let mut line = head.trim_end().trim_end_matches(['.', ':']).to_string();
        for c in causes.lines() {
            let c = c.trim();
            if c == "Caused by:" {
                continue;
            }
            let c = c
                .split_once(": ")
                .filter(|(n, _)| n.parse::<u32>().is_ok())
                .map_or(c, |(_, r)| r);
            if !c.is_empty() {
                line.push_str(": ");
                line.push_str(c.trim_end_matches('.'));
            }
        }
        text = line;
    }
    text = crate::diagnose::plain_words(&text);
    // probe-rs prints some errors with `{:?}` (`Arm(Dap(NoAcknowledge))`): in words.
    for (rust, words) in [
        ("Arm(Dap(NoAcknowledge))", "no ACK from the SW-DP"),
        (
            "Arm(Dap(FaultResponse))",
            "FAULT response from the debug port",
        ),
        (
            "Arm(Dap(WaitResponse))",
            "WAIT response from the debug port",
        ),
        (
            "Arm(WrongApType)",
            "the access port did not answer as a memory AP",
        ),
        ("NoAcknowledge", "no ACK from the SW-DP"),
    ] {
        text = text.replace(rust, words);
    }
    // Drop the sentence that sends users to an upstream bug tracker.
    for marker in ["file an issue", "https://github.com/"] {
        if let Some(i) = text.find(marker) {
            let start = text[..i].rfind(['.', '!', ';']).map_or(0, |j| j + 1);
            text.truncate(start);
            text = text.trim_end().to_string();
        }
    }
    text
}

impl<S: Subscriber> Layer<S> for OcdLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let debug = debug_level();
        if *meta.level() > level_for(debug) {
            return;
        }
        // Third-party crates log at debug/trace only with -d4.
        let verbose_deps = debug >= 4;
        let ours = meta.target().starts_with("stdbg");
        if !ours && !verbose_deps && *meta.level() > Level::WARN {
            return;
        }
        let mut v = MessageVisitor(String::new());
        event.record(&mut v);
        if !ours {
            // probe-rs logs the halt timeout of its attach under reset as an error before it
            // returns it; the connect ladder explains and recovers it (host/connection.rs).
            if !verbose_deps && v.0.starts_with("Unable to wait for ") {
                return;
            }
            // probe-rs's own state note after a resume it did not make (`cortex_m maskisr on`
            // resumes with C_MASKINTS set through DHCSR); stdbg tracks the state itself.
            if !verbose_deps && v.0 == "Core is running, but we expected it to be halted" {
                return;
            }
            v.0 = clean_message(&v.0);
        }
        let line = format!("{}: {}", prefix(meta.level()), v.0);
        CAPTURE.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut()
                && let Some(top) = c.last_mut()
            {
                top.push(line.clone());
            }
        });
        let mut file = LOG_FILE.lock().unwrap_or_else(|e| e.into_inner());
        if file.is_none() && PROMPT_ACTIVE.load(Ordering::SeqCst) {
            let mut sink = PROMPT_SINK.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(sink) = sink.as_mut() {
                sink(line);
                if let Some(bus) = self.bus.get() {
                    bus.send(HostEvent::Log {
                        level: prefix(meta.level()).trim(),
                        message: v.0,
                    });
                }
                return;
            }
        }
        match file.as_mut() {
            Some(out) => {
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            None => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{line}");
                let _ = err.flush();
            }
        }
        drop(file);
        if let Some(bus) = self.bus.get() {
            bus.send(HostEvent::Log {
                level: prefix(meta.level()).trim(),
                message: v.0,
            });
        }
    }
}

/// Installs the global subscriber. Returns the slot where the host's event bus goes once it
/// exists.
pub fn init(debug: u8, file: Option<&std::path::Path>) -> std::io::Result<Arc<OnceLock<EventBus>>> {
    use tracing_subscriber::prelude::*;
    set_output(file)?;
    set_debug_level(debug);
    let bus = Arc::new(OnceLock::new());
    let layer = OcdLayer { bus: bus.clone() };
    let _ = tracing_subscriber::registry().with(layer).try_init();
    Ok(bus)
}

#[cfg(test)]
mod tests {
    use super::clean_message;

    #[test]
    fn anyhow_backtraces_and_cause_lists_are_folded() {
        let msg = "Could not clear all hardware breakpoints: An ARM specific error occurred.\n\nCaused by:\n    0: An error occurred in the communication with an access port or debug port.\n    1: Target device did not respond to request.\n\nStack backtrace:\n   0: anyhow::error::from\n   1: drop";
        assert_eq!(
            clean_message(msg),
            "Could not clear all hardware breakpoints: An ARM specific error occurred: An error occurred in the communication with an access port or debug port: Target device did not respond to request"
        );
        assert_eq!(
            clean_message(
                "Client sent an unexpected packet. This should never happen! Please re-run with `log` trace-level logging enabled and file an issue at https://github.com/daniel5151/gdbstub/issues"
            ),
            "Client sent an unexpected packet. This should never happen!"
        );
        assert_eq!(
            clean_message("Failed to deconfigure device during shutdown: Arm(Dap(NoAcknowledge))"),
            "Failed to deconfigure device during shutdown: no ACK from the SW-DP"
        );
    }
}
