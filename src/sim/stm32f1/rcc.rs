//! Reset and clock control (RM0008 §7.2 clock tree, §7.3 registers) of the STM32F103 (low-,
//! medium-, high- and XL-density register layout; no RCC_AHBRSTR/RCC_CFGR2, which exist on the
//! connectivity line only).
//!
//! Clock tree (Figure 8): SYSCLK from HSI (8 MHz), HSE (assumed 8 MHz crystal, as on most F103
//! boards; HSEBYP assumes an 8 MHz external clock) or the PLL (HSI/2, HSE or HSE/2 × 2..16, the
//! PLLMUL codes 1110 and 1111 both ×16); HCLK = SYSCLK / HPRE (1..512), PCLK1/PCLK2 = HCLK /
//! PPRE1/PPRE2 (1..16), timer kernel clocks ×2 when their APB prescaler ≠ 1, ADCCLK = PCLK2 /
//! 2, 4, 6 or 8, USB clock = PLL / 1.5 or PLL (USBPRE), MCO selection (SYSCLK, HSI, HSE, PLL/2).
//! LSI 40 kHz (RM0008 §7.2.5: the real LSI varies 30–60 kHz), LSE 32.768 kHz crystal assumed.
//!
//! Simplified, and documented as such:
//! * **Start-up time is zero**: HSIRDY, HSERDY, LSIRDY and LSERDY follow their ON bit at once;
//!   PLLRDY follows PLLON at once while the PLL's input clock is ready (no lock time). So a
//!   ready-interrupt flag (RCC_CIR.xRDYF) sets at the very write that switches the source on,
//!   if its xRDYIE is already set (the flag is set "when the clock becomes stable and xRDYIE is
//!   set", RM0008 §7.3.3).
//! * The HSE never fails: CSSON is stored, CSSF (which goes to the NMI) never sets.
//! * The 72 MHz / 36 MHz / 14 MHz / 48 MHz limits are not enforced (as on silicon: overclocking
//!   is not refused by the RCC).
//! * Enable/reset bits of peripherals absent on medium density (TIM5..14, SPI3, UART4/5, DAC,
//!   TIM8, ADC3, GPIOF/G, DMA2, FSMC, SDIO) are kept as written: RM0008 gives one register layout
//!   for all densities and does not say whether they stick on a medium-density die.
//!
//! Modelled as on silicon: SWS follows SW only when the selected source is ready, and switches
//! later when it becomes ready (§7.2.6); a clock in use (directly, through the PLL, or — HSI and
//! PLL — selected to become SYSCLK) cannot be stopped; PLLSRC/PLLXTPRE/PLLMUL are writable only
//! while PLLON = 0; HSEBYP/LSEBYP only while the oscillator is off; USBPRE cannot be cleared
//! while the USB clock is enabled; RCC_BDCR's backup-domain bits (LSEON, LSEBYP, RTCSEL, RTCEN)
//! are write-protected unless PWR_CR.DBP is set ([`Rcc::backup_writable`]), RTCSEL can be set
//! once until a backup-domain reset (BDRST), and BDCR survives a system reset
//! ([`Rcc::after_system_reset`]).

use crate::sim::periph::Clocks;

/// HSI frequency, Hz (RM0008 §7.2.2).
pub(crate) const HSI_HZ: u64 = 8_000_000;
/// Assumed HSE crystal, Hz.
pub(crate) const HSE_HZ: u64 = 8_000_000;
/// LSI frequency, Hz (typical value, RM0008 §7.2.5).
pub(crate) const LSI_HZ: u64 = 40_000;
/// LSE crystal, Hz (RM0008 §7.2.4).
pub(crate) const LSE_HZ: u64 = 32_768;

/// The bus a peripheral's enable/reset bit lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bus {
    /// RCC_AHBENR (no reset register on the F103).
    Ahb,
    /// RCC_APB1ENR / RCC_APB1RSTR.
    Apb1,
    /// RCC_APB2ENR / RCC_APB2RSTR.
    Apb2,
}

pub(crate) use super::super::soc::ResetCause;

