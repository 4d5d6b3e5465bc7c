//! Halting debug and the system control space as the debugger sees it
//! (ARMv7-M ARM §C1.6, §B3.2; Cortex-M3/M4/M7 TRMs).
//!
//! * Debug registers, kept here (the processor model has no halting debug):
//!   DHCSR (writes need DBGKEY 0xA05F, §C1.6.2), DCRSR/DCRDR (§C1.6.3/4, core
//!   and FP registers by REGSEL), DEMCR (§C1.6.5: vector catch, TRCENA), DFSR
//!   (write-1-to-clear, §C1.6.1).
//! * Everything else in 0xE000_E000–0xE000_EFFF (NVIC, SCB, SysTick, MPU, FPU
//!   control) is the processor's own state (`core.rs`): a debugger access reads
//!   and writes the same register the firmware does, without read side
//!   effects (COUNTFLAG is not cleared by a debugger read). AIRCR.SYSRESETREQ
//!   and VECTRESET written by the debugger reset the chip or the core here.
//! * ICTR, ACTLR, the ID registers, the Cortex-M7 cache identification
//!   registers (`cache.rs`) and the SCS CoreSight ID block are answered here with each
//!   TRM's values (the processor model reads them as 0 for the firmware, a
//!   simplification listed in docs/sim.md).

use rsemu::cpu::arm::v7m::Regs;

use super::super::chip::{Chip, RunState};
use super::super::soc::ResetCause;
use super::core::{CoreKind, Cpu};
use super::romtable::{SCS_ID, SCS_M7_ID, id_register};

pub(crate) const C_DEBUGEN: u32 = 1 << 0;
pub(crate) const C_HALT: u32 = 1 << 1;
pub(crate) const C_STEP: u32 = 1 << 2;
pub(crate) const C_MASKINTS: u32 = 1 << 3;
pub(crate) const C_SNAPSTALL: u32 = 1 << 5;
pub(crate) const S_REGRDY: u32 = 1 << 16;
pub(crate) const S_HALT: u32 = 1 << 17;
pub(crate) const S_SLEEP: u32 = 1 << 18;
pub(crate) const S_LOCKUP: u32 = 1 << 19;
pub(crate) const S_RETIRE_ST: u32 = 1 << 24;
pub(crate) const S_RESET_ST: u32 = 1 << 25;

pub(crate) const DFSR_HALTED: u32 = 1 << 0;
pub(crate) const DFSR_BKPT: u32 = 1 << 1;
pub(crate) const DFSR_DWTTRAP: u32 = 1 << 2;
pub(crate) const DFSR_VCATCH: u32 = 1 << 3;

/// DEMCR bits (§C1.6.5).
pub(crate) mod demcr {
    pub(crate) const VC_CORERESET: u32 = 1 << 0;
    pub(crate) const VC_MMERR: u32 = 1 << 4;
    pub(crate) const VC_NOCPERR: u32 = 1 << 5;
    pub(crate) const VC_CHKERR: u32 = 1 << 6;
    pub(crate) const VC_STATERR: u32 = 1 << 7;
    pub(crate) const VC_BUSERR: u32 = 1 << 8;
    pub(crate) const VC_INTERR: u32 = 1 << 9;
    pub(crate) const VC_HARDERR: u32 = 1 << 10;
    pub(crate) const TRCENA: u32 = 1 << 24;
    /// Vector catches taken at exception entry (all but VC_CORERESET).
    pub(crate) const VC_FAULTS: u32 = 0x7F0;
    /// Implemented bits: VC_*, MON_EN/PEND/STEP/REQ, TRCENA.
    pub(crate) const MASK: u32 = 0x010F_07F1;
}

/// The debug registers' state (power-on reset only, except the C_HALT/C_STEP
/// /C_MASKINTS bits, which a core reset clears).
#[derive(Debug, Clone)]
pub(crate) struct DebugRegs {
    /// DHCSR control bits: C_DEBUGEN, C_HALT, C_STEP, C_MASKINTS, C_SNAPSTALL.
    pub dhcsr_c: u32,
    pub s_reset_st: bool,
    pub s_retire_st: bool,
    pub s_regrdy: bool,
    pub dcrdr: u32,
    /// DEMCR as written by the debugger (TRCENA is also the processor's).
    pub demcr: u32,
    pub dfsr: u32,
}

impl DebugRegs {
    pub(crate) fn power_on() -> DebugRegs {
        DebugRegs {
            dhcsr_c: 0,
            s_reset_st: true,
            s_retire_st: false,
            s_regrdy: false,
            dcrdr: 0,
            demcr: 0,
            dfsr: 0,
        }
    }

    /// A local or system reset: the halt, step and mask requests end
    /// (§C1.6.2); S_RESET_ST is set.
    pub(crate) fn core_reset(&mut self) {
        self.dhcsr_c &= !(C_HALT | C_STEP | C_MASKINTS);
        self.s_reset_st = true;
        self.s_regrdy = false;
    }

