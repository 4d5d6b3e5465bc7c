//! The SoC of the stm32l4x driver family, parameterised by [`Variant`]:
//! STM32L476RG (RM0351) and STM32G474RE (RM0440, `stm32g4/`).
//!
//! Decode (RM0351 §2.2.2 Table 1–2, RM0440 §2.2.2 Table 3–4): IWDG
//! 0x4000_3000, PWR 0x4000_7000, RCC 0x4002_1000, FLASH 0x4002_2000, GPIO
//! 0x4800_0000 + 0x400·n (A..H on the L476, A..G on the G474, `st/gpio.rs`),
//! the OTP 0x1FFF_7000 (1 KiB), the engineering bytes 0x1FFF_7400–0x1FFF_77FF
//! (UID at 0x1FFF_7590, F_SIZE at 0x1FFF_75E0, else 0xFF), the option-byte
//! areas 0x1FFF_7800 and 0x1FFF_F800 (read-only views), DBGMCU 0xE004_2000
//! (IDCODE, CR, APB1FZR1 +8, APB1FZR2 +0xC, APB2FZR +0x10), and the timed
//! blocks of `soc/timed.rs`: USART1..3 and TIM2 with their RCC gating,
//! reset hold, kernel clocks, DBGMCU freeze and NVIC lines; EXTI at
//! 0x4001_0400 (`st/exti.rs`, RM0351 §14 / RM0440 §15: SWIER → PR → NVIC
//! 6..10, 23, 40; always clocked; no GPIO edge reaches it, SYSCFG_EXTICRx is
//! stored only). Peripheral
//! registers are words (a sub-word write is replicated on all lanes). Every
//! other register of 0x4000_0000–0x5FFF_FFFF keeps what is written (0 until
//! written) and is reported once in the debug log (the other timers, WWDG,
//! UART4/5, LPUART1, … are not modelled). GPIO blocks need their
//! RCC_AHB2ENR bit, PWR RCC_APB1ENR1.PWREN: else writes are ignored and
//! reads give 0.

use std::collections::HashMap;

use super::super::family::Identity;
use super::super::nvmem::NvMem;
use super::super::periph::{Clocks, Ctx, Peripheral};
use super::super::soc::{BusError, PowerMode, ResetCause, Soc, SocCtx, SocEffects};
use super::super::st::exti::{self, Exti};
use super::super::st::gpio::{GpioPort, GpioReset};
use super::super::st::usart::Usart;
use super::super::stm32f1::tim::Tim;
use super::super::time::Ps;
use super::flash::{FlashCtl, FlashCx, OTP_SIZE, Target};
use super::iwdg::Iwdg;
use super::options::{OPTR_IWDG_SW, Variant};
use super::pwr::{Lpms, Pwr};
use super::rcc::{Cause, Rcc};
use timed::Timed;

mod timed;

const IWDG: u32 = 0x4000_3000;
const PWR: u32 = 0x4000_7000;
const EXTI: u32 = 0x4001_0400;
const RCC: u32 = 0x4002_1000;
const FLASH_IF: u32 = 0x4002_2000;
const GPIOA: u32 = 0x4800_0000;
const OTP: u32 = 0x1FFF_7000;
const DBGMCU: u32 = 0xE004_2000;

/// The EXTI counts no clock: its accesses need only the time.
fn exti_cx(now: Ps) -> Ctx<'static> {
    Ctx {
        now,
        clocks: &Clocks::RESET,
    }
}

/// The EXTI of `variant` (RM0440 §15, RM0351 §14).
fn exti_of(variant: Variant) -> &'static exti::ExtiSpec {
    match variant {
        Variant::G474 => &exti::G4,
        Variant::L476 => &exti::L4,
    }
}

/// The GPIO reset values of `variant`'s family.
fn gpio_family(variant: Variant) -> GpioReset {
    match variant {
        Variant::G474 => GpioReset::G4,
        Variant::L476 => GpioReset::L4,
    }
}

