//! One STM32F103: all state that is shared between the probe side and the CPU
//! thread (everything except armagnac's `Processor`, which is `!Send`), plus the
//! reset logic.
//!
//! Reset domains (RM0008 §7.1, ARMv7-M ARM §B1.5.5/§C1.4):
//! * power-on reset ([`Chip::new`]): everything;
//! * system reset (NRST pin, AIRCR.SYSRESETREQ, [`Chip::system_reset`]): core,
//!   NVIC/SCB and peripherals; option bytes are reloaded into FLASH_OBR/WRPR;
//!   the debug logic (DHCSR debug bits, DEMCR, FPB, DWT, ITM, DBGMCU_CR) and the
//!   DP/AP (debug power domain) keep their state;
//! * local (core) reset (AIRCR.VECTRESET, [`Chip::core_reset`]): the core only;
//! * wake-up from Standby without DBGMCU_CR.DBG_STANDBY: a system reset that
//!   also resets the debug logic (its 1.8 V domain was off, RM0008 §5.3.6).
//!
//! Low-power modes (RM0008 §5.3): WFI/WFE with SCR.SLEEPDEEP enters Stop
//! (PWR_CR.PDDS = 0) or Standby (PDDS = 1); [`Chip::dp_silent`] says when the
//! SW-DP cannot answer (Stop/Standby without the DBGMCU_CR bit, AFIO_MAPR
//! SWJ_CFG = 0b100, no power).
//!
//! Virtual time (`time_ps`, picoseconds since the `Sim` was created) advances
//! with every core cycle (1/HCLK), with every SWD transaction's wire time while
//! the core is not executing, and with wall time while the probe is idle; the
//! IWDG counts in it (see `docs/sim.md`, "Time").

use std::path::PathBuf;

use armagnac::registers::{CoreRegisters, Mode};

use super::ap::AhbAp;
use super::dp::SwDp;
use super::dwt::Dwt;
use super::family::Identity;
use super::fault::{Fault, FaultSet};
use super::fpb::Fpb;
use super::itm::Itm;
use super::scs::Scs;
use super::stats::DapStats;
use super::stm32f1::afio::Afio;
use super::stm32f1::dbgmcu::Dbgmcu;
use super::stm32f1::fpec::{Fpec, NvMem};
use super::stm32f1::gpio::Gpio;
use super::stm32f1::iwdg::Iwdg;
use super::stm32f1::pwr::Pwr;
use super::stm32f1::rcc::{Rcc, ResetCause};
use super::stm32f1::sysmem;
use super::{ChipModel, SimError};

/// SWCLK cycles of one SWD transaction: 8 request + 1 turnaround + 3 ACK +
/// 1 turnaround + 33 data/parity, plus a few idle cycles (ADIv5 §B4.2).
pub(crate) const SWCLK_PER_TRANSACTION: u64 = 50;

/// What the core is doing (ARMv7-M ARM §C1.6.2, DHCSR status bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunState {
    /// Executing instructions.
    Running,
    /// In Debug state (S_HALT).
    Halted,
    /// WFI/WFE (S_SLEEP); `wake_at` = core cycle count of the next SysTick wake-up.
    Sleeping { wake_at: Option<u64> },
    /// Lockup (S_LOCKUP): an unrecoverable fault; only halt or reset leave it.
    LockedUp,
    /// Held in reset by NRST.
    InReset,
    /// No supply voltage: nothing runs, nothing answers.
    Unpowered,
}

/// Power mode of the chip (RM0008 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PowerMode {
    /// Run or Sleep (SLEEPDEEP = 0): all clocks available to the debugger.
    Run,
    /// Stop: 1.8 V domain clocks off (HCLK/FCLK), regulator on; SRAM kept.
    Stop,
    /// Standby: 1.8 V domain off; leaving it is a reset.
    Standby,
}

/// DBGMCU_CR bits (RM0008 §31.16.3).
pub(crate) const DBG_STOP: u32 = 1 << 1;
pub(crate) const DBG_STANDBY: u32 = 1 << 2;
pub(crate) const DBG_IWDG_STOP: u32 = 1 << 8;
/// Picoseconds per second.
pub(crate) const PS_PER_S: u64 = 1_000_000_000_000;

