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
    std::fs::write(
        dir.path().join("bad.rhai"),
        "adapter.speed = 1000;\nlet x = undefined_thing + 1;\n",
    )
    .unwrap();
    let out = stdbg(dir.path(), &["-f", "bad.rhai", "-c", "shutdown"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("Error: bad.rhai:2:9: Variable not found: undefined_thing"),
        "{err}"
    );
    // Nothing after the failing -f ran.
    assert!(!text(&out.stdout).contains("shutdown command invoked"));
}

#[test]
fn error_in_a_sourced_script_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts/board")).unwrap();
    std::fs::write(
        dir.path().join("scripts/board/mine.rhai"),
        "source(\"targets/stm32f1x.rhai\");\nsource(\"board/helper.rhai\");\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/board/helper.rhai"),
        "\ncurrent_target().configure(#{ work_area_size: \"big\" });\n",
    )
    .unwrap();
    let out = stdbg(dir.path(), &["-s", "scripts", "-f", "board/mine.rhai"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().map(str::trim).collect();
    let i = lines
        .iter()
        .position(|l| *l == "Error: scripts/board/helper.rhai:2:18: target option 'work_area_size' must be an integer, not string")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        lines.get(i + 1),
        Some(&"in a script sourced at scripts/board/mine.rhai:2:8"),
        "{err}"
    );
}

#[test]
fn sim_bluepill_board_configures_targets_and_banks_before_init() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            "targets",
            "-c",
            "adapter speed",
            "-c",
            "eval {find(\"targets/stm32f1x.rhai\")}",
            "-c",
            "shutdown",
        ],
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
    std::fs::write(
        dir.path().join("spin.rhai"),
        "let n = 0;\nwhile true {\n    n += 1;\n}\n",
    )
    .unwrap();
    let out = stdbg(dir.path(), &["-f", "spin.rhai"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("Error: spin.rhai:"), "{err}");
    assert!(
        err.contains("script stopped after 10000000 operations: it looks like an endless loop"),
        "{err}"
    );
}

#[test]
fn lookup_order_is_search_dirs_then_current_directory_then_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("sdir/board")).unwrap();
    std::fs::create_dir_all(d.join("board")).unwrap();
    std::fs::write(
        d.join("sdir/board/sim-bluepill.rhai"),
        "print(\"from -s\");\n",
    )
    .unwrap();
    std::fs::write(d.join("board/sim-bluepill.rhai"), "print(\"from cwd\");\n").unwrap();
    let run = |args: &[&str]| {
        let out = stdbg(d, args);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        run(&[
            "-s",
            "sdir",
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "shutdown"
        ]),
        "from -s\nshutdown command invoked\n"
    );
    assert_eq!(
        run(&["-f", "board/sim-bluepill.rhai", "-c", "shutdown"]),
        "from cwd\nshutdown command invoked\n"
    );
    std::fs::remove_file(d.join("board/sim-bluepill.rhai")).unwrap();
    assert_eq!(
        run(&[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            "eval {target_names()}",
            "-c",
            "shutdown"
        ]),
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
    let out = stdbg(
        dir.path(),
        &[
            "-f",
            "cmds.rhai",
            "-c",
            "swap16 4660",
            "-c",
            "usage swap16",
            "-c",
            "shutdown",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "13330\nswap16 value\nshutdown command invoked\n"
    );
}

#[test]
fn examine_end_handler_sets_dbgmcu_cr_on_the_virtual_chip() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            "init; mdw 0xE0042004",
            "-c",
            "shutdown",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "0xe0042004: 00000307 \nshutdown command invoked\n"
    );
}

#[test]
fn target_memory_methods_read_and_write_the_virtual_chip() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mem.rhai"),
        r#"let t = current_target();
t.write_memory(0x20000100, 32, [1, 2, 0xdeadbeef]);
print(t.read_memory(0x20000100, 32, 3));
t.write_u8(0x20000100, 0x7f);
t.write_u16(0x20000102, 0xa55a);
print(t.read_u32(0x20000100).to_hex());
print(t.read_memory(0x20000100, 8, 4));
print(t.read_u16(0x1FFFF7E0));
t.mmw(0x20000104, 0x10, 0x2);
print(t.read_u32(0x20000104));
"#,
    )
    .unwrap();
    let out = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            "init",
            "-f",
            "mem.rhai",
            "-c",
            "shutdown",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "[1, 2, 3735928559]\na55a007f\n[127, 0, 90, 165]\n64\n16\nshutdown command invoked\n"
    );
}

#[test]
fn reset_fires_events_in_openocds_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("events.rhai"),
        r#"let t = current_target();
for ev in ["reset-start", "examine-start", "examine-end", "reset-assert-pre", "reset-assert-post",
           "reset-deassert-pre", "reset-deassert-post", "halted", "reset-init", "reset-end"] {
    t.on(ev, |t, ev| print("event " + ev));
}
"#,
    )
    .unwrap();
    let out = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-f",
            "events.rhai",
            "-c",
            "init",
            "-c",
            "reset init",
            "-c",
            "shutdown",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let events: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("event "))
        .map(String::from)
        .collect();
    assert_eq!(
        events,
        [
            // init
            "event examine-start",
            "event examine-end",
            // reset init
            "event reset-start",
            "event examine-start",
            "event examine-end",
            "event reset-assert-pre",
            "event reset-assert-post",
            "event reset-deassert-pre",
            "event reset-deassert-post",
            "event halted",
            "event reset-init",
            "event reset-end",
        ]
    );
}
