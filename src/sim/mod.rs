//! The virtual STM32: a simulated chip behind a simulated CMSIS-DAP probe.
//!
//! A [`Sim`] is one virtual chip: fully, an STM32F103 (Cortex-M3 r1p1, ARMv7-M)
//! with its SWJ-DP/AHB-AP debug logic, CoreSight components, exception model,
//! flash controller and the peripherals HAL firmware waits on (RCC, GPIO, EXTI,
//! TIM1-4, USART1-3, SPI, I2C); the STM32F303VC with its own SoC (RM0316:
//! RCC, FLASH, GPIO, USART1-3, IWDG, PWR); a G474 and L476 with the
//! stm32l4x-family SoC; an STM32H743 with its own (RM0433: three APs, RCC,
//! PWR, DBGMCU, GPIO, USART3, IWDG1, FLASH) ([`ChipModel`]). [`Sim::probe`] hands out a [`SimProbe`] that implements
//! probe-rs's `DebugProbe`, `RawDapAccess` and `DapProbe`, so the real probe-rs
//! ARM stack can attach to it:
//!
//! ```no_run
//! use stdbg::sim::{Sim, SimConfig, ChipModel};
//! use probe_rs::{Permissions, probe::Probe};
//! let sim = Sim::new(SimConfig { chip: ChipModel::Stm32f103c8, storage: None })?;
//! let probe = Probe::from_specific_probe(Box::new(sim.probe()));
//! let mut session = probe.attach("STM32F103C8", Permissions::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layers, from the wire inwards (see `docs/sim.md`): `probe.rs` (CMSIS-DAP
//! firmware behaviour) → `arm/` (the family-free Arm part: SW-DP, the APs, the
//! debugger's PPB, halting debug, FPB/DWT/ITM, ROM table, and the processor:
//! rsemu behind one trait, with what the wrapper adds) → `bus.rs` (the system
//! bus: memories, and the SoC windows) → `soc.rs`, the seam to one folder per
//! family (`stm32f1/`, `stm32f3/`, `stm32l4/` with `stm32g4/`, `stm32h7/`).
//! `chip.rs` ties them with the reset domains, `run.rs` is the run loop,
//! `thread.rs` the simulator's CPU thread, `time.rs` virtual time,
//! `storage.rs` keeps flash and option bytes on disk, `fault.rs` is where
//! faults are injected.

mod arm;
mod bus;
mod chip;
mod family;
mod fault;
mod nvmem;
pub(crate) mod periph;
mod probe;
mod run;
mod soc;
mod st;
mod stats;
mod stm32f1;
mod stm32f3;
mod stm32g4;
mod stm32h7;
mod stm32l4;
mod storage;
mod sysmem;
mod thread;
mod time;

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

pub use arm::jtag::{JtagPort, JtagStats};
pub use arm::swd_pins::SwdPort;
pub use fault::Fault;
pub use probe::SimProbe;
pub use stats::{DapStats, ExecStats};

use chip::Chip;

/// Configuration of a virtual chip for [`Sim::new`].
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Which STM32F103 variant to model (flash size).
    pub chip: ChipModel,
    /// File holding the non-volatile state (flash and option bytes).
    /// `None`: a fresh, blank chip whose content is lost when the [`Sim`] is dropped.
    /// `Some(path)`: loaded if the file exists, created otherwise; saved when the
    /// flash controller is locked again after a change, on [`Sim::flush_storage`]
    /// and when the last handle is dropped.
    pub storage: Option<PathBuf>,
}

