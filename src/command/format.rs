//! OpenOCD 0.12's output formats, reproduced byte for byte (see docs/commands.md).

/// `mdw`/`mdh`/`mdb` output: `0x%8.8x: ` then each value zero-padded to its width and followed
/// by a space, a new line every 32 bytes counted from `addr` (OpenOCD `target_handle_md_output`).
/// `width` is 1, 2, 4 or 8 bytes; `values` are already read.
pub fn memory_dump(addr: u64, width: usize, values: &[u64]) -> Vec<String> {
    let per_line = 32 / width;
    let digits = width * 2;
    let mut lines = Vec::new();
    for (i, chunk) in values.chunks(per_line).enumerate() {
        let mut line = format!("0x{:08x}: ", addr + (i * 32) as u64);
        for v in chunk {
            line.push_str(&format!("{:0digits$x} ", v, digits = digits));
        }
        lines.push(line);
    }
    lines
}

/// One register line of `reg`: `(%i) %s (/%u): 0x%s`, the value zero-padded to
/// 2×ceil(bits/8) lowercase hex digits; with no value (target running) just `(%i) %s (/%u)`.
pub fn reg_line(index: usize, name: &str, bits: u32, value: Option<u64>) -> String {
    match value {
        Some(v) => format!("({index}) {name} (/{bits}): 0x{}", reg_value(bits, v)),
        None => format!("({index}) {name} (/{bits})"),
    }
}

/// `reg name` output: `%s (/%u): 0x%s`.
pub fn reg_single(name: &str, bits: u32, value: u64) -> String {
    format!("{name} (/{bits}): 0x{}", reg_value(bits, value))
}

fn reg_value(bits: u32, v: u64) -> String {
    let digits = (bits.div_ceil(8) * 2) as usize;
    format!("{:0digits$x}", v, digits = digits)
}

/// `flash banks` line: `#%d : %s (%s) at 0x%8.8llx, size 0x%8.8x, buswidth %u, chipwidth %u`.
pub fn flash_bank_line(index: usize, name: &str, driver: &str, base: u64, size: u32) -> String {
    format!(
        "#{index} : {name} ({driver}) at 0x{base:08x}, size 0x{size:08x}, buswidth 0, chipwidth 0"
    )
}

/// The `targets` table header (two lines).
pub fn targets_header() -> [String; 2] {
    [
        "    TargetName         Type       Endian TapName            State       ".to_string(),
        "--  ------------------ ---------- ------ ------------------ ------------".to_string(),
    ]
}

/// One `targets` row; `current` marks the selected target with `*`.
pub fn targets_row(
    index: usize,
    current: bool,
    name: &str,
    ty: &str,
    tap: &str,
    state: &str,
) -> String {
    format!(
        "{index:2}{} {name:<18} {ty:<10} little {tap:<18} {state}",
        if current { "*" } else { " " }
    )
}

/// The halt message: `[<target>] halted due to <reason>, current mode: <mode>` (note OpenOCD's
/// trailing space after `Thread`/`Handler <n>`), then `xPSR: %#8.8x pc: %#8.8x msp: %#8.8x`
/// (`psp:` when CONTROL.SPSEL selects the process stack).
pub fn halt_message(
    target: &str,
    reason: &str,
    xpsr: u32,
    pc: u32,
    sp: u32,
    psp_in_use: bool,
) -> [String; 2] {
    let exception = xpsr & 0x1ff;
    let mode = if exception == 0 {
        "Thread ".to_string()
    } else {
        format!("Handler {} ", exception_name(exception))
    };
    [
        format!("[{target}] halted due to {reason}, current mode: {mode}"),
        format!(
            "xPSR: {} pc: {} {}: {}",
            alt_hex(xpsr),
            alt_hex(pc),
            if psp_in_use { "psp" } else { "msp" },
            alt_hex(sp)
        ),
    ]
}

