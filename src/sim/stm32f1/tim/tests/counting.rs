//! Time-base tests of the TIM model: counting modes, preloads, update events, exact event times,
//! frozen counters and clock changes (RM0008 §14.3, §15.3).

use super::*;

#[test]
fn upcounting_update_interrupt_at_the_exact_time() {
    let mut r = Rig::new(TimKind::Tim2);
    r.base(7, 999); // 8 MHz / 8 = 1 MHz counter, period 1000 µs
    r.wr(DIER, 1); // UIE
    r.wr(CR1, 1);
    assert_eq!(r.next(), Some(MS));
    r.at(MS / 2);
    assert_eq!(r.rd(CNT), 500);
    assert!(!r.t.irq(0));
    r.at(MS - 1);
    assert_eq!(r.rd(SR), 0);
    assert_eq!(r.rd(CNT), 999);
    r.at(MS);
    assert_eq!(r.rd(SR), 1);
    assert_eq!(r.rd(CNT), 0);
    assert!(r.t.irq(0));
    assert_eq!(
        r.next(),
        None,
        "UIF already set, no compare: nothing visible"
    );
    r.wr(SR, !1); // rc_w0
    assert!(!r.t.irq(0));
    assert_eq!(r.next(), Some(2 * MS));
}

#[test]
fn one_long_sync_equals_many_short_ones() {
    let setup = |r: &mut Rig| {
        r.base(2, 777);
        r.wr(CCR1, 100);
        r.wr(CCR2, 700);
        r.wr(CR1, 1 | (3 << 5) | (1 << 7)); // centre-aligned 3, ARPE
    };
    let mut once = Rig::new(TimKind::Tim3);
    setup(&mut once);
    let mut many = Rig::new(TimKind::Tim3);
    setup(&mut many);
    let end = 1_234_567_891_011;
    once.at(end);
    let mut t = 0;
    let mut step = 1;
    while t < end {
        t = (t + step).min(end);
        step = (step * 7 + 13) % 9_999_991;
        many.at(t);
    }
    for off in (0..0x50).step_by(4) {
        assert_eq!(once.rd(off), many.rd(off), "offset {off:#x}");
    }
    assert_eq!(once.t.psc_cnt, many.t.psc_cnt);
    assert_eq!(once.t.shadows(), many.t.shadows());
}

#[test]
fn an_hour_in_one_sync_is_exact_and_cheap() {
    let mut r = Rig::new(TimKind::Tim2);
    r.base(7, 999);
    r.wr(CCR1, 250);
    r.wr(CR1, 1);
    let hour = 3600 * PS_PER_S;
    r.at(hour + 250 * US + 3 * US);
    // 3.6e9 µs + 253 µs of counting from 0 with period 1000.
    assert_eq!(r.rd(CNT), 253);
    assert_eq!(r.rd(SR), 0b11, "UIF and CC1IF");
}

#[test]
fn downcounting_reloads_arr_at_underflow() {
    let mut r = Rig::new(TimKind::Tim2);
    r.wr(CR1, 1 << 4); // DIR = down
    r.base(0, 9);
    assert_eq!(r.rd(CNT), 9, "UG in down mode loads ARR");
    r.wr(CR1, 1 | (1 << 4));
    let tick = PS_PER_S / 8_000_000;
    assert_eq!(r.next(), Some(10 * tick), "9..0 then underflow");
    r.at(9 * tick);
    assert_eq!(r.rd(CNT), 0);
    r.wr(ARR, 4); // no preload: next reload uses 4
    r.at(10 * tick);
    assert_eq!(r.rd(CNT), 4);
    assert_eq!(r.rd(SR), 1);
    assert_eq!(r.rd(CR1) & (1 << 4), 1 << 4);
}

