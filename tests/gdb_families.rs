//! GDB (the real `gdb-multiarch`) on the F303, G474 and L476 flash FPU images: `load`, `break float_done`,
//! `continue`, `info registers pc`, and the single-precision arguments in s0 / s1
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
            ex("break float_done"),
            ex("continue"),
            ex("info registers pc"),
            ex("p $s0"),
            ex("p $s1"),
            ex("p/x $s0"),
        ]);
        r.expect("Breakpoint 1, ")
            .expect("float_done")
            .expect("$1 = 3.14285707")
            .expect("$2 = 1.41421354")
            .expect("$3 = 0x40492492");
        assert!(r.line("pc ").contains("float_done"), "{board}: {}", r.text);
    }
}
