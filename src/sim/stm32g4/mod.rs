//! The STM32G4 SoC (STM32G474RE, RM0440 Rev 8). It is the SoC of the
//! stm32l4x driver family (`stm32l4/soc.rs`) with the G4's variant: the
//! flash controller with OPTR.DBANK (2 KiB pages in two banks or 4 KiB pages
//! in one, RM0440 §3.3.1), SEC1R/SEC2R and ACR.DBG_SWEN; RCC reset on HSI16
//! with CFGR.SW = SWS = HSI16 and a 4-bit PLLM (RM0440 §7.4); PWR_CR5.R1MODE
//! (RM0440 §6.4.18); GPIOA..GPIOG (RM0440 §9).

use super::family::Identity;
use super::nvmem::NvMem;
use super::stm32l4::options::Variant;
use super::stm32l4::soc::L4Soc;

/// The STM32G474RE SoC right after power-on.
pub(crate) fn power_on(ident: &'static Identity, nv: &NvMem) -> L4Soc {
    L4Soc::power_on(ident, Variant::G474, nv)
}
