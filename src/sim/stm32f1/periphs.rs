//! The F1 peripherals that live behind the framework of `periph.rs` (timers,
//! USARTs, SPI, I2C, EXTI, USB, and the blocks stored only), their decode by
//! the memory map of `map.rs`, RCC clock gating and reset, the interrupt lines
//! they drive and the DBGMCU timer freezes (RM0008 §3.3, §7.3, §10, §31.16.3).
//!
//! A block whose RCC enable bit is clear reads 0, ignores writes and does not
//! count (its time advances at 0 Hz); a block held by RCC_APBxRSTR is in its
//! reset state and ignores writes.

use super::super::st::exti::{self, Exti};
use super::i2c::{I2c, I2cKind};
use super::map::{self, Block, Model};
use super::rcc::Rcc;
use super::spi::{Spi, SpiKind};
use super::tim::{Tim, TimKind};
use super::unmodelled::Unmodelled;
use super::usart::{Usart, UsartKind};
use super::usb::{Usb, UsbPma};
use crate::sim::periph::{Clocks, Ctx, Peripheral};
use crate::sim::time::Ps;

/// DBGMCU_CR.DBG_TIMx_STOP bits for TIM1..TIM4 (RM0008 §31.16.3).
const DBG_TIM_STOP: [u32; 4] = [1 << 10, 1 << 11, 1 << 12, 1 << 13];
/// NVIC line of the RCC global interrupt (RM0008 Table 63).
const RCC_IRQ: u32 = 5;

/// The modelled blocks, typed where the host or other blocks need them.
pub(crate) struct Periphs {
    /// TIM1, TIM2, TIM3, TIM4.
    pub tim: [Tim; 4],
    /// USART1..3.
    pub usart: [Usart; 3],
    pub spi: [Spi; 2],
    pub i2c: [I2c; 2],
    pub exti: Exti,
    pub usb: Usb,
    pub pma: UsbPma,
    /// Blocks stored only (ADC, DMA, CRC, RTC, BKP, WWDG, bxCAN).
    pub stored: Vec<Unmodelled>,
    /// Timers frozen by DBGMCU (as last applied).
    frozen: [bool; 4],
}

/// Which model serves a block of the memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Tim(usize),
    Usart(usize),
    Spi(usize),
    I2c(usize),
    Exti,
    Usb,
    Pma,
    Stored(usize),
}

fn slot(block: &Block, stored: &[Unmodelled]) -> Option<Slot> {
    Some(match block.name {
        "TIM1" => Slot::Tim(0),
        "TIM2" => Slot::Tim(1),
        "TIM3" => Slot::Tim(2),
        "TIM4" => Slot::Tim(3),
        "USART1" => Slot::Usart(0),
        "USART2" => Slot::Usart(1),
        "USART3" => Slot::Usart(2),
        "SPI1" => Slot::Spi(0),
        "SPI2" => Slot::Spi(1),
        "I2C1" => Slot::I2c(0),
        "I2C2" => Slot::I2c(1),
        "EXTI" => Slot::Exti,
        "USB" => Slot::Usb,
        "USB/CAN SRAM" => Slot::Pma,
        _ => match block.model {
            Model::Stored(_) => Slot::Stored(stored.iter().position(|s| s.name() == block.name)?),
            Model::File(_) => return None,
        },
    })
}

impl Periphs {
    pub(crate) fn new(now: Ps) -> Periphs {
        Periphs {
            tim: [
                Tim::new(TimKind::Tim1, now),
                Tim::new(TimKind::Tim2, now),
                Tim::new(TimKind::Tim3, now),
                Tim::new(TimKind::Tim4, now),
            ],
            usart: [
                Usart::new(UsartKind::Usart1, now),
                Usart::new(UsartKind::Usart2, now),
                Usart::new(UsartKind::Usart3, now),
            ],
            spi: [
                Spi::new(SpiKind::Spi1, false, now),
                Spi::new(SpiKind::Spi2, false, now),
            ],
            i2c: [I2c::new(I2cKind::I2c1, now), I2c::new(I2cKind::I2c2, now)],
            exti: Exti::new(&exti::F1),
            usb: Usb::new(),
            pma: UsbPma::new(),
            stored: map::BLOCKS
                .iter()
                .filter(|b| matches!(b.model, Model::Stored(_)))
                .filter_map(Unmodelled::for_block)
                .collect(),
            frozen: [false; 4],
        }
    }

    fn model(&mut self, s: Slot) -> &mut dyn Peripheral {
        match s {
            Slot::Tim(i) => &mut self.tim[i],
            Slot::Usart(i) => &mut self.usart[i],
            Slot::Spi(i) => &mut self.spi[i],
            Slot::I2c(i) => &mut self.i2c[i],
            Slot::Exti => &mut self.exti,
            Slot::Usb => &mut self.usb,
            Slot::Pma => &mut self.pma,
            Slot::Stored(i) => &mut self.stored[i],
        }
    }

    fn model_ref(&self, s: Slot) -> &dyn Peripheral {
        match s {
            Slot::Tim(i) => &self.tim[i],
            Slot::Usart(i) => &self.usart[i],
            Slot::Spi(i) => &self.spi[i],
            Slot::I2c(i) => &self.i2c[i],
            Slot::Exti => &self.exti,
            Slot::Usb => &self.usb,
            Slot::Pma => &self.pma,
            Slot::Stored(i) => &self.stored[i],
        }
    }

