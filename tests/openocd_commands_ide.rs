//! OpenOCD 0.12 commands IDEs and scripts send (issue 11), run through the built binary
//! against the virtual Blue Pill: mem_helper's `mrh`/`mrb`, and the settings launch files use.

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

/// The settings IDE launch files pass print OpenOCD's lines and keep their values.
#[test]
fn launch_file_settings_print_openocd_lines() {
    let dir = tempdir();
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none; gdb_port disabled; telnet_port disabled; tcl_port disabled",
            "-c",
            "poll_period 20; poll_period; reset_nag disable; debug_level 2; cortex_m maskisr auto; cortex_m reset_config sysresetreq; adapter srst delay 5; adapter srst pulse_width 7; hla_layout stlink; hla_vid_pid 0x0483 0x3748; add_script_search_dir /nonexistent; find interface/stlink-v2.cfg",
            "-c",
            "init; soft_reset_halt; shutdown",
        ],
    );
    r.expect_code(0);
    let lines = r.lines();
    assert_eq!(
        &lines[..9],
        [
            "background polling interval: 20",
            "background polling interval: 20",
            "reset_nag disabled",
            "debug_level: 2",
            "cortex_m interrupt mask auto",
            "cortex_m reset_config sysresetreq",
            "adapter srst delay: 5",
            "adapter srst pulse_width: 7",
            "<builtin>/interface/stlink.rhai",
        ],
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("soft_reset_halt is deprecated, please use 'reset halt' instead."),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("[stm32f1x.cpu] halted due to debug-request"),
        "{}",
        r.stdout
    );
}

/// `adapter srst delay` holds the command line back after NRST rises (a lower bound only).
#[test]
fn adapter_srst_delay_waits_after_releasing_nrst() {
    let dir = tempdir();
    let t = std::time::Instant::now();
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none; gdb_port disabled; telnet_port disabled; tcl_port disabled; adapter srst delay 400",
            "-c",
            "init; adapter assert srst; adapter deassert srst; shutdown",
        ],
    );
    r.expect_code(0);
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
}

/// `noinit`: the command line does not connect; a later `init` (here from -c) does.
#[test]
fn noinit_leaves_the_target_unexamined() {
    let dir = tempdir();
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none; gdb_port disabled; telnet_port disabled; tcl_port disabled; noinit",
            "-c",
            "targets; log_output stdbg.log; debug_level 3; init; log_output default; shutdown",
        ],
    );
    r.expect_code(0);
    assert!(
        r.stdout
            .contains(" 0* stm32f1x.cpu       cortex_m   little stm32f1x.cpu       unknown"),
        "{}",
        r.stdout
    );
    let log = std::fs::read_to_string(dir.path().join("stdbg.log")).unwrap();
    assert!(
        log.contains("Info : [stm32f1x.cpu] Cortex-M3 r1p1 processor detected"),
        "{log}"
    );
    assert!(!r.stderr.contains("processor detected"), "{}", r.stderr);
}

/// `cortex_m maskisr` with SysTick pending (f103-hal: `uwTick` at 0x20000084 counts SysTick):
/// `steponly` steps in thread mode and leaves it pending; `off` steps into SysTick_Handler;
/// `auto` lets it run first (uwTick + 1, nothing pending) and steps in thread mode; `on` keeps
/// it masked while running (uwTick still), `auto` takes it again.
#[test]
fn cortex_m_maskisr_modes_step_and_run_as_openocd() {
    let dir = tempdir();
    let chip = programmed_chip(dir.path(), "f103-hal.elf");
    let pend = "mww 0xE000ED04 0x04000000";
    let r = sim_run(
        dir.path(),
        &chip,
        &format!(
            "init; reset run; sleep 100; halt; {pend}; cortex_m maskisr steponly; step; mdw 0xE000ED04; \
             cortex_m maskisr off; step; reg pc; reset run; sleep 100; halt; {pend}; mdw 0x20000084; \
             cortex_m maskisr auto; step; mdw 0xE000ED04; mdw 0x20000084; cortex_m maskisr on; resume; \
             sleep 100; halt; mdw 0x20000084; cortex_m maskisr auto; resume; sleep 100; halt; \
             mdw 0x20000084; shutdown"
        ),
    );
    r.expect_code(0);
    let out = &r.stdout;
    let after = |marker: &str| -> Vec<&str> {
        let i = out
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} not in {out}"));
        out[i..].lines().collect()
    };
    // steponly: still thread mode, SysTick (15) still pending.
    let s = after("cortex_m interrupt mask steponly");
    assert!(s[1].ends_with("current mode: Thread "), "{out}");
    assert_eq!(s[3], "0xe000ed04: 0400f800 ", "{out}");
    // off: the step takes the exception.
    let s = after("cortex_m interrupt mask off");
    assert!(s[1].ends_with("current mode: Handler SysTick "), "{out}");
    assert_eq!(s[3], "pc (/32): 0x080007ec", "{out}");
    let tick = |l: &str| {
        u32::from_str_radix(l.trim_end().rsplit(' ').next().unwrap(), 16)
            .unwrap_or_else(|_| panic!("{l:?} in {out}"))
    };
    let s = after("cortex_m interrupt mask auto");
    let before: Vec<&str> = out[..out.find("cortex_m interrupt mask auto").unwrap()]
        .lines()
        .collect();
    let t0 = tick(before[before.len() - 1]);
    assert!(s[1].ends_with("current mode: Thread "), "{out}");
    assert_eq!(
        s[3], "0xe000ed04: 00000800 ",
        "nothing pending after auto: {out}"
    );
    let t1 = tick(s[4]);
    assert_eq!(t1, t0 + 1, "the pending SysTick ran once: {out}");
    let s = after("cortex_m interrupt mask on");
    let t2 = tick(s[3]);
    assert_eq!(t2, t1, "masked while running: {out}");
    let last: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("0x20000084: "))
        .collect();
    assert!(
        tick(last[last.len() - 1]) > t2 + 50,
        "auto runs SysTick again: {out}"
    );
}
