//! The command registry: names, help, usage and handlers.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{CommandError, Ctx};

/// A command handler. `args` are the words after the command name.
pub type Handler = Arc<dyn Fn(&mut Ctx<'_>, &[String]) -> Result<(), CommandError> + Send + Sync>;

/// When a command may run, as OpenOCD's `COMMAND_CONFIG` / `COMMAND_EXEC` / `COMMAND_ANY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only before `init` (e.g. `gdb_port`, `bindto`).
    Config,
    /// Only after `init` (needs a connected target, e.g. `mdw`).
    Exec,
    /// Any time.
    Any,
}

/// One command: full name (words separated by one space, e.g. `flash banks`), usage, help and
/// handler.
#[derive(Clone)]
pub struct CommandSpec {
    /// Full name, e.g. `mdw` or `flash write_image`.
    pub name: String,
    /// When it may run.
    pub mode: Mode,
    /// Usage text after the name, in OpenOCD's notation (`['phys'] address [count]`).
    pub usage: String,
    /// One-line help.
    pub help: String,
    /// The code that runs it.
    pub handler: Handler,
}

impl std::fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSpec")
            .field("name", &self.name)
            .field("usage", &self.usage)
            .finish()
    }
}

/// All commands known to the dispatcher. Scripts add commands at run time.
#[derive(Default, Clone)]
pub struct Registry {
    commands: BTreeMap<String, CommandSpec>,
}

impl Registry {
    /// Adds or replaces a command.
    pub fn add(&mut self, spec: CommandSpec) {
        self.commands.insert(spec.name.clone(), spec);
    }

    /// Finds the command for `words` by the longest matching name (up to three words) and
    /// returns it with the number of words its name used.
    pub fn lookup(&self, words: &[String]) -> Option<(&CommandSpec, usize)> {
        for k in (1..=words.len().min(3)).rev() {
            let name = words[..k].join(" ");
            if let Some(spec) = self.commands.get(&name) {
                return Some((spec, k));
            }
        }
        None
    }

    /// Exact lookup by full name.
    pub fn get(&self, name: &str) -> Option<&CommandSpec> {
        self.commands.get(name)
    }

    /// For a group word such as `flash` that has subcommands but no handler of its own: the
    /// list of its subcommands' usages, one per line.
    pub fn group_usage(&self, word: &str) -> Option<String> {
        let prefix = format!("{word} ");
        let lines: Vec<String> = self
            .commands
            .values()
            .filter(|c| c.name.starts_with(&prefix))
            .map(|c| format!("{} {}", c.name, c.usage).trim_end().to_string())
            .collect();
        if lines.is_empty() {
            None
        } else {
            Some(format!("<subcommand> ...\n  {}", lines.join("\n  ")))
        }
    }

    /// Every full command name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.commands.keys().map(|s| s.as_str())
    }

    /// Every command, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &CommandSpec> {
        self.commands.values()
    }

    /// The distinct first words of all commands (what a Rhai script can call as functions and
    /// what tab completion offers first).
    pub fn top_level_words(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .commands
            .keys()
            .map(|k| k.split(' ').next().unwrap_or(k).to_string())
            .collect();
        v.dedup();
        v
    }
}
