//! Verifying flash by a CRC computed on the target, as OpenOCD's `verify_image` does
//! (`target_checksum_memory`, `armv7m_checksum_memory`): a small CRC-32 routine runs in the
//! target's work area over the flash of a segment, and only its result crosses the wire, not
//! every word of the flash. A segment whose CRC differs is then read back byte for byte, so
//! the differences are listed as before (`checksum mismatch - attempting binary compare`).
//!
//! The CRC is OpenOCD's image checksum: CRC-32/MPEG-2 (polynomial 0x04C11DB7, most significant
//! bit first, initial value 0xFFFFFFFF, no reflection, no final XOR). The routine
//! ([`ROUTINE`], source in `src/flashing/crc32.S`) uses a 16-word table and runs with interrupts
//! masked (DHCSR.C_MASKINTS, ARMv7-M ARM §C1.6.2) and the fault vector catches set (DEMCR), so a
//! fault halts it at once; it ends at a `BKPT`. The registers it changes (r0–r5, PC, xPSR),
//! DEMCR, DFSR's new bits and the work-area bytes it used are put back afterwards. Any reason it
//! cannot run (core running or in a handler, no work area, a fault, a timeout) falls back to
//! reading back.
//!
//! All of it goes through the MEM-AP's banked registers with TAR at DHCSR's block
//! (`probe/memap.rs`), in six batches of DAP transactions plus the DHCSR polls with a probe
//! that batches reads (`probe/batch.rs`; one TCP round trip each over remote_bitbang): a DHCSR
//! read; the saved registers, DEMCR, DFSR and the work area; the routine, its registers and
//! the run; PC and r0; the restore.

use std::time::{Duration, Instant};

use probe_rs::architecture::arm::ArmError;

use crate::command::CommandError;
use crate::diagnose::fault::scb::DFSR;
use crate::diagnose::regs::DHCSR;
use crate::diagnose::regs::dhcsr::{C_DEBUGEN, C_HALT, C_MASKINTS, DBGKEY, S_HALT};
use crate::host::Host;
use crate::probe::batch::{Reads, RegTransfer, core_regs_read, core_regs_written};
use crate::probe::memap::{BD0, BD3, CSW_SIZE_INC, CSW_WORD_INC, DRW, TAR};

use super::algorithm::{DFSR_FLAGS, XPSR};

/// CRC-32/MPEG-2's polynomial.
pub const POLY: u32 = 0x04C1_1DB7;

/// The Thumb-2 routine (ARMv7-M), as `arm-none-eabi-as -mcpu=cortex-m3 src/flashing/crc32.S`
/// assembles it (checked by `tests/firmware_rebuild.rs`): r0 = address, r1 = length in bytes,
/// r2 = the nibble table; returns the CRC in r0 and stops at `BKPT #0` (offset 0x30).
pub const ROUTINE: [u8; 50] = [
    0x03, 0x46, 0x09, 0x18, 0x4f, 0xf0, 0xff, 0x30, 0x8b, 0x42, 0x11, 0xd2, 0x13, 0xf8, 0x01, 0x4b,
    0x25, 0x09, 0x85, 0xea, 0x10, 0x75, 0x52, 0xf8, 0x25, 0x50, 0x85, 0xea, 0x00, 0x10, 0x04, 0xf0,
    0x0f, 0x04, 0x84, 0xea, 0x10, 0x75, 0x52, 0xf8, 0x25, 0x50, 0x85, 0xea, 0x00, 0x10, 0xeb, 0xe7,
    0x00, 0xbe,
];

/// Offset of the routine's `BKPT` in [`ROUTINE`].
const BKPT_AT: u32 = 0x30;
/// Where the table goes in the work area (after the routine, word aligned).
const TABLE_AT: u32 = 0x34;
/// Work-area bytes the routine and its table use.
pub const WORK_BYTES: u32 = TABLE_AT + 64;

/// The first pause between two DHCSR reads while the routine runs, and the longest.
const POLL_FIRST: Duration = Duration::from_millis(1);
const POLL_MAX: Duration = Duration::from_millis(32);

/// Segments shorter than this are read back (a routine run costs about as much).
pub const MIN_BYTES: usize = 1024;

