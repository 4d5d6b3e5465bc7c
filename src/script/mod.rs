//! The Rhai engine: runs interface, board and target scripts, and exposes the host to them.
//!
//! Scripts run on the host thread, in one global [`Scope`] shared by every `-f` file and every
//! `source(…)` (like OpenOCD's `source [find …]`). Every dispatcher command is callable as a
//! function returning its output (`mdw(0x08000000, 4)`, `reset("halt")`), `cmd("any line")` runs
//! a whole line, and scripts can register new commands and target event handlers. The object
//! model (`adapter`, `transport`, targets, flash banks) is in [`objects`].

pub mod find;
pub mod objects;
pub mod tcl;
mod tcl_cmds;

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rhai::{AST, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Position, Scope};

use crate::command::{self, Collect, CommandError, Ctx, Origin};
use crate::host::{Host, WeakHost};

/// The operation limit after which a script is stopped as runaway. Rhai counts roughly one
/// operation per expression or statement; 10 million take one to ten seconds, far more than any
/// configuration script needs (a command called from a script counts as one operation).
pub const MAX_OPERATIONS: u64 = 10_000_000;

/// Most positional arguments a command function takes from Rhai (`mdw(addr, count)` …).
pub const MAX_COMMAND_ARGS: usize = 6;

/// Longest string a script may build, in bytes (1 MiB); the strings inside one array or map
/// count together. Rhai stops the script with "Length of string … too large".
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// Most elements of one array, and bytes of one BLOB, nested arrays counted together (256 Ki).
pub const MAX_ARRAY_ITEMS: usize = 256 << 10;

/// Most entries of one object map, nested maps counted together (64 Ki).
pub const MAX_MAP_ENTRIES: usize = 64 << 10;

/// Most variables in one scope (1024).
pub const MAX_VARIABLES: usize = 1024;

/// Most script functions defined (4096).
pub const MAX_FUNCTIONS: usize = 4096;

/// Most nested script function calls within one script run (Rhai's call levels).
pub const MAX_CALL_LEVELS: usize = 64;

/// Rhai's names for value types in its messages, in words users know (no Rust type names).
pub fn plain_types(msg: &str) -> String {
    let mut out = msg
        .replace("&str | ImmutableString | String", "string")
        .replace("ImmutableString", "string")
        .replace("alloc::string::String", "string")
        .replace("stdbg::script::objects::AdapterHandle", "adapter")
        .replace("stdbg::script::objects::TransportHandle", "transport")
        .replace("stdbg::script::objects::TargetHandle", "target")
        .replace("stdbg::script::objects::FlashBankHandle", "flash bank")
        .replace("rhai::", "");
    for (rust, plain) in [
        ("i64", "integer"),
        ("f64", "float"),
        ("bool", "boolean"),
        ("char", "character"),
    ] {
        let mut res = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(rust) {
            let before = rest[..i].chars().next_back();
            let after = rest[i + rust.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            res.push_str(&rest[..i]);
            res.push_str(if word(before) || word(after) {
                rust
            } else {
                plain
            });
            rest = &rest[i + rust.len()..];
        }
        res.push_str(rest);
        out = res;
    }
    out
}

/// A Rhai closure kept for later (an event handler or a script-registered command), with the
/// script code it was defined in (Rhai needs that code to call it).
#[derive(Clone)]
pub struct Callback {
    /// The closure.
    pub fnptr: FnPtr,
    /// The function library of the script that defined it (its source is that script's name).
    pub ast: Arc<AST>,
    /// Where it was registered, `file:line:column`, for messages.
    pub origin: String,
}

/// An error of a script run by `source(…)`, already formatted with that script's positions;
/// the sourcing script adds its own position to the chain.
#[derive(Clone, Debug)]
pub struct SourcedError(pub String);

/// A complete user-facing message raised by `fail("…")` in a script-registered command: the
/// command fails with exactly this text (no script positions), like a built-in command's
/// `CommandError::Failed`. Script bugs (`throw`, wrong calls) keep their positions.
#[derive(Clone, Debug)]
pub struct CommandFailure(pub String);

/// The message of a [`CommandFailure`] at the bottom of a Rhai error chain, if there is one.
fn command_failure(err: &EvalAltResult) -> Option<String> {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => command_failure(inner),
        EvalAltResult::ErrorRuntime(v, _) if v.is::<CommandFailure>() => {
            Some(v.clone().cast::<CommandFailure>().0)
        }
        _ => None,
    }
}

