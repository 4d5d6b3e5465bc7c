//! `bp`/`rbp`/`wp`/`rwp` end to end: the built `stdbg` binary against the virtual Blue Pill
//! running `tests/firmware/f103-blinky.elf`.
//!
//! The image is put into a temporary sim storage file by a first run of `program`, then every
//! test runs
//! `stdbg -f board/sim-bluepill.rhai -c "sim storage <file>" -c init -c … -c shutdown`.

use std::path::{Path, PathBuf};
use std::process::Command;

const TOGGLE_LED: u32 = 0x0800_0164;
const DELAY: u32 = 0x0800_0154;
const COUNTER: u32 = 0x2000_0004;

struct Run {
    stdout: String,
    stderr: String,
    ok: bool,
}

/// A temp dir holding a storage file with blinky flashed by a first run of `program`.
fn blinky_storage() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("f103.sim");
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/f103-blinky.elf");
    let out = Command::new(env!("CARGO_BIN_EXE_stdbg"))
        .current_dir(dir.path())
        .args(["-f", "board/sim-bluepill.rhai"])
        .arg("-c")
        .arg(format!("sim storage {}", storage.display()))
        .arg("-c")
        .arg(format!("program {} verify exit", elf.display()))
        .output()
        .expect("run stdbg");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("** Verified OK **"),
        "program failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, storage)
}

fn stdbg(dir: &Path, storage: &Path, cmds: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stdbg"));
    c.current_dir(dir).arg("-f").arg("board/sim-bluepill.rhai");
    c.arg("-c")
        .arg(format!("sim storage {}", storage.display()));
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    c.arg("-c").arg("shutdown");
    let out = c.output().expect("run stdbg");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    }
}

/// Runs `cmds` (then `shutdown`) against a fresh virtual Blue Pill holding blinky.
fn on_blinky(cmds: &[&str]) -> Run {
    let (dir, storage) = blinky_storage();
    stdbg(dir.path(), &storage, cmds)
}

/// [`on_blinky`], and panics with both streams unless stdbg succeeded.
fn on_blinky_ok(cmds: &[&str]) -> Run {
    let r = on_blinky(cmds);
    assert!(r.ok, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    r
}

/// Panics with stdout unless one of its lines (trailing blanks ignored) is `line`.
fn assert_line(r: &Run, line: &str) {
    assert!(lines(&r.stdout).contains(&line), "{}", r.stdout);
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().map(|l| l.trim_end()).collect()
}

/// The value `mdw addr` printed on the line starting with `0x<addr>: `, in output order.
fn mdw_values(out: &str, addr: u32) -> Vec<u32> {
    let prefix = format!("0x{addr:08x}: ");
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|v| u32::from_str_radix(v.trim(), 16).unwrap())
        .collect()
}

#[test]
fn hw_breakpoint_halts_at_toggle_led() {
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        &format!("bp {TOGGLE_LED:#010x} 2 hw"),
        "bp",
        "resume; wait_halt",
        "reg pc",
    ]);
    assert_line(&r, "breakpoint set at 0x08000164");
    assert_line(&r, "Breakpoint(IVA): 0x08000164, 0x2, 0");
    assert!(
        r.stdout.contains("halted due to breakpoint"),
        "{}",
        r.stdout
    );
    assert_line(&r, "pc (/32): 0x08000164");
}

#[test]
fn resume_from_a_breakpoint_runs_one_loop_to_the_same_breakpoint() {
    // Resuming at the breakpoint must execute the instruction under it, not halt again at once
    // and not skip it: the counter goes up by exactly one per hit.
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        &format!("bp {TOGGLE_LED:#x} 2 hw"),
        "resume; wait_halt",
        &format!("mdw {COUNTER:#x}"),
        "resume; wait_halt",
        &format!("mdw {COUNTER:#x}"),
        "reg pc",
    ]);
    let v = mdw_values(&r.stdout, COUNTER);
    assert_eq!(v.len(), 2, "{}", r.stdout);
    assert_eq!(v[1], v[0] + 1, "{}", r.stdout);
    assert_line(&r, "pc (/32): 0x08000164");
}

#[test]
fn software_breakpoint_in_flash_falls_back_to_a_comparator() {
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        &format!("bp {DELAY:#x} 2"),
        "bp",
        "resume; wait_halt",
        "reg pc",
    ]);
    assert_line(&r, "Breakpoint(IVA): 0x08000154, 0x2, 0");
    assert!(
        r.stderr.contains("using hardware comparator 0 instead"),
        "{}",
        r.stderr
    );
    assert_line(&r, "pc (/32): 0x08000154");
}

