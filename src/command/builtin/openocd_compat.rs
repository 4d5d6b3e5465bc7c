//! OpenOCD 0.12 commands that IDE launch files and users' configs use, with OpenOCD's names and
//! output: `source`, `find`, `add_script_search_dir`, `noinit`, `poll_period`, `reset_nag`,
//! `debug_level`, `log_output`, `soft_reset_halt`, `cortex_m maskisr`, `cortex_m reset_config`,
//! `adapter srst delay|pulse_width`, the deprecated `hla_*` adapter commands and ST's
//! `WriteDP`/`ReadAP` (defined by STMicroelectronics' OpenOCD scripts; STM32CubeIDE sends them as
//! `monitor` commands to check the device).

use super::{parse_u32, parse_u64};
use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command, usage_error};
use crate::script::find::{self, ScriptSource};

fn setting_u64(
    ctx: &mut Ctx<'_>,
    args: &[String],
    get: impl Fn(&crate::host::config::CompatSettings) -> u64,
    set: impl Fn(&mut crate::host::config::CompatSettings, u64),
    label: &str,
) -> Result<(), CommandError> {
    match args {
        [] => {}
        [v] => {
            let n = parse_u64(v)?;
            set(&mut ctx.host.config().compat, n);
        }
        _ => return Err(bad_args()),
    }
    let n = get(&ctx.host.config().compat);
    ctx.println(format!("{label}{n}"));
    Ok(())
}