#[test]
fn centre_aligned_counts_up_and_down_with_both_update_events() {
    let mut r = Rig::new(TimKind::Tim4);
    r.base(0, 6);
    r.wr(CR1, 1 | (1 << 5)); // CMS = 01
    let tick = PS_PER_S / 8_000_000;
    assert_eq!(r.next(), Some(6 * tick), "overflow when CNT becomes ARR");
    r.at(6 * tick);
    assert_eq!(r.rd(CNT), 6);
    assert_eq!(r.rd(SR), 1);
    r.at(7 * tick);
    assert_eq!(r.rd(CNT), 5);
    assert_eq!(r.rd(CR1) & (1 << 4), 1 << 4, "DIR reads down");
    r.wr(CR1, 1 | (1 << 5)); // DIR is read-only here
    assert_eq!(r.rd(CR1) & (1 << 4), 1 << 4);
    r.wr(SR, 0);
    assert_eq!(r.next(), Some(12 * tick), "underflow when CNT becomes 0");
    r.at(12 * tick);
    assert_eq!((r.rd(CNT), r.rd(SR)), (0, 1));
    assert_eq!(r.rd(CR1) & (1 << 4), 0);
}

#[test]
fn compare_flags_follow_cms_in_centre_aligned_mode() {
    let tick = PS_PER_S / 8_000_000;
    for (cms, first) in [(1u32, 9u64), (2, 3), (3, 3)] {
        let mut r = Rig::new(TimKind::Tim2);
        r.base(0, 6);
        r.wr(CCR1, 3);
        r.wr(SR, 0);
        r.wr(CR1, 1 | (cms << 5));
        r.wr(SR, 0);
        // The UIF at tick 6 is a visible change too: look at CC1IF itself.
        r.at(first * tick - 1);
        assert_eq!(r.rd(SR) & 2, 0, "CMS {cms}");
        r.at(first * tick);
        assert_eq!(r.rd(SR) & 2, 2, "CMS {cms}: CC1IF at tick {first}");
    }
}

#[test]
fn output_compare_flag_and_interrupt() {
    let mut r = Rig::new(TimKind::Tim3);
    r.base(7, 999);
    r.wr(CCR1, 300);
    r.wr(DIER, 1 << 1); // CC1IE
    r.wr(CR1, 1);
    assert_eq!(r.next(), Some(300 * US));
    r.at(300 * US);
    assert_eq!(r.rd(SR), 2);
    assert!(r.t.irq(0));
    assert_eq!(r.next(), Some(MS), "then the update");
    // CCR beyond ARR never matches.
    let mut r = Rig::new(TimKind::Tim3);
    r.base(0, 99);
    r.wr(CCR1, 100);
    r.wr(CR1, 1);
    r.at(MS);
    assert_eq!(r.rd(SR) & 2, 0);
    // An input channel (CC1S = 01) sets no compare flag and its CCR is read-only.
    let mut r = Rig::new(TimKind::Tim3);
    r.base(0, 99);
    r.wr(CCMR1, 1);
    r.wr(CCR1, 5);
    assert_eq!(r.rd(CCR1), 0xFFFF, "unchanged");
    r.wr(CR1, 1);
    r.at(MS);
    assert_eq!(r.rd(SR) & 2, 0);
}

#[test]
fn ccr_preload_takes_effect_at_the_update() {
    let mut r = Rig::new(TimKind::Tim2);
    r.base(0, 99);
    r.wr(CCMR1, 1 << 3); // OC1PE
    r.wr(CCR1, 50);
    r.wr(CR1, 1);
    let tick = PS_PER_S / 8_000_000;
    r.at(100 * tick);
    assert_eq!(
        r.rd(SR) & 2,
        0,
        "the UEV at the wrap loads 50 before the compare"
    );
    r.wr(SR, 0);
    r.at(150 * tick);
    assert_eq!(r.rd(SR) & 2, 2, "CCR1 = 50 active after the update");
    assert_eq!(r.rd(CCR1), 50, "reads the preload");
}

