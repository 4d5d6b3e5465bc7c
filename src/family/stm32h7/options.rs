//! The `stm32h7x` register sequences of OpenOCD 0.12's `stm32h7x.c` (`stm32x_unlock_reg`,
//! `stm32x_unlock_option_reg`, `stm32x_write_option`, `stm32x_modify_option`, `stm32x_set_rdp`,
//! `stm32x_mass_erase`; RM0433 §4.3.4 unlocking, §4.3.10 bank erase, §4.4.3 option-byte change),
//! on [`FlashRegs`] (a probe-rs core or a test fake). `bank_base` selects the bank's register set.

use super::super::FlashRegs;
use super::{
    CCR, CR, KEYR, OPTCCR, OPTCR, OPTKEYR, OPTSR_CUR, OPTSR_PRG, SR, SR_ERRORS, WPSN_CUR, WPSN_PRG,
    cr, opt,
};
use super::{regs_of, sr_words};

/// Register unlock keys (RM0433 §4.9.2, §4.9.3).
pub const KEY1: u32 = 0x4567_0123;
/// Second KEYR key.
pub const KEY2: u32 = 0xCDEF_89AB;
/// First OPTKEYR key.
pub const OPTKEY1: u32 = 0x0819_2A3B;
/// Second OPTKEYR key.
pub const OPTKEY2: u32 = 0x4C5D_6E7F;
/// RDP byte of level 0 / level 1 (OpenOCD's) / level 2.
pub const RDP_L0: u32 = 0xAA;
/// Level 1 as OpenOCD writes it.
pub const RDP_L1: u32 = 0x00;
/// Level 2 (permanent).
pub const RDP_L2: u32 = 0xCC;

fn failed(msg: String) -> probe_rs::Error {
    probe_rs::Error::Other(msg)
}

fn at(bank_base: u64, off: u32) -> u64 {
    regs_of(bank_base) + u64::from(off)
}

/// `stm32x_unlock_reg`: the KEYRx keys unless CRx.LOCK is already clear.
pub fn unlock_reg(r: &mut dyn FlashRegs, bank_base: u64) -> Result<(), probe_rs::Error> {
    if r.rd(at(bank_base, CR))? & cr::LOCK == 0 {
        return Ok(());
    }
    r.wr(at(bank_base, KEYR), KEY1)?;
    r.wr(at(bank_base, KEYR), KEY2)?;
    let c = r.rd(at(bank_base, CR))?;
    if c & cr::LOCK != 0 {
        return Err(failed(format!(
            "flash not unlocked: FLASH_CR = 0x{c:08x} still has LOCK set after the KEYR keys (a wrong key since the last reset locks it until reset); run 'reset halt' and try again"
        )));
    }
    Ok(())
}

/// `stm32x_unlock_option_reg`: the OPTKEYR keys unless OPTCR.OPTLOCK is already clear.
pub fn unlock_option_reg(r: &mut dyn FlashRegs, bank_base: u64) -> Result<(), probe_rs::Error> {
    if r.rd(at(bank_base, OPTCR))? & opt::LOCK == 0 {
        return Ok(());
    }
    r.wr(at(bank_base, OPTKEYR), OPTKEY1)?;
    r.wr(at(bank_base, OPTKEYR), OPTKEY2)?;
    let c = r.rd(at(bank_base, OPTCR))?;
    if c & opt::LOCK != 0 {
        return Err(failed(format!(
            "options not unlocked: FLASH_OPTCR = 0x{c:08x} still has OPTLOCK set after the OPTKEYR keys; run 'reset halt' and try again"
        )));
    }
    Ok(())
}

/// `stm32x_write_option`: option register `offset` ← `value`, OPTCCR.CLR_OPTCHANGEERR, OPTSTART,
/// wait for OPTSR_CUR.OPT_BUSY to clear (at most `timeout_ms`), OPTCHANGEERR checked; OPTLOCK set
/// again also on failure. The change is in force when it returns.
pub fn write_option(
    r: &mut dyn FlashRegs,
    bank_base: u64,
    offset: u32,
    value: u32,
    timeout_ms: u64,
) -> Result<(), probe_rs::Error> {
    let res = (|| {
        unlock_option_reg(r, bank_base)?;
        r.wr(at(bank_base, offset), value)?;
        r.wr(at(bank_base, OPTCCR), opt::CHANGEERR)?;
        r.wr(at(bank_base, OPTCR), opt::START)?;
        let start = std::time::Instant::now();
        loop {
            let s = r.rd(at(bank_base, OPTSR_CUR))?;
            if s & opt::BUSY == 0 {
                if s & opt::CHANGEERR != 0 {
                    return Err(failed(format!(
                        "error changing option bytes (OPTCHANGEERR=1): FLASH_OPTSR_CUR = 0x{s:08x}; the option bytes keep their old values"
                    )));
                }
                return Ok(());
            }
            if start.elapsed().as_millis() as u64 >= timeout_ms {
                return Err(failed(format!(
                    "timed out waiting for the option change: FLASH_OPTSR_CUR = 0x{s:08x} still has OPT_BUSY set after {timeout_ms} ms"
                )));
            }
        }
    })();
    let lock = r.wr(at(bank_base, OPTCR), opt::LOCK);
    res?;
    lock
}

