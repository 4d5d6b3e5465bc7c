//! The framework every memory-mapped peripheral model is written against: virtual time, the bus
//! clocks derived by the RCC, and the [`Peripheral`] trait the bus calls.
//!
//! Time is exact and deterministic. A block converts elapsed virtual time into cycles of its
//! kernel clock with a [`Ticker`], which keeps the fraction of a cycle left over, so that counting
//! never drifts and the result does not depend on how often `sync()` is called (one call for a
//! long interval or many calls for short ones give the same state).
//!
//! Clock gating: a block whose RCC enable bit is clear gets no kernel clock; the bus expresses
//! that by passing a [`Clocks`] whose frequency for that block is 0 Hz. Every model treats 0 Hz
//! as "nothing advances and no event is due".

/// Virtual time: picoseconds since the chip was created.
pub(crate) type Ps = u64;

/// Picoseconds per second.
pub(crate) const PS_PER_S: u64 = 1_000_000_000_000;

/// Bus clock frequencies in Hz, derived by the RCC model (RM0008 §7.2, Figure 8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Clocks {
    pub sysclk: u64,
    pub hclk: u64,
    pub pclk1: u64,
    pub pclk2: u64,
    /// TIM2..7 kernel clock: PCLK1, ×2 when the APB1 prescaler ≠ 1 (RM0008 §7.2).
    pub tim_pclk1: u64,
    /// TIM1/TIM8 kernel clock: PCLK2, ×2 when the APB2 prescaler ≠ 1.
    pub tim_pclk2: u64,
    pub adcclk: u64,
    pub lsi: u64,
    pub lse: u64,
}

impl Clocks {
    /// The clocks after a system reset: everything from the 8 MHz HSI, prescalers 1
    /// (ADC prescaler /2), LSI and LSE off (RM0008 §7.3.2, RCC_CFGR reset value 0).
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) const RESET: Clocks = Clocks {
        sysclk: 8_000_000,
        hclk: 8_000_000,
        pclk1: 8_000_000,
        pclk2: 8_000_000,
        tim_pclk1: 8_000_000,
        tim_pclk2: 8_000_000,
        adcclk: 4_000_000,
        lsi: 0,
        lse: 0,
    };
}

impl Clocks {
    /// SYSCLK, HCLK and the APB clocks of `hclk` with the APB prescaler codes
    /// `ppre1`, `ppre2` (3 bits: 0xx ÷1, 100 ÷2, 101 ÷4, 110 ÷8, 111 ÷16 —
    /// RM0008 §7.3.2, RM0316 §9.4.2, RM0351 §6.4.3, RM0440 §7.4.3) with their
    /// timer clocks (the APB clock, ×2 when its prescaler is not 1); ADC,
    /// LSI and LSE 0.
    pub(crate) fn from_apb(sysclk: u64, hclk: u64, ppre1: u32, ppre2: u32) -> Clocks {
        let apb = |ppre: u32| if ppre < 4 { 1 } else { 2u64 << (ppre - 4) };
        let (d1, d2) = (apb(ppre1 & 7), apb(ppre2 & 7));
        let (pclk1, pclk2) = (hclk / d1, hclk / d2);
        Clocks {
            sysclk,
            hclk,
            pclk1,
            pclk2,
            tim_pclk1: if d1 == 1 { pclk1 } else { 2 * pclk1 },
            tim_pclk2: if d2 == 1 { pclk2 } else { 2 * pclk2 },
            adcclk: 0,
            lsi: 0,
            lse: 0,
        }
    }
}

/// What a peripheral needs to know at an access: the current virtual time and the clocks.
pub(crate) struct Ctx<'a> {
    pub now: Ps,
    pub clocks: &'a Clocks,
}

/// One memory-mapped register block.
pub(crate) trait Peripheral: Send {
    /// The reference manual's name, e.g. "TIM2".
    fn name(&self) -> &'static str;
    /// Word read at byte offset `off` (multiple of 4) into the block. May have side effects as on silicon
    /// (reading USART_DR clears RXNE: a debugger read does too, as on real hardware).
    fn read(&mut self, off: u32, cx: &Ctx) -> u32;
    /// Word write (the bus replicates sub-word APB writes onto all lanes before calling this).
    fn write(&mut self, off: u32, value: u32, cx: &Ctx);
    /// Brings time-driven state (counters, shift registers, flags) up to `cx.now`. The bus calls it before
    /// every read/write of the block, at every event time the block announced, and before a clock change.
    fn sync(&mut self, _cx: &Ctx) {}
    /// The earliest virtual time after `cx.now` at which the block's visible state changes by itself (a flag
    /// sets, an interrupt line changes, a counter wraps); None if nothing will happen without an access.
    /// The simulator stops the core exactly there to call sync(), so this is what makes interrupts punctual,
    /// and it is what idle fast-forwarding jumps to: it must never be later than the real next change.
    fn next_event(&self, _cx: &Ctx) -> Option<Ps> {
        None
    }
    /// Level of the block's interrupt output `line` (0-based, in the order of the block's IRQ list).
    fn irq(&self, _line: usize) -> bool {
        false
    }
    /// Reset state (system reset, or the block's RCC_APBxRSTR bit).
    fn reset(&mut self);
    /// DBGMCU_CR.DBG_TIMx_STOP etc.: counters stop while the core is halted (RM0008 §31.16.3).
    fn set_frozen(&mut self, _frozen: bool, _cx: &Ctx) {}
}

