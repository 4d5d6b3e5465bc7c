//! `sim chip|fault|faults|storage|stats`: control of the virtual STM32, usable from every front
//! end like any other command.

use std::path::PathBuf;

use super::parse_u64;
use crate::command::{CommandError, Mode, Registry, bad_args, command, usage_error};
use crate::host::config::default_sim_storage;
use crate::sim::{ChipModel, Fault};

const FAULT_WORDS: &str = "faults: no-power | no-nrst | line-errors-above <kHz> | disconnect-after <n> [transactions] | ap-wait <n> | bus-error <address> <length> | flash-program-error | clear";

fn parse_fault(args: &[String]) -> Result<Fault, CommandError> {
    match args {
        [f] if f == "no-power" => Ok(Fault::NoPower),
        [f] if f == "no-nrst" => Ok(Fault::NoNrst),
        [f, k] if f == "line-errors-above" => Ok(Fault::LineErrorsAboveKhz(parse_u64(k)? as u32)),
        [f, n] | [f, n, _] if f == "disconnect-after" => Ok(Fault::DisconnectAfter(parse_u64(n)?)),
        [f, n] if f == "ap-wait" => Ok(Fault::ApWait(parse_u64(n)? as u32)),
        [f, a, len] if f == "bus-error" => {
            let start = parse_u64(a)? as u32;
            Ok(Fault::BusErrorAt {
                start,
                end: start.saturating_add(parse_u64(len)? as u32),
            })
        }
        [f] if f == "flash-program-error" => Ok(Fault::FlashProgramError),
        _ => Err(usage_error(FAULT_WORDS)),
    }
}

const UART_USAGE: &str = "usart1|usart2|usart3 [console|tcp PORT|file PATH|off]";