#[test]
fn arr_preload_and_counter_above_arr() {
    let tick = PS_PER_S / 8_000_000;
    let mut r = Rig::new(TimKind::Tim2);
    r.wr(CR1, 1 << 7); // ARPE
    r.base(0, 99);
    r.wr(CR1, 1 | (1 << 7));
    r.at(10 * tick);
    r.wr(ARR, 9);
    assert_eq!(r.rd(ARR), 9, "reads the preload");
    assert_eq!(r.next(), Some(100 * tick), "old period ends first");
    r.at(100 * tick);
    r.wr(SR, 0);
    assert_eq!(r.next(), Some(110 * tick), "then the new ARR");
    // Without preload, an ARR below CNT: count on to 0xFFFF, wrap to 0 without UIF.
    let mut r = Rig::new(TimKind::Tim2);
    r.base(0, 999);
    r.wr(0x18, 0x0101); // all channels inputs: no compare on the way through 0xFFFF
    r.wr(0x1C, 0x0101);
    r.wr(CR1, 1);
    r.at(500 * tick);
    r.wr(ARR, 100);
    assert_eq!(r.next(), Some((500 + (0x1_0000 - 500) + 101) * tick));
    r.at((500 + 0x1_0000 - 500) * tick);
    assert_eq!((r.rd(CNT), r.rd(SR)), (0, 0));
}

#[test]
fn prescaler_is_preloaded() {
    let mut r = Rig::new(TimKind::Tim2);
    r.base(0, 9);
    r.wr(CR1, 1);
    r.wr(PSC, 1); // ×2 slower from the next update
    let tick = PS_PER_S / 8_000_000;
    assert_eq!(r.next(), Some(10 * tick));
    r.at(10 * tick);
    r.wr(SR, 0);
    assert_eq!(r.next(), Some(30 * tick));
    r.at(21 * tick);
    assert_eq!(r.rd(CNT), 5);
}

#[test]
fn ug_with_urs_and_udis() {
    let mut r = Rig::new(TimKind::Tim2);
    r.wr(CR1, 1 << 2); // URS
    r.wr(PSC, 3);
    r.wr(EGR, 1);
    assert_eq!(r.rd(SR), 0, "URS: UG sets no UIF");
    assert_eq!(r.t.shadows().0, 3, "but loads PSC");
    r.wr(CR1, 1 << 1); // UDIS
    r.wr(PSC, 5);
    r.wr(CNT, 77);
    r.wr(EGR, 1);
    assert_eq!(r.rd(SR), 0);
    assert_eq!(r.t.shadows().0, 3, "UDIS: no update of the shadows");
    assert_eq!(r.rd(CNT), 0, "but the counter is reinitialised");
    // UDIS: the counter wraps without UIF.
    r.wr(ARR, 9);
    r.wr(CR1, 1 | (1 << 1));
    r.at(PS_PER_S / 1000);
    assert_eq!(r.rd(SR) & 1, 0);
    assert_eq!(r.rd(SR), 0x1E, "the CCR = 0 channels matched at the wraps");
}

#[test]
fn channels_left_at_ccr_0_flag_at_every_wrap() {
    let mut r = Rig::new(TimKind::Tim2);
    r.wr(ARR, 9);
    r.wr(CR1, 1);
    let tick = PS_PER_S / 8_000_000;
    assert_eq!(r.next(), Some(10 * tick));
    r.at(10 * tick);
    assert_eq!(r.rd(SR), 0x1F, "UIF and CC1..4IF");
}

#[test]
fn one_pulse_mode_stops_at_the_update() {
    let mut r = Rig::new(TimKind::Tim3);
    r.base(7, 99);
    r.wr(CR1, 1 | (1 << 3)); // CEN | OPM
    assert_eq!(r.next(), Some(100 * US));
    r.at(100 * US);
    assert_eq!(r.rd(CR1) & 1, 0, "CEN cleared");
    assert_eq!((r.rd(CNT), r.rd(SR)), (0, 1));
    r.at(10 * MS);
    assert_eq!(r.rd(CNT), 0);
    assert_eq!(r.next(), None);
}

#[test]
fn repetition_counter_of_tim1() {
    let mut r = Rig::new(TimKind::Tim1);
    r.wr(RCR, 2);
    r.base(7, 99); // UG loads REP_CNT = 2
    r.wr(DIER, 1);
    r.wr(CR1, 1);
    assert_eq!(r.next(), Some(300 * US), "UEV every RCR + 1 = 3 periods");
    r.at(299 * US);
    assert!(!r.t.irq(1));
    r.at(300 * US);
    assert!(r.t.irq(1), "TIM1_UP");
    assert!(!r.t.irq(0) && !r.t.irq(2) && !r.t.irq(3));
    r.wr(SR, 0);
    r.wr(RCR, 0); // taken at the next repetition event
    assert_eq!(r.next(), Some(600 * US));
    r.at(600 * US);
    r.wr(SR, 0);
    assert_eq!(r.next(), Some(700 * US));
}

