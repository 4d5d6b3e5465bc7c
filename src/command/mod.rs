//! The one command dispatcher shared by every front end: `-c`, scripts (`cmd()` and the
//! per-command Rhai functions), the REPL, the telnet console and GDB `monitor`.
//!
//! A line is split into commands and words by [`parse`], each command is looked up in the
//! [`Registry`] (longest match of its first words, so `flash banks` is its own command) and its
//! handler runs on the host thread with a [`Ctx`] that collects its output lines. Results and
//! errors are therefore identical whatever the front end.

pub mod builtin;
pub mod format;
pub mod nesting;
pub mod parse;
pub mod range;
pub mod registry;
pub mod suggest;

use std::sync::Arc;

use thiserror::Error;

use crate::host::Host;
pub use registry::{CommandSpec, Handler, Mode, Registry};

/// Where a command line came from. Front ends differ only in where the output goes and in what
/// `exit` means; the command semantics are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// `-c` on the command line or a `-f` script at start-up.
    Cli,
    /// A Rhai script (`cmd("…")` or a command function).
    Script,
    /// The local REPL.
    Repl,
    /// A telnet console; the number identifies the connection.
    Telnet(u64),
    /// A GDB `monitor` command; the number identifies the connection.
    Gdb(u64),
    /// The Tcl RPC port (`tcl_port`); the number identifies the connection.
    Tcl(u64),
}

/// Receives a command's output, line by line, as it is produced.
pub trait Output: Send {
    /// One line of command output, without its line terminator.
    fn line(&mut self, line: &str);
}

/// An [`Output`] that collects the lines (used by `cmd()` in scripts and by tests).
#[derive(Debug, Default, Clone)]
pub struct Collect(pub Vec<String>);

impl Output for Collect {
    fn line(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
}

impl Collect {
    /// The collected lines joined with `\n` (no trailing newline).
    pub fn text(&self) -> String {
        self.0.join("\n")
    }
}

/// What a command handler gets: the host, the output sink and the origin of the line.
pub struct Ctx<'a> {
    /// The debug host (adapter, targets, session, scripts, servers).
    pub host: &'a Host,
    /// Where the line came from.
    pub origin: Origin,
    out: &'a mut dyn Output,
    /// Set by `exit`: the front end closes this console session after the line.
    pub close_session: bool,
}

impl<'a> Ctx<'a> {
    /// A context writing to `out`.
    pub fn new(host: &'a Host, origin: Origin, out: &'a mut dyn Output) -> Self {
        Ctx {
            host,
            origin,
            out,
            close_session: false,
        }
    }

    /// Writes one output line (a `\n` inside `text` starts further lines).
    pub fn println(&mut self, text: impl AsRef<str>) {
        for l in text.as_ref().split('\n') {
            self.out.line(l);
        }
    }

    /// Runs a nested command line (e.g. `program` running `reset init`) with the same output and
    /// origin.
    pub fn run(&mut self, line: &str) -> Result<(), CommandError> {
        let host = self.host;
        let origin = self.origin;
        let mut sub = Ctx {
            host,
            origin,
            out: &mut *self.out,
            close_session: false,
        };
        let r = dispatch(&mut sub, line);
        self.close_session |= sub.close_session;
        r
    }
}

/// Why a command failed. The message says what happened, the likely cause and what to do.
#[derive(Debug, Error)]
pub enum CommandError {
    /// The first word names no command.
    #[error("invalid command name \"{name}\"{}", suggestion_text(.suggestion))]
    InvalidCommand {
        /// The word as typed.
        name: String,
        /// The closest known command, if one is close enough.
        suggestion: Option<String>,
    },
    /// The line could not be split into words.
    #[error(transparent)]
    Parse(#[from] parse::ParseError),
    /// Wrong number or kind of arguments; carries the command's usage line.
    #[error("{}wrong arguments for '{name}'\nUsage: {name} {usage}", detail_text(.detail))]
    Usage {
        /// The command's full name (e.g. `flash erase_sector`).
        name: String,
        /// Its usage text.
        usage: String,
        /// What exactly was wrong, when known (e.g. `"0x8g" is not a number`).
        detail: Option<String>,
    },
    /// A configuration command used after `init`.
    #[error("The '{name}' command must be used before 'init'.")]
    ConfigOnly {
        /// The command name.
        name: String,
    },
    /// A command that needs a connected target used before `init`.
    #[error("'{name}' needs a connected target: run 'init' first (or put it after 'init' in -c)")]
    NeedsInit {
        /// The command name.
        name: String,
    },
    /// The command ran and failed; the text is the complete message.
    #[error("{0}")]
    Failed(String),
    /// `shutdown error` was requested: the process exits with status 1.
    #[error("shutdown command invoked")]
    ShutdownError,
}

fn suggestion_text(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("; did you mean \"{s}\"? ('help' lists all commands)"),
        None => "; 'help' lists all commands".to_string(),
    }
}

fn detail_text(d: &Option<String>) -> String {
    match d {
        Some(d) => format!("{d}\n"),
        None => String::new(),
    }
}

impl CommandError {
    /// A failure with a complete message.
    pub fn failed(msg: impl Into<String>) -> Self {
        CommandError::Failed(msg.into())
    }
}

/// Runs every command of `line` in order, stopping at the first error.
///
/// A line typed at a console or given to `-c` that has a Tcl substitution (`$var`, `[…]`)
/// outside braces is evaluated by Tcl as a whole, as OpenOCD evaluates it (its dispatcher words
/// still run here); Rhai's `cmd()` lines and `eval "<Rhai code>"` are taken literally.
pub fn dispatch(ctx: &mut Ctx<'_>, line: &str) -> Result<(), CommandError> {
    // `eval "<Rhai code>"` is stdbg's own: its text (`[1, 2]`, `x[0]`) is Rhai, not Tcl.
    let first = line.split_whitespace().next().unwrap_or("");
    if ctx.origin != Origin::Script && first != "eval" && crate::script::tcl::has_substitution(line)
    {
        return crate::script::tcl::eval_line(ctx, line);
    }
    let commands = parse::split_commands(line)?;
    for words in commands {
        dispatch_words(ctx, &words)?;
    }
    Ok(())
}

