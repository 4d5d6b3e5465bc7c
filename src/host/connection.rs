//! The live connection: the opened adapter and the probe-rs [`Session`] attached to the target.
//!
//! Only the host thread uses it. Real probes are found and opened through probe-rs's `Lister`;
//! the virtual chip (`adapter driver sim`) is a [`Sim`] whose [`crate::sim::SimProbe`] goes through
//! exactly the same probe-rs code paths.

use std::time::Duration;

use probe_rs::{MemoryInterface, Permissions, Session};
use thiserror::Error;

use super::Host;
pub use super::adapter::{Adapter, SIM_ENV, list_probes, probe_matches_driver};
use super::breakpoints::dwt::DEMCR;
pub use super::ladder::{LadderFailure, NrstState, Recovery, Rung};
use crate::diagnose::regs::{demcr, dhcsr};
use crate::sim::Sim;

/// Adapter drivers stdbg knows, with the probe-rs probe type each one opens.
pub const DRIVERS: &[&str] = &[
    "sim",
    "stlink",
    "cmsis-dap",
    "jlink",
    "ftdi",
    "remote_bitbang",
];

/// Why `init` could not connect.
#[derive(Debug, Error)]
pub enum ConnectError {
    /// No adapter was chosen.
    #[error(
        "Debug Adapter has to be specified, see \"adapter driver\" command (for example: -f interface/stlink.rhai, or -f interface/sim.rhai for the virtual target)"
    )]
    NoDriver,
    /// No target was declared.
    #[error(
        "no target is defined: source a target script first (for example: -f targets/stm32f1x.rhai, or a board script such as -f board/bluepill.rhai)"
    )]
    NoTarget,
    /// The driver name is not one stdbg supports.
    #[error(
        "unknown adapter driver \"{0}\"; supported: sim, stlink, cmsis-dap, jlink, ftdi, remote_bitbang"
    )]
    UnknownDriver(String),
    /// `adapter driver remote_bitbang` without `remote_bitbang port`.
    #[error(
        "the remote_bitbang adapter needs the server's port: add 'remote_bitbang port N' (and 'remote_bitbang host NAME' if it is not on this machine) before init"
    )]
    NoRemoteBitbangPort,
    /// The remote_bitbang server could not be reached.
    #[error("{0}")]
    RemoteBitbang(String),
    /// No probe of the chosen kind is attached.
    #[error(
        "no {driver} probe found{serial}: check that the probe is plugged in (lsusb) and that you may access it (udev rules / plugdev group); 'adapter list' shows the probes stdbg can see"
    )]
    NoProbe {
        /// Driver name.
        driver: String,
        /// `" with serial X"` when a serial was requested.
        serial: String,
    },
    /// The probe was found but could not be opened.
    #[error(
        "could not open the {driver} probe {identifier}: {source}; another program (OpenOCD, STM32CubeIDE, probe-rs) may hold it, or USB permissions are missing"
    )]
    Open {
        /// Driver name.
        driver: String,
        /// The probe's identifier.
        identifier: String,
        /// The probe-rs error.
        #[source]
        source: probe_rs::probe::DebugProbeError,
    },
    /// The virtual chip could not be created.
    #[error("could not start the virtual target: {0}")]
    Sim(#[from] crate::sim::SimError),
    /// The virtual chip name is unknown.
    #[error(
        "unknown virtual chip \"{0}\"; 'sim chip' lists the supported ones: STM32F103C8, STM32F103CB, STM32F303VC, STM32G474RE, STM32L476RG, STM32H743ZI"
    )]
    UnknownSimChip(String),
    /// No rung of the recovery ladder connected; the report says what was tried and why.
    #[error("{0}")]
    Ladder(Box<LadderFailure>),
    /// probe-rs's attach sequence for the configured chip needs an access port the chip found
    /// does not have (the STM32H7 sequence writes DBGMCU through AP2): the wrong chip, named.
    #[error("{0}")]
    WrongChip(String),
    /// Attaching to the target failed.
    #[error("could not attach to {chip} through the {driver} adapter at {speed_khz} kHz: {source}")]
    Attach {
        /// probe-rs chip name.
        chip: String,
        /// Driver name.
        driver: String,
        /// SWD clock in kHz.
        speed_khz: u32,
        /// The probe-rs error.
        #[source]
        source: probe_rs::Error,
    },
}

