//! Unit tests of the USART model (RM0008 §27).

use super::*;
use crate::sim::periph::PS_PER_S;

const US: u64 = PS_PER_S / 1_000_000;
const SR: u32 = 0x00;
const DR: u32 = 0x04;
const BRR: u32 = 0x08;
const CR1: u32 = 0x0C;
const CR2: u32 = 0x10;
const CR3: u32 = 0x14;

struct Rig {
    u: Usart,
    clocks: Clocks,
    now: u64,
}

impl Rig {
    /// USART2 on the reset clocks (PCLK1 = 8 MHz) at BRR = 80: 100 kbaud, 10 µs per bit,
    /// 100 µs per 8N1 frame.
    fn new() -> Rig {
        let mut r = Rig {
            u: Usart::new(UsartKind::Usart2, 0),
            clocks: Clocks::RESET,
            now: 0,
        };
        r.wr(BRR, 80);
        r
    }
    fn rd(&mut self, off: u32) -> u32 {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.u.read(off, &cx)
    }
    fn wr(&mut self, off: u32, v: u32) {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.u.write(off, v, &cx)
    }
    fn at(&mut self, now: u64) {
        self.now = now;
        let cx = Ctx {
            now,
            clocks: &self.clocks,
        };
        self.u.sync(&cx);
    }
    fn next(&self) -> Option<u64> {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.u.next_event(&cx)
    }
    fn push(&mut self, bytes: &[u8]) -> usize {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.u.push_rx(bytes, &cx)
    }
    fn sent(&mut self) -> Vec<(u16, u64)> {
        self.u
            .take_tx()
            .into_iter()
            .map(|f| (f.data, f.at))
            .collect()
    }
    /// HAL_UART_Transmit: for each byte wait for TXE (SR reads), write DR; then wait for TC.
    /// Time advances to each next event while waiting. Returns the time TC was seen.
    fn hal_transmit(&mut self, bytes: &[u8]) -> u64 {
        for &b in bytes {
            while self.rd(SR) & TXE == 0 {
                let t = self.next().expect("TXE must come");
                self.at(t);
            }
            self.wr(DR, b as u32);
        }
        while self.rd(SR) & TC == 0 {
            let t = self.next().expect("TC must come");
            self.at(t);
        }
        self.now
    }
}

#[test]
fn reset_values() {
    let mut u = Usart::new(UsartKind::Usart3, 0);
    let cx = Ctx {
        now: 0,
        clocks: &Clocks::RESET,
    };
    assert_eq!(u.read(SR, &cx), 0x00C0);
    for off in [DR, BRR, CR1, CR2, CR3, 0x18, 0x1C] {
        assert_eq!(u.read(off, &cx), 0, "offset {off:#x}");
    }
    assert_eq!(u.name(), "USART3");
}

#[test]
fn register_masks() {
    let mut r = Rig::new();
    r.wr(BRR, u32::MAX);
    assert_eq!(r.rd(BRR), 0xFFFF);
    r.wr(CR2, u32::MAX);
    assert_eq!(r.rd(CR2), 0x7F6F);
    r.wr(CR3, u32::MAX);
    assert_eq!(r.rd(CR3), 0x7FF);
    r.wr(0x18, u32::MAX);
    assert_eq!(r.rd(0x18), 0xFFFF);
    r.wr(CR1, !(RE | TE | SBK));
    assert_eq!(r.rd(CR1), 0x3FFF & !(RE | TE | SBK));
}

#[test]
fn hal_transmit_sequence_with_exact_times() {
    let mut r = Rig::new();
    r.wr(CR1, UE | TE); // HAL: TE with UE=0, then UE; here at once
    let tc_at = r.hal_transmit(b"OK");
    // Preamble 0..100 µs, 'O' 100..200, 'K' 200..300.
    assert_eq!(
        r.sent(),
        vec![(b'O' as u16, 200 * US), (b'K' as u16, 300 * US)]
    );
    assert_eq!(tc_at, 300 * US);
    assert_eq!(r.rd(SR) & (TXE | TC), TXE | TC);
    assert_eq!(r.next(), None, "line idle");
}

