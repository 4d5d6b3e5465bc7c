//! The GPIO port of the newer STM32 families: RM0316 §11.4 (F3), identical
//! in RM0440 §9.4 (G4), RM0351 §8.4 (L4) and RM0433 §11.4 (H7).
//!
//! Registers (word offsets): MODER 0x00, OTYPER 0x04, OSPEEDR 0x08, PUPDR
//! 0x0C, IDR 0x10 (read-only), ODR 0x14, BSRR 0x18 (write-only: BS[15:0] set,
//! BR[31:16] reset, BS wins when both are written), LCKR 0x1C, AFRL 0x20,
//! AFRH 0x24, BRR 0x28 (write-only), and on the L47x ASCR 0x2C. Write-only
//! registers read 0; reserved bits (OTYPER/ODR/IDR/BRR [31:16], LCKR [31:17])
//! read 0; the other offsets are reserved and read 0.
//!
//! Reset values of the F3 (§11.4.1–§11.4.4; the G4 and L4 differ, see
//! [`GpioReset`]): the SWJ pins are in alternate-function
//! mode after reset, PA13 (SWDIO) with pull-up and very high speed, PA14
//! (SWCLK) with pull-down, PA15 (JTDI) with pull-up, PB3 (JTDO/SWO) and PB4
//! (NJTRST, pull-up): MODER 0xA800_0000 (A), 0x0000_0280 (B), 0 (others);
//! OSPEEDR 0x0C00_0000 (A), 0 (others); PUPDR 0x6400_0000 (A), 0x0000_0100
//! (B), 0 (others). AFRL/AFRH 0: the debug pins are on AF0 (§11.3.2).
//!
//! LCKR (§11.4.8): the key sequence is "write LCKK = 1 + LCK[15:0], write
//! LCKK = 0 + the same LCK, write LCKK = 1 + the same LCK, read LCKR"; the lock
//! is active from that read on (it returns LCKK = 1, and so does every later
//! read) until the next reset of the port. Any other LCKR write, or a change of
//! LCK[15:0] during the sequence, aborts it. A locked pin keeps its MODER,
//! OTYPER, OSPEEDR, PUPDR and AFR fields; ODR/BSRR/BRR still work.
//!
//! Pins: nothing outside is connected. IDR reads, per pin: input mode its pull
//! (pull-up 1, pull-down or none 0); output mode the driven level (push-pull:
//! ODR; open-drain: 0 when ODR = 0, else the pull-up); alternate function the
//! pull (the peripheral's output level is not modelled); analog mode 0
//! (§11.3.12: the Schmitt trigger is off).

/// GPIOx_MODER field values (§11.4.1).
const MODE_INPUT: u32 = 0b00;
const MODE_OUTPUT: u32 = 0b01;
const MODE_AF: u32 = 0b10;

/// LCKR.LCKK (§11.4.8).
const LCKK: u32 = 1 << 16;

/// Reset values of a family's GPIO ports, which differ: on the F3 unused pins
/// reset to input mode, on the G4 and L4 to analog mode (RM0440 §9.4.1,
/// RM0351 §8.5.1: MODER 0xABFF_FFFF for port A, 0xFFFF_FEBF for port B,
/// 0xFFFF_FFFF for the others), and the L47x has GPIOx_ASCR at 0x2C (RM0351
/// §8.5.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GpioReset {
    /// STM32F3 (RM0316 §11.4).
    F3,
    /// STM32G4 (RM0440 §9.4): analog reset mode, no ASCR.
    G4,
    /// STM32L47x/L48x (RM0351 §8.5): analog reset mode, ASCR.
    L4,
    /// STM32H7 (RM0433 §11.4): analog reset mode as the G4, OSPEEDR of port
    /// B 0x0000_00C0 (PB3 very high speed), no ASCR.
    H7,
}

/// One GPIO port (A = 0, B = 1, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GpioPort {
    index: usize,
    pub moder: u32,
    pub otyper: u32,
    pub ospeedr: u32,
    pub pupdr: u32,
    pub odr: u32,
    lckr: u32,
    pub afr: [u32; 2],
    /// Position in the LCKR key sequence: 0 idle, 1..3 writes seen.
    lock_seq: u8,
    /// GPIOx_ASCR (L47x only: `Some`), analog switch to the ADC per pin.
    ascr: Option<u32>,
}

