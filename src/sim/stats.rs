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

/// What the virtual core has done since the [`Sim`](super::Sim) was created
/// or [`Sim::reset_exec_stats`](super::Sim::reset_exec_stats) was called
/// (`sim stats` prints it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExecStats {
    /// Instructions executed (exception entries and reset sequences included).
    pub instructions: u64,
    /// Core cycles that passed: executed, slept, or skipped by idle
    /// fast-forwarding.
    pub cycles: u64,
    /// Core cycles skipped because the core was asleep (WFI/WFE) or spinning
    /// in a loop that cannot change anything before the next timer event
    /// (docs/sim.md, "Time").
    pub skipped_cycles: u64,
    /// Virtual time that passed, seconds.
    pub virtual_s: f64,
    /// Wall-clock time that passed, seconds.
    pub wall_s: f64,
    /// Times the processor model failed (panicked) and the core was put in
    /// lockup instead (0 unless the simulator has a bug).
    pub emulator_failures: u64,
}

impl ExecStats {
    /// Virtual time per wall-clock time (1.0 = the virtual chip keeps up with
    /// real time; it never runs ahead of it unless the probe's wire time
    /// drives it).
    pub fn ratio(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.virtual_s / self.wall_s
        } else {
            0.0
        }
    }

    /// Instructions per wall-clock second, millions.
    pub fn mips(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.instructions as f64 / self.wall_s / 1e6
        } else {
            0.0
        }
    }
}
