//! RTT (SEGGER Real-Time Transfer) on the host thread, on probe-rs's `probe_rs::rtt`: the
//! control block is found with [`Rtt::attach_region`] (`rtt setup`'s range as
//! [`ScanRegion::Ranges`], or the `_SEGGER_RTT` symbol of the ELF last programmed or loaded as
//! [`ScanRegion::Exact`]), up channels are drained with `UpChannel::read` and down channels
//! filled with `DownChannel::write`. The same code runs on the virtual chip and on real probes.
//!
//! While RTT is started, the host thread's poller ([`Host::poll_targets`]) calls
//! [`Host::poll_rtt`], which reads every up channel once per `rtt polling_interval` (100 ms by
//! default, as OpenOCD) with background memory accesses through the AHB-AP: the core is never
//! halted. What it reads goes, per channel, to the channel's TCP servers (raw bytes, see
//! [`rtt_server`](super::rtt_server)) and to every console as lines `[rtt<N>] <text>`
//! (partial lines wait for their end up to [`super::lines::MAX_LINE`] bytes, like the USART lines of
//! [`serial`](super::serial)); with defmt on, channel 0 is decoded
//! ([`rtt_defmt`](super::rtt_defmt)).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use probe_rs::rtt::{Rtt, ScanRegion};
use probe_rs::{Core, MemoryInterface};

mod poll;

use super::Host;
use super::lines::LineBuffer;
use super::rtt_defmt::{Defmt, DefmtError};
use super::rtt_server::Server;
use crate::command::CommandError;
use crate::diagnose;

/// OpenOCD's default polling interval (`src/rtt/rtt.c`), ms.
pub const DEFAULT_INTERVAL_MS: u64 = 100;
/// Bytes read from one up channel per poll at most (the rest waits for the next poll).
pub const READ_CHUNK: usize = 4096;
/// The largest `rtt setup` range, bytes: probe-rs reads the whole range into host memory in one
/// go to search it (over SWD at 1 MHz, 16 MiB take minutes), and no STM32 has more RAM.
pub const MAX_SEARCH: u64 = 16 << 20;
/// The only control block ID probe-rs's RTT finds (`Rtt::RTT_ID`).
pub const SEGGER_ID: &str = "SEGGER RTT";

/// Why an RTT command failed.
#[derive(Debug, thiserror::Error)]
pub enum RttError {
    /// `rtt start` with nothing to search.
    #[error(
        "RTT is not configured: no 'rtt setup' was given and no ELF with a _SEGGER_RTT symbol was programmed or loaded in this session. Give the search range, e.g. 'rtt setup 0x20000000 0x5000 \"SEGGER RTT\"' (the chip's RAM), or 'program <firmware.elf>' first"
    )]
    NotConfigured,
    /// `rtt start` without `rtt setup`, and the ELF has no `_SEGGER_RTT`.
    #[error(
        "RTT is not configured: no 'rtt setup' was given and {0}, the ELF last programmed or loaded, has no _SEGGER_RTT symbol (not an RTT firmware, or its symbols were stripped). Give the search range, e.g. 'rtt setup 0x20000000 0x5000 \"SEGGER RTT\"' (the chip's RAM)"
    )]
    NoSymbol(String),
    /// OpenOCD's ID length check.
    #[error("rtt: Invalid control block ID \"{0}\": it must have 1 to 15 characters")]
    InvalidId(String),
    /// probe-rs only finds `SEGGER RTT`.
    #[error(
        "rtt: control block ID \"{0}\" is not supported: stdbg finds control blocks with probe-rs, which looks for \"SEGGER RTT\" only; keep the firmware's default ID (SEGGER_RTT_ID in SEGGER_RTT_Conf.h) and use 'rtt setup <address> <size> \"SEGGER RTT\"'"
    )]
    UnsupportedId(String),
    /// An empty or huge search range.
    #[error(
        "rtt setup: a search range of {0} bytes is refused: give the RAM that holds the control block, 1 byte to 16 MiB (e.g. 'rtt setup 0x20000000 0x5000 \"SEGGER RTT\"' on a Blue Pill), or leave out 'rtt setup' to use the _SEGGER_RTT symbol of the ELF"
    )]
    BadRange(u64),
    /// A command that needs the control block.
    #[error(
        "rtt: Control block not available: run 'rtt start' first (it finds the control block; see its log lines if it found none)"
    )]
    NoControlBlock,
    /// `rtt stop` before anything was set up.
    #[error("rtt: Not configured: nothing to stop ('rtt setup' or 'rtt start' first)")]
    NotStarted,
    /// A channel the control block does not have.
    #[error("rtt: {kind}-channel {index} is not available: the control block has {list}")]
    NoChannel {
        /// `Up` or `Down`.
        kind: &'static str,
        /// The channel asked for.
        index: usize,
        /// The channels there are, in words.
        list: String,
    },
    /// The down channel's queue is full.
    #[error(
        "rtt: down channel {index} is full and {waiting} bytes wait for it: the firmware does not read it (not running, or not polling its down buffer); nothing was sent"
    )]
    DownFull {
        /// The channel.
        index: usize,
        /// Bytes queued.
        waiting: usize,
    },
    /// `rtt server stop` of a port with no server.
    #[error("rtt: no RTT server on port {0}; running: {1}")]
    NoServer(u16, String),
    /// `rtt defmt on` without a table.
    #[error(
        "rtt: no defmt table: {0} has no .defmt section. Program or load the ELF built with defmt (its .defmt section names the log statements)"
    )]
    NoDefmtTable(String),
    /// `rtt defmt on` with no ELF at all.
    #[error(
        "rtt: no defmt table: no ELF was programmed or loaded in this session; 'program <firmware.elf>' (or 'load_image') first"
    )]
    NoElf,
    /// The table could not be used.
    #[error(transparent)]
    Defmt(#[from] DefmtError),
    /// A server could not start.
    #[error(transparent)]
    Server(#[from] super::rtt_server::ServerError),
}

impl From<RttError> for CommandError {
    fn from(e: RttError) -> Self {
        CommandError::failed(e.to_string())
    }
}

/// `rtt setup <address> <size> <ID>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// Start of the searched range.
    pub address: u64,
    /// Bytes searched.
    pub size: u64,
    /// The control block ID.
    pub id: String,
}

