//! The seam between the Arm part of the model (core, debug, DP/AP, memories:
//! family-free) and a family's SoC part (memory-mapped peripherals, flash
//! controller, clocks, power modes, reset sources: one folder per family,
//! e.g. `stm32f1/`).
//!
//! The system bus (`bus.rs`) decodes the memories itself and hands every
//! other address of the SoC's windows to [`Soc`]: the peripheral region
//! 0x4000_0000–0x5FFF_FFFF, the vendor part of the PPB (0xE004_2000–
//! 0xE00F_EFFF, where ST puts DBGMCU), the option-byte area, and writes into
//! main flash (which only the flash controller can perform).

use super::fault::FaultSet;
use super::nvmem::NvMem;
use super::time::Ps;

/// Who makes an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The core, a data access.
    Cpu,
    /// The core, an instruction fetch.
    Fetch,
    /// The debugger through the AHB-AP.
    Debug,
}

/// The access fails on the bus (a slave error): the AHB-AP sets STICKYERR,
/// the core takes a BusFault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BusError;

/// Why the last system reset happened (RCC_CSR flags, RM0008 §7.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResetCause {
    PowerOn,
    Pin,
    Software,
    /// The independent watchdog reached 0 (RCC_CSR.IWDGRSTF).
    IndependentWatchdog,
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

/// What a SoC access needs besides its own state.
pub(crate) struct SocCtx<'a> {
    /// Virtual time of the access.
    pub now: Ps,
    pub nv: &'a mut NvMem,
    pub faults: &'a FaultSet,
    pub origin: Origin,
    /// A debugger has powered up the debug domain since power-on (read-out
    /// protection's "debug mode", PM0075 §2.4.1).
    pub debug_latched: bool,
    /// DHCSR.C_DEBUGEN.
    pub debugen: bool,
    /// The core is in Debug state (timers with a DBGMCU freeze bit stop).
    pub core_halted: bool,
}

/// What happened during a SoC access or at a SoC event that the chip must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SocEffects {
    /// The non-volatile memories changed and the flash controller was locked
    /// again: save the storage file now.
    pub persist: bool,
    /// A reset source fired (watchdog).
    pub reset: Option<ResetCause>,
    /// The core clock (HCLK) changed.
    pub clock_changed: bool,
}

impl SocEffects {
    pub(crate) fn merge(&mut self, o: SocEffects) {
        self.persist |= o.persist;
        self.reset = self.reset.or(o.reset);
        self.clock_changed |= o.clock_changed;
    }
}

/// One family's SoC model. Addresses are absolute; sizes 1, 2 or 4 bytes,
/// naturally aligned (the bus refuses the rest for peripherals).
pub(crate) trait Soc: Send {
    /// Read in the SoC's windows.
    fn read(&mut self, addr: u32, size: u32, cx: &mut SocCtx) -> Result<u32, BusError>;
    /// Write in the SoC's windows (the low `size` bytes of `v`).
    fn write(
        &mut self,
        addr: u32,
        size: u32,
        v: u32,
        cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError>;
    /// A write into main flash at byte offset `off`: only the flash
    /// controller can perform it (programming), else a bus error.
    fn flash_write(
        &mut self,
        off: u32,
        size: u32,
        v: u32,
        cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError>;
    /// Whether main flash can be read now (read-out protection, PM0075 §2.4.1).
    fn flash_readable(&self, debug_latched: bool) -> bool;
    /// Brings time-driven state up to `cx.now`.
    fn sync(&mut self, cx: &mut SocCtx) -> SocEffects;
    /// The earliest virtual time after `now` at which the SoC's state changes
    /// by itself (a timer flag, a byte shifted out, a watchdog reset).
    fn next_event(&self, now: Ps, core_halted: bool) -> Option<Ps>;
    /// Levels of the external interrupt lines (bit n of word n/32 = IRQn).
    fn irq_levels(&self, out: &mut [u32; 8]);
    /// The core clock HCLK, Hz.
    fn hclk_hz(&self) -> u64;
    /// System reset of the SoC (RM0008 §7.1.2): peripherals to their reset
    /// state, option bytes reloaded, reset flags updated.
    fn system_reset(&mut self, cause: ResetCause, cx: &mut SocCtx);
    /// The debug port cannot answer because of the SoC (pins given to GPIO,
    /// or a low-power mode that stops the debug clocks).
    fn debug_port_silent(&self) -> bool;
    /// WFI/WFE with SCB_SCR.SLEEPDEEP: the SoC's deep-sleep mode starts.
    fn enter_deep_sleep(&mut self, cx: &mut SocCtx) -> PowerMode;
    /// The current power mode.
    fn power_mode(&self) -> PowerMode;
    /// Whether the debug logic keeps its power in the current low-power mode
    /// (DBGMCU_CR.DBG_STANDBY on the F1): if not, leaving it resets the debug logic.
    fn debug_kept_in_low_power(&self) -> bool;
    /// A debugger halt ends Stop (the clock falls back to HSI, RM0008 §5.3.5).
    fn leave_low_power(&mut self, cx: &mut SocCtx) -> SocEffects;
    /// The core enters (`true`) or leaves Debug state: DBGMCU freezes apply.
    fn set_core_halted(&mut self, _halted: bool, _cx: &mut SocCtx) {}
    /// Drains what the USARTs transmitted since the last call: (instance name,
    /// bytes), e.g. `("usart1", b"hello\r\n")`.
    fn take_serial_output(&mut self, _out: &mut Vec<(&'static str, Vec<u8>)>) {}
    /// Bytes from the host for a USART's receiver; false if there is no such USART.
    fn push_serial_input(&mut self, _name: &str, _bytes: &[u8], _cx: &mut SocCtx) -> bool {
        false
    }
    /// The TPIU drives the SWO pin (TRACESWO): on the F1 only with
    /// DBGMCU_CR.TRACE_IOEN (RM0008 §31.16.3, §31.17.2); true where the
    /// family model does not gate it.
    fn trace_pin_enabled(&self) -> bool {
        true
    }
    /// The ITM's trace sink when it is the SoC's own component rather than
    /// the core's TPIU at 0xE004_0000 (the STM32H7's SWO on APB-D, RM0433
    /// §60.4): where its registers are and what it identifies as.
    fn swo_sink(&self) -> Option<&'static super::arm::tpiu::Site> {
        None
    }
    /// GPIOx_ODR of port `'A'`.., 0 if absent.
    fn gpio_odr(&self, _port: usize) -> u32 {
        0
    }
}