/// C's `%#8.8x`, which OpenOCD's halt message uses: `0x` and 8 digits, but no `0x` for zero
/// (`00000000`, as after a reset whose vector fetch read-protected flash refused).
pub fn alt_hex(v: u32) -> String {
    if v == 0 {
        "00000000".to_string()
    } else {
        format!("0x{v:08x}")
    }
}

/// OpenOCD's names for ARMv7-M exception numbers (`armv7m_exception_string`).
pub fn exception_name(n: u32) -> String {
    match n {
        1 => "Reset".into(),
        2 => "NMI".into(),
        3 => "HardFault".into(),
        4 => "MemManage".into(),
        5 => "BusFault".into(),
        6 => "UsageFault".into(),
        11 => "SVCall".into(),
        12 => "DebugMonitor".into(),
        14 => "PendSV".into(),
        15 => "SysTick".into(),
        n if n >= 16 => format!("External Interrupt({})", n - 16),
        n => format!("Reserved({n})"),
    }
}

/// OpenOCD's `duration` formatting for transfer summaries: seconds with 6 decimals, and the rate
/// in KiB/s with 3 decimals.
pub fn rate(bytes: usize, secs: f64) -> (String, String) {
    let secs = secs.max(1e-6);
    (
        format!("{secs:.6}"),
        format!("{:.3}", bytes as f64 / 1024.0 / secs),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdw_matches_openocd() {
        let v = [
            0x20005000, 0x08000101, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
            0xffffffff, 0xffffffff, 0xffffffff,
        ];
        assert_eq!(
            memory_dump(0x08000000, 4, &v),
            vec![
                "0x08000000: 20005000 08000101 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ",
                "0x08000020: ffffffff ffffffff ",
            ]
        );
        assert_eq!(
            memory_dump(0x20000010, 2, &[0x1111, 0x2222]),
            vec!["0x20000010: 1111 2222 "]
        );
        assert_eq!(
            memory_dump(0xE0042000, 4, &[0x20036410]),
            vec!["0xe0042000: 20036410 "]
        );
    }

    #[test]
    fn reg_matches_openocd() {
        assert_eq!(
            reg_line(13, "sp", 32, Some(0x20005000)),
            "(13) sp (/32): 0x20005000"
        );
        assert_eq!(
            reg_line(20, "primask", 1, Some(0)),
            "(20) primask (/1): 0x00"
        );
        assert_eq!(
            reg_line(23, "control", 3, Some(0)),
            "(23) control (/3): 0x00"
        );
        assert_eq!(reg_line(0, "r0", 32, None), "(0) r0 (/32)");
        assert_eq!(reg_single("pc", 32, 0x08000102), "pc (/32): 0x08000102");
    }

    #[test]
    fn banks_targets_halt() {
        assert_eq!(
            flash_bank_line(0, "stm32f1x.flash", "stm32f1x", 0x08000000, 0x20000),
            "#0 : stm32f1x.flash (stm32f1x) at 0x08000000, size 0x00020000, buswidth 0, chipwidth 0"
        );
        assert_eq!(
            targets_row(
                0,
                true,
                "stm32f1x.cpu",
                "cortex_m",
                "stm32f1x.cpu",
                "running"
            ),
            " 0* stm32f1x.cpu       cortex_m   little stm32f1x.cpu       running"
        );
        assert_eq!(
            halt_message(
                "stm32f1x.cpu",
                "debug-request",
                0x01000000,
                0x08000100,
                0x20005000,
                false
            ),
            [
                "[stm32f1x.cpu] halted due to debug-request, current mode: Thread ".to_string(),
                "xPSR: 0x01000000 pc: 0x08000100 msp: 0x20005000".to_string()
            ]
        );
    }

    /// OpenOCD formats the halt line with C's `%#8.8x`: zero has no `0x` (read-protected F1
    /// after `reset halt`, seen in tests/openocd_diff.rs).
    #[test]
    fn halt_message_prints_zero_as_c_alternate_hex() {
        assert_eq!(
            halt_message("t", "debug-request", 0, 0, 0, false)[1],
            "xPSR: 00000000 pc: 00000000 msp: 00000000"
        );
    }
}
