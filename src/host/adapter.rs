//! The adapter `init` opens: the configured driver resolved to a probe-rs probe (a real probe
//! through probe-rs's `Lister`, the virtual chip's [`crate::sim::SimProbe`], or the remote_bitbang
//! client), with the `STDBG_SIM` override and the SRST timing of `adapter srst`.

use probe_rs::probe::list::Lister;
use probe_rs::probe::{DebugProbeInfo, Probe};

use super::Host;
use super::connection::{ConnectError, DRIVERS};
use crate::sim::{ChipModel, Sim, SimConfig};

/// Lists the probes probe-rs can see (for `adapter list`).
pub fn list_probes() -> Vec<DebugProbeInfo> {
    Lister::new().list_all()
}

/// Whether a listed probe belongs to `driver`.
pub fn probe_matches_driver(info: &DebugProbeInfo, driver: &str) -> bool {
    use probe_rs::probe::{
        cmsisdap::CmsisDapFactory, ftdi::FtdiProbeFactory, jlink::JLinkFactory,
        stlink::StLinkFactory,
    };
    match driver {
        "stlink" => info.is_probe_type::<StLinkFactory>(),
        "cmsis-dap" => info.is_probe_type::<CmsisDapFactory>(),
        "jlink" => info.is_probe_type::<JLinkFactory>(),
        "ftdi" => info.is_probe_type::<FtdiProbeFactory>(),
        _ => false,
    }
}

/// The environment variable that puts the virtual chip behind any adapter driver, so an IDE's
/// unchanged OpenOCD launch (`-f interface/stlink.cfg -f target/stm32f1x.cfg`) runs without
/// hardware: its value is the virtual chip's part name (`STM32F103CB`, `STM32L476RG`; see
/// `sim chip`), or `1` for the `sim chip` setting.
pub const SIM_ENV: &str = "STDBG_SIM";

/// The virtual chip's part that [`SIM_ENV`] asks for instead of the real adapter `driver`
/// (`configured`: the `sim chip` setting, used for the value `1`).
fn sim_override(driver: &str, configured: &str) -> Option<String> {
    if driver == "sim" {
        return None;
    }
    let v = std::env::var(SIM_ENV).ok()?;
    let v = v.trim();
    match v {
        "" | "0" => None,
        "1" => Some(configured.to_string()),
        part => Some(part.to_string()),
    }
}

/// The configured adapter, opened once per connection attempt: the virtual chip (created once
/// and shared by every probe handle of the attempt, like a board on the bench), or the real
/// probe found through probe-rs's lister (re-opened for each step, because probe-rs consumes the
/// probe when an attach fails).
pub struct Adapter {
    /// Driver name.
    pub driver: String,
    /// The virtual chip, for `sim`.
    pub sim: Option<Sim>,
    info: Option<DebugProbeInfo>,
    /// The remote_bitbang server, for `remote_bitbang`.
    remote_bitbang: Option<crate::probe::remote_bitbang::Setup>,
    /// `adapter srst pulse_width` and `adapter srst delay`, ms.
    pub(super) srst_timing: (u64, u64),
}

impl Adapter {
    /// Opens the configured adapter; `sim` reuses an existing virtual chip (a reconnection).
    pub fn open(host: &Host, sim: Option<Sim>) -> Result<Adapter, ConnectError> {
        let (driver, serial, sim_settings) = {
            let c = host.config();
            (
                c.adapter.driver.clone(),
                c.adapter.serial.clone(),
                c.sim.clone(),
            )
        };
        let mut driver = driver.ok_or(ConnectError::NoDriver)?;
        let srst_timing = {
            let c = host.config();
            (c.compat.srst_pulse_width_ms, c.compat.srst_delay_ms)
        };
        let mut sim_settings = sim_settings;
        if let Some(chip) = sim_override(&driver, &sim_settings.chip) {
            tracing::info!(
                "{SIM_ENV}={chip}: the virtual {chip} stands in for the '{driver}' adapter"
            );
            if chip != sim_settings.chip
                && sim_settings.storage == super::config::default_sim_storage(&sim_settings.chip)
            {
                sim_settings.storage = super::config::default_sim_storage(&chip);
            }
            sim_settings.chip = chip;
            driver = "sim".into();
        }
        match driver.as_str() {
            "sim" => {
                let sim = match sim {
                    Some(s) => s,
                    None => {
                        let chip = ChipModel::from_name(&sim_settings.chip).ok_or_else(|| {
                            ConnectError::UnknownSimChip(sim_settings.chip.clone())
                        })?;
                        if let Some(dir) = sim_settings.storage.as_ref().and_then(|p| p.parent())
                            && !dir.as_os_str().is_empty()
                            && let Err(e) = std::fs::create_dir_all(dir)
                        {
                            tracing::warn!(
                                "could not create {} for the virtual chip's storage: {e}",
                                dir.display()
                            );
                        }
                        let sim = Sim::new(SimConfig {
                            chip,
                            storage: sim_settings.storage.clone(),
                        })?;
                        for f in sim_settings.faults.iter().cloned() {
                            sim.inject(f);
                        }
                        // USART output: to the consoles (or where `sim uart` says).
                        let prefix = host
                            .targets()
                            .list
                            .first()
                            .map(|t| t.name.split('.').next().unwrap_or("stm32").to_string())
                            .unwrap_or_else(|| "stm32".into());
                        host.serial().attach(&sim, &prefix);
                        sim
                    }
                };
                Ok(Adapter {
                    driver,
                    sim: Some(sim),
                    info: None,
                    remote_bitbang: None,
                    srst_timing,
                })
            }
            "remote_bitbang" => {
                let (host_name, port) = {
                    let c = host.config();
                    (
                        c.adapter.remote_bitbang_host.clone(),
                        c.adapter.remote_bitbang_port,
                    )
                };
                let port = port.ok_or(ConnectError::NoRemoteBitbangPort)?;
                // JTAG unless `transport select swd` was given (OpenOCD 0.12's remote_bitbang
                // speaks JTAG only; newer clients and stdbg's server have the SWD extension).
                let swd = host.config().transport.as_deref() == Some("swd");
                let host_name = if host_name.is_empty() {
                    "localhost".to_string()
                } else {
                    host_name
                };
                // The core's TAP, then the boundary-scan TAP behind it, as OpenOCD's target
                // configs declare an STM32's chain (`<chip>.cpu`, `<chip>.bs`).
                let taps = host
                    .targets()
                    .list
                    .iter()
                    .find(|t| t.is_core())
                    .map(|t| {
                        let chip = t.name.split('.').next().unwrap_or(&t.name).to_string();
                        vec![t.name.clone(), format!("{chip}.bs")]
                    })
                    .unwrap_or_default();
                Ok(Adapter {
                    driver,
                    sim: None,
                    info: None,
                    remote_bitbang: Some(crate::probe::remote_bitbang::Setup {
                        host: host_name,
                        port,
                        swd,
                        tap_names: taps,
                        reads: crate::probe::batch::ReadBatch::default(),
                    }),
                    srst_timing,
                })
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
                let info = probes
                    .into_iter()
                    .next()
                    .ok_or_else(|| ConnectError::NoProbe {
                        driver: d.to_string(),
                        serial: serial
                            .as_ref()
                            .map(|s| format!(" with serial {s}"))
                            .unwrap_or_default(),
                    })?;
                Ok(Adapter {
                    driver,
                    sim: None,
                    info: Some(info),
                    remote_bitbang: None,
                    srst_timing,
                })
            }
            other => Err(ConnectError::UnknownDriver(other.to_string())),
        }
    }

