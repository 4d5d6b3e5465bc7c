//! Unit tests of the SPI model (RM0008 §25).

use super::*;
use crate::sim::periph::PS_PER_S;

const US: u64 = PS_PER_S / 1_000_000;
const CR1: u32 = 0x00;
const CR2: u32 = 0x04;
const SR: u32 = 0x08;
const DR: u32 = 0x0C;
const CRCPR: u32 = 0x10;
const RXCRCR: u32 = 0x14;
const TXCRCR: u32 = 0x18;
/// Master, software NSS high, SPE, BR = 0 (PCLK / 2).
const MASTER: u32 = MSTR | SSM | SSI | SPE;

struct Rig {
    s: Spi,
    clocks: Clocks,
    now: u64,
}

impl Rig {
    /// SPI1 on the reset clocks: PCLK2 = 8 MHz, so at BR = 0 an 8-bit frame takes 2 µs.
    fn new() -> Rig {
        Rig {
            s: Spi::new(SpiKind::Spi1, false, 0),
            clocks: Clocks::RESET,
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
        self.s.read(off, &cx)
    }
    fn wr(&mut self, off: u32, v: u32) {
        let cx = Ctx {
            now: self.now,
            clocks: &self.clocks,
        };
        self.s.write(off, v, &cx)
    }
    fn at(&mut self, now: u64) {
        self.now = now;
        let cx = Ctx {
            now,
            clocks: &self.clocks,
        };
        self.s.sync(&cx);
    }
    fn wait(&mut self, flag: u32, set: bool) {
        while (self.rd(SR) & flag != 0) != set {
            let t = self.s.next_event(&self.cx()).expect("the flag must change");
            self.at(t);
        }
    }
}

#[test]
fn reset_values() {
    let mut r = Rig::new();
    let want = [
        (CR1, 0),
        (CR2, 0),
        (SR, 2),
        (DR, 0),
        (CRCPR, 7),
        (RXCRCR, 0),
        (TXCRCR, 0),
    ];
    for (off, v) in want {
        assert_eq!(r.rd(off), v, "offset {off:#x}");
    }
    assert_eq!(r.rd(0x1C), 0, "no I2S on medium density");
    assert_eq!(r.rd(0x20), 0);
    let mut s = Spi::new(SpiKind::Spi2, true, 0);
    let cx = Ctx {
        now: 0,
        clocks: &Clocks::RESET,
    };
    assert_eq!(s.read(0x20, &cx), 2, "I2SPR reset value");
    s.write(0x1C, 0xFFFF, &cx);
    assert_eq!(s.read(0x1C, &cx), 0x0FBF);
    assert_eq!(s.name(), "SPI2");
}

#[test]
fn hal_transmit_completes_with_exact_times() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER);
    for b in [1u32, 2, 3] {
        r.wait(TXE, true);
        r.wr(DR, b);
    }
    assert_eq!(
        r.now,
        2 * US,
        "third byte waited for the first frame to end"
    );
    r.wait(BSY, false);
    assert_eq!(r.now, 6 * US);
    // Nobody read DR: the second and third frames overran (HAL then clears OVR).
    assert_eq!(r.rd(SR) & (RXNE | OVR | TXE), RXNE | OVR | TXE);
    r.rd(DR);
    r.rd(SR);
    assert_eq!(r.rd(SR) & OVR, 0, "DR read then SR read clears OVR");
}

#[test]
fn hal_transmit_receive_reads_ff_from_a_floating_miso() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER);
    let mut got = vec![];
    for b in [0x9Fu32, 0, 0] {
        r.wait(TXE, true);
        r.wr(DR, b);
        r.wait(RXNE, true);
        got.push(r.rd(DR));
    }
    assert_eq!(got, vec![0xFF, 0xFF, 0xFF]);
    assert_eq!(r.now, 6 * US);
    assert_eq!(r.rd(SR), TXE, "no OVR, not busy");
}

#[test]
fn frame_timing_follows_br_and_dff() {
    for (br, dff, cycles) in [(0u32, 0u32, 16u64), (7, 0, 8 * 256), (3, DFF, 16 * 16)] {
        let mut r = Rig::new();
        r.wr(CR1, MASTER | (br << 3) | dff);
        r.wr(DR, 0x1234);
        assert_eq!(r.rd(SR) & BSY, BSY);
        let t = r.s.next_event(&r.cx()).unwrap();
        assert_eq!(t, cycles * PS_PER_S / 8_000_000, "BR {br} DFF {dff:#x}");
        r.at(t);
        assert_eq!(r.rd(DR), if dff != 0 { 0xFFFF } else { 0xFF });
        assert_eq!(r.rd(SR) & BSY, 0);
    }
}

