//! stdbg: a scriptable, OpenOCD-style debug host for STM32 microcontrollers.
pub mod sim;
