//! The system bus (ARMv7-M ARM §B3.1, RM0008 §3.3): the memories, family-free,
//! and the SoC's windows, handed to the family's [`Soc`].
//!
//! [`BusPort`] is what the processor model sees (rsemu's `MemOps`: every
//! address outside the core's own PPB comes here, fetches included) and what
//! the debugger's AHB-AP reaches outside the PPB. One lock guards the state
//! ([`Bus`]); the CPU thread and the probe side never hold it at the same time
//! (the chip is handed over between them, `mod.rs`), so it is uncontended.
//! Lock order: the processor's lock, then this one; nothing holding this lock
//! calls into the processor.
//!
//! Decode, in order: main flash at 0x0800_0000 (and its boot alias at 0 on
//! parts that boot from flash there), the RAM regions of the part, system
//! memory (read-only), the bit-band aliases 0x2200_0000/0x4200_0000 for the
//! debugger on parts that have them (the core decodes them itself), the SoC
//! windows (peripherals 0x4000_0000–0x5FFF_FFFF, the vendor PPB window
//! 0xE004_2000–0xE00F_EFFF, anything else the SoC claims in 0x1xxx_xxxx such
//! as option bytes). Everything else is a bus error: the AHB-AP sets
//! STICKYERR, the core takes a precise BusFault.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rsemu::core::error::BusError as RsBusError;
use rsemu::core::space::{MemAttrs, MemOps, MemResult};

use super::ChipModel;
use super::arm::dwt::{Access, Dwt};
use super::family::Identity;
use super::fault::FaultSet;
use super::nvmem::NvMem;
use super::soc::{BusError, Origin, Soc, SocCtx, SocEffects};
use super::time::{Ps, TimeBase};

/// Events a CPU access raises for the run loop (`run.rs`), in [`BusPort::events`].
pub(crate) mod ev {
    /// The idle detector's watched PC was fetched.
    pub(crate) const WATCH: u32 = 1 << 0;
    /// A WFI or WFE encoding was fetched.
    pub(crate) const WFI: u32 = 1 << 1;
    /// A DWT data comparator matched.
    pub(crate) const DWT: u32 = 1 << 2;
    /// A SoC register was accessed: interrupt levels and the next event may
    /// have changed.
    pub(crate) const PERIPH: u32 = 1 << 3;
    /// The SoC asks for a reset (in `Bus::pending_reset`).
    pub(crate) const RESET: u32 = 1 << 4;
    /// A word of the vector table was read: possibly an exception entry.
    pub(crate) const VECTOR: u32 = 1 << 5;
}

const FLASH_BASE: u32 = 0x0800_0000;
const SRAM_BB: u32 = 0x2200_0000;
const SRAM_BB_TARGET: u32 = 0x2000_0000;
const PERIPH_BB: u32 = 0x4200_0000;
const PERIPH_BB_TARGET: u32 = 0x4000_0000;
/// Size of a bit-band region (1 MiB) and of its alias (32 MiB).
const BB_REGION: u32 = 0x0010_0000;

/// Everything on the system bus, behind [`BusPort`]'s lock.
pub(crate) struct Bus {
    pub model: ChipModel,
    pub ident: &'static Identity,
    /// Core cycles ↔ virtual time.
    pub time: TimeBase,
    pub nv: NvMem,
    pub storage: Option<PathBuf>,
    /// RAM regions, as `ident.rams`.
    pub rams: Vec<Vec<u8>>,
    pub sysmem: Vec<u8>,
    pub soc: Box<dyn Soc>,
    /// The DWT comparators (the CPU's data accesses are checked here).
    pub dwt: Dwt,
    /// Copy of the chip's injected faults (bus errors, flash controller).
    pub faults: FaultSet,
    /// Read-out protection's debug mode (PM0075 §2.4.1).
    pub debug_latched: bool,
    /// DHCSR.C_DEBUGEN.
    pub debugen: bool,
    /// The core is in Debug state.
    pub core_halted: bool,
    /// Main flash can be read (no read-out protection in debug mode).
    flash_ok: bool,
    /// CPU data writes so far (the idle detector compares them).
    pub cpu_writes: u64,
    /// Fetch address the idle detector watches (odd = none).
    pub watch_pc: u32,
    /// A reset the SoC asked for during a CPU access.
    pub pending_reset: Option<super::soc::ResetCause>,
    /// VTOR as last seen by the run loop (vector reads are flagged, on
    /// cores with an FPU only: u32::MAX = off).
    pub vtor: u32,
}

