//! The frame timer both USART models share (the F1's, RM0008 §27.3, in
//! `stm32f1/usart.rs`; the newer one, RM0316 §29.5 / RM0351 §40.5 / RM0440
//! §37.5, in `usart.rs`): the frame in the transmit shift register, the
//! character on the receive line and the idle-line countdown, each as a
//! number of ticks left, counted with one exact [`Ticker`].
//!
//! A tick is whatever the USART says (both count half-bits of their clock:
//! the ticker runs at twice the kernel clock). [`Lines::sync`] moves to
//! `now`, stopping at every tick where a frame or the idle countdown ends, in
//! time order, and hands each end to the USART ([`LineEnds`]) before going
//! on: the USART's reaction (the next frame starting, an idle countdown armed)
//! is timed from that very tick, so the result does not depend on how often
//! `sync` is called.

use std::collections::VecDeque;

use crate::sim::periph::{Ps, Ticker};
use crate::sim::stm32f1::usart::{TX_OUT_MAX, TxFrame};

/// What a frame in the transmit shift register is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxKind {
    /// The idle frame sent when the transmitter is enabled.
    Preamble,
    /// A data character (parity bit included, if any).
    Data(u16),
    /// A break character.
    Break,
}

/// A frame in a shift register: what it is and the ticks left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shift<T> {
    pub what: T,
    pub left: u64,
}

/// The line state of one USART (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct Lines {
    pub tx: Option<Shift<TxKind>>,
    pub rx: Option<Shift<u16>>,
    /// Ticks of idle receive line left before the idle line is detected.
    pub idle_left: Option<u64>,
    pub ticker: Ticker,
}

/// The characters a USART transmitted, kept for the host until taken: at
/// most [`TX_OUT_MAX`], the oldest dropped (and counted) beyond.
#[derive(Debug, Clone, Default)]
pub(crate) struct TxOut {
    frames: VecDeque<TxFrame>,
    dropped: u64,
}

impl TxOut {
    pub(crate) fn push(&mut self, f: TxFrame) {
        if self.frames.len() == TX_OUT_MAX {
            self.frames.pop_front();
            self.dropped += 1;
        }
        self.frames.push_back(f);
    }

    /// The characters kept, oldest first; none are kept after.
    pub(crate) fn take(&mut self) -> Vec<TxFrame> {
        self.frames.drain(..).collect()
    }

    /// Characters dropped because the host did not take them in time.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// The USART's side of the frame timer: what happens when a frame ends.
pub(crate) trait LineEnds {
    fn lines(&mut self) -> &mut Lines;
    /// The transmitted frame `what` ended (its stop bits) at `at`.
    fn tx_done(&mut self, what: TxKind, at: Ps);
    /// The character `v` was received (end of its stop bits).
    fn rx_done(&mut self, v: u16);
    /// The idle countdown ran out.
    fn idle_detected(&mut self);
}

impl Lines {
    /// Nothing on the lines; the ticker's phase starts at `now`.
    pub(crate) fn new(now: Ps) -> Lines {
        Lines {
            tx: None,
            rx: None,
            idle_left: None,
            ticker: Ticker::new(now),
        }
    }

    /// Nothing on the lines, the ticker's phase kept (a reset of the USART).
    pub(crate) fn cleared(&self) -> Lines {
        Lines {
            ticker: self.ticker,
            ..Lines::new(0)
        }
    }

    /// Ticks to the nearest end (frame or idle countdown).
    fn next_ticks(&self) -> Option<u64> {
        [
            self.tx.map(|s| s.left),
            self.rx.map(|s| s.left),
            self.idle_left,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// `n` ticks pass for every countdown.
    fn elapse(&mut self, n: u64) {
        for s in [
            self.tx.as_mut().map(|s| &mut s.left),
            self.rx.as_mut().map(|s| &mut s.left),
            self.idle_left.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            *s -= n.min(*s);
        }
    }

    /// The time of the nearest end at `hz` ticks per second (not before `now`).
    pub(crate) fn next_event(&self, now: Ps, hz: u64) -> Option<Ps> {
        let n = self.next_ticks()?;
        self.ticker.time_of(n, hz).map(|t| t.max(now))
    }

    /// Brings `u`'s lines up to `now` at `hz` ticks per second, calling
    /// [`LineEnds`] at every end on the way, transmitter, receiver, idle
    /// line in that order for ends on the same tick.
    pub(crate) fn sync<U: LineEnds>(u: &mut U, now: Ps, hz: u64) {
        loop {
            let l = u.lines();
            let due = l
                .next_ticks()
                .and_then(|n| l.ticker.time_of(n, hz).map(|t| (n, t)));
            let Some((n, t)) = due.filter(|&(_, t)| t <= now) else {
                let k = l.ticker.advance(now, hz);
                l.elapse(k);
                return;
            };
            l.ticker.advance_cycles(n, hz);
            l.elapse(n);
            if let Some(s) = l.tx.filter(|s| s.left == 0) {
                u.lines().tx = None;
                u.tx_done(s.what, t);
            }
            if let Some(s) = u.lines().rx.filter(|s| s.left == 0) {
                u.lines().rx = None;
                u.rx_done(s.what);
            }
            if u.lines().idle_left == Some(0) {
                u.lines().idle_left = None;
                u.idle_detected();
            }
        }
    }
}
