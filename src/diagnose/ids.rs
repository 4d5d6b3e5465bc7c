//! Chip identities in words: SW-DP DPIDR (ADIv5 §B2.2.5), Cortex-M CPUID (ARMv7-M ARM §B4.1.2)
//! and STM32 DBGMCU_IDCODE DEV_ID (each family's reference manual, "MCU device ID code"; the
//! table is [`crate::family::lines`]).

use crate::family::Line;

/// Address of the Cortex-M CPUID register (ARMv7-M ARM §B4.1.2).
pub const CPUID: u64 = 0xE000_ED00;

/// The STM32 line with this DEV_ID, if known (the one table: [`crate::family::lines`]).
pub fn line_of(dev_id: u32) -> Option<&'static Line> {
    crate::family::line((dev_id & 0xFFF) as u16)
}

/// DEV_ID and REV_ID of a DBGMCU_IDCODE value.
pub fn split_idcode(idcode: u32) -> (u32, u32) {
    (idcode & 0xFFF, idcode >> 16)
}

/// A DBGMCU_IDCODE value in words: `STM32F10xx8/B (medium density) (DEV_ID 0x410, REV_ID 0x2003)`.
pub fn describe_idcode(idcode: u32) -> String {
    let (dev, rev) = split_idcode(idcode);
    match line_of(dev) {
        Some(l) => format!(
            "{} (DBGMCU_IDCODE {idcode:#010x}: DEV_ID {dev:#05x}, REV_ID {rev:#06x})",
            l.words
        ),
        None => format!(
            "an unknown device (DBGMCU_IDCODE {idcode:#010x}: DEV_ID {dev:#05x}, REV_ID {rev:#06x})"
        ),
    }
}

/// The chips a list of expected DEV_IDs stands for, e.g. `an STM32F1 (DEV_ID 0x412, 0x410, …)`.
pub fn describe_expected(dev_ids: &[u32]) -> String {
    let fams: Vec<&str> = {
        let mut v: Vec<&str> = dev_ids
            .iter()
            .filter_map(|d| line_of(*d))
            .map(|l| l.series)
            .collect();
        v.dedup();
        v
    };
    let ids = dev_ids
        .iter()
        .map(|d| format!("{d:#05x}"))
        .collect::<Vec<_>>()
        .join(", ");
    match fams.as_slice() {
        [f] => format!("an {} (DEV_ID {ids})", family_words(f)),
        _ => format!("DEV_ID {ids}"),
    }
}

/// `stm32f1x` → `STM32F1`.
pub fn family_words(family: &str) -> String {
    crate::family::lines::series_words(family)
}

/// A SW-DP DPIDR in words (ADIv5 §B2.2.5): designer, DP version, MINDP, revision, and the cores
/// STM32 parts pair it with.
pub fn describe_dpidr(dpidr: u32) -> String {
    let designer = (dpidr >> 1) & 0x7FF;
    let version = (dpidr >> 12) & 0xF;
    let mindp = (dpidr >> 16) & 1;
    let revision = dpidr >> 28;
    let who = if designer == 0x23B {
        "ARM"
    } else {
        "designer JEP106 "
    };
    let typical = match dpidr {
        0x1BA0_1477 => "Cortex-M3 SW-DP: STM32F1/F2/L1",
        0x2BA0_1477 => "Cortex-M4 SW-DP: STM32F3/F4/L4/G4, and Blue Pill clones (CKS32/CS32F103)",
        0x0BB1_1477 => "Cortex-M0 SW-DP: STM32F0",
        0x0BC1_1477 => "Cortex-M0+ SW-DP: STM32G0/L0",
        0x6BA0_2477 => "Cortex-M7 SW-DP: STM32F7/H7",
        0x0BE1_2477 => "Cortex-M33 SW-DP: STM32L5/U5/H5",
        _ => "",
    };
    let mut s = format!(
        "DPIDR {dpidr:#010x} ({who}{}DPv{version}{}, revision {revision}",
        if designer == 0x23B { " " } else { "" },
        if mindp == 1 { " MINDP" } else { "" }
    );
    if designer != 0x23B {
        s = format!(
            "DPIDR {dpidr:#010x} (designer {designer:#05x}, DPv{version}, revision {revision}"
        );
    }
    if !typical.is_empty() {
        s.push_str(": ");
        s.push_str(typical);
    }
    s.push(')');
    s
}

/// A Cortex-M CPUID in words: `Cortex-M3 r1p1`.
pub fn describe_cpuid(cpuid: u32) -> String {
    let implementer = cpuid >> 24;
    let variant = (cpuid >> 20) & 0xF;
    let part = (cpuid >> 4) & 0xFFF;
    let rev = cpuid & 0xF;
    let name = match (implementer, part) {
        (0x41, 0xC20) => "Cortex-M0",
        (0x41, 0xC60) => "Cortex-M0+",
        (0x41, 0xC23) => "Cortex-M3",
        (0x41, 0xC24) => "Cortex-M4",
        (0x41, 0xC27) => "Cortex-M7",
        (0x41, 0xD21) => "Cortex-M33",
        _ => return format!("unknown core (CPUID {cpuid:#010x})"),
    };
    format!("{name} r{variant}p{rev}")
}

/// The target script (or OpenOCD cfg) for a family: `targets/stm32f3x.rhai` when stdbg has it,
/// else OpenOCD's `target/stm32f3x.cfg` to port.
pub fn script_for(family: &str, exists: impl Fn(&str) -> bool) -> String {
    let rhai = format!("targets/{family}.rhai");
    if exists(&rhai) {
        format!("-f {rhai}")
    } else {
        format!(
            "a target script for the {} (stdbg has no targets/{family}.rhai yet; OpenOCD's is target/{family}.cfg)",
            family_words(family)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(describe_cpuid(0x411F_C231), "Cortex-M3 r1p1");
        assert!(
            describe_idcode(0x1003_6422)
                .starts_with("STM32F303xB/C (DBGMCU_IDCODE 0x10036422: DEV_ID 0x422")
        );
        assert!(
            describe_dpidr(0x1BA0_1477).contains("ARM DPv1"),
            "{}",
            describe_dpidr(0x1BA0_1477)
        );
        assert_eq!(
            describe_expected(&[0x412, 0x410]),
            "an STM32F1 (DEV_ID 0x412, 0x410)"
        );
        assert_eq!(script_for("stm32f1x", |_| true), "-f targets/stm32f1x.rhai");
    }
}
