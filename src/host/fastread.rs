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
//! BD1 write (DCRSR), a BD0 read (DHCSR, whose S_REGRDY is checked afterwards; ARMv7-M ARM
//! §C1.6.3) and a BD2 read (DCRDR): no TAR write per access, where probe-rs's `read_core_reg`
//! writes TAR three times (`probe/batch.rs`'s `Reads::read_core_regs`).
//!
//! probe-rs sees nothing of it: its SELECT cache stays right (the raw accesses go through its
//! DAP layer) and it reads CSW afresh for its next memory interface.

use probe_rs::architecture::arm::FullyQualifiedApAddress;

use super::Host;
use crate::command::CommandError;
use crate::diagnose;
use crate::diagnose::regs::DHCSR;
use crate::probe::batch::{ReadBatch, Reads, RegTransfer, core_regs_read};

type ArmError = probe_rs::architecture::arm::ArmError;
pub(super) type Iface<'a> = &'a mut dyn probe_rs::architecture::arm::ArmDebugInterface;

pub(super) use crate::probe::memap::{BD0, BD1, BD2, CSW_SIZE, CSW_WORD, DRW, TAR};
use crate::probe::memap::{CSW, CSW_SIZE_INC, CSW_WORD_INC, TAR_PAGE as PAGE};

/// The message of a register transfer that did not complete (`sel`: the registers asked for).
fn transfer_error(name: &str, sel: &[u16], e: RegTransfer) -> String {
    match e {
        RegTransfer::NotHalted { dhcsr } => {
            format!("[{name}] the core is not halted (DHCSR 0x{dhcsr:08x})")
        }
        RegTransfer::NotDone { index, .. } => format!(
            "[{name}] the transfer of core register {} did not complete (DHCSR.S_REGRDY stayed 0)",
            sel.get(index).copied().unwrap_or_default()
        ),
    }
}

impl Host {
    /// Runs `f` with probe-rs's DAP layer and the current target's access port after setting
    /// the CSW bits of `mask` to `value` (the first time on a connection a CSW read and a write
    /// only when they differ; then one write, from the other bits first read). `f`'s inner `Err` is a
    /// message of its own; access failures are explained like those of [`Host::with_core`].
    pub(super) fn with_raw_ap<R>(
        &self,
        mask: u32,
        value: u32,
        f: impl FnOnce(
            Iface<'_>,
            &FullyQualifiedApAddress,
            &str,
            Option<&ReadBatch>,
        ) -> Result<Result<R, String>, ArmError>,
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
            // CSW's other bits (DbgSwEnable, Prot, ...) as first read on this connection: then
            // a posted write sets Size/AddrInc, where a read would cost a round trip each time.
            match conn.csw.iter().find(|(a, _)| *a == ap) {
                Some(&(_, base)) => {
                    iface.write_raw_ap_register(&ap_addr, CSW, (base & !mask) | value)?
                }
                None => {
                    let csw = iface.read_raw_ap_register(&ap_addr, CSW)?;
                    conn.csw.push((ap, csw));
                    if csw & mask != value {
                        iface.write_raw_ap_register(&ap_addr, CSW, (csw & !mask) | value)?;
                    }
                }
            }
            f(iface, &ap_addr, &name, conn.reads.as_ref())
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
        self.with_raw_ap(CSW_SIZE_INC, CSW_WORD_INC, |iface, ap, _, _| {
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
    /// the module doc). With a probe that batches reads (`probe/batch.rs`) all of it is one
    /// batch, each DCRDR read after a DHCSR read whose S_REGRDY is checked afterwards, as
    /// OpenOCD's `cortex_m_fast_read_all_regs` does. Errors: the core is not halted, a register
    /// transfer did not complete, or the access failed; callers then read with probe-rs for
    /// its explained error.
    pub fn read_core_regs_fast(&self, regsel: &[u16], out: &mut [u32]) -> Result<(), CommandError> {
        self.with_raw_ap(CSW_SIZE, CSW_WORD, |iface, ap, name, batch| {
            let mut r = Reads::new(iface, ap, batch);
            r.read_core_regs(regsel)?;
            Ok(match core_regs_read(&r.finish()?) {
                Ok(v) => {
                    out.iter_mut().zip(v).for_each(|(o, v)| *o = v);
                    Ok(())
                }
                Err(e) => Err(transfer_error(name, regsel, e)),
            })
        })
    }

    /// Runs `f` on a [`Reads`] over the current target's access port, with the CSW bits of
    /// `mask` set to `value` first (a write only when they differ), and returns the values `f`
    /// read, in order: one batch with a probe that batches reads (`probe/batch.rs`). Errors
    /// are explained like those of [`Host::with_core`].
    pub fn with_reads(
        &self,
        mask: u32,
        value: u32,
        f: impl FnOnce(&mut Reads<'_>) -> Result<(), ArmError>,
    ) -> Result<Vec<u32>, CommandError> {
        self.with_raw_ap(mask, value, |iface, ap, _, batch| {
            let mut r = Reads::new(iface, ap, batch);
            f(&mut r)?;
            Ok(Ok(r.finish()?))
        })
    }

    /// Whether the current core has an FPU (probe-rs's finding at attach), remembered for the
    /// connection. Errors are explained like those of [`Host::with_core`].
    pub fn core_has_fpu(&self) -> Result<bool, CommandError> {
        let ap = self.current_any()?.2;
        let known = self
            .conn()
            .as_ref()
            .and_then(|c| c.fpu.iter().find(|(a, _)| *a == ap).map(|(_, f)| *f));
        if let Some(f) = known {
            return Ok(f);
        }
        let f = self.with_core(|core, _| core.fpu_support())?;
        if let Some(c) = self.conn().as_mut() {
            c.fpu.push((ap, f));
        }
        Ok(f)
    }

    /// DHCSR of the current core, read through the banked registers (TAR left at DHCSR's
    /// block). Errors are explained like those of [`Host::with_core`].
    pub fn read_dhcsr_fast(&self) -> Result<u32, CommandError> {
        let v = self.with_reads(CSW_SIZE, CSW_WORD, |r| {
            r.write(TAR, DHCSR as u32)?;
            r.read(BD0)
        })?;
        Ok(v[0])
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