#[test]
fn txe_and_tc_timing() {
    let mut r = Rig::new();
    r.wr(CR1, UE | TE);
    r.at(150 * US); // preamble done at 100 µs
    r.rd(SR);
    r.wr(DR, 0x55);
    assert_eq!(
        r.rd(SR) & (TXE | TC),
        TXE,
        "moved to the shift register at once, TC cleared"
    );
    r.wr(DR, 0xAA);
    assert_eq!(r.rd(SR) & TXE, 0, "TDR full");
    assert_eq!(r.next(), Some(250 * US));
    r.at(250 * US);
    assert_eq!(r.rd(SR) & (TXE | TC), TXE, "second frame started, no TC");
    r.at(350 * US - 1);
    assert_eq!(r.rd(SR) & TC, 0);
    r.at(350 * US);
    assert_eq!(r.rd(SR) & TC, TC);
    assert_eq!(r.sent(), vec![(0x55, 250 * US), (0xAA, 350 * US)]);
}

#[test]
fn tc_is_cleared_only_by_the_sequence_or_by_writing_0() {
    let mut r = Rig::new();
    r.wr(CR1, UE | TE);
    r.wr(DR, 1); // no SR read before: TC stays (reset value 1)
    assert_eq!(r.rd(SR) & TC, TC);
    r.wr(DR, 2); // SR was read just now: cleared
    assert_eq!(r.rd(SR) & TC, 0);
    let mut r = Rig::new();
    r.wr(SR, !TC);
    assert_eq!(r.rd(SR), TXE);
    r.wr(SR, 0);
    assert_eq!(r.rd(SR), TXE, "TXE is read-only");
}

#[test]
fn frame_formats() {
    // (M, STOP, expected frame µs) at 10 µs per bit.
    for (m, stop, us) in [
        (0, 0, 100),
        (0, 1, 95),
        (0, 2, 110),
        (0, 3, 105),
        (M, 0, 110),
    ] {
        let mut r = Rig::new();
        r.wr(CR2, stop << 12);
        r.wr(CR1, UE | TE | m);
        r.at(1000 * US);
        r.wr(DR, 0x1FF);
        r.at(2000 * US);
        let sent = r.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1, (1000 + us) * US, "M {m:#x} STOP {stop}");
        assert_eq!(sent[0].0, if m != 0 { 0x1FF } else { 0xFF });
    }
}

#[test]
fn parity_is_the_msb_of_the_data_bits() {
    let mut r = Rig::new();
    r.wr(CR1, UE | TE | RE | PCE);
    r.at(100 * US);
    r.wr(DR, 0xFF);
    r.at(200 * US);
    assert_eq!(
        r.sent(),
        vec![(0x7F, 200 * US)],
        "7 data bits + parity, no extra bit"
    );
    // Even parity on reception: 'A' (two ones) → 0, 'C' (three ones) → 1 in bit 7.
    r.push(b"A");
    r.at(300 * US);
    assert_eq!(r.rd(DR), 0x41);
    r.push(b"C");
    r.at(400 * US);
    assert_eq!(r.rd(DR), 0xC3);
    r.wr(CR1, UE | TE | RE | PCE | PS); // odd
    r.push(b"A");
    r.at(600 * US);
    assert_eq!(r.rd(DR), 0xC1);
    assert_eq!(r.rd(SR) & PE, 0, "the host sends correct parity");
}

#[test]
fn reception_rxne_ore_and_idle() {
    let mut r = Rig::new();
    r.wr(CR1, UE | RE);
    assert_eq!(r.push(b"hi!"), 3);
    assert_eq!(r.next(), Some(100 * US));
    r.at(100 * US);
    assert_eq!(r.rd(SR) & RXNE, RXNE);
    assert_eq!(r.rd(DR), b'h' as u32);
    assert_eq!(r.rd(SR) & RXNE, 0, "reading DR clears RXNE");
    r.at(300 * US); // 'i' at 200 µs not read, '!' at 300 µs: overrun
    assert_eq!(r.rd(SR) & (RXNE | ORE), RXNE | ORE);
    assert_eq!(r.rd(DR), b'i' as u32, "RDR keeps the older character");
    assert_eq!(r.rd(SR) & (RXNE | ORE), 0, "SR then DR cleared ORE");
    assert_eq!(r.next(), Some(400 * US), "one idle frame after the last");
    r.at(400 * US);
    assert_eq!(r.rd(SR) & IDLE, IDLE);
    r.rd(DR);
    assert_eq!(r.rd(SR) & IDLE, 0);
    r.at(10_000 * US);
    assert_eq!(r.rd(SR) & IDLE, 0, "IDLE sets once per received character");
    assert_eq!(r.next(), None);
}

