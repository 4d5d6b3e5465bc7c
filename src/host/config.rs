//! Configuration-stage state: adapter, transport, reset lines, servers, script search path.

use std::net::IpAddr;
use std::path::PathBuf;

/// Adapter settings (`adapter driver|speed|serial`).
#[derive(Debug, Clone, Default)]
pub struct AdapterConfig {
    /// `sim`, `stlink`, `cmsis-dap`, `jlink` or `ftdi`; `None` until `adapter driver`.
    pub driver: Option<String>,
    /// Requested SWD clock in kHz.
    pub speed_khz: Option<u32>,
    /// Probe serial number to select.
    pub serial: Option<String>,
    /// `remote_bitbang host`: the server's host name or address (OpenOCD's default `localhost`).
    pub remote_bitbang_host: String,
    /// `remote_bitbang port`: the server's TCP port; `None` until set.
    pub remote_bitbang_port: Option<u16>,
}

/// `reset_config` state, OpenOCD's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetConfig {
    /// `none`, `trst_only`, `srst_only` or `trst_and_srst`.
    pub signals: String,
    /// `srst_gates_jtag` or `srst_nogate`.
    pub gating: String,
    /// `connect_deassert_srst` or `connect_assert_srst`.
    pub connect: String,
    /// `separate`, `srst_pulls_trst`, `trst_pulls_srst` or `combined`.
    pub combination: String,
}

impl Default for ResetConfig {
    fn default() -> Self {
        ResetConfig {
            signals: "none".into(),
            gating: "srst_gates_jtag".into(),
            connect: "connect_deassert_srst".into(),
            combination: "separate".into(),
        }
    }
}

impl ResetConfig {
    /// Whether the adapter's NRST line is used for resets.
    pub fn has_srst(&self) -> bool {
        self.signals == "srst_only" || self.signals == "trst_and_srst"
    }
}

/// A server port setting (`gdb_port`, `telnet_port`): a TCP port or disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSetting {
    /// Listen on this TCP port (0 = any free port).
    Port(u16),
    /// Do not open the server.
    Disabled,
}

/// Virtual-target settings (`sim chip`, `sim storage`) used when `adapter driver sim` is opened.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// Chip name, e.g. `STM32F103C8`.
    pub chip: String,
    /// Where the chip keeps flash and option bytes between runs; `None` = fresh each run.
    pub storage: Option<PathBuf>,
    /// Faults to inject when the chip is created (`sim fault …` before `init`).
    pub faults: Vec<crate::sim::Fault>,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            chip: "STM32F103C8".into(),
            storage: default_sim_storage("STM32F103C8"),
            faults: Vec::new(),
        }
    }
}

/// The default non-volatile storage file of a virtual chip: `$XDG_CACHE_HOME/stdbg/sim-<CHIP>.bin`
/// (or `~/.cache/stdbg/…`).
pub fn default_sim_storage(chip: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(
        base.join("stdbg")
            .join(format!("sim-{}.bin", chip.to_ascii_uppercase())),
    )
}

/// Everything set before `init`.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Adapter settings.
    pub adapter: AdapterConfig,
    /// Selected transport (`swd`).
    pub transport: Option<String>,
    /// Reset line configuration.
    pub reset_config: ResetConfig,
    /// GDB server port (OpenOCD default 3333).
    pub gdb_port: PortSetting,
    /// Telnet console port (OpenOCD default 4444).
    pub telnet_port: PortSetting,
    /// Tcl RPC port; `None` = OpenOCD's default 6666, which is skipped with a warning when
    /// another program holds it (an explicit `tcl_port` must bind, as in OpenOCD).
    pub tcl_port: Option<PortSetting>,
    /// `remote_bitbang_port`: serve the virtual chip's JTAG pins over OpenOCD's remote_bitbang
    /// protocol on this TCP port (0 = any free port); `None` = no server.
    pub remote_bitbang_port: Option<u16>,
    /// Address the servers bind to (default 127.0.0.1).
    pub bindto: IpAddr,
    /// `-s` directories, searched before the current directory and the built-in scripts.
    pub search_dirs: Vec<PathBuf>,
    /// Set once `init` has completed.
    pub initialized: bool,
    /// Virtual-target settings.
    pub sim: SimSettings,
    /// Whether progress bars may be drawn (stderr is a terminal).
    pub progress_bars: bool,
    /// OpenOCD settings kept for launch files (`noinit`, `poll_period`, `adapter srst …`).
    pub compat: CompatSettings,
    /// GDB server settings (`gdb_*` commands, `gdb_port pipe`).
    pub gdb: crate::host::gdb_settings::GdbSettings,
}

/// OpenOCD 0.12 settings that IDE launch files set (see src/command/builtin/openocd_compat.rs).
#[derive(Debug, Clone)]
pub struct CompatSettings {
    /// `noinit`: the command line does not run `init` after the last `-c`/`-f`.
    pub noinit: bool,
    /// `poll_period`: how often a running target is polled, ms (OpenOCD default 100).
    pub poll_period_ms: u64,
    /// `adapter srst delay`: wait after releasing NRST, ms (OpenOCD default 0).
    pub srst_delay_ms: u64,
    /// `adapter srst pulse_width`: how long NRST is held low, ms (OpenOCD default 0).
    pub srst_pulse_width_ms: u64,
    /// `cortex_m maskisr`: `auto`, `on`, `off` or `steponly` (OpenOCD default `auto`).
    pub maskisr: String,
    /// `reset_nag`: remind to use `reset_config` (OpenOCD default disabled).
    pub reset_nag: bool,
    /// DP SELECT as last written by ST's `WriteDP 2 …` (APSEL 31:24, APBANKSEL 7:4), for
    /// `ReadAP`; `None` until written (then the current target's AP, bank 0).
    pub st_select: Option<u32>,
}

impl Default for CompatSettings {
    fn default() -> Self {
        CompatSettings {
            noinit: false,
            poll_period_ms: 100,
            srst_delay_ms: 0,
            srst_pulse_width_ms: 0,
            maskisr: "auto".into(),
            reset_nag: false,
            st_select: None,
        }
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            adapter: AdapterConfig::default(),
            transport: None,
            reset_config: ResetConfig::default(),
            gdb_port: PortSetting::Port(3333),
            telnet_port: PortSetting::Port(4444),
            tcl_port: None,
            remote_bitbang_port: None,
            bindto: IpAddr::from([127, 0, 0, 1]),
            search_dirs: Vec::new(),
            initialized: false,
            sim: SimSettings::default(),
            progress_bars: false,
            compat: CompatSettings::default(),
            gdb: Default::default(),
        }
    }
}