impl Bus {
    pub(crate) fn new(
        model: ChipModel,
        nv: NvMem,
        storage: Option<PathBuf>,
        soc: Box<dyn Soc>,
    ) -> Bus {
        let ident = model.identity();
        let hz = soc.hclk_hz();
        let mut b = Bus {
            model,
            ident,
            time: TimeBase::new(hz),
            nv,
            storage,
            rams: ident.rams.iter().map(|r| vec![0; r.1]).collect(),
            sysmem: super::sysmem::image(ident),
            soc,
            dwt: Dwt::after_power_on(),
            faults: FaultSet::default(),
            debug_latched: false,
            debugen: false,
            core_halted: false,
            flash_ok: true,
            cpu_writes: 0,
            watch_pc: 1,
            pending_reset: None,
            vtor: u32::MAX,
        };
        b.refresh_flash_ok();
        b
    }

    /// Re-derives whether main flash is readable (after anything that may
    /// change read-out protection).
    pub(crate) fn refresh_flash_ok(&mut self) {
        self.flash_ok = self.soc.flash_readable(self.debug_latched);
    }

    /// Offset into main flash of `a`, if `a` is main flash or its boot alias.
    #[inline]
    fn flash_offset(&self, a: u32) -> Option<usize> {
        let fs = self.nv.flash.len() as u32;
        let off = if a >= FLASH_BASE {
            a - FLASH_BASE
        } else if self.ident.flash_alias_at_0 {
            a
        } else {
            return None;
        };
        (off < fs).then_some(off as usize)
    }

    /// The RAM region and offset of `a`.
    #[inline]
    fn ram_offset(&self, a: u32) -> Option<(usize, usize)> {
        for (i, &(base, size)) in self.ident.rams.iter().enumerate() {
            if a >= base && ((a - base) as usize) < size {
                return Some((i, (a - base) as usize));
            }
        }
        for &(base, i) in self.ident.ram_aliases {
            if a >= base && ((a - base) as usize) < self.rams[i].len() {
                return Some((i, (a - base) as usize));
            }
        }
        None
    }

    fn ctx(&mut self, cycles: u64, origin: Origin) -> (SocCtx<'_>, &mut Box<dyn Soc>) {
        let now = self.time.at(cycles);
        (
            SocCtx {
                now,
                nv: &mut self.nv,
                faults: &self.faults,
                origin,
                debug_latched: self.debug_latched,
                debugen: self.debugen,
                core_halted: self.core_halted,
            },
            &mut self.soc,
        )
    }

    /// Virtual time at `cycles`.
    pub(crate) fn now(&self, cycles: u64) -> Ps {
        self.time.at(cycles)
    }

    /// Acts on what a SoC access reported.
    pub(crate) fn apply(&mut self, cycles: u64, fx: SocEffects) {
        if fx.clock_changed {
            let hz = self.soc.hclk_hz();
            self.time.set_hz(cycles, hz);
        }
        if fx.persist
            && let Err(e) = self.save_storage(false)
        {
            tracing::warn!("virtual STM32: {e}");
        }
        if let Some(r) = fx.reset {
            self.pending_reset.get_or_insert(r);
        }
        self.refresh_flash_ok();
    }

