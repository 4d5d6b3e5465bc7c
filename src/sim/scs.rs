//! System control space 0xE000_E000–0xE000_EFFF as seen from the debugger
//! (ARMv7-M ARM §B3.2, §C1.6; Cortex-M3 r1p1 TRM):
//!
//! * debug: DHCSR (writes need DBGKEY 0xA05F, §C1.6.2), DCRSR/DCRDR (§C1.6.3/4),
//!   DEMCR (§C1.6.5), DFSR (write-1-to-clear, §C1.6.1);
//! * SCB: CPUID 0x411F_C231, ICSR, VTOR, AIRCR (VECTKEY 0x05FA, SYSRESETREQ,
//!   VECTRESET), SCR, CCR, SHPR1–3, SHCSR, CFSR, HFSR, MMFAR, BFAR, the ID
//!   registers, CPACR (RAZ/WI: no coprocessors), MVFR0/1 = 0 (no FPU);
//! * SysTick and NVIC registers (stored; see below), ICTR, STIR;
//! * the SCS CoreSight ID block.
//!
//! Simplification: armagnac keeps its own copy of the SCB/SysTick/NVIC for
//! the running core. Debugger writes of VTOR and SysTick are pushed into it at
//! the next resume; writes made by the firmware itself are not visible to the
//! debugger. NVIC settings made by the debugger have no effect on the core.

use armagnac::registers::Mode;

use super::bus::Origin;
use super::chip::{Chip, RunState};
use super::romtable::{SCS_ID, id_register};
use super::stm32f1::rcc::ResetCause;

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
/// EXTERNAL (EDBGRQ) is never raised: the F103 has no external debug request source modelled.
#[allow(dead_code)]
pub(crate) const DFSR_EXTERNAL: u32 = 1 << 4;

pub(crate) const DEMCR_VC_CORERESET: u32 = 1 << 0;
pub(crate) const DEMCR_VC_HARDERR: u32 = 1 << 10;
pub(crate) const DEMCR_TRCENA: u32 = 1 << 24;
const DEMCR_MASK: u32 = 0x010F_07F1;

/// Offsets in the SCS from which the core's own accesses reach this model
/// (below it armagnac's SCB and MPU answer): 0xE000_EDBC.
pub(crate) const CPU_VISIBLE_FROM: u32 = 0xDBC;

#[derive(Debug, Clone)]
pub(crate) struct Scs {
    /// DHCSR control bits C_DEBUGEN, C_HALT, C_STEP, C_MASKINTS, C_SNAPSTALL.
    pub dhcsr_c: u32,
    pub s_reset_st: bool,
    pub s_retire_st: bool,
    pub s_regrdy: bool,
    pub dcrdr: u32,
    pub demcr: u32,
    pub dfsr: u32,
    pub icsr_pend: u32,
    pub vtor: u32,
    pub prigroup: u32,
    pub scr: u32,
    pub ccr: u32,
    pub shpr: [u32; 3],
    pub shcsr: u32,
    pub cfsr: u32,
    pub hfsr: u32,
    pub mmfar: u32,
    pub bfar: u32,
    pub syst_csr: u32,
    pub syst_rvr: u32,
    pub syst_cvr: u32,
    pub nvic_en: [u32; 2],
    pub nvic_pend: [u32; 2],
    pub nvic_ipr: [u8; 64],
}

impl Scs {
    pub(crate) fn power_on() -> Scs {
        Scs {
            dhcsr_c: 0,
            s_reset_st: true,
            s_retire_st: false,
            s_regrdy: false,
            dcrdr: 0,
            demcr: 0,
            dfsr: 0,
            icsr_pend: 0,
            vtor: 0,
            prigroup: 0,
            scr: 0,
            ccr: 0,
            shpr: [0; 3],
            shcsr: 0,
            cfsr: 0,
            hfsr: 0,
            mmfar: 0,
            bfar: 0,
            syst_csr: 0,
            syst_rvr: 0,
            syst_cvr: 0,
            nvic_en: [0; 2],
            nvic_pend: [0; 2],
            nvic_ipr: [0; 64],
        }
    }