/// DEMCR's vector-catch bits for the faults (ARMv7-M ARM §C1.6.5): HARDERR, INTERR, BUSERR,
/// STATERR, CHKERR, NOCPERR, MMERR.
const VC_FAULTS: u32 = 0x7F0;
/// DCRSR REGSEL of r0, r1, r2, PC, xPSR.
const R0: u16 = 0;
const R1: u16 = 1;
const R2: u16 = 2;
const PC: u16 = 15;

/// The 16-entry table of the nibble-at-a-time CRC: entry i is the CRC register `i << 28`
/// after four shifts.
pub fn nibble_table() -> [u32; 16] {
    let mut t = [0u32; 16];
    for (i, e) in t.iter_mut().enumerate() {
        let mut c = (i as u32) << 28;
        for _ in 0..4 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ POLY
            } else {
                c << 1
            };
        }
        *e = c;
    }
    t
}

/// CRC-32/MPEG-2 of `data` (what the routine computes on the target).
pub fn crc32(data: &[u8]) -> u32 {
    let t = nibble_table();
    let mut c = u32::MAX;
    for &b in data {
        c = t[((c >> 28) ^ u32::from(b >> 4)) as usize] ^ (c << 4);
        c = t[((c >> 28) ^ u32::from(b & 15)) as usize] ^ (c << 4);
    }
    c
}

/// How long the routine may run for `len` bytes before it is given up: 5 s plus 1 s per 4 KiB.
/// It executes about 12 instructions per byte (12 ms for 60 KiB on a 72 MHz F103); the slowest
/// core it meets is the virtual chip in a debug build (about 0.3 MIPS). A fault does not wait
/// for this: the vector catch halts the core at once.
fn timeout(len: u32) -> Duration {
    Duration::from_secs(5) + Duration::from_secs(u64::from(len >> 12))
}

/// The CRC of `len` bytes at `addr` computed by the target, or `None` when it cannot be run
/// (the reason is logged at debug level): the caller reads back instead.
pub fn target_crc32(host: &Host, addr: u32, len: u32) -> Option<u32> {
    let (phys, size) = {
        let t = host.targets();
        let cur = t.current()?;
        (cur.work_area_phys, cur.work_area_size)
    };
    if size < WORK_BYTES {
        tracing::debug!("no CRC on the target: the work area is smaller than {WORK_BYTES} bytes");
        return None;
    }
    if host.suspend_watchpoints().is_err() {
        return None;
    }
    let r = run(host, phys, addr, len);
    let units = host.restore_debug_units();
    match (r, units) {
        (Ok(crc), Ok(())) => Some(crc),
        (Err(why), _) => {
            tracing::debug!("no CRC on the target: {why}");
            None
        }
        (_, Err(e)) => {
            tracing::debug!("no CRC on the target: {e}");
            None
        }
    }
}

/// What the routine changes and is put back: xPSR, r0–r5 (the routine's registers) and PC.
const SAVED: [u16; 8] = [XPSR, 0, 1, 2, 3, 4, 5, PC];

/// The message of a register transfer that did not complete.
fn transfer_error(e: RegTransfer) -> String {
    let (RegTransfer::NotHalted { dhcsr } | RegTransfer::NotDone { dhcsr, .. }) = e;
    format!("a core register transfer did not complete (DHCSR 0x{dhcsr:08x})")
}

