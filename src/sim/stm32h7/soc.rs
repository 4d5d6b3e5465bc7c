//! The STM32H743 SoC (RM0433): decode of the peripheral region, the vendor
//! PPB window and APB-D.
//!
//! Decode (RM0433 §2.3.2 Table 8): USART3 0x4000_4800 (APB1, D2), the FLASH
//! register block 0x5200_2000 (AHB3, D1; the controller of `flash.rs`),
//! DBGMCU 0x5C00_1000, IWDG1 0x5800_4800 (APB4, D3), GPIOA..K 0x5802_0000 +
//! 0x400·n, RCC 0x5802_4400, PWR 0x5802_4800 (AHB4, D3); DBGMCU again at
//! 0xE00E_1000 with the rest of APB-D and the CPU ROM table (`dbgmcu.rs`).
//! Peripheral registers are words (a sub-word write is replicated on all
//! lanes for the modelled blocks, merged into the word for the stored ones).
//! Every other register of 0x4000_0000–0x5FFF_FFFF keeps what is written (0
//! until written) and is reported once in the debug log. A GPIO port needs
//! its RCC_AHB4ENR bit, USART3 RCC_APB1LENR.USART3EN (bit 18): else writes
//! are ignored and reads give 0; while RCC_APB1LRSTR/AHB4RSTR hold them
//! they are in their reset state.
//!
//! Flash: the controller of `flash.rs` (RM0433 §4) answers at 0x5200_2000
//! (sub-word writes replicated on all lanes; a wrong key is a bus error);
//! stores into main flash go to its write buffer; its operations end in the
//! SoC's time step; FLASH is NVIC line 4 (RM0433 Table 137); the option
//! bytes are loaded at every reset (RM0433 §4.4.2); RDP level 2 silences
//! the debug port (RM0433 §4.5.3).
//!
//! USART3 (`st/usart.rs` with USART_PRESC, RM0433 §48): the Nucleo-H743ZI's
//! ST-LINK virtual COM port (PD8/PD9); kernel clock from
//! RCC_D2CCIP2R.USART234578SEL (PCLK1 after reset; hsi_ker, csi_ker, LSE;
//! pll2_q/pll3_q are not modelled and give no clock); NVIC line 39
//! (RM0433 Table 137). IWDG1 (the L4's model, LSI 32 kHz): software-started
//! (the factory FLASH_OPTSR.IWDG1_SW = 1), frozen while the core is halted
//! with DBGMCU_APB4FZ1.WDGLSD1.

use std::collections::HashMap;

use super::super::arm::tpiu::Site;
use super::super::family::Identity;
use super::super::nvmem::NvMem;
use super::super::periph::{Clocks, Ctx, Peripheral};
use super::super::soc::{BusError, PowerMode, ResetCause, Soc, SocCtx, SocEffects};
use super::super::st::gpio::{GpioPort, GpioReset};
use super::super::st::usart::{Kernel, Layout, Usart, drain_serial};
use super::super::stm32l4::flash::FlashCx;
use super::super::stm32l4::iwdg::Iwdg;
use super::super::time::Ps;
use super::dbgmcu::{DBGSTBY_D1, DBGSTOP_D1, Dbgmcu, WDGLSD1};
use super::flash::FlashCtl;
use super::options::OPTSR_IWDG1_SW;
use super::pwr::Pwr;
use super::rcc::Rcc;
use super::swo;

const USART3: u32 = 0x4000_4800;
const FLASH_REGS: u32 = 0x5200_2000;
const IWDG1: u32 = 0x5800_4800;
const GPIOA: u32 = 0x5802_0000;
const RCC: u32 = 0x5802_4400;
const PWR: u32 = 0x5802_4800;
/// GPIOA..GPIOK.
const PORTS: usize = 11;
/// RCC_APB1LENR/APB1LRSTR.USART3EN/RST.
const USART3_BIT: u32 = 1 << 18;
const USART3_IRQ: u32 = 39;
/// NVIC position of the FLASH global interrupt (RM0433 Table 137).
const FLASH_IRQ: usize = 4;
const USART_NAMES: [&str; 1] = ["usart3"];
/// Registers stored at most by the unmodelled-register file.
const MAX_STORED: usize = 4096;

