//! Tests of the two-bank EXTI of the F303, G474 and L476: reset values, direct lines,
//! SWIER → PR → NVIC, PR write-1-to-clear, masked lines, the second bank at 0x20.

use super::*;
use crate::sim::periph::Clocks;

const CX: Ctx = Ctx {
    now: 0,
    clocks: &Clocks::RESET,
};

const IMR1: u32 = 0x00;
const EMR1: u32 = 0x04;
const RTSR1: u32 = 0x08;
const SWIER1: u32 = 0x10;
const PR1: u32 = 0x14;
const IMR2: u32 = 0x20;
const RTSR2: u32 = 0x28;
const SWIER2: u32 = 0x30;
const PR2: u32 = 0x34;

fn nvic(e: &Exti) -> [u32; 8] {
    let mut out = [0; 8];
    e.irq_levels(&mut out);
    out
}

#[test]
fn reset_values_of_the_three_chips() {
    // RM0316 §14.3.1/§14.3.7, RM0440 §15.5.1/§15.5.7, RM0351 §14.5.1/§14.5.7.
    for (spec, imr1, imr2) in [
        (&F3, 0x1F80_0000, 0xFFFF_FFFC),
        (&G4, 0x1F84_0000, 0x0000_043C),
        (&L4, 0xFF82_0000, 0x0000_0087),
    ] {
        let mut e = Exti::new(spec);
        assert_eq!(e.read(IMR1, &CX), imr1);
        assert_eq!(e.read(IMR2, &CX), imr2);
        for off in [0x04, 0x08, 0x0C, 0x10, 0x14, 0x24, 0x28, 0x2C, 0x30, 0x34] {
            assert_eq!(e.read(off, &CX), 0, "offset {off:#x}");
        }
        assert_eq!(e.read(0x18, &CX), 0, "reserved");
        assert_eq!(e.read(0x1C, &CX), 0, "reserved");
        assert_eq!(nvic(&e), [0; 8]);
    }
}

#[test]
fn swier_sets_pr_and_the_nvic_line_until_pr_is_written_with_1() {
    for spec in [&F3, &G4, &L4] {
        let mut e = Exti::new(spec);
        for (line, irq) in [(0, 6), (4, 10), (5, 23), (9, 23), (10, 40), (15, 40)] {
            e.write(IMR1, 1 << line, &CX);
            e.write(SWIER1, 1 << line, &CX);
            assert_eq!(e.read(PR1, &CX), 1 << line);
            assert_eq!(e.read(SWIER1, &CX), 1 << line);
            let mut want = [0; 8];
            want[irq / 32] = 1 << (irq % 32);
            assert_eq!(nvic(&e), want, "line {line}");
            e.write(PR1, 0, &CX); // writing 0 changes nothing
            assert_eq!(e.read(PR1, &CX), 1 << line);
            e.write(PR1, 1 << line, &CX);
            assert_eq!(e.read(PR1, &CX), 0);
            assert_eq!(e.read(SWIER1, &CX), 0, "PR clears SWIER");
            assert_eq!(nvic(&e), [0; 8]);
        }
    }
}

#[test]
fn a_masked_line_sets_no_pr_bit_and_raises_no_interrupt() {
    let mut e = Exti::new(&L4);
    e.write(IMR1, 0, &CX);
    e.write(SWIER1, 1 << 3, &CX);
    assert_eq!(e.read(SWIER1, &CX), 1 << 3);
    assert_eq!(e.read(PR1, &CX), 0);
    assert_eq!(nvic(&e), [0; 8]);
    // Event mode: a pulse to the core, no PR bit.
    e.write(EMR1, 1 << 2, &CX);
    e.write(SWIER1, 1 << 2, &CX);
    assert!(e.take_event());
    assert_eq!(e.read(PR1, &CX), 0);
}

#[test]
fn direct_lines_have_no_trigger_bits() {
    // F3 line 25 (USART1 wake-up) and L4 line 31 (LPUART1) are direct: RTSR/SWIER/PR bits
    // are reserved; IMR keeps them.
    for (spec, line) in [(&F3, 25), (&G4, 25), (&L4, 31)] {
        let mut e = Exti::new(spec);
        e.write(RTSR1, 1 << line, &CX);
        e.write(SWIER1, 1 << line, &CX);
        assert_eq!(e.read(RTSR1, &CX), 0);
        assert_eq!(e.read(SWIER1, &CX), 0);
        assert_eq!(e.read(PR1, &CX), 0);
        e.write(IMR1, 0, &CX);
        assert_eq!(e.read(IMR1, &CX), 0);
        e.line_input(line as usize, true);
        assert_eq!(e.pending(), 0);
    }
}

#[test]
fn the_second_bank_holds_lines_32_and_up() {
    // F3 lines 32/33 (COMP7 is 33) are configurable, 34/35 direct; bits 4..31 of IMR2 are
    // reserved and keep their reset value.
    let mut e = Exti::new(&F3);
    e.write(IMR2, 0, &CX);
    assert_eq!(e.read(IMR2, &CX), 0xFFFF_FFF0);
    e.write(IMR2, 0x3, &CX);
    e.write(RTSR2, u32::MAX, &CX);
    assert_eq!(e.read(RTSR2, &CX), 0x3);
    e.write(SWIER2, 0x2, &CX);
    assert_eq!(e.read(PR2, &CX), 0x2);
    assert_eq!(e.read(PR1, &CX), 0, "bank 1 untouched");
    assert_eq!(e.pending(), 1 << 33);
    e.write(PR2, 0x2, &CX);
    assert_eq!(e.read(PR2, &CX), 0);
    // L476: lines 35..38 (PVM1..4) configurable; line 40 does not exist.
    let mut e = Exti::new(&L4);
    e.write(RTSR2, u32::MAX, &CX);
    assert_eq!(e.read(RTSR2, &CX), 0x78);
    e.write(IMR2, u32::MAX, &CX);
    assert_eq!(e.read(IMR2, &CX), 0xFF);
}

#[test]
fn gpio_lines_trigger_on_edges_and_reset_restores_the_direct_lines() {
    let mut e = Exti::new(&G4);
    e.write(IMR1, 1 << 13, &CX);
    e.write(RTSR1, 1 << 13, &CX);
    e.line_input(13, true);
    assert_eq!(e.read(PR1, &CX), 1 << 13);
    assert_eq!(nvic(&e)[1], 1 << (40 - 32));
    e.reset();
    assert_eq!(e.read(IMR1, &CX), 0x1F84_0000);
    assert_eq!(e.read(PR1, &CX), 0);
    assert_eq!(nvic(&e), [0; 8]);
}
