//! AHB-AP of the Cortex-M3 DAP (ADIv5 §C2 MEM-AP; IDR 0x1477_0011):
//! CSW (Size byte/half-word/word, AddrInc off/single, DeviceEn, Prot,
//! DbgSwEnable stored), TAR, DRW with auto-increment wrapping inside the
//! 1 KiB block (§C2.2.2: only TAR[9:0] increments), BD0–BD3 (word accesses at
//! TAR[31:4] + n·4), CFG = 0 (little endian), BASE 0xE00F_F003 (ROM table,
//! ADIv5 format, present), IDR. Sub-word data travel on the byte lanes
//! selected by TAR[1:0]. Packed transfers are not implemented (AddrInc 0b10
//! reads back as 0b00, like an AP without packed support).
//!
//! A bus error on a DRW/BDx access makes the DP set STICKYERR (`dp.rs`).
//!
//! On parts that have one (the STM32H7: AP2, RM0433 §60.4), an APB-AP (IDR
//! 0x5477_0002, word accesses only) reaches the system debug bus APB-D, where
//! the model has the family's DBGMCU (`Identity::apb_ap`); other addresses
//! there are bus errors, and its BASE says no ROM table is present (a
//! simplification).

use super::super::chip::Chip;
use super::super::soc::{BusError, Origin};

pub(crate) const IDR: u32 = 0x1477_0011;
/// IDR of the STM32H7's APB-AP (AP2).
pub(crate) const APB_IDR: u32 = 0x5477_0002;
/// APB-AP BASE: ADIv5 format, no debug entry present.
const APB_BASE: u32 = 0b10;
/// The ROM table's address with bit 0 (present) and bit 1 (ADIv5 format) set.
pub(crate) const BASE: u32 = super::romtable::BASE | 0b11;
/// DeviceEn (bit 6): AHB transfers are permitted.
const CSW_DEVICE_EN: u32 = 1 << 6;
const CSW_WRITABLE: u32 = 0xFF00_0037;

#[derive(Debug, Clone)]
pub(crate) struct AhbAp {
    pub csw: u32,
    pub tar: u32,
}

impl AhbAp {
    pub(crate) fn power_on() -> AhbAp {
        AhbAp {
            csw: 0x0300_0002,
            tar: 0,
        }
    }

    fn size(&self) -> u32 {
        match self.csw & 7 {
            0 => 1,
            1 => 2,
            _ => 4,
        }
    }

    fn increment(&mut self) {
        if (self.csw >> 4) & 3 == 1 {
            let sz = self.size();
            self.tar = (self.tar & !0x3FF) | (self.tar.wrapping_add(sz) & 0x3FF);
        }
    }
}

impl Chip {
    /// Which AP `apsel` selects: 0 = the AHB-AP, 1 = the APB-AP (if the
    /// part has one at that number), `None` = no AP there (IDR reads 0).
    fn which_ap(&self, apsel: u32) -> Option<bool> {
        if apsel == 0 {
            Some(false)
        } else if self.ident.apb_ap.map(|a| u32::from(a.0)) == Some(apsel) {
            Some(true)
        } else {
            None
        }
    }

    /// Whether `addr` on APB-D is the family's DBGMCU.
    fn apbd_dbgmcu(&self, addr: u32) -> bool {
        self.ident
            .apb_ap
            .is_some_and(|(_, base)| (base..base + 0x1000).contains(&addr))
    }

    /// Word access on the APB-D bus through the APB-AP.
    fn apbd_read(&mut self, addr: u32) -> Result<u32, BusError> {
        if self.apbd_dbgmcu(addr) {
            self.port.debug_read(addr, 4)
        } else {
            Err(BusError)
        }
    }

    fn apbd_write(&mut self, addr: u32, v: u32) -> Result<(), BusError> {
        if self.apbd_dbgmcu(addr) {
            self.port.debug_write(addr, 4, v)
        } else {
            Err(BusError)
        }
    }

