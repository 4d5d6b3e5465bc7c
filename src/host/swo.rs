//! SWO / ITM trace: OpenOCD 0.12's TPIU/SWO objects (`tpiu create`, `<tpiu> configure`,
//! `<tpiu> enable|disable`; src/target/arm_tpiu_swo.c) and its ITM port configuration
//! (`itm port`, `itm ports`; src/target/armv7m_trace.c), on probe-rs's SWO support.
//!
//! `<tpiu> enable` does what OpenOCD's does, in its order: the `pre-enable` event (the target
//! scripts set DBGMCU_CR.TRACE_IOEN there), the DEVID check of the protocol, the probe's SWO
//! capture (`SwoAccess::enable_swo`, the same call for the virtual probe, ST-LINK, J-Link and
//! CMSIS-DAP), then TPIU_CSPSR, TPIU_ACPR (prescaler − 1), TPIU_SPPR and TPIU_FFCR through the
//! TPIU's access port, and the `post-enable` event. stdbg also sets DEMCR.TRCENA and writes the
//! ITM configuration (ITM_LAR, ITM_TCR = ITMENA | TXENA | TraceBusID 1, ITM_TER from `itm
//! port(s)`) there, which OpenOCD does when the target is examined.
//!
//! While a capture runs, the host's poll ([`Host::poll_swo`]) reads what the probe received
//! (`SwoAccess::read_swo_timeout`), passes it raw to the `-output` (file or TCP, `swo_out.rs`)
//! and prints ITM stimulus port 0 as console lines `[itm0] …`.

use std::sync::MutexGuard;
use std::time::Duration;

use probe_rs::MemoryInterface;
use probe_rs::architecture::arm::swo::SwoConfig;

use super::Host;
use super::event::HostEvent;
use super::swo_out::{Deformatter, ItmDecoder, ItmLines, ItmPacket, Sink};
use crate::command::{CommandError, Ctx};

/// The Cortex-M3/M4 TPIU's base address (OpenOCD's `TPIU_SWO_DEFAULT_BASE`).
pub const DEFAULT_BASE: u32 = 0xE004_0000;
/// TPIU registers (CoreSight Components TRM DDI 0314H §9.3).
pub mod reg {
    pub const SSPSR: u32 = 0x000;
    pub const CSPSR: u32 = 0x004;
    pub const ACPR: u32 = 0x010;
    pub const SPPR: u32 = 0x0F0;
    pub const FFCR: u32 = 0x304;
    pub const DEVID: u32 = 0xFC8;
}
/// ITM registers (ARMv7-M ARM §C1.7) and DEMCR (§C1.6.5).
pub mod itm {
    pub const TER0: u32 = 0xE000_0E00;
    pub const TCR: u32 = 0xE000_0E80;
    pub const LAR: u32 = 0xE000_0FB0;
    pub const LAR_KEY: u32 = 0xC5AC_CE55;
    pub const TCR_ITMENA: u32 = 1 << 0;
    pub const TCR_TXENA: u32 = 1 << 3;
    pub const TCR_BUSY: u32 = 1 << 23;
    pub const DEMCR: u32 = 0xE000_EDFC;
    pub const TRCENA: u32 = 1 << 24;
}
/// How long one poll waits for SWO data: probe-rs's `read_swo` default (a zero timeout
/// is an endless USB read on some drivers).
const READ_TIMEOUT: Duration = Duration::from_millis(10);
/// The largest ACPR prescaler (13 bits + 1).
const MAX_PRESCALER: u32 = 0x2000;
/// The ITM's trace bus ID (OpenOCD's default `trace_bus_id`), also the formatter's source ID.
pub const TRACE_BUS_ID: u8 = 1;
/// Events a TPIU object accepts.
pub const EVENTS: [&str; 4] = ["pre-enable", "post-enable", "pre-disable", "post-disable"];

/// TPIU_SPPR values (DDI 0314H §9.3.4) and their OpenOCD names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Sync = 0,
    Manchester = 1,
    Uart = 2,
}

