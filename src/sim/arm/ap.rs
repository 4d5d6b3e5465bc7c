//! The access ports of the DAP (ADIv5 §C2 MEM-AP), one set per chip
//! ([`Identity::aps`](super::super::family::Identity::aps): the AP number is
//! the index). Every MEM-AP has CSW (Size byte/half-word/word, AddrInc
//! off/single, DeviceEn, Prot and DbgSwEnable stored), TAR, DRW with
//! auto-increment wrapping inside the 4 KiB block on the Cortex-M3/M4 AHB-AP (ARM IHI 0031C
//! §7.2.2; ADIv5 §C2.2.2 guarantees only TAR[9:0]) and the 1 KiB block on the Cortex-M7's,
//! BD0–BD3 (word accesses at TAR[31:4] + n·4), CFG = 0 (little
//! endian), BASE and IDR. Sub-word data travel on the byte lanes selected by
//! TAR[1:0]. Packed transfers are not implemented (AddrInc 0b10 reads back as
//! 0b00, like an AP without packed support). An AP number the chip does not
//! have reads 0 in every register, IDR included (ADIv5 §C1.2: that is how a
//! debugger finds the end of the APs), and ignores writes.
//!
//! Kinds ([`ApKind`]):
//! * the processor's AHB-AP (AP0): the core's PPB (`ppb.rs`) and the system
//!   bus; IDR 0x1477_0011 on the Cortex-M3/M4 (one AP on the F1/F3/G4/L4),
//!   0x8477_0001 (AHB3 MEM-AP) on the STM32H7, whose BASE is its CPU ROM
//!   table at 0xE00F_E000 (RM0433 §60.4, §60.5.1);
//! * an AHB-AP onto part of the system bus (the STM32H7's AP1 on the D3
//!   domain: AHB4/APB4 0x5800_0000–0x5802_7FFF, SRAM4 and the backup SRAM);
//!   other addresses are bus errors; no ROM table (BASE 0x0000_0002);
//! * an APB-AP (IDR 0x5477_0002, word accesses only) to the system debug bus
//!   APB-D (the STM32H7's AP2, RM0433 §60.4): what is there is the SoC's
//!   (its ROM table at 0xE00E_0000, DBGMCU …), reached through the vendor
//!   window of the bus; outside APB-D a bus error.
//!
//! A bus error on a DRW/BDx access makes the DP set STICKYERR (`dp.rs`).

use super::super::chip::Chip;
use super::super::soc::{BusError, Origin};

/// IDR of the Cortex-M3/M4 AHB-AP.
pub(crate) const IDR: u32 = 0x1477_0011;
/// IDR of the STM32H7's AHB-APs (AHB3 MEM-AP, RM0433 §60.4).
pub(crate) const AHB3_IDR: u32 = 0x8477_0001;
/// IDR of the STM32H7's APB-AP (AP2).
pub(crate) const APB_IDR: u32 = 0x5477_0002;
/// The Cortex-M3/M4 ROM table's address with bit 0 (present) and bit 1
/// (ADIv5 format) set.
pub(crate) const BASE: u32 = super::romtable::BASE | 0b11;
/// BASE of an AP without a debug entry (ADIv5 format, not present).
pub(crate) const NO_ROM: u32 = 0b10;
/// DeviceEn (bit 6): AHB transfers are permitted.
const CSW_DEVICE_EN: u32 = 1 << 6;
const CSW_WRITABLE: u32 = 0xFF00_0037;

/// What one access port reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApKind {
    /// The processor's AHB-AP: PPB and system bus.
    Cpu { idr: u32, base: u32 },
    /// An AHB-AP onto the address ranges `[start, end)` of the system bus.
    Window {
        idr: u32,
        base: u32,
        ranges: &'static [(u32, u32)],
    },
    /// An APB-AP onto the debug APB `[start, end)` (word accesses only).
    Apb {
        idr: u32,
        base: u32,
        range: (u32, u32),
    },
}

impl ApKind {
    fn idr(self) -> u32 {
        match self {
            ApKind::Cpu { idr, .. } | ApKind::Window { idr, .. } | ApKind::Apb { idr, .. } => idr,
        }
    }

    fn base(self) -> u32 {
        match self {
            ApKind::Cpu { base, .. } | ApKind::Window { base, .. } | ApKind::Apb { base, .. } => {
                base
            }
        }
    }
}

/// The single AHB-AP of the Cortex-M3/M4 parts.
pub(crate) const CORTEX_M_AHB_AP: ApKind = ApKind::Cpu {
    idr: IDR,
    base: BASE,
};

/// The registers of one MEM-AP.
#[derive(Debug, Clone)]
pub(crate) struct AhbAp {
    pub csw: u32,
    pub tar: u32,
    /// The TAR bits the auto-increment carries into: 4 KiB on the Cortex-M3/M4 AHB-AP, 1 KiB
    /// elsewhere (ADIv5 §C2.2.2 guarantees only 10 bits; ARM IHI 0031C §7.2.2; OpenOCD relies
    /// on 4 KiB for Cortex-M3/M4 and writes TAR only at 4 KiB boundaries).
    pub wrap_mask: u32,
}

