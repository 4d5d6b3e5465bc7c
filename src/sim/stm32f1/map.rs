//! The STM32F103 (medium-density: C8/CB/R8/RB/V8/VB) peripheral memory map as data: RM0008
//! Rev 21 Table 3 (register boundary addresses) for the blocks a medium-density device has, with
//! each block's bus, RCC enable bit (§7.3.6–§7.3.8), NVIC interrupt numbers (Table 63, vector
//! table of the non-connectivity devices: IRQ 0..42) and the model that serves it.
//!
//! Blocks of other densities (TIM5..8, TIM9..14, SPI3, UART4/5, DAC, ADC3, GPIOF/G, DMA2, SDIO,
//! FSMC) are absent: their ranges are reserved on a medium-density die and are not listed. The
//! debug MCU block DBGMCU (0xE004_2000, §31.16) sits on the PPB, outside this map.
//!
//! Blocks stdbg does not model carry their register list (offset, name, reset value; `regs.rs`)
//! so that [`super::unmodelled::Unmodelled`] can serve them: reads give the reset value until
//! written, writes are kept.

use super::rcc::Bus;

pub(crate) mod regs;

/// A register of a block that is not modelled: byte offset, RM0008 name, reset value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reg {
    pub off: u32,
    pub name: &'static str,
    pub reset: u32,
}

/// What serves a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Model {
    /// A register model in `src/sim/stm32f1/<file>.rs` (a path relative to it).
    File(&'static str),
    /// The generic stored-register block (`unmodelled.rs`) with these registers.
    Stored(&'static [Reg]),
}

/// One peripheral block of Table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block {
    /// RM0008's name, e.g. "TIM2".
    pub name: &'static str,
    pub base: u32,
    /// Size of its address range, bytes.
    pub size: u32,
    pub bus: Bus,
    /// Bit of its clock enable in RCC_AHBENR/APB1ENR/APB2ENR (per `bus`); None: always clocked.
    /// (The USB/CAN SRAM is given USBEN; CANEN clocks it too.)
    pub enable: Option<u32>,
    /// NVIC interrupt numbers of its outputs, in the order of the model's `irq(line)`.
    pub irqs: &'static [u32],
    pub model: Model,
}

const fn b(
    name: &'static str,
    base: u32,
    bus: Bus,
    enable: Option<u32>,
    irqs: &'static [u32],
    model: Model,
) -> Block {
    Block {
        name,
        base,
        size: 0x400,
        bus,
        enable,
        irqs,
        model,
    }
}

use Bus::{Ahb, Apb1, Apb2};
use Model::{File, Stored};

/// Every peripheral block of the medium-density STM32F103, by ascending base address.
pub(crate) const BLOCKS: &[Block] = &[
    b("TIM2", 0x4000_0000, Apb1, Some(0), &[28], File("tim")),
    b("TIM3", 0x4000_0400, Apb1, Some(1), &[29], File("tim")),
    b("TIM4", 0x4000_0800, Apb1, Some(2), &[30], File("tim")),
    b("RTC", 0x4000_2800, Apb1, None, &[3], Stored(regs::RTC)),
    b(
        "WWDG",
        0x4000_2C00,
        Apb1,
        Some(11),
        &[0],
        Stored(regs::WWDG),
    ),
    b("IWDG", 0x4000_3000, Apb1, None, &[], File("iwdg")),
    b("SPI2", 0x4000_3800, Apb1, Some(14), &[36], File("spi")),
    b("USART2", 0x4000_4400, Apb1, Some(17), &[38], File("usart")),
    b("USART3", 0x4000_4800, Apb1, Some(18), &[39], File("usart")),
    b("I2C1", 0x4000_5400, Apb1, Some(21), &[31, 32], File("i2c")),
    b("I2C2", 0x4000_5800, Apb1, Some(22), &[33, 34], File("i2c")),
    b("USB", 0x4000_5C00, Apb1, Some(23), &[19, 20], File("usb")),
    b(
        "USB/CAN SRAM",
        0x4000_6000,
        Apb1,
        Some(23),
        &[],
        File("usb"),
    ),
    b(
        "bxCAN",
        0x4000_6400,
        Apb1,
        Some(25),
        &[19, 20, 21, 22],
        Stored(regs::CAN),
    ),
    b("BKP", 0x4000_6C00, Apb1, Some(27), &[2], Stored(regs::BKP)),
    b("PWR", 0x4000_7000, Apb1, Some(28), &[], File("pwr")),
    b("AFIO", 0x4001_0000, Apb2, Some(0), &[], File("afio")),
    b(
        "EXTI",
        0x4001_0400,
        Apb2,
        None,
        &[6, 7, 8, 9, 10, 23, 40, 1, 41, 42],
        File("../st/exti"),
    ),
    b("GPIOA", 0x4001_0800, Apb2, Some(2), &[], File("gpio")),
    b("GPIOB", 0x4001_0C00, Apb2, Some(3), &[], File("gpio")),
    b("GPIOC", 0x4001_1000, Apb2, Some(4), &[], File("gpio")),
    b("GPIOD", 0x4001_1400, Apb2, Some(5), &[], File("gpio")),
    b("GPIOE", 0x4001_1800, Apb2, Some(6), &[], File("gpio")),
    b("ADC1", 0x4001_2400, Apb2, Some(9), &[18], Stored(regs::ADC)),
    b(
        "ADC2",
        0x4001_2800,
        Apb2,
        Some(10),
        &[18],
        Stored(regs::ADC),
    ),
    b(
        "TIM1",
        0x4001_2C00,
        Apb2,
        Some(11),
        &[24, 25, 26, 27],
        File("tim"),
    ),
    b("SPI1", 0x4001_3000, Apb2, Some(12), &[35], File("spi")),
    b("USART1", 0x4001_3800, Apb2, Some(14), &[37], File("usart")),
    b(
        "DMA1",
        0x4002_0000,
        Ahb,
        Some(0),
        &[11, 12, 13, 14, 15, 16, 17],
        Stored(regs::DMA1),
    ),
    b("RCC", 0x4002_1000, Ahb, None, &[5], File("rcc")),
    b("FLASH", 0x4002_2000, Ahb, None, &[4], File("fpec")),
    b("CRC", 0x4002_3000, Ahb, Some(6), &[], Stored(regs::CRC)),
];

