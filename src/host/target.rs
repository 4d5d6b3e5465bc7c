//! Targets and flash banks as declared by target scripts (OpenOCD's `target create` and
//! `flash bank`).

use crate::script::Callback;

/// What runs when a target event fires (OpenOCD `-event <name> <body>`).
#[derive(Clone)]
pub enum EventHandler {
    /// A command line run through the dispatcher.
    Command(String),
    /// A Rhai closure registered with `t.on("examine-end", || …)`.
    Script(Callback),
}

/// OpenOCD's target event names, in the order a `reset` fires them (ADIv5/Cortex-M reset path),
/// plus the others it accepts.
pub const EVENT_NAMES: &[&str] = &[
    "reset-start",
    "examine-start",
    "examine-fail",
    "examine-end",
    "reset-assert-pre",
    "reset-assert",
    "reset-assert-post",
    "reset-deassert-pre",
    "reset-deassert-post",
    "reset-init",
    "reset-end",
    "halted",
    "resumed",
    "resume-start",
    "resume-end",
    "step-start",
    "step-end",
    "debug-halted",
    "debug-resumed",
    "gdb-attach",
    "gdb-detach",
    "gdb-halt",
    "gdb-start",
    "gdb-end",
    "gdb-flash-erase-start",
    "gdb-flash-erase-end",
    "gdb-flash-write-start",
    "gdb-flash-write-end",
    "trace-config",
];

/// OpenOCD-style target state, as `targets` and `<target> curstate` print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// Not examined yet, or the link is down.
    Unknown,
    /// The core executes.
    Running,
    /// The core is halted in debug state.
    Halted,
    /// Held in reset.
    Reset,
}

impl TargetState {
    /// OpenOCD's word for the state.
    pub fn as_str(&self) -> &'static str {
        match self {
            TargetState::Unknown => "unknown",
            TargetState::Running => "running",
            TargetState::Halted => "halted",
            TargetState::Reset => "reset",
        }
    }
}

/// OpenOCD's target types that stdbg drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// `cortex_m`: a Cortex-M core behind a MEM-AP (ARMv7-M ARM chapter C1).
    CortexM,
    /// `mem_ap`: memory reached through one MEM-AP with no core (OpenOCD's `mem_ap` target,
    /// e.g. the STM32H7's APB-AP 2 to the system debug bus APB-D, RM0433 §60.4; ADIv5 §C2).
    /// Memory commands work on it; run-control commands need a `cortex_m` target.
    MemAp,
}

impl TargetKind {
    /// OpenOCD's name of the type, as `targets` prints it.
    pub fn as_str(&self) -> &'static str {
        match self {
            TargetKind::CortexM => "cortex_m",
            TargetKind::MemAp => "mem_ap",
        }
    }

    /// The kind named by OpenOCD's type word, `None` for types stdbg does not drive.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cortex_m" => Some(TargetKind::CortexM),
            "mem_ap" => Some(TargetKind::MemAp),
            _ => None,
        }
    }
}

/// A debug target declared by a target script: a core, or a memory access port.
#[derive(Clone)]
pub struct TargetDef {
    /// Name, e.g. `stm32f1x.cpu`.
    pub name: String,
    /// OpenOCD target type.
    pub kind: TargetKind,
    /// The probe-rs chip used to attach (e.g. `STM32F103C8`); it gives the memory map and the
    /// flash algorithm.
    pub chip: String,
    /// Index of the core in the probe-rs session (cores only).
    pub core_index: usize,
    /// MEM-AP number of the core.
    pub ap: u8,
    /// Name of the debug access port the target sits on (OpenOCD `-dap`, e.g. `stm32f1x.dap`).
    pub dap: String,
    /// How a reset without SRST is requested (OpenOCD `cortex_m reset_config`): `sysresetreq`
    /// (AIRCR.SYSRESETREQ, ARMv7-M ARM §B1.5.16; the only kind probe-rs issues).
    pub reset_type: String,
    /// Work area start address (bytes).
    pub work_area_phys: u32,
    /// Work area size in bytes.
    pub work_area_size: u32,
    /// Expected SW-DP DPIDR (OpenOCD `CPUTAPID`; 0 = accept any).
    pub expected_dpidr: u32,
    /// Expected DBGMCU_IDCODE DEV_ID values (bits 11:0); empty = not checked.
    pub expected_dev_ids: Vec<u32>,
    /// DBGMCU_IDCODE of the chip found at the last `init`/examine (`None` before, or when it
    /// could not be read); the family table maps it to the chip's line.
    pub idcode: Option<u32>,
    /// Registered event handlers, in registration order.
    pub events: Vec<(String, EventHandler)>,
    /// Last known state.
    pub state: TargetState,
    /// OpenOCD `-gdb-max-connections`: GDB connections served at once (default 1, -1 = no
    /// limit, 0 = none).
    pub gdb_max_connections: i64,
}

