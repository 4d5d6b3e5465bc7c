//! Breakpoints (FPB) and watchpoints (DWT): bookkeeping and hardware programming, shared by the
//! `bp`/`rbp`/`wp`/`rwp` commands and (later) the GDB server.
//!
//! - **Hardware breakpoints** use the Flash Patch and Breakpoint unit through probe-rs
//!   (`Core::set_hw_breakpoint_unit`). The Cortex-M3 has FPBv1 with 6 code comparators that only
//!   match instruction addresses in the code region 0x0000_0000–0x1FFF_FFFF (ARMv7-M ARM §C1.11).
//! - **Software breakpoints** replace a Thumb half-word in RAM by `BKPT #0` (0xBE00) after saving
//!   the original; in flash (which the core cannot patch) they fall back to an FPB comparator.
//! - **Watchpoints** program the Data Watchpoint and Trace unit directly through memory writes,
//!   as probe-rs 0.32 has no watchpoint API (ARMv7-M ARM §C1.8): DEMCR.TRCENA first, then
//!   DWT_COMPn (address), DWT_MASKn (log2 of the power-of-two length) and DWT_FUNCTIONn
//!   (0b0101 read, 0b0110 write, 0b0111 read or write).
//!
//! The set is kept per target, re-applied after a reset (a system reset may clear FP_CTRL and
//! the DWT, and startup code may overwrite RAM), stepped over on resume/step, and removed from
//! the target on disconnect.
//!
//! Locking: the connection lock is always taken before the breakpoint table's lock, never the
//! other way round.

use std::collections::HashMap;
use std::sync::MutexGuard;

use probe_rs::config::MemoryRegion;
use probe_rs::{Core, CoreStatus, HaltReason, MemoryInterface, RegisterId};
use thiserror::Error;

use super::Host;
use crate::command::CommandError;
use crate::diagnose;

/// The Thumb `BKPT #0` instruction written by software breakpoints (ARMv7-M ARM §A7.7.17).
pub const BKPT_INSTRUCTION: u16 = 0xBE00;

/// FPBv1 comparators only match addresses below this (the code region, ARMv7-M ARM §C1.11.5).
pub const FPB_V1_LIMIT: u32 = 0x2000_0000;

/// FP_CTRL (ARMv7-M ARM §C1.11.3): REV in bits 31:28 (0 = FPBv1, 1 = FPBv2).
const FP_CTRL: u64 = 0xE000_2000;

/// Debug and DWT register addresses (ARMv7-M ARM §C1.6.5, §C1.8.7).
pub mod dwt {
    /// Debug Exception and Monitor Control Register.
    pub const DEMCR: u64 = 0xE000_EDFC;
    /// DEMCR.TRCENA: enables the DWT (and ITM); the comparators do nothing while it is clear.
    pub const DEMCR_TRCENA: u32 = 1 << 24;
    /// DWT_CTRL; NUMCOMP is bits 31:28.
    pub const CTRL: u64 = 0xE000_1000;
    /// DWT_FUNCTIONn.MATCHED: set when comparator n matched; cleared by reading FUNCTIONn.
    pub const FUNCTION_MATCHED: u32 = 1 << 24;
    /// Largest MASK field value the architecture allows (a 2 GiB range; cores implement less).
    pub const MASK_FIELD_MAX: u32 = 0x1F;

    /// DWT_COMPn: the address to compare.
    pub const fn comp(n: usize) -> u64 {
        0xE000_1020 + 16 * n as u64
    }
    /// DWT_MASKn: number of low address bits ignored by the comparison.
    pub const fn mask(n: usize) -> u64 {
        0xE000_1024 + 16 * n as u64
    }
    /// DWT_FUNCTIONn: what a match does (0 = disabled).
    pub const fn function(n: usize) -> u64 {
        0xE000_1028 + 16 * n as u64
    }
}

/// Which kind of breakpoint was asked for, or is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakpointKind {
    /// An FPB code comparator (`bp <addr> 2 hw`).
    Hardware,
    /// A `BKPT` instruction patched into RAM (`bp <addr> 2`); in flash it falls back to hardware.
    Software,
}

/// Identifies a breakpoint for as long as it exists (numbers are not reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BreakpointId(pub u32);

/// One breakpoint as set on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakpoint {
    /// Its identifier.
    pub id: BreakpointId,
    /// Instruction address (half-word aligned).
    pub address: u32,
    /// Length in bytes: always 2 on a Cortex-M (one Thumb half-word; GDB's kind 3 is stored as 2,
    /// as OpenOCD does).
    pub length: u32,
    /// What is in use (a software request in flash becomes [`BreakpointKind::Hardware`]).
    pub kind: BreakpointKind,
    /// FPB comparator number, for hardware breakpoints.
    pub comparator: Option<usize>,
    /// The half-word the `BKPT` replaced, for software breakpoints.
    pub original: Option<u16>,
}

