//! The STM32F1 SoC (RM0008 Rev 21, medium density): the peripherals behind
//! the bus's SoC windows, the flash controller and option bytes, the clocks,
//! the low-power modes and the reset sources. (The STM32F303 has its own
//! folder, `stm32f3/`, which reuses this FPEC, IWDG and stored-block model.)
//!
//! Decode (RM0008 §3.3, Table 3): option bytes at 0x1FFF_F800; peripherals
//! 0x4000_0000–0x4002_3FFF (registers are words: a sub-word read returns the
//! addressed lanes, a sub-word write is replicated on all lanes as APB does);
//! DBGMCU at 0xE004_2000 (the CPU reaches it only in debug mode, errata ES096).
//! A block whose RCC clock is off ignores writes and reads 0.

pub(crate) mod afio;
#[cfg(test)]
pub(crate) mod blocks;
pub(crate) mod dbgmcu;
pub(crate) mod fpec;
pub(crate) mod gpio;
pub(crate) mod i2c;
pub(crate) mod iwdg;
pub(crate) mod map;
pub(crate) mod periphs;
pub(crate) mod pwr;
pub(crate) mod rcc;
pub(crate) mod spi;
pub(crate) mod tim;
pub(crate) mod unmodelled;
pub(crate) mod usart;
pub(crate) mod usb;

use super::family::Identity;
use super::nvmem::NvMem;
use super::soc::{BusError, Origin, PowerMode, ResetCause, Soc, SocCtx, SocEffects};
use super::time::Ps;
use afio::Afio;
use dbgmcu::Dbgmcu;
use fpec::{Fpec, FpecWrite};
use gpio::Gpio;
use iwdg::Iwdg;
use periphs::Periphs;
use pwr::Pwr;
use rcc::Rcc;

/// Peripheral base addresses (RM0008 §3.3, Table 3).
pub(crate) mod addr {
    pub const PWR: u32 = 0x4000_7000;
    pub const IWDG: u32 = 0x4000_3000;
    pub const AFIO: u32 = 0x4001_0000;
    pub const GPIOA: u32 = 0x4001_0800;
    pub const GPIOE_END: u32 = 0x4001_1C00;
    pub const RCC: u32 = 0x4002_1000;
    pub const FLASH_IF: u32 = 0x4002_2000;
    /// End (exclusive) of the peripheral address range that exists on the bus
    /// (AHB ends with CRC at 0x4002_3000..0x4002_33FF).
    pub const PERIPH_END: u32 = 0x4002_4000;
    pub const DBGMCU: u32 = 0xE004_2000;
    /// The option-byte block (PM0075 §2.5).
    pub const OPT_BASE: u32 = 0x1FFF_F800;
}

/// DBGMCU_CR bits (RM0008 §31.16.3).
pub(crate) const DBG_STOP: u32 = 1 << 1;
pub(crate) const DBG_STANDBY: u32 = 1 << 2;
pub(crate) const DBG_IWDG_STOP: u32 = 1 << 8;
/// DBGMCU_CR.TRACE_IOEN: the trace pins are driven (RM0008 §31.16.3).
const TRACE_IOEN: u32 = 1 << 5;
/// PWR_CR.PDDS: Standby instead of Stop on deep sleep (RM0008 §5.4.1).
const PWR_CR_PDDS: u32 = 1 << 1;

/// The STM32F1 SoC model.
pub(crate) struct F1Soc {
    ident: &'static Identity,
    pub rcc: Rcc,
    pub gpio: [Gpio; 5],
    pub afio: Afio,
    pub dbgmcu: Dbgmcu,
    pub pwr: Pwr,
    pub iwdg: Iwdg,
    pub fpec: Fpec,
    /// Timers, USARTs, SPI, I2C, EXTI, USB and the blocks stored only.
    pub p: Periphs,
    power: PowerMode,
}

/// USART instance names, as `Soc::take_serial_output` reports them.
const USART_NAMES: [&str; 3] = ["usart1", "usart2", "usart3"];

impl F1Soc {
    /// The SoC right after power-on with the given non-volatile content.
    pub(crate) fn power_on(ident: &'static Identity, nv: &NvMem) -> F1Soc {
        let fpec = Fpec::after_reset(nv, ident);
        let hw_wdg = fpec.obr & (1 << 2) == 0;
        F1Soc {
            ident,
            rcc: Rcc::after_reset(0, ResetCause::PowerOn),
            gpio: std::array::from_fn(|_| Gpio::after_reset()),
            afio: Afio::default(),
            dbgmcu: Dbgmcu::default(),
            pwr: Pwr::default(),
            iwdg: Iwdg::after_reset(hw_wdg, 0),
            fpec,
            p: Periphs::new(0),
            power: PowerMode::Run,
        }
    }

