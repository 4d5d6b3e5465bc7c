//! Several DAP reads in one batch through probe-rs's one-value-at-a-time DAP API.
//!
//! probe-rs's `ArmDebugInterface::read_raw_ap_register` returns the value it read, so a probe
//! that queues transactions (the queued JTAG-DP, `jtag_dp.rs`) must send its queue at every
//! read: reading 19 core registers through DCRSR/DCRDR is 19 batches, each a TCP round trip
//! over remote_bitbang and a CTRL/STAT check (about 280 bytes of JTAG clocks over JTAG). A
//! [`ReadBatch`] shared between the probe and the caller lets the caller say "answer later":
//! while it is open, the probe queues reads and returns 0 at once, and the values come out,
//! in the order the reads were asked for, once the queue has been sent (`flush`). OpenOCD's
//! `dap_queue_ap_read` + `dap_run` work this way.
//!
//! [`Reads`] hides whether the probe has a batch: without one (the virtual chip's own probe,
//! probe-rs's probes) each read happens when it is asked for, and the values are the same.

use std::sync::{Arc, Mutex, MutexGuard};

use probe_rs::architecture::arm::{ArmDebugInterface, ArmError, FullyQualifiedApAddress};

use super::memap::{BD0, BD1, BD2, DRW, REGWNR, TAR, TAR_PAGE};
use crate::diagnose::regs::DHCSR;
use crate::diagnose::regs::dhcsr::{S_HALT, S_REGRDY};

/// The shared switch and result list of deferred reads (see the module doc). Cloning shares it.
#[derive(Clone, Default)]
pub struct ReadBatch(Arc<Mutex<BatchState>>);

#[derive(Default)]
struct BatchState {
    /// Reads are deferred.
    open: bool,
    /// Slots (in the probe's current queue) of the deferred reads not sent yet, in order.
    slots: Vec<usize>,
    /// Values of the deferred reads sent so far, in order.
    values: Vec<u32>,
    /// A send failed while the batch was open: its values are lost.
    failed: bool,
}

impl std::fmt::Debug for ReadBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadBatch")
    }
}

impl ReadBatch {
    fn state(&self) -> MutexGuard<'_, BatchState> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters: every user resets it at `open`.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// For the probe: whether reads are deferred now; if so, remembers that the read queued
    /// at `slot` is answered later.
    pub fn defer(&self, slot: usize) -> bool {
        let mut s = self.state();
        if s.open {
            s.slots.push(slot);
        }
        s.open
    }

    /// For the probe: the queue was sent and gave `results` (by slot); the deferred reads'
    /// values are kept. `None`: the send failed and the values are lost.
    pub fn sent(&self, results: Option<&[u32]>) {
        let mut s = self.state();
        let slots = std::mem::take(&mut s.slots);
        match results {
            Some(r) => {
                let v: Vec<u32> = slots
                    .iter()
                    .map(|&i| r.get(i).copied().unwrap_or(0))
                    .collect();
                s.values.extend(v);
            }
            None if s.open => s.failed = true,
            None => {}
        }
    }

    fn open(&self) {
        let mut s = self.state();
        *s = BatchState {
            open: true,
            ..BatchState::default()
        };
    }

    /// Closes the batch; the values, or `None` when a send failed.
    fn close(&self) -> Option<Vec<u32>> {
        let mut s = self.state();
        s.open = false;
        let values = std::mem::take(&mut s.values);
        (!std::mem::take(&mut s.failed) && s.slots.is_empty()).then_some(values)
    }
}

/// Reads and writes of one access port's registers whose read values come back together at
/// [`Reads::finish`]: in one batch when the probe has a [`ReadBatch`], one by one otherwise.
pub struct Reads<'a> {
    iface: &'a mut dyn ArmDebugInterface,
    ap: &'a FullyQualifiedApAddress,
    batch: Option<ReadBatch>,
    now: Vec<u32>,
}

impl<'a> Reads<'a> {
    /// Starts a batch on `iface`'s access port `ap`; `batch` is the probe's, if it has one.
    pub fn new(
        iface: &'a mut dyn ArmDebugInterface,
        ap: &'a FullyQualifiedApAddress,
        batch: Option<&ReadBatch>,
    ) -> Self {
        if let Some(b) = batch {
            b.open();
        }
        Reads {
            iface,
            ap,
            batch: batch.cloned(),
            now: Vec::new(),
        }
    }

    /// Queues a read of AP register `reg` (a byte address: 0x0C DRW, 0x10 BD0, …); its value is
    /// the next one [`Reads::finish`] returns.
    pub fn read(&mut self, reg: u64) -> Result<(), ArmError> {
        let v = self.iface.read_raw_ap_register(self.ap, reg)?;
        if self.batch.is_none() {
            self.now.push(v);
        }
        Ok(())
    }

    /// Queues a write of `value` to AP register `reg`.
    pub fn write(&mut self, reg: u64, value: u32) -> Result<(), ArmError> {
        self.iface.write_raw_ap_register(self.ap, reg, value)
    }

