//! The STM32F303xB/C SoC (RM0316): the peripherals behind the bus's SoC
//! windows, the flash interface and option bytes, the clocks, the low-power
//! modes and the reset sources, for the STM32F303VC (STM32F3DISCOVERY).
//!
//! Modelled: RCC (`rcc.rs`), the flash interface (the F1's FPEC in its F3
//! flavour, `stm32f1/fpec.rs`: 2 KiB pages, OBL_LAUNCH, RDP levels 0/1/2,
//! option bytes at 0x1FFF_F800), GPIOA..F on AHB2 at 0x4800_0000
//! (`st/gpio.rs`), USART1..3 (`st/usart.rs`, kernel clock from
//! RCC_CFGR3.USARTxSW, NVIC lines 37..39), IWDG (`iwdg.rs`, with the window
//! register), PWR (`pwr.rs`: Stop and Standby), DBGMCU (`dbgmcu.rs`), TIM2
//! (the F1 timer model in its 32-bit kind, `stm32f1/tim.rs`: time base,
//! output-compare flags, update/CC interrupts on NVIC line 28,
//! DBGMCU_APB1_FZ.DBG_TIM2_STOP), EXTI (`st/exti.rs`, RM0316 §14: 36 lines,
//! SWIER → PR → NVIC 6..10, 23, 40; no GPIO edge reaches it, SYSCFG_EXTICRx
//! is stored only). SysTick,
//! NVIC and the FPU are the Arm part's.
//!
//! Not modelled, stored only (each listed register reads its reset value until
//! written, `map.rs`): TIM1/3/4/6/7/8/15/16/17, RTC, WWDG, SPI1..3 and I2S
//! ext, UART4/5, I2C1/2, USB and its SRAM, bxCAN, DAC1, SYSCFG/COMP/OPAMP,
//! DMA1/2, CRC, TSC, ADC1..4: no counter counts, no conversion ends, no
//! interrupt comes from them. Addresses of the peripheral region that Table 2
//! of RM0316 §3.2.2 does not give to a block are bus errors.
//!
//! Decode and access rules: a block whose RCC enable bit is clear reads 0 and
//! ignores writes (as the F1 model); a block held by RCC_AHBRSTR/APBxRSTR is
//! in its reset state. APB blocks replicate a sub-word write on all lanes (as
//! the APB bridge does); AHB blocks (RCC, FLASH, GPIO, DMA, CRC, TSC, ADC)
//! write only the addressed lanes (RM0316 §11.4: GPIO registers take byte,
//! half-word and word accesses; a byte write to BSRR/BRR touches only its
//! pins). DBGMCU at 0xE004_2000 is reachable by the CPU and the debugger.
//!
//! The debug port (RM0316 §33.4.2, §11.3.2): after reset PA13/PA14 are the
//! SWD pins (alternate function AF0); once firmware gives either another mode
//! (MODER) or another alternate function (AFRH), SWD no longer answers, until
//! a reset returns GPIOA to its reset state. Read protection level 2 (RDP =
//! 0xCC) disables the debug port for good (§4.3.1).

mod access;
pub(crate) mod dbgmcu;
pub(crate) mod iwdg;
pub(crate) mod map;
pub(crate) mod pwr;
pub(crate) mod rcc;
#[cfg(test)]
mod tests;

use super::family::Identity;
use super::nvmem::NvMem;
use super::periph::{Clocks, Ctx, Peripheral};
use super::soc::{BusError, PowerMode, ResetCause, Soc, SocCtx, SocEffects};
use super::st::exti::{self, Exti};
use super::st::gpio::GpioPort;
use super::st::usart::{Kernel, Usart, drain_serial};
use super::stm32f1::fpec::Fpec;
use super::stm32f1::tim::{Tim, TimKind};
use super::stm32f1::unmodelled::Unmodelled;
use super::time::Ps;
use dbgmcu::{DBG_IWDG_STOP, DBG_STANDBY, DBG_STOP, Dbgmcu};
use iwdg::IwdgF3;
use map::{BLOCKS, Block, Bus, Model};
use pwr::Pwr;
use rcc::{Flag, Rcc};