pub(crate) struct H7Soc {
    ident: &'static Identity,
    pub rcc: Rcc,
    pub pwr: Pwr,
    pub dbg: Dbgmcu,
    pub gpio: Vec<GpioPort>,
    pub usart3: [Usart; 1],
    pub iwdg: Iwdg,
    pub flash: FlashCtl,
    stored: HashMap<u32, u32>,
    power: PowerMode,
}

fn lanes(word: u32, addr: u32, size: u32) -> u32 {
    let sh = (addr & 3) * 8;
    match size {
        4 => word,
        2 => (word >> sh) & 0xFFFF,
        _ => (word >> sh) & 0xFF,
    }
}

fn merge(old: u32, addr: u32, size: u32, v: u32) -> u32 {
    let sh = (addr & 3) * 8;
    let m = match size {
        4 => u32::MAX,
        2 => 0xFFFF << sh,
        _ => 0xFF << sh,
    };
    (old & !m) | ((v << sh) & m)
}

fn new_usart3(now: Ps) -> Usart {
    Usart::with_layout("USART3", Kernel::Pclk1, Layout::Presc, now)
}

/// The flash controller's view of an access.
fn flash_cx<'a>(cx: &'a mut SocCtx) -> FlashCx<'a> {
    FlashCx {
        now: cx.now,
        nv: cx.nv,
        faults: cx.faults,
        debug: cx.debug_latched,
    }
}

/// IWDG1 starts by hardware when FLASH_OPTSR_CUR.IWDG1_SW is 0 (RM0433 §4.9).
fn hw_wdg(flash: &FlashCtl) -> bool {
    flash.cur.optsr() & OPTSR_IWDG1_SW == 0
}

impl H7Soc {
    /// The SoC right after power-on.
    pub(crate) fn power_on(ident: &'static Identity, nv: &NvMem) -> H7Soc {
        let flash = FlashCtl::after_reset(nv);
        H7Soc {
            ident,
            rcc: Rcc::after_reset(0, ResetCause::PowerOn),
            pwr: Pwr::after_reset(),
            dbg: Dbgmcu::power_on(ident.idcode),
            gpio: (0..PORTS)
                .map(|p| GpioPort::after_reset_of(GpioReset::H7, p))
                .collect(),
            usart3: [new_usart3(0)],
            iwdg: Iwdg::after_reset(hw_wdg(&flash), 0),
            flash,
            stored: HashMap::new(),
            power: PowerMode::Run,
        }
    }

    fn stored_access(&mut self, a: u32, write: Option<(u32, u32)>) -> u32 {
        let k = a & !3;
        let old = self.stored.get(&k).copied().unwrap_or(0);
        let Some((size, v)) = write else {
            return old;
        };
        if !self.stored.contains_key(&k) {
            if self.stored.len() >= MAX_STORED {
                return 0;
            }
            tracing::debug!("virtual STM32: register {k:#010x} is not modelled: stored only");
        }
        self.stored.insert(k, merge(old, a, size, v));
        0
    }

    fn gpio_port(a: u32) -> Option<usize> {
        let p = (a.checked_sub(GPIOA)? / 0x400) as usize;
        (p < PORTS).then_some(p)
    }

    fn usart_gated(&self) -> bool {
        self.rcc.apb1lenr() & USART3_BIT == 0
    }

    /// USART3's clocks: none while gated, only LSE in Stop/Standby.
    fn usart_clocks(&self) -> Clocks {
        let c = self.rcc.clocks();
        if self.usart_gated() {
            Clocks::default()
        } else if self.power != PowerMode::Run {
            Clocks {
                lse: c.lse,
                ..Clocks::default()
            }
        } else {
            c
        }
    }