/// The opened adapter and attached session.
pub struct Connection {
    /// The probe-rs session (cores, memory, flash).
    pub session: Session,
    /// The virtual chip, when the adapter is `sim`.
    pub sim: Option<Sim>,
    /// Driver name.
    pub driver: String,
    /// SWD clock actually set, kHz.
    pub speed_khz: u32,
    /// What stdbg remembers about the link for later diagnoses.
    pub notes: LinkNotes,
    /// The probe's deferred-read switch, when it has one (`probe/batch.rs`).
    pub reads: Option<crate::probe::batch::ReadBatch>,
    /// Whether the core behind each access port has an FPU, once asked
    /// ([`crate::host::Host::core_has_fpu`]).
    pub fpu: Vec<(u8, bool)>,
    /// The CSW each access port had when stdbg first accessed it raw (host/fastread.rs).
    pub csw: Vec<(u8, u32)>,
    /// The core whose halt reason probe-rs caches wrongly: stepped behind its back
    /// (host/faststep.rs). [`Connection::open_core`] reads its status first.
    pub core_state_stale: Option<usize>,
}

impl Connection {
    /// Brings probe-rs's cached halt reason of core `idx` up to date (a status read: DHCSR,
    /// DFSR) when stdbg stepped that core itself; nothing otherwise. Errors are probe-rs's.
    pub fn settle_core_state(&mut self, idx: usize) -> Result<(), probe_rs::Error> {
        if self.core_state_stale == Some(idx) {
            self.session.core(idx)?.status()?;
            self.core_state_stale = None;
        }
        Ok(())
    }

    /// probe-rs's core `idx`, after [`Connection::settle_core_state`]. Errors are probe-rs's.
    pub fn open_core(&mut self, idx: usize) -> Result<probe_rs::Core<'_>, probe_rs::Error> {
        self.settle_core_state(idx)?;
        self.session.core(idx)
    }
}

/// Evidence kept from earlier commands, used when the link fails later.
#[derive(Debug, Clone, Default)]
pub struct LinkNotes {
    /// When the current target was last resumed.
    pub resumed_at: Option<std::time::Instant>,
    /// DBGMCU_CR read just before that resume.
    pub dbgmcu_cr_at_resume: Option<u32>,
    /// The last diagnosis the poller produced (link lost, reset while halted), kept until a
    /// front end that could not see the event (GDB) takes it.
    pub pending_diagnosis: Option<String>,
    /// An access failed on the link (no ACK, WAIT, parity errors): the next access attaches
    /// again first (host/reattach.rs).
    pub link_lost: bool,
}

/// Which attach to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// probe-rs `attach`.
    Normal,
    /// probe-rs `attach_under_reset` (NRST asserted during the attach).
    UnderReset,
}

/// A fresh probe at `khz` attached to `chip`; returns the session and the speed the probe
/// actually uses (kHz). A failed attach is [`ConnectError::Attach`] with that speed.
pub(crate) fn attach(
    adapter: &Adapter,
    chip: &str,
    khz: Option<u32>,
    method: Method,
) -> Result<(Session, u32), ConnectError> {
    let mut probe = adapter.probe_at(khz)?;
    let speed_khz = probe.speed_khz();
    // Nothing answers at all: say so now instead of after probe-rs's one-second retry.
    if crate::diagnose::link::dp_answers(&mut probe, method == Method::UnderReset) == Some(false) {
        return Err(ConnectError::Attach {
            chip: chip.to_string(),
            driver: adapter.driver.clone(),
            speed_khz,
            source: crate::diagnose::link::no_answer_error().into(),
        });
    }
    let perms = Permissions::new();
    let r = match method {
        Method::Normal => probe.attach(chip, perms),
        Method::UnderReset => probe.attach_under_reset(chip, perms),
    };
    if let Err(e) = &r
        && let Some(msg) = missing_ap(adapter, chip, khz, e)
    {
        return Err(ConnectError::WrongChip(msg));
    }
    r.map(|s| (s, speed_khz))
        .map_err(|source| ConnectError::Attach {
            chip: chip.to_string(),
            driver: adapter.driver.clone(),
            speed_khz,
            source,
        })
}

