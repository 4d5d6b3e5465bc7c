//! Unit tests of the USART model (RM0316 §29).

use super::*;
use crate::sim::periph::PS_PER_S;

const US: u64 = PS_PER_S / 1_000_000;
const CR1: u32 = 0x00;
const CR2: u32 = 0x04;
const CR3: u32 = 0x08;
const BRR: u32 = 0x0C;
const RQR: u32 = 0x18;
const ISR: u32 = 0x1C;
const ICR: u32 = 0x20;
const RDR: u32 = 0x24;
const TDR: u32 = 0x28;

struct Rig {
    u: Usart,
    clocks: Clocks,
    now: u64,
}

impl Rig {
    /// USART1 on PCLK2 = 8 MHz at BRR = 80: 100 kbaud, 10 µs per bit, 100 µs per 8N1 frame.
    fn new() -> Rig {
        let mut r = Rig {
            u: Usart::new("USART1", Kernel::Pclk2, 0),
            clocks: Clocks::RESET,
            now: 0,
        };
        r.wr(BRR, 80);
        r
    }
    fn cx(&self) -> Ctx<'_> {
        Ctx {
            now: self.now,
            clocks: &self.clocks,
        }
    }
    fn rd(&mut self, off: u32) -> u32 {
        let (now, clocks) = (self.now, self.clocks);
        self.u.read(
            off,
            &Ctx {
                now,
                clocks: &clocks,
            },
        )
    }
    fn wr(&mut self, off: u32, v: u32) {
        let (now, clocks) = (self.now, self.clocks);
        self.u.write(
            off,
            v,
            &Ctx {
                now,
                clocks: &clocks,
            },
        )
    }
    fn at(&mut self, now: u64) {
        self.now = now;
        let (now, clocks) = (self.now, self.clocks);
        self.u.sync(&Ctx {
            now,
            clocks: &clocks,
        });
    }
    fn next(&self) -> Option<u64> {
        self.u.next_event(&self.cx())
    }
}

#[test]
fn reset_values_rm0316_29_8() {
    let mut r = Rig::new();
    assert_eq!(r.rd(ISR), 0x0000_00C0, "§29.8.8: TXE, TC");
    for off in [CR1, CR2, CR3, 0x10, 0x14, RQR, ICR, RDR, TDR, 0x2C] {
        assert_eq!(r.rd(off), 0, "{off:#x}");
    }
    assert_eq!(r.rd(BRR), 80);
    // Reserved bits read 0.
    r.wr(CR2, 0xFFFF_FFFF);
    assert_eq!(r.rd(CR2), 0xFFFF_FF70);
    r.wr(CR3, 0xFFFF_FFFF);
    assert_eq!(r.rd(CR3), 0x007E_FFFF);
    r.wr(CR1, 0xFFFF_FFFE);
    assert_eq!(r.rd(CR1), 0x1FFF_FFFE);
}

#[test]
fn a_byte_takes_one_frame_time_and_txe_tc_follow_the_rm() {
    let mut r = Rig::new();
    r.wr(CR1, TE | UE);
    assert_eq!(r.rd(ISR) & (TEACK | TXE | TC), TEACK | TXE | TC);
    r.wr(TDR, b'A' as u32);
    // The idle frame (100 µs) goes first: it occupies the shift register, so
    // TXE stays 0 until it has left.
    assert_eq!(r.rd(ISR) & (TXE | TC), 0);
    assert_eq!(r.next(), Some(100 * US));
    r.at(100 * US);
    assert_eq!(r.rd(ISR) & (TXE | TC), TXE, "TDR in the shift register");
    r.at(200 * US - 1);
    assert!(r.u.take_tx().is_empty());
    assert_eq!(r.rd(ISR) & TC, 0);
    r.at(200 * US);
    let f = r.u.take_tx();
    assert_eq!(
        f,
        [TxFrame {
            data: 0x41,
            at: 200 * US
        }]
    );
    assert_eq!(r.rd(ISR) & TC, TC);
    // TC clears through ICR.TCCF.
    r.wr(ICR, TC);
    assert_eq!(r.rd(ISR) & TC, 0);
    // Back to back: two bytes, 100 µs each.
    r.wr(TDR, 1);
    r.wr(TDR, 2);
    r.at(400 * US);
    let f = r.u.take_tx();
    assert_eq!(
        f.iter().map(|f| (f.data, f.at)).collect::<Vec<_>>(),
        [(1, 300 * US), (2, 400 * US)]
    );
}

#[test]
fn over8_two_stop_bits_and_seven_bit_words_change_the_frame_time() {
    let mut r = Rig::new();
    // OVER8 with USARTDIV = 80: BRR = 0x50 → BRR[2:0] = USARTDIV[3:0] >> 1 = 0.
    // Bit = 40 cycles at 8 MHz = 5 µs; M1 (7 data bits) and STOP = 10 (2 bits): 10 bits = 50 µs.
    r.wr(CR1, OVER8 | M1);
    r.wr(CR2, 2 << 12);
    r.wr(BRR, 0x50);
    r.wr(CR1, OVER8 | M1 | TE | UE);
    r.wr(TDR, 0xFF);
    r.at(100 * US);
    assert_eq!(
        r.u.take_tx(),
        [TxFrame {
            data: 0x7F,
            at: 100 * US
        }]
    );
}

