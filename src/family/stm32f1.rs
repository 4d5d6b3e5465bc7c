//! The `stm32f1x` family: STM32F1 and STM32F3 (OpenOCD's `stm32f1x` driver serves both).
//!
//! Flash program/erase controller (FPEC) at 0x4002_2000 (RM0008 §3.5, PM0075 §2.3-2.5, RM0316
//! §4.5): KEYR, OPTKEYR, SR (BSY, PGERR, WRPRTERR, EOP), CR (PG, PER, MER, OPTPG, OPTER, STRT,
//! LOCK, OPTWRE, and on F3 OBL_LAUNCH bit 13), AR, OBR, WRPR; the option bytes at 0x1FFF_F800
//! (RDP, USER, Data0, Data1, WRP0-3, each a byte + complement half-word).
//!
//! F1 and F3 differ (OpenOCD `stm32x_probe`): F3 FLASH_OBR has USER at bits 15:8 (WDG_SW bit 8)
//! and Data at 31:16 where F1 has USER at 9:2 and Data at 25:10; RDP level 0 is 0xAA on F3
//! (0xA5 on F1), 0xCC is level 2 (F3 only); F3 reloads the option bytes with FLASH_CR.OBL_LAUNCH,
//! an F1 only at a reset; F_SIZE is at 0x1FFF_F7CC on F3, 0x1FFF_F7E0 on F1.

use probe_rs::{Core, MemoryInterface};

use super::{Driver, Family, FlashState, Line, Rdp, Reader, WrpArea};
use crate::command::Registry;

/// The FPEC register block.
pub const FLASH_BASE: u64 = 0x4002_2000;
/// FLASH_KEYR: the FPEC unlock keys go here (RM0008 §3.5.2).
pub const FLASH_KEYR: u64 = FLASH_BASE + 0x04;
/// FLASH_OPTKEYR: the option-byte unlock keys (sets FLASH_CR.OPTWRE).
pub const FLASH_OPTKEYR: u64 = FLASH_BASE + 0x08;
/// FLASH_SR (RM0008 §3.5.3).
pub const FLASH_SR: u64 = FLASH_BASE + 0x0C;
/// FLASH_CR (RM0008 §3.5.4, RM0316 §4.5.5).
pub const FLASH_CR: u64 = FLASH_BASE + 0x10;
/// FLASH_AR: the page address of the last page erase.
pub const FLASH_AR: u64 = FLASH_BASE + 0x14;
/// FLASH_OBR: the option bytes as loaded at the last reset (RM0008 §3.5.6).
pub const FLASH_OBR: u64 = FLASH_BASE + 0x1C;
/// FLASH_WRPR: a 0 bit = those pages write-protected (PM0075 §2.4.8).
pub const FLASH_WRPR: u64 = FLASH_BASE + 0x20;
/// The option-byte block: eight half-words (PM0075 §2.5, RM0316 §4.4).
pub const OPTION_BYTES: u64 = 0x1FFF_F800;

/// First unlock key (FLASH_KEYR and FLASH_OPTKEYR).
pub const KEY1: u32 = 0x4567_0123;
/// Second unlock key.
pub const KEY2: u32 = 0xCDEF_89AB;

/// FLASH_SR.BSY.
pub const SR_BSY: u32 = 1 << 0;
/// FLASH_SR.PGERR: a half-word that did not read 0xFFFF was programmed.
pub const SR_PGERR: u32 = 1 << 2;
/// FLASH_SR.WRPRTERR: a write-protected page was erased or programmed.
pub const SR_WRPRTERR: u32 = 1 << 4;
/// FLASH_SR.EOP: end of operation.
pub const SR_EOP: u32 = 1 << 5;

