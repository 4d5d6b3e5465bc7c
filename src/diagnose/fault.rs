//! Faults explained: when the core is in a fault handler (HardFault,
//! MemManage, BusFault, UsageFault), halted by a vector catch, or locked up,
//! what the fault status registers say, by name, with the stacked PC and LR
//! and the faulting address (ARMv7-M ARM §B3.2.15–§B3.2.18, §B1.5.6 stack
//! frame, §B1.5.15 lockup).
//!
//! ```text
//! HardFault (forced): UsageFault UNDEFINSTR at 0x0800028c in main (irq.c:52); stacked LR 0x080001c5
//! ```

use probe_rs::{Core, MemoryInterface, RegisterId};

/// SCB fault registers (ARMv7-M ARM §B3.2.2, Table B3-4).
pub mod scb {
    /// Configurable Fault Status Register (MMFSR | BFSR << 8 | UFSR << 16).
    pub const CFSR: u64 = 0xE000_ED28;
    /// HardFault Status Register.
    pub const HFSR: u64 = 0xE000_ED2C;
    /// Debug Fault Status Register.
    pub const DFSR: u64 = 0xE000_ED30;
    /// MemManage Fault Address Register.
    pub const MMFAR: u64 = 0xE000_ED34;
    /// BusFault Address Register.
    pub const BFAR: u64 = 0xE000_ED38;
    /// Vector Table Offset Register.
    pub const VTOR: u64 = 0xE000_ED08;
}

/// CFSR bits with their architectural names (§B3.2.15).
const CFSR_BITS: &[(u32, &str, &str)] = &[
    (1 << 0, "MemManage", "IACCVIOL"),
    (1 << 1, "MemManage", "DACCVIOL"),
    (1 << 3, "MemManage", "MUNSTKERR"),
    (1 << 4, "MemManage", "MSTKERR"),
    (1 << 5, "MemManage", "MLSPERR"),
    (1 << 8, "BusFault", "IBUSERR"),
    (1 << 9, "BusFault", "PRECISERR"),
    (1 << 10, "BusFault", "IMPRECISERR"),
    (1 << 11, "BusFault", "UNSTKERR"),
    (1 << 12, "BusFault", "STKERR"),
    (1 << 13, "BusFault", "LSPERR"),
    (1 << 16, "UsageFault", "UNDEFINSTR"),
    (1 << 17, "UsageFault", "INVSTATE"),
    (1 << 18, "UsageFault", "INVPC"),
    (1 << 19, "UsageFault", "NOCP"),
    (1 << 24, "UsageFault", "UNALIGNED"),
    (1 << 25, "UsageFault", "DIVBYZERO"),
];
const MMARVALID: u32 = 1 << 7;
const BFARVALID: u32 = 1 << 15;
const HFSR_VECTTBL: u32 = 1 << 1;
const HFSR_FORCED: u32 = 1 << 30;
const HFSR_DEBUGEVT: u32 = 1 << 31;

/// The exception frame the core pushed on entry (§B1.5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Where it is.
    pub sp: u32,
    /// Stacked R0–R3, R12, LR, PC (the return address), xPSR.
    pub r: [u32; 8],
}

impl Frame {
    /// The stacked PC: the faulting instruction for a precise fault.
    pub fn pc(&self) -> u32 {
        self.r[6]
    }
    /// The stacked LR.
    pub fn lr(&self) -> u32 {
        self.r[5]
    }
}

/// What the fault registers and the stack say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultReport {
    /// The active exception (IPSR): 3 HardFault … 6 UsageFault.
    pub exception: u32,
    /// The core was locked up (ARMv7-M ARM §B1.5.15).
    pub locked_up: bool,
    /// A vector catch halted the core on the handler's first instruction.
    pub vector_catch: bool,
    /// The reset vector (VTOR + 4) reads 0xFFFF_FFFF: the flash is blank.
    pub blank_vectors: bool,
    pub cfsr: u32,
    pub hfsr: u32,
    pub mmfar: u32,
    pub bfar: u32,
    /// The stacked frame, when it could be found (EXC_RETURN still in LR).
    pub frame: Option<Frame>,
}

fn exception_name(n: u32) -> &'static str {
    match n {
        3 => "HardFault",
        4 => "MemManage",
        5 => "BusFault",
        6 => "UsageFault",
        _ => "exception",
    }
}

impl FaultReport {
    /// Whether a core halted with `xpsr` and `pc` has a fault to report: it is in the
    /// HardFault, MemManage, BusFault or UsageFault handler (exceptions 3-6), or locked up
    /// (`locked_up`, or the PC reading 0xFFFF_FFFE outside Thread mode, §B1.5.15; in Thread
    /// mode that is only a halt at a blank reset vector).
    pub fn applies(xpsr: u32, pc: u32, locked_up: bool) -> bool {
        let exception = xpsr & 0x1FF;
        (3..=6).contains(&exception) || locked_up || (pc == 0xFFFF_FFFE && exception != 0)
    }

