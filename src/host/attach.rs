//! `init`: opening the adapter, attaching through the recovery ladder, examining the targets,
//! and checking the chip against the target script's IDs, with OpenOCD's event order.

use probe_rs::{CoreStatus, MemoryInterface};

use super::Host;
use super::connection;
use super::control::state_of;
use super::target::TargetState;
use crate::command::{CommandError, Ctx};
use crate::diagnose;

impl Host {
    /// `init`: opens the adapter, attaches (climbing the recovery ladder of
    /// [`connection::connect`] when needed), checks the chip against the target script's
    /// expected IDs, examines the target (events `examine-start`, `examine-end`, or
    /// `examine-fail`) and marks the host initialised.
    pub fn init(&self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        self.init_with(ctx, None)
    }

    /// [`Host::init`] reusing a virtual chip that is already running (after `doctor`).
    pub fn init_with(
        &self,
        ctx: &mut Ctx<'_>,
        sim: Option<crate::sim::Sim>,
    ) -> Result<(), CommandError> {
        if self.initialized() {
            return Ok(());
        }
        if self.config().remote_bitbang_port.is_some() {
            return self.init_served(sim);
        }
        let (target, chip, ap) = {
            let mut t = self.targets();
            let cur = t.attach_target().ok_or_else(|| {
                CommandError::failed(connection::ConnectError::NoTarget.to_string())
            })?;
            let picked = (cur.name.clone(), cur.chip.clone(), cur.ap);
            // The core attached to becomes current (a mem_ap target may have been current).
            if let Some(i) = t.list.iter().position(|d| d.name == picked.0) {
                t.current = i;
            }
            picked
        };
        self.fire_event(ctx, &target, "examine-start")?;
        let connected = match connection::connect(self, &chip, ap, sim) {
            Ok(c) => c,
            Err(e) => {
                self.set_state(&target, TargetState::Unknown);
                let _ = self.fire_event(ctx, &target, "examine-fail");
                return Err(diagnose::connect_error(&e));
            }
        };
        let recovery = connected.recovery.clone();
        let conn = connected.conn;
        // remote_bitbang has no clock setting (the server clocks as fast as bytes come): its
        // driver printed OpenOCD's lines when it opened (host/connection.rs).
        if conn.driver != "remote_bitbang" {
            tracing::info!(
                "{} adapter connected, SWD clock {} kHz",
                conn.driver,
                conn.speed_khz
            );
        }
        *self.conn() = Some(conn);
        if let Err(e) = self.check_chip(&target) {
            self.drop_connection();
            self.set_state(&target, TargetState::Unknown);
            let _ = self.fire_event(ctx, &target, "examine-fail");
            return Err(e);
        }
        self.explain_recovery(&target, &recovery);
        self.config().initialized = true;
        // A mem_ap target needs no examining beyond the link: OpenOCD shows it running.
        for t in self.targets().list.iter_mut().filter(|t| !t.is_core()) {
            t.state = TargetState::Running;
        }
        // Learn the state, announce the core like OpenOCD does.
        let (status, cpuid, units) = self.with_core(|core, _| {
            let cpuid = core.read_word_32(diagnose::ids::CPUID).ok();
            // FPB code comparators and DWT_CTRL.NUMCOMP (ARMv7-M ARM §C1.11.3, §C1.8.7).
            let bps = core.available_breakpoint_units().ok();
            let wps = core
                .read_word_32(super::breakpoints::dwt::CTRL)
                .ok()
                .map(|c| c >> 28);
            let units = bps.zip(wps);
            Ok((core.status()?, cpuid, units))
        })?;
        self.set_state(&target, state_of(status));
        let core_words = cpuid
            .map(diagnose::ids::describe_cpuid)
            .unwrap_or_else(|| "Cortex-M".into());
        tracing::info!("[{target}] {core_words} processor detected");
        if let Some((bps, wps)) = units {
            tracing::info!("[{target}] target has {bps} breakpoints, {wps} watchpoints");
        }
        if let CoreStatus::Sleeping = status {
            tracing::info!(
                "[{target}] the core is sleeping (DHCSR.S_SLEEP: WFI/WFE); the debugger can halt it"
            );
        }
        self.fire_event(ctx, &target, "examine-end")?;
        self.tpiu_init(ctx)?; // OpenOCD's init runs 'tpiu init' (host/swo.rs)
        // OpenOCD's init says so when the target gets no GDB server (gdb_target_add_all).
        if matches!(self.config().gdb_port, super::config::PortSetting::Disabled) {
            tracing::info!("gdb port disabled");
        }
        Ok(())
    }

