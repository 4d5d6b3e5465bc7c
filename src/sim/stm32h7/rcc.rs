//! Reset and clock control of the STM32H743 (RM0433 §8) at 0x5802_4400.
//!
//! Modelled (RM0433 §8.7):
//! * RCC_CR 0x00 (§8.7.2, reset 0x0000_0025): HSION/HSIRDY, HSIDIV [4:3]
//!   (64 MHz ÷ 1, 2, 4, 8; HSIDIVF reads 1: the new division is in force at
//!   once), CSION/CSIRDY (4 MHz), HSI48ON/HSI48RDY, HSEON/HSERDY (8 MHz: the
//!   ST-LINK's MCO on the Nucleo-H743ZI), PLL1ON..PLL3ON with their RDY
//!   flags: every ready flag follows its ON bit at once;
//! * RCC_CFGR 0x10 (§8.7.7): SW [2:0] (0 HSI, 1 CSI, 2 HSE, 3 PLL1), SWS
//!   [5:3] follows SW when the source is ready (a source that is not ready is
//!   not selected), the other fields stored;
//! * RCC_D1CFGR 0x18 (§8.7.8): D1CPRE [11:8] and HPRE [3:0] (0xxx ÷1,
//!   1000 ÷2 … 1111 ÷512); RCC_D2CFGR 0x1C (§8.7.9): D2PPRE1 [6:4] and
//!   D2PPRE2 [10:8] (0xx ÷1, 100 ÷2 … 111 ÷16) give PCLK1 and PCLK2;
//!   RCC_D3CFGR 0x20 stored;
//! * PLL1 (§8.7.10–§8.7.13): RCC_PLLCKSELR 0x28 PLLSRC [1:0] (HSI, CSI, HSE,
//!   none) and DIVM1 [9:4], RCC_PLL1DIVR 0x30 DIVN1 [8:0] and DIVP1 [15:9]:
//!   pll1_p = src / DIVM1 · (DIVN1 + 1) / (DIVP1 + 1) (fractional part,
//!   PLL2/PLL3 outputs: stored, not used);
//! * RCC_D2CCIP2R 0x54 (§8.7.17): USART234578SEL [2:0] (0 PCLK1, 1 pll2_q,
//!   2 pll3_q, 3 hsi_ker, 4 csi_ker, 5 LSE), [`Rcc::usart3_sel`];
//! * RCC_RSR 0xD0 and its alias RCC_C1_RSR 0x130 (§8.7.38): the reset flags
//!   of §8.4.4 (power-on: PORRSTF, BORRSTF, PINRSTF, D1RSTF, D2RSTF,
//!   CPURSTF; NRST: PINRSTF, CPURSTF; SYSRESETREQ: SFTRSTF, PINRSTF,
//!   CPURSTF; IWDG1: IWDG1RSTF, PINRSTF, CPURSTF), RMVF (bit 16) clears them;
//! * the reset registers AHB4RSTR 0x88, APB1LRSTR 0x90 and the enable
//!   registers AHB4ENR 0xE0 (GPIOAEN..GPIOKEN bits 0–10), APB1LENR 0xE8
//!   (USART3EN bit 18) and their CPU1 aliases RCC_C1_AHB4ENR 0x140,
//!   RCC_C1_APB1LENR 0x148 (§8.7.40–§8.7.52: on a single-core part the same
//!   registers). Every other RCC register is stored.
//!
//! After reset the system runs on HSI 64 MHz, every prescaler 1.

use std::collections::HashMap;

use super::super::periph::Clocks;
use super::super::soc::ResetCause;

pub(crate) const HSI_HZ: u64 = 64_000_000;
pub(crate) const CSI_HZ: u64 = 4_000_000;
/// HSE on the Nucleo-H743ZI: the ST-LINK's 8 MHz MCO.
pub(crate) const HSE_HZ: u64 = 8_000_000;
/// LSE, Hz (the Nucleo's 32.768 kHz crystal).
const LSE_HZ: u64 = 32_768;

const CR: u32 = 0x00;
const CFGR: u32 = 0x10;
const D1CFGR: u32 = 0x18;
const D2CFGR: u32 = 0x1C;
const PLLCKSELR: u32 = 0x28;
const PLL1DIVR: u32 = 0x30;
const D2CCIP2R: u32 = 0x54;
const RSR: u32 = 0xD0;
const C1_RSR: u32 = 0x130;
pub(crate) const AHB4RSTR: u32 = 0x88;
pub(crate) const APB1LRSTR: u32 = 0x90;
pub(crate) const AHB4ENR: u32 = 0xE0;
pub(crate) const APB1LENR: u32 = 0xE8;

// RCC_CR bits (§8.7.2)
const HSION: u32 = 1 << 0;
const HSIRDY: u32 = 1 << 2;
const HSIDIVF: u32 = 1 << 5;
const CR_RESET: u32 = HSION | HSIRDY | HSIDIVF;
/// (ON, RDY) pairs: CSI, HSI48, HSE, PLL1, PLL2, PLL3.
const ON_RDY: [(u32, u32); 6] = [(7, 8), (12, 13), (16, 17), (24, 25), (26, 27), (28, 29)];

