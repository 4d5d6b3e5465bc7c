//! The STM32H743ZI SoC (RM0433 Rev 8) around the Arm part: memory map
//! (§2.3.2; the RAMs are the bus's, `family.rs`), RCC (`rcc.rs`), PWR
//! (`pwr.rs`), DBGMCU and the rest of the debug support on APB-D
//! (`dbgmcu.rs`), GPIOA..K (`st/gpio.rs`), USART3 (`st/usart.rs`), IWDG1
//! (`stm32l4/iwdg.rs`) and the decode that ties them (`soc.rs`). The flash
//! controller (`flash.rs`, `options.rs`, RM0433 §4) is modelled but not yet
//! wired at the seam in `soc.rs`: until then the flash is read-only.

pub(crate) mod dbgmcu;
// The flash controller; unused until the SoC wires it at its seam.
#[allow(dead_code)]
pub(crate) mod flash;
#[cfg(test)]
mod flash_tests;
#[allow(dead_code)]
pub(crate) mod options;
pub(crate) mod pwr;
pub(crate) mod rcc;
pub(crate) mod soc;

pub(crate) use soc::H7Soc;

#[cfg(test)]
mod tests;
