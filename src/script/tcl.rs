//! OpenOCD configuration files in Tcl (`.cfg`, `.tcl`): launch files that IDEs generate or ship
//! (cortex-debug's `openocd-helpers.tcl`, STM32CubeIDE's `<project> Debug.cfg`) and users' own
//! board files, run by the embedded [`molt`] interpreter.
//!
//! * Tcl's own commands (`set`, `$var`, `[…]`, `if`, `proc`, `foreach`, `catch`, `expr`, …) are
//!   molt's; stdbg adds `try … on error … finally`, `info script`, `eval`, `puts` (to the
//!   console), `source` (Tcl or Rhai, found like `-f`) and `using_jtag`/`using_swd`/`using_hla`
//!   (see [`super::tcl_cmds`]).
//! * Every other command word goes to stdbg's one dispatcher: each command, target, DAP and TPIU
//!   name is a Tcl command. As in OpenOCD 0.12, a command's output is its Tcl result
//!   (`set names [target names]`); `echo` and `puts` print.
//! * A proc defined by a Tcl file is a command for every front end afterwards (`-c
//!   CDLiveWatchSetup`, `monitor CDSWOConfigure …`, telnet): the dispatcher passes names it does
//!   not know to [`call`].
//! * Variables: before a Rhai script runs from Tcl (`source [find target/stm32f1x.cfg]`), the Tcl
//!   globals in capitals (`CHIPNAME`, `WORKAREASIZE`, `FLASH_SIZE`) become Rhai globals, and the
//!   Rhai globals the script set (`_TARGETNAME`, `_CHIPNAME`) become Tcl variables.
//!
//! The interpreter is not `Send`; it lives on the host thread, where every command runs (one per
//! host, in a thread-local table).

use std::cell::RefCell;

use molt::types::{ContextID, Exception, MoltResult, ResultCode, Value};
use molt::{Interp, molt_err, molt_ok};

use crate::command::{self, Collect, CommandError, Ctx, Origin};
use crate::host::{Host, WeakHost};

/// The section of docs/scripting.md on porting an OpenOCD Tcl config to Rhai.
pub const PORTING_DOC: &str = "docs/scripting.md, section \"Porting an OpenOCD Tcl config\"";

/// Most loop iterations (`while`, `for`) in one Tcl run (a file, a proc called from a console,
/// an event body): a million, a second or two of work, far beyond any configuration file; more is a
/// runaway loop.
pub const MAX_TCL_ITERATIONS: u64 = 1_000_000;

/// Most bytes held in the variables visible to a loop (its scope and the globals), checked every
/// iteration: 16 MiB.
pub const MAX_TCL_VAR_BYTES: usize = 16 << 20;

/// Most nested Tcl procedure calls (molt's default is 1000, deeper than the host thread's stack
/// allows for stdbg's command calls in between).
pub const MAX_TCL_DEPTH: usize = 200;

/// What the Tcl commands need from the run that is evaluating: the host, where the line came
/// from, the files being sourced (`info script`) and the lines printed so far.
pub(crate) struct TclCtx {
    pub(crate) host: WeakHost,
    pub(crate) origin: Origin,
    pub(crate) scripts: Vec<String>,
    pub(crate) printed: Vec<String>,
    /// Loop iterations of the current run.
    pub(crate) iterations: u64,
    /// The dispatcher's words that are Tcl commands routed to it.
    routed: std::collections::HashSet<String>,
    /// molt panicked while evaluating: the interpreter is replaced before its next use.
    poisoned: bool,
}

struct Tcl {
    host: WeakHost,
    interp: Interp,
    ctx: ContextID,
}

thread_local! {
    static INTERPS: RefCell<Vec<Tcl>> = const { RefCell::new(Vec::new()) };
}

fn same(a: &WeakHost, b: &Host) -> bool {
    a.upgrade().is_some_and(|h| h.same_as(b))
}

/// Runs `f` with this host's interpreter (created on first use). Fails when a Tcl run is
/// already under way further up the stack and cannot be re-entered (a Rhai script sourced from
/// Tcl that sources Tcl again).
fn with_interp<R>(host: &Host, f: impl FnOnce(&mut Interp, ContextID) -> R) -> Result<R, String> {
    INTERPS.with(|cell| {
        let Ok(mut list) = cell.try_borrow_mut() else {
            return Err("a Tcl file cannot be run from a Rhai script that Tcl is running; source the Tcl file from the Tcl file (or -f) instead".to_string());
        };
        list.retain_mut(|t| {
            t.host.upgrade().is_some() && !t.interp.context::<TclCtx>(t.ctx).poisoned
        });
        let i = match list.iter().position(|t| same(&t.host, host)) {
            Some(i) => i,
            None => {
                let (interp, ctx) = new_interp(host);
                list.push(Tcl {
                    host: host.downgrade(),
                    interp,
                    ctx,
                });
                list.len() - 1
            }
        };
        let t = &mut list[i];
        Ok(f(&mut t.interp, t.ctx))
    })
}