    /// Reads the fault state of a halted core. `None` when the core is not in
    /// a fault handler, not locked up and not halted by a fault vector catch.
    pub fn read(
        core: &mut Core<'_>,
        locked_up: bool,
    ) -> Result<Option<FaultReport>, probe_rs::Error> {
        let xpsr: u32 = core.read_core_reg(RegisterId(16))?;
        let exception = xpsr & 0x1FF;
        let pc: u32 = core.read_core_reg(RegisterId(15))?;
        let dfsr = core.read_word_32(scb::DFSR)?;
        let vector_catch = dfsr & (1 << 3) != 0 && (3..=6).contains(&exception);
        // In lockup the PC reads 0xFFFF_FFFE (§B1.5.15).
        let locked = locked_up || (pc == 0xFFFF_FFFE && exception != 0);
        if !FaultReport::applies(xpsr, pc, locked_up) {
            return Ok(None);
        }
        let vtor = core.read_word_32(scb::VTOR)?;
        let blank_vectors = core.read_word_32(u64::from(vtor) + 4).ok() == Some(0xFFFF_FFFF);
        let cfsr = core.read_word_32(scb::CFSR)?;
        let hfsr = core.read_word_32(scb::HFSR)?;
        let mmfar = core.read_word_32(scb::MMFAR)?;
        let bfar = core.read_word_32(scb::BFAR)?;
        // The frame: EXC_RETURN in LR says which stack (bit 2: PSP), the SP
        // then points at it if the handler has not pushed anything yet.
        let lr: u32 = core.read_core_reg(RegisterId(14))?;
        let frame = if lr & 0xFFFF_FFE0 == 0xFFFF_FFE0 {
            let sp: u32 = core.read_core_reg(RegisterId(if lr & 4 != 0 { 18 } else { 17 }))?;
            let mut r = [0u32; 8];
            match core.read_32(u64::from(sp), &mut r) {
                // A frame's xPSR has the Thumb bit set (§B1.5.6); otherwise
                // the handler has moved SP and this is not the frame.
                Ok(()) if r[7] & (1 << 24) != 0 || r[6] == 0xFFFF_FFFE => Some(Frame { sp, r }),
                _ => None,
            }
        } else {
            None
        };
        Ok(Some(FaultReport {
            exception,
            locked_up: locked,
            vector_catch,
            blank_vectors,
            cfsr,
            hfsr,
            mmfar,
            bfar,
            frame,
        }))
    }

    /// The CFSR bits that are set, as `UsageFault UNDEFINSTR`, grouped per
    /// fault (`BusFault PRECISERR BFARVALID`).
    pub fn cfsr_names(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for group in ["MemManage", "BusFault", "UsageFault"] {
            let mut names: Vec<&str> = CFSR_BITS
                .iter()
                .filter(|(m, g, _)| *g == group && self.cfsr & m != 0)
                .map(|(_, _, n)| *n)
                .collect();
            if group == "MemManage" && self.cfsr & MMARVALID != 0 {
                names.push("MMARVALID");
            }
            if group == "BusFault" && self.cfsr & BFARVALID != 0 {
                names.push("BFARVALID");
            }
            if !names.is_empty() {
                out.push(format!("{group} {}", names.join(" ")));
            }
        }
        out.join(", ")
    }

    /// One line: the exception, why (HFSR/CFSR by name), where (stacked PC,
    /// with its function and source line from `symbolize`), the faulting
    /// address, the stacked LR.
    pub fn describe(&self, symbolize: &dyn Fn(u32) -> Option<String>) -> String {
        let mut s = String::new();
        if self.locked_up && !(3..=6).contains(&self.exception) {
            s.push_str("locked up");
        } else {
            s.push_str(exception_name(self.exception));
            if self.exception == 3 {
                let mut why = Vec::new();
                if self.hfsr & HFSR_FORCED != 0 {
                    why.push("forced");
                }
                if self.hfsr & HFSR_VECTTBL != 0 {
                    why.push("vector table read failed");
                }
                if self.hfsr & HFSR_DEBUGEVT != 0 {
                    why.push("BKPT with no debugger");
                }
                if !why.is_empty() {
                    s.push_str(&format!(" ({})", why.join(", ")));
                }
            }
            if self.locked_up {
                s.push_str(", locked up");
            }
        }
        let names = self.cfsr_names();
        s.push_str(": ");
        if names.is_empty() {
            s.push_str("no configurable fault recorded (CFSR 0)");
        } else {
            s.push_str(&names);
        }
        if let Some(f) = &self.frame {
            let pc = f.pc();
            s.push_str(&format!(" at 0x{pc:08x}"));
            if let Some(w) = symbolize(pc) {
                s.push_str(&format!(" in {w}"));
            }
        }
        if self.cfsr & BFARVALID != 0 {
            s.push_str(&format!(", address 0x{:08x} (BFAR)", self.bfar));
        } else if self.cfsr & MMARVALID != 0 {
            s.push_str(&format!(", address 0x{:08x} (MMFAR)", self.mmfar));
        }
        match &self.frame {
            Some(f) => {
                s.push_str(&format!("; stacked LR 0x{:08x}", f.lr()));
                if let Some(w) = symbolize(f.lr() & !1) {
                    s.push_str(&format!(" in {w}"));
                }
            }
            None if !self.locked_up => s.push_str(
                "; stacked frame not found (the handler has moved the stack: halt on its first instruction with 'cortex_m vector_catch' to see it)",
            ),
            None => {}
        }
        s
    }

