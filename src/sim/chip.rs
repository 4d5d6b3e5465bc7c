//! One chip: the Arm part (core, debug logic, DP/AP) and the bus with the
//! family's SoC, plus the reset and power logic that ties them together.
//!
//! Reset domains (RM0008 §7.1, ARMv7-M ARM §B1.5.5/§C1.4):
//! * power-on reset ([`Chip::new`], [`Chip::power_on_reset`]): everything;
//! * system reset (NRST pin, AIRCR.SYSRESETREQ, watchdogs,
//!   [`Chip::system_reset`]): core, NVIC/SCB/SysTick and peripherals; option
//!   bytes are reloaded; the debug logic (DHCSR debug bits, DEMCR, FPB, DWT,
//!   ITM, DBGMCU_CR) and the DP/AP keep their state;
//! * local reset (AIRCR.VECTRESET from the debugger, [`Chip::local_reset`]):
//!   the reset sequence of the core only;
//! * wake-up from Standby without the SoC keeping the debug logic powered
//!   (F1: DBGMCU_CR.DBG_STANDBY): a system reset that also resets the debug logic.
//!
//! Virtual time (`time.rs`) advances with every core cycle, with every SWD
//! transaction's wire time while the core does not execute, and with wall
//! time while the probe is idle (see `docs/sim.md`, "Time").

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::arm::ap::AhbAp;
use super::arm::core::{Core, CoreConfig, Cpu};
use super::arm::debug::{DFSR_HALTED, DFSR_VCATCH, DebugRegs, demcr};
use super::arm::dp::SwDp;
use super::arm::fpb::Fpb;
use super::arm::itm::Itm;
use super::bus::{Bus, BusPort};
use super::family::Identity;
use super::fault::{Fault, FaultSet};
use super::nvmem::NvMem;
use super::run::RunLoop;
use super::soc::{PowerMode, ResetCause, Soc, SocCtx};
use super::stats::{DapStats, ExecStats};
use super::time::{PS_PER_S, Ps};
use super::{ChipModel, SimError};

/// Time one probe request takes besides its SWD transactions: a CMSIS-DAP v2
/// probe on USB High-Speed answers one command per 125 µs microframe (the USB
/// round trip dominates single register accesses, as on a real bench).
pub(crate) const REQUEST_LATENCY_PS: u64 = 125_000_000;

/// SWCLK cycles of one SWD transaction: 8 request + 1 turnaround + 3 ACK +
/// 1 turnaround + 33 data/parity, plus a few idle cycles (ADIv5 §B4.2).
pub(crate) const SWCLK_PER_TRANSACTION: u64 = 50;

/// What the core is doing (ARMv7-M ARM §C1.6.2, DHCSR status bits). Sleep
/// (S_SLEEP) is `Running` with [`Chip::asleep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunState {
    /// Executing instructions (or asleep in WFI/WFE).
    Running,
    /// In Debug state (S_HALT).
    Halted,
    /// Lockup (S_LOCKUP): an unrecoverable fault; only halt or reset leave it.
    LockedUp,
    /// Held in reset by NRST.
    InReset,
    /// No supply voltage: nothing runs, nothing answers.
    Unpowered,
}

