//! The SWJ-DP's SWD side at pin level, for remote_bitbang's SWD extension (SWCLK, SWDIO and
//! the host's SWDIO output enable): the bit stream of ADIv5 §B4.2 decoded into the same DP/AP
//! transactions as the in-process probe's (`dp.rs`).
//!
//! * Timing: SWDIO is sampled from the host on each rising SWCLK edge while the host drives it;
//!   while the host does not, each rising edge moves the target's output to its next bit, and
//!   [`SwdPort::swdio`] is the bit the target drives now (pulled up to 1 when it drives none).
//!   OpenOCD's bitbang SWD reads SWDIO before the rising edge, probe-rs's bit-level SWD after
//!   it; both read the turnaround, ACK, data and parity bits in their places.
//! * Host bits outside a transaction go to the SWJ-DP's line-reset and switch-sequence
//!   detector (≥ 50 ones, then 0xE79E selects SWD, 0xE73C JTAG; §B5.2).
//! * A request (start 1, APnDP, RnW, A[2:3], parity, stop 0, park 1) with a wrong parity or
//!   framing is not answered (the host reads ACK 0b111). Read: turnaround, ACK, then on OK 32
//!   data bits, parity, turnaround. Write: turnaround, ACK, turnaround, then 32 data bits and
//!   parity from the host; the write happens only after an OK ACK, and the data phase is
//!   clocked in after WAIT or FAULT too (as with ORUNDETECT; OpenOCD's and probe-rs's bit-level
//!   SWD always send it). A data parity error sets CTRL/STAT.WDATAERR (§B4.2.2).

use std::collections::VecDeque;

use super::super::Sim;
use super::dp::Ack;

/// Where the decoder is.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Between transactions: collecting a request header.
    Idle { bits: u8, n: u8 },
    /// A write's data phase: 32 data bits then parity.
    WriteData {
        apndp: bool,
        a: u8,
        ok: bool,
        bits: u64,
        n: u8,
    },
}

/// The virtual chip's SWD pins (see the module documentation).
#[derive(Debug)]
pub struct SwdPort {
    sim: Sim,
    drive: bool,
    swclk: bool,
    swdio: bool,
    out: VecDeque<bool>,
    phase: Phase,
}

impl SwdPort {
    /// The pins of `sim`'s chip; the host drives SWDIO.
    pub fn new(sim: Sim) -> SwdPort {
        SwdPort {
            sim,
            drive: true,
            swclk: false,
            swdio: true,
            out: VecDeque::new(),
            phase: Phase::Idle { bits: 0, n: 0 },
        }
    }

    /// The host's SWDIO output enable (remote_bitbang `'O'` on, `'o'` off).
    pub fn drive(&mut self, on: bool) {
        self.drive = on;
    }

    /// Sets SWCLK and the host's SWDIO level (`'d'`-`'g'`); a rising SWCLK edge clocks a bit.
    pub fn write(&mut self, swclk: bool, swdio: bool) {
        let rising = swclk && !self.swclk;
        self.swclk = swclk;
        self.swdio = swdio;
        if rising {
            self.clock();
        }
    }

    /// The SWDIO level (`'c'`): the host's while it drives, else the target's bit.
    pub fn swdio(&self) -> bool {
        if self.drive {
            self.swdio
        } else {
            self.out.front().copied().unwrap_or(true)
        }
    }

    fn clock(&mut self) {
        if !self.drive {
            self.out.pop_front();
            return;
        }
        let b = self.swdio;
        match &mut self.phase {
            Phase::WriteData {
                apndp,
                a,
                ok,
                bits,
                n,
            } => {
                *bits |= u64::from(b) << *n;
                *n += 1;
                if *n == 33 {
                    let (apndp, a, ok, bits) = (*apndp, *a, *ok, *bits);
                    self.phase = Phase::Idle { bits: 0, n: 0 };
                    let data = bits as u32;
                    let parity_ok = (data.count_ones() & 1 == 1) == (bits >> 32 & 1 == 1);
                    self.sim.shared().with_chip(|c| {
                        if !ok {
                        } else if parity_ok {
                            c.swd_write_data(apndp, a, data);
                        } else {
                            c.swd_wdataerr();
                        }
                    });
                }
            }
            Phase::Idle { bits, n } => {
                self.sim.shared().with_chip(|c| c.swj_bits(1, u64::from(b)));
                if *n == 0 && !b {
                    return; // idle cycle
                }
                *bits |= u8::from(b) << *n;
                *n += 1;
                if *n == 8 {
                    let r = *bits;
                    self.phase = Phase::Idle { bits: 0, n: 0 };
                    if let Some((apndp, rnw, a)) = header(r) {
                        self.request(apndp, rnw, a);
                    }
                }
            }
        }
    }

