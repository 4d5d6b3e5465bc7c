//! How deeply commands, scripts and event handlers run inside each other, and the limit.
//!
//! A command can run a script (`script`, `eval`, a command registered by a script), a script can
//! run commands (`cmd`, `mdw(…)`, `t.reset()`), and commands fire event handlers that run
//! commands again. A chain that comes back to itself (a script that sources itself,
//! `register_command("rec", …, || cmd("rec"))`, `t.on("reset-end", |t| t.reset())`) would
//! recurse until the thread's stack overflows and the process aborts. Every level is entered
//! here; beyond [`MAX_NESTING`] levels the innermost one fails with an error naming the chain,
//! and every level above it fails with it, so the process and the other consoles carry on.
//!
//! The chain belongs to the thread that runs it (the host thread, or a test's thread).

use std::cell::RefCell;

use super::CommandError;

/// Most levels of commands, scripts and event handlers inside each other (OpenOCD's Tcl allows
/// 1000 nested calls; 32 is far more than configuration scripts use and fits the host thread's
/// stack, see [`crate::host::worker::HOST_STACK_BYTES`]).
pub const MAX_NESTING: usize = 32;

thread_local! {
    static CHAIN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// One level of the chain; leaving it (dropping the guard) removes it.
#[must_use = "the level lasts as long as the guard"]
pub struct Level(());

impl Drop for Level {
    fn drop(&mut self) {
        CHAIN.with(|c| {
            c.borrow_mut().pop();
        });
    }
}

/// Enters a level described by `what` (e.g. `command 'rec'`, `script x.rhai`, `event
/// 'reset-end' of stm32f1x.cpu`). Fails beyond [`MAX_NESTING`] levels, naming the chain.
pub fn enter(what: impl Into<String>) -> Result<Level, CommandError> {
    let what = what.into();
    CHAIN.with(|c| {
        let mut chain = c.borrow_mut();
        if chain.len() >= MAX_NESTING {
            return Err(CommandError::failed(too_deep(&chain, &what)));
        }
        chain.push(what);
        Ok(Level(()))
    })
}

/// The current depth.
pub fn depth() -> usize {
    CHAIN.with(|c| c.borrow().len())
}

/// Takes the whole chain away (it is empty afterwards), for work that starts afresh on this
/// thread while a command waits (a command of another console served during `sleep`); give it
/// back with [`restore`].
pub fn take() -> Vec<String> {
    CHAIN.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// Puts back a chain taken with [`take`].
pub fn restore(chain: Vec<String>) {
    CHAIN.with(|c| *c.borrow_mut() = chain);
}

/// The start of the message of [`enter`]'s error.
const TOO_DEEP: &str = "nested too deeply: ";

/// When `msg` carries the error of a chain that grew too deep (wrapped by the levels it passed
/// through: positions, "error in the … handler", output printed on the way), only that error:
/// its three lines name the whole chain, so the wrappers are noise.
pub fn too_deep_part(msg: &str) -> Option<String> {
    let i = msg.find(TOO_DEEP)?;
    Some(msg[i..].lines().take(3).collect::<Vec<_>>().join("\n"))
}

/// The message for a chain that grew too deep: the levels, with a repeated run folded.
fn too_deep(chain: &[String], next: &str) -> String {
    let mut all: Vec<&str> = chain.iter().map(String::as_str).collect();
    all.push(next);
    // Fold the repeating tail (the usual case: a cycle) into "(… repeated N times)".
    let mut shown: Vec<String> = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let mut n = 1;
        while i + n < all.len() && all[i + n] == all[i] {
            n += 1;
        }
        shown.push(if n > 1 {
            format!("{} (×{n})", all[i])
        } else {
            all[i].to_string()
        });
        i += n;
    }
    let cycle = find_cycle(&all);
    let why = match cycle {
        Some(c) => format!(
            "{} calls itself again: {} → …",
            c.first().copied().unwrap_or(next),
            c.join(" → ")
        ),
        None => "the chain does not end".to_string(),
    };
    let chain_text = if shown.len() > 12 {
        format!(
            "{} → … → {}",
            shown[..4].join(" → "),
            shown[shown.len() - 6..].join(" → ")
        )
    } else {
        shown.join(" → ")
    };
    format!(
        "{TOO_DEEP}more than {MAX_NESTING} levels of commands, scripts and event handlers inside each other; {why}\n  chain: {chain_text}\n  fix: make the script, command or event handler stop calling itself (an event handler must not trigger its own event, e.g. 'reset' in reset-end or 'halt' in halted)"
    )
}

/// The cycle of the chain: the level that occurs most often (at least twice), and the levels
/// from its last-but-one occurrence to its last one.
fn find_cycle<'a>(all: &[&'a str]) -> Option<Vec<&'a str>> {
    let (best, count) = all
        .iter()
        .map(|l| (*l, all.iter().filter(|o| *o == l).count()))
        .max_by_key(|(_, n)| *n)?;
    if count < 2 {
        return None;
    }
    let last = all.iter().rposition(|l| *l == best)?;
    let prev = all[..last].iter().rposition(|l| *l == best)?;
    Some(all[prev..last].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_stops_at_the_limit_and_names_the_chain() {
        let mut guards = Vec::new();
        let mut err = None;
        for i in 0..100 {
            let what = if i % 2 == 0 {
                "command 'rec'"
            } else {
                "script rec.rhai"
            };
            match enter(what) {
                Ok(g) => guards.push(g),
                Err(e) => {
                    err = Some(e.to_string());
                    break;
                }
            }
        }
        let e = err.expect("the limit was hit");
        assert_eq!(guards.len(), MAX_NESTING);
        assert!(e.contains("nested too deeply"), "{e}");
        assert!(
            e.contains("command 'rec' calls itself again: command 'rec' → script rec.rhai"),
            "{e}"
        );
        drop(guards);
        assert_eq!(depth(), 0);
    }
}
