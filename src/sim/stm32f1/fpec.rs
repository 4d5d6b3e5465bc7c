//! Flash program/erase controller (FPEC) and option bytes: RM0008 §3.3.3,
//! §3.5 (registers) and PM0075 (STM32F10xxx Flash programming manual).
//!
//! Modelled: KEYR unlock sequence (a wrong key locks the FPEC until the next
//! reset and gives a bus error, PM0075 §2.3.1), OPTKEYR → OPTWRE, CR
//! PG/PER/MER/OPTPG/OPTER/STRT/LOCK/OPTWRE/ERRIE/EOPIE, SR BSY/PGERR/WRPRTERR/EOP
//! (write 1 to clear), AR, OBR and WRPR loaded from the option bytes at reset,
//! half-word programming only on erased cells (else PGERR, cell unchanged),
//! byte/word writes to flash give a bus error, 1 KiB page erase, mass erase,
//! option-byte erase/program with automatic complement.
//! Read-out protection (OBR.RDPRT, PM0075 §2.4.1): while a debugger is
//! connected ("debug mode", latched until power-on) page erase and
//! programming of main flash fail with WRPRTERR and flash reads are bus
//! errors (`bus.rs`); from user code the first 4 KiB stay write-protected
//! (WRPRTERR). Mass erase and option-byte erase/program remain possible;
//! programming RDP = 0xA5 while RDPRT is set first mass-erases the main flash.
//! Simplified: every operation completes instantly (BSY is never seen set).
//!
//! The STM32F303's flash interface is this FPEC with the differences of
//! RM0316 §4 ([`Flavour::F3`], [`Fpec::after_reset_f3`]): 2 KiB pages and one
//! WRP bit per 2 pages (from the identity), FLASH_CR.OBL_LAUNCH (bit 13: the
//! option bytes are reloaded by a system reset, [`Fpec::obl_launch`]), OBR
//! with RDPRT[1:0] at bits 2:1 (00 level 0, 01 level 1, 11 level 2), the USER
//! byte at bits 15:8 (WDG_SW at bit 8) and Data0/Data1 at 23:16/31:24 (§4.5.7),
//! RDP 0xAA = level 0, 0xCC = level 2, anything else level 1 (§4.3.1). Level 2
//! is permanent: OPTKEYR no longer sets OPTWRE, so the option bytes cannot be
//! erased or programmed (the debug port is off, the SoC's business). The
//! automatic write protection of the first pages against user code under level
//! 1 is the F1's (PM0075) and is not applied on the F3.

use super::super::family::Identity;
use super::super::fault::FaultSet;
use super::super::nvmem::NvMem;

pub(crate) const KEY1: u32 = 0x4567_0123;
pub(crate) const KEY2: u32 = 0xCDEF_89AB;
/// Bytes at the start of main flash that read-out protection write-protects
/// against user code (PM0075 §2.4.1: pages 0–3 of medium-density devices).
const RDP_PROTECTED_BYTES: usize = 4096;
/// Base of main flash memory.
pub(crate) const FLASH_BASE: u32 = 0x0800_0000;

// FLASH_CR bits (RM0008 §3.5.4)
pub(crate) const CR_PG: u32 = 1 << 0;
pub(crate) const CR_PER: u32 = 1 << 1;
pub(crate) const CR_MER: u32 = 1 << 2;
pub(crate) const CR_OPTPG: u32 = 1 << 4;
pub(crate) const CR_OPTER: u32 = 1 << 5;
pub(crate) const CR_STRT: u32 = 1 << 6;
pub(crate) const CR_LOCK: u32 = 1 << 7;
pub(crate) const CR_OPTWRE: u32 = 1 << 9;
pub(crate) const CR_ERRIE: u32 = 1 << 10;
pub(crate) const CR_EOPIE: u32 = 1 << 12;
/// FLASH_CR.OBL_LAUNCH (RM0316 §4.5.5; F3 only).
pub(crate) const CR_OBL_LAUNCH: u32 = 1 << 13;
// FLASH_SR bits (RM0008 §3.5.3)
/// BSY: never set, operations complete instantly.
#[allow(dead_code)]
pub(crate) const SR_BSY: u32 = 1 << 0;
pub(crate) const SR_PGERR: u32 = 1 << 2;
pub(crate) const SR_WRPRTERR: u32 = 1 << 4;
pub(crate) const SR_EOP: u32 = 1 << 5;

/// Option bytes as shipped: RDP = 0xA5 (level 0), USER = 0xFF, Data = 0xFF,
/// no write protection; each followed by its complement.
pub(crate) const FACTORY_OPTION_BYTES: [u8; 16] = [
    0xA5, 0x5A, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00,
];

/// Which FPEC: the F1's (RM0008/PM0075) or the F3's (RM0316 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    F1,
    F3,
}

