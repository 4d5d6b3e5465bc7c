//! External interrupt/event controller EXTI of the STM32F1 (RM0008 §10.2, registers §10.3), F3
//! (RM0316 §14), G4 (RM0440 §15) and L4 (RM0351 §14), one model parameterised by [`ExtiSpec`]:
//! the number of lines, which are configurable (edge-detected: RTSR/FTSR/SWIER/PR bits) and
//! which are direct (a peripheral's wake-up line: only IMR/EMR bits, its pending state is the
//! peripheral's), the IMR reset value (direct lines unmasked), where the second bank of
//! registers (lines 32..) starts, and the interrupt outputs.
//!
//! Registers: IMR, EMR, RTSR, FTSR, SWIER, PR (rc_w1) at 0x00..0x14 for lines 0..31, and on
//! the F3/G4/L4 IMR2..PR2 at 0x20..0x34 for lines 32.. (RM0316 §14.3.13, RM0440 §15.5.13,
//! RM0351 §14.5.13). Reserved bits read their reset value and ignore writes.
//!
//! Behaviour (RM0008 Figure 20, RM0316 Figure 30): a selected edge on a configurable line
//! (RTSR rising, FTSR falling; both may be set) or a 0→1 write to its SWIER bit is a trigger.
//! A trigger on a line whose IMR bit is set sets its PR bit, which stays set until software
//! writes 1 to it (that write also clears the SWIER bit); a trigger on a line whose EMR bit is
//! set sends an event pulse to the core (WFE wake-up, [`Exti::take_event`]). With IMR clear no
//! PR bit is set (event-only lines need no clearing). An interrupt output is high while one of
//! its lines has PR and IMR set.
//!
//! Inputs are levels driven by the sources through [`Exti::line_input`]; the EXTI detects the
//! edges itself (every line is at level 0 when the chip is created). EXTI is not
//! time-driven: no `sync`/`next_event`. Changing RTSR/FTSR while a line is at a level does not
//! trigger. Simplified: edge detection is immediate (on silicon the input is synchronised to
//! the APB2 clock, a few cycles); no direct-line source is wired.

use crate::sim::periph::{Ctx, Peripheral};

/// One chip's EXTI: lines, reset values and interrupt outputs.
#[derive(Debug)]
pub(crate) struct ExtiSpec {
    /// Register bits that exist (bit n = line n; the second bank in bits 32..63).
    pub lines: u64,
    /// Configurable lines (RTSR/FTSR/SWIER/PR bits).
    pub configurable: u64,
    /// IMR1 | IMR2 << 32 after reset, with the reserved bits as the RM gives them.
    pub imr_reset: u64,
    /// Offset of IMR2 (None: one bank).
    pub bank2: Option<u32>,
    /// The interrupt outputs, in the order of [`Exti::irq`]'s `line` argument: name, the
    /// lines it collects, its NVIC number.
    pub outputs: &'static [(&'static str, u64, u32)],
}

/// The GPIO outputs of the F1, F3, G4 and L4 (RM0008 Table 63, RM0316 Table 82, RM0440
/// Table 97, RM0351 Table 58; tests/firmware/chip_*.h list the same positions).
macro_rules! gpio_outputs {
    ($($rest:tt)*) => {
        &[
            ("EXTI0", 1 << 0, 6),
            ("EXTI1", 1 << 1, 7),
            ("EXTI2", 1 << 2, 8),
            ("EXTI3", 1 << 3, 9),
            ("EXTI4", 1 << 4, 10),
            ("EXTI9_5", 0x3E0, 23),
            ("EXTI15_10", 0xFC00, 40),
            $($rest)*
        ]
    };
}

/// STM32F103: 19 lines (0..15 from the GPIO pins selected by AFIO_EXTICRx, 16 PVD, 17 RTC
/// alarm, 18 USB wakeup; line 19, Ethernet wakeup, exists on the connectivity line only), all
/// configurable, reset 0.
pub(crate) const F1: ExtiSpec = ExtiSpec {
    lines: (1 << 19) - 1,
    configurable: (1 << 19) - 1,
    imr_reset: 0,
    bank2: None,
    outputs: gpio_outputs![
        ("PVD", 1 << 16, 1),
        ("RTCAlarm", 1 << 17, 41),
        ("USBWakeUp", 1 << 18, 42)
    ],
};