/// DBGMCU base (RM0316 §33.16).
const DBGMCU: u32 = 0xE004_2000;
/// The option-byte block (RM0316 §4.4).
const OPT_BASE: u32 = 0x1FFF_F800;
/// NVIC lines (RM0316 Table 82): RCC 5, USART1..3 37..39.
const RCC_IRQ: u32 = 5;
const TIM2_IRQ: u32 = 28;
/// DBGMCU_APB1_FZ.DBG_TIM2_STOP (RM0316 §33.16.4).
const DBG_TIM2_STOP: u32 = 1 << 0;
const USART_IRQS: [u32; 3] = [37, 38, 39];
/// USART instance names as `Soc::take_serial_output` reports them.
const USART_NAMES: [&str; 3] = ["usart1", "usart2", "usart3"];
const USART_BLOCKS: [&str; 3] = ["USART1", "USART2", "USART3"];
/// FLASH_OBR.WDG_SW (RM0316 §4.5.7): 0 = hardware watchdog.
const OBR_WDG_SW: u32 = 1 << 8;

/// The STM32F303xB/C SoC model.
pub(crate) struct F3Soc {
    ident: &'static Identity,
    pub rcc: Rcc,
    pub gpio: [GpioPort; 6],
    pub usart: [Usart; 3],
    /// TIM2, the 32-bit general-purpose timer (the F1 model, 32-bit kind).
    pub tim2: Tim,
    tim2_frozen: bool,
    pub dbgmcu: Dbgmcu,
    pub exti: Exti,
    pub pwr: Pwr,
    pub iwdg: IwdgF3,
    pub fpec: Fpec,
    /// The stored-only blocks, by index into `map::BLOCKS` (None for modelled ones).
    stored: Vec<Option<Unmodelled>>,
    power: PowerMode,
    /// The next system reset is the option-byte load of FLASH_CR.OBL_LAUNCH.
    obl_pending: bool,
}

fn hw_watchdog(fpec: &Fpec) -> bool {
    fpec.obr & OBR_WDG_SW == 0
}

fn new_usarts(now: Ps) -> [Usart; 3] {
    [
        Usart::new("USART1", Kernel::Pclk2, now),
        Usart::new("USART2", Kernel::Pclk1, now),
        Usart::new("USART3", Kernel::Pclk1, now),
    ]
}

/// Lanes of `word` addressed by a `size`-byte access at `addr`.
fn lanes(word: u32, addr: u32, size: u32) -> u32 {
    let sh = (addr & 3) * 8;
    match size {
        4 => word,
        2 => (word >> sh) & 0xFFFF,
        _ => (word >> sh) & 0xFF,
    }
}

/// Byte-lane mask and shift of a `size`-byte access at `addr`.
fn lane_mask(addr: u32, size: u32) -> (u32, u32) {
    let sh = (addr & 3) * 8;
    let m = match size {
        4 => u32::MAX,
        2 => 0xFFFF << sh,
        _ => 0xFF << sh,
    };
    (m, sh)
}

impl F3Soc {
    /// The SoC right after power-on with the given non-volatile content.
    pub(crate) fn power_on(ident: &'static Identity, nv: &NvMem) -> F3Soc {
        let fpec = Fpec::after_reset_f3(nv, ident);
        let iwdg = IwdgF3::after_reset(hw_watchdog(&fpec), 0);
        F3Soc {
            ident,
            rcc: Rcc::after_reset(None, Flag::Cause(ResetCause::PowerOn)),
            gpio: std::array::from_fn(GpioPort::after_reset),
            usart: new_usarts(0),
            tim2: Tim::new(TimKind::Tim2x32, 0),
            tim2_frozen: false,
            dbgmcu: Dbgmcu::default(),
            exti: Exti::new(&exti::F3),
            pwr: Pwr::default(),
            iwdg,
            fpec,
            stored: BLOCKS
                .iter()
                .map(|b| match b.model {
                    Model::Stored(regs) => Some(Unmodelled::new(b.name, b.base, regs)),
                    Model::Modelled => None,
                })
                .collect(),
            power: PowerMode::Run,
            obl_pending: false,
        }
    }

