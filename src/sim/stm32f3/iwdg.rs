//! Independent watchdog of the STM32F303 (RM0316 §25): the F1's IWDG
//! (`stm32f1/iwdg.rs`: KR key protocol, PR, RLR, countdown on the 40 kHz LSI,
//! reset at 0, hardware-watchdog start from the option byte) plus the window
//! register WINR at 0x10 (reset 0x0000_0FFF, writable after KR = 0x5555 like
//! PR/RLR, §25.4.5). Writing WINR reloads the counter (§25.3.3); a refresh
//! (KR = 0xAAAA) while the counter is above WINR resets the chip (§25.3.3
//! "Window option"). SR (0x0C) reads 0: updates take effect at once.

use crate::sim::stm32f1::iwdg::Iwdg;

#[derive(Debug, Clone)]
pub(crate) struct IwdgF3 {
    pub inner: Iwdg,
    winr: u32,
    unlocked: bool,
}

impl IwdgF3 {
    pub(crate) fn after_reset(hardware_watchdog: bool, now_ps: u64) -> IwdgF3 {
        IwdgF3 {
            inner: Iwdg::after_reset(hardware_watchdog, now_ps),
            winr: 0xFFF,
            unlocked: false,
        }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x10 => self.winr,
            _ => self.inner.read(off),
        }
    }

    /// Register write (the caller has brought the counter up to date); true
    /// when it makes the watchdog reset the chip (a refresh outside the window).
    pub(crate) fn write(&mut self, off: u32, v: u32) -> bool {
        match off {
            0x0 => {
                let key = v & 0xFFFF;
                let early = key == 0xAAAA && self.inner.started && self.inner.counter() > self.winr;
                self.unlocked = key == 0x5555;
                self.inner.write(0, v);
                early
            }
            0x10 => {
                if self.unlocked {
                    self.winr = v & 0xFFF;
                    // Reload without closing the register access (KR is not written).
                    self.inner.write(0, 0xAAAA);
                    self.inner.write(0, 0x5555);
                }
                false
            }
            _ => {
                self.inner.write(off, v);
                false
            }
        }
    }
}