/// F3 option bytes as shipped (RM0316 §4.4: RDP = 0xAA, level 0; USER, Data
/// and WRP erased), each followed by its complement.
pub(crate) const FACTORY_OPTION_BYTES_F3: [u8; 16] = [
    0xAA, 0x55, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    /// Waiting for KEY1.
    Locked,
    /// KEY1 seen, waiting for KEY2.
    Key1,
    /// Unlocked (CR.LOCK = 0).
    Unlocked,
    /// A wrong key was written: locked until reset.
    Blocked,
}

#[derive(Debug, Clone)]
pub(crate) struct Fpec {
    pub acr: u32,
    keys: KeyState,
    opt_keys: KeyState,
    pub cr: u32,
    pub sr: u32,
    pub ar: u32,
    pub obr: u32,
    pub wrpr: u32,
    /// Flash content changed while unlocked: save when LOCK is set again.
    pub changed_since_unlock: bool,
    /// Erase unit, bytes (1 KiB on the F103, 2 KiB on the F303).
    page_size: usize,
    /// Pages protected by one WRPR bit.
    pages_per_wrp_bit: usize,
    /// "Debug mode" for read-out protection (a debugger has connected since
    /// power-on); set by the chip before every access.
    pub debug_mode: bool,
    flavour: Flavour,
    /// F3: FLASH_CR.OBL_LAUNCH was written (with CR unlocked): the SoC must
    /// reset the chip, which reloads the option bytes.
    pub obl_launch: bool,
}

/// Result of a register write that the bus must know about.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FpecWrite {
    Ok,
    /// The FPEC was locked again after changing the flash: persist now.
    LockedAfterChange,
    /// Wrong key: bus error (PM0075 §2.3.1).
    BusError,
}

impl Fpec {
    /// Reset state; OBR and WRPR are loaded from the option bytes (RM0008 §3.5.6/§3.5.7).
    pub(crate) fn after_reset(nv: &NvMem, id: &Identity) -> Fpec {
        Fpec::after_reset_as(nv, id, Flavour::F1)
    }

    /// Reset state of the F3's flash interface (RM0316 §4.5).
    pub(crate) fn after_reset_f3(nv: &NvMem, id: &Identity) -> Fpec {
        Fpec::after_reset_as(nv, id, Flavour::F3)
    }

    fn after_reset_as(nv: &NvMem, id: &Identity, flavour: Flavour) -> Fpec {
        let (obr, wrpr) = match flavour {
            Flavour::F1 => load_option_bytes(&nv.opt),
            Flavour::F3 => load_option_bytes_f3(&nv.opt),
        };
        Fpec {
            acr: 0x30,
            keys: KeyState::Locked,
            opt_keys: KeyState::Locked,
            cr: CR_LOCK,
            sr: 0,
            ar: 0,
            obr,
            wrpr,
            changed_since_unlock: false,
            page_size: id.page_size,
            pages_per_wrp_bit: id.pages_per_wrp_bit,
            debug_mode: false,
            flavour,
            obl_launch: false,
        }
    }

    /// F3 read protection level 2 (OBR.RDPRT = 11, RM0316 §4.5.7): permanent.
    pub(crate) fn rdp_level2(&self) -> bool {
        self.flavour == Flavour::F3 && self.obr & 4 != 0
    }

    /// OBR.RDPRT: read-out protection active.
    pub(crate) fn rdp_active(&self) -> bool {
        self.obr & 2 != 0
    }

    /// Register read at `off` from 0x4002_2000.
    pub(crate) fn read(&self, off: u32) -> u32 {
        match off {
            0x00 => (self.acr & 0x1F) | ((self.acr & 0x10) << 1),
            0x04 | 0x08 => 0, // KEYR, OPTKEYR: write-only
            0x0C => self.sr,
            0x10 => self.cr,
            0x14 => self.ar,
            0x1C => self.obr,
            0x20 => self.wrpr,
            _ => 0,
        }
    }