/// STM32F303xB/C (RM0316 §14.2.5 Table 85, §14.3.1/§14.3.7): 36 lines; direct 23..28 (I2C1/2,
/// USART1..3 wake-up) and 34/35 (UART4/5); IMR1 resets to 0x1F80_0000, IMR2 to 0xFFFF_FFFC.
pub(crate) const F3: ExtiSpec = ExtiSpec {
    lines: (1 << 36) - 1,
    configurable: ((1 << 36) - 1) & !(0x1F80_0000 | (0xC << 32)),
    imr_reset: 0xFFFF_FFFC_1F80_0000,
    bank2: Some(0x20),
    outputs: gpio_outputs![],
};

/// STM32G474 (RM0440 §15.3 Table 106, §15.5.1/§15.5.7): 43 lines; direct 18 (USB), 23..28
/// (I2C1/2/3, USART1..3), 34..37 (UART4/5, LPUART1, LPTIM1) and 42 (I2C4); IMR1 resets to
/// 0x1F84_0000, IMR2 to 0x0000_043C.
pub(crate) const G4: ExtiSpec = ExtiSpec {
    lines: (1 << 43) - 1,
    configurable: ((1 << 43) - 1) & !(0x1F84_0000 | (0x43C << 32)),
    imr_reset: (0x43C << 32) | 0x1F84_0000,
    bank2: Some(0x20),
    outputs: gpio_outputs![],
};

/// STM32L476 (RM0351 §14.3 Table 60, §14.5.1/§14.5.7): 40 lines; direct 17 (OTG FS), 23..31
/// (I2C1..3, USART1..3, UART4/5, LPUART1), 32..34 (LPTIM1/2, SWPMI1) and 39 (LCD); IMR1 resets
/// to 0xFF82_0000, IMR2 to 0x0000_0087.
pub(crate) const L4: ExtiSpec = ExtiSpec {
    lines: (1 << 40) - 1,
    configurable: ((1 << 40) - 1) & !(0xFF82_0000 | (0x87 << 32)),
    imr_reset: (0x87 << 32) | 0xFF82_0000,
    bank2: Some(0x20),
    outputs: gpio_outputs![],
};

#[derive(Debug, Clone)]
pub(crate) struct Exti {
    spec: &'static ExtiSpec,
    imr: u64,
    emr: u64,
    rtsr: u64,
    ftsr: u64,
    swier: u64,
    pr: u64,
    /// Last level seen on each line (bit n = line n).
    levels: u64,
    /// An event pulse was sent and the core has not consumed it yet.
    event: bool,
}

impl Exti {
    pub(crate) fn new(spec: &'static ExtiSpec) -> Exti {
        Exti {
            spec,
            imr: spec.imr_reset,
            emr: 0,
            rtsr: 0,
            ftsr: 0,
            swier: 0,
            pr: 0,
            levels: 0,
            event: false,
        }
    }

    /// The source of `line` drives `level`. A rising edge with RTSR or a falling edge with
    /// FTSR set is a trigger (PR if IMR, an event if EMR). Lines that do not exist or are
    /// direct are ignored.
    pub(crate) fn line_input(&mut self, line: usize, level: bool) {
        if line >= 64 || self.spec.configurable & (1 << line) == 0 {
            return;
        }
        let bit = 1u64 << line;
        let was = self.levels & bit != 0;
        if level == was {
            return;
        }
        self.levels ^= bit;
        let selected = if level { self.rtsr } else { self.ftsr };
        if selected & bit != 0 {
            self.trigger(bit);
        }
    }

    fn trigger(&mut self, bits: u64) {
        self.pr |= bits & self.imr & self.spec.configurable;
        if bits & self.emr != 0 {
            self.event = true;
        }
    }

    /// Takes the pending event pulse for the core's event input (WFE), if one was sent.
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn take_event(&mut self) -> bool {
        std::mem::take(&mut self.event)
    }

    /// Pending lines (EXTI_PR1 | PR2 << 32), bit n = line n.
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn pending(&self) -> u64 {
        self.pr
    }

    /// The NVIC lines whose interrupt output is high, into `out` (bit n of word n/32 = IRQn).
    pub(crate) fn irq_levels(&self, out: &mut [u32; 8]) {
        for (i, &(_, _, n)) in self.spec.outputs.iter().enumerate() {
            if self.irq(i) {
                out[(n / 32) as usize] |= 1 << (n % 32);
            }
        }
    }

