//! The time base of [`Tim`]: prescaler, counter, repetition counter, update events and
//! output-compare matches, advanced by whole kernel-clock cycles in closed form.
//!
//! The counter is moved from one *point* (a counter tick with an effect: an over/underflow or a
//! possible compare match) to the next in one step, so the cost of a long interval is the number
//! of points in it, not of cycles. Once the state seen at a repetition event repeats exactly
//! (counter, prescaler, shadows, flags, CR1, BDTR), every further period is identical and is
//! skipped arithmetically: one `sync()` over an hour costs as much as one over a few periods, and
//! gives the same state as many short ones.

use super::{AOE, CEN, MOE, OPM, Tim, UDIS, UIF, URS};

/// What must repeat for the following periods to be identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Phase {
    cnt: u32,
    down: bool,
    psc_cnt: u32,
    psc_active: u32,
    arr_active: u32,
    ccr_active: [u32; 4],
    rep_cnt: u32,
    sr: u32,
    cr1: u32,
    bdtr: u32,
}

impl Tim {
    /// The counter advances on the internal clock: CEN, not frozen, ARR ≠ 0, and no slave mode
    /// that takes the count from an (unmodelled, quiet) input.
    pub(super) fn counting(&self) -> bool {
        let internal = matches!(self.smcr & 7, 0 | 4 | 6) && self.smcr & (1 << 14) == 0;
        self.cr1 & CEN != 0 && !self.frozen && self.arr_active != 0 && internal
    }

    fn phase(&self) -> Phase {
        Phase {
            cnt: self.cnt,
            down: self.down,
            psc_cnt: self.psc_cnt,
            psc_active: self.psc_active,
            arr_active: self.arr_active,
            ccr_active: self.ccr_active,
            rep_cnt: self.rep_cnt,
            sr: self.sr,
            cr1: self.cr1,
            bdtr: self.bdtr,
        }
    }

    /// The update event (§15.3.1): shadows loaded, UIF (unless a UG with URS = 1), OPM stops
    /// the counter, AOE sets MOE (TIM1).
    fn update_event(&mut self, by_ug: bool) {
        self.psc_active = self.psc;
        self.arr_active = self.arr;
        for ch in 0..4 {
            if self.is_output(ch) {
                self.ccr_active[ch] = self.ccr[ch];
            }
        }
        if !(by_ug && self.cr1 & URS != 0) {
            self.sr |= UIF;
        }
        if self.cr1 & OPM != 0 {
            self.cr1 &= !CEN;
        }
        if self.advanced() && self.bdtr & AOE != 0 {
            self.bdtr |= MOE;
        }
    }

    /// EGR.UG (§15.4.6): prescaler counter and counter reinitialised, REP_CNT reloaded and the
    /// update event generated, unless UDIS.
    pub(super) fn software_update(&mut self) {
        self.psc_cnt = 0;
        if self.cr1 & UDIS == 0 {
            self.rep_cnt = self.rcr;
            self.update_event(true);
        }
        if self.centre() {
            self.cnt = 0;
            self.down = false;
        } else {
            self.cnt = if self.down { self.arr_active } else { 0 };
        }
    }

    /// Counter ticks (≥ 1) up to and including the next one that may have an effect.
    fn ticks_to_point(&self) -> u64 {
        let c = self.cnt as u64;
        let arr = self.arr_active as u64;
        let wrap = self.wrap();
        // Ticks until the counter reaches value v on its plain path, if before `limit`.
        let up = |v: u64| if v > c { v - c } else { wrap - c + v };
        let dn = |v: u64| if v < c { c - v } else { c + wrap - v };
        let to_wrap = match (self.centre(), self.down) {
            (false, false) if c <= arr => arr - c + 1,
            (false, false) => wrap - c + arr + 1,
            (false, true) => c + 1,
            (true, false) => up(arr),
            (true, true) => dn(0),
        };
        let mut next = to_wrap;
        for ch in 0..4 {
            if !self.is_output(ch) {
                continue;
            }
            let v = self.ccr_active[ch] as u64;
            let d = if self.down { dn(v) } else { up(v) };
            if d >= 1 {
                next = next.min(d);
            }
        }
        next
    }

    /// Moves the counter by `j` ticks along its plain path (no point on the way).
    fn plain_ticks(&mut self, j: u64) {
        let j = (j % self.wrap()) as u32;
        let mask = self.cnt_mask();
        self.cnt = if self.down {
            self.cnt.wrapping_sub(j) & mask
        } else {
            self.cnt.wrapping_add(j) & mask
        };
    }

