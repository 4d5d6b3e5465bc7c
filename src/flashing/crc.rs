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
//! fault halts it at once; it ends at a `BKPT`. The core registers, DEMCR, DFSR's new bits and
//! the work-area bytes it used are put back afterwards. Any reason it cannot run (core running
//! or in a handler, no work area, a fault, a timeout) falls back to reading back.

use std::time::{Duration, Instant};

use probe_rs::{Core, MemoryInterface, RegisterId};

use crate::diagnose::fault::scb::DFSR;
use crate::diagnose::regs::DHCSR;
use crate::diagnose::regs::dhcsr::{C_DEBUGEN, C_HALT, C_MASKINTS, DBGKEY, S_HALT};
use crate::host::Host;
use crate::host::breakpoints::dwt::DEMCR;

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
    let r = host.with_core(move |core, _| Ok(run(core, phys, addr, len)));
    let units = host.restore_debug_units();
    match (r, units) {
        (Ok(Ok(crc)), Ok(())) => Some(crc),
        (Ok(Err(why)), _) => {
            tracing::debug!("no CRC on the target: {why}");
            None
        }
        (Err(e), _) => {
            tracing::debug!("no CRC on the target: {e}");
            None
        }
        (_, Err(e)) => {
            tracing::debug!("no CRC on the target: {e}");
            None
        }
    }
}

/// Runs the routine; the error says why it did not give a CRC.
fn run(core: &mut Core<'_>, work: u32, addr: u32, len: u32) -> Result<u32, String> {
    let e = |e: probe_rs::Error| e.to_string();
    if !core.core_halted().map_err(e)? {
        return Err("the core runs".into());
    }
    let xpsr: u32 = core
        .read_core_reg(RegisterId(super::algorithm::XPSR))
        .map_err(e)?;
    if xpsr & 0x1ff != 0 {
        return Err("the core is halted in an exception handler".into());
    }
    let saved = super::algorithm::save_thread_registers(core, xpsr).map_err(e)?;
    let mut backup = vec![0u8; WORK_BYTES as usize];
    core.read(u64::from(work), &mut backup).map_err(e)?;
    let demcr = core.read_word_32(DEMCR).map_err(e)?;
    let dfsr = core.read_word_32(DFSR).map_err(e)?;
    let dhcsr = core.read_word_32(DHCSR).map_err(e)?;
    let result = crc_run(core, work, addr, len, demcr);
    // Put everything back, whatever happened.
    let halt = DBGKEY | C_DEBUGEN | C_HALT | (dhcsr & C_MASKINTS);
    let mut restore = || -> Result<(), probe_rs::Error> {
        core.write_word_32(DHCSR, halt)?;
        if core.read_word_32(DHCSR)? & S_HALT == 0 {
            core.halt(Duration::from_millis(100))?;
        }
        core.write_word_32(DEMCR, demcr)?;
        let now = core.read_word_32(DFSR)?;
        core.write_word_32(DFSR, now & !dfsr)?;
        core.write(u64::from(work), &backup)?;
        super::algorithm::restore_registers(core, &saved)
    };
    restore().map_err(e)?;
    result
}

fn crc_run(core: &mut Core<'_>, work: u32, addr: u32, len: u32, demcr: u32) -> Result<u32, String> {
    let e = |e: probe_rs::Error| e.to_string();
    let mut code = ROUTINE.to_vec();
    code.resize(TABLE_AT as usize, 0);
    for w in nibble_table() {
        code.extend_from_slice(&w.to_le_bytes());
    }
    core.write(u64::from(work), &code).map_err(e)?;
    core.write_word_32(DEMCR, demcr | VC_FAULTS).map_err(e)?;
    for (r, v) in [
        (R0, addr),
        (R1, len),
        (R2, work + TABLE_AT),
        (PC, work),
        (super::algorithm::XPSR, 1 << 24),
    ] {
        core.write_core_reg(RegisterId(r), v).map_err(e)?;
    }
    // C_MASKINTS may only change while halted: set it with C_HALT, then run (§C1.6.2).
    let masked = DBGKEY | C_DEBUGEN | C_MASKINTS;
    core.write_word_32(DHCSR, masked | C_HALT).map_err(e)?;
    core.write_word_32(DHCSR, masked & !C_HALT).map_err(e)?;
    core.flush().map_err(e)?;
    let start = Instant::now();
    let mut pause = POLL_FIRST;
    loop {
        if core.read_word_32(DHCSR).map_err(e)? & S_HALT != 0 {
            break;
        }
        if start.elapsed() > timeout(len) {
            return Err(format!(
                "the routine did not stop within {:?}",
                timeout(len)
            ));
        }
        // The routine runs for milliseconds (12 ms for 60 KiB on a 72 MHz F103, 125 ms at the
        // 8 MHz after reset): DHCSR is read after pauses that double, not back to back, so
        // the wait costs a dozen reads instead of one per transaction time.
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL_MAX);
    }
    let pc: u32 = core.read_core_reg(RegisterId(PC)).map_err(e)?;
    if pc != work + BKPT_AT {
        return Err(format!(
            "the routine stopped at 0x{pc:08x}, not at its BKPT (a fault or a breakpoint)"
        ));
    }
    core.read_core_reg(RegisterId(R0)).map_err(e)
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
