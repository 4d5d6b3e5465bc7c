//! `targets`, `poll`, `halt`, `wait_halt`, `resume`, `step`, `reset`.

use std::time::Duration;

use probe_rs::CoreStatus;

use super::parse_u32;
use crate::command::format::{targets_header, targets_row};
use crate::command::{CommandError, Mode, Registry, bad_args, command};
use crate::host::control::{halt_lines, reason_name};
use crate::host::target::TargetState;

/// The TAP column of `targets`: OpenOCD's chain position `<chip>.cpu` of the target's DAP
/// `<chip>.dap` (`swj_newdap $_CHIPNAME cpu`; every target on one DAP shows the same TAP), else
/// the target's own name.
fn tap_name(d: &crate::host::TargetDef) -> String {
    match d.dap.strip_suffix(".dap") {
        Some(chip) if !chip.is_empty() => format!("{chip}.cpu"),
        _ => d.name.clone(),
    }
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "targets",
        Mode::Any,
        "[target]",
        "List targets, or make the named one current.",
        |ctx, args| match args {
            [] => {
                let rows: Vec<String> = {
                    let t = ctx.host.targets();
                    t.list
                        .iter()
                        .enumerate()
                        .map(|(i, d)| {
                            targets_row(
                                i,
                                i == t.current,
                                &d.name,
                                d.kind.as_str(),
                                &tap_name(d),
                                d.state.as_str(),
                            )
                        })
                        .collect()
                };
                for l in targets_header() {
                    ctx.println(l);
                }
                for r in rows {
                    ctx.println(r);
                }
                Ok(())
            }
            [name] => {
                let mut t = ctx.host.targets();
                let idx = t.list.iter().position(|d| {
                    &d.name == name
                        || name.parse::<usize>().ok()
                            == Some(
                                t.list
                                    .iter()
                                    .position(|x| x.name == d.name)
                                    .unwrap_or(usize::MAX),
                            )
                });
                match idx {
                    Some(i) => {
                        t.current = i;
                        Ok(())
                    }
                    None => Err(CommandError::failed(format!(
                        "Target: {name} is unknown, try one of: {}",
                        t.list
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            }
            _ => Err(bad_args()),
        },
    ));
    reg.add(command("poll", Mode::Exec, "['on'|'off']", "Poll the current target and print its state.", |ctx, args| {
        match args {
            [] => {}
            [x] if x == "on" || x == "off" => {
                ctx.println(format!("background polling: {x}"));
                return Ok(());
            }
            _ => return Err(bad_args()),
        }
        let (name, _) = ctx.host.current_target()?;
        ctx.println("background polling: on");
        ctx.println(format!("TAP: {name} (enabled)"));
        let host = ctx.host.clone();
        let sym = move |a: u32| host.symbolize(a);
        let lines = ctx.host.with_core(|core, name| match core.status()? {
            CoreStatus::Halted(r) => halt_lines(core, name, reason_name(r), ctx.host.halt_suffix(), &sym).map(Some),
            CoreStatus::LockedUp => Ok(Some(vec![format!("[{name}] target is locked up (a fault escalated to lockup, or the vector table is blank); 'reset halt' recovers")])),
            CoreStatus::Sleeping => Ok(Some(vec![format!("[{name}] target is sleeping (WFI/WFE)")])),
            _ => Ok(None),
        })?;
        let status_state = if lines.as_ref().is_some_and(|l| l[0].contains("halted due to")) { TargetState::Halted } else { TargetState::Running };
        ctx.host.set_state(&name, status_state);
        for l in lines.unwrap_or_default() {
            ctx.println(l);
        }
        Ok(())
    }));
    reg.add(command("halt", Mode::Exec, "[milliseconds]", "Request the current target to halt, then wait up to the given time (default 5000 ms; 0 = don't wait).", |ctx, args| {
        let ms = match args {
            [] => 5000,
            [ms] => super::lifecycle::wait_ms(ms)?,
            _ => return Err(bad_args()),
        };
        ctx.host.halt(ctx, Duration::from_millis(ms))
    }));
    reg.add(command(
        "wait_halt",
        Mode::Exec,
        "[milliseconds]",
        "Wait up to the given time (default 5000 ms) for the current target to halt.",
        |ctx, args| {
            let ms = match args {
                [] => 5000,
                [ms] => super::lifecycle::wait_ms(ms)?,
                _ => return Err(bad_args()),
            };
            ctx.host.wait_halt(ctx, Duration::from_millis(ms))
        },
    ));
    reg.add(command(
        "resume",
        Mode::Exec,
        "[address]",
        "Resume the current target, at the address when given.",
        |ctx, args| {
            let addr = match args {
                [] => None,
                [a] => Some(parse_u32(a)?),
                _ => return Err(bad_args()),
            };
            ctx.host.resume(ctx, addr)
        },
    ));
    reg.add(command(
        "step",
        Mode::Exec,
        "[address]",
        "Execute one instruction (from the address when given).",
        |ctx, args| {
            let addr = match args {
                [] => None,
                [a] => Some(parse_u32(a)?),
                _ => return Err(bad_args()),
            };
            ctx.host.step(ctx, addr)
        },
    ));
    reg.add(command("reset", Mode::Exec, "[run|halt|init]", "Reset the target; then run (default), halt at the reset vector, or halt and fire reset-init.", |ctx, args| {
        let mode = match args {
            [] => "run",
            [m] if ["run", "halt", "init"].contains(&m.as_str()) => m.as_str(),
            _ => return Err(bad_args()),
        };
        ctx.host.reset(ctx, mode)
    }));
}
