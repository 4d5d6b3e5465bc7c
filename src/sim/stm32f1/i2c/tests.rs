//! Unit tests of the I2C model (RM0008 §26).

use super::*;
use crate::sim::periph::{Clocks, PS_PER_S};

const US: u64 = PS_PER_S / 1_000_000;
const CR1: u32 = 0x00;
const CR2: u32 = 0x04;
const OAR1: u32 = 0x08;
const OAR2: u32 = 0x0C;
const DR: u32 = 0x10;
const SR1: u32 = 0x14;
const SR2: u32 = 0x18;
const CCR: u32 = 0x1C;
const TRISE: u32 = 0x20;

struct Rig {
    i: I2c,
    clocks: Clocks,
    now: u64,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            i: I2c::new(I2cKind::I2c1, 0),
            clocks: Clocks::RESET,
            now: 0,
        }
    }
    /// HAL_I2C_Init at 100 kHz on PCLK1 = 8 MHz: FREQ 8, CCR 40 (SCL 10 µs), TRISE 9, PE.
    fn init() -> Rig {
        let mut r = Rig::new();
        r.wr(CR1, SWRST);
        r.wr(CR1, 0);
        r.wr(CR2, 8);
        r.wr(TRISE, 9);
        r.wr(CCR, 40);
        r.wr(CR1, PE);
        r
    }
    fn cx(&self) -> Ctx<'_> {
        Ctx {
            now: self.now,
            clocks: &self.clocks,
        }
    }
    fn rd(&mut self, off: u32) -> u32 {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.i.read(off, &cx)
    }
    fn wr(&mut self, off: u32, v: u32) {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.i.write(off, v, &cx)
    }
    fn at(&mut self, now: u64) {
        self.now = now;
        let cx = Ctx {
            now,
            clocks: &self.clocks,
        };
        self.i.sync(&cx);
    }
    fn next(&self) -> Option<u64> {
        self.i.next_event(&self.cx())
    }
    /// Polls `off` until `mask` is set (or clear), jumping to each next event.
    fn wait(&mut self, off: u32, mask: u32, set: bool) {
        while (self.rd(off) & mask != 0) != set {
            let t = self.next().expect("the flag must change");
            self.at(t);
        }
    }
}

#[test]
fn reset_values_and_masks() {
    let mut r = Rig::new();
    for off in (0..0x24).step_by(4) {
        let want = if off == TRISE { 2 } else { 0 };
        assert_eq!(r.rd(off), want, "offset {off:#x}");
    }
    for (off, mask) in [
        (CR2, 0x1F3F),
        (OAR1, 0xC3FF),
        (OAR2, 0xFF),
        (DR, 0xFF),
        (CCR, 0xCFFF),
        (TRISE, 0x3F),
    ] {
        r.wr(off, u32::MAX);
        assert_eq!(r.rd(off), mask, "offset {off:#x}");
    }
    r.wr(CR1, 0xFFFF & !SWRST & !START & !STOP);
    assert_eq!(r.rd(CR1), 0xBFFB & !SWRST & !START & !STOP);
    assert_eq!(r.i.name(), "I2C1");
}

#[test]
fn hal_master_transmit_ends_in_acknowledge_failure() {
    let mut r = Rig::init();
    assert_eq!(r.rd(SR2) & BUSY, 0, "bus free");
    r.wr(CR1, PE | START);
    assert_eq!(r.rd(SR2) & BUSY, BUSY, "BUSY from the START condition on");
    assert_eq!(r.next(), Some(10 * US));
    r.wait(SR1, SB, true); // EV5
    assert_eq!(r.now, 10 * US);
    assert_eq!(r.rd(CR1) & START, 0, "START cleared by hardware");
    assert_eq!(r.rd(SR2) & (MSL | BUSY), MSL | BUSY);
    r.wr(DR, 0xA0); // SR1 was read: SB clears, the address goes out
    assert_eq!(r.rd(SR1) & SB, 0);
    assert_eq!(r.next(), Some(100 * US), "9 SCL periods");
    // I2C_WaitOnMasterAddressFlagUntilTimeout: ADDR never comes, AF does.
    r.wait(SR1, ADDR | AF, true);
    assert_eq!(r.now, 100 * US);
    assert_eq!(r.rd(SR1), AF);
    assert_eq!(
        r.rd(SR2) & (MSL | BUSY),
        MSL | BUSY,
        "the master still holds the bus"
    );
    r.wr(CR1, PE | STOP);
    r.wr(SR1, !AF);
    assert_eq!(r.rd(SR1), 0);
    r.wait(SR2, BUSY, false);
    assert_eq!(r.now, 110 * US);
    assert_eq!(r.rd(SR2), 0);
    assert_eq!(r.rd(CR1), PE, "STOP cleared by hardware");
    assert_eq!(r.next(), None);
}

#[test]
fn the_address_needs_the_sr1_read_first() {
    let mut r = Rig::init();
    r.wr(CR1, PE | START);
    r.at(10 * US);
    r.wr(DR, 0xA0); // no SR1 read since SB set
    assert_eq!(r.i.sr1 & SB, SB);
    assert_eq!(r.next(), None, "nothing sent");
    r.rd(SR1);
    r.wr(DR, 0xA1);
    assert_eq!(r.next(), Some(100 * US));
}

