//! Independent watchdog (RM0008 §19): KR key protocol (0xCCCC start, 0xAAAA
//! reload, 0x5555 unlocks PR/RLR), PR (divider 4·2^PR of the 40 kHz LSI,
//! capped at 256), RLR (12 bit), SR (PVU/RVU read 0: updates take effect at
//! once). Once started it counts down from RLR in virtual time and resets the
//! chip when the counter reaches 0: timeout = (RLR + 1) · 4·2^PR / 40 kHz
//! (RM0008 Table 96: 0.1 ms … 409.6 ms at PR = 0). Only a reset stops it.
//! While the core is halted and DBGMCU_CR.DBG_IWDG_STOP is set it does not
//! count (RM0008 §31.16.3). The counter is kept as the time counted since the
//! last reload; PR and RLR are latched at start/reload.

/// LSI period, picoseconds (40 kHz, RM0008 §7.2.5; the real LSI varies 30–60 kHz).
pub(crate) const LSI_PERIOD_PS: u64 = 25_000_000;

#[derive(Debug, Clone)]
pub(crate) struct Iwdg {
    pub started: bool,
    unlocked: bool,
    pub pr: u32,
    pub rlr: u32,
    /// Time counted since the last reload/start, picoseconds.
    counted_ps: u64,
    /// Timeout latched at the last reload/start, picoseconds.
    limit_ps: u64,
    /// Virtual time up to which `counted_ps` is accounted.
    pub last_ps: u64,
}

impl Iwdg {
    /// State after a reset at virtual time `now_ps`; with the hardware
    /// watchdog option (USER.WDG_SW = 0) it starts by itself.
    pub(crate) fn after_reset(hardware_watchdog: bool, now_ps: u64) -> Iwdg {
        let mut w = Iwdg {
            started: hardware_watchdog,
            unlocked: false,
            pr: 0,
            rlr: 0xFFF,
            counted_ps: 0,
            limit_ps: 0,
            last_ps: now_ps,
        };
        w.reload();
        w
    }

    fn reload(&mut self) {
        let div = (4u64 << self.pr.min(6)).min(256);
        self.limit_ps = (self.rlr as u64 + 1) * div * LSI_PERIOD_PS;
        self.counted_ps = 0;
    }

    /// Counts up to `now_ps` (unless `frozen`). True when the counter reached 0.
    pub(crate) fn advance(&mut self, now_ps: u64, frozen: bool) -> bool {
        let dt = now_ps.saturating_sub(self.last_ps);
        self.last_ps = now_ps;
        if !self.started || frozen {
            return false;
        }
        self.counted_ps += dt;
        self.counted_ps >= self.limit_ps
    }

    /// Time left before the reset, if running.
    pub(crate) fn remaining_ps(&self) -> Option<u64> {
        self.started
            .then(|| self.limit_ps.saturating_sub(self.counted_ps))
    }

    /// The current down-counter value (not a register: for diagnostics and tests).
    #[allow(dead_code)]
    pub(crate) fn counter(&self) -> u32 {
        let div = (4u64 << self.pr.min(6)).min(256);
        let ticks = self.counted_ps / (div * LSI_PERIOD_PS);
        self.rlr.saturating_sub(ticks as u32)
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x4 => self.pr,
            0x8 => self.rlr,
            _ => 0, // KR is write-only; SR: updates complete instantly
        }
    }

    /// Register write; the caller has brought the counter up to date.
    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x0 => match v & 0xFFFF {
                0xCCCC => {
                    if !self.started {
                        self.started = true;
                        self.reload();
                    }
                }
                0x5555 => self.unlocked = true,
                0xAAAA => {
                    self.unlocked = false;
                    self.reload();
                }
                _ => self.unlocked = false,
            },
            0x4 if self.unlocked => self.pr = v & 7,
            0x8 if self.unlocked => self.rlr = v & 0xFFF,
            _ => {}
        }
    }
}
