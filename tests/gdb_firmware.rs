//! GDB (the real `gdb-multiarch`) on ordinary firmware: a breakpoint on an
//! exception handler, a backtrace through the exception frame, the fault
//! decode on GDB's console, and the FPU registers of the Cortex-M7.

#[path = "gdb/harness.rs"]
mod harness;

use harness::{Server, ex, firmware};

/// The address of `name` in a firmware's symbol table.
fn symbol(elf: &str, name: &str) -> u32 {
    let bytes = std::fs::read(firmware(elf)).unwrap();
    let e = goblin::elf::Elf::parse(&bytes).unwrap();
    e.syms
        .iter()
        .find(|s| e.strtab.get_at(s.st_name) == Some(name))
        .unwrap_or_else(|| panic!("{name} not in {elf}"))
        .st_value as u32
}

#[test]
fn gdb_break_systick_handler_hits_and_bt_crosses_the_exception_frame() {
    let s = Server::start_on("board/sim-bluepill.rhai", "f103-hal.elf", &[]);
    let r = s.gdb(&[
        ex("load"),
        ex("monitor reset halt"),
        ex("break SysTick_Handler"),
        ex("continue"),
        ex("bt"),
        ex("p/x $xpsr & 0x1ff"),
    ]);
    r.expect("Breakpoint 1, SysTick_Handler")
        .expect("<signal handler called>")
        .expect("$1 = 0xf");
    // Below the exception frame: the code SysTick interrupted, back to main.
    let t = &r.text;
    let handler = t.find("<signal handler called>").unwrap();
    assert!(
        t[handler..].contains(" main ("),
        "bt does not reach main:\n{t}"
    );
}

#[test]
fn gdb_shows_the_fault_decode_when_a_vector_catch_stops_the_core() {
    let s = Server::start_on("board/sim-bluepill.rhai", "f103-faults.elf", &[]);
    let r = s.gdb(&[
        ex("load"),
        ex("monitor reset halt"),
        // DEMCR: TRCENA | VC_HARDERR.
        ex("monitor mww 0xE000EDFC 0x01000400"),
        ex("continue"),
        ex("p/x $pc"),
    ]);
    // GDB's `load` gives stdbg no file to name the code with; GDB has the symbols.
    let site = symbol("f103-faults.elf", "fault_site_udf16");
    let handler = symbol("f103-faults.elf", "HardFault_Handler") & !1;
    r.expect(&format!(
        "stdbg: HardFault (forced): UsageFault UNDEFINSTR at 0x{site:08x}; stacked LR 0xca5e0000"
    ))
    .expect("stdbg: likely cause: the instruction at the stacked PC is not valid Thumb code")
    .expect(&format!("$1 = 0x{handler:x}"));
}

#[test]
fn gdb_reads_and_writes_the_double_precision_registers_of_the_cortex_m7() {
    let s = Server::start_on("board/sim-st_nucleo_h743zi.rhai", "h743-fpu.elf", &[]);
    let r = s.gdb(&[
        ex("monitor reset halt"),
        ex("monitor reg d1 0x400921fb54442d18"),
        ex("maintenance flush register-cache"),
        ex("p $d1"),
        ex("p/x $s3"),
        ex("set $d2 = 2.5"),
        ex("monitor reg d2"),
        ex("monitor reg s5"),
        ex("info registers fpscr"),
    ]);
    r.expect("$1 = 3.1415926535897931")
        .expect("$2 = 0x400921fb")
        .expect("d2 (/64): 0x4004000000000000")
        .expect("s5 (/32): 0x40040000")
        .expect("fpscr");
}