    /// SCB, SysTick and NVIC go back to their reset values; debug registers stay.
    pub(crate) fn system_reset(&mut self) {
        let keep = (self.dhcsr_c, self.dcrdr, self.demcr, self.dfsr);
        *self = Scs::power_on();
        (self.dhcsr_c, self.dcrdr, self.demcr, self.dfsr) = keep;
    }

    /// Local reset: leaves Debug state, S_RESET_ST becomes set.
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

impl Chip {
    /// Read of the SCS at `off` (0..0x1000).
    pub(crate) fn scs_read(&mut self, off: u32, origin: Origin) -> u32 {
        if let Some(v) = id_register(&SCS_ID, off) {
            return v;
        }
        let s = &self.scs;
        match off {
            0x004 => 1, // ICTR: 64 interrupt lines (43 used on the F103)
            0x010 => s.syst_csr,
            0x014 => s.syst_rvr,
            0x018 => s.syst_cvr,
            0x01C => 0x0000_2328, // SYST_CALIB: 9000 = 1 ms at HCLK/8 = 9 MHz (RM0008)
            0x100 | 0x104 | 0x180 | 0x184 => s.nvic_en[((off >> 2) & 1) as usize],
            0x200 | 0x204 | 0x280 | 0x284 => s.nvic_pend[((off >> 2) & 1) as usize],
            0x400..=0x43F => {
                let i = (off - 0x400) as usize;
                u32::from_le_bytes(s.nvic_ipr[i..i + 4].try_into().unwrap_or([0; 4]))
            }
            0xD00 => self.ident.cpuid,
            0xD04 => {
                let vectactive = if matches!(self.core.run, RunState::Halted) {
                    self.core.regs.psr.ipsr()
                } else {
                    0
                };
                s.icsr_pend | vectactive
            }
            0xD08 => s.vtor,
            0xD0C => 0xFA05_0000 | (s.prigroup << 8),
            0xD10 => s.scr,
            0xD14 => s.ccr,
            0xD18 | 0xD1C | 0xD20 => s.shpr[((off - 0xD18) / 4) as usize],
            0xD24 => s.shcsr,
            0xD28 => s.cfsr,
            0xD2C => s.hfsr,
            0xD30 => s.dfsr,
            0xD34 => s.mmfar,
            0xD38 => s.bfar,
            0xD40 => 0x0000_0030, // ID_PFR0
            0xD44 => 0x0000_0200, // ID_PFR1
            0xD48 => 0x0010_0000, // ID_DFR0
            0xD4C => 0,           // ID_AFR0
            0xD50 => 0x0010_0030, // ID_MMFR0
            0xD54 => 0,
            0xD58 => 0x0100_0000,
            0xD5C => 0,
            0xD60 => 0x0114_1110, // ID_ISAR0
            0xD64 => 0x0211_1000,
            0xD68 => 0x2111_2231,
            0xD6C => 0x0111_1110,
            0xD70 => 0x0131_0102,
            0xD90 => 0, // MPU_TYPE: no MPU on the STM32F103
            0xDF0 => self.dhcsr_read(),
            0xDF8 => s.dcrdr,
            0xDFC => s.demcr,
            // MVFR0/1/2: 0 on the Cortex-M3 (no FPU); the M4F/M7 values from family.rs.
            0xF40 => self.ident.mvfr[0],
            0xF44 => self.ident.mvfr[1],
            0xF48 => self.ident.mvfr[2],
            _ => {
                let _ = origin;
                0
            }
        }
    }

    fn dhcsr_read(&mut self) -> u32 {
        let s = &mut self.scs;
        let mut v = s.dhcsr_c;
        if s.s_regrdy {
            v |= S_REGRDY;
        }
        match self.core.run {
            RunState::Halted => v |= S_HALT,
            RunState::Sleeping { .. } => v |= S_SLEEP,
            RunState::LockedUp => v |= S_LOCKUP,
            RunState::Running | RunState::InReset | RunState::Unpowered => {}
        }
        if s.s_retire_st {
            v |= S_RETIRE_ST;
        }
        let in_reset = self.core.run == RunState::InReset;
        if s.s_reset_st || in_reset {
            v |= S_RESET_ST;
        }
        // Sticky status bits clear on read (§C1.6.2).
        s.s_retire_st = false;
        if !in_reset {
            s.s_reset_st = false;
        }
        v
    }