/// FLASH_CR.MER: mass erase.
pub const CR_MER: u32 = 1 << 2;
/// FLASH_CR.OPTPG: option-byte programming.
pub const CR_OPTPG: u32 = 1 << 4;
/// FLASH_CR.OPTER: option-byte erase.
pub const CR_OPTER: u32 = 1 << 5;
/// FLASH_CR.STRT: starts an erase.
pub const CR_STRT: u32 = 1 << 6;
/// FLASH_CR.LOCK.
pub const CR_LOCK: u32 = 1 << 7;
/// FLASH_CR.OPTWRE: the option bytes may be written.
pub const CR_OPTWRE: u32 = 1 << 9;
/// FLASH_CR.OBL_LAUNCH (F3 only, RM0316 §4.5.5): reload the option bytes, a system reset.
pub const CR_OBL_LAUNCH: u32 = 1 << 13;

/// FLASH_OBR.OPTERR: option byte complement error.
pub const OBR_OPTERR: u32 = 1 << 0;
/// FLASH_OBR.RDPRT (F1: bit 1; F3: RDPRT[1:0] at bits 2:1, 0b11 = level 2).
pub const OBR_RDPRT: u32 = 1 << 1;

/// What differs between the lines the driver serves (OpenOCD `stm32x_probe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// Shift of the USER byte in FLASH_OBR (F1 2, F3 8).
    pub user_shift: u32,
    /// Shift of Data0/Data1 in FLASH_OBR (F1 10, F3 16).
    pub data_shift: u32,
    /// The RDP byte of level 0 (F1 0xA5, F3 0xAA).
    pub default_rdp: u8,
    /// FLASH_CR.OBL_LAUNCH exists (F3).
    pub can_load_options: bool,
    /// RDP level 2 exists (F3: RDPRT = 0b11).
    pub has_level2: bool,
}

/// STM32F1 (RM0008, PM0075).
pub const F1: Variant = Variant {
    user_shift: 2,
    data_shift: 10,
    default_rdp: 0xA5,
    can_load_options: false,
    has_level2: false,
};
/// STM32F3 (RM0316 §4.5.8).
pub const F3: Variant = Variant {
    user_shift: 8,
    data_shift: 16,
    default_rdp: 0xAA,
    can_load_options: true,
    has_level2: true,
};

/// The variant of a line (`stm32f3x` series → F3, else F1).
pub fn variant(line: &Line) -> Variant {
    if line.series == "stm32f3x" { F3 } else { F1 }
}

/// RDP level from FLASH_OBR.
pub fn rdp_of(v: &Variant, obr: u32) -> Rdp {
    match (obr >> 1) & 0b11 {
        0b11 if v.has_level2 => Rdp::Level2,
        x if x & 1 != 0 => Rdp::Level1,
        _ => Rdp::Level0,
    }
}

/// The names of the set FLASH_SR bits.
pub fn sr_bits(sr: u32) -> Vec<&'static str> {
    [
        (SR_BSY, "BSY"),
        (SR_PGERR, "PGERR"),
        (SR_WRPRTERR, "WRPRTERR"),
        (SR_EOP, "EOP"),
    ]
    .iter()
    .filter(|(b, _)| sr & b != 0)
    .map(|(_, n)| *n)
    .collect()
}

/// FLASH_SR error bits in words (RM0008 §3.5.3).
pub fn sr_words(sr: u32) -> Vec<&'static str> {
    let mut v = Vec::new();
    if sr & SR_PGERR != 0 {
        v.push("PGERR: a half-word was programmed that was not erased (it did not read 0xFFFF)");
    }
    if sr & SR_WRPRTERR != 0 {
        v.push("WRPRTERR: a write-protected page was to be erased or programmed");
    }
    if sr & SR_BSY != 0 {
        v.push("BSY: an operation is still in progress");
    }
    v
}

/// FLASH_WRPR in words: `no page write-protected` or the protected page groups.
pub fn describe_wrpr(wrpr: u32, pages_per_block: u32) -> String {
    let n = u64::from(pages_per_block);
    let prot: Vec<String> = (0..32u64)
        .filter(|b| wrpr & (1 << b) == 0)
        .map(|b| format!("{}-{}", b * n, b * n + n - 1))
        .collect();
    if prot.is_empty() {
        "no page write-protected".into()
    } else {
        format!("pages {} write-protected", prot.join(", "))
    }
}

