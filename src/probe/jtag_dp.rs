//! A queued JTAG-DP (ADIv5 §B3.3) on a bit-level JTAG adapter ([`RawJtagIo`]): DPACC and
//! APACC scans are queued and shifted in one batch (one TCP round trip over remote_bitbang),
//! as OpenOCD's `adi_v5_jtag.c` queues them, instead of probe-rs 0.32's per-transfer polyfill
//! (an IR scan, the transfer, RDBUFF and a CTRL/STAT check for every single access).
//!
//! How a batch runs:
//! * An IR scan only when the instruction changes (DPACC 0b1010, APACC 0b1011, ABORT 0b1000);
//!   each DR scan goes Update-DR → Select-DR → Capture-DR → Shift-DR, 35 bits (RnW, A[3:2],
//!   DATAIN; §B3.3.2), back to Update-DR, where the transaction starts.
//! * TDO is read only where it is needed: the 3 ACK bits of every scan, and the 32 ReadResult
//!   bits of the scans from the batch's first read on (a read's result comes out in the next
//!   scan, §B3.3.2). Writes are posted: they are sent with the next read or
//!   [`RawDapAccess::raw_flush`].
//! * Every batch ends with a CTRL/STAT read and an RDBUFF read (which captures it): JTAG-DP's
//!   ACK cannot say FAULT (OK/FAULT is one code), so STICKYERR tells whether an access of the
//!   batch failed (§B3.3.3, §B2.2.2). A FAULT clears the sticky flags and fails the batch.
//! * A read normally sends the queue (probe-rs's API returns its value). While the caller's
//!   [`ReadBatch`] is open (`probe/batch.rs`), reads are queued like writes and answered
//!   together at the flush: 19 core registers are one batch instead of 19.
//! * WAIT (0b001): that scan's request was not taken. With ORUNDETECT set (probe-rs sets it),
//!   STICKYORUN is then set and the DP drops the AP accesses that follow (ADIv5 §B2.2.2), so
//!   the batch is re-sent from the first WAIT after clearing STICKYORUN and restoring SELECT to
//!   its value at that scan; at most [`MAX_WAIT_ROUNDS`] times, then DAPABORT and a WAIT error.
//!   From then on each AP access is followed by Run-Test/Idle clocks (OpenOCD's
//!   `memaccess_tck`), as many as the WAITs seen in a row took, so a slow AP is done by the next
//!   scan.

use std::sync::Arc;

use probe_rs::CoreStatus;
use probe_rs::architecture::arm::sequences::ArmDebugSequence;
use probe_rs::architecture::arm::{
    ArmDebugInterface, ArmError, DapError, DapProbe, RawDapAccess, RegisterAddress,
};
use probe_rs::probe::{DebugProbe, DebugProbeError, RawJtagIo, WireProtocol};

use super::batch::ReadBatch;

/// JTAG-DP instructions (ADIv5 §B3.4).
const IR_ABORT: u8 = 0b1000;
const IR_DPACC: u8 = 0b1010;
const IR_APACC: u8 = 0b1011;
/// IR length of the JTAG-DP (ADIv5 §B3.4).
const IR_LEN: usize = 4;
/// JTAG-DP ACKs (ADIv5 §B3.3.2).
const ACK_OK_FAULT: u8 = 0b010;
const ACK_WAIT: u8 = 0b001;
/// DP register byte addresses (ADIv5 §B2.2).
const CTRL_STAT: u8 = 0x4;
const SELECT: u8 = 0x8;
const RDBUFF: u8 = 0xC;
/// CTRL/STAT sticky flags, cleared by writing 1 on JTAG-DP (ADIv5 §B2.2.2).
const STICKYORUN: u32 = 1 << 1;
const STICKYCMP: u32 = 1 << 4;
const STICKYERR: u32 = 1 << 5;
const STICKY: u32 = STICKYORUN | STICKYCMP | STICKYERR;

/// Scans queued before the queue is sent even without a read or flush (about 340 KiB of
/// remote_bitbang bytes, which the adapter sends in pieces of its own; each send of the queue
/// ends with a CTRL/STAT check).
pub const MAX_QUEUE: usize = 4096;
/// Times a batch is re-sent after WAIT before giving up.
pub const MAX_WAIT_ROUNDS: usize = 64;
/// At most this many Run-Test/Idle clocks after each AP access.
pub const MAX_PAD: usize = 1024;

/// One DPACC/APACC/ABORT scan.
#[derive(Debug, Clone, Copy)]
struct Scan {
    ir: u8,
    rnw: bool,
    /// A[3:2] as a byte address: 0x0, 0x4, 0x8, 0xC.
    a: u8,
    value: u32,
    /// Where a read's result goes (index into the batch's results).
    slot: Option<usize>,
}

