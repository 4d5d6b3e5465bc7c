//! Reset and clock control of the STM32F303xB/C (RM0316 §9.2 clock tree,
//! §9.4 registers).
//!
//! Registers: CR 0x00 (reset 0x0000_8083: HSION, HSIRDY, HSITRIM 16, HSICAL),
//! CFGR 0x04, CIR 0x08, APB2RSTR 0x0C, APB1RSTR 0x10, AHBENR 0x14 (reset
//! 0x0000_0014: SRAMEN, FLITFEN), APB2ENR 0x18, APB1ENR 0x1C, BDCR 0x20 (reset
//! 0x0000_0018: LSEDRV = 11), CSR 0x24 (reset flags: PORRSTF | PINRSTF after
//! power-on), AHBRSTR 0x28, CFGR2 0x2C, CFGR3 0x30. Bits the RM reserves on
//! the xB/C line read 0.
//!
//! Clock tree (Figure 13): SYSCLK from HSI (8 MHz), HSE (assumed 8 MHz, as
//! the STM32F3DISCOVERY's ST-LINK MCO) or the PLL; PLL input HSI/2 (PLLSRC =
//! 0) or HSE/PREDIV (PLLSRC = 1, PREDIV = CFGR2[3:0] + 1, CFGR.PLLXTPRE being
//! the same bit as PREDIV[0]), × PLLMUL + 2 (codes 1110 and 1111 both ×16):
//! 8 MHz HSE × 9 = 72 MHz, HSI/2 × 16 = 64 MHz at most. HCLK = SYSCLK / HPRE,
//! PCLK1/PCLK2 = HCLK / PPRE1/PPRE2, timer clocks ×2 when their APB prescaler
//! ≠ 1. USART kernel clocks: CFGR3.USARTxSW (00 PCLK of its bus, 01 SYSCLK,
//! 10 LSE, 11 HSI). LSI 40 kHz, LSE 32.768 kHz.
//!
//! As on the F1 model (`stm32f1/rcc.rs`): oscillators and the PLL are ready at
//! once (no start-up or lock time), SWS follows SW only when the selected
//! source is ready, a clock in use cannot be stopped, the PLL configuration
//! (PLLSRC, PLLMUL, PREDIV) is writable only while PLLON = 0, HSEBYP/LSEBYP only
//! with their oscillator off, the backup-domain bits of BDCR need PWR_CR.DBP,
//! BDCR survives a system reset; the CSS never detects a failure; frequency
//! limits are not enforced. Reset flags (§9.4.10): PINRSTF is set with every
//! internal reset source, as they drive NRST low (§9.1.2); OBLRSTF marks the
//! reset by FLASH_CR.OBL_LAUNCH; V18PWRRSTF and LPWRRSTF never set.

use super::super::stm32f1::rcc as f1rcc;
use crate::sim::periph::Clocks;
use crate::sim::soc::ResetCause;

use super::map::Bus;

pub(crate) const HSI_HZ: u64 = 8_000_000;
pub(crate) const HSE_HZ: u64 = 8_000_000;
pub(crate) const LSI_HZ: u64 = 40_000;
pub(crate) const LSE_HZ: u64 = 32_768;

