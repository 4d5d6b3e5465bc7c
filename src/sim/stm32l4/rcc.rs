//! Reset and clock control of the STM32L476 (RM0351 §6.4) and the STM32G474
//! (RM0440 §7.4) at 0x4002_1000: the registers of the two are laid out
//! alike (CR 0x00, ICSCR 0x04, CFGR 0x08, PLLCFGR 0x0C, the enable
//! registers AHB1ENR 0x48 … APB2ENR 0x60, BDCR 0x90, CSR 0x94).
//!
//! Modelled: oscillators MSI (L4, 100 kHz … 48 MHz per MSIRANGE), HSI16,
//! HSE (8 MHz: the ST-LINK's MCO on the Nucleo boards), the main PLL
//! (f = src / M · N / R), the system clock switch CFGR.SW/SWS (a source that
//! is not ready is not selected), the AHB prescaler HPRE and the APB
//! prescalers PPRE1 [10:8] / PPRE2 [13:11] (RM0351 §6.4.3, RM0440 §7.4.3:
//! 0xx = 1, 100 = 2 … 111 = 16), the timer clocks (the APB clock, ×2 when its
//! prescaler is not 1: RM0351 §6.2, RM0440 §7.2), [`Rcc::clocks`]; the
//! enable and reset registers (stored; the SoC gates and holds its blocks
//! with them: APB1ENR1 0x58 / APB1RSTR1 0x38 TIM2 bit 0, USART2 bit 17,
//! USART3 bit 18, PWR bit 28; APB2ENR 0x60 / APB2RSTR 0x40 USART1 bit 14;
//! RM0351 §6.4.13, §6.4.15, §6.4.19, §6.4.21, RM0440 §7.4.11, §7.4.13,
//! §7.4.17, §7.4.19); the USART kernel clock mux CCIPR 0x88 USART1SEL [1:0],
//! USART2SEL [3:2], USART3SEL [5:4] (00 PCLK, 01 SYSCLK, 10 HSI16, 11 LSE;
//! RM0351 §6.4.28, RM0440 §7.4.26), [`Rcc::usart_sel`]; LSI (CSR.LSION, 32
//! kHz) and LSE (BDCR.LSEON, 32.768 kHz) as kernel clocks; the reset flags
//! of CSR with RMVF. Ready flags follow their ON bits at once (oscillators
//! start instantly; BDCR.LSERDY follows LSEON). After reset the L4 runs on
//! MSI 4 MHz (CR = 0x63, CSR.MSISRANGE = 6), the G4 on HSI16 (CR = 0x500,
//! CFGR.SW = SWS = HSI16). Not modelled: PLLSAI1/2, the PLL's P/Q outputs,
//! LSE/LSI timing, CSS, MCO, the other kernel clock muxes of CCIPR/CCIPR2
//! (stored), the backup domain (BDCR is reset with the system and needs no
//! PWR_CR1.DBP).

use super::super::periph::Clocks;
use super::super::soc::ResetCause;
use super::options::Variant;

/// HSE frequency, Hz (the 8 MHz MCO of the on-board ST-LINK).
pub(crate) const HSE_HZ: u64 = 8_000_000;
pub(crate) const HSI16_HZ: u64 = 16_000_000;
/// LSI, Hz (RM0351 §6.2.6, RM0440 §7.2.6: 32 kHz).
const LSI_HZ: u64 = 32_000;
/// LSE, Hz (the 32.768 kHz crystal of the Nucleo boards).
const LSE_HZ: u64 = 32_768;
/// RCC_BDCR offset and its LSEON/LSERDY bits (RM0351 §6.4, RM0440 §7.4: bits 0, 1).
const BDCR: u32 = 0x90;
const LSEON: u32 = 1 << 0;
const LSERDY: u32 = 1 << 1;
/// RCC_CCIPR offset (RM0351 §6.4.28, RM0440 §7.4.26).
const CCIPR: u32 = 0x88;
/// MSI ranges 0..=11, Hz (RM0351 §6.4.1).
const MSI_HZ: [u64; 12] = [
    100_000, 200_000, 400_000, 800_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000, 16_000_000,
    24_000_000, 32_000_000, 48_000_000,
];

