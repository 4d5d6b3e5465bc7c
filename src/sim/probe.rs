//! [`SimProbe`]: a probe-rs `DebugProbe` that behaves like the firmware of a
//! CMSIS-DAP v2 probe with 512-byte packets (CMSIS-DAP §DAP_Transfer,
//! §DAP_TransferBlock) wired to the virtual chip's SWD port.
//!
//! Every `RawDapAccess` call is turned into SWD wire transactions on the DP
//! model, so [`DapStats`](super::DapStats) counts what a logic analyser would see:
//! * an AP read is a posted AP read followed by an RDBUFF read; a block of N AP
//!   reads is N posted reads + one RDBUFF read per packet (126 words);
//! * writes are batched as probe-rs's CMSIS-DAP driver does (up to 101 per
//!   packet); a batch that does not end in a read ends with the firmware's
//!   "check last write" RDBUFF read; a block of N writes is N writes + one
//!   RDBUFF read per packet;
//! * WAIT is retried by the "firmware" (up to 0xFFFF times, as configured by
//!   probe-rs), every retry being a transaction; FAULT and no-ACK are returned
//!   as `DapError::FaultResponse` / `DapError::NoAcknowledge`.
//!
//! One call costs at most one round trip to the CPU thread, whatever its size.

use std::sync::Arc;

use probe_rs::CoreStatus;
use probe_rs::architecture::arm::swo::{SwoAccess, SwoConfig, SwoMode};
use probe_rs::architecture::arm::{
    ArmCommunicationInterface, ArmDebugInterface, ArmError, DapError, DapProbe, RawDapAccess,
    RegisterAddress, sequences::ArmDebugSequence,
};
use probe_rs::probe::{DebugProbe, DebugProbeError, ProbeError, WireProtocol};

use super::Sim;
use super::arm::dp::Ack;
use super::arm::tpiu;
use super::chip::Chip;

/// SWCLK frequencies the probe can generate, kHz (highest first).
pub const SPEEDS_KHZ: [u32; 11] = [4000, 1800, 1000, 480, 240, 125, 100, 50, 25, 15, 5];
/// Default SWCLK, kHz.
pub const DEFAULT_SPEED_KHZ: u32 = 1000;
/// Words per DAP_TransferBlock packet ((512 − 6) / 4).
const BLOCK_WORDS: usize = 126;
/// Writes per DAP_Transfer packet ((512 − 3) / 5).
const BATCH_WRITES: u32 = 101;
/// WAIT retries of the probe firmware (DAP_TransferConfigure as sent by probe-rs).
const WAIT_RETRY: u32 = 0xFFFF;
const RDBUFF: u8 = 0xC;

/// SWO baud rates the probe's UART/Manchester capture accepts, Hz (a
/// CMSIS-DAP v2 probe's DAP_SWO_Baudrate range; the model's choice).
pub const SWO_BAUD_RANGE: std::ops::RangeInclusive<u32> = 1_200..=12_000_000;
/// Relative baud error a UART receiver tolerates (about half a bit over a
/// 10-bit frame): beyond it the capture gets framing errors, not bytes.
const SWO_BAUD_TOLERANCE: f64 = 0.03;

/// The virtual probe's own SWO errors.
#[derive(Debug, thiserror::Error)]
pub enum SimSwoError {
    /// The baud rate is outside what the capture can do.
    #[error(
        "the virtual probe cannot capture SWO at {baud} Bd: its SWO capture takes {min}..={max} Bd. Choose a pin frequency in that range (-pin-freq) and a TRACECLKIN/(ACPR+1) that gives it"
    )]
    Baud { baud: u32, min: u32, max: u32 },
}

impl ProbeError for SimSwoError {}

/// How the probe's SWO capture is set up (`SwoAccess::enable_swo`).
#[derive(Debug, Clone, Copy)]
struct SwoCapture {
    manchester: bool,
    baud: u32,
}

/// The probe of a [`Sim`]: implements `DebugProbe`, `RawDapAccess` and `DapProbe`.
/// Obtain it from [`Sim::probe`] and hand it to
/// `probe_rs::probe::Probe::from_specific_probe(Box::new(..))`.
pub struct SimProbe {
    sim: Sim,
    speed_khz: u32,
    /// Writes sent in the current (not yet checked) DAP_Transfer batch.
    pending_writes: u32,
    /// SWO capture, when enabled.
    swo: Option<SwoCapture>,
}