/// The pages WRPR bit `block` covers (bit 31 covers every page after the 31st block).
pub fn block_pages(block: u32, pages_per_block: u64, bank_pages: u64) -> std::ops::Range<u64> {
    let first = u64::from(block) * pages_per_block;
    let last = if block == 31 {
        bank_pages.max(first + pages_per_block)
    } else {
        first + pages_per_block
    };
    first..last
}

/// The `stm32f1x` family.
#[derive(Debug)]
pub struct Stm32f1x;

/// The one instance.
pub static STM32F1X: Stm32f1x = Stm32f1x;

impl Family for Stm32f1x {
    /// FLASH_CR.LOCK (bank 1; the XL-density FLASH_CR2 is not modelled).
    fn control_locks(&self) -> &'static [(u64, u32)] {
        &[(FLASH_CR, CR_LOCK)]
    }

    fn driver(&self) -> Driver {
        Driver::Stm32f1x
    }

    fn chips(&self) -> &'static str {
        "STM32F1/F3"
    }

    fn page_size(&self, line: &Line, _rd: &mut Reader<'_>) -> u32 {
        line.page_size
    }

    fn log_probe(&self, _line: Option<&Line>, idcode: u32, _rd: &mut Reader<'_>) {
        tracing::info!("device id = 0x{idcode:08x}");
    }

    fn read_flash(
        &self,
        line: &Line,
        bank_index: usize,
        _bank_base: u64,
        bank_pages: u64,
        rd: &mut Reader<'_>,
    ) -> Option<FlashState> {
        let sr = rd(FLASH_SR)?;
        let cr = rd(FLASH_CR)?;
        let ar = rd(FLASH_AR)?;
        let obr = rd(FLASH_OBR)?;
        let wrpr = rd(FLASH_WRPR)?;
        let v = variant(line);
        let rdp = rdp_of(&v, obr);
        let rdprt = u32::from(obr & OBR_RDPRT != 0);
        let ppb = u64::from(line.pages_per_prot_block.max(1));
        let wrp = (0..32u32)
            .filter(|b| wrpr & (1 << b) == 0)
            .map(|b| {
                let pages = block_pages(b, ppb, bank_pages);
                WrpArea {
                    by: format!(
                        "WRP{} bit {} (FLASH_WRPR = 0x{wrpr:08x}: bit {b} = 0 protects pages {}-{})",
                        b / 8,
                        b % 8,
                        pages.start,
                        pages.end - 1
                    ),
                    fix: format!(
                        "'flash protect {bank_index} {b} {b} off' then 'reset halt' (the option bytes are reloaded at reset; the other option bytes are kept)"
                    ),
                    pages,
                }
            })
            .collect();
        let bits = sr_bits(sr);
        let sr_text = if bits.is_empty() {
            String::from("no error bits")
        } else {
            bits.join(", ")
        };
        Some(FlashState {
            rdp,
            rdp_register: "FLASH_OBR",
            rdp_raw: obr,
            rdp_evidence: format!("FLASH_OBR = 0x{obr:08x}, RDPRT = {rdprt}"),
            wrp_register: "FLASH_WRPR",
            wrp_raw: wrpr,
            wrp_words: describe_wrpr(wrpr, line.pages_per_prot_block),
            wrp,
            program_error: "PGERR",
            wrp_error: "FLASH_SR.WRPRTERR",
            sr,
            sr_words: sr_words(sr),
            evidence: format!(
                "FLASH_SR = 0x{sr:08x} ({sr_text}), FLASH_CR = 0x{cr:08x}, FLASH_AR = 0x{ar:08x}, FLASH_OBR = 0x{obr:08x} (RDPRT = {rdprt}), FLASH_WRPR = 0x{wrpr:08x}"
            ),
        })
    }

    fn unexplained_failure(&self, page_blank: Option<bool>) -> &'static str {
        match page_blank {
            Some(false) => {
                "the page holds data that was not erased, so programming it failed with PGERR (programming a half-word that does not read 0xFFFF): erase first ('program' or 'flash write_image erase')"
            }
            Some(true) => {
                "the page reads erased, so the controller refused the write itself (PGERR or WRPRTERR, cleared by the algorithm): the write was disturbed (supply voltage, flash wear)"
            }
            None => {
                "the page was probably not erased (PGERR: programming a non-erased half-word), or the write was disturbed"
            }
        }
    }

    fn protection_blocks(
        &self,
        line: &Line,
        _bank_index: usize,
        _bank_base: u64,
        size: u32,
        _page_size: u32,
        rd: &mut Reader<'_>,
    ) -> Option<Vec<(u32, u32, bool)>> {
        let wrpr = rd(FLASH_WRPR)?;
        let block = line.page_size * line.pages_per_prot_block;
        let nblocks = (size / block).clamp(1, 32);
        Some(
            (0..nblocks)
                .map(|n| {
                    let off = n * block;
                    let len = if n == 31 { size - off } else { block };
                    (off, len, wrpr & (1 << n) == 0)
                })
                .collect(),
        )
    }

    fn info(&self, line: &Line, idcode: u32, _otp: bool, _rd: &mut Reader<'_>) -> String {
        let rev = (idcode >> 16) as u16;
        let r = line
            .revision(rev)
            .map(str::to_string)
            .unwrap_or_else(|| format!("unknown (0x{rev:04x})"));
        format!("{} - Rev: {r}", line.device)
    }

    fn unlock_fix(&self, bank: usize) -> String {
        format!("'stm32f1x unlock {bank}' then 'reset halt' (or a power cycle)")
    }

    fn protect_blocks(
        &self,
        line: &Line,
        _index: usize,
        size: u64,
        page_size: u64,
    ) -> Result<(u64, u64), String> {
        // One FLASH_WRPR bit per block of pages; the last bit covers the rest (RM0008 §3.5.7).
        let ppb = u64::from(line.pages_per_prot_block.max(1));
        Ok(((size / (page_size * ppb).max(1)).clamp(1, 32), ppb))
    }

    fn protect(
        &self,
        host: &crate::host::Host,
        line: &Line,
        _bank_base: u64,
        first: u32,
        last: u32,
        on: bool,
    ) -> Result<(), crate::command::CommandError> {
        crate::flashing::protect::set_protection(host, line, first, last, on)
    }

    fn register_commands(&self, reg: &mut Registry) {
        crate::command::builtin::stm32f1x::register(reg);
    }
}