    /// EXTI line inputs follow the pins AFIO_EXTICRx selects (RM0008 §10.2.5):
    /// nothing outside drives the pins, so they change with the firmware's
    /// own GPIO configuration and output levels.
    fn update_exti_inputs(&mut self) {
        for line in 0..16usize {
            let port = ((self.afio.exticr[line / 4] >> ((line % 4) * 4)) & 0xF) as usize;
            let level = self
                .gpio
                .get(port)
                .is_some_and(|g| g.idr() & (1 << line) != 0);
            self.p.exti.line_input(line, level);
        }
    }

    fn clock_on(&self, a: u32) -> bool {
        match a {
            addr::AFIO..=0x4001_03FF => self.rcc.apb2enr & 1 != 0,
            addr::GPIOA..addr::GPIOE_END => {
                let port = (a - addr::GPIOA) / 0x400;
                self.rcc.apb2enr & (1 << (2 + port)) != 0
            }
            addr::PWR..=0x4000_73FF => self.rcc.apb1enr & (1 << 28) != 0,
            _ => true,
        }
    }

    fn dbgmcu_accessible(&self, cx: &SocCtx) -> bool {
        cx.origin == Origin::Debug || cx.debugen || !self.ident.afio_swj
    }

    /// The IWDG is frozen: core halted and DBGMCU_CR.DBG_IWDG_STOP (RM0008 §31.16.3).
    fn iwdg_frozen(&self, core_halted: bool) -> bool {
        core_halted && self.dbgmcu.cr & DBG_IWDG_STOP != 0
    }

    fn periph_read(&mut self, a: u32, now: Ps) -> u32 {
        if let Some(block) = self.p.serves(a) {
            return self.p.read(block, a, now, &self.rcc);
        }
        if !self.clock_on(a) {
            return 0;
        }
        match a {
            addr::PWR..=0x4000_73FF => self.pwr.read(a - addr::PWR),
            addr::IWDG..=0x4000_33FF => self.iwdg.read(a - addr::IWDG),
            addr::AFIO..=0x4001_03FF => self.afio.read(a - addr::AFIO),
            addr::GPIOA..addr::GPIOE_END => {
                let port = ((a - addr::GPIOA) / 0x400) as usize;
                self.gpio[port].read(a & 0x3FF)
            }
            addr::RCC..=0x4002_13FF => self.rcc.read(a - addr::RCC),
            addr::FLASH_IF..=0x4002_23FF if self.ident.f1_fpec => {
                self.fpec.read(a - addr::FLASH_IF)
            }
            _ => 0,
        }
    }

    fn periph_write(&mut self, a: u32, v: u32, cx: &mut SocCtx) -> Result<SocEffects, BusError> {
        let mut fx = SocEffects::default();
        if let Some(block) = self.p.serves(a) {
            self.p.write(block, a, v, cx.now, &self.rcc);
            if block.name == "EXTI" {
                self.update_exti_inputs();
            }
            return Ok(fx);
        }
        if !self.clock_on(a) {
            return Ok(fx);
        }
        match a {
            addr::PWR..=0x4000_73FF => {
                self.pwr.write(a - addr::PWR, v);
                // PWR_CR.DBP gates the backup-domain bits of RCC_BDCR (RM0008 §5.4.1).
                self.rcc.backup_writable = self.pwr.cr & (1 << 8) != 0;
            }
            addr::IWDG..=0x4000_33FF => {
                fx.merge(self.sync_iwdg(cx.now, cx.core_halted));
                self.iwdg.write(a - addr::IWDG, v)
            }
            addr::AFIO..=0x4001_03FF => {
                self.afio.write(a - addr::AFIO, v);
                self.update_exti_inputs();
            }
            addr::GPIOA..addr::GPIOE_END => {
                let port = ((a - addr::GPIOA) / 0x400) as usize;
                self.gpio[port].write(a & 0x3FF, v);
                self.update_exti_inputs();
            }
            addr::RCC..=0x4002_13FF => {
                // Counters run with the old clocks and enables up to now.
                self.p.sync_all(cx.now, &self.rcc);
                let before = self.rcc.hclk_hz();
                self.rcc.write(a - addr::RCC, v);
                self.p.sync_all(cx.now, &self.rcc);
                fx.clock_changed = self.rcc.hclk_hz() != before;
            }
            addr::FLASH_IF..=0x4002_23FF if self.ident.f1_fpec => {
                self.fpec.debug_mode = cx.debug_latched;
                match self.fpec.write(a - addr::FLASH_IF, v, cx.nv, cx.faults) {
                    FpecWrite::Ok => {}
                    FpecWrite::BusError => return Err(BusError),
                    FpecWrite::LockedAfterChange => fx.persist = true,
                }
            }
            _ => {}
        }
        Ok(fx)
    }