    /// The bank (0 or 1) and register index (0 IMR .. 5 PR) at `off`.
    fn decode(&self, off: u32) -> Option<(u32, u32)> {
        let (bank, rel) = match self.spec.bank2 {
            Some(b2) if off >= b2 => (1, off - b2),
            _ => (0, off),
        };
        (rel < 0x18 && rel % 4 == 0).then_some((bank, rel / 4))
    }
}

impl Peripheral for Exti {
    fn name(&self) -> &'static str {
        "EXTI"
    }

    fn read(&mut self, off: u32, _cx: &Ctx) -> u32 {
        let Some((bank, reg)) = self.decode(off) else {
            return 0;
        };
        let v = match reg {
            0 => self.imr,
            1 => self.emr,
            2 => self.rtsr,
            3 => self.ftsr,
            4 => self.swier,
            _ => self.pr,
        };
        (v >> (32 * bank)) as u32
    }

    fn write(&mut self, off: u32, value: u32, _cx: &Ctx) {
        let Some((bank, reg)) = self.decode(off) else {
            return;
        };
        let sh = 32 * bank;
        let field = 0xFFFF_FFFFu64 << sh;
        let v = u64::from(value) << sh;
        let put = |r: &mut u64, mask: u64| *r = (*r & !(field & mask)) | (v & field & mask);
        let (lines, conf) = (self.spec.lines, self.spec.configurable);
        match reg {
            0 => put(&mut self.imr, lines),
            1 => put(&mut self.emr, lines),
            2 => put(&mut self.rtsr, conf),
            3 => put(&mut self.ftsr, conf),
            4 => {
                let v = v & field & conf;
                let rising = v & !self.swier;
                self.swier |= v;
                self.trigger(rising);
            }
            _ => {
                let v = v & field & conf;
                self.pr &= !v;
                self.swier &= !v;
            }
        }
    }

    fn irq(&self, line: usize) -> bool {
        self.spec
            .outputs
            .get(line)
            .is_some_and(|&(_, lines, _)| self.pr & self.imr & lines != 0)
    }

    /// Registers to their reset values; the input levels are the sources' and are kept (an
    /// edge after the reset is detected against the level the line really has).
    fn reset(&mut self) {
        *self = Exti {
            levels: self.levels,
            ..Exti::new(self.spec)
        };
    }
}