/// `rtt defmt`: whether channel 0 is decoded as defmt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefmtMode {
    /// When the ELF has a `.defmt` section (the default).
    #[default]
    Auto,
    /// Always (an error when there is no table).
    On,
    /// Never: channel 0 is text.
    Off,
}

/// One channel as `rtt channels` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Channel number.
    pub index: usize,
    /// Its name (empty when it has none).
    pub name: String,
    /// Buffer size, bytes.
    pub size: usize,
    /// The flags word (bits 0-1: the mode, 0 skip, 1 trim, 2 block).
    pub flags: u32,
}

/// The control block's channels: the `MaxNumUpBuffers`/`MaxNumDownBuffers` of its header and
/// the channels in use (a buffer pointer set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// `MaxNumUpBuffers`.
    pub max_up: u32,
    /// `MaxNumDownBuffers`.
    pub max_down: u32,
    /// Up channels in use.
    pub up: Vec<ChannelInfo>,
    /// Down channels in use.
    pub down: Vec<ChannelInfo>,
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Bytes read from up channels.
    pub read: usize,
    /// Bytes written to down channels.
    pub written: usize,
}

/// The RTT state of the host (in `HostInner`).
#[derive(Default)]
pub struct RttHub(Mutex<State>);

struct State {
    setup: Option<Setup>,
    rtt: Option<Rtt>,
    /// The control block's address once found (attached again there after a re-initialisation).
    ptr: Option<u64>,
    /// `rtt setup` changed the range since the block was found.
    changed: bool,
    started: bool,
    interval: Duration,
    last_poll: Option<Instant>,
    lines: HashMap<usize, LineBuffer>,
    servers: BTreeMap<u16, Server>,
    down_queue: BTreeMap<usize, Vec<u8>>,
    defmt_mode: DefmtMode,
    defmt: Option<Defmt>,
    /// A poll failed; said once until one succeeds again.
    failing: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            setup: None,
            rtt: None,
            ptr: None,
            changed: false,
            started: false,
            interval: Duration::from_millis(DEFAULT_INTERVAL_MS),
            last_poll: None,
            lines: HashMap::new(),
            servers: BTreeMap::new(),
            down_queue: BTreeMap::new(),
            defmt_mode: DefmtMode::Auto,
            defmt: None,
            failing: false,
        }
    }
}

