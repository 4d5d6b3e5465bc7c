//! The STM32F303xB/C peripheral memory map as data: RM0316 §3.2.2, Table 2
//! (register boundary addresses), with each block's RCC enable bit (§9.4.6
//! AHBENR, §9.4.7 APB2ENR, §9.4.8 APB1ENR) and what serves it.
//!
//! Blocks of the other F3 lines (TIM20, I2C3, GPIOG/H, FMC: STM32F303xD/E
//! only) are absent: their ranges are reserved on the xB/C die and give a bus
//! error, like every address of the peripheral region this table does not
//! list. Blocks stdbg does not model carry their register list (offset, RM0316
//! name, reset value) and are served by the F1's stored-register block
//! ([`crate::sim::stm32f1::unmodelled::Unmodelled`]): a listed register reads
//! its reset value until written and then what was written; unlisted offsets
//! read 0.

use crate::sim::stm32f1::map::Reg;
use crate::sim::stm32f1::map::regs as f1regs;

/// The RCC register an enable bit lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bus {
    /// RCC_AHBENR (and RCC_AHBRSTR for the GPIO ports, TSC, ADC).
    Ahb,
    /// RCC_APB1ENR / RCC_APB1RSTR.
    Apb1,
    /// RCC_APB2ENR / RCC_APB2RSTR.
    Apb2,
}

/// What serves a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Model {
    /// A register model of this SoC (`mod.rs` dispatches by name).
    Modelled,
    /// Stored only, with these registers.
    Stored(&'static [Reg]),
}

/// One block of Table 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block {
    /// RM0316's name, e.g. "USART1".
    pub name: &'static str,
    pub base: u32,
    /// Size of its address range, bytes.
    pub size: u32,
    pub bus: Bus,
    /// Bit of its clock enable (per `bus`); None: always clocked.
    pub enable: Option<u32>,
    pub model: Model,
}

const fn b(name: &'static str, base: u32, bus: Bus, enable: Option<u32>, model: Model) -> Block {
    Block {
        name,
        base,
        size: 0x400,
        bus,
        enable,
        model,
    }
}

const fn r(off: u32, name: &'static str, reset: u32) -> Reg {
    Reg { off, name, reset }
}

use Bus::{Ahb, Apb1, Apb2};
use Model::{Modelled, Stored};

/// General-purpose timers TIM3/TIM4 (§21.4, 16 bit: ARR resets to 0xFFFF).
const TIM_GP16: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x08, "SMCR", 0),
    r(0x0C, "DIER", 0),
    r(0x10, "SR", 0),
    r(0x14, "EGR", 0),
    r(0x18, "CCMR1", 0),
    r(0x1C, "CCMR2", 0),
    r(0x20, "CCER", 0),
    r(0x24, "CNT", 0),
    r(0x28, "PSC", 0),
    r(0x2C, "ARR", 0xFFFF),
    r(0x34, "CCR1", 0),
    r(0x38, "CCR2", 0),
    r(0x3C, "CCR3", 0),
    r(0x40, "CCR4", 0),
    r(0x48, "DCR", 0),
    r(0x4C, "DMAR", 0),
];

/// TIM2's registers (§21.4: 32-bit counter, ARR resets to 0xFFFF_FFFF): TIM2
/// is modelled (`stm32f1/tim.rs`); the list documents its reset values.
#[cfg(test)]
pub(crate) const TIM2: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x08, "SMCR", 0),
    r(0x0C, "DIER", 0),
    r(0x10, "SR", 0),
    r(0x14, "EGR", 0),
    r(0x18, "CCMR1", 0),
    r(0x1C, "CCMR2", 0),
    r(0x20, "CCER", 0),
    r(0x24, "CNT", 0),
    r(0x28, "PSC", 0),
    r(0x2C, "ARR", 0xFFFF_FFFF),
    r(0x34, "CCR1", 0),
    r(0x38, "CCR2", 0),
    r(0x3C, "CCR3", 0),
    r(0x40, "CCR4", 0),
    r(0x48, "DCR", 0),
    r(0x4C, "DMAR", 0),
];