/// What a watchpoint reacts to. The numbers are OpenOCD's `enum watchpoint_rw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// Data reads (`r`, DWT FUNCTION 0b0101).
    Read = 0,
    /// Data writes (`w`, FUNCTION 0b0110).
    Write = 1,
    /// Reads and writes (`a`, FUNCTION 0b0111).
    Access = 2,
}

impl WatchKind {
    /// Parses OpenOCD's `r`/`w`/`a` (only the first letter counts, as in OpenOCD).
    pub fn from_word(w: &str) -> Option<WatchKind> {
        match w.chars().next()? {
            'r' => Some(WatchKind::Read),
            'w' => Some(WatchKind::Write),
            'a' => Some(WatchKind::Access),
            _ => None,
        }
    }

    /// The DWT_FUNCTIONn.FUNCTION code (ARMv7-M ARM Table C1-14).
    pub fn dwt_function(self) -> u32 {
        match self {
            WatchKind::Read => 0b0101,
            WatchKind::Write => 0b0110,
            WatchKind::Access => 0b0111,
        }
    }
}

/// One watchpoint as set on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchpoint {
    /// First byte watched (aligned to `length`).
    pub address: u32,
    /// Bytes watched: a power of two.
    pub length: u32,
    /// Reads, writes or both.
    pub kind: WatchKind,
    /// Data value (listed only: value matching is not used, see [`BreakpointError::ValueMatch`]).
    pub value: u32,
    /// Value bits ignored; 0xffffffff (the default) means the value is not compared.
    pub mask: u32,
    /// DWT comparator number.
    pub comparator: usize,
}

/// Why a breakpoint or watchpoint operation failed. Every message says what to do.
#[derive(Debug, Error)]
pub enum BreakpointError {
    /// No session.
    #[error("the target is not connected: run 'init' first")]
    NotConnected,
    /// No current target.
    #[error("no current target: source a target script (e.g. -f targets/stm32f1x.rhai)")]
    NoTarget,
    /// Odd address.
    #[error(
        "breakpoint address 0x{0:08x} is odd: Thumb instructions start on half-word (2-byte) boundaries; drop the Thumb bit (use 0x{1:08x})"
    )]
    Unaligned(u32, u32),
    /// Unsupported length.
    #[error(
        "breakpoint length {0} is not supported: a Cortex-M breakpoint covers one Thumb half-word; use length 2 (3, GDB's 32-bit Thumb-2 kind, is accepted and stored as 2)"
    )]
    BadLength(u32),
    /// FPBv1 cannot reach the address.
    #[error(
        "a hardware breakpoint cannot be set at 0x{0:08x}: this core's FPB (version 1, as on the Cortex-M3 and M4) only matches code-region addresses below 0x20000000; for code in RAM omit 'hw' to get a software (BKPT) breakpoint"
    )]
    HwOutOfRange(u32),
    /// Neither RAM (software) nor code region (hardware).
    #[error(
        "cannot set a breakpoint at 0x{0:08x}: it is not RAM, so no BKPT instruction can be written there, and it is outside the code region (below 0x20000000) that this core's FPB (version 1) covers"
    )]
    Unpatchable(u32),
    /// A software breakpoint's BKPT did not stick.
    #[error(
        "the BKPT instruction written at 0x{addr:08x} reads back as 0x{read:04x}: this memory is not writable by the debugger; use a hardware breakpoint ('bp 0x{addr:08x} 2 hw')"
    )]
    PatchFailed {
        /// Address.
        addr: u32,
        /// Half-word read back.
        read: u16,
    },
    /// Same address twice.
    #[error("a breakpoint already exists at 0x{0:08x}; remove it first with 'rbp 0x{0:08x}'")]
    Duplicate(u32),
    /// All FPB comparators taken.
    #[error("no free hardware breakpoint: all {0} FPB comparators are in use; remove one with rbp")]
    NoFreeComparator(usize),
    /// No FPB at all.
    #[error(
        "this core has no usable FPB comparators, so hardware breakpoints are unavailable; use software breakpoints in RAM"
    )]
    NoFpb,
    /// `rbp` of an unknown address.
    #[error("no breakpoint at address 0x{0:08x} found; 'bp' lists the breakpoints")]
    NotFound(u32),
    /// Bad watchpoint length.
    #[error(
        "watchpoint length {0} is not supported: the DWT watches an aligned power-of-two range of 1 to {1} bytes"
    )]
    WatchLength(u32, u64),
    /// Watchpoint address not aligned to its length.
    #[error(
        "watchpoint address 0x{addr:08x} is not aligned to its length {len}: the DWT ignores the low address bits, so the range must start at a multiple of {len} (e.g. 0x{aligned:08x})"
    )]
    WatchUnaligned {
        /// Address.
        addr: u32,
        /// Length.
        len: u32,
        /// The address rounded down.
        aligned: u32,
    },
    /// Data-value matching requested.
    #[error(
        "data-value matching is not supported by stdbg on this core (Cortex-M3 DWT DATAVMATCH is not used): omit the value ('wp 0x{0:08x} <len> <r|w|a>') and check the value when the target halts; a mask of 0xffffffff (value ignored, as OpenOCD 0.12 does) is accepted"
    )]
    ValueMatch(u32),
    /// Another watchpoint at this address with other parameters.
    #[error(
        "a different watchpoint already exists at 0x{0:08x}; remove it first with 'rwp 0x{0:08x}'"
    )]
    WatchDuplicate(u32),
    /// All DWT comparators taken.
    #[error("no free watchpoint: all {0} DWT comparators are in use; remove one with rwp")]
    NoFreeWatchpoint(usize),
    /// No DWT comparators.
    #[error(
        "this core's DWT has no comparators (DWT_CTRL.NUMCOMP = 0), so watchpoints are unavailable"
    )]
    NoDwt,
    /// `rwp` of an unknown address.
    #[error("no watchpoint at address 0x{0:08x} found")]
    WatchNotFound(u32),
    /// The probe or target failed.
    #[error("{what} failed: {source}")]
    Probe {
        /// What was being done.
        what: String,
        /// The probe-rs error.
        #[source]
        source: probe_rs::Error,
    },
}