    fn gated(&self, b: &Block) -> bool {
        b.enable
            .is_some_and(|bit| !self.rcc.clock_enabled(b.bus, bit))
    }

    fn held(&self, b: &Block) -> bool {
        b.enable
            .is_some_and(|bit| self.rcc.held_in_reset(b.bus, bit))
    }

    /// The clocks `b` counts with: all zero while its clock is off.
    fn clocks_for(&self, b: &Block) -> Clocks {
        if self.gated(b) {
            Clocks::default()
        } else {
            self.rcc.clocks()
        }
    }

    /// The kernel clock RCC_CFGR3.USARTxSW selects for USART `i` (RM0316 §9.4.13).
    fn usart_kernel(&self, i: usize) -> Kernel {
        match self.rcc.usart_sw(i) {
            0 if i == 0 => Kernel::Pclk2,
            0 => Kernel::Pclk1,
            1 => Kernel::Sysclk,
            2 => Kernel::Lse,
            _ => Kernel::Fixed(self.rcc.hsi_hz()),
        }
    }

    fn usart_block(i: usize) -> &'static Block {
        map::block(USART_BLOCKS[i]).expect("USART in the memory map")
    }

    /// Brings USART `i` to `now` (and to its reset state while RCC holds it).
    fn sync_usart(&mut self, i: usize, now: Ps) {
        let b = Self::usart_block(i);
        let clocks = self.clocks_for(b);
        let held = self.held(b);
        let cx = Ctx {
            now,
            clocks: &clocks,
        };
        let kernel = self.usart_kernel(i);
        self.usart[i].sync_in_soc(kernel, held, &cx);
    }

    fn sync_usarts(&mut self, now: Ps) {
        for i in 0..3 {
            self.sync_usart(i, now);
        }
        self.sync_tim2(now);
    }

    fn tim2_block() -> &'static Block {
        map::block("TIM2").expect("TIM2 in the memory map")
    }

    /// Brings TIM2 to `now` (and to its reset state while RCC holds it).
    fn sync_tim2(&mut self, now: Ps) {
        let b = Self::tim2_block();
        let clocks = self.clocks_for(b);
        let cx = Ctx {
            now,
            clocks: &clocks,
        };
        self.tim2.sync(&cx);
        if self.held(b) {
            self.tim2.reset();
        }
    }

    /// DBGMCU_APB1_FZ.DBG_TIM2_STOP stops TIM2 while the core is halted.
    fn apply_freeze(&mut self, halted: bool, now: Ps) {
        let frozen = halted && self.dbgmcu.apb1_fz & DBG_TIM2_STOP != 0;
        if frozen != self.tim2_frozen {
            let clocks = self.clocks_for(Self::tim2_block());
            self.tim2.set_frozen(
                frozen,
                &Ctx {
                    now,
                    clocks: &clocks,
                },
            );
            self.tim2_frozen = frozen;
        }
    }

    /// GPIO ports held in reset by RCC_AHBRSTR.IOPxRST return to their reset state.
    fn apply_gpio_resets(&mut self) {
        for (i, g) in self.gpio.iter_mut().enumerate() {
            if self.rcc.held_in_reset(Bus::Ahb, 17 + i as u32) {
                *g = GpioPort::after_reset(i);
            }
        }
    }

    fn iwdg_frozen(&self, core_halted: bool) -> bool {
        core_halted && self.dbgmcu.apb1_fz & DBG_IWDG_STOP != 0
    }

    fn sync_iwdg(&mut self, now: Ps, core_halted: bool) -> SocEffects {
        let frozen = self.iwdg_frozen(core_halted);
        let mut fx = SocEffects::default();
        if self.iwdg.inner.advance(now, frozen) {
            fx.reset = Some(ResetCause::IndependentWatchdog);
        }
        fx
    }
}

