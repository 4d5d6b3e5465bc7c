//! USART1..3 (RM0008 §27) in asynchronous mode, with exact frame timing, a host side that
//! collects the transmitted characters ([`Usart::take_tx`]) and feeds received ones
//! ([`Usart::push_rx`]).
//!
//! Registers (§27.6): SR (reset 0x00C0: TXE, TC), DR (9 bits), BRR, CR1, CR2, CR3, GTPR.
//! SR: CTS, LBD, TC and RXNE are rc_w0, the others read-only; PE, FE, NE, ORE and IDLE clear
//! with the sequence "read SR (while set), then read DR"; TC clears with "read SR, then write DR"
//! (or by writing 0); RXNE clears by reading DR; TXE clears by writing DR.
//!
//! Timing: the baud clock is the bus clock (USART1: PCLK2, USART2/3: PCLK1) divided by
//! USARTDIV = BRR / 16 with 16× oversampling, so one bit lasts BRR bus cycles. A frame is a
//! start bit, M ? 9 : 8 data bits (with PCE the parity bit is the MSB of those, §27.3.7: it adds
//! no bit) and 0.5/1/1.5/2 stop bits (CR2.STOP). Times are exact: the model counts half-bits of
//! the bus clock with the frame timer shared with the newer USART ([`Lines`], `st/frames.rs`).
//!
//! Transmitter (§27.3.2): when UE and TE become both set an idle frame (preamble, one frame of
//! ones) is sent first; a DR write lands in TDR (TXE = 0) and moves into the shift register as
//! soon as it is free (TXE = 1 again at once if it was free); TC sets when a frame containing
//! data has left (end of its stop bits) while TDR is empty. CR1.SBK sends a break frame (a
//! 1-stop-bit frame time low, then one stop bit) after the current frame; SBK clears at its end. Clearing TE or
//! UE lets the current frame finish, then the transmitter stops (TDR keeps its data); a 0→1
//! pulse on TE queues a new preamble. Completed data frames are collected, in order, with the
//! virtual time their stop bits ended, for the host.
//!
//! Receiver (§27.3.3): host characters wait in a queue (at most [`RX_QUEUE_MAX`]) and go on the
//! line back to back, one frame time each, while UE and RE are set; a character is complete,
//! RXNE sets and DR holds it, at the end of its stop bits (silicon: at the middle of the first
//! stop bit, ½ bit earlier). A character completing while RXNE is still set is lost and sets
//! ORE (RDR keeps the old one). One frame time of idle line after the last character sets IDLE,
//! once per received character (§27.6.1). With PCE the receiver puts the parity bit the host
//! line would carry (correct parity: PE never sets) into the MSB. Mute mode (RWU): wake-up by
//! idle line (WAKE = 0: RWU clears, IDLE does not set) or by an address mark (WAKE = 1: MSB set
//! and ADD matching; that character is received); no status bit sets while muted.
//!
//! Simplified: the line is ideal (no noise NE, no framing error FE, no parity error PE); the host
//! never sends a break (LBD), nCTS is always asserted (CTSE never waits, CTS never sets); LIN,
//! IrDA, smartcard, half-duplex and synchronous (CK) modes are stored only and timed as the plain
//! asynchronous mode; no DMA requests. Host characters pushed while the receiver is off wait for
//! it (as if the host sent them later); the character on the line when RE or UE is cleared is
//! lost; a reset drops it too and keeps the queue. A BRR change applies from the next frame;
//! BRR = 0 stops the baud clock (nothing shifts). Host-side collection is bounded
//! ([`TX_OUT_MAX`] frames: the oldest are dropped and counted by [`Usart::tx_dropped`]).

use std::collections::VecDeque;

use crate::sim::periph::{Clocks, Ctx, Peripheral, Ps};
use crate::sim::st::frames::{LineEnds, Lines, Shift, TxKind, TxOut};

#[cfg(test)]
mod tests;

/// Host characters waiting for the receiver, at most.
pub(crate) const RX_QUEUE_MAX: usize = 65_536;
/// Transmitted frames kept for the host until [`Usart::take_tx`], at most.
pub(crate) const TX_OUT_MAX: usize = 65_536;