pub(crate) struct Chip {
    pub model: ChipModel,
    /// Identity and memory layout of `model`.
    pub ident: &'static Identity,
    /// The processor (its NVIC, SCB and SysTick included).
    pub core: Core,
    /// The system bus: memories and the SoC, shared with the processor.
    pub port: Arc<BusPort>,
    pub dp: SwDp,
    /// The access ports, by AP number (`Identity::aps`).
    pub aps: Vec<AhbAp>,
    pub dbg: DebugRegs,
    pub fpb: Fpb,
    pub itm: Itm,
    /// Cortex-M7 CSSELR (cache size selection).
    pub csselr: u32,
    /// Active faults (authoritative; the bus has a copy).
    pub faults: FaultSet,
    pub stats: DapStats,
    pub exec: ExecStats,
    /// Wall-clock start of `exec`.
    pub exec_since: Instant,
    /// Virtual time at the start of `exec`.
    pub exec_since_ps: Ps,
    pub run: RunState,
    /// In WFI/WFE sleep (DHCSR.S_SLEEP), as last seen by the run loop.
    pub asleep: bool,
    /// C_STEP was set at resume: halt after one instruction.
    pub step_pending: bool,
    /// NRST is held low.
    pub nrst_low: bool,
    /// A debugger has powered up the debug domain (DP CTRL/STAT.CDBGPWRUPREQ)
    /// since power-on: the flash is in "debug mode" for read-out protection
    /// (PM0075 §2.4.1); only a power-on reset clears it.
    pub debug_latched: bool,
    /// State of the run loop (`run.rs`).
    pub rl: RunLoop,
    /// What the USARTs sent that nobody has taken yet: (instance, bytes).
    pub serial_out: Vec<(&'static str, Vec<u8>)>,
}

/// The SoC model of `model`.
fn make_soc(model: ChipModel, nv: &NvMem) -> Box<dyn Soc> {
    let ident = model.identity();
    if ident.f1_soc {
        Box::new(super::stm32f1::F1Soc::power_on(ident, nv))
    } else if model == ChipModel::Stm32l476rg {
        Box::new(super::stm32l4::power_on(ident, nv))
    } else if model == ChipModel::Stm32g474re {
        Box::new(super::stm32g4::power_on(ident, nv))
    } else if model == ChipModel::Stm32f303vc {
        Box::new(super::stm32f3::F3Soc::power_on(ident, nv))
    } else {
        Box::new(super::stm32h7::H7Soc::power_on(ident, nv))
    }
}

/// The factory option bytes of `model`'s family.
pub(crate) fn factory_option_bytes(model: ChipModel) -> [u8; 16] {
    if model.identity().f1_soc {
        super::stm32f1::fpec::FACTORY_OPTION_BYTES
    } else if model == ChipModel::Stm32f303vc {
        super::stm32f1::fpec::FACTORY_OPTION_BYTES_F3
    } else {
        [0xFF; 16]
    }
}

/// The factory non-volatile content of `model`: erased flash, factory
/// option bytes, and on G4/L4 factory option words and an erased OTP.
fn factory_nv(model: ChipModel) -> NvMem {
    use super::stm32l4::options::Variant;
    match model {
        ChipModel::Stm32l476rg => super::stm32l4::factory_nv(Variant::L476, model.flash_size()),
        ChipModel::Stm32g474re => super::stm32l4::factory_nv(Variant::G474, model.flash_size()),
        ChipModel::Stm32h743zi => super::stm32h7::options::factory_nv(model.flash_size()),
        _ => NvMem::blank(model.flash_size(), factory_option_bytes(model)),
    }
}

impl Chip {
    /// Power-on reset.
    pub(crate) fn new(model: ChipModel, storage: Option<PathBuf>) -> Result<Chip, SimError> {
        let blank = || factory_nv(model);
        let nv = match &storage {
            Some(p) => super::storage::load(p, model)?
                .map(|mut nv| {
                    nv.fill_missing(&blank());
                    nv
                })
                .unwrap_or_else(blank),
            None => blank(),
        };
        Ok(Chip::power_on(model, nv, storage))
    }