// RCC_RSR flags (§8.7.38)
pub(crate) const RMVF: u32 = 1 << 16;
pub(crate) const CPURSTF: u32 = 1 << 17;
pub(crate) const D1RSTF: u32 = 1 << 19;
pub(crate) const D2RSTF: u32 = 1 << 20;
pub(crate) const BORRSTF: u32 = 1 << 21;
pub(crate) const PINRSTF: u32 = 1 << 22;
pub(crate) const PORRSTF: u32 = 1 << 23;
pub(crate) const SFTRSTF: u32 = 1 << 24;
pub(crate) const IWDG1RSTF: u32 = 1 << 26;

/// Stored registers at most (bounded memory).
const MAX_STORED: usize = 256;

#[derive(Debug, Clone)]
pub(crate) struct Rcc {
    cr: u32,
    cfgr: u32,
    d1cfgr: u32,
    d2cfgr: u32,
    pllckselr: u32,
    pll1divr: u32,
    d2ccip2r: u32,
    rsr: u32,
    /// AHB4RSTR, APB1LRSTR, AHB4ENR, APB1LENR.
    gates: [u32; 4],
    stored: HashMap<u32, u32>,
}

/// The reset flags a reset of `cause` sets (RM0433 §8.4.4 Table 56).
fn flags_of(cause: ResetCause) -> u32 {
    match cause {
        ResetCause::PowerOn => PORRSTF | BORRSTF | PINRSTF | D1RSTF | D2RSTF | CPURSTF,
        ResetCause::Pin => PINRSTF | CPURSTF,
        ResetCause::Software => SFTRSTF | PINRSTF | CPURSTF,
        ResetCause::IndependentWatchdog => IWDG1RSTF | PINRSTF | CPURSTF,
    }
}

/// HPRE/D1CPRE divider (4-bit code, §8.7.8).
fn ahb_div(code: u32) -> u64 {
    match code & 0xF {
        c @ 8..=11 => 2 << (c - 8),
        c @ 12..=15 => 64 << (c - 12),
        _ => 1,
    }
}

impl Rcc {
    /// After a system reset of `cause`; `rsr` is the flag register before it.
    pub(crate) fn after_reset(rsr: u32, cause: ResetCause) -> Rcc {
        let kept = if cause == ResetCause::PowerOn { 0 } else { rsr };
        Rcc {
            cr: CR_RESET,
            cfgr: 0,
            d1cfgr: 0,
            d2cfgr: 0,
            pllckselr: 0x0202_0200, // DIVM1..3 = 32 (§8.7.10)
            pll1divr: 0x0101_0280,  // §8.7.12 reset value
            d2ccip2r: 0,
            rsr: kept | flags_of(cause),
            gates: [0; 4],
            stored: HashMap::new(),
        }
    }

    /// The reset flag register (RCC_RSR).
    pub(crate) fn rsr(&self) -> u32 {
        self.rsr
    }

    fn gate_index(off: u32) -> Option<usize> {
        match off {
            AHB4RSTR => Some(0),
            APB1LRSTR => Some(1),
            AHB4ENR | 0x140 => Some(2),
            APB1LENR | 0x148 => Some(3),
            _ => None,
        }
    }

    /// RCC_AHB4ENR (GPIOxEN).
    pub(crate) fn ahb4enr(&self) -> u32 {
        self.gates[2]
    }

    /// RCC_APB1LENR.
    pub(crate) fn apb1lenr(&self) -> u32 {
        self.gates[3]
    }

    /// RCC_APB1LRSTR.
    pub(crate) fn apb1lrstr(&self) -> u32 {
        self.gates[1]
    }

    /// RCC_AHB4RSTR.
    pub(crate) fn ahb4rstr(&self) -> u32 {
        self.gates[0]
    }

    /// RCC_D2CCIP2R.USART234578SEL.
    pub(crate) fn usart3_sel(&self) -> u32 {
        self.d2ccip2r & 7
    }

    fn on(&self, bit: u32) -> bool {
        self.cr & (1 << bit) != 0
    }

    /// hsi_ck, Hz (0 while HSI is off).
    pub(crate) fn hsi_hz(&self) -> u64 {
        if self.cr & HSION != 0 {
            HSI_HZ >> ((self.cr >> 3) & 3)
        } else {
            0
        }
    }

    /// csi_ck, Hz.
    pub(crate) fn csi_hz(&self) -> u64 {
        if self.on(7) { CSI_HZ } else { 0 }
    }

    pub(crate) fn lse_hz(&self) -> u64 {
        // RCC_BDCR 0x70 LSEON (bit 0).
        if self.stored.get(&0x70).is_some_and(|v| v & 1 != 0) {
            LSE_HZ
        } else {
            0
        }
    }

