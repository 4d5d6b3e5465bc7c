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
//! * local (core) reset (AIRCR.VECTRESET, [`Chip::core_reset`]): the core only.

use std::path::PathBuf;

use armagnac::registers::{CoreRegisters, Mode};

use super::ap::AhbAp;
use super::dp::SwDp;
use super::dwt::Dwt;
use super::fault::FaultSet;
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
}

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
    /// Core clock cycles executed (or slept) since power-on.
    pub cycles: u64,
}

impl Chip {
    /// Power-on reset.
    pub(crate) fn new(model: ChipModel, storage: Option<PathBuf>) -> Result<Chip, SimError> {
        let nv = match &storage {
            Some(p) => super::storage::load(p, model)?.unwrap_or_else(|| NvMem::blank(model.flash_size())),
            None => NvMem::blank(model.flash_size()),
        };
        let fpec = Fpec::after_reset(&nv);
        let hw_wdg = fpec.obr & (1 << 2) == 0;
        let mut chip = Chip {
            model,
            sram: vec![0; model.ram_size()],
            sysmem: sysmem::image((model.flash_size() / 1024) as u16),
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
            iwdg: Iwdg::after_reset(hw_wdg),
            faults: FaultSet::default(),
            stats: DapStats::default(),
            nrst_low: false,
            cycles: 0,
            nv,
            storage,
        };
        chip.core_reset();
        Ok(chip)
    }

    /// Core cycles that pass during one SWD transaction at `swclk_khz`.
    pub(crate) fn wire_cycles(&self, swclk_khz: u32) -> u64 {
        let hclk = self.rcc.hclk_hz();
        (SWCLK_PER_TRANSACTION * hclk / (swclk_khz.max(1) as u64 * 1000)).max(1)
    }

    /// The core consumes simulated time (running or sleeping).
    pub(crate) fn core_active(&self) -> bool {
        matches!(self.core.run, RunState::Running | RunState::Sleeping { .. })
    }

    /// System reset (RM0008 §7.1.2): core + peripherals, not the debug logic.
    pub(crate) fn system_reset(&mut self, cause: ResetCause) {
        self.fpec = Fpec::after_reset(&self.nv);
        self.rcc = Rcc::after_reset(self.rcc.csr, cause);
        self.gpio = std::array::from_fn(|_| Gpio::after_reset());
        self.afio = Afio::default();
        self.pwr = Pwr::default();
        self.iwdg = Iwdg::after_reset(self.fpec.obr & (1 << 2) == 0);
        self.scs.system_reset();
        self.core_reset();
    }

    /// Local reset of the core (ARMv7-M ARM §B1.5.5 TakeReset): registers,
    /// vector fetch of SP_main and the reset handler from the vector table at 0.
    pub(crate) fn core_reset(&mut self) {
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
        if self.nrst_low {
            self.core.run = RunState::InReset;
            return;
        }
        if self.scs.debugen() && self.scs.demcr & super::scs::DEMCR_VC_CORERESET != 0 {
            self.core.run = RunState::Halted;
            self.scs.enter_halt(super::scs::DFSR_VCATCH);
        } else if ok {
            self.core.run = RunState::Running;
        } else {
            self.core.run = RunState::LockedUp;
        }
    }

    fn vector_read(&mut self, addr: u32) -> Option<u32> {
        self.bus_read(addr, 4, super::bus::Origin::Cpu).ok()
    }

    /// NRST pin level driven by the probe.
    pub(crate) fn set_nrst(&mut self, low: bool) {
        if low == self.nrst_low {
            return;
        }
        self.nrst_low = low;
        if low {
            self.core.run = RunState::InReset;
            self.scs.s_reset_st = true;
        } else {
            self.system_reset(ResetCause::Pin);
        }
    }

    /// Saves flash and option bytes if a storage file is configured and they changed.
    pub(crate) fn save_storage(&mut self) -> Result<(), SimError> {
        if let Some(p) = &self.storage {
            if self.nv.dirty {
                super::storage::save(p, self.model, &self.nv)?;
                self.nv.dirty = false;
            }
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
        self.core.run = RunState::Halted;
        self.core.step_pending = false;
        self.scs.enter_halt(dfsr_bits);
    }
}