    /// A chip right after power-on with the given non-volatile content.
    fn power_on(model: ChipModel, nv: NvMem, storage: Option<PathBuf>) -> Chip {
        let ident = model.identity();
        let soc = make_soc(model, &nv);
        let port = Arc::new(BusPort::new(Bus::new(model, nv, storage, soc)));
        let itm = Itm::power_on(port.lock().soc.swo_sink());
        let core = Core::new(
            CoreConfig {
                kind: ident.core,
                cpuid: ident.cpuid,
                mvfr: ident.mvfr,
                syst_calib: ident.syst_calib,
                reset_vtor: ident.boot_vtor,
                mpu: ident.core != super::arm::core::CoreKind::CortexM3,
            },
            port.clone(),
        );
        let mut chip = Chip {
            model,
            ident,
            core,
            port,
            dp: SwDp::power_on(),
            aps: super::arm::ap::aps_for(ident),
            dbg: DebugRegs::power_on(),
            fpb: Fpb::power_on(ident.core),
            itm,
            csselr: 0,
            faults: FaultSet::default(),
            stats: DapStats::default(),
            exec: ExecStats::default(),
            exec_since: Instant::now(),
            exec_since_ps: 0,
            run: RunState::Running,
            asleep: false,
            step_pending: false,
            nrst_low: false,
            debug_latched: false,
            rl: RunLoop::default(),
            serial_out: Vec::new(),
        };
        chip.after_reset(false);
        chip
    }

    /// Core cycles executed (or slept) since the chip was created.
    #[inline]
    pub(crate) fn cycles(&self) -> u64 {
        self.port.cycles()
    }

    /// Virtual time now.
    pub(crate) fn now(&self) -> Ps {
        let c = self.cycles();
        self.port.lock().now(c)
    }

    /// A context for a SoC call made by the chip itself.
    fn with_soc<R>(&mut self, f: impl FnOnce(&mut dyn Soc, &mut SocCtx) -> R) -> R {
        let cycles = self.cycles();
        let mut b = self.port.lock();
        let now = b.now(cycles);
        let bus = &mut *b;
        let mut cx = SocCtx {
            now,
            nv: &mut bus.nv,
            faults: &bus.faults,
            origin: super::soc::Origin::Debug,
            debug_latched: bus.debug_latched,
            debugen: bus.debugen,
            core_halted: bus.core_halted,
        };
        f(bus.soc.as_mut(), &mut cx)
    }

    /// The supply goes away ([`Fault::NoPower`]): the core stops, the DP is dead.
    fn power_off(&mut self) {
        self.run = RunState::Unpowered;
        self.asleep = false;
    }

    /// Power comes back: a power-on reset of everything but the flash, the
    /// option bytes and the simulator's own bookkeeping (faults, counters,
    /// time). SRAM content is lost (reads 0).
    pub(crate) fn power_on_reset(&mut self) {
        let (nv, storage, time, cycles) = {
            let mut b = self.port.lock();
            (
                std::mem::replace(&mut b.nv, NvMem::blank(0, [0xFF; 16])),
                b.storage.take(),
                b.time,
                self.port.cycles(),
            )
        };
        let mut fresh = Chip::power_on(self.model, nv, storage);
        fresh.faults = std::mem::take(&mut self.faults);
        fresh.stats = self.stats;
        fresh.exec = self.exec;
        fresh.exec_since = self.exec_since;
        fresh.exec_since_ps = self.exec_since_ps;
        fresh.nrst_low = self.nrst_low;
        fresh.serial_out = std::mem::take(&mut self.serial_out);
        {
            // Time goes on: keep the clock's position.
            let mut b = fresh.port.lock();
            b.time = time;
            b.time.pass(cycles, 0);
            let hz = b.soc.hclk_hz();
            b.time.set_hz(cycles, hz);
            b.faults = fresh.faults.clone();
        }
        fresh
            .port
            .cycles
            .store(cycles, std::sync::atomic::Ordering::Relaxed);
        if fresh.nrst_low {
            fresh.run = RunState::InReset;
        }
        *self = fresh;
    }

    /// Whether the target has supply voltage.
    pub(crate) fn powered(&self) -> bool {
        self.run != RunState::Unpowered
    }

    /// Activates a fault; [`Fault::NoPower`] switches the chip off.
    pub(crate) fn inject_fault(&mut self, fault: Fault) {
        let off = fault == Fault::NoPower;
        self.faults.inject(fault);
        self.port.lock().faults = self.faults.clone();
        if off && self.powered() {
            self.power_off();
        }
    }

    /// Removes all faults; an unpowered chip gets its supply back (power-on reset).
    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
        self.port.lock().faults = self.faults.clone();
        if !self.powered() {
            self.power_on_reset();
        }
    }

