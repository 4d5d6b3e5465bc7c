//! Peripheral blocks shared by the newer STM32 families (F3, G4, L4: the
//! register layouts RM0316, RM0440 and RM0351 give identically): the GPIO
//! port with MODER/AFR (`gpio.rs`) and the USART with ISR/ICR/RDR/TDR
//! (`usart.rs`); and the EXTI (`exti.rs`), whose register layout the F1 shares. A family's SoC folder (e.g. `stm32f3/`) places them in its
//! memory map, gates their clocks and wires their interrupt lines.

pub(crate) mod exti;
pub(crate) mod frames;
pub(crate) mod gpio;
pub(crate) mod usart;
