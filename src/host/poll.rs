//! Polling the cores: `wait_halt`, the background poller's halt announcements, semihosting
//! calls served in the poll, a lost link's diagnosis, and resets seen while halted (a watchdog).

use std::time::Duration;

use probe_rs::{CoreStatus, MemoryInterface};

use super::control::{halt_lines, reason_name, state_of, status_words};
use super::target::TargetState;
use super::{Host, HostEvent};
use crate::command::{CommandError, Ctx, Origin};
use crate::diagnose;

/// A poll's result: the core's status and, on a halt, its halt message.
type Polled = (CoreStatus, Option<Vec<String>>);

impl Host {
    /// Waits until the current target halts (up to `timeout`).
    pub fn wait_halt(&self, ctx: &mut Ctx<'_>, timeout: Duration) -> Result<(), CommandError> {
        let (target, _) = self.current_target()?;
        let was_running = self
            .targets()
            .by_name(&target)
            .is_some_and(|t| t.state == TargetState::Running);
        let start = std::time::Instant::now();
        loop {
            // The poll is the background poller's (open the core, DHCSR, the halt lines), so
            // that a lost link is reported and handled the same way whichever polls first.
            self.reattach_if_lost()?;
            let idx = self.current_target()?.1;
            let polled = self.poll_core(idx, &target, was_running).ok_or_else(|| {
                CommandError::failed("the target is not connected: 'init' failed or was not run; see the error printed by init, or run 'doctor'")
            })?;
            let (status, lines) = match polled {
                Ok(v) => v,
                // The link went while waiting (firmware that turns SWD off or sleeps): the same
                // explanation and re-attach as when the background poller sees it first, so the
                // outcome does not depend on which of the two polls first.
                Err(e) if crate::diagnose::is_link_failure(&e) => {
                    self.report_link_lost(&target, &e);
                    self.reattach_if_lost()?;
                    if start.elapsed() >= timeout {
                        return Err(CommandError::failed(format!(
                            "timed out while waiting for target halted ({} ms): the debug link kept going down",
                            timeout.as_millis()
                        )));
                    }
                    continue;
                }
                Err(e) => return Err(diagnose::command_error(&format!("access {target}"), &e)),
            };
            if let CoreStatus::Halted(_) = status {
                self.set_state(&target, TargetState::Halted);
                if let Some(lines) = lines {
                    self.announce(ctx, &target, lines.to_vec());
                    self.fire_event(ctx, &target, "halted")?;
                }
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(CommandError::failed(format!(
                    "timed out while waiting for target halted ({} ms): the core is {}; use 'halt' to stop it",
                    timeout.as_millis(),
                    status_words(status)
                )));
            }
            // Serves the other front ends meanwhile; Ctrl-C ends the wait (host/jobs.rs).
            self.pause("wait_halt", Duration::from_millis(5))?;
        }
    }

    /// One poll of core `idx` (target `name`): its status (DHCSR), and on a halt the halt
    /// message when `lines_on_halt`. `None` when no connection is open. Shared by the background
    /// poller and `wait_halt`, so a lost link is seen the same way by both.
    fn poll_core(
        &self,
        idx: usize,
        name: &str,
        lines_on_halt: bool,
    ) -> Option<Result<Polled, probe_rs::Error>> {
        let mut guard = self.conn();
        let conn = guard.as_mut()?;
        Some(conn.open_core(idx).and_then(|mut core| {
            let status = core.status()?;
            // Semihosting calls are served here, transparently (host/semihosting.rs).
            let status = self.serve_semihosting(&mut core, name, status)?;
            let lines = match status {
                CoreStatus::Halted(reason) if lines_on_halt => {
                    let suffix = self.halt_suffix();
                    let mut l = halt_lines(&mut core, name, reason_name(reason), suffix, &|a| {
                        self.symbolize(a)
                    })?;
                    l.extend(self.semihosting_disabled_note(name, status));
                    Some(l)
                }
                _ => None,
            };
            Ok((status, lines))
        }))
    }

    /// Polls running targets; announces halts to every console.
    pub fn poll_targets(&self) {
        self.poll_swo(); // SWO/ITM capture (host/swo.rs)
        let running: Vec<(String, usize)> = {
            let t = self.targets();
            t.list
                .iter()
                .filter(|t| t.is_core() && t.state == TargetState::Running)
                .map(|t| (t.name.clone(), t.core_index))
                .collect()
        };
        for (name, idx) in running {
            let Some(r) = self.poll_core(idx, &name, true) else {
                return;
            };
            match r.map(|(_, lines)| lines) {
                Ok(Some(lines)) => {
                    self.set_state(&name, TargetState::Halted);
                    self.events().send(HostEvent::Target {
                        target: name.clone(),
                        lines: lines.to_vec(),
                        origin: None,
                    });
                    let mut out = crate::command::Collect::default();
                    let mut ctx = Ctx::new(self, Origin::Script, &mut out);
                    if let Err(e) = self.fire_event(&mut ctx, &name, "halted") {
                        tracing::error!("{e}");
                    }
                    for l in out.0 {
                        tracing::info!("{l}");
                    }
                }
                Ok(None) => {}
                Err(e) => self.report_link_lost(&name, &e),
            }
        }
        self.poll_halted();
        // RTT: drain the up channels at `rtt polling_interval` (host/rtt.rs).
        self.poll_rtt();
    }