// RCC_CR bits (RM0008 §7.3.1).
const HSION: u32 = 1 << 0;
const HSIRDY: u32 = 1 << 1;
const HSEON: u32 = 1 << 16;
const HSERDY: u32 = 1 << 17;
const HSEBYP: u32 = 1 << 18;
const PLLON: u32 = 1 << 24;
const PLLRDY: u32 = 1 << 25;
/// Writable RCC_CR bits: HSION, HSITRIM[7:3], HSEON, HSEBYP, CSSON, PLLON.
const CR_WRITABLE: u32 = 0x010D_00F9;
// RCC_CFGR (§7.3.2).
const PLLSRC: u32 = 1 << 16;
const PLLXTPRE: u32 = 1 << 17;
/// PLLSRC, PLLXTPRE, PLLMUL: writable only while the PLL is off.
const CFGR_PLL_CONFIG: u32 = 0x003F_0000;
const USBPRE: u32 = 1 << 22;
/// Writable RCC_CFGR bits: SW, HPRE, PPRE1, PPRE2, ADCPRE, PLLSRC, PLLXTPRE, PLLMUL, USBPRE, MCO.
const CFGR_WRITABLE: u32 = 0x077F_FFF3;
// RCC_CIR (§7.3.3): flags 0..4 (LSI, LSE, HSI, HSE, PLL ready), CSSF 7, enables 8..12, clears 16..20, CSSC 23.
const CIR_ENABLES: u32 = 0x1F00;
const CIR_LSI: u32 = 1 << 0;
const CIR_LSE: u32 = 1 << 1;
const CIR_HSI: u32 = 1 << 2;
const CIR_HSE: u32 = 1 << 3;
const CIR_PLL: u32 = 1 << 4;
const CIR_CSSF: u32 = 1 << 7;
/// Writable RCC_APB2RSTR/APB2ENR bits (§7.3.4, §7.3.7): AFIO, IOPA..IOPG, ADC1..3, TIM1, SPI1,
/// TIM8, USART1, TIM9..11.
pub(crate) const APB2_MASK: u32 = 0x0038_FFFD;
/// Writable RCC_APB1RSTR/APB1ENR bits (§7.3.5, §7.3.8): TIM2..7, TIM12..14, WWDG, SPI2/3,
/// USART2/3, UART4/5, I2C1/2, USB, CAN, BKP, PWR, DAC.
pub(crate) const APB1_MASK: u32 = 0x3AFE_C9FF;
/// Writable RCC_AHBENR bits (§7.3.6): DMA1, DMA2, SRAM, FLITF, CRC, FSMC, SDIO.
pub(crate) const AHB_MASK: u32 = 0x557;
/// RCC_AHBENR reset value: SRAMEN | FLITFEN.
pub(crate) const AHBENR_RESET: u32 = 0x14;
/// RCC_APB1ENR.USBEN.
const USBEN: u32 = 1 << 23;
// RCC_BDCR (§7.3.9).
const LSEON: u32 = 1 << 0;
const LSERDY: u32 = 1 << 1;
const LSEBYP: u32 = 1 << 2;
const RTCSEL: u32 = 3 << 8;
const RTCEN: u32 = 1 << 15;
const BDRST: u32 = 1 << 16;
// RCC_CSR (§7.3.10).
const LSION: u32 = 1 << 0;
const LSIRDY: u32 = 1 << 1;
const RMVF: u32 = 1 << 24;
/// The reset flags PINRSTF..LPWRRSTF (bits 26..31; bit 25 reserved).
const CSR_FLAGS: u32 = 0xFC00_0000;

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
    /// PWR_CR.DBP (RM0008 §5.4.1): the backup-domain bits of RCC_BDCR are writable. The PWR model
    /// owns the bit; the bus copies it here (false after every reset, as DBP).
    pub backup_writable: bool,
    /// The chip is in Stop or Standby (RM0008 §5.3.5/§5.3.6): "all clocks in
    /// the 1.8 V domain are stopped", so HSI, HSE and the PLL clock nothing;
    /// only the LSI and LSE run (IWDG, RTC). Set and cleared by the SoC.
    pub deep_sleep: bool,
}