    /// The SW-DP cannot answer: no supply, or the SoC silenced it (F1:
    /// AFIO_MAPR.SWJ_CFG = 0b100, RM0008 §9.4.2; Stop or Standby without the
    /// DBGMCU_CR bit, RM0008 §31.16.3).
    pub(crate) fn dp_silent(&self) -> bool {
        !self.powered() || self.faults.no_power() || self.port.lock().soc.debug_port_silent()
    }

    /// CTRL/STAT.CDBGPWRUPREQ was set: read-out protection's debug mode.
    pub(crate) fn latch_debug_mode(&mut self) {
        self.debug_latched = true;
        let mut b = self.port.lock();
        b.debug_latched = true;
        b.refresh_flash_ok();
    }

    /// HCLK, Hz.
    pub(crate) fn hclk_hz(&self) -> u64 {
        self.port.lock().time.hz()
    }

    /// Time passes while the core does not execute (halted, in reset, locked
    /// up, unpowered): only the SoC's timers see it.
    pub(crate) fn advance_idle(&mut self, ps: Ps) {
        let c = self.cycles();
        self.port.lock().time.pass(c, ps);
        self.sync_soc();
    }

    /// Wire time of `n` SWD transactions at `swclk_khz`, picoseconds.
    pub(crate) fn wire_ps(n: u64, swclk_khz: u32) -> u64 {
        n * SWCLK_PER_TRANSACTION * (PS_PER_S / 1000) / swclk_khz.max(1) as u64
    }

    /// The core consumes simulated time (running or asleep).
    pub(crate) fn core_active(&self) -> bool {
        self.run == RunState::Running
    }

    /// Brings the SoC up to now; a reset it asks for (watchdog) happens.
    pub(crate) fn sync_soc(&mut self) {
        if !self.powered() {
            return;
        }
        let c = self.cycles();
        let reset = {
            let mut b = self.port.lock();
            b.sync(c);
            b.pending_reset.take()
        };
        if let Some(cause) = reset {
            tracing::debug!("virtual STM32: reset by {cause:?}");
            self.system_reset(cause);
        }
    }

    /// Virtual time of the next SoC event while the core does not execute.
    pub(crate) fn timer_deadline_ps(&self) -> Option<Ps> {
        if !self.powered() {
            return None;
        }
        let c = self.cycles();
        let b = self.port.lock();
        b.soc.next_event(b.now(c), b.core_halted)
    }

    /// System reset (RM0008 §7.1.2): core + peripherals, not the debug logic.
    /// Leaving Standby this way also resets the debug logic unless the SoC
    /// kept it powered.
    pub(crate) fn system_reset(&mut self, cause: ResetCause) {
        if !self.powered() {
            return;
        }
        let (from_standby, kept) = {
            let b = self.port.lock();
            (
                b.soc.power_mode() == PowerMode::Standby,
                b.soc.debug_kept_in_low_power(),
            )
        };
        self.with_soc(|soc, cx| soc.system_reset(cause, cx));
        {
            let mut b = self.port.lock();
            let c = self.port.cycles();
            let hz = b.soc.hclk_hz();
            b.time.set_hz(c, hz);
            b.dwt.pending_trap = false;
            b.pending_reset = None;
            b.refresh_flash_ok();
        }
        if from_standby && !kept {
            self.debug_logic_reset();
        }
        self.after_reset(true);
    }

    /// The debug power domain was off: DP (back to JTAG), AP, DHCSR/DEMCR/DFSR,
    /// FPB, DWT and ITM return to their power-on state.
    fn debug_logic_reset(&mut self) {
        self.dp = SwDp::power_on();
        self.aps = self.aps_power_on();
        self.dbg = DebugRegs::power_on();
        self.fpb = Fpb::power_on(self.ident.core);
        self.itm = Itm::power_on(self.port.lock().soc.swo_sink());
        let mut b = self.port.lock();
        b.dwt = super::arm::dwt::Dwt::after_power_on();
        b.debugen = false;
    }

