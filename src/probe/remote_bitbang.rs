//! OpenOCD's `remote_bitbang` adapter as a probe-rs probe: JTAG bits over TCP to a
//! remote_bitbang server (stdbg's own `remote_bitbang_port`, a Verilator or FPGA-sim model),
//! through probe-rs's bit-level JTAG interface ([`RawJtagIo`]), so that probe-rs's JTAG-DP,
//! flashing and run control work over it.
//!
//! The protocol (OpenOCD 0.12, `src/jtag/drivers/remote_bitbang.c`): one ASCII byte per action.
//! `'0'`–`'7'` set TCK (4), TMS (2) and TDI (1); `'R'` asks for TDO, answered `'0'` or `'1'`;
//! `'r'`–`'u'` set the reset lines (`'r'` + 2·TRST + SRST, 1 = asserted); `'B'`/`'b'` the LED;
//! `'Q'` ends the session. A bit is clocked as OpenOCD's bitbang driver does: TCK low with TMS and
//! TDI, TDO sampled while TCK is low, then TCK high.
//!
//! Bits are batched: nothing is sent until probe-rs asks for the captured bits (or the buffer
//! reaches [`BATCH_BYTES`]), so a whole DAP scan costs one TCP round trip, not one per bit.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use bitvec::vec::BitVec;
use probe_rs::architecture::arm::sequences::ArmDebugSequence;
use probe_rs::architecture::arm::{
    ArmCommunicationInterface, ArmDebugInterface, ArmError, DapProbe,
};
use probe_rs::probe::{
    AutoImplementJtagAccess, DebugProbe, DebugProbeError, IoSequenceItem, JtagAccess,
    JtagDriverState, ProbeError, RawJtagIo, RawSwdIo, SwdSettings, WireProtocol,
};

/// Bytes buffered before they are sent even if no TDO was asked for yet (64 KiB): bounds the
/// memory of a long scan and keeps the server's reply buffer small.
pub const BATCH_BYTES: usize = 64 << 10;

/// How long the client waits for the server's TDO answers before giving up (5 s).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the remote_bitbang connection failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteBitbangError {
    /// can't connect to the remote_bitbang server {addr}: {source}
    #[error(
        "can't connect to the remote_bitbang server at {addr}: {source}; check that it runs (stdbg -f board/sim-bluepill.rhai -c \"remote_bitbang_port {port}\") and 'remote_bitbang host'/'port'"
    )]
    Connect {
        /// `host:port`.
        addr: String,
        /// The port, for the hint.
        port: u16,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The connection broke or timed out mid-scan.
    #[error(
        "the remote_bitbang connection failed ({0}); the server closed it or stopped answering TDO reads"
    )]
    Io(#[from] std::io::Error),
    /// The server answered a TDO read with something other than `0` or `1`.
    #[error(
        "the remote_bitbang server answered a TDO read with byte 0x{0:02x} instead of '0' or '1': it does not speak OpenOCD's remote_bitbang protocol"
    )]
    BadReply(u8),
}

impl ProbeError for RemoteBitbangError {}

/// A JTAG adapter at the other end of a remote_bitbang TCP connection.
pub struct RemoteBitbang {
    stream: TcpStream,
    addr: String,
    /// Bytes not sent yet.
    out: Vec<u8>,
    /// TDO reads asked for in `out` (or sent and not answered yet).
    pending_reads: usize,
    /// TDO bits captured so far.
    captured: BitVec,
    jtag_state: JtagDriverState,
    swd_settings: SwdSettings,
    speed_khz: u32,
    /// SWD through the protocol's SWD extension instead of JTAG.
    swd: bool,
    /// Whether the host drives SWDIO now (SWD extension `'O'`/`'o'`).
    swdio_driven: bool,
    /// TCP round trips and bytes each way, for the benchmarks.
    pub stats: WireStats,
    /// Handed to the queued JTAG-DP (`probe/batch.rs`).
    reads: super::batch::ReadBatch,
}

/// What went over the wire.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WireStats {
    /// Writes that waited for an answer (TCP round trips).
    pub round_trips: u64,
    /// Bytes sent to the server.
    pub bytes_out: u64,
    /// Bytes received from it.
    pub bytes_in: u64,
}

impl std::fmt::Debug for RemoteBitbang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteBitbang")
            .field("addr", &self.addr)
            .finish()
    }
}