impl Scan {
    fn dp(rnw: bool, a: u8, value: u32, slot: Option<usize>) -> Scan {
        Scan {
            ir: IR_DPACC,
            rnw,
            a,
            value,
            slot,
        }
    }

    fn is_select_write(&self) -> bool {
        self.ir == IR_DPACC && !self.rnw && self.a == SELECT
    }
}

/// The ACK a scan got (`scan` indexes the scans shifted).
#[derive(Debug, Clone, Copy)]
struct Ack {
    ack: u8,
    scan: usize,
}

/// What the queued JTAG-DP sent, for the benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JtagDpStats {
    /// DR scans of DPACC/APACC/ABORT, the bookkeeping ones included.
    pub scans: u64,
    /// IR scans.
    pub ir_scans: u64,
    /// Batches sent.
    pub batches: u64,
    /// Batches re-sent after WAIT.
    pub wait_rounds: u64,
}

/// probe-rs's DAP interface over a JTAG-DP reached through a bit-level JTAG adapter `P`
/// (the TAP selected with probe-rs's `JtagAccess::select_target` is the JTAG-DP; the other TAPs are in
/// BYPASS, from the adapter's chain parameters).
pub struct QueuedJtagDp<P: RawJtagIo + DapProbe + 'static> {
    probe: Box<P>,
    queue: Vec<Scan>,
    /// Read slots allocated in the queue.
    slots: usize,
    /// The instruction in the JTAG-DP's IR, when known.
    ir: Option<u8>,
    /// The TAPs are in Update-DR/IR or Run-Test/Idle after our own scans (otherwise they are
    /// reset to Run-Test/Idle first).
    at_rest: bool,
    /// SELECT as the queue's first scan sees it.
    select: u32,
    /// The last CTRL/STAT value written (its request bits are kept when stickies are cleared).
    ctrl: u32,
    /// Run-Test/Idle clocks after each AP access, grown when WAITs are seen (they give a slow
    /// AP time to finish before the next scan's Capture-DR).
    pad: usize,
    /// Counters.
    pub stats: JtagDpStats,
    /// Reads the caller lets answer later (see `probe/batch.rs`).
    batch: ReadBatch,
}

impl<P: RawJtagIo + DapProbe + 'static> std::fmt::Debug for QueuedJtagDp<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedJtagDp")
            .field("queue", &self.queue.len())
            .finish()
    }
}

