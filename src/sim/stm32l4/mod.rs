//! The STM32L4 SoC (STM32L476RG, RM0351 Rev 9) and the stm32l4x-family flash
//! controller it shares with the STM32G4 (`flash.rs`, `options.rs`).

pub(crate) mod flash;
pub(crate) mod options;