fn new_interp(host: &Host) -> (Interp, ContextID) {
    let mut interp = Interp::new();
    interp.set_recursion_limit(MAX_TCL_DEPTH);
    let ctx = interp.save_context(TclCtx {
        host: host.downgrade(),
        origin: Origin::Script,
        scripts: Vec::new(),
        printed: Vec::new(),
        iterations: 0,
        routed: Default::default(),
        poisoned: false,
    });
    super::tcl_cmds::install(&mut interp, ctx);
    (interp, ctx)
}

thread_local! {
    /// Set while molt evaluates on this thread (see [`in_molt`]).
    static IN_MOLT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside the Tcl interpreter: a panic there is caught and reported as
/// a Tcl error, so the process's panic hook prints nothing.
pub fn in_molt() -> bool {
    IN_MOLT.get()
}

/// molt 0.3.1 hangs or panics on an array reference whose index is not closed (`$A(`,
/// `$A(x y`): such text gets Tcl's own error before molt sees it. A `$name(` must reach its
/// `)` before white space or the end (brackets inside the index may hold spaces).
fn check_array_refs(text: &str) -> Result<(), String> {
    let c: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '$' => {
                let mut j = i + 1;
                while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_' || c[j] == ':') {
                    j += 1;
                }
                if j > i + 1 && j < c.len() && c[j] == '(' {
                    let name: String = c[i + 1..j].iter().collect();
                    let mut depth = 0usize;
                    let mut k = j + 1;
                    loop {
                        match c.get(k) {
                            None => {
                                return Err(format!(
                                    "missing ) after \"${name}(\": an array reference needs its index closed, e.g. ${name}(index)"
                                ));
                            }
                            Some('\\') => k += 1,
                            Some('[') => depth += 1,
                            Some(']') => depth = depth.saturating_sub(1),
                            Some(')') if depth == 0 => break,
                            Some(w) if w.is_whitespace() && depth == 0 => {
                                return Err(format!(
                                    "missing ) after \"${name}(\": an array reference needs its index closed before white space, e.g. ${name}(index)"
                                ));
                            }
                            _ => {}
                        }
                        k += 1;
                    }
                    i = k + 1;
                } else {
                    i = j;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// `interp.eval(text)` after [`check_array_refs`].
pub(crate) fn checked_eval(interp: &mut Interp, text: &str) -> MoltResult {
    if let Err(m) = check_array_refs(text) {
        return molt_err!(m);
    }
    interp.eval(text)
}

/// Whether a script name is Tcl (OpenOCD's `.cfg` and `.tcl`) rather than Rhai.
pub fn is_tcl_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".cfg") || lower.ends_with(".tcl")
}

/// Runs a Tcl file's text (`name` for `info script` and messages). The file's printed lines go
/// to `ctx`; its result is not printed (as OpenOCD's `-f`).
pub fn run_file(ctx: &mut Ctx<'_>, name: &str, text: &str) -> Result<(), CommandError> {
    let host = ctx.host.clone();
    let origin = ctx.origin;
    let r = with_interp(&host, |interp, id| {
        let r = eval_in(interp, id, origin, Some(name), |i| checked_eval(i, text));
        flush(interp, id, ctx);
        r
    })
    .map_err(CommandError::Failed)?;
    r.map(|_| ()).map_err(|e| file_error(ctx.host, name, &e))
}

/// Evaluates a Tcl script text (an event body with Tcl substitutions); its printed lines go to
/// `ctx`, its result is not printed.
pub fn eval_text(ctx: &mut Ctx<'_>, text: &str) -> Result<(), CommandError> {
    let host = ctx.host.clone();
    let origin = ctx.origin;
    let r = with_interp(&host, |interp, id| {
        let r = eval_in(interp, id, origin, None, |i| checked_eval(i, text));
        flush(interp, id, ctx);
        r
    })
    .map_err(CommandError::Failed)?;
    r.map(|_| ()).map_err(|e| CommandError::Failed(message(&e)))
}

/// Evaluates a console or `-c` line in Tcl, as OpenOCD evaluates every line it reads: used
/// for lines with a substitution (`$var`, `[…]`) outside braces, e.g.
/// `catch {mdw 0x60000000} r; echo "result: $r"`. Lines printed by `echo`/`puts` go to `ctx`,
/// then the line's result (that of its last command) when it is not empty, as OpenOCD prints it.
pub fn eval_line(ctx: &mut Ctx<'_>, line: &str) -> Result<(), CommandError> {
    let host = ctx.host.clone();
    let origin = ctx.origin;
    let r = with_interp(&host, |interp, id| {
        let r = eval_in(interp, id, origin, None, |i| checked_eval(i, line));
        flush(interp, id, ctx);
        r
    })
    .map_err(CommandError::Failed)?;
    match r {
        Ok(v) => {
            if !v.as_str().is_empty() {
                for l in v
                    .as_str()
                    .strip_suffix('\n')
                    .unwrap_or(v.as_str())
                    .split('\n')
                {
                    ctx.println(l);
                }
            }
            Ok(())
        }
        Err(e) => Err(CommandError::Failed(message(&e))),
    }
}

/// Whether `line` has a Tcl substitution (`$` or `[`) outside braces and backslash escapes.
pub fn has_substitution(line: &str) -> bool {
    let mut depth = 0usize;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '$' | '[' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// The dispatcher's fallback for a word it does not know: a Tcl procedure or Tcl command
/// (`CDLiveWatchSetup`, `proc …`, `expr …`) runs in Tcl with `words` as its arguments and its
/// result is printed. `None` when Tcl has no such command.
pub fn call(ctx: &mut Ctx<'_>, words: &[String]) -> Option<Result<(), CommandError>> {
    let host = ctx.host.clone();
    let origin = ctx.origin;
    let r = with_interp(&host, |interp, id| {
        let routed = interp.context::<TclCtx>(id).routed.contains(&words[0]);
        if routed || !interp.has_command(&words[0]) {
            return None;
        }
        let cmd = Value::from(words.iter().map(Value::from).collect::<Vec<_>>());
        let r = eval_in(interp, id, origin, None, |i| i.eval_value(&cmd));
        flush(interp, id, ctx);
        Some(r)
    });
    match r {
        Err(_) | Ok(None) => None,
        Ok(Some(Ok(v))) => {
            if !v.as_str().is_empty() {
                ctx.println(v.as_str());
            }
            Some(Ok(()))
        }
        Ok(Some(Err(e))) => Some(Err(CommandError::Failed(message(&e)))),
    }
}

fn eval_in(
    interp: &mut Interp,
    id: ContextID,
    origin: Origin,
    script: Option<&str>,
    f: impl FnOnce(&mut Interp) -> MoltResult,
) -> MoltResult {
    let Some(host) = interp.context::<TclCtx>(id).host.upgrade() else {
        return molt_err!("stdbg is shutting down");
    };
    let prev = {
        let c = interp.context::<TclCtx>(id);
        if let Some(s) = script {
            c.scripts.push(s.to_string());
        }
        std::mem::replace(&mut c.origin, origin)
    };
    let outer = !host.script().is_running();
    let guard = host.script().enter_run();
    if outer {
        interp.context::<TclCtx>(id).iterations = 0;
        // `-c "set CHIPNAME x"` wrote the Rhai global: Tcl sees it too.
        super::tcl_cmds::import_rhai_globals(interp, &host);
    }
    sync_names(interp, id);
    // A panic inside molt (its parser asserts on some malformed text) becomes a Tcl error and
    // the interpreter is replaced before its next use; the panic hook stays quiet meanwhile.
    let was = IN_MOLT.replace(true);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(interp)));
    IN_MOLT.set(was);
    let r = r.unwrap_or_else(|_| {
        interp.context::<TclCtx>(id).poisoned = true;
        molt_err!(
            "the Tcl interpreter could not handle this text (a malformed construct near a `$`, `[` or `{{`); check the quoting"
        )
    });
    if outer {
        super::tcl_cmds::export_tcl_globals(interp, &host);
    }
    drop(guard);
    let c = interp.context::<TclCtx>(id);
    c.origin = prev;
    if script.is_some() {
        c.scripts.pop();
    }
    match r {
        Err(e) if e.code() == ResultCode::Return => Ok(e.value()),
        other => other,
    }
}

