//! The STM32H743's debug support (RM0433 §60): DBGMCU (§60.5.8) and the
//! other contents of the system debug bus APB-D that the model has, plus ST's
//! CPU ROM table in front of the Cortex-M7's (§60.5.1).
//!
//! DBGMCU is one register file seen at two addresses: 0x5C00_1000 by the
//! CPU (and the debugger through AP0) and 0xE00E_1000 on APB-D (AP2, which
//! probe-rs's STM32H7 sequence uses; the core's PPB reaches APB-D too).
//! Registers: IDC +0x00 (DBGMCU_IDCODE 0x2003_6450: REV_ID 0x2003 rev V,
//! DEV_ID 0x450), CR +0x04 (DBGSLEEP_D1/DBGSTOP_D1/DBGSTBY_D1 bits 0–2, the
//! D2 bits 3–5, TRACECLKEN 20, D1DBGCKEN 21, D3DBGCKEN 22, TRGOEN 28),
//! APB3FZ1 +0x34 (WWDG1 bit 6), APB1LFZ1 +0x3C, APB2FZ1 +0x4C, APB4FZ1
//! +0x54 (I2C4 7, LPTIM2–5 9–12, RTC 16, WDGLSD1 18: IWDG1 stops while the
//! core is halted); reserved bits read 0; reset by power-on reset only (the
//! debug domain). The CoreSight ID block at +0xFD0 gives ST's part 0x450.
//!
//! APB-D (§60.4, what the model has): the system ROM table at 0xE00E_0000
//! listing DBGMCU 0xE00E_1000, SWO 0xE00E_3000, SWTF 0xE00E_4000, CSTF
//! 0xE00F_3000, ETF 0xE00F_4000 and TPIU 0xE00F_5000. The trace blocks have
//! their CoreSight identification (SWO part 0x914, funnels 0x908, ETF 0x961,
//! TPIU 0x912) and keep what is written in their registers; the SWO and
//! SWTF_CTRL carry the SWO trace (`swo.rs`; the chip decodes the debugger's
//! SWO accesses to the trace model, what the CPU writes there is stored);
//! other APB-D addresses are bus errors. The CPU ROM table at
//! 0xE00F_E000 (AP0's BASE) lists the Cortex-M7 ROM table at 0xE00F_F000;
//! its CTI entry is marked absent (no CTI modelled).

use std::collections::HashMap;

use super::super::arm::romtable::{CORESIGHT_CIDR, CsId, arm_pidr, id_register, rom_id};
use super::swo::{SWTF_CTRL, SWTF_CTRL_MASK, SWTF_CTRL_RESET};

/// DBGMCU on the CPU's bus and on APB-D.
pub(crate) const DBGMCU_CPU: u32 = 0x5C00_1000;
pub(crate) const DBGMCU_APBD: u32 = 0xE00E_1000;
/// The system ROM table on APB-D and the CPU ROM table.
const SYS_ROM: u32 = 0xE00E_0000;
const CPU_ROM: u32 = 0xE00F_E000;

// DBGMCU_CR (§60.5.8)
pub(crate) const DBGSTOP_D1: u32 = 1 << 1;
pub(crate) const DBGSTBY_D1: u32 = 1 << 2;
/// DBGMCU_APB4FZ1.WDGLSD1.
pub(crate) const WDGLSD1: u32 = 1 << 18;

/// (offset, writable bits) of the DBGMCU registers after IDC.
const REGS: [(u32, u32); 5] = [
    (0x04, 0x1070_003F), // CR
    (0x34, 0x0000_0040), // APB3FZ1
    (0x3C, 0x00E0_03FF), // APB1LFZ1
    (0x4C, 0x2007_0003), // APB2FZ1
    (0x54, 0x0005_1E80), // APB4FZ1
];

/// System ROM table entries (offsets from 0xE00E_0000, present, 32-bit format).
const SYS_ROM_ENTRIES: [u32; 7] = [
    0x0000_1003, // DBGMCU 0xE00E1000
    0x0000_3003, // SWO    0xE00E3000
    0x0000_4003, // SWTF   0xE00E4000
    0x0001_3003, // CSTF   0xE00F3000
    0x0001_4003, // ETF    0xE00F4000
    0x0001_5003, // TPIU   0xE00F5000
    0,
];
/// CPU ROM table entries: the Cortex-M7 ROM table, the CTI (not present).
const CPU_ROM_ENTRIES: [u32; 3] = [0x0000_1003, 0xFFF4_5002, 0];

/// The trace components on APB-D: (base, ARM part number, DEVTYPE).
const TRACE: [(u32, u16, u32); 5] = [
    (0xE00E_3000, 0x914, 0x11), // SWO
    (0xE00E_4000, 0x908, 0x12), // SWTF (funnel)
    (0xE00F_3000, 0x908, 0x12), // CSTF (funnel)
    (0xE00F_4000, 0x961, 0x21), // ETF (TMC)
    (0xE00F_5000, 0x912, 0x11), // TPIU
];