/// Runs an RTT operation inside [`Host::with_core`]: a probe error stays a probe error (so a lost
/// link is noted), the others come back as `Err` inside `Ok`.
fn rtt_op<T>(
    r: Result<T, probe_rs::rtt::Error>,
) -> Result<Result<T, probe_rs::rtt::Error>, probe_rs::Error> {
    match r {
        Err(probe_rs::rtt::Error::Probe(e)) => Err(e),
        other => Ok(other),
    }
}

fn channel_list(rtt: &Rtt) -> String {
    let up: Vec<String> = rtt
        .up_channels
        .iter()
        .map(|c| c.number().to_string())
        .collect();
    let down: Vec<String> = rtt
        .down_channels
        .iter()
        .map(|c| c.number().to_string())
        .collect();
    let words = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!("up channels {}, down channels {}", words(&up), words(&down))
}

impl Host {
    fn rtt_state(&self) -> MutexGuard<'_, State> {
        self.inner.rtt.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ELF last programmed or loaded (see [`Host::set_program`]).
    fn program_path(&self) -> Option<PathBuf> {
        let g = self.inner.symbols.lock().unwrap_or_else(|e| e.into_inner());
        g.as_ref().map(|s| s.path().to_path_buf())
    }

    /// `rtt setup`: where `rtt start` searches. A changed setup searches again.
    pub fn rtt_setup(&self, address: u64, size: u64, id: &str) -> Result<(), RttError> {
        if id.is_empty() || id.len() >= 16 {
            return Err(RttError::InvalidId(id.to_string()));
        }
        if id != SEGGER_ID {
            return Err(RttError::UnsupportedId(id.to_string()));
        }
        if size == 0 || size > MAX_SEARCH {
            return Err(RttError::BadRange(size));
        }
        let mut s = self.rtt_state();
        let new = Setup {
            address,
            size,
            id: id.to_string(),
        };
        // As OpenOCD's `rtt.changed`: a new range is searched at the next `rtt start` (a running
        // RTT keeps its block until then).
        if s.setup.as_ref() != Some(&new) {
            s.changed = true;
        }
        s.setup = Some(new);
        Ok(())
    }

    /// `rtt start`: finds the control block (OpenOCD's log lines), then polls. Finding none is
    /// not an error (as in OpenOCD): it is logged with its likely causes.
    pub fn rtt_start(&self) -> Result<(), CommandError> {
        let (setup, have) = {
            let s = self.rtt_state();
            if s.started {
                return Ok(());
            }
            (s.setup.clone(), s.rtt.is_some() && !s.changed)
        };
        if !have {
            let (region, what) = match &setup {
                Some(st) => {
                    tracing::info!("rtt: Searching for control block '{}'", st.id);
                    (
                        ScanRegion::range(st.address..st.address.saturating_add(st.size)),
                        format!(
                            "in {:#010x}..{:#010x}",
                            st.address,
                            st.address.saturating_add(st.size)
                        ),
                    )
                }
                None => {
                    let elf = self.program_path().ok_or(RttError::NotConfigured)?;
                    let no_symbol = || RttError::NoSymbol(elf.display().to_string());
                    let bytes = std::fs::read(&elf).map_err(|_| no_symbol())?;
                    let addr = probe_rs::rtt::find_rtt_control_block_in_raw_file(&bytes)
                        .ok()
                        .flatten()
                        .ok_or_else(no_symbol)?;
                    tracing::info!(
                        "rtt: no 'rtt setup': using the _SEGGER_RTT symbol of {} at {addr:#010x}",
                        elf.display()
                    );
                    (
                        ScanRegion::Exact(addr),
                        format!("at {addr:#010x} (_SEGGER_RTT)"),
                    )
                }
            };
            let found = self.with_core(|core, _| rtt_op(Rtt::attach_region(core, &region)))?;
            match found {
                Ok(rtt) => {
                    tracing::info!("rtt: Control block found at {:#010x}", rtt.ptr());
                    let mut s = self.rtt_state();
                    s.ptr = Some(rtt.ptr());
                    s.rtt = Some(rtt);
                    s.changed = false;
                }
                Err(e) => {
                    {
                        let mut s = self.rtt_state();
                        s.rtt = None;
                        s.ptr = None;
                    }
                    tracing::info!("rtt: No control block found");
                    let what = match e {
                        probe_rs::rtt::Error::ControlBlockNotFound => {
                            format!("no valid \"SEGGER RTT\" control block {what}")
                        }
                        other => format!("the control block {what} is not usable: {other}"),
                    };
                    tracing::warn!("rtt: {what}");
                    tracing::warn!(
                        "rtt: cause: the firmware has not initialised RTT yet, was halted before its RTT initialisation, is not the firmware that was programmed, or the range misses the block"
                    );
                    tracing::warn!(
                        "rtt: fix: let it run ('reset run' or 'resume'), then 'rtt start' again; check the range against the address of _SEGGER_RTT (arm-none-eabi-nm firmware.elf)"
                    );
                    return Ok(());
                }
            }
        }
        self.rtt_load_defmt();
        let mut s = self.rtt_state();
        s.started = true;
        s.last_poll = None;
        s.failing = false;
        Ok(())
    }