impl Soc for F3Soc {
    fn read(&mut self, a: u32, size: u32, cx: &mut SocCtx) -> Result<u32, BusError> {
        if (OPT_BASE..OPT_BASE + 16).contains(&a) {
            let off = (a - OPT_BASE) as usize;
            let b = cx.nv.opt.get(off..off + size as usize).ok_or(BusError)?;
            let mut w = [0u8; 4];
            w[..b.len()].copy_from_slice(b);
            return Ok(u32::from_le_bytes(w));
        }
        if let Some(i) = map::index_at(a) {
            return Ok(lanes(self.periph_read(i, a & !3, cx.now), a, size));
        }
        if (DBGMCU..DBGMCU + 0x1000).contains(&a) {
            let w = self.dbgmcu.read(a & 0xFFC, self.ident.idcode);
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
        if (OPT_BASE..OPT_BASE + 16).contains(&a) {
            self.fpec.debug_mode = cx.debug_latched;
            self.fpec
                .program(cx.nv, (a - OPT_BASE) as usize, size, v, true, cx.faults)
                .map_err(|_| BusError)?;
            return Ok(SocEffects::default());
        }
        let (m, sh) = lane_mask(a, size);
        if let Some(i) = map::index_at(a) {
            let word = if BLOCKS[i].bus == Bus::Ahb {
                (v << sh) & m
            } else {
                match size {
                    4 => v,
                    2 => (v & 0xFFFF) * 0x0001_0001,
                    _ => (v & 0xFF) * 0x0101_0101,
                }
            };
            let m = if BLOCKS[i].bus == Bus::Ahb {
                m
            } else {
                u32::MAX
            };
            return self.periph_write(i, a & !3, word, m, cx);
        }
        if (DBGMCU..DBGMCU + 0x1000).contains(&a) {
            let fx = self.sync_iwdg(cx.now, cx.core_halted);
            let old = self.dbgmcu.read(a & 0xFFC, self.ident.idcode);
            self.dbgmcu.write(a & 0xFFC, (old & !m) | ((v << sh) & m));
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
        self.fpec.debug_mode = cx.debug_latched;
        self.fpec
            .program(cx.nv, off as usize, size, v, false, cx.faults)
            .map_err(|_| BusError)?;
        Ok(SocEffects::default())
    }

    fn flash_readable(&self, debug_latched: bool) -> bool {
        // RM0316 §4.3.1: under level 1 no flash access while a debugger is connected.
        !(self.fpec.rdp_active() && debug_latched)
    }

    fn sync(&mut self, cx: &mut SocCtx) -> SocEffects {
        self.sync_usarts(cx.now);
        self.sync_iwdg(cx.now, cx.core_halted)
    }

    fn next_event(&self, now: Ps, core_halted: bool) -> Option<Ps> {
        let mut best = if self.iwdg_frozen(core_halted) {
            None
        } else {
            self.iwdg
                .inner
                .remaining_ps()
                .map(|r| self.iwdg.inner.last_ps + r)
        };
        for (i, u) in self.usart.iter().enumerate() {
            let clocks = self.clocks_for(Self::usart_block(i));
            if let Some(t) = u.next_event(&Ctx {
                now,
                clocks: &clocks,
            }) {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        let clocks = self.clocks_for(Self::tim2_block());
        if let Some(t) = self.tim2.next_event(&Ctx {
            now,
            clocks: &clocks,
        }) {
            best = Some(best.map_or(t, |b| b.min(t)));
        }
        best
    }

    fn irq_levels(&self, out: &mut [u32; 8]) {
        *out = [0; 8];
        let mut set = |n: u32| out[(n / 32) as usize] |= 1 << (n % 32);
        for (u, &n) in self.usart.iter().zip(&USART_IRQS) {
            if u.irq(0) {
                set(n);
            }
        }
        if self.rcc.irq() {
            set(RCC_IRQ);
        }
        if self.tim2.irq(0) {
            set(TIM2_IRQ);
        }
        self.exti.irq_levels(out);
    }

    fn set_core_halted(&mut self, halted: bool, cx: &mut SocCtx) {
        self.sync_usarts(cx.now);
        self.apply_freeze(halted, cx.now);
    }

    fn hclk_hz(&self) -> u64 {
        self.rcc.hclk_hz()
    }

    fn system_reset(&mut self, cause: ResetCause, cx: &mut SocCtx) {
        let from_standby = self.power == PowerMode::Standby;
        self.power = PowerMode::Run;
        self.sync_usarts(cx.now);
        let flag = if std::mem::take(&mut self.obl_pending) {
            Flag::OptionByteLoad
        } else {
            Flag::Cause(cause)
        };
        let pwr_flags = self.pwr.csr & 3;
        self.fpec = Fpec::after_reset_f3(cx.nv, self.ident);
        self.rcc = Rcc::after_reset(Some(&self.rcc), flag);
        self.gpio = std::array::from_fn(GpioPort::after_reset);
        for u in &mut self.usart {
            u.reset();
        }
        self.tim2.reset();
        self.exti.reset();
        for s in self.stored.iter_mut().flatten() {
            s.reset();
        }
        self.pwr = Pwr {
            csr: pwr_flags | if from_standby { pwr::SBF } else { 0 },
            ..Pwr::default()
        };
        self.iwdg = IwdgF3::after_reset(hw_watchdog(&self.fpec), cx.now);
        if from_standby && self.dbgmcu.cr & DBG_STANDBY == 0 {
            self.dbgmcu = Dbgmcu::default();
        }
        self.sync_usarts(cx.now);
    }

    fn debug_port_silent(&self) -> bool {
        if self.fpec.rdp_level2() || !self.gpio[0].swd_pins_af0() {
            return true;
        }
        match self.power {
            PowerMode::Run => false,
            PowerMode::Stop => self.dbgmcu.cr & DBG_STOP == 0,
            PowerMode::Standby => self.dbgmcu.cr & DBG_STANDBY == 0,
        }
    }

    fn enter_deep_sleep(&mut self, cx: &mut SocCtx) -> PowerMode {
        // RM0316 §6.3.5/§6.3.6: Stop, or Standby with PWR_CR.PDDS.
        self.sync_usarts(cx.now);
        self.rcc.deep_sleep = true;
        self.power = if self.pwr.cr & pwr::PDDS != 0 {
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

    fn leave_low_power(&mut self, cx: &mut SocCtx) -> SocEffects {
        let mut fx = SocEffects::default();
        self.sync_usarts(cx.now);
        self.rcc.deep_sleep = false;
        if self.power == PowerMode::Stop {
            self.rcc.exit_stop();
            fx.clock_changed = true;
        }
        self.power = PowerMode::Run;
        self.sync_usarts(cx.now);
        fx
    }

    fn take_serial_output(&mut self, out: &mut Vec<(&'static str, Vec<u8>)>) {
        drain_serial(&mut self.usart, &USART_NAMES, out);
    }

    fn push_serial_input(&mut self, name: &str, bytes: &[u8], cx: &mut SocCtx) -> bool {
        let Some(i) = USART_NAMES.iter().position(|n| *n == name) else {
            return false;
        };
        self.sync_usart(i, cx.now);
        let clocks = self.clocks_for(Self::usart_block(i));
        self.usart[i].push_rx(
            bytes,
            &Ctx {
                now: cx.now,
                clocks: &clocks,
            },
        );
        true
    }

    fn gpio_odr(&self, port: usize) -> u32 {
        self.gpio.get(port).map(|g| g.odr).unwrap_or(0)
    }
}
