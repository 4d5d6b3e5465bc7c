//! Word reads straight through the MEM-AP's registers (CSW, TAR, DRW; ADIv5 §C2.6), for the
//! GDB server's memory reads.
//!
//! Every [`Host::with_core`] lets probe-rs 0.32 build its memory interface again: it reads the
//! AP's IDR, CSW and CFG and switches SELECT's bank four times, about ten DAP transactions
//! before the first byte. GDB sends many small reads, so that setup dominated them (a 1 KiB
//! `x/256xw` cost 312 transactions against a floor of 257). Here a read is: CSW read (and a
//! CSW write only when its size or address increment differ), one TAR write per 1 KiB
//! auto-increment page (ADIv5 §C2.2.2: only TAR[9:0] is guaranteed to increment) and one DRW
//! read per word, pipelined (one RDBUFF read at the end of each block).
//!
//! Core registers ([`Host::read_core_regs_fast`]) go the same way through the banked data
//! registers: TAR is set once to DHCSR's 16-byte block (0xE000EDF0), then each register is a
//! BD1 write (DCRSR), BD0 reads (DHCSR, until S_REGRDY; ARMv7-M ARM §C1.6.3) and a BD2 read
//! (DCRDR): no TAR write per access, where probe-rs's `read_core_reg` writes TAR three times.
//!
//! probe-rs sees nothing of it: its SELECT cache stays right (the raw accesses go through its
//! DAP layer) and it reads CSW afresh for its next memory interface.

use probe_rs::architecture::arm::FullyQualifiedApAddress;

use super::Host;
use crate::command::CommandError;
use crate::diagnose;
use crate::diagnose::regs::{
    DHCSR,
    dhcsr::{S_HALT, S_REGRDY},
};

type ArmError = probe_rs::architecture::arm::ArmError;
pub(super) type Iface<'a> = &'a mut dyn probe_rs::architecture::arm::ArmDebugInterface;

/// MEM-AP CSW (ADIv5 §C2.6.4).
const CSW: u64 = 0x00;
/// MEM-AP TAR.
pub(super) const TAR: u64 = 0x04;
/// MEM-AP DRW.
pub(super) const DRW: u64 = 0x0C;
/// CSW.Size (bits 2:0) and CSW.AddrInc (bits 5:4).
const CSW_SIZE_INC: u32 = 0x37;
/// Size 32 bits (0b010), AddrInc single (0b01).
const CSW_WORD_INC: u32 = 0x12;
/// Banked data registers BD0–BD2 (ADIv5 §C2.6.1): DHCSR, DCRSR, DCRDR with TAR = DHCSR.
pub(super) const BD0: u64 = 0x10;
pub(super) const BD1: u64 = 0x14;
pub(super) const BD2: u64 = 0x18;
/// CSW.Size 32 bits.
pub(super) const CSW_SIZE: u32 = 0x7;
pub(super) const CSW_WORD: u32 = 0x2;
/// DHCSR reads per register before giving up on S_REGRDY.
const REGRDY_POLLS: usize = 16;

/// TAR auto-increment page: TAR is written again at each 1 KiB boundary.
const PAGE: u32 = 0x400;