    /// Write to the SCS at `off`. Returns after performing any reset it requests.
    pub(crate) fn scs_write(&mut self, off: u32, v: u32, origin: Origin) {
        let s = &mut self.scs;
        match off {
            0x010 => {
                s.syst_csr = v & 0x7;
                self.core.scb_dirty = true;
            }
            0x014 => {
                s.syst_rvr = v & 0x00FF_FFFF;
                self.core.scb_dirty = true;
            }
            0x018 => {
                s.syst_cvr = 0;
                s.syst_csr &= !(1 << 16);
                self.core.scb_dirty = true;
            }
            0x100 | 0x104 => s.nvic_en[((off >> 2) & 1) as usize] |= v,
            0x180 | 0x184 => s.nvic_en[((off >> 2) & 1) as usize] &= !v,
            0x200 | 0x204 => s.nvic_pend[((off >> 2) & 1) as usize] |= v,
            0x280 | 0x284 => s.nvic_pend[((off >> 2) & 1) as usize] &= !v,
            0x400..=0x43F => {
                let i = (off - 0x400) as usize;
                // 4 priority bits implemented on the STM32F1 (RM0008 §10.1).
                for (k, b) in v.to_le_bytes().iter().enumerate() {
                    s.nvic_ipr[i + k] = b & 0xF0;
                }
            }
            0xD04 => {
                // PENDSVSET/PENDSTSET set, PENDSVCLR/PENDSTCLR clear; NMIPENDSET stored.
                if v & (1 << 28) != 0 {
                    s.icsr_pend |= 1 << 28;
                }
                if v & (1 << 27) != 0 {
                    s.icsr_pend &= !(1 << 28);
                }
                if v & (1 << 26) != 0 {
                    s.icsr_pend |= 1 << 26;
                }
                if v & (1 << 25) != 0 {
                    s.icsr_pend &= !(1 << 26);
                }
                if v & (1 << 31) != 0 {
                    s.icsr_pend |= 1 << 31;
                }
            }
            0xD08 => {
                s.vtor = v & 0x3FFF_FF80;
                self.core.scb_dirty = true;
            }
            0xD0C => {
                if v >> 16 != 0x05FA {
                    return; // wrong VECTKEY: write ignored
                }
                s.prigroup = (v >> 8) & 7;
                if v & (1 << 2) != 0 {
                    self.system_reset(ResetCause::Software);
                } else if v & 1 != 0 {
                    self.core_reset();
                }
            }
            0xD10 => s.scr = v & 0x16,
            0xD14 => s.ccr = v & 0x31B,
            0xD18 | 0xD1C | 0xD20 => s.shpr[((off - 0xD18) / 4) as usize] = v & 0xF0F0_F0F0,
            0xD24 => s.shcsr = v & 0x0007_FD8B,
            0xD28 => s.cfsr &= !v,
            0xD2C => s.hfsr &= !v,
            0xD30 => s.dfsr &= !(v & 0x1F),
            0xD34 => s.mmfar = v,
            0xD38 => s.bfar = v,
            0xDF0 if origin == Origin::Debug => self.dhcsr_write(v),
            0xDF4 if origin == Origin::Debug => self.dcrsr_write(v),
            0xDF8 => s.dcrdr = v,
            0xDFC => {
                s.demcr = v & DEMCR_MASK;
                let cycles = self.cycles;
                self.dwt.set_trcena(v & DEMCR_TRCENA != 0, cycles);
            }
            _ => {}
        }
    }

