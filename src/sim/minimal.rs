//! The SoC of the chips modelled at identity level until their family folder
//! exists (STM32G474, STM32L476, STM32H743): DBGMCU (IDCODE, CR) at the
//! family's address, the core clock after reset, read-only flash. Every other
//! register in the peripheral region keeps what is written and reads it back
//! (0 until written); the first access to each is reported once in the debug
//! log. No peripheral does anything, no flash controller (writes to flash are
//! bus errors), no option bytes. See docs/sim.md.

use std::collections::HashMap;

use super::family::Identity;
use super::soc::{BusError, PowerMode, ResetCause, Soc, SocCtx, SocEffects};
use super::time::Ps;

/// Registers stored at most (bounded memory whatever the firmware does).
const MAX_STORED: usize = 4096;

pub(crate) struct MinimalSoc {
    ident: &'static Identity,
    dbgmcu_cr: u32,
    stored: HashMap<u32, u32>,
}

impl MinimalSoc {
    pub(crate) fn new(ident: &'static Identity) -> MinimalSoc {
        MinimalSoc {
            ident,
            dbgmcu_cr: 0,
            stored: HashMap::new(),
        }
    }

    /// DBGMCU at the family's address, and on the H7 also at its address on
    /// the debug bus APB-D (which the core's PPB reaches too).
    fn dbgmcu(&self, a: u32) -> Option<u32> {
        let base = self.ident.dbgmcu_addr;
        if (base..base + 0x1000).contains(&a) {
            return Some(a - base);
        }
        let (_, apbd) = self.ident.apb_ap?;
        (apbd..apbd + 0x1000).contains(&a).then(|| a - apbd)
    }
}

fn lanes(word: u32, addr: u32, size: u32) -> u32 {
    let sh = (addr & 3) * 8;
    match size {
        4 => word,
        2 => (word >> sh) & 0xFFFF,
        _ => (word >> sh) & 0xFF,
    }
}

impl Soc for MinimalSoc {
    fn read(&mut self, a: u32, size: u32, _cx: &mut SocCtx) -> Result<u32, BusError> {
        if let Some(off) = self.dbgmcu(a) {
            let w = match off & !3 {
                0 => self.ident.idcode,
                4 => self.dbgmcu_cr,
                _ => 0,
            };
            return Ok(lanes(w, a, size));
        }
        if (0x4000_0000..0x6000_0000).contains(&a) {
            let w = *self.stored.get(&(a & !3)).unwrap_or(&0);
            return Ok(lanes(w, a, size));
        }
        if (0xE004_2000..0xE004_3000).contains(&a) {
            // No DBGMCU here on the H7 (it is at 0x5C00_1000 and on APB-D):
            // read as zero, writes ignored, so that a configuration for
            // another family still attaches and can read the real IDCODE (a
            // simplification, docs/sim.md).
            return Ok(0);
        }
        Err(BusError)
    }

    fn write(
        &mut self,
        a: u32,
        size: u32,
        v: u32,
        _cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError> {
        let sh = (a & 3) * 8;
        let m = match size {
            4 => u32::MAX,
            2 => 0xFFFF << sh,
            _ => 0xFF << sh,
        };
        if let Some(off) = self.dbgmcu(a) {
            if off & !3 == 4 {
                self.dbgmcu_cr = (self.dbgmcu_cr & !m) | ((v << sh) & m);
            }
            return Ok(SocEffects::default());
        }
        if (0x4000_0000..0x6000_0000).contains(&a) {
            let k = a & !3;
            if !self.stored.contains_key(&k) {
                if self.stored.len() >= MAX_STORED {
                    return Ok(SocEffects::default());
                }
                tracing::debug!("virtual STM32: register {k:#010x} is not modelled: stored only");
            }
            let old = self.stored.get(&k).copied().unwrap_or(0);
            self.stored.insert(k, (old & !m) | ((v << sh) & m));
            return Ok(SocEffects::default());
        }
        if (0xE004_2000..0xE004_3000).contains(&a) {
            return Ok(SocEffects::default());
        }
        Err(BusError)
    }

    fn flash_write(
        &mut self,
        _off: u32,
        _s: u32,
        _v: u32,
        _cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError> {
        Err(BusError)
    }

    fn flash_readable(&self, _debug_latched: bool) -> bool {
        true
    }

    fn sync(&mut self, _cx: &mut SocCtx) -> SocEffects {
        SocEffects::default()
    }

    fn next_event(&self, _now: Ps, _halted: bool) -> Option<Ps> {
        None
    }

    fn irq_levels(&self, out: &mut [u32; 8]) {
        *out = [0; 8];
    }

    fn hclk_hz(&self) -> u64 {
        self.ident.reset_hclk
    }

    fn system_reset(&mut self, _cause: ResetCause, _cx: &mut SocCtx) {
        self.stored.clear();
    }

    fn debug_port_silent(&self) -> bool {
        false
    }

    fn enter_deep_sleep(&mut self, _cx: &mut SocCtx) -> PowerMode {
        PowerMode::Run
    }

    fn power_mode(&self) -> PowerMode {
        PowerMode::Run
    }

    fn debug_kept_in_low_power(&self) -> bool {
        true
    }

    fn leave_low_power(&mut self, _cx: &mut SocCtx) -> SocEffects {
        SocEffects::default()
    }
}