impl std::fmt::Debug for SimProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProbe")
            .field("chip", &self.sim.chip())
            .field("speed_khz", &self.speed_khz)
            .finish()
    }
}

fn addr_of(address: RegisterAddress) -> (bool, u8) {
    (address.is_ap(), address.a2_and_3())
}

fn dap_err(ack: Ack) -> ArmError {
    match ack {
        Ack::Fault => ArmError::Dap(DapError::FaultResponse),
        Ack::Wait => ArmError::Dap(DapError::WaitResponse),
        _ => ArmError::Dap(DapError::NoAcknowledge),
    }
}

/// One request with the firmware's WAIT retries. On FAULT the host driver
/// reads CTRL/STAT and clears STICKYERR through ABORT; after too many WAITs it
/// aborts the AP transaction with ABORT.DAPABORT (as probe-rs's CMSIS-DAP
/// driver does); these recovery transactions are counted like any other.
fn xfer(chip: &mut Chip, apndp: bool, rnw: bool, a: u8, w: u32, khz: u32) -> Result<u32, ArmError> {
    let mut retries = 0;
    loop {
        match chip.swd_request(apndp, rnw, a, w, khz) {
            Ack::Ok(v) => return Ok(v),
            Ack::Wait if retries < WAIT_RETRY => retries += 1,
            Ack::Wait => {
                chip.swd_request(false, false, 0, 1, khz); // ABORT.DAPABORT
                return Err(dap_err(Ack::Wait));
            }
            Ack::Fault => {
                match chip.swd_request(false, true, 4, 0, khz) {
                    Ack::Ok(ctrl) if ctrl & (1 << 5) == 0 => {}
                    Ack::Ok(_) | Ack::Fault => {
                        chip.swd_request(false, false, 0, 1 << 2, khz); // ABORT.STKERRCLR
                    }
                    _ => {}
                }
                return Err(dap_err(Ack::Fault));
            }
            other => return Err(dap_err(other)),
        }
    }
}

impl SimProbe {
    pub(crate) fn new(sim: Sim) -> SimProbe {
        SimProbe {
            sim,
            speed_khz: DEFAULT_SPEED_KHZ,
            pending_writes: 0,
            swo: None,
        }
    }

    /// Runs `f` after `txns` transactions' worth of wire time.
    fn wire<R>(&self, txns: u64, f: impl FnOnce(&mut Chip, u32) -> R) -> R {
        let khz = self.speed_khz;
        self.sim
            .shared()
            .with_chip_after_wire(txns, khz, |c| f(c, khz))
    }

    /// Ends the current write batch with the firmware's "check last write".
    fn check_writes(&mut self) -> Result<(), ArmError> {
        if self.pending_writes == 0 {
            return Ok(());
        }
        self.pending_writes = 0;
        self.wire(1, |c, k| xfer(c, false, true, RDBUFF, 0, k).map(|_| ()))
    }
}

impl DebugProbe for SimProbe {
    fn get_name(&self) -> &str {
        "stdbg virtual CMSIS-DAP (STM32F103)"
    }

    fn speed_khz(&self) -> u32 {
        self.speed_khz
    }

    /// Picks the highest supported SWCLK not above `speed_khz` ([`SPEEDS_KHZ`]).
    fn set_speed(&mut self, speed_khz: u32) -> Result<u32, DebugProbeError> {
        let s = SPEEDS_KHZ
            .iter()
            .copied()
            .find(|&s| s <= speed_khz)
            .ok_or(DebugProbeError::UnsupportedSpeed(speed_khz))?;
        self.speed_khz = s;
        Ok(s)
    }

    fn attach(&mut self) -> Result<(), DebugProbeError> {
        Ok(())
    }

    fn detach(&mut self) -> Result<(), probe_rs::Error> {
        self.check_writes().map_err(probe_rs::Error::Arm)
    }

    fn target_reset(&mut self) -> Result<(), DebugProbeError> {
        self.target_reset_assert()?;
        self.target_reset_deassert()
    }