#[test]
fn stop_requested_during_the_address_comes_after_it() {
    let mut r = Rig::init();
    r.wr(CR1, PE | START);
    r.wait(SR1, SB, true);
    r.wr(DR, 0x10);
    r.at(50 * US);
    r.wr(CR1, PE | STOP);
    assert_eq!(r.next(), Some(100 * US));
    r.at(100 * US);
    assert_eq!(r.i.sr1 & AF, AF);
    assert_eq!(r.next(), Some(110 * US));
    r.at(110 * US);
    assert_eq!(r.rd(SR2) & BUSY, 0);
}

#[test]
fn repeated_start_after_the_nack() {
    let mut r = Rig::init();
    r.wr(CR1, PE | START);
    r.wait(SR1, SB, true);
    r.wr(DR, 0x10);
    r.wait(SR1, AF, true);
    r.wr(SR1, 0);
    r.wr(CR1, PE | START);
    r.wait(SR1, SB, true);
    assert_eq!(r.now, 110 * US);
    assert_eq!(r.rd(SR2) & (MSL | BUSY), MSL | BUSY);
}

#[test]
fn fast_mode_scl_periods() {
    for (ccr, cycles) in [((1 << 15) | 10, 30u64), ((1 << 15) | (1 << 14) | 2, 50)] {
        let mut r = Rig::init();
        r.wr(CCR, ccr);
        r.wr(CR1, PE | START);
        assert_eq!(
            r.next(),
            Some(cycles * PS_PER_S / 8_000_000),
            "CCR {ccr:#x}"
        );
    }
}

#[test]
fn scl_runs_on_pclk1() {
    let mut r = Rig::init();
    r.clocks.pclk2 = 1;
    r.clocks.pclk1 = 36_000_000;
    r.wr(CCR, 180);
    r.wr(CR1, PE | START);
    assert_eq!(r.next(), Some(10 * US));
}

#[test]
fn interrupt_lines() {
    let mut r = Rig::init();
    r.wr(CR2, 8 | ITEVTEN | ITERREN);
    r.wr(CR1, PE | START);
    assert!(!r.i.irq(0));
    r.at(10 * US);
    assert!(r.i.irq(0), "SB → I2C1_EV");
    r.rd(SR1);
    r.wr(DR, 0xA0);
    assert!(!r.i.irq(0));
    r.at(100 * US);
    assert!(r.i.irq(1), "AF → I2C1_ER");
    assert!(!r.i.irq(0));
    r.wr(SR1, 0);
    assert!(!r.i.irq(1));
    assert!(!r.i.irq(2));
}

#[test]
fn error_flags_are_rc_w0() {
    let mut r = Rig::init();
    r.i.sr1 = AF | SB;
    r.wr(SR1, 0xFFFF);
    assert_eq!(r.rd(SR1), AF | SB);
    r.wr(SR1, 0);
    assert_eq!(r.rd(SR1), SB, "SB is read-only");
}

#[test]
fn pe_cleared_frees_everything() {
    let mut r = Rig::init();
    r.wr(CR1, PE | START | (1 << 10)); // + ACK
    r.at(10 * US);
    r.wr(CR1, START | (1 << 10));
    assert_eq!(r.rd(CR1), 0, "START/ACK cleared with PE = 0");
    assert_eq!((r.rd(SR1), r.rd(SR2)), (0, 0));
    assert_eq!(r.next(), None);
    r.wr(CR1, START);
    assert_eq!(r.next(), None, "no START without PE");
}

#[test]
fn swrst_holds_the_registers_in_reset() {
    let mut r = Rig::init();
    r.wr(CR1, PE | START);
    r.wr(CR1, SWRST);
    assert_eq!(r.rd(CR1), SWRST);
    assert_eq!((r.rd(CR2), r.rd(CCR), r.rd(TRISE), r.rd(SR2)), (0, 0, 2, 0));
    r.wr(CR2, 8);
    assert_eq!(r.rd(CR2), 0, "held");
    r.wr(CR1, 0);
    r.wr(CR2, 8);
    assert_eq!(r.rd(CR2), 8);
}

#[test]
fn ccr_0_stops_scl_until_written() {
    let mut r = Rig::new();
    r.wr(CR1, PE | START);
    assert_eq!(r.next(), None);
    r.at(PS_PER_S);
    assert_eq!(r.rd(SR1), 0);
    r.wr(CCR, 40);
    assert_eq!(r.next(), Some(PS_PER_S + 10 * US));
}

#[test]
fn chunked_syncs_equal_one_and_reset() {
    let run = |steps: u64| {
        let mut r = Rig::init();
        r.wr(CR1, PE | START);
        r.at(10 * US);
        r.rd(SR1);
        r.wr(DR, 0x42);
        r.wr(CR1, PE | STOP);
        let end = 10 * US + 101 * US;
        for k in 1..=steps {
            r.at(10 * US + (end - 10 * US) * k / steps);
        }
        (r.rd(SR1), r.rd(SR2), r.rd(CR1), r.i.phase)
    };
    let one = run(1);
    assert_eq!(one, run(1013));
    assert_eq!(one, (AF, 0, PE, Phase::Idle));
    let mut r = Rig::init();
    r.wr(CR1, PE | START);
    r.i.reset();
    assert_eq!((r.rd(CR1), r.rd(SR2), r.rd(TRISE)), (0, 0, 2));
    assert_eq!(r.next(), None);
}
