//! The virtual STM32.