/// Ends a run started by [`ScriptEngine::enter_run`] when dropped.
pub(crate) struct RunGuard<'a>(&'a ScriptEngine);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.0.depth.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The engine, the global scope and the function library shared by all scripts.
pub struct ScriptEngine {
    engine: Engine,
    scope: Mutex<Option<Scope<'static>>>,
    lib: Arc<Mutex<AST>>,
    printed: Arc<Mutex<Vec<String>>>,
    cancel: Arc<AtomicBool>,
    depth: AtomicUsize,
    native_words: HashSet<String>,
    script_commands: Mutex<BTreeSet<String>>,
    weak: WeakHost,
}

/// Formats a Rhai error as `file:line:column: message`, then the call chain, innermost first
/// (`  in call to function 'f' at file:line:column`, `  in closure`, `  in a script sourced at
/// file:line:column`). `file` names the script that was run.
pub fn format_error(err: &EvalAltResult, file: &str) -> String {
    let mut chain: Vec<String> = Vec::new();
    let mut cur = err;
    let mut file = file.to_string();
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                let what = if name.starts_with("anon$") {
                    "in closure".to_string()
                } else {
                    format!("in call to function '{name}'")
                };
                chain.push(if pos.is_none() {
                    format!("  {what}")
                } else {
                    format!("  {what} at {}", at(&file, *pos))
                });
                if !src.is_empty() {
                    file = src.clone();
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                chain.push(format!("  in module '{name}' at {}", at(&file, *pos)));
                cur = inner;
            }
            other => {
                let pos = other.position();
                let mut out = match other {
                    EvalAltResult::ErrorRuntime(v, _) if v.is::<SourcedError>() => {
                        let inner = v.clone().cast::<SourcedError>().0;
                        format!("{inner}\n  in a script sourced at {}", at(&file, pos))
                    }
                    _ => format!("{}: {}", at(&file, pos), message(other)),
                };
                if let Some(deep) = command::nesting::too_deep_part(&out) {
                    return deep;
                }
                for l in chain.iter().rev() {
                    out.push('\n');
                    out.push_str(l);
                }
                return fold_repeats(&out);
            }
        }
    }
}

/// Folds what a deep recursion repeats: the same `file:line:column: ` prefix many times at the
/// start of a line, and the same line many times in a row (`… (×32)`).
fn fold_repeats(msg: &str) -> String {
    let mut lines: Vec<(String, usize)> = Vec::new();
    for line in msg.lines() {
        let mut l = line.to_string();
        if let Some(i) = l.find(": ") {
            let prefix = l[..i + 2].to_string();
            let mut n = 0;
            while l[n * prefix.len()..].starts_with(&prefix) {
                n += 1;
            }
            if n > 1 {
                l = format!("{prefix}{}", &l[n * prefix.len()..]);
            }
        }
        let (l, n) = match l.rsplit_once(" (×") {
            Some((base, tail)) if tail.ends_with(')') => match tail[..tail.len() - 1].parse() {
                Ok(n) => (base.to_string(), n),
                Err(_) => (l, 1),
            },
            _ => (l, 1),
        };
        match lines.last_mut() {
            Some((last, count)) if *last == l => *count += n,
            _ => lines.push((l, n)),
        }
    }
    lines
        .into_iter()
        .map(|(l, n)| if n > 1 { format!("{l} (×{n})") } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The message of one (innermost) Rhai error, without Rhai's `(line L, position C)` suffix.
fn message(err: &EvalAltResult) -> String {
    match err {
        EvalAltResult::ErrorTooManyOperations(_) => format!(
            "script stopped after {MAX_OPERATIONS} operations: it looks like an endless loop (e.g. waiting for a value that never comes); fix the loop or bound it (e.g. count the tries), or split the work into smaller steps"
        ),
        EvalAltResult::ErrorTerminated(..) => "script cancelled by the user".to_string(),
        EvalAltResult::ErrorRuntime(v, _) => match v.clone().into_immutable_string() {
            Ok(s) => s.to_string(),
            Err(_) => format!("script threw {v}"),
        },
        EvalAltResult::ErrorDataRace(what, _) => format!(
            "data race on {what}: a closure passed to a method captures the object the method is called on (e.g. `t.on(\"examine-end\", || t.halt())`); let the closure take the target as a parameter instead: `t.on(\"examine-end\", |t| t.halt())` (or use `this`)"
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => format!(
            "{what} is too large: a script value may hold at most {MAX_STRING_BYTES} bytes of strings, {MAX_ARRAY_ITEMS} array items (or BLOB bytes) and {MAX_MAP_ENTRIES} map entries (docs/limits.md); build smaller values"
        ),
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "more than {MAX_CALL_LEVELS} script function calls inside each other: a function calls itself without end; give the recursion an end (or use a loop)"
        ),
        EvalAltResult::ErrorTooManyVariables(_) => format!(
            "more than {MAX_VARIABLES} variables in one scope: keep data in arrays or maps instead of separate variables"
        ),
        other => {
            let mut msg = other.to_string();
            if let Some(i) = msg.rfind(" (line ") {
                msg.truncate(i);
            }
            plain_types(&msg)
        }
    }
}

/// `file:line:column` (or less when the position is unknown).
pub(crate) fn at(file: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(l), None) => format!("{file}:{l}"),
        _ => file.to_string(),
    }
}

