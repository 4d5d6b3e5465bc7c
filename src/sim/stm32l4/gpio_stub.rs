//! PLACEHOLDER for the GPIO ports of the L4/G4 (RM0351 §8, RM0440 §9) at
//! 0x4800_0000 + 0x400·n: plain register files with the RM reset values
//! until the shared ST GPIO block (`sim/st/gpio.rs`, another branch) is
//! wired in. MODER, OTYPER, OSPEEDR, PUPDR, ODR, LCKR (stored), AFRL, AFRH,
//! ASCR (L4) keep what is written; BSRR/BRR set/reset ODR bits; IDR reads
//! ODR for output pins and the pull-up for input pins (nothing drives the
//! pins from outside). Port A's MODER/AFRH decide whether PA13/PA14 still
//! carry SWDIO/SWCLK (AF0, RM0351 §8.3.2; RM0440 §9.3.2).

#[derive(Debug, Clone)]
pub(crate) struct GpioStub {
    pub moder: u32,
    otyper: u32,
    ospeedr: u32,
    pupdr: u32,
    pub odr: u32,
    lckr: u32,
    afr: [u32; 2],
    ascr: u32,
}

impl GpioStub {
    /// Reset state of port `port` (0 = A): RM0351 §8.5.1/§8.5.3/§8.5.4,
    /// RM0440 §9.4.1/§9.4.3/§9.4.4 (the same values on both).
    pub(crate) fn after_reset(port: usize) -> GpioStub {
        let (moder, ospeedr, pupdr) = match port {
            0 => (0xABFF_FFFF, 0x0C00_0000, 0x6400_0000),
            1 => (0xFFFF_FEBF, 0, 0x0000_0100),
            _ => (0xFFFF_FFFF, 0, 0),
        };
        GpioStub {
            moder,
            otyper: 0,
            ospeedr,
            pupdr,
            odr: 0,
            lckr: 0,
            afr: [0; 2],
            ascr: 0,
        }
    }

    fn idr(&self) -> u32 {
        (0..16).fold(0, |acc, pin| {
            let mode = (self.moder >> (2 * pin)) & 3;
            let pull = (self.pupdr >> (2 * pin)) & 3;
            let level = match mode {
                1 => self.odr >> pin & 1,
                0 => u32::from(pull == 1),
                _ => 0,
            };
            acc | (level << pin)
        })
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => self.moder,
            0x04 => self.otyper,
            0x08 => self.ospeedr,
            0x0C => self.pupdr,
            0x10 => self.idr(),
            0x14 => self.odr,
            0x1C => self.lckr,
            0x20 => self.afr[0],
            0x24 => self.afr[1],
            0x2C => self.ascr,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x00 => self.moder = v,
            0x04 => self.otyper = v & 0xFFFF,
            0x08 => self.ospeedr = v,
            0x0C => self.pupdr = v,
            0x14 => self.odr = v & 0xFFFF,
            0x18 => self.odr = (self.odr | (v & 0xFFFF)) & !(v >> 16),
            0x1C => self.lckr = v & 0x1_FFFF,
            0x20 => self.afr[0] = v,
            0x24 => self.afr[1] = v,
            0x28 => self.odr &= !(v & 0xFFFF),
            0x2C => self.ascr = v & 0xFFFF,
            _ => {}
        }
    }

    /// PA13 (SWDIO) and PA14 (SWCLK) are in alternate-function mode with AF0.
    pub(crate) fn swd_pins_kept(&self) -> bool {
        [13u32, 14].iter().all(|&pin| {
            (self.moder >> (2 * pin)) & 3 == 0b10 && (self.afr[1] >> (4 * (pin - 8))) & 0xF == 0
        })
    }
}