/// Runs the routine through the banked registers (`probe/batch.rs`: one batch each with a
/// probe that batches reads): a DHCSR read; the saved registers, DEMCR, DFSR and the work
/// area's bytes; the routine and its registers, then the run; DHCSR polls; PC and r0; and
/// everything put back. The error says why it did not give a CRC.
fn run(host: &Host, work: u32, addr: u32, len: u32) -> Result<u32, String> {
    let e = |e: CommandError| e.to_string();
    let dhcsr = host.read_dhcsr_fast().map_err(e)?;
    if dhcsr & S_HALT == 0 {
        return Err("the core runs".into());
    }
    let words = (WORK_BYTES / 4) as usize;
    let v = host
        .with_reads(CSW_SIZE_INC, CSW_WORD_INC, |r| {
            r.read_core_regs(&SAVED)?;
            r.read(BD3)?;
            r.write(TAR, DFSR as u32)?;
            r.read(DRW)?;
            r.read_words(work, words)
        })
        .map_err(e)?;
    let (regs, rest) = v.split_at(2 * SAVED.len());
    let values = core_regs_read(regs).map_err(transfer_error)?;
    let saved: Vec<(u16, u32)> = SAVED.into_iter().zip(values).collect();
    if saved[0].1 & 0x1ff != 0 {
        return Err("the core is halted in an exception handler".into());
    }
    let (demcr, dfsr, backup) = (rest[0], rest[1], &rest[2..]);
    let result = crc_run(host, work, addr, len, demcr);
    // Put everything back, whatever happened: halted (a routine that did not stop is halted
    // first, and seen halted, before any register is written), C_MASKINTS as it was, DEMCR,
    // the DFSR flags that were clear, the work area, the registers.
    let halt = DBGKEY | C_DEBUGEN | C_HALT | (dhcsr & C_MASKINTS);
    let put_back = |r: &mut Reads<'_>| -> Result<(), ArmError> {
        r.write(TAR, DHCSR as u32)?;
        r.write(BD0, halt)?;
        r.write(BD3, demcr)?;
        r.write(TAR, DFSR as u32)?;
        r.write(DRW, !dfsr & DFSR_FLAGS)?;
        r.write_words(work, backup)?;
        r.write_core_regs(&saved)
    };
    if result.is_err() {
        let d = host
            .with_reads(CSW_SIZE_INC, CSW_WORD_INC, |r| {
                r.write(TAR, DHCSR as u32)?;
                r.write(BD0, halt)?;
                r.read(BD0)
            })
            .map_err(e)?;
        if d[0] & S_HALT == 0 {
            return Err(format!(
                "the core did not halt after the CRC routine (DHCSR 0x{:08x})",
                d[0]
            ));
        }
    }
    let d = host
        .with_reads(CSW_SIZE_INC, CSW_WORD_INC, put_back)
        .map_err(e)?;
    core_regs_written(&d).map_err(transfer_error)?;
    result
}

fn crc_run(host: &Host, work: u32, addr: u32, len: u32, demcr: u32) -> Result<u32, String> {
    let e = |e: CommandError| e.to_string();
    let mut code = ROUTINE.to_vec();
    code.resize(TABLE_AT as usize, 0);
    for w in nibble_table() {
        code.extend_from_slice(&w.to_le_bytes());
    }
    let code: Vec<u32> = code
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    // C_MASKINTS may only change while halted: set it with C_HALT, then run (§C1.6.2).
    let masked = DBGKEY | C_DEBUGEN | C_MASKINTS;
    let d = host
        .with_reads(CSW_SIZE_INC, CSW_WORD_INC, |r| {
            r.write_words(work, &code)?;
            r.write_core_regs(&[
                (R0, addr),
                (R1, len),
                (R2, work + TABLE_AT),
                (PC, work),
                (XPSR, 1 << 24),
            ])?;
            r.write(BD3, demcr | VC_FAULTS)?;
            r.write(BD0, masked | C_HALT)?;
            r.write(BD0, masked)
        })
        .map_err(e)?;
    // A register write that did not complete: the routine ran with a wrong argument (it only
    // reads memory); its result is not used.
    core_regs_written(&d).map_err(transfer_error)?;
    let start = Instant::now();
    let mut pause = POLL_FIRST;
    loop {
        // The routine runs for milliseconds (12 ms for 60 KiB on a 72 MHz F103, 125 ms at the
        // 8 MHz after reset): DHCSR is read after pauses that double, not back to back, so
        // the wait costs a dozen reads instead of one per transaction time.
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL_MAX);
        if host.read_dhcsr_fast().map_err(e)? & S_HALT != 0 {
            break;
        }
        if start.elapsed() > timeout(len) {
            return Err(format!(
                "the routine did not stop within {:?}",
                timeout(len)
            ));
        }
    }
    let v = host
        .with_reads(CSW_SIZE_INC, CSW_WORD_INC, |r| r.read_core_regs(&[PC, R0]))
        .map_err(e)?;
    let v = core_regs_read(&v).map_err(transfer_error)?;
    let (pc, r0) = (v[0], v[1]);
    if pc != work + BKPT_AT {
        return Err(format!(
            "the routine stopped at 0x{pc:08x}, not at its BKPT (a fault or a breakpoint)"
        ));
    }
    Ok(r0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_crc_32_mpeg_2() {
        // The check value of the CRC catalogue for "123456789".
        assert_eq!(crc32(b"123456789"), 0x0376_E6E7);
        assert_eq!(crc32(&[]), 0xFFFF_FFFF);
        assert_eq!(nibble_table()[1], POLY);
    }
}