/// When probe-rs's attach for `chip` failed because an access port does not exist (its
/// STM32H7 sequence writes DBGMCU through AP2, which other STM32s lack), the chip actually
/// found (DBGMCU_IDCODE through AP0) and the configured one, in words.
fn missing_ap(
    adapter: &Adapter,
    chip: &str,
    khz: Option<u32>,
    e: &probe_rs::Error,
) -> Option<String> {
    if !ap_does_not_exist(e) {
        return None;
    }
    let text = crate::diagnose::chain(e).join(": ");
    let p = adapter.probe_at(khz).ok()?;
    let (_, ids) = crate::diagnose::link::look(p, 0, crate::diagnose::link::Depth::Full);
    let idcode = ids.idcode?;
    let found = crate::diagnose::ids::describe_idcode(idcode);
    let instead = crate::diagnose::ids::line_of(idcode & 0xFFF)
        .map(|l| {
            format!(
                "use {} instead",
                crate::diagnose::ids::script_for(l.series, |_| true)
            )
        })
        .unwrap_or_else(|| "use the target script of the chip on the board".into());
    Some(format!(
        "wrong chip for this configuration: found {found}, but the configuration is for an {chip} (probe-rs's attach for it failed: {text}; that access port exists on the {chip}, not on the chip found)\n  fix: {instead}"
    ))
}

impl Connected {
    /// The connection made through `adapter` with `session` at `speed_khz`, and how.
    fn new(adapter: Adapter, session: Session, speed_khz: u32, recovery: Recovery) -> Self {
        let reads = adapter.read_batch();
        Connected {
            conn: Connection {
                session,
                sim: adapter.sim,
                driver: adapter.driver,
                speed_khz,
                notes: LinkNotes::default(),
                reads,
                fpu: Vec::new(),
                csw: Vec::new(),
                core_state_stale: None,
            },
            recovery,
        }
    }
}

/// After an attach under reset: halts the core on the reset vector when it left reset running
/// (vector catch + SYSRESETREQ) and logs where it is halted, or why it could not be.
fn halt_after_attach_under_reset(session: &mut Session, speed_khz: u32) {
    let halted = session.core(0).and_then(|mut c| {
        if !c.core_halted()? {
            tracing::info!("connect: the core left reset running; halting it on the reset vector (vector catch + SYSRESETREQ)");
            c.reset_and_halt(std::time::Duration::from_millis(500))?;
        }
        c.read_core_reg::<u32>(c.program_counter())
    });
    match halted {
        Ok(pc) => tracing::info!(
            "connect: connected under reset at {speed_khz} kHz; the core is halted at the reset vector (PC {pc:#010x}) before the firmware ran"
        ),
        Err(e) => tracing::warn!(
            "connect: connected under reset but could not halt the core: {}",
            crate::diagnose::chain(&e).join(": ")
        ),
    }
}

/// Whether probe-rs's error chain holds `ArmError::ApDoesNotExist`.
fn ap_does_not_exist(e: &probe_rs::Error) -> bool {
    use probe_rs::architecture::arm::ArmError;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if matches!(
            x.downcast_ref::<ArmError>(),
            Some(ArmError::ApDoesNotExist(_))
        ) || matches!(
            x.downcast_ref::<probe_rs::Error>(),
            Some(probe_rs::Error::Arm(ArmError::ApDoesNotExist(_)))
        ) {
            return true;
        }
        cur = x.source();
    }
    false
}