/// Which USART: USART1 is on APB2 (PCLK2), USART2/3 on APB1 (PCLK1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UsartKind {
    Usart1,
    Usart2,
    Usart3,
}

/// A character that left the TX pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxFrame {
    /// The data bits without the parity bit: 8 bits (M = 0), 7 (M = 0 with PCE), 9 (M = 1), or
    /// 8 (M = 1 with PCE).
    pub data: u16,
    /// Virtual time at which its last stop bit ended, ps.
    pub at: Ps,
}

// SR bits (§27.6.1).
const PE: u32 = 1 << 0;
const FE: u32 = 1 << 1;
const NE: u32 = 1 << 2;
const ORE: u32 = 1 << 3;
const IDLE: u32 = 1 << 4;
const RXNE: u32 = 1 << 5;
const TC: u32 = 1 << 6;
const TXE: u32 = 1 << 7;
const LBD: u32 = 1 << 8;
const CTS: u32 = 1 << 9;
// CR1 bits (§27.6.4).
const SBK: u32 = 1 << 0;
const RWU: u32 = 1 << 1;
const RE: u32 = 1 << 2;
const TE: u32 = 1 << 3;
const IDLEIE: u32 = 1 << 4;
const RXNEIE: u32 = 1 << 5;
const TCIE: u32 = 1 << 6;
const TXEIE: u32 = 1 << 7;
const PEIE: u32 = 1 << 8;
const PS: u32 = 1 << 9;
const PCE: u32 = 1 << 10;
const WAKE: u32 = 1 << 11;
const M: u32 = 1 << 12;
const UE: u32 = 1 << 13;

#[derive(Debug, Clone)]
pub(crate) struct Usart {
    kind: UsartKind,
    sr: u32,
    rdr: u16,
    tdr: u16,
    brr: u32,
    cr1: u32,
    cr2: u32,
    cr3: u32,
    gtpr: u32,
    /// The frames on the lines; counts half-bit ticks: 2 × the bus clock.
    line: Lines,
    preamble_due: bool,
    /// IDLE may set (a character was received since the last IDLE).
    idle_armed: bool,
    /// Error/idle flags seen by the last SR read (cleared by the next DR read).
    sr_seen: u32,
    rx_queue: VecDeque<u8>,
    tx_out: TxOut,
}

impl Usart {
    /// A USART in its reset state, its clock starting at virtual time `now`.
    pub(crate) fn new(kind: UsartKind, now: Ps) -> Usart {
        Usart {
            kind,
            sr: TXE | TC,
            rdr: 0,
            tdr: 0,
            brr: 0,
            cr1: 0,
            cr2: 0,
            cr3: 0,
            gtpr: 0,
            line: Lines::new(now),
            preamble_due: false,
            idle_armed: false,
            sr_seen: 0,
            rx_queue: VecDeque::new(),
            tx_out: TxOut::default(),
        }
    }

    /// Half-bit tick rate: twice the USART's bus clock.
    fn tick_hz(&self, clocks: &Clocks) -> u64 {
        2 * match self.kind {
            UsartKind::Usart1 => clocks.pclk2,
            _ => clocks.pclk1,
        }
    }

    /// Data bits per frame (parity included).
    fn data_bits(&self) -> u64 {
        if self.cr1 & M != 0 { 9 } else { 8 }
    }

    /// Half-bits of a frame: start, data, stop bits (§27.6.5 STOP: 1, 0.5, 2, 1.5).
    fn frame_half_bits(&self) -> u64 {
        let stop = [2, 1, 4, 3][((self.cr2 >> 12) & 3) as usize];
        2 * (1 + self.data_bits()) + stop
    }

    /// Ticks of one frame at the current BRR (0: the baud clock is stopped).
    fn frame_ticks(&self) -> u64 {
        self.frame_half_bits() * self.brr as u64
    }

    fn tx_on(&self) -> bool {
        self.cr1 & (UE | TE) == UE | TE
    }

    fn rx_on(&self) -> bool {
        self.cr1 & (UE | RE) == UE | RE
    }