impl From<BreakpointError> for CommandError {
    fn from(e: BreakpointError) -> Self {
        match e {
            BreakpointError::Probe { what, source } => diagnose::command_error(&what, &source),
            other => CommandError::failed(other.to_string()),
        }
    }
}

fn probe_err(what: &str) -> impl FnOnce(probe_rs::Error) -> BreakpointError + '_ {
    move |source| BreakpointError::Probe {
        what: what.to_string(),
        source,
    }
}

/// The breakpoints and watchpoints of one target, and what was learnt about its debug units.
#[derive(Debug, Default, Clone)]
pub struct DebugUnits {
    breakpoints: Vec<Breakpoint>,
    watchpoints: Vec<Watchpoint>,
    next_id: u32,
    /// FPB code comparators (FP_CTRL.NUM_CODE) and whether the FPB is version 2
    /// (FP_CTRL.REV = 1, Cortex-M7: comparators match any address), once read.
    fpb: Option<(usize, bool)>,
    /// DWT comparators (DWT_CTRL.NUMCOMP) and the largest MASK value, once read.
    dwt: Option<(usize, u32)>,
    /// The watchpoint address found by [`Host::watchpoint_hit`] since the last resume.
    last_watch_hit: Option<u32>,
}

impl DebugUnits {
    /// Breakpoints in the order they were set.
    pub fn breakpoints(&self) -> &[Breakpoint] {
        &self.breakpoints
    }

    /// Watchpoints in the order they were set.
    pub fn watchpoints(&self) -> &[Watchpoint] {
        &self.watchpoints
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.breakpoints.is_empty() && self.watchpoints.is_empty()
    }

    fn free_fpb(&self, total: usize) -> Option<usize> {
        (0..total).find(|n| !self.breakpoints.iter().any(|b| b.comparator == Some(*n)))
    }

    fn free_dwt(&self, total: usize) -> Option<usize> {
        (0..total).find(|n| !self.watchpoints.iter().any(|w| w.comparator == *n))
    }
}

/// The `bp` list line (OpenOCD `handle_bp_command_list`): `Breakpoint(IVA): 0x08000100, 0x2, 0`
/// for hardware (address, length, comparator), `IVA breakpoint: 0x20000100, 0x2, 0x4770` for
/// software (address, length, the replaced instruction).
pub fn breakpoint_line(b: &Breakpoint) -> String {
    match (b.kind, b.original) {
        (BreakpointKind::Software, Some(orig)) => {
            format!(
                "IVA breakpoint: 0x{:08x}, 0x{:x}, 0x{orig:04x}",
                b.address, b.length
            )
        }
        _ => format!(
            "Breakpoint(IVA): 0x{:08x}, 0x{:x}, {}",
            b.address,
            b.length,
            b.comparator.unwrap_or(0)
        ),
    }
}

/// The `wp` list line (OpenOCD `handle_wp_command`):
/// `address: 0x20000000, len: 0x00000004, r/w/a: 1, value: 0x00000000, mask: 0xffffffff`.
pub fn watchpoint_line(w: &Watchpoint) -> String {
    format!(
        "address: 0x{:08x}, len: 0x{:08x}, r/w/a: {}, value: 0x{:08x}, mask: 0x{:08x}",
        w.address, w.length, w.kind as u32, w.value, w.mask
    )
}