    /// One counter tick with all its effects; true when it was a repetition event (the
    /// over/underflow where REP_CNT was 0).
    fn counter_tick(&mut self) -> bool {
        let arr = self.arr_active;
        let was_down = self.down;
        let mut wrapped = false;
        if !self.centre() {
            if !self.down {
                if self.cnt == arr {
                    self.cnt = 0;
                    wrapped = true;
                } else {
                    self.cnt = self.cnt.wrapping_add(1) & self.cnt_mask();
                }
            } else if self.cnt == 0 {
                wrapped = true; // reloaded below, after a possible update of ARR
            } else {
                self.cnt -= 1;
            }
        } else if !self.down {
            self.cnt = self.cnt.wrapping_add(1) & self.cnt_mask();
            if self.cnt == arr {
                wrapped = true;
                self.down = true;
            }
        } else {
            self.cnt = self.cnt.wrapping_sub(1) & self.cnt_mask();
            if self.cnt == 0 {
                wrapped = true;
                self.down = false;
            }
        }
        let mut repetition = false;
        if wrapped {
            if self.rep_cnt == 0 {
                repetition = true;
                self.rep_cnt = self.rcr;
                if self.cr1 & UDIS == 0 {
                    self.update_event(false);
                }
            } else {
                self.rep_cnt -= 1;
            }
            if !self.centre() && was_down {
                self.cnt = self.arr_active;
            }
        }
        let cms = (self.cr1 >> 5) & 3;
        let dir_ok = match cms {
            0 | 3 => true,
            1 => was_down,
            _ => !was_down,
        };
        if dir_ok {
            for ch in 0..4 {
                if self.is_output(ch) && self.cnt == self.ccr_active[ch] {
                    self.sr |= 2 << ch;
                }
            }
        }
        repetition
    }

    /// Runs `k` kernel cycles.
    pub(super) fn run(&mut self, k: u64) {
        self.step(k, false);
    }

    /// Kernel cycles until the next visible change (SR flag set, CEN cleared by OPM, MOE set by
    /// AOE), or None if none will ever come without an access. Consumes the (cloned) state.
    pub(super) fn cycles_to_visible_change(mut self) -> Option<u64> {
        self.step(u64::MAX, true)
    }

    /// The stepping loop of `run` and `cycles_to_visible_change`. With `search`, stops at the
    /// first point that changes SR, CR1 or BDTR and returns the kernel cycles to it; without,
    /// consumes `budget` cycles. A repetition-event phase equal to one of the last two ends a
    /// search (nothing visible will happen) or lets a run skip the whole periods left.
    fn step(&mut self, budget: u64, search: bool) -> Option<u64> {
        let mut left = budget;
        let mut history: [Option<(Phase, u64)>; 2] = [None, None];
        while self.counting() {
            let per = self.psc_active as u64 + 1;
            let first = per - (self.psc_cnt as u64).min(per - 1);
            if left < first {
                self.psc_cnt += left as u32;
                return None;
            }
            let avail = 1 + (left - first) / per;
            let to_point = self.ticks_to_point();
            if avail < to_point {
                self.plain_ticks(avail);
                let used = first + (avail - 1) * per;
                self.psc_cnt = (left - used) as u32;
                return None;
            }
            self.plain_ticks(to_point - 1);
            left -= first + (to_point - 1) * per;
            self.psc_cnt = 0;
            let before = (self.sr, self.cr1, self.bdtr);
            let repetition = self.counter_tick();
            if search && before != (self.sr, self.cr1, self.bdtr) {
                return Some(budget - left);
            }
            if !repetition {
                continue;
            }
            let now = self.phase();
            let seen = history
                .iter()
                .flatten()
                .find(|(p, _)| *p == now)
                .map(|&(_, at)| at);
            if let Some(at_left) = seen {
                if search {
                    return None;
                }
                let period = at_left - left;
                left %= period;
            }
            history = [Some((now, left)), history[0]];
        }
        None
    }

    /// Active PSC, active ARR and REP_CNT, for the tests.
    #[cfg(test)]
    pub(super) fn shadows(&self) -> (u32, u32, u32) {
        (self.psc_active, self.arr_active, self.rep_cnt)
    }
}
