//! The `stm32l4x` family: STM32G4 and STM32L4 (OpenOCD's `stm32l4x` driver serves both).
//!
//! FLASH registers at 0x4002_2000 (RM0351 §3.7, RM0440 §5.7): KEYR 0x08, OPTKEYR 0x0C, SR 0x10,
//! CR 0x14, OPTR 0x20, PCROP1SR 0x24, PCROP1ER 0x28, WRP1AR 0x2C, WRP1BR 0x30, WRP2AR 0x4C,
//! WRP2BR 0x50. RDP is OPTR[7:0] (0xAA level 0, 0xCC level 2, anything else level 1); a WRP area
//! is off when its start is above its end (OpenOCD `stm32l4_get_one_wrpxy`); geometry: L4 1 MiB
//! parts always dual bank, 256 pages of 2 KiB per bank (OPTR.DUALBANK bit 21 on the smaller ones);
//! G47x/G48x OPTR.DBANK bit 22: 1 = dual bank with 2 KiB pages, 0 = single bank with 4 KiB pages.
//!
//! The option-byte sequences follow OpenOCD 0.12's `stm32l4x.c` (`stm32l4_unlock_reg`,
//! `stm32l4_unlock_option_reg`, `stm32l4_write_option`, `stm32l4_perform_obl_launch`,
//! `stm32l4_mass_erase`) and are written against [`FlashRegs`], so that they run on a probe-rs
//! core and on the unit tests' fake controller alike ([`options`]).

pub mod options;
pub mod otp;

pub use options::{
    FlashRegs, mass_erase, obl_launch, unlock_option_reg, unlock_reg, wait_busy, write_option,
};

use super::{Driver, Family, FlashState, Line, Rdp, Reader, WrpArea};
use crate::command::Registry;

/// The FLASH register block.
pub const FLASH_BASE: u64 = 0x4002_2000;
/// FLASH_KEYR offset.
pub const KEYR: u32 = 0x08;
/// FLASH_OPTKEYR offset.
pub const OPTKEYR: u32 = 0x0C;
/// FLASH_SR offset.
pub const SR: u32 = 0x10;
/// FLASH_CR offset.
pub const CR: u32 = 0x14;
/// FLASH_OPTR offset.
pub const OPTR: u32 = 0x20;
/// FLASH_PCROP1SR offset.
pub const PCROP1SR: u32 = 0x24;
/// FLASH_PCROP1ER offset.
pub const PCROP1ER: u32 = 0x28;
/// FLASH_WRP1AR offset.
pub const WRP1AR: u32 = 0x2C;
/// FLASH_WRP1BR offset.
pub const WRP1BR: u32 = 0x30;
/// FLASH_WRP2AR offset.
pub const WRP2AR: u32 = 0x4C;
/// FLASH_WRP2BR offset.
pub const WRP2BR: u32 = 0x50;

/// The OTP area (RM0351 §3.3.1, RM0440 §5.3.1): 1 KiB, programmable once, never erased.
pub const OTP_BASE: u64 = 0x1FFF_7000;
/// Its size in bytes.
pub const OTP_SIZE: u32 = 1024;

/// The address of a FLASH register.
pub const fn reg(offset: u32) -> u64 {
    FLASH_BASE + offset as u64
}

/// KEYR unlock keys (RM0351 §3.3.5).
pub const KEY1: u32 = 0x4567_0123;
/// Second KEYR key.
pub const KEY2: u32 = 0xCDEF_89AB;
/// OPTKEYR keys (RM0351 §3.4.2).
pub const OPTKEY1: u32 = 0x0819_2A3B;
/// Second OPTKEYR key.
pub const OPTKEY2: u32 = 0x4C5D_6E7F;