impl Rcc {
    /// Register state after a system reset; `csr` carries over except for the new flag. BDCR
    /// starts at 0 (what a power-on reset gives; see [`after_system_reset`](Self::after_system_reset)).
    pub(crate) fn after_reset(prev_csr: u32, cause: ResetCause) -> Rcc {
        let flag = match cause {
            ResetCause::PowerOn => (1 << 27) | (1 << 26), // PORRSTF | PINRSTF
            ResetCause::Pin => 1 << 26,
            ResetCause::Software => (1 << 28) | (1 << 26), // SFTRSTF (+PINRSTF: NRST is driven low)
            ResetCause::IndependentWatchdog => (1 << 29) | (1 << 26), // IWDGRSTF (+PINRSTF)
        };
        let csr = if cause == ResetCause::PowerOn {
            flag
        } else {
            (prev_csr & CSR_FLAGS) | flag
        };
        Rcc {
            cr: 0x0000_0083 | (0x80 << 8), /* HSICAL */
            cfgr: 0,
            cir: 0,
            apb2rstr: 0,
            apb1rstr: 0,
            ahbenr: AHBENR_RESET,
            apb2enr: 0,
            apb1enr: 0,
            bdcr: 0,
            csr,
            backup_writable: false,
            deep_sleep: false,
        }
    }