impl RemoteBitbang {
    /// Connects to `host:port` (OpenOCD's `remote_bitbang host`/`port`; default `localhost`).
    ///
    /// # Errors
    /// [`RemoteBitbangError::Connect`] when no server accepts the connection within 5 s.
    pub fn connect(host: &str, port: u16) -> Result<RemoteBitbang, RemoteBitbangError> {
        let addr = format!("{host}:{port}");
        let connect = || -> std::io::Result<TcpStream> {
            let mut last = None;
            for a in addr.to_socket_addrs()? {
                match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
                    Ok(s) => return Ok(s),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| std::io::Error::other("the name has no address")))
        };
        let stream = connect().map_err(|source| RemoteBitbangError::Connect {
            addr: addr.clone(),
            port,
            source,
        })?;
        let _ = stream.set_nodelay(true);
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        Ok(RemoteBitbang {
            stream,
            addr,
            out: Vec::with_capacity(4096),
            pending_reads: 0,
            captured: BitVec::new(),
            jtag_state: JtagDriverState::default(),
            swd_settings: SwdSettings::default(),
            speed_khz: 1000,
            swd: false,
            swdio_driven: false,
            stats: WireStats::default(),
            reads: super::batch::ReadBatch::default(),
        })
    }

    /// Talks SWD through the protocol's SWD extension (`'O'`/`'o'`, `'d'`-`'g'`, `'c'`) instead
    /// of JTAG; the server must have it (stdbg's does; OpenOCD 0.12's client does not).
    pub fn use_swd(&mut self, on: bool) {
        self.swd = on;
    }

    /// Sends what is buffered and reads the TDO answers it asked for.
    fn flush(&mut self) -> Result<(), RemoteBitbangError> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.stream.write_all(&self.out)?;
        self.stats.bytes_out += self.out.len() as u64;
        self.out.clear();
        if self.pending_reads == 0 {
            return Ok(());
        }
        self.stats.round_trips += 1;
        let mut buf = vec![0u8; self.pending_reads];
        self.stream.read_exact(&mut buf)?;
        self.stats.bytes_in += buf.len() as u64;
        self.pending_reads = 0;
        for b in buf {
            match b {
                b'0' => self.captured.push(false),
                b'1' => self.captured.push(true),
                other => return Err(RemoteBitbangError::BadReply(other)),
            }
        }
        Ok(())
    }

    fn send(&mut self, byte: u8) -> Result<(), RemoteBitbangError> {
        self.out.push(byte);
        if self.out.len() >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Sets the reset lines (`true` = asserted) and sends at once.
    fn reset_lines(&mut self, trst: bool, srst: bool) -> Result<(), DebugProbeError> {
        self.send(b'r' + (u8::from(trst) << 1 | u8::from(srst)))
            .and_then(|()| self.flush())
            .map_err(DebugProbeError::from)
    }
}

impl Drop for RemoteBitbang {
    fn drop(&mut self) {
        let _ = self.stream.write_all(b"Q");
        tracing::info!("remote_bitbang interface quit"); // OpenOCD's line
    }
}

impl DebugProbe for RemoteBitbang {
    fn get_name(&self) -> &str {
        "remote_bitbang"
    }

    /// remote_bitbang has no clock setting: the server clocks as fast as the bytes come.
    fn speed_khz(&self) -> u32 {
        self.speed_khz
    }

    fn set_speed(&mut self, speed_khz: u32) -> Result<u32, DebugProbeError> {
        self.speed_khz = speed_khz;
        Ok(speed_khz)
    }

    fn attach(&mut self) -> Result<(), DebugProbeError> {
        // TRST and SRST released, then the TAPs to Run-Test/Idle (SWD: probe-rs sends the
        // line reset and the JTAG-to-SWD sequence itself).
        self.reset_lines(false, false)?;
        if self.swd {
            return Ok(());
        }
        self.reset_jtag_state_machine()?;
        self.select_target(0)
    }

    fn detach(&mut self) -> Result<(), probe_rs::Error> {
        Ok(())
    }

    fn target_reset(&mut self) -> Result<(), DebugProbeError> {
        self.target_reset_assert()?;
        std::thread::sleep(Duration::from_millis(10));
        self.target_reset_deassert()
    }

    fn target_reset_assert(&mut self) -> Result<(), DebugProbeError> {
        self.reset_lines(false, true)
    }

    fn target_reset_deassert(&mut self) -> Result<(), DebugProbeError> {
        self.reset_lines(false, false)
    }

    fn select_protocol(&mut self, protocol: WireProtocol) -> Result<(), DebugProbeError> {
        self.swd = protocol == WireProtocol::Swd;
        Ok(())
    }

