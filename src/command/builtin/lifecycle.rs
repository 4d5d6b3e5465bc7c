//! `init`, `shutdown`, `exit`, `version`, `help`, `usage`, `sleep`, `echo`, `script`, `set`,
//! `eval`.

use std::time::Duration;

use super::parse_u64;
use crate::command::{CommandError, CommandSpec, Ctx, Mode, Registry, bad_args, command};
use crate::host::Shutdown;

/// The version banner, as `version` and `--version` print it.
pub fn banner() -> String {
    format!(
        "stdbg {} (virtual STM32 + probe-rs {})",
        env!("CARGO_PKG_VERSION"),
        "0.32"
    )
}

/// `help` and `usage`: one line per command whose name contains the arguments (joined), or an
/// error naming the text when none does.
fn list_commands(
    ctx: &mut Ctx<'_>,
    args: &[String],
    what: &str,
    line: impl Fn(&CommandSpec) -> String,
) -> Result<(), CommandError> {
    let filter = args.join(" ");
    let lines: Vec<String> = {
        let reg = ctx.host.registry();
        reg.iter()
            .filter(|c| filter.is_empty() || c.name.contains(&filter))
            .map(line)
            .collect()
    };
    if lines.is_empty() {
        return Err(CommandError::failed(format!(
            "No {what} for '{filter}': no command name contains it"
        )));
    }
    for l in lines {
        ctx.println(l);
    }
    Ok(())
}

/// A wait time in milliseconds, at most [`crate::host::jobs::MAX_WAIT_MS`] (one day).
pub fn wait_ms(word: &str) -> Result<u64, CommandError> {
    let ms = parse_u64(word)?;
    let max = crate::host::jobs::MAX_WAIT_MS;
    if ms > max {
        return Err(crate::command::usage_error(format!(
            "{ms} ms is more than one day ({max} ms), the longest wait a command takes"
        )));
    }
    Ok(ms)
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "init",
        Mode::Any,
        "",
        "Connect to the adapter and examine the targets (runs once; later calls do nothing).",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            ctx.host.init(ctx)
        },
    ));
    reg.add(command(
        "shutdown",
        Mode::Any,
        "['error']",
        "Shut the debug host down; 'shutdown error' exits with status 1.",
        |ctx, args| match args {
            [] => {
                ctx.println("shutdown command invoked");
                ctx.host.request_shutdown(Shutdown::Ok);
                Ok(())
            }
            [e] if e == "error" => {
                ctx.host.request_shutdown(Shutdown::Error);
                Err(CommandError::ShutdownError)
            }
            _ => Err(bad_args()),
        },
    ));
    reg.add(command(
        "exit",
        Mode::Any,
        "",
        "Close this console session (the host keeps running).",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            ctx.close_session = true;
            Ok(())
        },
    ));
    reg.add(command(
        "version",
        Mode::Any,
        "",
        "Print the version.",
        |ctx, _| {
            ctx.println(banner());
            Ok(())
        },
    ));
    reg.add(command(
        "help",
        Mode::Any,
        "[command]",
        "List commands with their usage, or those whose name contains the given text.",
        |ctx, args| {
            list_commands(ctx, args, "help", |c| {
                let u = format!("{} {}", c.name, c.usage).trim_end().to_string();
                format!("{u:<40} {}", c.help).trim_end().to_string()
            })
        },
    ));
    reg.add(command(
        "usage",
        Mode::Any,
        "[command]",
        "Print the usage of the commands whose name contains the given text.",
        |ctx, args| {
            list_commands(ctx, args, "usage", |c| {
                format!("{} {}", c.name, c.usage).trim_end().to_string()
            })
        },
    ));
    reg.add(command(
        "sleep",
        Mode::Any,
        "milliseconds ['busy']",
        "Wait the given time (at most one day); the other consoles and GDB are served meanwhile, Ctrl-C ends it.",
        |ctx, args| {
            let ms = match args {
                [ms] | [ms, _] => wait_ms(ms)?,
                _ => return Err(bad_args()),
            };
            // Serves the other front ends and keeps announcing target state changes while
            // sleeping (like OpenOCD's polling); Ctrl-C / telnet interrupt end it.
            ctx.host.pause("sleep", Duration::from_millis(ms))
        },
    ));
    reg.add(command(
        "echo",
        Mode::Any,
        "['-n'] string",
        "Print a line (with -n, the console prints it without a newline).",
        |ctx, args| {
            let words: Vec<&str> = args
                .iter()
                .map(|s| s.as_str())
                .filter(|s| *s != "-n")
                .collect();
            // On the command line, `echo` writes to stderr as OpenOCD's does (a log message):
            // IDEs wait there for markers such as Eclipse's "Started by GNU MCU Eclipse".
            // Command output proper stays on stdout for pipelines (docs/commands.md).
            if ctx.origin == crate::command::Origin::Cli {
                use std::io::Write;
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}", words.join(" "));
                let _ = err.flush();
            } else {
                ctx.println(words.join(" "));
            }
            Ok(())
        },
    ));
    reg.add(command(
        "script",
        Mode::Any,
        "filename",
        "Run a Rhai script file (searched like -f).",
        |ctx, args| {
            let [file] = args else { return Err(bad_args()) };
            let host = ctx.host.clone();
            host.script().run_file(ctx, file)
        },
    ));
    reg.add(command(
        "set",
        Mode::Any,
        "name value",
        "Set a global script variable (numbers are parsed, e.g. set FLASH_SIZE 0x20000).",
        |ctx, args| {
            let [name, value] = args else {
                return Err(bad_args());
            };
            let v = match parse_u64(value) {
                Ok(n) => rhai::Dynamic::from(n as i64),
                Err(_) => rhai::Dynamic::from(value.clone()),
            };
            ctx.host.script().set_var(name, v)?;
            Ok(())
        },
    ));
    reg.add(command(
        "eval",
        Mode::Any,
        "rhai_code",
        "Evaluate Rhai code in the global scope and print its value.",
        |ctx, args| {
            if args.is_empty() {
                return Err(bad_args());
            }
            let code = args.join(" ");
            let host = ctx.host.clone();
            let v = host.script().run_text(ctx, "<eval>", &code)?;
            if !v.is_unit() {
                ctx.println(v.to_string());
            }
            Ok(())
        },
    ));
}
