//! The debugger's path to memory (the AHB-AP's bus master, ADIv5 §C2): the
//! private peripheral bus 0xE000_0000–0xE00F_FFFF is decoded here (ITM, DWT,
//! FPB, SCS, TPIU, ROM table; the vendor window 0xE004_2000–0xE00F_EFFF goes to
//! the SoC), everything else to the system bus (`bus.rs`).
//!
//! PPB registers are word registers: a sub-word read returns the addressed
//! lanes, a sub-word write merges into the word; an unaligned access or an
//! address where nothing is implemented (the absent ETM at 0xE004_1000,
//! unused PPB space) is a bus error.

use super::super::chip::Chip;
use super::super::soc::{BusError, Origin};
use super::core::Cpu;
use super::itm::Source;
use super::romtable;

/// DWT_CTRL.CYCCNTENA.
const CYCCNTENA: u32 = 1;

/// Lanes of `word` addressed by a `size`-byte access at `addr`.
#[inline]
fn lanes(word: u32, addr: u32, size: u32) -> u32 {
    let sh = (addr & 3) * 8;
    match size {
        4 => word,
        2 => (word >> sh) & 0xFFFF,
        _ => (word >> sh) & 0xFF,
    }
}

/// Whether the debugger's `a` is in the core's PPB (not the vendor window).
#[inline]
fn core_ppb(a: u32) -> bool {
    (0xE000_0000..0xE004_2000).contains(&a) || (0xE00F_F000..0xE010_0000).contains(&a)
}

impl Chip {
    /// A debugger read of `size` bytes (1, 2, 4) at `a`.
    pub(crate) fn bus_read(&mut self, a: u32, size: u32, origin: Origin) -> Result<u32, BusError> {
        debug_assert_eq!(origin, Origin::Debug);
        if let Some((site, off)) = self.swo_sink_at(a & !3) {
            return Ok(self.swo_sink_access(site, off, a, size, None));
        }
        if !core_ppb(a) {
            return self.port.debug_read(a, size);
        }
        if !a.is_multiple_of(size) || self.faults.bus_error(a, size) {
            return Err(BusError);
        }
        if a & !0xFFF == 0xE000_0000 {
            return Ok(self.itm_access(a, size, None, Source::Debug));
        }
        Ok(lanes(self.ppb_read(a & !3)?, a, size))
    }

    /// A debugger write of the low `size` bytes of `v` at `a`.
    pub(crate) fn bus_write(
        &mut self,
        a: u32,
        size: u32,
        v: u32,
        origin: Origin,
    ) -> Result<(), BusError> {
        debug_assert_eq!(origin, Origin::Debug);
        if let Some((site, off)) = self.swo_sink_at(a & !3) {
            self.swo_sink_access(site, off, a, size, Some(v));
            return Ok(());
        }
        if !core_ppb(a) {
            return self.port.debug_write(a, size, v);
        }
        if !a.is_multiple_of(size) || self.faults.bus_error(a, size) {
            return Err(BusError);
        }
        if a & !0xFFF == 0xE000_0000 {
            // Stimulus ports take the access size (the packet's payload size);
            // the control registers are word registers (a sub-word write merges).
            if a & 0xFFF < 0x80 {
                self.itm_access(a, size, Some(v), Source::Debug);
            } else {
                let old = self.itm_access(a & !3, 4, None, Source::Debug);
                let sh = (a & 3) * 8;
                let m = match size {
                    4 => u32::MAX,
                    2 => 0xFFFF << sh,
                    _ => 0xFF << sh,
                };
                let word = (old & !m) | ((v << sh) & m);
                self.itm_access(a & !3, 4, Some(word), Source::Debug);
            }
            self.rl.mode_dirty = true;
            return Ok(());
        }
        let word = if size == 4 {
            v
        } else {
            let old = self.ppb_read(a & !3)?;
            let sh = (a & 3) * 8;
            let m = if size == 2 { 0xFFFF } else { 0xFF } << sh;
            (old & !m) | ((v << sh) & m)
        };
        self.ppb_write(a & !3, word)?;
        // Breakpoints, watchpoints, DHCSR and DEMCR change what the run loop does.
        self.rl.mode_dirty = true;
        Ok(())
    }

    fn ppb_read(&mut self, a: u32) -> Result<u32, BusError> {
        let off = a & 0xFFF;
        Ok(match a & !0xFFF {
            0xE000_0000 => self.itm_access(a, 4, None, Source::Debug),
            0xE000_1000 => self.dwt_read(off),
            0xE000_2000 => self.fpb.read(off),
            0xE000_E000 => self.scs_read(off),
            // A SoC with its own trace sink has no TPIU in the core's PPB
            // (the Cortex-M7 ROM table marks it absent, `romtable.rs`).
            0xE004_0000 if self.port.lock().soc.swo_sink().is_some() => return Err(BusError),
            0xE004_0000 => self.itm.tpiu.read(off),
            romtable::BASE => {
                let m7 = self.core.cfg.kind == super::core::CoreKind::CortexM7;
                romtable::read(off, self.ident.dev_id(), m7)
            }
            _ => return Err(BusError),
        })
    }

    fn ppb_write(&mut self, a: u32, v: u32) -> Result<(), BusError> {
        let off = a & 0xFFF;
        match a & !0xFFF {
            0xE000_0000 => {}
            0xE000_1000 => self.dwt_write(off, v),
            0xE000_2000 => self.fpb.write(off, v),
            0xE000_E000 => self.scs_write(off, v),
            0xE004_0000 if self.port.lock().soc.swo_sink().is_some() => return Err(BusError),
            0xE004_0000 => {
                let cx = self.trace_cx();
                self.itm.tpiu.write(off, v, &cx);
            }
            romtable::BASE => {}
            _ => return Err(BusError),
        }
        Ok(())
    }

    /// DWT as the debugger sees it: the comparators are the wrapper's, CYCCNT
    /// and CYCCNTENA the processor's (so firmware and debugger agree).
    fn dwt_read(&mut self, off: u32) -> u32 {
        match off {
            0x000 => {
                let ena = self.core.with_sys(|s| s.dwt_ctrl & CYCCNTENA);
                (self.port.lock().dwt.ctrl & !CYCCNTENA) | ena
            }
            0x004 => self.core.with_sys(|s| s.dwt_cyccnt),
            _ => {
                let pc = self.core.pc();
                self.port.lock().dwt.read(off, pc)
            }
        }
    }

    fn dwt_write(&mut self, off: u32, v: u32) {
        match off {
            0x000 => {
                self.port.lock().dwt.write(off, v);
                self.core.scs_write(0xE000_1000, v & CYCCNTENA);
            }
            0x004 => {
                self.core.scs_write(0xE000_1004, v);
            }
            _ => self.port.lock().dwt.write(off, v),
        }
    }
}
