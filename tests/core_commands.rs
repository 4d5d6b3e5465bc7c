//! The core commands against the virtual Blue Pill, through the built binary, with OpenOCD's
//! exact output formats.

mod common;
use common::*;

fn word(bytes: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap())
}

#[test]
fn reset_halt_leaves_pc_at_reset_handler_and_sp_at_initial_stack() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let image = objcopy_binary("f103-blinky.elf", dir.path());
    let (sp, reset) = (word(&image, 0), word(&image, 4));
    let r = sim_run(
        dir.path(),
        &chip,
        "init; reset halt; reg pc; reg sp; reg msp; shutdown",
    );
    r.expect_code(0);
    let lines = r.lines();
    assert_eq!(
        lines[0],
        "[stm32f1x.cpu] halted due to debug-request, current mode: Thread "
    );
    assert_eq!(
        lines[1],
        format!("xPSR: 0x01000000 pc: 0x{:08x} msp: 0x{sp:08x}", reset & !1)
    );
    assert_eq!(lines[2], format!("pc (/32): 0x{:08x}", reset & !1));
    assert_eq!(lines[3], format!("sp (/32): 0x{sp:08x}"));
    assert_eq!(lines[4], format!("msp (/32): 0x{sp:08x}"));
}

#[test]
fn examine_end_handler_sets_dbgmcu_cr() {
    let dir = tempdir();
    let r = sim_run(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; mdw 0xE0042004; mdw 0xe0042000; shutdown",
    );
    r.expect_code(0);
    assert_eq!(
        r.lines(),
        vec![
            "0xe0042004: 00000307 ",
            "0xe0042000: 20036410 ",
            "shutdown command invoked"
        ]
    );
}

#[test]
fn mdw_mdh_mdb_match_openocd_format() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let image = objcopy_binary("f103-blinky.elf", dir.path());
    let r = sim_run(
        dir.path(),
        &chip,
        "init; reset halt; mdw 0x08000000 10; mdh 0x08000000 3; mdb 0x08000004 2; shutdown",
    );
    r.expect_code(0);
    let words: Vec<String> = (0..10)
        .map(|i| format!("{:08x}", word(&image, i * 4)))
        .collect();
    let lines = r.lines();
    assert_eq!(lines[2], format!("0x08000000: {} ", words[..8].join(" ")));
    assert_eq!(lines[3], format!("0x08000020: {} ", words[8..].join(" ")));
    let h = |o: usize| u16::from_le_bytes([image[o], image[o + 1]]);
    assert_eq!(
        lines[4],
        format!("0x08000000: {:04x} {:04x} {:04x} ", h(0), h(2), h(4))
    );
    assert_eq!(
        lines[5],
        format!("0x08000004: {:02x} {:02x} ", image[4], image[5])
    );
}

/// The fault decode under the halt message of a blank chip that ran (and locked up).
const BLANK_LOCKUP: &str = "locked up: the reset vector reads 0xffffffff (the flash is blank, or VTOR points at erased memory): program a firmware";

#[test]
fn memory_writes_read_back_at_each_width() {
    let dir = tempdir();
    let r = sim_run(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; halt; mww 0x20000100 0xdeadbeef; mdw 0x20000100; mwh 0x20000104 0x1234 2; mdh 0x20000104 2; \
         mwb 0x20000108 0xab; mdb 0x20000108; mdw 0x20000104; read_memory 0x20000100 32 2; \
         write_memory 0x20000110 16 {0x1 0x2}; mdh 0x20000110 2; shutdown",
    );
    r.expect_code(0);
    let lines: Vec<&str> = r
        .lines()
        .into_iter()
        .filter(|l| !l.starts_with('[') && !l.starts_with("xPSR"))
        .collect();
    assert_eq!(
        lines,
        vec![
            // The blank chip ran into lockup before `halt`: the halt message says why.
            BLANK_LOCKUP,
            "0x20000100: deadbeef ",
            "0x20000104: 1234 1234 ",
            "0x20000108: ab ",
            "0x20000104: 12341234 ",
            // read_memory prints a Tcl-style list, not zero-padded (as OpenOCD does)
            "0xdeadbeef 0x12341234",
            "0x20000110: 0001 0002 ",
            "shutdown command invoked",
        ]
    );
}

