//! The per-family seam: everything stdbg knows about one STM32 flash-driver family, asked for
//! through one interface.
//!
//! A *family* here is what OpenOCD calls a flash driver: `stm32f1x` serves the F1 and the F3
//! lines ([`stm32f1`]), `stm32l4x` serves the G4 and the L4 lines ([`stm32l4`]), `stm32h7x` comes
//! with the H7 issue (its lines are in the DEV_ID table already, so a chip is named and the
//! right script proposed). The rest of stdbg never compares family names and never writes a
//! family register address: it looks the family up by driver name ([`by_driver`]) or by the
//! chip's DBGMCU_IDCODE DEV_ID ([`by_dev_id`], [`line`]), then asks it.
//!
//! - [`lines`]: the one DEV_ID table (every STM32 line stdbg can name: family, line name,
//!   OpenOCD device string, revision letters, flash-size register, page size).
//! - [`DebugRegs`] / [`ResetRegs`]: per series, where DBGMCU_CR and the watchdog-freeze bits are
//!   and where the reset flags are, with the RM's bit names.
//! - [`Family`]: flash geometry probing, the flash controller's state decoded in words
//!   ([`FlashState`]: RDP, WRP/PCROP areas, error bits), and the family's option-byte commands.

pub mod lines;
pub mod regs;
pub mod stm32f1;
pub mod stm32h7;
pub mod stm32l4;

use std::ops::Range;

use probe_rs::MemoryInterface;

use crate::command::{CommandError, Registry};
use crate::host::{FlashBank, Host};
pub use lines::{LINES, Line, line};
pub use regs::{DebugRegs, ResetRegs};

/// An OpenOCD flash-driver family (the driver name of `flash bank … <driver> …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `stm32f1x`: STM32F0/F1/F3 (the F1-style FPEC, RM0008 §3, RM0316 §4).
    Stm32f1x,
    /// `stm32l4x`: STM32G0/G4/L4/L4+/L5/U5/WB/WL (FLASH with OPTR, RM0351 §3, RM0440 §5).
    Stm32l4x,
    /// `stm32h7x`: STM32H7 (RM0433 §4).
    Stm32h7x,
}

impl Driver {
    /// The OpenOCD driver name, e.g. `stm32f1x`.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Stm32f1x => "stm32f1x",
            Driver::Stm32l4x => "stm32l4x",
            Driver::Stm32h7x => "stm32h7x",
        }
    }

    /// The family module serving this driver.
    pub fn family(self) -> Option<&'static dyn Family> {
        match self {
            Driver::Stm32f1x => Some(&stm32f1::STM32F1X),
            Driver::Stm32l4x => Some(&stm32l4::STM32L4X),
            Driver::Stm32h7x => Some(&stm32h7::STM32H7X),
        }
    }
}

/// The line of target `name` (the current target when `None`): from the DBGMCU_IDCODE found at
/// `init`, else the DEV_IDs its target script expects ([`line_for`]).
pub fn target_line(host: &Host, name: Option<&str>) -> &'static Line {
    let t = host.targets();
    let def = match name {
        Some(n) => t.by_name(n),
        None => t.current(),
    };
    match def {
        Some(d) => line_for(d.idcode, &d.expected_dev_ids),
        None => line_for(None, &[]),
    }
}

/// The debug registers of a line, the STM32F1's when the line has none in the table.
pub fn debug_of(line: &Line) -> &'static DebugRegs {
    line.debug().unwrap_or(&regs::F1_DEBUG)
}

/// The reset-flag register of a line, the STM32F1's when the line has none in the table.
pub fn reset_of(line: &Line) -> &'static ResetRegs {
    line.reset().unwrap_or(&regs::F1_RESET)
}

/// Every family stdbg has a module for.
pub fn all() -> [&'static dyn Family; 3] {
    [&stm32f1::STM32F1X, &stm32l4::STM32L4X, &stm32h7::STM32H7X]
}

