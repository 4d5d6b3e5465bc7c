//! Unit tests of the TIM1..4 model (RM0008 §14, §15): registers and flags here, the time base
//! in `counting.rs`.

use super::*;

mod counting;
use crate::sim::periph::{Clocks, Ctx, PS_PER_S};

const MS: u64 = PS_PER_S / 1000;
const US: u64 = PS_PER_S / 1_000_000;

// Register offsets.
const CR1: u32 = 0x00;
const CR2: u32 = 0x04;
const SMCR: u32 = 0x08;
const DIER: u32 = 0x0C;
const SR: u32 = 0x10;
const EGR: u32 = 0x14;
const CCMR1: u32 = 0x18;
const CCER: u32 = 0x20;
const CNT: u32 = 0x24;
const PSC: u32 = 0x28;
const ARR: u32 = 0x2C;
const RCR: u32 = 0x30;
const CCR1: u32 = 0x34;
const CCR2: u32 = 0x38;
const BDTR: u32 = 0x44;
const DCR: u32 = 0x48;
const DMAR: u32 = 0x4C;

/// A timer with a clock set and a virtual time, driven like the bus drives it.
struct Rig {
    t: Tim,
    clocks: Clocks,
    now: u64,
}

impl Rig {
    fn new(kind: TimKind) -> Rig {
        Rig {
            t: Tim::new(kind, 0),
            clocks: Clocks::RESET, // 8 MHz kernel clocks
            now: 0,
        }
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
        self.t.read(off, &cx)
    }
    fn wr(&mut self, off: u32, v: u32) {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.t.write(off, v, &cx)
    }
    fn at(&mut self, now: u64) {
        self.now = now;
        let cx = Ctx {
            now,
            clocks: &self.clocks,
        };
        self.t.sync(&cx);
    }
    fn next(&self) -> Option<u64> {
        self.t.next_event(&self.cx())
    }
    /// HAL-style time-base set-up: PSC, ARR, UG (loads PSC), UIF cleared. The four channels
    /// are parked at CCR = 0xFFFF (beyond ARR in these tests): with their reset value 0 they
    /// would match, and set CCxIF, at every wrap to 0, as on silicon.
    fn base(&mut self, psc: u32, arr: u32) {
        for ch in 0..4 {
            self.wr(CCR1 + 4 * ch, 0xFFFF);
        }
        self.wr(PSC, psc);
        self.wr(ARR, arr);
        self.wr(EGR, 1);
        self.wr(SR, 0);
    }
}

#[test]
fn reset_values() {
    let mut r = Rig::new(TimKind::Tim2);
    for off in (0..0x50).step_by(4) {
        let want = if off == ARR { 0xFFFF } else { 0 };
        assert_eq!(r.rd(off), want, "TIM2 offset {off:#x}");
    }
    let mut r = Rig::new(TimKind::Tim1);
    r.wr(RCR, 0x1FF);
    r.wr(BDTR, 0x1_FFFF);
    assert_eq!(r.rd(RCR), 0xFF);
    assert_eq!(r.rd(BDTR) & 0xFF, 0xFF);
    let mut g = Rig::new(TimKind::Tim3);
    g.wr(RCR, 5);
    g.wr(BDTR, 5);
    assert_eq!((g.rd(RCR), g.rd(BDTR)), (0, 0), "no RCR/BDTR on TIM2..4");
}

#[test]
fn register_masks() {
    let mut r = Rig::new(TimKind::Tim4);
    r.wr(CR1, 0xFFFF_FFFF);
    assert_eq!(r.rd(CR1), 0x3FF & !(1 << 4) | (r.t.down as u32) << 4);
    r.wr(CR1, 0);
    r.wr(CR2, 0xFFFF);
    assert_eq!(r.rd(CR2), 0xF8);
    r.wr(SMCR, 0xFFFF);
    assert_eq!(r.rd(SMCR), 0xFFF7);
    r.wr(SMCR, 0);
    r.wr(DIER, 0xFFFF);
    assert_eq!(r.rd(DIER), 0x5F5F);
    r.wr(CCER, 0xFFFF);
    assert_eq!(r.rd(CCER), 0x3333);
    r.wr(DCR, 0xFFFF);
    assert_eq!(r.rd(DCR), 0x1F1F);
    r.wr(EGR, 0xFF);
    assert_eq!(r.rd(EGR), 0, "EGR reads 0");
    assert_eq!(
        r.rd(SR),
        0x5F,
        "UG, CC1..4G and TG set their flags (UG: UIF)"
    );
    let mut a = Rig::new(TimKind::Tim1);
    a.wr(CR2, 0xFFFF);
    assert_eq!(a.rd(CR2), 0x7FFD);
    a.wr(DIER, 0xFFFF);
    assert_eq!(a.rd(DIER), 0x7FFF);
    a.wr(CCER, 0xFFFF);
    assert_eq!(a.rd(CCER), 0x3FFF);
}

#[test]
fn sr_is_rc_w0() {
    let mut r = Rig::new(TimKind::Tim3);
    r.wr(EGR, 0b1_1111);
    assert_eq!(r.rd(SR), 0x1F);
    r.wr(SR, 0xFFFF);
    assert_eq!(r.rd(SR), 0x1F, "writing 1 changes nothing");
    r.wr(SR, !(1 << 2));
    assert_eq!(r.rd(SR), 0x1B);
    r.wr(SR, 0);
    r.wr(SR, 0xFFFF);
    assert_eq!(r.rd(SR), 0, "writing 1 sets nothing");
}