impl TargetDef {
    /// A Cortex-M target with no work area and no events.
    pub fn new(name: &str, chip: &str) -> Self {
        TargetDef {
            name: name.to_string(),
            kind: TargetKind::CortexM,
            chip: chip.to_string(),
            core_index: 0,
            ap: 0,
            dap: String::new(),
            reset_type: "sysresetreq".into(),
            work_area_phys: 0,
            work_area_size: 0,
            expected_dpidr: 0,
            expected_dev_ids: Vec::new(),
            idcode: None,
            events: Vec::new(),
            state: TargetState::Unknown,
            gdb_max_connections: 1,
        }
    }

    /// Whether the target is a core (run control, registers, breakpoints, flash algorithms).
    pub fn is_core(&self) -> bool {
        self.kind == TargetKind::CortexM
    }
}

/// A flash bank (OpenOCD `flash bank <name> <driver> <base> <size> 0 0 <target>`).
#[derive(Debug, Clone)]
pub struct FlashBank {
    /// Bank name, e.g. `stm32f1x.flash`.
    pub name: String,
    /// Driver name, e.g. `stm32f1x`.
    pub driver: String,
    /// Base address.
    pub base: u64,
    /// Configured size in bytes (0 = read the size from the chip at probe time).
    pub size: u32,
    /// Target the bank belongs to.
    pub target: String,
    /// Size found by `flash probe` (bytes), once probed.
    pub probed_size: Option<u32>,
    /// Sector (erase unit) size in bytes, once probed.
    pub sector_size: Option<u32>,
}

impl FlashBank {
    /// The size in use: configured, else probed, else 0.
    pub fn effective_size(&self) -> u32 {
        if self.size != 0 {
            self.size
        } else {
            self.probed_size.unwrap_or(0)
        }
    }
}

/// Every declared target and flash bank.
#[derive(Clone, Default)]
pub struct Targets {
    /// Targets in creation order.
    pub list: Vec<TargetDef>,
    /// Index of the current target.
    pub current: usize,
    /// Flash banks in declaration order (`#0`, `#1`, …).
    pub banks: Vec<FlashBank>,
    /// The access port `dap apcsw` works on, per DAP name (`dap apsel`; default 0).
    pub dap_apsel: std::collections::HashMap<String, u8>,
}

impl Targets {
    /// The current target, if any.
    pub fn current(&self) -> Option<&TargetDef> {
        self.list.get(self.current)
    }

    /// The current target, mutable.
    pub fn current_mut(&mut self) -> Option<&mut TargetDef> {
        self.list.get_mut(self.current)
    }

    /// A target by name.
    pub fn by_name(&self, name: &str) -> Option<&TargetDef> {
        self.list.iter().find(|t| t.name == name)
    }

    /// The core target that `init` attaches to: the current target when it is a core, else
    /// the first core declared (a `mem_ap` target has no core to attach to).
    pub fn attach_target(&self) -> Option<&TargetDef> {
        self.current()
            .filter(|t| t.is_core())
            .or_else(|| self.list.iter().find(|t| t.is_core()))
    }

    /// A target by name, mutable.
    pub fn by_name_mut(&mut self, name: &str) -> Option<&mut TargetDef> {
        self.list.iter_mut().find(|t| t.name == name)
    }
}