/// Checks a watchpoint request: length a power of two no larger than `1 << max_mask`, address
/// aligned to it, no value matching. Returns the DWT MASK value (log2 of the length).
pub fn check_watchpoint(
    addr: u32,
    len: u32,
    value: Option<u32>,
    mask: Option<u32>,
    max_mask: u32,
) -> Result<u32, BreakpointError> {
    match (value, mask) {
        (None, _) | (Some(_), Some(0xffff_ffff)) => {}
        (Some(_), _) => return Err(BreakpointError::ValueMatch(addr)),
    }
    if len == 0 || !len.is_power_of_two() || len.trailing_zeros() > max_mask {
        return Err(BreakpointError::WatchLength(len, 1u64 << max_mask));
    }
    if !addr.is_multiple_of(len) {
        return Err(BreakpointError::WatchUnaligned {
            addr,
            len,
            aligned: addr & !(len - 1),
        });
    }
    Ok(len.trailing_zeros())
}

/// Programs DWT comparator `w.comparator` for `w` (TRCENA first, FUNCTION last).
fn program_watchpoint(core: &mut Core<'_>, w: &Watchpoint) -> Result<(), probe_rs::Error> {
    let demcr = core.read_word_32(dwt::DEMCR)?;
    if demcr & dwt::DEMCR_TRCENA == 0 {
        core.write_word_32(dwt::DEMCR, demcr | dwt::DEMCR_TRCENA)?;
    }
    let n = w.comparator;
    core.write_word_32(dwt::function(n), 0)?;
    core.read_word_32(dwt::function(n))?; // clears a stale MATCHED
    core.write_word_32(dwt::comp(n), w.address)?;
    core.write_word_32(dwt::mask(n), w.length.trailing_zeros())?;
    core.write_word_32(dwt::function(n), w.kind.dwt_function())?;
    Ok(())
}

/// Writes the `BKPT` at `addr` and returns the half-word it replaced.
fn patch_bkpt(
    core: &mut Core<'_>,
    addr: u32,
) -> Result<Result<u16, BreakpointError>, probe_rs::Error> {
    let orig = core.read_word_16(addr as u64)?;
    core.write_word_16(addr as u64, BKPT_INSTRUCTION)?;
    let back = core.read_word_16(addr as u64)?;
    if back != BKPT_INSTRUCTION {
        // Leave memory as it was, in case the write half-worked.
        let _ = core.write_word_16(addr as u64, orig);
        return Ok(Err(BreakpointError::PatchFailed { addr, read: back }));
    }
    Ok(Ok(orig))
}

impl Host {
    fn units_table(&self) -> MutexGuard<'_, HashMap<String, DebugUnits>> {
        self.inner
            .debug_units
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn bp_target(&self) -> Result<(String, usize), BreakpointError> {
        let t = self.targets();
        let cur = t.current().ok_or(BreakpointError::NoTarget)?;
        Ok((cur.name.clone(), cur.core_index))
    }

    /// Runs `f` with the current target's core, the session's RAM ranges and the target's
    /// table (connection lock first, then the table lock).
    fn with_units<R>(
        &self,
        f: impl FnOnce(
            &mut Core<'_>,
            &[std::ops::Range<u64>],
            &mut DebugUnits,
        ) -> Result<R, BreakpointError>,
    ) -> Result<R, BreakpointError> {
        let (name, idx) = self.bp_target()?;
        let mut guard = self.conn();
        let conn = guard.as_mut().ok_or(BreakpointError::NotConnected)?;
        let ram: Vec<std::ops::Range<u64>> = conn
            .session
            .target()
            .memory_map
            .iter()
            .filter_map(|r| match r {
                MemoryRegion::Ram(r) => Some(r.range.clone()),
                _ => None,
            })
            .collect();
        let mut core = conn.open_core(idx).map_err(probe_err("open the core"))?;
        let mut table = self.units_table();
        let units = table.entry(name).or_default();
        f(&mut core, &ram, units)
    }

    /// A copy of the current target's breakpoints and watchpoints.
    pub fn debug_units(&self) -> DebugUnits {
        let Ok((name, _)) = self.bp_target() else {
            return DebugUnits::default();
        };
        self.units_table().get(&name).cloned().unwrap_or_default()
    }

    /// The current target's breakpoints, in the order they were set.
    pub fn breakpoints(&self) -> Vec<Breakpoint> {
        self.debug_units().breakpoints
    }

    /// The current target's watchpoints, in the order they were set.
    pub fn watchpoints(&self) -> Vec<Watchpoint> {
        self.debug_units().watchpoints
    }

