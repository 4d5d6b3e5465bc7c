//! The processor: rsemu's ARMv7-M / ARMv7E-M interpreter (pinned `=0.0.7`)
//! behind one thin trait, [`Cpu`], so that the rest of the simulator never
//! names the crate (docs/sim.md, "Choosing the CPU").
//!
//! rsemu executes Thumb-2, the DSP extension, FPv4-SP/FPv5-SP with lazy
//! stacking, and the whole exception model: NVIC, SCB, SysTick and MPU at
//! 0xE000_E000 are its own (`Sys`), and the CPU's accesses to the internal
//! PPB (0xE000_0000–0xE004_1FFF) never reach the system bus. The debugger
//! reaches the same `Sys` through [`Cpu::scs_read`]/[`Cpu::scs_write`], so
//! firmware and debugger see one register (ARMv7-M ARM §B3.2).
//!
//! What rsemu does not have, and the wrapper adds (see `run.rs`): halting
//! debug (DHCSR, C_STEP, C_MASKINTS, FPB/DWT comparators, vector catch,
//! BKPT halting), the SysTick reference clock (STM32: HCLK/8), the Cortex-M7's
//! double-precision instructions (`vfp64.rs`), and a way to leave sleep or
//! lockup when a debugger halts the core ([`Cpu::leave_sleep_and_lockup`]).

use std::sync::Arc;

use rsemu::core::space::{AddressSpace, MemOps, Region};
use rsemu::cpu::arm::v7m::sys::Sys;
use rsemu::cpu::arm::v7m::{ArmV7m, Config, Regs};

/// The cores of the modelled chips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoreKind {
    /// Cortex-M3 (ARMv7-M, no DSP, no FPU): STM32F1. No MPU on the F1.
    CortexM3,
    /// Cortex-M4F (ARMv7E-M, FPv4-SP-D16): STM32F3, G4, L4.
    CortexM4F,
    /// Cortex-M7 (ARMv7E-M, FPv5-D16 double precision): STM32H7. The double
    /// precision instructions are executed by the wrapper (`vfp64.rs`).
    CortexM7,
}

/// How a chip's core is configured (from the family identity).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CoreConfig {
    pub kind: CoreKind,
    /// CPUID as read from 0xE000_ED00 (Cortex-M3/M4/M7 TRMs).
    pub cpuid: u32,
    /// MVFR0..2 (0 without FPU).
    pub mvfr: [u32; 3],
    /// SYST_CALIB (RM0008: 9000 = 1 ms at HCLK/8 = 9 MHz).
    pub syst_calib: u32,
    /// Where the reset sequence reads SP and PC (boot address): 0 on the F1.
    pub reset_vtor: u32,
    /// The MPU is implemented (not on the STM32F1).
    pub mpu: bool,
}

/// Priority bits the STM32 NVIC implements (RM0008 §10.1.1, PM0056 §4.3).
const PRIORITY_BITS: u8 = 4;

/// The operations the simulator needs from a processor model. One
/// implementation ([`Core`]); the trait is the seam to replace it.
pub(crate) trait Cpu: Send + Sync {
    /// Executes one reset sequence, one exception entry, one instruction or
    /// one cycle of sleep/lockup; returns the core cycles it took.
    fn step(&self) -> u64;
    /// Program counter.
    fn pc(&self) -> u32;
    /// Core register R`n` (0..16).
    fn reg(&self, n: u8) -> u32;
    /// The whole register file.
    fn regs(&self) -> Regs;
    /// Replaces the whole register file.
    fn set_regs(&self, regs: &Regs);
    /// FP register S`n` (0..32); 0 without an FPU.
    fn s(&self, n: u8) -> u32;
    /// Writes S`n`.
    fn set_s(&self, n: u8, v: u32);
    /// FPSCR.
    fn fpscr(&self) -> u32;
    /// Writes FPSCR.
    fn set_fpscr(&self, v: u32);
    /// In WFI/WFE sleep.
    fn asleep(&self) -> bool;
    /// Locked up (ARMv7-M ARM §B1.5.15).
    fn locked_up(&self) -> bool;
    /// Debug state was entered: the sleep or lockup the core was in ends
    /// (ARMv7-M ARM §C1.4, §B1.5.15); registers and NVIC state are kept.
    fn leave_sleep_and_lockup(&self);
    /// Power-on/system reset of the processor and its SCS (NVIC, SCB,
    /// SysTick, MPU, FPU registers), then the reset sequence (SP and PC from
    /// the vector table).
    fn system_reset(&self);
    /// Local reset (AIRCR.VECTRESET): the reset sequence only.
    fn local_reset(&self);
    /// Word read of an SCS register (0xE000_E000..0xE000_EFFF) as the
    /// debugger sees it (no read side effects). `None`: not an SCS register.
    fn scs_read(&self, addr: u32) -> Option<u32>;
    /// Word write of an SCS register; false if not an SCS register.
    fn scs_write(&self, addr: u32, v: u32) -> bool;
    /// Runs `f` on the NVIC/SCB/SysTick state.
    fn with_sys<R>(&self, f: impl FnOnce(&mut Sys) -> R) -> R;
    /// Drives external interrupt line `irq` (level-sensitive).
    fn set_irq(&self, irq: u16, level: bool);
    /// Takes a pending AIRCR.SYSRESETREQ written by the firmware.
    fn take_reset_request(&self) -> bool;
}

/// rsemu's ARMv7(E)-M core on the chip's bus.
pub(crate) struct Core {
    cpu: ArmV7m,
    /// The configuration it was made with.
    pub(crate) cfg: CoreConfig,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Core({:?})", self.cfg.kind)
    }
}

