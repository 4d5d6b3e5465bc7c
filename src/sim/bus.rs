//! The system bus: address decoding for the core and the AHB-AP (RM0008 §3.3
//! memory map, ARMv7-M ARM §B3.1 system address map).
//!
//! | Range | Content |
//! |---|---|
//! | 0x0000_0000 + flash size | alias of main flash (boot from flash, BOOT0 = 0) |
//! | 0x0800_0000 + flash size | main flash (writes go through the FPEC) |
//! | 0x1FFF_F000–0x1FFF_F7FF | system memory (stub), F_SIZE, UID |
//! | 0x1FFF_F800–0x1FFF_F80F | option bytes (writes go through the FPEC) |
//! | 0x2000_0000 + 20 KiB | SRAM; bit-band alias at 0x2200_0000 |
//! | 0x4000_0000–0x4002_3FFF | peripherals (unimplemented registers read 0, writes ignored); bit-band alias at 0x4200_0000 |
//! | 0xE000_0000–0xE00F_FFFF | PPB: ITM, DWT, FPB, SCS, TPIU, DBGMCU, ROM table |
//!
//! Everything else (e.g. 0x6000_0000 FSMC, SRAM beyond 20 KiB, flash beyond its
//! size, ETM) does not exist: the access ends in a bus error, which the AHB-AP
//! turns into STICKYERR + FAULT and the core into a fault.
//!
//! Register blocks are word registers: a byte/half-word read returns the
//! addressed lanes; a byte/half-word write to an APB peripheral is replicated
//! on all lanes (RM0008 §2.2 / APB bridge behaviour); sub-word writes to PPB
//! registers merge into the word. Peripherals whose clock is disabled in RCC
//! (GPIO, AFIO, PWR) read 0 and ignore writes.

use super::chip::Chip;
use super::dwt::Access;
use super::stm32f1::addr;
use super::stm32f1::fpec::{FLASH_BASE, FpecWrite, OPT_BASE};

/// Who makes an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The debugger through the AHB-AP.
    Debug,
    /// The core, data access.
    Cpu,
    /// The core, instruction fetch.
    Fetch,
}

/// An access that the bus does not accept (AHB ERROR response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BusError;

const SRAM_BASE: u32 = 0x2000_0000;
const SRAM_BB: u32 = 0x2200_0000;
const PERIPH_BASE: u32 = 0x4000_0000;
const PERIPH_BB: u32 = 0x4200_0000;