impl Protocol {
    /// From `-protocol`'s word.
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "sync" => Some(Protocol::Sync),
            "manchester" => Some(Protocol::Manchester),
            "uart" => Some(Protocol::Uart),
            _ => None,
        }
    }
    /// OpenOCD's name.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Sync => "sync",
            Protocol::Manchester => "manchester",
            Protocol::Uart => "uart",
        }
    }
}

/// One `tpiu create`/`swo create` object.
#[derive(Debug, Clone)]
pub struct TpiuObject {
    pub name: String,
    pub dap: String,
    pub ap_num: Option<u8>,
    pub base: u32,
    pub protocol: Protocol,
    pub port_width: u32,
    pub formatter: bool,
    /// TRACECLKIN, Hz (0: not set).
    pub traceclk: u32,
    /// SWO pin frequency, Hz (0: not set).
    pub pin_freq: u32,
    pub output: Option<String>,
    /// (event, command body).
    pub events: Vec<(String, String)>,
    pub enabled: bool,
    /// `enable` before `init`: run by `tpiu init`.
    pub deferred_enable: bool,
}

impl TpiuObject {
    /// A new object with OpenOCD's defaults (protocol sync, port width 1, no formatter).
    pub fn new(name: &str) -> TpiuObject {
        TpiuObject {
            name: name.into(),
            dap: String::new(),
            ap_num: None,
            base: DEFAULT_BASE,
            protocol: Protocol::Sync,
            port_width: 1,
            formatter: false,
            traceclk: 0,
            pin_freq: 0,
            output: None,
            events: Vec::new(),
            enabled: false,
            deferred_enable: false,
        }
    }
}

/// A running capture.
struct Capture {
    tpiu: String,
    sink: Sink,
    formatter: bool,
    deformat: Deformatter,
    itm: ItmDecoder,
    lines: ItmLines,
    /// A read error was logged (logged once).
    read_failed: bool,
}

/// The SWO/ITM state of the host.
#[derive(Default)]
pub struct Swo {
    pub objects: Vec<TpiuObject>,
    /// ITM_TER0..7 as `itm port(s)` set them.
    pub itm_ter: [u32; 8],
    capture: Option<Capture>,
}

impl Swo {
    /// The object named `name`.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut TpiuObject> {
        self.objects.iter_mut().find(|o| o.name == name)
    }
    /// Whether `name` names an object.
    pub fn has(&self, name: &str) -> bool {
        self.objects.iter().any(|o| o.name == name)
    }
    /// The TCP port of the running capture, if it serves one.
    pub fn tcp_port(&self) -> Option<u16> {
        self.capture.as_ref().and_then(|c| c.sink.port())
    }
}

fn failed(msg: impl Into<String>) -> CommandError {
    CommandError::failed(msg)
}

/// The prescaler and pin frequency for `traceclk`/`pin` (OpenOCD rounds to nearest).
pub fn prescaler(traceclk: u32, pin: u32) -> (u32, u32) {
    let p = ((traceclk as u64 + pin as u64 / 2) / pin.max(1) as u64).clamp(1, MAX_PRESCALER as u64)
        as u32;
    (p, traceclk / p)
}

impl Host {
    /// The SWO/ITM state.
    pub fn swo(&self) -> MutexGuard<'_, Swo> {
        self.swo_state().lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tpiu_object(&self, name: &str) -> Result<TpiuObject, CommandError> {
        self.swo()
            .objects
            .iter()
            .find(|o| o.name == name)
            .cloned()
            .ok_or_else(|| failed(format!("no TPIU/SWO object named '{name}': create it with 'tpiu create {name} -dap DAP -ap-num 0'")))
    }

    fn run_tpiu_event(&self, ctx: &mut Ctx<'_>, obj: &TpiuObject, event: &str) {
        for (e, body) in obj.events.iter().filter(|(e, _)| e == event) {
            if let Err(err) = ctx.run(body) {
                // OpenOCD prints the error and goes on.
                ctx.println(format!(
                    "Error executing event {e} on TPIU/SWO {}:\n{err}",
                    obj.name
                ));
            }
        }
    }