    pub(crate) fn write(
        &mut self,
        off: u32,
        value: u32,
        nv: &mut NvMem,
        faults: &FaultSet,
    ) -> FpecWrite {
        match off {
            0x00 => self.acr = value & 0x1F,
            0x04 => {
                // FLASH_KEYR
                self.keys = match (self.keys, value) {
                    (KeyState::Locked, KEY1) => KeyState::Key1,
                    (KeyState::Key1, KEY2) => {
                        self.cr &= !CR_LOCK;
                        KeyState::Unlocked
                    }
                    (KeyState::Unlocked, _) => KeyState::Unlocked,
                    (KeyState::Blocked, _) => return FpecWrite::BusError,
                    _ => {
                        self.keys = KeyState::Blocked;
                        return FpecWrite::BusError;
                    }
                };
            }
            0x08 => {
                // FLASH_OPTKEYR: only effective while the FPEC is unlocked.
                if self.cr & CR_LOCK != 0 || self.rdp_level2() {
                    return FpecWrite::Ok;
                }
                self.opt_keys = match (self.opt_keys, value) {
                    (KeyState::Locked, KEY1) => KeyState::Key1,
                    (KeyState::Key1, KEY2) => {
                        self.cr |= CR_OPTWRE;
                        KeyState::Locked
                    }
                    _ => KeyState::Locked,
                };
            }
            0x0C => {
                // SR: PGERR, WRPRTERR, EOP are write-1-to-clear.
                self.sr &= !(value & (SR_PGERR | SR_WRPRTERR | SR_EOP));
            }
            0x10 => return self.write_cr(value, nv, faults),
            0x14 if self.cr & CR_LOCK == 0 => self.ar = value,
            _ => {}
        }
        FpecWrite::Ok
    }

    fn write_cr(&mut self, value: u32, nv: &mut NvMem, faults: &FaultSet) -> FpecWrite {
        if self.cr & CR_LOCK != 0 {
            return FpecWrite::Ok; // CR is write-protected while locked
        }
        if value & CR_LOCK != 0 {
            self.cr = CR_LOCK | (self.cr & !CR_OPTWRE & (CR_ERRIE | CR_EOPIE));
            self.keys = KeyState::Locked;
            self.opt_keys = KeyState::Locked;
            let changed = std::mem::take(&mut self.changed_since_unlock);
            return if changed {
                FpecWrite::LockedAfterChange
            } else {
                FpecWrite::Ok
            };
        }
        let writable = CR_PG | CR_PER | CR_MER | CR_OPTPG | CR_OPTER | CR_ERRIE | CR_EOPIE;
        if self.flavour == Flavour::F3 && value & CR_OBL_LAUNCH != 0 {
            self.obl_launch = true;
        }
        // OPTWRE can only be cleared by software.
        let optwre = if value & CR_OPTWRE == 0 {
            0
        } else {
            self.cr & CR_OPTWRE
        };
        self.cr = (value & writable) | optwre;
        if value & CR_STRT != 0 {
            self.start(nv, faults);
        }
        FpecWrite::Ok
    }

    /// STRT: erase operation (page, mass or option bytes), instant.
    fn start(&mut self, nv: &mut NvMem, faults: &FaultSet) {
        if faults.flash_program_error() {
            self.sr |= SR_PGERR;
            return;
        }
        if self.cr & CR_PER != 0 {
            let off = self.ar.wrapping_sub(FLASH_BASE) as usize;
            if off >= nv.flash.len() {
                return; // address outside the flash: nothing erased
            }
            if self.write_protected(off) {
                self.sr |= SR_WRPRTERR;
                return;
            }
            let ps = self.page_size;
            let p = off / ps * ps;
            nv.flash[p..p + ps].fill(0xFF);
        } else if self.cr & CR_MER != 0 {
            nv.flash.fill(0xFF);
        } else if self.cr & CR_OPTER != 0 {
            if self.cr & CR_OPTWRE == 0 {
                return;
            }
            nv.opt = [0xFF; 16];
        } else {
            return;
        }
        nv.dirty = true;
        self.changed_since_unlock = true;
        self.sr |= SR_EOP;
    }

    /// WRPR bit n = 0 protects pages 4n..4n+3 (bit 31: pages 124 and up), RM0008 §3.5.7
    /// (2 pages per bit on the F303, RM0316 §4.5.7).
    fn page_protected(&self, page: usize) -> bool {
        let bit = (page / self.pages_per_wrp_bit).min(31);
        self.wrpr & (1 << bit) == 0
    }

    /// The byte at flash offset `off` cannot be programmed or erased page-wise:
    /// WRPR, or read-out protection (debug mode: all pages; user code: first 4 KiB).
    fn write_protected(&self, off: usize) -> bool {
        self.page_protected(off / self.page_size)
            || (self.rdp_active()
                && (self.debug_mode || (self.flavour == Flavour::F1 && off < RDP_PROTECTED_BYTES)))
    }

