//! `doctor`: checks the probe, the target power, the SWD link at each speed, the chip's IDs
//! against the configuration, read/write protection, the DBGMCU debug bits, and connecting plain
//! versus under reset, and prints a table with a verdict per check and the fix. It works when
//! `init` failed (it opens its own connections); on a live connection it closes it for the
//! checks and reconnects afterwards.

use crate::command::{CommandError, Mode, Registry, bad_args, command};
use crate::diagnose::doctor::{self, Expected};
use crate::host::target::TargetState;

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command("doctor", Mode::Any, "", "Check the probe, power, SWD link, chip IDs, protection and debug bits step by step; print a report with the fix (works when init failed).", |ctx, args| {
        if !args.is_empty() {
            return Err(bad_args());
        }
        let exp = {
            let t = ctx.host.targets();
            let cur = t.current().ok_or_else(|| {
                CommandError::failed("doctor needs a target: source a target or board script first (e.g. -f board/sim-bluepill.rhai)")
            })?;
            let c = ctx.host.config();
            Expected {
                target: cur.name.clone(),
                chip: cur.chip.clone(),
                ap: cur.ap,
                dpidr: cur.expected_dpidr,
                dev_ids: cur.expected_dev_ids.clone(),
                has_examine_end: cur.events.iter().any(|(e, _)| e == "examine-end"),
                speed_khz: c.adapter.speed_khz,
                srst: c.reset_config.has_srst(),
            }
        };
        // doctor holds the probe: other consoles wait, GDB gets "busy" (host/jobs.rs).
        let _x = ctx.host.jobs().exclusive("doctor");
        let was_connected = ctx.host.initialized();
        let sim = if was_connected {
            ctx.println("doctor: closing the live connection for the checks (it is reopened afterwards)");
            ctx.host.detach_keep_sim()
        } else {
            None
        };
        let host = ctx.host.clone();
        let (report, sim) = doctor::run(&host, &exp, sim);
        for l in report.lines() {
            ctx.println(l);
        }
        if was_connected {
            ctx.host.set_state(&exp.target, TargetState::Unknown);
            if let Err(e) = ctx.host.init_with(ctx, sim) {
                ctx.println(format!("doctor: reconnecting failed: {e}"));
            }
        } else if let Some(sim) = sim
            && let Err(e) = sim.flush_storage()
        {
            tracing::error!("{e}");
        }
        if report.failed() {
            return Err(CommandError::failed("doctor found problems (FAIL rows above); the summary says what to do"));
        }
        Ok(())
    }));
}