/// DBGMCU_CR bits (RM0351 §48.16.3, RM0440 §47.16.3).
const DBG_STOP: u32 = 1 << 1;
const DBG_STANDBY: u32 = 1 << 2;
/// DBGMCU_APB1FZR1.DBG_IWDG_STOP (bit 12).
const DBG_IWDG_STOP: u32 = 1 << 12;
/// Registers stored at most by the unmodelled-register file.
const MAX_STORED: usize = 4096;
/// NVIC position of the FLASH global interrupt (RM0351 Table 58, RM0440 Table 97).
const FLASH_IRQ: usize = 4;

pub(crate) struct L4Soc {
    ident: &'static Identity,
    variant: Variant,
    pub rcc: Rcc,
    pub pwr: Pwr,
    pub iwdg: Iwdg,
    pub flash: FlashCtl,
    pub gpio: Vec<GpioPort>,
    pub exti: Exti,
    pub usart: [Usart; 3],
    /// TIM2, the 32-bit general-purpose timer (the F1 model, 32-bit kind).
    pub tim2: Tim,
    /// DBGMCU_CR, APB1FZR1, APB1FZR2, APB2FZR.
    dbg: [u32; 4],
    stored: HashMap<u32, u32>,
    power: PowerMode,
    /// The low-power mode is Shutdown (PowerMode::Standby as the chip sees it).
    shutdown: bool,
    /// The reset about to happen is OBL_LAUNCH's.
    obl_pending: bool,
}

fn lanes(word: u32, addr: u32, size: u32) -> u32 {
    let sh = (addr & 3) * 8;
    match size {
        4 => word,
        2 => (word >> sh) & 0xFFFF,
        _ => (word >> sh) & 0xFF,
    }
}

impl L4Soc {
    /// The SoC right after power-on.
    pub(crate) fn power_on(ident: &'static Identity, variant: Variant, nv: &NvMem) -> L4Soc {
        let flash = FlashCtl::after_reset(variant, nv);
        let hw_wdg = flash.loaded.optr & OPTR_IWDG_SW == 0;
        let ports = match variant {
            Variant::L476 => 8,
            Variant::G474 => 7,
        };
        L4Soc {
            ident,
            variant,
            rcc: Rcc::after_reset(variant, 0, Cause::Reset(ResetCause::PowerOn)),
            pwr: Pwr::after_reset(variant == Variant::G474),
            iwdg: Iwdg::after_reset(hw_wdg, 0),
            flash,
            gpio: (0..ports)
                .map(|p| GpioPort::after_reset_of(gpio_family(variant), p))
                .collect(),
            usart: timed::new_usarts(variant, 0),
            tim2: timed::new_tim2(0),
            dbg: [0; 4],
            exti: Exti::new(exti_of(variant)),
            stored: HashMap::new(),
            power: PowerMode::Run,
            shutdown: false,
            obl_pending: false,
        }
    }

    fn iwdg_frozen(&self, halted: bool) -> bool {
        halted && self.dbg[1] & DBG_IWDG_STOP != 0
    }

    fn sync_iwdg(&mut self, now: Ps, halted: bool) -> SocEffects {
        let frozen = self.iwdg_frozen(halted);
        let mut fx = SocEffects::default();
        if self.iwdg.advance(now, frozen) {
            fx.reset = Some(ResetCause::IndependentWatchdog);
        }
        fx
    }

    fn gpio_port(&self, a: u32) -> Option<usize> {
        let p = ((a.checked_sub(GPIOA)?) / 0x400) as usize;
        (p < self.gpio.len()).then_some(p)
    }

