//! The Arm debug registers stdbg reads as evidence (DHCSR, DEMCR), with their bits in words. The
//! STM32 ones (DBGMCU, RCC reset flags, flash option registers) belong to the family:
//! [`crate::family`].

/// Debug Halting Control and Status Register (ARMv7-M ARM §C1.6.2).
pub const DHCSR: u64 = 0xE000_EDF0;
/// Interrupt Control and State Register (ARMv7-M ARM §B3.2.4): VECTPENDING in bits 20:12.
pub const ICSR: u64 = 0xE000_ED04;
/// DHCSR status bits.
pub mod dhcsr {
    /// S_RESET_ST: the core was reset since the last DHCSR read (sticky, cleared on read).
    pub const S_RESET_ST: u32 = 1 << 25;
    /// S_RETIRE_ST.
    pub const S_RETIRE_ST: u32 = 1 << 24;
    /// S_LOCKUP: the core is locked up.
    pub const S_LOCKUP: u32 = 1 << 19;
    /// S_SLEEP: the core sleeps (WFI/WFE, or deeper).
    pub const S_SLEEP: u32 = 1 << 18;
    /// S_HALT: the core is in Debug state.
    pub const S_HALT: u32 = 1 << 17;
    /// S_REGRDY: the last DCRSR transfer completed (ARMv7-M ARM §C1.6.2).
    pub const S_REGRDY: u32 = 1 << 16;
    /// C_MASKINTS: PendSV, SysTick and external interrupts masked; change it only while halted.
    pub const C_MASKINTS: u32 = 1 << 3;
    /// C_STEP: single-step when leaving Debug state.
    pub const C_STEP: u32 = 1 << 2;
    /// C_HALT: request a halt (write with [`DBGKEY`]).
    pub const C_HALT: u32 = 1 << 1;
    /// C_DEBUGEN.
    pub const C_DEBUGEN: u32 = 1 << 0;
    /// DBGKEY: bits 31:16 of every DHCSR write, or the write is ignored.
    pub const DBGKEY: u32 = 0xA05F_0000;
}

/// DEMCR bits (ARMv7-M ARM §C1.6.5); the address is
/// [`crate::host::breakpoints::dwt::DEMCR`].
pub mod demcr {
    /// VC_CORERESET: halt on the reset vector (needs DHCSR.C_DEBUGEN).
    pub const VC_CORERESET: u32 = 1 << 0;
}

/// DHCSR status in words: `halted`, `sleeping (S_SLEEP)`, …, with the raw value.
pub fn describe_dhcsr(v: u32) -> String {
    let mut w: Vec<&str> = Vec::new();
    if v & dhcsr::S_HALT != 0 {
        w.push("halted (S_HALT)");
    } else if v & dhcsr::S_LOCKUP != 0 {
        w.push("locked up (S_LOCKUP)");
    } else if v & dhcsr::S_SLEEP != 0 {
        w.push("sleeping (S_SLEEP)");
    } else {
        w.push("running");
    }
    if v & dhcsr::S_RESET_ST != 0 {
        w.push("reset since the last read (S_RESET_ST)");
    }
    if v & dhcsr::C_DEBUGEN == 0 {
        w.push("debug disabled (C_DEBUGEN 0)");
    }
    format!("{} (DHCSR {v:#010x})", w.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert!(describe_dhcsr(0x0204_0001).starts_with("sleeping (S_SLEEP), reset since"));
    }
}