/// Basic timers TIM6/TIM7 (§22.4).
const TIM_BASIC: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x0C, "DIER", 0),
    r(0x10, "SR", 0),
    r(0x14, "EGR", 0),
    r(0x24, "CNT", 0),
    r(0x28, "PSC", 0),
    r(0x2C, "ARR", 0xFFFF),
];

/// Advanced-control timers TIM1/TIM8 (§20.4, six channels).
const TIM_ADV: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x08, "SMCR", 0),
    r(0x0C, "DIER", 0),
    r(0x10, "SR", 0),
    r(0x14, "EGR", 0),
    r(0x18, "CCMR1", 0),
    r(0x1C, "CCMR2", 0),
    r(0x20, "CCER", 0),
    r(0x24, "CNT", 0),
    r(0x28, "PSC", 0),
    r(0x2C, "ARR", 0xFFFF),
    r(0x30, "RCR", 0),
    r(0x34, "CCR1", 0),
    r(0x38, "CCR2", 0),
    r(0x3C, "CCR3", 0),
    r(0x40, "CCR4", 0),
    r(0x44, "BDTR", 0),
    r(0x48, "DCR", 0),
    r(0x4C, "DMAR", 0),
    r(0x54, "CCMR3", 0),
    r(0x58, "CCR5", 0),
    r(0x5C, "CCR6", 0),
];

/// TIM15 (§23.6).
const TIM15: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x08, "SMCR", 0),
    r(0x0C, "DIER", 0),
    r(0x10, "SR", 0),
    r(0x14, "EGR", 0),
    r(0x18, "CCMR1", 0),
    r(0x20, "CCER", 0),
    r(0x24, "CNT", 0),
    r(0x28, "PSC", 0),
    r(0x2C, "ARR", 0xFFFF),
    r(0x30, "RCR", 0),
    r(0x34, "CCR1", 0),
    r(0x38, "CCR2", 0),
    r(0x44, "BDTR", 0),
    r(0x48, "DCR", 0),
    r(0x4C, "DMAR", 0),
];

/// TIM16/TIM17 (§23.7).
const TIM16_17: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x0C, "DIER", 0),
    r(0x10, "SR", 0),
    r(0x14, "EGR", 0),
    r(0x18, "CCMR1", 0),
    r(0x20, "CCER", 0),
    r(0x24, "CNT", 0),
    r(0x28, "PSC", 0),
    r(0x2C, "ARR", 0xFFFF),
    r(0x30, "RCR", 0),
    r(0x34, "CCR1", 0),
    r(0x44, "BDTR", 0),
    r(0x48, "DCR", 0),
    r(0x4C, "DMAR", 0),
];

/// SPI/I2S (§30.9; CR2 0x0700, SR 0x0002, CRCPR 0x0007, I2SPR 0x0002); also
/// the I2S2ext/I2S3ext blocks.
const SPI: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0x0700),
    r(0x08, "SR", 0x0002),
    r(0x0C, "DR", 0),
    r(0x10, "CRCPR", 0x0007),
    r(0x14, "RXCRCR", 0),
    r(0x18, "TXCRCR", 0),
    r(0x1C, "I2SCFGR", 0),
    r(0x20, "I2SPR", 0x0002),
];

/// I2C (§28.7; ISR resets to TXE).
const I2C: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x08, "OAR1", 0),
    r(0x0C, "OAR2", 0),
    r(0x10, "TIMINGR", 0),
    r(0x14, "TIMEOUTR", 0),
    r(0x18, "ISR", 0x0001),
    r(0x1C, "ICR", 0),
    r(0x20, "PECR", 0),
    r(0x24, "RXDR", 0),
    r(0x28, "TXDR", 0),
];