    /// Loads the defmt table for channel 0 according to the `rtt defmt` mode (logged).
    fn rtt_load_defmt(&self) {
        let mode = self.rtt_state().defmt_mode;
        let table = match (mode, self.program_path()) {
            (DefmtMode::Off, _) | (_, None) => None,
            (_, Some(elf)) => match Defmt::load(&elf) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!("{e}");
                    None
                }
            },
        };
        if let Some(t) = &table {
            tracing::info!(
                "rtt: channel 0 is decoded as defmt with the .defmt table of {} ({} log statements{})",
                t.path().display(),
                t.statements(),
                if t.has_locations() {
                    ", with source locations"
                } else {
                    ", no source locations"
                }
            );
        }
        let mut s = self.rtt_state();
        s.defmt = table;
        s.lines.remove(&0);
    }

    /// A new ELF was programmed or loaded: its control block may be elsewhere and its defmt table
    /// differs, so RTT stops and forgets both; `rtt start` searches again.
    pub fn rtt_program_changed(&self) {
        let mut s = self.rtt_state();
        let was = s.started;
        s.rtt = None;
        s.ptr = None;
        s.defmt = None;
        s.started = false;
        s.lines.clear();
        drop(s);
        if was {
            tracing::info!(
                "rtt: stopped: a new program was loaded and its control block may be elsewhere; 'rtt start' finds it again"
            );
        }
    }

    /// `rtt stop`: stops polling (the control block stays known; `rtt start` resumes).
    pub fn rtt_stop(&self) -> Result<(), RttError> {
        let mut s = self.rtt_state();
        if s.setup.is_none() && s.rtt.is_none() && !s.started {
            return Err(RttError::NotStarted);
        }
        s.started = false;
        Ok(())
    }

    /// `rtt polling_interval [ms]`: sets it (when given) and returns it, ms.
    pub fn rtt_polling_interval(&self, ms: Option<u64>) -> u64 {
        let mut s = self.rtt_state();
        if let Some(ms) = ms {
            s.interval = Duration::from_millis(ms);
        }
        s.interval.as_millis() as u64
    }

    /// Whether RTT is polled.
    pub fn rtt_started(&self) -> bool {
        self.rtt_state().started
    }

    /// The poll timeout of the host thread: `base`, or less when RTT polls more often.
    pub fn rtt_poll_timeout(&self, base: Duration) -> Duration {
        let s = self.rtt_state();
        if s.started {
            base.min(s.interval.max(Duration::from_millis(1)))
        } else {
            base
        }
    }

    /// `rtt channels` / `rtt channellist`: reads the control block's header and flags words.
    pub fn rtt_channels(&self) -> Result<Channels, CommandError> {
        let mut s = self.rtt_state();
        let rtt = s.rtt.as_mut().ok_or(RttError::NoControlBlock)?;
        self.with_core(|core, _| {
            let ptr = rtt.ptr();
            let mut hdr = [0u32; 2];
            core.read_32(ptr + 16, &mut hdr)?;
            // Channel descriptors: 24 bytes each after the 24-byte header; flags at +20
            // (UM08001, SEGGER_RTT_BUFFER_UP/DOWN).
            let flags = |core: &mut Core<'_>, n: u64| core.read_word_32(ptr + 24 + 24 * n + 20);
            let mut up = Vec::new();
            for c in rtt.up_channels.iter() {
                up.push(ChannelInfo {
                    index: c.number(),
                    name: c.name().unwrap_or("").to_string(),
                    size: c.buffer_size(),
                    flags: flags(core, c.number() as u64)?,
                });
            }
            let mut down = Vec::new();
            for c in rtt.down_channels.iter() {
                down.push(ChannelInfo {
                    index: c.number(),
                    name: c.name().unwrap_or("").to_string(),
                    size: c.buffer_size(),
                    flags: flags(core, u64::from(hdr[0]) + c.number() as u64)?,
                });
            }
            Ok(Channels {
                max_up: hdr[0],
                max_down: hdr[1],
                up,
                down,
            })
        })
    }

    /// `rtt write`: writes `bytes` to down channel `channel` now; what does not fit is queued for
    /// the next polls. Returns the bytes written now.
    pub fn rtt_write(&self, channel: usize, bytes: &[u8]) -> Result<usize, CommandError> {
        let mut guard = self.rtt_state();
        let State {
            rtt, down_queue, ..
        } = &mut *guard;
        let rtt = rtt.as_mut().ok_or(RttError::NoControlBlock)?;
        let list = channel_list(rtt);
        let Some(ch) = rtt.down_channels.iter_mut().find(|c| c.number() == channel) else {
            return Err(RttError::NoChannel {
                kind: "Down",
                index: channel,
                list,
            }
            .into());
        };
        // Bytes still queued go first: these wait behind them.
        let waiting = down_queue.get(&channel).map_or(0, Vec::len);
        if waiting > 0 {
            if waiting + bytes.len() > super::rtt_server::INPUT_QUEUE {
                return Err(RttError::DownFull {
                    index: channel,
                    waiting,
                }
                .into());
            }
            down_queue
                .entry(channel)
                .or_default()
                .extend_from_slice(bytes);
            return Ok(0);
        }
        let n = match self.with_core(|core, _| rtt_op(ch.write(core, bytes)))? {
            Ok(n) => n,
            Err(e) => return Err(diagnose::command_error("write the RTT down channel", &e)),
        };
        if n < bytes.len() {
            down_queue
                .entry(channel)
                .or_default()
                .extend_from_slice(&bytes[n..]);
        }
        Ok(n)
    }

    /// `rtt server start`: returns the port bound.
    pub fn rtt_server_start(
        &self,
        port: u16,
        channel: usize,
        hello: Option<String>,
    ) -> Result<u16, RttError> {
        let server = Server::start(port, channel, hello)?;
        let bound = server.port;
        tracing::info!("Listening on port {bound} for rtt connections");
        self.rtt_state().servers.insert(bound, server);
        Ok(bound)
    }

    /// `rtt server stop`.
    pub fn rtt_server_stop(&self, port: u16) -> Result<(), RttError> {
        let mut s = self.rtt_state();
        if s.servers.remove(&port).is_none() {
            let list: Vec<String> = s
                .servers
                .values()
                .map(|v| format!("port {} (channel {})", v.port, v.channel))
                .collect();
            return Err(RttError::NoServer(
                port,
                if list.is_empty() {
                    "none".into()
                } else {
                    list.join(", ")
                },
            ));
        }
        Ok(())
    }

    /// `rtt defmt [on|off]`: sets the mode (when given; `on` needs a table) and returns a
    /// description of the state.
    pub fn rtt_defmt(&self, mode: Option<DefmtMode>) -> Result<String, RttError> {
        if let Some(m) = mode {
            if m == DefmtMode::On {
                let elf = self.program_path().ok_or(RttError::NoElf)?;
                if Defmt::load(&elf)?.is_none() {
                    return Err(RttError::NoDefmtTable(elf.display().to_string()));
                }
            }
            self.rtt_state().defmt_mode = m;
            if self.rtt_started() {
                self.rtt_load_defmt();
            }
        }
        let s = self.rtt_state();
        let mode = match s.defmt_mode {
            DefmtMode::Auto => "auto",
            DefmtMode::On => "on",
            DefmtMode::Off => "off",
        };
        Ok(match &s.defmt {
            Some(t) => format!(
                "defmt {mode}: channel 0 decoded with the .defmt table of {}",
                t.path().display()
            ),
            None => format!("defmt {mode}: channel 0 is text"),
        })
    }
}