/// The chips the simulator models.
///
/// The STM32F103C8/CB are modelled completely (RM0008). The other families'
/// canonical chips are modelled at identity level: their DPIDR, CPUID, MVFR0,
/// DBGMCU_IDCODE, F_SIZE and memory sizes are those of the real part, so that a
/// debugger configured for another chip sees the difference. The STM32F303VC
/// has its own SoC (RM0316: RCC, the F1-style FPEC with 2 KiB pages,
/// OBL_LAUNCH and RDP levels 0/1/2, GPIO, USART1-3, IWDG, PWR, DBGMCU); the
/// G474 and L476 have the SoC of the stm32l4x family (flash controller, RCC,
/// PWR, IWDG, DBGMCU; GPIO as a placeholder); the H743 its own (RM0433: RCC,
/// PWR, DBGMCU with its three APs, GPIO, USART3, IWDG1, the flash
/// controller). See `docs/sim.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChipModel {
    /// STM32F103C8: 64 KiB flash, 20 KiB SRAM.
    Stm32f103c8,
    /// STM32F103CB: 128 KiB flash, 20 KiB SRAM.
    Stm32f103cb,
    /// STM32F303VC: Cortex-M4F, 256 KiB flash, 40 KiB SRAM + 8 KiB CCM SRAM; its
    /// own SoC model (RM0316: RCC, FLASH, GPIO, USART1-3, IWDG, PWR, DBGMCU).
    Stm32f303vc,
    /// STM32G474RE: Cortex-M4F, 512 KiB flash, 96 KiB SRAM + 32 KiB CCM SRAM.
    Stm32g474re,
    /// STM32L476RG: Cortex-M4F, 1 MiB flash, 96 KiB SRAM1 + 32 KiB SRAM2.
    Stm32l476rg,
    /// STM32H743ZI: Cortex-M7 (DP FPU), 2 MiB flash (two banks), 128 KiB DTCM + 512 KiB AXI SRAM
    /// and SRAM1–4; its own SoC model (RM0433: RCC, PWR, DBGMCU, GPIO, USART3, IWDG1,
    /// FLASH).
    Stm32h743zi,
}

impl ChipModel {
    /// Every modelled chip, the fully modelled ones first.
    pub const ALL: [ChipModel; 6] = [
        ChipModel::Stm32f103c8,
        ChipModel::Stm32f103cb,
        ChipModel::Stm32f303vc,
        ChipModel::Stm32g474re,
        ChipModel::Stm32l476rg,
        ChipModel::Stm32h743zi,
    ];

    /// Name as printed in ST's documentation, e.g. `"STM32F103C8"`.
    pub fn name(&self) -> &'static str {
        match self {
            ChipModel::Stm32f103c8 => "STM32F103C8",
            ChipModel::Stm32f103cb => "STM32F103CB",
            ChipModel::Stm32f303vc => "STM32F303VC",
            ChipModel::Stm32g474re => "STM32G474RE",
            ChipModel::Stm32l476rg => "STM32L476RG",
            ChipModel::Stm32h743zi => "STM32H743ZI",
        }
    }

    /// Parses a chip name, case-insensitive. Accepts the bare part number
    /// (`"STM32F103C8"`, `"stm32f303vc"`) and names with a package/temperature
    /// suffix starting with `T` or `Y` (`"STM32F103C8Tx"`, `"STM32F103CBT6"`,
    /// `"STM32F303VCYx"`).
    pub fn from_name(name: &str) -> Option<ChipModel> {
        let up = name.trim().to_ascii_uppercase();
        for model in ChipModel::ALL {
            if let Some(rest) = up.strip_prefix(model.name())
                && (rest.is_empty() || rest.starts_with('T') || rest.starts_with('Y'))
            {
                return Some(model);
            }
        }
        None
    }

    /// The target name in probe-rs's built-in registry (the part number, e.g. `"STM32F303VC"`).
    pub fn probe_rs_target_name(&self) -> &'static str {
        self.name()
    }

    pub(crate) fn identity(&self) -> &'static family::Identity {
        match self {
            ChipModel::Stm32f103c8 => &family::STM32F103C8,
            ChipModel::Stm32f103cb => &family::STM32F103CB,
            ChipModel::Stm32f303vc => &family::STM32F303VC,
            ChipModel::Stm32g474re => &family::STM32G474RE,
            ChipModel::Stm32l476rg => &family::STM32L476RG,
            ChipModel::Stm32h743zi => &family::STM32H743ZI,
        }
    }

    /// Main flash size in bytes, at 0x0800_0000 (F_SIZE × 1024; e.g. 65 536 for
    /// the STM32F103C8, 262 144 for the STM32F303VC).
    pub fn flash_size(&self) -> usize {
        self.identity().flash_size
    }

    /// Size in bytes of the SRAM at 0x2000_0000 (20 KiB on the F103, RM0008
    /// §3.3.1; 40 KiB on the F303VC; DTCM on the H743).
    pub fn ram_size(&self) -> usize {
        self.identity().rams[0].1
    }

    /// A second RAM region, `(base address, size in bytes)`: CCM SRAM (F303, G474),
    /// SRAM2 (L476) or AXI SRAM (H743); `None` on the F103.
    pub fn second_ram(&self) -> Option<(u32, usize)> {
        self.identity().rams.get(1).copied()
    }

    /// Every RAM region of the part, `(base address, size in bytes)`, the
    /// main SRAM (or DTCM) at 0x2000_0000 first.
    pub fn rams(&self) -> &'static [(u32, usize)] {
        self.identity().rams
    }

    /// The USARTs whose output the model produces (names as `sim uart` takes
    /// them, e.g. `"usart1"`): USART1-3 on the F1 (RM0008 §27), the
    /// STM32F303 (RM0316 §29), the STM32L476 (RM0351 §40) and the STM32G474
    /// (RM0440 §37); USART3 on the STM32H743 (RM0433 §48: the
    /// Nucleo-H743ZI's virtual COM port).
    pub fn usarts(&self) -> &'static [&'static str] {
        let newer = matches!(
            self,
            ChipModel::Stm32f303vc | ChipModel::Stm32l476rg | ChipModel::Stm32g474re
        );
        if self.identity().f1_soc || newer {
            &["usart1", "usart2", "usart3"]
        } else {
            &["usart3"]
        }
    }

    /// The DP's DPIDR as read over SWD (ADIv5 §B2.2.5): 0x1BA0_1477 (F1),
    /// 0x2BA0_1477 (F3/G4/L4), 0x6BA0_2477 (H7, DPv2).
    pub fn dpidr(&self) -> u32 {
        self.identity().dpidr
    }

    /// The SCB CPUID register (ARMv7-M §B3.2.3): 0x411F_C231 (Cortex-M3 r1p1),
    /// 0x410F_C241 (Cortex-M4 r0p1), 0x411F_C271 (Cortex-M7 r1p1).
    pub fn cpuid(&self) -> u32 {
        self.identity().cpuid
    }

    /// DBGMCU_IDCODE (REV_ID << 16 | DEV_ID), e.g. 0x2003_6410 (F103 medium
    /// density rev X), 0x1003_6422 (F303xB/C rev Y).
    pub fn dbgmcu_idcode(&self) -> u32 {
        self.identity().idcode
    }

    /// Address of DBGMCU_IDCODE on the system bus: 0xE004_2000, or 0x5C00_1000 on the H7.
    pub fn dbgmcu_idcode_address(&self) -> u32 {
        self.identity().dbgmcu_addr
    }

    /// True when the core has an FPU (MVFR0 ≠ 0): the M4F and M7 parts.
    pub fn has_fpu(&self) -> bool {
        self.identity().mvfr[0] != 0
    }

    /// True for the chips whose peripherals and flash controller are modelled
    /// completely (the STM32F103C8/CB); false for identity-level models.
    pub fn fully_modelled(&self) -> bool {
        matches!(self, ChipModel::Stm32f103c8 | ChipModel::Stm32f103cb)
    }
}

