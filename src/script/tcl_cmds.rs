//! The Tcl commands stdbg adds to molt's for OpenOCD's config files (see [`super::tcl`]):
//! `puts`, `source`, `info script`, `try`, `eval`, `using_jtag`/`using_swd`/`using_hla`.

use molt::types::{ContextID, Exception, MoltResult, ResultCode, Value};
use molt::{Interp, molt_err, molt_ok};

use super::find::{self, ScriptSource};
use super::tcl::{self, TclCtx};

/// Command names that are Tcl's even where the dispatcher has a command of the same name
/// (`set` of a Tcl variable, Tcl's `eval`, `source` of Tcl or Rhai).
pub(crate) const TCL_OWN: &[&str] = &["set", "eval", "source", "puts", "info", "molt_info"];

/// Replaces molt's `exit` (it would end the process without saving the virtual chip's flash),
/// `source` and `puts`, and adds stdbg's commands.
pub(crate) fn install(interp: &mut Interp, id: ContextID) {
    interp.remove_command("exit");
    interp.remove_command("source");
    interp.remove_command("puts");
    interp.rename_command("info", "molt_info");
    interp.add_context_command("info", info, id);
    interp.add_context_command("puts", puts, id);
    interp.add_context_command("source", source, id);
    interp.add_context_command("try", try_cmd, id);
    interp.add_context_command("eval", eval, id);
    interp.add_context_command("while", while_cmd, id);
    interp.add_context_command("for", for_cmd, id);
    interp.add_context_command("using_jtag", using_jtag, id);
    interp.add_context_command("using_swd", using_swd, id);
    interp.add_context_command("using_hla", using_hla, id);
}

fn ctx(interp: &mut Interp, id: ContextID) -> &mut TclCtx {
    interp.context::<TclCtx>(id)
}

/// `puts ?-nonewline? ?channelId? string`: a console line (OpenOCD prints `puts` to its log,
/// whatever the channel).
fn puts(interp: &mut Interp, id: ContextID, argv: &[Value]) -> MoltResult {
    let mut args: Vec<&str> = argv[1..].iter().map(|v| v.as_str()).collect();
    if args.first() == Some(&"-nonewline") {
        args.remove(0);
    }
    let text = match args.as_slice() {
        [text] | [_, text] => text.to_string(),
        _ => return molt_err!("wrong # args: should be \"puts ?-nonewline? ?channelId? string\""),
    };
    ctx(interp, id).printed.push(text);
    molt_ok!()
}

/// `info script` (the file being sourced); the other `info` subcommands are molt's.
fn info(interp: &mut Interp, id: ContextID, argv: &[Value]) -> MoltResult {
    if argv.get(1).map(|v| v.as_str()) == Some("script") {
        let s = ctx(interp, id).scripts.last().cloned().unwrap_or_default();
        return molt_ok!(s);
    }
    let mut cmd = vec![Value::from("molt_info")];
    cmd.extend_from_slice(&argv[1..]);
    interp.eval_value(&Value::from(cmd))
}

/// One loop iteration: stops a runaway loop (more than [`tcl::MAX_TCL_ITERATIONS`], Ctrl-C, or
/// more than [`tcl::MAX_TCL_VAR_BYTES`] in the variables in view).
fn tick(interp: &mut Interp, id: ContextID) -> Result<(), Exception> {
    let c = ctx(interp, id);
    c.iterations += 1;
    let n = c.iterations;
    if n > tcl::MAX_TCL_ITERATIONS {
        return molt_err!(
            "more than {} loop iterations in one Tcl run: a runaway loop? check the loop's condition",
            tcl::MAX_TCL_ITERATIONS
        );
    }
    if n.is_multiple_of(64) && c.host.upgrade().is_none_or(|h| h.script().is_cancelled()) {
        return molt_err!("the Tcl run was cancelled (Ctrl-C or shutdown)");
    }
    // Every iteration: a loop doubling a string reaches gigabytes within 40 iterations.
    {
        let mut bytes = 0usize;
        for v in interp
            .vars_in_scope()
            .iter()
            .chain(interp.vars_in_global_scope().iter())
        {
            if let Ok(x) = interp.scalar(v.as_str()) {
                bytes += x.as_str().len();
            }
        }
        if bytes > tcl::MAX_TCL_VAR_BYTES {
            return molt_err!(
                "the Tcl variables hold more than {} MiB: a runaway loop? configuration files need a few KiB",
                tcl::MAX_TCL_VAR_BYTES >> 20
            );
        }
    }
    Ok(())
}