#[test]
fn tim1_interrupt_lines() {
    let mut r = Rig::new(TimKind::Tim1);
    r.wr(DIER, 0xFF);
    r.wr(BDTR, 1 << 15); // MOE
    r.wr(EGR, 1 << 7); // BG
    assert!(r.t.irq(0));
    assert_eq!(r.rd(BDTR) & (1 << 15), 0, "break clears MOE");
    r.wr(EGR, 1 << 6); // TG
    assert!(r.t.irq(2));
    r.wr(SR, !(1 << 6));
    r.wr(EGR, 1 << 5); // COMG
    assert!(r.t.irq(2));
    r.wr(EGR, 1 << 3); // CC3G
    assert!(r.t.irq(3));
    assert!(!r.t.irq(1));
    assert!(!r.t.irq(4));
}

#[test]
fn aoe_sets_moe_at_the_update() {
    let mut r = Rig::new(TimKind::Tim1);
    r.wr(BDTR, 1 << 14); // AOE
    r.base(0, 9);
    assert_eq!(r.rd(BDTR), (1 << 14) | (1 << 15));
}

#[test]
fn bdtr_lock_is_write_once_and_protects() {
    let mut r = Rig::new(TimKind::Tim1);
    r.wr(BDTR, (3 << 8) | 0x12 | (1 << 12)); // LOCK 3, DTG, BKE
    r.wr(BDTR, (1 << 15) | 0x34);
    assert_eq!(
        r.rd(BDTR),
        (3 << 8) | 0x12 | (1 << 12) | (1 << 15),
        "only MOE changes"
    );
    r.wr(CCER, 0x3FFF);
    assert_eq!(r.rd(CCER), 0x3FFF & !0x2AAA, "polarities locked");
    r.wr(CCMR1, 0x7878);
    assert_eq!(r.rd(CCMR1), 0, "OCxM/OCxPE locked at level 3");
    r.wr(CR2, 0x7F00);
    assert_eq!(r.rd(CR2), 0, "OISx locked");
    // LOCK off, written once: cannot be raised afterwards.
    let mut r = Rig::new(TimKind::Tim1);
    r.wr(BDTR, 0);
    r.wr(BDTR, 3 << 8);
    assert_eq!(r.rd(BDTR), 0);
}

#[test]
fn ccxs_is_writable_only_with_the_channel_off() {
    let mut r = Rig::new(TimKind::Tim2);
    r.wr(CCER, 1);
    r.wr(CCMR1, 0x0101);
    assert_eq!(r.rd(CCMR1), 0x0100, "CC1S kept, CC2S written");
}

#[test]
fn ccxg_capture_and_overcapture() {
    let mut r = Rig::new(TimKind::Tim2);
    r.wr(CCMR1, 1); // CC1 input
    r.wr(CNT, 1234);
    r.wr(EGR, 2);
    assert_eq!(r.rd(CCR1), 1234);
    assert_eq!(r.rd(SR), 2);
    r.wr(EGR, 2);
    assert_eq!(r.rd(SR), 2 | (1 << 9), "CC1OF");
}

#[test]
fn slave_modes_with_quiet_inputs_and_null_arr() {
    for smcr in [1u32, 2, 3, 5, 7, 1 << 14] {
        let mut r = Rig::new(TimKind::Tim2);
        r.wr(SMCR, smcr);
        r.wr(CR1, 1);
        r.at(MS);
        assert_eq!(r.rd(CNT), 0, "SMCR {smcr:#x}");
    }
    for smcr in [4u32, 6] {
        let mut r = Rig::new(TimKind::Tim2);
        r.wr(SMCR, smcr);
        r.wr(CR1, 1);
        r.at(MS);
        assert_eq!(r.rd(CNT), 8000, "SMCR {smcr:#x}: internal clock");
    }
    let mut r = Rig::new(TimKind::Tim2);
    r.wr(ARR, 0);
    r.wr(CR1, 1);
    r.at(MS);
    assert_eq!(r.rd(CNT), 0, "blocked while ARR = 0");
}

#[test]
fn dmar_accesses_the_register_at_dba() {
    let mut r = Rig::new(TimKind::Tim3);
    r.wr(DCR, ARR / 4);
    r.wr(DMAR, 1234);
    assert_eq!(r.rd(ARR), 1234);
    assert_eq!(r.rd(DMAR), 1234);
    r.wr(DCR, DMAR / 4);
    assert_eq!(r.rd(DMAR), 0, "DMAR pointing at itself");
}

#[test]
fn reset_restores_everything_but_time() {
    let mut r = Rig::new(TimKind::Tim2);
    r.base(7, 99);
    r.wr(CR1, 1);
    r.at(MS);
    r.t.reset();
    for off in (0..0x50).step_by(4) {
        let want = if off == ARR { 0xFFFF } else { 0 };
        assert_eq!(r.rd(off), want, "offset {off:#x}");
    }
    r.wr(CR1, 1);
    r.at(2 * MS);
    assert_eq!(r.rd(CNT), 8000, "counts from the reset on");
}