#[test]
fn ue_set_locks_brr_and_the_frame_format() {
    let mut r = Rig::new();
    r.wr(CR1, UE);
    r.wr(BRR, 1234);
    assert_eq!(r.rd(BRR), 80, "BRR: writable only with UE = 0 (§29.8.4)");
    r.wr(CR1, UE | M0 | PCE);
    assert_eq!(r.rd(CR1), UE);
    r.wr(CR2, 2 << 12);
    assert_eq!(r.rd(CR2), 0);
    r.wr(CR3, OVRDIS | EIE);
    assert_eq!(r.rd(CR3), EIE);
}

#[test]
fn clearing_ue_stops_at_once_and_resets_isr() {
    let mut r = Rig::new();
    r.wr(CR1, TE | RE | UE);
    r.at(100 * US); // preamble gone
    r.wr(TDR, 7);
    r.u.push_rx(
        b"xy",
        &Ctx {
            now: r.now,
            clocks: &Clocks::RESET,
        },
    );
    r.at(150 * US);
    assert_eq!(r.rd(ISR) & (RXNE | BUSY | TXE), BUSY | TXE);
    r.wr(CR1, 0);
    assert_eq!(r.rd(ISR), 0xC0);
    r.at(1000 * US);
    assert!(r.u.take_tx().is_empty(), "the frame on the line was lost");
    assert_eq!(r.rd(ISR), 0xC0);
}

#[test]
fn reception_rxne_ore_ovrdis_icr_idle_and_character_match() {
    let mut r = Rig::new();
    r.wr(CR2, (b'b' as u32) << 24);
    r.wr(CR1, RE | UE | RXNEIE);
    assert_eq!(r.rd(ISR) & REACK, REACK);
    let cx = Ctx {
        now: 0,
        clocks: &Clocks::RESET,
    };
    r.u.push_rx(b"abc", &cx);
    r.at(100 * US);
    assert_eq!(r.rd(ISR) & (RXNE | ORE), RXNE);
    assert!(r.u.irq(0));
    r.at(300 * US);
    assert_eq!(
        r.rd(ISR) & (RXNE | ORE | CMF),
        RXNE | ORE | CMF,
        "b and c arrived"
    );
    assert_eq!(r.rd(RDR), b'a' as u32, "RDR keeps the first");
    assert_eq!(r.rd(ISR) & (RXNE | ORE), ORE);
    assert!(r.u.irq(0), "ORE with RXNEIE");
    r.wr(ICR, ORE | CMF);
    assert_eq!(r.rd(ISR) & (ORE | CMF | IDLE), 0);
    assert!(!r.u.irq(0));
    r.at(400 * US);
    assert_eq!(
        r.rd(ISR) & IDLE,
        IDLE,
        "one idle frame after the last character"
    );
    r.wr(ICR, IDLE);
    // OVRDIS: the new character overwrites.
    r.wr(CR1, 0);
    r.wr(CR3, OVRDIS);
    r.wr(CR1, RE | UE);
    let cx = Ctx {
        now: r.now,
        clocks: &Clocks::RESET,
    };
    r.u.push_rx(b"12", &cx);
    r.at(700 * US);
    assert_eq!(r.rd(ISR) & (RXNE | ORE), RXNE);
    assert_eq!(r.rd(RDR), b'2' as u32);
    // RQR.RXFRQ discards.
    let cx = Ctx {
        now: r.now,
        clocks: &Clocks::RESET,
    };
    r.u.push_rx(b"3", &cx);
    r.at(900 * US);
    r.wr(RQR, RXFRQ);
    assert_eq!(r.rd(ISR) & RXNE, 0);
}

#[test]
fn interrupts_follow_their_enables() {
    let mut r = Rig::new();
    r.wr(CR1, TE | UE | TXEIE);
    assert!(r.u.irq(0), "TXE");
    r.wr(CR1, TE | UE | TCIE);
    assert!(r.u.irq(0), "TC");
    r.wr(ICR, TC);
    assert!(!r.u.irq(0));
    r.wr(CR1, TE | UE);
    assert!(!r.u.irq(0));
}

#[test]
fn the_kernel_clock_sets_the_baud_rate_and_a_gated_clock_stops() {
    let mut r = Rig::new();
    r.clocks.pclk2 = 72_000_000;
    r.wr(CR1, 0);
    r.wr(BRR, 625); // 115 200 baud at 72 MHz: 8.68 µs per bit
    r.wr(CR1, TE | UE);
    r.wr(TDR, 0x55);
    // Preamble + data: 20 bits of 625 cycles at 72 MHz = 173.61 µs.
    let t = (20 * 625 * PS_PER_S).div_ceil(72_000_000);
    r.at(t - 1);
    assert!(r.u.take_tx().is_empty());
    r.at(t);
    assert_eq!(r.u.take_tx().len(), 1);
    r.clocks = Clocks::default();
    r.wr(TDR, 1);
    assert_eq!(r.next(), None, "no kernel clock, nothing shifts");
    let cx = Ctx {
        now: r.now,
        clocks: &Clocks::RESET,
    };
    r.u.set_kernel(Kernel::Fixed(8_000_000), &cx);
    assert_eq!(
        r.u.next_event(&Ctx {
            now: r.now,
            clocks: &Clocks::default()
        }),
        None
    );
}