/// Tcl's `while test body`, with the runaway checks of [`tick`].
fn while_cmd(interp: &mut Interp, id: ContextID, argv: &[Value]) -> MoltResult {
    let [_, test, body] = argv else {
        return molt_err!("wrong # args: should be \"while test command\"");
    };
    while interp.expr_bool(test)? {
        tick(interp, id)?;
        if let Err(e) = interp.eval_value(body) {
            match e.code() {
                ResultCode::Break => break,
                ResultCode::Continue => {}
                _ => return Err(e),
            }
        }
    }
    molt_ok!()
}

/// Tcl's `for start test next body`, with the runaway checks of [`tick`].
fn for_cmd(interp: &mut Interp, id: ContextID, argv: &[Value]) -> MoltResult {
    let [_, start, test, next, body] = argv else {
        return molt_err!("wrong # args: should be \"for start test next command\"");
    };
    interp.eval_value(start)?;
    while interp.expr_bool(test)? {
        tick(interp, id)?;
        if let Err(e) = interp.eval_value(body) {
            match e.code() {
                ResultCode::Break => break,
                ResultCode::Continue => {}
                _ => return Err(e),
            }
        }
        if let Err(e) = interp.eval_value(next) {
            match e.code() {
                ResultCode::Break => break,
                _ => return Err(e),
            }
        }
    }
    molt_ok!()
}

/// `eval arg ?arg …?`: the arguments joined by spaces, evaluated.
fn eval(interp: &mut Interp, _: ContextID, argv: &[Value]) -> MoltResult {
    if argv.len() < 2 {
        return molt_err!("wrong # args: should be \"eval arg ?arg ...?\"");
    }
    let text: Vec<&str> = argv[1..].iter().map(|v| v.as_str()).collect();
    super::tcl::checked_eval(interp, &text.join(" "))
}

/// stdbg talks SWD to every chip (there is no JTAG transport).
fn using_jtag(_: &mut Interp, _: ContextID, _: &[Value]) -> MoltResult {
    molt_ok!(false)
}

fn using_swd(_: &mut Interp, _: ContextID, _: &[Value]) -> MoltResult {
    molt_ok!(true)
}

/// ST-Links are driven through probe-rs in DAP mode, never as OpenOCD's HLA adapter.
fn using_hla(_: &mut Interp, _: ContextID, _: &[Value]) -> MoltResult {
    molt_ok!(false)
}

/// `source filename`: a Tcl file runs in this interpreter; a Rhai script (a built-in one
/// included, `source [find target/stm32f1x.cfg]`) runs in the Rhai engine with the capitalised
/// Tcl globals handed over, and the Rhai globals it sets handed back.
fn source(interp: &mut Interp, id: ContextID, argv: &[Value]) -> MoltResult {
    let [_, name] = argv else {
        return molt_err!("wrong # args: should be \"source fileName\"");
    };
    let name = name.as_str().to_string();
    let Some(host) = ctx(interp, id).host.upgrade() else {
        return molt_err!("stdbg is shutting down");
    };
    let Some(src) = find::find(&host, &name) else {
        return molt_err!(
            "couldn't read file \"{name}\": it is not in the -s directories, the current directory or the built-in scripts"
        );
    };
    let display = src.display_name();
    let is_tcl = match &src {
        ScriptSource::File(p) => tcl::is_tcl_name(&p.to_string_lossy()),
        ScriptSource::Embedded(n, _) => tcl::is_tcl_name(n),
    };
    if is_tcl {
        let text = match src.read() {
            Ok(t) => t,
            Err(e) => return molt_err!(e.to_string()),
        };
        ctx(interp, id).scripts.push(display.clone());
        let r = super::tcl::checked_eval(interp, &text);
        ctx(interp, id).scripts.pop();
        return r.map_err(|e| in_file(e, &display));
    }
    // Rhai: hand over the configuration variables (CHIPNAME, WORKAREASIZE, …).
    export_tcl_globals(interp, &host);
    let key = match &src {
        ScriptSource::Embedded(n, _) => format!("<builtin>/{n}"),
        ScriptSource::File(p) => p.to_string_lossy().into_owned(),
    };
    let r = tcl::run_printed(interp, id, &["script".to_string(), key]);
    import_rhai_globals(interp, &host);
    r
}