impl<P: RawJtagIo + DapProbe + 'static> QueuedJtagDp<P> {
    /// Wraps `probe`, whose JTAG chain must already be scanned and the JTAG-DP selected;
    /// `batch` is shared with the callers that read several registers in one batch.
    pub fn new(probe: Box<P>, batch: ReadBatch) -> Self {
        QueuedJtagDp {
            probe,
            queue: Vec::new(),
            slots: 0,
            ir: None,
            at_rest: false,
            select: 0,
            ctrl: 0,
            pad: 0,
            stats: JtagDpStats::default(),
            batch,
        }
    }

    /// The adapter back (after sending what is queued; errors are only logged).
    pub fn into_inner(mut self) -> Box<P> {
        if let Err(e) = self.flush_queue() {
            tracing::debug!("JTAG-DP queue not sent: {e}");
        }
        self.probe
    }

    fn scan_for(address: RegisterAddress, rnw: bool, value: u32, slot: Option<usize>) -> Scan {
        match address {
            RegisterAddress::DpRegister(r) if !rnw && r.address & 0xC == 0 => Scan {
                ir: IR_ABORT,
                rnw: false,
                a: 0,
                value,
                slot: None,
            },
            RegisterAddress::DpRegister(r) => Scan::dp(rnw, r.address & 0xC, value, slot),
            RegisterAddress::ApRegister(r) => Scan {
                ir: IR_APACC,
                rnw,
                a: r & 0xC,
                value,
                slot,
            },
        }
    }

    fn push(&mut self, scan: Scan) -> Result<(), ArmError> {
        self.queue.push(scan);
        if self.queue.len() >= MAX_QUEUE {
            self.flush_queue()?;
        }
        Ok(())
    }

    /// Sends the queue and returns the read results, by slot.
    fn flush_queue(&mut self) -> Result<Vec<u32>, ArmError> {
        if self.queue.is_empty() {
            return Ok(Vec::new());
        }
        let scans = std::mem::take(&mut self.queue);
        let slots = std::mem::take(&mut self.slots);
        let r = self.run(scans, slots);
        self.batch.sent(r.as_deref().ok());
        r
    }

    /// Runs `user` scans plus the CTRL/STAT check, re-sending from the first WAIT.
    fn run(&mut self, user: Vec<Scan>, slots: usize) -> Result<Vec<u32>, ArmError> {
        let ctrl_slot = slots;
        let mut results = vec![0u32; slots + 1];
        // SELECT at the end of the user's scans decides whether CTRL/STAT is reachable.
        let end_select = user
            .iter()
            .filter(|s| s.is_select_write())
            .fold(self.select, |_, s| s.value);
        let mut pending = user;
        if end_select & 0xF != 0 {
            // DPBANKSEL (ADIv5.2 §B2.2.9) must be 0 to reach CTRL/STAT.
            pending.push(Scan::dp(false, SELECT, end_select & !0xF, None));
            pending.push(Scan::dp(true, CTRL_STAT, 0, Some(ctrl_slot)));
            pending.push(Scan::dp(false, SELECT, end_select, None));
        } else {
            pending.push(Scan::dp(true, CTRL_STAT, 0, Some(ctrl_slot)));
        }
        pending.push(Scan::dp(true, RDBUFF, 0, None));

        // The read whose result the next accepted scan captures.
        let mut awaiting: Option<Option<usize>> = None;
        let mut select = self.select;
        for round in 0.. {
            let from_start = awaiting.is_some();
            let acks = self.shift(&pending, from_start, &mut awaiting, &mut results)?;
            let Some(e) = acks.iter().position(|a| a.ack == ACK_WAIT) else {
                self.note_writes(&pending);
                break;
            };
            // Everything before the first WAIT was taken. The AP stayed busy for about as many
            // more scans as answered WAIT in a row: idle that long after each AP access.
            let resume = acks[e].scan;
            let waits = acks[e..].iter().take_while(|a| a.ack == ACK_WAIT).count();
            let scan_tcks = 4
                + self.probe.state().chain_params.drpre
                + 35
                + self.probe.state().chain_params.drpost;
            self.pad = (self.pad + waits * scan_tcks).min(MAX_PAD);
            for s in &pending[..resume] {
                if s.is_select_write() {
                    select = s.value;
                }
            }
            self.stats.wait_rounds += 1;
            if round + 1 >= MAX_WAIT_ROUNDS {
                self.queue.clear();
                let abort = Scan {
                    ir: IR_ABORT,
                    rnw: false,
                    a: 0,
                    value: 1, // DAPABORT
                    slot: None,
                };
                let mut none = None;
                let _ = self.shift(
                    &[abort, Scan::dp(true, RDBUFF, 0, None)],
                    false,
                    &mut none,
                    &mut results,
                );
                self.select = select;
                return Err(DapError::WaitResponse.into());
            }
            // Clear STICKYORUN, put SELECT back, then the rest.
            let mut again = vec![
                Scan::dp(false, CTRL_STAT, self.ctrl_requests() | STICKYORUN, None),
                Scan::dp(false, SELECT, select, None),
            ];
            again.extend_from_slice(&pending[resume..]);
            pending = again;
        }
        self.select = end_select;
        let ctrl = results[ctrl_slot];
        if ctrl & STICKY != 0 {
            tracing::debug!("JTAG-DP batch failed: CTRL/STAT = {ctrl:#010x}");
            let clear = [
                Scan::dp(
                    false,
                    CTRL_STAT,
                    self.ctrl_requests() | (ctrl & STICKY),
                    None,
                ),
                Scan::dp(true, RDBUFF, 0, None),
            ];
            let mut none = None;
            self.shift(&clear, false, &mut none, &mut results)?;
            return Err(if ctrl & STICKYERR != 0 {
                DapError::FaultResponse.into()
            } else {
                DapError::WaitResponse.into()
            });
        }
        results.truncate(slots);
        Ok(results)
    }

    /// CTRL/STAT's request bits as last written (CSYSPWRUPREQ and CDBGPWRUPREQ if nothing was
    /// written yet), for a write that clears sticky flags without powering the debug domain down.
    fn ctrl_requests(&self) -> u32 {
        if self.ctrl == 0 {
            0x5000_0000
        } else {
            self.ctrl & !STICKY
        }
    }

    /// Remembers CTRL/STAT and SELECT values the caller wrote.
    fn note_writes(&mut self, scans: &[Scan]) {
        for s in scans {
            if s.ir == IR_DPACC && !s.rnw && s.a == CTRL_STAT && s.value & STICKY == 0 {
                self.ctrl = s.value;
            }
        }
    }

    /// Shifts `scans` in one batch and returns each scan's ACK. ReadResults are stored through
    /// `awaiting` (the slot of the read whose result the next accepted scan captures);
    /// `capture_from_start` says whether the first scan must capture data.
    fn shift(
        &mut self,
        scans: &[Scan],
        capture_from_start: bool,
        awaiting: &mut Option<Option<usize>>,
        results: &mut [u32],
    ) -> Result<Vec<Ack>, ArmError> {
        let params = self.probe.state().chain_params;
        let pad = self.pad;
        let p = &mut *self.probe;
        if !self.at_rest {
            // Test-Logic-Reset, then Run-Test/Idle.
            for tms in [true, true, true, true, true, false] {
                p.shift_bit(tms, true, false)?;
            }
            self.ir = None;
            self.at_rest = true;
        }
        self.stats.batches += 1;
        let mut capture_data = capture_from_start;
        let mut captures = Vec::with_capacity(scans.len());
        for s in scans {
            if self.ir != Some(s.ir) {
                self.stats.ir_scans += 1;
                // Select-DR, Select-IR, Capture-IR, Shift-IR.
                for tms in [true, true, false, false] {
                    p.shift_bit(tms, false, false)?;
                }
                let bits = params.irpre + IR_LEN + params.irpost;
                for i in 0..bits {
                    let tdi = if i < params.irpre || i >= params.irpre + IR_LEN {
                        true // BYPASS for the other TAPs
                    } else {
                        (s.ir >> (i - params.irpre)) & 1 != 0
                    };
                    p.shift_bit(i == bits - 1, tdi, false)?;
                }
                p.shift_bit(true, false, false)?; // Update-IR
                self.ir = Some(s.ir);
            }
            self.stats.scans += 1;
            // Select-DR, Capture-DR, Shift-DR.
            for tms in [true, false, false] {
                p.shift_bit(tms, false, false)?;
            }
            let dr = u64::from(s.rnw) | u64::from(s.a >> 2) << 1 | u64::from(s.value) << 3;
            let bits = params.drpre + 35 + params.drpost;
            for i in 0..bits {
                let own = i >= params.drpre && i < params.drpre + 35;
                let j = i.wrapping_sub(params.drpre);
                let tdi = own && (dr >> j) & 1 != 0;
                let cap = own && (j < 3 || capture_data);
                p.shift_bit(i == bits - 1, tdi, cap)?;
            }
            p.shift_bit(true, false, false)?; // Update-DR
            if s.ir == IR_APACC {
                // Run-Test/Idle while a slow AP finishes (OpenOCD's memaccess_tck).
                for _ in 0..pad {
                    p.shift_bit(false, false, false)?;
                }
            }
            captures.push(capture_data);
            if s.rnw {
                capture_data = true;
            }
        }
        let bits = p.read_captured_bits()?;
        let mut at = 0;
        let mut acks = Vec::with_capacity(scans.len());
        let mut waited = false;
        for (scan, (s, data)) in scans.iter().zip(captures).enumerate() {
            let n = if data { 35 } else { 3 };
            if at + n > bits.len() {
                return Err(ArmError::Probe(DebugProbeError::Other(
                    "the JTAG adapter returned fewer TDO bits than were asked for".into(),
                )));
            }
            let word = (0..n).fold(0u64, |v, b| v | u64::from(bits[at + b]) << b);
            at += n;
            let ack = (word & 0b111) as u8;
            acks.push(Ack { ack, scan });
            match ack {
                ACK_WAIT => waited = true,
                ACK_OK_FAULT => {
                    if let Some(Some(slot)) = awaiting.take()
                        && data
                    {
                        results[slot] = (word >> 3) as u32;
                    }
                    if !waited && s.rnw {
                        *awaiting = Some(s.slot);
                    }
                }
                other => {
                    tracing::debug!("JTAG-DP ACK {other:#05b}: TDO stuck or no JTAG-DP");
                    return Err(DapError::NoAcknowledge.into());
                }
            }
        }
        Ok(acks)
    }

    /// Sends what is queued before the adapter is used directly; the TAP state and IR are
    /// unknown afterwards.
    fn hand_over(&mut self) -> Result<(), ArmError> {
        self.flush_queue()?;
        self.at_rest = false;
        self.ir = None;
        Ok(())
    }
}