    /// A poll of running `name` failed with `e`: the target's state is unknown, a link failure
    /// is noted (the next access re-attaches), and the explanation goes to the log and every
    /// console.
    fn report_link_lost(&self, name: &str, e: &probe_rs::Error) {
        self.set_state(name, TargetState::Unknown);
        self.note_link_failure(e);
        let msg = self.link_lost_message(name, e);
        for l in msg.lines() {
            tracing::error!("{l}");
        }
        self.set_pending_diagnosis(&msg);
        self.events().send(HostEvent::Target {
            target: name.to_string(),
            lines: msg.lines().map(String::from).collect(),
            origin: None,
        });
    }

    fn set_pending_diagnosis(&self, msg: &str) {
        if let Some(c) = self.conn().as_mut() {
            c.notes.pending_diagnosis = Some(msg.to_string());
        }
    }

    /// Takes the last diagnosis of the poller (a lost link, a reset while halted), for front
    /// ends that show it with their next error (GDB's console).
    pub fn take_diagnosis(&self) -> Option<String> {
        self.conn()
            .as_mut()
            .and_then(|c| c.notes.pending_diagnosis.take())
    }

    /// Remembers when the target was resumed and what DBGMCU_CR held then.
    pub(super) fn note_resume(&self, dbgmcu_cr: Option<u32>) {
        if let Some(c) = self.conn().as_mut() {
            c.notes.resumed_at = Some(std::time::Instant::now());
            c.notes.dbgmcu_cr_at_resume = dbgmcu_cr;
        }
    }

    /// The diagnosis of a poll failure on a running target: the link dropped. When it dropped
    /// soon after a resume, the firmware did it (SWD pins disabled, or Stop/Standby without the
    /// DBGMCU_CR debug bits), and the DBGMCU_CR value read just before the resume says which bits
    /// were set.
    pub fn link_lost_message(&self, name: &str, e: &probe_rs::Error) -> String {
        let (since, cr) = {
            let g = self.conn();
            match g.as_ref() {
                Some(c) => (
                    c.notes.resumed_at.map(|t| t.elapsed()),
                    c.notes.dbgmcu_cr_at_resume,
                ),
                None => (None, None),
            }
        };
        let ev = diagnose::evidence(e);
        let what = match ev {
            diagnose::Evidence::NoAck => "no ACK from the SW-DP",
            diagnose::Evidence::Wait => "the debug port answers WAIT",
            diagnose::Evidence::LineErrors => "parity errors on the SWD line",
            diagnose::Evidence::Fault => "FAULT responses",
            _ => "the core does not answer",
        };
        let mut msg = match since {
            Some(t) => format!(
                "[{name}] lost the debug link {:.1} s after resume ({what}): {}",
                t.as_secs_f32(),
                diagnose::chain(e).join(": ")
            ),
            None => format!(
                "[{name}] lost the debug link ({what}): {}",
                diagnose::chain(e).join(": ")
            ),
        };
        if matches!(ev, diagnose::Evidence::NoAck | diagnose::Evidence::Wait) {
            let d = crate::family::debug_of(crate::family::target_line(self, Some(name)));
            let cr_words = match cr {
                Some(v) if v & d.lowpower == d.lowpower => format!(
                    "DBGMCU_CR was {v:#010x} ({}) at resume, so if the firmware enters Stop/Standby it cleared {} itself; otherwise it disabled the SWD pins ({})",
                    d.cr_words(v),
                    d.lowpower_names(),
                    d.swd_pins
                ),
                Some(v) => format!(
                    "DBGMCU_CR was {v:#010x} ({}) at resume: without {} the debug port goes dark when the firmware enters Stop/Standby; the target script's examine-end handler sets them (`{}`)",
                    d.cr_words(v),
                    d.lowpower_names(),
                    d.examine_end
                ),
                None => format!(
                    "the firmware disabled the SWD pins ({}) or entered Stop/Standby without the DBGMCU_CR debug bits",
                    d.swd_pins
                ),
            };
            msg.push_str(&format!(
                "\n  cause: the running firmware cut the link: {cr_words}"
            ));
            msg.push_str("\n  fix: reconnect under reset (restart with `reset_config(\"srst_only srst_nogate connect_assert_srst\");` in the board script, or run 'doctor'); keep the DBGMCU_CR bits and the SWD pins in the firmware");
        } else if let Some(a) = diagnose::advice(ev) {
            msg.push_str("\n  why: ");
            msg.push_str(a);
        }
        msg
    }

