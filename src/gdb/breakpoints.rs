//! Z0/Z1 breakpoints and Z2/Z3/Z4 watchpoints, through the host's breakpoint table
//! (`crate::host::breakpoints`, shared with the `bp`/`wp` commands):
//!
//! - Z0 (software): `BKPT` patched into RAM; in flash an FPB comparator (GDB already sends Z1
//!   for flash because the memory map marks it read-only).
//! - Z1 (hardware): an FPB comparator; when all are taken GDB gets an error and the reason.
//! - Z2/Z3/Z4 (write/read/access watchpoints): a DWT comparator watching the smallest aligned
//!   power-of-two range that covers what GDB asked for; the stop reply carries GDB's address.
//!
//! A breakpoint a console had already set at the same address is used but left in place when
//! GDB removes its own.

use gdbstub::target::TargetResult;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint,
    SwBreakpointOps, WatchKind,
};

use super::target::{BpType, GdbBreakpoint, GdbTarget, GdbWatchpoint};
use crate::host::breakpoints::{BreakpointError, BreakpointKind, WatchKind as HostWatch};
use crate::host::gdb_settings::BreakpointOverride;

/// The aligned power-of-two range covering `addr..addr+len` (what one DWT comparator can watch),
/// or `None` when no such range fits in the 32-bit address space below 2 GiB of size (a DWT
/// comparator masks at most 31 address bits, ARMv7-M ARM §C1.8.7 DWT_MASKn). Computed in 64 bits:
/// a length above 2 GiB has no 32-bit power of two (`u32::next_power_of_two` would wrap to 0).
pub fn dwt_range(addr: u32, len: u32) -> Option<(u32, u32)> {
    let end = addr as u64 + len.max(1) as u64;
    let mut size = (len.max(1) as u64).next_power_of_two();
    while size <= 1 << 31 {
        let start = addr as u64 & !(size - 1);
        if start + size >= end {
            return Some((start as u32, size as u32));
        }
        size *= 2;
    }
    None
}

impl GdbTarget {
    fn add_bp(&mut self, addr: u32, kind: usize, ty: BpType) -> TargetResult<bool, Self> {
        // `gdb_breakpoint_override hard|soft` (may change during the session: read each time).
        let ty = match self
            .handle
            .call(|h| h.config().gdb.breakpoint_override)
            .flatten()
        {
            Some(BreakpointOverride::Hard) => BpType::Hardware,
            Some(BreakpointOverride::Soft) => BpType::Software,
            None => ty,
        };
        if self.breakpoints.get(&addr).is_some_and(|b| b.kind == ty) {
            return Ok(true);
        }
        let host_kind = match ty {
            BpType::Software => BreakpointKind::Software,
            BpType::Hardware => BreakpointKind::Hardware,
        };
        let len = kind as u32;
        let (r, _) =
            self.with_host(
                move |host, _| match host.add_breakpoint(addr, len, host_kind) {
                    Ok(_) => Ok(true),
                    Err(BreakpointError::Duplicate(_)) => Ok(false),
                    Err(e) => Err(e.to_string()),
                },
            )?;
        let Some(owned) = self.ok_or_report(r, || {
            format!("cannot insert the breakpoint at 0x{addr:08x}")
        }) else {
            return Ok(false);
        };
        self.breakpoints
            .insert(addr, GdbBreakpoint { kind: ty, owned });
        Ok(true)
    }

    fn remove_bp(&mut self, addr: u32) -> TargetResult<bool, Self> {
        let Some(b) = self.breakpoints.remove(&addr) else {
            return Ok(true);
        };
        if !b.owned {
            return Ok(true);
        }
        let (r, _) = self.with_host(move |host, _| match host.remove_breakpoint(addr) {
            Ok(()) | Err(BreakpointError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.to_string()),
        })?;
        Ok(self
            .ok_or_report(r, || {
                format!("cannot remove the breakpoint at 0x{addr:08x}")
            })
            .is_some())
    }
}