/// Errors of the simulator itself (not of the simulated target).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Could not read or write the simulator's storage file {path}: {source}. Check that the directory exists and is writable, or run without storage.
    #[error(
        "could not read or write the simulator's storage file {path}: {source}. Check that the directory exists and is writable, or run without storage"
    )]
    StorageIo {
        /// The storage file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The simulator's storage file {path} is not a valid stdbg flash image ({reason}). It was probably written by another program or truncated; delete it or choose another path (the chip then starts blank).
    #[error(
        "the simulator's storage file {path} is not a valid stdbg flash image ({reason}). It was probably written by another program or truncated; delete it or choose another path (the chip then starts blank)"
    )]
    StorageCorrupt {
        /// The storage file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The simulator's storage file {path} holds the flash of a {found}, not of a {expected}. Use the chip the file was made for, or another file.
    #[error(
        "the simulator's storage file {path} holds the flash of a {found}, not of a {expected}. Use the chip the file was made for, or another file"
    )]
    StorageWrongChip {
        /// The storage file.
        path: PathBuf,
        /// Chip recorded in the file.
        found: String,
        /// Chip of this simulator.
        expected: &'static str,
    },
    /// Could not start the simulator's CPU thread: {0}. The system is probably out of threads or memory.
    #[error(
        "could not start the simulator's CPU thread: {0}. The system is probably out of threads or memory"
    )]
    Thread(#[source] std::io::Error),
}

/// Receives what a USART of the virtual chip transmitted: the instance name
/// (`"usart1"`) and the bytes, in order. Called on the simulator's CPU thread.
pub type SerialSink = Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// State shared between the handles, the probes and the CPU thread.
pub(crate) struct Shared {
    pub(crate) m: Mutex<Inner>,
    pub(crate) cv: Condvar,
}