    fn pll1_p_hz(&self) -> u64 {
        let src = match self.pllckselr & 3 {
            0 => self.hsi_hz(),
            1 => self.csi_hz(),
            2 if self.on(16) => HSE_HZ,
            _ => 0,
        };
        let divm = u64::from((self.pllckselr >> 4) & 0x3F);
        if divm == 0 || !self.on(24) {
            return 0;
        }
        let n = u64::from(self.pll1divr & 0x1FF) + 1;
        let p = u64::from((self.pll1divr >> 9) & 0x7F) + 1;
        src / divm * n / p
    }

    /// Whether the source SW code `sw` is ready.
    fn source_hz(&self, sw: u32) -> Option<u64> {
        let hz = match sw {
            0 => self.hsi_hz(),
            1 => self.csi_hz(),
            2 if self.on(16) => HSE_HZ,
            3 => self.pll1_p_hz(),
            _ => 0,
        };
        (hz != 0).then_some(hz)
    }

    /// sys_ck, Hz.
    pub(crate) fn sysclk_hz(&self) -> u64 {
        self.source_hz((self.cfgr >> 3) & 7).unwrap_or(HSI_HZ)
    }

    /// The CPU clock (sys_ck ÷ D1CPRE), also SysTick's and the time base's.
    pub(crate) fn hclk_hz(&self) -> u64 {
        self.sysclk_hz() / ahb_div(self.d1cfgr >> 8)
    }

    /// The bus clocks: HCLK (AHB, ÷ HPRE after D1CPRE), PCLK1/PCLK2 (D2PPRE1/2).
    pub(crate) fn clocks(&self) -> Clocks {
        let cpu = self.hclk_hz();
        let ahb = cpu / ahb_div(self.d1cfgr);
        let mut c = Clocks::from_apb(
            self.sysclk_hz(),
            ahb,
            (self.d2cfgr >> 4) & 7,
            (self.d2cfgr >> 8) & 7,
        );
        c.lsi = 32_000;
        c.lse = self.lse_hz();
        c
    }

    /// Wake-up from Stop (RM0433 §8.5.7): the system clock is HSI, or CSI
    /// with RCC_CFGR.STOPWUCK (bit 6); HSE and the PLLs are off.
    pub(crate) fn exit_stop(&mut self) {
        let sw = if self.cfgr & (1 << 6) != 0 { 1 } else { 0 };
        // PLL1ON..PLL3RDY [29:24], HSEON/HSERDY [17:16].
        self.cr &= !((0x3F << 24) | (0x3 << 16));
        self.cr |= if sw == 1 {
            (1 << 7) | (1 << 8)
        } else {
            HSION | HSIRDY
        };
        self.cfgr = (self.cfgr & !0x3F) | sw | (sw << 3);
    }

    /// Word read at offset `off`.
    pub(crate) fn read(&self, off: u32) -> u32 {
        if let Some(i) = Self::gate_index(off) {
            return self.gates[i];
        }
        match off {
            CR => self.cr,
            CFGR => self.cfgr,
            D1CFGR => self.d1cfgr,
            D2CFGR => self.d2cfgr,
            PLLCKSELR => self.pllckselr,
            PLL1DIVR => self.pll1divr,
            D2CCIP2R => self.d2ccip2r,
            RSR | C1_RSR => self.rsr,
            _ => self.stored.get(&off).copied().unwrap_or(0),
        }
    }

    /// Word write at offset `off`.
    pub(crate) fn write(&mut self, off: u32, v: u32) {
        if let Some(i) = Self::gate_index(off) {
            self.gates[i] = v;
            return;
        }
        match off {
            CR => {
                let mut cr = (v & 0x1555_D09B) | HSIDIVF;
                if cr & HSION != 0 {
                    cr |= HSIRDY;
                }
                for (on, rdy) in ON_RDY {
                    if cr & (1 << on) != 0 {
                        cr |= 1 << rdy;
                    }
                }
                // The running source cannot be switched off (§8.7.2).
                let sws = (self.cfgr >> 3) & 7;
                if sws == 0 && cr & HSION == 0 {
                    cr |= HSION | HSIRDY;
                }
                self.cr = cr;
            }
            CFGR => {
                let sw = v & 7;
                let sws = if self.source_hz(sw).is_some() {
                    sw
                } else {
                    (self.cfgr >> 3) & 7
                };
                self.cfgr = (v & !0x38) | (sws << 3);
            }
            D1CFGR => self.d1cfgr = v & 0xF7F,
            D2CFGR => self.d2cfgr = v & 0x770,
            PLLCKSELR => self.pllckselr = v & 0x03F3_F3F3,
            PLL1DIVR => self.pll1divr = v & 0x7F7F_FFFF,
            D2CCIP2R => self.d2ccip2r = v,
            RSR | C1_RSR => {
                if v & RMVF != 0 {
                    self.rsr = 0;
                }
            }
            _ => {
                if self.stored.len() < MAX_STORED || self.stored.contains_key(&off) {
                    self.stored.insert(off, v);
                }
            }
        }
    }
}
