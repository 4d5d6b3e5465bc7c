//! Independent watchdog of the STM32L4 (RM0351 §32) and STM32G4 (RM0440
//! §42) at 0x4000_3000: KR (0xCCCC start, 0xAAAA reload, 0x5555 unlocks
//! PR/RLR/WINR), PR (divider 4·2^PR of the 32 kHz LSI, capped at 256), RLR
//! (12 bit), SR (PVU/RVU/WVU read 0: updates take effect at once), WINR
//! (window: a reload while the counter is above WINR resets the chip).
//! Counted in virtual time from RLR down; the chip is reset when it reaches
//! 0: timeout = (RLR + 1) · 4·2^PR / 32 kHz (0.125 ms … 32.8 s). Frozen
//! while the core is halted with DBGMCU_APB1FZR1.DBG_IWDG_STOP. Same
//! behaviour as the F1's (`stm32f1/iwdg.rs`), which is fixed to a 40 kHz LSI
//! and has no window. Not modelled: OPTR.IWDG_STOP/IWDG_STDBY (freeze in
//! Stop/Standby).

/// LSI period, picoseconds (32 kHz, RM0351 §6.2.6).
pub(crate) const LSI_PERIOD_PS: u64 = 31_250_000;

#[derive(Debug, Clone)]
pub(crate) struct Iwdg {
    pub started: bool,
    unlocked: bool,
    pr: u32,
    rlr: u32,
    winr: u32,
    counted_ps: u64,
    limit_ps: u64,
    /// Virtual time up to which `counted_ps` is accounted.
    pub last_ps: u64,
    /// A reload outside the window happened: reset now.
    window_violation: bool,
}

impl Iwdg {
    /// After a reset at `now_ps`; with OPTR.IWDG_SW = 0 it starts by itself.
    pub(crate) fn after_reset(hardware_watchdog: bool, now_ps: u64) -> Iwdg {
        let mut w = Iwdg {
            started: hardware_watchdog,
            unlocked: false,
            pr: 0,
            rlr: 0xFFF,
            winr: 0xFFF,
            counted_ps: 0,
            limit_ps: 0,
            last_ps: now_ps,
            window_violation: false,
        };
        w.reload();
        w
    }

    fn div(&self) -> u64 {
        (4u64 << self.pr.min(6)).min(256)
    }

    fn reload(&mut self) {
        self.limit_ps = (self.rlr as u64 + 1) * self.div() * LSI_PERIOD_PS;
        self.counted_ps = 0;
    }

    /// The down-counter now.
    fn counter(&self) -> u64 {
        let tick = self.div() * LSI_PERIOD_PS;
        (self.limit_ps.saturating_sub(self.counted_ps)) / tick
    }

    /// Counts up to `now_ps` (unless `frozen`); true when the chip must reset.
    pub(crate) fn advance(&mut self, now_ps: u64, frozen: bool) -> bool {
        let dt = now_ps.saturating_sub(self.last_ps);
        self.last_ps = now_ps;
        if std::mem::take(&mut self.window_violation) {
            return true;
        }
        if !self.started || frozen {
            return false;
        }
        self.counted_ps += dt;
        self.counted_ps >= self.limit_ps
    }

    /// Time left before the reset, picoseconds, if it runs.
    pub(crate) fn remaining_ps(&self) -> Option<u64> {
        if self.window_violation {
            return Some(0);
        }
        self.started
            .then(|| self.limit_ps.saturating_sub(self.counted_ps))
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x04 => self.pr,
            0x08 => self.rlr,
            0x10 => self.winr,
            _ => 0, // KR write-only, SR: no update pending
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x00 => match v & 0xFFFF {
                0xCCCC => {
                    if !self.started {
                        self.started = true;
                        self.reload();
                    }
                }
                0xAAAA => {
                    if self.winr < 0xFFF && self.counter() > self.winr as u64 {
                        self.window_violation = true;
                    }
                    self.reload();
                }
                0x5555 => self.unlocked = true,
                _ => self.unlocked = false,
            },
            0x04 if self.unlocked => self.pr = v & 7,
            0x08 if self.unlocked => self.rlr = v & 0xFFF,
            0x10 if self.unlocked => {
                // Writing WINR reloads the counter (RM0351 §32.3.5).
                self.winr = v & 0xFFF;
                self.reload();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_at_32_khz_and_window() {
        let mut w = Iwdg::after_reset(false, 0);
        w.write(0, 0xCCCC);
        w.write(0, 0x5555);
        w.write(0x04, 0); // /4: 125 us per tick
        w.write(0x08, 7); // 8 ticks = 1 ms
        w.write(0, 0xAAAA);
        assert_eq!(w.remaining_ps(), Some(1_000_000_000));
        assert!(!w.advance(999_999_999, false));
        assert!(w.advance(1_000_000_000, false));
        let mut w = Iwdg::after_reset(true, 0);
        w.write(0, 0x5555);
        w.write(0x10, 0x100);
        w.write(0, 0xAAAA); // counter 0xFFF > WINR: too early
        assert!(w.advance(1, false));
    }
}