fn flush(interp: &mut Interp, id: ContextID, ctx: &mut Ctx<'_>) {
    for l in std::mem::take(&mut interp.context::<TclCtx>(id).printed) {
        ctx.println(l);
    }
}

/// The message of a Tcl error, without molt's stack trace.
fn message(e: &Exception) -> String {
    match e.code() {
        ResultCode::Break => "invoked \"break\" outside of a loop".into(),
        ResultCode::Continue => "invoked \"continue\" outside of a loop".into(),
        _ => {
            let m = e.value().as_str().to_string();
            if m.starts_with("too many nested calls to Interp::eval") {
                format!(
                    "more than {MAX_TCL_DEPTH} nested Tcl calls: a proc that calls itself without end?"
                )
            } else {
                m
            }
        }
    }
}

/// A Tcl file's error: the message, and for a command stdbg lacks, where to go from there.
fn file_error(host: &Host, name: &str, e: &Exception) -> CommandError {
    let msg = message(e);
    let mut text = format!("{name}: {msg}");
    if let Some(word) = msg
        .strip_prefix("invalid command name \"")
        .and_then(|r| r.split('"').next())
    {
        let closest = closest_builtin(name);
        let suggestion = {
            let reg = host.registry();
            command::suggest::closest(word, reg.names())
        };
        if let Some(s) = suggestion {
            text.push_str(&format!("; did you mean \"{s}\"?"));
        }
        text.push_str(&format!(
            "\n'{word}' is an OpenOCD command stdbg does not have. Use the built-in script closest to this file ({closest}) with -f, or port the file to Rhai: see {PORTING_DOC}."
        ));
    }
    CommandError::Failed(text)
}