#[test]
fn software_breakpoint_in_ram_patches_bkpt_and_restores() {
    // RAM code at 0x20001000: `nop; adds r0, #1; b 0x20001000` (0xbf00 0x3001 0xe7fc). The BKPT
    // replaces the `adds`; the core halts there, `step` and `resume` must execute the original
    // `adds` (r0 counts them), the loop comes back to the re-inserted BKPT, and rbp restores it.
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        "mww 0x20001000 0x3001bf00",
        "mwh 0x20001004 0xe7fc",
        "reg r0 0",
        "bp 0x20001002 2",
        "bp",
        "mdh 0x20001002",
        "resume 0x20001000; wait_halt",
        "reg pc",
        "step",
        "reg pc",
        "resume; wait_halt",
        "reg pc",
        "resume; wait_halt",
        "reg r0",
        "rbp 0x20001002",
        "mdh 0x20001002",
        "bp",
    ]);
    let l = lines(&r.stdout);
    assert_line(&r, "breakpoint set at 0x20001002");
    assert_eq!(
        l.iter()
            .filter(|x| x.starts_with("IVA breakpoint"))
            .collect::<Vec<_>>(),
        [&"IVA breakpoint: 0x20001002, 0x2, 0x3001"],
        "{}",
        r.stdout
    );
    let mdh: Vec<&&str> = l.iter().filter(|x| x.starts_with("0x20001002: ")).collect();
    assert_eq!(
        mdh,
        [&"0x20001002: be00", &"0x20001002: 3001"],
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("halted due to breakpoint").count(),
        3,
        "{}",
        r.stdout
    );
    let pcs: Vec<&&str> = l.iter().filter(|x| x.starts_with("pc (/32)")).collect();
    assert_eq!(
        pcs,
        [
            &"pc (/32): 0x20001002",
            &"pc (/32): 0x20001004",
            &"pc (/32): 0x20001002"
        ],
        "{}",
        r.stdout
    );
    // One `adds` from the step, one from the second resume.
    assert_line(&r, "r0 (/32): 0x00000002");
}

#[test]
fn write_watchpoint_on_counter_halts_after_the_store() {
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        "resume; halt",
        &format!("mdw {COUNTER:#x}"),
        &format!("wp {COUNTER:#x} 4 w"),
        "wp",
        "resume; wait_halt",
        &format!("mdw {COUNTER:#x}"),
    ]);
    assert_line(
        &r,
        "address: 0x20000004, len: 0x00000004, r/w/a: 1, value: 0x00000000, mask: 0xffffffff",
    );
    assert!(
        r.stdout.contains("halted due to watchpoint"),
        "{}",
        r.stdout
    );
    let v = mdw_values(&r.stdout, COUNTER);
    assert_eq!(v.len(), 2, "{}", r.stdout);
    assert_ne!(v[0], v[1], "the counter must have changed: {}", r.stdout);
}

#[test]
fn removed_breakpoints_and_watchpoints_no_longer_halt_or_list() {
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        &format!("bp {TOGGLE_LED:#x} 2 hw"),
        &format!("bp {DELAY:#x} 2 hw"),
        &format!("wp {COUNTER:#x} 4 w"),
        "wp 0x20000000 4 r",
        &format!("rbp {TOGGLE_LED:#x}"),
        &format!("rwp {COUNTER:#x}"),
        "bp",
        "wp",
        "rbp all",
        "rwp 0x20000000",
        "bp",
        "wp",
        "resume",
        "halt",
    ]);
    let l = lines(&r.stdout);
    // After the removals only delay's breakpoint (comparator 1) and the read watchpoint remain.
    assert_eq!(
        l.iter()
            .filter(|x| x.starts_with("Breakpoint(IVA)"))
            .collect::<Vec<_>>(),
        [&"Breakpoint(IVA): 0x08000154, 0x2, 1"],
        "{}",
        r.stdout
    );
    assert_eq!(
        l.iter()
            .filter(|x| x.starts_with("address: "))
            .collect::<Vec<_>>(),
        [&"address: 0x20000000, len: 0x00000004, r/w/a: 0, value: 0x00000000, mask: 0xffffffff"],
        "{}",
        r.stdout
    );
    // With everything removed the core runs until the explicit halt.
    assert!(
        r.stdout.contains("halted due to debug-request"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("halted due to breakpoint")
            && !r.stdout.contains("halted due to watchpoint"),
        "{}",
        r.stdout
    );
}

#[test]
fn seventh_hardware_breakpoint_reports_all_comparators_in_use() {
    let mut cmds = vec!["init".to_string()];
    for i in 0..7 {
        cmds.push(format!("bp {:#x} 2 hw", 0x0800_0100 + 2 * i));
    }
    let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let r = on_blinky(&refs);
    assert!(!r.ok);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("breakpoint set at"))
            .count(),
        6,
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(
            "no free hardware breakpoint: all 6 FPB comparators are in use; remove one with rbp"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn fifth_watchpoint_reports_all_comparators_in_use() {
    let r = on_blinky(&[
        "init",
        "wp 0x20000000 4",
        "wp 0x20000010 4",
        "wp 0x20000020 4",
        "wp 0x20000030 4",
        "wp 0x20000040 4",
    ]);
    assert!(!r.ok);
    assert!(
        r.stderr
            .contains("no free watchpoint: all 4 DWT comparators are in use; remove one with rwp"),
        "{}",
        r.stderr
    );
}

#[test]
fn bp_before_init_says_to_run_init() {
    let (dir, storage) = blinky_storage();
    let mut c = Command::new(env!("CARGO_BIN_EXE_stdbg"));
    c.current_dir(dir.path())
        .args(["-f", "board/sim-bluepill.rhai"]);
    c.arg("-c")
        .arg(format!("sim storage {}", storage.display()));
    c.args(["-c", "bp 0x08000164 2 hw"]);
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'bp' needs a connected target: run 'init' first"),
        "{err}"
    );
}