    /// Checks halted targets for a reset nobody asked for (DHCSR.S_RESET_ST): a watchdog that
    /// kept counting while the core was halted. The reset cause comes from RCC_CSR; the fix is
    /// DBGMCU_CR.DBG_IWDG_STOP/DBG_WWDG_STOP (RM0008 §31.16.3).
    fn poll_halted(&self) {
        let halted: Vec<(String, usize)> = {
            let t = self.targets();
            t.list
                .iter()
                .filter(|t| t.is_core() && t.state == TargetState::Halted)
                .map(|t| (t.name.clone(), t.core_index))
                .collect()
        };
        for (name, idx) in halted {
            let r = {
                let mut guard = self.conn();
                let Some(conn) = guard.as_mut() else { return };
                let line = crate::family::target_line(self, Some(&name));
                let (d, rr) = (crate::family::debug_of(line), crate::family::reset_of(line));
                conn.open_core(idx).and_then(|mut core| {
                    let dhcsr = core.read_word_32(diagnose::regs::DHCSR)?;
                    if dhcsr & diagnose::regs::dhcsr::S_RESET_ST == 0 {
                        return Ok(None);
                    }
                    let csr = core.read_word_32(rr.csr).ok();
                    let cr = core.read_word_32(d.cr).ok();
                    let fz = if d.freeze_in_cr() {
                        cr
                    } else {
                        core.read_word_32(d.freeze).ok()
                    };
                    let status = core.status()?;
                    Ok(Some((line, dhcsr, csr, cr, fz, status)))
                })
            };
            let Ok(Some((line, dhcsr, csr, cr, fz, status))) = r else {
                continue;
            };
            let msg = watchdog_message(&name, line, dhcsr, csr, cr, fz);
            self.set_state(&name, state_of(status));
            self.set_pending_diagnosis(&msg);
            for l in msg.lines() {
                tracing::warn!("{l}");
            }
            self.events().send(HostEvent::Target {
                target: name.clone(),
                lines: msg.lines().map(String::from).collect(),
                origin: None,
            });
        }
    }
}

/// The explanation of a reset that happened while the core was halted, with the reset flags
/// (`rcc_csr`), DBGMCU_CR and the watchdog-freeze register (`dbgmcu_fz`; DBGMCU_CR itself on F1)
/// of the chip's `line`.
pub fn watchdog_message(
    name: &str,
    line: &crate::family::Line,
    dhcsr: u32,
    rcc_csr: Option<u32>,
    dbgmcu_cr: Option<u32>,
    dbgmcu_fz: Option<u32>,
) -> String {
    use diagnose::regs;
    let d = crate::family::debug_of(line);
    let rr = crate::family::reset_of(line);
    let flags = rcc_csr.map(|c| rr.flags_set(c)).unwrap_or_default();
    let iwdg = rcc_csr.is_some_and(|c| c & rr.iwdg != 0);
    let wwdg = rcc_csr.is_some_and(|c| c & rr.wwdg != 0);
    let state = if dhcsr & regs::dhcsr::S_HALT != 0 {
        "it is halted again"
    } else {
        "the firmware is running again from the reset vector"
    };
    let mut msg = format!(
        "[{name}] the target was reset while halted (DHCSR.S_RESET_ST; {state}); {} reset flags: {}",
        rr.name,
        if flags.is_empty() {
            "none readable".to_string()
        } else {
            flags.join(", ")
        }
    );
    let cr_words = d.describe(dbgmcu_cr, dbgmcu_fz);
    if iwdg || (wwdg && d.wwdg_stop != 0) {
        let (dog, mask) = if iwdg {
            ("independent watchdog (IWDG)", d.iwdg_stop)
        } else {
            ("window watchdog (WWDG)", d.wwdg_stop)
        };
        let bit = d.bit_name(mask);
        let cleared = if dbgmcu_fz.is_some_and(|v| v & mask == 0) {
            "; the target script's examine-end handler sets it at every examine, so something cleared it since (the firmware, or a command)"
        } else {
            ""
        };
        msg.push_str(&format!(
            "\n  cause: the {dog} kept counting while the core was halted and reset the chip: {bit} is not set ({cr_words}){cleared}\n  fix: set it before halting: `mmw 0x{:08X} 0x{mask:x} 0` (or keep the examine-end handler of targets/{}.rhai and do not clear {} in the firmware)",
            d.freeze,
            line.series,
            d.freeze_name
        ));
    } else {
        msg.push_str(&format!("\n  cause: a reset from outside the debugger (NRST pin, power dip, or another tool); {cr_words}"));
    }
    msg
}
