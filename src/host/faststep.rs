//! A GDB `stepi` straight through the banked debug registers (ADIv5 §C2.6.1), without
//! probe-rs's per-call core setup.
//!
//! probe-rs 0.32's `Core::step`, behind a fresh `Session::core()`, costs about 65 DAP
//! transactions: the memory interface is built again (IDR, CSW, CFG, SELECT), DHCSR is read and
//! written through a TAR write each, the PC is read before and after, and the status read
//! afterwards writes DFSR. GDB steps one instruction at a time through a `next`, so that cost
//! is paid many times. Here a step is: a CSW read, TAR = DHCSR's block once, a DHCSR read (the
//! core must be halted), the two DHCSR writes of ARMv7-M ARM §C1.6.2 (C_MASKINTS set while
//! halted, then C_STEP with C_HALT clear, C_MASKINTS kept: probe-rs leaves it set too and
//! clears it when it next runs the core), DHCSR reads until S_HALT, then the flash
//! controller's lock bits. About 15 transactions.
//!
//! It is taken only where it does what probe-rs's step does: `cortex_m maskisr` is `auto`
//! (with no interrupt pending, ICSR.VECTPENDING = 0), `steponly` or `on`; no watchpoint is
//! set (their DWT_FUNCTION.MATCHED bits are cleared before a resume) and no breakpoint sits at
//! the PC (stepping off it needs the comparator or the `BKPT` out of the way). Otherwise
//! nothing is written and the caller steps through probe-rs.
//!
//! probe-rs caches the core's halt reason; this step does not tell it. DFSR is therefore left
//! as the step sets it (HALTED, or BKPT when the instruction was a `BKPT`), and the connection
//! notes that the cache is stale: the next core probe-rs opens reads its status first
//! ([`super::connection::Connection::open_core`]), so it sees a step's halt and not a
//! breakpoint hit from before (its `run` and `step` treat those differently).

use probe_rs::architecture::arm::{ArmError, FullyQualifiedApAddress};

use super::Host;
use super::control::{halt_lines, regsel, uses_psp};
use super::fastread::{BD0, BD1, BD2, CSW_SIZE, CSW_WORD, DRW, Iface, TAR};
use crate::command::CommandError;
use crate::command::format::halt_message;
use crate::diagnose::fault::FaultReport;
use crate::diagnose::regs::dhcsr::{S_HALT, S_REGRDY};
use crate::diagnose::regs::{DHCSR, ICSR};
use crate::host::maskisr::{DhcsrAccess, MaskIsr, STEP_WAIT, masked_step};
/// ICSR.VECTPENDING (bits 20:12).
const VECTPENDING: u32 = 0x1FF << 12;

/// What [`Host::step_fast`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastStep {
    /// One instruction was stepped; `flash_may_change`: a flash controller was found unlocked
    /// after it (or the family has no lock bits), so flash read before it may be stale.
    Done { flash_may_change: bool },
    /// Nothing was written: the step needs probe-rs's path (see the module doc).
    NotTaken,
}

/// DHCSR through BD0, TAR already at DHCSR's block.
struct Banked<'a, 'b> {
    iface: Iface<'a>,
    ap: &'b FullyQualifiedApAddress,
}

impl DhcsrAccess for Banked<'_, '_> {
    type Error = ArmError;
    fn read_dhcsr(&mut self) -> Result<u32, ArmError> {
        self.iface.read_raw_ap_register(self.ap, BD0)
    }
    fn write_dhcsr(&mut self, value: u32) -> Result<(), ArmError> {
        self.iface.write_raw_ap_register(self.ap, BD0, value)
    }
}

/// The error of a step asked of a core that runs (the GDB step's, both paths).
pub(crate) fn not_halted(name: &str) -> String {
    format!(
        "[{name}] target not halted (it was resumed from another console; 'continue' waits for it, Ctrl-C halts it)"
    )
}

