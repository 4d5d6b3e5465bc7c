//! Virtual time of the simulated chip (see `docs/sim.md`, "Time").
//!
//! Time is kept in picoseconds since the chip was created ([`Ps`]). The core
//! counts cycles of its clock (HCLK); [`TimeBase`] converts between the two
//! for a clock that changes at run time (the RCC model reprograms it), exactly
//! and without drift: every conversion is anchored at the last clock change
//! and done in 128-bit integer arithmetic.

/// Virtual time: picoseconds since the chip was created. 2^64 ps is 213 days.
pub(crate) type Ps = u64;

/// Picoseconds per second.
pub(crate) const PS_PER_S: u64 = 1_000_000_000_000;

/// Core cycles ↔ virtual time for a clock of `hz` Hz that took effect at
/// (`base_cycles`, `base_ps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeBase {
    base_ps: Ps,
    base_cycles: u64,
    hz: u64,
}

impl TimeBase {
    /// A clock of `hz` Hz starting at time 0, cycle 0.
    pub(crate) fn new(hz: u64) -> TimeBase {
        TimeBase {
            base_ps: 0,
            base_cycles: 0,
            hz: hz.max(1),
        }
    }

    /// The core clock, Hz.
    pub(crate) fn hz(&self) -> u64 {
        self.hz
    }

    /// Virtual time when the core has executed `cycles` cycles in total.
    #[inline]
    pub(crate) fn at(&self, cycles: u64) -> Ps {
        let d = cycles.saturating_sub(self.base_cycles) as u128;
        self.base_ps + (d * PS_PER_S as u128 / self.hz as u128) as u64
    }

    /// The clock becomes `hz` Hz at cycle `cycles`.
    pub(crate) fn set_hz(&mut self, cycles: u64, hz: u64) {
        self.base_ps = self.at(cycles);
        self.base_cycles = cycles;
        self.hz = hz.max(1);
    }

    /// `ps` of virtual time pass at cycle `cycles` without the core executing
    /// (halted, held in reset, locked up, unpowered).
    pub(crate) fn pass(&mut self, cycles: u64, ps: Ps) {
        self.base_ps = self.at(cycles) + ps;
        self.base_cycles = cycles;
    }

    /// Core cycles from `cycles` until virtual time `t` is reached (rounded
    /// up, at least 1); 0 if `t` has already passed.
    pub(crate) fn cycles_until(&self, cycles: u64, t: Ps) -> u64 {
        let now = self.at(cycles);
        if t <= now {
            return 0;
        }
        let d = (t - now) as u128 * self.hz as u128;
        (d.div_ceil(PS_PER_S as u128) as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_exact_across_clock_changes() {
        let mut t = TimeBase::new(8_000_000);
        assert_eq!(t.at(8_000_000), PS_PER_S);
        t.set_hz(8_000_000, 72_000_000);
        assert_eq!(t.at(8_000_000 + 72_000_000), 2 * PS_PER_S);
        assert_eq!(t.cycles_until(8_000_000, 2 * PS_PER_S), 72_000_000);
        t.pass(80_000_000, 500_000_000_000);
        assert_eq!(t.at(80_000_000), 2 * PS_PER_S + 500_000_000_000);
    }
}