    /// AP register read of AP `apsel`; `reg` = APBANKSEL | A[3:2].
    pub(crate) fn ap_read_sel(&mut self, apsel: u32, reg: u8) -> Result<u32, BusError> {
        match self.which_ap(apsel) {
            None => Ok(0),
            Some(false) => self.ap_read(reg),
            Some(true) => match reg {
                0x00 => Ok(self.ap2.csw | CSW_DEVICE_EN),
                0x04 => Ok(self.ap2.tar),
                0x0C => {
                    let addr = self.ap2.tar & !3;
                    let r = self.apbd_read(addr);
                    self.ap2.increment();
                    r
                }
                0x10..=0x1C => {
                    let addr = (self.ap2.tar & !0xF) | (reg as u32 & 0xC);
                    self.apbd_read(addr)
                }
                0xF8 => Ok(APB_BASE),
                0xFC => Ok(APB_IDR),
                _ => Ok(0),
            },
        }
    }

    /// AP register write of AP `apsel`.
    pub(crate) fn ap_write_sel(&mut self, apsel: u32, reg: u8, v: u32) -> Result<(), BusError> {
        match self.which_ap(apsel) {
            None => Ok(()),
            Some(false) => self.ap_write(reg, v),
            Some(true) => match reg {
                0x00 => {
                    // Word accesses only; AddrInc off or single.
                    self.ap2.csw = (v & 0xFF00_0010) | 2;
                    Ok(())
                }
                0x04 => {
                    self.ap2.tar = v;
                    Ok(())
                }
                0x0C => {
                    let addr = self.ap2.tar & !3;
                    let r = self.apbd_write(addr, v);
                    self.ap2.increment();
                    r
                }
                0x10..=0x1C => {
                    let addr = (self.ap2.tar & !0xF) | (reg as u32 & 0xC);
                    self.apbd_write(addr, v)
                }
                _ => Ok(()),
            },
        }
    }

    /// AP register read; `reg` = APBANKSEL | A[3:2].
    pub(crate) fn ap_read(&mut self, reg: u8) -> Result<u32, BusError> {
        match reg {
            0x00 => Ok(self.ap.csw | CSW_DEVICE_EN),
            0x04 => Ok(self.ap.tar),
            0x0C => {
                let size = self.ap.size();
                let tar = self.ap.tar;
                let addr = tar & !(size - 1);
                let r = self.bus_read(addr, size, Origin::Debug);
                self.ap.increment();
                Ok(r? << ((tar & 3 & !(size - 1)) * 8))
            }
            0x10..=0x1C => {
                let addr = (self.ap.tar & !0xF) | (reg as u32 & 0xC);
                self.bus_read(addr, 4, Origin::Debug)
            }
            0xF4 => Ok(0),
            0xF8 => Ok(BASE),
            0xFC => Ok(IDR),
            _ => Ok(0),
        }
    }

    /// AP register write.
    pub(crate) fn ap_write(&mut self, reg: u8, v: u32) -> Result<(), BusError> {
        match reg {
            0x00 => {
                let mut csw = v & CSW_WRITABLE;
                if (csw >> 4) & 3 >= 2 {
                    csw &= !0x30; // no packed transfers
                }
                if csw & 7 > 2 {
                    csw = (csw & !7) | 2; // unsupported size: word
                }
                self.ap.csw = csw;
                Ok(())
            }
            0x04 => {
                self.ap.tar = v;
                Ok(())
            }
            0x0C => {
                let size = self.ap.size();
                let tar = self.ap.tar;
                let addr = tar & !(size - 1);
                let data = v >> ((tar & 3 & !(size - 1)) * 8);
                let r = self.bus_write(addr, size, data, Origin::Debug);
                self.ap.increment();
                r
            }
            0x10..=0x1C => {
                let addr = (self.ap.tar & !0xF) | (reg as u32 & 0xC);
                self.bus_write(addr, 4, v, Origin::Debug)
            }
            _ => Ok(()),
        }
    }
}