/// FLASH_SR bits (RM0351 §3.7.4).
pub mod sr {
    /// EOP.
    pub const EOP: u32 = 1 << 0;
    /// OPERR.
    pub const OPERR: u32 = 1 << 1;
    /// PROGERR.
    pub const PROGERR: u32 = 1 << 3;
    /// WRPERR.
    pub const WRPERR: u32 = 1 << 4;
    /// PGAERR.
    pub const PGAERR: u32 = 1 << 5;
    /// SIZERR.
    pub const SIZERR: u32 = 1 << 6;
    /// PGSERR.
    pub const PGSERR: u32 = 1 << 7;
    /// MISERR.
    pub const MISERR: u32 = 1 << 8;
    /// FASTERR.
    pub const FASTERR: u32 = 1 << 9;
    /// RDERR.
    pub const RDERR: u32 = 1 << 14;
    /// OPTVERR.
    pub const OPTVERR: u32 = 1 << 15;
    /// BSY.
    pub const BSY: u32 = 1 << 16;
    /// Every error bit (OpenOCD `FLASH_ERROR`).
    pub const ERRORS: u32 =
        OPERR | PROGERR | WRPERR | PGAERR | SIZERR | PGSERR | MISERR | FASTERR | RDERR | OPTVERR;
}

/// FLASH_CR bits (RM0351 §3.7.5).
pub mod cr {
    /// PG: programming (double words).
    pub const PG: u32 = 1 << 0;
    /// MER1: mass erase of bank 1.
    pub const MER1: u32 = 1 << 2;
    /// MER2: mass erase of bank 2.
    pub const MER2: u32 = 1 << 15;
    /// STRT.
    pub const STRT: u32 = 1 << 16;
    /// OPTSTRT: program the option registers into the option bytes.
    pub const OPTSTRT: u32 = 1 << 17;
    /// OBL_LAUNCH: reload the option bytes (a system reset).
    pub const OBL_LAUNCH: u32 = 1 << 27;
    /// OPTLOCK.
    pub const OPTLOCK: u32 = 1 << 30;
    /// LOCK.
    pub const LOCK: u32 = 1 << 31;
}

/// FLASH_OPTR.RDP of read-out protection level 2 (permanent), RM0351 §3.7.8, RM0440 §5.7.8.
pub const RDP_LEVEL2: u32 = 0xCC;
/// OPTR.DUALBANK on the L47x/L49x with less than 1 MiB (RM0351 §3.7.8).
pub const OPTR_L4_DUALBANK: u32 = 1 << 21;
/// OPTR.DBANK on G47x/G48x and L4R/L4P (RM0440 §5.7.8).
pub const OPTR_DBANK: u32 = 1 << 22;

/// The names and meanings of the FLASH_SR bits (RM0351 §3.7.4, RM0440 §5.7.4).
pub const SR_BITS: &[(u32, &str, &str)] = &[
    (
        sr::OPERR,
        "OPERR",
        "OPERR: an erase or program operation failed (reported with ERRIE set)",
    ),
    (
        sr::PROGERR,
        "PROGERR",
        "PROGERR: a double word was programmed that was not erased (it did not read all ones): erase the page first",
    ),
    (
        sr::WRPERR,
        "WRPERR",
        "WRPERR: the address lies in a write-protected (WRP), PCROP or read-protected area",
    ),
    (
        sr::PGAERR,
        "PGAERR",
        "PGAERR: the programmed data was not one aligned 64-bit double word (a row crossed or an unaligned address)",
    ),
    (
        sr::SIZERR,
        "SIZERR",
        "SIZERR: a byte or half-word write with PG set: the flash takes 32-bit words, two per double word",
    ),
    (
        sr::PGSERR,
        "PGSERR",
        "PGSERR: a flash write without PG, or with an error flag of an earlier operation still set",
    ),
    (
        sr::MISERR,
        "MISERR",
        "MISERR: fast programming got its data too late",
    ),
    (
        sr::FASTERR,
        "FASTERR",
        "FASTERR: fast programming was interrupted",
    ),
    (sr::RDERR, "RDERR", "RDERR: a read of a PCROP area"),
    (
        sr::OPTVERR,
        "OPTVERR",
        "OPTVERR: the option bytes loaded at reset were invalid",
    ),
    (sr::BSY, "BSY", "BSY: an operation is still in progress"),
];

/// The names of the set FLASH_SR bits (EOP included).
pub fn sr_bits(v: u32) -> Vec<&'static str> {
    let mut out: Vec<&str> = SR_BITS
        .iter()
        .filter(|(b, _, _)| v & b != 0)
        .map(|(_, n, _)| *n)
        .collect();
    if v & sr::EOP != 0 {
        out.insert(0, "EOP");
    }
    out
}