/// Lowest speed the ladder tries, kHz.
pub const LADDER_FLOOR_KHZ: u32 = 100;

/// The result of a connection: the live connection and how it was reached.
pub struct Connected {
    /// The connection.
    pub conn: Connection,
    /// Which rung of the ladder worked.
    pub recovery: Recovery,
}

/// Opens the adapter and attaches to `chip`, climbing the recovery ladder when the plain attach
/// fails on the link: plain attach at the configured speed → each lower speed of the probe's
/// table down to [`LADDER_FLOOR_KHZ`] → attach under reset (when NRST acts on the target) →
/// halt at the reset vector before the firmware runs (at once, from the speed at which the attach
/// under reset timed out waiting for the halt: the DP answered there, so that speed is not the
/// cause). Every rung is logged (`Info : connect: …`).
/// `sim` reuses a virtual chip that is already running (reconnection).
pub fn connect(
    host: &Host,
    chip: &str,
    ap: u8,
    sim: Option<Sim>,
) -> Result<Connected, ConnectError> {
    let adapter = Adapter::open(host, sim)?;
    let (speed, reset_cfg) = {
        let c = host.config();
        (c.adapter.speed_khz, c.reset_config.clone())
    };
    let configured_under_reset = reset_cfg.connect == "connect_assert_srst" && reset_cfg.has_srst();
    let first_method = if configured_under_reset {
        Method::UnderReset
    } else {
        Method::Normal
    };
    let first = attach(&adapter, chip, speed, first_method);
    // The speed the probe rounded the configured one to, from the attach's own probe handle.
    let actual = match &first {
        Ok((_, k)) | Err(ConnectError::Attach { speed_khz: k, .. }) => Some(*k),
        Err(_) => None,
    };
    if let (Some(khz), Some(actual)) = (speed, actual)
        && actual != khz
    {
        tracing::info!("Unable to match requested speed {khz} kHz, using {actual} kHz");
    }
    let err = match first {
        Ok((session, speed_khz)) => {
            let recovery = if configured_under_reset {
                Recovery::Configured
            } else {
                Recovery::None
            };
            return Ok(Connected::new(adapter, session, speed_khz, recovery));
        }
        Err(e) => e,
    };
    let ConnectError::Attach {
        speed_khz: first_khz,
        ..
    } = &err
    else {
        return Err(err);
    };
    let first_khz = *first_khz;
    if !crate::diagnose::is_link_failure(&err) {
        return Err(err);
    }
    // A configured attach under reset whose DP answered but whose core left reset running
    // (vector catch without C_DEBUGEN after a power-on, ARMv7-M ARM §C1.6.5): a lower SWCLK
    // cannot help, so the same attach is tried once more at the same speed (the failed one left
    // the debug logic enabled), and the core is halted on the reset vector if it runs.
    if configured_under_reset && crate::diagnose::is_under_reset_timeout(&err) {
        tracing::info!(
            "connect: the debug port answered under reset at {first_khz} kHz but the core left reset running (the reset vector catch needs DHCSR.C_DEBUGEN, which a power-on clears); attaching under reset again at the same speed"
        );
        if let Ok((mut session, speed_khz)) =
            attach(&adapter, chip, Some(first_khz), Method::UnderReset)
        {
            halt_after_attach_under_reset(&mut session, speed_khz);
            return Ok(Connected::new(
                adapter,
                session,
                speed_khz,
                Recovery::Configured,
            ));
        }
    }
    let first_text = crate::diagnose::chain(&err)
        .into_iter()
        .skip(1)
        .collect::<Vec<_>>()
        .join(": ");
    let method_words = if configured_under_reset {
        "attach under reset"
    } else {
        "plain attach"
    };
    tracing::info!(
        "connect: {method_words} at {first_khz} kHz failed: {}",
        short(&err)
    );
    let mut rungs = vec![Rung {
        what: format!("{method_words} at {first_khz} kHz"),
        result: Err(short(&err)),
    }];
    let voltage = adapter.voltage();
    let line = crate::family::target_line(host, None);
    let mut fail = LadderFailure {
        chip: chip.to_string(),
        adapter: adapter.describe(),
        rungs: Vec::new(),
        step: crate::diagnose::failed_step(&err).to_string(),
        evidence: crate::diagnose::evidence(&err),
        voltage,
        nrst: if reset_cfg.has_srst() {
            NrstState::Configured
        } else {
            NrstState::Unknown
        },
        speed_khz: first_khz,
        first_error: first_text,
        firmware_outdated: crate::diagnose::stlink_firmware_outdated(&err),
        // The fixes name the family's commands and SWD pins (F1 when the chip is unknown).
        driver: line
            .driver
            .map(|d| d.name())
            .unwrap_or(crate::family::Driver::Stm32f1x.name()),
        swd_pins: crate::family::debug_of(line).swd_pins,
        rdp2: crate::family::debug_of(line).rdp2,
    };
    if let Some(v) = voltage {
        tracing::info!("connect: target voltage {v:.2} V");
        if v < 1.4 {
            fail.rungs = rungs;
            return Err(ConnectError::Ladder(Box::new(fail)));
        }
    }
    // Rung 2: lower speeds.
    let speeds = match adapter.probe() {
        Ok(mut p) => crate::diagnose::link::speed_table(
            &mut p,
            first_khz.saturating_sub(1),
            LADDER_FLOOR_KHZ,
        ),
        Err(_) => Vec::new(),
    };
    for &khz in &speeds {
        tracing::info!("connect: trying {method_words} at {khz} kHz");
        match attach(&adapter, chip, Some(khz), first_method) {
            Ok((session, speed_khz)) => {
                tracing::info!("connect: connected at {speed_khz} kHz");
                let recovery = Recovery::LowerSpeed {
                    from_khz: first_khz,
                    to_khz: speed_khz,
                };
                return Ok(Connected::new(adapter, session, speed_khz, recovery));
            }
            Err(e) => {
                tracing::info!("connect: {khz} kHz failed: {}", short(&e));
                rungs.push(Rung {
                    what: format!("{method_words} at {khz} kHz"),
                    result: Err(short(&e)),
                });
                if !crate::diagnose::is_link_failure(&e) {
                    fail.rungs = rungs;
                    return Err(e);
                }
            }
        }
    }
    // Rung 3: under reset (probe-rs asserts NRST, sets up the DP, sets the reset vector catch,
    // releases NRST and waits for the halt). Already tried when the board script asks for it.
    let wired = if reset_cfg.has_srst() {
        Some(true)
    } else {
        adapter.nrst_wired()
    };
    if let Some(w) = wired
        && !reset_cfg.has_srst()
    {
        fail.nrst = if w {
            NrstState::Wired
        } else {
            NrstState::NotWired
        };
    }
    if wired == Some(false) {
        tracing::info!(
            "connect: attach under reset skipped: NRST is not wired (the line stays high while the probe asserts it)"
        );
        rungs.push(Rung {
            what: "attach under reset".into(),
            result: Err("skipped: NRST not wired".into()),
        });
        fail.rungs = rungs;
        return Err(ConnectError::Ladder(Box::new(fail)));
    }
    // Rungs 3 and 4 combine with the speeds: the firmware may cut the link *and* the line may
    // be bad at the configured speed, so each reset strategy is tried at each speed, from the
    // configured one down, until one connects (the warnings then name both causes).
    let all_speeds: Vec<u32> = std::iter::once(first_khz)
        .chain(speeds.iter().copied())
        .collect();
    let recovery_at = |khz: u32| match (configured_under_reset, khz == first_khz) {
        (true, true) => Recovery::Configured,
        (true, false) => Recovery::LowerSpeed {
            from_khz: first_khz,
            to_khz: khz,
        },
        (false, true) => Recovery::UnderReset,
        (false, false) => Recovery::UnderResetLowerSpeed {
            from_khz: first_khz,
            to_khz: khz,
        },
    };
    // The speed at which the DP answered under reset but the core was not caught (rung 4 starts
    // there: the faster ones failed on the line).
    let mut dp_answered_khz = None;
    for &khz in all_speeds.iter().filter(|_| !configured_under_reset) {
        tracing::info!("connect: attach under reset (NRST asserted) at {khz} kHz");
        match attach(&adapter, chip, Some(khz), Method::UnderReset) {
            Ok((mut session, speed_khz)) => {
                halt_after_attach_under_reset(&mut session, speed_khz);
                return Ok(Connected::new(
                    adapter,
                    session,
                    speed_khz,
                    recovery_at(speed_khz),
                ));
            }
            Err(e) => {
                tracing::info!(
                    "connect: attach under reset at {khz} kHz failed: {}",
                    short(&e)
                );
                rungs.push(Rung {
                    what: format!("attach under reset at {khz} kHz"),
                    result: Err(short(&e)),
                });
                if crate::diagnose::is_under_reset_timeout(&e) {
                    // The DP answered at this speed; only the vector catch missed (no
                    // C_DEBUGEN after a power-on or a Standby wake-up): rung 4 fixes that at
                    // this speed, a lower one would only add a false second cause.
                    dp_answered_khz = Some(khz);
                    break;
                }
            }
        }
    }
    // Rung 4: hold NRST, enable halting debug and the reset vector catch, release NRST: the
    // core halts on its first instruction, before the firmware can disable SWD or sleep; then
    // attach to the halted core. (probe-rs's attach_under_reset sets the vector catch without
    // C_DEBUGEN, which a core fresh from power-on ignores.)
    for &khz in all_speeds
        .iter()
        .filter(|&&k| dp_answered_khz.is_none_or(|d| k <= d))
    {
        tracing::info!(
            "connect: halt on the reset vector at {khz} kHz (NRST held, DHCSR.C_DEBUGEN + DEMCR.VC_CORERESET, NRST released)"
        );
        match halt_at_reset_vector(&adapter, khz, ap)
            .and_then(|()| attach(&adapter, chip, Some(khz), Method::Normal).map_err(|e| short(&e)))
        {
            Ok((mut session, speed_khz)) => {
                let pc = session.core(0).and_then(|mut c| {
                    // Clear DEMCR.VC_CORERESET again (probe-rs keeps its own vector-catch state).
                    let demcr = c.read_word_32(DEMCR)?;
                    c.write_word_32(DEMCR, demcr & !demcr::VC_CORERESET)?;
                    c.read_core_reg::<u32>(c.program_counter())
                });
                match pc {
                    Ok(pc) => tracing::info!(
                        "connect: connected at {speed_khz} kHz; the core is halted at the reset vector (PC {pc:#010x}) before the firmware ran"
                    ),
                    Err(e) => tracing::warn!(
                        "connect: connected, but reading the core failed: {}",
                        crate::diagnose::chain(&e).join(": ")
                    ),
                }
                return Ok(Connected::new(
                    adapter,
                    session,
                    speed_khz,
                    recovery_at(speed_khz),
                ));
            }
            Err(e) => {
                tracing::info!("connect: halt on the reset vector at {khz} kHz failed: {e}");
                if e.contains("did not halt") && fail.nrst != NrstState::Wired {
                    // The DP answered but releasing NRST did not reset the core: the line does
                    // nothing.
                    fail.nrst = NrstState::NotWired;
                }
                rungs.push(Rung {
                    what: format!("halt on the reset vector under reset at {khz} kHz"),
                    result: Err(e),
                });
            }
        }
    }
    fail.rungs = rungs;
    Err(ConnectError::Ladder(Box::new(fail)))
}