/// The built-in script a Tcl file most likely stands for, by the family or board in its name.
fn closest_builtin(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    for (key, script) in [
        ("h7", "targets/stm32h7x.rhai"),
        ("l4", "targets/stm32l4x.rhai"),
        ("g4", "targets/stm32g4x.rhai"),
        ("f3", "targets/stm32f3x.rhai"),
        ("f1", "targets/stm32f1x.rhai"),
        ("stlink", "interface/stlink.rhai"),
        ("st-link", "interface/stlink.rhai"),
        ("jlink", "interface/jlink.rhai"),
        ("cmsis", "interface/cmsis-dap.rhai"),
    ] {
        if lower.contains(key) {
            return script.into();
        }
    }
    "board/sim-bluepill.rhai for a first try, or targets/<family>.rhai".into()
}

/// Makes every dispatcher command word, target, DAP and TPIU name a Tcl command routed to the
/// dispatcher (names Tcl has itself, such as `set` or `puts`, stay Tcl's).
pub(crate) fn sync_names(interp: &mut Interp, id: ContextID) {
    let Some(host) = interp.context::<TclCtx>(id).host.upgrade() else {
        return;
    };
    let mut words = host.registry().top_level_words();
    {
        let t = host.targets();
        for d in &t.list {
            words.push(d.name.clone());
            words.push(d.dap.clone());
        }
    }
    words.extend(host.trace_object_names());
    for w in words {
        if w.is_empty() || super::tcl_cmds::TCL_OWN.contains(&w.as_str()) {
            continue;
        }
        if interp.context::<TclCtx>(id).routed.contains(&w) {
            continue;
        }
        if interp.has_command(&w) {
            continue; // a proc of the same name wins, as in OpenOCD
        }
        interp.add_context_command(&w, route, id);
        interp.context::<TclCtx>(id).routed.insert(w);
    }
}

/// A Tcl command routed to the dispatcher: its output is the result (`echo` prints).
fn route(interp: &mut Interp, id: ContextID, argv: &[Value]) -> MoltResult {
    let (host, origin) = {
        let c = interp.context::<TclCtx>(id);
        (c.host.upgrade(), c.origin)
    };
    let Some(host) = host else {
        return molt_err!("stdbg is shutting down");
    };
    let words: Vec<String> = argv.iter().map(|v| v.as_str().to_string()).collect();
    let mut out = Collect::default();
    let r = {
        let mut ctx = Ctx::new(&host, origin, &mut out);
        command::dispatch_words(&mut ctx, &words)
    };
    sync_names(interp, id);
    let echo = words[0] == "echo";
    if echo {
        interp.context::<TclCtx>(id).printed.append(&mut out.0);
    }
    match r {
        Ok(()) => molt_ok!(out.text()),
        Err(e) => {
            // Lines the command printed before failing stay visible.
            interp.context::<TclCtx>(id).printed.extend(out.0);
            molt_err!(e.to_string())
        }
    }
}

/// Runs a dispatcher command from a Tcl command in Rust (`source` of a Rhai script), with its
/// printed lines kept for the console.
pub(crate) fn run_printed(interp: &mut Interp, id: ContextID, line_words: &[String]) -> MoltResult {
    let (host, origin) = {
        let c = interp.context::<TclCtx>(id);
        (c.host.upgrade(), c.origin)
    };
    let Some(host) = host else {
        return molt_err!("stdbg is shutting down");
    };
    let mut out = Collect::default();
    let r = {
        let mut ctx = Ctx::new(&host, origin, &mut out);
        command::dispatch_words(&mut ctx, line_words)
    };
    interp.context::<TclCtx>(id).printed.extend(out.0);
    sync_names(interp, id);
    match r {
        Ok(()) => molt_ok!(),
        Err(e) => molt_err!(e.to_string()),
    }
}