/// The core's architectural registers while they live outside armagnac.
#[derive(Debug, Clone)]
pub(crate) struct CoreState {
    pub regs: CoreRegisters,
    /// BASEPRI (armagnac has none).
    pub basepri: u8,
    pub run: RunState,
    /// C_STEP was set at resume: halt after one instruction.
    pub step_pending: bool,
    /// Bumped by every core reset: the CPU thread re-creates its `Processor`.
    pub epoch: u64,
    /// The debugger wrote SCS registers the CPU side keeps its own copy of
    /// (VTOR, SysTick): push them into armagnac at the next resume.
    pub scb_dirty: bool,
}

pub(crate) struct Chip {
    pub model: ChipModel,
    /// Identity and memory layout of `model`.
    pub ident: &'static Identity,
    /// Second RAM region (CCM SRAM / SRAM2 / AXI SRAM), empty if none.
    pub ram2: Vec<u8>,
    pub nv: NvMem,
    pub storage: Option<PathBuf>,
    pub sram: Vec<u8>,
    pub sysmem: Vec<u8>,
    pub dp: SwDp,
    pub ap: AhbAp,
    pub scs: Scs,
    pub core: CoreState,
    pub fpb: Fpb,
    pub dwt: Dwt,
    pub itm: Itm,
    pub fpec: Fpec,
    pub rcc: Rcc,
    pub gpio: [Gpio; 5],
    pub afio: Afio,
    pub dbgmcu: Dbgmcu,
    pub pwr: Pwr,
    pub iwdg: Iwdg,
    pub faults: FaultSet,
    pub stats: DapStats,
    /// NRST is held low.
    pub nrst_low: bool,
    /// Core clock cycles executed (or slept) since the `Sim` was created.
    pub cycles: u64,
    /// Virtual time since the `Sim` was created, picoseconds.
    pub time_ps: u64,
    /// Duration of one HCLK cycle, picoseconds (from the RCC configuration).
    pub cycle_ps: u64,
    /// Run, Stop or Standby.
    pub power: PowerMode,
    /// A debugger has powered up the debug domain (DP CTRL/STAT.CDBGPWRUPREQ)
    /// since power-on: the flash is in "debug mode" for read-out protection
    /// (PM0075 §2.4.1); only a power-on reset clears it.
    pub debug_latched: bool,
}

impl Chip {
    /// Power-on reset.
    pub(crate) fn new(model: ChipModel, storage: Option<PathBuf>) -> Result<Chip, SimError> {
        let nv = match &storage {
            Some(p) => {
                super::storage::load(p, model)?.unwrap_or_else(|| NvMem::blank(model.flash_size()))
            }
            None => NvMem::blank(model.flash_size()),
        };
        Ok(Chip::power_on(model, nv, storage))
    }

    /// A chip right after power-on with the given non-volatile content.
    fn power_on(model: ChipModel, nv: NvMem, storage: Option<PathBuf>) -> Chip {
        let ident = model.identity();
        let fpec = Fpec::after_reset(&nv, ident);
        let hw_wdg = fpec.obr & (1 << 2) == 0;
        let mut chip = Chip {
            model,
            ident,
            ram2: vec![0; ident.ram2.map(|r| r.1).unwrap_or(0)],
            sram: vec![0; model.ram_size()],
            sysmem: sysmem::image(ident),
            dp: SwDp::power_on(),
            ap: AhbAp::power_on(),
            scs: Scs::power_on(),
            core: CoreState {
                regs: CoreRegisters::new(),
                basepri: 0,
                run: RunState::Running,
                step_pending: false,
                epoch: 0,
                scb_dirty: false,
            },
            fpb: Fpb::default(),
            dwt: Dwt::after_power_on(),
            itm: Itm::default(),
            fpec,
            rcc: Rcc::after_reset(0, ResetCause::PowerOn),
            gpio: std::array::from_fn(|_| Gpio::after_reset()),
            afio: Afio::default(),
            dbgmcu: Dbgmcu::default(),
            pwr: Pwr::default(),
            iwdg: Iwdg::after_reset(hw_wdg, 0),
            faults: FaultSet::default(),
            stats: DapStats::default(),
            nrst_low: false,
            cycles: 0,
            time_ps: 0,
            cycle_ps: 0,
            power: PowerMode::Run,
            debug_latched: false,
            nv,
            storage,
        };
        chip.update_clock();
        chip.core_reset();
        chip
    }

