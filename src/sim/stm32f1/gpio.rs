//! General-purpose I/O ports A–E (RM0008 §9.2): CRL, CRH, IDR, ODR, BSRR, BRR,
//! LCKR with its lock key sequence. Nothing is connected to the pins: an input
//! reads its pull (CNF = 10, pull-up/-down from ODR) or 0 when floating; an
//! output pin reads back the driven level.

#[derive(Debug, Clone)]
pub(crate) struct Gpio {
    pub crl: u32,
    pub crh: u32,
    pub odr: u32,
    pub lckr: u32,
    /// Lock key sequence position (RM0008 §9.2.7).
    lock_seq: u8,
}

impl Gpio {
    pub(crate) fn after_reset() -> Gpio {
        Gpio { crl: 0x4444_4444, crh: 0x4444_4444, odr: 0, lckr: 0, lock_seq: 0 }
    }

    fn mode_cnf(&self, pin: u32) -> (u32, u32) {
        let reg = if pin < 8 { self.crl } else { self.crh };
        let f = (reg >> ((pin % 8) * 4)) & 0xF;
        (f & 3, f >> 2)
    }

    /// Pin levels as the input data register sees them.
    pub(crate) fn idr(&self) -> u32 {
        (0..16)
            .filter(|&p| {
                let (mode, cnf) = self.mode_cnf(p);
                let level = self.odr & (1 << p) != 0;
                if mode != 0 { level } else { cnf == 2 && level }
            })
            .fold(0, |acc, p| acc | (1 << p))
    }

    pub(crate) fn read(&mut self, off: u32) -> u32 {
        match off {
            0x00 => self.crl,
            0x04 => self.crh,
            0x08 => self.idr(),
            0x0C => self.odr,
            0x18 => {
                // Reading LCKR: the 4th and 5th steps of the lock sequence.
                match self.lock_seq {
                    3 => self.lock_seq = 4,
                    4 => {
                        self.lock_seq = 5;
                        self.lckr |= 1 << 16;
                    }
                    _ => {}
                }
                self.lckr
            }
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        let locked = if self.lckr & (1 << 16) != 0 { self.lckr & 0xFFFF } else { 0 };
        let keep = |old: u32, new: u32, first_pin: u32| -> u32 {
            (0..8).fold(0, |acc, i| {
                let src = if locked & (1 << (first_pin + i)) != 0 { old } else { new };
                acc | (src & (0xF << (i * 4)))
            })
        };
        match off {
            0x00 => self.crl = keep(self.crl, v, 0),
            0x04 => self.crh = keep(self.crh, v, 8),
            0x0C => self.odr = v & 0xFFFF,
            0x10 => {
                let set = v & 0xFFFF;
                let reset = (v >> 16) & 0xFFFF;
                self.odr = (self.odr & !reset) | set;
            }
            0x14 => self.odr &= !(v & 0xFFFF),
            0x18 => {
                if self.lckr & (1 << 16) != 0 {
                    return; // locked until reset
                }
                let lckk = v & (1 << 16) != 0;
                let same = (v & 0xFFFF) == (self.lckr & 0xFFFF);
                self.lock_seq = match (self.lock_seq, lckk) {
                    (0, true) => 1,
                    (1, false) if same => 2,
                    (2, true) if same => 3,
                    (_, true) => 1,
                    _ => 0,
                };
                self.lckr = v & 0xFFFF;
            }
            _ => {}
        }
    }
}
