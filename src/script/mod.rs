//! The Rhai engine: runs interface, board and target scripts, and exposes the host to them.
//!
//! Scripts run on the host thread, in one global [`Scope`] shared by every `-f` file and every
//! `source(…)` (like OpenOCD's `source [find …]`). Every dispatcher command is callable as a
//! function returning its output (`mdw(0x08000000, 4)`, `reset("halt")`), `cmd("any line")` runs
//! a whole line, and scripts can register new commands and target event handlers. The object
//! model (`adapter`, `transport`, targets, flash banks) is in [`objects`].

pub mod find;
pub mod objects;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Position, Scope, AST};

use crate::command::{self, Collect, CommandError, Ctx, Origin};
use crate::host::{Host, WeakHost};

/// The operation limit after which a script is stopped as runaway.
pub const MAX_OPERATIONS: u64 = 50_000_000;

/// A Rhai closure kept for later (an event handler or a script-registered command), with the
/// script it was defined in (Rhai needs that script's function library to call it).
#[derive(Clone)]
pub struct Callback {
    /// The closure.
    pub fnptr: FnPtr,
    /// The script that defined it.
    pub ast: Arc<AST>,
    /// Where it was registered, for messages (`file:line`).
    pub origin: String,
}

/// The engine and the global scope.
pub struct ScriptEngine {
    engine: Engine,
    scope: Mutex<Option<Scope<'static>>>,
    asts: Arc<Mutex<Vec<(Arc<AST>, String)>>>,
    printed: Arc<Mutex<Vec<String>>>,
    cancel: Arc<AtomicBool>,
}

/// Formats a Rhai error as `file:line:column: message` plus the call chain.
pub fn format_error(err: &EvalAltResult, file: &str) -> String {
    let mut lines = Vec::new();
    let mut cur = err;
    let mut file = file.to_string();
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                let here = if src.is_empty() { file.clone() } else { src.clone() };
                lines.push(format!("  in call to function '{name}' at {}", at(&file, *pos)));
                file = here;
                cur = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                lines.push(format!("  in module '{name}' at {}", at(&file, *pos)));
                cur = inner;
            }
            other => {
                let pos = other.position();
                let mut msg = other.to_string();
                // Rhai appends " (line L, position C)"; we print file:line:column instead.
                if let Some(i) = msg.rfind(" (line ") {
                    msg.truncate(i);
                }
                let msg = match other {
                    EvalAltResult::ErrorTooManyOperations(_) => format!(
                        "script stopped after {MAX_OPERATIONS} operations: it looks like an endless loop; fix the loop (or split the work into smaller steps)"
                    ),
                    EvalAltResult::ErrorTerminated(..) => "script cancelled by the user".to_string(),
                    _ => msg,
                };
                let mut out = format!("{}: {msg}", at(&file, pos));
                for l in lines.iter().rev() {
                    out.push('\n');
                    out.push_str(l);
                }
                return out;
            }
        }
    }
}