/// `sim uart [NAME [console|tcp PORT|file PATH|off]]`: lists or sets where a USART's output goes.
fn sim_uart(ctx: &mut crate::command::Ctx, args: &[String]) -> Result<(), CommandError> {
    use crate::host::serial::SerialMode;
    let chip = ChipModel::from_name(&ctx.host.config().sim.chip).unwrap_or(ChipModel::Stm32f103c8);
    let usarts = chip.usarts();
    let uart = |n: &str| -> Result<String, CommandError> {
        let n = n.to_ascii_lowercase();
        if usarts.contains(&n.as_str()) {
            Ok(n)
        } else if usarts.is_empty() {
            Err(CommandError::failed(format!(
                "the virtual {} has no USART model yet (only its core, RAM and IDs are modelled); \
                 use the virtual STM32F103 (board/sim-bluepill.rhai) for serial output",
                chip.name()
            )))
        } else {
            Err(CommandError::failed(format!(
                "no USART \"{n}\" on the virtual {}; use {}",
                chip.name(),
                match usarts.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            )))
        }
    };
    let (name, mode) = match args {
        [] => {
            let routes = ctx.host.serial().describe();
            if usarts.is_empty() {
                ctx.println(format!(
                    "the virtual {} has no USART model yet",
                    chip.name()
                ));
                return Ok(());
            }
            if routes.is_empty() {
                ctx.println(format!("{}: console", usarts.join(", ")));
            }
            for r in routes {
                ctx.println(r);
            }
            return Ok(());
        }
        [n] => {
            let n = uart(n)?;
            let r = ctx.host.serial().describe();
            let line = r
                .into_iter()
                .find(|l| l.starts_with(&format!("{n}:")))
                .unwrap_or_else(|| format!("{n}: console"));
            ctx.println(line);
            return Ok(());
        }
        [n, m] if m == "console" => (uart(n)?, SerialMode::Console),
        [n, m] if m == "off" => (uart(n)?, SerialMode::Off),
        [n, m, p] if m == "tcp" => {
            let port = parse_u64(p)?;
            let port = u16::try_from(port).map_err(|_| {
                CommandError::failed(format!(
                    "TCP port {port} is out of range (0-65535; 0 picks a free port)"
                ))
            })?;
            (uart(n)?, SerialMode::Tcp(port))
        }
        [n, m, p] if m == "file" => (uart(n)?, SerialMode::File(PathBuf::from(p))),
        _ => return Err(usage_error(UART_USAGE)),
    };
    let port = ctx
        .host
        .serial()
        .set(&name, mode)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    if let Some(p) = port {
        ctx.println(format!("{name}: tcp 127.0.0.1:{p}"));
    }
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "sim uart",
        Mode::Any,
        UART_USAGE,
        "Where a USART of the virtual chip sends its output: lines on every console (default), raw on a TCP port of 127.0.0.1 (both ways), appended to a file, or nowhere.",
        sim_uart,
    ));
    reg.add(command(
        "sim chip",
        Mode::Any,
        "[name]",
        "Choose the virtual chip (before init), or print it.",
        |ctx, args| match args {
            [] => {
                let c = ctx.host.config().sim.chip.clone();
                ctx.println(c);
                Ok(())
            }
            [name] => {
                let chip = ChipModel::from_name(name).ok_or_else(|| {
                    let all: Vec<&str> = ChipModel::ALL.iter().map(|c| c.name()).collect();
                    CommandError::failed(format!(
                        "unknown virtual chip \"{name}\"; supported: {}",
                        all.join(", ")
                    ))
                })?;
                if ctx.host.initialized() {
                    return Err(CommandError::failed(
                        "'sim chip' must be used before 'init' (the chip is powered up at init)",
                    ));
                }
                let mut c = ctx.host.config();
                let default_before = default_sim_storage(&c.sim.chip);
                c.sim.chip = chip.name().to_string();
                if c.sim.storage == default_before {
                    c.sim.storage = default_sim_storage(chip.name());
                }
                Ok(())
            }
            _ => Err(bad_args()),
        },
    ));
    reg.add(command("sim storage", Mode::Any, "[path|'none']", "Where the virtual chip keeps flash and option bytes between runs ('none' = a fresh chip every run); before init.", |ctx, args| {
        match args {
            [] => {
                let s = ctx.host.config().sim.storage.clone();
                ctx.println(s.map(|p| p.display().to_string()).unwrap_or_else(|| "none".into()));
                Ok(())
            }
            [p] => {
                if ctx.host.initialized() {
                    return Err(CommandError::failed("'sim storage' must be used before 'init' (the chip loads its flash at power-up)"));
                }
                ctx.host.config().sim.storage = if p == "none" { None } else { Some(PathBuf::from(p)) };
                Ok(())
            }
            _ => Err(bad_args()),
        }
    }));
    reg.add(command("sim fault", Mode::Any, "(no-power|no-nrst|line-errors-above kHz|disconnect-after n|ap-wait n|bus-error address length|flash-program-error|clear)", "Inject a fault into the virtual target (or clear all).", |ctx, args| {
        if args.len() == 1 && args[0] == "clear" {
            ctx.host.config().sim.faults.clear();
            if let Some(sim) = ctx.host.live_sim() {
                sim.clear_faults();
            }
            return Ok(());
        }
        let f = parse_fault(args)?;
        let live = ctx.host.live_sim();
        match live {
            Some(sim) => sim.inject(f),
            None => ctx.host.config().sim.faults.push(f),
        }
        Ok(())
    }));
    reg.add(command(
        "sim faults",
        Mode::Any,
        "",
        "List the injected faults.",
        |ctx, _| {
            let live = ctx.host.live_sim();
            let faults = match live {
                Some(sim) => sim.faults(),
                None => ctx.host.config().sim.faults.clone(),
            };
            if faults.is_empty() {
                ctx.println("no faults injected");
            }
            for f in faults {
                ctx.println(format!("{f:?}"));
            }
            Ok(())
        },
    ));
    reg.add(command("sim stats", Mode::Exec, "['reset']", "What the virtual target did since init (or the last 'sim stats reset'): DAP transactions, instructions executed, virtual against real time.", |ctx, args| {
        let sim = ctx.host.live_sim();
        let sim = sim.ok_or_else(|| CommandError::failed("'sim stats' needs the virtual adapter (adapter driver sim)"))?;
        match args {
            [] => {
                let s = sim.stats();
                ctx.println(format!(
                    "DP reads {} writes {}, AP reads {} writes {}, total {}; WAIT {} FAULT {} no-ACK {} line resets {}",
                    s.dp_reads, s.dp_writes, s.ap_reads, s.ap_writes, s.total(), s.waits, s.faults, s.no_acks, s.line_resets
                ));
                let e = sim.exec_stats();
                let skipped = if e.cycles > 0 { 100.0 * e.skipped_cycles as f64 / e.cycles as f64 } else { 0.0 };
                ctx.println(format!(
                    "instructions {}, {:.2} MIPS; core cycles {} ({skipped:.1}% skipped asleep or idle); virtual time {:.3} s in {:.3} s real time: {:.2}x",
                    e.instructions, e.mips(), e.cycles, e.virtual_s, e.wall_s, e.ratio()
                ));
                Ok(())
            }
            [r] if r == "reset" => {
                sim.reset_stats();
                sim.reset_exec_stats();
                Ok(())
            }
            _ => Err(bad_args()),
        }
    }));
}
