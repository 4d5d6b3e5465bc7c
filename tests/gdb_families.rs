//! GDB (the real `gdb-multiarch`) on the F303, G474 and L476 flash FPU images: `load`, `break main`,
//! `break float_done`, `continue`, `info registers`, and the single-precision arguments in s0 / s1
//! (tests/firmware/README.md: 22/7 and sqrt(2)).

#[path = "gdb/harness.rs"]
mod harness;

use harness::{Server, ex};

#[test]
fn gdb_load_break_float_done_and_the_fpu_registers_per_chip() {
    for (board, elf) in [
        ("board/sim-stm32f3discovery.rhai", "f303-fpu-flash.elf"),
        ("board/sim-st_nucleo_g4.rhai", "g474-fpu.elf"),
        ("board/sim-st_nucleo_l4.rhai", "l476-fpu.elf"),
    ] {
        let s = Server::start_on(board, elf, &[]);
        let r = s.gdb(&[
            ex("load"),
            ex("monitor reset halt"),
            ex("break main"),
            ex("break float_done"),
            ex("continue"),
            ex("info registers"),
            ex("continue"),
            ex("info registers pc"),
            ex("p $s0"),
            ex("p $s1"),
            ex("p/x $s0"),
        ]);
        r.expect("Breakpoint 1, main")
            .expect("Breakpoint 2, ")
            .expect("float_done")
            .expect("$1 = 3.14285707")
            .expect("$2 = 1.41421354")
            .expect("$3 = 0x40492492");
        // `info registers` at main: the core registers, sp in SRAM, xPSR with the Thumb bit.
        for reg in ["r0 ", "r12 ", "sp ", "lr ", "pc ", "xpsr "] {
            assert!(
                r.text.lines().any(|l| l.starts_with(reg)),
                "{board}: no {reg} in {}",
                r.text
            );
        }
        assert!(
            r.text
                .lines()
                .any(|l| l.starts_with("pc ") && l.contains("<main")),
            "{board}: {}",
            r.text
        );
        let xpsr = r
            .text
            .lines()
            .find_map(|l| l.strip_prefix("xpsr "))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok())
            .unwrap_or_else(|| panic!("{board}: no xpsr value in {}", r.text));
        assert_eq!(
            xpsr & (1 << 24),
            1 << 24,
            "{board}: Thumb bit (EPSR.T) in xPSR"
        );
        assert!(
            r.text
                .lines()
                .any(|l| l.starts_with("pc ") && l.contains("float_done")),
            "{board}: {}",
            r.text
        );
    }
}