    /// Saves flash and option bytes if a storage file is configured and they
    /// changed (or always, with `force`).
    pub(crate) fn save_storage(&mut self, force: bool) -> Result<(), super::SimError> {
        if let Some(p) = self.storage.as_ref().filter(|_| self.nv.dirty || force) {
            super::storage::save(p, self.model, &self.nv)?;
            self.nv.dirty = false;
        }
        Ok(())
    }

    /// A `size`-byte (1, 2 or 4) read at `a`; the value is zero-extended.
    /// `events` collects what the run loop must look at.
    pub(crate) fn read(
        &mut self,
        a: u32,
        size: u32,
        origin: Origin,
        cycles: u64,
        events: &mut u32,
    ) -> Result<u32, BusError> {
        if self.faults.bus_error(a, size) {
            return Err(BusError);
        }
        if let Some(off) = self.flash_offset(a) {
            if !self.flash_ok {
                return Err(BusError);
            }
            let v = rd(&self.nv.flash, off, size)?;
            if origin == Origin::Fetch {
                self.fetched(a, v, events);
            } else if origin == Origin::Cpu {
                self.watch(a, size, Access::Read, events);
            }
            return Ok(v);
        }
        if let Some((i, off)) = self.ram_offset(a) {
            let v = rd(&self.rams[i], off, size)?;
            match origin {
                Origin::Fetch => self.fetched(a, v, events),
                Origin::Cpu => self.watch(a, size, Access::Read, events),
                Origin::Debug => {}
            }
            return Ok(v);
        }
        let id = self.ident;
        if a >= id.sysmem_base && a - id.sysmem_base < id.sysmem_size {
            return rd(&self.sysmem, (a - id.sysmem_base) as usize, size);
        }
        if origin == Origin::Debug
            && let Some((word, bit)) = self.bit_band(a)
        {
            let w = self.read(word, 4, origin, cycles, events)?;
            return Ok((w >> bit) & 1);
        }
        if !soc_window(a) || !a.is_multiple_of(size) {
            return Err(BusError);
        }
        if origin == Origin::Fetch && a >= 0x4000_0000 {
            // Peripheral and system regions are Execute Never in the default
            // memory map (ARMv7-M ARM §B3.1). The architecture makes that a
            // MemManage IACCVIOL, which the processor model does not check:
            // refusing the fetch gives a BusFault (IBUSERR) instead, and never
            // executes register contents (docs/sim.md, known deviations).
            return Err(BusError);
        }
        let (mut cx, soc) = self.ctx(cycles, origin);
        let v = soc.read(a, size, &mut cx)?;
        if origin == Origin::Cpu {
            *events |= ev::PERIPH;
            self.watch(a, size, Access::Read, events);
        }
        Ok(v)
    }

    /// A `size`-byte (1, 2 or 4) write of the low bytes of `v` at `a`.
    pub(crate) fn write(
        &mut self,
        a: u32,
        size: u32,
        v: u32,
        origin: Origin,
        cycles: u64,
        events: &mut u32,
    ) -> Result<(), BusError> {
        if self.faults.bus_error(a, size) {
            return Err(BusError);
        }
        if origin == Origin::Cpu {
            self.cpu_writes += 1;
            self.watch(a, size, Access::Write, events);
        }
        if let Some((i, off)) = self.ram_offset(a) {
            return wr(&mut self.rams[i], off, size, v);
        }
        if let Some(off) = self.flash_offset(a) {
            let (mut cx, soc) = self.ctx(cycles, origin);
            let fx = soc.flash_write(off as u32, size, v, &mut cx)?;
            self.apply(cycles, fx);
            return Ok(());
        }
        let id = self.ident;
        if a >= id.sysmem_base && a - id.sysmem_base < id.sysmem_size {
            return Err(BusError); // system memory is read-only
        }
        if origin == Origin::Debug
            && let Some((word, bit)) = self.bit_band(a)
        {
            let old = self.read(word, 4, origin, cycles, events)?;
            let new = if v & 1 != 0 {
                old | (1 << bit)
            } else {
                old & !(1 << bit)
            };
            return self.write(word, 4, new, origin, cycles, events);
        }
        if !soc_window(a) || !a.is_multiple_of(size) {
            return Err(BusError);
        }
        let (mut cx, soc) = self.ctx(cycles, origin);
        let fx = soc.write(a, size, v, &mut cx)?;
        self.apply(cycles, fx);
        if origin == Origin::Cpu {
            *events |= ev::PERIPH;
            if self.pending_reset.is_some() {
                *events |= ev::RESET;
            }
        }
        Ok(())
    }

