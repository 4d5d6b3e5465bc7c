//! The core: armagnac's ARMv7-M `Processor` wrapped so that it behaves like a
//! Cortex-M3 under a debugger, running on the simulator's own thread.
//!
//! armagnac's `Processor` is `!Send` (Rc/RefCell), so it is created on, and
//! never leaves, this thread. It sees the chip through two [`Port`] mappings
//! (everything outside armagnac's own SCB/MPU block 0xE000_E000–0xE000_EDBB).
//! The chip is shared with the probe side in `Shared::m`; this thread takes it
//! out for a quantum of instructions and hands it back, copying the core
//! registers in and out so that the probe side can serve a halted core's
//! DAP traffic (memory, DCRSR/DCRDR) without talking to this thread.
//!
//! Wrapper behaviour (armagnac quirks, see `docs/sim.md`):
//! * reset re-creates the `Processor` (no reset API); the decoder is reused;
//! * the opcode at PC is peeked before every step: BKPT halts *on* the BKPT
//!   (DFSR.BKPT) and is never given to armagnac; WFI/WFE enter sleep
//!   (S_SLEEP) here, since armagnac never returns from them; SEV sets the
//!   event register; MSR/MRS of PRIMASK, BASEPRI, BASEPRI_MAX, FAULTMASK and
//!   MSR APSR (armagnac `todo!()`s) are emulated; FPB and DWT PC comparators
//!   halt before the instruction;
//! * every step runs under `catch_unwind`: an armagnac panic (unimplemented
//!   instruction) or a memory fault becomes a lockup with a `tracing::warn!`
//!   line, or a halt with DFSR.VCATCH when DEMCR.VC_HARDERR is set (HardFault
//!   exceptions are not modelled: armagnac cannot take them);
//! * C_STEP executes exactly one instruction, then halts with DFSR.HALTED;
//! * SYSRESETREQ written by the firmware is seen at the end of the quantum.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use armagnac::core::{ArmVersion, Config, Emulator, Event, Processor};
use armagnac::decoder::{
    BasicInstructionDecoder, InstructionDecode, Lut16AndGrouped32InstructionDecoder,
};
use armagnac::memory::{
    Env, MemoryAccessError, MemoryInterface, MemoryReadResult, MemoryWriteResult,
};
use armagnac::registers::{Mode, RegisterIndex};

use super::Shared;
use super::bus::Origin;
use super::chip::{Chip, PS_PER_S, PowerMode, RunState};
use super::scs::{DEMCR_VC_HARDERR, DFSR_BKPT, DFSR_DWTTRAP, DFSR_HALTED, DFSR_VCATCH};
use super::stm32f1::rcc::ResetCause;

/// SCB_SCR.SLEEPDEEP (ARMv7-M §B3.2.7).
const SCR_SLEEPDEEP: u32 = 1 << 2;
/// PWR_CR.PDDS: Standby instead of Stop on deep sleep (RM0008 §5.4.1).
const PWR_CR_PDDS: u32 = 1 << 1;

/// Longest run of instructions between two hand-backs of the chip.
const QUANTUM: u64 = 20_000;
/// A running core free-runs in wall time once the probe has been idle this long.
const IDLE: Duration = Duration::from_millis(20);

type ChipCell = Rc<RefCell<Option<Box<Chip>>>>;

/// armagnac's view of the chip bus.
struct Port {
    cell: ChipCell,
    base: u32,
    size: u32,
    /// Half-word reads still to be treated as instruction fetches in this step.
    fetch_skip: Rc<Cell<u8>>,
}

impl Port {
    fn read(&self, off: u32, size: u32) -> MemoryReadResult<u32> {
        let origin = if size == 2 && self.fetch_skip.get() > 0 {
            self.fetch_skip.set(self.fetch_skip.get() - 1);
            Origin::Fetch
        } else {
            Origin::Cpu
        };
        let mut g = self.cell.borrow_mut();
        let chip = g.as_mut().ok_or(MemoryAccessError::HardwareError)?;
        chip.bus_read(self.base.wrapping_add(off), size, origin)
            .map_err(|_| MemoryAccessError::HardwareError)
    }