    fn target_reset_assert(&mut self) -> Result<(), DebugProbeError> {
        self.sim.shared().with_chip(|c| {
            if !c.faults.no_nrst() {
                c.set_nrst(true)
            }
        });
        Ok(())
    }

    fn target_reset_deassert(&mut self) -> Result<(), DebugProbeError> {
        self.sim.shared().with_chip(|c| {
            if !c.faults.no_nrst() {
                c.set_nrst(false)
            }
        });
        Ok(())
    }

    fn select_protocol(&mut self, protocol: WireProtocol) -> Result<(), DebugProbeError> {
        match protocol {
            WireProtocol::Swd => Ok(()),
            other => Err(DebugProbeError::UnsupportedProtocol(other)),
        }
    }

    fn active_protocol(&self) -> Option<WireProtocol> {
        Some(WireProtocol::Swd)
    }

    fn has_arm_interface(&self) -> bool {
        true
    }

    fn try_get_arm_debug_interface<'probe>(
        self: Box<Self>,
        sequence: Arc<dyn ArmDebugSequence>,
    ) -> Result<Box<dyn ArmDebugInterface + 'probe>, (Box<dyn DebugProbe>, ArmError)> {
        Ok(ArmCommunicationInterface::create(self, sequence, false))
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        self
    }

    fn try_as_dap_probe(&mut self) -> Option<&mut dyn DapProbe> {
        Some(self)
    }

    fn get_swo_interface(&self) -> Option<&dyn SwoAccess> {
        Some(self)
    }

    fn get_swo_interface_mut(&mut self) -> Option<&mut dyn SwoAccess> {
        Some(self)
    }

    /// 3.3 V, or 0 V with [`Fault::NoPower`](super::Fault::NoPower).
    fn get_target_voltage(&mut self) -> Result<Option<f32>, DebugProbeError> {
        Ok(Some(self.sim.target_voltage()))
    }
}

impl RawDapAccess for SimProbe {
    fn raw_read_register(&mut self, address: RegisterAddress) -> Result<u32, ArmError> {
        let (ap, a) = addr_of(address);
        // The read ends the batch: no separate "check last write".
        self.pending_writes = 0;
        self.wire(if ap { 2 } else { 1 }, |c, k| {
            if ap {
                xfer(c, true, true, a, 0, k)?;
                xfer(c, false, true, RDBUFF, 0, k)
            } else {
                xfer(c, false, true, a, 0, k)
            }
        })
    }

    fn raw_read_block(
        &mut self,
        address: RegisterAddress,
        values: &mut [u32],
    ) -> Result<(), ArmError> {
        self.check_writes()?;
        let (ap, a) = addr_of(address);
        let n = values.len() as u64;
        let packets = values.len().div_ceil(BLOCK_WORDS) as u64;
        let txns = if ap { n + packets } else { n };
        self.wire(txns, |c, k| {
            for chunk in values.chunks_mut(BLOCK_WORDS) {
                if ap {
                    xfer(c, true, true, a, 0, k)?;
                    for i in 1..chunk.len() {
                        chunk[i - 1] = xfer(c, true, true, a, 0, k)?;
                    }
                    let last = chunk.len() - 1;
                    chunk[last] = xfer(c, false, true, RDBUFF, 0, k)?;
                } else {
                    for v in chunk.iter_mut() {
                        *v = xfer(c, false, true, a, 0, k)?;
                    }
                }
            }
            Ok(())
        })
    }

    fn raw_write_register(&mut self, address: RegisterAddress, value: u32) -> Result<(), ArmError> {
        let (ap, a) = addr_of(address);
        self.wire(1, |c, k| xfer(c, ap, false, a, value, k))?;
        self.pending_writes += 1;
        if self.pending_writes >= BATCH_WRITES {
            self.check_writes()?;
        }
        Ok(())
    }

    fn raw_write_block(
        &mut self,
        address: RegisterAddress,
        values: &[u32],
    ) -> Result<(), ArmError> {
        self.check_writes()?;
        let (ap, a) = addr_of(address);
        let packets = values.len().div_ceil(BLOCK_WORDS) as u64;
        self.wire(values.len() as u64 + packets, |c, k| {
            for chunk in values.chunks(BLOCK_WORDS) {
                for v in chunk {
                    xfer(c, ap, false, a, *v, k)?;
                }
                xfer(c, false, true, RDBUFF, 0, k)?;
            }
            Ok(())
        })
    }