impl Breakpoints for GdbTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for GdbTarget {
    fn add_sw_breakpoint(&mut self, addr: u32, kind: usize) -> TargetResult<bool, Self> {
        self.add_bp(addr, kind, BpType::Software)
    }

    fn remove_sw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_bp(addr)
    }
}

impl HwBreakpoint for GdbTarget {
    fn add_hw_breakpoint(&mut self, addr: u32, kind: usize) -> TargetResult<bool, Self> {
        self.add_bp(addr, kind, BpType::Hardware)
    }

    fn remove_hw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_bp(addr)
    }
}

impl HwWatchpoint for GdbTarget {
    fn add_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        if self
            .watchpoints
            .iter()
            .any(|w| w.addr == addr && w.len == len && w.kind == kind)
        {
            return Ok(true);
        }
        let Some((dwt_addr, dwt_len)) = dwt_range(addr, len) else {
            let _ = self.fail(format!(
                "stdbg: cannot insert the watchpoint on {len} bytes at 0x{addr:08x}: no DWT comparator can watch that range (at most 2 GiB, aligned to its size, below 4 GiB); watch a smaller object"
            ));
            return Ok(false);
        };
        let host_kind = match kind {
            WatchKind::Write => HostWatch::Write,
            WatchKind::Read => HostWatch::Read,
            WatchKind::ReadWrite => HostWatch::Access,
        };
        let (r, _) = self.with_host(move |host, _| {
            host.add_watchpoint(dwt_addr, dwt_len, host_kind, None, None)
                .map_err(|e| e.to_string())
        })?;
        if self
            .ok_or_report(r, || {
                format!("cannot insert the watchpoint on {len} bytes at 0x{addr:08x}")
            })
            .is_none()
        {
            return Ok(false);
        }
        self.watchpoints.push(GdbWatchpoint {
            addr,
            len,
            kind,
            dwt_addr,
            dwt_len,
        });
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        let Some(i) = self
            .watchpoints
            .iter()
            .position(|w| w.addr == addr && w.len == len && w.kind == kind)
        else {
            return Ok(true);
        };
        let w = self.watchpoints.remove(i);
        if self.watchpoints.iter().any(|o| o.dwt_addr == w.dwt_addr) {
            return Ok(true);
        }
        let (r, _) = self.with_host(move |host, _| match host.remove_watchpoint(w.dwt_addr) {
            Ok(()) | Err(BreakpointError::WatchNotFound(_)) => Ok(()),
            Err(e) => Err(e.to_string()),
        })?;
        Ok(self
            .ok_or_report(r, || {
                format!("cannot remove the watchpoint at 0x{addr:08x}")
            })
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::dwt_range;

    #[test]
    fn dwt_ranges_cover_the_request() {
        assert_eq!(dwt_range(0x2000_0004, 4), Some((0x2000_0004, 4)));
        assert_eq!(dwt_range(0x2000_0001, 1), Some((0x2000_0001, 1)));
        assert_eq!(dwt_range(0x2000_0002, 4), Some((0x2000_0000, 8)));
        assert_eq!(dwt_range(0x2000_0004, 3), Some((0x2000_0004, 4)));
        assert_eq!(dwt_range(0x2000_0006, 4), Some((0x2000_0000, 16)));
    }

    #[test]
    fn dwt_range_longer_than_2gib_is_none_not_a_hang() {
        assert_eq!(dwt_range(0x2000_0000, 0x8000_0001), None);
        assert_eq!(dwt_range(0xffff_fff0, 0xffff_ffff), None);
        assert_eq!(dwt_range(0, 0x8000_0000), Some((0, 0x8000_0000)));
        assert_eq!(
            dwt_range(0x9000_0000, 0x2000_0000),
            Some((0x8000_0000, 0x4000_0000))
        );
    }
}
