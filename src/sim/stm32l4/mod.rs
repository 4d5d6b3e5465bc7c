//! The STM32L4 SoC (STM32L476RG, RM0351 Rev 9) and the stm32l4x-family flash
//! controller it shares with the STM32G4 (`flash.rs`, `options.rs`).

pub(crate) mod flash;
pub(crate) mod iwdg;
pub(crate) mod options;
pub(crate) mod pwr;
pub(crate) mod rcc;
pub(crate) mod soc;

use super::family::Identity;
use super::nvmem::NvMem;
use options::Variant;

/// The STM32L476RG SoC right after power-on.
pub(crate) fn power_on(ident: &'static Identity, nv: &NvMem) -> soc::L4Soc {
    soc::L4Soc::power_on(ident, Variant::L476, nv)
}

/// Factory non-volatile content of a chip of `variant` with `flash_size`
/// bytes of flash: erased flash and OTP, factory option words.
pub(crate) fn factory_nv(variant: Variant, flash_size: usize) -> NvMem {
    let mut nv = NvMem::blank(flash_size, [0xFF; 16]);
    nv.opt_words = variant.factory().to_words();
    nv.otp = vec![0xFF; flash::OTP_SIZE];
    nv
}