impl Host {
    /// Runs `f` with probe-rs's DAP layer and the current target's access port after setting
    /// the CSW bits of `mask` to `value` (a write only when they differ). `f`'s inner `Err` is a
    /// message of its own; access failures are explained like those of [`Host::with_core`].
    pub(super) fn with_raw_ap<R>(
        &self,
        mask: u32,
        value: u32,
        f: impl FnOnce(Iface<'_>, &FullyQualifiedApAddress, &str) -> Result<Result<R, String>, ArmError>,
    ) -> Result<R, CommandError> {
        let (name, _, ap) = self.current_any()?;
        self.reattach_if_lost()?;
        let mut guard = self.conn();
        let conn = guard.as_mut().ok_or_else(|| {
            CommandError::failed("the target is not connected: 'init' failed or was not run; see the error printed by init, or run 'doctor'")
        })?;
        let ap_addr = FullyQualifiedApAddress::v1_with_default_dp(ap);
        let r = (|| {
            let iface = conn.session.get_arm_interface()?;
            let csw = iface.read_raw_ap_register(&ap_addr, CSW)?;
            if csw & mask != value {
                iface.write_raw_ap_register(&ap_addr, CSW, (csw & !mask) | value)?;
            }
            f(iface, &ap_addr, &name)
        })();
        match r {
            Ok(r) => r.map_err(CommandError::failed),
            Err(e) => {
                let e = probe_rs::Error::from(e);
                if diagnose::is_link_failure(&e) {
                    conn.notes.link_lost = true;
                }
                Err(diagnose::command_error(&format!("access {name}"), &e))
            }
        }
    }

    /// Reads `words.len()` 32-bit words from `addr` (a multiple of 4) through the current
    /// target's access port, without probe-rs's per-call memory-interface setup (see the
    /// module doc). Errors are explained like those of [`Host::with_core`]; callers that want
    /// probe-rs's own error for a failed read (a bus fault names the address) read again with
    /// [`Host::with_core`].
    pub fn read_words_fast(&self, addr: u32, words: &mut [u32]) -> Result<(), CommandError> {
        if !addr.is_multiple_of(4) {
            return Err(CommandError::failed(format!(
                "read at 0x{addr:08x}: not word aligned (internal: fast reads take words)"
            )));
        }
        self.with_raw_ap(CSW_SIZE_INC, CSW_WORD_INC, |iface, ap, _| {
            let mut a = addr;
            let mut rest = &mut words[..];
            while !rest.is_empty() {
                let n = (((PAGE - a % PAGE) / 4) as usize).min(rest.len());
                let (chunk, tail) = rest.split_at_mut(n);
                iface.write_raw_ap_register(ap, TAR, a)?;
                iface.read_raw_ap_register_repeated(ap, DRW, chunk)?;
                a = a.wrapping_add(n as u32 * 4);
                rest = tail;
            }
            Ok(Ok(()))
        })
    }

    /// Reads core registers of the halted current core by DCRSR REGSEL number (0–15 r0–pc,
    /// 16 xPSR, 17 MSP, 18 PSP, 20 CONTROL/FAULTMASK/BASEPRI/PRIMASK, 0x21 FPSCR, 0x40 + n
    /// s<n>; ARMv7-M ARM §C1.6.3) into `out` (same length), through the banked registers (see
    /// the module doc). Errors: the core is not halted, a register transfer did not complete,
    /// or the access failed; callers then read with probe-rs for its explained error.
    pub fn read_core_regs_fast(&self, regsel: &[u16], out: &mut [u32]) -> Result<(), CommandError> {
        self.with_raw_ap(CSW_SIZE, CSW_WORD, |iface, ap, name| {
            iface.write_raw_ap_register(ap, TAR, DHCSR as u32)?;
            for (sel, v) in regsel.iter().zip(out.iter_mut()) {
                iface.write_raw_ap_register(ap, BD1, *sel as u32)?;
                let mut ready = false;
                for _ in 0..REGRDY_POLLS {
                    let dhcsr = iface.read_raw_ap_register(ap, BD0)?;
                    if dhcsr & S_HALT == 0 {
                        return Ok(Err(format!(
                            "[{name}] the core is not halted (DHCSR 0x{dhcsr:08x})"
                        )));
                    }
                    if dhcsr & S_REGRDY != 0 {
                        ready = true;
                        break;
                    }
                }
                if !ready {
                    return Ok(Err(format!(
                        "[{name}] the transfer of core register {sel} did not complete (DHCSR.S_REGRDY stayed 0)"
                    )));
                }
                *v = iface.read_raw_ap_register(ap, BD2)?;
            }
            Ok(Ok(()))
        })
    }

    /// [`Host::read_words_fast`] for bytes: `data` may start and end anywhere; the words
    /// around it are read.
    pub fn read_fast(&self, addr: u32, data: &mut [u8]) -> Result<(), CommandError> {
        if data.is_empty() {
            return Ok(());
        }
        let start = addr & !3;
        let end = (addr as u64 + data.len() as u64).next_multiple_of(4);
        let mut words = vec![0u32; ((end - start as u64) / 4) as usize];
        self.read_words_fast(start, &mut words)?;
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let off = (addr - start) as usize;
        data.copy_from_slice(&bytes[off..off + data.len()]);
        Ok(())
    }
}