/// The Tcl globals in capitals become Rhai globals (numbers as integers).
pub(crate) fn export_tcl_globals(interp: &mut Interp, host: &crate::host::Host) {
    for var in interp.vars_in_global_scope().iter() {
        let n = var.as_str();
        if !is_config_name(n) {
            continue;
        }
        if let Ok(v) = interp.scalar(n) {
            let value = match parse_int(v.as_str()) {
                Some(i) => rhai::Dynamic::from(i),
                None => rhai::Dynamic::from(v.as_str().to_string()),
            };
            let _ = host.script().set_var(n, value);
        }
    }
}

/// The Rhai globals in capitals or starting with `_` (`_TARGETNAME`) become Tcl globals.
pub(crate) fn import_rhai_globals(interp: &mut Interp, host: &crate::host::Host) {
    for (n, v) in host.script().globals() {
        if n.starts_with('_') || is_config_name(&n) {
            let _ = interp.set_scalar(&n, Value::from(v));
        }
    }
}

/// OpenOCD's configuration variables are in capitals: `CHIPNAME`, `FLASH_SIZE`, `CPUTAPID`.
fn is_config_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && n.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

fn in_file(mut e: Exception, file: &str) -> Exception {
    if e.code() == ResultCode::Error {
        e.add_error_info(&format!("    (file \"{file}\")"));
    }
    e
}

/// `try body ?on code varList script …? ?finally script?` (Tcl 8.6's `try`, without `trap`).
fn try_cmd(interp: &mut Interp, _: ContextID, argv: &[Value]) -> MoltResult {
    const USAGE: &str =
        "wrong # args: should be \"try body ?on code varList script ...? ?finally script?\"";
    if argv.len() < 2 {
        return molt_err!(USAGE);
    }
    let mut handlers = Vec::new();
    let mut finally = None;
    let mut i = 2;
    while i < argv.len() {
        match argv[i].as_str() {
            "on" if i + 3 < argv.len() => {
                let code = match argv[i + 1].as_str() {
                    "ok" => 0,
                    "error" => 1,
                    "return" => 2,
                    "break" => 3,
                    "continue" => 4,
                    n => match n.parse::<i64>() {
                        Ok(c) => c,
                        Err(_) => {
                            return molt_err!(
                                "bad completion code \"{n}\": must be ok, error, return, break, continue, or an integer"
                            );
                        }
                    },
                };
                handlers.push((code, argv[i + 2].clone(), argv[i + 3].clone()));
                i += 4;
            }
            "finally" if i + 2 == argv.len() => {
                finally = Some(argv[i + 1].clone());
                i += 2;
            }
            "trap" => return molt_err!("try: 'trap' clauses are not supported; use 'on error'"),
            _ => return molt_err!(USAGE),
        }
    }
    let r = interp.eval_value(&argv[1]);
    let (code, value) = match &r {
        Ok(v) => (0, v.clone()),
        Err(e) => (
            match e.code() {
                ResultCode::Okay => 0,
                ResultCode::Error => 1,
                ResultCode::Return => 2,
                ResultCode::Break => 3,
                ResultCode::Continue => 4,
                ResultCode::Other(n) => n,
            },
            e.value(),
        ),
    };
    let mut out = r;
    if let Some((_, vars, script)) = handlers.iter().find(|(c, _, _)| *c == code) {
        let vars = vars.as_list()?;
        if let Some(v) = vars.first() {
            interp.set_var(v, value.clone())?;
        }
        if let Some(v) = vars.get(1) {
            interp.set_var(v, Value::from(format!("-code {code}")))?;
        }
        out = interp.eval_value(script);
    }
    if let Some(f) = finally {
        interp.eval_value(&f)?;
    }
    out
}