// RCC_CSR flags (RM0351 §6.4.29, RM0440 §7.4.27)
pub(crate) const CSR_RMVF: u32 = 1 << 23;
pub(crate) const CSR_OBLRSTF: u32 = 1 << 25;
pub(crate) const CSR_PINRSTF: u32 = 1 << 26;
pub(crate) const CSR_BORRSTF: u32 = 1 << 27;
pub(crate) const CSR_SFTRSTF: u32 = 1 << 28;
pub(crate) const CSR_IWDGRSTF: u32 = 1 << 29;
/// The reset flags FWRSTF (L4) … LPWRRSTF.
const CSR_FLAGS: u32 = 0xFF00_0000;

/// The APB bus of a block's enable and reset bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Apb {
    /// RCC_APB1ENR1 / RCC_APB1RSTR1.
    Apb1,
    /// RCC_APB2ENR / RCC_APB2RSTR.
    Apb2,
}

/// Why the chip was reset, as the flash and power logic see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    Reset(ResetCause),
    /// OBL_LAUNCH (RCC_CSR.OBLRSTF).
    OptionByteLoad,
}

#[derive(Debug, Clone)]
pub(crate) struct Rcc {
    variant: Variant,
    pub cr: u32,
    pub icscr: u32,
    pub cfgr: u32,
    pub pllcfgr: u32,
    /// Registers 0x10..0x9C kept as written (enable, reset, CCIPR …), by word index.
    regs: [u32; 40],
    pub csr: u32,
}

impl Rcc {
    /// State after a reset of `cause`; `prev_csr` carries the reset flags
    /// (kept until RMVF or a power-on/brown-out reset).
    pub(crate) fn after_reset(variant: Variant, prev_csr: u32, cause: Cause) -> Rcc {
        let flag = match cause {
            Cause::Reset(ResetCause::PowerOn) => CSR_BORRSTF | CSR_PINRSTF,
            Cause::Reset(ResetCause::Pin) => CSR_PINRSTF,
            // Internal resets drive NRST low too (RM0351 §6.1.2).
            Cause::Reset(ResetCause::Software) => CSR_SFTRSTF | CSR_PINRSTF,
            Cause::Reset(ResetCause::IndependentWatchdog) => CSR_IWDGRSTF | CSR_PINRSTF,
            Cause::OptionByteLoad => CSR_OBLRSTF | CSR_PINRSTF,
        };
        let kept = if cause == Cause::Reset(ResetCause::PowerOn) {
            0
        } else {
            prev_csr & CSR_FLAGS
        };
        let mut regs = [0u32; 40];
        // AHB1ENR.FLASHEN (RM0351 §6.4.16), G4 APB1ENR1.RTCAPBEN (RM0440 §7.4.18).
        regs[(0x48 - 0x10) / 4] = 1 << 8;
        let (cr, cfgr, csr) = match variant {
            Variant::L476 => (0x0000_0063, 0, 6 << 8),
            Variant::G474 => {
                regs[(0x58 - 0x10) / 4] = 1 << 10;
                (0x0000_0500, 0x0000_0005, 0)
            }
        };
        Rcc {
            variant,
            cr,
            icscr: 0x4000_0000,
            cfgr,
            pllcfgr: 0x0000_1000,
            regs,
            csr: csr | kept | flag,
        }
    }

    fn reg(&self, off: u32) -> u32 {
        self.regs[((off - 0x10) / 4) as usize]
    }

    /// RCC_AHB2ENR (GPIO clocks in bits 0..7).
    pub(crate) fn ahb2enr(&self) -> u32 {
        self.reg(0x4C)
    }

    /// RCC_APB1ENR1 (PWREN bit 28).
    pub(crate) fn apb1enr1(&self) -> u32 {
        self.reg(0x58)
    }

