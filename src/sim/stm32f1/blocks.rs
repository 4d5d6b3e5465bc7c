//! Instantiates the [`Peripheral`] model of a `map.rs` block: the time-driven and stored blocks
//! of this folder (EXTI, TIM1..4, USART1..3, SPI1/2, I2C1/2, USB, its packet memory and the
//! unmodelled blocks). RCC, GPIO, AFIO, PWR, IWDG and the flash interface have their own APIs
//! (`chip.rs` owns them) and give None here.

use super::super::st::exti::{self, Exti};
use super::i2c::{I2c, I2cKind};
use super::map::{Block, Model};
use super::spi::{Spi, SpiKind};
use super::tim::{Tim, TimKind};
use super::unmodelled::Unmodelled;
use super::usart::{Usart, UsartKind};
use super::usb::{Usb, UsbPma};
use crate::sim::periph::{Peripheral, Ps};

/// The model of `block`, in its reset state with its clock starting at `now`; None for the
/// blocks `chip.rs` models itself. SPI has no I2S registers (medium density).
pub(crate) fn new_peripheral(block: &'static Block, now: Ps) -> Option<Box<dyn Peripheral>> {
    if let Model::Stored(_) = block.model {
        return Unmodelled::for_block(block).map(|u| Box::new(u) as Box<dyn Peripheral>);
    }
    let p: Box<dyn Peripheral> = match block.name {
        "EXTI" => Box::new(Exti::new(&exti::F1)),
        "TIM1" => Box::new(Tim::new(TimKind::Tim1, now)),
        "TIM2" => Box::new(Tim::new(TimKind::Tim2, now)),
        "TIM3" => Box::new(Tim::new(TimKind::Tim3, now)),
        "TIM4" => Box::new(Tim::new(TimKind::Tim4, now)),
        "USART1" => Box::new(Usart::new(UsartKind::Usart1, now)),
        "USART2" => Box::new(Usart::new(UsartKind::Usart2, now)),
        "USART3" => Box::new(Usart::new(UsartKind::Usart3, now)),
        "SPI1" => Box::new(Spi::new(SpiKind::Spi1, false, now)),
        "SPI2" => Box::new(Spi::new(SpiKind::Spi2, false, now)),
        "I2C1" => Box::new(I2c::new(I2cKind::I2c1, now)),
        "I2C2" => Box::new(I2c::new(I2cKind::I2c2, now)),
        "USB" => Box::new(Usb::new()),
        "USB/CAN SRAM" => Box::new(UsbPma::new()),
        _ => return None,
    };
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::super::map::BLOCKS;
    use super::*;
    use crate::sim::periph::{Clocks, Ctx, PS_PER_S};

    #[test]
    fn every_block_has_a_model_here_or_in_chip_rs() {
        let own = [
            "IWDG", "PWR", "AFIO", "GPIOA", "GPIOB", "GPIOC", "GPIOD", "GPIOE", "RCC",
        ];
        for blk in BLOCKS {
            let p = new_peripheral(blk, 0);
            if own.contains(&blk.name) || blk.name == "FLASH" {
                assert!(p.is_none(), "{}", blk.name);
            } else {
                let p = p.unwrap_or_else(|| panic!("{} has no model", blk.name));
                assert_eq!(p.name(), blk.name);
            }
        }
    }

    /// Every word of every block, read and written with awkward values at awkward times: no
    /// panic, no interrupt line beyond the block's list, events never in the past.
    #[test]
    fn register_sweep_never_panics() {
        let clocks = [
            Clocks::RESET,
            Clocks {
                pclk1: 0,
                pclk2: 0,
                tim_pclk1: 0,
                tim_pclk2: 0,
                ..Clocks::RESET
            },
            Clocks {
                sysclk: 72_000_000,
                hclk: 72_000_000,
                pclk1: 36_000_000,
                pclk2: 72_000_000,
                tim_pclk1: 72_000_000,
                tim_pclk2: 72_000_000,
                adcclk: 12_000_000,
                lsi: 40_000,
                lse: 32_768,
            },
        ];
        let values = [0u32, u32::MAX, 0x5555_5555, 0xAAAA_AAAA, 1, 0x8000_0000];
        for blk in BLOCKS {
            let Some(mut p) = new_peripheral(blk, 0) else {
                continue;
            };
            let mut now = 0;
            for (round, &v) in values.iter().enumerate() {
                let cl = &clocks[round % clocks.len()];
                for off in (0..blk.size).step_by(4) {
                    now += 1_234_567;
                    let cx = Ctx { now, clocks: cl };
                    p.sync(&cx);
                    p.write(off, v, &cx);
                    p.read(off, &cx);
                    if let Some(t) = p.next_event(&cx) {
                        assert!(t >= now, "{} event in the past", blk.name);
                    }
                }
                let cx = Ctx {
                    now: now + PS_PER_S,
                    clocks: cl,
                };
                p.sync(&cx);
                p.set_frozen(round % 2 == 0, &cx);
                now += PS_PER_S;
            }
            assert!(!p.irq(blk.irqs.len()), "{}: line beyond its list", blk.name);
            p.reset();
        }
    }
}
