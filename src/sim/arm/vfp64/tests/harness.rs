//! rsemu's Cortex-M7 (FPv5-SP-D16) on plain RAM, and a tiny stepping driver
//! that puts this layer in front of it, as the stdbg core wrapper will.

use std::sync::Arc;

use rsemu::core::space::{AddressSpace, RamStore, Region, UnassignedPolicy};
use rsemu::cpu::arm::v7m::sys::fsr;
use rsemu::cpu::arm::v7m::{ArmV7m, Config, Regs};

use super::super::{FpRegs, decode, execute, it_advance, it_condition_passed};

/// RAM size, bytes, mapped at 0.
pub(super) const RAM: u64 = 0x2_0000;
/// Where the single-instruction probe runs.
pub(super) const ENTRY: u32 = 0x200;
/// Initial SP.
const STACK: u32 = 0x1_8000;
/// Every exception vector points here (`b .`).
const PARK: u32 = 0x100;

/// A fresh RAM with a vector table whose reset vector is `entry`.
pub(super) fn ram_with_vectors(entry: u32) -> Arc<RamStore> {
    let ram = Arc::new(RamStore::new(RAM));
    ram.write_at(0, &STACK.to_le_bytes()).unwrap();
    ram.write_at(4, &(entry | 1).to_le_bytes()).unwrap();
    for n in 2..64u64 {
        ram.write_at(n * 4, &(PARK | 1).to_le_bytes()).unwrap();
    }
    ram.write_at(u64::from(PARK), &0xe7feu16.to_le_bytes())
        .unwrap();
    ram
}

/// An address space holding `ram` at 0; anything else is a bus error.
pub(super) fn space(ram: &Arc<RamStore>) -> Arc<AddressSpace> {
    let space = AddressSpace::new("mem", 32).with_unassigned(UnassignedPolicy::FAULT);
    space
        .topology()
        .map(Region::ram("ram", Arc::clone(ram)), 0)
        .unwrap();
    Arc::new(space)
}

/// A Cortex-M7F out of reset on `space`, with CP10/CP11 full access
/// (`CPACR = 0x00F0_0000`, DDI 0403E §B3.2.20).
pub(super) fn core(space: &Arc<AddressSpace>) -> ArmV7m {
    let cpu = ArmV7m::new(Config::CORTEX_M7F);
    cpu.attach_space(Arc::clone(space));
    cpu.step(); // the reset sequence
    cpu.with_sys(|s| s.cpacr = 0xf << 20);
    cpu
}

/// What rsemu did with one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Outcome {
    /// `CFSR.UNDEFINSTR` after the step.
    pub(super) undefinstr: bool,
    /// `CFSR` after the step.
    pub(super) cfsr: u32,
}

/// One instruction probe: a fresh core, `word` at [`ENTRY`], one step.
pub(super) struct Prober {
    ram: Arc<RamStore>,
    space: Arc<AddressSpace>,
}

impl Prober {
    pub(super) fn new() -> Prober {
        let ram = ram_with_vectors(ENTRY);
        let space = space(&ram);
        Prober { ram, space }
    }

    /// Executes the 32-bit encoding `word` (`hw1 << 16 | hw2`) once, with
    /// R0–R12 pointing at RAM, and reports `CFSR`.
    pub(super) fn probe(&self, word: u32) -> Outcome {
        let hw = [(word >> 16) as u16, word as u16];
        self.ram
            .write_at(u64::from(ENTRY), &hw[0].to_le_bytes())
            .unwrap();
        self.ram
            .write_at(u64::from(ENTRY) + 2, &hw[1].to_le_bytes())
            .unwrap();
        let cpu = core(&self.space);
        let mut regs = cpu.regs();
        for (i, r) in regs.r.iter_mut().enumerate().take(13) {
            *r = 0x1_0000 + (i as u32) * 0x400;
        }
        cpu.set_regs(regs);
        assert_eq!(cpu.pc(), ENTRY);
        cpu.step();
        let cfsr = cpu.with_sys(|s| s.cfsr);
        Outcome {
            undefinstr: cfsr & fsr::UF_UNDEFINSTR != 0,
            cfsr,
        }
    }
}

/// [`FpRegs`] over an `ArmV7m`, as the wrapper will expose it.
pub(super) struct CoreRegs<'a>(pub(super) &'a ArmV7m);

impl FpRegs for CoreRegs<'_> {
    fn s(&self, n: u8) -> u32 {
        self.0.s(n)
    }
    fn set_s(&mut self, n: u8, v: u32) {
        self.0.set_s(n, v);
    }
    fn fpscr(&self) -> u32 {
        self.0.fpscr()
    }
    fn set_fpscr(&mut self, v: u32) {
        self.0.set_fpscr(v);
    }
    fn r(&self, n: u8) -> u32 {
        self.0.reg(n)
    }
    fn set_r(&mut self, n: u8, v: u32) {
        self.0.set_reg(n, v);
    }
}

/// Counts from [`run_until`].
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Steps {
    /// Instructions rsemu executed.
    pub(super) rsemu: u64,
    /// Double-precision instructions this layer executed.
    pub(super) ours: u64,
    /// Of those, skipped by a failing IT condition.
    pub(super) skipped: u64,
}

/// Steps `cpu` until the PC is `stop`, at most `limit` steps: before each
/// rsemu step, the halfwords at PC are peeked; a double-precision
/// instruction is executed here (IT condition, `execute`, PC += 4,
/// ITAdvance), anything else by `cpu.step()`. Panics on a fault or on
/// running out of steps.
pub(super) fn run_until(cpu: &ArmV7m, ram: &RamStore, stop: u32, limit: u64) -> Steps {
    let mut steps = Steps::default();
    let read16 = |addr: u32| {
        let mut b = [0u8; 2];
        ram.read_at(u64::from(addr), &mut b).unwrap();
        u16::from_le_bytes(b)
    };
    while cpu.pc() != stop {
        assert!(
            steps.rsemu + steps.ours < limit,
            "no stop after {limit} steps"
        );
        let pc = cpu.pc();
        let (hw1, hw2) = (read16(pc), read16(pc.wrapping_add(2)));
        if let Some(insn) = decode(hw1, hw2) {
            let xpsr = cpu.xpsr();
            if insn.unconditional() || it_condition_passed(xpsr) {
                execute(&insn, &mut CoreRegs(cpu), xpsr);
            } else {
                steps.skipped += 1;
            }
            let regs: Regs = cpu.regs();
            cpu.set_regs(Regs {
                xpsr: it_advance(xpsr),
                r: {
                    let mut r = regs.r;
                    r[15] = pc.wrapping_add(4);
                    r
                },
                ..regs
            });
            steps.ours += 1;
        } else {
            cpu.step();
            steps.rsemu += 1;
            let cfsr = cpu.with_sys(|s| s.cfsr);
            assert_eq!(cfsr, 0, "fault at {pc:#x}: CFSR={cfsr:#x}");
        }
    }
    steps
}