/// NVIC interrupt names by number (RM0008 Table 63, STM32F101/102/103 without the
/// high-density and connectivity-line additions from 43 on).
#[cfg_attr(not(test), allow(dead_code))] // used by the tests
pub(crate) const IRQ_NAMES: [&str; 43] = [
    "WWDG",
    "PVD",
    "TAMPER",
    "RTC",
    "FLASH",
    "RCC",
    "EXTI0",
    "EXTI1",
    "EXTI2",
    "EXTI3",
    "EXTI4",
    "DMA1_Channel1",
    "DMA1_Channel2",
    "DMA1_Channel3",
    "DMA1_Channel4",
    "DMA1_Channel5",
    "DMA1_Channel6",
    "DMA1_Channel7",
    "ADC1_2",
    "USB_HP_CAN_TX",
    "USB_LP_CAN_RX0",
    "CAN_RX1",
    "CAN_SCE",
    "EXTI9_5",
    "TIM1_BRK",
    "TIM1_UP",
    "TIM1_TRG_COM",
    "TIM1_CC",
    "TIM2",
    "TIM3",
    "TIM4",
    "I2C1_EV",
    "I2C1_ER",
    "I2C2_EV",
    "I2C2_ER",
    "SPI1",
    "SPI2",
    "USART1",
    "USART2",
    "USART3",
    "EXTI15_10",
    "RTCAlarm",
    "USBWakeUp",
];

/// The block whose address range holds `addr`, if any.
pub(crate) fn block_at(addr: u32) -> Option<&'static Block> {
    let i = BLOCKS.partition_point(|b| b.base <= addr).checked_sub(1)?;
    let blk = &BLOCKS[i];
    (addr - blk.base < blk.size).then_some(blk)
}