#[test]
fn reg_lists_registers_in_openocd_format() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(dir.path(), &chip, "init; reset halt; reg; shutdown");
    r.expect_code(0);
    let lines = r.lines();
    let names: Vec<String> = lines[2..]
        .iter()
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    let expected_names = [
        "===== arm v7m registers",
        "(0) r0 (/32)",
        "(1) r1 (/32)",
        "(2) r2 (/32)",
        "(3) r3 (/32)",
        "(4) r4 (/32)",
        "(5) r5 (/32)",
        "(6) r6 (/32)",
        "(7) r7 (/32)",
        "(8) r8 (/32)",
        "(9) r9 (/32)",
        "(10) r10 (/32)",
        "(11) r11 (/32)",
        "(12) r12 (/32)",
        "(13) sp (/32)",
        "(14) lr (/32)",
        "(15) pc (/32)",
        "(16) xPSR (/32)",
        "(17) msp (/32)",
        "(18) psp (/32)",
        "(20) primask (/1)",
        "(21) basepri (/8)",
        "(22) faultmask (/1)",
        "(23) control (/3)",
        "===== Cortex-M DWT registers",
        "shutdown command invoked",
    ];
    assert_eq!(names, expected_names);
    assert!(lines.contains(&"(13) sp (/32): 0x20005000"), "{lines:?}");
    assert!(lines.contains(&"(16) xPSR (/32): 0x01000000"), "{lines:?}");
    assert!(lines.contains(&"(20) primask (/1): 0x00"), "{lines:?}");
    assert!(lines.contains(&"(23) control (/3): 0x00"), "{lines:?}");
}

#[test]
fn reg_writes_go_to_the_core() {
    let dir = tempdir();
    let r = sim_run(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; halt; reg r0 0x1234; reg r0; reg primask 1; reg 20; shutdown",
    );
    r.expect_code(0);
    let lines: Vec<&str> = r
        .lines()
        .into_iter()
        .filter(|l| !l.starts_with('[') && !l.starts_with("xPSR"))
        .collect();
    assert_eq!(
        lines,
        vec![
            BLANK_LOCKUP,
            "r0 (/32): 0x00001234",
            "r0 (/32): 0x00001234",
            "primask (/1): 0x01",
            "primask (/1): 0x01",
            "shutdown command invoked"
        ]
    );
}

#[test]
fn step_executes_exactly_one_instruction() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let image = objcopy_binary("f103-blinky.elf", dir.path());
    let reset = (word(&image, 4) & !1) as usize;
    let first = u16::from_le_bytes([image[reset - 0x0800_0000], image[reset - 0x0800_0000 + 1]]);
    let len = if first >> 11 >= 0b11101 { 4 } else { 2 };
    let r = sim_run(
        dir.path(),
        &chip,
        "init; reset halt; step; reg pc; shutdown",
    );
    r.expect_code(0);
    let lines = r.lines();
    assert_eq!(
        lines[2],
        "[stm32f1x.cpu] halted due to single-step, current mode: Thread "
    );
    assert!(lines[3].starts_with("xPSR: 0x"), "{lines:?}");
    assert_eq!(lines[4], format!("pc (/32): 0x{:08x}", reset + len));
}

#[test]
fn resume_then_halt_reports_debug_request_and_the_firmware_ran() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &chip,
        "init; reset halt; mww 0x20000004 0; resume; sleep 200; halt; targets; mdw 0x20000004; shutdown",
    );
    r.expect_code(0);
    let lines = r.lines();
    assert_eq!(
        lines[2],
        "[stm32f1x.cpu] halted due to debug-request, current mode: Thread "
    );
    assert_eq!(
        lines[4],
        "    TargetName         Type       Endian TapName            State       "
    );
    assert_eq!(
        lines[5],
        "--  ------------------ ---------- ------ ------------------ ------------"
    );
    assert_eq!(
        lines[6],
        " 0* stm32f1x.cpu       cortex_m   little stm32f1x.cpu       halted"
    );
    let counter = u32::from_str_radix(lines[7].trim_end().rsplit(' ').next().unwrap(), 16).unwrap();
    assert!(counter > 0, "the blinky counter did not move: {lines:?}");
}