    /// The supply goes away ([`Fault::NoPower`]): the core stops, the DP is dead.
    fn power_off(&mut self) {
        self.core.run = RunState::Unpowered;
        self.core.epoch += 1;
    }

    /// Power comes back: a power-on reset of everything but the flash, the
    /// option bytes and the simulator's own bookkeeping (faults, counters, time).
    /// SRAM content is lost (reads 0).
    pub(crate) fn power_on_reset(&mut self) {
        let nv = std::mem::replace(&mut self.nv, NvMem::blank(0));
        let mut fresh = Chip::power_on(self.model, nv, self.storage.take());
        fresh.faults = std::mem::take(&mut self.faults);
        fresh.stats = self.stats;
        fresh.cycles = self.cycles;
        fresh.time_ps = self.time_ps;
        fresh.iwdg.last_ps = self.time_ps;
        fresh.core.epoch = self.core.epoch + 1;
        fresh.nrst_low = self.nrst_low;
        if fresh.nrst_low {
            fresh.core.run = RunState::InReset;
        }
        *self = fresh;
    }

    /// Whether the target has supply voltage.
    pub(crate) fn powered(&self) -> bool {
        self.core.run != RunState::Unpowered
    }

    /// Activates a fault; [`Fault::NoPower`] switches the chip off.
    pub(crate) fn inject_fault(&mut self, fault: Fault) {
        let off = fault == Fault::NoPower;
        self.faults.inject(fault);
        if off && self.powered() {
            self.power_off();
        }
    }