impl GpioPort {
    /// Port `index` (0 = A) of the STM32F3 in its reset state (RM0316 §11.4).
    pub(crate) fn after_reset(index: usize) -> GpioPort {
        Self::after_reset_of(GpioReset::F3, index)
    }

    /// Port `index` (0 = A) of family `family` in its reset state.
    pub(crate) fn after_reset_of(family: GpioReset, index: usize) -> GpioPort {
        let (moder, ospeedr, pupdr) = match (family, index) {
            (GpioReset::F3, 0) => (0xA800_0000, 0x0C00_0000, 0x6400_0000),
            (GpioReset::F3, 1) => (0x0000_0280, 0, 0x0000_0100),
            (GpioReset::F3, _) => (0, 0, 0),
            (_, 0) => (0xABFF_FFFF, 0x0C00_0000, 0x6400_0000),
            (GpioReset::H7, 1) => (0xFFFF_FEBF, 0x0000_00C0, 0x0000_0100),
            (_, 1) => (0xFFFF_FEBF, 0, 0x0000_0100),
            (_, _) => (0xFFFF_FFFF, 0, 0),
        };
        GpioPort {
            index,
            moder,
            otyper: 0,
            ospeedr,
            pupdr,
            odr: 0,
            lckr: 0,
            afr: [0, 0],
            lock_seq: 0,
            ascr: (family == GpioReset::L4).then_some(0),
        }
    }

    fn mode(&self, pin: u32) -> u32 {
        (self.moder >> (2 * pin)) & 3
    }

    fn pull(&self, pin: u32) -> u32 {
        (self.pupdr >> (2 * pin)) & 3
    }

    /// Alternate function number (0..15) selected for `pin` in AFRL/AFRH.
    pub(crate) fn af(&self, pin: u32) -> u32 {
        (self.afr[(pin / 8) as usize] >> ((pin % 8) * 4)) & 0xF
    }

    /// Pin levels as GPIOx_IDR reads them (see the module doc).
    pub(crate) fn idr(&self) -> u32 {
        (0..16u32)
            .filter(|&p| {
                let pulled_up = self.pull(p) == 0b01;
                let driven_high = self.odr & (1 << p) != 0;
                match self.mode(p) {
                    MODE_INPUT | MODE_AF => pulled_up,
                    MODE_OUTPUT => {
                        if self.otyper & (1 << p) == 0 {
                            driven_high
                        } else {
                            driven_high && pulled_up
                        }
                    }
                    _ => false, // analog
                }
            })
            .fold(0, |acc, p| acc | (1 << p))
    }

    /// PA13 (SWDIO) and PA14 (SWCLK) are still given to the debug port: both
    /// in alternate-function mode with AF0 (RM0316 §11.3.2, §33.4.2; the same
    /// in RM0440 §9.3.2 and RM0351 §8.3.2). Always true for ports other than A.
    pub(crate) fn swd_pins_af0(&self) -> bool {
        self.index != 0
            || [13, 14]
                .iter()
                .all(|&p| self.mode(p) == MODE_AF && self.af(p) == 0)
    }

    /// Pins locked by LCKR (LCKK read as 1): their configuration is frozen.
    fn locked_pins(&self) -> u32 {
        if self.lckr & LCKK != 0 {
            self.lckr & 0xFFFF
        } else {
            0
        }
    }

    /// Word read at byte offset `off`.
    pub(crate) fn read(&mut self, off: u32) -> u32 {
        match off {
            0x00 => self.moder,
            0x04 => self.otyper,
            0x08 => self.ospeedr,
            0x0C => self.pupdr,
            0x10 => self.idr(),
            0x14 => self.odr,
            0x1C => {
                if self.lock_seq == 3 {
                    self.lock_seq = 0;
                    self.lckr |= LCKK; // the sequence's read: the lock is active
                }
                self.lckr
            }
            0x20 => self.afr[0],
            0x24 => self.afr[1],
            0x2C => self.ascr.unwrap_or(0),
            _ => 0, // BSRR, BRR write-only; reserved
        }
    }