/// UART4/UART5 (§29.8, not modelled: stored with the USART layout).
const UART: &[Reg] = &[
    r(0x00, "CR1", 0),
    r(0x04, "CR2", 0),
    r(0x08, "CR3", 0),
    r(0x0C, "BRR", 0),
    r(0x10, "GTPR", 0),
    r(0x14, "RTOR", 0),
    r(0x18, "RQR", 0),
    r(0x1C, "ISR", 0x00C0),
    r(0x20, "ICR", 0),
    r(0x24, "RDR", 0),
    r(0x28, "TDR", 0),
];

/// RTC (§27.6; DR 0x2101, ISR 0x07, PRER 0x007F_00FF, WUTR 0xFFFF) with the 16
/// backup registers.
const RTC: &[Reg] = &[
    r(0x00, "TR", 0),
    r(0x04, "DR", 0x2101),
    r(0x08, "CR", 0),
    r(0x0C, "ISR", 0x0007),
    r(0x10, "PRER", 0x007F_00FF),
    r(0x14, "WUTR", 0xFFFF),
    r(0x1C, "ALRMAR", 0),
    r(0x20, "ALRMBR", 0),
    r(0x24, "WPR", 0),
    r(0x28, "SSR", 0),
    r(0x2C, "SHIFTR", 0),
    r(0x30, "TSTR", 0),
    r(0x34, "TSDR", 0),
    r(0x38, "TSSSR", 0),
    r(0x3C, "CALR", 0),
    r(0x40, "TAFCR", 0),
    r(0x44, "ALRMASSR", 0),
    r(0x48, "ALRMBSSR", 0),
    r(0x50, "BKP0R", 0),
    r(0x54, "BKP1R", 0),
    r(0x58, "BKP2R", 0),
    r(0x5C, "BKP3R", 0),
    r(0x60, "BKP4R", 0),
    r(0x64, "BKP5R", 0),
    r(0x68, "BKP6R", 0),
    r(0x6C, "BKP7R", 0),
    r(0x70, "BKP8R", 0),
    r(0x74, "BKP9R", 0),
    r(0x78, "BKP10R", 0),
    r(0x7C, "BKP11R", 0),
    r(0x80, "BKP12R", 0),
    r(0x84, "BKP13R", 0),
    r(0x88, "BKP14R", 0),
    r(0x8C, "BKP15R", 0),
];

/// USB device FS (§32.6; CNTR resets to FRES | PDWN).
const USB: &[Reg] = &[
    r(0x00, "EP0R", 0),
    r(0x04, "EP1R", 0),
    r(0x08, "EP2R", 0),
    r(0x0C, "EP3R", 0),
    r(0x10, "EP4R", 0),
    r(0x14, "EP5R", 0),
    r(0x18, "EP6R", 0),
    r(0x1C, "EP7R", 0),
    r(0x40, "CNTR", 0x0003),
    r(0x44, "ISTR", 0),
    r(0x48, "FNR", 0),
    r(0x4C, "DADDR", 0),
    r(0x50, "BTABLE", 0),
];

/// DAC1 (§16.10).
const DAC: &[Reg] = &[
    r(0x00, "CR", 0),
    r(0x04, "SWTRIGR", 0),
    r(0x08, "DHR12R1", 0),
    r(0x0C, "DHR12L1", 0),
    r(0x10, "DHR8R1", 0),
    r(0x14, "DHR12R2", 0),
    r(0x18, "DHR12L2", 0),
    r(0x1C, "DHR8R2", 0),
    r(0x20, "DHR12RD", 0),
    r(0x24, "DHR12LD", 0),
    r(0x28, "DHR8RD", 0),
    r(0x2C, "DOR1", 0),
    r(0x30, "DOR2", 0),
    r(0x34, "SR", 0),
];

