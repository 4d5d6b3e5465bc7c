//! `tcl_port`, `tcl_notifications`, `tcl_trace` and `capture`: OpenOCD 0.12's Tcl RPC port
//! commands (`src/server/tcl_server.c`, `src/helper/command.c`). The server is
//! `server/tcl_rpc.rs`; the per-connection switches live here so that the commands can set them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::command::{CommandError, Ctx, Mode, Origin, Registry, bad_args, command, usage_error};
use crate::host::config::PortSetting;

/// What one Tcl connection asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TclFlags {
    /// `tcl_notifications on`: target events are pushed to the connection.
    pub notify: bool,
    /// `tcl_trace on`: target trace data is pushed to the connection.
    pub trace: bool,
}

/// The switches of every open Tcl connection, by connection number ([`Origin::Tcl`]).
pub static TCL_FLAGS: Mutex<BTreeMap<u64, TclFlags>> = Mutex::new(BTreeMap::new());

fn flags() -> std::sync::MutexGuard<'static, BTreeMap<u64, TclFlags>> {
    TCL_FLAGS.lock().unwrap_or_else(|e| e.into_inner())
}

/// `on`/`off` (and OpenOCD's other spellings) as a bool.
fn on_off(word: &str) -> Result<bool, CommandError> {
    match word {
        "on" | "enable" | "true" | "1" => Ok(true),
        "off" | "disable" | "false" | "0" => Ok(false),
        other => Err(usage_error(format!(
            "\"{other}\" is neither 'on' nor 'off'"
        ))),
    }
}

/// `tcl_notifications`/`tcl_trace`: only from a Tcl connection, as in OpenOCD.
fn switch(
    ctx: &mut Ctx<'_>,
    args: &[String],
    name: &str,
    label: &str,
    get: fn(&mut TclFlags) -> &mut bool,
) -> Result<(), CommandError> {
    let Origin::Tcl(id) = ctx.origin else {
        return Err(CommandError::failed(format!(
            "{name}: can only be called from the tcl server (connect to the tcl_port and send it there)"
        )));
    };
    let on = match args {
        [] => None,
        [w] => Some(on_off(w)?),
        _ => return Err(bad_args()),
    };
    let now = {
        let mut f = flags();
        let slot = get(f.entry(id).or_default());
        if let Some(on) = on {
            *slot = on;
        }
        *slot
    };
    // OpenOCD's label ends with a space, hence its double space ("output  is enabled"), which
    // clients match (ESP-IDF's VS Code extension).
    ctx.println(format!(
        "{label} is {}",
        if now { "enabled" } else { "disabled" }
    ));
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "tcl_port",
        Mode::Config,
        "[port_num|'disabled']",
        "Tcl RPC port (default 6666; 0 = any free port; OpenOCD's protocol: commands and replies end with 0x1a).",
        |ctx, args| {
            match args {
                [] => {
                    let p = ctx.host.config().tcl_port.unwrap_or(PortSetting::Port(6666));
                    ctx.println(match p {
                        PortSetting::Port(n) => n.to_string(),
                        PortSetting::Disabled => "disabled".into(),
                    });
                }
                [p] if p == "disabled" => ctx.host.config().tcl_port = Some(PortSetting::Disabled),
                [p] => {
                    let n = p.parse::<u16>().map_err(|_| {
                        usage_error(format!("\"{p}\" is not a TCP port (0-65535) or 'disabled'"))
                    })?;
                    ctx.host.config().tcl_port = Some(PortSetting::Port(n));
                }
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
    reg.add(command(
        "tcl_notifications",
        Mode::Any,
        "['on'|'off']",
        "Push target events to this Tcl connection (type target_event event halted).",
        |ctx, args| {
            switch(
                ctx,
                args,
                "tcl_notifications",
                "Target Notification output ",
                |f| &mut f.notify,
            )
        },
    ));
    reg.add(command(
        "tcl_trace",
        Mode::Any,
        "['on'|'off']",
        "Push target trace data to this Tcl connection (stdbg produces none yet).",
        |ctx, args| {
            switch(ctx, args, "tcl_trace", "Target trace output ", |f| {
                &mut f.trace
            })
        },
    ));
    reg.add(command(
        "capture",
        Mode::Any,
        "command",
        "Run a command line and return its output and the log lines it caused as one result.",
        |ctx, args| {
            let [line] = args else { return Err(bad_args()) };
            crate::log::capture_begin();
            let mut out = crate::command::Collect::default();
            let r = {
                let mut sub = Ctx::new(ctx.host, ctx.origin, &mut out);
                crate::command::dispatch(&mut sub, line)
            };
            let logged = crate::log::capture_end();
            // OpenOCD's order is the order of emission; stdbg keeps the log lines first, then
            // the output (they come from two sinks).
            for l in logged.iter().chain(out.0.iter()) {
                ctx.println(l);
            }
            r
        },
    ));
}