    /// Queues writes of `words` from `addr` (a multiple of 4): TAR at each 1 KiB page (ADIv5
    /// §C2.2.2), the page's words as one repeated DRW write. CSW must say 32-bit, increment.
    pub fn write_words(&mut self, addr: u32, words: &[u32]) -> Result<(), ArmError> {
        let mut a = addr;
        let mut rest = words;
        while !rest.is_empty() {
            let n = (((TAR_PAGE - a % TAR_PAGE) / 4) as usize).min(rest.len());
            self.write(TAR, a)?;
            self.iface
                .write_raw_ap_register_repeated(self.ap, DRW, &rest[..n])?;
            a = a.wrapping_add(4 * n as u32);
            rest = &rest[n..];
        }
        Ok(())
    }

    /// Queues reads of `n` words from `addr` (as [`Reads::write_words`]), one DRW read each so
    /// that they stay in the batch.
    pub fn read_words(&mut self, addr: u32, n: usize) -> Result<(), ArmError> {
        let mut a = addr;
        let mut left = n;
        while left > 0 {
            let k = (((TAR_PAGE - a % TAR_PAGE) / 4) as usize).min(left);
            self.write(TAR, a)?;
            for _ in 0..k {
                self.read(DRW)?;
            }
            a = a.wrapping_add(4 * k as u32);
            left -= k;
        }
        Ok(())
    }

    /// Queues reads of the halted core's registers `sel` (DCRSR REGSEL numbers, ARMv7-M ARM
    /// §C1.6.3) through the banked registers: TAR = DHCSR's block, then per register a DCRSR
    /// write (BD1), a DHCSR read (BD0) and a DCRDR read (BD2). [`core_regs_read`] checks the
    /// values. CSW must say 32-bit.
    pub fn read_core_regs(&mut self, sel: &[u16]) -> Result<(), ArmError> {
        self.write(TAR, DHCSR as u32)?;
        for s in sel {
            self.write(BD1, u32::from(*s))?;
            self.read(BD0)?;
            self.read(BD2)?;
        }
        Ok(())
    }

    /// Queues writes of the halted core's registers `regs` (REGSEL, value): TAR = DHCSR's
    /// block, then per register a DCRDR write, a DCRSR write with REGWnR and a DHCSR read.
    /// [`core_regs_written`] checks the values.
    pub fn write_core_regs(&mut self, regs: &[(u16, u32)]) -> Result<(), ArmError> {
        self.write(TAR, DHCSR as u32)?;
        for &(sel, v) in regs {
            self.write(BD2, v)?;
            self.write(BD1, u32::from(sel) | REGWNR)?;
            self.read(BD0)?;
        }
        Ok(())
    }

    /// Sends what is queued; the values read, in the order asked for.
    ///
    /// # Errors
    /// The probe's, when the batch failed (no value of it is known then).
    pub fn finish(mut self) -> Result<Vec<u32>, ArmError> {
        let Some(batch) = self.batch.take() else {
            return Ok(std::mem::take(&mut self.now));
        };
        let sent = self.iface.flush();
        let values = batch.close();
        sent?;
        values.ok_or_else(|| ArmError::Other("a batch of DAP reads was lost".into()))
    }
}

impl Drop for Reads<'_> {
    fn drop(&mut self) {
        // An error returned early: later reads are not deferred.
        if let Some(b) = self.batch.take() {
            b.close();
        }
    }
}

/// A core register transfer that a DHCSR read after it says went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegTransfer {
    /// S_HALT was clear: the core runs (`dhcsr` as read).
    NotHalted { dhcsr: u32 },
    /// S_REGRDY was clear after the transfer of the `index`-th register asked for.
    NotDone { index: usize, dhcsr: u32 },
}

/// Checks a DHCSR value read after the transfer of the `index`-th register.
fn transfer(index: usize, dhcsr: u32) -> Result<(), RegTransfer> {
    if dhcsr & S_HALT == 0 {
        return Err(RegTransfer::NotHalted { dhcsr });
    }
    if dhcsr & S_REGRDY == 0 {
        return Err(RegTransfer::NotDone { index, dhcsr });
    }
    Ok(())
}

/// The register values of [`Reads::read_core_regs`]'s part of `values` (DHCSR, value pairs),
/// or the first transfer that did not complete.
pub fn core_regs_read(values: &[u32]) -> Result<Vec<u32>, RegTransfer> {
    values
        .chunks_exact(2)
        .enumerate()
        .map(|(i, p)| transfer(i, p[0]).map(|()| p[1]))
        .collect()
}

/// Checks [`Reads::write_core_regs`]'s part of `values` (one DHCSR per register).
pub fn core_regs_written(values: &[u32]) -> Result<(), RegTransfer> {
    values
        .iter()
        .enumerate()
        .try_for_each(|(i, d)| transfer(i, *d))
}