    fn usart_kernel(&self) -> Kernel {
        match self.rcc.usart3_sel() {
            0 => Kernel::Pclk1,
            3 => Kernel::Fixed(self.rcc.hsi_hz()),
            4 => Kernel::Fixed(self.rcc.csi_hz()),
            5 => Kernel::Lse,
            _ => Kernel::Fixed(0), // pll2_q, pll3_q: not modelled
        }
    }

    /// Brings USART3 to `now` (and to its reset state while RCC holds it).
    fn sync_usart(&mut self, now: Ps) {
        let clocks = self.usart_clocks();
        let held = self.rcc.apb1lrstr() & USART3_BIT != 0;
        let kernel = self.usart_kernel();
        self.usart3[0].sync_in_soc(
            kernel,
            held,
            &Ctx {
                now,
                clocks: &clocks,
            },
        );
    }

    fn iwdg_frozen(&self, halted: bool) -> bool {
        halted && self.dbg.apb4fz1() & WDGLSD1 != 0
    }

    fn sync_iwdg(&mut self, now: Ps, halted: bool) -> SocEffects {
        let frozen = self.iwdg_frozen(halted);
        let mut fx = SocEffects::default();
        if self.iwdg.advance(now, frozen) {
            fx.reset = Some(ResetCause::IndependentWatchdog);
        }
        fx
    }

    fn periph_read(&mut self, a: u32, size: u32, now: Ps) -> u32 {
        let w = a & !3;
        let word = match w {
            USART3..0x4000_4C00 => {
                self.sync_usart(now);
                if self.usart_gated() {
                    return 0;
                }
                let clocks = self.usart_clocks();
                let cx = Ctx {
                    now,
                    clocks: &clocks,
                };
                self.usart3[0].read(w - USART3, &cx)
            }
            FLASH_REGS..0x5200_3000 => self.flash.read(w - FLASH_REGS, now),
            IWDG1..0x5800_4C00 => self.iwdg.read(w - IWDG1),
            RCC..PWR => self.rcc.read(w - RCC),
            PWR..0x5802_4C00 => self.pwr.read(w - PWR),
            _ => match Self::gpio_port(w) {
                Some(p) if self.rcc.ahb4enr() & (1 << p) == 0 => 0,
                Some(p) => self.gpio[p].read(w & 0x3FF),
                None => self.stored_access(w, None),
            },
        };
        lanes(word, a, size)
    }