/// The family serving an OpenOCD flash driver name (`stm32f1x`, `stm32l4x`), if stdbg has it.
pub fn by_driver(name: &str) -> Option<&'static dyn Family> {
    all().into_iter().find(|f| f.driver().name() == name)
}

/// The family serving the chip with this DBGMCU_IDCODE DEV_ID (bits 11:0), if stdbg has it.
pub fn by_dev_id(dev_id: u16) -> Option<&'static dyn Family> {
    line(dev_id)?.driver?.family()
}

/// The line to use for a chip's debug and reset registers: the one its DBGMCU_IDCODE names,
/// else the first the target script expects, else the STM32F1 medium-density line (the
/// Blue Pill, stdbg's first target).
pub fn line_for(idcode: Option<u32>, expected_dev_ids: &[u32]) -> &'static Line {
    idcode
        .and_then(|c| line((c & 0xFFF) as u16))
        .or_else(|| expected_dev_ids.iter().find_map(|d| line(*d as u16)))
        .or_else(|| line(0x410))
        .unwrap_or(&LINES[0])
}

/// The DBGMCU_IDCODE addresses to try, in order: where the Cortex-M3/M4 parts have it
/// (0xE004_2000, RM0008 §31.6.1, RM0351 §48.6.1), then the H7 (0x5C00_1000 from the CPU's AP,
/// RM0433 §60.5.8) and the Cortex-M0/M0+ parts (0x4001_5800, RM0091 §40.5.1). Taken from the
/// DEV_ID table.
pub fn idcode_addresses() -> Vec<u64> {
    let mut v: Vec<u64> = Vec::new();
    for l in LINES {
        if !v.contains(&l.idcode_addr) {
            v.push(l.idcode_addr);
        }
    }
    v
}

/// Reads DBGMCU_IDCODE with `rd` (a 32-bit read; `None` on failure): the first non-zero value
/// at one of [`idcode_addresses`] whose DEV_ID the table places at that address, else the first
/// non-zero value read at all.
pub fn read_idcode(rd: &mut Reader<'_>) -> Option<u32> {
    let mut first = None;
    for a in idcode_addresses() {
        let Some(v) = rd(a).filter(|v| *v != 0 && *v != 0xFFFF_FFFF) else {
            continue;
        };
        if line((v & 0xFFF) as u16).is_some_and(|l| l.idcode_addr == a) {
            return Some(v);
        }
        first.get_or_insert(v);
    }
    first
}

/// A 32-bit register read: address → value, `None` when the read failed.
pub type Reader<'a> = dyn FnMut(u64) -> Option<u32> + 'a;

/// 32-bit register access for the families' register sequences: a probe-rs core, or the unit
/// tests' fake controllers.
pub trait FlashRegs {
    /// Reads a 32-bit register.
    fn rd(&mut self, addr: u64) -> Result<u32, probe_rs::Error>;
    /// Writes a 32-bit register.
    fn wr(&mut self, addr: u64, value: u32) -> Result<(), probe_rs::Error>;
}

impl FlashRegs for probe_rs::Core<'_> {
    fn rd(&mut self, addr: u64) -> Result<u32, probe_rs::Error> {
        self.read_word_32(addr)
    }
    fn wr(&mut self, addr: u64, value: u32) -> Result<(), probe_rs::Error> {
        self.write_word_32(addr, value)
    }
}

/// Read-out protection level (RM0008 §3.5.1 / PM0075 §2.4.1: F1 has levels 0 and 1; RM0316 §4.3.1,
/// RM0351 §3.7.1, RM0440 §5.5.1: 0xAA = level 0, 0xCC = level 2, anything else level 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rdp {
    /// No protection.
    Level0,
    /// Flash (and SRAM2/backup registers on L4/G4) refuse debugger access; regression to level 0
    /// mass-erases the flash.
    Level1,
    /// Permanent: the debug port is disabled for good.
    Level2,
}