    fn sync_iwdg(&mut self, now: Ps, core_halted: bool) -> SocEffects {
        let frozen = self.iwdg_frozen(core_halted);
        let mut fx = SocEffects::default();
        if self.iwdg.advance(now, frozen) {
            fx.reset = Some(ResetCause::IndependentWatchdog);
        }
        fx
    }
}

/// Lanes of `word` addressed by a `size`-byte access at `addr`.
#[inline]
fn lanes(word: u32, addr: u32, size: u32) -> u32 {
    let sh = (addr & 3) * 8;
    match size {
        4 => word,
        2 => (word >> sh) & 0xFFFF,
        _ => (word >> sh) & 0xFF,
    }
}

impl Soc for F1Soc {
    fn read(&mut self, a: u32, size: u32, cx: &mut SocCtx) -> Result<u32, BusError> {
        if self.ident.f1_fpec && (addr::OPT_BASE..addr::OPT_BASE + 16).contains(&a) {
            let off = (a - addr::OPT_BASE) as usize;
            let b = cx.nv.opt.get(off..off + size as usize).ok_or(BusError)?;
            let mut w = [0u8; 4];
            w[..b.len()].copy_from_slice(b);
            return Ok(u32::from_le_bytes(w));
        }
        if (0x4000_0000..addr::PERIPH_END).contains(&a) {
            return Ok(lanes(self.periph_read(a & !3, cx.now), a, size));
        }
        if (addr::DBGMCU..addr::DBGMCU + 0x1000).contains(&a)
            && self.ident.dbgmcu_addr == addr::DBGMCU
        {
            let ok = self.dbgmcu_accessible(cx);
            let w = self.dbgmcu.read(a & 0xFFC, ok, self.ident.idcode);
            return Ok(lanes(w, a, size));
        }
        Err(BusError)
    }

