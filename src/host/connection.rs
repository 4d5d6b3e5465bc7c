//! The live connection: the opened adapter and the probe-rs [`Session`] attached to the target.
//!
//! Only the host thread uses it. Real probes are found and opened through probe-rs's `Lister`;
//! the virtual chip (`adapter driver sim`) is a [`Sim`] whose [`crate::sim::SimProbe`] goes through
//! exactly the same probe-rs code paths.

use std::time::Duration;

use probe_rs::probe::list::Lister;
use probe_rs::probe::{DebugProbeInfo, Probe};
use probe_rs::{Permissions, Session};
use thiserror::Error;

use super::Host;
use crate::sim::{ChipModel, Sim, SimConfig};

/// Adapter drivers stdbg knows, with the probe-rs probe type each one opens.
pub const DRIVERS: &[&str] = &["sim", "stlink", "cmsis-dap", "jlink", "ftdi"];

/// Why `init` could not connect.
#[derive(Debug, Error)]
pub enum ConnectError {
    /// No adapter was chosen.
    #[error("Debug Adapter has to be specified, see \"adapter driver\" command (for example: -f interface/stlink.rhai, or -f interface/sim.rhai for the virtual target)")]
    NoDriver,
    /// No target was declared.
    #[error("no target is defined: source a target script first (for example: -f targets/stm32f1x.rhai, or a board script such as -f board/bluepill.rhai)")]
    NoTarget,
    /// The driver name is not one stdbg supports.
    #[error("unknown adapter driver \"{0}\"; supported: sim, stlink, cmsis-dap, jlink, ftdi")]
    UnknownDriver(String),
    /// No probe of the chosen kind is attached.
    #[error("no {driver} probe found{serial}: check that the probe is plugged in (lsusb) and that you may access it (udev rules / plugdev group); 'adapter list' shows the probes stdbg can see")]
    NoProbe {
        /// Driver name.
        driver: String,
        /// `" with serial X"` when a serial was requested.
        serial: String,
    },
    /// The probe was found but could not be opened.
    #[error("could not open the {driver} probe {identifier}: {source}; another program (OpenOCD, STM32CubeIDE, probe-rs) may hold it, or USB permissions are missing")]
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
    #[error("unknown virtual chip \"{0}\"; 'sim chip' lists the supported ones: STM32F103C8, STM32F103CB, STM32F303VC, STM32G474RE, STM32L476RG, STM32H743ZI")]
    UnknownSimChip(String),
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
}

/// Lists the probes probe-rs can see (for `adapter list`).
pub fn list_probes() -> Vec<DebugProbeInfo> {
    Lister::new().list_all()
}

/// Whether a listed probe belongs to `driver`.
pub fn probe_matches_driver(info: &DebugProbeInfo, driver: &str) -> bool {
    use probe_rs::probe::{cmsisdap::CmsisDapFactory, ftdi::FtdiProbeFactory, jlink::JLinkFactory, stlink::StLinkFactory};
    match driver {
        "stlink" => info.is_probe_type::<StLinkFactory>(),
        "cmsis-dap" => info.is_probe_type::<CmsisDapFactory>(),
        "jlink" => info.is_probe_type::<JLinkFactory>(),
        "ftdi" => info.is_probe_type::<FtdiProbeFactory>(),
        _ => false,
    }
}

/// Opens the configured adapter (without attaching). Returns the probe and, for `sim`, the chip.
pub fn open_probe(host: &Host) -> Result<(Probe, Option<Sim>, String), ConnectError> {
    let (driver, serial, sim_settings) = {
        let c = host.config();
        (c.adapter.driver.clone(), c.adapter.serial.clone(), c.sim.clone())
    };
    let driver = driver.ok_or(ConnectError::NoDriver)?;
    match driver.as_str() {
        "sim" => {
            let chip = ChipModel::from_name(&sim_settings.chip)
                .ok_or_else(|| ConnectError::UnknownSimChip(sim_settings.chip.clone()))?;
            if let Some(dir) = sim_settings.storage.as_ref().and_then(|p| p.parent())
                && !dir.as_os_str().is_empty()
                && let Err(e) = std::fs::create_dir_all(dir)
            {
                tracing::warn!("could not create {} for the virtual chip's storage: {e}", dir.display());
            }
            let sim = Sim::new(SimConfig { chip, storage: sim_settings.storage.clone() })?;
            for f in sim_settings.faults.iter().cloned() {
                sim.inject(f);
            }
            let probe = Probe::from_specific_probe(Box::new(sim.probe()));
            Ok((probe, Some(sim), driver))
        }
        d if DRIVERS.contains(&d) => {
            let probes: Vec<DebugProbeInfo> = list_probes()
                .into_iter()
                .filter(|p| probe_matches_driver(p, d))
                .filter(|p| match &serial {
                    Some(s) => p.serial_number.as_deref() == Some(s.as_str()),
                    None => true,
                })
                .collect();
            let info = probes.first().ok_or_else(|| ConnectError::NoProbe {
                driver: d.to_string(),
                serial: serial.as_ref().map(|s| format!(" with serial {s}")).unwrap_or_default(),
            })?;
            let probe = info.open().map_err(|source| ConnectError::Open {
                driver: d.to_string(),
                identifier: info.identifier.clone(),
                source,
            })?;
            Ok((probe, None, driver))
        }
        other => Err(ConnectError::UnknownDriver(other.to_string())),
    }
}

/// Opens the adapter, sets the speed and attaches to `chip`, under reset when the reset
/// configuration says `connect_assert_srst`.
pub fn connect(host: &Host, chip: &str) -> Result<Connection, ConnectError> {
    let (mut probe, sim, driver) = open_probe(host)?;
    let (speed, under_reset) = {
        let c = host.config();
        (c.adapter.speed_khz, c.reset_config.connect == "connect_assert_srst" && c.reset_config.has_srst())
    };
    if let Some(khz) = speed {
        match probe.set_speed(khz) {
            Ok(actual) if actual != khz => {
                tracing::info!("Unable to match requested speed {khz} kHz, using {actual} kHz")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("could not set the adapter speed to {khz} kHz: {e}"),
        }
    }
    let speed_khz = probe.speed_khz();
    let perms = Permissions::new();
    let attached = if under_reset {
        probe.attach_under_reset(chip, perms)
    } else {
        probe.attach(chip, perms)
    };
    let session = attached.map_err(|source| ConnectError::Attach {
        chip: chip.to_string(),
        driver: driver.clone(),
        speed_khz,
        source,
    })?;
    Ok(Connection { session, sim, driver, speed_khz })
}

/// Default timeout for halts requested by commands (OpenOCD waits 5 s).
pub const HALT_TIMEOUT: Duration = Duration::from_secs(5);