    /// Local reset of the core (AIRCR.VECTRESET): the reset sequence only.
    pub(crate) fn local_reset(&mut self) {
        if !self.powered() {
            return;
        }
        self.core.local_reset();
        self.dbg.core_reset();
        self.settle_after_reset();
    }

    /// Resets the processor (power-on state of its SCS) and runs its reset
    /// sequence, then decides how the core leaves reset.
    fn after_reset(&mut self, _system: bool) {
        self.core_reset_sequence_state();
    }

    fn core_reset_sequence_state(&mut self) {
        if !self.powered() {
            return;
        }
        // A halt request (C_DEBUGEN + C_HALT) written while NRST held the core
        // in reset is taken as the core leaves reset, before the first
        // instruction (the debug logic is not reset by NRST): OpenOCD's
        // connect_assert_srst + reset halt.
        let c = self.dbg.dhcsr_c;
        let halt_request = self.run == RunState::InReset
            && !self.nrst_low
            && c & super::arm::debug::C_DEBUGEN != 0
            && c & super::arm::debug::C_HALT != 0;
        self.core.system_reset();
        self.rl = RunLoop::default();
        self.dbg.core_reset();
        self.apply_irq_levels_from_scratch();
        if halt_request {
            self.dbg.dhcsr_c |= super::arm::debug::C_HALT;
        }
        self.settle_after_reset_with(halt_request);
    }

    fn settle_after_reset(&mut self) {
        self.settle_after_reset_with(false);
    }

    fn settle_after_reset_with(&mut self, halt_request: bool) {
        self.asleep = false;
        self.step_pending = false;
        if self.nrst_low {
            self.run = RunState::InReset;
            self.set_core_halted(false);
            return;
        }
        if self.dbg.debugen() && self.dbg.demcr & demcr::VC_CORERESET != 0 {
            self.run = RunState::Halted;
            self.set_core_halted(true);
            self.dbg.enter_halt(DFSR_VCATCH);
        } else if halt_request {
            self.run = RunState::Halted;
            self.set_core_halted(true);
            self.dbg.enter_halt(DFSR_HALTED);
        } else {
            self.run = RunState::Running;
            self.set_core_halted(false);
            let pc = self.core.pc();
            if pc == 0xFFFF_FFFE {
                tracing::info!(
                    "virtual STM32: the reset vector reads 0xffffffff (flash is blank): the core locks up until a debugger halts it, as on silicon"
                );
            }
        }
    }

    /// Tells the SoC whether the core is in Debug state (DBGMCU freezes).
    fn set_core_halted(&mut self, halted: bool) {
        let c = self.cycles();
        let changed = {
            let mut b = self.port.lock();
            if b.core_halted != halted {
                b.sync(c);
                b.core_halted = halted;
                true
            } else {
                false
            }
        };
        if changed {
            self.with_soc(|soc, cx| soc.set_core_halted(halted, cx));
        }
    }

    /// NRST pin level driven by the probe. While NRST is low the whole chip
    /// except the debug logic is held in reset (RM0008 §7.1.2). Releasing it
    /// runs the reset sequence.
    pub(crate) fn set_nrst(&mut self, low: bool) {
        if low == self.nrst_low {
            return;
        }
        self.nrst_low = low;
        if !self.powered() {
            return;
        }
        self.sync_soc();
        if low {
            self.run = RunState::InReset;
        }
        self.system_reset(ResetCause::Pin);
        if low {
            self.dbg.s_reset_st = true;
        }
    }

    /// Saves flash and option bytes if a storage file is configured and they
    /// changed (or always, with `force`).
    pub(crate) fn save_storage(&mut self, force: bool) -> Result<(), SimError> {
        self.port.lock().save_storage(force)
    }