impl<P: RawJtagIo + DapProbe + 'static> RawDapAccess for QueuedJtagDp<P> {
    fn raw_read_register(&mut self, address: RegisterAddress) -> Result<u32, ArmError> {
        let slot = self.slots;
        self.slots += 1;
        let scan = Self::scan_for(address, true, 0, Some(slot));
        if self.batch.defer(slot) {
            // Answered at the flush (probe/batch.rs).
            return self.push(scan).map(|()| 0);
        }
        self.queue.push(scan);
        let r = self.flush_queue()?;
        Ok(r[slot])
    }

    fn raw_read_block(
        &mut self,
        address: RegisterAddress,
        values: &mut [u32],
    ) -> Result<(), ArmError> {
        for chunk in values.chunks_mut(MAX_QUEUE) {
            let first = self.slots;
            for _ in 0..chunk.len() {
                let slot = self.slots;
                self.slots += 1;
                self.queue
                    .push(Self::scan_for(address, true, 0, Some(slot)));
            }
            let r = self.flush_queue()?;
            chunk.copy_from_slice(&r[first..first + chunk.len()]);
        }
        Ok(())
    }

    fn raw_write_register(&mut self, address: RegisterAddress, value: u32) -> Result<(), ArmError> {
        self.push(Self::scan_for(address, false, value, None))
    }

    fn raw_write_block(
        &mut self,
        address: RegisterAddress,
        values: &[u32],
    ) -> Result<(), ArmError> {
        for v in values {
            self.push(Self::scan_for(address, false, *v, None))?;
        }
        Ok(())
    }

    fn raw_flush(&mut self) -> Result<(), ArmError> {
        self.flush_queue().map(|_| ())
    }

    fn jtag_sequence(&mut self, cycles: u8, tms: bool, tdi: u64) -> Result<(), DebugProbeError> {
        self.hand_over().map_err(arm_to_probe)?;
        RawDapAccess::jtag_sequence(&mut *self.probe, cycles, tms, tdi)
    }

    fn swj_sequence(&mut self, bit_len: u8, bits: u64) -> Result<(), DebugProbeError> {
        self.hand_over().map_err(arm_to_probe)?;
        RawDapAccess::swj_sequence(&mut *self.probe, bit_len, bits)
    }

    fn swj_pins(
        &mut self,
        pin_out: u32,
        pin_select: u32,
        pin_wait: u32,
    ) -> Result<u32, DebugProbeError> {
        self.hand_over().map_err(arm_to_probe)?;
        RawDapAccess::swj_pins(&mut *self.probe, pin_out, pin_select, pin_wait)
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        (*self).into_inner()
    }

    fn core_status_notification(&mut self, _state: CoreStatus) -> Result<(), DebugProbeError> {
        Ok(())
    }
}