    fn write(&self, off: u32, size: u32, v: u32) -> MemoryWriteResult {
        let mut g = self.cell.borrow_mut();
        let chip = g.as_mut().ok_or(MemoryAccessError::HardwareError)?;
        chip.bus_write(self.base.wrapping_add(off), size, v, Origin::Cpu)
            .map_err(|_| MemoryAccessError::HardwareError)
    }
}

impl MemoryInterface for Port {
    fn read_u8(&mut self, a: u32, _: &mut Env) -> MemoryReadResult<u8> {
        self.read(a, 1).map(|v| v as u8)
    }
    fn write_u8(&mut self, a: u32, v: u8, _: &mut Env) -> MemoryWriteResult {
        self.write(a, 1, v as u32)
    }
    fn read_u16le(&mut self, a: u32, _: &mut Env) -> MemoryReadResult<u16> {
        self.read(a, 2).map(|v| v as u16)
    }
    fn write_u16le(&mut self, a: u32, v: u16, _: &mut Env) -> MemoryWriteResult {
        self.write(a, 2, v as u32)
    }
    fn read_u32le(&mut self, a: u32, _: &mut Env) -> MemoryReadResult<u32> {
        self.read(a, 4)
    }
    fn write_u32le(&mut self, a: u32, v: u32, _: &mut Env) -> MemoryWriteResult {
        self.write(a, 4, v)
    }
    fn size(&self) -> u32 {
        self.size
    }
}