    /// A system reset of `prev` (RM0008 §7.1.2): everything returns to its reset value except
    /// the reset flags of RCC_CSR (plus the new one) and RCC_BDCR, which is in the backup domain
    /// and is reset only by a backup-domain reset (§7.3.9).
    pub(crate) fn after_system_reset(prev: &Rcc, cause: ResetCause) -> Rcc {
        let mut r = Rcc::after_reset(prev.csr, cause);
        if cause != ResetCause::PowerOn {
            r.bdcr = prev.bdcr;
        }
        r
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
            _ => 0, // reserved (0x28 AHBRSTR and 0x2C CFGR2 exist on the connectivity line only)
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        let before = self.ready_bits();
        match off {
            0x00 => self.write_cr(v),
            0x04 => self.write_cfgr(v),
            0x08 => {
                let clear = ((v >> 16) & 0x1F) | ((v >> 16) & CIR_CSSF);
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
            _ => {}
        }
        self.settle(before);
    }

    fn write_cr(&mut self, v: u32) {
        let old = self.cr;
        let mut cr = (old & 0x0000_FF00) | (v & CR_WRITABLE);
        if old & HSEON != 0 {
            cr = (cr & !HSEBYP) | (old & HSEBYP); // HSEBYP: writable only with HSE off
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
        }
        if self.apb1enr & USBEN != 0 && self.cfgr & USBPRE != 0 {
            cfgr |= USBPRE;
        }
        self.cfgr = cfgr;
    }

    fn write_bdcr(&mut self, v: u32) {
        let old = self.bdcr;
        let mut b = (old & !BDRST) | (v & BDRST);
        if self.backup_writable && b & BDRST == 0 {
            let mut lse = v & (LSEON | LSEBYP);
            if old & LSEON != 0 {
                lse = (lse & !LSEBYP) | (old & LSEBYP); // LSEBYP: writable only with LSE off
            }
            let rtcsel = if old & RTCSEL == 0 {
                v & RTCSEL
            } else {
                old & RTCSEL
            };
            b = (b & !(LSEON | LSEBYP | RTCSEL | RTCEN)) | lse | rtcsel | (v & RTCEN);
        }
        if b & BDRST != 0 {
            b &= BDRST; // backup domain held in reset
        }
        self.bdcr = b;
    }

    /// The ready bits implied by the ON bits (zero start-up time), SWS following SW, and the
    /// ready-interrupt flags of the sources that became ready since `before`.
    fn settle(&mut self, before: u32) {
        settle_oscillators(
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

    /// The ready state as RCC_CIR flag positions (LSI, LSE, HSI, HSE, PLL).
    fn ready_bits(&self) -> u32 {
        ready_flags(self.cr, self.csr, self.bdcr)
    }

    /// Level of the RCC global interrupt (NVIC line 5, RM0008 Table 63): a ready flag whose
    /// enable is set. (CSSF goes to the NMI and never sets here.)
    pub(crate) fn irq(&self) -> bool {
        self.cir & (self.cir >> 8) & 0x1F != 0
    }

    /// Whether the clock of the peripheral with enable bit `bit` on `bus` is on (RCC_AHBENR,
    /// RCC_APB1ENR, RCC_APB2ENR).
    pub(crate) fn clock_enabled(&self, bus: Bus, bit: u32) -> bool {
        let reg = match bus {
            Bus::Ahb => self.ahbenr,
            Bus::Apb1 => self.apb1enr,
            Bus::Apb2 => self.apb2enr,
        };
        bit < 32 && reg & (1 << bit) != 0
    }

    /// Whether the peripheral with bit `bit` on `bus` is held in reset by RCC_APB1RSTR /
    /// RCC_APB2RSTR (the F103 has no AHB reset register: always false for AHB).
    pub(crate) fn held_in_reset(&self, bus: Bus, bit: u32) -> bool {
        let reg = match bus {
            Bus::Ahb => 0,
            Bus::Apb1 => self.apb1rstr,
            Bus::Apb2 => self.apb2rstr,
        };
        bit < 32 && reg & (1 << bit) != 0
    }

    /// Wake-up from Stop (RM0008 §5.3.5): HSI becomes the system clock; the PLL
    /// and HSE are off.
    pub(crate) fn exit_stop(&mut self) {
        let before = self.ready_bits();
        self.cr = (self.cr & !(HSEON | HSERDY | PLLON | PLLRDY)) | HSION | HSIRDY;
        self.cfgr &= !0xF;
        self.settle(before);
    }

    /// PLL output, Hz, or 0 while PLLRDY is clear.
    pub(crate) fn pll_hz(&self) -> u64 {
        if self.cr & PLLRDY == 0 {
            return 0;
        }
        let input = match (self.cfgr & PLLSRC != 0, self.cfgr & PLLXTPRE != 0) {
            (false, _) => HSI_HZ / 2,
            (true, false) => HSE_HZ,
            (true, true) => HSE_HZ / 2,
        };
        input * (((self.cfgr >> 18) & 0xF) as u64 + 2).min(16)
    }

    /// SYSCLK in Hz from SWS (RM0008 §7.2, Figure 8).
    pub(crate) fn sysclk_hz(&self) -> u64 {
        match (self.cfgr >> 2) & 3 {
            1 => HSE_HZ,
            2 => self.pll_hz(),
            _ => HSI_HZ,
        }
    }

    /// HCLK (core clock) in Hz: SYSCLK / AHB prescaler.
    pub(crate) fn hclk_hz(&self) -> u64 {
        let hpre = (self.cfgr >> 4) & 0xF;
        let div = if hpre < 8 {
            1
        } else {
            [2, 4, 8, 16, 64, 128, 256, 512][(hpre - 8) as usize]
        };
        (self.sysclk_hz() / div).max(1)
    }

    /// All bus and kernel clocks (RM0008 §7.2). `lsi`/`lse` are 0 while the oscillator is off.
    pub(crate) fn clocks(&self) -> Clocks {
        if self.deep_sleep {
            return Clocks {
                lsi: if self.csr & LSIRDY != 0 { LSI_HZ } else { 0 },
                lse: if self.bdcr & LSERDY != 0 { LSE_HZ } else { 0 },
                ..Clocks::default()
            };
        }
        let hclk = self.hclk_hz();
        let c = Clocks::from_apb(self.sysclk_hz(), hclk, self.cfgr >> 8, self.cfgr >> 11);
        let adc_div = 2 * (((self.cfgr >> 14) & 3) as u64 + 1);
        Clocks {
            adcclk: c.pclk2 / adc_div,
            lsi: if self.csr & LSIRDY != 0 { LSI_HZ } else { 0 },
            lse: if self.bdcr & LSERDY != 0 { LSE_HZ } else { 0 },
            ..c
        }
    }

    /// USB kernel clock, Hz: PLL / 1.5 (USBPRE = 0) or PLL (USBPRE = 1); 0 while the PLL is off
    /// (RM0008 §7.2: the USB needs 48 MHz).
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn usb_hz(&self) -> u64 {
        let pll = self.pll_hz();
        if self.cfgr & USBPRE != 0 {
            pll
        } else {
            pll * 2 / 3
        }
    }

    /// Frequency on the MCO pin, Hz (RCC_CFGR.MCO: 0xx none, 100 SYSCLK, 101 HSI, 110 HSE,
    /// 111 PLL/2); 0 when the selected clock is off.
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn mco_hz(&self) -> u64 {
        match (self.cfgr >> 24) & 7 {
            4 => self.sysclk_hz(),
            5 if self.cr & HSIRDY != 0 => HSI_HZ,
            6 if self.cr & HSERDY != 0 => HSE_HZ,
            7 => self.pll_hz() / 2,
            _ => 0,
        }
    }
}

/// The oscillator handshake of the F1-style RCC, also the F3's (RM0008 §7.3.1-§7.3.3,
/// §7.3.8-§7.3.10; the same bits in RM0316 §9.4.1-§9.4.3, §9.4.9-§9.4.10): each ready bit
/// follows its ON bit (zero start-up time), PLLRDY also needs the PLL input selected by
/// CFGR.PLLSRC, SWS follows SW once the selected source is ready (SW = 11 is not allowed),
/// and the RCC_CIR ready flags of sources that became ready since `before` (as
/// [`ready_flags`] gives them) are raised where their interrupt enable is set.
/// `regs` is [CR, CFGR, CSR, BDCR, CIR].
pub(crate) fn settle_oscillators(regs: [&mut u32; 5], before: u32) {
    let [cr_reg, cfgr, csr, bdcr, cir] = regs;
    let mut cr = *cr_reg & !(HSIRDY | HSERDY | PLLRDY);
    if cr & HSION != 0 {
        cr |= HSIRDY;
    }
    if cr & HSEON != 0 {
        cr |= HSERDY;
    }
    let pll_input_ready = if *cfgr & PLLSRC != 0 {
        cr & HSERDY != 0
    } else {
        cr & HSIRDY != 0
    };
    if cr & PLLON != 0 && pll_input_ready {
        cr |= PLLRDY;
    }
    *cr_reg = cr;
    *csr = (*csr & !LSIRDY) | if *csr & LSION != 0 { LSIRDY } else { 0 };
    *bdcr = (*bdcr & !LSERDY) | if *bdcr & LSEON != 0 { LSERDY } else { 0 };
    let sw = *cfgr & 3;
    let ready = match sw {
        0 => cr & HSIRDY != 0,
        1 => cr & HSERDY != 0,
        2 => cr & PLLRDY != 0,
        _ => false, // 11: not allowed
    };
    if ready {
        *cfgr = (*cfgr & !0xC) | (sw << 2);
    }
    let became = ready_flags(cr, *csr, *bdcr) & !before;
    *cir |= became & (*cir >> 8) & 0x1F;
}

/// The ready state of CR/CSR/BDCR as RCC_CIR flag positions (LSI, LSE, HSI, HSE, PLL).
pub(crate) fn ready_flags(cr: u32, csr: u32, bdcr: u32) -> u32 {
    let mut r = 0;
    if csr & LSIRDY != 0 {
        r |= CIR_LSI;
    }
    if bdcr & LSERDY != 0 {
        r |= CIR_LSE;
    }
    if cr & HSIRDY != 0 {
        r |= CIR_HSI;
    }
    if cr & HSERDY != 0 {
        r |= CIR_HSE;
    }
    if cr & PLLRDY != 0 {
        r |= CIR_PLL;
    }
    r
}

#[cfg(test)]
mod tests;