#[test]
fn unknown_command_names_the_closest_and_exits_1() {
    let dir = tempdir();
    let r = stdbg(dir.path(), &["-c", "rest halt"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("invalid command name \"rest\"; did you mean \"reset\"?"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_arguments_print_the_usage_line() {
    let dir = tempdir();
    let r = stdbg(dir.path(), &["-c", "sleep"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("wrong arguments for 'sleep'"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Usage: sleep milliseconds ['busy']"),
        "{}",
        r.stderr
    );
    let r = stdbg(dir.path(), &["-c", "sleep 0x8g"]);
    assert!(
        r.stderr.contains("\"0x8g\" is not a valid number"),
        "{}",
        r.stderr
    );
}

#[test]
fn shutdown_error_exits_1_and_shutdown_exits_0() {
    let dir = tempdir();
    stdbg(dir.path(), &["-c", "echo hi; shutdown"]).expect_code(0);
    let r = stdbg(dir.path(), &["-c", "shutdown error"]);
    r.expect_code(1);
}

#[test]
fn exec_commands_before_init_say_so() {
    let dir = tempdir();
    let r = stdbg(
        dir.path(),
        &["-f", "board/sim-bluepill.rhai", "-c", "mdw 0x08000000"],
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("'mdw' needs a connected target: run 'init' first"),
        "{}",
        r.stderr
    );
}

#[test]
fn default_storage_dir_is_created_and_flash_persists_between_runs() {
    // Regression: the default storage file's directory ($XDG_CACHE_HOME/stdbg) did not exist on a
    // fresh machine, so the programmed flash was lost with a storage error at exit.
    let dir = tempdir();
    let fw = firmware("f103-blinky.elf");
    let program = format!("program {} verify reset exit", fw.display());
    let r = stdbg(
        dir.path(),
        &[
            "-c",
            "gdb_port disabled; telnet_port disabled",
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            &program,
        ],
    );
    r.expect_code(0);
    assert!(!r.stderr.contains("Error"), "{}", r.stderr);
    assert!(dir.path().join("cache/stdbg/sim-STM32F103C8.bin").is_file());
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "init; reset halt; mdw 0x08000000 2; shutdown",
        ],
    );
    r.expect_code(0);
    assert_eq!(r.lines()[2], "0x08000000: 20005000 080000f1 ");
}

#[test]
fn memory_access_outside_the_chip_names_its_memory_map() {
    let dir = tempdir();
    let r = sim_run(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; mdw 0x60000000",
    );
    r.expect_code(1);
    assert!(
        r.stderr.contains("Error: 0x60000000 is not memory that STM32F103C8 has (its memory: 0x08000000-0x0800ffff, 0x20000000-0x20004fff;"),
        "{}",
        r.stderr
    );
    // Regression: a write the bus refused was reported as success (the probe batched it) and
    // the sticky error surfaced later on an unrelated command.
    let r = sim_run(
        dir.path(),
        &dir.path().join("chip.bin"),
        "init; mww 0x20005000 1",
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("0x20005000 is not memory that STM32F103C8 has"),
        "{}",
        r.stderr
    );
}

/// Regression: probe-rs's `run` steps first, and after a breakpoint halt its step moved the PC
/// on by 2 when the instruction left it in place, so a `resume` after a hit on a `b .` whose
/// breakpoint was then removed started at the next halfword. The loop must still hold the PC.
#[test]
fn resume_after_a_breakpoint_hit_on_a_branch_to_self_with_the_breakpoint_removed_stays_in_the_loop()
{
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-blinky.elf");
    let r = sim_run(
        dir.path(),
        &chip,
        // 0x080000ec: the blinky's Default_Handler, a `b .`.
        &format!(
            "init; program {} verify; reset halt; reg pc 0x080000ec; bp 0x080000ec 2 hw; resume; \
             wait_halt 1000; rbp 0x080000ec; resume; sleep 20; halt; reg pc; shutdown",
            firmware("f103-blinky.elf").display()
        ),
    );
    r.expect_code(0);
    // The last `reg pc` (the first one, which set it, prints the same line).
    let last = r.lines().into_iter().rfind(|l| l.starts_with("pc (/32): "));
    assert_eq!(last, Some("pc (/32): 0x080000ec"), "{}", r.stdout);
}