    fn dhcsr_write(&mut self, v: u32) {
        if v >> 16 != 0xA05F {
            return; // DBGKEY missing: the write is ignored
        }
        let ctrl = v & (C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL);
        // Halting or resuming may freeze or unfreeze the IWDG: account it first.
        self.sync_timers();
        if ctrl & C_DEBUGEN == 0 {
            self.scs.dhcsr_c = 0;
            if self.core.run == RunState::Halted {
                self.core.run = RunState::Running;
            }
            return;
        }
        self.scs.dhcsr_c = ctrl;
        if ctrl & C_HALT != 0 {
            match self.core.run {
                RunState::Running | RunState::Sleeping { .. } | RunState::LockedUp => {
                    self.halt(DFSR_HALTED)
                }
                RunState::Halted | RunState::InReset | RunState::Unpowered => {}
            }
        } else if self.core.run == RunState::Halted {
            self.core.run = RunState::Running;
            self.core.step_pending = ctrl & C_STEP != 0;
            self.scs.s_regrdy = false;
        }
    }

    /// DCRSR: transfer between DCRDR and a core register (§C1.6.3). Completes
    /// instantly while halted; outside Debug state nothing happens and S_REGRDY
    /// stays 0.
    fn dcrsr_write(&mut self, v: u32) {
        if self.core.run != RunState::Halted {
            self.scs.s_regrdy = false;
            return;
        }
        let sel = v & 0x7F;
        if v & (1 << 16) != 0 {
            let val = self.scs.dcrdr;
            self.core_reg_write(sel, val);
        } else {
            self.scs.dcrdr = self.core_reg_read(sel);
        }
        self.scs.s_regrdy = true;
    }

    fn use_psp(&self) -> bool {
        self.core.regs.mode == Mode::Thread && self.core.regs.control.spsel()
    }

    pub(crate) fn core_reg_read(&self, sel: u32) -> u32 {
        let r = &self.core.regs;
        match sel {
            0 => r.r0,
            1 => r.r1,
            2 => r.r2,
            3 => r.r3,
            4 => r.r4,
            5 => r.r5,
            6 => r.r6,
            7 => r.r7,
            8 => r.r8,
            9 => r.r9,
            10 => r.r10,
            11 => r.r11,
            12 => r.r12,
            13 => {
                if self.use_psp() {
                    r.psp
                } else {
                    r.msp
                }
            }
            14 => r.lr,
            15 => r.pc,
            // armagnac does not keep EPSR.T; the core only runs in Thumb state.
            16 => r.psr.get() | (1 << 24),
            17 => r.msp,
            18 => r.psp,
            20 => {
                (r.control.read() & 3) << 24
                    | (r.faultmask.pm() as u32) << 16
                    | (self.core.basepri as u32) << 8
                    | r.primask.pm() as u32
            }
            _ => 0,
        }
    }

    pub(crate) fn core_reg_write(&mut self, sel: u32, v: u32) {
        let use_psp = self.use_psp();
        let r = &mut self.core.regs;
        match sel {
            0 => r.r0 = v,
            1 => r.r1 = v,
            2 => r.r2 = v,
            3 => r.r3 = v,
            4 => r.r4 = v,
            5 => r.r5 = v,
            6 => r.r6 = v,
            7 => r.r7 = v,
            8 => r.r8 = v,
            9 => r.r9 = v,
            10 => r.r10 = v,
            11 => r.r11 = v,
            12 => r.r12 = v,
            13 => {
                if use_psp {
                    r.psp = v & !3
                } else {
                    r.msp = v & !3
                }
            }
            14 => r.lr = v,
            // DebugReturnAddress: bit 0 is ignored (probe-rs writes entry points with it set).
            15 => r.pc = v & !1,
            16 => {
                r.psr.set(v);
                r.mode = if v & 0x1FF != 0 {
                    Mode::Handler
                } else {
                    Mode::Thread
                };
            }
            17 => r.msp = v & !3,
            18 => r.psp = v & !3,
            20 => {
                let ctrl = v >> 24;
                r.control.set_privileged_bit(ctrl & 1 != 0);
                if r.mode == Mode::Thread {
                    r.control.set_spsel(ctrl & 2 != 0);
                }
                r.faultmask.set_pm(v & (1 << 16) != 0);
                r.primask.set_pm(v & 1 != 0);
                self.core.basepri = ((v >> 8) & 0xF0) as u8;
            }
            _ => {}
        }
    }
}
