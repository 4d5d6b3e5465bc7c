//! OpenOCD 0.12 commands IDEs and scripts send (issue 11), run through the built binary
//! against the virtual Blue Pill. So far: mem_helper's `mrh`/`mrb` beside `mrw`.

mod common;
use common::*;

#[test]
fn mrw_mrh_mrb_return_the_value_at_an_address_as_openocd_mem_helper() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &chip,
        "init; halt; mww 0x20000000 0x11223344; mrw 0x20000000; mrh 0x20000002; mrb 0x20000001; shutdown",
    );
    r.expect_code(0);
    let lines = r.lines();
    let tail = &lines[lines.len() - 4..lines.len() - 1];
    assert_eq!(tail, ["0x11223344", "0x1122", "0x33"], "{}", r.stdout);
}

#[test]
fn mrh_at_an_odd_address_is_refused_with_the_alignment_rule() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(dir.path(), &chip, "init; halt; mrh 0x20000001; shutdown");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("address 0x20000001 is not aligned to 2 bytes"),
        "{all}"
    );
}