    /// The deferred-read switch of the adapter's probes (`probe/batch.rs`), when they have one
    /// (remote_bitbang over JTAG).
    pub fn read_batch(&self) -> Option<crate::probe::batch::ReadBatch> {
        self.remote_bitbang
            .as_ref()
            .filter(|s| !s.swd)
            .map(|s| s.reads.clone())
    }

    /// A fresh probe handle (not attached).
    pub fn probe(&self) -> Result<Probe, ConnectError> {
        if let Some(sim) = &self.sim {
            return Ok(Probe::from_specific_probe(Box::new(sim.probe())));
        }
        if let Some(setup) = &self.remote_bitbang {
            let p = crate::probe::remote_bitbang::RemoteBitbang::open(setup)
                .map_err(|e| ConnectError::RemoteBitbang(e.to_string()))?;
            return Ok(Probe::from_specific_probe(Box::new(p)));
        }
        let info = self.info.as_ref().ok_or(ConnectError::NoDriver)?;
        info.open().map_err(|source| ConnectError::Open {
            driver: self.driver.clone(),
            identifier: info.identifier.clone(),
            source,
        })
    }

    /// A probe handle at `khz` (the speed the probe actually uses is in `speed_khz()`).
    pub fn probe_at(&self, khz: Option<u32>) -> Result<Probe, ConnectError> {
        let mut p = self.probe()?;
        if let Some(k) = khz {
            match p.set_speed(k) {
                Ok(actual) if actual != k => {
                    tracing::debug!("speed {k} kHz rounded to {actual} kHz")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("could not set the adapter speed to {k} kHz: {e}"),
            }
        }
        Ok(p)
    }

    /// A one-line description: driver, probe name, serial.
    pub fn describe(&self) -> String {
        match (&self.sim, &self.info) {
            (Some(sim), _) => format!("sim: stdbg virtual CMSIS-DAP, chip {}", sim.chip().name()),
            (None, Some(i)) => format!(
                "{}: {} (VID:PID {:04x}:{:04x}, serial {})",
                self.driver,
                i.identifier,
                i.vendor_id,
                i.product_id,
                i.serial_number.as_deref().unwrap_or("none")
            ),
            _ => self.driver.clone(),
        }
    }

    /// Target voltage measured by the probe (volts), `None` when the probe cannot measure it.
    pub fn voltage(&self) -> Option<f32> {
        self.probe()
            .ok()
            .and_then(|mut p| p.get_target_voltage().ok().flatten())
    }

    /// Whether the probe's NRST line acts on the target: asserts it, reads the pin back, releases
    /// it. `Some(false)` = the line stays high while asserted (not wired); `None` = this probe
    /// cannot read its pins back (ST-Link), so only trying tells. Asserting NRST resets the chip.
    pub fn nrst_wired(&self) -> Option<bool> {
        let mut p = self.probe().ok()?;
        let dap = p.try_as_dap_probe()?;
        let low = dap.swj_pins(0, 0x80, 0).ok()?;
        let _ = dap.swj_pins(0x80, 0x80, 0);
        if low == 0xFFFF_FFFF {
            return None;
        }
        Some(low & 0x80 == 0)
    }
}
