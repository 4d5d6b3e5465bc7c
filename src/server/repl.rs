//! The local REPL: a rustyline console on the terminal stdbg was started from.
//!
//! [`crate::server::serve`] starts it on its own thread when stdin is a terminal. The prompt is
//! `> `; every line goes through the host thread ([`HostHandle::exec_blocking`] with
//! [`Origin::Repl`]) exactly as `-c` and telnet lines do, so the output is identical: command
//! output on stdout, an error as `Error: <message>` on stderr. Tab completes command names (the
//! second word of multi-word commands such as `flash write_image` too). Target state changes
//! caused by another console (a breakpoint hit, a `halt` over telnet) are printed above the
//! prompt through rustyline's external printer. Ctrl-C clears the line; Ctrl-D (end of input),
//! `exit` and `shutdown` shut the host down (this console is the one the process was started
//! from). History persists in [`history_path`]; failing to read or write it is a warning.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{
    CompletionType, Config, Context, Editor, ExternalPrinter, Helper, Highlighter, Hinter,
    Validator,
};

use crate::cli::print_error;
use crate::command::Origin;
use crate::host::worker::HostHandle;
use crate::host::{Host, HostEvent};

/// History lines kept in the history file.
pub const HISTORY_SIZE: usize = 1000;

/// Set while the REPL thread waits in `readline` (then SIGINT makes rustyline return, see
/// [`stop`]).
static IN_READLINE: AtomicBool = AtomicBool::new(false);

/// Completion candidates for the command line `before` (the text before the cursor), from the
/// command names `names` (full names, multi-word ones separated by one space).
///
/// Returns the byte offset in `before` where the word being completed starts, and the full
/// words that can replace it, sorted and without duplicates. The first word of a command (after
/// the start of the line or a `;`) completes to top-level words; the second word completes to
/// the sub-commands of the first (`flash w` → `write_image`, …). Further words get nothing.
pub fn complete_command<'a>(
    names: impl Iterator<Item = &'a str>,
    before: &str,
) -> (usize, Vec<String>) {
    let seg_start = before.rfind(';').map(|i| i + 1).unwrap_or(0);
    let seg = &before[seg_start..];
    let words: Vec<&str> = seg.split_whitespace().collect();
    let at_word_start = seg.trim().is_empty() || seg.ends_with(char::is_whitespace);
    let (index, prefix) = if at_word_start {
        (words.len(), "")
    } else {
        (words.len() - 1, *words.last().unwrap_or(&""))
    };
    let start = before.len() - prefix.len();
    let mut cands: Vec<String> = match index {
        0 => names
            .filter_map(|n| n.split(' ').next())
            .filter(|w| w.starts_with(prefix))
            .map(str::to_string)
            .collect(),
        1 => names
            .filter_map(|n| {
                let mut it = n.split(' ');
                let (first, second) = (it.next()?, it.next()?);
                (first == words[0] && second.starts_with(prefix)).then(|| second.to_string())
            })
            .collect(),
        _ => Vec::new(),
    };
    cands.sort();
    cands.dedup();
    (start, cands)
}

/// The history file: `$XDG_STATE_HOME/stdbg/history`, else `~/.local/state/stdbg/history`.
/// `None` when neither variable is set.
pub fn history_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".local/state")
        }
    };
    Some(base.join("stdbg").join("history"))
}