/// The set FLASH_SR error bits in words.
pub fn sr_words(v: u32) -> Vec<&'static str> {
    SR_BITS
        .iter()
        .filter(|(b, _, _)| v & b != 0)
        .map(|(_, _, w)| *w)
        .collect()
}

/// RDP level from OPTR[7:0].
pub fn rdp_of(optr: u32) -> Rdp {
    match optr & 0xFF {
        0xAA => Rdp::Level0,
        RDP_LEVEL2 => Rdp::Level2,
        _ => Rdp::Level1,
    }
}

/// Whether the flash runs as two banks (OpenOCD `stm32l4_probe`).
pub fn dual_bank_mode(line: &Line, optr: u32, flash_kib: u32) -> bool {
    match line.dev_id {
        0x415 | 0x461 => flash_kib >= line.max_kib || optr & OPTR_L4_DUALBANK != 0,
        0x469 | 0x470 | 0x471 => optr & OPTR_DBANK != 0,
        _ => false,
    }
}

/// One WRP area register decoded (OpenOCD `stm32l4_get_one_wrpxy`): pages `first..=last` from the
/// bank start, used when `first <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrpReg {
    /// Register name, e.g. `FLASH_WRP1AR`.
    pub name: &'static str,
    /// Register offset.
    pub offset: u32,
    /// Raw value.
    pub value: u32,
    /// First page.
    pub first: u64,
    /// Last page.
    pub last: u64,
}

impl WrpReg {
    /// The area is on.
    pub fn used(&self) -> bool {
        self.first <= self.last
    }
}

/// The WRP areas of a bank with `pages` pages (OpenOCD `stm32l4_get_all_wrpxy` with
/// `STM32_ALL_BANKS`): WRP1A/B from page 0; WRP2A/B from the second bank's first page in dual-bank
/// mode, or from page 0 on single-bank G47x/L4R (all four areas usable).
pub fn wrp_regs(line: &Line, optr: u32, pages: u64, rd: &mut Reader<'_>) -> Option<Vec<WrpReg>> {
    let kib = (pages * u64::from(line.page_size) / 1024) as u32;
    let dual = dual_bank_mode(line, optr, kib);
    let per_bank = if dual { pages / 2 } else { pages };
    let mask = per_bank.max(1).next_power_of_two().saturating_sub(1) as u32;
    let mut out = Vec::new();
    let one = |name, offset: u32, base: u64, rd: &mut Reader<'_>| -> Option<WrpReg> {
        let value = rd(reg(offset))?;
        Some(WrpReg {
            name,
            offset,
            value,
            first: u64::from(value & mask) + base,
            last: u64::from((value >> 16) & mask) + base,
        })
    };
    out.push(one("FLASH_WRP1AR", WRP1AR, 0, rd)?);
    out.push(one("FLASH_WRP1BR", WRP1BR, 0, rd)?);
    let all_wrp_single = matches!(line.dev_id, 0x469 | 0x470 | 0x471) && !dual;
    let second = if dual {
        Some(per_bank)
    } else if all_wrp_single {
        Some(0)
    } else {
        None
    };
    if let Some(base) = second {
        out.push(one("FLASH_WRP2AR", WRP2AR, base, rd)?);
        out.push(one("FLASH_WRP2BR", WRP2BR, base, rd)?);
    }
    Some(out)
}