/// One write-protected area of a bank, in page numbers from the bank start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrpArea {
    /// Pages `start..end` (end exclusive).
    pub pages: Range<u64>,
    /// What protects them, in words, e.g. `WRP0 bit 0 (FLASH_WRPR = 0xfffffffe: bit 0 = 0
    /// protects pages 0-3)`.
    pub by: String,
    /// The command(s) that remove it, quoted, e.g. `'flash protect 0 0 0 off' then 'reset
    /// halt' (…)`.
    pub fix: String,
}

/// The flash controller's state, read after a failure or before a write, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashState {
    /// Read-out protection.
    pub rdp: Rdp,
    /// The register that holds RDP, e.g. `FLASH_OBR`.
    pub rdp_register: &'static str,
    /// Its value.
    pub rdp_raw: u32,
    /// RDP evidence for messages, e.g. `FLASH_OBR = 0x03fffffe, RDPRT = 1`.
    pub rdp_evidence: String,
    /// The register(s) that hold write protection, e.g. `FLASH_WRPR`.
    pub wrp_register: &'static str,
    /// The first of them (FLASH_WRPR, or FLASH_WRP1AR).
    pub wrp_raw: u32,
    /// Write protection in words, e.g. `no page write-protected`.
    pub wrp_words: String,
    /// The write-protected areas.
    pub wrp: Vec<WrpArea>,
    /// The error bit set by an access to a protected page, e.g. `FLASH_SR.WRPRTERR`.
    pub wrp_error: &'static str,
    /// The error bit of programming a location that is not erased, e.g. `PGERR`.
    pub program_error: &'static str,
    /// FLASH_SR.
    pub sr: u32,
    /// The set FLASH_SR error bits in words (RM's meaning and what to do).
    pub sr_words: Vec<&'static str>,
    /// Every register read, one evidence line.
    pub evidence: String,
}

impl FlashState {
    /// The write-protected area holding `page` (bank-relative), if any.
    pub fn wrp_at(&self, page: u64) -> Option<&WrpArea> {
        self.wrp.iter().find(|a| a.pages.contains(&page))
    }
}

/// A bank's geometry as found by probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Bank size in bytes.
    pub size: u32,
    /// Erase page (sector) size in bytes.
    pub page_size: u32,
}

/// What one flash-driver family knows and does. Implemented by unit structs
/// ([`stm32f1::STM32F1X`], [`stm32l4::STM32L4X`]); found through [`by_driver`]/[`by_dev_id`].
pub trait Family: Send + Sync {
    /// The OpenOCD driver this family is.
    fn driver(&self) -> Driver;

    /// The chips it serves in words, e.g. `STM32F0/F1/F3`.
    fn chips(&self) -> &'static str;

    /// The flash controller's control registers (addresses) and their LOCK bits: while every
    /// one reads locked, no instruction can program or erase flash, since unlocking takes the
    /// FLASH_KEYR sequence (RM0008 §3.3.1, RM0351 §3.3.5, RM0433 §4.3.4). The GDB server keeps
    /// flash it read across a single step only while they stay locked.
    fn control_locks(&self) -> &'static [(u64, u32)];

