//! SysTick's reference clock (ARMv7-M ARM §B3.3; PM0056 §4.5: on the STM32
//! the external reference is HCLK/8).
//!
//! The processor model counts SysTick in processor cycles whatever
//! SYST_CSR.CLKSOURCE says. When CLKSOURCE = 0, the wrapper corrects the
//! counter after every instruction: it keeps the true counter (one tick per 8
//! core cycles, with the remainder carried) and writes it back, undoing a wrap
//! the model made early and making the one it missed. What the firmware reads
//! is therefore the true value at every instruction.
//!
//! Simplification: when the firmware reads SYST_CSR (clearing COUNTFLAG) in
//! the very instruction during which the model wrapped early, the read-clear
//! is lost (COUNTFLAG keeps its previous value).

use rsemu::cpu::arm::v7m::sys::{Exception, Sys};

const ENABLE: u32 = 1 << 0;
const TICKINT: u32 = 1 << 1;
const CLKSOURCE: u32 = 1 << 2;
const COUNTFLAG: u32 = 1 << 16;
/// Core cycles per reference tick (HCLK/8).
pub(crate) const REF_DIV: u64 = 8;

/// SysTick counting `ticks` ticks from `cvr` as the processor model does it
/// (and as the architecture defines it): a zero counter reloads on the next
/// tick; reaching zero from one wraps. Returns the new counter and whether it
/// reached zero.
pub(crate) fn count(csr: u32, rvr: u32, mut cvr: u32, ticks: u64) -> (u32, bool) {
    if csr & ENABLE == 0 || rvr & 0x00FF_FFFF == 0 {
        return (cvr, false);
    }
    let rvr = rvr & 0x00FF_FFFF;
    let mut left = ticks;
    let mut wrapped = false;
    while left > 0 {
        cvr &= 0x00FF_FFFF;
        if cvr == 0 {
            cvr = rvr;
            left -= 1;
            continue;
        }
        let step = left.min(u64::from(cvr));
        cvr -= step as u32;
        left -= step;
        if cvr == 0 {
            wrapped = true;
            // Whole periods in what is left: skip them arithmetically.
            let period = u64::from(rvr) + 1;
            if left > period {
                left %= period;
                if left == 0 {
                    left = period;
                }
            }
        }
    }
    (cvr, wrapped)
}

/// Core cycles until SysTick next reaches zero, if it is counting: in
/// processor cycles, or at HCLK/8 with `frac` cycles already accumulated.
pub(crate) fn cycles_to_wrap(s: &Sys, frac: u64) -> Option<u64> {
    if s.syst_csr & ENABLE == 0 || s.syst_rvr & 0x00FF_FFFF == 0 {
        return None;
    }
    let cvr = u64::from(s.syst_cvr & 0x00FF_FFFF);
    let ticks = if cvr == 0 {
        u64::from(s.syst_rvr & 0x00FF_FFFF) + 1
    } else {
        cvr
    };
    Some(if s.syst_csr & CLKSOURCE != 0 {
        ticks
    } else {
        (ticks * REF_DIV).saturating_sub(frac).max(1)
    })
}

/// Whether SysTick counts the reference clock now.
pub(crate) fn uses_reference(s: &Sys) -> bool {
    s.syst_csr & (ENABLE | CLKSOURCE) == ENABLE
}

/// Advances SysTick (and DWT_CYCCNT) by `cycles` core cycles that the core did
/// not execute (sleep, idle fast-forward), as the processor would have.
pub(crate) fn skip(s: &mut Sys, rc: &mut RefClock, cycles: u64) {
    s.tick_cyccnt(cycles);
    let ticks = if s.syst_csr & CLKSOURCE != 0 {
        cycles
    } else {
        let total = rc.frac + cycles;
        rc.frac = total % REF_DIV;
        total / REF_DIV
    };
    let (cvr, wrapped) = count(s.syst_csr, s.syst_rvr, s.syst_cvr, ticks);
    s.syst_cvr = cvr;
    if wrapped {
        s.syst_csr |= COUNTFLAG;
        if s.syst_csr & TICKINT != 0 {
            s.set_pending(Exception::SYSTICK, true);
        }
    }
    rc.track(s);
}

/// The true SysTick state kept by the wrapper while CLKSOURCE = 0.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RefClock {
    /// Core cycles towards the next reference tick.
    pub frac: u64,
    csr: u32,
    rvr: u32,
    cvr: u32,
    pending: bool,
    active: bool,
}

impl RefClock {
    /// Records the state the processor model holds now.
    pub(crate) fn track(&mut self, s: &Sys) {
        self.csr = s.syst_csr;
        self.rvr = s.syst_rvr;
        self.cvr = s.syst_cvr;
        self.pending = s.is_pending(Exception::SYSTICK);
        self.active = s.is_active(Exception::SYSTICK);
    }

    /// Corrects the model after a step of `n` core cycles.
    pub(crate) fn after_step(&mut self, s: &mut Sys, n: u64) {
        if (s.syst_csr ^ self.csr) & (ENABLE | TICKINT | CLKSOURCE) != 0 || s.syst_rvr != self.rvr {
            // The firmware reprogrammed SysTick in this instruction.
            self.track(s);
            return;
        }
        let (predicted, model_wrapped) = count(self.csr, self.rvr, self.cvr, n);
        let mut from = self.cvr;
        if s.syst_cvr & 0x00FF_FFFF != predicted {
            // A write to SYST_CVR in this instruction cleared the counter.
            from = 0;
        }
        let total = self.frac + n;
        self.frac = total % REF_DIV;
        let (cvr, wrapped) = count(self.csr, self.rvr, from, total / REF_DIV);
        s.syst_cvr = cvr;
        let tickint = self.csr & TICKINT != 0;
        if model_wrapped && !wrapped {
            // Undo the model's early wrap.
            s.syst_csr = (s.syst_csr & !COUNTFLAG) | (self.csr & COUNTFLAG);
            if tickint {
                let taken = s.is_active(Exception::SYSTICK) && !self.active;
                s.set_pending(Exception::SYSTICK, self.pending && !taken);
            }
        } else if wrapped && !model_wrapped {
            s.syst_csr |= COUNTFLAG;
            if tickint {
                s.set_pending(Exception::SYSTICK, true);
            }
        }
        self.track(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_matches_the_architecture() {
        // RVR = 3: 3, 2, 1, 0 (wrap), 3 …
        assert_eq!(count(ENABLE, 3, 3, 2), (1, false));
        assert_eq!(count(ENABLE, 3, 3, 3), (0, true));
        assert_eq!(count(ENABLE, 3, 0, 1), (3, false));
        assert_eq!(count(ENABLE, 3, 0, 4), (0, true));
        // Many periods at once give the same result as one by one.
        let mut c = 2;
        let mut any = false;
        for _ in 0..1000 {
            let (n, w) = count(ENABLE, 9, c, 1);
            c = n;
            any |= w;
        }
        assert_eq!(count(ENABLE, 9, 2, 1000), (c, any));
        assert_eq!(count(0, 9, 5, 100), (5, false));
    }
}