/// Units of [`Ticker::frac`] per cycle: the fraction of a cycle is kept in 10⁻¹² cycles, so that
/// `elapsed ps × Hz` is directly in those units.
const UNITS_PER_CYCLE: u128 = PS_PER_S as u128;

/// Converts virtual time into whole cycles of a clock, keeping the fractional remainder.
///
/// Invariant: `cycles counted × 10¹² + frac = Σ (elapsed ps × Hz in force)` since creation, so the
/// count is exact, never drifts, survives frequency changes (the fraction is in cycles, not in
/// time) and does not depend on how the elapsed time was split into calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticker {
    /// Virtual time up to which cycles have been counted.
    at: Ps,
    /// Fraction of a cycle elapsed at `at`, in 10⁻¹² cycles (0 ≤ frac < 10¹²).
    frac: u64,
}

impl Ticker {
    /// A ticker whose clock starts (phase 0) at `now`.
    pub(crate) fn new(now: Ps) -> Ticker {
        Ticker { at: now, frac: 0 }
    }

    /// Virtual time up to which cycles have been counted.
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn at(&self) -> Ps {
        self.at
    }

    /// Counts the cycles of a `hz` clock from the last call up to `now` and returns them. A time
    /// before the last call counts nothing (time never goes back). 0 Hz: no cycles.
    pub(crate) fn advance(&mut self, now: Ps, hz: u64) -> u64 {
        if now <= self.at {
            return 0;
        }
        let total = self.frac as u128 + (now - self.at) as u128 * hz as u128;
        self.at = now;
        self.frac = (total % UNITS_PER_CYCLE) as u64;
        (total / UNITS_PER_CYCLE).min(u64::MAX as u128) as u64
    }

    /// Virtual time of the `n`-th cycle edge (n ≥ 1) after the last counted time: the earliest
    /// `t` at which `advance(t, hz)` would count `n` cycles. None at 0 Hz or for n = 0.
    pub(crate) fn time_of(&self, n: u64, hz: u64) -> Option<Ps> {
        if hz == 0 || n == 0 {
            return None;
        }
        let need = n as u128 * UNITS_PER_CYCLE - self.frac as u128;
        let dt = need.div_ceil(hz as u128);
        u64::try_from(self.at as u128 + dt).ok()
    }

    /// Moves to the `n`-th cycle edge (as [`time_of`](Self::time_of)) and returns its time, or
    /// None (nothing changes) at 0 Hz or for n = 0.
    pub(crate) fn advance_cycles(&mut self, n: u64, hz: u64) -> Option<Ps> {
        let t = self.time_of(n, hz)?;
        let counted = self.advance(t, hz);
        debug_assert_eq!(counted, n);
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_whole_cycles_and_keeps_the_fraction() {
        let mut t = Ticker::new(0);
        // 3 Hz: one cycle every 333 333 333 333.3 ps.
        assert_eq!(t.advance(333_333_333_333, 3), 0);
        assert_eq!(t.advance(333_333_333_334, 3), 1);
        assert_eq!(t.advance(PS_PER_S, 3), 2);
        assert_eq!(t.frac, 0);
    }

    #[test]
    fn chunking_does_not_change_the_count() {
        let hz = 72_000_000;
        let mut once = Ticker::new(5);
        let n_once = once.advance(1_000_000_007, hz);
        let mut many = Ticker::new(5);
        let mut n_many = 0;
        let mut now = 5;
        while now < 1_000_000_007 {
            now = (now + 12_345).min(1_000_000_007);
            n_many += many.advance(now, hz);
        }
        assert_eq!(n_once, n_many);
        assert_eq!(once, many);
        assert_eq!(n_once, 72_000); // 1.000000002 ms at 72 MHz
    }

    #[test]
    fn time_of_is_the_first_instant_with_n_cycles() {
        let mut t = Ticker::new(1000);
        t.advance(1000 + 100, 7_000_000); // some phase
        for n in [1u64, 2, 7, 1_000_003] {
            let at = t.time_of(n, 7_000_000).unwrap();
            let mut a = t;
            assert_eq!(a.advance(at - 1, 7_000_000), n - 1);
            let mut b = t;
            assert_eq!(b.advance(at, 7_000_000), n);
        }
        assert_eq!(t.time_of(1, 0), None);
        assert_eq!(t.time_of(0, 8), None);
    }

    #[test]
    fn frequency_change_keeps_the_phase_in_cycles() {
        let mut t = Ticker::new(0);
        // Half a cycle at 1 MHz (500 ns), then the clock doubles: the other half takes 250 ns.
        assert_eq!(t.advance(500_000, 1_000_000), 0);
        assert_eq!(t.time_of(1, 2_000_000), Some(750_000));
        assert_eq!(t.advance_cycles(1, 2_000_000), Some(750_000));
        assert_eq!(t.at(), 750_000);
    }

    #[test]
    fn zero_hz_counts_nothing_but_moves_on() {
        let mut t = Ticker::new(0);
        assert_eq!(t.advance(10_000, 0), 0);
        assert_eq!(t.at(), 10_000);
        assert_eq!(t.advance(5, 8_000_000), 0, "time never goes back");
        assert_eq!(t.advance_cycles(3, 0), None);
    }
}
