//! Logging: OpenOCD-style lines (`Info : …`, `Warn : …`, `Error: …`, `Debug: …`) on stderr or
//! the `-l` file, mirrored to the event bus so telnet consoles see them too.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
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
    max: Level,
    to_stderr: bool,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    bus: Arc<OnceLock<EventBus>>,
    /// Extra filter for third-party crates: they log at debug/trace only when `-d4`.
    verbose_deps: bool,
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}

impl<S: Subscriber> Layer<S> for OcdLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > self.max {
            return;
        }
        let ours = meta.target().starts_with("stdbg");
        if !ours && !self.verbose_deps && *meta.level() > Level::WARN {
            return;
        }
        let mut v = MessageVisitor(String::new());
        event.record(&mut v);
        let line = format!("{}: {}", prefix(meta.level()), v.0);
        if self.to_stderr && PROMPT_ACTIVE.load(Ordering::SeqCst) {
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
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
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
    let out: Box<dyn Write + Send> = match file {
        Some(p) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?,
        ),
        None => Box::new(std::io::stderr()),
    };
    let bus = Arc::new(OnceLock::new());
    let layer = OcdLayer {
        max: level_for(debug),
        to_stderr: file.is_none(),
        out: Arc::new(Mutex::new(out)),
        bus: bus.clone(),
        verbose_deps: debug >= 4,
    };
    let _ = tracing_subscriber::registry().with(layer).try_init();
    Ok(bus)
}
