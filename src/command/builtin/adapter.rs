//! `adapter driver|speed|serial|list|name`, `transport select|list`, `reset_config`.

use super::parse_u32;
use crate::command::{CommandError, Mode, Registry, bad_args, command, usage_error};
use crate::host::connection::{DRIVERS, list_probes, probe_matches_driver};

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command("adapter driver", Mode::Config, "driver_name", "Select the debug adapter: sim, stlink, cmsis-dap, jlink, ftdi, remote_bitbang.", |ctx, args| {
        let [d] = args else { return Err(bad_args()) };
        let d = match d.as_str() {
            "st-link" | "hla" | "stlink" => "stlink",
            "cmsis_dap" | "cmsis-dap" => "cmsis-dap",
            other => other,
        };
        if !DRIVERS.contains(&d) {
            return Err(CommandError::failed(format!(
                "The specified debug interface was not found ({d})\nThe following debug adapters are available: {}",
                DRIVERS.join(", ")
            )));
        }
        ctx.host.config().adapter.driver = Some(d.to_string());
        Ok(())
    }));
    reg.add(command("adapter name", Mode::Any, "", "Print the selected adapter driver.", |ctx, _| {
        let d = ctx.host.config().adapter.driver.clone();
        match d {
            Some(d) => {
                ctx.println(format!("adapter name: {d}"));
                Ok(())
            }
            None => Err(CommandError::failed("no adapter driver selected: use 'adapter driver <name>' or -f interface/<probe>.rhai")),
        }
    }));
    reg.add(command("adapter speed", Mode::Any, "[khz]", "Set or show the SWD clock in kHz (prints the speed actually set).", |ctx, args| {
        match args {
            [] => {}
            [k] => {
                let khz = parse_u32(k)?;
                if khz == 0 {
                    return Err(usage_error("0 kHz (adaptive clocking) is not supported by SWD probes; give a speed in kHz, e.g. 1000"));
                }
                ctx.host.config().adapter.speed_khz = Some(khz);
                if ctx.host.conn().is_some() {
                    return Err(CommandError::failed(format!(
                        "the SWD clock cannot be changed on a live session (probe-rs sets it when attaching); put 'adapter speed {khz}' before 'init' (the requested speed is kept for the next connection)"
                    )));
                }
            }
            _ => return Err(bad_args()),
        }
        let live = ctx.host.conn().as_ref().map(|c| c.speed_khz);
        let khz = live.or(ctx.host.config().adapter.speed_khz);
        match khz {
            Some(k) => ctx.println(format!("adapter speed: {k} kHz")),
            None => ctx.println("adapter speed: not set (the probe's default is used)"),
        }
        Ok(())
    }));
    reg.add(command(
        "adapter serial",
        Mode::Config,
        "serial_string",
        "Use only the probe with this serial number.",
        |ctx, args| {
            let [s] = args else { return Err(bad_args()) };
            ctx.host.config().adapter.serial = Some(s.clone());
            Ok(())
        },
    ));
    reg.add(command(
        "adapter list",
        Mode::Any,
        "",
        "List the debug probes attached to this computer (plus the virtual one).",
        |ctx, _| {
            let probes = list_probes();
            ctx.println("The following debug adapters were found:");
            ctx.println("0: sim: virtual STM32 (built in, always available)");
            for (i, p) in probes.iter().enumerate() {
                let driver = DRIVERS
                    .iter()
                    .find(|d| probe_matches_driver(p, d))
                    .copied()
                    .unwrap_or("(unsupported)");
                ctx.println(format!(
                    "{}: {driver}: {} (VID:PID {:04x}:{:04x}, serial {})",
                    i + 1,
                    p.identifier,
                    p.vendor_id,
                    p.product_id,
                    p.serial_number.as_deref().unwrap_or("none")
                ));
            }
            Ok(())
        },
    ));
    reg.add(command(
        "adapter assert",
        Mode::Exec,
        "['srst']",
        "Assert the adapter's reset line (NRST).",
        |ctx, args| {
            if args != ["srst"] {
                return Err(bad_args());
            }
            ctx.host.set_srst(true)
        },
    ));
    reg.add(command(
        "adapter deassert",
        Mode::Exec,
        "['srst']",
        "Release the adapter's reset line (NRST).",
        |ctx, args| {
            if args != ["srst"] {
                return Err(bad_args());
            }
            ctx.host.set_srst(false)
        },
    ));
    reg.add(command(
        "remote_bitbang host",
        Mode::Config,
        "host_name",
        "The remote_bitbang server's host name or address (default localhost).",
        |ctx, args| {
            match args {
                [] => {
                    let h = ctx.host.config().adapter.remote_bitbang_host.clone();
                    ctx.println(if h.is_empty() {
                        "localhost".to_string()
                    } else {
                        h
                    });
                }
                [h] => ctx.host.config().adapter.remote_bitbang_host = h.clone(),
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
    reg.add(command(
        "remote_bitbang port",
        Mode::Config,
        "port_number",
        "The remote_bitbang server's TCP port.",
        |ctx, args| {
            match args {
                [] => {
                    let p = ctx.host.config().adapter.remote_bitbang_port;
                    ctx.println(p.map(|p| p.to_string()).unwrap_or_default());
                }
                [p] => {
                    let n = p.parse::<u16>().ok().filter(|n| *n != 0).ok_or_else(|| {
                        usage_error(format!("\"{p}\" is not a TCP port (1-65535)"))
                    })?;
                    ctx.host.config().adapter.remote_bitbang_port = Some(n);
                }
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
    reg.add(command("transport select", Mode::Any, "[transport]", "Select the transport (swd) or print the selected one.", |ctx, args| {
        match args {
            [] => {
                let t = ctx.host.config().transport.clone().unwrap_or_else(|| "swd".into());
                ctx.println(t);
                Ok(())
            }
            [t] if t == "swd" || t == "dapdirect_swd" || t == "hla_swd" => {
                ctx.host.config().transport = Some("swd".into());
                Ok(())
            }
            // JTAG through the remote_bitbang adapter (src/probe/remote_bitbang.rs).
            [t] if t == "jtag" => {
                let driver = ctx.host.config().adapter.driver.clone();
                if driver.as_deref() != Some("remote_bitbang") {
                    return Err(CommandError::failed(format!(
                        "transport 'jtag' needs the remote_bitbang adapter: stdbg talks SWD through {} (use 'transport select swd', or 'adapter driver remote_bitbang' first)",
                        driver.unwrap_or_else(|| "every other adapter".into())
                    )));
                }
                ctx.host.config().transport = Some("jtag".into());
                Ok(())
            }
            [t] => Err(CommandError::failed(format!(
                "transport '{t}' is not supported: stdbg talks SWD to STM32 targets (use 'transport select swd')"
            ))),
            _ => Err(bad_args()),
        }
    }));
    reg.add(command(
        "transport list",
        Mode::Any,
        "",
        "List the transports.",
        |ctx, _| {
            ctx.println("The following transports are available:");
            ctx.println("\tswd");
            Ok(())
        },
    ));
    reg.add(command("reset_config", Mode::Any, "[none|trst_only|srst_only|trst_and_srst] [srst_pulls_trst|trst_pulls_srst|combined|separate] [srst_gates_jtag|srst_nogate] [trst_push_pull|trst_open_drain] [srst_push_pull|srst_open_drain] [connect_deassert_srst|connect_assert_srst]", "Describe the reset lines wired to the adapter; with no argument print them.", |ctx, args| {
        let mut cfg = ctx.host.config().reset_config.clone();
        // `reset_config("srst_only srst_nogate")` from a script passes one word with spaces:
        // the same words as `reset_config srst_only srst_nogate`.
        let words: Vec<String> = args.iter().flat_map(|a| a.split_whitespace().map(str::to_string)).collect();
        for a in &words {
            match a.as_str() {
                "none" | "trst_only" | "srst_only" | "trst_and_srst" => cfg.signals = a.clone(),
                "srst_pulls_trst" | "trst_pulls_srst" | "combined" | "separate" => cfg.combination = a.clone(),
                "srst_gates_jtag" | "srst_nogate" => cfg.gating = a.clone(),
                "connect_deassert_srst" | "connect_assert_srst" => cfg.connect = a.clone(),
                "trst_push_pull" | "trst_open_drain" | "srst_push_pull" | "srst_open_drain" => {}
                other => return Err(usage_error(format!("unknown reset_config word '{other}'"))),
            }
        }
        let text = if cfg.has_srst() {
            format!("{} {} {} {}", cfg.signals, cfg.combination, cfg.gating, cfg.connect)
        } else {
            format!("{} {}", cfg.signals, cfg.combination)
        };
        let changed = !words.is_empty();
        ctx.host.config().reset_config = cfg;
        if !changed {
            ctx.println(text);
        }
        Ok(())
    }));
}