/// SYSCFG, COMP1..7 and OPAMP1..4 share 0x4001_0000 (§12.1, §17.5, §18.4;
/// SYSCFG_CFGR1 resets to 0x7C00_0000 when booting from main flash).
const SYSCFG_COMP_OPAMP: &[Reg] = &[
    r(0x00, "SYSCFG_CFGR1", 0x7C00_0000),
    r(0x04, "SYSCFG_RCR", 0),
    r(0x08, "SYSCFG_EXTICR1", 0),
    r(0x0C, "SYSCFG_EXTICR2", 0),
    r(0x10, "SYSCFG_EXTICR3", 0),
    r(0x14, "SYSCFG_EXTICR4", 0),
    r(0x18, "SYSCFG_CFGR2", 0),
    r(0x1C, "COMP1_CSR", 0),
    r(0x20, "COMP2_CSR", 0),
    r(0x24, "COMP3_CSR", 0),
    r(0x28, "COMP4_CSR", 0),
    r(0x2C, "COMP5_CSR", 0),
    r(0x30, "COMP6_CSR", 0),
    r(0x34, "COMP7_CSR", 0),
    r(0x38, "OPAMP1_CSR", 0),
    r(0x3C, "OPAMP2_CSR", 0),
    r(0x40, "OPAMP3_CSR", 0),
    r(0x44, "OPAMP4_CSR", 0),
];

/// CRC (§7.4: DR and INIT 0xFFFF_FFFF, POL 0x04C1_1DB7).
const CRC: &[Reg] = &[
    r(0x00, "DR", 0xFFFF_FFFF),
    r(0x04, "IDR", 0),
    r(0x08, "CR", 0),
    r(0x10, "INIT", 0xFFFF_FFFF),
    r(0x14, "POL", 0x04C1_1DB7),
];

/// Touch sensing controller (§19.6; IOHCR 0xFFFF_FFFF).
const TSC: &[Reg] = &[
    r(0x00, "CR", 0),
    r(0x04, "IER", 0),
    r(0x08, "ICR", 0),
    r(0x0C, "ISR", 0),
    r(0x10, "IOHCR", 0xFFFF_FFFF),
    r(0x18, "IOASCR", 0),
    r(0x20, "IOSCR", 0),
    r(0x28, "IOCCR", 0),
    r(0x30, "IOGCSR", 0),
    r(0x34, "IOG1CR", 0),
    r(0x38, "IOG2CR", 0),
    r(0x3C, "IOG3CR", 0),
    r(0x40, "IOG4CR", 0),
    r(0x44, "IOG5CR", 0),
    r(0x48, "IOG6CR", 0),
    r(0x4C, "IOG7CR", 0),
    r(0x50, "IOG8CR", 0),
];

/// One ADC of a pair (§15.6: CR 0x2000_0000 (ADVREGEN = 10), TR1
/// 0x0FFF_0000, TR2/TR3 0x00FF_0000).
const ADC_ONE: [Reg; 25] = [
    r(0x00, "ISR", 0),
    r(0x04, "IER", 0),
    r(0x08, "CR", 0x2000_0000),
    r(0x0C, "CFGR", 0),
    r(0x14, "SMPR1", 0),
    r(0x18, "SMPR2", 0),
    r(0x20, "TR1", 0x0FFF_0000),
    r(0x24, "TR2", 0x00FF_0000),
    r(0x28, "TR3", 0x00FF_0000),
    r(0x30, "SQR1", 0),
    r(0x34, "SQR2", 0),
    r(0x38, "SQR3", 0),
    r(0x3C, "SQR4", 0),
    r(0x40, "DR", 0),
    r(0x4C, "JSQR", 0),
    r(0x60, "OFR1", 0),
    r(0x64, "OFR2", 0),
    r(0x68, "OFR3", 0),
    r(0x6C, "OFR4", 0),
    r(0x80, "JDR1", 0),
    r(0x84, "JDR2", 0),
    r(0x88, "JDR3", 0),
    r(0x8C, "JDR4", 0),
    r(0xA0, "AWD2CR", 0),
    r(0xA4, "AWD3CR", 0),
];