    /// The explanation shown under the halt message: the description, the
    /// likely cause and what to do.
    pub fn explain(&self, symbolize: &dyn Fn(u32) -> Option<String>) -> Vec<String> {
        if self.locked_up && self.blank_vectors {
            return vec![format!(
                "locked up: the reset vector reads 0xffffffff (the flash is blank, or VTOR points at erased memory): program a firmware"
            )];
        }
        let mut v = vec![self.describe(symbolize)];
        let cause = if self.locked_up {
            Some(
                "a fault inside the HardFault handler, during its entry, or with the vector table unreadable (blank flash: program a firmware)",
            )
        } else if self.cfsr & (1 << 16) != 0 {
            Some(
                "the instruction at the stacked PC is not valid Thumb code for this core: a jump into data, a corrupted stack or function pointer, or code built for another core (e.g. -mcpu=cortex-m4 on a Cortex-M3)",
            )
        } else if self.cfsr & (1 << 17) != 0 {
            Some(
                "a branch to an address with bit 0 clear (ARM state): a function pointer without the Thumb bit",
            )
        } else if self.cfsr & (1 << 19) != 0 {
            Some(
                "a floating-point instruction with the FPU disabled: set CPACR.CP10/CP11 (SCB->CPACR |= 0xF << 20) before any FP code, or build with -mfloat-abi=soft",
            )
        } else if self.cfsr & (1 << 25) != 0 {
            Some("a division by zero with CCR.DIV_0_TRP set")
        } else if self.cfsr & (1 << 24) != 0 {
            Some(
                "an unaligned access that must be aligned (LDM/STM/LDRD, or any access with CCR.UNALIGN_TRP)",
            )
        } else if self.cfsr & (BFARVALID | (1 << 9)) != 0 {
            Some(
                "a data access to an address where nothing answers (an absent peripheral or memory, a peripheral whose clock is off, a bad pointer)",
            )
        } else if self.cfsr & (1 << 8) != 0 {
            Some(
                "an instruction fetch from an address where nothing answers or that is Execute Never (a corrupted PC or function pointer)",
            )
        } else if self.cfsr & ((1 << 12) | (1 << 4)) != 0 {
            Some(
                "the exception frame could not be pushed: stack overflow or a corrupted stack pointer",
            )
        } else {
            None
        };
        if let Some(c) = cause {
            v.push(format!("  likely cause: {c}"));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(cfsr: u32, hfsr: u32) -> FaultReport {
        FaultReport {
            exception: 3,
            locked_up: false,
            vector_catch: true,
            blank_vectors: false,
            cfsr,
            hfsr,
            mmfar: 0,
            bfar: 0x6000_0000,
            frame: Some(Frame {
                sp: 0x2000_4fe0,
                r: [0, 0, 0, 0, 0, 0x0800_01c5, 0x0800_028c, 0x0100_0000],
            }),
        }
    }

    #[test]
    fn hardfault_forced_usagefault_undefinstr_with_symbols() {
        let r = report(0x0001_0000, 0x4000_0000);
        let sym = |a: u32| (a == 0x0800_028c).then(|| "main (irq.c:52)".to_string());
        assert_eq!(
            r.describe(&sym),
            "HardFault (forced): UsageFault UNDEFINSTR at 0x0800028c in main (irq.c:52); stacked LR 0x080001c5"
        );
    }

    #[test]
    fn busfault_names_bfar_only_when_valid() {
        let none = |_: u32| None;
        let r = report(0x0000_8200, 0x4000_0000);
        assert_eq!(
            r.describe(&none),
            "HardFault (forced): BusFault PRECISERR BFARVALID at 0x0800028c, address 0x60000000 (BFAR); stacked LR 0x080001c5"
        );
        let r = report(0x0000_0100, 0x4000_0000);
        assert!(!r.describe(&none).contains("BFAR)"));
        assert!(r.explain(&none)[1].contains("instruction fetch"));
    }
}