/// Instructions the wrapper handles itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    Bkpt,
    Wfi(u32),
    Wfe(u32),
    Sev(u32),
    Msr {
        rn: u32,
        sysm: u32,
        mask: u32,
    },
    Mrs {
        rd: u32,
        sysm: u32,
    },
    /// LDR/STR (immediate or register offset) that may address an SCB register
    /// armagnac does not implement.
    LdSt {
        load: bool,
        rt: u32,
        rn: u32,
        off: Offset,
        size: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offset {
    Imm(u32),
    Reg(u32),
}

fn classify(hw1: u16, hw2: Option<u16>) -> Special {
    match hw1 {
        0xBF30 => return Special::Wfi(2),
        0xBF20 => return Special::Wfe(2),
        0xBF40 => return Special::Sev(2),
        h if h & 0xFF00 == 0xBE00 => return Special::Bkpt,
        // LDR/STR Rt, [Rn, #imm5*4] (T1)
        h if h & 0xF000 == 0x6000 => {
            return Special::LdSt {
                load: h & 0x0800 != 0,
                rt: (h & 7) as u32,
                rn: ((h >> 3) & 7) as u32,
                off: Offset::Imm(((h >> 6) & 0x1F) as u32 * 4),
                size: 4,
            };
        }
        // LDR/STR Rt, [Rn, Rm] (T1)
        h if h & 0xFC00 == 0x5000 || h & 0xFE00 == 0x5800 => {
            return Special::LdSt {
                load: h & 0x0800 != 0,
                rt: (h & 7) as u32,
                rn: ((h >> 3) & 7) as u32,
                off: Offset::Reg(((h >> 6) & 7) as u32),
                size: 4,
            };
        }
        _ => {}
    }
    let Some(hw2) = hw2 else { return Special::None };
    match (hw1, hw2) {
        (0xF3AF, 0x8003) => Special::Wfi(4),
        (0xF3AF, 0x8002) => Special::Wfe(4),
        (0xF3AF, 0x8004) => Special::Sev(4),
        // LDR.W/STR.W Rt, [Rn, #imm12] (T3)
        (h, w) if (h & 0xFFF0 == 0xF8C0 || h & 0xFFF0 == 0xF8D0) && h & 0xF != 0xF => {
            Special::LdSt {
                load: h & 0x0010 != 0,
                rt: (w >> 12) as u32,
                rn: (h & 0xF) as u32,
                off: Offset::Imm((w & 0xFFF) as u32),
                size: 4,
            }
        }
        _ if hw1 & 0xFFE0 == 0xF380 && hw2 & 0xD000 == 0x8000 => {
            let sysm = (hw2 & 0xFF) as u32;
            if matches!(sysm, 0..=3 | 16..=19) {
                Special::Msr {
                    rn: (hw1 & 0xF) as u32,
                    sysm,
                    mask: ((hw2 >> 10) & 3) as u32,
                }
            } else {
                Special::None
            }
        }
        _ if hw1 == 0xF3EF && hw2 & 0xF000 == 0x8000 => {
            let sysm = (hw2 & 0xFF) as u32;
            if matches!(sysm, 16..=19) {
                Special::Mrs {
                    rd: ((hw2 >> 8) & 0xF) as u32,
                    sysm,
                }
            } else {
                Special::None
            }
        }
        _ => Special::None,
    }
}

fn is_32bit(hw: u16) -> bool {
    matches!(hw >> 11, 0b11101..=0b11111)
}

/// The armagnac processor of the current core epoch.
struct Cpu {
    cell: ChipCell,
    fetch_skip: Rc<Cell<u8>>,
    proc: Option<Processor>,
    epoch: u64,
    decoder: Option<Box<dyn InstructionDecode>>,
}

impl Cpu {
    fn with_chip<R>(&self, f: impl FnOnce(&mut Chip) -> R) -> R {
        let mut g = self.cell.borrow_mut();
        f(g.as_mut().expect("chip in cell"))
    }

    /// Makes sure the processor matches the chip's reset epoch and holds its registers.
    fn load(&mut self) {
        let (epoch, regs, dirty) = self.with_chip(|c| {
            let d = c.core.scb_dirty;
            c.core.scb_dirty = false;
            (c.core.epoch, c.core.regs, d)
        });
        if self.proc.is_none() || self.epoch != epoch {
            let dec = match self.proc.take() {
                Some(mut old) => std::mem::replace(
                    &mut old.instruction_decoder,
                    Box::new(BasicInstructionDecoder::new(ArmVersion::V7M)),
                ),
                None => self.decoder.take().unwrap_or_else(|| {
                    Box::new(Lut16AndGrouped32InstructionDecoder::new(ArmVersion::V7M))
                }),
            };
            let mut p = Processor::new(Config::v7m());
            p.instruction_decoder = dec;
            let low = Port {
                cell: self.cell.clone(),
                base: 0,
                size: 0xE000_E000,
                fetch_skip: self.fetch_skip.clone(),
            };
            let hi_base = 0xE000_E000 + super::scs::CPU_VISIBLE_FROM;
            let high = Port {
                cell: self.cell.clone(),
                base: hi_base,
                size: u32::MAX - hi_base,
                fetch_skip: self.fetch_skip.clone(),
            };
            // The ranges are disjoint and do not overlap armagnac's SCB/MPU.
            let ok = p.map_iface(0, Rc::new(RefCell::new(low))).is_ok()
                && p.map_iface(hi_base, Rc::new(RefCell::new(high))).is_ok();
            debug_assert!(ok, "armagnac memory map");
            self.proc = Some(p);
            self.epoch = epoch;
        }
        let p = self.proc.as_mut().expect("processor");
        p.registers = regs;
        if dirty {
            // Push the debugger's view of VTOR and SysTick into armagnac's SCB.
            let (vtor, csr, rvr) = self.with_chip(|c| (c.scs.vtor, c.scs.syst_csr, c.scs.syst_rvr));
            let p = self.proc.as_mut().expect("processor");
            let _ = p.write_u32le_iface(0xE000_ED08, vtor);
            let _ = p.write_u32le_iface(0xE000_E014, rvr);
            let _ = p.write_u32le_iface(0xE000_E010, csr & 7);
        }
    }

    fn store(&mut self) {
        if let Some(p) = &self.proc {
            let regs = p.registers;
            self.with_chip(|c| c.core.regs = regs);
        }
    }

    /// Runs the core for up to `budget` cycles. Returns the cycles used.
    fn run(&mut self, budget: u64) -> u64 {
        self.load();
        let mut used = 0;
        while used < budget {
            let (run, epoch) = self.with_chip(|c| (c.core.run, c.core.epoch));
            if epoch != self.epoch {
                self.load(); // a reset happened inside the quantum
            }
            match run {
                RunState::Running => {
                    // Steps until the core stops running or the budget is used.
                    while used < budget {
                        used += 1;
                        if self.step() {
                            break;
                        }
                    }
                }
                RunState::Sleeping { wake_at } => {
                    let now = self.with_chip(|c| c.cycles);
                    let left = budget - used;
                    match wake_at {
                        Some(w) if w <= now + left => {
                            let d = w.saturating_sub(now);
                            used += d;
                            self.with_chip(|c| {
                                c.tick(d);
                                c.core.run = RunState::Running;
                            });
                            // SysTick reached zero: reload and raise its interrupt.
                            let p = self.proc.as_mut().expect("processor");
                            let _ = p.write_u32le_iface(0xE000_E018, 0);
                        }
                        _ => {
                            used += left;
                            self.with_chip(|c| c.tick(left));
                        }
                    }
                }
                _ => break,
            }
        }
        // Firmware-requested system reset (armagnac only acts on VECTRESET).
        let sysreset = self
            .proc
            .as_mut()
            .and_then(|p| p.read_u32le_iface(0xE000_ED0C).ok())
            .is_some_and(|aircr| aircr & 4 != 0);
        self.store();
        if sysreset {
            self.with_chip(|c| c.system_reset(ResetCause::Software));
        }
        self.with_chip(|c| c.sync_timers());
        used
    }

    /// The core cannot continue: lockup, or a vector-catch halt.
    fn fault(&mut self, what: &str, pc: u32) {
        if pc == 0xffff_fffe {
            // The reset vector of erased flash: expected on a blank chip, not a firmware fault.
            tracing::info!(
                "virtual STM32: the reset vector reads 0xffffffff (flash is blank): the core locks up until a debugger halts it, as on silicon"
            );
        } else {
            tracing::warn!("virtual STM32: {what} at PC {pc:#010x}; the core locks up");
        }
        self.with_chip(|c| {
            if c.scs.debugen() && c.scs.demcr & DEMCR_VC_HARDERR != 0 {
                c.halt(DFSR_VCATCH);
            } else {
                c.core.run = RunState::LockedUp;
            }
        });
    }

    /// Executes (or emulates) one instruction. Returns true when the core stopped.
    fn step(&mut self) -> bool {
        let pc = self.proc.as_ref().expect("processor").registers.pc;
        // Debug events before the instruction, then the opcode peek.
        enum Pre {
            Halt(u32),
            Fetch,
            Go(Special, u16, bool, bool),
        }
        let pre = self.with_chip(|c| {
            c.tick(1);
            let debugen = c.scs.debugen();
            if debugen && c.fpb.breaks_at(pc) {
                return Pre::Halt(DFSR_BKPT);
            }
            if debugen && c.dwt.pc_armed && c.dwt.pc_match(pc) {
                return Pre::Halt(DFSR_DWTTRAP);
            }
            let Some(hw1) = c.fetch16(pc) else {
                return Pre::Fetch;
            };
            let hw2 = if is_32bit(hw1) {
                c.fetch16(pc.wrapping_add(2))
            } else {
                None
            };
            if is_32bit(hw1) && hw2.is_none() {
                return Pre::Fetch;
            }
            Pre::Go(classify(hw1, hw2), hw1, c.core.step_pending, debugen)
        });
        let special = match pre {
            Pre::Halt(bits) => {
                self.with_chip(|c| c.halt(bits));
                self.store_pc_regs();
                return true;
            }
            Pre::Fetch => {
                self.fault("instruction fetch bus error", pc);
                return true;
            }
            Pre::Go(s, hw1, step_pending, debugen) => (s, hw1, step_pending, debugen),
        };
        let (special, hw1, step_pending, debugen) = (special.0, special.1, special.2, special.3);
        let special = match special {
            Special::LdSt {
                load,
                rt,
                rn,
                off,
                size,
            } => {
                let p = self.proc.as_ref().expect("processor");
                let base = p[RegisterIndex::new_main(rn)];
                let offset = match off {
                    Offset::Imm(i) => i,
                    Offset::Reg(m) => p[RegisterIndex::new_main(m)],
                };
                let addr = base.wrapping_add(offset);
                if size == 4 && scb_emulated(addr) {
                    return self.emulate_scb(pc, hw1, load, rt, addr);
                }
                Special::None
            }
            other => other,
        };
        let p = self.proc.as_mut().expect("processor");
        let privileged = p.registers.mode == Mode::Handler || !p.registers.control.privileged_bit();
        match special {
            Special::Bkpt => {
                if debugen {
                    self.with_chip(|c| c.halt(DFSR_BKPT));
                    return true;
                }
                self.fault("BKPT without halting debug (HardFault)", pc);
                return true;
            }
            Special::Wfi(sz) | Special::Wfe(sz) | Special::Sev(sz) => {
                let pass = it_advance(p);
                p.registers.pc = pc.wrapping_add(sz);
                if pass {
                    match special {
                        Special::Sev(_) => p.registers.event = true,
                        Special::Wfe(_) if p.registers.event => p.registers.event = false,
                        _ if step_pending => {} // stepping over a sleep: no sleep
                        _ => {
                            let csr = p.read_u32le_iface(0xE000_E010).unwrap_or(0);
                            let cvr = p.read_u32le_iface(0xE000_E018).unwrap_or(0);
                            self.with_chip(|c| {
                                if c.scs.scr & SCR_SLEEPDEEP != 0 {
                                    // Deep sleep (RM0008 §5.3.4/§5.3.5): Stop, or
                                    // Standby with PWR_CR.PDDS. Only NRST, the IWDG
                                    // or (with the DBGMCU bit) a debugger halt wake
                                    // it: EXTI and RTC are not modelled.
                                    c.power = if c.pwr.cr & PWR_CR_PDDS != 0 {
                                        PowerMode::Standby
                                    } else {
                                        PowerMode::Stop
                                    };
                                    c.core.run = RunState::Sleeping { wake_at: None };
                                } else {
                                    let wake_at = (csr & 3 == 3).then(|| c.cycles + cvr as u64 + 1);
                                    c.core.run = RunState::Sleeping { wake_at };
                                }
                            });
                        }
                    }
                }
            }
            Special::Msr { rn, sysm, mask } => {
                let pass = it_advance(p);
                p.registers.pc = pc.wrapping_add(4);
                if pass {
                    let v = p[RegisterIndex::new_main(rn)];
                    match sysm {
                        0..=3 if mask & 2 != 0 => {
                            let psr = p.registers.psr.get();
                            p.registers
                                .psr
                                .set((psr & !0xF800_0000) | (v & 0xF800_0000));
                        }
                        16 if privileged => p.registers.primask.set_pm(v & 1 != 0),
                        17 if privileged => self.with_chip(|c| c.core.basepri = (v & 0xF0) as u8),
                        18 if privileged => self.with_chip(|c| {
                            let n = (v & 0xF0) as u8;
                            if n != 0 && (c.core.basepri == 0 || n < c.core.basepri) {
                                c.core.basepri = n;
                            }
                        }),
                        19 if privileged => p.registers.faultmask.set_pm(v & 1 != 0),
                        _ => {}
                    }
                }
            }
            Special::Mrs { rd, sysm } => {
                let pass = it_advance(p);
                p.registers.pc = pc.wrapping_add(4);
                if pass {
                    let basepri = self.with_chip(|c| c.core.basepri) as u32;
                    let p = self.proc.as_mut().expect("processor");
                    let v = if !privileged {
                        0
                    } else {
                        match sysm {
                            16 => p.registers.primask.pm() as u32,
                            17 | 18 => basepri,
                            _ => p.registers.faultmask.pm() as u32,
                        }
                    };
                    p.set(RegisterIndex::new_main(rd), v);
                }
            }
            Special::LdSt { .. } => unreachable!("resolved above"),
            Special::None => {
                self.fetch_skip.set(if is_32bit(hw1) { 2 } else { 1 });
                let r = catch_unwind(AssertUnwindSafe(|| p.next_event()));
                self.fetch_skip.set(0);
                match r {
                    Ok(Ok(Event::Reset)) => {
                        // VECTRESET written by the firmware into armagnac's AIRCR.
                        self.store();
                        self.with_chip(|c| c.core_reset());
                        return true;
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        self.fault(&format!("{e:?}"), pc);
                        return true;
                    }
                    Err(panic) => {
                        let msg = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        self.fault(
                            &format!(
                                "instruction {hw1:#06x} not supported by the emulator ({msg})"
                            ),
                            pc,
                        );
                        return true;
                    }
                }
            }
        }
        // After the instruction: retired, data watchpoints, single step.
        let stop = self.with_chip(|c| {
            c.scs.s_retire_st = true;
            if c.dwt.pending_trap {
                c.dwt.pending_trap = false;
                if c.scs.debugen() {
                    c.halt(DFSR_DWTTRAP);
                    return true;
                }
            }
            if c.core.step_pending {
                c.halt(DFSR_HALTED);
                return true;
            }
            !matches!(c.core.run, RunState::Running)
        });
        if stop {
            self.store_pc_regs();
        }
        stop
    }

    /// A word load/store to an SCB register armagnac's own SCB model does not
    /// implement (it would `todo!()`): served by the chip's SCS model, so the
    /// firmware and the debugger see the same register. VTOR stores go to both.
    fn emulate_scb(&mut self, pc: u32, hw1: u16, load: bool, rt: u32, addr: u32) -> bool {
        let p = self.proc.as_mut().expect("processor");
        let pass = it_advance(p);
        p.registers.pc = pc.wrapping_add(if is_32bit(hw1) { 4 } else { 2 });
        if pass {
            let off = addr - 0xE000_E000;
            if load {
                let v = self.with_chip(|c| c.scs_read(off, Origin::Cpu));
                let p = self.proc.as_mut().expect("processor");
                p.set(RegisterIndex::new_main(rt), v);
            } else {
                let v = p[RegisterIndex::new_main(rt)];
                if off == 0xD08 {
                    let _ = p.write_u32le_iface(addr, v);
                }
                self.with_chip(|c| c.scs_write(off, v, Origin::Cpu));
                // scb_dirty would push the debugger's view back: it is the same now.
                self.with_chip(|c| c.core.scb_dirty = false);
            }
        }
        self.with_chip(|c| {
            c.scs.s_retire_st = true;
            if c.core.step_pending {
                c.halt(DFSR_HALTED);
                return true;
            }
            !matches!(c.core.run, RunState::Running)
        })
    }

    fn store_pc_regs(&mut self) {
        self.store();
    }
}

/// SCB registers that armagnac's SystemControl does not implement (reads or
/// writes `todo!()` or are unmapped there): ICTR, ACTLR, SYST_CALIB, CPUID,
/// ICSR, SCR, HFSR, DFSR, MMFAR, BFAR, AFSR, ID registers, plus VTOR (whose
/// read is missing; stores are mirrored).
fn scb_emulated(addr: u32) -> bool {
    if !(0xE000_E000..0xE000_ED90).contains(&addr) || !addr.is_multiple_of(4) {
        return false;
    }
    matches!(
        addr - 0xE000_E000,
        0x004 | 0x008 | 0x01C | 0xD00 | 0xD04 | 0xD08 | 0xD10 | 0xD2C..=0xD7C
    )
}

/// Condition check and IT-state advance for an instruction the wrapper emulates.
fn it_advance(p: &mut Processor) -> bool {
    let mut it = p.registers.psr.it_state();
    let pass = it
        .current_condition()
        .is_none_or(|c| p.registers.psr.test(c));
    it.advance();
    p.registers.psr.set_it_state(it);
    pass
}

/// The simulator thread: runs the core when wire time or wall time allows.
pub(crate) fn cpu_thread(shared: Arc<Shared>) {
    let cell: ChipCell = Rc::new(RefCell::new(None));
    let mut cpu = Cpu {
        cell: cell.clone(),
        fetch_skip: Rc::new(Cell::new(0)),
        proc: None,
        epoch: u64::MAX,
        // Built once (5–10 ms) and reused by every re-created Processor.
        decoder: Some(Box::new(Lut16AndGrouped32InstructionDecoder::new(
            ArmVersion::V7M,
        ))),
    };
    // Free-running anchor: (activity sequence, wall start, cycles at start).
    let mut anchor: Option<(u64, Instant, u64)> = None;
    // Same for the virtual time of a core that does not execute: (sequence, wall start, time_ps).
    let mut idle_anchor: Option<(u64, Instant, u64)> = None;
    loop {
        let mut g = shared.lock();
        let (grant, coupled) = loop {
            if g.shutdown {
                return;
            }
            let Some(chip) = g.chip.as_ref() else {
                g = shared.cv.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            if !chip.core_active() {
                let deadline = chip.timer_deadline_ps();
                let now_ps = chip.time_ps;
                g.credit = 0;
                anchor = None;
                // Halted, in reset or locked up: no instructions, but a running
                // IWDG keeps counting in wall time once the probe is idle.
                let Some(deadline) = deadline else {
                    idle_anchor = None;
                    g = shared.cv.wait(g).unwrap_or_else(|e| e.into_inner());
                    continue;
                };
                let idle = g.last_activity.elapsed();
                let wait = if g.waiters > 0 {
                    Duration::from_millis(50)
                } else if idle < IDLE {
                    IDLE - idle
                } else {
                    let seq = g.activity_seq;
                    let (_, start, t0) = match idle_anchor {
                        Some(a) if a.0 == seq => a,
                        _ => {
                            let a = (seq, Instant::now(), now_ps);
                            idle_anchor = Some(a);
                            a
                        }
                    };
                    let due = t0 + start.elapsed().as_nanos() as u64 * 1000;
                    if due > now_ps {
                        let chip = g.chip.as_mut().expect("chip present");
                        chip.advance_idle(due - now_ps);
                    }
                    let left_ps = deadline.saturating_sub(due.max(now_ps));
                    Duration::from_secs_f64(left_ps as f64 / PS_PER_S as f64)
                        .clamp(Duration::from_micros(500), Duration::from_millis(100))
                };
                shared.cv.notify_all();
                g = shared
                    .cv
                    .wait_timeout(g, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                continue;
            }
            idle_anchor = None;
            // Stop a quantum at the next timer event (IWDG reset).
            let cap = chip.timer_cycles_left().unwrap_or(QUANTUM);
            if g.credit > 0 {
                anchor = None;
                break (g.credit.min(QUANTUM).min(cap), true);
            }
            let idle = g.last_activity.elapsed();
            if g.waiters > 0 || idle < IDLE {
                let wait = if g.waiters > 0 {
                    Duration::from_millis(50)
                } else {
                    IDLE - idle
                };
                g = shared
                    .cv
                    .wait_timeout(g, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                continue;
            }
            // Free-running, throttled to the core clock in wall time.
            let (hz, cycles) = (chip.rcc.hclk_hz(), chip.cycles);
            let seq = g.activity_seq;
            let (_, start, c0) = match anchor {
                Some(a) if a.0 == seq => a,
                _ => {
                    let a = (seq, Instant::now(), cycles);
                    anchor = Some(a);
                    a
                }
            };
            let due = (start.elapsed().as_secs_f64() * hz as f64) as u64;
            let done = cycles - c0;
            if due > done {
                break ((due - done).min(QUANTUM).min(cap), false);
            }
            let sleep = Duration::from_secs_f64(((done - due) as f64 / hz as f64).max(0.000_5));
            g = shared
                .cv
                .wait_timeout(g, sleep)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        *cell.borrow_mut() = g.chip.take();
        drop(g);
        let used = cpu.run(grant);
        let chip = cell.borrow_mut().take();
        let mut g = shared.lock();
        let active = chip.as_ref().is_some_and(|c| c.core_active());
        g.chip = chip;
        if coupled {
            g.credit = if active {
                g.credit.saturating_sub(used)
            } else {
                0
            };
        }
        drop(g);
        shared.cv.notify_all();
    }
}