#[test]
fn error_flags_need_the_sr_read_first() {
    let mut r = Rig::new();
    r.wr(CR1, UE | RE);
    r.push(b"ab");
    r.at(200 * US); // ORE at 200 µs
    r.rd(DR); // no SR read since the flag set
    assert_eq!(r.rd(SR) & ORE, ORE);
    r.rd(DR);
    assert_eq!(r.rd(SR) & ORE, 0);
}

#[test]
fn host_characters_wait_for_the_receiver() {
    let mut r = Rig::new();
    r.push(b"xy");
    r.at(1000 * US);
    assert_eq!(r.rd(SR) & RXNE, 0);
    assert_eq!(r.u.rx_pending(), 2);
    r.wr(CR1, UE | RE);
    assert_eq!(r.next(), Some(1100 * US));
    r.at(1100 * US);
    assert_eq!(r.rd(DR), b'x' as u32);
    r.at(1150 * US);
    r.wr(CR1, UE); // RE off mid-frame: 'y' is lost
    r.wr(CR1, UE | RE);
    r.at(5000 * US);
    assert_eq!(r.rd(SR) & RXNE, 0);
    assert_eq!(r.u.rx_pending(), 0);
}

#[test]
fn clearing_te_lets_the_frame_finish_and_a_te_pulse_sends_a_preamble() {
    let mut r = Rig::new();
    r.wr(CR1, UE | TE);
    r.at(100 * US);
    r.wr(DR, 1);
    r.wr(DR, 2);
    r.at(150 * US);
    r.wr(CR1, UE);
    r.at(1000 * US);
    assert_eq!(
        r.sent(),
        vec![(1, 200 * US)],
        "current frame done, TDR kept"
    );
    assert_eq!(r.rd(SR) & TXE, 0);
    r.wr(CR1, UE | TE);
    r.at(2000 * US);
    assert_eq!(
        r.sent(),
        vec![(2, 1200 * US)],
        "preamble 1000..1100, frame 1100..1200"
    );
}

#[test]
fn break_after_the_current_frame() {
    let mut r = Rig::new();
    r.wr(CR1, UE | TE);
    r.at(100 * US);
    r.wr(DR, 7);
    r.wr(CR1, UE | TE | SBK);
    r.wr(DR, 8);
    // '7' 100..200, break (10 low + 1 stop bit) 200..310, '8' 310..410.
    r.at(309 * US);
    assert_eq!(r.rd(CR1) & SBK, SBK);
    r.at(310 * US);
    assert_eq!(r.rd(CR1) & SBK, 0, "SBK cleared by hardware");
    r.at(1000 * US);
    assert_eq!(r.sent(), vec![(7, 200 * US), (8, 410 * US)]);
}

#[test]
fn interrupt_line() {
    let mut r = Rig::new();
    assert!(!r.u.irq(0));
    r.wr(CR1, TXEIE);
    assert!(r.u.irq(0), "TXE is set at reset");
    r.wr(CR1, TCIE);
    assert!(r.u.irq(0));
    r.wr(SR, 0);
    assert!(!r.u.irq(0));
    r.wr(CR1, UE | RE | RXNEIE);
    r.push(b"ab");
    r.at(100 * US);
    assert!(r.u.irq(0), "RXNE");
    r.rd(DR);
    assert!(!r.u.irq(0));
    r.at(200 * US);
    assert!(r.u.irq(0), "RXNE again");
    r.rd(DR);
    r.wr(CR1, UE | RE | IDLEIE);
    r.at(400 * US);
    assert!(r.u.irq(0), "IDLE");
    assert!(!r.u.irq(1), "one line only");
}

#[test]
fn mute_mode_address_mark_wakeup() {
    let mut r = Rig::new();
    r.wr(CR2, 5); // ADD = 5
    r.wr(CR1, UE | RE | WAKE | RWU);
    r.push(&[0x33, 0x85, 0x44]); // 0x85: MSB set, address 5
    r.at(100 * US);
    assert_eq!(r.rd(SR) & RXNE, 0, "muted");
    r.at(200 * US);
    assert_eq!(r.rd(CR1) & RWU, 0, "woken");
    assert_eq!(r.rd(DR), 0x85);
    r.at(300 * US);
    assert_eq!(r.rd(DR), 0x44);
}