/// Runs one command line for a script and returns its output (errors become Rhai errors).
pub fn run_line(host: &Host, line: &str) -> Result<String, Box<EvalAltResult>> {
    let mut out = Collect::default();
    let mut ctx = Ctx::new(host, Origin::Script, &mut out);
    match command::dispatch(&mut ctx, line) {
        Ok(()) => Ok(out.text()),
        Err(e) => {
            let mut msg = out.text();
            if !msg.is_empty() {
                msg.push('\n');
            }
            msg.push_str(&e.to_string());
            Err(msg.into())
        }
    }
}

/// Turns a Rhai value into a command word: integers as hex `0x…` (addresses read best that way;
/// the dispatcher parses either), strings as they are, booleans as 1/0, arrays as a
/// space-separated list, a target or flash bank handle as its name. Other values (the
/// `adapter` object, maps, closures) are not words: the error says what was given.
pub fn to_word(v: &Dynamic) -> Result<String, String> {
    if let Ok(i) = v.as_int() {
        Ok(if i < 0 {
            i.to_string()
        } else {
            format!("{i:#x}")
        })
    } else if let Some(s) = v.clone().try_cast::<ImmutableString>() {
        Ok(s.to_string())
    } else if let Ok(b) = v.as_bool() {
        Ok(if b { "1".into() } else { "0".into() })
    } else if let Ok(c) = v.as_char() {
        Ok(c.to_string())
    } else if let Ok(f) = v.as_float() {
        Ok(f.to_string())
    } else if let Some(a) = v.clone().try_cast::<rhai::Array>() {
        Ok(a.iter()
            .map(to_word)
            .collect::<Result<Vec<_>, _>>()?
            .join(" "))
    } else if let Some(t) = v.clone().try_cast::<objects::TargetHandle>() {
        Ok(t.name().to_string())
    } else if let Some(b) = v.clone().try_cast::<objects::FlashBankHandle>() {
        Ok(b.name().to_string())
    } else if v.is_unit() {
        Err("() (nothing)".into())
    } else {
        Err(format!("a value of type {}", plain_types(v.type_name())))
    }
}

fn command_line(word: &str, args: &[Dynamic]) -> Result<String, Box<EvalAltResult>> {
    let mut l = word.to_string();
    for (n, a) in args.iter().enumerate() {
        let w = to_word(a).map_err(|what| -> Box<EvalAltResult> {
            let object = if a.is::<objects::AdapterHandle>() || a.is::<objects::TransportHandle>() {
                format!(
                    "; `x.{word}(…)` on the {} object is `{word}(x, …)`: give the command's words as numbers or strings, e.g. adapter.reset_config(\"srst_only srst_nogate\")",
                    plain_types(a.type_name())
                )
            } else {
                String::new()
            };
            format!(
                "{word}(…): argument {} is {what}, which is not a command word: give numbers, strings, booleans or arrays of them{object}",
                n + 1
            )
            .into()
        })?;
        l.push(' ');
        l.push_str(&command::parse::quote_word(&w));
    }
    Ok(l)
}