/// The rustyline helper: command-name completion.
#[derive(Helper, Hinter, Validator, Highlighter)]
struct ReplHelper {
    host: Host,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let (start, cands) = {
            let reg = self.host.registry();
            complete_command(reg.names(), before)
        };
        let unique = cands.len() == 1;
        let pairs = cands
            .into_iter()
            .map(|c| Pair {
                replacement: if unique { format!("{c} ") } else { c.clone() },
                display: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

/// Runs `line` as the REPL does; returns whether the REPL should end.
fn run_line(handle: &HostHandle, line: &str) -> bool {
    let (result, close) = handle.exec_blocking(line, Origin::Repl, |l| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{l}");
        let _ = out.flush();
    });
    if let Err(e) = result
        && !(handle.host().shutdown_requested().is_some() && e == "shutdown command invoked")
    {
        print_error(&e);
    }
    close || handle.host().shutdown_requested().is_some()
}

/// Prints target events caused by other consoles until the host shuts down. Log lines reach
/// the same printer through `crate::log::set_prompt_sink` while the prompt shows.
fn spawn_event_printer(handle: &HostHandle, mut print: impl FnMut(String) + Send + 'static) {
    let mut events = handle.host().events().subscribe();
    let _ = std::thread::Builder::new()
        .name("stdbg-repl-events".into())
        .spawn(move || {
            loop {
                match events.blocking_recv() {
                    Ok(HostEvent::Target { lines, origin, .. }) if origin != Some(Origin::Repl) => {
                        print(lines.join("\n"))
                    }
                    Ok(HostEvent::Shutdown)
                    | Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => print(format!(
                        "({n} messages were dropped because the console could not keep up)"
                    )),
                }
            }
        });
}

/// Runs the REPL on the current thread until EOF, `exit` or `shutdown` (from any console).
pub fn run(handle: HostHandle) {
    let config = Config::builder()
        .max_history_size(HISTORY_SIZE)
        .and_then(|b| b.history_ignore_dups(true))
        .map(|b| {
            b.history_ignore_space(true)
                .completion_type(CompletionType::List)
                .build()
        });
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("REPL: history settings rejected ({e}); using defaults");
            Config::default()
        }
    };
    let mut rl: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(rl) => rl,
        Err(e) => {
            tracing::error!("the local console cannot start: {e}; use the telnet console instead");
            return;
        }
    };
    rl.set_helper(Some(ReplHelper {
        host: handle.host().clone(),
    }));
    let history = history_path();
    match &history {
        Some(p) if p.exists() => {
            if let Err(e) = rl.load_history(p) {
                tracing::warn!(
                    "can't read the command history {}: {e}; starting with an empty history",
                    p.display()
                );
            }
        }
        Some(_) => {}
        None => tracing::warn!("no command history: neither XDG_STATE_HOME nor HOME is set"),
    }
    match rl.create_external_printer() {
        Ok(mut printer) => {
            // A second handle on the same printer carries the log lines while the prompt shows.
            if let Ok(mut log_printer) = rl.create_external_printer() {
                crate::log::set_prompt_sink(Some(Box::new(move |line| {
                    let _ = log_printer.print(line);
                })));
            }
            spawn_event_printer(&handle, move |text| {
                let _ = printer.print(text);
            })
        }
        // ENOTTY when stdin is not a terminal: print directly.
        Err(_) => spawn_event_printer(&handle, |text| println!("{text}")),
    }
    loop {
        if handle.host().shutdown_requested().is_some() {
            break;
        }
        IN_READLINE.store(true, Ordering::SeqCst);
        crate::log::set_prompt_active(true);
        let read = rl.readline("> ");
        crate::log::set_prompt_active(false);
        IN_READLINE.store(false, Ordering::SeqCst);
        match read {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                if run_line(&handle, &line) {
                    if handle.host().shutdown_requested().is_none() {
                        // `exit`: this console is the process's own, so closing it shuts down.
                        run_line(&handle, "shutdown");
                    }
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                if handle.host().shutdown_requested().is_none() {
                    run_line(&handle, "shutdown");
                }
                break;
            }
            Err(e) => {
                tracing::error!("the local console failed: {e}; shutting down");
                run_line(&handle, "shutdown");
                break;
            }
        }
    }
    crate::log::set_prompt_active(false);
    crate::log::set_prompt_sink(None);
    if let Some(p) = &history {
        let saved = p
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()))
            .map_err(ReadlineError::from)
            .and_then(|_| rl.save_history(p));
        if let Err(e) = saved {
            tracing::warn!("can't save the command history to {}: {e}", p.display());
        }
    }
}

/// Ends a REPL thread after the host has shut down (e.g. `shutdown` typed on telnet while the
/// REPL waits for input), so rustyline restores the terminal before the process exits.
///
/// rustyline cannot be cancelled from another thread, but while it reads it turns SIGINT into
/// "line interrupted"; this sends SIGINT to the process (with `kill`) and waits up to 2 s for the
/// thread to finish.
pub fn stop(thread: JoinHandle<()>) {
    if !thread.is_finished() && IN_READLINE.load(Ordering::SeqCst) {
        let pid = std::process::id().to_string();
        if let Err(e) = std::process::Command::new("kill")
            .args(["-s", "INT", &pid])
            .status()
        {
            tracing::warn!(
                "can't wake the local console ({e}); if the terminal misbehaves, run `reset`"
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while !thread.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if thread.is_finished() {
        let _ = thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::complete_command;

    const NAMES: [&str; 6] = [
        "flash banks",
        "flash write_image",
        "flash info",
        "version",
        "reset",
        "resume",
    ];

    #[test]
    fn completes_first_and_second_words() {
        assert_eq!(
            complete_command(NAMES.into_iter(), "ver"),
            (0, vec!["version".into()])
        );
        assert_eq!(
            complete_command(NAMES.into_iter(), "re"),
            (0, vec!["reset".into(), "resume".into()])
        );
        assert_eq!(
            complete_command(NAMES.into_iter(), "fl"),
            (0, vec!["flash".into()])
        );
        assert_eq!(
            complete_command(NAMES.into_iter(), "flash w"),
            (6, vec!["write_image".into()])
        );
        assert_eq!(
            complete_command(NAMES.into_iter(), "flash "),
            (6, vec!["banks".into(), "info".into(), "write_image".into()])
        );
        assert_eq!(
            complete_command(NAMES.into_iter(), "echo 1; vers"),
            (8, vec!["version".into()])
        );
        assert_eq!(
            complete_command(NAMES.into_iter(), "flash write_image x"),
            (18, vec![])
        );
    }
}
