//! DAP transaction counters.

/// Counters of SWD wire transactions since the [`Sim`](super::Sim) was created
/// or [`Sim::reset_stats`](super::Sim::reset_stats) was called.
///
/// Each field counts *wire-level* SWD packets (ADIv5 §B4.2: request, ACK,
/// data phase) as a CMSIS-DAP probe's firmware would issue them, including
/// the posted-read `RDBUFF` reads and the "check last write" `RDBUFF` reads
/// the firmware adds (see `docs/sim.md`). Every attempt is counted, also those
/// answered WAIT, FAULT or not at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DapStats {
    /// DP register reads (DPIDR, CTRL/STAT, RESEND, RDBUFF).
    pub dp_reads: u64,
    /// DP register writes (ABORT, CTRL/STAT, SELECT).
    pub dp_writes: u64,
    /// AP register reads (posted, ADIv5 §B4.2.4).
    pub ap_reads: u64,
    /// AP register writes.
    pub ap_writes: u64,
    /// Requests answered WAIT (each retry counted once).
    pub waits: u64,
    /// Requests answered FAULT.
    pub faults: u64,
    /// Requests that got no valid ACK (target unpowered, disconnected, line errors, lockout).
    pub no_acks: u64,
    /// SWD line resets seen (≥ 50 SWCLK cycles with SWDIO high, ADIv5 §B4.3.3).
    pub line_resets: u64,
}

impl DapStats {
    /// All DP and AP reads and writes: the number of SWD transactions on the wire.
    pub fn total(&self) -> u64 {
        self.dp_reads + self.dp_writes + self.ap_reads + self.ap_writes
    }
}