    fn raw_flush(&mut self) -> Result<(), ArmError> {
        self.check_writes()
    }

    fn jtag_sequence(&mut self, _cycles: u8, _tms: bool, _tdi: u64) -> Result<(), DebugProbeError> {
        Err(DebugProbeError::UnsupportedProtocol(WireProtocol::Jtag))
    }

    fn swj_sequence(&mut self, bit_len: u8, bits: u64) -> Result<(), DebugProbeError> {
        self.sim.shared().with_chip(|c| c.swj_bits(bit_len, bits));
        Ok(())
    }

    /// Drives nRESET (bit 7) when selected; returns the pin levels read back
    /// (bit 7 = NRST, bit 1 = SWDIO, bit 0 = SWCLK).
    fn swj_pins(
        &mut self,
        pin_out: u32,
        pin_select: u32,
        _pin_wait: u32,
    ) -> Result<u32, DebugProbeError> {
        let nrst_high = self.sim.shared().with_chip(|c| {
            if pin_select & 0x80 != 0 && !c.faults.no_nrst() {
                c.set_nrst(pin_out & 0x80 == 0);
            }
            !c.nrst_low || c.faults.no_nrst()
        });
        Ok(if nrst_high { 0x82 } else { 0x02 })
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        self
    }

    fn core_status_notification(&mut self, _state: CoreStatus) -> Result<(), DebugProbeError> {
        Ok(())
    }
}

impl DapProbe for SimProbe {}

/// The SWO capture of a CMSIS-DAP v2 probe on the chip's TRACESWO pin: what
/// the TPIU shifted out (`arm/tpiu.rs`) is received when the capture's mode
/// and baud match the pin's (SPPR, TRACECLKIN/(ACPR+1), within
/// [`SWO_BAUD_TOLERANCE`]); otherwise a real receiver sees framing errors
/// and the bytes are dropped (logged at debug level).
impl SwoAccess for SimProbe {
    fn enable_swo(&mut self, config: &SwoConfig) -> Result<(), ArmError> {
        let baud = config.baud();
        if !SWO_BAUD_RANGE.contains(&baud) {
            let e = SimSwoError::Baud {
                baud,
                min: *SWO_BAUD_RANGE.start(),
                max: *SWO_BAUD_RANGE.end(),
            };
            return Err(ArmError::Probe(DebugProbeError::ProbeSpecific(e.into())));
        }
        // What the pin sent before the capture started is not received.
        self.sim.shared().with_chip(|c| drop(c.take_swo()));
        self.swo = Some(SwoCapture {
            manchester: matches!(config.mode(), SwoMode::Manchester),
            baud,
        });
        Ok(())
    }

    fn disable_swo(&mut self) -> Result<(), ArmError> {
        self.swo = None;
        Ok(())
    }

    /// What arrived since the last read; waits up to `timeout` (wall time)
    /// for the first byte while the chip runs.
    fn read_swo_timeout(&mut self, timeout: std::time::Duration) -> Result<Vec<u8>, ArmError> {
        let Some(cap) = self.swo else {
            return Ok(Vec::new());
        };
        let end = std::time::Instant::now() + timeout;
        loop {
            let segments = self.sim.shared().with_chip(|c| c.take_swo());
            let mut got = Vec::new();
            for seg in segments {
                let manchester = seg.sppr == tpiu::SPPR_MANCHESTER;
                let err = (seg.baud as f64 - cap.baud as f64).abs() / cap.baud as f64;
                if manchester != cap.manchester || err > SWO_BAUD_TOLERANCE {
                    tracing::debug!(
                        "virtual probe: {} SWO bytes at {} Bd ({}) not received by a capture at {} Bd ({})",
                        seg.bytes.len(),
                        seg.baud,
                        if manchester { "Manchester" } else { "NRZ" },
                        cap.baud,
                        if cap.manchester { "Manchester" } else { "NRZ" }
                    );
                    continue;
                }
                got.extend(seg.bytes);
            }
            if !got.is_empty() || std::time::Instant::now() >= end {
                return Ok(got);
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    fn swo_buffer_size(&mut self) -> Option<usize> {
        Some(8192)
    }
}