    pub(crate) fn debugen(&self) -> bool {
        self.dhcsr_c & C_DEBUGEN != 0
    }

    pub(crate) fn enter_halt(&mut self, dfsr_bits: u32) {
        self.dhcsr_c |= C_HALT;
        self.dfsr |= dfsr_bits;
        self.s_regrdy = true;
    }
}

/// ID registers 0xE000_ED40..0xE000_ED7F (ID_PFR0 … ID_ISAR4), per the TRMs.
fn id_regs(kind: CoreKind) -> [u32; 13] {
    match kind {
        // Cortex-M3 r1p1 TRM §4.1.
        CoreKind::CortexM3 => [
            0x0000_0030,
            0x0000_0200,
            0x0010_0000,
            0,
            0x0010_0030,
            0,
            0x0100_0000,
            0,
            0x0114_1110,
            0x0211_1000,
            0x2111_2231,
            0x0111_1110,
            0x0131_0102,
        ],
        // Cortex-M4 TRM §4.1.
        CoreKind::CortexM4F => [
            0x0000_0030,
            0x0000_0200,
            0x0010_0000,
            0,
            0x0010_0030,
            0,
            0x0100_0000,
            0,
            0x0110_1110,
            0x0211_1000,
            0x2111_2231,
            0x0111_1110,
            0x0131_0132,
        ],
        // Cortex-M7 TRM §3.2.
        CoreKind::CortexM7 => [
            0x0000_0030,
            0x0000_0200,
            0x0010_0000,
            0,
            0x0010_1030,
            0,
            0x0100_0000,
            0,
            0x0110_1110,
            0x0211_2000,
            0x2023_2231,
            0x0111_1131,
            0x0131_0132,
        ],
    }
}

impl Chip {
    /// Debugger read of the word at `0xE000_E000 + off`.
    pub(crate) fn scs_read(&mut self, off: u32) -> u32 {
        let kind = self.core.cfg.kind;
        let scs_id = if kind == CoreKind::CortexM7 {
            &SCS_M7_ID
        } else {
            &SCS_ID
        };
        if let Some(v) = id_register(scs_id, off).or_else(|| self.cache_id_read(off)) {
            return v;
        }
        match off {
            // ICTR: INTLINESNUM = lines/32 - 1 (rounded up).
            0x004 => (self.ident.irqs as u32).div_ceil(32).saturating_sub(1),
            0x008 => 0, // ACTLR
            0xD30 => self.dbg.dfsr,
            0xD40..=0xD70 => id_regs(kind)[((off - 0xD40) / 4) as usize],
            0xDF0 => self.dhcsr_read(),
            0xDF4 => 0, // DCRSR is write-only
            0xDF8 => self.dbg.dcrdr,
            0xDFC => {
                let trcena = self
                    .core
                    .scs_read(0xE000_EDFC)
                    .is_some_and(|v| v & demcr::TRCENA != 0);
                (self.dbg.demcr & !demcr::TRCENA) | if trcena { demcr::TRCENA } else { 0 }
            }
            _ => self.core.scs_read(0xE000_E000 + off).unwrap_or(0),
        }
    }

    fn dhcsr_read(&mut self) -> u32 {
        let mut v = self.dbg.dhcsr_c;
        if self.dbg.s_regrdy {
            v |= S_REGRDY;
        }
        match self.run {
            RunState::Halted => v |= S_HALT,
            RunState::Running if self.asleep => v |= S_SLEEP,
            RunState::LockedUp => v |= S_LOCKUP,
            RunState::Running | RunState::InReset | RunState::Unpowered => {}
        }
        if self.dbg.s_retire_st {
            v |= S_RETIRE_ST;
        }
        let in_reset = self.run == RunState::InReset;
        if self.dbg.s_reset_st || in_reset {
            v |= S_RESET_ST;
        }
        // Sticky status bits clear on read (§C1.6.2).
        self.dbg.s_retire_st = false;
        if !in_reset {
            self.dbg.s_reset_st = false;
        }
        v
    }

    /// Debugger write of the word at `0xE000_E000 + off`.
    pub(crate) fn scs_write(&mut self, off: u32, v: u32) {
        if self.cache_ctl_write(off, v) {
            return;
        }
        match off {
            0x004 | 0x008 => {}
            0xD0C => {
                if v >> 16 != 0x05FA {
                    return; // wrong VECTKEY: ignored (§B3.2.6)
                }
                // PRIGROUP and VECTCLRACTIVE are the processor's.
                self.core.scs_write(0xE000_ED0C, v & !0b101);
                if v & (1 << 2) != 0 {
                    self.system_reset(ResetCause::Software);
                } else if v & 1 != 0 {
                    self.local_reset();
                }
            }
            0xD30 => self.dbg.dfsr &= !(v & 0x1F),
            0xDF0 => self.dhcsr_write(v),
            0xDF4 => self.dcrsr_write(v),
            0xDF8 => self.dbg.dcrdr = v,
            0xDFC => {
                self.dbg.demcr = v & demcr::MASK;
                // TRCENA also gates the processor's DWT_CYCCNT.
                self.core.with_sys(|s| s.demcr = v & demcr::TRCENA);
                self.port.lock().dwt.set_trcena(v & demcr::TRCENA != 0);
            }
            0xFD0..=0xFFC => {}
            _ => {
                self.core.scs_write(0xE000_E000 + off, v);
            }
        }
    }