fn enable_word(word: &str) -> Result<bool, CommandError> {
    match word {
        "enable" | "on" => Ok(true),
        "disable" | "off" => Ok(false),
        other => Err(usage_error(format!(
            "\"{other}\" is neither 'enable' nor 'disable'"
        ))),
    }
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "source",
        Mode::Any,
        "filename",
        "Run a script file: Tcl (.cfg, .tcl) or Rhai, searched like -f (OpenOCD's source).",
        |ctx, args| {
            let [file] = args else { return Err(bad_args()) };
            let host = ctx.host.clone();
            host.script().run_file(ctx, file)
        },
    ));
    reg.add(command(
        "find",
        Mode::Any,
        "filename",
        "Print where a script is found (-s directories, current directory, built-in scripts).",
        |ctx, args| {
            let [file] = args else { return Err(bad_args()) };
            match find::find(ctx.host, file) {
                Some(ScriptSource::File(p)) => ctx.println(p.display().to_string()),
                Some(ScriptSource::Embedded(n, _)) => ctx.println(format!("<builtin>/{n}")),
                None => {
                    return Err(CommandError::failed(format!(
                        "Can't find {file}: it is not in the -s directories (add one with -s or add_script_search_dir), the current directory or the built-in scripts"
                    )));
                }
            }
            Ok(())
        },
    ));
    reg.add(command(
        "add_script_search_dir",
        Mode::Any,
        "[directory]",
        "Add a directory searched for scripts (like -s); without an argument, list them.",
        |ctx, args| {
            match args {
                [] => {
                    let dirs = ctx.host.config().search_dirs.clone();
                    for d in dirs {
                        ctx.println(d.display().to_string());
                    }
                }
                [d] => ctx.host.config().search_dirs.push(d.into()),
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
    reg.add(command(
        "noinit",
        Mode::Config,
        "",
        "Do not run 'init' after the command line's -f/-c (run it later, e.g. from telnet).",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            ctx.host.config().compat.noinit = true;
            Ok(())
        },
    ));
    reg.add(command(
        "poll_period",
        Mode::Any,
        "[milliseconds]",
        "How often a running target is polled, in ms (default 100).",
        |ctx, args| {
            setting_u64(
                ctx,
                args,
                |c| c.poll_period_ms,
                |c, v| c.poll_period_ms = v.clamp(1, 60_000),
                "background polling interval: ",
            )
        },
    ));
    reg.add(command(
        "reset_nag",
        Mode::Any,
        "['enable'|'disable']",
        "Accepted for OpenOCD launch files: stdbg explains reset problems when they happen.",
        |ctx, args| {
            if let [w] = args {
                ctx.host.config().compat.reset_nag = enable_word(w)?;
            } else if !args.is_empty() {
                return Err(bad_args());
            }
            let on = ctx.host.config().compat.reset_nag;
            ctx.println(format!(
                "reset_nag {}",
                if on { "enabled" } else { "disabled" }
            ));
            Ok(())
        },
    ));
    reg.add(command(
        "debug_level",
        Mode::Any,
        "[number]",
        "Log level: 0 errors, 1 warnings, 2 info (default), 3 debug, 4 debug with probe-rs.",
        |ctx, args| {
            match args {
                [] => {}
                [n] => {
                    let n = parse_u64(n)?;
                    if n > 4 {
                        return Err(usage_error(format!("{n} is not a debug level (0-4)")));
                    }
                    crate::log::set_debug_level(n as u8);
                }
                _ => return Err(bad_args()),
            }
            ctx.println(format!("debug_level: {}", crate::log::debug_level()));
            Ok(())
        },
    ));
    reg.add(command(
        "log_output",
        Mode::Any,
        "[filename|'default']",
        "Write the log to a file (appending), or back to stderr with 'default' or no argument.",
        |_ctx, args| {
            let path = match args {
                [] => None,
                [d] if d == "default" => None,
                [f] => Some(std::path::PathBuf::from(f)),
                _ => return Err(bad_args()),
            };
            crate::log::set_output(path.as_deref()).map_err(|e| {
                CommandError::failed(format!(
                    "can't open the log file {}: {e}; check the directory exists and is writable",
                    path.as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ))
            })
        },
    ));
    reg.add(command(
        "soft_reset_halt",
        Mode::Exec,
        "",
        "Deprecated in OpenOCD: runs 'reset halt'.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            tracing::warn!("soft_reset_halt is deprecated, please use 'reset halt' instead.");
            ctx.run("reset halt")
        },
    ));
    reg.add(command(
        "cortex_m maskisr",
        Mode::Any,
        "['auto'|'on'|'off'|'steponly']",
        "Interrupts while stepping and running: auto (pending ones run first), on, off, steponly.",
        |ctx, args| {
            if let [m] = args {
                if !["auto", "on", "off", "steponly"].contains(&m.as_str()) {
                    return Err(usage_error(format!(
                        "\"{m}\" is not one of auto, on, off, steponly"
                    )));
                }
                ctx.host.config().compat.maskisr = m.clone();
            } else if !args.is_empty() {
                return Err(bad_args());
            }
            let m = ctx.host.config().compat.maskisr.clone();
            ctx.println(format!("cortex_m interrupt mask {m}"));
            Ok(())
        },
    ));
    reg.add(command(
        "cortex_m reset_config",
        Mode::Any,
        "['sysresetreq'|'vectreset']",
        "How the current target's core is reset without NRST (AIRCR.SYSRESETREQ).",
        |ctx, args| {
            let mut t = ctx.host.targets();
            let cur = t.current;
            let Some(def) = t.list.get_mut(cur) else {
                return Err(CommandError::failed(
                    "no target yet: run the target script (e.g. -f target/stm32f1x.cfg) first",
                ));
            };
            match args {
                [] => {}
                [m] if m == "sysresetreq" => def.reset_type = m.clone(),
                [m] if m == "vectreset" => {
                    tracing::warn!(
                        "cortex_m reset_config vectreset: stdbg resets Cortex-M cores with AIRCR.SYSRESETREQ (VECTRESET does not reset the peripherals and is reserved on ARMv6-M); using sysresetreq"
                    );
                }
                _ => return Err(bad_args()),
            }
            let rt = def.reset_type.clone();
            drop(t);
            ctx.println(format!("cortex_m reset_config {rt}"));
            Ok(())
        },
    ));
    for (name, label) in [
        ("adapter srst delay", "adapter srst delay: "),
        ("adapter srst pulse_width", "adapter srst pulse_width: "),
    ] {
        let is_delay = name.ends_with("delay");
        reg.add(command(
            name,
            Mode::Any,
            "[milliseconds]",
            if is_delay {
                "Wait after releasing NRST before the debugger talks to the chip, ms."
            } else {
                "How long NRST is held low, ms."
            },
            move |ctx, args| {
                setting_u64(
                    ctx,
                    args,
                    |c| {
                        if is_delay {
                            c.srst_delay_ms
                        } else {
                            c.srst_pulse_width_ms
                        }
                    },
                    |c, v| {
                        let v = v.min(10_000);
                        if is_delay {
                            c.srst_delay_ms = v
                        } else {
                            c.srst_pulse_width_ms = v
                        }
                    },
                    label,
                )
            },
        ));
    }
    // OpenOCD 0.12's deprecated HLA commands: the ST-Link is driven by probe-rs, which finds it
    // by its USB IDs itself.
    for name in ["hla_layout", "hla_device_desc", "hla_vid_pid", "hla_type"] {
        reg.add(command(
            name,
            Mode::Config,
            "args ...",
            "Accepted for old ST-Link configs (probe-rs finds the probe by its USB IDs).",
            move |_ctx, _args| {
                tracing::debug!("{name}: not needed, probe-rs finds ST-Links by their USB IDs");
                Ok(())
            },
        ));
    }
    reg.add(command(
        "hla_serial",
        Mode::Config,
        "serial_string",
        "Deprecated: use 'adapter serial'.",
        |ctx, args| {
            let [s] = args else { return Err(bad_args()) };
            ctx.run(&format!(
                "adapter serial {}",
                crate::command::parse::quote_word(s)
            ))
        },
    ));
    reg.add(command(
        "WriteDP",
        Mode::Exec,
        "register_index value",
        "ST's proc: write DP register A[3:2] = 0 ABORT, 1 CTRL/STAT, 2 SELECT (kept for ReadAP).",
        |ctx, args| {
            let [r, v] = args else { return Err(bad_args()) };
            let (r, v) = (reg_index(r)?, parse_u32(v)?);
            match r {
                // probe-rs owns SELECT (it caches it): keep ST's value for ReadAP instead.
                2 => {
                    ctx.host.config().compat.st_select = Some(v);
                    Ok(())
                }
                3 => Err(usage_error("DP register 3 (RDBUFF) is read-only")),
                _ => ctx.host.write_dp_register(r * 4, v),
            }
        },
    ));
    reg.add(command(
        "ReadAP",
        Mode::Exec,
        "register_index",
        "ST's proc: read AP register A[3:2] in the bank and AP that WriteDP 2 selected; prints it in hex.",
        |ctx, args| {
            let [r] = args else { return Err(bad_args()) };
            let r = reg_index(r)?;
            let select = ctx.host.config().compat.st_select;
            let (ap, bank) = match select {
                Some(s) => ((s >> 24) as u8, (s >> 4) & 0xF),
                None => {
                    let (_, i) = ctx.host.current_target()?;
                    (ctx.host.targets().list[i].ap, 0)
                }
            };
            let v = ctx
                .host
                .read_ap_register(ap, u64::from((bank << 4) | (u32::from(r) * 4)))?;
            ctx.println(format!("0x{v:08x}"));
            Ok(())
        },
    ));
}

/// A register index A[3:2] (0-3), as ST's procs take it.
fn reg_index(s: &str) -> Result<u8, CommandError> {
    let r = parse_u32(s)?;
    if r > 3 {
        return Err(usage_error(format!(
            "{r} is not a register index: ST's WriteDP/ReadAP take A[3:2], 0-3 (e.g. WriteDP 2 0xF0 selects AP bank 0xF, then ReadAP 3 reads the IDR)"
        )));
    }
    Ok(r as u8)
}
