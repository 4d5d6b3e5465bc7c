//! Timers TIM1 (advanced-control, RM0008 §14) and TIM2/TIM3/TIM4 (general-purpose, §15) of the
//! STM32F103: the registers, the time base and the output-compare flags, with exact timing.
//!
//! Registers: CR1 (CEN, UDIS, URS, OPM, DIR, CMS, ARPE, CKD), CR2, SMCR, DIER, SR (rc_w0),
//! EGR (UG, CCxG, TG; TIM1 also COMG, BG), CCMR1/2, CCER, CNT, PSC, ARR, CCR1..4, DCR, DMAR;
//! TIM1 also RCR and BDTR. Reset values 0 except ARR = 0xFFFF. Offsets a timer does not have
//! (RCR/BDTR on TIM2..4) read 0.
//!
//! Time base (§15.3.1–§15.3.2, §14.3.1–§14.3.3), counted from the kernel clock (TIM1:
//! [`Clocks::tim_pclk2`], TIM2..4: [`Clocks::tim_pclk1`]) with an exact [`Ticker`]:
//! * prescaler counter dividing by PSC + 1; PSC is preloaded and taken at the next update
//!   event (UEV); ARR is preloaded when ARPE = 1, CCRx when OCxPE = 1; the counter is blocked
//!   while the active ARR is 0;
//! * up-counting 0..ARR (overflow when CNT = ARR), down-counting ARR..0 (underflow when CNT = 0,
//!   reload with the new ARR), centre-aligned (CMS ≠ 0): 0 → ARR (overflow when CNT becomes
//!   ARR) → 0 (underflow when CNT becomes 0), DIR read-only and set by hardware;
//! * a CNT above ARR (ARR lowered without preload) counts on to 0xFFFF and wraps to 0 without an
//!   overflow, as the comparator only looks for CNT = ARR;
//! * repetition counter (TIM1): UEV at the over/underflow where REP_CNT is 0, then REP_CNT is
//!   reloaded from RCR (§14.3.3); every over/underflow counts (both in centre-aligned mode);
//! * UEV: PSC, ARR and CCRx shadows loaded, UIF set, OPM clears CEN, TIM1 with BDTR.AOE sets MOE;
//!   UDIS = 1 suppresses it (the counter still wraps); UG reinitialises the prescaler counter and
//!   the counter (0, or ARR when down-counting; 0 and up in centre-aligned mode), reloads
//!   REP_CNT and generates a UEV unless UDIS (UIF only if URS = 0);
//! * output compare (CCxS = 00): CCxIF sets on the counter tick that makes CNT equal to the
//!   active CCRx, whatever OCxM and CCxE (the frozen mode 000 sets it too); in centre-aligned
//!   mode only while counting down (CMS = 01), up (10) or both (11); CCR > ARR never matches;
//! * CCxG: CCxIF (output) or a capture of CNT into CCRx with CCxOF if CCxIF was set (input);
//!   TG sets TIF; TIM1: COMG sets COMIF, BG sets BIF and clears MOE;
//! * DBGMCU_CR.DBG_TIMx_STOP ([`Peripheral::set_frozen`]) stops the counter clock.
//!
//! Events ([`Peripheral::next_event`]): the next counter tick that changes SR (a flag sets,
//! hence every interrupt line change), clears CEN (one-pulse mode) or sets MOE (AOE). Counter
//! wraps whose flags are already set, and the DIR changes of centre-aligned mode, are not events:
//! they change nothing an interrupt depends on, and every access syncs the counter first, so the
//! simulator need not stop for them (a 1 MHz PWM timer with UIF left set costs nothing while
//! idle). The search and `sync` skip whole repeating periods in closed form.
//!
//! Interrupt outputs ([`Peripheral::irq`]): TIM2..4 one line (UIF, CCxIF, TIF with their DIER
//! enables); TIM1 four lines: 0 BRK (BIF), 1 UP (UIF), 2 TRG_COM (TIF, COMIF), 3 CC (CCxIF).
//!
//! Simplified (no signals are modelled): the counter counts the internal clock only. In the
//! slave modes that take the count from an input (encoder modes SMS = 001..011, gated mode 101,
//! external clock mode 1, 111, or ECE = 1 for external clock mode 2) nothing counts, as with
//! quiet inputs; reset (100) and trigger (110) modes count the internal clock once CEN is set and
//! never see a trigger. No TRGO/ITR links between timers, no input capture from pins, no output
//! levels (OCxREF, OCx/OCxN, dead time, break input), no DMA requests; CCPC preloading of
//! CCxE/CCxNE/OCxM (TIM1) is not modelled (they take effect at once, COMG only sets COMIF).
//! DMAR accesses the register at DCR.DBA (the DMA index stays 0 without a DMA controller).
//! TIM1's BDTR.LOCK is write-once and protects the bits of §14.4.18 (levels 1–3).