#[test]
fn breakpoint_set_while_running_is_hit() {
    // stdbg does not require a halted core (OpenOCD does): the FPB is written through the AHB-AP.
    let r = on_blinky_ok(&[
        "init",
        "reset run",
        &format!("bp {TOGGLE_LED:#x} 2 hw"),
        "wait_halt",
        "reg pc",
    ]);
    assert_line(&r, "pc (/32): 0x08000164");
}

#[test]
fn breakpoints_and_watchpoints_survive_reset() {
    // A breakpoint on Reset_Handler is hit by 'reset run' (stdbg stops at the reset vector to
    // re-apply the FPB and DWT before letting the core go); after 'reset halt' the watchpoint
    // on counter still fires.
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        "bp 0x080000f0 2 hw",
        &format!("wp {COUNTER:#x} 4 w"),
        "reset run",
        "wait_halt",
        "reg pc",
        "rbp 0x080000f0",
        "reset halt",
        "resume; wait_halt",
        "reset halt",
        "resume; wait_halt",
        "bp",
        "wp",
    ]);
    assert_line(&r, "pc (/32): 0x080000f0");
    assert_eq!(
        r.stdout.matches("halted due to breakpoint").count(),
        1,
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("halted due to watchpoint").count(),
        2,
        "{}",
        r.stdout
    );
    assert_line(
        &r,
        "address: 0x20000004, len: 0x00000004, r/w/a: 1, value: 0x00000000, mask: 0xffffffff",
    );
}

#[test]
fn bad_requests_explain_themselves() {
    let (dir, storage) = blinky_storage();
    for (cmd, want) in [
        (
            "bp 0x20001000 2 hw",
            "FPB (version 1, as on the Cortex-M3 and M4) only matches code-region addresses below 0x20000000",
        ),
        ("bp 0x08000165 2 hw", "is odd"),
        ("bp 0x08000164 4 hw", "use length 2"),
        ("wp 0x20000002 4 w", "not aligned to its length 4"),
        (
            "wp 0x20000004 3 w",
            "not supported: the DWT watches an aligned power-of-two range",
        ),
        (
            "wp 0x20000004 4 w 5",
            "data-value matching is not supported",
        ),
        ("wp 0x20000004 4 x", "invalid watchpoint mode ('x')"),
        (
            "rwp 0x20000000",
            "no watchpoint at address 0x20000000 found",
        ),
        (
            "rbp 0x08000164",
            "no breakpoint at address 0x08000164 found",
        ),
    ] {
        let r = stdbg(dir.path(), &storage, &["init", cmd]);
        assert!(!r.ok, "{cmd} should fail");
        assert!(r.stderr.contains(want), "{cmd}: {}", r.stderr);
    }
}

#[test]
fn watchpoint_on_the_work_area_does_not_break_flashing() {
    // The flash algorithm runs in the work area at 0x20000000; a watchpoint there used to halt
    // it half-way ("the flash sector at 0x08000000 could not be erased"). Watchpoints are now
    // suspended around algorithm runs and programmed again afterwards.
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/f103-blinky.elf");
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        "wp 0x20000000 0x1000 a",
        &format!("program {} verify", elf.display()),
        "wp",
        "mdw 0xe0001028",
    ]);
    assert_line(&r, "** Verified OK **");
    assert_line(
        &r,
        "address: 0x20000000, len: 0x00001000, r/w/a: 2, value: 0x00000000, mask: 0xffffffff",
    );
    // DWT_FUNCTION0 is back to 0b0111 (access); bit 9 is the read-only LNK1ENA.
    assert_line(&r, "0xe0001028: 00000207");
}

/// Regression: after a breakpoint hit on a `b .`, a `step` leaves the PC where it is (the
/// branch goes to itself). probe-rs's `Core::step` took such a step for a step over a `BKPT`
/// instruction and moved the PC on by 2, to 0x20000104 and then 0x20000106.
#[test]
fn step_on_a_branch_to_self_after_a_breakpoint_hit_leaves_the_pc() {
    let r = on_blinky_ok(&[
        "init",
        "reset halt",
        // nop; b .
        "mwh 0x20000100 0xbf00",
        "mwh 0x20000102 0xe7fe",
        "reg pc 0x20000100",
        "bp 0x20000102 2",
        "resume; wait_halt",
        "rbp 0x20000102",
        "step",
        "reg pc",
        "step",
        "reg pc",
    ]);
    let pcs: Vec<&str> = lines(&r.stdout)
        .into_iter()
        .filter(|l| l.starts_with("pc (/32): "))
        .collect();
    assert_eq!(
        pcs[pcs.len() - 2..],
        ["pc (/32): 0x20000102", "pc (/32): 0x20000102"],
        "{}",
        r.stdout
    );
}