    /// Word write at byte offset `off`.
    pub(crate) fn write(&mut self, off: u32, v: u32) {
        let locked = self.locked_pins();
        // Keeps the fields of locked pins: `bits` per pin, pins `first..first+n`.
        let keep = |old: u32, new: u32, bits: u32, first: u32| -> u32 {
            let mut mask = 0u32;
            for i in 0..32 / bits {
                if locked & (1 << (first + i)) != 0 {
                    mask |= ((1u64 << bits) as u32).wrapping_sub(1) << (i * bits);
                }
            }
            (old & mask) | (new & !mask)
        };
        match off {
            0x00 => self.moder = keep(self.moder, v, 2, 0),
            0x04 => self.otyper = keep(self.otyper, v & 0xFFFF, 1, 0) & 0xFFFF,
            0x08 => self.ospeedr = keep(self.ospeedr, v, 2, 0),
            0x0C => self.pupdr = keep(self.pupdr, v, 2, 0),
            0x14 => self.odr = v & 0xFFFF,
            0x18 => {
                let set = v & 0xFFFF;
                let reset = (v >> 16) & 0xFFFF;
                self.odr = (self.odr & !reset) | set;
            }
            0x1C => self.write_lckr(v),
            0x20 => self.afr[0] = keep(self.afr[0], v, 4, 0),
            0x24 => self.afr[1] = keep(self.afr[1], v, 4, 8),
            0x28 => self.odr &= !(v & 0xFFFF),
            0x2C => {
                if let Some(a) = self.ascr.as_mut() {
                    *a = v & 0xFFFF;
                }
            }
            _ => {}
        }
    }

