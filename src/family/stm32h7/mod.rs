//! The `stm32h7x` family: the STM32H7 flash controller (RM0433 §4, "Embedded flash memory") as
//! OpenOCD 0.12's `stm32h7x.c` drives it, for the H74x/H75x, H7Ax/H7Bx and H72x/H73x lines.
//!
//! Registers: one set per bank, bank 1 at 0x5200_2000, bank 2 at 0x5200_2100 (RM0433 §4.9):
//! KEYR 0x04, OPTKEYR 0x08, CR 0x0C, SR 0x10, CCR 0x14, OPTCR 0x18, OPTSR_CUR 0x1C,
//! OPTSR_PRG 0x20, OPTCCR 0x24, WPSN_CUR 0x38, WPSN_PRG 0x3C. The option registers are shared
//! by the banks and visible from both bases (OpenOCD addresses them from the bank's own base).
//! Geometry: 128 KiB sectors (H7A/B: 8 KiB), a 256-bit flash word (32 bytes; H7A/B 128 bit), two
//! banks of half the flash-size register's value each on dual-bank parts, the second always at
//! 0x0810_0000. RDP is OPTSR_CUR[15:8] (0xAA level 0, 0xCC level 2, anything else level 1).
//! Write protection: WPSN_CURx bit n = 0 protects sector n of bank x (H7A/B: a group of 4).
//! Option changes (RDP, WPSN) are programmed by OPTCR.OPTSTART and take effect when it ends: the
//! H7 has no OBL_LAUNCH.

pub mod options;

use super::{Driver, Family, FlashState, Geometry, Line, Rdp, Reader, WrpArea};
use crate::command::Registry;
use crate::host::FlashBank;

/// Bank 1's register base.
pub const REGS_BANK1: u64 = 0x5200_2000;
/// Bank 2's register base.
pub const REGS_BANK2: u64 = 0x5200_2100;
/// Bank 1's flash base.
pub const BANK1_BASE: u64 = 0x0800_0000;
/// Bank 2's flash base (every dual-bank H7).
pub const BANK2_BASE: u64 = 0x0810_0000;

/// FLASH_KEYRx.
pub const KEYR: u32 = 0x04;
/// FLASH_OPTKEYR.
pub const OPTKEYR: u32 = 0x08;
/// FLASH_CRx.
pub const CR: u32 = 0x0C;
/// FLASH_SRx.
pub const SR: u32 = 0x10;
/// FLASH_CCRx (write 1 to clear SRx flags).
pub const CCR: u32 = 0x14;
/// FLASH_OPTCR.
pub const OPTCR: u32 = 0x18;
/// FLASH_OPTSR_CUR.
pub const OPTSR_CUR: u32 = 0x1C;
/// FLASH_OPTSR_PRG.
pub const OPTSR_PRG: u32 = 0x20;
/// FLASH_OPTCCR.
pub const OPTCCR: u32 = 0x24;
/// FLASH_WPSN_CURxR.
pub const WPSN_CUR: u32 = 0x38;
/// FLASH_WPSN_PRGxR.
pub const WPSN_PRG: u32 = 0x3C;

/// FLASH_CRx bits (RM0433 §4.9.4).
pub mod cr {
    /// LOCK.
    pub const LOCK: u32 = 1 << 0;
    /// PG.
    pub const PG: u32 = 1 << 1;
    /// SER: sector erase.
    pub const SER: u32 = 1 << 2;
    /// BER: bank erase.
    pub const BER: u32 = 1 << 3;
    /// PSIZE = 64 bits (what OpenOCD sets).
    pub const PSIZE_64: u32 = 3 << 4;
    /// START.
    pub const START: u32 = 1 << 7;
}

/// FLASH_OPTCR / FLASH_OPTSR bits (RM0433 §4.9.7-§4.9.9).
pub mod opt {
    /// OPTCR.OPTLOCK.
    pub const LOCK: u32 = 1 << 0;
    /// OPTCR.OPTSTART.
    pub const START: u32 = 1 << 1;
    /// OPTSR_CUR.OPT_BUSY.
    pub const BUSY: u32 = 1 << 0;
    /// OPTSR_CUR.OPTCHANGEERR; OPTCCR.CLR_OPTCHANGEERR.
    pub const CHANGEERR: u32 = 1 << 30;
}