/// Protected by [`Shared::m`].
pub(crate) struct Inner {
    /// The chip; `None` while the CPU thread is executing instructions with it.
    pub(crate) chip: Option<Box<Chip>>,
    /// Core cycles granted by wire time and not yet executed.
    pub(crate) credit: u64,
    /// Set by the last handle's drop.
    pub(crate) shutdown: bool,
    /// Where USART output goes (`Sim::set_serial_sink`).
    pub(crate) serial_sink: Option<SerialSink>,
    /// Bumped by every probe request (the CPU thread uses it to detect idleness).
    pub(crate) activity_seq: u64,
    /// Wall time of the last probe request.
    pub(crate) last_activity: Instant,
    /// A host thread waits for the chip: the CPU thread should hand it back soon.
    pub(crate) waiters: u32,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the chip without advancing simulated time (back-door access).
    pub(crate) fn with_chip<R>(&self, f: impl FnOnce(&mut Chip) -> R) -> R {
        let mut g = self.lock();
        g.waiters += 1;
        while g.chip.is_none() {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g.waiters -= 1;
        let r = f(g.chip.as_mut().expect("chip present"));
        drop(g);
        self.cv.notify_all();
        r
    }

    /// Records a probe request (for the CPU thread's idle detection), registers a
    /// waiter and waits until the CPU thread hands the chip back.
    fn probe_request(&self) -> MutexGuard<'_, Inner> {
        let mut g = self.lock();
        g.activity_seq = g.activity_seq.wrapping_add(1);
        g.last_activity = Instant::now();
        g.waiters += 1;
        while g.chip.is_none() {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g
    }

    /// Grants the CPU thread `cycles` core cycles and waits until it has executed
    /// them (or the core stopped) and handed the chip back.
    fn execute<'a>(&'a self, mut g: MutexGuard<'a, Inner>, cycles: u64) -> MutexGuard<'a, Inner> {
        g.credit = g.credit.saturating_add(cycles);
        self.cv.notify_all();
        loop {
            match &g.chip {
                Some(c) if g.credit == 0 || !c.core_active() => break,
                _ => {}
            }
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g
    }

    /// Runs `f` on the chip after the core has run for `wire_transactions`
    /// transactions' worth of wire time (see `docs/sim.md`, "Time").
    /// At most one cross-thread round trip, whatever `wire_transactions` is.
    pub(crate) fn with_chip_after_wire<R>(
        &self,
        wire_transactions: u64,
        swclk_khz: u32,
        f: impl FnOnce(&mut Chip) -> R,
    ) -> R {
        let mut g = self.probe_request();
        let chip = g.chip.as_mut().expect("chip present");
        let ps = Chip::wire_ps(wire_transactions, swclk_khz) + chip::REQUEST_LATENCY_PS;
        if !chip.core_active() {
            // The core does not execute: the wire time only reaches the timers.
            chip.advance_idle(ps);
        }
        let chip = g.chip.as_ref().expect("chip present");
        if chip.core_active() {
            let cycles = (ps as u128 * chip.hclk_hz() as u128 / time::PS_PER_S as u128) as u64;
            g = self.execute(g, cycles.max(1));
        }
        g.credit = 0;
        g.waiters -= 1;
        let r = f(g.chip.as_mut().expect("chip present"));
        drop(g);
        self.cv.notify_all();
        r
    }
}

impl Shared {
    /// `ps` of virtual time pass: a running core executes them on the CPU
    /// thread (one round trip), otherwise only the timers see them.
    pub(crate) fn run_virtual(&self, ps: u64) {
        let mut g = self.probe_request();
        let chip = g.chip.as_mut().expect("chip present");
        if chip.core_active() {
            let cycles =
                ((ps as u128 * chip.hclk_hz() as u128 / time::PS_PER_S as u128) as u64).max(1);
            g = self.execute(g, cycles);
            g.credit = 0;
        } else {
            chip.advance_idle(ps);
        }
        g.waiters -= 1;
        drop(g);
        self.cv.notify_all();
    }
}

/// Owns the CPU thread; dropping it (with the last [`Sim`]/[`SimProbe`]) stops the
/// thread and flushes the storage.
struct Handle {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    chip: ChipModel,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.cv.notify_all();
        let t = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = t {
            let _ = t.join();
        }
        let mut g = self.shared.lock();
        if let Some(Err(e)) = g.chip.as_mut().map(|chip| chip.save_storage(false)) {
            tracing::warn!("virtual STM32: {e}");
        }
    }
}

/// A handle to one virtual chip. Cheap to clone, `Send + Sync`.
///
/// The chip lives as long as any `Sim` or [`SimProbe`] of it exists; dropping
/// the last one stops its CPU thread and saves the storage file.
#[derive(Clone)]
pub struct Sim {
    h: Arc<Handle>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sim({})", self.h.chip.name())
    }
}