impl Core {
    /// A core in its power-on state (the reset sequence runs at the first
    /// step) on a bus that answers every address through `bus`.
    pub(crate) fn new(cfg: CoreConfig, bus: Arc<dyn MemOps>) -> Core {
        let mut c = match cfg.kind {
            CoreKind::CortexM3 => Config::CORTEX_M3,
            CoreKind::CortexM4F => Config::CORTEX_M4F,
            CoreKind::CortexM7 => Config::CORTEX_M7F,
        };
        c.cpuid = cfg.cpuid;
        c.ext.mpu = cfg.mpu;
        c = c
            .with_priority_bits(PRIORITY_BITS)
            .with_reset_vtor(cfg.reset_vtor);
        let space = AddressSpace::new("stm32", 32);
        space
            .topology()
            .map(Region::io("system bus", 1 << 32, bus), 0)
            .expect("one region on an empty 32-bit space");
        let cpu = ArmV7m::new(c);
        cpu.attach_space(Arc::new(space));
        let core = Core { cpu, cfg };
        core.apply_identity();
        core
    }

    /// The values rsemu's generic part does not know: SYST_CALIB, the
    /// double-precision MVFRs of the Cortex-M7, and CCR.STKALIGN = 0 at reset
    /// on the Cortex-M3 r1p1 (Cortex-M3 r1p1 TRM §4.3.6: 4-byte stack
    /// alignment on exception entry unless software sets it).
    fn apply_identity(&self) {
        let (calib, mvfr, fp) = (self.cfg.syst_calib, self.cfg.mvfr, self.has_fpu());
        let m3 = self.cfg.kind == CoreKind::CortexM3;
        self.cpu.with_sys(|s| {
            s.syst_calib = calib;
            if fp {
                s.mvfr = mvfr;
            }
            if m3 {
                s.ccr &= !rsemu::cpu::arm::v7m::sys::ccr::STKALIGN;
            }
        });
    }

    /// The core has an FPU (MVFR0 ≠ 0).
    pub(crate) fn has_fpu(&self) -> bool {
        self.cfg.kind != CoreKind::CortexM3
    }
}

impl Cpu for Core {
    #[inline]
    fn step(&self) -> u64 {
        self.cpu.step()
    }
    #[inline]
    fn pc(&self) -> u32 {
        self.cpu.pc()
    }
    #[inline]
    fn reg(&self, n: u8) -> u32 {
        self.cpu.reg(n & 15)
    }
    fn regs(&self) -> Regs {
        self.cpu.regs()
    }
    fn set_regs(&self, regs: &Regs) {
        self.cpu.set_regs(*regs)
    }
    fn s(&self, n: u8) -> u32 {
        if self.has_fpu() { self.cpu.s(n) } else { 0 }
    }
    fn set_s(&self, n: u8, v: u32) {
        if self.has_fpu() {
            self.cpu.set_s(n, v)
        }
    }
    fn fpscr(&self) -> u32 {
        if self.has_fpu() { self.cpu.fpscr() } else { 0 }
    }
    fn set_fpscr(&self, v: u32) {
        if self.has_fpu() {
            self.cpu.set_fpscr(v)
        }
    }
    fn asleep(&self) -> bool {
        self.cpu.is_asleep()
    }
    fn locked_up(&self) -> bool {
        self.cpu.is_locked_up()
    }
    fn leave_sleep_and_lockup(&self) {
        if !self.cpu.is_asleep() && !self.cpu.is_locked_up() {
            return;
        }
        // rsemu has no setter for these two flags; only its reset sequence
        // clears them. Run it and put back everything it changed: the
        // register file and the SCS (the FP registers, the exclusive monitor
        // and the event register are not touched by it).
        let regs = self.cpu.regs();
        let sys = self.cpu.with_sys(|s| s.clone());
        self.cpu.request_reset();
        self.cpu.step();
        self.cpu.with_sys(|s| *s = sys);
        self.cpu.set_regs(regs);
    }
    fn system_reset(&self) {
        use rsemu::core::device::{Device, ResetKind};
        Device::reset(&self.cpu, ResetKind::Cold);
        self.apply_identity();
        self.cpu.step(); // the reset sequence
    }
    fn local_reset(&self) {
        self.cpu.request_reset();
        self.cpu.step();
    }
    fn scs_read(&self, addr: u32) -> Option<u32> {
        self.cpu.with_sys(|s| s.read_word(addr, true))
    }
    fn scs_write(&self, addr: u32, v: u32) -> bool {
        self.cpu.with_sys(|s| s.write_word(addr, v))
    }
    fn with_sys<R>(&self, f: impl FnOnce(&mut Sys) -> R) -> R {
        self.cpu.with_sys(f)
    }
    #[inline]
    fn set_irq(&self, irq: u16, level: bool) {
        self.cpu.set_irq(irq, level)
    }
    fn take_reset_request(&self) -> bool {
        if self.cpu.reset_requested() {
            self.cpu.clear_reset_request();
            true
        } else {
            false
        }
    }
}

/// Exception numbers used by the wrapper (ARMv7-M ARM §B1.5.2).
pub(crate) mod exc {
    pub(crate) const HARD_FAULT: u32 = 3;
    pub(crate) const MEM_MANAGE: u32 = 4;
    pub(crate) const BUS_FAULT: u32 = 5;
    pub(crate) const USAGE_FAULT: u32 = 6;
    pub(crate) const PEND_SV: u16 = 14;
    pub(crate) const SYSTICK: u16 = 15;
}