    /// A bit-band alias address (debugger side; the core decodes its own):
    /// the word and bit it names (ARMv7-M ARM §B3.1.3).
    fn bit_band(&self, a: u32) -> Option<(u32, u32)> {
        if !self.ident.bit_band {
            return None;
        }
        let (alias, target) = if (SRAM_BB..SRAM_BB + BB_REGION * 32).contains(&a) {
            (SRAM_BB, SRAM_BB_TARGET)
        } else if (PERIPH_BB..PERIPH_BB + BB_REGION * 32).contains(&a) {
            (PERIPH_BB, PERIPH_BB_TARGET)
        } else {
            return None;
        };
        let off = a - alias;
        let byte = target + off / 32;
        Some((byte & !3, (byte & 3) * 8 + (off % 32) / 4))
    }

    #[inline]
    fn fetched(&mut self, a: u32, v: u32, events: &mut u32) {
        if a == self.watch_pc {
            *events |= ev::WATCH;
        }
        // WFI, WFE (16-bit) and the second halfword of their 32-bit forms.
        if matches!(v, 0xBF30 | 0xBF20 | 0x8003 | 0x8002) {
            *events |= ev::WFI;
        }
    }

    #[inline]
    fn watch(&mut self, a: u32, size: u32, kind: Access, events: &mut u32) {
        if kind == Access::Read
            && size == 4
            && self.vtor != u32::MAX
            && a.wrapping_sub(self.vtor) < 4 * (16 + u32::from(self.ident.irqs))
        {
            *events |= ev::VECTOR;
        }
        if self.dwt.data_armed {
            self.dwt.data_access(a, size, kind);
            if self.dwt.pending_trap {
                *events |= ev::DWT;
            }
        }
    }

    /// Brings the SoC up to `cycles` and acts on its effects.
    pub(crate) fn sync(&mut self, cycles: u64) {
        let (mut cx, soc) = self.ctx(cycles, Origin::Debug);
        let fx = soc.sync(&mut cx);
        self.apply(cycles, fx);
    }

    /// A byte of flash (main or alias) or option bytes, for the back door.
    pub(crate) fn nonvolatile_byte(&self, addr: u32) -> Option<u8> {
        if let Some(off) = self.flash_offset(addr) {
            return Some(self.nv.flash[off]);
        }
        let ob = self.ident.option_bytes_addr?;
        (ob..ob + 16)
            .contains(&addr)
            .then(|| self.nv.opt[(addr - ob) as usize])
    }
}

/// Addresses the SoC decodes: peripherals, the vendor PPB window, and the
/// 0x1xxx_xxxx area (option bytes and other information blocks).
#[inline]
fn soc_window(a: u32) -> bool {
    (0x1000_0000..0x2000_0000).contains(&a)
        || (0x4000_0000..0x6000_0000).contains(&a)
        || (0xE004_2000..0xE00F_F000).contains(&a)
}

#[inline]
fn rd(mem: &[u8], off: usize, size: u32) -> Result<u32, BusError> {
    let b = mem.get(off..off + size as usize).ok_or(BusError)?;
    Ok(match size {
        1 => b[0] as u32,
        2 => u16::from_le_bytes([b[0], b[1]]) as u32,
        _ => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
    })
}