    /// The erase page size of `line` in bytes; reads the option registers with `rd` where the
    /// geometry depends on them (G4: OPTR.DBANK).
    fn page_size(&self, line: &Line, rd: &mut Reader<'_>) -> u32;

    /// Logs the chip on `flash probe` as the OpenOCD driver does (e.g. `device id = 0x20036410`).
    fn log_probe(&self, line: Option<&Line>, idcode: u32, rd: &mut Reader<'_>);

    /// What OpenOCD's probe logs after `flash size = …` (the bank mode on `stm32l4x`); nothing by
    /// default.
    fn log_mode(&self, _line: &Line, _kib: u32, _rd: &mut Reader<'_>) {}

    /// The size of `bank` (index `index`) from the flash-size register's value (`None`:
    /// unreadable), logged as the OpenOCD driver's probe does. The default is the single-bank
    /// F1/L4 rule: the register's KiB (the line's largest size when unreadable), a configured
    /// bank size wins, `flash size = N KiB`. Errors: the bank does not fit the chip (the text).
    fn size_bank(
        &self,
        line: &Line,
        bank: &FlashBank,
        _index: usize,
        fsize_kib: Option<u32>,
        page_size: u32,
        rd: &mut Reader<'_>,
    ) -> Result<Geometry, String> {
        let mut kib = match fsize_kib {
            Some(k) => k,
            None => {
                tracing::warn!(
                    "STM32 flash size failed, probe inaccurate - assuming {}k flash",
                    line.max_kib
                );
                line.max_kib
            }
        };
        if bank.size != 0 {
            tracing::info!("ignoring flash probed value, using configured bank size");
            kib = bank.size / 1024;
        }
        tracing::info!("flash size = {kib} KiB");
        self.log_mode(line, kib, rd);
        Ok(Geometry {
            size: kib * 1024,
            page_size,
        })
    }

    /// Reads and decodes the flash controller of the bank at `bank_base` (`bank_index` names
    /// the bank in fixes; `bank_pages` is its page count). `None` when a register cannot be read.
    fn read_flash(
        &self,
        line: &Line,
        bank_index: usize,
        bank_base: u64,
        bank_pages: u64,
        rd: &mut Reader<'_>,
    ) -> Option<FlashState>;

    /// Why a write failed when the controller shows no error bit (the flash algorithm cleared
    /// them): `page_blank` says whether the failed page reads erased.
    fn unexplained_failure(&self, page_blank: Option<bool>) -> &'static str;

    /// The protection blocks of `flash info`: (offset, length, protected) per block.
    fn protection_blocks(
        &self,
        line: &Line,
        bank_index: usize,
        bank_base: u64,
        size: u32,
        page_size: u32,
        rd: &mut Reader<'_>,
    ) -> Option<Vec<(u32, u32, bool)>>;

    /// The driver line of `flash info` (OpenOCD `get_info`), e.g. `STM32F10x (Medium Density) -
    /// Rev: Y`.
    fn info(&self, line: &Line, idcode: u32, otp: bool, rd: &mut Reader<'_>) -> String;

    /// The registers holding read-out and write protection, for reports made without reading
    /// them (`doctor` with no link): (RDP register, WRP register).
    fn protection_registers(&self) -> (&'static str, &'static str) {
        ("FLASH_OBR", "FLASH_WRPR")
    }

    /// What the chip has at `addr` when it is an external-memory window that answers only once
    /// it is configured (the H7's QUADSPI memory-mapped window), in words with what to do;
    /// `None` elsewhere.
    fn external_window(&self, _addr: u64) -> Option<&'static str> {
        None
    }

    /// What the RM calls the erase unit in messages: `page` (F1/L4), `sector` (H7).
    fn page_word(&self) -> &'static str {
        "page"
    }

    /// `flash protect`: how a bank of `size` bytes in `page_size`-byte pages (sectors) is divided
    /// into protection blocks, as (block count, pages per block). `Err` is the text saying why
    /// this family does not change write protection through `flash protect` and what to use
    /// instead (`index` is the bank's number, for the commands named).
    fn protect_blocks(
        &self,
        _line: &Line,
        index: usize,
        _size: u64,
        _page_size: u64,
    ) -> Result<(u64, u64), String> {
        Err(format!(
            "flash bank #{index}: stdbg does not change the {} write protection with 'flash protect'",
            self.driver().name()
        ))
    }

    /// `flash protect … on|off`: sets (`on`) or clears the write protection of blocks
    /// `first..=last` (checked against [`Family::protect_blocks`] by the caller) of the bank at
    /// `bank_base`. The core must be halted. Only called when `protect_blocks` is `Ok`.
    fn protect(
        &self,
        _host: &Host,
        _line: &Line,
        bank_base: u64,
        _first: u32,
        _last: u32,
        _on: bool,
    ) -> Result<(), CommandError> {
        Err(CommandError::failed(format!(
            "flash protect: the {} driver does not change write protection (bank at 0x{bank_base:08x})",
            self.driver().name()
        )))
    }

    /// The fix for read-out protection level 1 on bank `bank`, quoted commands.
    fn unlock_fix(&self, bank: usize) -> String;

    /// Adds the family's commands (`stm32f1x lock` …) to the registry.
    fn register_commands(&self, reg: &mut Registry);

    /// A bank at `base` whose geometry is fixed (not read from F_SIZE): the G4/L4 OTP area.
    /// Such a bank is programmed by [`Family::direct_plan`] / [`Family::direct_write`], not by
    /// the probe-rs flash algorithm.
    fn fixed_geometry(&self, _base: u64) -> Option<Geometry> {
        None
    }

    /// Checks `data` at `addr` for the fixed-geometry bank `bank` (index `index`) and returns
    /// the (address, double word) writes to make; reads only, nothing is written.
    fn direct_plan(
        &self,
        bank: &FlashBank,
        _index: usize,
        _core: &mut probe_rs::Core<'_>,
        _addr: u64,
        _data: &[u8],
    ) -> Result<Vec<(u64, u64)>, DirectError> {
        Err(DirectError::Unsupported {
            bank: bank.name.clone(),
            driver: self.driver().name(),
        })
    }

    /// Makes the writes [`Family::direct_plan`] returned.
    fn direct_write(
        &self,
        _core: &mut probe_rs::Core<'_>,
        _words: &[(u64, u64)],
    ) -> Result<(), DirectError> {
        Err(DirectError::Unsupported {
            bank: String::new(),
            driver: self.driver().name(),
        })
    }
}

/// Why a family could not program a bank outside the flash algorithm.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// The G4/L4 OTP.
    #[error(transparent)]
    Otp(#[from] stm32l4::otp::OtpError),
    /// The family has no such bank.
    #[error("the {driver} driver cannot program bank {bank} without a flash algorithm")]
    Unsupported {
        /// Bank name.
        bank: String,
        /// Driver name.
        driver: &'static str,
    },
}

/// The family of a bank, `None` for external-memory drivers (`stmqspi` …).
pub fn of_bank(bank: &FlashBank) -> Option<&'static dyn Family> {
    by_driver(&bank.driver)
}

/// Reads DBGMCU_IDCODE through the session of the current target.
pub fn read_idcode_host(host: &Host) -> Result<u32, CommandError> {
    host.with_core(|core, _| {
        let mut rd = |a: u64| core.read_word_32(a).ok();
        read_idcode(&mut rd).ok_or_else(|| {
            probe_rs::Error::Other(
                "DBGMCU_IDCODE reads 0 at every address an STM32 has it: the chip is not an STM32, or its debug port is not fully up".into(),
            )
        })
    })
}

/// `flash probe` of a bank of family `fam`: DBGMCU_IDCODE (logged), the line from the DEV_ID
/// table, the flash-size register (16 bits, KiB; the line's largest size when it is unreadable,
/// as OpenOCD does), a configured size wins (`ignoring flash probed value, using configured
/// bank size`), then `flash size = N KiB`.
pub fn probe(host: &Host, bank: &FlashBank, fam: &dyn Family) -> Result<Geometry, CommandError> {
    let idcode = read_idcode_host(host)?;
    let dev_id = (idcode & 0xfff) as u16;
    let found = line(dev_id).filter(|l| l.driver == Some(fam.driver()));
    host.with_core(|core, _| {
        let mut rd = |a: u64| core.read_word_32(a).ok();
        fam.log_probe(found, idcode, &mut rd);
        Ok(())
    })?;
    let line = found.ok_or_else(|| {
        let what = match lines::line(dev_id) {
            Some(l) => format!("{} ({})", l.words, lines::series_words(l.series)),
            None => "an unknown device".to_string(),
        };
        CommandError::failed(format!(
            "flash bank {}: DBGMCU_IDCODE 0x{idcode:08x} has DEV_ID 0x{dev_id:03x}, which is {what}, not an {} that the '{}' driver serves: the target script does not match the chip (use the script of this chip's family)",
            bank.name,
            fam.chips(),
            fam.driver().name()
        ))
    })?;
    if let Some(g) = fam.fixed_geometry(bank.base) {
        tracing::info!(
            "OTP size is {} bytes, base address is 0x{:08x}",
            g.size,
            bank.base
        );
        return Ok(g);
    }
    let index = bank_index_of(host, bank);
    host.with_core(|core, _| {
        let fsize = core
            .read_word_16(line.flash_size_reg)
            .ok()
            .filter(|k| *k != 0 && *k != 0xffff)
            .map(u32::from);
        let mut rd = |a: u64| core.read_word_32(a).ok();
        let page_size = fam.page_size(line, &mut rd);
        Ok(fam.size_bank(line, bank, index, fsize, page_size, &mut rd))
    })?
    .map_err(|e| CommandError::failed(format!("flash bank {}: {e}", bank.name)))
}

/// The `flash banks` number of `bank` (0 when it is not in the list).
fn bank_index_of(host: &Host, bank: &FlashBank) -> usize {
    host.targets()
        .banks
        .iter()
        .position(|b| b.name == bank.name)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(by_driver("stm32f1x").unwrap().driver(), Driver::Stm32f1x);
        assert_eq!(by_driver("stm32l4x").unwrap().driver(), Driver::Stm32l4x);
        assert_eq!(by_driver("stm32h7x").unwrap().driver(), Driver::Stm32h7x);
        assert!(by_driver("stmqspi").is_none());
        assert_eq!(by_dev_id(0x410).unwrap().driver(), Driver::Stm32f1x);
        assert_eq!(by_dev_id(0x422).unwrap().driver(), Driver::Stm32f1x);
        assert_eq!(by_dev_id(0x469).unwrap().driver(), Driver::Stm32l4x);
        assert_eq!(by_dev_id(0x415).unwrap().driver(), Driver::Stm32l4x);
        assert_eq!(by_dev_id(0x450).unwrap().driver(), Driver::Stm32h7x);
        assert!(by_dev_id(0x999).is_none());
    }

    #[test]
    fn idcode_is_found_at_the_family_address() {
        // An H7: 0xE004_2000 reads 0, 0x5C00_1000 holds the IDCODE.
        let mut rd = |a: u64| match a {
            0x5C00_1000 => Some(0x1003_6450),
            _ => Some(0),
        };
        assert_eq!(read_idcode(&mut rd), Some(0x1003_6450));
        // An F1 answers at once.
        let mut rd = |a: u64| (a == 0xE004_2000).then_some(0x2003_6410);
        assert_eq!(read_idcode(&mut rd), Some(0x2003_6410));
        // An M0 part.
        let mut rd = |a: u64| (a == 0x4001_5800).then_some(0x2000_6440);
        assert_eq!(read_idcode(&mut rd), Some(0x2000_6440));
        let mut rd = |_a: u64| None;
        assert_eq!(read_idcode(&mut rd), None);
    }

    #[test]
    fn line_for_falls_back() {
        assert_eq!(line_for(Some(0x1003_6422), &[0x410]).dev_id, 0x422);
        assert_eq!(line_for(None, &[0x469, 0x468]).dev_id, 0x469);
        assert_eq!(line_for(None, &[]).dev_id, 0x410);
    }
}