// RCC_CR (§9.4.1).
const HSION: u32 = 1 << 0;
const HSIRDY: u32 = 1 << 1;
const HSEON: u32 = 1 << 16;
const HSERDY: u32 = 1 << 17;
const HSEBYP: u32 = 1 << 18;
const PLLON: u32 = 1 << 24;
const PLLRDY: u32 = 1 << 25;
/// HSION, HSITRIM, HSEON, HSEBYP, CSSON, PLLON.
const CR_WRITABLE: u32 = 0x010D_00F9;
// RCC_CFGR (§9.4.2).
const PLLSRC: u32 = 1 << 16;
const PLLXTPRE: u32 = 1 << 17;
/// PLLSRC, PLLXTPRE, PLLMUL: writable only with the PLL off.
const CFGR_PLL_CONFIG: u32 = 0x003F_0000;
/// SW, HPRE, PPRE1, PPRE2, PLLSRC, PLLXTPRE, PLLMUL, USBPRE, I2SSRC, MCO.
const CFGR_WRITABLE: u32 = 0x07FF_3FF3;
// RCC_CIR (§9.4.3): as on the F1.
const CIR_ENABLES: u32 = 0x1F00;
/// Writable RCC_AHBENR bits (§9.4.6): DMA1, DMA2, SRAM, FLITF, CRC, IOPA..IOPF, TSC, ADC12, ADC34.
pub(crate) const AHB_MASK: u32 = 0x317E_0057;
/// RCC_AHBENR reset value: SRAMEN | FLITFEN.
pub(crate) const AHBENR_RESET: u32 = 0x14;
/// Writable RCC_AHBRSTR bits (§9.4.11): IOPA..IOPF, TSC, ADC12, ADC34.
const AHBRST_MASK: u32 = 0x317E_0000;
/// Writable RCC_APB2RSTR/APB2ENR bits (§9.4.4, §9.4.7): SYSCFG, TIM1, SPI1, TIM8, USART1, TIM15..17.
pub(crate) const APB2_MASK: u32 = 0x0007_7801;
/// Writable RCC_APB1RSTR/APB1ENR bits (§9.4.5, §9.4.8): TIM2..4, TIM6/7, WWDG, SPI2/3,
/// USART2/3, UART4/5, I2C1/2, USB, CAN, PWR, DAC1.
pub(crate) const APB1_MASK: u32 = 0x32FE_C837;
// RCC_BDCR (§9.4.9).
const LSEON: u32 = 1 << 0;
const LSERDY: u32 = 1 << 1;
const LSEBYP: u32 = 1 << 2;
const LSEDRV: u32 = 3 << 3;
const RTCSEL: u32 = 3 << 8;
const RTCEN: u32 = 1 << 15;
const BDRST: u32 = 1 << 16;
const BDCR_RESET: u32 = LSEDRV;
// RCC_CSR (§9.4.10).
const LSION: u32 = 1 << 0;
const LSIRDY: u32 = 1 << 1;
const RMVF: u32 = 1 << 24;
const OBLRSTF: u32 = 1 << 25;
const PINRSTF: u32 = 1 << 26;
const PORRSTF: u32 = 1 << 27;
const SFTRSTF: u32 = 1 << 28;
const IWDGRSTF: u32 = 1 << 29;
/// V18PWRRSTF (23) and OBLRSTF..LPWRRSTF (25..31).
const CSR_FLAGS: u32 = 0xFE80_0000;
/// CFGR2 (§9.4.12): PREDIV, ADC12PRES, ADC34PRES.
const CFGR2_MASK: u32 = 0x3FFF;
/// CFGR3 (§9.4.13): USART1SW, I2C1SW, I2C2SW, TIM1SW, TIM8SW, USART2SW, USART3SW, UART4SW, UART5SW.
const CFGR3_MASK: u32 = 0x00FF_0333;

/// Why the last reset happened, as RCC_CSR sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    Cause(ResetCause),
    /// FLASH_CR.OBL_LAUNCH (OBLRSTF).
    OptionByteLoad,
}

#[derive(Debug, Clone)]
pub(crate) struct Rcc {
    pub cr: u32,
    pub cfgr: u32,
    pub cir: u32,
    pub apb2rstr: u32,
    pub apb1rstr: u32,
    pub ahbenr: u32,
    pub apb2enr: u32,
    pub apb1enr: u32,
    pub bdcr: u32,
    pub csr: u32,
    pub ahbrstr: u32,
    pub cfgr2: u32,
    pub cfgr3: u32,
    /// PWR_CR.DBP, copied here by the SoC.
    pub backup_writable: bool,
    /// Stop or Standby: HSI, HSE and PLL clock nothing.
    pub deep_sleep: bool,
}