    /// `init` with `remote_bitbang_port`: creates the virtual chip for the remote_bitbang
    /// server and does not attach stdbg's own session (one debugger per chip, as on a bench).
    fn init_served(&self, sim: Option<crate::sim::Sim>) -> Result<(), CommandError> {
        let adapter =
            connection::Adapter::open(self, sim).map_err(|e| diagnose::connect_error(&e))?;
        let Some(sim) = adapter.sim else {
            return Err(CommandError::failed(format!(
                "remote_bitbang_port serves the virtual chip, but the adapter is '{}': use a virtual board (-f board/sim-bluepill.rhai) or interface/sim.rhai",
                adapter.driver
            )));
        };
        tracing::info!(
            "the virtual {} is served to remote_bitbang clients; stdbg does not attach to it itself",
            sim.chip().name()
        );
        *self
            .inner
            .served_sim
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(sim);
        self.config().initialized = true;
        Ok(())
    }

    /// Drops the session without the `disconnect` bookkeeping (used when examine refuses the
    /// chip). The virtual chip's storage is flushed.
    pub(super) fn drop_connection(&self) {
        let conn = self.conn().take();
        // The virtual chip kept while the link is down (see `reattach`) is flushed too: the
        // flash it holds is what the user's next run starts from.
        let lost = self.take_lost_sim();
        let sim = match conn {
            Some(conn) => {
                let sim = conn.sim.clone();
                drop(conn);
                sim.or(lost)
            }
            None => lost,
        };
        if let Some(sim) = sim
            && let Err(e) = sim.flush_storage()
        {
            tracing::error!("{e}");
        }
    }

    /// Logs which rung of the recovery ladder connected and the board-script line that makes
    /// it the default.
    fn explain_recovery(&self, target: &str, recovery: &connection::Recovery) {
        match recovery {
            connection::Recovery::None | connection::Recovery::Configured => {}
            connection::Recovery::UnderResetLowerSpeed { from_khz, to_khz } => {
                // Both causes: the line at the configured speed, and the firmware.
                self.explain_recovery(
                    target,
                    &connection::Recovery::LowerSpeed {
                        from_khz: *from_khz,
                        to_khz: *to_khz,
                    },
                );
                self.explain_recovery(target, &connection::Recovery::UnderReset);
            }
            connection::Recovery::LowerSpeed { from_khz, to_khz } => {
                tracing::warn!(
                    "[{target}] connected at {to_khz} kHz after the plain attach at {from_khz} kHz failed: the SWD signal is not clean at {from_khz} kHz (long or loose wires, no ground return, a weak probe); make it the default with `adapter.speed = {to_khz};` in the board script (or -c \"adapter speed {to_khz}\" before init)"
                );
            }
            connection::Recovery::UnderReset => {
                let line = crate::family::target_line(self, Some(target));
                let d = crate::family::debug_of(line);
                let driver = line
                    .driver
                    .map(|x| x.name())
                    .unwrap_or(crate::family::Driver::Stm32f1x.name());
                let (cr, fz) = self
                    .with_core(|core, _| {
                        let cr = core.read_word_32(d.cr).ok();
                        let fz = if d.freeze_in_cr() {
                            cr
                        } else {
                            core.read_word_32(d.freeze).ok()
                        };
                        Ok((cr, fz))
                    })
                    .unwrap_or((None, None));
                let cr_words = d.describe(cr, fz);
                tracing::warn!(
                    "[{target}] connected under reset after the plain attach got no ACK from a powered target: the firmware most likely disables the SWD pins ({}) or enters Stop/Standby with the DBGMCU_CR debug bits cleared ({cr_words} before examine-end)",
                    d.swd_pins
                );
                tracing::warn!(
                    "[{target}] make connect-under-reset the default with `reset_config(\"srst_only srst_nogate connect_assert_srst\");` in the board script"
                );
                tracing::warn!(
                    "[{target}] the core is halted before the firmware ran; resuming lets the firmware cut the link again. Fix the firmware ({}, keep DBGMCU_CR), or erase it: `{driver} mass_erase 0` (asked for, never automatic)",
                    d.swd_keep
                );
            }
        }
    }