    /// The parity bit for the low `bits` bits of `v` (even with PS = 0, odd with PS = 1).
    fn parity(&self, v: u16, bits: u64) -> u16 {
        let ones = (v as u32 & ((1 << bits) - 1)).count_ones() as u16;
        (ones & 1) ^ if self.cr1 & PS != 0 { 1 } else { 0 }
    }

    /// Starts the next transmit frame if the shift register is free.
    fn start_tx(&mut self) {
        if self.line.tx.is_some() || !self.tx_on() || self.brr == 0 {
            return;
        }
        let half_bits = self.frame_half_bits();
        let what = if self.preamble_due {
            self.preamble_due = false;
            TxKind::Preamble
        } else if self.cr1 & SBK != 0 {
            TxKind::Break
        } else if self.sr & TXE == 0 {
            self.sr |= TXE;
            TxKind::Data(self.tdr)
        } else {
            return;
        };
        let half_bits = if what == TxKind::Break {
            2 * (2 + self.data_bits()) + 2 // start, data and stop bit times low, one stop bit
        } else {
            half_bits
        };
        self.line.tx = Some(Shift {
            what,
            left: half_bits * self.brr as u64,
        });
    }

    /// Starts receiving the next host character if the line is free.
    fn start_rx(&mut self) {
        if self.line.rx.is_some() || !self.rx_on() || self.brr == 0 {
            return;
        }
        let Some(byte) = self.rx_queue.pop_front() else {
            return;
        };
        let bits = self.data_bits();
        let mut v = byte as u16;
        if self.cr1 & PCE != 0 {
            let data = bits - 1;
            v = (v & ((1 << data) - 1)) | (self.parity(v, data) << data);
        }
        self.line.idle_left = None;
        self.line.rx = Some(Shift {
            what: v,
            left: self.frame_ticks(),
        });
    }

    /// Queues host characters for the receiver (after bringing the USART up to `cx.now`).
    /// Returns how many were accepted: the queue holds at most [`RX_QUEUE_MAX`].
    pub(crate) fn push_rx(&mut self, bytes: &[u8], cx: &Ctx) -> usize {
        self.sync(cx);
        let n = bytes.len().min(RX_QUEUE_MAX - self.rx_queue.len());
        self.rx_queue.extend(&bytes[..n]);
        self.start_rx();
        n
    }

    /// The characters transmitted since the last call, oldest first (call `sync` first to
    /// collect everything up to now).
    pub(crate) fn take_tx(&mut self) -> Vec<TxFrame> {
        self.tx_out.take()
    }

    /// Transmitted frames dropped because the host did not take them ([`TX_OUT_MAX`]).
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn tx_dropped(&self) -> u64 {
        self.tx_out.dropped()
    }

    /// Host characters still waiting for the receiver (not counting the one on the line).
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn rx_pending(&self) -> usize {
        self.rx_queue.len()
    }

    fn write_cr1(&mut self, v: u32) {
        let tx_was = self.tx_on();
        let rx_was = self.rx_on();
        self.cr1 = v & 0x3FFF;
        if self.tx_on() && !tx_was {
            self.preamble_due = true;
        }
        if rx_was && !self.rx_on() {
            self.line.rx = None; // the character on the line is lost
            self.line.idle_left = None;
        }
        self.start_tx();
        self.start_rx();
    }

    fn clear_after_sr_read(&mut self) {
        self.sr &= !(self.sr_seen & (PE | FE | NE | ORE | IDLE));
        self.sr_seen &= !(PE | FE | NE | ORE | IDLE);
    }
}

