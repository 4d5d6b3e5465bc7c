//! Fast programming of the stm32l4x-family controller: FLASH_CR.FSTPG, a
//! row of 32 double words (256 bytes) under one high-voltage pulse
//! (RM0351 §3.3.7 "Fast programming", RM0440 §3.3.7; the error bits as
//! FLASH_SR defines them, RM0351 §3.7.5, RM0440 §3.7.5).
//!
//! The sequence: no error flag pending, FSTPG set with PG, PER, MER1 and
//! MER2 clear, then the 32 double words of one row, each as two 32-bit
//! stores, in address order from the row's first double word. The first
//! complete double word starts the programming (BSY). Each next one must
//! arrive before the current one is programmed: "maximum time between two
//! double words write requests is the time programming (around 20 µs)"
//! (RM0351 §3.3.7), [`T_FAST_GAP_PS`], measured between the second stores
//! of two successive double words. Later, the sequence is interrupted:
//! MISERR and FASTERR at that deadline, BSY falls, the double words
//! received so far stay programmed ("all previous double words have been
//! properly programmed"). BSY falls [`T_FAST_ROW_PS`] after the first
//! double word when all 32 arrived, with EOP (EOPIE).
//!
//! Errors, each stopping the sequence and refusing the store:
//! * PGSERR: CR locked, FSTPG with PG, PER, MER1 or MER2, an error flag of a
//!   previous operation still set (this includes a store that arrives after
//!   a data miss: MISERR is then pending), or a store into the OTP area
//!   ("only the main memory can be programmed in Fast programming mode"; the
//!   RM names no flag for it: a sequence error is this model's choice);
//! * SIZERR + FASTERR: a byte or half-word store;
//! * WRPERR + FASTERR: a WRP or PCROP area, or read-out protection level 1
//!   with a debugger attached;
//! * PGAERR + FASTERR: a double word that is not the next one of the row
//!   (the first not at a row boundary, one out of order, or a second word in
//!   another double word). RM0351 names "a change of page during fast
//!   programming" for PGAERR; the model is stricter and keeps to the row,
//!   as the sequence (32 double words "written successively") requires;
//! * PROGERR: a double word of the row that is not erased (and the data is
//!   not all zero), as for standard programming. FASTERR's definition lists
//!   only alignment, size, write protection and data miss, so PROGERR comes
//!   alone. Step 1 of the RM's sequence asks for a mass erase of the bank;
//!   the RM does not say how a page-erased bank is treated, so the model
//!   accepts any erased row (ST's HAL fast-programs page-erased flash).
//!
//! Simplified: the 7 ms high-voltage time-out (FASTERR alone) cannot
//! happen, since a row ends after at most 31 gaps of 20 µs plus 1.91 ms; a
//! read of the same bank during the sequence, which aborts it silently
//! (RM0351 §3.3.7 note), is not modelled; the stores are not stalled while
//! the previous double word is programmed (the bus sees the data at once);
//! HSI16 is not switched on by FSTPG; HCLK ≥ 8 MHz is not checked.

use super::super::super::time::Ps;
use super::{
    CR_LOCK, CR_MER1, CR_MER2, CR_PER, CR_PG, FlashCtl, FlashCx, SR_FASTERR, SR_MISERR, SR_PGAERR,
    SR_PGSERR, SR_PROGERR, SR_SIZERR, SR_WRPERR, Target,
};

/// Longest time between two double-word write requests: "around 20 µs"
/// (RM0351 §3.3.7; RM0440 §3.3.7 gives the same figure).
pub(crate) const T_FAST_GAP_PS: Ps = 20_000_000;
/// One row (32 double words) in fast programming, typical: 1.91 ms
/// (DS11789 Table 49 and DS12288 Table 57, t_prog_row, fast programming).
pub(crate) const T_FAST_ROW_PS: Ps = 1_910_000_000;
/// Bytes per row: 32 double words.
pub(crate) const ROW_BYTES: usize = 256;

/// A row being fast-programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FastRow {
    /// Byte offset of the next double word expected.
    next: usize,
    /// Byte offset of the row's end.
    end: usize,
    /// When the last double word arrived.
    last: Ps,
}

impl FastRow {
    /// The time by which the next double word must have arrived.
    pub(super) fn deadline(&self) -> Ps {
        self.last + T_FAST_GAP_PS
    }
}

impl FlashCtl {
    /// Raises MISERR + FASTERR if the next double word did not come in time.
    pub(super) fn settle_fast(&mut self, now: Ps) {
        let Some(row) = self.fast else { return };
        let deadline = row.deadline();
        if now <= deadline {
            return;
        }
        self.stop_fast(deadline);
        self.fail(SR_MISERR | SR_FASTERR);
    }

    /// Ends the sequence at `at`: BSY falls then, without EOP.
    fn stop_fast(&mut self, at: Ps) {
        if self.fast.take().is_some() {
            self.busy_until = Some(self.busy_until.map_or(at, |b| b.min(at)));
            self.eop_pending = false;
        }
        self.half = None;
    }

    /// An error during the sequence.
    fn fast_error(&mut self, flags: u32, now: Ps) {
        self.stop_fast(now);
        self.fail(flags);
    }

    /// A store with FSTPG set (RM0351 §3.3.7).
    pub(super) fn program_fast(
        &mut self,
        target: Target,
        off: usize,
        size: u32,
        v: u32,
        cx: &mut FlashCx,
    ) {
        let now = cx.now;
        let cr = self.cr;
        if cr & (CR_LOCK | CR_PG | CR_PER | CR_MER1 | CR_MER2) != 0
            || self.stale_errors()
            || target == Target::Otp
        {
            return self.fast_error(SR_PGSERR, now);
        }
        if size != 4 {
            return self.fast_error(SR_SIZERR | SR_FASTERR, now);
        }
        if self.rdp_blocks(cx) || self.prot.hits(off..off + 4) {
            return self.fast_error(SR_WRPERR | SR_FASTERR, now);
        }
        let Some((_, first_off, first)) = self.half.take() else {
            let expected = match self.fast {
                Some(row) => off == row.next,
                None => off.is_multiple_of(ROW_BYTES),
            };
            if !expected {
                return self.fast_error(SR_PGAERR | SR_FASTERR, now);
            }
            self.half = Some((target, off, v));
            return;
        };
        if off != first_off + 4 {
            return self.fast_error(SR_PGAERR | SR_FASTERR, now);
        }
        if cx.faults.flash_program_error() {
            return self.fast_error(SR_PROGERR, now);
        }
        let data = (u64::from(v) << 32) | u64::from(first);
        let Some(cells) = cx.nv.flash.get_mut(first_off..first_off + 8) else {
            return self.fast_error(SR_PGAERR | SR_FASTERR, now);
        };
        if data != 0 && cells.iter().any(|b| *b != 0xFF) {
            return self.fast_error(SR_PROGERR, now);
        }
        cells.copy_from_slice(&data.to_le_bytes());
        cx.nv.dirty = true;
        let row = match self.fast {
            Some(row) => row,
            None => {
                // The first double word: the high voltage goes on (BSY).
                self.busy(now, T_FAST_ROW_PS);
                FastRow {
                    next: first_off,
                    end: first_off + ROW_BYTES,
                    last: now,
                }
            }
        };
        let next = first_off + 8;
        self.fast = (next < row.end).then_some(FastRow {
            next,
            end: row.end,
            last: now,
        });
    }
}

#[cfg(test)]
mod tests;
