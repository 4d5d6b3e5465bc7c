//! `doctor`: the connection checks in order, each with its evidence and a verdict, and a summary
//! with the fix. It opens its own connection attempts, so it works when `init` failed.

use std::fmt::Write as _;

use super::link::{self, Depth, LinkIds};
use super::{Evidence, ids, regs};
use crate::host::Host;
use crate::host::connection::{self, Adapter, ConnectError, LADDER_FLOOR_KHZ, Method};
use crate::sim::Sim;

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// As expected.
    Ok,
    /// Works, but something will bite later.
    Warn,
    /// Broken.
    Fail,
    /// Not run (an earlier check failed, or the probe cannot do it).
    Skip,
}

impl Verdict {
    /// The word in the table.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "-",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was checked.
    pub check: String,
    /// What was found.
    pub result: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Title line.
    pub title: String,
    /// Checks in order.
    pub rows: Vec<Row>,
    /// The conclusion: cause and fix.
    pub summary: Vec<String>,
    /// The host, whose other consoles are told at each row that they wait (host/jobs.rs).
    waiting: Option<Waiting>,
    /// The user cancelled doctor (Ctrl-C): the remaining checks are skipped.
    pub cancelled: bool,
}

/// The host a report tells about its progress.
#[derive(Clone)]
struct Waiting(Host);

impl std::fmt::Debug for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Waiting")
    }
}

impl Report {
    fn row(&mut self, check: impl Into<String>, result: impl Into<String>, verdict: Verdict) {
        self.rows.push(Row {
            check: check.into(),
            result: result.into(),
            verdict,
        });
        if let Some(Waiting(h)) = &self.waiting
            && h.checkpoint(true).is_err()
        {
            self.cancelled = true;
        }
    }

    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Fail)
    }

    /// The report as text lines: a table (check, result, verdict) and the summary.
    pub fn lines(&self) -> Vec<String> {
        let cw = self
            .rows
            .iter()
            .map(|r| r.check.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let rw = self
            .rows
            .iter()
            .map(|r| r.result.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let mut out = vec![self.title.clone()];
        out.push(format!("{:<cw$}  {:<rw$}  verdict", "check", "result"));
        out.push(format!("{}  {}  -------", "-".repeat(cw), "-".repeat(rw)));
        for r in &self.rows {
            out.push(format!(
                "{:<cw$}  {:<rw$}  {}",
                r.check,
                r.result,
                r.verdict.word()
            ));
        }
        out.push(String::new());
        out.extend(self.summary.iter().cloned());
        out
    }
}

/// What the target script expects.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// Target name.
    pub target: String,
    /// probe-rs chip name.
    pub chip: String,
    /// MEM-AP number.
    pub ap: u8,
    /// CPUTAPID (0 = any).
    pub dpidr: u32,
    /// DEV_IDs (empty = any).
    pub dev_ids: Vec<u32>,
    /// The target script has an examine-end handler (it sets DBGMCU_CR).
    pub has_examine_end: bool,
    /// Configured speed, kHz.
    pub speed_khz: Option<u32>,
    /// `reset_config` declares SRST.
    pub srst: bool,
}

fn verdict_text(ids: &LinkIds) -> String {
    match ids.evidence {
        Some(Evidence::NoAck) => "no ACK".into(),
        Some(Evidence::LineErrors) => "parity errors".into(),
        Some(Evidence::Wait) => "WAIT".into(),
        Some(Evidence::Fault) => "FAULT".into(),
        _ => ids.error.clone().unwrap_or_else(|| "failed".into()),
    }
}