impl Sim {
    /// Creates a virtual chip: powered, NRST released, core out of reset (locked
    /// up if the flash is blank, ARMv7-M ARM §B1.5.15), SWJ-DP in its power-on
    /// JTAG state (a probe must send the JTAG-to-SWD sequence, ADIv5 §B5.2).
    ///
    /// Errors: the storage file cannot be read or is not a valid image for this chip.
    pub fn new(cfg: SimConfig) -> Result<Sim, SimError> {
        let chip = Chip::new(cfg.chip, cfg.storage.clone())?;
        let shared = Arc::new(Shared {
            m: Mutex::new(Inner {
                chip: Some(Box::new(chip)),
                credit: 0,
                shutdown: false,
                serial_sink: None,
                activity_seq: 0,
                last_activity: Instant::now(),
                waiters: 0,
            }),
            cv: Condvar::new(),
        });
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sim-{}", cfg.chip.name()))
            .spawn(move || thread::cpu_thread(s2))
            .map_err(SimError::Thread)?;
        Ok(Sim {
            h: Arc::new(Handle {
                shared,
                thread: Mutex::new(Some(thread)),
                chip: cfg.chip,
            }),
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.h.shared
    }

    /// A new probe connected to this chip's SWD port (a CMSIS-DAP-like probe,
    /// speed 1000 kHz). Use it with `probe_rs::probe::Probe::from_specific_probe`.
    pub fn probe(&self) -> SimProbe {
        SimProbe::new(self.clone())
    }

    /// The chip's JTAG pins (TAPs in Test-Logic-Reset), for a bit-level JTAG adapter such as
    /// the remote_bitbang server.
    pub fn jtag_port(&self) -> JtagPort {
        JtagPort::new(self.clone())
    }

    /// The chip's SWD pins (SWCLK, SWDIO) for a pin-level client: remote_bitbang's SWD
    /// extension (see [`SwdPort`]).
    pub fn swd_port(&self) -> SwdPort {
        SwdPort::new(self.clone())
    }

    /// The modelled chip.
    pub fn chip(&self) -> ChipModel {
        self.h.chip
    }

    /// SWD transaction counters since creation or the last [`Sim::reset_stats`].
    pub fn stats(&self) -> DapStats {
        self.h.shared.with_chip(|c| c.stats)
    }

    /// Sets all counters of [`Sim::stats`] to zero.
    pub fn reset_stats(&self) {
        self.h.shared.with_chip(|c| c.stats = DapStats::default())
    }

    /// Writes flash and option bytes to the storage file now (no-op without storage).
    pub fn flush_storage(&self) -> Result<(), SimError> {
        self.h.shared.with_chip(|c| c.save_storage(true))
    }

    /// Activates a fault (see [`Fault`] for where each one acts).
    /// [`Fault::NoPower`] switches the chip off (the core stops).
    pub fn inject(&self, fault: Fault) {
        self.h.shared.with_chip(|c| c.inject_fault(fault));
        self.h.shared.cv.notify_all();
    }

    /// Removes all injected faults. A chip that was unpowered ([`Fault::NoPower`])
    /// gets its supply back: a power-on reset (SRAM cleared, SW-DP back in JTAG
    /// mode, debug logic reset, read-out protection's debug mode cleared).
    pub fn clear_faults(&self) {
        self.h.shared.with_chip(|c| c.clear_faults());
        self.h.shared.cv.notify_all();
    }

    /// Switches the supply off and on again: a power-on reset (as after
    /// [`Fault::NoPower`] and [`Sim::clear_faults`], but other faults stay).
    /// Flash and option bytes are kept; this is the only reset that leaves
    /// read-out protection's "debug mode" (PM0075 §2.4.1).
    pub fn power_cycle(&self) {
        self.h.shared.with_chip(|c| c.power_on_reset());
        self.h.shared.cv.notify_all();
    }

    /// The target supply voltage a probe measures on its VTref pin, volts:
    /// 3.3, or 0.0 with [`Fault::NoPower`].
    pub fn target_voltage(&self) -> f32 {
        self.h
            .shared
            .with_chip(|c| if c.faults.no_power() { 0.0 } else { 3.3 })
    }

    /// Lets `duration` of virtual time pass without any probe traffic, as if
    /// the board ran on its own for that long: a running core executes the
    /// instructions that fit (at its HCLK), timers (IWDG) count. Deterministic,
    /// unlike waiting in wall time. Durations are rounded to whole microseconds.
    pub fn run_for(&self, duration: std::time::Duration) {
        const STEP_PS: u64 = 100_000_000; // 100 µs
        let mut left = duration.as_micros() as u64 * 1_000_000;
        while left > 0 {
            let step = left.min(STEP_PS);
            left -= step;
            self.h.shared.run_virtual(step);
        }
    }

    /// Virtual time since this chip was created (see `docs/sim.md`, "Time").
    pub fn virtual_time(&self) -> std::time::Duration {
        let ps = self.h.shared.with_chip(|c| c.now());
        std::time::Duration::from_nanos(ps / 1000)
    }

    /// What the core has executed, and virtual against wall-clock time, since
    /// creation or the last [`Sim::reset_exec_stats`].
    pub fn exec_stats(&self) -> ExecStats {
        self.h.shared.with_chip(|c| c.exec_stats())
    }

    /// Starts [`Sim::exec_stats`] again from zero.
    pub fn reset_exec_stats(&self) {
        self.h.shared.with_chip(|c| c.reset_exec_stats())
    }

    /// Sends everything the chip's USARTs transmit from now on to `sink`
    /// (called on the simulator's thread, in order; keep it short). Output
    /// sent before a sink was set is delivered to it first (at most 64 KiB
    /// per USART). `None` stops the delivery; output is then kept for
    /// [`Sim::take_serial`].
    pub fn set_serial_sink(&self, sink: Option<SerialSink>) {
        let pending = {
            let mut g = self.h.shared.lock();
            g.serial_sink = sink.clone();
            g.chip.as_mut().map(|c| c.take_serial()).unwrap_or_default()
        };
        if let Some(sink) = sink {
            for (name, bytes) in &pending {
                sink(name, bytes);
            }
        } else if !pending.is_empty() {
            self.h.shared.with_chip(|c| c.keep_serial(pending));
        }
    }

    /// What the USARTs transmitted and nobody took yet (without a sink):
    /// `(instance, bytes)`, e.g. `("usart1", b"hello\r\n")`.
    pub fn take_serial(&self) -> Vec<(&'static str, Vec<u8>)> {
        self.h.shared.with_chip(|c| c.take_serial())
    }

    /// Bytes from the host for the receiver of USART `name` (`"usart1"` …),
    /// delivered one frame time apart at its baud rate. Returns false if the
    /// chip has no USART of that name.
    pub fn push_serial(&self, name: &str, bytes: &[u8]) -> bool {
        let r = self.h.shared.with_chip(|c| c.push_serial(name, bytes));
        self.h.shared.cv.notify_all();
        r
    }

    /// The active faults, in injection order.
    pub fn faults(&self) -> Vec<Fault> {
        self.h.shared.with_chip(|c| c.faults.list())
    }

    /// The output data register GPIOx_ODR (RM0008 §9.2.4) of port `'A'`..=`'E'`
    /// (case-insensitive); 0 for other letters.
    pub fn gpio_odr(&self, port: char) -> u32 {
        let idx = (port.to_ascii_uppercase() as u32).wrapping_sub('A' as u32) as usize;
        self.h.shared.with_chip(|c| c.port.lock().soc.gpio_odr(idx))
    }

    /// Back door for tests: `len` bytes of non-volatile memory from `addr`
    /// without any DAP traffic. Covers main flash (at 0x0800_0000 or its alias
    /// at 0) and the option bytes (0x1FFF_F800..0x1FFF_F810); bytes at other
    /// addresses are returned as 0.
    pub fn read_nonvolatile(&self, addr: u32, len: usize) -> Vec<u8> {
        self.h.shared.with_chip(|c| {
            (0..len)
                .map(|i| {
                    c.port
                        .lock()
                        .nonvolatile_byte(addr.wrapping_add(i as u32))
                        .unwrap_or(0)
                })
                .collect()
        })
    }
}