    fn active_protocol(&self) -> Option<WireProtocol> {
        Some(if self.swd {
            WireProtocol::Swd
        } else {
            WireProtocol::Jtag
        })
    }

    fn try_as_jtag_probe(&mut self) -> Option<&mut dyn JtagAccess> {
        Some(self)
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        self
    }

    fn try_get_arm_debug_interface<'probe>(
        self: Box<Self>,
        sequence: Arc<dyn ArmDebugSequence>,
    ) -> Result<Box<dyn ArmDebugInterface + 'probe>, (Box<dyn DebugProbe>, ArmError)> {
        if self.swd {
            return Ok(ArmCommunicationInterface::create(self, sequence, true));
        }
        // JTAG: the queued JTAG-DP, not probe-rs's one-transfer-at-a-time JTAG polyfill.
        let reads = self.reads.clone();
        let dp = super::jtag_dp::QueuedJtagDp::new(self, reads);
        Ok(ArmCommunicationInterface::create(
            Box::new(dp),
            sequence,
            true,
        ))
    }

    fn has_arm_interface(&self) -> bool {
        true
    }
}

impl AutoImplementJtagAccess for RemoteBitbang {}
impl DapProbe for RemoteBitbang {}

impl RawJtagIo for RemoteBitbang {
    fn shift_bit(&mut self, tms: bool, tdi: bool, capture: bool) -> Result<(), DebugProbeError> {
        self.jtag_state.state.update(tms);
        let bits = u8::from(tms) << 1 | u8::from(tdi);
        self.send(b'0' + bits)?;
        if capture {
            self.pending_reads += 1;
            self.send(b'R')?;
        }
        self.send(b'0' + (4 | bits))?;
        Ok(())
    }

    fn read_captured_bits(&mut self) -> Result<BitVec, DebugProbeError> {
        self.flush()?;
        Ok(std::mem::take(&mut self.captured))
    }

    fn state_mut(&mut self) -> &mut JtagDriverState {
        &mut self.jtag_state
    }

    fn state(&self) -> &JtagDriverState {
        &self.jtag_state
    }
}

/// SWD through remote_bitbang's SWD extension: each output bit is SWCLK low then high with
/// SWDIO set (`'d'`-`'g'`), each input bit SWCLK low then high then a SWDIO read (`'c'`, sampled
/// after the rising edge, as probe-rs's bit-level SWD expects), with `'O'`/`'o'` switching the
/// host's SWDIO driver between them. Reads are batched like JTAG's TDO reads.
impl RawSwdIo for RemoteBitbang {
    fn swd_io<S>(&mut self, swdio: S) -> Result<Vec<bool>, DebugProbeError>
    where
        S: IntoIterator<Item = IoSequenceItem>,
    {
        let mut inputs = Vec::new();
        for item in swdio {
            match item {
                IoSequenceItem::Output(b) => {
                    if !self.swdio_driven {
                        self.send(b'O')?;
                        self.swdio_driven = true;
                    }
                    self.send(b'd' + u8::from(b))?;
                    self.send(b'd' + (2 | u8::from(b)))?;
                    inputs.push(false);
                }
                IoSequenceItem::Input => {
                    if self.swdio_driven {
                        self.send(b'o')?;
                        self.swdio_driven = false;
                    }
                    self.send(b'd')?;
                    self.send(b'd' + 2)?;
                    self.pending_reads += 1;
                    self.send(b'c')?;
                    inputs.push(true);
                }
            }
        }
        self.flush()?;
        let captured = std::mem::take(&mut self.captured);
        let mut bits = captured.iter().by_vals();
        Ok(inputs
            .into_iter()
            .map(|is_input| is_input && bits.next().unwrap_or(true))
            .collect())
    }

    fn swj_pins(
        &mut self,
        _pin_out: u32,
        _pin_select: u32,
        _pin_wait: u32,
    ) -> Result<u32, DebugProbeError> {
        Err(DebugProbeError::CommandNotSupportedByProbe {
            command_name: "swj_pins",
        })
    }

    fn swd_settings(&self) -> &SwdSettings {
        &self.swd_settings
    }
}