/// An ADC pair block (ADC1/ADC2 at 0x5000_0000, ADC3/ADC4 at 0x5000_0400): the
/// master at +0, the slave at +0x100, DIFSEL/CALFACT of both, and the common
/// registers CSR/CCR/CDR at +0x300 (§15.6.1).
const fn adc_pair() -> [Reg; 2 * 25 + 4 + 3] {
    let mut out = [r(0, "", 0); 57];
    let mut i = 0;
    while i < 25 {
        out[i] = ADC_ONE[i];
        i += 1;
    }
    out[25] = r(0xB0, "DIFSEL", 0);
    out[26] = r(0xB4, "CALFACT", 0);
    let mut j = 0;
    while j < 25 {
        let o = ADC_ONE[j];
        out[27 + j] = r(o.off + 0x100, o.name, o.reset);
        j += 1;
    }
    out[52] = r(0x1B0, "DIFSEL", 0);
    out[53] = r(0x1B4, "CALFACT", 0);
    out[54] = r(0x300, "CSR", 0);
    out[55] = r(0x308, "CCR", 0);
    out[56] = r(0x30C, "CDR", 0);
    out
}
const ADC_PAIR: [Reg; 57] = adc_pair();

/// DMA2: channels 1..5 of the DMA1 layout (§13.6).
const DMA2: &[Reg] = f1regs::DMA1.split_at(2 + 4 * 5).0;

/// Every peripheral block of the STM32F303xB/C, by ascending base address (Table 2).
pub(crate) const BLOCKS: &[Block] = &[
    b("TIM2", 0x4000_0000, Apb1, Some(0), Modelled),
    b("TIM3", 0x4000_0400, Apb1, Some(1), Stored(TIM_GP16)),
    b("TIM4", 0x4000_0800, Apb1, Some(2), Stored(TIM_GP16)),
    b("TIM6", 0x4000_1000, Apb1, Some(4), Stored(TIM_BASIC)),
    b("TIM7", 0x4000_1400, Apb1, Some(5), Stored(TIM_BASIC)),
    b("RTC", 0x4000_2800, Apb1, None, Stored(RTC)),
    b("WWDG", 0x4000_2C00, Apb1, Some(11), Stored(f1regs::WWDG)),
    b("IWDG", 0x4000_3000, Apb1, None, Modelled),
    b("I2S2ext", 0x4000_3400, Apb1, Some(14), Stored(SPI)),
    b("SPI2", 0x4000_3800, Apb1, Some(14), Stored(SPI)),
    b("SPI3", 0x4000_3C00, Apb1, Some(15), Stored(SPI)),
    b("I2S3ext", 0x4000_4000, Apb1, Some(15), Stored(SPI)),
    b("USART2", 0x4000_4400, Apb1, Some(17), Modelled),
    b("USART3", 0x4000_4800, Apb1, Some(18), Modelled),
    b("UART4", 0x4000_4C00, Apb1, Some(19), Stored(UART)),
    b("UART5", 0x4000_5000, Apb1, Some(20), Stored(UART)),
    b("I2C1", 0x4000_5400, Apb1, Some(21), Stored(I2C)),
    b("I2C2", 0x4000_5800, Apb1, Some(22), Stored(I2C)),
    b("USB", 0x4000_5C00, Apb1, Some(23), Stored(USB)),
    // The 512-byte packet memory: no register list (reads 0, writes ignored).
    b("USB/CAN SRAM", 0x4000_6000, Apb1, Some(23), Stored(&[])),
    b("bxCAN", 0x4000_6400, Apb1, Some(25), Stored(f1regs::CAN)),
    b("PWR", 0x4000_7000, Apb1, Some(28), Modelled),
    b("DAC1", 0x4000_7400, Apb1, Some(29), Stored(DAC)),
    b(
        "SYSCFG",
        0x4001_0000,
        Apb2,
        Some(0),
        Stored(SYSCFG_COMP_OPAMP),
    ),
    b("EXTI", 0x4001_0400, Apb2, None, Modelled),
    b("TIM1", 0x4001_2C00, Apb2, Some(11), Stored(TIM_ADV)),
    b("SPI1", 0x4001_3000, Apb2, Some(12), Stored(SPI)),
    b("TIM8", 0x4001_3400, Apb2, Some(13), Stored(TIM_ADV)),
    b("USART1", 0x4001_3800, Apb2, Some(14), Modelled),
    b("TIM15", 0x4001_4000, Apb2, Some(16), Stored(TIM15)),
    b("TIM16", 0x4001_4400, Apb2, Some(17), Stored(TIM16_17)),
    b("TIM17", 0x4001_4800, Apb2, Some(18), Stored(TIM16_17)),
    b("DMA1", 0x4002_0000, Ahb, Some(0), Stored(f1regs::DMA1)),
    b("DMA2", 0x4002_0400, Ahb, Some(1), Stored(DMA2)),
    b("RCC", 0x4002_1000, Ahb, None, Modelled),
    b("FLASH", 0x4002_2000, Ahb, None, Modelled),
    b("CRC", 0x4002_3000, Ahb, Some(6), Stored(CRC)),
    b("TSC", 0x4002_4000, Ahb, Some(24), Stored(TSC)),
    b("GPIOA", 0x4800_0000, Ahb, Some(17), Modelled),
    b("GPIOB", 0x4800_0400, Ahb, Some(18), Modelled),
    b("GPIOC", 0x4800_0800, Ahb, Some(19), Modelled),
    b("GPIOD", 0x4800_0C00, Ahb, Some(20), Modelled),
    b("GPIOE", 0x4800_1000, Ahb, Some(21), Modelled),
    b("GPIOF", 0x4800_1400, Ahb, Some(22), Modelled),
    b("ADC1_2", 0x5000_0000, Ahb, Some(28), Stored(&ADC_PAIR)),
    b("ADC3_4", 0x5000_0400, Ahb, Some(29), Stored(&ADC_PAIR)),
];