    /// Removes all faults; an unpowered chip gets its supply back (power-on reset).
    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
        if !self.powered() {
            self.power_on_reset();
        }
    }

    /// The SW-DP cannot answer: no supply; the firmware gave the SWD pins to
    /// GPIO (AFIO_MAPR.SWJ_CFG = 0b100, RM0008 §9.4.2); or the chip is in Stop
    /// or Standby without DBGMCU_CR.DBG_STOP/DBG_STANDBY (RM0008 §31.16.3:
    /// FCLK/HCLK are off, the debug connection is lost).
    pub(crate) fn dp_silent(&self) -> bool {
        if !self.powered() || self.faults.no_power() {
            return true;
        }
        if self.ident.afio_swj && self.afio.swj_cfg == 0b100 {
            return true;
        }
        match self.power {
            PowerMode::Run => false,
            PowerMode::Stop => self.dbgmcu.cr & DBG_STOP == 0,
            PowerMode::Standby => self.dbgmcu.cr & DBG_STANDBY == 0,
        }
    }

    /// Recomputes the HCLK period after an RCC change.
    pub(crate) fn update_clock(&mut self) {
        self.cycle_ps = (PS_PER_S / self.rcc.hclk_hz()).max(1);
    }

    /// `n` core cycles pass (executed or slept).
    #[inline]
    pub(crate) fn tick(&mut self, n: u64) {
        self.cycles += n;
        self.time_ps += n * self.cycle_ps;
    }

    /// Time passes while the core does not execute (halted, in reset, locked
    /// up, unpowered): only the timers see it.
    pub(crate) fn advance_idle(&mut self, ps: u64) {
        self.time_ps += ps;
        self.sync_timers();
    }

    /// Wire time of `n` SWD transactions at `swclk_khz`, picoseconds.
    pub(crate) fn wire_ps(n: u64, swclk_khz: u32) -> u64 {
        n * SWCLK_PER_TRANSACTION * (PS_PER_S / 1000) / swclk_khz.max(1) as u64
    }

    /// The IWDG is frozen: core halted and DBGMCU_CR.DBG_IWDG_STOP set (RM0008 §31.16.3).
    fn iwdg_frozen(&self) -> bool {
        self.core.run == RunState::Halted && self.dbgmcu.cr & DBG_IWDG_STOP != 0
    }

    /// Brings the timers up to `time_ps`; an expired IWDG resets the chip
    /// (RM0008 §19.3.2). Must be called before anything that changes whether
    /// the IWDG is frozen (halt, resume, DBGMCU_CR writes).
    pub(crate) fn sync_timers(&mut self) {
        if !self.powered() {
            self.iwdg.last_ps = self.time_ps;
            return;
        }
        let frozen = self.iwdg_frozen();
        if self.iwdg.advance(self.time_ps, frozen) {
            tracing::debug!("virtual STM32: independent watchdog reset");
            self.system_reset(ResetCause::IndependentWatchdog);
        }
    }

    /// Virtual time at which the IWDG will reset the chip if nothing changes.
    pub(crate) fn timer_deadline_ps(&self) -> Option<u64> {
        if !self.powered() || self.iwdg_frozen() {
            return None;
        }
        self.iwdg.remaining_ps().map(|r| self.iwdg.last_ps + r)
    }

    /// Core cycles until the next timer event (at least 1), if any.
    pub(crate) fn timer_cycles_left(&self) -> Option<u64> {
        self.timer_deadline_ps()
            .map(|d| (d.saturating_sub(self.time_ps) / self.cycle_ps).max(1))
    }

    /// Core cycles that pass during one SWD transaction at `swclk_khz`.
    pub(crate) fn wire_cycles(&self, swclk_khz: u32) -> u64 {
        let hclk = self.rcc.hclk_hz();
        (SWCLK_PER_TRANSACTION * hclk / (swclk_khz.max(1) as u64 * 1000)).max(1)
    }

    /// The core consumes simulated time (running or sleeping, including Stop/Standby).
    pub(crate) fn core_active(&self) -> bool {
        matches!(self.core.run, RunState::Running | RunState::Sleeping { .. })
    }

    /// System reset (RM0008 §7.1.2): core + peripherals, not the debug logic.
    /// PWR_CSR's SBF/WUF survive (cleared by power-on only, RM0008 §5.4.2).
    /// Leaving Standby this way also resets the debug logic unless
    /// DBGMCU_CR.DBG_STANDBY kept it powered, and sets PWR_CSR.SBF.
    pub(crate) fn system_reset(&mut self, cause: ResetCause) {
        if !self.powered() {
            return;
        }
        let from_standby = self.power == PowerMode::Standby;
        let debug_was_off = from_standby && self.dbgmcu.cr & DBG_STANDBY == 0;
        self.power = PowerMode::Run;
        let pwr_flags = self.pwr.csr & 3;
        self.fpec = Fpec::after_reset(&self.nv, self.ident);
        self.rcc = Rcc::after_reset(self.rcc.csr, cause);
        self.gpio = std::array::from_fn(|_| Gpio::after_reset());
        self.afio = Afio::default();
        self.pwr = Pwr::default();
        self.pwr.csr = pwr_flags | if from_standby { 2 } else { 0 };
        self.iwdg = Iwdg::after_reset(self.fpec.obr & (1 << 2) == 0, self.time_ps);
        self.scs.system_reset();
        if debug_was_off {
            self.debug_logic_reset();
        }
        self.update_clock();
        self.core_reset();
    }

    /// The debug power domain was off: DP (back to JTAG), AP, DHCSR/DEMCR/DFSR,
    /// FPB, DWT, ITM and DBGMCU_CR return to their power-on state.
    fn debug_logic_reset(&mut self) {
        self.dp = SwDp::power_on();
        self.ap = AhbAp::power_on();
        self.scs = Scs::power_on();
        self.fpb = Fpb::default();
        self.dwt = Dwt::after_power_on();
        self.itm = Itm::default();
        self.dbgmcu = Dbgmcu::default();
    }

    /// Leaves Stop or Standby because the debugger halted the core (possible
    /// only with DBG_STOP/DBG_STANDBY set). Leaving Stop selects HSI as the
    /// system clock (RM0008 §5.3.5).
    fn leave_low_power(&mut self) {
        if self.power == PowerMode::Run {
            return;
        }
        if self.power == PowerMode::Stop {
            self.rcc.exit_stop();
            self.update_clock();
        }
        self.power = PowerMode::Run;
    }

    /// Local reset of the core (ARMv7-M ARM §B1.5.5 TakeReset): registers,
    /// vector fetch of SP_main and the reset handler from the vector table at 0.
    pub(crate) fn core_reset(&mut self) {
        if !self.powered() {
            return;
        }
        // A halt request (C_DEBUGEN + C_HALT) written while NRST held the core
        // in reset is taken as the core leaves reset, before the first
        // instruction (the debug logic is not reset by NRST): OpenOCD's
        // connect_assert_srst + reset halt.
        let c = self.scs.dhcsr_c;
        let halt_request = self.core.run == RunState::InReset
            && !self.nrst_low
            && c & super::scs::C_DEBUGEN != 0
            && c & super::scs::C_HALT != 0;
        let mut regs = CoreRegisters::new();
        regs.mode = Mode::Thread;
        self.core.basepri = 0;
        self.core.epoch += 1;
        self.core.step_pending = false;
        self.core.scb_dirty = true;
        self.scs.core_reset();
        self.dwt.pending_trap = false;
        let sp = self.vector_read(0);
        let pc = self.vector_read(4);
        let mut ok = false;
        if let (Some(sp), Some(pc)) = (sp, pc) {
            regs.msp = sp & !3;
            regs.pc = pc & !1;
            regs.lr = 0xFFFF_FFFF;
            regs.psr.set_t(pc & 1 == 1);
            // A reset handler without the Thumb bit faults (INVSTATE) and a
            // handler where nothing can be fetched faults too; both escalate to
            // a lockup since HardFault cannot be taken either (blank flash).
            ok = pc & 1 == 1 && self.fetch16(pc & !1).is_some();
        }
        self.core.regs = regs;
        if !self.powered() {
            return;
        }
        if self.nrst_low {
            self.core.run = RunState::InReset;
            return;
        }
        if self.scs.debugen() && self.scs.demcr & super::scs::DEMCR_VC_CORERESET != 0 {
            self.core.run = RunState::Halted;
            self.scs.enter_halt(super::scs::DFSR_VCATCH);
        } else if halt_request {
            self.core.run = RunState::Halted;
            self.scs.enter_halt(super::scs::DFSR_HALTED);
        } else if ok {
            self.core.run = RunState::Running;
        } else {
            self.core.run = RunState::LockedUp;
        }
    }

    fn vector_read(&mut self, addr: u32) -> Option<u32> {
        self.bus_read(addr, 4, super::bus::Origin::Cpu).ok()
    }

    /// NRST pin level driven by the probe. While NRST is low the whole chip
    /// except the debug logic is held in reset (RM0008 §7.1.2): peripherals
    /// (AFIO_MAPR.SWJ_CFG = 0, so the SW-DP works again) and the core; Stop
    /// and Standby are left. Releasing it runs the reset sequence.
    pub(crate) fn set_nrst(&mut self, low: bool) {
        if low == self.nrst_low {
            return;
        }
        self.nrst_low = low;
        if !self.powered() {
            return;
        }
        self.sync_timers();
        self.system_reset(ResetCause::Pin);
        if low {
            self.scs.s_reset_st = true;
        }
    }

    /// Saves flash and option bytes if a storage file is configured and they
    /// changed (or always, with `force`).
    pub(crate) fn save_storage(&mut self, force: bool) -> Result<(), SimError> {
        if let Some(p) = self.storage.as_ref().filter(|_| self.nv.dirty || force) {
            super::storage::save(p, self.model, &self.nv)?;
            self.nv.dirty = false;
        }
        Ok(())
    }

    /// A byte of flash (main or alias) or option bytes, for the back door.
    pub(crate) fn nonvolatile_byte(&self, addr: u32) -> Option<u8> {
        let fs = self.nv.flash.len() as u32;
        if addr < fs {
            return Some(self.nv.flash[addr as usize]);
        }
        if (0x0800_0000..0x0800_0000 + fs).contains(&addr) {
            return Some(self.nv.flash[(addr - 0x0800_0000) as usize]);
        }
        if (0x1FFF_F800..0x1FFF_F810).contains(&addr) {
            return Some(self.nv.opt[(addr - 0x1FFF_F800) as usize]);
        }
        None
    }

    /// The halt entry used by every debug event (ARMv7-M ARM §C1.5).
    pub(crate) fn halt(&mut self, dfsr_bits: u32) {
        self.sync_timers();
        self.leave_low_power();
        self.core.run = RunState::Halted;
        self.core.step_pending = false;
        self.scs.enter_halt(dfsr_bits);
    }
}