#[inline]
fn rd(mem: &[u8], off: usize, size: u32) -> Result<u32, BusError> {
    match size {
        4 => mem
            .get(off..off + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        2 => mem
            .get(off..off + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as u32),
        _ => mem.get(off).map(|b| *b as u32),
    }
    .ok_or(BusError)
}

#[inline]
fn wr(mem: &mut [u8], off: usize, size: u32, v: u32) -> Result<(), BusError> {
    let n = size as usize;
    let dst = mem.get_mut(off..off + n).ok_or(BusError)?;
    dst.copy_from_slice(&v.to_le_bytes()[..n]);
    Ok(())
}

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

/// Offset into main flash of `a` (below 0x1000_0000): the boot alias at 0 or the flash at
/// 0x0800_0000 (RM0008 §3.4); a bus error past the `flash_size` bytes.
fn flash_offset(a: u32, flash_size: u32) -> Result<u32, BusError> {
    let off = if a < 0x0800_0000 {
        a
    } else {
        a.wrapping_sub(FLASH_BASE)
    };
    if off >= flash_size || (a >= flash_size && a < 0x0800_0000) {
        return Err(BusError);
    }
    Ok(off)
}

impl Chip {
    /// Fetches an instruction half-word (used by the CPU wrapper and reset).
    #[inline]
    pub(crate) fn fetch16(&mut self, addr: u32) -> Option<u16> {
        self.bus_read(addr, 2, Origin::Fetch).ok().map(|v| v as u16)
    }

    /// A `size`-byte (1, 2 or 4) read; the value is zero-extended.
    pub(crate) fn bus_read(&mut self, a: u32, size: u32, origin: Origin) -> Result<u32, BusError> {
        if self.faults.bus_error(a, size) {
            return Err(BusError);
        }
        let fs = self.nv.flash.len() as u32;
        let v = match a >> 28 {
            0x0 => {
                let off = flash_offset(a, fs)?;
                if self.fpec.rdp_active() && self.debug_latched {
                    // Read-out protection in debug mode (PM0075 §2.4.1): no
                    // access to main flash, from the debugger or from the core
                    // (code in SRAM, the flash algorithm, even fetches), until
                    // a power-on reset without debugger.
                    return Err(BusError);
                }
                rd(&self.nv.flash, off as usize, size)?
            }
            0x1 => {
                let id = self.ident;
                if let Some(off) = self.ram2_offset(a) {
                    rd(&self.ram2, off, size)?
                } else if (id.sysmem_base..id.sysmem_base + id.sysmem_size).contains(&a) {
                    rd(&self.sysmem, (a - id.sysmem_base) as usize, size)?
                } else if id.f1_fpec && (OPT_BASE..OPT_BASE + 16).contains(&a) {
                    rd(&self.nv.opt, (a - OPT_BASE) as usize, size)?
                } else {
                    return Err(BusError);
                }
            }
            0x2 => {
                let sl = self.sram.len() as u32;
                if let Some(off) = self.ram2_offset(a) {
                    rd(&self.ram2, off, size)?
                } else if (SRAM_BASE..SRAM_BASE + sl).contains(&a) {
                    rd(&self.sram, (a - SRAM_BASE) as usize, size)?
                } else if (SRAM_BB..SRAM_BB + sl * 32).contains(&a) {
                    let off = (a - SRAM_BB) >> 5;
                    let bit = (a >> 2) & 7;
                    ((self.sram[off as usize] >> bit) & 1) as u32
                } else {
                    return Err(BusError);
                }
            }
            0x4 => {
                if (PERIPH_BASE..addr::PERIPH_END).contains(&a) {
                    if !a.is_multiple_of(size) {
                        return Err(BusError);
                    }
                    lanes(self.periph_read(a & !3, origin), a, size)
                } else if (PERIPH_BB..PERIPH_BB + (addr::PERIPH_END - PERIPH_BASE) * 32)
                    .contains(&a)
                {
                    let word = PERIPH_BASE + (((a - PERIPH_BB) >> 5) & !3);
                    let bit = ((a - PERIPH_BB) >> 2) & 31;
                    (self.periph_read(word, origin) >> bit) & 1
                } else {
                    return Err(BusError);
                }
            }
            0x5 if self.dbgmcu_on_system_bus(a) => {
                if !a.is_multiple_of(size) {
                    return Err(BusError);
                }
                lanes(self.dbgmcu_read(a & 0xFFF, origin), a, size)
            }
            0xE => {
                if !a.is_multiple_of(size) {
                    return Err(BusError);
                }
                lanes(self.ppb_read(a & !3, origin)?, a, size)
            }
            _ => return Err(BusError),
        };
        if origin == Origin::Cpu && self.dwt.data_armed {
            self.dwt.data_access(a, size, Access::Read);
        }
        Ok(v)
    }

    /// A `size`-byte (1, 2 or 4) write of the low bytes of `v`.
    pub(crate) fn bus_write(
        &mut self,
        a: u32,
        size: u32,
        v: u32,
        origin: Origin,
    ) -> Result<(), BusError> {
        if self.faults.bus_error(a, size) {
            return Err(BusError);
        }
        if origin == Origin::Cpu && self.dwt.data_armed {
            self.dwt.data_access(a, size, Access::Write);
        }
        let fs = self.nv.flash.len() as u32;
        match a >> 28 {
            0x0 => {
                let off = flash_offset(a, fs)?;
                if !self.ident.f1_fpec {
                    return Err(BusError); // no flash controller modelled: read-only
                }
                self.fpec.debug_mode = self.debug_latched;
                let faults = &self.faults;
                self.fpec
                    .program(&mut self.nv, off as usize, size, v, false, faults)
                    .map_err(|_| BusError)
            }
            0x1 => {
                if let Some(off) = self.ram2_offset(a) {
                    wr(&mut self.ram2, off, size, v)
                } else if self.ident.f1_fpec && (OPT_BASE..OPT_BASE + 16).contains(&a) {
                    self.fpec.debug_mode = self.debug_latched;
                    let faults = &self.faults;
                    self.fpec
                        .program(&mut self.nv, (a - OPT_BASE) as usize, size, v, true, faults)
                        .map_err(|_| BusError)
                } else {
                    Err(BusError) // system memory is read-only
                }
            }
            0x2 => {
                let sl = self.sram.len() as u32;
                if let Some(off) = self.ram2_offset(a) {
                    wr(&mut self.ram2, off, size, v)
                } else if (SRAM_BASE..SRAM_BASE + sl).contains(&a) {
                    wr(&mut self.sram, (a - SRAM_BASE) as usize, size, v)
                } else if (SRAM_BB..SRAM_BB + sl * 32).contains(&a) {
                    let off = ((a - SRAM_BB) >> 5) as usize;
                    let bit = (a >> 2) & 7;
                    if v & 1 != 0 {
                        self.sram[off] |= 1 << bit;
                    } else {
                        self.sram[off] &= !(1 << bit);
                    }
                    Ok(())
                } else {
                    Err(BusError)
                }
            }
            0x4 => {
                if (PERIPH_BASE..addr::PERIPH_END).contains(&a) {
                    if !a.is_multiple_of(size) {
                        return Err(BusError);
                    }
                    let word = match size {
                        4 => v,
                        2 => (v & 0xFFFF) * 0x0001_0001,
                        _ => (v & 0xFF) * 0x0101_0101,
                    };
                    self.periph_write(a & !3, word, origin)
                } else if (PERIPH_BB..PERIPH_BB + (addr::PERIPH_END - PERIPH_BASE) * 32)
                    .contains(&a)
                {
                    let word = PERIPH_BASE + (((a - PERIPH_BB) >> 5) & !3);
                    let bit = ((a - PERIPH_BB) >> 2) & 31;
                    let old = self.periph_read(word, origin);
                    let new = if v & 1 != 0 {
                        old | (1 << bit)
                    } else {
                        old & !(1 << bit)
                    };
                    self.periph_write(word, new, origin)
                } else {
                    Err(BusError)
                }
            }
            0x5 if self.dbgmcu_on_system_bus(a) => {
                if !a.is_multiple_of(size) {
                    return Err(BusError);
                }
                let sh = (a & 3) * 8;
                let m = match size {
                    4 => u32::MAX,
                    2 => 0xFFFF << sh,
                    _ => 0xFF << sh,
                };
                let old = self.dbgmcu_read(a & 0xFFC, origin);
                self.dbgmcu_write(a & 0xFFC, (old & !m) | ((v << sh) & m));
                Ok(())
            }
            0xE => {
                if !a.is_multiple_of(size) {
                    return Err(BusError);
                }
                let word = if size == 4 {
                    v
                } else {
                    let old = self.ppb_read(a & !3, origin)?;
                    let sh = (a & 3) * 8;
                    let m = if size == 2 { 0xFFFF } else { 0xFF } << sh;
                    (old & !m) | ((v << sh) & m)
                };
                self.ppb_write(a & !3, word, origin)
            }
            _ => Err(BusError),
        }
    }

    /// Offset in the second RAM region (CCM SRAM, SRAM2, AXI SRAM), if `a` is in it.
    #[inline]
    fn ram2_offset(&self, a: u32) -> Option<usize> {
        let (base, size) = self.ident.ram2?;
        (a >= base && ((a - base) as usize) < size).then(|| (a - base) as usize)
    }

    /// DBGMCU on the system bus (STM32H7: 0x5C00_1000, RM0433 §60.5.8).
    fn dbgmcu_on_system_bus(&self, a: u32) -> bool {
        let base = self.ident.dbgmcu_addr;
        base >> 28 == 0x5 && (base..base + 0x1000).contains(&a)
    }

    /// DBGMCU register read at `off`. On the F1 the CPU reaches it only in
    /// debug mode (errata ES096, see `dbgmcu.rs`).
    fn dbgmcu_read(&mut self, off: u32, origin: Origin) -> u32 {
        let f1 = self.ident.afio_swj;
        let accessible = origin == Origin::Debug || self.scs.debugen() || !f1;
        self.dbgmcu.read(off, accessible, self.ident.idcode)
    }

    fn dbgmcu_write(&mut self, off: u32, v: u32) {
        // DBG_IWDG_STOP may change: account the IWDG up to now first.
        self.sync_timers();
        self.dbgmcu.write(off, v)
    }

    fn clock_on(&self, a: u32) -> bool {
        match a {
            addr::AFIO..=0x4001_03FF => self.rcc.apb2enr & 1 != 0,
            addr::GPIOA..addr::GPIOE_END => {
                let port = (a - addr::GPIOA) / 0x400;
                self.rcc.apb2enr & (1 << (2 + port)) != 0
            }
            addr::PWR..=0x4000_73FF => self.rcc.apb1enr & (1 << 28) != 0,
            _ => true,
        }
    }

    fn periph_read(&mut self, a: u32, origin: Origin) -> u32 {
        let _ = origin;
        if !self.clock_on(a) {
            return 0;
        }
        match a {
            addr::PWR..=0x4000_73FF => self.pwr.read(a - addr::PWR),
            addr::IWDG..=0x4000_33FF => self.iwdg.read(a - addr::IWDG),
            addr::AFIO..=0x4001_03FF => self.afio.read(a - addr::AFIO),
            addr::GPIOA..addr::GPIOE_END => {
                let port = ((a - addr::GPIOA) / 0x400) as usize;
                self.gpio[port].read(a & 0x3FF)
            }
            addr::RCC..=0x4002_13FF => self.rcc.read(a - addr::RCC),
            addr::FLASH_IF..=0x4002_23FF if self.ident.f1_fpec => {
                self.fpec.read(a - addr::FLASH_IF)
            }
            _ => 0,
        }
    }

    fn periph_write(&mut self, a: u32, v: u32, origin: Origin) -> Result<(), BusError> {
        let _ = origin;
        if !self.clock_on(a) {
            return Ok(());
        }
        match a {
            addr::PWR..=0x4000_73FF => self.pwr.write(a - addr::PWR, v),
            addr::IWDG..=0x4000_33FF => {
                self.sync_timers();
                self.iwdg.write(a - addr::IWDG, v)
            }
            addr::AFIO..=0x4001_03FF => self.afio.write(a - addr::AFIO, v),
            addr::GPIOA..addr::GPIOE_END => {
                let port = ((a - addr::GPIOA) / 0x400) as usize;
                self.gpio[port].write(a & 0x3FF, v)
            }
            addr::RCC..=0x4002_13FF => {
                self.rcc.write(a - addr::RCC, v);
                self.update_clock();
            }
            addr::FLASH_IF..=0x4002_23FF if self.ident.f1_fpec => {
                self.fpec.debug_mode = self.debug_latched;
                let faults = &self.faults;
                match self.fpec.write(a - addr::FLASH_IF, v, &mut self.nv, faults) {
                    FpecWrite::Ok => {}
                    FpecWrite::BusError => return Err(BusError),
                    FpecWrite::LockedAfterChange => {
                        if let Err(e) = self.save_storage(false) {
                            tracing::warn!("virtual STM32: {e}");
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn ppb_read(&mut self, a: u32, origin: Origin) -> Result<u32, BusError> {
        let off = a & 0xFFF;
        Ok(match a & !0xFFF {
            0xE000_0000 => self.itm.read(off),
            0xE000_1000 => {
                let (cycles, pc) = (self.cycles, self.core.regs.pc);
                self.dwt.read(off, cycles, pc)
            }
            0xE000_2000 => self.fpb.read(off),
            0xE000_E000 => self.scs_read(off, origin),
            0xE004_0000 => self.itm.tpiu_read(off),
            // DBGMCU at 0xE004_2000 (F1/F3/G4/L4); RAZ on the H7 (its DBGMCU is
            // at 0x5C00_1000; a simplification, see docs/sim.md).
            addr::DBGMCU if self.ident.dbgmcu_addr == addr::DBGMCU => self.dbgmcu_read(off, origin),
            addr::DBGMCU => 0,
            super::romtable::BASE => super::romtable::read(off, self.ident.dev_id()),
            _ => return Err(BusError),
        })
    }

    fn ppb_write(&mut self, a: u32, v: u32, origin: Origin) -> Result<(), BusError> {
        let off = a & 0xFFF;
        match a & !0xFFF {
            0xE000_0000 => self.itm.write(off, v),
            0xE000_1000 => {
                let cycles = self.cycles;
                self.dwt.write(off, v, cycles)
            }
            0xE000_2000 => self.fpb.write(off, v),
            0xE000_E000 => self.scs_write(off, v, origin),
            0xE004_0000 => self.itm.tpiu_write(off, v),
            // The CPU reaches DBGMCU only in debug mode (errata ES096, see dbgmcu.rs).
            addr::DBGMCU
                if self.ident.dbgmcu_addr == addr::DBGMCU
                    && (origin == Origin::Debug || self.scs.debugen() || !self.ident.afio_swj) =>
            {
                self.dbgmcu_write(off, v)
            }
            addr::DBGMCU => {}
            super::romtable::BASE => {}
            _ => return Err(BusError),
        }
        Ok(())
    }
}
