//! Memory access for commands that work on every target kind: through the current core
//! (a `cortex_m` target, its MEM-AP with the core's view), or through a chosen MEM-AP with no
//! core (a `mem_ap` target, e.g. the STM32H7's APB-AP 2 to APB-D: DBGMCU at 0xE00E_1000,
//! RM0433 §60.4).
//!
//! Both go through probe-rs: a core's [`Core`], or the [`ArmMemoryInterface`] probe-rs opens on
//! the access port (ADIv5 §C2.2: CSW, TAR, DRW). [`MemAccess`] is the part of both that the
//! memory commands use.

use probe_rs::architecture::arm::FullyQualifiedApAddress;
use probe_rs::architecture::arm::memory::ArmMemoryInterface;
use probe_rs::{Core, MemoryInterface};

use super::Host;
use super::target::TargetKind;
use crate::command::CommandError;
use crate::diagnose;

/// Reads and writes of 8/16/32/64-bit items (addresses in bytes; each item one bus access of
/// that width where the access port allows it), and the flush of posted writes.
pub trait MemAccess {
    /// Reads `data.len()` bytes with 8-bit accesses.
    fn read_8(&mut self, addr: u64, data: &mut [u8]) -> Result<(), probe_rs::Error>;
    /// Reads 16-bit items.
    fn read_16(&mut self, addr: u64, data: &mut [u16]) -> Result<(), probe_rs::Error>;
    /// Reads 32-bit items.
    fn read_32(&mut self, addr: u64, data: &mut [u32]) -> Result<(), probe_rs::Error>;
    /// Reads 64-bit items.
    fn read_64(&mut self, addr: u64, data: &mut [u64]) -> Result<(), probe_rs::Error>;
    /// Writes bytes with 8-bit accesses.
    fn write_8(&mut self, addr: u64, data: &[u8]) -> Result<(), probe_rs::Error>;
    /// Writes 16-bit items.
    fn write_16(&mut self, addr: u64, data: &[u16]) -> Result<(), probe_rs::Error>;
    /// Writes 32-bit items.
    fn write_32(&mut self, addr: u64, data: &[u32]) -> Result<(), probe_rs::Error>;
    /// Writes 64-bit items.
    fn write_64(&mut self, addr: u64, data: &[u64]) -> Result<(), probe_rs::Error>;
    /// Completes posted writes, so a write the bus refused fails here.
    fn flush(&mut self) -> Result<(), probe_rs::Error>;
}

macro_rules! delegate {
    ($ty:ty, $map:expr) => {
        impl MemAccess for $ty {
            fn read_8(&mut self, addr: u64, data: &mut [u8]) -> Result<(), probe_rs::Error> {
                MemoryInterface::read_8(self.inner(), addr, data).map_err($map)
            }
            fn read_16(&mut self, addr: u64, data: &mut [u16]) -> Result<(), probe_rs::Error> {
                MemoryInterface::read_16(self.inner(), addr, data).map_err($map)
            }
            fn read_32(&mut self, addr: u64, data: &mut [u32]) -> Result<(), probe_rs::Error> {
                MemoryInterface::read_32(self.inner(), addr, data).map_err($map)
            }
            fn read_64(&mut self, addr: u64, data: &mut [u64]) -> Result<(), probe_rs::Error> {
                MemoryInterface::read_64(self.inner(), addr, data).map_err($map)
            }
            fn write_8(&mut self, addr: u64, data: &[u8]) -> Result<(), probe_rs::Error> {
                MemoryInterface::write_8(self.inner(), addr, data).map_err($map)
            }
            fn write_16(&mut self, addr: u64, data: &[u16]) -> Result<(), probe_rs::Error> {
                MemoryInterface::write_16(self.inner(), addr, data).map_err($map)
            }
            fn write_32(&mut self, addr: u64, data: &[u32]) -> Result<(), probe_rs::Error> {
                MemoryInterface::write_32(self.inner(), addr, data).map_err($map)
            }
            fn write_64(&mut self, addr: u64, data: &[u64]) -> Result<(), probe_rs::Error> {
                MemoryInterface::write_64(self.inner(), addr, data).map_err($map)
            }
            fn flush(&mut self) -> Result<(), probe_rs::Error> {
                MemoryInterface::flush(self.inner()).map_err($map)
            }
        }
    };
}

/// A core as a [`MemAccess`].
struct CoreMem<'a, 'b>(&'a mut Core<'b>);