/// A failure of an FPEC sequence, with the message for the user.
fn failed(msg: String) -> probe_rs::Error {
    probe_rs::Error::Other(msg)
}

/// `stm32x_wait_status_busy`: polls FLASH_SR.BSY (at most 1 s), then fails on
/// PGERR/WRPRTERR (clearing them), naming `what`.
pub fn wait(core: &mut Core<'_>, what: &str) -> Result<(), probe_rs::Error> {
    let start = std::time::Instant::now();
    loop {
        let sr = core.read_word_32(FLASH_SR)?;
        if sr & SR_BSY == 0 {
            if sr & (SR_PGERR | SR_WRPRTERR) != 0 {
                core.write_word_32(FLASH_SR, SR_PGERR | SR_WRPRTERR)?;
                let words = sr_words(sr).join("; ");
                return Err(failed(format!(
                    "{what} failed: FLASH_SR = 0x{sr:08x}: {words}"
                )));
            }
            if sr & SR_EOP != 0 {
                core.write_word_32(FLASH_SR, SR_EOP)?;
            }
            return Ok(());
        }
        if start.elapsed().as_secs() >= 1 {
            return Err(failed(format!(
                "timed out waiting for flash during {what}: FLASH_SR = 0x{sr:08x} still has BSY set after 1 s; the flash controller is stuck (power-cycle the board)"
            )));
        }
    }
}