use crate::sim::periph::{Clocks, Ctx, Peripheral, Ticker};

mod counter;
#[cfg(test)]
mod tests;

/// Which timer: TIM1 is the advanced-control timer, TIM2..4 the general-purpose ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimKind {
    Tim1,
    Tim2,
    Tim3,
    Tim4,
    /// The TIM2 of the STM32F303 (RM0316 §21), STM32L476 (RM0351 §31) and
    /// STM32G474 (RM0440 §29): the general-purpose timer with a 32-bit
    /// counter, auto-reload and compare registers (ARR resets to
    /// 0xFFFF_FFFF). Its additions over the F1 (CR1.UIFREMAP with
    /// CNT.UIFCPY, OCxM[3], SMS[3], the L4/G4 option and alternate-function
    /// registers) are not modelled: those bits read 0.
    Tim2x32,
}

// CR1 bits (§15.4.1).
const CEN: u32 = 1 << 0;
const UDIS: u32 = 1 << 1;
const URS: u32 = 1 << 2;
const OPM: u32 = 1 << 3;
const DIR: u32 = 1 << 4;
const ARPE: u32 = 1 << 7;
// SR bits (§15.4.5, §14.4.5).
const UIF: u32 = 1 << 0;
const COMIF: u32 = 1 << 5;
const TIF: u32 = 1 << 6;
const BIF: u32 = 1 << 7;
// BDTR bits (§14.4.18).
const AOE: u32 = 1 << 14;
const MOE: u32 = 1 << 15;

#[derive(Debug, Clone)]
pub(crate) struct Tim {
    kind: TimKind,
    cr1: u32,
    cr2: u32,
    smcr: u32,
    dier: u32,
    sr: u32,
    ccmr: [u32; 2],
    ccer: u32,
    cnt: u32,
    /// TIMx_PSC (preload).
    psc: u32,
    /// TIMx_ARR (preload).
    arr: u32,
    /// TIM1_RCR (preload).
    rcr: u32,
    /// TIMx_CCRx (preload; in input mode the capture register).
    ccr: [u32; 4],
    bdtr: u32,
    dcr: u32,
    /// BDTR has been written since reset: LOCK is frozen.
    bdtr_written: bool,
    // Shadow (active) registers and the hidden counters.
    psc_active: u32,
    arr_active: u32,
    ccr_active: [u32; 4],
    rep_cnt: u32,
    /// Kernel cycles counted by the prescaler since the last counter tick.
    psc_cnt: u32,
    /// Counting down (CR1.DIR, set by hardware in centre-aligned mode).
    down: bool,
    ticker: Ticker,
    frozen: bool,
}

impl Tim {
    /// A timer in its reset state, its kernel clock starting at virtual time `now`.
    pub(crate) fn new(kind: TimKind, now: u64) -> Tim {
        Tim {
            kind,
            cr1: 0,
            cr2: 0,
            smcr: 0,
            dier: 0,
            sr: 0,
            ccmr: [0; 2],
            ccer: 0,
            cnt: 0,
            psc: 0,
            arr: Tim::arr_reset(kind),
            rcr: 0,
            ccr: [0; 4],
            bdtr: 0,
            dcr: 0,
            bdtr_written: false,
            psc_active: 0,
            arr_active: Tim::arr_reset(kind),
            ccr_active: [0; 4],
            rep_cnt: 0,
            psc_cnt: 0,
            down: false,
            ticker: Ticker::new(now),
            frozen: false,
        }
    }

    fn arr_reset(kind: TimKind) -> u32 {
        if kind == TimKind::Tim2x32 {
            u32::MAX
        } else {
            0xFFFF
        }
    }

    /// The counter's mask: 16 bit, or 32 bit on the F3's TIM2.
    pub(super) fn cnt_mask(&self) -> u32 {
        Tim::arr_reset(self.kind)
    }