/// Runs every check. `sim` reuses a running virtual chip (when `doctor` interrupts a live
/// connection).
pub fn run(host: &Host, exp: &Expected, sim: Option<Sim>) -> (Report, Option<Sim>) {
    let mut rep = Report {
        title: format!("doctor: {} ({})", exp.target, exp.chip),
        waiting: Some(Waiting(host.clone())),
        ..Report::default()
    };
    // 1. Probe.
    let adapter = match Adapter::open(host, sim) {
        Ok(a) => a,
        Err(e) => {
            rep.row("probe", e.to_string(), Verdict::Fail);
            rep.summary.push(format!("FAIL: no probe: {e}"));
            return (rep, None);
        }
    };
    // One probe handle for the name, the voltage and the speed table (each open is a USB round
    // trip on a real probe); closed before the checks below open their own.
    let mut probe = match adapter.probe() {
        Ok(p) => {
            let name = p.get_name();
            let fw = if adapter.driver == "stlink" {
                "; firmware version: accepted by probe-rs (J26+ on V2, J3+ on V3; probe-rs 0.32 does not expose the number, an older one fails to open)"
            } else {
                ""
            };
            rep.row(
                "probe",
                format!("{} [{name}]{fw}", adapter.describe()),
                Verdict::Ok,
            );
            p
        }
        Err(e) => {
            rep.row("probe", e.to_string(), Verdict::Fail);
            rep.summary.push("FAIL: the probe was found but could not be opened; close other debuggers (OpenOCD, STM32CubeIDE, probe-rs) and check USB permissions".into());
            return (rep, adapter.sim);
        }
    };
    // 2. Voltage.
    let voltage = probe.get_target_voltage().ok().flatten();
    let powered = match voltage {
        Some(v) if v < 1.4 => {
            rep.row(
                "target voltage",
                format!("{v:.2} V (below 1.4 V: no target power)"),
                Verdict::Fail,
            );
            false
        }
        Some(v) => {
            rep.row(
                "target voltage",
                format!("{v:.2} V"),
                if v < 2.0 { Verdict::Warn } else { Verdict::Ok },
            );
            true
        }
        None => {
            rep.row(
                "target voltage",
                "not measured (this probe has no target-voltage sense)",
                Verdict::Skip,
            );
            true
        }
    };
    // 3. DPIDR at each speed.
    let speeds = link::speed_table(&mut probe, 4000, LADDER_FLOOR_KHZ);
    drop(probe);
    let mut working: Vec<u32> = Vec::new();
    let mut failing: Vec<u32> = Vec::new();
    let mut dpidr_seen = None;
    for k in &speeds {
        let Ok(p) = adapter.probe_at(Some(*k)) else {
            continue;
        };
        let (_, l) = link::look(p, exp.ap, Depth::Dpidr);
        match l.dpidr {
            Some(d) => {
                working.push(*k);
                dpidr_seen = Some(d);
                rep.row(
                    format!("DPIDR at {k} kHz"),
                    format!("{d:#010x}"),
                    Verdict::Ok,
                );
            }
            None => {
                failing.push(*k);
                // A speed above the configured one may fail without harm.
                let v = if exp.speed_khz.is_some_and(|c| *k > c) {
                    Verdict::Warn
                } else {
                    Verdict::Fail
                };
                rep.row(format!("DPIDR at {k} kHz"), verdict_text(&l), v);
            }
        }
    }
    let configured = exp.speed_khz.unwrap_or(1000);
    let best = working
        .iter()
        .copied()
        .find(|k| *k <= configured)
        .or(working.first().copied());
    // 4. IDs and registers at the best speed.
    let mut full = LinkIds::default();
    if let Some(k) = best
        && let Ok(p) = adapter.probe_at(Some(k))
    {
        full = link::look(p, exp.ap, Depth::Full).1;
    }
    let mut chip_mismatch = None;
    let mut rdp = false;
    let mut wrp = false;
    let mut lowpower_warn: Option<&'static crate::family::DebugRegs> = None;
    if best.is_none() {
        // The family the target script expects names its own protection registers.
        let (rdp_reg, wrp_reg) = crate::family::line_for(None, &exp.dev_ids)
            .driver
            .and_then(|d| d.family())
            .map(|f| f.protection_registers())
            .unwrap_or(("FLASH_OBR", "FLASH_WRPR"));
        for c in [
            "AP IDR".to_string(),
            "CPUID".into(),
            "DPIDR vs CPUTAPID".into(),
            "DBGMCU_IDCODE".into(),
            "core state (DHCSR)".into(),
            format!("RDP ({rdp_reg})"),
            format!("WRP ({wrp_reg})"),
            "DBGMCU_CR".into(),
        ] {
            rep.row(c, "not read: no DPIDR at any speed", Verdict::Skip);
        }
    } else {
        let k = best.unwrap_or(configured);
        match full.ap_idr {
            Some(v) => rep.row(
                "AP IDR",
                format!(
                    "{v:#010x} at {k} kHz{}",
                    if v == 0x1477_0011 { " (AHB-AP)" } else { "" }
                ),
                Verdict::Ok,
            ),
            None => rep.row(
                "AP IDR",
                full.error.clone().unwrap_or_default(),
                Verdict::Fail,
            ),
        }
        match full.cpuid {
            Some(v) => rep.row(
                "CPUID",
                format!("{v:#010x} {}", ids::describe_cpuid(v)),
                Verdict::Ok,
            ),
            None => rep.row("CPUID", "not readable", Verdict::Fail),
        }
        if let Some(d) = dpidr_seen {
            if exp.dpidr == 0 || d == exp.dpidr {
                let how = if exp.dpidr == 0 {
                    "CPUTAPID 0: any accepted".to_string()
                } else {
                    "as expected".to_string()
                };
                rep.row(
                    "DPIDR vs CPUTAPID",
                    format!("{d:#010x} ({how})"),
                    Verdict::Ok,
                );
            } else {
                rep.row(
                    "DPIDR vs CPUTAPID",
                    format!("{d:#010x}, expected {:#010x}", exp.dpidr),
                    Verdict::Fail,
                );
                chip_mismatch = Some(format!(
                    "DPIDR {d:#010x} is not the expected {:#010x}",
                    exp.dpidr
                ));
            }
        }
        match full.idcode {
            Some(c) => {
                let dev = c & 0xFFF;
                let ok = exp.dev_ids.is_empty() || exp.dev_ids.contains(&dev);
                if ok {
                    rep.row("DBGMCU_IDCODE", ids::describe_idcode(c), Verdict::Ok);
                } else {
                    let exp_words = ids::describe_expected(&exp.dev_ids);
                    rep.row(
                        "DBGMCU_IDCODE",
                        format!("{}; expected {exp_words}", ids::describe_idcode(c)),
                        if exp.dpidr == 0 {
                            Verdict::Warn
                        } else {
                            Verdict::Fail
                        },
                    );
                    let script = ids::line_of(dev)
                        .map(|l| {
                            ids::script_for(l.series, |n| {
                                crate::script::find::find(host, n).is_some()
                            })
                        })
                        .unwrap_or_else(|| "the target script of the chip on the board".into());
                    chip_mismatch = Some(format!(
                        "found {}, but the configuration expects {exp_words}; use {script}, or accept the chip with -c \"set CPUTAPID 0\" before the target script",
                        ids::describe_idcode(c)
                    ));
                }
            }
            None => rep.row("DBGMCU_IDCODE", "not readable", Verdict::Warn),
        }
        match full.dhcsr {
            Some(v) => {
                let (verdict, note) = if v & regs::dhcsr::S_LOCKUP != 0 {
                    (
                        Verdict::Warn,
                        ": blank flash or a fault with faults disabled",
                    )
                } else if v & regs::dhcsr::S_SLEEP != 0 {
                    (Verdict::Ok, ": WFI/WFE; the debugger can halt it")
                } else {
                    (Verdict::Ok, "")
                };
                rep.row(
                    "core state (DHCSR)",
                    format!("{}{note}", regs::describe_dhcsr(v)),
                    verdict,
                );
            }
            None => rep.row("core state (DHCSR)", "not readable", Verdict::Warn),
        }
        let line = crate::family::line_for(full.idcode, &exp.dev_ids);
        match &full.flash {
            Some(st) => {
                let reg = st.rdp_register;
                let (text, verdict) = match st.rdp {
                    crate::family::Rdp::Level0 => (
                        format!("{:#010x}: level 0 (not protected)", st.rdp_raw),
                        Verdict::Ok,
                    ),
                    crate::family::Rdp::Level1 => {
                        rdp = true;
                        (
                            format!(
                                "{:#010x}: {}, level 1: debugger reads of flash fail",
                                st.rdp_raw,
                                if reg == "FLASH_OBR" {
                                    "RDPRT set"
                                } else {
                                    "RDP not 0xAA"
                                }
                            ),
                            Verdict::Fail,
                        )
                    }
                    crate::family::Rdp::Level2 => {
                        rdp = true;
                        (
                            format!(
                                "{:#010x}: level 2: permanent, nothing can be done over SWD",
                                st.rdp_raw
                            ),
                            Verdict::Fail,
                        )
                    }
                };
                rep.row(format!("RDP ({reg})"), text, verdict);
                let wreg = st.wrp_register;
                let protected = !st.wrp.is_empty();
                wrp |= protected;
                rep.row(
                    format!("WRP ({wreg})"),
                    format!("{:#010x}: {}", st.wrp_raw, st.wrp_words),
                    if protected {
                        Verdict::Warn
                    } else {
                        Verdict::Ok
                    },
                );
            }
            None => {
                rep.row(
                    "RDP",
                    "not checked (a chip of a family stdbg drives, F1/F3/G4/L4, only)",
                    Verdict::Skip,
                );
                rep.row(
                    "WRP",
                    "not checked (a chip of a family stdbg drives, F1/F3/G4/L4, only)",
                    Verdict::Skip,
                );
            }
        }
        match (full.dbgmcu_cr, line.debug()) {
            (Some(v), Some(d)) => {
                let fz = full.dbgmcu_fz.unwrap_or(0);
                let mut notes = Vec::new();
                if v & d.lowpower != d.lowpower {
                    notes.push("Stop/Standby cut the link");
                }
                if fz & d.iwdg_stop == 0 {
                    notes.push("the IWDG runs while halted");
                }
                let (verdict, note) = if notes.is_empty() {
                    (Verdict::Ok, String::new())
                } else if exp.has_examine_end && v == 0 {
                    (
                        Verdict::Ok,
                        format!(
                            " (reset value; the examine-end handler sets the debug bits at init: `{}`)",
                            d.examine_end
                        ),
                    )
                } else {
                    lowpower_warn = Some(d);
                    (Verdict::Warn, format!(": {}", notes.join(", ")))
                };
                let text = if d.freeze_in_cr() {
                    format!("{v:#010x} {}{note}", d.cr_words(v))
                } else {
                    format!("{}{note}", d.describe(Some(v), full.dbgmcu_fz))
                };
                rep.row("DBGMCU_CR", text, verdict);
            }
            _ => rep.row("DBGMCU_CR", "not readable", Verdict::Warn),
        }
    }
    // 5. Connect normal vs under reset.
    let mut normal_ok = false;
    if powered {
        let at = exp.speed_khz.or(best);
        match connection::attach(&adapter, &exp.chip, at, Method::Normal) {
            Ok((s, khz)) => {
                normal_ok = true;
                drop(s);
                rep.row("connect (plain)", format!("ok at {khz} kHz"), Verdict::Ok);
            }
            Err(ConnectError::Attach {
                speed_khz, source, ..
            }) => rep.row(
                "connect (plain)",
                format!("at {speed_khz} kHz: {}", short(&source)),
                Verdict::Fail,
            ),
            Err(e) => rep.row("connect (plain)", e.to_string(), Verdict::Fail),
        }
    } else {
        rep.row("connect (plain)", "skipped: no target power", Verdict::Skip);
    }
    let mut under_reset_ok = false;
    let nrst = if exp.srst {
        Some(true)
    } else {
        adapter.nrst_wired()
    };
    if !powered {
        rep.row(
            "connect under reset",
            "skipped: no target power",
            Verdict::Skip,
        );
    } else if nrst == Some(false) {
        rep.row(
            "connect under reset",
            "not possible: NRST is not wired (stays high while asserted)",
            if normal_ok {
                Verdict::Warn
            } else {
                Verdict::Fail
            },
        );
    } else {
        let at = best.or(exp.speed_khz);
        // probe-rs's attach under reset first; then stdbg's own reset-vector halt (NRST held,
        // C_DEBUGEN + VC_CORERESET, NRST released), as the init ladder does.
        let session = match connection::attach(&adapter, &exp.chip, at, Method::UnderReset) {
            Ok((s, _)) => Ok(s),
            Err(ConnectError::Attach {
                speed_khz: khz,
                source: e1,
                ..
            }) => connection::halt_at_reset_vector(&adapter, khz, exp.ap)
                .and_then(|()| {
                    match connection::attach(&adapter, &exp.chip, Some(khz), Method::Normal) {
                        Ok((s, _)) => Ok(s),
                        Err(ConnectError::Attach { source, .. }) => Err(short(&source)),
                        Err(e) => Err(e.to_string()),
                    }
                })
                .map_err(|e2| format!("{} (probe-rs attach under reset: {})", e2, short(&e1))),
            Err(e) => Err(e.to_string()),
        };
        match session {
            Ok(mut s) => {
                under_reset_ok = true;
                let pc = s
                    .core(0)
                    .and_then(|mut c| c.read_core_reg::<u32>(c.program_counter()))
                    .ok();
                let pc = pc
                    .map(|p| format!("; halted at the reset vector, PC {p:#010x}"))
                    .unwrap_or_default();
                drop(s);
                rep.row(
                    "connect under reset",
                    format!("ok (the target was reset){pc}"),
                    Verdict::Ok,
                );
            }
            Err(e) => rep.row("connect under reset", e, Verdict::Fail),
        }
    }
    // 6. Summary.
    let line = crate::family::line_for(full.idcode, &exp.dev_ids);
    let driver = line
        .driver
        .map(|d| d.name())
        .unwrap_or(crate::family::Driver::Stm32f1x.name());
    let swd_pins = line
        .debug()
        .map(|d| d.swd_pins)
        .unwrap_or("the SWD pin configuration");
    let volts = voltage
        .map(|v| format!("{v:.2} V"))
        .unwrap_or_else(|| "unmeasured voltage".into());
    let s = &mut rep.summary;
    if !powered {
        s.push(format!("FAIL: no target power ({volts}): power the board and wire the probe's VTref/3V3 pin to the board's 3.3 V (and GND)."));
    } else if working.is_empty()
        || (!failing.is_empty() && failing.iter().all(|f| working.iter().all(|w| f < w)))
    {
        if !working.is_empty() {
            s.push(format!("note: the DPIDR read at {working:?} kHz (tried first), then the SW-DP stopped answering at every speed: the running firmware cut the link during the check."));
        }
        if under_reset_ok {
            s.push(format!("FAIL: the target is powered ({volts}) but gives no ACK while its firmware runs; under reset it answers. The firmware disables the SWD pins ({swd_pins}) or enters Stop/Standby without the DBGMCU_CR debug bits."));
            s.push(format!("fix: add `reset_config(\"srst_only srst_nogate connect_assert_srst\");` to the board script (init also falls back to it by itself); then erase or fix the firmware (`{driver} mass_erase 0`)."));
        } else if nrst == Some(false) {
            s.push(format!("FAIL: the target is powered ({volts}) but gives no ACK at any speed, and NRST is not wired, so connecting under reset is impossible. The firmware likely disables the SWD pins or enters Stop/Standby; or SWDIO/SWCLK are not connected."));
            s.push(format!("fix: wire NRST to the probe and add `reset_config(\"srst_only srst_nogate connect_assert_srst\");`; or hold RESET while starting stdbg; or boot with BOOT0 = 1 and run `{driver} mass_erase 0`."));
        } else {
            s.push(format!("FAIL: the target is powered ({volts}) but gives no ACK at any speed, even under reset: check SWDIO, SWCLK and GND wiring."));
            if let Some(rdp2) = line.debug().and_then(|d| d.rdp2) {
                s.push(format!("note: a chip at read-out protection level 2 ({rdp2}) looks exactly like this: its debug port stays off from reset on. That is permanent: nothing can be done over SWD."));
            }
        }
    } else if !failing.is_empty()
        && failing.iter().any(|f| *f < working[0])
        && failing.iter().any(|f| *f > working[0])
    {
        s.push(format!("warn: the link is intermittent: DPIDR read at {working:?} kHz but not at {failing:?} kHz; check wiring and lower the speed."));
    } else if !failing.is_empty() {
        let top = working[0];
        s.push(format!("warn: the SWD line fails above {top} kHz (signal integrity: long or loose wires, no ground return)."));
        if configured > top {
            s.push(format!("fix: `adapter.speed = {top};` in the board script (or -c \"adapter speed {top}\"); the configured {configured} kHz does not work."));
        } else {
            s.push(format!("note: the configured {configured} kHz works; keep `adapter.speed` at or below {top} kHz."));
        }
    }
    if let Some(m) = chip_mismatch {
        s.push(format!(
            "{}: wrong chip: {m}.",
            if exp.dpidr == 0 { "warn" } else { "FAIL" }
        ));
    }
    if rdp {
        let level2 = full
            .flash
            .as_ref()
            .is_some_and(|f| f.rdp == crate::family::Rdp::Level2);
        if level2 {
            s.push("FAIL: flash is read-protected at RDP level 2: this is permanent; the debug port refuses flash access for good and nothing can be done over SWD.".into());
        } else {
            let fix = line
                .driver
                .and_then(|d| d.family())
                .map(|f| f.unlock_fix(0))
                .unwrap_or_else(|| "'stm32f1x unlock 0', then a power cycle".into());
            s.push(format!("FAIL: flash is read-protected (RDP level 1): reads of flash fail and programming is refused. fix: {fix} (this mass-erases the flash; stdbg never does it by itself)."));
        }
    }
    if wrp {
        let (bit, how) = if driver == "stm32l4x" {
            (
                "WRPERR",
                "turn the area off with `stm32l4x option_write 0 <FLASH_WRPxyR offset> 0x000000ff 0x00ff00ff`, then `stm32l4x option_load 0` (`stm32l4x wrp_info 0` lists the areas)",
            )
        } else {
            (
                "WRPRTERR",
                "`flash protect 0 <first> <last> off`, then `reset halt` (`flash info 0` lists the protected blocks)",
            )
        };
        s.push(format!("warn: some flash pages are write-protected: programming them fails with {bit}. fix: {how}."));
    }
    if let Some(d) = lowpower_warn {
        s.push(format!("warn: DBGMCU_CR lacks debug bits: firmware that enters Stop/Standby will cut the link and the IWDG resets the chip while halted. fix: keep the target script's examine-end handler (`{}`) and do not clear DBGMCU_CR in the firmware.", d.examine_end));
    }
    if powered && !working.is_empty() && !normal_ok && under_reset_ok {
        s.push("fix: the plain connection fails but connecting under reset works: add `reset_config(\"srst_only srst_nogate connect_assert_srst\");` to the board script.".into());
    }
    if s.is_empty() {
        let k = best.unwrap_or(configured);
        s.push(format!("ok: no problem found: the link works at {k} kHz and the chip matches the configuration."));
    }
    let sim = adapter.sim.clone();
    (rep, sim)
}

fn short(e: &probe_rs::Error) -> String {
    match super::evidence(e) {
        Evidence::NoAck => "no ACK from the SW-DP".into(),
        Evidence::LineErrors => "parity errors".into(),
        Evidence::Wait => "WAIT".into(),
        Evidence::Fault => "FAULT".into(),
        Evidence::Timeout => "timeout waiting for the core".into(),
        Evidence::Other => {
            let mut w = String::new();
            let _ = write!(w, "{}", super::chain(e).last().cloned().unwrap_or_default());
            w
        }
    }
}
