//! The scripting model through the `stdbg` binary: script errors end the run with status 1 and
//! a `file:line:column` message, board scripts configure the host, runaway scripts are stopped,
//! and scripts are found in `-s` directories, the current directory and the built-in set.

use std::path::Path;
use std::process::{Command, Output};

fn stdbg(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stdbg"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .output()
        .expect("running stdbg")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn rhai_error_in_f_script_exits_1_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.rhai"), "adapter.speed = 1000;\nlet x = undefined_thing + 1;\n").unwrap();
    let out = stdbg(dir.path(), &["-f", "bad.rhai", "-c", "shutdown"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("Error: bad.rhai:2:9: Variable not found: undefined_thing"), "{err}");
    // Nothing after the failing -f ran.
    assert!(!text(&out.stdout).contains("shutdown command invoked"));
}

#[test]
fn error_in_a_sourced_script_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts/board")).unwrap();
    std::fs::write(dir.path().join("scripts/board/mine.rhai"), "source(\"targets/stm32f1x.rhai\");\nsource(\"board/helper.rhai\");\n").unwrap();
    std::fs::write(dir.path().join("scripts/board/helper.rhai"), "\ncurrent_target().configure(#{ work_area_size: \"big\" });\n").unwrap();
    let out = stdbg(dir.path(), &["-s", "scripts", "-f", "board/mine.rhai"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().map(str::trim).collect();
    let i = lines
        .iter()
        .position(|l| *l == "Error: scripts/board/helper.rhai:2:18: target option 'work_area_size' must be an integer, not string")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(lines.get(i + 1), Some(&"in a script sourced at scripts/board/mine.rhai:2:8"), "{err}");
}

#[test]
fn sim_bluepill_board_configures_targets_and_banks_before_init() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdbg(
        dir.path(),
        &["-f", "board/sim-bluepill.rhai", "-c", "sim storage none", "-c", "targets", "-c", "adapter speed", "-c", "eval {find(\"targets/stm32f1x.rhai\")}", "-c", "shutdown"],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "    TargetName         Type       Endian TapName            State       \n\
         --  ------------------ ---------- ------ ------------------ ------------\n \
         0* stm32f1x.cpu       cortex_m   little stm32f1x.cpu       unknown\n\
         adapter speed: 1000 kHz\n\
         <builtin>/targets/stm32f1x.rhai\n\
         shutdown command invoked\n"
    );
}

#[test]
fn runaway_script_is_stopped_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.rhai"), "let n = 0;\nwhile true {\n    n += 1;\n}\n").unwrap();
    let out = stdbg(dir.path(), &["-f", "spin.rhai"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("Error: spin.rhai:"), "{err}");
    assert!(err.contains("script stopped after 10000000 operations: it looks like an endless loop"), "{err}");
}

#[test]
fn lookup_order_is_search_dirs_then_current_directory_then_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("sdir/board")).unwrap();
    std::fs::create_dir_all(d.join("board")).unwrap();
    std::fs::write(d.join("sdir/board/sim-bluepill.rhai"), "print(\"from -s\");\n").unwrap();
    std::fs::write(d.join("board/sim-bluepill.rhai"), "print(\"from cwd\");\n").unwrap();
    let run = |args: &[&str]| {
        let out = stdbg(d, args);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(run(&["-s", "sdir", "-f", "board/sim-bluepill.rhai", "-c", "shutdown"]), "from -s\nshutdown command invoked\n");
    assert_eq!(run(&["-f", "board/sim-bluepill.rhai", "-c", "shutdown"]), "from cwd\nshutdown command invoked\n");
    std::fs::remove_file(d.join("board/sim-bluepill.rhai")).unwrap();
    assert_eq!(
        run(&["-f", "board/sim-bluepill.rhai", "-c", "sim storage none", "-c", "eval {target_names()}", "-c", "shutdown"]),
        "[\"stm32f1x.cpu\"]\nshutdown command invoked\n"
    );
}

#[test]
fn script_registered_command_works_from_c_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cmds.rhai"),
        "register_command(\"swap16\", \"Swap the bytes of a 16-bit value.\", \"value\", |args| {\n    let v = parse_int(args[0]);\n    ((v & 0xff) << 8) | (v >> 8)\n});\n",
    )
    .unwrap();
    let out = stdbg(dir.path(), &["-f", "cmds.rhai", "-c", "swap16 4660", "-c", "usage swap16", "-c", "shutdown"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "13330\nswap16 value\nshutdown command invoked\n");
}