    /// Sets a breakpoint at `addr` (half-word aligned) of `len` bytes (2; 3 is stored as 2).
    ///
    /// [`BreakpointKind::Hardware`] takes a free FPB comparator (addresses below 0x20000000 on
    /// FPBv1; any address on the Cortex-M7's FPBv2).
    /// [`BreakpointKind::Software`] writes `BKPT` into RAM; outside RAM it falls back to a
    /// comparator (logged). Works whether the core runs or is halted.
    ///
    /// Errors: [`BreakpointError::Duplicate`], [`BreakpointError::NoFreeComparator`],
    /// [`BreakpointError::HwOutOfRange`], [`BreakpointError::Unaligned`], probe failures.
    pub fn add_breakpoint(
        &self,
        addr: u32,
        len: u32,
        kind: BreakpointKind,
    ) -> Result<BreakpointId, BreakpointError> {
        let length = match len {
            2 | 3 => 2,
            other => return Err(BreakpointError::BadLength(other)),
        };
        if addr & 1 != 0 {
            return Err(BreakpointError::Unaligned(addr, addr & !1));
        }
        self.with_units(|core, ram, units| {
            if units.breakpoints.iter().any(|b| b.address == addr) {
                return Err(BreakpointError::Duplicate(addr));
            }
            let in_ram = ram.iter().any(|r| r.contains(&(addr as u64)) && r.contains(&(addr as u64 + 1)));
            let (total, fpb_v2) = match units.fpb {
                Some(f) => f,
                None => {
                    let n = core.available_breakpoint_units().map_err(probe_err("read FP_CTRL"))? as usize;
                    let ctrl = core.read_word_32(FP_CTRL).map_err(probe_err("read FP_CTRL"))?;
                    let f = (n, ctrl >> 28 == 1);
                    units.fpb = Some(f);
                    f
                }
            };
            let hw_reaches = fpb_v2 || addr < FPB_V1_LIMIT;
            let use_hw = match kind {
                BreakpointKind::Hardware => {
                    if !hw_reaches {
                        return Err(BreakpointError::HwOutOfRange(addr));
                    }
                    true
                }
                BreakpointKind::Software if in_ram => false,
                BreakpointKind::Software => {
                    if !hw_reaches {
                        return Err(BreakpointError::Unpatchable(addr));
                    }
                    true
                }
            };
            let id = BreakpointId(units.next_id);
            let bp = if use_hw {
                if total == 0 {
                    return Err(BreakpointError::NoFpb);
                }
                let n = units.free_fpb(total).ok_or(BreakpointError::NoFreeComparator(total))?;
                core.set_hw_breakpoint_unit(n, addr as u64).map_err(probe_err("set FPB comparator"))?;
                if kind == BreakpointKind::Software {
                    tracing::info!(
                        "0x{addr:08x} is not in RAM, so no BKPT instruction can be written there: using hardware comparator {n} instead"
                    );
                }
                Breakpoint { id, address: addr, length, kind: BreakpointKind::Hardware, comparator: Some(n), original: None }
            } else {
                let orig = patch_bkpt(core, addr).map_err(probe_err("write the BKPT instruction"))??;
                Breakpoint { id, address: addr, length, kind: BreakpointKind::Software, comparator: None, original: Some(orig) }
            };
            units.next_id += 1;
            units.breakpoints.push(bp);
            Ok(id)
        })
    }

    /// Removes the breakpoint at `addr` (restoring the instruction, or freeing the comparator).
    /// Errors: [`BreakpointError::NotFound`], probe failures (the entry is kept then).
    pub fn remove_breakpoint(&self, addr: u32) -> Result<(), BreakpointError> {
        self.with_units(|core, _, units| {
            let i = units
                .breakpoints
                .iter()
                .position(|b| b.address == addr)
                .ok_or(BreakpointError::NotFound(addr))?;
            unset_breakpoint(core, &units.breakpoints[i])?;
            units.breakpoints.remove(i);
            Ok(())
        })
    }

    /// Removes every breakpoint of the current target (`rbp all`).
    pub fn remove_all_breakpoints(&self) -> Result<(), BreakpointError> {
        self.with_units(|core, _, units| {
            while let Some(b) = units.breakpoints.first() {
                unset_breakpoint(core, b)?;
                units.breakpoints.remove(0);
            }
            Ok(())
        })
    }

    /// Sets a watchpoint on `len` bytes at `addr` (`len` a power of two, `addr` aligned to it).
    ///
    /// `value`/`mask` follow OpenOCD (mask bits set = value bits ignored); only "ignore the value"
    /// (no value, or mask 0xffffffff) is supported, anything else gives
    /// [`BreakpointError::ValueMatch`]. Setting an identical watchpoint again does nothing.
    pub fn add_watchpoint(
        &self,
        addr: u32,
        len: u32,
        kind: WatchKind,
        value: Option<u32>,
        mask: Option<u32>,
    ) -> Result<(), BreakpointError> {
        self.with_units(|core, _, units| {
            let (total, max_mask) = match units.dwt {
                Some(d) => d,
                None => {
                    let d =
                        probe_dwt(core, &units.watchpoints).map_err(probe_err("read DWT_CTRL"))?;
                    units.dwt = Some(d);
                    d
                }
            };
            if total == 0 {
                return Err(BreakpointError::NoDwt);
            }
            check_watchpoint(addr, len, value, mask, max_mask)?;
            let w = Watchpoint {
                address: addr,
                length: len,
                kind,
                value: value.unwrap_or(0),
                mask: mask.unwrap_or(0xffff_ffff),
                comparator: 0,
            };
            if let Some(old) = units.watchpoints.iter().find(|o| o.address == addr) {
                if (Watchpoint {
                    comparator: old.comparator,
                    ..w.clone()
                }) == *old
                {
                    return Ok(());
                }
                return Err(BreakpointError::WatchDuplicate(addr));
            }
            let n = units
                .free_dwt(total)
                .ok_or(BreakpointError::NoFreeWatchpoint(total))?;
            let w = Watchpoint { comparator: n, ..w };
            program_watchpoint(core, &w).map_err(probe_err("program the DWT comparator"))?;
            units.watchpoints.push(w);
            Ok(())
        })
    }

