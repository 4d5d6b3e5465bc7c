//! The option registers of the STM32H743 flash controller (RM0433 Rev 7
//! §4.4 "FLASH option bytes", registers §4.9.8–§4.9.18) and what they mean
//! to the model: read-out protection level, sector write protection (WPSN).
//!
//! Each option exists twice: the `_CUR` register shows the value in effect,
//! the `_PRG` register the value software wants; OPTCR.OPTSTART programs the
//! `_PRG` values and, when done, the `_CUR` registers show them (RM0433
//! §4.4.3; no OBL_LAUNCH on the H7). After a reset both read the stored
//! option bytes (§4.4.2).
//!
//! Factory values, as composed from the field descriptions of RM0433 §4.4.5
//! to §4.4.7 (not checked against a read-out of a real H743): OPTSR
//! 0x0006_AAD0 (BOR off, software IWDG1, no reset on Stop/Standby entry, RDP
//! level 0, IWDG1 running in Stop and Standby, no bank swap, reserved bits
//! 0), PRARx/SCARx 0x0000_00FF (START 0xFF > END 0: no PCROP or secure
//! area), WPSNxR 0x0000_00FF (no sector protected), BOOT 0x1FF0_0800
//! (BOOT_ADD0 0x0800_0000, BOOT_ADD1 0x1FF0_0000).

use super::super::nvmem::NvMem;

/// Number of option words (`NvMem::opt_words`), in storage order: OPTSR,
/// PRAR1, SCAR1, WPSN1, BOOT, PRAR2, SCAR2, WPSN2.
pub(crate) const OPT_WORDS: usize = 8;

/// Storage index of OPTSR.
pub(crate) const W_OPTSR: usize = 0;
/// Storage index of BOOT.
pub(crate) const W_BOOT: usize = 4;

/// OPTSR.RDP values (RM0433 §4.5.3: 0xAA level 0, 0xCC level 2, any other
/// value level 1).
pub(crate) const RDP_LEVEL0: u8 = 0xAA;
pub(crate) const RDP_LEVEL2: u8 = 0xCC;

// FLASH_OPTSR_CUR / FLASH_OPTSR_PRG bits (RM0433 §4.9.8, §4.9.9).
/// OPT_BUSY (CUR only): an option change runs.
pub(crate) const OPTSR_OPT_BUSY: u32 = 1 << 0;
/// IWDG1_SW: 1 = IWDG1 started by software.
pub(crate) const OPTSR_IWDG1_SW: u32 = 1 << 4;
// NRST_STOP_D1 / NRST_STBY_D1 (bits 6, 7: 1 = no reset when D1 enters
// Stop/Standby) and FZ_IWDG_STOP / FZ_IWDG_SDBY (bits 17, 18: 1 = IWDG1
// keeps running in Stop/Standby) are stored and shown, without effect.
/// OPTCHANGEERR (CUR only): the last option change failed.
pub(crate) const OPTSR_OPTCHANGEERR: u32 = 1 << 30;
/// SWAP_BANK_OPT: bank swapping after the next reset (stored, not modelled).
pub(crate) const OPTSR_SWAP_BANK_OPT: u32 = 1 << 31;

/// Writable OPTSR_PRG bits: BOR_LEV[3:2], IWDG1_SW 4, NRST_STOP_D1 6,
/// NRST_STBY_D1 7, RDP[15:8], FZ_IWDG_STOP 17, FZ_IWDG_SDBY 18,
/// ST_RAM_SIZE[20:19], SECURITY 21, IO_HSLV 29, SWAP_BANK_OPT 31.
const OPTSR_WRITABLE: u32 = 0xA03E_FFDC;
/// PRARx/SCARx: START[11:0], END[27:16], DMEP/DMES 31.
const AREA_WRITABLE: u32 = 0x8FFF_0FFF;
/// WPSNxR: WRPSn[7:0], one bit a sector, 0 = write-protected.
const WPSN_WRITABLE: u32 = 0xFF;

/// The option words, as stored and as the `_CUR`/`_PRG` registers show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionRegs {
    pub words: [u32; OPT_WORDS],
}

