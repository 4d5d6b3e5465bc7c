//! The STM32G4 SoC (STM32G474RE, RM0440 Rev 8); its flash controller is `stm32l4/flash.rs`.