    /// Counter ticks in one pass of the counter (2^16 or 2^32).
    pub(super) fn wrap(&self) -> u64 {
        self.cnt_mask() as u64 + 1
    }

    fn advanced(&self) -> bool {
        self.kind == TimKind::Tim1
    }

    /// Kernel clock (CK_INT), Hz.
    fn kernel_hz(&self, clocks: &Clocks) -> u64 {
        match self.kind {
            TimKind::Tim1 => clocks.tim_pclk2,
            _ => clocks.tim_pclk1,
        }
    }

    fn dier_mask(&self) -> u32 {
        if self.advanced() { 0x7FFF } else { 0x5F5F }
    }

    /// Channel `ch` (0..3) is an output (CCxS = 00).
    fn is_output(&self, ch: usize) -> bool {
        (self.ccmr[ch / 2] >> ((ch % 2) * 8)) & 3 == 0
    }

    /// OCxPE of channel `ch`.
    fn ccr_preloaded(&self, ch: usize) -> bool {
        (self.ccmr[ch / 2] >> ((ch % 2) * 8 + 3)) & 1 != 0
    }

    /// Centre-aligned mode (CR1.CMS ≠ 0).
    fn centre(&self) -> bool {
        (self.cr1 >> 5) & 3 != 0
    }

    /// TIM1 BDTR.LOCK level (0 = off).
    fn lock(&self) -> u32 {
        if self.advanced() {
            (self.bdtr >> 8) & 3
        } else {
            0
        }
    }

    fn read_reg(&mut self, off: u32, depth: u32) -> u32 {
        match off {
            0x00 => (self.cr1 & !DIR) | if self.down { DIR } else { 0 },
            0x04 => self.cr2,
            0x08 => self.smcr,
            0x0C => self.dier,
            0x10 => self.sr,
            0x14 => 0, // EGR is write-only
            0x18 => self.ccmr[0],
            0x1C => self.ccmr[1],
            0x20 => self.ccer,
            0x24 => self.cnt,
            0x28 => self.psc,
            0x2C => self.arr,
            0x30 if self.advanced() => self.rcr,
            0x34..=0x40 => self.ccr[((off - 0x34) / 4) as usize],
            0x44 if self.advanced() => self.bdtr,
            0x48 => self.dcr,
            0x4C if depth == 0 => self.read_reg((self.dcr & 0x1F) * 4, 1),
            _ => 0,
        }
    }

    fn write_reg(&mut self, off: u32, v: u32, depth: u32) {
        match off {
            0x00 => self.write_cr1(v & 0x3FF),
            0x04 => {
                let mut cr2 = v & if self.advanced() { 0x7FFD } else { 0xF8 };
                if self.lock() >= 1 {
                    cr2 = (cr2 & !0x7F00) | (self.cr2 & 0x7F00); // OISx
                }
                self.cr2 = cr2;
            }
            0x08 => self.smcr = v & 0xFFF7,
            0x0C => self.dier = v & self.dier_mask(),
            0x10 => self.sr &= v, // rc_w0
            0x14 => self.write_egr(v),
            0x18 | 0x1C => self.write_ccmr(((off - 0x18) / 4) as usize, v & 0xFFFF),
            0x20 => self.write_ccer(v),
            0x24 => self.cnt = v & self.cnt_mask(),
            0x28 => self.psc = v & 0xFFFF,
            0x2C => {
                self.arr = v & self.cnt_mask();
                if self.cr1 & ARPE == 0 {
                    self.arr_active = self.arr;
                }
            }
            0x30 if self.advanced() => self.rcr = v & 0xFF,
            0x34..=0x40 => {
                let ch = ((off - 0x34) / 4) as usize;
                if self.is_output(ch) {
                    self.ccr[ch] = v & self.cnt_mask();
                    if !self.ccr_preloaded(ch) {
                        self.ccr_active[ch] = self.ccr[ch];
                    }
                } // input capture: CCRx is read-only
            }
            0x44 if self.advanced() => self.write_bdtr(v & 0xFFFF),
            0x48 => self.dcr = v & 0x1F1F,
            0x4C if depth == 0 => self.write_reg((self.dcr & 0x1F) * 4, v, 1),
            _ => {}
        }
    }