impl RemoteBitbang {
    /// The ID codes on the JTAG chain, TDO end first, read as OpenOCD's `jtag_examine_chain`
    /// does: after Test-Logic-Reset each TAP's DR is its 32-bit IDCODE (bit 0 set) or its 1-bit
    /// BYPASS register (captures 0) (IEEE 1149.1 §12.1.1, ADIv5 §B3.3.1), and with TDI held at 1
    /// an all-ones word marks the end of the chain. A BYPASS TAP is listed as 0. At most 8 TAPs;
    /// leaves the TAPs in Run-Test/Idle.
    ///
    /// # Errors
    /// The wire's errors (the server closed the connection, a bad reply byte).
    pub fn idcodes(&mut self) -> Result<Vec<u32>, DebugProbeError> {
        const MAX_BITS: usize = 8 * 32;
        self.reset_jtag_state_machine()?; // ends in Run-Test/Idle
        for tms in [true, false, false] {
            self.shift_bit(tms, true, false)?; // Select-DR, Capture-DR, Shift-DR
        }
        for i in 0..MAX_BITS {
            self.shift_bit(i == MAX_BITS - 1, true, true)?; // the last bit goes to Exit1-DR
        }
        for tms in [true, false] {
            self.shift_bit(tms, true, false)?; // Update-DR, Run-Test/Idle
        }
        let bits = self.read_captured_bits()?;
        let mut ids = Vec::new();
        let mut i = 0;
        while i < bits.len() {
            if !bits[i] {
                ids.push(0);
                i += 1;
                continue;
            }
            if i + 32 > bits.len() {
                break;
            }
            let id = (0..32).fold(0u32, |v, b| v | (u32::from(bits[i + b]) << b));
            if id == u32::MAX {
                break;
            }
            ids.push(id);
            i += 32;
        }
        Ok(ids)
    }
}

/// Where and how to reach a remote_bitbang server (`remote_bitbang host|port`, `transport
/// select`).
#[derive(Debug, Clone)]
pub struct Setup {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// SWD through the SWD extension instead of JTAG.
    pub swd: bool,
    /// Names of the TAPs the JTAG chain is expected to hold, TDO end first (for the `JTAG tap:`
    /// lines; unnamed ones are `auto<N>.tap`).
    pub tap_names: Vec<String>,
    /// Shared with the host, which reads several registers in one batch through it.
    pub reads: super::batch::ReadBatch,
}

impl RemoteBitbang {
    /// Connects as OpenOCD's driver does, printing its lines (`Initializing remote_bitbang
    /// driver`, `Connecting to host:port`, `remote_bitbang driver initialized`, `This adapter
    /// doesn't support configurable speed`) and, over JTAG, a `JTAG tap: … tap/device found`
    /// line per TAP ([`RemoteBitbang::idcodes`]), so that both tools' logs compare line by line.
    ///
    /// # Errors
    /// As [`RemoteBitbang::connect`]; a failed ID code scan is only logged at debug level.
    pub fn open(setup: &Setup) -> Result<RemoteBitbang, RemoteBitbangError> {
        tracing::info!("Initializing remote_bitbang driver");
        tracing::info!("Connecting to {}:{}", setup.host, setup.port);
        let mut p = RemoteBitbang::connect(&setup.host, setup.port)?;
        p.reads = setup.reads.clone();
        tracing::info!("remote_bitbang driver initialized");
        tracing::info!("This adapter doesn't support configurable speed");
        p.use_swd(setup.swd);
        if setup.swd {
            return Ok(p);
        }
        match p.idcodes() {
            Ok(ids) => {
                for (i, id) in ids.iter().enumerate() {
                    let name = setup
                        .tap_names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("auto{i}.tap"));
                    tracing::info!("{}", tap_found_line(&name, *id));
                }
            }
            Err(e) => tracing::debug!("JTAG ID code scan failed: {e}"),
        }
        Ok(p)
    }
}

/// OpenOCD's line for a TAP found on the chain (`jtag_examine_chain_display`):
/// `JTAG tap: <name> tap/device found: 0x3ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x3)`,
/// the manufacturer named from its JEP106 code (bank = bits [11:8], ID = bits [7:1]).
fn tap_found_line(name: &str, idcode: u32) -> String {
    let mfg = (idcode >> 1) & 0x7ff;
    let part = (idcode >> 12) & 0xffff;
    let ver = idcode >> 28;
    let maker = jep106::JEP106Code::new((mfg >> 7) as u8, (mfg & 0x7f) as u8)
        .get()
        .unwrap_or("<unknown>");
    format!(
        "JTAG tap: {name} tap/device found: 0x{idcode:08x} (mfg: 0x{mfg:03x} ({maker}), part: 0x{part:04x}, ver: 0x{ver:x})"
    )
}