    fn periph_write(
        &mut self,
        a: u32,
        size: u32,
        v: u32,
        cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError> {
        let mut fx = SocEffects::default();
        let w = a & !3;
        let word = match size {
            4 => v,
            2 => (v & 0xFFFF) * 0x0001_0001,
            _ => (v & 0xFF) * 0x0101_0101,
        };
        match w {
            USART3..0x4000_4C00 => {
                self.sync_usart(cx.now);
                if self.usart_gated() || self.rcc.apb1lrstr() & USART3_BIT != 0 {
                    return Ok(fx);
                }
                let clocks = self.usart_clocks();
                let ucx = Ctx {
                    now: cx.now,
                    clocks: &clocks,
                };
                self.usart3[0].write(w - USART3, word, &ucx);
            }
            FLASH_REGS..0x5200_3000 => {
                let o = self
                    .flash
                    .write(w - FLASH_REGS, word, &mut flash_cx(cx))
                    .map_err(|_| BusError)?;
                fx.persist = o.persist;
            }
            IWDG1..0x5800_4C00 => {
                fx.merge(self.sync_iwdg(cx.now, cx.core_halted));
                self.iwdg.write(w - IWDG1, word);
                fx.merge(self.sync_iwdg(cx.now, cx.core_halted));
            }
            RCC..PWR => {
                self.sync_usart(cx.now);
                let before = self.rcc.hclk_hz();
                self.rcc.write(w - RCC, word);
                self.hold_gpio_in_reset();
                self.sync_usart(cx.now);
                fx.clock_changed = self.rcc.hclk_hz() != before;
            }
            PWR..0x5802_4C00 => self.pwr.write(w - PWR, word),
            _ => match Self::gpio_port(w) {
                Some(p) if self.rcc.ahb4enr() & (1 << p) == 0 => {}
                Some(p) if self.rcc.ahb4rstr() & (1 << p) != 0 => {}
                Some(p) => self.gpio[p].write(w & 0x3FF, word),
                None => {
                    self.stored_access(a, Some((size, v)));
                }
            },
        }
        Ok(fx)
    }

    /// RCC_AHB4RSTR holds the GPIO ports it names in their reset state.
    fn hold_gpio_in_reset(&mut self) {
        let rst = self.rcc.ahb4rstr();
        for (p, g) in self.gpio.iter_mut().enumerate() {
            if rst & (1 << p) != 0 {
                *g = GpioPort::after_reset_of(GpioReset::H7, p);
            }
        }
    }
}

impl Soc for H7Soc {
    fn read(&mut self, a: u32, size: u32, cx: &mut SocCtx) -> Result<u32, BusError> {
        if Dbgmcu::claims(a) {
            return self
                .dbg
                .read(a & !3)
                .map(|w| lanes(w, a, size))
                .ok_or(BusError);
        }
        if (0x4000_0000..0x6000_0000).contains(&a) {
            return Ok(self.periph_read(a, size, cx.now));
        }
        if (0xE004_2000..0xE004_3000).contains(&a) {
            // No DBGMCU here on the H7 (it is at 0x5C00_1000 and on APB-D):
            // read as zero, writes ignored, so that a configuration for
            // another family still attaches and can read the real IDCODE (a
            // simplification, docs/sim.md).
            return Ok(0);
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
        if Dbgmcu::claims(a) {
            // WDGLSD1 may change: account the IWDG up to now first.
            let fx = self.sync_iwdg(cx.now, cx.core_halted);
            let old = self.dbg.read(a & !3).unwrap_or(0);
            return if self.dbg.write(a & !3, merge(old, a, size, v)) {
                Ok(fx)
            } else {
                Err(BusError)
            };
        }
        if (0x4000_0000..0x6000_0000).contains(&a) {
            return self.periph_write(a, size, v, cx);
        }
        if (0xE004_2000..0xE004_3000).contains(&a) {
            return Ok(SocEffects::default());
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
        self.flash.program(off as usize, size, v, &mut flash_cx(cx));
        Ok(SocEffects::default())
    }

    fn flash_readable(&self, debug_latched: bool) -> bool {
        self.flash.flash_readable(debug_latched)
    }

    fn sync(&mut self, cx: &mut SocCtx) -> SocEffects {
        self.flash.settle(cx.now);
        self.sync_usart(cx.now);
        self.sync_iwdg(cx.now, cx.core_halted)
    }

    fn next_event(&self, now: Ps, core_halted: bool) -> Option<Ps> {
        let iwdg = if self.iwdg_frozen(core_halted) {
            None
        } else {
            self.iwdg.remaining_ps().map(|r| self.iwdg.last_ps + r)
        };
        let clocks = self.usart_clocks();
        let usart = self.usart3[0].next_event(&Ctx {
            now,
            clocks: &clocks,
        });
        [iwdg, usart, self.flash.next_event()]
            .into_iter()
            .flatten()
            .min()
    }

    fn irq_levels(&self, out: &mut [u32; 8]) {
        *out = [0; 8];
        if self.flash.irq() {
            out[FLASH_IRQ / 32] |= 1 << (FLASH_IRQ % 32);
        }
        if self.usart3[0].irq(0) {
            out[(USART3_IRQ / 32) as usize] |= 1 << (USART3_IRQ % 32);
        }
    }

    fn set_core_halted(&mut self, _halted: bool, cx: &mut SocCtx) {
        self.sync_usart(cx.now);
    }

    fn take_serial_output(&mut self, out: &mut Vec<(&'static str, Vec<u8>)>) {
        drain_serial(&mut self.usart3, &USART_NAMES, out);
    }

    fn push_serial_input(&mut self, name: &str, bytes: &[u8], cx: &mut SocCtx) -> bool {
        if name != USART_NAMES[0] {
            return false;
        }
        self.sync_usart(cx.now);
        let clocks = self.usart_clocks();
        self.usart3[0].push_rx(
            bytes,
            &Ctx {
                now: cx.now,
                clocks: &clocks,
            },
        );
        true
    }

    fn hclk_hz(&self) -> u64 {
        self.rcc.hclk_hz()
    }

    fn system_reset(&mut self, cause: ResetCause, cx: &mut SocCtx) {
        let from_standby = self.power == PowerMode::Standby;
        self.sync_usart(cx.now);
        self.power = PowerMode::Run;
        // The option bytes are loaded at every reset (RM0433 §4.4.2).
        self.flash = FlashCtl::after_reset(cx.nv);
        self.rcc = Rcc::after_reset(self.rcc.rsr(), cause);
        let before = std::mem::replace(&mut self.pwr, Pwr::after_reset());
        self.pwr.keep_flags(&before);
        self.gpio = (0..PORTS)
            .map(|p| GpioPort::after_reset_of(GpioReset::H7, p))
            .collect();
        self.stored.clear();
        self.iwdg = Iwdg::after_reset(hw_wdg(&self.flash), cx.now);
        self.usart3[0].reset();
        if from_standby && self.dbg.cr() & DBGSTBY_D1 == 0 {
            self.dbg = Dbgmcu::power_on(self.ident.idcode); // the debug logic lost its power
        }
        self.sync_usart(cx.now);
    }

    fn debug_port_silent(&self) -> bool {
        // RDP level 2: the debug features are disabled (RM0433 §4.5.3).
        if self.flash.rdp_level() == 2 {
            return true;
        }
        // PA13/PA14 given to another function (RM0433 §11.3.2).
        if !self.gpio[0].swd_pins_af0() {
            return true;
        }
        // RM0433 §60.5.8: without DBGSTOP_D1/DBGSTBY_D1 the D1 clocks stop
        // in Stop and the domain loses its power in Standby.
        let cr = self.dbg.cr();
        match self.power {
            PowerMode::Run => false,
            PowerMode::Stop => cr & DBGSTOP_D1 == 0,
            PowerMode::Standby => cr & DBGSTBY_D1 == 0,
        }
    }

    fn enter_deep_sleep(&mut self, cx: &mut SocCtx) -> PowerMode {
        self.sync_usart(cx.now);
        let standby = self.pwr.standby_selected();
        self.pwr.note_low_power(standby);
        self.power = if standby {
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
        self.dbg.cr() & DBGSTBY_D1 != 0
    }

    fn leave_low_power(&mut self, cx: &mut SocCtx) -> SocEffects {
        let mut fx = SocEffects::default();
        self.sync_usart(cx.now);
        if self.power == PowerMode::Stop {
            let before = self.rcc.hclk_hz();
            self.rcc.exit_stop();
            fx.clock_changed = self.rcc.hclk_hz() != before;
        }
        self.power = PowerMode::Run;
        self.sync_usart(cx.now);
        fx
    }

    fn gpio_odr(&self, port: usize) -> u32 {
        self.gpio.get(port).map(|g| g.odr).unwrap_or(0)
    }

    fn trace_pin_enabled(&self) -> bool {
        swo::pin_enabled(self.dbg.cr(), self.dbg.swtf_ctrl(), &self.gpio[1])
    }

    fn swo_sink(&self) -> Option<&'static Site> {
        Some(&swo::SWO_SITE)
    }
}