    /// A write by the bus into main flash (offset `off`) or, with `opt`, into the
    /// option-byte block. `Err(())` = bus error.
    pub(crate) fn program(
        &mut self,
        nv: &mut NvMem,
        off: usize,
        size: u32,
        value: u32,
        opt: bool,
        faults: &FaultSet,
    ) -> Result<(), ()> {
        let mode = if opt { CR_OPTPG } else { CR_PG };
        if self.cr & mode == 0 || self.cr & CR_LOCK != 0 {
            return Err(()); // not in programming mode: bus error
        }
        if size != 2 || !off.is_multiple_of(2) {
            return Err(()); // PM0075 §2.3.3: half-word only
        }
        if opt && self.cr & CR_OPTWRE == 0 {
            return Err(());
        }
        if faults.flash_program_error() {
            self.sr |= SR_PGERR;
            return Ok(());
        }
        if opt
            && off == 0
            && value as u8 == self.level0_rdp()
            && self.rdp_active()
            && nv.opt[0..2] == [0xFF, 0xFF]
        {
            // Regression to level 0 (PM0075 §2.4.1): the main flash is
            // mass-erased before the read protection is removed.
            nv.flash.fill(0xFF);
        }
        let cell: &mut [u8] = if opt {
            &mut nv.opt[off..off + 2]
        } else {
            if self.write_protected(off) {
                self.sr |= SR_WRPRTERR;
                return Ok(());
            }
            &mut nv.flash[off..off + 2]
        };
        if cell != [0xFF, 0xFF] {
            self.sr |= SR_PGERR;
            return Ok(());
        }
        if opt {
            // Only the low byte is taken; the complement is computed by the FPEC.
            let b = value as u8;
            cell.copy_from_slice(&[b, !b]);
        } else {
            cell.copy_from_slice(&(value as u16).to_le_bytes());
        }
        nv.dirty = true;
        self.changed_since_unlock = true;
        self.sr |= SR_EOP;
        Ok(())
    }
}

impl Fpec {
    /// The RDP byte of read protection level 0: 0xA5 (F1), 0xAA (F3).
    fn level0_rdp(&self) -> u8 {
        match self.flavour {
            Flavour::F1 => 0xA5,
            Flavour::F3 => 0xAA,
        }
    }
}

/// One option byte checked against its complement (a mismatch sets OPTERR and
/// reads 0xFF; an erased pair 0xFF/0xFF reads 0xFF without OPTERR).
fn checked_byte(opt: &[u8; 16], i: usize, opterr: &mut bool) -> u8 {
    let (v, c) = (opt[2 * i], opt[2 * i + 1]);
    if v ^ c == 0xFF {
        v
    } else {
        if !(v == 0xFF && c == 0xFF) {
            *opterr = true;
        }
        0xFF
    }
}

/// Loads the F3's OBR and WRPR (RM0316 §4.5.7/§4.5.8): OPTERR bit 0, RDPRT
/// bits 2:1 (RDP 0xAA → 00, 0xCC → 11, else 01), USER bits 15:8 (bits 3 and 7
/// of the byte are reserved and read 0: WDG_SW 8, nRST_STOP 9, nRST_STDBY 10,
/// nBOOT1 12, VDDA_MONITOR 13, SRAM_PE 14), Data0 23:16, Data1 31:24.
pub(crate) fn load_option_bytes_f3(opt: &[u8; 16]) -> (u32, u32) {
    let mut opterr = false;
    let mut byte = |i: usize| checked_byte(opt, i, &mut opterr);
    let rdp = byte(0);
    let user = byte(1) & 0x77;
    let d0 = byte(2);
    let d1 = byte(3);
    let wrp = [byte(4), byte(5), byte(6), byte(7)];
    let rdprt = match rdp {
        0xAA => 0b00,
        0xCC => 0b11,
        _ => 0b01,
    };
    let obr = ((d1 as u32) << 24)
        | ((d0 as u32) << 16)
        | ((user as u32) << 8)
        | (rdprt << 1)
        | opterr as u32;
    (obr, u32::from_le_bytes(wrp))
}

/// Loads OBR and WRPR from the option bytes (RM0008 §3.5.6/§3.5.7; a byte whose
/// complement does not match sets OPTERR and reads as 0xFF, an erased pair
/// 0xFF/0xFF is taken as 0xFF).
pub(crate) fn load_option_bytes(opt: &[u8; 16]) -> (u32, u32) {
    let mut opterr = false;
    let mut byte = |i: usize| -> u8 {
        let (v, c) = (opt[2 * i], opt[2 * i + 1]);
        if v ^ c == 0xFF {
            v
        } else {
            if !(v == 0xFF && c == 0xFF) {
                opterr = true;
            }
            0xFF
        }
    };
    let rdp = byte(0);
    let user = byte(1);
    let d0 = byte(2);
    let d1 = byte(3);
    let wrp = [byte(4), byte(5), byte(6), byte(7)];
    let rdprt = rdp != 0xA5;
    let obr = ((d1 as u32) << 18)
        | ((d0 as u32) << 10)
        | ((user as u32) << 2)
        | ((rdprt as u32) << 1)
        | opterr as u32;
    let obr = obr & 0x03FF_FFFF;
    let wrpr = u32::from_le_bytes(wrp);
    (obr, wrpr)
}