    /// Removes the watchpoint at `addr` (DWT_FUNCTIONn = 0).
    /// Errors: [`BreakpointError::WatchNotFound`], probe failures.
    pub fn remove_watchpoint(&self, addr: u32) -> Result<(), BreakpointError> {
        self.with_units(|core, _, units| {
            let i = units
                .watchpoints
                .iter()
                .position(|w| w.address == addr)
                .ok_or(BreakpointError::WatchNotFound(addr))?;
            core.write_word_32(dwt::function(units.watchpoints[i].comparator), 0)
                .map_err(probe_err("disable the DWT comparator"))?;
            units.watchpoints.remove(i);
            Ok(())
        })
    }

    /// After a halt with DFSR.DWTTRAP (`HaltReason::Watchpoint`): the address of the watchpoint
    /// whose DWT_FUNCTIONn.MATCHED is set. MATCHED clears when read, so the answer is remembered
    /// until the next resume or step.
    pub fn watchpoint_hit(&self) -> Result<Option<u32>, BreakpointError> {
        self.with_units(|core, _, units| {
            if units.last_watch_hit.is_some() {
                return Ok(units.last_watch_hit);
            }
            for w in &units.watchpoints {
                let f = core
                    .read_word_32(dwt::function(w.comparator))
                    .map_err(probe_err("read DWT_FUNCTION"))?;
                if f & dwt::FUNCTION_MATCHED != 0 && units.last_watch_hit.is_none() {
                    units.last_watch_hit = Some(w.address);
                }
            }
            Ok(units.last_watch_hit)
        })
    }

    /// Whether the target `target` has breakpoints or watchpoints set.
    pub fn has_debug_units(&self, target: &str) -> bool {
        self.units_table()
            .get(target)
            .is_some_and(|u| !u.is_empty())
    }

    /// For a step that bypasses [`Host::before_resume`] (host/faststep.rs): the addresses of
    /// `target`'s breakpoints, or `None` when a watchpoint is set (its DWT_FUNCTION must be read
    /// before a resume). Forgets the last watchpoint hit, as a resume does.
    pub(crate) fn fast_step_breakpoints(&self, target: &str) -> Option<Vec<u32>> {
        let mut table = self.units_table();
        let Some(units) = table.get_mut(target) else {
            return Some(Vec::new());
        };
        if !units.watchpoints.is_empty() {
            return None;
        }
        units.last_watch_hit = None;
        Some(units.breakpoints.iter().map(|b| b.address).collect())
    }