/// The block named `name` (RM0008 spelling, case-insensitive).
pub(crate) fn block(name: &str) -> Option<&'static Block> {
    BLOCKS.iter().find(|b| b.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::super::rcc::{AHB_MASK, APB1_MASK, APB2_MASK};
    use super::*;

    #[test]
    fn blocks_are_sorted_disjoint_and_inside_the_peripheral_range() {
        for w in BLOCKS.windows(2) {
            assert!(
                w[0].base + w[0].size <= w[1].base,
                "{} / {}",
                w[0].name,
                w[1].name
            );
        }
        for blk in BLOCKS {
            assert!(
                blk.base >= 0x4000_0000 && blk.base + blk.size <= super::super::addr::PERIPH_END
            );
            assert_eq!(blk.base % 0x400, 0, "{}", blk.name);
            let bus_ok = match blk.bus {
                Apb1 => blk.base < 0x4001_0000,
                Apb2 => (0x4001_0000..0x4001_8000).contains(&blk.base),
                Ahb => blk.base >= 0x4001_8000,
            };
            assert!(bus_ok, "{} on {:?}", blk.name, blk.bus);
        }
    }

    #[test]
    fn enable_bits_exist_in_the_rcc_registers() {
        for blk in BLOCKS {
            if let Some(bit) = blk.enable {
                let mask = match blk.bus {
                    Ahb => AHB_MASK,
                    Apb1 => APB1_MASK,
                    Apb2 => APB2_MASK,
                };
                assert_ne!(mask & (1 << bit), 0, "{}", blk.name);
            }
        }
        assert_eq!(block("usart1").unwrap().enable, Some(14));
        assert_eq!(block("I2C2").unwrap().enable, Some(22));
    }

    #[test]
    fn every_interrupt_line_belongs_to_a_block() {
        let mut claimed = [false; 43];
        for blk in BLOCKS {
            for &n in blk.irqs {
                claimed[n as usize] = true;
            }
        }
        assert!(claimed.iter().all(|&c| c), "unclaimed: {claimed:?}");
        // Names match the blocks that raise them.
        let name = |blk: &str, line: usize| IRQ_NAMES[block(blk).unwrap().irqs[line] as usize];
        assert_eq!(name("TIM1", 0), "TIM1_BRK");
        assert_eq!(name("TIM1", 3), "TIM1_CC");
        assert_eq!(name("USART3", 0), "USART3");
        assert_eq!(name("I2C1", 1), "I2C1_ER");
        assert_eq!(name("EXTI", 5), "EXTI9_5");
        assert_eq!(name("EXTI", 9), "USBWakeUp");
        assert_eq!(name("DMA1", 6), "DMA1_Channel7");
        assert_eq!(name("USB", 1), "USB_LP_CAN_RX0");
        for blk in [
            "TIM2", "TIM3", "TIM4", "SPI1", "SPI2", "USART1", "USART2", "RCC", "RTC",
        ] {
            assert_eq!(name(blk, 0), blk);
        }
    }

    #[test]
    fn exti_outputs_agree_with_the_exti_model() {
        let exti = block("EXTI").unwrap();
        let model: Vec<u32> = super::super::super::st::exti::F1
            .outputs
            .iter()
            .map(|o| o.2)
            .collect();
        assert_eq!(exti.irqs, model.as_slice());
    }

    #[test]
    fn register_lists_are_aligned_unique_and_inside_their_block() {
        for blk in BLOCKS {
            let Stored(regs) = blk.model else { continue };
            assert!(!regs.is_empty());
            for w in regs.windows(2) {
                assert!(w[0].off < w[1].off, "{} {}", blk.name, w[1].name);
            }
            for r in regs {
                assert_eq!(r.off % 4, 0, "{} {}", blk.name, r.name);
                assert!(r.off < blk.size, "{} {}", blk.name, r.name);
            }
        }
        let reg = |blk: &str, name: &str| {
            let Stored(regs) = block(blk).unwrap().model else {
                panic!()
            };
            *regs.iter().find(|r| r.name == name).unwrap()
        };
        assert_eq!(
            reg("ADC1", "HTR"),
            Reg {
                off: 0x24,
                name: "HTR",
                reset: 0xFFF
            }
        );
        assert_eq!(reg("DMA1", "CMAR7").off, 0x8C);
        assert_eq!(reg("RTC", "CRL").reset, 0x20);
        assert_eq!(reg("RTC", "ALRL").reset, 0xFFFF);
        assert_eq!(reg("WWDG", "CFR").reset, 0x7F);
        assert_eq!(reg("CRC", "DR").reset, 0xFFFF_FFFF);
        assert_eq!(reg("BKP", "DR10").off, 0x28);
        assert_eq!(reg("bxCAN", "MCR").reset, 0x0001_0002);
        assert_eq!(reg("bxCAN", "BTR").reset, 0x0123_0000);
        assert_eq!(reg("bxCAN", "F13R2").off, 0x2AC);
    }

    #[test]
    fn lookup_by_address_and_the_existing_base_constants() {
        assert_eq!(block_at(0x4000_0000).unwrap().name, "TIM2");
        assert_eq!(block_at(0x4001_3BFF).unwrap().name, "USART1");
        assert_eq!(block_at(0x4000_6010).unwrap().name, "USB/CAN SRAM");
        assert!(block_at(0x4000_0C00).is_none(), "TIM5 is high-density only");
        assert!(block_at(0x3FFF_FFFF).is_none());
        assert!(block_at(0x4002_3400).is_none());
        use super::super::addr;
        for (name, base) in [
            ("PWR", addr::PWR),
            ("IWDG", addr::IWDG),
            ("AFIO", addr::AFIO),
            ("GPIOA", addr::GPIOA),
            ("RCC", addr::RCC),
            ("FLASH", addr::FLASH_IF),
        ] {
            assert_eq!(block(name).unwrap().base, base, "{name}");
        }
        assert_eq!(block("GPIOE").unwrap().base + 0x400, addr::GPIOE_END);
    }

    #[test]
    fn models_name_existing_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim/stm32f1");
        for blk in BLOCKS {
            if let File(f) = blk.model {
                assert!(
                    dir.join(format!("{f}.rs")).is_file(),
                    "{}: {f}.rs",
                    blk.name
                );
            }
        }
    }
}