/// FLASH_SRx bits: (mask, name, meaning and what to do) (RM0433 §4.9.5).
pub const SR_BITS: &[(u32, &str, &str)] = &[
    (1 << 0, "BSY", "BSY: an operation is running"),
    (
        1 << 1,
        "WBNE",
        "WBNE: the write buffer holds part of a flash word (fewer than 8 words written)",
    ),
    (1 << 2, "QW", "QW: an operation is queued"),
    (1 << 16, "EOP", "EOP: end of operation"),
    (
        1 << 17,
        "WRPERR",
        "WRPERR: write-protection error: the sector is protected by FLASH_WPSN_CURxR (or by read-out protection)",
    ),
    (
        1 << 18,
        "PGSERR",
        "PGSERR: programming sequence error: a write to flash without PG, or PG/SER/BER changed while the write buffer was not empty",
    ),
    (
        1 << 19,
        "STRBERR",
        "STRBERR: strobe error: the same word of a flash word was written twice before it was programmed",
    ),
    (
        1 << 21,
        "INCERR",
        "INCERR: inconsistency error: a write to another flash word before the write buffer was full (8 words of one 32-byte flash word)",
    ),
    (
        1 << 22,
        "OPERR",
        "OPERR: write/erase error (an operation failed; see the other bits)",
    ),
    (
        1 << 23,
        "RDPERR",
        "RDPERR: read-protection error: a read of a PCROP or secure-only area",
    ),
    (
        1 << 24,
        "RDSERR",
        "RDSERR: secure error: a read of a secure-only area",
    ),
    (
        1 << 25,
        "SNECCERR",
        "SNECCERR: a single ECC error was corrected",
    ),
    (
        1 << 26,
        "DBECCERR",
        "DBECCERR: a double ECC error was detected (a flash word programmed twice without an erase reads with ECC errors)",
    ),
];

/// The error bits of FLASH_SRx.
pub const SR_ERRORS: u32 = (1 << 17)
    | (1 << 18)
    | (1 << 19)
    | (1 << 21)
    | (1 << 22)
    | (1 << 23)
    | (1 << 24)
    | (1 << 25)
    | (1 << 26);

/// The register base serving the bank at `bank_base`.
pub fn regs_of(bank_base: u64) -> u64 {
    if bank_base == BANK2_BASE {
        REGS_BANK2
    } else {
        REGS_BANK1
    }
}

/// The names of the set SRx bits.
pub fn sr_bits(v: u32) -> Vec<&'static str> {
    SR_BITS
        .iter()
        .filter(|(m, _, _)| v & m != 0)
        .map(|(_, n, _)| *n)
        .collect()
}

/// The set SRx error bits in words.
pub fn sr_words(v: u32) -> Vec<&'static str> {
    SR_BITS
        .iter()
        .filter(|(m, _, _)| v & m & SR_ERRORS != 0)
        .map(|(_, _, w)| *w)
        .collect()
}

/// RDP from OPTSR[15:8].
pub fn rdp_of(optsr: u32) -> Rdp {
    match (optsr >> 8) & 0xFF {
        0xAA => Rdp::Level0,
        0xCC => Rdp::Level2,
        _ => Rdp::Level1,
    }
}

/// Sectors per write-protection bit (H7A/B: 4, RM0455; else 1).
fn wps_group(line: &Line) -> u64 {
    if line.dev_id == 0x480 { 4 } else { 1 }
}

/// Bank size in KiB from the flash-size register (OpenOCD `stm32x_probe`): the dual-bank lines
/// split it in two, except a 128 KiB part, which has one bank.
pub fn bank_kib(line: &Line, fsize_kib: u32) -> (u32, bool) {
    match line.dev_id {
        0x450 | 0x480 if fsize_kib != 128 => (fsize_kib / 2, true),
        _ => (fsize_kib, false),
    }
}

/// The `stm32h7x` family.
#[derive(Debug)]
pub struct Stm32h7x;

/// The one instance.
pub static STM32H7X: Stm32h7x = Stm32h7x;

fn bank_number(base: u64) -> u32 {
    u32::from(base == BANK2_BASE) + 1
}