impl Peripheral for Usart {
    fn name(&self) -> &'static str {
        match self.kind {
            UsartKind::Usart1 => "USART1",
            UsartKind::Usart2 => "USART2",
            UsartKind::Usart3 => "USART3",
        }
    }

    fn read(&mut self, off: u32, cx: &Ctx) -> u32 {
        self.sync(cx);
        match off {
            0x00 => {
                self.sr_seen = self.sr & (PE | FE | NE | ORE | IDLE | TC);
                self.sr
            }
            0x04 => {
                self.sr &= !RXNE;
                self.clear_after_sr_read();
                self.rdr as u32
            }
            0x08 => self.brr,
            0x0C => self.cr1,
            0x10 => self.cr2,
            0x14 => self.cr3,
            0x18 => self.gtpr,
            _ => 0,
        }
    }

    fn write(&mut self, off: u32, v: u32, cx: &Ctx) {
        self.sync(cx);
        match off {
            0x00 => self.sr &= v | !(CTS | LBD | TC | RXNE),
            0x04 => {
                if self.sr_seen & TC != 0 {
                    self.sr &= !TC;
                }
                self.sr_seen &= !TC;
                self.tdr = (v & 0x1FF) as u16;
                self.sr &= !TXE;
                self.start_tx();
            }
            0x08 => {
                self.brr = v & 0xFFFF;
                self.start_tx();
                self.start_rx();
            }
            0x0C => self.write_cr1(v),
            0x10 => self.cr2 = v & 0x7F6F,
            0x14 => self.cr3 = v & 0x7FF,
            0x18 => self.gtpr = v & 0xFFFF,
            _ => {}
        }
    }

    fn sync(&mut self, cx: &Ctx) {
        let hz = self.tick_hz(cx.clocks);
        Lines::sync(self, cx.now, hz);
    }

    fn next_event(&self, cx: &Ctx) -> Option<Ps> {
        self.line.next_event(cx.now, self.tick_hz(cx.clocks))
    }

    fn irq(&self, line: usize) -> bool {
        let (sr, cr1) = (self.sr, self.cr1);
        let on = |flag: u32, enable: u32| sr & flag != 0 && cr1 & enable != 0;
        let eie = self.cr3 & 1 != 0 && self.cr3 & (1 << 6) != 0; // EIE with DMAR
        line == 0
            && (on(TXE, TXEIE)
                || on(TC, TCIE)
                || on(RXNE | ORE, RXNEIE)
                || on(IDLE, IDLEIE)
                || on(PE, PEIE)
                || (sr & LBD != 0 && self.cr2 & (1 << 6) != 0)
                || (sr & CTS != 0 && self.cr3 & (1 << 10) != 0)
                || (eie && sr & (FE | NE | ORE) != 0))
    }

    fn reset(&mut self) {
        let queue = std::mem::take(&mut self.rx_queue);
        let out = std::mem::take(&mut self.tx_out);
        *self = Usart {
            rx_queue: queue,
            tx_out: out,
            line: self.line.cleared(),
            ..Usart::new(self.kind, 0)
        };
    }
}

impl LineEnds for Usart {
    fn lines(&mut self) -> &mut Lines {
        &mut self.line
    }

    fn tx_done(&mut self, what: TxKind, at: Ps) {
        match what {
            TxKind::Data(v) => {
                let bits = self.data_bits() - if self.cr1 & PCE != 0 { 1 } else { 0 };
                self.tx_out.push(TxFrame {
                    data: v & ((1 << bits) - 1),
                    at,
                });
                if self.sr & TXE != 0 {
                    self.sr |= TC;
                }
            }
            TxKind::Break => self.cr1 &= !SBK,
            TxKind::Preamble => {}
        }
        self.start_tx();
    }

    fn rx_done(&mut self, v: u16) {
        if !self.rx_on() {
            return;
        }
        let msb = 1 << (self.data_bits() - 1);
        if self.cr1 & RWU != 0 {
            let address = self.cr2 & 0xF;
            let mark = self.cr1 & WAKE != 0 && v & msb != 0 && (v as u32 & 0xF) == address;
            if !mark {
                if self.cr1 & WAKE == 0 {
                    self.line.idle_left = Some(self.frame_ticks()); // wake-up by idle line
                }
                self.start_rx();
                return;
            }
            self.cr1 &= !RWU;
        }
        if self.sr & RXNE != 0 {
            self.sr |= ORE;
        } else {
            self.rdr = v;
            self.sr |= RXNE;
        }
        self.idle_armed = true;
        self.line.idle_left = Some(self.frame_ticks());
        self.start_rx();
    }

    fn idle_detected(&mut self) {
        if self.cr1 & RWU != 0 {
            if self.cr1 & WAKE == 0 {
                self.cr1 &= !RWU;
            }
        } else if self.idle_armed {
            self.sr |= IDLE;
        }
        self.idle_armed = false;
    }
}
