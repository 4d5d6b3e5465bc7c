//! The per-bank state of the STM32H743 flash controller (`flash.rs`): the
//! key latch (RM0433 §4.5.1), the 256-bit write buffer (§4.3.9) and the
//! queue of running operations behind SRx.BSY/QW.

use super::super::super::stm32l4::flash::KeyError;
use super::super::super::time::Ps;
use super::{CR_PSIZE, CR_RESET, CR_START, SR_BSY, SR_EOP, SR_QW, SR_WBNE, WORD};

/// A key register's unlock sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Latch {
    Locked,
    FirstKey,
    Open,
    /// A wrong sequence: locked until reset.
    Jammed,
}

impl Latch {
    /// One write of `v` to the key register (RM0433 §4.5.1): `Err` (a bus
    /// error) for a wrong key or a write while open, which jams the latch.
    pub(super) fn feed(&mut self, v: u32, keys: (u32, u32)) -> Result<(), KeyError> {
        *self = match (*self, v) {
            (Latch::Locked, k) if k == keys.0 => Latch::FirstKey,
            (Latch::FirstKey, k) if k == keys.1 => Latch::Open,
            _ => {
                *self = Latch::Jammed;
                return Err(KeyError);
            }
        };
        Ok(())
    }

    /// Locked again by software (a jammed latch stays jammed).
    pub(super) fn close(&mut self) {
        if *self != Latch::Jammed {
            *self = Latch::Locked;
        }
    }
}

/// The 256-bit write buffer of a bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WriteBuf {
    /// Byte offset of the flash word in main flash.
    pub(super) word: usize,
    pub(super) data: [u8; WORD],
    /// Bytes written so far, one bit each.
    pub(super) written: u32,
}

/// One bank's registers and operation state.
#[derive(Debug, Clone)]
pub(super) struct Bank {
    pub(super) keys: Latch,
    pub(super) cr: u32,
    /// The sticky SR flags (EOP and errors); BSY/QW/WBNE are derived.
    pub(super) sr: u32,
    pub(super) buf: Option<WriteBuf>,
    /// The queued and running operations: (end, is an erase), in order.
    pub(super) ops: Vec<(Ps, bool)>,
    /// CRCCRx, CRCSADDxR, CRCEADDxR (stored only).
    pub(super) crc: [u32; 3],
}

impl Bank {
    pub(super) fn after_reset() -> Bank {
        Bank {
            keys: Latch::Locked,
            cr: CR_RESET,
            sr: 0,
            buf: None,
            ops: Vec::new(),
            crc: [0; 3],
        }
    }

    /// Ends the operations whose time has come: EOP for each.
    pub(super) fn settle(&mut self, now: Ps) {
        let done = self.ops.iter().take_while(|(t, _)| *t <= now).count();
        for (_, erase) in self.ops.drain(..done) {
            if erase {
                self.cr &= !CR_START;
            }
            self.sr |= SR_EOP;
        }
    }

    pub(super) fn next_end(&self) -> Option<Ps> {
        self.ops.first().map(|(t, _)| *t)
    }

    pub(super) fn last_end(&self) -> Option<Ps> {
        self.ops.last().map(|(t, _)| *t)
    }

    pub(super) fn status(&self) -> u32 {
        let busy = if !self.ops.is_empty() {
            SR_BSY | SR_QW
        } else {
            0
        };
        self.sr | busy | if self.buf.is_some() { SR_WBNE } else { 0 }
    }

    /// PSIZE as an index into the time tables.
    pub(super) fn psize(&self) -> usize {
        ((self.cr & CR_PSIZE) >> 4) as usize
    }

    /// Error `flags`: the write buffer is discarded.
    pub(super) fn fail(&mut self, flags: u32) {
        self.sr |= flags;
        self.buf = None;
    }

    /// An operation of `t` from now, or queued behind the last one.
    pub(super) fn busy(&mut self, now: Ps, t: Ps, erase: bool) {
        let start = self.last_end().map_or(now, |b| b.max(now));
        self.ops.push((start + t, erase));
    }
}