/// Stored trace registers at most.
const MAX_STORED: usize = 512;

#[derive(Debug, Clone)]
pub(crate) struct Dbgmcu {
    idcode: u32,
    regs: [u32; 5],
    trace: HashMap<u32, u32>,
    /// SWTF_CTRL (`swo.rs`).
    swtf_ctrl: u32,
}

impl Dbgmcu {
    pub(crate) fn power_on(idcode: u32) -> Dbgmcu {
        Dbgmcu {
            idcode,
            regs: [0; 5],
            trace: HashMap::new(),
            swtf_ctrl: SWTF_CTRL_RESET,
        }
    }

    /// DBGMCU_CR.
    pub(crate) fn cr(&self) -> u32 {
        self.regs[0]
    }

    /// SWTF_CTRL.
    pub(crate) fn swtf_ctrl(&self) -> u32 {
        self.swtf_ctrl
    }

    /// DBGMCU_APB4FZ1.
    pub(crate) fn apb4fz1(&self) -> u32 {
        self.regs[4]
    }

    /// Whether `a` is debug-support space this module answers (DBGMCU at
    /// either address, the ROM tables, the trace blocks).
    pub(crate) fn claims(a: u32) -> bool {
        (DBGMCU_CPU..DBGMCU_CPU + 0x1000).contains(&a)
            || (SYS_ROM..SYS_ROM + 0x2000).contains(&a)
            || (CPU_ROM..CPU_ROM + 0x1000).contains(&a)
            || TRACE.iter().any(|t| (t.0..t.0 + 0x1000).contains(&a))
    }

    fn dbgmcu_off(a: u32) -> Option<u32> {
        [DBGMCU_CPU, DBGMCU_APBD]
            .into_iter()
            .find(|&b| (b..b + 0x1000).contains(&a))
            .map(|b| a - b)
    }

    /// Word read at `a` (word aligned), `None` if nothing answers there.
    pub(crate) fn read(&self, a: u32) -> Option<u32> {
        let st = |entries: &[u32], off: u32| -> u32 {
            if let Some(v) = id_register(&rom_id(self.dev_id()), off) {
                return v;
            }
            match off {
                0xFCC => 1, // MEMTYPE.SYSMEM
                o if (o as usize) < entries.len() * 4 => entries[(o / 4) as usize],
                _ => 0,
            }
        };
        if let Some(off) = Self::dbgmcu_off(a) {
            let id = CsId {
                pidr: rom_id(self.dev_id()).pidr,
                cidr: CORESIGHT_CIDR,
            };
            return Some(match off {
                0 => self.idcode,
                o => REGS
                    .iter()
                    .position(|r| r.0 == o)
                    .map(|i| self.regs[i])
                    .or_else(|| id_register(&id, o))
                    .unwrap_or(0),
            });
        }
        if (SYS_ROM..SYS_ROM + 0x1000).contains(&a) {
            return Some(st(&SYS_ROM_ENTRIES, a - SYS_ROM));
        }
        if (CPU_ROM..CPU_ROM + 0x1000).contains(&a) {
            return Some(st(&CPU_ROM_ENTRIES, a - CPU_ROM));
        }
        if a == SWTF_CTRL {
            return Some(self.swtf_ctrl);
        }
        let &(base, part, devtype) = TRACE.iter().find(|t| (t.0..t.0 + 0x1000).contains(&a))?;
        let off = a - base;
        let id = CsId {
            pidr: arm_pidr(part, 0),
            cidr: CORESIGHT_CIDR,
        };
        Some(match off {
            0xFCC => devtype,
            0xFB0..=0xFFC => id_register(&id, off).unwrap_or(0),
            _ => self.trace.get(&a).copied().unwrap_or(0),
        })
    }

    /// Word write at `a`; false if nothing answers there.
    pub(crate) fn write(&mut self, a: u32, v: u32) -> bool {
        if let Some(off) = Self::dbgmcu_off(a) {
            if let Some(i) = REGS.iter().position(|r| r.0 == off) {
                self.regs[i] = v & REGS[i].1;
            }
            return true;
        }
        if a == SWTF_CTRL {
            self.swtf_ctrl = v & SWTF_CTRL_MASK;
            return true;
        }
        if let Some(&(base, ..)) = TRACE.iter().find(|t| (t.0..t.0 + 0x1000).contains(&a)) {
            let stored = a - base < 0xF00;
            if stored && (self.trace.len() < MAX_STORED || self.trace.contains_key(&a)) {
                self.trace.insert(a, v);
            }
            return true;
        }
        (SYS_ROM..SYS_ROM + 0x1000).contains(&a) || (CPU_ROM..CPU_ROM + 0x1000).contains(&a)
    }

    fn dev_id(&self) -> u16 {
        (self.idcode & 0xFFF) as u16
    }
}