/// Unlocks the FPEC (FLASH_KEYR) unless it already is, and with `options` the option-byte
/// write enable (FLASH_OPTKEYR → CR.OPTWRE), PM0075 §2.3.1 / §2.5.
pub fn unlock(core: &mut Core<'_>, options: bool) -> Result<(), probe_rs::Error> {
    if core.read_word_32(FLASH_CR)? & CR_LOCK != 0 {
        core.write_word_32(FLASH_KEYR, KEY1)?;
        core.write_word_32(FLASH_KEYR, KEY2)?;
        if core.read_word_32(FLASH_CR)? & CR_LOCK != 0 {
            return Err(failed("the flash controller stays locked after the unlock keys (FLASH_CR.LOCK = 1): a wrong key was written to FLASH_KEYR since the last reset, which locks the FPEC until reset; run 'reset halt' and try again".into()));
        }
    }
    if options && core.read_word_32(FLASH_CR)? & CR_OPTWRE == 0 {
        core.write_word_32(FLASH_OPTKEYR, KEY1)?;
        core.write_word_32(FLASH_OPTKEYR, KEY2)?;
        if core.read_word_32(FLASH_CR)? & CR_OPTWRE == 0 {
            core.write_word_32(FLASH_CR, CR_LOCK)?;
            return Err(failed("the option bytes stay write-protected after the keys (FLASH_CR.OPTWRE = 0); run 'reset halt' and try again".into()));
        }
    }
    Ok(())
}

/// The option bytes to write back: RDP, USER, Data0, Data1, WRP0-3 as they are now, read from
/// the option-byte block itself (so changes not yet loaded by a reset are kept), with FLASH_OBR
/// and FLASH_WRPR as the fallback for a byte whose complement does not match.
pub fn current_options(core: &mut Core<'_>, v: &Variant) -> Result<[u8; 8], probe_rs::Error> {
    let obr = core.read_word_32(FLASH_OBR)?;
    let wrpr = core.read_word_32(FLASH_WRPR)?;
    let from_regs = [
        if obr & OBR_RDPRT != 0 {
            0x00
        } else {
            v.default_rdp
        },
        (obr >> v.user_shift) as u8,
        (obr >> v.data_shift) as u8,
        (obr >> (v.data_shift + 8)) as u8,
        wrpr as u8,
        (wrpr >> 8) as u8,
        (wrpr >> 16) as u8,
        (wrpr >> 24) as u8,
    ];
    let mut raw = [0u16; 8];
    core.read_16(OPTION_BYTES, &mut raw)?;
    let mut out = [0u8; 8];
    for i in 0..8 {
        let (b, c) = (raw[i] as u8, (raw[i] >> 8) as u8);
        out[i] = if b ^ c == 0xff { b } else { from_regs[i] };
    }
    Ok(out)
}

/// `stm32x_erase_options` + `stm32x_write_options`: erase the option bytes (OPTER), program the
/// eight half-words (OPTPG; the FPEC writes each complement), lock the FPEC (also on failure).
pub fn rewrite_options(core: &mut Core<'_>, opts: &[u8; 8]) -> Result<(), probe_rs::Error> {
    let r = (|| -> Result<(), probe_rs::Error> {
        unlock(core, true)?;
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
    })();
    let lock = core.write_word_32(FLASH_CR, CR_LOCK);
    r?;
    lock
}

/// `stm32x_mass_erase`: MER, MER|STRT, wait, LOCK (also on failure).
pub fn mass_erase(core: &mut Core<'_>) -> Result<(), probe_rs::Error> {
    let r = (|| -> Result<(), probe_rs::Error> {
        unlock(core, false)?;
        core.write_word_32(FLASH_CR, CR_MER)?;
        core.write_word_32(FLASH_CR, CR_MER | CR_STRT)?;
        wait(core, "mass erase")
    })();
    let lock = core.write_word_32(FLASH_CR, CR_LOCK);
    r?;
    lock
}