/// Factory option words (see the module documentation).
pub(crate) const FACTORY: OptionRegs = OptionRegs {
    words: [
        0x0006_AAD0,
        0x0000_00FF,
        0x0000_00FF,
        0x0000_00FF,
        0x1FF0_0800,
        0x0000_00FF,
        0x0000_00FF,
        0x0000_00FF,
    ],
};

/// Factory non-volatile content of an STM32H743 with `flash_size` bytes of
/// flash: erased flash, factory option words, no OTP (the H743 has none).
pub(crate) fn factory_nv(flash_size: usize) -> NvMem {
    let mut nv = NvMem::blank(flash_size, [0xFF; 16]);
    nv.opt_words = FACTORY.words.to_vec();
    nv
}

impl OptionRegs {
    /// From `NvMem::opt_words`; an image without them (an older storage
    /// file, `NvMem::fill_missing`) gives the factory values.
    pub(crate) fn from_nv(nv: &NvMem) -> OptionRegs {
        if nv.opt_words.len() != OPT_WORDS {
            return FACTORY;
        }
        let mut words = [0; OPT_WORDS];
        words.copy_from_slice(&nv.opt_words);
        OptionRegs { words }
    }

    /// The status bits live outside the stored word: OPTSR without OPT_BUSY
    /// and OPTCHANGEERR.
    pub(crate) fn optsr(&self) -> u32 {
        self.words[W_OPTSR] & !(OPTSR_OPT_BUSY | OPTSR_OPTCHANGEERR)
    }

    /// WPSNxR of `bank` (0 or 1).
    pub(crate) fn wpsn(&self, bank: usize) -> u32 {
        self.words[3 + 4 * bank]
    }

    /// Whether sector `sector` of `bank` is write-protected (WRPSn = 0,
    /// RM0433 §4.5.2).
    pub(crate) fn sector_protected(&self, bank: usize, sector: usize) -> bool {
        self.wpsn(bank) & (1 << sector) == 0
    }

    /// Writes `v` into word `i` as a `_PRG` register write: only its
    /// writable bits change.
    pub(crate) fn write(&mut self, i: usize, v: u32) {
        let m = writable(i);
        self.words[i] = (self.words[i] & !m) | (v & m);
    }

    /// The read-out protection level 0, 1 or 2 (RM0433 §4.5.3).
    pub(crate) fn rdp_level(&self) -> u8 {
        match (self.words[W_OPTSR] >> 8) as u8 {
            RDP_LEVEL0 => 0,
            RDP_LEVEL2 => 2,
            _ => 1,
        }
    }
}

/// Writable bits of option word `i` (storage order).
fn writable(i: usize) -> u32 {
    match i {
        W_OPTSR => OPTSR_WRITABLE,
        W_BOOT => u32::MAX,
        3 | 7 => WPSN_WRITABLE,
        _ => AREA_WRITABLE,
    }
}

/// Where a register offset (from 0x5200_2000) lands among the options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptSlot {
    /// Storage index of the option word.
    pub word: usize,
    /// The `_PRG` register (else `_CUR`).
    pub prg: bool,
}

/// The option register at `off` (RM0433 §4.9 register map, Table 31 in
/// Rev 7): OPTSR_CUR/PRG 0x1C/0x20 and BOOT_CURR/PRGR 0x40/0x44 at both
/// 0x0xx and 0x1xx; PRAR 0x28/0x2C, SCAR 0x30/0x34, WPSN 0x38/0x3C per bank
/// (0x0xx bank 1, 0x1xx bank 2).
pub(crate) fn slot(off: u32) -> Option<OptSlot> {
    if off >= 0x200 {
        return None;
    }
    let bank = (off >> 8) as usize;
    let (word, prg) = match off & 0xFF {
        0x1C => (W_OPTSR, false),
        0x20 => (W_OPTSR, true),
        0x40 => (W_BOOT, false),
        0x44 => (W_BOOT, true),
        o @ 0x28..=0x3C if o % 4 == 0 => (1 + 4 * bank + ((o - 0x28) / 8) as usize, o & 4 != 0),
        _ => return None,
    };
    Some(OptSlot { word, prg })
}