fn arm_to_probe(e: ArmError) -> DebugProbeError {
    match e {
        ArmError::Probe(p) => p,
        other => DebugProbeError::Other(other.to_string()),
    }
}

impl<P: RawJtagIo + DapProbe + 'static> DebugProbe for QueuedJtagDp<P> {
    fn get_name(&self) -> &str {
        self.probe.get_name()
    }

    fn speed_khz(&self) -> u32 {
        self.probe.speed_khz()
    }

    fn set_speed(&mut self, speed_khz: u32) -> Result<u32, DebugProbeError> {
        self.probe.set_speed(speed_khz)
    }

    fn attach(&mut self) -> Result<(), DebugProbeError> {
        self.hand_over().map_err(arm_to_probe)?;
        self.probe.attach()
    }

    fn detach(&mut self) -> Result<(), probe_rs::Error> {
        self.hand_over()?;
        self.probe.detach()
    }

    fn target_reset(&mut self) -> Result<(), DebugProbeError> {
        self.hand_over().map_err(arm_to_probe)?;
        self.probe.target_reset()
    }

    fn target_reset_assert(&mut self) -> Result<(), DebugProbeError> {
        self.hand_over().map_err(arm_to_probe)?;
        self.probe.target_reset_assert()
    }

    fn target_reset_deassert(&mut self) -> Result<(), DebugProbeError> {
        self.hand_over().map_err(arm_to_probe)?;
        self.probe.target_reset_deassert()
    }

    fn select_protocol(&mut self, protocol: WireProtocol) -> Result<(), DebugProbeError> {
        self.probe.select_protocol(protocol)
    }

    fn active_protocol(&self) -> Option<WireProtocol> {
        self.probe.active_protocol()
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        (*self).into_inner()
    }

    fn try_get_arm_debug_interface<'probe>(
        self: Box<Self>,
        sequence: Arc<dyn ArmDebugSequence>,
    ) -> Result<Box<dyn ArmDebugInterface + 'probe>, (Box<dyn DebugProbe>, ArmError)> {
        Ok(probe_rs::architecture::arm::ArmCommunicationInterface::create(self, sequence, true))
    }

    fn has_arm_interface(&self) -> bool {
        true
    }
}

impl<P: RawJtagIo + DapProbe + 'static> DapProbe for QueuedJtagDp<P> {}