fn host_of(weak: &WeakHost) -> Result<Host, Box<EvalAltResult>> {
    weak.upgrade()
        .ok_or_else(|| "the debug host has shut down".into())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Compiles `text` named `name` and adds the shared function library (functions of earlier
/// scripts and wrappers of script-registered commands; the script's own functions win).
fn compile(engine: &Engine, lib: &Mutex<AST>, name: &str, text: &str) -> Result<AST, String> {
    let mut ast = engine.compile(text).map_err(|e| {
        let pe: EvalAltResult = e.into();
        format_error(&pe, name)
    })?;
    ast.set_source(name.to_string());
    let mut merged = lock(lib).merge(&ast);
    merged.set_source(name.to_string());
    Ok(merged)
}

/// Remembers the functions a script defined so later scripts and `eval` can call them (like
/// Tcl procs in OpenOCD).
fn keep_functions(lib: &Mutex<AST>, ast: &AST) {
    let mut l = lock(lib);
    let merged = l.merge(&ast.clone_functions_only());
    *l = merged;
}

impl ScriptEngine {
    /// Builds the engine: limits, printing, `cmd`, one function per command, `source`, `find`,
    /// and the object model.
    pub fn new(host: &Host) -> Self {
        let mut engine = Engine::new();
        engine.set_max_operations(MAX_OPERATIONS);
        engine.set_max_call_levels(MAX_CALL_LEVELS);
        engine.set_max_expr_depths(128, 64);
        engine.set_max_string_size(MAX_STRING_BYTES);
        engine.set_max_array_size(MAX_ARRAY_ITEMS);
        engine.set_max_map_size(MAX_MAP_ENTRIES);
        engine.set_max_variables(MAX_VARIABLES);
        engine.set_max_functions(MAX_FUNCTIONS);
        engine.set_max_modules(16);
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let cancel = cancel.clone();
            // Ctrl-C / telnet interrupt of the command that runs this script (host/jobs.rs).
            let jobs_signal = host.jobs().signal();
            let w = host.downgrade();
            engine.on_progress(move |_| {
                let job_cancelled = jobs_signal.load(Ordering::SeqCst)
                    && w.upgrade().is_some_and(|h| h.cancelled());
                if cancel.swap(false, Ordering::SeqCst) || job_cancelled {
                    Some("cancelled".into())
                } else {
                    None
                }
            });
        }
        let printed: Arc<Mutex<Vec<String>>> = Arc::default();
        {
            let p = printed.clone();
            engine.on_print(move |s| lock(&p).push(s.to_string()));
            let p = printed.clone();
            engine.on_debug(move |s, src, pos| {
                let at = at(src.unwrap_or("<script>"), pos);
                lock(&p).push(format!("{at}: {s}"))
            });
        }
        let weak = host.downgrade();
        {
            let w = weak.clone();
            engine.register_fn(
                "cmd",
                move |line: &str| -> Result<String, Box<EvalAltResult>> {
                    run_line(&host_of(&w)?, line)
                },
            );
            let w = weak.clone();
            engine.register_fn(
                "__command",
                move |word: &str, args: rhai::Array| -> Result<String, Box<EvalAltResult>> {
                    run_line(&host_of(&w)?, &command_line(word, &args)?)
                },
            );
        }
        // One function per top-level command word, with 0 to MAX_COMMAND_ARGS arguments.
        let mut native_words = HashSet::new();
        for word in host.registry().top_level_words() {
            if matches!(
                word.as_str(),
                "print" | "debug" | "eval" | "source" | "exit" | "sleep" | "find"
            ) {
                continue;
            }
            register_command_fn(&mut engine, &word, &weak);
            native_words.insert(word);
        }
        {
            let w = weak.clone();
            engine.register_fn(
                "sleep",
                move |ms: i64| -> Result<String, Box<EvalAltResult>> {
                    run_line(&host_of(&w)?, &format!("sleep {ms}"))
                },
            );
            let w = weak.clone();
            engine.register_fn(
                "find",
                move |name: &str| -> Result<String, Box<EvalAltResult>> {
                    let host = host_of(&w)?;
                    match find::find(&host, name) {
                        Some(s) => Ok(s.display_name()),
                        None => Err(not_found(name).into()),
                    }
                },
            );
        }
        let lib: Arc<Mutex<AST>> = Arc::new(Mutex::new(AST::empty()));
        {
            let w = weak.clone();
            let lib = lib.clone();
            engine
                .register_custom_syntax(
                    ["source", "(", "$expr$", ")"],
                    false,
                    move |ctx, inputs| {
                        let pos = inputs[0].position();
                        let name = ctx
                            .eval_expression_tree(&inputs[0])?
                            .into_string()
                            .map_err(|t| -> Box<EvalAltResult> {
                                EvalAltResult::ErrorRuntime(
                                    format!(
                                        "source: expects the script's name as a string, e.g. source(\"targets/stm32f1x.rhai\"), not {}",
                                        plain_types(t)
                                    )
                                    .into(),
                                    pos,
                                )
                                .into()
                            })?;
                        let host = host_of(&w)?;
                        let src =
                            find::find(&host, &name).ok_or_else(|| -> Box<EvalAltResult> {
                                EvalAltResult::ErrorRuntime(
                                    format!("source: {}", not_found(&name)).into(),
                                    pos,
                                )
                                .into()
                            })?;
                        let display = src.display_name();
                        // A Tcl file runs in the Tcl interpreter (through the dispatcher's
                        // `source`); its printed lines are the value, as `cmd()` returns them.
                        if tcl::is_tcl_name(&display) {
                            let line = format!("source {}", command::parse::quote_word(&display));
                            return run_line(&host, &line).map(Dynamic::from).map_err(|e| {
                                EvalAltResult::ErrorRuntime(e.to_string().into(), pos).into()
                            });
                        }
                        let _level = command::nesting::enter(format!("script {display}"))
                            .map_err(|e| -> Box<EvalAltResult> {
                                EvalAltResult::ErrorRuntime(e.to_string().into(), pos).into()
                            })?;
                        let text = src.read().map_err(|e| -> Box<EvalAltResult> {
                            EvalAltResult::ErrorRuntime(format!("source: {e}").into(), pos).into()
                        })?;
                        let sourced = |msg: String| -> Box<EvalAltResult> {
                            EvalAltResult::ErrorRuntime(Dynamic::from(SourcedError(msg)), pos)
                                .into()
                        };
                        let ast = compile(ctx.engine(), &lib, &display, &text).map_err(sourced)?;
                        let r = ctx.engine().run_ast_with_scope(ctx.scope_mut(), &ast);
                        keep_functions(&lib, &ast);
                        r.map_err(|e| sourced(format_error(&e, &display)))?;
                        Ok(Dynamic::UNIT)
                    },
                )
                .expect("registering the source syntax");
        }
        objects::register(&mut engine, &weak);
        let mut scope = Scope::new();
        scope.push("adapter", objects::AdapterHandle::new(&weak));
        scope.push("transport", objects::TransportHandle::new(&weak));
        ScriptEngine {
            engine,
            scope: Mutex::new(Some(scope)),
            lib,
            printed,
            cancel,
            depth: AtomicUsize::new(0),
            native_words,
            script_commands: Mutex::default(),
            weak,
        }
    }

    /// The Rhai engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Marks a run of another script language (Tcl) on the host thread, so that [`Self::cancel`]
    /// (Ctrl-C) reaches it too; the run checks [`Self::is_cancelled`].
    pub(crate) fn enter_run(&self) -> RunGuard<'_> {
        if self.depth.fetch_add(1, Ordering::SeqCst) == 0 {
            self.cancel.store(false, Ordering::SeqCst);
        }
        RunGuard(self)
    }

    /// Whether [`Self::cancel`] asked the running script to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Stops the running script at its next operation (e.g. Ctrl-C in the REPL). Has no effect
    /// on scripts started later.
    pub fn cancel(&self) {
        if self.depth.load(Ordering::SeqCst) > 0 {
            self.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// Whether a script is running right now (on the host thread).
    pub fn is_running(&self) -> bool {
        self.depth.load(Ordering::SeqCst) > 0
    }

    /// Sets a global variable (e.g. `set FLASH_SIZE 0x20000`, or the overrides `CHIPNAME`,
    /// `WORKAREASIZE`, `FLASH_SIZE`, `CPUTAPID` before a target script is sourced).
    ///
    /// Fails while a script runs (the global scope belongs to it then): inside a script, assign
    /// the variable in Rhai instead (`let FLASH_SIZE = 0x20000;`).
    pub fn set_var(&self, name: &str, value: Dynamic) -> Result<(), CommandError> {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(CommandError::failed(format!(
                "'{name}' is not a valid variable name: use letters, digits and '_' (not starting with a digit)"
            )));
        }
        let mut g = lock(&self.scope);
        match g.as_mut() {
            Some(scope) => {
                scope.set_or_push(name.to_string(), value);
                Ok(())
            }
            None => Err(CommandError::failed(format!(
                "'set {name}' cannot change script variables while a script runs; inside a script write `let {name} = value;`"
            ))),
        }
    }

    /// How many printed lines wait now (the mark a run flushes from, so that a nested run, e.g.
    /// an event handler fired by a command of the script, does not take the outer script's
    /// lines to its own output).
    fn printed_mark(&self) -> usize {
        lock(&self.printed).len()
    }

    fn flush_printed(&self, ctx: &mut Ctx<'_>, mark: usize) {
        let lines: Vec<String> = {
            let mut p = lock(&self.printed);
            let from = mark.min(p.len());
            p.drain(from..).collect()
        };
        for l in lines {
            ctx.println(l);
        }
    }

    /// The global variables whose values are strings or integers, as text (integers in
    /// decimal); empty while a script runs (the scope belongs to it then). Used to hand Rhai's
    /// `_TARGETNAME` and friends to Tcl files.
    pub fn globals(&self) -> Vec<(String, String)> {
        let g = lock(&self.scope);
        let Some(scope) = g.as_ref() else {
            return Vec::new();
        };
        scope
            .iter_raw()
            .filter_map(|(name, _, v)| {
                if let Ok(n) = v.as_int() {
                    Some((name.to_string(), n.to_string()))
                } else if v.is_string() {
                    Some((name.to_string(), v.clone().into_string().ok()?))
                } else {
                    None
                }
            })
            .collect()
    }

    /// Runs script text in the global scope; `name` is used in error positions. Output of
    /// `print()` goes to `ctx` when the script ends (also when it fails).
    pub fn run_text(
        &self,
        ctx: &mut Ctx<'_>,
        name: &str,
        text: &str,
    ) -> Result<Dynamic, CommandError> {
        let _level = command::nesting::enter(format!("script {name}"))?;
        let mark = self.printed_mark();
        let ast = compile(&self.engine, &self.lib, name, text).map_err(CommandError::failed)?;
        if self.depth.fetch_add(1, Ordering::SeqCst) == 0 {
            self.cancel.store(false, Ordering::SeqCst);
        }
        // Take the scope out so nested runs (a command run from a script that runs a script)
        // get a fresh scope instead of a deadlock.
        let taken = lock(&self.scope).take();
        let nested = taken.is_none();
        let mut scope = taken.unwrap_or_default();
        let r = self.engine.eval_ast_with_scope::<Dynamic>(&mut scope, &ast);
        if !nested {
            *lock(&self.scope) = Some(scope);
        }
        self.depth.fetch_sub(1, Ordering::SeqCst);
        keep_functions(&self.lib, &ast);
        self.flush_printed(ctx, mark);
        r.map_err(|e| CommandError::failed(format_error(&e, name)))
    }

    /// Finds and runs a script file (`-f`, `script`).
    pub fn run_file(&self, ctx: &mut Ctx<'_>, name: &str) -> Result<(), CommandError> {
        let src =
            find::find(ctx.host, name).ok_or_else(|| CommandError::failed(not_found(name)))?;
        let display = src.display_name();
        let text = src
            .read()
            .map_err(|e| CommandError::failed(e.to_string()))?;
        if tcl::is_tcl_name(&display) {
            return tcl::run_file(ctx, &display, &text);
        }
        self.run_text(ctx, &display, &text).map(|_| ())
    }

    fn call(
        &self,
        cb: &Callback,
        this: Option<Dynamic>,
        args: Vec<Dynamic>,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        if self.depth.fetch_add(1, Ordering::SeqCst) == 0 {
            self.cancel.store(false, Ordering::SeqCst);
        }
        let r = match this {
            Some(mut this) => {
                cb.fnptr
                    .call_as_method::<Dynamic>(&self.engine, &cb.ast, &mut this, args)
            }
            None => cb.fnptr.call::<Dynamic>(&self.engine, &cb.ast, args),
        };
        self.depth.fetch_sub(1, Ordering::SeqCst);
        r
    }

    /// Calls an event handler. The closure may take no parameter (`this` is the target), the
    /// target, or the target and the event name.
    pub fn call_event(
        &self,
        ctx: &mut Ctx<'_>,
        cb: &Callback,
        target: &str,
        event: &str,
    ) -> Result<(), CommandError> {
        let handle = Dynamic::from(objects::TargetHandle::new(target, &self.weak));
        let args = match declared_arity(cb) {
            Some(1) => vec![handle.clone()],
            Some(n) if n >= 2 => vec![handle.clone(), Dynamic::from(event.to_string())],
            _ => Vec::new(),
        };
        let mark = self.printed_mark();
        let r = self.call(cb, Some(handle), args);
        self.flush_printed(ctx, mark);
        r.map(|_| ()).map_err(|e| {
            CommandError::failed(format!(
                "{}\n  in the '{event}' handler registered at {}",
                format_error(&e, cb.ast.source().unwrap_or("<script>")),
                cb.origin
            ))
        })
    }

    /// Calls the handler of a script-registered command with the command's arguments as an array
    /// of strings (a handler without parameters gets none); a returned value other than `()` is
    /// printed.
    pub fn call_command(
        &self,
        ctx: &mut Ctx<'_>,
        name: &str,
        cb: &Callback,
        args: &[String],
    ) -> Result<(), CommandError> {
        let arr: rhai::Array = args.iter().map(|a| Dynamic::from(a.clone())).collect();
        let args = if declared_arity(cb) == Some(0) {
            Vec::new()
        } else {
            vec![Dynamic::from(arr)]
        };
        let mark = self.printed_mark();
        let r = self.call(cb, None, args);
        self.flush_printed(ctx, mark);
        match r {
            Ok(v) => {
                if !v.is_unit() {
                    ctx.println(v.to_string());
                }
                Ok(())
            }
            Err(e) if command_failure(&e).is_some() => Err(CommandError::failed(
                command_failure(&e).unwrap_or_default(),
            )),
            Err(e) => Err(CommandError::failed(format!(
                "{}\n  in command '{name}' registered at {}",
                format_error(&e, cb.ast.source().unwrap_or("<script>")),
                cb.origin
            ))),
        }
    }

    /// Whether `name` was registered by a script (`register_command`).
    pub fn is_script_command(&self, name: &str) -> bool {
        lock(&self.script_commands).contains(name)
    }

    /// Records a script-registered command and makes its first word callable as a Rhai
    /// function in scripts compiled from now on (`hello("a", 1)` runs `hello a 0x1`).
    pub fn note_script_command(&self, name: &str) {
        lock(&self.script_commands).insert(name.to_string());
        let word = name.split(' ').next().unwrap_or(name);
        let ident = word
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident || self.native_words.contains(word) {
            return;
        }
        let mut src = String::new();
        for n in 0..=MAX_COMMAND_ARGS {
            let params: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
            src.push_str(&format!(
                "fn {word}({p}) {{ __command(\"{word}\", [{p}]) }}\n",
                p = params.join(", ")
            ));
        }
        match self.engine.compile(&src) {
            Ok(ast) => keep_functions(&self.lib, &ast),
            Err(e) => tracing::debug!("no Rhai function for command '{word}': {e}"),
        }
    }
}

fn not_found(name: &str) -> String {
    format!(
        "can't find {name}: it is not in the -s directories, the current directory or the built-in scripts ({})",
        find::builtin_names().collect::<Vec<_>>().join(", ")
    )
}

/// The number of parameters the closure declares (captured variables are curried in front).
fn declared_arity(cb: &Callback) -> Option<usize> {
    let name = cb.fnptr.fn_name();
    let curried = cb.fnptr.curry().len();
    cb.ast
        .iter_functions()
        .filter(|f| f.name == name)
        .map(|f| f.params.len().saturating_sub(curried))
        .min()
}

fn register_command_fn(engine: &mut Engine, word: &str, weak: &WeakHost) {
    macro_rules! reg {
        ($($a:ident),*) => {{
            let w = weak.clone();
            let word_s = word.to_string();
            engine.register_fn(word, move |$($a: Dynamic),*| -> Result<String, Box<EvalAltResult>> {
                run_line(&host_of(&w)?, &command_line(&word_s, &[$($a),*])?)
            });
        }};
    }
    reg!();
    reg!(a);
    reg!(a, b);
    reg!(a, b, c);
    reg!(a, b, c, d);
    reg!(a, b, c, d, e);
    reg!(a, b, c, d, e, f);
}