    fn request(&mut self, apndp: bool, rnw: bool, a: u8) {
        self.out.clear();
        let ack = self.sim.shared().with_chip(|c| {
            if rnw {
                c.swd_request(apndp, true, a, 0, 0)
            } else {
                c.swd_write_request(apndp, a)
            }
        });
        let ack_bits: Option<[bool; 3]> = match ack {
            Ack::Ok(_) => Some([true, false, false]),
            Ack::Wait => Some([false, true, false]),
            Ack::Fault => Some([false, false, true]),
            Ack::NoAck => None,
        };
        if let Some(bits) = ack_bits {
            self.out.push_back(true); // turnaround
            self.out.extend(bits);
            if let (true, Ack::Ok(v)) = (rnw, ack) {
                self.out.extend((0..32).map(|i| v >> i & 1 == 1));
                self.out.push_back(v.count_ones() & 1 == 1);
            }
            self.out.push_back(true); // turnaround
        }
        if !rnw {
            self.phase = Phase::WriteData {
                apndp,
                a,
                ok: matches!(ack, Ack::Ok(_)),
                bits: 0,
                n: 0,
            };
        }
    }
}

/// (APnDP, RnW, A[3:2] as a byte address) of a well-formed request header, LSB first
/// (§B4.2.1).
fn header(r: u8) -> Option<(bool, bool, u8)> {
    let bit = |i: u8| r >> i & 1 == 1;
    let parity = (r >> 1 & 0xF).count_ones() & 1 == 1;
    if !bit(0) || bit(6) || !bit(7) || parity != bit(5) {
        return None;
    }
    Some((bit(1), bit(2), (r >> 3 & 3) << 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{ChipModel, SimConfig};

    /// Clocks `bits` driven by the host, LSB first.
    fn send(p: &mut SwdPort, bits: u64, n: u32) {
        p.drive(true);
        for i in 0..n {
            let b = bits >> i & 1 == 1;
            p.write(false, b);
            p.write(true, b);
        }
    }

    /// Clocks `n` bits with the host not driving, sampled before each rising edge (OpenOCD).
    fn recv(p: &mut SwdPort, n: u32) -> u64 {
        p.drive(false);
        let mut v = 0;
        for i in 0..n {
            p.write(false, false);
            v |= u64::from(p.swdio()) << i;
            p.write(true, false);
        }
        v
    }

    fn req(apndp: bool, rnw: bool, a: u8) -> u64 {
        let (a2, a3) = (a >> 2 & 1, a >> 3 & 1);
        let p = (u8::from(apndp) + u8::from(rnw) + a2 + a3) & 1;
        (1 | u8::from(apndp) << 1 | u8::from(rnw) << 2 | a2 << 3 | a3 << 4 | p << 5 | 1 << 7) as u64
    }

    fn port() -> SwdPort {
        let sim = Sim::new(SimConfig {
            chip: ChipModel::from_name("STM32F103C8").unwrap(),
            storage: None,
        })
        .unwrap();
        let mut p = SwdPort::new(sim);
        send(&mut p, u64::MAX, 56); // line reset
        send(&mut p, 0xE79E, 16); // JTAG-to-SWD
        send(&mut p, u64::MAX, 56);
        send(&mut p, 0, 8);
        p
    }

    #[test]
    fn dpidr_read_and_ctrl_stat_power_up_over_pins() {
        let mut p = port();
        send(&mut p, req(false, true, 0), 8);
        let r = recv(&mut p, 38);
        assert_eq!(r >> 1 & 7, 0b001, "ACK OK");
        assert_eq!((r >> 4) as u32, 0x1BA0_1477, "DPIDR");
        assert_eq!(r >> 36 & 1, u64::from(0x1BA0_1477u32.count_ones() & 1));
        // CTRL/STAT = CDBGPWRUPREQ | CSYSPWRUPREQ, then read back the ACKs.
        send(&mut p, req(false, false, 4), 8);
        assert_eq!(recv(&mut p, 5) >> 1 & 7, 0b001);
        let w: u32 = 0x5000_0000;
        send(
            &mut p,
            u64::from(w) | u64::from(w.count_ones() & 1) << 32,
            33,
        );
        send(&mut p, 0, 8);
        send(&mut p, req(false, true, 4), 8);
        let r = recv(&mut p, 38);
        assert_eq!((r >> 4) as u32 & 0xF000_0000, 0xF000_0000);
    }

    #[test]
    fn requests_are_not_answered_before_the_switch_to_swd_or_with_bad_parity() {
        let sim = Sim::new(SimConfig {
            chip: ChipModel::from_name("STM32F103C8").unwrap(),
            storage: None,
        })
        .unwrap();
        let mut p = SwdPort::new(sim);
        send(&mut p, req(false, true, 0), 8);
        assert_eq!(recv(&mut p, 4) >> 1 & 7, 0b111, "JTAG selected: no ACK");
        let mut p = port();
        send(&mut p, req(false, true, 0) ^ 1 << 5, 8);
        assert_eq!(recv(&mut p, 4) >> 1 & 7, 0b111, "parity error: no ACK");
    }
}
