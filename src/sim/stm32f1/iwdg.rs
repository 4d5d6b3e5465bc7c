//! Independent watchdog (RM0008 §19.4): KR key protocol, PR, RLR, SR.
//! Minimal for now: the watchdog can be started (KR = 0xCCCC) and reloaded,
//! but it never counts down and never resets the chip.

#[derive(Debug, Clone)]
pub(crate) struct Iwdg {
    pub started: bool,
    unlocked: bool,
    pub pr: u32,
    pub rlr: u32,
}

impl Iwdg {
    pub(crate) fn after_reset(hardware_watchdog: bool) -> Iwdg {
        Iwdg { started: hardware_watchdog, unlocked: false, pr: 0, rlr: 0xFFF }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x4 => self.pr,
            0x8 => self.rlr,
            _ => 0, // KR is write-only; SR: updates complete instantly
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x0 => match v & 0xFFFF {
                0xCCCC => self.started = true,
                0x5555 => self.unlocked = true,
                0xAAAA => self.unlocked = false,
                _ => self.unlocked = false,
            },
            0x4 if self.unlocked => self.pr = v & 7,
            0x8 if self.unlocked => self.rlr = v & 0xFFF,
            _ => {}
        }
    }
}