#[inline]
fn wr(mem: &mut [u8], off: usize, size: u32, v: u32) -> Result<(), BusError> {
    let n = size as usize;
    let dst = mem.get_mut(off..off + n).ok_or(BusError)?;
    dst.copy_from_slice(&v.to_le_bytes()[..n]);
    Ok(())
}

/// The bus as the processor model and the debugger see it.
pub(crate) struct BusPort {
    bus: Mutex<Bus>,
    /// Core cycles executed so far: the run loop publishes it before each
    /// step, so an access knows its virtual time.
    pub(crate) cycles: AtomicU64,
    /// [`ev`] bits raised by CPU accesses since the run loop last looked.
    pub(crate) events: AtomicU32,
}

impl std::fmt::Debug for BusPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BusPort")
    }
}

impl BusPort {
    pub(crate) fn new(bus: Bus) -> BusPort {
        BusPort {
            bus: Mutex::new(bus),
            cycles: AtomicU64::new(0),
            events: AtomicU32::new(0),
        }
    }

    /// The bus state.
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, Bus> {
        self.bus.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Core cycles executed so far.
    #[inline]
    pub(crate) fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }

    /// Takes the pending events.
    #[inline]
    pub(crate) fn take_events(&self) -> u32 {
        if self.events.load(Ordering::Relaxed) == 0 {
            0
        } else {
            self.events.swap(0, Ordering::Relaxed)
        }
    }

    /// A debugger (or back-door) read outside the core's PPB.
    pub(crate) fn debug_read(&self, a: u32, size: u32) -> Result<u32, BusError> {
        let mut e = 0;
        let c = self.cycles();
        self.lock().read(a, size, Origin::Debug, c, &mut e)
    }

    /// A debugger write outside the core's PPB.
    pub(crate) fn debug_write(&self, a: u32, size: u32, v: u32) -> Result<(), BusError> {
        let mut e = 0;
        let c = self.cycles();
        self.lock().write(a, size, v, Origin::Debug, c, &mut e)
    }

    fn raise(&self, e: u32) {
        if e != 0 {
            self.events.fetch_or(e, Ordering::Relaxed);
        }
    }
}

impl MemOps for BusPort {
    fn read(&self, off: u64, dst: &mut [u8], attrs: MemAttrs) -> MemResult {
        let origin = if attrs.debug {
            Origin::Debug
        } else if attrs.is_fetch() {
            Origin::Fetch
        } else {
            Origin::Cpu
        };
        let mut e = 0;
        let c = self.cycles();
        let r = {
            let mut b = self.lock();
            let mut res = Ok(());
            for (i, chunk) in dst.chunks_mut(4).enumerate() {
                let a = (off as u32).wrapping_add(4 * i as u32);
                match b.read(a, chunk.len() as u32, origin, c, &mut e) {
                    Ok(v) => chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]),
                    Err(_) => {
                        res = Err(RsBusError::Unassigned);
                        break;
                    }
                }
            }
            res
        };
        self.raise(e);
        r
    }

    fn write(&self, off: u64, src: &[u8], attrs: MemAttrs) -> MemResult {
        let origin = if attrs.debug {
            Origin::Debug
        } else {
            Origin::Cpu
        };
        let mut e = 0;
        let c = self.cycles();
        let r = {
            let mut b = self.lock();
            let mut res = Ok(());
            for (i, chunk) in src.chunks(4).enumerate() {
                let a = (off as u32).wrapping_add(4 * i as u32);
                let mut w = [0u8; 4];
                w[..chunk.len()].copy_from_slice(chunk);
                if b.write(
                    a,
                    chunk.len() as u32,
                    u32::from_le_bytes(w),
                    origin,
                    c,
                    &mut e,
                )
                .is_err()
                {
                    res = Err(RsBusError::Unassigned);
                    break;
                }
            }
            res
        };
        self.raise(e);
        r
    }
}