    fn write_lckr(&mut self, v: u32) {
        if self.lckr & LCKK != 0 {
            return; // locked until the next reset
        }
        let lckk = v & LCKK != 0;
        let same = (v & 0xFFFF) == (self.lckr & 0xFFFF);
        self.lock_seq = match (self.lock_seq, lckk) {
            (1, false) if same => 2,
            (2, true) if same => 3,
            (_, true) => 1,
            _ => 0,
        };
        // LCK[15:0] is kept as written; LCKK reads 0 until the lock is active.
        self.lckr = v & 0xFFFF;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODER: u32 = 0x00;
    const OTYPER: u32 = 0x04;
    const OSPEEDR: u32 = 0x08;
    const PUPDR: u32 = 0x0C;
    const IDR: u32 = 0x10;
    const ODR: u32 = 0x14;
    const BSRR: u32 = 0x18;
    const LCKR: u32 = 0x1C;
    const AFRL: u32 = 0x20;
    const AFRH: u32 = 0x24;
    const BRR: u32 = 0x28;

    #[test]
    fn reset_values_per_port_rm0316_11_4() {
        let mut a = GpioPort::after_reset(0);
        let mut b = GpioPort::after_reset(1);
        let mut e = GpioPort::after_reset(4);
        // §11.4.1 MODER, §11.4.3 OSPEEDR, §11.4.4 PUPDR.
        assert_eq!(
            [a.read(MODER), a.read(OSPEEDR), a.read(PUPDR)],
            [0xA800_0000, 0x0C00_0000, 0x6400_0000]
        );
        assert_eq!(
            [b.read(MODER), b.read(OSPEEDR), b.read(PUPDR)],
            [0x0000_0280, 0, 0x0000_0100]
        );
        for off in [MODER, OTYPER, OSPEEDR, PUPDR, ODR, LCKR, AFRL, AFRH] {
            assert_eq!(e.read(off), 0, "GPIOE {off:#x}");
        }
        // Pulls: PA13 and PA15 up, PA14 down; PB4 up.
        assert_eq!(a.read(IDR), (1 << 13) | (1 << 15));
        assert_eq!(b.read(IDR), 1 << 4);
        assert_eq!(e.read(IDR), 0);
        assert!(a.swd_pins_af0());
    }

    #[test]
    fn output_bsrr_brr_and_write_only_registers() {
        let mut e = GpioPort::after_reset(4);
        e.write(MODER, 1 << 18); // PE9 output
        e.write(BSRR, 1 << 9);
        assert_eq!(e.read(ODR), 1 << 9);
        assert_eq!(e.read(IDR), 1 << 9);
        e.write(BSRR, (1 << (16 + 9)) | (1 << 9)); // set wins
        assert_eq!(e.read(ODR), 1 << 9);
        e.write(BRR, 1 << 9);
        assert_eq!(e.read(ODR), 0);
        assert_eq!(e.read(BSRR), 0);
        assert_eq!(e.read(BRR), 0);
        e.write(ODR, 0xFFFF_FFFF);
        assert_eq!(e.read(ODR), 0xFFFF, "ODR[31:16] reserved");
        assert_eq!(e.read(0x2C), 0, "reserved offset");
        // Open-drain output high with no pull reads 0; with a pull-up 1.
        e.write(OTYPER, 1 << 9);
        e.write(ODR, 1 << 9);
        assert_eq!(e.read(IDR) & (1 << 9), 0);
        e.write(PUPDR, 1 << 18);
        assert_eq!(e.read(IDR) & (1 << 9), 1 << 9);
        // Analog mode reads 0.
        e.write(MODER, 3 << 18);
        assert_eq!(e.read(IDR) & (1 << 9), 0);
    }

    #[test]
    fn lckr_key_sequence_locks_the_configuration_until_reset() {
        let mut a = GpioPort::after_reset(0);
        let k = 1 << 5; // lock PA5
        a.write(LCKR, LCKK | k);
        a.write(LCKR, k);
        a.write(LCKR, LCKK | k);
        assert_eq!(
            a.read(LCKR),
            LCKK | k,
            "the sequence's read activates the lock"
        );
        assert_eq!(a.read(LCKR), LCKK | k);
        a.write(MODER, 0xFFFF_FFFF);
        assert_eq!(a.read(MODER), !(3 << 10), "PA5 kept its input mode");
        a.write(AFRL, 0xFFFF_FFFF);
        assert_eq!(a.read(AFRL), 0xFF0F_FFFF);
        a.write(LCKR, 0);
        assert_eq!(a.read(LCKR), LCKK | k, "LCKR frozen too");
        a.write(ODR, 1 << 5);
        assert_eq!(a.read(ODR), 1 << 5, "ODR is not locked");
        assert_eq!(GpioPort::after_reset(0).read(LCKR), 0);
    }

    #[test]
    fn a_wrong_lckr_sequence_does_not_lock() {
        let mut a = GpioPort::after_reset(0);
        // LCK changes between the writes.
        a.write(LCKR, LCKK | 1);
        a.write(LCKR, 3);
        a.write(LCKR, LCKK | 3);
        assert_eq!(a.read(LCKR) & LCKK, 0);
        // Missing the LCKK = 0 step.
        a.write(LCKR, LCKK | 1);
        a.write(LCKR, LCKK | 1);
        assert_eq!(a.read(LCKR) & LCKK, 0);
        a.write(MODER, 0);
        assert_eq!(a.read(MODER), 0, "nothing locked");
    }

    #[test]
    fn swd_pins_leave_af0_by_moder_or_afr() {
        let mut a = GpioPort::after_reset(0);
        a.write(MODER, 0xA800_0000 & !(3 << 26)); // PA13 input
        assert!(!a.swd_pins_af0());
        a.write(MODER, 0xA800_0000);
        assert!(a.swd_pins_af0());
        a.write(AFRH, 1 << 24); // PA14 on AF1
        assert!(!a.swd_pins_af0());
        a.write(AFRH, 0);
        a.write(MODER, 0xA800_0000 | (1 << 18)); // other pins do not matter
        assert!(a.swd_pins_af0());
        assert!(GpioPort::after_reset(1).swd_pins_af0());
    }

    #[test]
    fn g4_and_l4_ports_reset_to_analog_and_only_the_l4_has_ascr() {
        // RM0440 §9.4.1, RM0351 §8.5.1, §8.5.12.
        for fam in [GpioReset::G4, GpioReset::L4] {
            let mut a = GpioPort::after_reset_of(fam, 0);
            let mut b = GpioPort::after_reset_of(fam, 1);
            let mut c = GpioPort::after_reset_of(fam, 2);
            assert_eq!(a.read(0x00), 0xABFF_FFFF);
            assert_eq!(b.read(0x00), 0xFFFF_FEBF);
            assert_eq!(c.read(0x00), 0xFFFF_FFFF);
            assert!(a.swd_pins_af0());
            c.write(0x2C, 0x1_0003);
            let want = if fam == GpioReset::L4 { 3 } else { 0 };
            assert_eq!(c.read(0x2C), want);
        }
        let mut f3 = GpioPort::after_reset(2);
        f3.write(0x2C, 3);
        assert_eq!(f3.read(0x2C), 0);
    }
}
