//! `flash protect` for stm32f1x banks: FLASH_WRPR bits through the option bytes WRP0–WRP3
//! (RM0008 §3.5.7, PM0075 §2.5): unlock the FPEC and the option bytes, erase them (OPTER),
//! program the eight half-words back with the changed WRP bits (OPTPG), lock. RDP, USER and
//! the data bytes are kept; a chip under read-out protection is refused (erasing its option
//! bytes would mass-erase the flash). The new protection takes effect after a reset.

use probe_rs::{Core, MemoryInterface};

use super::fpec::{
    CR_LOCK, CR_OPTER, CR_OPTPG, CR_OPTWRE, CR_STRT, FLASH_CR, FLASH_KEYR, FLASH_OBR,
    FLASH_OPTKEYR, FLASH_SR, FLASH_WRPR, KEY1, KEY2, OBR_RDPRT, OPTION_BYTES, SR_BSY, SR_PGERR,
    SR_WRPRTERR,
};
use crate::command::CommandError;
use crate::host::Host;

fn failed(msg: String) -> probe_rs::Error {
    probe_rs::Error::Other(msg)
}

/// Polls FLASH_SR.BSY (at most 1 s), then fails on PGERR/WRPRTERR (clearing them).
fn wait(core: &mut Core<'_>, what: &str) -> Result<(), probe_rs::Error> {
    let start = std::time::Instant::now();
    loop {
        let sr = core.read_word_32(FLASH_SR)?;
        if sr & SR_BSY == 0 {
            if sr & (SR_PGERR | SR_WRPRTERR) != 0 {
                core.write_word_32(FLASH_SR, SR_PGERR | SR_WRPRTERR)?;
                let words = super::diagnosis::sr_words(sr).join("; ");
                return Err(failed(format!(
                    "{what} failed: FLASH_SR = 0x{sr:08x}: {words}"
                )));
            }
            return Ok(());
        }
        if start.elapsed().as_secs() >= 1 {
            return Err(failed(format!("{what}: FLASH_SR.BSY still set after 1 s")));
        }
    }
}

fn rewrite(core: &mut Core<'_>, opts: &[u8; 8]) -> Result<(), probe_rs::Error> {
    if core.read_word_32(FLASH_CR)? & CR_LOCK != 0 {
        core.write_word_32(FLASH_KEYR, KEY1)?;
        core.write_word_32(FLASH_KEYR, KEY2)?;
    }
    core.write_word_32(FLASH_OPTKEYR, KEY1)?;
    core.write_word_32(FLASH_OPTKEYR, KEY2)?;
    if core.read_word_32(FLASH_CR)? & CR_OPTWRE == 0 {
        return Err(failed("the option bytes stay write-protected after the keys (FLASH_CR.OPTWRE = 0); run 'reset halt' and try again".into()));
    }
    core.write_word_32(FLASH_CR, CR_OPTER | CR_OPTWRE)?;
    core.write_word_32(FLASH_CR, CR_OPTER | CR_STRT | CR_OPTWRE)?;
    wait(core, "erasing the option bytes")?;
    core.write_word_32(FLASH_CR, CR_OPTPG | CR_OPTWRE)?;
    for (i, b) in opts.iter().enumerate() {
        let addr = OPTION_BYTES + 2 * i as u64;
        core.write_word_16(addr, u16::from(*b))?;
        wait(core, &format!("programming option byte 0x{addr:08x}"))?;
    }
    Ok(())
}

/// Sets (`on`) or clears the write protection of FLASH_WRPR bits `first..=last` of an stm32f1x
/// bank through the option bytes. The core must be halted.
pub fn set_protection(host: &Host, first: u32, last: u32, on: bool) -> Result<(), CommandError> {
    let result = host.with_core(|core, target| {
        if !core.core_halted()? {
            return Err(failed(format!("Target not halted: halt {target} first ('halt' or 'reset halt')")));
        }
        let obr = core.read_word_32(FLASH_OBR)?;
        if obr & OBR_RDPRT != 0 {
            return Err(failed(format!(
                "read-out protection is on (FLASH_OBR = 0x{obr:08x}, RDPRT = 1): rewriting the option bytes would remove it and mass-erase the flash; run 'stm32f1x unlock 0' and 'reset halt' first if that is what you want"
            )));
        }
        let wrpr = core.read_word_32(FLASH_WRPR)?;
        // Current option bytes: the block itself (keeps changes not yet loaded by a reset), else
        // the registers.
        let mut raw = [0u16; 8];
        core.read_16(OPTION_BYTES, &mut raw)?;
        let regs = [
            0xA5,
            ((obr >> 2) & 0xff) as u8,
            ((obr >> 10) & 0xff) as u8,
            ((obr >> 18) & 0xff) as u8,
            wrpr as u8,
            (wrpr >> 8) as u8,
            (wrpr >> 16) as u8,
            (wrpr >> 24) as u8,
        ];
        let mut opts = [0u8; 8];
        for i in 0..8 {
            let (v, c) = (raw[i] as u8, (raw[i] >> 8) as u8);
            opts[i] = if v ^ c == 0xff { v } else { regs[i] };
        }
        let mut prot = u32::from_le_bytes([opts[4], opts[5], opts[6], opts[7]]);
        for b in first..=last {
            if on {
                prot &= !(1 << b);
            } else {
                prot |= 1 << b;
            }
        }
        opts[4..8].copy_from_slice(&prot.to_le_bytes());
        let r = rewrite(core, &opts);
        let lock = core.write_word_32(FLASH_CR, CR_LOCK);
        r?;
        lock
    });
    result.map_err(|e| {
        // Our own messages arrive wrapped by with_core; keep them readable.
        let text = e.to_string();
        CommandError::failed(format!("flash protect: {text}"))
    })
}