    /// Called on a halted core just before it resumes or steps: forgets the last watchpoint hit
    /// (clearing stale MATCHED bits) and, when a breakpoint sits at the PC, executes that one
    /// instruction with the breakpoint lifted (restoring the original instruction of a software
    /// breakpoint) and puts it back. Returns true when it stepped.
    ///
    /// Without this, probe-rs's own step-over would skip the instruction under a `BKPT`.
    pub fn before_resume(
        &self,
        core: &mut Core<'_>,
        target: &str,
    ) -> Result<bool, probe_rs::Error> {
        let (bp, watch) = {
            let mut table = self.units_table();
            let Some(units) = table.get_mut(target) else {
                return Ok(false);
            };
            units.last_watch_hit = None;
            (units.breakpoints.clone(), units.watchpoints.clone())
        };
        for w in &watch {
            core.read_word_32(dwt::function(w.comparator))?;
        }
        if bp.is_empty() {
            return Ok(false);
        }
        let pc: u32 = core.read_core_reg(RegisterId(15))?;
        let Some(b) = bp.iter().find(|b| b.address == pc) else {
            return Ok(false);
        };
        match (b.kind, b.original, b.comparator) {
            (BreakpointKind::Software, Some(orig), _) => {
                core.write_word_16(pc as u64, orig)?;
                let r = super::maskisr::step_masked(core);
                core.write_word_16(pc as u64, BKPT_INSTRUCTION)?;
                r?;
            }
            (_, _, Some(n)) => {
                core.clear_hw_breakpoint(pc as u64)?;
                let r = super::maskisr::step_masked(core);
                core.set_hw_breakpoint_unit(n, pc as u64)?;
                r?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Puts every breakpoint and watchpoint of `target` back on a halted core after a reset:
    /// FPB comparators (probe-rs re-enables FP_CTRL), `BKPT`s whose RAM was overwritten, and the
    /// DWT (TRCENA, COMP, MASK, FUNCTION).
    pub fn reapply_debug_units(
        &self,
        core: &mut Core<'_>,
        target: &str,
    ) -> Result<(), probe_rs::Error> {
        let mut table = self.units_table();
        let Some(units) = table.get_mut(target) else {
            return Ok(());
        };
        units.last_watch_hit = None;
        for b in units.breakpoints.iter_mut() {
            match b.comparator {
                Some(n) => core.set_hw_breakpoint_unit(n, b.address as u64)?,
                None => {
                    let now = core.read_word_16(b.address as u64)?;
                    if now != BKPT_INSTRUCTION {
                        b.original = Some(now);
                        core.write_word_16(b.address as u64, BKPT_INSTRUCTION)?;
                    }
                }
            }
        }
        for w in &units.watchpoints {
            program_watchpoint(core, w)?;
        }
        Ok(())
    }

    /// Disables the current target's DWT comparators (FUNCTION = 0) before the host runs code on
    /// the target itself, i.e. a flash algorithm in the work area: a watchpoint on the work area
    /// would halt the algorithm half-way and the flash operation would fail with a misleading
    /// error. The watchpoints stay in the list; [`Host::restore_debug_units`] programs them again.
    pub fn suspend_watchpoints(&self) -> Result<(), BreakpointError> {
        if self.watchpoints().is_empty() {
            return Ok(());
        }
        self.with_units(|core, _, units| {
            for w in &units.watchpoints {
                core.write_word_32(dwt::function(w.comparator), 0)
                    .map_err(probe_err("disable the DWT comparator"))?;
            }
            Ok(())
        })
    }

    /// Programs the current target's breakpoints and watchpoints again (after
    /// [`Host::suspend_watchpoints`] and a flash algorithm run, which also overwrote the work
    /// area and any `BKPT` in it). The core must be halted.
    pub fn restore_debug_units(&self) -> Result<(), BreakpointError> {
        let (name, _) = self.bp_target()?;
        if !self.has_debug_units(&name) {
            return Ok(());
        }
        let (_, idx) = self.bp_target()?;
        let mut guard = self.conn();
        let conn = guard.as_mut().ok_or(BreakpointError::NotConnected)?;
        let mut core = conn.open_core(idx).map_err(probe_err("open the core"))?;
        self.reapply_debug_units(&mut core, &name)
            .map_err(probe_err("restore breakpoints and watchpoints"))
    }

    /// Removes every breakpoint and watchpoint of every target from the hardware and forgets
    /// them; called before the session closes. Failures are logged, not returned (the link may
    /// be gone already).
    pub fn release_debug_units(&self) {
        let targets: Vec<(String, usize)> = self
            .targets()
            .list
            .iter()
            .map(|t| (t.name.clone(), t.core_index))
            .collect();
        let mut guard = self.conn();
        let mut table = self.units_table();
        for (name, idx) in targets {
            let Some(units) = table.remove(&name) else {
                continue;
            };
            if units.is_empty() {
                continue;
            }
            let Some(conn) = guard.as_mut() else { continue };
            let r = conn.open_core(idx).and_then(|mut core| {
                for b in &units.breakpoints {
                    if let Err(BreakpointError::Probe { source, .. }) =
                        unset_breakpoint(&mut core, b)
                    {
                        return Err(source);
                    }
                }
                for w in &units.watchpoints {
                    core.write_word_32(dwt::function(w.comparator), 0)?;
                }
                Ok(())
            });
            if let Err(e) = r {
                tracing::warn!(
                    "[{name}] could not remove the breakpoints and watchpoints before disconnecting: {e}"
                );
            }
        }
    }
}

/// Learns NUMCOMP and the largest MASK value (write 0x1F to a free comparator's MASK and read it
/// back, ARMv7-M ARM §C1.8.7).
fn probe_dwt(core: &mut Core<'_>, used: &[Watchpoint]) -> Result<(usize, u32), probe_rs::Error> {
    let ctrl = core.read_word_32(dwt::CTRL)?;
    let total = (ctrl >> 28) as usize;
    let Some(n) = (0..total).find(|n| !used.iter().any(|w| w.comparator == *n)) else {
        return Ok((total, 0));
    };
    let demcr = core.read_word_32(dwt::DEMCR)?;
    if demcr & dwt::DEMCR_TRCENA == 0 {
        core.write_word_32(dwt::DEMCR, demcr | dwt::DEMCR_TRCENA)?;
    }
    let old = core.read_word_32(dwt::mask(n))?;
    core.write_word_32(dwt::mask(n), dwt::MASK_FIELD_MAX)?;
    let max = core.read_word_32(dwt::mask(n))? & dwt::MASK_FIELD_MAX;
    core.write_word_32(dwt::mask(n), old)?;
    // A core that does not implement MASK writes still watches single words.
    Ok((total, max.max(2)))
}

fn unset_breakpoint(core: &mut Core<'_>, b: &Breakpoint) -> Result<(), BreakpointError> {
    match (b.comparator, b.original) {
        (Some(_), _) => match core.clear_hw_breakpoint(b.address as u64) {
            // Already gone (e.g. cleared by a reset): nothing to undo.
            Err(probe_rs::Error::BreakpointOperation(_)) => Ok(()),
            r => r.map_err(probe_err("clear FPB comparator")),
        },
        (None, Some(orig)) => {
            let now = core
                .read_word_16(b.address as u64)
                .map_err(probe_err("read the breakpoint address"))?;
            // Only restore what we patched: the program may have reloaded that RAM.
            if now == BKPT_INSTRUCTION {
                core.write_word_16(b.address as u64, orig)
                    .map_err(probe_err("restore the original instruction"))?;
            }
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

/// Whether `status` is a halt caused by the DWT (for callers deciding to ask
/// [`Host::watchpoint_hit`]).
pub fn is_watchpoint_halt(status: CoreStatus) -> bool {
    matches!(
        status,
        CoreStatus::Halted(HaltReason::Watchpoint | HaltReason::Multiple)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hw(addr: u32, n: usize) -> Breakpoint {
        Breakpoint {
            id: BreakpointId(0),
            address: addr,
            length: 2,
            kind: BreakpointKind::Hardware,
            comparator: Some(n),
            original: None,
        }
    }

    #[test]
    fn list_lines_match_openocd() {
        assert_eq!(
            breakpoint_line(&hw(0x0800_0164, 0)),
            "Breakpoint(IVA): 0x08000164, 0x2, 0"
        );
        let sw = Breakpoint {
            kind: BreakpointKind::Software,
            comparator: None,
            original: Some(0x4770),
            ..hw(0x2000_0100, 0)
        };
        assert_eq!(
            breakpoint_line(&sw),
            "IVA breakpoint: 0x20000100, 0x2, 0x4770"
        );
        let w = Watchpoint {
            address: 0x2000_0004,
            length: 4,
            kind: WatchKind::Write,
            value: 0,
            mask: 0xffff_ffff,
            comparator: 0,
        };
        assert_eq!(
            watchpoint_line(&w),
            "address: 0x20000004, len: 0x00000004, r/w/a: 1, value: 0x00000000, mask: 0xffffffff"
        );
    }

    #[test]
    fn watch_kinds() {
        assert_eq!(WatchKind::from_word("r"), Some(WatchKind::Read));
        assert_eq!(WatchKind::from_word("w"), Some(WatchKind::Write));
        assert_eq!(WatchKind::from_word("a"), Some(WatchKind::Access));
        assert_eq!(WatchKind::from_word("x"), None);
        assert_eq!(WatchKind::Read.dwt_function(), 0b0101);
        assert_eq!(WatchKind::Write.dwt_function(), 0b0110);
        assert_eq!(WatchKind::Access.dwt_function(), 0b0111);
        assert_eq!(dwt::comp(1), 0xE000_1030);
        assert_eq!(dwt::mask(3), 0xE000_1054);
        assert_eq!(dwt::function(2), 0xE000_1048);
    }

    #[test]
    fn watchpoint_checks() {
        assert_eq!(check_watchpoint(0x2000_0004, 4, None, None, 31).unwrap(), 2);
        assert_eq!(check_watchpoint(0x2000_0000, 1, None, None, 31).unwrap(), 0);
        assert_eq!(
            check_watchpoint(0x2000_0000, 0x8000, None, None, 15).unwrap(),
            15
        );
        assert!(matches!(
            check_watchpoint(0x2000_0000, 0x10000, None, None, 15),
            Err(BreakpointError::WatchLength(..))
        ));
        assert!(matches!(
            check_watchpoint(0x2000_0004, 3, None, None, 31),
            Err(BreakpointError::WatchLength(..))
        ));
        assert!(matches!(
            check_watchpoint(0x2000_0004, 0, None, None, 31),
            Err(BreakpointError::WatchLength(..))
        ));
        let e = check_watchpoint(0x2000_0002, 4, None, None, 31).unwrap_err();
        assert!(e.to_string().contains("e.g. 0x20000000"), "{e}");
        assert!(matches!(
            check_watchpoint(0x2000_0004, 4, Some(5), None, 31),
            Err(BreakpointError::ValueMatch(_))
        ));
        assert!(matches!(
            check_watchpoint(0x2000_0004, 4, Some(5), Some(0), 31),
            Err(BreakpointError::ValueMatch(_))
        ));
        assert!(check_watchpoint(0x2000_0004, 4, Some(5), Some(0xffff_ffff), 31).is_ok());
    }

    #[test]
    fn comparator_allocation_fills_gaps() {
        let mut u = DebugUnits::default();
        u.breakpoints.push(hw(0x0800_0000, 0));
        u.breakpoints.push(hw(0x0800_0010, 2));
        assert_eq!(u.free_fpb(6), Some(1));
        for n in [1, 3, 4, 5] {
            u.breakpoints.push(hw(0x0800_0100 + 4 * n as u32, n));
        }
        assert_eq!(u.free_fpb(6), None);
    }
}