    fn dhcsr_write(&mut self, v: u32) {
        if v >> 16 != 0xA05F {
            return; // DBGKEY missing: the write is ignored
        }
        let ctrl = v & (C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL);
        // Halting or resuming may freeze or unfreeze timers: account them first.
        self.sync_soc();
        if ctrl & C_DEBUGEN == 0 {
            self.dbg.dhcsr_c = 0;
            self.port.lock().debugen = false;
            if self.run == RunState::Halted {
                self.resume();
            }
            return;
        }
        self.dbg.dhcsr_c = ctrl;
        self.port.lock().debugen = true;
        if ctrl & C_HALT != 0 {
            match self.run {
                RunState::Running | RunState::LockedUp => self.halt(DFSR_HALTED),
                RunState::Halted | RunState::InReset | RunState::Unpowered => {}
            }
        } else if self.run == RunState::Halted {
            self.step_pending = ctrl & C_STEP != 0;
            self.resume();
        }
    }

    fn dcrsr_write(&mut self, v: u32) {
        if self.run != RunState::Halted {
            self.dbg.s_regrdy = false;
            return;
        }
        let sel = v & 0x7F;
        if v & (1 << 16) != 0 {
            let val = self.dbg.dcrdr;
            self.core_reg_write(sel, val);
        } else {
            self.dbg.dcrdr = self.core_reg_read(sel);
        }
        self.dbg.s_regrdy = true;
    }

    /// A core register by DCRSR.REGSEL (§C1.6.3): 0–12 R0–R12, 13 the current
    /// SP, 14 LR, 15 DebugReturnAddress, 16 xPSR, 17 MSP, 18 PSP, 20
    /// CONTROL/FAULTMASK/BASEPRI/PRIMASK, 0x21 FPSCR, 0x40–0x5F S0–S31.
    /// Unassigned selectors read 0.
    pub(crate) fn core_reg_read(&self, sel: u32) -> u32 {
        let fpu = self.core.has_fpu();
        match sel {
            0x21 if fpu => self.core.fpscr(),
            0x40..=0x5F if fpu => self.core.s((sel - 0x40) as u8),
            0..=20 => {
                let r = self.core.regs();
                match sel {
                    0..=15 => r.r[sel as usize],
                    16 => r.xpsr,
                    17 => r.msp,
                    18 => r.psp,
                    20 => {
                        (r.control & 7) << 24
                            | (r.faultmask as u32) << 16
                            | (r.basepri as u32) << 8
                            | r.primask as u32
                    }
                    _ => 0,
                }
            }
            _ => 0,
        }
    }

    /// Writes a core register by DCRSR.REGSEL (see [`Chip::core_reg_read`]).
    /// The DebugReturnAddress ignores bit 0; writes to unassigned selectors
    /// are ignored.
    pub(crate) fn core_reg_write(&mut self, sel: u32, v: u32) {
        let fpu = self.core.has_fpu();
        match sel {
            0x21 if fpu => self.core.set_fpscr(v),
            0x40..=0x5F if fpu => self.core.set_s((sel - 0x40) as u8, v),
            0..=20 => {
                let mut r: Regs = self.core.regs();
                let psp_active = r.control & 2 != 0 && r.xpsr & 0x1FF == 0;
                match sel {
                    0..=12 | 14 => r.r[sel as usize] = v,
                    13 => {
                        r.r[13] = v & !3;
                        if psp_active {
                            r.psp = v & !3;
                        } else {
                            r.msp = v & !3;
                        }
                    }
                    15 => r.r[15] = v & !1,
                    16 => r.xpsr = v,
                    17 => {
                        r.msp = v & !3;
                        if !psp_active {
                            r.r[13] = v & !3;
                        }
                    }
                    18 => {
                        r.psp = v & !3;
                        if psp_active {
                            r.r[13] = v & !3;
                        }
                    }
                    20 => {
                        let ctl_mask = if fpu { 7 } else { 3 };
                        r.control = (v >> 24) & ctl_mask;
                        r.faultmask = v & (1 << 16) != 0;
                        r.basepri = ((v >> 8) & 0xF0) as u8;
                        r.primask = v & 1 != 0;
                    }
                    _ => return,
                }
                self.core.set_regs(&r);
            }
            _ => {}
        }
    }
}