/// `stm32x_handle_options_load_command` on F3: FLASH_KEYR keys, then FLASH_CR = OBL_LAUNCH,
/// which reloads the option bytes through a system reset (RM0316 §4.5.5). The write may not be
/// acknowledged (the chip resets), so its result is ignored.
pub fn obl_launch(core: &mut Core<'_>) -> Result<(), probe_rs::Error> {
    unlock(core, false)?;
    let _ = core.write_word_32(FLASH_CR, CR_OBL_LAUNCH);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::line;

    #[test]
    fn sr_decoding() {
        assert_eq!(sr_bits(0x34), vec!["PGERR", "WRPRTERR", "EOP"]);
        assert!(sr_words(0x04)[0].starts_with("PGERR"));
        assert!(sr_words(0x10)[0].starts_with("WRPRTERR"));
        assert!(sr_words(0x20).is_empty());
    }

    #[test]
    fn rdp_levels_per_variant() {
        assert_eq!(rdp_of(&F1, 0x03ff_fffc), Rdp::Level0);
        assert_eq!(rdp_of(&F1, 0x03ff_fffe), Rdp::Level1);
        assert_eq!(rdp_of(&F1, 0x0000_0006), Rdp::Level1);
        assert_eq!(rdp_of(&F3, 0x0000_0002), Rdp::Level1);
        assert_eq!(rdp_of(&F3, 0x0000_0006), Rdp::Level2);
        assert_eq!(variant(line(0x422).unwrap()), F3);
        assert_eq!(variant(line(0x410).unwrap()), F1);
    }

    #[test]
    fn read_flash_names_wrp_areas() {
        let l = line(0x410).unwrap();
        let mut rd = |a: u64| {
            Some(match a {
                FLASH_OBR => 0x03ff_fffc,
                FLASH_WRPR => 0xffff_feff,
                _ => 0,
            })
        };
        let st = STM32F1X.read_flash(l, 0, 0x0800_0000, 64, &mut rd).unwrap();
        assert_eq!(st.rdp, Rdp::Level0);
        let a = st.wrp_at(33).unwrap();
        assert_eq!(
            a.by,
            "WRP1 bit 0 (FLASH_WRPR = 0xfffffeff: bit 8 = 0 protects pages 32-35)"
        );
        assert!(a.fix.starts_with("'flash protect 0 8 8 off'"), "{}", a.fix);
        assert!(st.wrp_at(31).is_none());
        assert_eq!(st.wrp_words, "pages 32-35 write-protected");
        assert!(
            st.evidence
                .ends_with("FLASH_OBR = 0x03fffffc (RDPRT = 0), FLASH_WRPR = 0xfffffeff")
        );
        let mut rd = |a: u64| (a == FLASH_WRPR).then_some(0xffff_fffe);
        let blocks = STM32F1X
            .protection_blocks(l, 0, 0x0800_0000, 0x10000, 1024, &mut rd)
            .unwrap();
        assert_eq!(blocks.len(), 16);
        assert_eq!(blocks[0], (0, 4096, true));
        assert_eq!(blocks[1], (4096, 4096, false));
    }

    #[test]
    fn info_lines() {
        let mut rd = |_a: u64| None;
        assert_eq!(
            STM32F1X.info(line(0x410).unwrap(), 0x2003_6410, false, &mut rd),
            "STM32F10x (Medium Density) - Rev: Y"
        );
        assert_eq!(
            STM32F1X.info(line(0x422).unwrap(), 0x1003_6422, false, &mut rd),
            "STM32F302xB/C - Rev: Y"
        );
        assert_eq!(
            STM32F1X.info(line(0x410).unwrap(), 0x7777_6410, false, &mut rd),
            "STM32F10x (Medium Density) - Rev: unknown (0x7777)"
        );
    }
}