    fn tpiu_read(&self, obj: &TpiuObject, off: u32) -> Result<u32, CommandError> {
        let ap = obj.ap_num.unwrap_or(0);
        self.with_ap_memory(
            ap,
            |m| {
                let mut v = [0u32];
                m.read_32((obj.base + off) as u64, &mut v)?;
                Ok(v[0])
            },
            &obj.name,
        )
    }

    fn tpiu_write(&self, obj: &TpiuObject, off: u32, v: u32) -> Result<(), CommandError> {
        let ap = obj.ap_num.unwrap_or(0);
        self.with_ap_memory(ap, |m| m.write_32((obj.base + off) as u64, &[v]), &obj.name)
    }

    /// `<tpiu> enable` (see the module documentation).
    pub fn tpiu_enable(&self, ctx: &mut Ctx<'_>, name: &str) -> Result<(), CommandError> {
        let obj = self.tpiu_object(name)?;
        if !self.initialized() {
            tracing::debug!("{name}: enable deferred");
            if let Some(o) = self.swo().get_mut(name) {
                o.deferred_enable = true;
            }
            return Ok(());
        }
        if obj.enabled {
            return Ok(());
        }
        if obj.traceclk == 0 {
            return Err(failed(format!(
                "Trace clock-in frequency not set: {name} needs TRACECLKIN, the core clock (HCLK) of the target. Set it with '{name} configure -traceclk HZ', e.g. 72000000 for a Blue Pill at 72 MHz, 8000000 right after reset (HSI)"
            )));
        }
        // The event runs before any access to the TPIU.
        self.run_tpiu_event(ctx, &obj, "pre-enable");
        let devid = self
            .tpiu_read(&obj, reg::DEVID)
            .map_err(|e| failed(format!("Unable to read {name}: {e}")))?;
        let supported = match obj.protocol {
            Protocol::Sync => devid & (1 << 9) == 0,
            Protocol::Uart => devid & (1 << 11) != 0,
            Protocol::Manchester => devid & (1 << 10) != 0,
        };
        if !supported {
            return Err(failed(format!(
                "{name} does not support protocol {} (TPIU_DEVID 0x{devid:08x}: bit 11 NRZ/UART, bit 10 Manchester, bit 9 no sync port). Choose a supported one with '{name} configure -protocol uart|manchester|sync'",
                obj.protocol.name()
            )));
        }
        if obj.protocol == Protocol::Sync {
            let sspsr = self.tpiu_read(&obj, reg::SSPSR)?;
            if sspsr & (1 << (obj.port_width - 1)) == 0 {
                return Err(failed(format!(
                    "TPIU does not support port-width of {} bits (TPIU_SSPSR 0x{sspsr:08x}). Choose one it lists with '-port-width N'",
                    obj.port_width
                )));
            }
        }
        let mut pin_freq = obj.pin_freq;
        let mut presc = 1;
        if obj.protocol != Protocol::Sync {
            if pin_freq == 0 {
                return Err(failed(format!(
                    "Adapter does not support auto-detection of SWO pin frequency nor a default value: set it with '{name} configure -pin-freq HZ' (e.g. 2000000; TRACECLKIN must be a multiple of it within 0x2000)"
                )));
            }
            let (p, f) = prescaler(obj.traceclk, pin_freq);
            presc = p;
            if f != pin_freq {
                tracing::info!("SWO pin data rate adjusted to {f} Hz");
            }
            pin_freq = f;
        }
        let capture = match obj.output.as_deref() {
            Some(o) if !o.is_empty() && o != "external" => {
                let sink = Sink::open(Some(o)).map_err(|e| failed(e.to_string()))?;
                if let Some(port) = sink.port() {
                    tracing::info!("starting trace server for {name} on {port}");
                }
                self.start_probe_capture(&obj, pin_freq)?;
                Some(Capture {
                    tpiu: name.to_string(),
                    sink,
                    formatter: obj.formatter,
                    deformat: Deformatter::default(),
                    itm: ItmDecoder::default(),
                    lines: ItmLines::default(),
                    read_failed: false,
                })
            }
            _ => None,
        };
        let r = (|| {
            self.tpiu_write(&obj, reg::CSPSR, 1 << (obj.port_width - 1))?;
            self.tpiu_write(&obj, reg::ACPR, presc - 1)?;
            self.tpiu_write(&obj, reg::SPPR, obj.protocol as u32)?;
            let ffcr = self.tpiu_read(&obj, reg::FFCR)?;
            let ffcr = if obj.formatter { ffcr | 2 } else { ffcr & !2 };
            self.tpiu_write(&obj, reg::FFCR, ffcr)?;
            self.itm_configure()
        })();
        if let Err(e) = r {
            if capture.is_some() {
                self.stop_probe_capture();
            }
            return Err(e);
        }
        {
            let mut s = self.swo();
            if let Some(o) = s.get_mut(name) {
                o.enabled = true;
                o.pin_freq = pin_freq;
            }
            if capture.is_some() {
                s.capture = capture;
            }
        }
        self.run_tpiu_event(ctx, &obj, "post-enable");
        Ok(())
    }