/// The protected pages as OpenOCD's `wrp_info` prints them: `0-3, 8` ranges of page numbers.
pub fn ranges_text(areas: &[WrpReg], pages: u64) -> Option<String> {
    let mut prot = vec![false; pages as usize];
    for a in areas.iter().filter(|a| a.used()) {
        for p in a.first..=a.last.min(pages.saturating_sub(1)) {
            prot[p as usize] = true;
        }
    }
    let mut parts = Vec::new();
    let mut p = 0usize;
    while p < prot.len() {
        if prot[p] {
            let s = p;
            while p + 1 < prot.len() && prot[p + 1] {
                p += 1;
            }
            parts.push(if s == p {
                format!("{s}")
            } else {
                format!("{s}-{p}")
            });
        }
        p += 1;
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The PCROP1_STRT / PCROP1_END field of `line`: 15 bits on the G4 (RM0440 §5.7.9-§5.7.10; bit
/// 15 is reserved and reads 1), 16 bits on the L4 (RM0351 §3.7.9-§3.7.10).
pub fn pcrop_mask(line: &Line) -> u32 {
    match line.dev_id {
        // G431/G441, G47x/G48x, G491/G4A1.
        0x468 | 0x469 | 0x479 => 0x7FFF,
        _ => 0xFFFF,
    }
}

/// The `stm32l4x` family.
#[derive(Debug)]
pub struct Stm32l4x;

/// The one instance.
pub static STM32L4X: Stm32l4x = Stm32l4x;

impl Family for Stm32l4x {
    /// FLASH_CR.LOCK (RM0351 §3.7.5, RM0440 §5.7.5).
    fn control_locks(&self) -> &'static [(u64, u32)] {
        &[(FLASH_BASE + CR as u64, cr::LOCK)]
    }

    fn driver(&self) -> Driver {
        Driver::Stm32l4x
    }

    fn chips(&self) -> &'static str {
        "STM32G4/L4"
    }

    fn page_size(&self, line: &Line, rd: &mut Reader<'_>) -> u32 {
        let optr = rd(reg(OPTR)).unwrap_or(0);
        match line.dev_id {
            0x469 if optr & OPTR_DBANK != 0 => 2048,
            0x470 | 0x471 if optr & OPTR_DBANK != 0 => 4096,
            _ => line.page_size,
        }
    }

    fn log_probe(&self, line: Option<&Line>, idcode: u32, rd: &mut Reader<'_>) {
        let rev = (idcode >> 16) as u16;
        match line {
            Some(l) => tracing::info!(
                "device idcode = 0x{idcode:08x} ({} - Rev {} : 0x{rev:04x})",
                l.device,
                l.revision(rev).unwrap_or("'unknown'")
            ),
            None => tracing::info!("device idcode = 0x{idcode:08x}"),
        }
        // OpenOCD: "0" for 0xAA, "0.5" for 0x55 (TrustZone parts), else "1" (level 2 cannot be
        // read over SWD at all).
        if let (Some(_), Some(optr)) = (line, rd(reg(OPTR))) {
            let rdp = optr & 0xFF;
            let level = match rdp {
                0xAA => "0",
                0x55 => "0.5",
                _ => "1",
            };
            tracing::info!("RDP level {level} (0x{rdp:02X})");
        }
    }

    fn log_mode(&self, line: &Line, kib: u32, rd: &mut Reader<'_>) {
        if let Some(optr) = rd(reg(OPTR)) {
            let mode = if dual_bank_mode(line, optr, kib) {
                "dual"
            } else {
                "single"
            };
            tracing::info!("flash mode : {mode}-bank");
        }
    }

    fn read_flash(
        &self,
        line: &Line,
        bank_index: usize,
        _bank_base: u64,
        bank_pages: u64,
        rd: &mut Reader<'_>,
    ) -> Option<FlashState> {
        let sr_v = rd(reg(SR))?;
        let cr_v = rd(reg(CR))?;
        let optr = rd(reg(OPTR))?;
        let pcrop_s = rd(reg(PCROP1SR))?;
        let pcrop_e = rd(reg(PCROP1ER))?;
        let page = u64::from(self.page_size(line, &mut |a| rd(a)));
        let pages = bank_pages.max(1);
        let regs = wrp_regs(line, optr, pages, rd)?;
        let mut wrp: Vec<WrpArea> = regs
            .iter()
            .filter(|a| a.used())
            .map(|a| WrpArea {
                pages: a.first..a.last + 1,
                by: format!(
                    "{} = 0x{:08x} (protects pages {}-{})",
                    a.name, a.value, a.first, a.last
                ),
                fix: format!(
                    "'stm32l4x option_write {bank_index} 0x{:x} 0x000000ff 0x00ff00ff' (start above end turns the area off) then 'stm32l4x option_load {bank_index}'",
                    a.offset
                ),
            })
            .collect();
        // PCROP1: double words PCROP1_STRT..=PCROP1_END from the flash start (RM0351 §3.7.9).
        let m = pcrop_mask(line);
        let (ps, pe) = (u64::from(pcrop_s & m), u64::from(pcrop_e & m));
        let pcrop_on = ps <= pe && pcrop_e & m != 0;
        if pcrop_on {
            wrp.push(WrpArea {
                pages: ps * 8 / page..pe * 8 / page + 1,
                by: format!(
                    "PCROP1 (FLASH_PCROP1SR = 0x{pcrop_s:08x}, FLASH_PCROP1ER = 0x{pcrop_e:08x}: execute-only code, double words {ps}-{pe})"
                ),
                // PCROP goes only with a full mass erase: the RDP regression 1 -> 0 with
                // PCROP1ER.PCROP_RDP (bit 31) set, which can only be set (RM0351 §3.7.10).
                fix: if pcrop_e & (1 << 31) != 0 {
                    format!(
                        "PCROP is removed only by the RDP regression to level 0 (PCROP_RDP is set, so it erases the PCROP area too): 'stm32l4x lock {bank_index}', 'stm32l4x option_load {bank_index}', 'stm32l4x unlock {bank_index}', 'stm32l4x option_load {bank_index}' (mass-erases the flash)"
                    )
                } else {
                    format!(
                        "PCROP is removed only by the RDP regression to level 0 with PCROP_RDP set (it is clear: FLASH_PCROP1ER bit 31 = 0, so a regression now would keep the PCROP area): 'stm32l4x option_write {bank_index} 0x28 0x80000000 0x80000000', then 'stm32l4x lock {bank_index}', 'stm32l4x option_load {bank_index}', 'stm32l4x unlock {bank_index}', 'stm32l4x option_load {bank_index}' (mass-erases the flash)"
                    )
                },
            });
        }
        let used: Vec<String> = regs
            .iter()
            .filter(|a| a.used())
            .map(|a| format!("{} pages {}-{}", a.name, a.first, a.last))
            .collect();
        let mut wrp_words = if used.is_empty() {
            "no page write-protected".to_string()
        } else {
            format!("write-protected: {}", used.join(", "))
        };
        if pcrop_on {
            wrp_words.push_str("; PCROP1 area active");
        }
        let bits = sr_bits(sr_v);
        let sr_text = if bits.is_empty() {
            "no error bits".to_string()
        } else {
            bits.join(", ")
        };
        let wrp_text: Vec<String> = regs
            .iter()
            .map(|a| format!("{} = 0x{:08x}", a.name, a.value))
            .collect();
        Some(FlashState {
            rdp: rdp_of(optr),
            rdp_register: "FLASH_OPTR",
            rdp_raw: optr,
            rdp_evidence: format!("FLASH_OPTR = 0x{optr:08x}, RDP = 0x{:02x}", optr & 0xFF),
            wrp_register: "FLASH_WRP1AR",
            wrp_raw: regs[0].value,
            wrp_words,
            wrp,
            program_error: "PROGERR",
            wrp_error: "FLASH_SR.WRPERR",
            sr: sr_v,
            sr_words: sr_words(sr_v),
            evidence: format!(
                "FLASH_SR = 0x{sr_v:08x} ({sr_text}), FLASH_CR = 0x{cr_v:08x}, FLASH_OPTR = 0x{optr:08x} (RDP = 0x{:02x}), {}, FLASH_PCROP1SR = 0x{pcrop_s:08x}, FLASH_PCROP1ER = 0x{pcrop_e:08x}",
                optr & 0xFF,
                wrp_text.join(", ")
            ),
        })
    }

    fn unexplained_failure(&self, page_blank: Option<bool>) -> &'static str {
        match page_blank {
            Some(false) => {
                "the page holds data that was not erased, so programming it failed with PROGERR (programming a double word that does not read all ones): erase first ('program' or 'flash write_image erase')"
            }
            Some(true) => {
                "the page reads erased, so the controller refused the write itself (PROGERR, PGAERR, SIZERR, PGSERR or WRPERR, cleared by the algorithm): the write was disturbed (supply voltage, flash wear)"
            }
            None => {
                "the page was probably not erased (PROGERR: programming a non-erased double word), or the write was disturbed"
            }
        }
    }

    fn protection_blocks(
        &self,
        line: &Line,
        bank_index: usize,
        bank_base: u64,
        size: u32,
        page_size: u32,
        rd: &mut Reader<'_>,
    ) -> Option<Vec<(u32, u32, bool)>> {
        let pages = u64::from(size / page_size.max(1));
        let st = self.read_flash(line, bank_index, bank_base, pages, rd)?;
        Some(
            (0..pages)
                .map(|p| ((p as u32) * page_size, page_size, st.wrp_at(p).is_some()))
                .collect(),
        )
    }

    fn info(&self, line: &Line, idcode: u32, otp: bool, rd: &mut Reader<'_>) -> String {
        let rev = (idcode >> 16) as u16;
        let mut s = format!(
            "{} - Rev {} : 0x{rev:04x}",
            line.device,
            line.revision(rev).unwrap_or("'unknown'")
        );
        if otp {
            s.push_str(" - OTP-bank");
        } else if let Some(optr) = rd(reg(OPTR)) {
            let kib = rd(line.flash_size_reg & !3)
                .map(|v| (v >> ((line.flash_size_reg & 3) * 8)) & 0xFFFF)
                .filter(|k| *k != 0 && *k != 0xFFFF)
                .unwrap_or(line.max_kib);
            let dual = dual_bank_mode(line, optr, kib);
            s.push_str(if dual {
                " - Flash dual-bank"
            } else {
                " - Flash single-bank"
            });
        }
        s
    }

    fn unlock_fix(&self, bank: usize) -> String {
        format!("'stm32l4x unlock {bank}' then 'stm32l4x option_load {bank}' (or a power cycle)")
    }

    fn protection_registers(&self) -> (&'static str, &'static str) {
        ("FLASH_OPTR", "FLASH_WRP1AR")
    }

    fn protect_blocks(
        &self,
        _line: &Line,
        index: usize,
        _size: u64,
        _page_size: u64,
    ) -> Result<(u64, u64), String> {
        Err(format!(
            "flash bank #{index} (driver stm32l4x): stdbg does not set the WRP areas (FLASH_WRP1AR/WRP1BR/WRP2AR/WRP2BR, RM0351 §3.5.2) with 'flash protect' yet; nothing was changed. Set area A of bank 1 with 'stm32l4x option_write {index} 0x2c 0x00EE00SS 0x00ff00ff' (SS = first page, EE = last page) then 'stm32l4x option_load {index}'; remove it with 'stm32l4x option_write {index} 0x2c 0x000000ff 0x00ff00ff' (start above end) then 'stm32l4x option_load {index}'; 'stm32l4x wrp_info {index}' lists the protected pages (docs/families.md)"
        ))
    }

    fn register_commands(&self, reg: &mut Registry) {
        crate::command::builtin::stm32l4x::register(reg);
    }

    fn fixed_geometry(&self, base: u64) -> Option<super::Geometry> {
        // The OTP area: 1 KiB at 0x1FFF_7000, one sector (OpenOCD `stm32l4_probe`).
        (base == OTP_BASE).then_some(super::Geometry {
            size: OTP_SIZE,
            page_size: OTP_SIZE,
        })
    }

    fn direct_plan(
        &self,
        bank: &crate::host::FlashBank,
        index: usize,
        core: &mut probe_rs::Core<'_>,
        addr: u64,
        data: &[u8],
    ) -> Result<Vec<(u64, u64)>, super::DirectError> {
        if !otp::enabled(&bank.name) {
            return Err(otp::OtpError::Disabled {
                bank: bank.name.clone(),
                index,
            }
            .into());
        }
        Ok(otp::plan(core, addr, data)?)
    }

    fn direct_write(
        &self,
        core: &mut probe_rs::Core<'_>,
        words: &[(u64, u64)],
    ) -> Result<(), super::DirectError> {
        Ok(otp::program(core, words)?)
    }
}

#[cfg(test)]
mod tests;