#[test]
fn spi2_runs_on_pclk1() {
    let mut s = Spi::new(SpiKind::Spi2, false, 0);
    let clocks = Clocks {
        pclk1: 36_000_000,
        pclk2: 1,
        ..Clocks::RESET
    };
    let cx = Ctx {
        now: 0,
        clocks: &clocks,
    };
    s.write(CR1, MASTER, &cx);
    s.write(DR, 0, &cx);
    assert_eq!(
        s.next_event(&cx),
        Some(16 * PS_PER_S / 36_000_000 + 1),
        "ceil(444.4 ns)"
    );
}

#[test]
fn software_nss_low_is_a_mode_fault() {
    let mut r = Rig::new();
    r.wr(CR1, MSTR | SSM | SPE); // SSI = 0
    assert_eq!(r.rd(CR1) & (MSTR | SPE), 0, "MSTR and SPE cleared");
    assert_eq!(r.rd(SR) & MODF, MODF);
    let mut r2 = Rig::new();
    r2.wr(CR1, MSTR | SSM);
    r2.wr(CR2, 1 << 5); // ERRIE
    assert!(r2.s.irq(0));
    // Without the SR access, a CR1 write cannot set MSTR/SPE and does not clear MODF.
    let mut r3 = Rig::new();
    r3.wr(CR1, MSTR | SSM);
    r3.s.modf_seen = false;
    r3.wr(CR1, MASTER);
    assert_eq!(r3.s.sr & MODF, MODF);
    assert_eq!(r3.s.cr1 & (MSTR | SPE), 0);
    // The clearing sequence: SR access, then CR1 write (which may set MSTR/SPE again).
    r3.rd(SR);
    r3.wr(CR1, MASTER);
    assert_eq!(r3.rd(SR) & MODF, 0);
    assert_eq!(r3.rd(CR1) & (MSTR | SPE), MSTR | SPE);
}

#[test]
fn hardware_nss() {
    let mut r = Rig::new();
    r.wr(CR1, MSTR | SPE); // SSM = 0, SSOE = 0: NSS pin input, high by default
    assert_eq!(r.rd(SR) & MODF, 0);
    r.wr(DR, 5);
    let cx = Ctx {
        now: US,
        clocks: &Clocks::RESET,
    };
    r.s.set_nss_pin(false, &cx);
    assert_eq!(r.s.sr & (MODF | BSY), MODF, "frame lost");
    assert_eq!(r.s.next_event(&cx), None);
    // SSOE = 1: NSS is an output, the pin level does not matter.
    let mut r = Rig::new();
    r.wr(CR2, SSOE);
    r.s.set_nss_pin(
        false,
        &Ctx {
            now: 0,
            clocks: &Clocks::RESET,
        },
    );
    r.wr(CR1, MSTR | SPE);
    assert_eq!(r.rd(SR) & MODF, 0);
}

#[test]
fn crc8_of_the_standard_check_string() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER | CRCEN); // CRCPR = 7: CRC-8 (SMBus), check value of "123456789" is 0xF4
    for &b in b"123456789" {
        r.wait(TXE, true);
        r.wr(DR, b as u32);
        r.wait(RXNE, true);
        r.rd(DR);
    }
    assert_eq!(r.rd(TXCRCR), 0xF4);
    let rx = (0..9).fold(0, |c, _| crc_update(c, 0xFF, 8, 7));
    assert_eq!(r.rd(RXCRCR), rx);
}

#[test]
fn crc16_matches_a_bytewise_reference() {
    let words = [0x3132u32, 0x3334, 0xA55A, 0x0001];
    let poly = 0x1021;
    // Byte-at-a-time reference (CRC-16/XMODEM shape), independent of crc_update's loop.
    let mut reference: u32 = 0;
    for w in words {
        for byte in [w >> 8, w & 0xFF] {
            reference ^= byte << 8;
            for _ in 0..8 {
                reference = if reference & 0x8000 != 0 {
                    ((reference << 1) ^ poly) & 0xFFFF
                } else {
                    (reference << 1) & 0xFFFF
                };
            }
        }
    }
    let mut r = Rig::new();
    r.wr(CRCPR, poly);
    r.wr(CR1, MASTER | CRCEN | DFF);
    for w in words {
        r.wait(TXE, true);
        r.wr(DR, w);
    }
    r.wait(BSY, false);
    assert_eq!(r.rd(TXCRCR), reference);
}