    fn write_cr1(&mut self, v: u32) {
        let centre = (v >> 5) & 3 != 0;
        let encoder = matches!(self.smcr & 7, 1..=3);
        if !centre && !encoder {
            self.down = v & DIR != 0; // DIR is read-only in centre-aligned and encoder modes
        }
        self.cr1 = v & !DIR;
    }

    fn write_ccmr(&mut self, i: usize, v: u32) {
        let mut keep = 0;
        for half in 0..2 {
            let ch = i * 2 + half;
            if self.ccer & (1 << (ch * 4)) != 0 {
                keep |= 3 << (half * 8); // CCxS: writable only while the channel is off
            }
            if self.lock() >= 3 {
                keep |= 0x78 << (half * 8); // OCxM, OCxPE
            }
        }
        self.ccmr[i] = (v & !keep) | (self.ccmr[i] & keep);
    }

    fn write_ccer(&mut self, v: u32) {
        let mut ccer = v & if self.advanced() { 0x3FFF } else { 0x3333 };
        if self.lock() >= 2 {
            let pol = 0x2AAA; // CCxP, CCxNP
            ccer = (ccer & !pol) | (self.ccer & pol);
        }
        self.ccer = ccer;
    }

    fn write_bdtr(&mut self, v: u32) {
        let old = self.bdtr;
        let mut protect = match self.lock() {
            0 => 0,
            1 => 0x70FF,          // DTG, BKE, BKP, AOE
            _ => 0x70FF | 0x0C00, // + OSSR, OSSI
        };
        if self.bdtr_written {
            protect |= 0x0300; // LOCK: write-once after reset
        }
        self.bdtr = (v & !protect) | (old & protect);
        self.bdtr_written = true;
    }

    fn write_egr(&mut self, v: u32) {
        let v = v & if self.advanced() { 0xFF } else { 0x5F };
        if v & 1 != 0 {
            self.software_update();
        }
        for ch in 0..4 {
            if v & (2 << ch) == 0 {
                continue;
            }
            let flag = 2 << ch;
            if !self.is_output(ch) {
                if self.sr & flag != 0 {
                    self.sr |= 1 << (9 + ch); // CCxOF
                }
                self.ccr[ch] = self.cnt;
                self.ccr_active[ch] = self.cnt;
            }
            self.sr |= flag;
        }
        if v & TIF != 0 {
            self.sr |= TIF;
        }
        if self.advanced() && v & COMIF != 0 {
            self.sr |= COMIF;
        }
        if self.advanced() && v & BIF != 0 {
            self.sr |= BIF;
            self.bdtr &= !MOE;
        }
    }
}

impl Peripheral for Tim {
    fn name(&self) -> &'static str {
        match self.kind {
            TimKind::Tim1 => "TIM1",
            TimKind::Tim2 | TimKind::Tim2x32 => "TIM2",
            TimKind::Tim3 => "TIM3",
            TimKind::Tim4 => "TIM4",
        }
    }

    fn read(&mut self, off: u32, cx: &Ctx) -> u32 {
        self.sync(cx);
        self.read_reg(off, 0)
    }

    fn write(&mut self, off: u32, value: u32, cx: &Ctx) {
        self.sync(cx);
        self.write_reg(off, value, 0)
    }

    fn sync(&mut self, cx: &Ctx) {
        let hz = self.kernel_hz(cx.clocks);
        let k = self.ticker.advance(cx.now, hz);
        if self.counting() {
            self.run(k);
        }
    }

    fn next_event(&self, cx: &Ctx) -> Option<u64> {
        let hz = self.kernel_hz(cx.clocks);
        if hz == 0 || !self.counting() {
            return None;
        }
        let k = self.clone().cycles_to_visible_change()?;
        self.ticker.time_of(k, hz).map(|t| t.max(cx.now))
    }

    fn irq(&self, line: usize) -> bool {
        let active = self.sr & self.dier;
        if !self.advanced() {
            return line == 0 && active & 0x5F != 0;
        }
        match line {
            0 => active & BIF != 0,
            1 => active & UIF != 0,
            2 => active & (TIF | COMIF) != 0,
            3 => active & 0x1E != 0,
            _ => false,
        }
    }

    fn reset(&mut self) {
        *self = Tim {
            ticker: self.ticker,
            frozen: self.frozen,
            ..Tim::new(self.kind, 0)
        };
    }

    fn set_frozen(&mut self, frozen: bool, cx: &Ctx) {
        self.sync(cx);
        self.frozen = frozen;
    }
}
