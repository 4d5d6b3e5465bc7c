//! GDB (the real `gdb-multiarch`) on the F303, G474 and L476 flash FPU images: `load`, `break main`,
//! `break float_done`, `continue`, `info registers`, and the single-precision arguments in s0 / s1
//! (tests/firmware/README.md: 22/7 and sqrt(2)); on the H743's `h743-fpu-flash.elf` the same with
//! `break double_done` and the double-precision arguments in d0 / d1.

#[path = "gdb/harness.rs"]
mod harness;

use std::process::Command;

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

/// The address of `name` in the firmware image `elf` (`arm-none-eabi-nm`).
fn sym(elf: &str, name: &str) -> u32 {
    let out = Command::new("arm-none-eabi-nm")
        .arg(harness::firmware(elf))
        .output()
        .expect(
            "arm-none-eabi-nm is required by the tests: apt-get install binutils-arm-none-eabi",
        );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            let (a, _, n) = (it.next()?, it.next()?, it.next()?);
            (n == name).then(|| u32::from_str_radix(a, 16).ok())?
        })
        .unwrap_or_else(|| panic!("{name} not in {elf}"))
}

/// The STM32H743ZI (Cortex-M7, FPv5-D16): GDB loads the flash image, stops at `main`, then at
/// `double_done(22.0 / 7.0, sqrt(2.0))` with the two doubles in d0 / d1 (the hard-float ABI), and
/// after `finish` the firmware has stored the same bits (tests/firmware/README.md,
/// "h743-fpu-flash.elf").
#[test]
fn gdb_h743_load_break_double_done_and_the_double_registers() {
    let elf = "h743-fpu-flash.elf";
    let main = sym(elf, "main");
    let done = sym(elf, "double_done");
    let s = Server::start_on("board/sim-st_nucleo_h743zi.rhai", elf, &[]);
    let r = s.gdb(&[
        ex("load"),
        ex("monitor reset halt"),
        ex("break main"),
        ex("continue"),
        ex("info registers pc"),
        ex("break double_done"),
        ex("continue"),
        ex("info registers pc"),
        ex("p $d0"),
        ex("p $d1"),
        ex("p/x $d0"),
        ex("p/x $d1"),
        ex("info registers d0"),
        ex("finish"),
        ex("p/x fpu_extra.double_d0"),
        ex("p/x fpu_extra.double_d1"),
        ex("p fpu_extra.double_calls"),
    ]);
    r.expect("Breakpoint 1, main ()")
        .expect(&format!(
            "pc             0x{main:x}           0x{main:x} <main>\n"
        ))
        .expect("Breakpoint 2, double_done (quotient=3.1428571428571428, root=1.4142135623730951)")
        .expect(&format!(
            "pc             0x{done:x}           0x{done:x} <double_done>\n"
        ))
        .expect("$1 = 3.1428571428571428\n")
        .expect("$2 = 1.4142135623730951\n")
        .expect("$3 = 0x4009249249249249\n")
        .expect("$4 = 0x3ff6a09e667f3bcd\n")
        .expect("d0             3.1428571428571428  (raw 0x4009249249249249)\n")
        .expect("$5 = {0x49249249, 0x40092492}\n")
        .expect("$6 = {0x667f3bcd, 0x3ff6a09e}\n")
        .expect("$7 = 1\n");
}
