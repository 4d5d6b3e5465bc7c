//! External interrupt/event controller EXTI (RM0008 §10.2, registers §10.3) of the STM32F103:
//! 19 lines (0..15 from the GPIO pins selected by AFIO_EXTICRx, 16 PVD, 17 RTC alarm, 18 USB
//! wakeup; line 19, Ethernet wakeup, exists on the connectivity line only).
//!
//! Registers: IMR, EMR, RTSR, FTSR, SWIER, PR (rc_w1), each 19 bits, reset 0.
//!
//! Behaviour (Figure 20): a selected edge on a line (RTSR rising, FTSR falling; both may be
//! set) or a 0→1 write to its SWIER bit is a trigger. A trigger on a line whose IMR bit is set
//! sets its PR bit, which stays set until software writes 1 to it (that write also clears the
//! SWIER bit); a trigger on a line whose EMR bit is set sends an event pulse to the core (WFE
//! wake-up, [`Exti::take_event`]). With IMR clear no PR bit is set (event-only lines need no
//! clearing). An interrupt output is high while one of its lines has PR and IMR set.
//!
//! Inputs are levels driven by the sources through [`Exti::line_input`]; the EXTI detects the
//! edges itself (every line is at level 0 when the chip is created). EXTI is not
//! time-driven: no `sync`/`next_event`. Changing RTSR/FTSR while a line is at a level does not
//! trigger. Simplified: edge detection is immediate (on silicon the input is synchronised to
//! the APB2 clock, a few cycles).

use crate::sim::periph::{Ctx, Peripheral};

/// Number of EXTI lines on the F103 (0..18).
pub(crate) const LINES: usize = 19;
const MASK: u32 = (1 << LINES) - 1;

/// The interrupt outputs, in the order of [`Exti::irq`]'s `line` argument, with the lines each
/// one collects and its NVIC number (RM0008 Table 63).
pub(crate) const OUTPUTS: [(&str, u32, u32); 10] = [
    ("EXTI0", 1 << 0, 6),
    ("EXTI1", 1 << 1, 7),
    ("EXTI2", 1 << 2, 8),
    ("EXTI3", 1 << 3, 9),
    ("EXTI4", 1 << 4, 10),
    ("EXTI9_5", 0x3E0, 23),
    ("EXTI15_10", 0xFC00, 40),
    ("PVD", 1 << 16, 1),
    ("RTCAlarm", 1 << 17, 41),
    ("USBWakeUp", 1 << 18, 42),
];

#[derive(Debug, Clone, Default)]
pub(crate) struct Exti {
    imr: u32,
    emr: u32,
    rtsr: u32,
    ftsr: u32,
    swier: u32,
    pr: u32,
    /// Last level seen on each line (bit n = line n).
    levels: u32,
    /// An event pulse was sent and the core has not consumed it yet.
    event: bool,
}

impl Exti {
    pub(crate) fn new() -> Exti {
        Exti::default()
    }

    /// The source of `line` (0..18) drives `level`. A rising edge with RTSR or a falling edge
    /// with FTSR set is a trigger (PR if IMR, an event if EMR). Lines beyond 18 are ignored.
    pub(crate) fn line_input(&mut self, line: usize, level: bool) {
        if line >= LINES {
            return;
        }
        let bit = 1u32 << line;
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

    fn trigger(&mut self, bits: u32) {
        self.pr |= bits & self.imr;
        if bits & self.emr != 0 {
            self.event = true;
        }
    }

    /// Takes the pending event pulse for the core's event input (WFE), if one was sent.
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn take_event(&mut self) -> bool {
        std::mem::take(&mut self.event)
    }

    /// Pending lines (EXTI_PR), bit n = line n.
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn pending(&self) -> u32 {
        self.pr
    }
}

impl Peripheral for Exti {
    fn name(&self) -> &'static str {
        "EXTI"
    }

    fn read(&mut self, off: u32, _cx: &Ctx) -> u32 {
        match off {
            0x00 => self.imr,
            0x04 => self.emr,
            0x08 => self.rtsr,
            0x0C => self.ftsr,
            0x10 => self.swier,
            0x14 => self.pr,
            _ => 0,
        }
    }

    fn write(&mut self, off: u32, value: u32, _cx: &Ctx) {
        let v = value & MASK;
        match off {
            0x00 => self.imr = v,
            0x04 => self.emr = v,
            0x08 => self.rtsr = v,
            0x0C => self.ftsr = v,
            0x10 => {
                let rising = v & !self.swier;
                self.swier |= v;
                self.trigger(rising);
            }
            0x14 => {
                self.pr &= !v;
                self.swier &= !v;
            }
            _ => {}
        }
    }

    fn irq(&self, line: usize) -> bool {
        OUTPUTS
            .get(line)
            .is_some_and(|&(_, lines, _)| self.pr & self.imr & lines != 0)
    }

    /// Registers to 0; the input levels are the sources' and are kept (an edge after the
    /// reset is detected against the level the line really has).
    fn reset(&mut self) {
        *self = Exti {
            levels: self.levels,
            ..Exti::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::periph::Clocks;

    const CX: Ctx = Ctx {
        now: 0,
        clocks: &Clocks::RESET,
    };

    fn exti() -> Exti {
        Exti::new()
    }

    #[test]
    fn reset_values_are_zero() {
        let mut e = exti();
        for off in (0..0x18).step_by(4) {
            assert_eq!(e.read(off, &CX), 0, "offset {off:#x}");
        }
        for line in 0..OUTPUTS.len() {
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
            assert!(e.irq(out), "line {line} → output {}", OUTPUTS[out].0);
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