    fn write(
        &mut self,
        a: u32,
        size: u32,
        v: u32,
        cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError> {
        if self.ident.f1_fpec && (addr::OPT_BASE..addr::OPT_BASE + 16).contains(&a) {
            self.fpec.debug_mode = cx.debug_latched;
            self.fpec
                .program(
                    cx.nv,
                    (a - addr::OPT_BASE) as usize,
                    size,
                    v,
                    true,
                    cx.faults,
                )
                .map_err(|_| BusError)?;
            return Ok(SocEffects::default());
        }
        if (0x4000_0000..addr::PERIPH_END).contains(&a) {
            let word = match size {
                4 => v,
                2 => (v & 0xFFFF) * 0x0001_0001,
                _ => (v & 0xFF) * 0x0101_0101,
            };
            return self.periph_write(a & !3, word, cx);
        }
        if (addr::DBGMCU..addr::DBGMCU + 0x1000).contains(&a)
            && self.ident.dbgmcu_addr == addr::DBGMCU
        {
            let mut fx = SocEffects::default();
            if self.dbgmcu_accessible(cx) {
                // DBG_IWDG_STOP may change: account the IWDG up to now first.
                fx.merge(self.sync_iwdg(cx.now, cx.core_halted));
                let sh = (a & 3) * 8;
                let m = match size {
                    4 => u32::MAX,
                    2 => 0xFFFF << sh,
                    _ => 0xFF << sh,
                };
                let old = self.dbgmcu.read(a & 0xFFC, true, self.ident.idcode);
                self.dbgmcu.write(a & 0xFFC, (old & !m) | ((v << sh) & m));
                let cr = self.dbgmcu.cr;
                self.p.apply_freeze(cx.core_halted, cr, cx.now, &self.rcc);
            }
            return Ok(fx);
        }
        Err(BusError)
    }

    fn flash_write(
        &mut self,
        off: u32,
        size: u32,
        v: u32,
        cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError> {
        if !self.ident.f1_fpec {
            return Err(BusError);
        }
        self.fpec.debug_mode = cx.debug_latched;
        self.fpec
            .program(cx.nv, off as usize, size, v, false, cx.faults)
            .map_err(|_| BusError)?;
        Ok(SocEffects::default())
    }

    fn flash_readable(&self, debug_latched: bool) -> bool {
        // Read-out protection in debug mode (PM0075 §2.4.1): no access to main
        // flash, from the debugger or from the core, until a power-on reset
        // without debugger.
        !(self.fpec.rdp_active() && debug_latched)
    }

    fn sync(&mut self, cx: &mut SocCtx) -> SocEffects {
        self.p.sync_all(cx.now, &self.rcc);
        self.sync_iwdg(cx.now, cx.core_halted)
    }

    fn next_event(&self, now: Ps, core_halted: bool) -> Option<Ps> {
        let iwdg = if self.iwdg_frozen(core_halted) {
            None
        } else {
            self.iwdg.remaining_ps().map(|r| self.iwdg.last_ps + r)
        };
        match (iwdg, self.p.next_event(now, &self.rcc)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn irq_levels(&self, out: &mut [u32; 8]) {
        *out = [0; 8];
        self.p.irq_levels(&self.rcc, out);
    }

    fn set_core_halted(&mut self, halted: bool, cx: &mut SocCtx) {
        let cr = self.dbgmcu.cr;
        self.p.apply_freeze(halted, cr, cx.now, &self.rcc);
    }

    fn take_serial_output(&mut self, out: &mut Vec<(&'static str, Vec<u8>)>) {
        for (u, name) in self.p.usart.iter_mut().zip(USART_NAMES) {
            let frames = u.take_tx();
            if !frames.is_empty() {
                out.push((name, frames.iter().map(|f| f.data as u8).collect()));
            }
        }
    }

    fn push_serial_input(&mut self, name: &str, bytes: &[u8], cx: &mut SocCtx) -> bool {
        let Some(i) = USART_NAMES.iter().position(|n| *n == name) else {
            return false;
        };
        let block = map::block(&name.to_ascii_uppercase()).expect("USART in the memory map");
        let clocks = Periphs::clocks_for(block, &self.rcc, &self.rcc.clocks());
        let pcx = super::periph::Ctx {
            now: cx.now,
            clocks: &clocks,
        };
        self.p.usart[i].push_rx(bytes, &pcx);
        true
    }

    fn hclk_hz(&self) -> u64 {
        self.rcc.hclk_hz()
    }

    fn system_reset(&mut self, cause: ResetCause, cx: &mut SocCtx) {
        let from_standby = self.power == PowerMode::Standby;
        self.power = PowerMode::Run;
        let pwr_flags = self.pwr.csr & 3;
        self.fpec = Fpec::after_reset(cx.nv, self.ident);
        self.p.sync_all(cx.now, &self.rcc);
        self.p.reset();
        self.rcc = Rcc::after_system_reset(&self.rcc, cause);
        self.gpio = std::array::from_fn(|_| Gpio::after_reset());
        self.afio = Afio::default();
        self.pwr = Pwr::default();
        // SBF/WUF survive a system reset (cleared by power-on only, RM0008 §5.4.2).
        self.pwr.csr = pwr_flags | if from_standby { 2 } else { 0 };
        self.iwdg = Iwdg::after_reset(self.fpec.obr & (1 << 2) == 0, cx.now);
        if from_standby && self.dbgmcu.cr & DBG_STANDBY == 0 {
            // The 1.8 V domain was off: DBGMCU_CR too (the chip resets the rest
            // of the debug logic).
            self.dbgmcu = Dbgmcu::default();
        }
    }

    fn debug_port_silent(&self) -> bool {
        if self.ident.afio_swj && self.afio.swj_cfg == 0b100 {
            return true;
        }
        match self.power {
            PowerMode::Run => false,
            PowerMode::Stop => self.dbgmcu.cr & DBG_STOP == 0,
            PowerMode::Standby => self.dbgmcu.cr & DBG_STANDBY == 0,
        }
    }

    fn enter_deep_sleep(&mut self, cx: &mut SocCtx) -> PowerMode {
        // Deep sleep (RM0008 §5.3.4/§5.3.5): Stop, or Standby with PWR_CR.PDDS.
        // The peripherals count with their clocks up to now, then lose them.
        self.p.sync_all(cx.now, &self.rcc);
        self.rcc.deep_sleep = true;
        self.power = if self.pwr.cr & PWR_CR_PDDS != 0 {
            PowerMode::Standby
        } else {
            PowerMode::Stop
        };
        self.power
    }

    fn power_mode(&self) -> PowerMode {
        self.power
    }

    fn debug_kept_in_low_power(&self) -> bool {
        self.dbgmcu.cr & DBG_STANDBY != 0
    }

    fn trace_pin_enabled(&self) -> bool {
        self.dbgmcu.cr & TRACE_IOEN != 0
    }

    fn leave_low_power(&mut self, cx: &mut SocCtx) -> SocEffects {
        let mut fx = SocEffects::default();
        self.p.sync_all(cx.now, &self.rcc);
        self.rcc.deep_sleep = false;
        if self.power == PowerMode::Stop {
            // Leaving Stop selects HSI as the system clock (RM0008 §5.3.5).
            self.rcc.exit_stop();
            fx.clock_changed = true;
        }
        self.power = PowerMode::Run;
        fx
    }

    fn gpio_odr(&self, port: usize) -> u32 {
        self.gpio.get(port).map(|g| g.odr).unwrap_or(0)
    }
}