    /// Whether the clock of the block with enable bit `bit` of `bus`'s
    /// enable register is on (RCC_APB1ENR1 0x58, RCC_APB2ENR 0x60).
    pub(crate) fn clock_enabled(&self, bus: Apb, bit: u32) -> bool {
        let off = match bus {
            Apb::Apb1 => 0x58,
            Apb::Apb2 => 0x60,
        };
        self.reg(off) & (1 << bit) != 0
    }

    /// Whether that block is held in reset (RCC_APB1RSTR1 0x38, RCC_APB2RSTR 0x40).
    pub(crate) fn held_in_reset(&self, bus: Apb, bit: u32) -> bool {
        let off = match bus {
            Apb::Apb1 => 0x38,
            Apb::Apb2 => 0x40,
        };
        self.reg(off) & (1 << bit) != 0
    }

    /// RCC_CCIPR.USARTxSEL of USART `i` (0 = USART1): 00 PCLK, 01 SYSCLK,
    /// 10 HSI16, 11 LSE.
    pub(crate) fn usart_sel(&self, i: usize) -> u32 {
        (self.reg(CCIPR) >> (2 * i)) & 3
    }

    /// HSI16 as a kernel clock, Hz (0 while RCC_CR.HSIRDY is clear).
    pub(crate) fn hsi16_hz(&self) -> u64 {
        if self.cr & (1 << 10) != 0 {
            HSI16_HZ
        } else {
            0
        }
    }