/// Runs one command given as words (`words[0]` is the command name).
pub fn dispatch_words(ctx: &mut Ctx<'_>, words: &[String]) -> Result<(), CommandError> {
    if words.is_empty() {
        return Ok(());
    }
    let (spec, consumed) = {
        let reg = ctx.host.registry();
        match reg.lookup(words) {
            Some((spec, n)) => (spec.clone(), n),
            None => {
                drop(reg);
                if let Some(r) = builtin::trace::dispatch_object(ctx, words) {
                    return r; // <tpiu> configure|cget|enable|disable
                }
                if let Some(r) = dispatch_on_named(ctx, words) {
                    return r;
                }
                // A Tcl proc (cortex-debug's CDLiveWatchSetup) or Tcl command (`proc`, `expr`).
                if let Some(r) = crate::script::tcl::call(ctx, words) {
                    return r;
                }
                let reg = ctx.host.registry();
                // A known group word with an unknown subcommand gets the group's usage.
                if let Some(group) = reg.group_usage(&words[0]) {
                    let sub = words.get(1).cloned();
                    return Err(CommandError::Usage {
                        name: words[0].clone(),
                        usage: group,
                        detail: sub.map(|s| format!("'{}' has no subcommand '{s}'", words[0])),
                    });
                }
                return Err(CommandError::InvalidCommand {
                    name: words[0].clone(),
                    suggestion: suggest::closest(&words[0], reg.names()),
                });
            }
        }
    };
    let initialized = ctx.host.initialized();
    match spec.mode {
        Mode::Config if initialized => {
            return Err(CommandError::ConfigOnly {
                name: spec.name.clone(),
            });
        }
        Mode::Exec if !initialized => {
            return Err(CommandError::NeedsInit {
                name: spec.name.clone(),
            });
        }
        _ => {}
    }
    let args = &words[consumed..];
    tracing::debug!(target: "stdbg::command", "{} {:?}", spec.name, args);
    let _level = nesting::enter(format!("command '{}'", spec.name))?;
    (spec.handler)(ctx, args).map_err(|e| match e {
        // Fill in the usage line for handlers that only say "wrong arguments".
        CommandError::Usage {
            name,
            usage,
            detail,
        } if usage.is_empty() => CommandError::Usage {
            name: if name.is_empty() {
                spec.name.clone()
            } else {
                name
            },
            usage: spec.usage.clone(),
            detail,
        },
        other => other,
    })
}

/// OpenOCD's object commands: `<target> <command…>` (e.g. `stm32h7x.ap2 mdw 0xe00e1000`)
/// runs the command with that target current, then restores the current target;
/// `<target> curstate` prints its state; `<dap> <subcommand…>` (e.g. `stm32h7x.dap apcsw`)
/// runs `dap <subcommand…>` with the first target on that DAP current. `None` when
/// `words[0]` names neither.
fn dispatch_on_named(ctx: &mut Ctx<'_>, words: &[String]) -> Option<Result<(), CommandError>> {
    let (idx, rest, state) = {
        let t = ctx.host.targets();
        if let Some(i) = t.list.iter().position(|d| d.name == words[0]) {
            (i, words[1..].to_vec(), t.list[i].state)
        } else {
            let i = t.list.iter().position(|d| d.dap == words[0])?;
            let mut rest = vec!["dap".to_string()];
            rest.extend_from_slice(&words[1..]);
            (i, rest, t.list[i].state)
        }
    };
    match rest.first().map(String::as_str) {
        None => {
            return Some(Err(CommandError::failed(format!(
                "'{}' needs a command after it, e.g. `{} mdw 0x20000000` or `{} curstate`",
                words[0], words[0], words[0]
            ))));
        }
        Some("curstate") if rest.len() == 1 => {
            ctx.println(state.as_str());
            return Some(Ok(()));
        }
        Some("configure" | "cget") if rest[0] != "dap" => {
            let name = ctx.host.targets().list[idx].name.clone();
            return Some(builtin::target_obj::configure_or_cget(ctx, &name, &rest));
        }
        _ => {}
    }
    let prev = std::mem::replace(&mut ctx.host.targets().current, idx);
    let r = dispatch_words(ctx, &rest);
    let mut t = ctx.host.targets();
    if prev < t.list.len() {
        t.current = prev;
    }
    Some(r)
}

/// Shorthand for handlers: a usage error with an explanation; the dispatcher fills in the name
/// and usage line.
pub fn usage_error(detail: impl Into<String>) -> CommandError {
    CommandError::Usage {
        name: String::new(),
        usage: String::new(),
        detail: Some(detail.into()),
    }
}

/// Shorthand for handlers: a bare usage error.
pub fn bad_args() -> CommandError {
    CommandError::Usage {
        name: String::new(),
        usage: String::new(),
        detail: None,
    }
}

/// Builds a command specification (see [`CommandSpec`]).
pub fn command(
    name: &str,
    mode: Mode,
    usage: &str,
    help: &str,
    handler: impl Fn(&mut Ctx<'_>, &[String]) -> Result<(), CommandError> + Send + Sync + 'static,
) -> CommandSpec {
    CommandSpec {
        name: name.to_string(),
        mode,
        usage: usage.to_string(),
        help: help.to_string(),
        handler: Arc::new(handler),
    }
}