    /// The processor model failed (it panicked) while executing: the core is
    /// put in lockup, which a halt or a reset leaves, and the log names the
    /// place.
    pub(crate) fn emulator_failed(&mut self) {
        let pc = self.core.pc();
        tracing::error!(
            "virtual STM32: the CPU emulator failed near pc 0x{pc:08x} (a bug in the simulator, not in the firmware; please report it with the firmware); the core is locked up: 'reset halt' starts it again"
        );
        self.run = RunState::LockedUp;
        self.asleep = false;
        self.exec.emulator_failures += 1;
    }

    /// The halt entry used by every debug event (ARMv7-M ARM §C1.5).
    pub(crate) fn halt(&mut self, dfsr_bits: u32) {
        self.sync_soc();
        let lp = self.port.lock().soc.power_mode() != PowerMode::Run;
        if lp {
            let fx = self.with_soc(|soc, cx| soc.leave_low_power(cx));
            let c = self.cycles();
            self.port.lock().apply(c, fx);
        }
        self.core.leave_sleep_and_lockup();
        self.asleep = false;
        self.run = RunState::Halted;
        self.step_pending = false;
        self.dbg.enter_halt(dfsr_bits);
        self.set_core_halted(true);
    }

    /// Leaves Debug state: the core runs again (on the CPU thread).
    pub(crate) fn resume(&mut self) {
        self.run = RunState::Running;
        self.dbg.s_regrdy = false;
        self.rl.mode_dirty = true;
        self.set_core_halted(false);
    }

    /// Sets every external interrupt line from the SoC's levels.
    fn apply_irq_levels_from_scratch(&mut self) {
        self.rl.irq_applied = [0; 8];
        let mut levels = [0u32; 8];
        self.port.lock().soc.irq_levels(&mut levels);
        self.apply_irq_levels(levels, true);
    }

    /// Drives the core's interrupt inputs to `levels`.
    pub(crate) fn apply_irq_levels(&mut self, levels: [u32; 8], all: bool) {
        for (w, (&new, old)) in levels
            .iter()
            .zip(self.rl.irq_applied.iter_mut())
            .enumerate()
        {
            let mut diff = if all { u32::MAX } else { new ^ *old };
            while diff != 0 {
                let b = diff.trailing_zeros();
                diff &= diff - 1;
                self.core
                    .set_irq((w * 32 + b as usize) as u16, new & (1 << b) != 0);
            }
            *old = new;
        }
    }

    /// The USART output not yet taken.
    pub(crate) fn take_serial(&mut self) -> Vec<(&'static str, Vec<u8>)> {
        let mut out = std::mem::take(&mut self.serial_out);
        self.port.lock().soc.take_serial_output(&mut out);
        out
    }

    /// Keeps USART output nobody took (at most 64 KiB per instance, the
    /// oldest bytes dropped first).
    pub(crate) fn keep_serial(&mut self, out: Vec<(&'static str, Vec<u8>)>) {
        const KEEP: usize = 64 * 1024;
        for (name, bytes) in out {
            match self.serial_out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, b)) => b.extend_from_slice(&bytes),
                None => self.serial_out.push((name, bytes)),
            }
        }
        for (_, b) in &mut self.serial_out {
            if b.len() > KEEP {
                b.drain(..b.len() - KEEP);
            }
        }
    }

    /// Bytes from the host for USART `name`; false if the chip has none of that name.
    pub(crate) fn push_serial(&mut self, name: &str, bytes: &[u8]) -> bool {
        self.sync_soc();
        let ok = self.with_soc(|soc, cx| soc.push_serial_input(name, bytes, cx));
        self.rl.mode_dirty = true;
        ok
    }

    /// A snapshot of what the core has done.
    pub(crate) fn exec_stats(&self) -> ExecStats {
        let mut s = self.exec;
        s.wall_s = self.exec_since.elapsed().as_secs_f64();
        s.virtual_s = self.now().saturating_sub(self.exec_since_ps) as f64 / PS_PER_S as f64;
        s
    }

    /// Starts the statistics of [`Chip::exec_stats`] again.
    pub(crate) fn reset_exec_stats(&mut self) {
        self.exec = ExecStats::default();
        self.exec_since = Instant::now();
        self.exec_since_ps = self.now();
    }
}