#[test]
fn crcnext_sends_the_crc_and_checks_the_received_one() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER | CRCEN);
    r.wr(DR, 0x42);
    r.wr(CR1, MASTER | CRCEN | CRCNEXT);
    r.at(2 * US);
    assert_eq!(r.rd(DR), 0xFF);
    assert_eq!(r.rd(SR) & BSY, BSY, "the CRC frame follows");
    assert_eq!(r.rd(CR1) & CRCNEXT, CRCNEXT);
    r.at(4 * US);
    assert_eq!(r.rd(CR1) & CRCNEXT, 0, "cleared after the CRC phase");
    assert_eq!(r.rd(SR) & (CRCERR | RXNE | BSY), CRCERR | RXNE);
    r.wr(SR, !CRCERR);
    assert_eq!(r.rd(SR) & CRCERR, 0, "rc_w0");
    // CRCEN 0 → 1 clears both CRC registers.
    r.wr(CR1, MASTER);
    r.wr(CR1, MASTER | CRCEN);
    assert_eq!((r.rd(TXCRCR), r.rd(RXCRCR)), (0, 0));
}

#[test]
fn receive_only_master_clocks_continuously() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER | RXONLY);
    r.at(2 * US);
    assert_eq!(r.rd(SR) & RXNE, RXNE);
    assert_eq!(r.rd(DR), 0xFF);
    r.at(6 * US);
    assert_eq!(r.rd(SR) & (RXNE | OVR), RXNE | OVR, "4 µs: one read missed");
    r.wr(CR1, MSTR | SSM | SSI | RXONLY); // SPE off
    assert_eq!(r.s.next_event(&r.cx()), None);
    // Bidirectional receive (BIDIMODE, BIDIOE = 0) is receive-only too.
    let mut r = Rig::new();
    r.wr(CR1, MASTER | BIDIMODE);
    r.at(2 * US);
    assert_eq!(r.rd(SR) & RXNE, RXNE);
}

#[test]
fn bidirectional_transmit_receives_nothing() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER | BIDIMODE | BIDIOE);
    r.wr(DR, 1);
    r.wr(DR, 2);
    r.wait(BSY, false);
    assert_eq!(r.now, 4 * US);
    assert_eq!(r.rd(SR), TXE);
}

#[test]
fn slave_without_master_does_nothing() {
    let mut r = Rig::new();
    r.wr(CR1, SPE);
    r.wr(DR, 0x11);
    assert_eq!(r.s.next_event(&r.cx()), None);
    r.at(PS_PER_S);
    assert_eq!(r.rd(SR), 0, "TX buffer full, nothing received, not busy");
}

#[test]
fn clearing_spe_stops_at_once() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER);
    r.wr(DR, 1);
    r.at(US);
    r.wr(CR1, MSTR | SSM | SSI);
    assert_eq!(r.rd(SR) & BSY, 0);
    r.at(10 * US);
    assert_eq!(r.rd(SR) & RXNE, 0);
}

#[test]
fn interrupt_line() {
    let mut r = Rig::new();
    r.wr(CR2, TXEIE);
    assert!(r.s.irq(0), "TXE at reset");
    r.wr(CR2, RXNEIE);
    assert!(!r.s.irq(0));
    r.wr(CR1, MASTER);
    r.wr(DR, 0);
    r.at(2 * US);
    assert!(r.s.irq(0));
    r.rd(DR);
    assert!(!r.s.irq(0));
    assert!(!r.s.irq(1));
}

#[test]
fn one_long_sync_equals_many_short_ones_and_clock_changes_apply_mid_frame() {
    let run = |steps: u64| {
        let mut r = Rig::new();
        r.wr(CR1, MASTER | RXONLY | (5 << 3));
        let end = 1_000 * US;
        for k in 1..=steps {
            r.at(end * k / steps);
        }
        (r.rd(SR), r.rd(DR), r.s.shift.map(|f| f.left))
    };
    assert_eq!(run(1), run(997));
    let mut r = Rig::new();
    r.wr(CR1, MASTER);
    r.wr(DR, 0);
    r.at(US); // half of the 16 cycles at 8 MHz
    r.clocks.pclk2 = 16_000_000;
    r.at(US);
    assert_eq!(r.s.next_event(&r.cx()), Some(US + US / 2));
}

#[test]
fn reset_restores_the_registers() {
    let mut r = Rig::new();
    r.wr(CR1, MASTER | CRCEN);
    r.wr(DR, 3);
    r.wr(CRCPR, 0x31);
    r.s.reset();
    assert_eq!(
        (r.rd(CR1), r.rd(SR), r.rd(CRCPR), r.rd(TXCRCR)),
        (0, 2, 7, 0)
    );
    assert_eq!(r.s.next_event(&r.cx()), None);
}