    /// The block at `a` that this file serves.
    pub(crate) fn serves(&self, a: u32) -> Option<&'static Block> {
        let b = map::block_at(a)?;
        slot(b, &self.stored).map(|_| b)
    }

    /// The clocks a block counts in: all zero while its RCC clock is off.
    pub(crate) fn clocks_for(block: &Block, rcc: &Rcc, clocks: &Clocks) -> Clocks {
        match block.enable {
            Some(bit) if !rcc.clock_enabled(block.bus, bit) => Clocks {
                sysclk: 0,
                hclk: 0,
                pclk1: 0,
                pclk2: 0,
                tim_pclk1: 0,
                tim_pclk2: 0,
                adcclk: 0,
                lsi: 0,
                lse: 0,
            },
            _ => *clocks,
        }
    }

    fn gated(block: &Block, rcc: &Rcc) -> bool {
        block
            .enable
            .is_some_and(|bit| !rcc.clock_enabled(block.bus, bit))
    }

    fn held(block: &Block, rcc: &Rcc) -> bool {
        block
            .enable
            .is_some_and(|bit| rcc.held_in_reset(block.bus, bit))
    }

    /// Word read at `a` of a block this file serves.
    pub(crate) fn read(&mut self, block: &'static Block, a: u32, now: Ps, rcc: &Rcc) -> u32 {
        let Some(s) = slot(block, &self.stored) else {
            return 0;
        };
        let clocks = Self::clocks_for(block, rcc, &rcc.clocks());
        let cx = Ctx {
            now,
            clocks: &clocks,
        };
        let held = Self::held(block, rcc);
        let m = self.model(s);
        m.sync(&cx);
        if held {
            m.reset();
        }
        if Self::gated(block, rcc) {
            return 0;
        }
        m.read(a - block.base, &cx)
    }

    /// Word write at `a` of a block this file serves.
    pub(crate) fn write(&mut self, block: &'static Block, a: u32, v: u32, now: Ps, rcc: &Rcc) {
        let Some(s) = slot(block, &self.stored) else {
            return;
        };
        let clocks = Self::clocks_for(block, rcc, &rcc.clocks());
        let cx = Ctx {
            now,
            clocks: &clocks,
        };
        let held = Self::held(block, rcc);
        let gated = Self::gated(block, rcc);
        let m = self.model(s);
        m.sync(&cx);
        if held {
            m.reset();
            return;
        }
        if !gated {
            m.write(a - block.base, v, &cx);
        }
    }

    /// Brings every block up to `now` with the clocks `rcc` gives now. Called
    /// before anything that changes clocks, enables or resets.
    pub(crate) fn sync_all(&mut self, now: Ps, rcc: &Rcc) {
        let clocks = rcc.clocks();
        for block in map::BLOCKS {
            if let Some(s) = slot(block, &self.stored) {
                let c = Self::clocks_for(block, rcc, &clocks);
                let cx = Ctx { now, clocks: &c };
                let held = Self::held(block, rcc);
                let m = self.model(s);
                m.sync(&cx);
                if held {
                    m.reset();
                }
            }
        }
    }

    /// The earliest SoC event of these blocks after `now`.
    pub(crate) fn next_event(&self, now: Ps, rcc: &Rcc) -> Option<Ps> {
        let clocks = rcc.clocks();
        let mut best: Option<Ps> = None;
        for block in map::BLOCKS {
            if let Some(s) = slot(block, &self.stored) {
                let c = Self::clocks_for(block, rcc, &clocks);
                let cx = Ctx { now, clocks: &c };
                if let Some(t) = self.model_ref(s).next_event(&cx) {
                    best = Some(best.map_or(t, |b| b.min(t)));
                }
            }
        }
        best
    }

    /// ORs the interrupt levels of these blocks (and RCC's) into `out`.
    pub(crate) fn irq_levels(&self, rcc: &Rcc, out: &mut [u32; 8]) {
        let mut set = |n: u32| out[(n / 32) as usize] |= 1 << (n % 32);
        for block in map::BLOCKS {
            if let Some(s) = slot(block, &self.stored) {
                let m = self.model_ref(s);
                for (line, &irq) in block.irqs.iter().enumerate() {
                    if m.irq(line) {
                        set(irq);
                    }
                }
            }
        }
        if rcc.irq() {
            set(RCC_IRQ);
        }
    }

    /// Applies DBGMCU_CR's timer freezes for a core that is (or is not) halted.
    pub(crate) fn apply_freeze(&mut self, halted: bool, dbgmcu_cr: u32, now: Ps, rcc: &Rcc) {
        let clocks = rcc.clocks();
        for (i, bit) in DBG_TIM_STOP.iter().enumerate() {
            let frozen = halted && dbgmcu_cr & bit != 0;
            if frozen != self.frozen[i] {
                let name = ["TIM1", "TIM2", "TIM3", "TIM4"][i];
                let block = map::block(name).expect("timer in the memory map");
                let c = Self::clocks_for(block, rcc, &clocks);
                let cx = Ctx { now, clocks: &c };
                self.tim[i].sync(&cx);
                self.tim[i].set_frozen(frozen, &cx);
                self.frozen[i] = frozen;
            }
        }
    }

    /// System reset: every block to its reset state.
    pub(crate) fn reset(&mut self) {
        for block in map::BLOCKS {
            if let Some(s) = slot(block, &self.stored) {
                self.model(s).reset();
            }
        }
    }
}