/// `stm32x_modify_option`: `offset` ← (old & !mask) | (value & mask) through [`write_option`].
pub fn modify_option(
    r: &mut dyn FlashRegs,
    bank_base: u64,
    offset: u32,
    value: u32,
    mask: u32,
) -> Result<(), probe_rs::Error> {
    let old = r.rd(at(bank_base, offset))?;
    write_option(r, bank_base, offset, (old & !mask) | (value & mask), 10_000)
}

/// What [`set_rdp`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdpChange {
    /// OPTSR_PRG already held it ("the requested RDP value is already programmed").
    Unchanged,
    /// Programmed.
    Changed,
}

/// `stm32x_set_rdp`: OPTSR_PRG[15:8] ← `rdp` unless it already holds it.
pub fn set_rdp(
    r: &mut dyn FlashRegs,
    bank_base: u64,
    rdp: u32,
) -> Result<RdpChange, probe_rs::Error> {
    let optsr = r.rd(at(bank_base, OPTSR_PRG))?;
    if (optsr >> 8) & 0xFF == rdp {
        return Ok(RdpChange::Unchanged);
    }
    write_option(
        r,
        bank_base,
        OPTSR_PRG,
        (optsr & !0xFF00) | (rdp << 8),
        30_000,
    )?;
    Ok(RdpChange::Changed)
}

/// Polls SRx.QW until clear (at most `timeout_ms`), then reports and clears the error bits
/// (`stm32x_wait_flash_op_queue`).
pub fn wait_queue(
    r: &mut dyn FlashRegs,
    bank_base: u64,
    what: &str,
    timeout_ms: u64,
) -> Result<(), probe_rs::Error> {
    let start = std::time::Instant::now();
    loop {
        let s = r.rd(at(bank_base, SR))?;
        if s & (1 << 2) == 0 {
            if s & SR_ERRORS != 0 {
                r.wr(at(bank_base, CCR), s)?;
                return Err(failed(format!(
                    "{what} failed: FLASH_SR = 0x{s:08x}: {}",
                    sr_words(s).join("; ")
                )));
            }
            return Ok(());
        }
        if start.elapsed().as_millis() as u64 >= timeout_ms {
            return Err(failed(format!(
                "timed out during {what}: FLASH_SR = 0x{s:08x} still has QW set after {timeout_ms} ms"
            )));
        }
    }
}

/// `stm32x_mass_erase`: the bank erase of the bank at `bank_base` (CRx = BER | PSIZE_64, then
/// | START, wait), LOCK also on failure.
pub fn mass_erase(r: &mut dyn FlashRegs, bank_base: u64) -> Result<(), probe_rs::Error> {
    let res = (|| {
        unlock_reg(r, bank_base)?;
        r.wr(at(bank_base, CR), cr::BER | cr::PSIZE_64)?;
        r.wr(at(bank_base, CR), cr::BER | cr::PSIZE_64 | cr::START)?;
        wait_queue(r, bank_base, "bank erase", 30_000)
    })();
    let lock = r.wr(at(bank_base, CR), cr::LOCK);
    res?;
    lock
}

/// `stm32x_protect`: FLASH_WPSN_PRGxR of the bank at `bank_base` ← FLASH_WPSN_CURxR with bits
/// `first..=last` cleared (`on`: protected; RM0433 §4.5.4, bit = 0 protects its sector) or set,
/// masked to the bank's `mask` (0xFF: 8 sectors), then OPTSTART through [`write_option`]: in
/// force when it returns. Returns the value programmed.
pub fn set_wpsn(
    r: &mut dyn FlashRegs,
    bank_base: u64,
    first: u32,
    last: u32,
    on: bool,
    mask: u32,
) -> Result<u32, probe_rs::Error> {
    let mut v = r.rd(at(bank_base, WPSN_CUR))?;
    for b in first..=last.min(31) {
        if on {
            v &= !(1 << b);
        } else {
            v |= 1 << b;
        }
    }
    v &= mask;
    tracing::debug!("stm32x_protect, option_bytes written WPSN 0x{v:x}");
    write_option(r, bank_base, WPSN_PRG, v, 10_000)?;
    Ok(v)
}
