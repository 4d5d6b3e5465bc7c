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

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
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
    reg.add(command("sim stats", Mode::Exec, "['reset']", "DAP transactions counted by the virtual target since init (or the last 'sim stats reset').", |ctx, args| {
        let sim = ctx.host.live_sim();
        let sim = sim.ok_or_else(|| CommandError::failed("'sim stats' needs the virtual adapter (adapter driver sim)"))?;
        match args {
            [] => {
                let s = sim.stats();
                ctx.println(format!(
                    "DP reads {} writes {}, AP reads {} writes {}, total {}; WAIT {} FAULT {} no-ACK {} line resets {}",
                    s.dp_reads, s.dp_writes, s.ap_reads, s.ap_writes, s.total(), s.waits, s.faults, s.no_acks, s.line_resets
                ));
                Ok(())
            }
            [r] if r == "reset" => {
                sim.reset_stats();
                Ok(())
            }
            _ => Err(bad_args()),
        }
    }));
}