#[test]
fn frozen_counter_does_not_count() {
    let mut r = Rig::new(TimKind::Tim2);
    r.base(7, 999);
    r.wr(CR1, 1);
    r.at(100 * US);
    let cx = Ctx {
        now: 100 * US,
        clocks: &Clocks::RESET,
    };
    r.t.set_frozen(true, &cx);
    assert_eq!(r.next(), None);
    r.at(900 * US);
    assert_eq!(r.rd(CNT), 100);
    let cx = Ctx {
        now: 900 * US,
        clocks: &Clocks::RESET,
    };
    r.t.set_frozen(false, &cx);
    assert_eq!(r.next(), Some(1800 * US));
    r.at(1000 * US);
    assert_eq!(r.rd(CNT), 200);
}

#[test]
fn clock_change_mid_count() {
    let mut r = Rig::new(TimKind::Tim2);
    r.base(0, 0xFFFF);
    r.wr(CR1, 1);
    r.at(MS); // 8000 cycles at 8 MHz
    r.clocks.tim_pclk1 = 72_000_000;
    r.at(2 * MS); // + 72 000
    assert_eq!(r.rd(CNT), 80_000 - 0x1_0000);
    r.clocks.tim_pclk1 = 0; // clock gated
    r.at(3 * MS);
    assert_eq!(r.rd(CNT), 80_000 - 0x1_0000);
    assert_eq!(r.next(), None);
}

#[test]
fn tim1_counts_on_tim_pclk2() {
    let mut r = Rig::new(TimKind::Tim1);
    r.clocks.tim_pclk1 = 1;
    r.base(0, 0xFFFF);
    r.wr(CR1, 1);
    r.at(MS);
    assert_eq!(r.rd(CNT), 8000);
}

/// next_event is never later than the first change a fine-grained simulation sees, and a
/// change is seen exactly there.
#[test]
fn next_event_matches_a_fine_grained_search() {
    let tick = PS_PER_S / 8_000_000;
    let configs: [(u32, u32, u32, u32, u32, u32); 6] = [
        // (CR1 without CEN, PSC, ARR, CCR1, CCR2, RCR)
        (0, 0, 20, 5, 17, 0),
        (1 << 4, 1, 13, 2, 11, 0),
        (1 << 5, 0, 9, 3, 9, 0),
        (2 << 5, 2, 7, 0, 7, 1),
        (3 << 5 | 1 << 3, 0, 5, 1, 4, 2),
        (1 << 1, 0, 15, 8, 3, 0),
    ];
    let mut events = 0;
    for (i, &(cr1, psc, arr, ccr1, ccr2, rcr)) in configs.iter().enumerate() {
        let mut r = Rig::new(TimKind::Tim1);
        r.wr(CR1, cr1);
        r.wr(RCR, rcr);
        r.base(psc, arr);
        r.wr(CCR1, ccr1);
        r.wr(CCR2, ccr2);
        r.wr(CR1, cr1 | 1);
        let mut t = 0;
        for round in 0..12 {
            let predicted = r.next();
            let mut probe = Rig {
                t: r.t.clone(),
                clocks: r.clocks,
                now: t,
            };
            let before = (probe.rd(SR), probe.rd(CR1) & 1);
            let mut seen = None;
            for n in 1..=2000u64 {
                probe.at(t + n * tick);
                if (probe.rd(SR), probe.rd(CR1) & 1) != before {
                    seen = Some(t + n * tick);
                    break;
                }
            }
            assert_eq!(predicted, seen, "config {i}, round {round}");
            let Some(at) = seen else { break };
            events += 1;
            t = at;
            r.at(t);
            r.wr(SR, 0);
        }
    }
    assert!(events >= 50, "only {events} events checked");
}
