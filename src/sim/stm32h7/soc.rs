//! The STM32H743 SoC (RM0433): decode of the peripheral region, the vendor
//! PPB window and APB-D.
//!
//! Decode (RM0433 §2.3.2 Table 8): USART3 0x4000_4800 (APB1, D2), the FLASH
//! register block 0x5200_2000 (AHB3, D1; one seam, [`H7Soc::flash_regs`]),
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
//! Flash: main flash is read-only (blank 0xFF after the factory; writes into
//! it are bus errors) and the FLASH registers are stored only, until the
//! flash controller is wired at the seam.
//!
//! USART3 (`st/usart.rs` with USART_PRESC, RM0433 §48): the Nucleo-H743ZI's
//! ST-LINK virtual COM port (PD8/PD9); kernel clock from
//! RCC_D2CCIP2R.USART234578SEL (PCLK1 after reset; hsi_ker, csi_ker, LSE;
//! pll2_q/pll3_q are not modelled and give no clock); NVIC line 39
//! (RM0433 Table 137). IWDG1 (the L4's model, LSI 32 kHz): software-started
//! (the factory FLASH_OPTSR.IWDG1_SW = 1), frozen while the core is halted
//! with DBGMCU_APB4FZ1.WDGLSD1.

use std::collections::HashMap;

use super::super::family::Identity;
use super::super::periph::{Clocks, Ctx, Peripheral};
use super::super::soc::{BusError, PowerMode, ResetCause, Soc, SocCtx, SocEffects};
use super::super::st::gpio::{GpioPort, GpioReset};
use super::super::st::usart::{Kernel, Layout, Usart, drain_serial};
use super::super::stm32l4::iwdg::Iwdg;
use super::super::time::Ps;
use super::dbgmcu::{DBGSTBY_D1, DBGSTOP_D1, Dbgmcu, WDGLSD1};
use super::pwr::Pwr;
use super::rcc::Rcc;

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

impl H7Soc {
    /// The SoC right after power-on.
    pub(crate) fn power_on(ident: &'static Identity) -> H7Soc {
        H7Soc {
            ident,
            rcc: Rcc::after_reset(0, ResetCause::PowerOn),
            pwr: Pwr::after_reset(),
            dbg: Dbgmcu::power_on(ident.idcode),
            gpio: (0..PORTS)
                .map(|p| GpioPort::after_reset_of(GpioReset::H7, p))
                .collect(),
            usart3: [new_usart3(0)],
            iwdg: Iwdg::after_reset(false, 0),
            stored: HashMap::new(),
            power: PowerMode::Run,
        }
    }

    /// The FLASH register block (RM0433 §4.9) at `off`: the seam where the
    /// flash controller is wired; stored only for now.
    fn flash_regs(&mut self, off: u32, write: Option<(u32, u32)>) -> u32 {
        let a = FLASH_REGS + (off & !3);
        self.stored_access(a, write)
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
            FLASH_REGS..0x5200_3000 => self.flash_regs(w - FLASH_REGS, None),
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

    fn periph_write(&mut self, a: u32, size: u32, v: u32, cx: &mut SocCtx) -> SocEffects {
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
                    return fx;
                }
                let clocks = self.usart_clocks();
                let ucx = Ctx {
                    now: cx.now,
                    clocks: &clocks,
                };
                self.usart3[0].write(w - USART3, word, &ucx);
            }
            FLASH_REGS..0x5200_3000 => {
                self.flash_regs(a - FLASH_REGS, Some((size, v)));
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
        fx
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
            return Ok(self.periph_write(a, size, v, cx));
        }
        if (0xE004_2000..0xE004_3000).contains(&a) {
            return Ok(SocEffects::default());
        }
        Err(BusError)
    }

    fn flash_write(
        &mut self,
        _off: u32,
        _size: u32,
        _v: u32,
        _cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError> {
        // No flash controller yet (the seam is `flash_regs`).
        Err(BusError)
    }

    fn flash_readable(&self, _debug_latched: bool) -> bool {
        true
    }

    fn sync(&mut self, cx: &mut SocCtx) -> SocEffects {
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
        [iwdg, usart].into_iter().flatten().min()
    }

    fn irq_levels(&self, out: &mut [u32; 8]) {
        *out = [0; 8];
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
        self.rcc = Rcc::after_reset(self.rcc.rsr(), cause);
        let before = std::mem::replace(&mut self.pwr, Pwr::after_reset());
        self.pwr.keep_flags(&before);
        self.gpio = (0..PORTS)
            .map(|p| GpioPort::after_reset_of(GpioReset::H7, p))
            .collect();
        self.stored.clear();
        self.iwdg = Iwdg::after_reset(false, cx.now);
        self.usart3[0].reset();
        if from_standby && self.dbg.cr() & DBGSTBY_D1 == 0 {
            self.dbg = Dbgmcu::power_on(self.ident.idcode); // the debug logic lost its power
        }
        self.sync_usart(cx.now);
    }

    fn debug_port_silent(&self) -> bool {
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
}