impl<'b> CoreMem<'_, 'b> {
    fn inner(&mut self) -> &mut Core<'b> {
        self.0
    }
}

delegate!(CoreMem<'_, '_>, |e| e);

/// An access port's memory interface as a [`MemAccess`].
struct ApMem<'a>(Box<dyn ArmMemoryInterface + 'a>);

impl<'a> ApMem<'a> {
    fn inner(&mut self) -> &mut (dyn ArmMemoryInterface + 'a) {
        &mut *self.0
    }
}

delegate!(ApMem<'_>, probe_rs::Error::from);

impl Host {
    /// Runs `f` with memory access through the current target: its core for a `cortex_m`
    /// target ([`Host::with_core`]), its access port for a `mem_ap` target. `f` gets the
    /// target's name. Errors are explained like those of [`Host::with_core`].
    pub fn with_memory<R>(
        &self,
        f: impl FnOnce(&mut dyn MemAccess, &str) -> Result<R, probe_rs::Error>,
    ) -> Result<R, CommandError> {
        let (name, kind, ap) = self.current_any()?;
        match kind {
            TargetKind::CortexM => self.with_core(|core, name| f(&mut CoreMem(core), name)),
            TargetKind::MemAp => self.with_ap_memory(ap, |mem| f(mem, &name), &name),
        }
    }

    /// Runs `f` with memory access through access port `ap` (APv1 on the default DP; ADIv5
    /// §C2) of the connected chip, whatever the current target. `who` names the access in
    /// errors. Posted writes are flushed before it returns.
    pub fn with_ap_memory<R>(
        &self,
        ap: u8,
        f: impl FnOnce(&mut dyn MemAccess) -> Result<R, probe_rs::Error>,
        who: &str,
    ) -> Result<R, CommandError> {
        self.reattach_if_lost()?;
        let mut guard = self.conn();
        let conn = guard.as_mut().ok_or_else(|| {
            CommandError::failed("the target is not connected: 'init' failed or was not run; see the error printed by init, or run 'doctor'")
        })?;
        let r = (|| {
            let iface = conn.session.get_arm_interface()?;
            let mem = iface.memory_interface(&FullyQualifiedApAddress::v1_with_default_dp(ap))?;
            let mut mem = ApMem(mem);
            let r = f(&mut mem)?;
            mem.flush()?;
            Ok(r)
        })();
        r.map_err(|e: probe_rs::Error| {
            if diagnose::is_link_failure(&e) {
                conn.notes.link_lost = true;
            }
            diagnose::command_error(&format!("access {who} (access port {ap})"), &e)
        })
    }

    /// Reads register `reg` (byte offset, e.g. 0x00 CSW, 0xFC IDR; ADIv5 §C2.6) of access port
    /// `ap` on the connected chip.
    pub fn read_ap_register(&self, ap: u8, reg: u64) -> Result<u32, CommandError> {
        let mut guard = self.conn();
        let conn = guard
            .as_mut()
            .ok_or_else(|| CommandError::failed("the target is not connected: run 'init' first"))?;
        let r = conn.session.get_arm_interface().and_then(|iface| {
            iface.read_raw_ap_register(&FullyQualifiedApAddress::v1_with_default_dp(ap), reg)
        });
        r.map_err(|e| {
            diagnose::command_error(&format!("read access port {ap}"), &probe_rs::Error::from(e))
        })
    }

    /// Writes DP register at byte address `addr` (0x0 ABORT, 0x4 CTRL/STAT; ADIv5 §B2.2) of
    /// the connected chip on the default DP. SELECT (0x8) is probe-rs's: callers keep their
    /// own copy instead of writing it.
    pub fn write_dp_register(&self, addr: u8, value: u32) -> Result<(), CommandError> {
        use probe_rs::architecture::arm::dp::DpRegisterAddress;
        let mut guard = self.conn();
        let conn = guard
            .as_mut()
            .ok_or_else(|| CommandError::failed("the target is not connected: run 'init' first"))?;
        let r = conn.session.get_arm_interface().and_then(|iface| {
            iface.write_raw_dp_register(
                probe_rs::architecture::arm::dp::DpAddress::Default,
                DpRegisterAddress {
                    bank: None,
                    address: addr,
                },
                value,
            )
        });
        r.map_err(|e| diagnose::command_error("write the debug port", &probe_rs::Error::from(e)))
    }
}