    /// The 0x1FFF_7000.. information block: OTP, engineering bytes, options.
    fn info_read(&self, a: u32, size: u32, nv: &NvMem) -> Option<u32> {
        let byte = |x: u32| -> u8 {
            if (OTP..OTP + OTP_SIZE as u32).contains(&x) {
                return nv.otp.get((x - OTP) as usize).copied().unwrap_or(0xFF);
            }
            let id = self.ident;
            const UID: [u8; 12] = [
                0x33, 0xFF, 0x6B, 0x06, 0x4D, 0x4B, 0x35, 0x35, 0x28, 0x57, 0x12, 0x43,
            ];
            if (id.uid_addr..id.uid_addr + 12).contains(&x) {
                return UID[(x - id.uid_addr) as usize];
            }
            if (id.fsize_addr..id.fsize_addr + 2).contains(&x) {
                let kib = (id.flash_size / 1024) as u16;
                return kib.to_le_bytes()[(x - id.fsize_addr) as usize];
            }
            if let Some(w) = self.flash.option_area_read(x & !3, nv) {
                return w.to_le_bytes()[(x & 3) as usize];
            }
            0xFF
        };
        let in_block = (OTP..0x1FFF_7830).contains(&a) || (0x1FFF_F800..0x1FFF_F830).contains(&a);
        in_block.then(|| (0..size).fold(0, |acc, i| acc | (u32::from(byte(a + i)) << (8 * i))))
    }

    fn periph_read(&mut self, a: u32, now: Ps) -> u32 {
        if let Some((b, off)) = Timed::at(a) {
            return self.timed_read(b, off, now);
        }
        match a {
            IWDG..0x4000_3400 => self.iwdg.read(a - IWDG),
            EXTI..0x4001_0800 => self.exti.read(a - EXTI, &exti_cx(now)),
            PWR..0x4000_7400 if self.rcc.apb1enr1() & (1 << 28) != 0 => self.pwr.read(a - PWR),
            PWR..0x4000_7400 => 0,
            RCC..0x4002_1400 => self.rcc.read(a - RCC),
            FLASH_IF..0x4002_2400 => self.flash.read(a - FLASH_IF, now),
            _ => {
                if let Some(p) = self.gpio_port(a) {
                    if self.rcc.ahb2enr() & (1 << p) == 0 {
                        return 0;
                    }
                    return self.gpio[p].read(a & 0x3FF);
                }
                self.stored.get(&a).copied().unwrap_or(0)
            }
        }
    }

    fn periph_write(&mut self, a: u32, v: u32, cx: &mut SocCtx) -> Result<SocEffects, BusError> {
        let mut fx = SocEffects::default();
        if let Some((b, off)) = Timed::at(a) {
            self.timed_write(b, off, v, cx.now);
            return Ok(fx);
        }
        match a {
            IWDG..0x4000_3400 => {
                fx.merge(self.sync_iwdg(cx.now, cx.core_halted));
                self.iwdg.write(a - IWDG, v);
                fx.merge(self.sync_iwdg(cx.now, cx.core_halted));
            }
            EXTI..0x4001_0800 => self.exti.write(a - EXTI, v, &exti_cx(cx.now)),
            PWR..0x4000_7400 => {
                if self.rcc.apb1enr1() & (1 << 28) != 0 {
                    self.pwr.write(a - PWR, v);
                }
            }
            RCC..0x4002_1400 => {
                // Clocks, kernel muxes, gates and reset holds may change.
                self.sync_timed(cx.now);
                let before = self.rcc.hclk_hz();
                self.rcc.write(a - RCC, v);
                self.sync_timed(cx.now);
                fx.clock_changed = self.rcc.hclk_hz() != before;
            }
            FLASH_IF..0x4002_2400 => {
                let mut fcx = FlashCx {
                    now: cx.now,
                    nv: cx.nv,
                    faults: cx.faults,
                    debug: cx.debug_latched,
                };
                let o = self
                    .flash
                    .write(a - FLASH_IF, v, &mut fcx)
                    .map_err(|_| BusError)?;
                fx.persist = o.persist;
                if o.obl_launch {
                    self.obl_pending = true;
                    fx.reset = Some(ResetCause::Software);
                }
            }
            _ => {
                if let Some(p) = self.gpio_port(a) {
                    if self.rcc.ahb2enr() & (1 << p) != 0 {
                        self.gpio[p].write(a & 0x3FF, v);
                    }
                    return Ok(fx);
                }
                if !self.stored.contains_key(&a) {
                    if self.stored.len() >= MAX_STORED {
                        return Ok(fx);
                    }
                    tracing::debug!(
                        "virtual STM32: register {a:#010x} is not modelled: stored only"
                    );
                }
                self.stored.insert(a, v);
            }
        }
        Ok(fx)
    }
}