impl Rcc {
    /// The state after a reset of kind `flag`, from `prev` (None: power-on).
    pub(crate) fn after_reset(prev: Option<&Rcc>, flag: Flag) -> Rcc {
        let new = match flag {
            Flag::Cause(ResetCause::PowerOn) => PORRSTF | PINRSTF,
            Flag::Cause(ResetCause::Pin) => PINRSTF,
            Flag::Cause(ResetCause::Software) => SFTRSTF | PINRSTF,
            Flag::Cause(ResetCause::IndependentWatchdog) => IWDGRSTF | PINRSTF,
            Flag::OptionByteLoad => OBLRSTF | PINRSTF,
        };
        let power_on = prev.is_none() || flag == Flag::Cause(ResetCause::PowerOn);
        let (csr, bdcr) = match prev {
            Some(p) if !power_on => ((p.csr & CSR_FLAGS) | new, p.bdcr),
            _ => (new, BDCR_RESET),
        };
        Rcc {
            cr: 0x0000_0083 | (0x80 << 8),
            cfgr: 0,
            cir: 0,
            apb2rstr: 0,
            apb1rstr: 0,
            ahbenr: AHBENR_RESET,
            apb2enr: 0,
            apb1enr: 0,
            bdcr,
            csr,
            ahbrstr: 0,
            cfgr2: 0,
            cfgr3: 0,
            backup_writable: false,
            deep_sleep: false,
        }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => self.cr,
            0x04 => self.cfgr,
            0x08 => self.cir & (0x9F | CIR_ENABLES),
            0x0C => self.apb2rstr,
            0x10 => self.apb1rstr,
            0x14 => self.ahbenr,
            0x18 => self.apb2enr,
            0x1C => self.apb1enr,
            0x20 => self.bdcr,
            0x24 => self.csr,
            0x28 => self.ahbrstr,
            0x2C => self.cfgr2,
            0x30 => self.cfgr3,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        let before = self.ready_bits();
        match off {
            0x00 => self.write_cr(v),
            0x04 => self.write_cfgr(v),
            0x08 => {
                let clear = (v >> 16) & 0x9F;
                self.cir = ((self.cir & 0x9F) & !clear) | (v & CIR_ENABLES);
            }
            0x0C => self.apb2rstr = v & APB2_MASK,
            0x10 => self.apb1rstr = v & APB1_MASK,
            0x14 => self.ahbenr = v & AHB_MASK,
            0x18 => self.apb2enr = v & APB2_MASK,
            0x1C => self.apb1enr = v & APB1_MASK,
            0x20 => self.write_bdcr(v),
            0x24 => {
                if v & RMVF != 0 {
                    self.csr &= !CSR_FLAGS;
                }
                self.csr = (self.csr & !LSION) | (v & LSION);
            }
            0x28 => self.ahbrstr = v & AHBRST_MASK,
            0x2C => {
                if self.cr & PLLON == 0 {
                    self.cfgr2 = v & CFGR2_MASK;
                    // PLLXTPRE is PREDIV[0] (§9.4.2).
                    self.cfgr = (self.cfgr & !PLLXTPRE) | ((v & 1) << 17);
                } else {
                    self.cfgr2 = (self.cfgr2 & 0xF) | (v & CFGR2_MASK & !0xF);
                }
            }
            0x30 => self.cfgr3 = v & CFGR3_MASK,
            _ => {}
        }
        self.settle(before);
    }

    fn write_cr(&mut self, v: u32) {
        let old = self.cr;
        let mut cr = (old & 0x0000_FF00) | (v & CR_WRITABLE);
        if old & HSEON != 0 {
            cr = (cr & !HSEBYP) | (old & HSEBYP);
        }
        let sw = self.cfgr & 3;
        let sws = (self.cfgr >> 2) & 3;
        let pll_sys = sws == 2;
        let pll_from_hse = self.cfgr & PLLSRC != 0;
        if sws == 0 || sw == 0 || (pll_sys && !pll_from_hse) {
            cr |= HSION;
        }
        if sws == 1 || (pll_sys && pll_from_hse) {
            cr |= HSEON;
        }
        if sws == 2 || sw == 2 {
            cr |= PLLON;
        }
        self.cr = cr;
    }

    fn write_cfgr(&mut self, v: u32) {
        let mut cfgr = (self.cfgr & !CFGR_WRITABLE) | (v & CFGR_WRITABLE);
        if self.cr & PLLON != 0 {
            cfgr = (cfgr & !CFGR_PLL_CONFIG) | (self.cfgr & CFGR_PLL_CONFIG);
        } else {
            self.cfgr2 = (self.cfgr2 & !1) | ((cfgr >> 17) & 1);
        }
        self.cfgr = cfgr;
    }

    fn write_bdcr(&mut self, v: u32) {
        let old = self.bdcr;
        let mut b = (old & !BDRST) | (v & BDRST);
        if self.backup_writable && b & BDRST == 0 {
            let mut lse = v & (LSEON | LSEBYP);
            if old & LSEON != 0 {
                lse = (lse & !LSEBYP) | (old & LSEBYP);
            }
            let rtcsel = if old & RTCSEL == 0 {
                v & RTCSEL
            } else {
                old & RTCSEL
            };
            b = (b & !(LSEON | LSEBYP | LSEDRV | RTCSEL | RTCEN))
                | lse
                | (v & LSEDRV)
                | rtcsel
                | (v & RTCEN);
        }
        if b & BDRST != 0 {
            b &= BDRST;
        }
        self.bdcr = b;
    }