impl AhbAp {
    pub(crate) fn power_on() -> AhbAp {
        AhbAp {
            csw: 0x0300_0002,
            tar: 0,
            wrap_mask: 0x3FF,
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
            let m = self.wrap_mask;
            self.tar = (self.tar & !m) | (self.tar.wrapping_add(sz) & m);
        }
    }
}

/// The MEM-APs of a chip at power-on.
pub(crate) fn aps_for(ident: &super::super::family::Identity) -> Vec<AhbAp> {
    let wrap_mask = match ident.core {
        super::core::CoreKind::CortexM3 | super::core::CoreKind::CortexM4F => 0xFFF,
        super::core::CoreKind::CortexM7 => 0x3FF,
    };
    ident
        .aps
        .iter()
        .map(|_| AhbAp {
            wrap_mask,
            ..AhbAp::power_on()
        })
        .collect()
}

impl Chip {
    /// The APs of this chip in their power-on state.
    pub(crate) fn aps_power_on(&self) -> Vec<AhbAp> {
        aps_for(self.ident)
    }

    /// A memory read through AP `kind`.
    fn ap_mem_read(&mut self, kind: ApKind, addr: u32, size: u32) -> Result<u32, BusError> {
        match kind {
            ApKind::Cpu { .. } => self.bus_read(addr, size, Origin::Debug),
            ApKind::Window { ranges, .. } if in_ranges(ranges, addr) => {
                self.port.debug_read(addr, size)
            }
            ApKind::Apb { range, .. } if (range.0..range.1).contains(&addr) => {
                match self.swo_sink_at(addr & !3) {
                    Some((site, off)) => Ok(self.swo_sink_access(site, off, addr & !3, 4, None)),
                    None => self.port.debug_read(addr, 4),
                }
            }
            ApKind::Window { .. } | ApKind::Apb { .. } => Err(BusError),
        }
    }

    fn ap_mem_write(&mut self, kind: ApKind, addr: u32, size: u32, v: u32) -> Result<(), BusError> {
        match kind {
            ApKind::Cpu { .. } => self.bus_write(addr, size, v, Origin::Debug),
            ApKind::Window { ranges, .. } if in_ranges(ranges, addr) => {
                self.port.debug_write(addr, size, v)
            }
            ApKind::Apb { range, .. } if (range.0..range.1).contains(&addr) => {
                match self.swo_sink_at(addr & !3) {
                    Some((site, off)) => {
                        self.swo_sink_access(site, off, addr & !3, 4, Some(v));
                        Ok(())
                    }
                    None => self.port.debug_write(addr, 4, v),
                }
            }
            ApKind::Window { .. } | ApKind::Apb { .. } => Err(BusError),
        }
    }

    /// AP register read of AP `apsel`; `reg` = APBANKSEL | A[3:2].
    pub(crate) fn ap_read_sel(&mut self, apsel: u32, reg: u8) -> Result<u32, BusError> {
        let Some(&kind) = self.ident.aps.get(apsel as usize) else {
            return Ok(0);
        };
        let i = apsel as usize;
        match reg {
            0x00 => Ok(self.aps[i].csw | CSW_DEVICE_EN),
            0x04 => Ok(self.aps[i].tar),
            0x0C => {
                let size = self.aps[i].size();
                let tar = self.aps[i].tar;
                let addr = tar & !(size - 1);
                let r = self.ap_mem_read(kind, addr, size);
                self.aps[i].increment();
                Ok(r? << ((tar & 3 & !(size - 1)) * 8))
            }
            0x10..=0x1C => {
                let addr = (self.aps[i].tar & !0xF) | (reg as u32 & 0xC);
                self.ap_mem_read(kind, addr, 4)
            }
            0xF8 => Ok(kind.base()),
            0xFC => Ok(kind.idr()),
            _ => Ok(0), // CFG (0xF4): little endian, no large data or address
        }
    }

    /// AP register write of AP `apsel`.
    pub(crate) fn ap_write_sel(&mut self, apsel: u32, reg: u8, v: u32) -> Result<(), BusError> {
        let Some(&kind) = self.ident.aps.get(apsel as usize) else {
            return Ok(());
        };
        let i = apsel as usize;
        match reg {
            0x00 => {
                let mut csw = v & CSW_WRITABLE;
                if (csw >> 4) & 3 >= 2 {
                    csw &= !0x30; // no packed transfers
                }
                if csw & 7 > 2 || matches!(kind, ApKind::Apb { .. }) {
                    csw = (csw & !7) | 2; // unsupported size (or an APB-AP): word
                }
                self.aps[i].csw = csw;
                Ok(())
            }
            0x04 => {
                self.aps[i].tar = v;
                Ok(())
            }
            0x0C => {
                let size = self.aps[i].size();
                let tar = self.aps[i].tar;
                let addr = tar & !(size - 1);
                let data = v >> ((tar & 3 & !(size - 1)) * 8);
                let r = self.ap_mem_write(kind, addr, size, data);
                self.aps[i].increment();
                r
            }
            0x10..=0x1C => {
                let addr = (self.aps[i].tar & !0xF) | (reg as u32 & 0xC);
                self.ap_mem_write(kind, addr, 4, v)
            }
            _ => Ok(()),
        }
    }
}

fn in_ranges(ranges: &[(u32, u32)], a: u32) -> bool {
    ranges.iter().any(|&(s, e)| (s..e).contains(&a))
}

#[cfg(test)]
mod tests;