#[test]
fn mute_mode_idle_line_wakeup() {
    let mut r = Rig::new();
    r.wr(CR1, UE | RE | RWU);
    r.push(&[1]);
    r.at(100 * US);
    assert_eq!(r.rd(SR) & RXNE, 0);
    r.at(200 * US);
    assert_eq!(r.rd(CR1) & RWU, 0, "idle line wakes the receiver");
    assert_eq!(r.rd(SR) & IDLE, 0, "without setting IDLE");
}

#[test]
fn one_long_sync_equals_many_short_ones() {
    let start = |r: &mut Rig| {
        r.wr(CR1, UE | TE | RE);
        r.push(&[0x5A; 40]);
    };
    let mut once = Rig::new();
    start(&mut once);
    let mut many = Rig::new();
    start(&mut many);
    for i in 0..30u32 {
        let t = (i as u64 * 250 + 13) * US;
        let from = many.now;
        for k in 1..=50 {
            many.at(from + (t - from) * k / 50);
        }
        once.at(t);
        once.wr(DR, i);
        many.wr(DR, i);
    }
    let end = 30_000 * US;
    once.at(end);
    let from = many.now;
    for k in 1..=1000 {
        many.at(from + (end - from) * k / 1000);
    }
    let sent = once.sent();
    assert_eq!(sent.len(), 30);
    assert_eq!(sent, many.sent());
    assert_eq!(once.rd(SR), many.rd(SR));
    assert_eq!(once.rd(DR), many.rd(DR));
}

#[test]
fn clock_change_mid_frame() {
    let mut r = Rig::new();
    r.wr(CR1, UE | TE);
    r.at(100 * US);
    r.wr(DR, 0x42);
    r.at(150 * US); // half the frame at 8 MHz
    r.clocks.pclk1 = 16_000_000;
    r.at(1000 * US);
    assert_eq!(
        r.sent(),
        vec![(0x42, 175 * US)],
        "the other half at twice the rate"
    );
}

#[test]
fn usart1_runs_on_pclk2_and_brr_0_stops_the_baud_clock() {
    let mut u = Usart::new(UsartKind::Usart1, 0);
    let clocks = Clocks {
        pclk1: 1,
        pclk2: 72_000_000,
        ..Clocks::RESET
    };
    let cx = |now| Ctx {
        now,
        clocks: &clocks,
    };
    u.write(CR1, UE | TE, &cx(0));
    u.write(DR, 0x31, &cx(0));
    assert_eq!(u.next_event(&cx(0)), None, "BRR = 0: nothing shifts");
    u.write(BRR, 625, &cx(0)); // 115 200 baud
    // Preamble + one frame: 2 × 10 × 625 cycles at 72 MHz = 173.61 µs.
    u.sync(&cx(PS_PER_S));
    let f = u.take_tx();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].at, 173_611_112); // ceil(12 500 / 72 MHz), in ps
}

#[test]
fn bounded_host_buffers() {
    let mut r = Rig::new();
    assert_eq!(r.push(&vec![0u8; RX_QUEUE_MAX + 10]), RX_QUEUE_MAX);
    assert_eq!(r.push(b"x"), 0);
    r.wr(BRR, 16); // 20 µs frames
    r.wr(CR1, UE | TE);
    let mut t = 0;
    for i in 0..(TX_OUT_MAX + 4) {
        r.wr(DR, i as u32 & 0xFF);
        t += 20 * US;
        r.at(t);
    }
    assert_eq!(r.u.tx_dropped(), 3);
    let sent = r.sent();
    assert_eq!(sent.len(), TX_OUT_MAX);
    assert_eq!(sent[0].0, 3);
}

#[test]
fn reset_keeps_the_host_queue_and_time() {
    let mut r = Rig::new();
    r.wr(CR1, UE | RE | TE);
    r.push(b"abc");
    r.at(150 * US);
    r.u.reset();
    assert_eq!(r.rd(SR), 0xC0);
    assert_eq!(r.rd(CR1), 0);
    assert_eq!(
        r.u.rx_pending(),
        1,
        "'a' received, 'b' lost with the reset, 'c' waits"
    );
    r.wr(BRR, 80);
    r.wr(CR1, UE | RE);
    r.at(250 * US);
    assert_eq!(r.rd(DR), b'c' as u32);
}
