//! The 1 KiB one-time-programmable area of the G4/L4 at 0x1FFF_7000 (RM0351 §3.3.1 and §3.3.7,
//! RM0440 §5.3.1 and §5.3.7): programmed by double words (64 bits) through FLASH_CR.PG like main
//! flash, never erased. The probe-rs flash algorithms do not cover it, so stdbg programs it with
//! the register sequence of OpenOCD 0.12's `stm32l4_write_block_without_loader`, and only when the
//! bank was enabled with `stm32l4x otp <bank> enable` (OpenOCD's host-side switch).

use std::collections::BTreeSet;
use std::sync::Mutex;

use thiserror::Error;

use super::options::{FlashRegs, unlock_reg, wait_busy};
use super::{CR, OTP_BASE, OTP_SIZE, cr, reg};

/// OTP banks whose writes were enabled, by bank name.
static ENABLED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Enables or disables writes to the OTP bank `name` (`stm32l4x otp <bank> enable|disable`).
pub fn set_enabled(name: &str, on: bool) {
    let mut set = ENABLED.lock().unwrap_or_else(|e| e.into_inner());
    if on {
        set.insert(name.to_string());
    } else {
        set.remove(name);
    }
}

/// Whether writes to the OTP bank `name` are enabled.
pub fn enabled(name: &str) -> bool {
    ENABLED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(name)
}

/// Why OTP bytes were not programmed. Nothing was written when one of the first three is returned.
#[derive(Debug, Error)]
pub enum OtpError {
    /// The bank was not enabled (OpenOCD: "OTP memory is disabled for write commands").
    #[error(
        "OTP memory is disabled for write commands: bank {bank} is one-time programmable (each double word is written once and never erased); nothing was written. If these bytes are meant to be permanent, run 'stm32l4x otp {index} enable' first"
    )]
    Disabled {
        /// Bank name.
        bank: String,
        /// Bank index.
        index: usize,
    },
    /// Bytes outside 0x1FFF_7000..0x1FFF_7400.
    #[error(
        "0x{start:08x}-0x{end:08x} is outside the OTP area 0x1fff7000-0x1fff73ff; nothing was written"
    )]
    Outside {
        /// First address.
        start: u64,
        /// Last address.
        end: u64,
    },
    /// A double word already holds other data (the controller would raise PROGERR).
    #[error(
        "OTP double word 0x{addr:08x} already holds 0x{old:016x} and cannot take 0x{new:016x}: the OTP never erases (the flash controller would refuse with FLASH_SR.PROGERR); nothing was written"
    )]
    Programmed {
        /// Its address.
        addr: u64,
        /// What it holds.
        old: u64,
        /// What the image has there (0xFF padding to whole double words).
        new: u64,
    },
    /// The controller or the probe failed while programming.
    #[error("programming the OTP failed: {0}")]
    Write(#[from] probe_rs::Error),
}

/// The double words `data` at `addr` covers, padded with 0xFF: (address, value) pairs.
fn double_words(addr: u64, data: &[u8]) -> Vec<(u64, u64)> {
    let start = addr & !7;
    let end = (addr + data.len() as u64 + 7) & !7;
    (start..end)
        .step_by(8)
        .map(|a| {
            let mut b = [0xFFu8; 8];
            for (i, byte) in b.iter_mut().enumerate() {
                let x = a + i as u64;
                if x >= addr && x < addr + data.len() as u64 {
                    *byte = data[(x - addr) as usize];
                }
            }
            (a, u64::from_le_bytes(b))
        })
        .collect()
}

fn read_dw(r: &mut dyn FlashRegs, a: u64) -> Result<u64, probe_rs::Error> {
    Ok(u64::from(r.rd(a)?) | u64::from(r.rd(a + 4)?) << 32)
}

/// The double words to program for `data` at `addr`, checked against what the OTP holds: a
/// double word that already holds the same value, or that the image leaves all 0xFF, is skipped.
/// Reads only.
///
/// Errors: [`OtpError::Outside`], [`OtpError::Programmed`], [`OtpError::Write`] (a read failed).
pub fn plan(r: &mut dyn FlashRegs, addr: u64, data: &[u8]) -> Result<Vec<(u64, u64)>, OtpError> {
    let end = addr + data.len() as u64;
    if addr < OTP_BASE || end > OTP_BASE + u64::from(OTP_SIZE) {
        return Err(OtpError::Outside {
            start: addr,
            end: end.saturating_sub(1),
        });
    }
    let mut todo = Vec::new();
    for (a, new) in double_words(addr, data) {
        let old = read_dw(r, a)?;
        if new == u64::MAX || old == new {
            continue;
        }
        if old != u64::MAX {
            return Err(OtpError::Programmed { addr: a, old, new });
        }
        todo.push((a, new));
    }
    Ok(todo)
}

/// Programs the double words of [`plan`]: unlock, wait, FLASH_CR = PG, each double word as two
/// word writes followed by a wait on BSY (errors decoded), then PG cleared and LOCK set (also on
/// failure).
pub fn program(r: &mut dyn FlashRegs, words: &[(u64, u64)]) -> Result<(), OtpError> {
    let res = (|| {
        unlock_reg(r)?;
        wait_busy(r, "OTP programming", 100)?;
        r.wr(reg(CR), cr::PG)?;
        for &(a, v) in words {
            r.wr(a, v as u32)?;
            r.wr(a + 4, (v >> 32) as u32)?;
            wait_busy(r, &format!("programming OTP double word 0x{a:08x}"), 100)?;
        }
        Ok::<(), probe_rs::Error>(())
    })();
    let lock = r.wr(reg(CR), cr::LOCK);
    res?;
    Ok(lock?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_to_double_words() {
        assert_eq!(
            double_words(0x1FFF_7004, &[1, 2, 3, 4, 5]),
            vec![
                (0x1FFF_7000, 0x0403_0201_FFFF_FFFF),
                (0x1FFF_7008, 0xFFFF_FFFF_FFFF_FF05)
            ]
        );
    }
}