impl Soc for L4Soc {
    fn read(&mut self, a: u32, size: u32, cx: &mut SocCtx) -> Result<u32, BusError> {
        if let Some(v) = self.info_read(a, size, cx.nv) {
            return Ok(v);
        }
        if (0x4000_0000..0x6000_0000).contains(&a) {
            return Ok(lanes(self.periph_read(a & !3, cx.now), a, size));
        }
        if (DBGMCU..DBGMCU + 0x1000).contains(&a) {
            let w = match a & 0xFFC {
                0 => self.ident.idcode,
                o @ 4..=0x10 => self.dbg[(o / 4 - 1) as usize],
                _ => 0,
            };
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
        if (OTP..OTP + OTP_SIZE as u32).contains(&a) {
            let mut fcx = FlashCx {
                now: cx.now,
                nv: cx.nv,
                faults: cx.faults,
                debug: cx.debug_latched,
            };
            self.flash
                .program(Target::Otp, (a - OTP) as usize, size, v, &mut fcx);
            return Ok(SocEffects::default());
        }
        if (0x4000_0000..0x6000_0000).contains(&a) {
            let word = match size {
                4 => v,
                2 => (v & 0xFFFF) * 0x0001_0001,
                _ => (v & 0xFF) * 0x0101_0101,
            };
            return self.periph_write(a & !3, word, cx);
        }
        if (DBGMCU..DBGMCU + 0x1000).contains(&a) {
            // DBG_IWDG_STOP may change: account the IWDG up to now first.
            let fx = self.sync_iwdg(cx.now, cx.core_halted);
            if let o @ 4..=0x10 = a & 0xFFC {
                let sh = (a & 3) * 8;
                let m = match size {
                    4 => u32::MAX,
                    2 => 0xFFFF << sh,
                    _ => 0xFF << sh,
                };
                let r = &mut self.dbg[(o / 4 - 1) as usize];
                *r = (*r & !m) | ((v << sh) & m);
            }
            self.apply_freeze(cx.core_halted, cx.now);
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
        let mut fcx = FlashCx {
            now: cx.now,
            nv: cx.nv,
            faults: cx.faults,
            debug: cx.debug_latched,
        };
        self.flash
            .program(Target::Main, off as usize, size, v, &mut fcx);
        Ok(SocEffects::default())
    }

    fn flash_readable(&self, debug_latched: bool) -> bool {
        self.flash.flash_readable(debug_latched)
    }

    fn sync(&mut self, cx: &mut SocCtx) -> SocEffects {
        self.flash.settle(cx.now);
        self.sync_timed(cx.now);
        self.sync_iwdg(cx.now, cx.core_halted)
    }

    fn next_event(&self, now: Ps, core_halted: bool) -> Option<Ps> {
        let iwdg = if self.iwdg_frozen(core_halted) {
            None
        } else {
            self.iwdg.remaining_ps().map(|r| self.iwdg.last_ps + r)
        };
        [iwdg, self.flash.next_event(), self.timed_next_event(now)]
            .into_iter()
            .flatten()
            .min()
    }

    fn irq_levels(&self, out: &mut [u32; 8]) {
        *out = [0; 8];
        if self.flash.irq() {
            out[FLASH_IRQ / 32] |= 1 << (FLASH_IRQ % 32);
        }
        self.timed_irqs(out);
        self.exti.irq_levels(out);
    }

    fn set_core_halted(&mut self, halted: bool, cx: &mut SocCtx) {
        self.sync_timed(cx.now);
        self.apply_freeze(halted, cx.now);
    }

    fn take_serial_output(&mut self, out: &mut Vec<(&'static str, Vec<u8>)>) {
        self.serial_output(out);
    }

    fn push_serial_input(&mut self, name: &str, bytes: &[u8], cx: &mut SocCtx) -> bool {
        self.serial_input(name, bytes, cx.now)
    }

    fn hclk_hz(&self) -> u64 {
        self.rcc.hclk_hz()
    }

    fn system_reset(&mut self, cause: ResetCause, cx: &mut SocCtx) {
        let from_standby = self.power == PowerMode::Standby;
        let shutdown = std::mem::take(&mut self.shutdown);
        self.sync_timed(cx.now);
        self.power = PowerMode::Run;
        let cause = if std::mem::take(&mut self.obl_pending) {
            Cause::OptionByteLoad
        } else {
            Cause::Reset(cause)
        };
        // The option bytes are loaded at every reset (RM0351 §3.4.2).
        self.flash = FlashCtl::after_reset(self.variant, cx.nv);
        self.rcc = Rcc::after_reset(self.variant, self.rcc.csr, cause);
        let sr1 = self.pwr.sr1;
        self.pwr = Pwr::after_reset(self.variant == Variant::G474);
        // SBF is set by the reset that ends Standby and, like WUFx, is not cleared by a system
        // reset, only by SCR.CSBF or a power-on (RM0351 §5.4.11, RM0440 §6.4.11).
        self.pwr.sr1 = (sr1 & 0x11F) | if from_standby && !shutdown { 1 << 8 } else { 0 };
        self.gpio = (0..self.gpio.len())
            .map(|p| GpioPort::after_reset_of(gpio_family(self.variant), p))
            .collect();
        self.stored.clear();
        self.exti.reset();
        let hw_wdg = self.flash.loaded.optr & OPTR_IWDG_SW == 0;
        self.iwdg = Iwdg::after_reset(hw_wdg, cx.now);
        self.reset_timed();
        if from_standby && (shutdown || self.dbg[0] & DBG_STANDBY == 0) {
            self.dbg = [0; 4]; // the debug logic lost its power
        }
        self.apply_freeze(cx.core_halted, cx.now);
        self.sync_timed(cx.now);
    }

    fn debug_port_silent(&self) -> bool {
        // RDP level 2: the debug features are disabled (RM0351 §3.5.1).
        if self.flash.rdp_level() == 2 {
            return true;
        }
        // PA13/PA14 given to another function (RM0351 §8.3.2, RM0440 §9.3.2).
        if !self.gpio[0].swd_pins_af0() {
            return true;
        }
        match self.power {
            PowerMode::Run => false,
            PowerMode::Stop => self.dbg[0] & DBG_STOP == 0,
            PowerMode::Standby => self.shutdown || self.dbg[0] & DBG_STANDBY == 0,
        }
    }

    fn enter_deep_sleep(&mut self, cx: &mut SocCtx) -> PowerMode {
        self.sync_timed(cx.now);
        // RM0351 §5.3.3: PWR_CR1.LPMS selects Stop 0/1/2, Standby or Shutdown.
        let lpms = self.pwr.lpms();
        self.shutdown = lpms == Lpms::Shutdown;
        self.power = match lpms {
            Lpms::Stop => PowerMode::Stop,
            Lpms::Standby | Lpms::Shutdown => PowerMode::Standby,
        };
        self.power
    }

    fn power_mode(&self) -> PowerMode {
        self.power
    }

    fn debug_kept_in_low_power(&self) -> bool {
        !self.shutdown && self.dbg[0] & DBG_STANDBY != 0
    }

    fn leave_low_power(&mut self, cx: &mut SocCtx) -> SocEffects {
        let mut fx = SocEffects::default();
        self.sync_timed(cx.now);
        if self.power == PowerMode::Stop {
            let before = self.rcc.hclk_hz();
            self.rcc.exit_stop();
            fx.clock_changed = self.rcc.hclk_hz() != before;
        }
        self.power = PowerMode::Run;
        self.sync_timed(cx.now);
        fx
    }

    fn gpio_odr(&self, port: usize) -> u32 {
        self.gpio.get(port).map(|g| g.odr).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