impl Family for Stm32h7x {
    /// FLASH_CR1.LOCK1 and FLASH_CR2.LOCK2 (RM0433 §4.9.4).
    fn control_locks(&self) -> &'static [(u64, u32)] {
        &[
            (REGS_BANK1 + CR as u64, cr::LOCK),
            (REGS_BANK2 + CR as u64, cr::LOCK),
        ]
    }

    fn driver(&self) -> Driver {
        Driver::Stm32h7x
    }

    fn chips(&self) -> &'static str {
        "STM32H7"
    }

    fn page_size(&self, line: &Line, _rd: &mut Reader<'_>) -> u32 {
        line.page_size
    }

    fn log_probe(&self, line: Option<&Line>, idcode: u32, _rd: &mut Reader<'_>) {
        match line {
            Some(l) => tracing::info!("Device: {}", l.device),
            None => tracing::warn!(
                "Cannot identify target as a STM32H7xx family (DBGMCU_IDCODE 0x{idcode:08x})."
            ),
        }
    }

    fn size_bank(
        &self,
        line: &Line,
        bank: &FlashBank,
        index: usize,
        fsize_kib: Option<u32>,
        page_size: u32,
        _rd: &mut Reader<'_>,
    ) -> Result<Geometry, String> {
        let fsize = match fsize_kib {
            Some(k) => {
                tracing::info!("flash size probed value {k}k");
                k
            }
            None => {
                tracing::info!("assuming {}k flash", line.max_kib);
                line.max_kib
            }
        };
        let (mut kib, dual) = bank_kib(line, fsize);
        if dual {
            tracing::info!("STM32H7 flash has dual banks");
            if bank.base != BANK1_BASE && bank.base != BANK2_BASE {
                return Err(format!(
                    "STM32H7 flash bank base address config is incorrect. 0x{:08x} but should rather be 0x{BANK1_BASE:08x} or 0x{BANK2_BASE:08x}",
                    bank.base
                ));
            }
        } else {
            tracing::info!("STM32H7 flash has a single bank");
            if bank.base == BANK2_BASE {
                return Err("this device has a single bank only".into());
            }
            if bank.base != BANK1_BASE {
                return Err(format!(
                    "STM32H7 flash bank base address config is incorrect. 0x{:08x} but should be 0x{BANK1_BASE:08x}",
                    bank.base
                ));
            }
        }
        tracing::info!(
            "Bank ({index}) size is {kib} kb, base address is 0x{:08x}",
            bank.base
        );
        if bank.size != 0 {
            tracing::info!("ignoring flash probed value, using configured bank size");
            kib = bank.size / 1024;
        } else if kib == 0xFFFF {
            kib = line.max_kib;
        }
        Ok(Geometry {
            size: kib * 1024,
            page_size,
        })
    }

    fn read_flash(
        &self,
        line: &Line,
        bank_index: usize,
        bank_base: u64,
        bank_pages: u64,
        rd: &mut Reader<'_>,
    ) -> Option<FlashState> {
        let base = regs_of(bank_base);
        let n = bank_number(bank_base);
        let sr_v = rd(base + u64::from(SR))?;
        let cr_v = rd(base + u64::from(CR))?;
        let optsr = rd(base + u64::from(OPTSR_CUR))?;
        let wpsn = rd(base + u64::from(WPSN_CUR))?;
        let group = wps_group(line);
        // One bank never has more sectors than half the line's largest flash on dual-bank
        // parts (a caller that sized the whole flash, as `doctor` before any probe, would
        // otherwise read WPSN bits 8-15 of an H74x as protected sectors).
        let per_bank =
            u64::from(bank_kib(line, line.max_kib).0) * 1024 / u64::from(line.page_size.max(1));
        let sectors = bank_pages.clamp(1, per_bank.max(1));
        let wrp_name: &'static str = if n == 2 {
            "FLASH_WPSN_CUR2R"
        } else {
            "FLASH_WPSN_CUR1R"
        };
        let wrp: Vec<WrpArea> = (0..sectors.div_ceil(group))
            .filter(|b| *b < 32 && wpsn & (1 << b) == 0)
            .map(|b| WrpArea {
                pages: b * group..((b + 1) * group).min(sectors),
                by: format!(
                    "{wrp_name} = 0x{wpsn:08x}: bit {b} = 0 protects sector{} {}",
                    if group > 1 { "s" } else { "" },
                    if group > 1 {
                        format!("{}-{}", b * group, (b + 1) * group - 1)
                    } else {
                        b.to_string()
                    }
                ),
                fix: format!(
                    "'flash protect {bank_index} {b} {b} off' (FLASH_WPSN_PRG{n}R + OPTSTART: in force at once)"
                ),
            })
            .collect();
        let wrp_words = if wrp.is_empty() {
            "no sector write-protected".to_string()
        } else {
            let list: Vec<String> = wrp.iter().map(|a| a.pages.start.to_string()).collect();
            format!("write-protected sectors: {}", list.join(", "))
        };
        let bits = sr_bits(sr_v);
        let sr_text = if bits.is_empty() {
            "no error bits".to_string()
        } else {
            bits.join(", ")
        };
        let rdp = (optsr >> 8) & 0xFF;
        Some(FlashState {
            rdp: rdp_of(optsr),
            rdp_register: "FLASH_OPTSR_CUR",
            rdp_raw: optsr,
            rdp_evidence: format!("FLASH_OPTSR_CUR = 0x{optsr:08x}, RDP = 0x{rdp:02x}"),
            wrp_register: wrp_name,
            wrp_raw: wpsn,
            wrp_words,
            wrp,
            wrp_error: if n == 2 {
                "FLASH_SR2.WRPERR"
            } else {
                "FLASH_SR1.WRPERR"
            },
            program_error: "DBECCERR",
            sr: sr_v,
            sr_words: sr_words(sr_v),
            evidence: format!(
                "FLASH_SR{n} = 0x{sr_v:08x} ({sr_text}), FLASH_CR{n} = 0x{cr_v:08x}, FLASH_OPTSR_CUR = 0x{optsr:08x} (RDP = 0x{rdp:02x}), {wrp_name} = 0x{wpsn:08x}"
            ),
        })
    }

    fn unexplained_failure(&self, page_blank: Option<bool>) -> &'static str {
        match page_blank {
            Some(false) => {
                "the sector holds data that was not erased: the H7 programs a flash word only once after an erase (a second write leaves ECC errors, DBECCERR on read): erase first ('program' or 'flash write_image erase')"
            }
            Some(true) => {
                "the sector reads erased, so the controller refused the write itself (PGSERR, STRBERR, INCERR or WRPERR, cleared by the algorithm): the write was disturbed (supply voltage, flash wear)"
            }
            None => {
                "the sector was probably not erased (a flash word is programmed once after an erase), or the write was disturbed"
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
        let sectors = u64::from(size / page_size.max(1));
        let st = self.read_flash(line, bank_index, bank_base, sectors, rd)?;
        let group = wps_group(line) as u32;
        let block = page_size * group;
        Some(
            (0..(size / block.max(1)))
                .map(|b| (b * block, block, st.wrp_at(u64::from(b * group)).is_some()))
                .collect(),
        )
    }

    fn info(&self, line: &Line, idcode: u32, _otp: bool, _rd: &mut Reader<'_>) -> String {
        let rev = (idcode >> 16) as u16;
        match line.revision(rev) {
            Some(r) => format!("{} - Rev: {r}", line.device),
            None => format!("{} - Rev: unknown (0x{rev:04x})", line.device),
        }
    }

    fn unlock_fix(&self, bank: usize) -> String {
        format!(
            "'stm32h7x unlock {bank}' (in force when the option change ends; the chip mass-erases both banks) then 'reset halt'"
        )
    }

    fn external_window(&self, addr: u64) -> Option<&'static str> {
        // RM0433 §2.3.2 (memory map) and §23.3.2: 0x9000_0000-0x9FFF_FFFF is the QUADSPI bank,
        // which answers only in memory-mapped mode (QUADSPI_CCR.FMODE = 0b11).
        (0x9000_0000..0xA000_0000).contains(&addr).then_some(
            "on the STM32H7 0x90000000-0x9fffffff is the QUADSPI memory-mapped window (RM0433 §23; QUADSPI registers at 0x52005000): it answers only after firmware or a loader has configured QUADSPI in memory-mapped mode (QUADSPI_CCR.FMODE = 0b11, QUADSPI_CR.EN = 1) for the external flash wired to it, and until then every access there is a bus error. stdbg has no stmqspi loader and does not configure QUADSPI, so it can neither program nor probe that flash. This is a configuration question, not power or cabling: program the external flash with a tool that has a loader for it (STM32CubeProgrammer with the board's external loader), or let the firmware set up memory-mapped mode and then only read it (mdw 0x90000000)",
        )
    }

    fn page_word(&self) -> &'static str {
        "sector"
    }

    fn protection_registers(&self) -> (&'static str, &'static str) {
        ("FLASH_OPTSR_CUR", "FLASH_WPSN_CURxR")
    }

    fn protect_blocks(
        &self,
        line: &Line,
        _index: usize,
        size: u64,
        page_size: u64,
    ) -> Result<(u64, u64), String> {
        // One WPSN bit per sector (H7A/B: per group of 4 sectors), RM0433 §4.5.4.
        let group = wps_group(line);
        Ok(((size / page_size.max(1) / group).clamp(1, 32), group))
    }

    fn protect(
        &self,
        host: &crate::host::Host,
        line: &Line,
        bank_base: u64,
        first: u32,
        last: u32,
        on: bool,
    ) -> Result<(), crate::command::CommandError> {
        // WPSN holds one bit per protection group: 8 on the H74x/H72x, 32 on the H7A/B.
        let mask = if wps_group(line) > 1 {
            0xFFFF_FFFF
        } else {
            0xFF
        };
        host.with_core(|core, target| {
            if !core.core_halted()? {
                return Err(probe_rs::Error::Other(format!(
                    "Target not halted: halt {target} first ('halt' or 'reset halt'), so that no firmware uses the flash controller while the option bytes change"
                )));
            }
            options::set_wpsn(core, bank_base, first, last, on, mask).map(|_| ())
        })
        .map_err(|e| crate::command::CommandError::failed(format!("flash protect: {e}")))
    }

    fn register_commands(&self, reg: &mut Registry) {
        crate::command::builtin::stm32h7x::register(reg);
    }
}

#[cfg(test)]
mod tests;
