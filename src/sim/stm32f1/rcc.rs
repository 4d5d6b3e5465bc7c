//! Reset and clock control (RM0008 §7.3). Oscillators and the PLL become ready
//! as soon as they are switched on (simplified: no start-up time); SWS follows
//! SW when the selected source is ready. The core clock (HCLK) is derived from
//! the configuration and sets how many instructions the core runs per unit of
//! wire time. HSE is assumed to be an 8 MHz crystal (as on most F103 boards).

/// HSI frequency, Hz (RM0008 §7.2.2).
pub(crate) const HSI_HZ: u64 = 8_000_000;
/// Assumed HSE crystal, Hz.
pub(crate) const HSE_HZ: u64 = 8_000_000;

pub(crate) use super::super::soc::ResetCause;

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
}

impl Rcc {
    /// Register state after a system reset; `csr` carries over except for the new flag.
    pub(crate) fn after_reset(prev_csr: u32, cause: ResetCause) -> Rcc {
        let flag = match cause {
            ResetCause::PowerOn => (1 << 27) | (1 << 26), // PORRSTF | PINRSTF
            ResetCause::Pin => 1 << 26,
            ResetCause::Software => (1 << 28) | (1 << 26), // SFTRSTF (+PINRSTF: NRST is driven low)
            ResetCause::IndependentWatchdog => (1 << 29) | (1 << 26), // IWDGRSTF (+PINRSTF)
            ResetCause::WindowWatchdog => (1 << 30) | (1 << 26), // WWDGRSTF (+PINRSTF)
        };
        let csr = if cause == ResetCause::PowerOn {
            flag
        } else {
            (prev_csr & 0xFE00_0000) | flag
        };
        Rcc {
            cr: 0x0000_0083 | (0x80 << 8), /* HSICAL */
            cfgr: 0,
            cir: 0,
            apb2rstr: 0,
            apb1rstr: 0,
            ahbenr: 0x14,
            apb2enr: 0,
            apb1enr: 0,
            bdcr: 0,
            csr,
        }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => self.cr,
            0x04 => self.cfgr,
            0x08 => self.cir,
            0x0C => self.apb2rstr,
            0x10 => self.apb1rstr,
            0x14 => self.ahbenr,
            0x18 => self.apb2enr,
            0x1C => self.apb1enr,
            0x20 => self.bdcr,
            0x24 => self.csr,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x00 => {
                // HSION(0) HSITRIM(7:3) HSEON(16) HSEBYP(18) CSSON(19) PLLON(24)
                let mut cr = (self.cr & 0x0000_FF00) | (v & 0x010D_00F9);
                if cr & 1 != 0 {
                    cr |= 1 << 1;
                }
                if cr & (1 << 16) != 0 {
                    cr |= 1 << 17;
                }
                if cr & (1 << 24) != 0 {
                    cr |= 1 << 25;
                }
                // HSI cannot be stopped while it is the system clock.
                if self.cfgr & 0xC == 0 {
                    cr |= 0b11;
                }
                self.cr = cr;
            }
            0x04 => {
                let sw = v & 3;
                let ready = match sw {
                    0 => self.cr & 2 != 0,
                    1 => self.cr & (1 << 17) != 0,
                    2 => self.cr & (1 << 25) != 0,
                    _ => false,
                };
                let sws = if ready { sw } else { (self.cfgr >> 2) & 3 };
                self.cfgr = (v & 0x07FF_FFF3) | (sws << 2);
            }
            0x08 => self.cir = v & 0x1F00, // interrupt enables; flags not modelled
            0x0C => self.apb2rstr = v,
            0x10 => self.apb1rstr = v,
            0x14 => self.ahbenr = v & 0x557,
            0x18 => self.apb2enr = v & 0x0038_FFFD,
            0x1C => self.apb1enr = v & 0x3AFE_C9FF,
            0x20 => self.bdcr = v,
            0x24 => {
                if v & (1 << 24) != 0 {
                    self.csr &= !0xFE00_0000; // RMVF
                }
                self.csr = (self.csr & !1) | (v & 1) | if v & 1 != 0 { 2 } else { 0 };
            }
            _ => {}
        }
    }

    /// Wake-up from Stop (RM0008 §5.3.5): HSI becomes the system clock; the PLL
    /// and HSE are off.
    pub(crate) fn exit_stop(&mut self) {
        self.cr = (self.cr & !((1 << 16) | (1 << 17) | (1 << 24) | (1 << 25))) | 0b11;
        self.cfgr &= !0xF;
    }

    /// SYSCLK in Hz from SWS (RM0008 §7.2, Figure 8).
    pub(crate) fn sysclk_hz(&self) -> u64 {
        match (self.cfgr >> 2) & 3 {
            1 => HSE_HZ,
            2 => {
                let src = if self.cfgr & (1 << 16) != 0 {
                    if self.cfgr & (1 << 17) != 0 {
                        HSE_HZ / 2
                    } else {
                        HSE_HZ
                    }
                } else {
                    HSI_HZ / 2
                };
                let mul = (((self.cfgr >> 18) & 0xF) as u64 + 2).min(16);
                src * mul
            }
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
}