    /// Compares the chip with the target's expected IDs: the SW-DP DPIDR with `cputapid`
    /// (0 = accept any) and DBGMCU_IDCODE DEV_ID with `dev_ids`. A mismatch names both chips and
    /// the script to use, and fails unless the user set `CPUTAPID 0` (then it warns).
    pub fn check_chip(&self, target: &str) -> Result<(), CommandError> {
        let (expected_dpidr, expected_dev_ids) = {
            let t = self.targets();
            let Some(d) = t.by_name(target) else {
                return Ok(());
            };
            (d.expected_dpidr, d.expected_dev_ids.clone())
        };
        let dpidr = {
            let mut g = self.conn();
            let Some(conn) = g.as_mut() else {
                return Ok(());
            };
            conn.session.get_arm_interface().ok().and_then(|i| {
                use probe_rs::architecture::arm::dp::{DPIDR, DpAddress, DpRegister};
                i.read_raw_dp_register(DpAddress::Default, DPIDR::ADDRESS)
                    .ok()
            })
        };
        // The DEV_ID table says where each family has DBGMCU_IDCODE (H7 and the M0 parts
        // elsewhere than 0xE004_2000).
        let idcode = self
            .with_core(|core, _| {
                let mut rd = |a: u64| core.read_word_32(a).ok();
                Ok(crate::family::read_idcode(&mut rd))
            })
            .ok()
            .flatten();
        if let Some(t) = self.targets().list.iter_mut().find(|t| t.name == target) {
            t.idcode = idcode;
        }
        if let Some(d) = dpidr {
            tracing::debug!("[{target}] {}", diagnose::ids::describe_dpidr(d));
        }
        let dpidr_bad = expected_dpidr != 0 && dpidr.is_some_and(|d| d != expected_dpidr);
        let dev_bad = !expected_dev_ids.is_empty()
            && idcode.is_some_and(|c| !expected_dev_ids.contains(&(c & 0xFFF)));
        if !dpidr_bad && !dev_bad {
            return Ok(());
        }
        let found = match (idcode, dpidr) {
            (Some(c), Some(d)) => format!("{}, DPIDR {d:#010x}", diagnose::ids::describe_idcode(c)),
            (Some(c), None) => diagnose::ids::describe_idcode(c),
            (None, Some(d)) => diagnose::ids::describe_dpidr(d),
            (None, None) => "an unidentified chip".into(),
        };
        let prefix = target.split('.').next().unwrap_or(target).to_string();
        let script_name = format!("targets/{prefix}.rhai");
        let script = if crate::script::find::find(self, &script_name).is_some() {
            script_name
        } else {
            format!("the target script of {target}")
        };
        let mut expects = Vec::new();
        if !expected_dev_ids.is_empty() {
            expects.push(diagnose::ids::describe_expected(&expected_dev_ids));
        }
        if expected_dpidr != 0 {
            expects.push(format!("DPIDR (CPUTAPID) {expected_dpidr:#010x}"));
        }
        let use_instead = idcode
            .and_then(|c| diagnose::ids::line_of(c & 0xFFF))
            .map(|l| {
                let s = diagnose::ids::script_for(l.series, |n| {
                    crate::script::find::find(self, n).is_some()
                });
                format!("use {s} instead")
            })
            .unwrap_or_else(|| "use the target script of the chip on the board".into());
        let msg = format!(
            "[{target}] wrong chip for this configuration: found {found}, but {script} expects {}\n  fix: {use_instead}; if the chip is a compatible clone, accept it with -c \"set CPUTAPID 0\" before the target script (like OpenOCD's CPUTAPID 0)",
            expects.join(" and ")
        );
        if expected_dpidr == 0 {
            tracing::warn!("{}", msg.lines().next().unwrap_or_default());
            tracing::warn!("[{target}] continuing because CPUTAPID is 0 (accept any chip)");
            return Ok(());
        }
        Err(CommandError::failed(msg))
    }
}