fn at(file: &str, pos: Position) -> String {
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
/// the dispatcher parses either), strings as they are.
pub fn to_word(v: &Dynamic) -> String {
    if let Ok(i) = v.as_int() {
        if i < 0 { i.to_string() } else { format!("{i:#x}") }
    } else if let Some(s) = v.clone().try_cast::<ImmutableString>() {
        s.to_string()
    } else if let Ok(b) = v.as_bool() {
        if b { "1".into() } else { "0".into() }
    } else {
        v.to_string()
    }
}

fn host_of(weak: &WeakHost) -> Result<Host, Box<EvalAltResult>> {
    weak.upgrade().ok_or_else(|| "the debug host has shut down".into())
}

impl ScriptEngine {
    /// Builds the engine: limits, printing, `cmd`, one function per command, `source`, `find`,
    /// and the object model.
    pub fn new(host: &Host) -> Self {
        let mut engine = Engine::new();
        engine.set_max_operations(MAX_OPERATIONS);
        engine.set_max_call_levels(64);
        engine.set_max_expr_depths(128, 64);
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let cancel = cancel.clone();
            engine.on_progress(move |_| {
                if cancel.swap(false, Ordering::SeqCst) { Some("cancelled".into()) } else { None }
            });
        }
        let printed: Arc<Mutex<Vec<String>>> = Arc::default();
        {
            let p = printed.clone();
            engine.on_print(move |s| p.lock().unwrap_or_else(|e| e.into_inner()).push(s.to_string()));
            let p = printed.clone();
            engine.on_debug(move |s, src, pos| {
                let at = at(src.unwrap_or("script"), pos);
                p.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{at}: {s}"))
            });
        }
        let weak = host.downgrade();
        {
            let w = weak.clone();
            engine.register_fn("cmd", move |line: &str| -> Result<String, Box<EvalAltResult>> {
                run_line(&host_of(&w)?, line)
            });
        }
        // One function per top-level command word, with 0 to 6 arguments.
        let words = host.registry().top_level_words();
        for word in words {
            if matches!(word.as_str(), "print" | "debug" | "eval" | "source" | "exit" | "sleep" | "find") {
                continue;
            }
            register_command_fn(&mut engine, &word, &weak);
        }
        {
            let w = weak.clone();
            engine.register_fn("sleep", move |ms: i64| -> Result<String, Box<EvalAltResult>> {
                run_line(&host_of(&w)?, &format!("sleep {ms}"))
            });
            let w = weak.clone();
            engine.register_fn("find", move |name: &str| -> Result<String, Box<EvalAltResult>> {
                let host = host_of(&w)?;
                match find::find(&host, name) {
                    Some(s) => Ok(s.display_name()),
                    None => Err(format!("find: can't find {name}: not in the -s directories, the current directory or the built-in scripts").into()),
                }
            });
        }
        let asts: Arc<Mutex<Vec<(Arc<AST>, String)>>> = Arc::default();
        {
            let w = weak.clone();
            let asts = asts.clone();
            engine
                .register_custom_syntax(["source", "(", "$expr$", ")"], false, move |ctx, inputs| {
                    let name = ctx.eval_expression_tree(&inputs[0])?.into_string()?;
                    let host = host_of(&w)?;
                    let src = find::find(&host, &name).ok_or_else(|| -> Box<EvalAltResult> {
                        format!("source: can't find {name}: not in the -s directories, the current directory or the built-in scripts").into()
                    })?;
                    let display = src.display_name();
                    let text = src.read().map_err(|e| -> Box<EvalAltResult> { format!("source: can't read {display}: {e}").into() })?;
                    let mut ast = ctx.engine().compile(&text).map_err(|e| -> Box<EvalAltResult> {
                        let pe: EvalAltResult = e.into();
                        format_error(&pe, &display).into()
                    })?;
                    ast.set_source(display.clone());
                    let ast = Arc::new(ast);
                    asts.lock().unwrap_or_else(|e| e.into_inner()).push((ast.clone(), display.clone()));
                    let r = ctx.engine().run_ast_with_scope(ctx.scope_mut(), &ast);
                    asts.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    r.map_err(|e| -> Box<EvalAltResult> { format_error(&e, &display).into() })?;
                    Ok(Dynamic::UNIT)
                })
                .expect("registering the source syntax");
        }
        objects::register(&mut engine, &weak, asts.clone());
        let mut scope = Scope::new();
        scope.push("adapter", objects::AdapterHandle::new(&weak));
        scope.push("transport", objects::TransportHandle::new(&weak));
        ScriptEngine { engine, scope: Mutex::new(Some(scope)), asts, printed, cancel }
    }

    /// The Rhai engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Stops the running script at its next operation (e.g. Ctrl-C in the REPL).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Sets a global variable (e.g. `set FLASH_SIZE 0x20000`, or the overrides `CHIPNAME`,
    /// `WORKAREASIZE`, `FLASH_SIZE`, `CPUTAPID`).
    pub fn set_var(&self, name: &str, value: Dynamic) {
        let mut g = self.scope.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(scope) = g.as_mut() {
            scope.set_or_push(name.to_string(), value);
        }
    }

    /// Reads a global variable.
    pub fn get_var(&self, name: &str) -> Option<Dynamic> {
        let g = self.scope.lock().unwrap_or_else(|e| e.into_inner());
        g.as_ref().and_then(|s| s.get_value::<Dynamic>(name))
    }

    fn flush_printed(&self, ctx: &mut Ctx<'_>) {
        let lines: Vec<String> = std::mem::take(&mut *self.printed.lock().unwrap_or_else(|e| e.into_inner()));
        for l in lines {
            ctx.println(l);
        }
    }

    /// Runs script text in the global scope; `name` is used in error positions.
    pub fn run_text(&self, ctx: &mut Ctx<'_>, name: &str, text: &str) -> Result<Dynamic, CommandError> {
        let mut ast = self.engine.compile(text).map_err(|e| {
            let pe: EvalAltResult = e.into();
            CommandError::failed(format_error(&pe, name))
        })?;
        ast.set_source(name.to_string());
        let ast = Arc::new(ast);
        // Take the scope out so nested runs (a command run from a script that runs a script)
        // get a fresh scope instead of a deadlock.
        let mut scope = self.scope.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        self.asts.lock().unwrap_or_else(|e| e.into_inner()).push((ast.clone(), name.to_string()));
        let r = self.engine.eval_ast_with_scope::<Dynamic>(&mut scope, &ast);
        self.asts.lock().unwrap_or_else(|e| e.into_inner()).pop();
        {
            let mut g = self.scope.lock().unwrap_or_else(|e| e.into_inner());
            if g.is_none() {
                *g = Some(scope);
            }
        }
        self.flush_printed(ctx);
        r.map_err(|e| CommandError::failed(format_error(&e, name)))
    }

    /// Finds and runs a script file (`-f`, `script`).
    pub fn run_file(&self, ctx: &mut Ctx<'_>, name: &str) -> Result<(), CommandError> {
        let src = find::find(ctx.host, name).ok_or_else(|| {
            CommandError::failed(format!(
                "Can't find {name}: it is not in the -s directories, the current directory or the built-in scripts ({})",
                find::builtin_names().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let display = src.display_name();
        let text = src
            .read()
            .map_err(|e| CommandError::failed(format!("can't read {display}: {e}")))?;
        self.run_text(ctx, &display, &text).map(|_| ())
    }

    /// Calls an event handler. The closure may take no argument or the target name.
    pub fn call_event(&self, ctx: &mut Ctx<'_>, cb: &Callback, target: &str, event: &str) -> Result<(), CommandError> {
        let r = if cb.fnptr.curry().is_empty() && fn_arity(cb) == Some(1) {
            cb.fnptr.call::<Dynamic>(&self.engine, &cb.ast, (target.to_string(),))
        } else {
            cb.fnptr.call::<Dynamic>(&self.engine, &cb.ast, ())
        };
        self.flush_printed(ctx);
        r.map(|_| ()).map_err(|e| {
            CommandError::failed(format!("{} (handler for '{event}' registered at {})", format_error(&e, &cb.origin), cb.origin))
        })
    }

    /// Calls a script-registered command handler with the command's arguments as an array of
    /// strings; a returned string is printed.
    pub fn call_command(&self, ctx: &mut Ctx<'_>, cb: &Callback, args: &[String]) -> Result<(), CommandError> {
        let arr: rhai::Array = args.iter().map(|a| Dynamic::from(a.clone())).collect();
        let r = cb.fnptr.call::<Dynamic>(&self.engine, &cb.ast, (arr,));
        self.flush_printed(ctx);
        match r {
            Ok(v) => {
                if !v.is_unit() {
                    ctx.println(v.to_string());
                }
                Ok(())
            }
            Err(e) => Err(CommandError::failed(format_error(&e, &cb.origin))),
        }
    }

    /// The script currently running (innermost), for registering callbacks.
    pub fn current_ast(&self) -> Option<(Arc<AST>, String)> {
        self.asts.lock().unwrap_or_else(|e| e.into_inner()).last().cloned()
    }
}

fn fn_arity(cb: &Callback) -> Option<usize> {
    let name = cb.fnptr.fn_name();
    cb.ast.iter_functions().find(|f| f.name == name).map(|f| f.params.len())
}

fn register_command_fn(engine: &mut Engine, word: &str, weak: &WeakHost) {
    fn line(word: &str, args: &[&Dynamic]) -> String {
        let mut l = word.to_string();
        for a in args {
            l.push(' ');
            l.push_str(&command::parse::quote_word(&to_word(a)));
        }
        l
    }
    macro_rules! reg {
        ($($a:ident),*) => {{
            let w = weak.clone();
            let word_s = word.to_string();
            engine.register_fn(word, move |$($a: Dynamic),*| -> Result<String, Box<EvalAltResult>> {
                run_line(&host_of(&w)?, &line(&word_s, &[$(&$a),*]))
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
