//! The STM32H743ZI SoC (RM0433 Rev 8) around the Arm part: memory map
//! (§2.3.2; the RAMs are the bus's, `family.rs`), RCC (`rcc.rs`), PWR
//! (`pwr.rs`), DBGMCU and the rest of the debug support on APB-D
//! (`dbgmcu.rs`), the SWO trace path (`swo.rs`), GPIOA..K (`st/gpio.rs`), USART3 (`st/usart.rs`), IWDG1
//! (`stm32l4/iwdg.rs`), the flash controller (`flash.rs`, `options.rs`,
//! RM0433 §4) and the decode that ties them (`soc.rs`).

pub(crate) mod dbgmcu;
pub(crate) mod flash;
#[cfg(test)]
mod flash_tests;
pub(crate) mod options;
pub(crate) mod pwr;
pub(crate) mod rcc;
pub(crate) mod soc;
pub(crate) mod swo;

pub(crate) use soc::H7Soc;

#[cfg(test)]
mod tests;