    fn start_probe_capture(&self, obj: &TpiuObject, pin_freq: u32) -> Result<(), CommandError> {
        let mut cfg = SwoConfig::new(obj.traceclk)
            .set_baud(pin_freq)
            .set_continuous_formatting(obj.formatter);
        cfg = match obj.protocol {
            Protocol::Uart => cfg.set_mode_uart(),
            Protocol::Manchester => cfg.set_mode_manchester(),
            Protocol::Sync => {
                return Err(failed(format!(
                    "Failed to start adapter's trace: the probe captures SWO only, not the {}-bit synchronous trace port. Use '-protocol uart' (or manchester) with a SWO-capable probe, or '-output external' for a trace port analyser",
                    obj.port_width
                )));
            }
        };
        let mut guard = self.conn();
        let conn = guard
            .as_mut()
            .ok_or_else(|| failed("the target is not connected: run 'init' first"))?;
        conn.session
            .get_arm_interface()
            .and_then(|i| i.enable_swo(&cfg))
            .map_err(|e| {
                let mut text = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    text = format!("{text}: {s}");
                    src = s.source();
                }
                failed(format!(
                    "Failed to start adapter's trace: {text}. The probe must capture SWO (ST-LINK/V2 and later, J-Link, CMSIS-DAP with SWO) at {pin_freq} Hz; choose another '-pin-freq', or '-output external'"
                ))
            })
    }

    fn stop_probe_capture(&self) {
        if let Some(conn) = self.conn().as_mut()
            && let Err(e) = conn
                .session
                .get_arm_interface()
                .and_then(|i| i.disable_swo())
        {
            tracing::error!("Failed to stop adapter's trace: {e}");
        }
    }

    /// `<tpiu> disable`.
    pub fn tpiu_disable(&self, ctx: &mut Ctx<'_>, name: &str) -> Result<(), CommandError> {
        let obj = self.tpiu_object(name)?;
        if !obj.enabled {
            return Ok(());
        }
        if let Some(o) = self.swo().get_mut(name) {
            o.enabled = false;
        }
        self.run_tpiu_event(ctx, &obj, "pre-disable");
        let had = {
            let mut s = self.swo();
            match &s.capture {
                Some(c) if c.tpiu == name => s.capture.take().is_some(),
                _ => false,
            }
        };
        if had {
            self.stop_probe_capture();
        }
        self.run_tpiu_event(ctx, &obj, "post-disable");
        Ok(())
    }

    /// `tpiu init` (run by `init`): enables the objects whose `enable` came before `init`.
    pub fn tpiu_init(&self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        let names: Vec<String> = self
            .swo()
            .objects
            .iter()
            .filter(|o| o.deferred_enable)
            .map(|o| o.name.clone())
            .collect();
        let mut first = None;
        for n in names {
            if let Some(o) = self.swo().get_mut(&n) {
                o.deferred_enable = false;
            }
            if let Err(e) = self.tpiu_enable(ctx, &n) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Writes DEMCR.TRCENA and the ITM configuration (OpenOCD's `armv7m_trace_itm_config`):
    /// ITM_LAR, ITM_TCR without ITMENA (waiting for BUSY to clear), ITM_TCR, ITM_TER0..7.
    pub fn itm_configure(&self) -> Result<(), CommandError> {
        let ter = self.swo().itm_ter;
        self.with_core(|core, _| {
            let demcr = core.read_word_32(itm::DEMCR as u64)?;
            core.write_word_32(itm::DEMCR as u64, demcr | itm::TRCENA)?;
            core.write_word_32(itm::LAR as u64, itm::LAR_KEY)?;
            let tcr = core.read_word_32(itm::TCR as u64)?;
            core.write_word_32(itm::TCR as u64, tcr & !itm::TCR_ITMENA)?;
            let until = std::time::Instant::now() + Duration::from_secs(1);
            while core.read_word_32(itm::TCR as u64)? & itm::TCR_BUSY != 0 {
                if std::time::Instant::now() > until {
                    tracing::error!("timeout waiting for ITM_TCR_BUSY_BIT");
                    break;
                }
            }
            let tcr = itm::TCR_ITMENA | itm::TCR_TXENA | ((TRACE_BUS_ID as u32) << 16);
            core.write_word_32(itm::TCR as u64, tcr)?;
            for (i, t) in ter.iter().enumerate() {
                core.write_word_32((itm::TER0 + 4 * i as u32) as u64, *t)?;
            }
            Ok(())
        })
    }

    /// The poll hook: what the probe captured goes to the output and the consoles.
    pub fn poll_swo(&self) {
        if self.swo().capture.is_none() {
            return;
        }
        let r = match self.conn().as_mut() {
            Some(c) => c
                .session
                .get_arm_interface()
                .and_then(|i| i.read_swo_timeout(READ_TIMEOUT)),
            None => return,
        };
        let bytes = match r {
            Ok(b) => b,
            Err(e) => {
                let mut s = self.swo();
                if let Some(c) = s.capture.as_mut()
                    && !c.read_failed
                {
                    c.read_failed = true;
                    tracing::error!("reading SWO data from the probe failed: {e}");
                }
                return;
            }
        };
        if bytes.is_empty() {
            return;
        }
        let lines = {
            let mut s = self.swo();
            let Some(c) = s.capture.as_mut() else {
                return;
            };
            if let Err(e) = c.sink.write(&bytes) {
                tracing::error!("Error writing to the SWO trace destination file: {e}");
            }
            let data = if c.formatter {
                c.deformat.feed(&bytes, TRACE_BUS_ID)
            } else {
                bytes
            };
            let mut lines = Vec::new();
            for p in c.itm.feed(&data) {
                match p {
                    ItmPacket::Instrumentation { port: 0, payload } => {
                        lines.extend(
                            c.lines
                                .feed(&payload)
                                .into_iter()
                                .map(|l| format!("[itm0] {l}")),
                        );
                    }
                    ItmPacket::Instrumentation { port, payload } => {
                        tracing::debug!("ITM port {port}: {payload:02x?}");
                    }
                    ItmPacket::Overflow => {
                        tracing::warn!(
                            "ITM overflow: the target's trace FIFO was full and packets were lost (a faster SWO pin frequency, or fewer writes, avoid it)"
                        );
                    }
                }
            }
            lines
        };
        for l in lines {
            if self.serial().stdout_enabled() {
                println!("{l}");
            }
            self.events().send(HostEvent::Target {
                target: "itm0".into(),
                lines: vec![l],
                origin: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prescaler_rounds_like_openocd() {
        assert_eq!(prescaler(72_000_000, 2_000_000), (36, 2_000_000));
        assert_eq!(prescaler(72_000_000, 700_000), (103, 699_029));
        assert_eq!(prescaler(8_000_000, 100), (0x2000, 976));
    }
}