    /// The oscillator handshake, as on the F1 (the same CR/CFGR/CSR/BDCR/CIR bits).
    fn settle(&mut self, before: u32) {
        f1rcc::settle_oscillators(
            [
                &mut self.cr,
                &mut self.cfgr,
                &mut self.csr,
                &mut self.bdcr,
                &mut self.cir,
            ],
            before,
        );
    }

    /// LSI, LSE, HSI, HSE, PLL ready, as RCC_CIR flag positions.
    fn ready_bits(&self) -> u32 {
        f1rcc::ready_flags(self.cr, self.csr, self.bdcr)
    }

    /// The RCC global interrupt (NVIC line 5).
    pub(crate) fn irq(&self) -> bool {
        self.cir & (self.cir >> 8) & 0x1F != 0
    }

    pub(crate) fn clock_enabled(&self, bus: Bus, bit: u32) -> bool {
        let reg = match bus {
            Bus::Ahb => self.ahbenr,
            Bus::Apb1 => self.apb1enr,
            Bus::Apb2 => self.apb2enr,
        };
        bit < 32 && reg & (1 << bit) != 0
    }

    pub(crate) fn held_in_reset(&self, bus: Bus, bit: u32) -> bool {
        let reg = match bus {
            Bus::Ahb => self.ahbrstr,
            Bus::Apb1 => self.apb1rstr,
            Bus::Apb2 => self.apb2rstr,
        };
        bit < 32 && reg & (1 << bit) != 0
    }

    /// Wake-up from Stop (RM0316 §6.3.5): HSI is the system clock, HSE and PLL off.
    pub(crate) fn exit_stop(&mut self) {
        let before = self.ready_bits();
        self.cr = (self.cr & !(HSEON | HSERDY | PLLON | PLLRDY)) | HSION | HSIRDY;
        self.cfgr &= !0xF;
        self.settle(before);
    }

    /// PLL output, Hz (0 while PLLRDY is clear).
    pub(crate) fn pll_hz(&self) -> u64 {
        if self.cr & PLLRDY == 0 {
            return 0;
        }
        let input = if self.cfgr & PLLSRC == 0 {
            HSI_HZ / 2
        } else {
            HSE_HZ / ((self.cfgr2 & 0xF) as u64 + 1)
        };
        input * (((self.cfgr >> 18) & 0xF) as u64 + 2).min(16)
    }

    pub(crate) fn sysclk_hz(&self) -> u64 {
        match (self.cfgr >> 2) & 3 {
            1 => HSE_HZ,
            2 => self.pll_hz(),
            _ => HSI_HZ,
        }
    }

    pub(crate) fn hclk_hz(&self) -> u64 {
        let hpre = (self.cfgr >> 4) & 0xF;
        let div = if hpre < 8 {
            1
        } else {
            [2, 4, 8, 16, 64, 128, 256, 512][(hpre - 8) as usize]
        };
        (self.sysclk_hz() / div).max(1)
    }

    /// HSI as a kernel clock, Hz (0 while it is off).
    pub(crate) fn hsi_hz(&self) -> u64 {
        if self.cr & HSIRDY != 0 && !self.deep_sleep {
            HSI_HZ
        } else {
            0
        }
    }

    /// CFGR3.USARTxSW of USART `i` (0 = USART1).
    pub(crate) fn usart_sw(&self, i: usize) -> u32 {
        match i {
            0 => self.cfgr3 & 3,
            _ => (self.cfgr3 >> (16 + 2 * (i as u32 - 1))) & 3,
        }
    }

    pub(crate) fn clocks(&self) -> Clocks {
        let lsi = if self.csr & LSIRDY != 0 { LSI_HZ } else { 0 };
        let lse = if self.bdcr & LSERDY != 0 { LSE_HZ } else { 0 };
        if self.deep_sleep {
            return Clocks {
                lsi,
                lse,
                ..Clocks::default()
            };
        }
        Clocks {
            lsi,
            lse,
            ..Clocks::from_apb(
                self.sysclk_hz(),
                self.hclk_hz(),
                self.cfgr >> 8,
                self.cfgr >> 11,
            )
        }
    }
}