#[cfg(test)]
mod banked_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::periph::Clocks;

    const CX: Ctx = Ctx {
        now: 0,
        clocks: &Clocks::RESET,
    };

    fn exti() -> Exti {
        Exti::new(&F1)
    }

    const MASK: u32 = (1 << 19) - 1;

    fn outputs() -> &'static [(&'static str, u64, u32)] {
        F1.outputs
    }

    #[test]
    fn reset_values_are_zero() {
        let mut e = exti();
        for off in (0..0x18).step_by(4) {
            assert_eq!(e.read(off, &CX), 0, "offset {off:#x}");
        }
        for line in 0..outputs().len() {
            assert!(!e.irq(line));
        }
    }

    #[test]
    fn registers_keep_19_bits() {
        let mut e = exti();
        for off in [0x00, 0x04, 0x08, 0x0C] {
            e.write(off, u32::MAX, &CX);
            assert_eq!(e.read(off, &CX), 0x7FFFF);
        }
        assert_eq!(e.read(0x18, &CX), 0, "reserved");
    }

    #[test]
    fn rising_edge_sets_pending_and_the_interrupt_output() {
        let mut e = exti();
        e.write(0x00, 1 << 0, &CX); // IMR0
        e.write(0x08, 1 << 0, &CX); // RTSR0
        e.line_input(0, true);
        assert_eq!(e.read(0x14, &CX), 1);
        assert!(e.irq(0));
        assert!(!e.irq(1));
        e.line_input(0, false); // falling edge not selected
        e.write(0x14, 1, &CX); // clear
        assert_eq!(e.read(0x14, &CX), 0);
        assert!(!e.irq(0));
    }

    #[test]
    fn falling_edge_and_level_without_edge() {
        let mut e = exti();
        e.write(0x00, 1 << 3, &CX);
        e.write(0x0C, 1 << 3, &CX); // FTSR3
        e.line_input(3, false); // no edge: level was already 0
        assert_eq!(e.read(0x14, &CX), 0);
        e.line_input(3, true);
        assert_eq!(e.read(0x14, &CX), 0, "rising not selected");
        e.line_input(3, true); // same level again: nothing
        e.line_input(3, false);
        assert_eq!(e.read(0x14, &CX), 1 << 3);
        assert!(e.irq(3));
    }

    #[test]
    fn both_edges() {
        let mut e = exti();
        e.write(0x00, 1 << 7, &CX);
        e.write(0x08, 1 << 7, &CX);
        e.write(0x0C, 1 << 7, &CX);
        e.line_input(7, true);
        e.write(0x14, 1 << 7, &CX);
        e.line_input(7, false);
        assert_eq!(e.read(0x14, &CX), 1 << 7);
    }

    #[test]
    fn masked_line_sets_no_pending_bit() {
        let mut e = exti();
        e.write(0x08, 1 << 2, &CX);
        e.line_input(2, true);
        assert_eq!(e.read(0x14, &CX), 0);
        e.write(0x00, 1 << 2, &CX); // unmasking later does not revive the edge
        assert!(!e.irq(2));
    }

    #[test]
    fn grouped_outputs() {
        let mut e = exti();
        e.write(0x00, MASK, &CX);
        e.write(0x08, MASK, &CX);
        for (line, out) in [(5, 5), (9, 5), (10, 6), (15, 6), (16, 7), (17, 8), (18, 9)] {
            e.line_input(line, true);
            assert!(e.irq(out), "line {line} → output {}", outputs()[out].0);
            e.write(0x14, 1 << line, &CX);
            assert!(!e.irq(out));
            e.line_input(line, false);
        }
        e.line_input(19, true); // no line 19 on the F103: ignored
        assert_eq!(e.read(0x14, &CX), 0);
        assert!(!e.irq(10), "no output 10");
    }

    #[test]
    fn pending_bit_with_imr_cleared_afterwards_drops_the_output() {
        let mut e = exti();
        e.write(0x00, 1 << 4, &CX);
        e.write(0x08, 1 << 4, &CX);
        e.line_input(4, true);
        e.write(0x00, 0, &CX);
        assert_eq!(e.read(0x14, &CX), 1 << 4, "PR stays");
        assert!(!e.irq(4), "output masked");
    }

    #[test]
    fn software_interrupt_and_its_clearing() {
        let mut e = exti();
        e.write(0x00, 1 << 1, &CX);
        e.write(0x10, 1 << 1, &CX);
        assert_eq!(e.read(0x10, &CX), 1 << 1);
        assert_eq!(e.read(0x14, &CX), 1 << 1);
        assert!(e.irq(1));
        e.write(0x14, 1 << 1, &CX);
        assert_eq!(e.read(0x10, &CX), 0, "clearing PR clears SWIER");
        assert_eq!(e.read(0x14, &CX), 0);
        // Writing 1 to an already-set SWIER bit is not a new trigger.
        e.write(0x00, 0, &CX);
        e.write(0x10, 1 << 1, &CX);
        e.write(0x00, 1 << 1, &CX);
        e.write(0x10, 1 << 1, &CX);
        assert_eq!(e.read(0x14, &CX), 0);
        // Writing 0 to SWIER does not clear it.
        e.write(0x10, 0, &CX);
        assert_eq!(e.read(0x10, &CX), 1 << 1);
    }

    #[test]
    fn event_mode_pulses_the_core_without_pending_bit() {
        let mut e = exti();
        e.write(0x04, 1 << 0, &CX); // EMR0
        e.write(0x08, 1 << 0, &CX);
        e.line_input(0, true);
        assert_eq!(e.read(0x14, &CX), 0);
        assert!(e.take_event());
        assert!(!e.take_event(), "one pulse");
    }

    #[test]
    fn reset_clears_the_registers_and_keeps_the_input_levels() {
        let mut e = exti();
        e.write(0x00, 1, &CX);
        e.write(0x0C, 1, &CX);
        e.line_input(0, true);
        e.reset();
        assert_eq!(e.pending(), 0);
        assert_eq!(e.read(0x00, &CX), 0);
        assert_eq!(e.read(0x0C, &CX), 0);
        e.write(0x00, 1, &CX);
        e.write(0x0C, 1, &CX);
        e.line_input(0, false); // the line was high across the reset: a falling edge
        assert_eq!(e.pending(), 1);
    }
}