/// Index into [`BLOCKS`] of the block whose range holds `addr`.
pub(crate) fn index_at(addr: u32) -> Option<usize> {
    let i = BLOCKS.partition_point(|b| b.base <= addr).checked_sub(1)?;
    (addr - BLOCKS[i].base < BLOCKS[i].size).then_some(i)
}

/// The block named `name` (RM0316 spelling, case-insensitive).
pub(crate) fn block(name: &str) -> Option<&'static Block> {
    BLOCKS.iter().find(|b| b.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_sorted_disjoint_and_registers_inside() {
        for w in BLOCKS.windows(2) {
            assert!(w[0].base + w[0].size <= w[1].base, "{}", w[1].name);
        }
        for blk in BLOCKS {
            if let Stored(regs) = blk.model {
                for w in regs.windows(2) {
                    assert!(w[0].off < w[1].off, "{} {}", blk.name, w[1].name);
                }
                for reg in regs {
                    assert!(reg.off < blk.size && reg.off % 4 == 0, "{}", blk.name);
                }
            }
        }
    }

    #[test]
    fn table_2_addresses() {
        let at = |a: u32| index_at(a).map(|i| BLOCKS[i].name);
        assert_eq!(at(0x4800_1000), Some("GPIOE"));
        assert_eq!(at(0x4800_17FC), Some("GPIOF"));
        assert_eq!(at(0x4800_1800), None, "GPIOG: xD/E only");
        assert_eq!(at(0x4001_3800), Some("USART1"));
        assert_eq!(at(0x4000_4400), Some("USART2"));
        assert_eq!(at(0x4000_4800), Some("USART3"));
        assert_eq!(at(0x4000_0C00), None, "reserved");
        assert_eq!(at(0x4001_5000), None, "TIM20: xD/E only");
        assert_eq!(at(0x5000_0300), Some("ADC1_2"));
        assert_eq!(at(0x5000_0800), None);
        assert_eq!(block("RCC").unwrap().base, 0x4002_1000);
        assert_eq!(block("flash").unwrap().base, 0x4002_2000);
        let Stored(dma2) = block("DMA2").unwrap().model else {
            panic!()
        };
        assert_eq!(dma2.last().unwrap().off, 0x64, "CMAR5");
        let Stored(adc) = block("ADC1_2").unwrap().model else {
            panic!()
        };
        assert_eq!(adc.iter().filter(|r| r.name == "CR").count(), 2);
    }
}