    /// The bus and kernel clocks the peripheral models count with.
    pub(crate) fn clocks(&self) -> Clocks {
        let hclk = self.hclk_hz();
        Clocks {
            lsi: if self.csr & 2 != 0 { LSI_HZ } else { 0 },
            lse: if self.reg(BDCR) & LSERDY != 0 {
                LSE_HZ
            } else {
                0
            },
            ..Clocks::from_apb(self.sysclk_hz(), hclk, self.cfgr >> 8, self.cfgr >> 11)
        }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => self.cr,
            0x04 => self.icscr,
            0x08 => self.cfgr,
            0x0C => self.pllcfgr,
            0x94 => self.csr,
            0x10..0xA0 => self.reg(off),
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x00 => {
                // Writable ON/config bits; the RDY flags follow the ONs.
                let on = match self.variant {
                    // MSION MSIPLLEN MSIRGSEL MSIRANGE HSION HSIKERON HSIASFS
                    // HSEON HSEBYP CSSON PLLON PLLSAI1ON PLLSAI2ON
                    Variant::L476 => 0x150D_0BFD,
                    // HSION HSIKERON HSEON HSEBYP CSSON PLLON
                    Variant::G474 => 0x010D_0300,
                };
                let mut cr = v & on;
                // A running system clock source cannot be switched off.
                match self.cfgr >> 2 & 3 {
                    0 if self.variant == Variant::L476 => cr |= 1,
                    1 => cr |= 1 << 8,
                    2 => cr |= 1 << 16,
                    3 => cr |= 1 << 24,
                    _ => {}
                }
                for (onb, rdy) in [(0, 1), (8, 10), (16, 17), (24, 25), (26, 27), (28, 29)] {
                    if cr & (1 << onb) != 0 {
                        cr |= 1 << rdy;
                    }
                }
                self.cr = cr;
            }
            0x04 => self.icscr = v,
            0x08 => {
                let sw = v & 3;
                let ready = match (sw, self.variant) {
                    (0, Variant::L476) => self.cr & (1 << 1) != 0,
                    (0, Variant::G474) => false, // reserved
                    (1, _) => self.cr & (1 << 10) != 0,
                    (2, _) => self.cr & (1 << 17) != 0,
                    _ => self.cr & (1 << 25) != 0,
                };
                let sws = if ready { sw } else { (self.cfgr >> 2) & 3 };
                self.cfgr = (v & !0xC) | (sws << 2);
            }
            0x0C if self.cr & (1 << 24) == 0 => self.pllcfgr = v, // PLLCFGR only while PLLON = 0
            0x94 => {
                let w = 0x0000_0F01; // LSION, MSISRANGE
                self.csr = (self.csr & !w) | (v & w);
                if self.csr & 1 != 0 {
                    self.csr |= 2; // LSIRDY
                } else {
                    self.csr &= !2;
                }
                if v & CSR_RMVF != 0 {
                    self.csr &= !CSR_FLAGS;
                }
            }
            BDCR => {
                let lserdy = if v & LSEON != 0 { LSERDY } else { 0 };
                self.regs[((BDCR - 0x10) / 4) as usize] = (v & !LSERDY) | lserdy;
            }
            0x10..0xA0 => self.regs[((off - 0x10) / 4) as usize] = v,
            _ => {}
        }
    }

    fn msi_hz(&self) -> u64 {
        let range = if self.cr & (1 << 3) != 0 {
            (self.cr >> 4) & 0xF
        } else {
            (self.csr >> 8) & 0xF
        };
        MSI_HZ.get(range as usize).copied().unwrap_or(4_000_000)
    }

    /// The main PLL's R output, Hz.
    fn pll_hz(&self) -> u64 {
        let p = self.pllcfgr;
        let src = match p & 3 {
            1 if self.variant == Variant::L476 => self.msi_hz(),
            2 => HSI16_HZ,
            3 => HSE_HZ,
            _ => 0,
        };
        let m = match self.variant {
            Variant::L476 => ((p >> 4) & 7) + 1,
            Variant::G474 => ((p >> 4) & 0xF) + 1,
        } as u64;
        let n = ((p >> 8) & 0x7F) as u64;
        let r = 2 * (((p >> 25) & 3) + 1) as u64;
        src / m * n / r
    }

    /// SYSCLK, Hz (CFGR.SWS).
    pub(crate) fn sysclk_hz(&self) -> u64 {
        match ((self.cfgr >> 2) & 3, self.variant) {
            (0, Variant::L476) => self.msi_hz(),
            (1, _) => HSI16_HZ,
            (2, _) => HSE_HZ,
            (3, _) => self.pll_hz(),
            _ => HSI16_HZ,
        }
    }

    /// HCLK = SYSCLK / HPRE, Hz.
    pub(crate) fn hclk_hz(&self) -> u64 {
        let hpre = (self.cfgr >> 4) & 0xF;
        let div = if hpre < 8 {
            1
        } else {
            [2, 4, 8, 16, 64, 128, 256, 512][(hpre - 8) as usize]
        };
        (self.sysclk_hz() / div).max(1)
    }

    /// Wake-up from Stop: the system clock is MSI (L4; HSI16 with
    /// CFGR.STOPWUCK) or HSI16 (G4), RM0351 §5.3.6, RM0440 §6.3.4; the PLL stops.
    pub(crate) fn exit_stop(&mut self) {
        let hsi = self.variant == Variant::G474 || self.cfgr & (1 << 15) != 0;
        self.cr &= !((1 << 24) | (1 << 25));
        if hsi {
            self.cr |= (1 << 8) | (1 << 10);
            self.cfgr = (self.cfgr & !0xF) | 0b0101;
        } else {
            self.cr |= 0b11;
            self.cfgr &= !0xF;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_clocks_and_pll_switch() {
        let mut l4 = Rcc::after_reset(Variant::L476, 0, Cause::Reset(ResetCause::PowerOn));
        assert_eq!(l4.hclk_hz(), 4_000_000, "MSI 4 MHz");
        assert_eq!(l4.read(0x94) & CSR_FLAGS, CSR_BORRSTF | CSR_PINRSTF);
        // OpenOCD's stm32l4x reset-init: RCC_CR = 0x99 (MSI range 9, 24 MHz, MSIRGSEL).
        l4.write(0x00, 0x99);
        assert_eq!(l4.hclk_hz(), 24_000_000);
        // PLL from MSI 4 MHz… back to range 6: M=1, N=40, R=2 → 80 MHz.
        l4.write(0x00, 0x69);
        l4.write(0x0C, 1 | (40 << 8) | (1 << 24));
        l4.write(0x00, 0x69 | (1 << 24));
        assert_ne!(l4.read(0x00) & (1 << 25), 0, "PLLRDY");
        l4.write(0x08, 3);
        assert_eq!(l4.read(0x08) & 0xF, 0xF, "SWS = PLL");
        assert_eq!(l4.hclk_hz(), 80_000_000);
        let mut g4 = Rcc::after_reset(Variant::G474, 0, Cause::Reset(ResetCause::PowerOn));
        assert_eq!(g4.read(0x00), 0x500);
        assert_eq!(g4.read(0x08), 5);
        assert_eq!(g4.hclk_hz(), 16_000_000);
        // HSI16 / 4 * 85 / 2 = 170 MHz.
        g4.write(0x0C, 2 | (3 << 4) | (85 << 8) | (1 << 24));
        g4.write(0x08, 3);
        assert_eq!(g4.hclk_hz(), 16_000_000, "PLL not ready: not selected");
        g4.write(0x00, 0x500 | (1 << 24));
        g4.write(0x08, 3);
        assert_eq!(g4.hclk_hz(), 170_000_000);
    }

    #[test]
    fn apb_prescalers_timer_clocks_and_usart_kernel_mux() {
        let mut g4 = Rcc::after_reset(Variant::G474, 0, Cause::Reset(ResetCause::PowerOn));
        let c = g4.clocks();
        assert_eq!(
            (c.sysclk, c.hclk, c.pclk1, c.pclk2, c.tim_pclk1, c.tim_pclk2),
            (
                16_000_000, 16_000_000, 16_000_000, 16_000_000, 16_000_000, 16_000_000
            )
        );
        assert_eq!((c.lsi, c.lse), (0, 0));
        // HPRE = 1000 (/2), PPRE1 = 101 (/4), PPRE2 = 011 (/1).
        g4.write(0x08, 1 | (0b1000 << 4) | (0b101 << 8) | (0b011 << 11));
        let c = g4.clocks();
        assert_eq!(
            (c.hclk, c.pclk1, c.pclk2),
            (8_000_000, 2_000_000, 8_000_000)
        );
        assert_eq!(
            (c.tim_pclk1, c.tim_pclk2),
            (4_000_000, 8_000_000),
            "×2 only if ≠ 1"
        );
        // PPRE2 = 111 (/16).
        g4.write(0x08, 1 | (0b111 << 11));
        assert_eq!(g4.clocks().pclk2, 1_000_000);
        assert_eq!(g4.clocks().tim_pclk2, 2_000_000);
        // CCIPR: USART1SEL = 01, USART2SEL = 10, USART3SEL = 11.
        g4.write(0x88, 0b11_10_01);
        assert_eq!(
            [g4.usart_sel(0), g4.usart_sel(1), g4.usart_sel(2)],
            [1, 2, 3]
        );
        assert_eq!(g4.hsi16_hz(), 16_000_000);
        // LSERDY follows LSEON; LSIRDY follows LSION.
        g4.write(0x90, 1);
        g4.write(0x94, 1);
        assert_eq!(g4.read(0x90) & 3, 3);
        assert_eq!((g4.clocks().lse, g4.clocks().lsi), (32_768, 32_000));
        let l4 = Rcc::after_reset(Variant::L476, 0, Cause::Reset(ResetCause::PowerOn));
        assert_eq!(l4.clocks().pclk1, 4_000_000);
        assert_eq!(l4.hsi16_hz(), 0, "HSI16 off after reset on the L4");
    }

    #[test]
    fn reset_flags_accumulate_until_rmvf() {
        let r = Rcc::after_reset(Variant::G474, 0, Cause::Reset(ResetCause::PowerOn));
        let mut r = Rcc::after_reset(Variant::G474, r.csr, Cause::OptionByteLoad);
        assert_eq!(r.csr & CSR_FLAGS, CSR_BORRSTF | CSR_PINRSTF | CSR_OBLRSTF);
        r.write(0x94, CSR_RMVF);
        assert_eq!(r.csr & CSR_FLAGS, 0);
        let r = Rcc::after_reset(
            Variant::G474,
            r.csr,
            Cause::Reset(ResetCause::IndependentWatchdog),
        );
        assert_eq!(r.csr & CSR_FLAGS, CSR_IWDGRSTF | CSR_PINRSTF);
    }
}
