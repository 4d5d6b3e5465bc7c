//! OpenOCD 0.12's ARM semihosting commands (`src/target/semihosting_common.c`):
//! `arm semihosting [enable|disable]`, `arm semihosting_fileio`, `arm semihosting_cmdline`,
//! `arm semihosting_resexit`, `arm semihosting_redirect`, `arm semihosting_basedir`, with
//! OpenOCD's output lines. The calls themselves are served by `host/semihosting*.rs`.
//!
//! Difference from OpenOCD: these commands work before `init` too (the state is the host's,
//! not the examined target's), so `-c "arm semihosting enable" -c "program app.elf reset"`
//! works as written.

use crate::command::{CommandError, Ctx, Mode, Registry, command, usage_error};
use crate::host::semihosting::RedirectCfg;

/// OpenOCD's `COMMAND_PARSE_ENABLE`: `enable` or `disable`.
fn parse_enable(word: &str) -> Result<bool, CommandError> {
    match word {
        "enable" => Ok(true),
        "disable" => Ok(false),
        other => Err(usage_error(format!(
            "\"{other}\" is neither 'enable' nor 'disable'"
        ))),
    }
}

fn words(b: bool) -> &'static str {
    if b { "enabled" } else { "disabled" }
}

/// OpenOCD's refusal of the sub-options while semihosting is off.
fn require_enabled(ctx: &Ctx<'_>) -> Result<(), CommandError> {
    if ctx.host.semihosting().enabled {
        return Ok(());
    }
    Err(CommandError::failed(
        "semihosting not yet enabled for current target: run `arm semihosting enable` first",
    ))
}

fn semihosting(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    if args.len() > 1 {
        return Err(usage_error("at most one word: enable or disable"));
    }
    if let Some(w) = args.first() {
        let on = parse_enable(w)?;
        let mut s = ctx.host.semihosting();
        if on && !s.enabled {
            s.started = std::time::Instant::now();
            s.warned_input = false;
        }
        if !on {
            s.close_all();
        }
        s.enabled = on;
    }
    let on = ctx.host.semihosting().enabled;
    ctx.println(format!("semihosting is {}", words(on)));
    Ok(())
}

fn fileio(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    require_enabled(ctx)?;
    if args.len() > 1 {
        return Err(usage_error("at most one word: enable or disable"));
    }
    if let Some(w) = args.first() {
        let on = parse_enable(w)?;
        ctx.host.semihosting().fileio = on;
    }
    let on = ctx.host.semihosting().fileio;
    ctx.println(format!("semihosting fileio is {}", words(on)));
    Ok(())
}

fn cmdline(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let line = (!args.is_empty()).then(|| args.join(" "));
    ctx.host.semihosting().cmdline = line.clone();
    ctx.println(format!(
        "semihosting command line is [{}]",
        line.unwrap_or_default()
    ));
    Ok(())
}

fn resexit(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    require_enabled(ctx)?;
    if args.len() > 1 {
        return Err(usage_error("at most one word: enable or disable"));
    }
    if let Some(w) = args.first() {
        ctx.host.semihosting().resexit = parse_enable(w)?;
    }
    let on = ctx.host.semihosting().resexit;
    ctx.println(format!("semihosting resumable exit is {}", words(on)));
    Ok(())
}

fn redirect(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    require_enabled(ctx)?;
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let (port, cfg) = match words.as_slice() {
        [] => {
            let w = ctx.host.semihosting().redirect_words();
            ctx.println(w);
            return Ok(());
        }
        ["disable"] => {
            ctx.host.semihosting().redirect_off();
            return Ok(());
        }
        ["tcp", port, rest @ ..] if rest.len() <= 1 => {
            let port: u16 = port
                .parse()
                .map_err(|_| usage_error(format!("\"{port}\" is not a TCP port number")))?;
            let cfg = match rest.first().copied() {
                None | Some("all") => RedirectCfg::All,
                Some("debug") => RedirectCfg::Debug,
                Some("stdio") => RedirectCfg::Stdio,
                Some(other) => {
                    return Err(usage_error(format!(
                        "\"{other}\" is not one of debug, stdio, all"
                    )));
                }
            };
            (port, cfg)
        }
        _ => {
            return Err(usage_error(
                "expected 'disable' or 'tcp <port> [debug|stdio|all]'",
            ));
        }
    };
    let target = ctx
        .host
        .current_target()
        .map(|(n, _)| n)
        .unwrap_or_else(|_| "target".into());
    let r = ctx.host.semihosting().redirect_tcp(port, cfg);
    match r {
        Ok(p) => {
            tracing::info!("Listening on port {p} for {target} semihosting service connections");
            Ok(())
        }
        Err(e) => Err(CommandError::failed(format!(
            "failed to initialize {target} semihosting service: cannot listen on 127.0.0.1:{port}: {e}; choose another port (0 picks a free one)"
        ))),
    }
}

fn basedir(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    require_enabled(ctx)?;
    if args.len() > 1 {
        return Err(usage_error("at most one directory"));
    }
    if let Some(d) = args.first() {
        let p = std::path::PathBuf::from(d);
        if !p.is_dir() {
            return Err(CommandError::failed(format!(
                "semihosting base dir {d} is not a directory: create it first, or give an existing one"
            )));
        }
        ctx.host.semihosting().basedir = Some(p);
    }
    let shown = ctx
        .host
        .semihosting()
        .basedir
        .as_ref()
        .map(|b| b.display().to_string())
        .unwrap_or_default();
    ctx.println(format!("semihosting base dir: {shown}"));
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "arm semihosting",
        Mode::Any,
        "['enable'|'disable']",
        "activate support for semihosting operations",
        semihosting,
    ));
    reg.add(command(
        "arm semihosting_fileio",
        Mode::Any,
        "['enable'|'disable']",
        "activate support for semihosting fileio operations",
        fileio,
    ));
    reg.add(command(
        "arm semihosting_cmdline",
        Mode::Any,
        "arguments",
        "command line arguments to be passed to program",
        cmdline,
    ));
    reg.add(command(
        "arm semihosting_resexit",
        Mode::Any,
        "['enable'|'disable']",
        "activate support for semihosting resumable exit",
        resexit,
    ));
    reg.add(command(
        "arm semihosting_redirect",
        Mode::Any,
        "(disable | tcp <port> ['debug'|'stdio'|'all'])",
        "redirect semihosting IO",
        redirect,
    ));
    reg.add(command(
        "arm semihosting_basedir",
        Mode::Any,
        "[dir]",
        "set the base directory for semihosting I/O operations",
        basedir,
    ));
}
