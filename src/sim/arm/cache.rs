//! The Cortex-M7's cache control as the debugger sees it (ARMv7-M ARM
//! §B2.2 "Caches and branch predictors", §B3.2.15–§B3.2.22; Cortex-M7 TRM
//! §3.2, §5.2: 16 KiB instruction cache, 2-way, and 16 KiB data cache,
//! 4-way, 32-byte lines, the size the STM32H7 has, RM0433 §2.1).
//!
//! * CLIDR 0x0900_0003 (separate I and D caches at level 1, LoUU = LoC = 1),
//!   CTR 0x8303_C003 (ARMv7 format, 8-word lines), CCSIDR of the cache
//!   CSSELR selects (InD = 0: the D cache, 128 sets × 4 ways, write-back,
//!   read- and write-allocate 0xF003_E019; InD = 1: the I cache, 256 sets
//!   × 2 ways 0xF007_E009), CSSELR (Level 0 only, InD writable);
//! * CCR.IC (bit 17) and CCR.DC (bit 16) are writable (the Cortex-M3/M4 have
//!   no caches: there they read 0, as before);
//! * the maintenance operations ICIALLU, ICIMVAU, DCIMVAC, DCISW, DCCMVAU,
//!   DCCMVAC, DCCSW, DCCIMVAC, DCCISW, BPIALL (0xE000_EF50–0xE000_EF78) are
//!   accepted as writes with no effect: no cache is modelled, memory is
//!   always coherent.
//!
//! The processor model (rsemu) does not implement these for the firmware:
//! its CLIDR/CTR/CCSIDR read 0 and a firmware write of CCR keeps only the
//! ARMv7-M bits (IC/DC read 0 after it); a value the debugger writes to
//! CCR.IC/DC is visible to the firmware until then (docs/sim.md).

use super::super::chip::Chip;
use super::core::{CoreKind, Cpu};

/// CLIDR (Cortex-M7 TRM §3.2).
pub(crate) const CLIDR: u32 = 0x0900_0003;
/// CTR (Cortex-M7 TRM §3.2).
pub(crate) const CTR: u32 = 0x8303_C003;
/// CCSIDR of the 16 KiB data cache.
pub(crate) const CCSIDR_D16K: u32 = 0xF003_E019;
/// CCSIDR of the 16 KiB instruction cache.
pub(crate) const CCSIDR_I16K: u32 = 0xF007_E009;
/// CCR.DC | CCR.IC (ARMv7-M §B3.2.8).
pub(crate) const CCR_CACHES: u32 = (1 << 16) | (1 << 17);

impl Chip {
    fn has_caches(&self) -> bool {
        self.core.cfg.kind == CoreKind::CortexM7
    }

    /// A debugger read of the cache identification registers (SCS offset
    /// `off`), `None` if `off` is not one or the core has no caches.
    pub(crate) fn cache_id_read(&self, off: u32) -> Option<u32> {
        if !self.has_caches() {
            return None;
        }
        Some(match off {
            0xD78 => CLIDR,
            0xD7C => CTR,
            0xD80 if self.csselr & 1 == 0 => CCSIDR_D16K,
            0xD80 => CCSIDR_I16K,
            0xD84 => self.csselr,
            _ => return None,
        })
    }

    /// A debugger write of CSSELR or CCR: true if handled here.
    pub(crate) fn cache_ctl_write(&mut self, off: u32, v: u32) -> bool {
        if !self.has_caches() {
            return false;
        }
        match off {
            0xD84 => self.csselr = v & 1,
            0xD14 => {
                self.core.scs_write(0xE000_ED14, v);
                self.core
                    .with_sys(|s| s.ccr = (s.ccr & !CCR_CACHES) | (v & CCR_CACHES));
            }
            _ => return false,
        }
        true
    }
}