/// Holds NRST, powers up the debug port, sets DHCSR.C_DEBUGEN|C_HALT and DEMCR.VC_CORERESET
/// (ARMv7-M ARM §C1.6.2, §C1.6.5: vector catch needs halting debug enabled), releases NRST and
/// waits until the core reports S_HALT. STM32 keeps the SW-DP usable while NRST is low
/// (RM0008 §31.2: the debug logic is reset by power-on only).
pub fn halt_at_reset_vector(adapter: &Adapter, khz: u32, ap: u8) -> Result<(), String> {
    use crate::diagnose::regs::DHCSR;
    use probe_rs::architecture::arm::FullyQualifiedApAddress;
    use probe_rs::architecture::arm::dp::DpAddress;
    use probe_rs::architecture::arm::sequences::DefaultArmSequence;
    fn words(e: &(dyn std::error::Error + 'static)) -> String {
        short(e)
    }
    let mut probe = adapter.probe_at(Some(khz)).map_err(|e| e.to_string())?;
    if crate::diagnose::link::dp_answers(&mut probe, true) == Some(false) {
        return Err(short(&crate::diagnose::link::no_answer_error()));
    }
    probe.attach_to_unspecified().map_err(|e| words(&e))?;
    let mut iface = probe
        .try_into_arm_debug_interface(DefaultArmSequence::create())
        .map_err(|(_, e)| words(&e))?;
    iface
        .swj_pins(0, 0x80, 0)
        .map_err(|e| format!("cannot drive NRST: {e}"))?;
    let asserted = std::time::Instant::now();
    let setup = (|| -> Result<(), probe_rs::architecture::arm::ArmError> {
        iface.select_debug_port(DpAddress::Default)?;
        let mut mem = iface.memory_interface(&FullyQualifiedApAddress::v1_with_default_dp(ap))?;
        mem.write_word_32(DHCSR, dhcsr::DBGKEY | dhcsr::C_DEBUGEN | dhcsr::C_HALT)?;
        let demcr = mem.read_word_32(DEMCR)?;
        mem.write_word_32(DEMCR, demcr | demcr::VC_CORERESET)?;
        let _ = mem.read_word_32(DHCSR)?;
        Ok(())
    })();
    // `adapter srst pulse_width`: NRST low at least that long; `adapter srst delay`: wait that
    // long after releasing it.
    let (pulse_ms, delay_ms) = adapter.srst_timing;
    if let Some(left) = Duration::from_millis(pulse_ms).checked_sub(asserted.elapsed()) {
        std::thread::sleep(left);
    }
    let released = iface.swj_pins(0x80, 0x80, 0);
    setup.map_err(|e| words(&e))?;
    released.map_err(|e| format!("cannot release NRST: {e}"))?;
    std::thread::sleep(Duration::from_millis(delay_ms));
    let start = std::time::Instant::now();
    loop {
        let v = iface
            .memory_interface(&FullyQualifiedApAddress::v1_with_default_dp(ap))
            .and_then(|mut m| m.read_word_32(DHCSR))
            .map_err(|e| words(&e))?;
        if v & dhcsr::S_HALT != 0 {
            break;
        }
        if start.elapsed() > std::time::Duration::from_millis(500) {
            return Err(format!(
                "the core did not halt after NRST was released (DHCSR {v:#010x})"
            ));
        }
    }
    drop(iface.close());
    Ok(())
}

/// The innermost, most specific messages of an error chain (for one-line logs).
fn short(err: &(dyn std::error::Error + 'static)) -> String {
    use crate::diagnose::Evidence;
    match crate::diagnose::evidence(err) {
        Evidence::NoAck => "no ACK from the SW-DP (DPIDR not read)".into(),
        Evidence::LineErrors => "parity errors on the SWD line".into(),
        Evidence::Wait => "WAIT until the probe gave up".into(),
        Evidence::Fault => "FAULT response".into(),
        Evidence::Timeout => "timeout waiting for the core".into(),
        Evidence::Other => crate::diagnose::chain(err)
            .last()
            .cloned()
            .unwrap_or_default(),
    }
}

/// Default timeout for halts requested by commands (OpenOCD waits 5 s).
pub const HALT_TIMEOUT: Duration = Duration::from_secs(5);