impl Host {
    /// Steps the halted current core by one instruction through the banked registers (see the
    /// module doc), then reads `locks` (flash control register address, lock bit mask; all
    /// set: locked). Errors: the core is not halted, it did not halt again within 100 ms, or
    /// an access failed (explained like those of [`Host::with_core`]).
    pub fn step_fast(&self, locks: &[(u64, u32)]) -> Result<FastStep, CommandError> {
        let mode = self.maskisr();
        if mode == MaskIsr::Off {
            return Ok(FastStep::NotTaken);
        }
        let (target, idx) = self.current_target()?;
        let Some(breakpoints) = self.fast_step_breakpoints(&target) else {
            return Ok(FastStep::NotTaken);
        };
        let r = self.with_raw_ap(CSW_SIZE, CSW_WORD, |iface, ap, name, _| {
            if mode == MaskIsr::Auto {
                iface.write_raw_ap_register(ap, TAR, (ICSR & !0xF) as u32)?;
                let icsr = iface.read_raw_ap_register(ap, BD1)?;
                if icsr & VECTPENDING != 0 {
                    return Ok(Ok(FastStep::NotTaken));
                }
            }
            iface.write_raw_ap_register(ap, TAR, DHCSR as u32)?;
            let dhcsr = iface.read_raw_ap_register(ap, BD0)?;
            if dhcsr & S_HALT == 0 {
                return Ok(Err(not_halted(name)));
            }
            if !breakpoints.is_empty() {
                iface.write_raw_ap_register(ap, BD1, 15)?;
                if iface.read_raw_ap_register(ap, BD0)? & S_REGRDY == 0 {
                    return Ok(Ok(FastStep::NotTaken));
                }
                let pc = iface.read_raw_ap_register(ap, BD2)?;
                if breakpoints.contains(&pc) {
                    return Ok(Ok(FastStep::NotTaken));
                }
            }
            let mut banked = Banked { iface: &mut *iface, ap };
            if let Err(d) = masked_step(&mut banked, dhcsr)? {
                return Ok(Err(format!(
                    "[{name}] the core did not halt again within {} ms of a single step (DHCSR 0x{d:08x}); 'halt' stops it, 'reg pc' shows where it is",
                    STEP_WAIT.as_millis()
                )));
            }
            let mut flash_may_change = locks.is_empty();
            for &(cr, lock) in locks {
                iface.write_raw_ap_register(ap, TAR, cr as u32)?;
                flash_may_change |= iface.read_raw_ap_register(ap, DRW)? & lock != lock;
            }
            Ok(Ok(FastStep::Done { flash_may_change }))
        });
        // A step taken, or one that failed half way: probe-rs's cached halt reason is stale.
        if !matches!(r, Ok(FastStep::NotTaken))
            && let Some(conn) = self.conn().as_mut()
        {
            conn.core_state_stale = Some(idx);
        }
        r
    }
}

impl Host {
    /// The console `step` through [`Host::step_fast`], then its halt message (`reason`, e.g.
    /// `single-step`) from one batch of register reads. `None`: the fast step did not apply or
    /// failed before the core stepped (the caller steps through probe-rs, which explains a core
    /// that runs).
    pub(super) fn step_console_fast(
        &self,
        reason: &str,
    ) -> Option<Result<Vec<String>, CommandError>> {
        match self.step_fast(&[]) {
            Ok(FastStep::Done { .. }) => Some(self.halt_lines_fast(reason)),
            Ok(FastStep::NotTaken) | Err(_) => None,
        }
    }

    /// OpenOCD's halt message of the halted current core (`halt_lines`) from xPSR, PC,
    /// CONTROL, MSP and PSP read through the banked registers; through probe-rs when the core
    /// is in a fault handler (the message then explains the fault) or the fast read failed.
    fn halt_lines_fast(&self, reason: &str) -> Result<Vec<String>, CommandError> {
        let (name, _) = self.current_target()?;
        let sel = [regsel::XPSR, 15, regsel::SPECIAL, regsel::MSP, regsel::PSP];
        let mut v = [0u32; 5];
        let read = self.read_core_regs_fast(&sel, &mut v);
        let [xpsr, pc, special, msp, psp] = v;
        if read.is_err() || FaultReport::applies(xpsr, pc, false) {
            return self.with_core(|core, name| {
                halt_lines(core, name, reason, self.halt_suffix(), &|a| {
                    self.symbolize(a)
                })
            });
        }
        let spsel = uses_psp(xpsr, special);
        let sp = if spsel { psp } else { msp };
        let mut lines = halt_message(&name, reason, xpsr, pc, sp, spsel).to_vec();
        lines[1].push_str(self.halt_suffix());
        Ok(lines)
    }
}
