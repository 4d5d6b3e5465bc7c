//! OpenOCD Tcl configuration files (`.cfg`, `.tcl`) run through the embedded Tcl interpreter,
//! and the docs/scripting.md porting example in both of its forms.

mod common;

use common::{stdbg, tempdir};

const BOARD_CFG: &str = "source [find interface/sim.rhai]
set CHIPNAME mychip
set WORKAREASIZE 0x2000
source [find target/stm32f1x.cfg]
$_TARGETNAME configure -event reset-init {
    mww 0x40021004 0x001D0402   ;# RCC_CFGR
}
set RAM 0x20000010
$_TARGETNAME configure -event reset-end { mww $RAM [expr {6 * 7}] }
";

const BOARD_RHAI: &str = "source(\"interface/sim.rhai\");
let CHIPNAME = \"mychip\";
let WORKAREASIZE = 0x2000;
source(\"targets/stm32f1x.rhai\");
target(_TARGETNAME).on(\"reset-init\", || {
    mww(0x40021004, 0x001D0402);
});
";

const CMDS: &str = "gdb_port disabled; telnet_port disabled; init; reset init; mdw 0x40021004; stm32f1x.cpu cget -work-area-size; mychip.cpu cget -work-area-size; shutdown";

#[test]
fn tcl_board_file_and_its_rhai_port_give_the_same_output() {
    let d = tempdir();
    std::fs::write(d.path().join("my-board.cfg"), BOARD_CFG).unwrap();
    std::fs::write(d.path().join("my-board.rhai"), BOARD_RHAI).unwrap();
    let tcl = stdbg(d.path(), &["-f", "my-board.cfg", "-c", CMDS]);
    tcl.expect_code(1);
    // stm32f1x.cpu does not exist: CHIPNAME crossed from Tcl to the target script.
    assert!(
        tcl.lines().contains(&"0x40021004: 001d0402 "),
        "{}",
        tcl.stdout
    );
    assert!(
        tcl.stderr.contains("invalid command name \"stm32f1x.cpu\""),
        "{}",
        tcl.stderr
    );
    let cmds = CMDS.replace("stm32f1x.cpu cget -work-area-size; ", "");
    let tcl = stdbg(d.path(), &["-f", "my-board.cfg", "-c", &cmds]);
    let rhai = stdbg(d.path(), &["-f", "my-board.rhai", "-c", &cmds]);
    tcl.expect_code(0);
    rhai.expect_code(0);
    assert_eq!(tcl.stdout, rhai.stdout);
    assert!(tcl.lines().contains(&"8192"), "{}", tcl.stdout);
    // The reset-end body with Tcl substitutions ran in Tcl.
    let r = stdbg(
        d.path(),
        &[
            "-f",
            "my-board.cfg",
            "-c",
            "gdb_port disabled; telnet_port disabled; init; reset halt; mdw 0x20000010; shutdown",
        ],
    );
    r.expect_code(0);
    assert!(
        r.lines().contains(&"0x20000010: 0000002a "),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn tcl_procs_try_info_script_and_results() {
    let d = tempdir();
    std::fs::write(
        d.path().join("helpers.tcl"),
        "proc twice {x} { return [expr {$x * 2}] }
proc where {} { return \"in [info script]\" }
set here [where]
puts \"sourced: $here\"
proc guarded {} {
    try { no_such_command 1 } on error {msg} { puts \"caught: $msg\" } finally { puts done }
}
proc names {} { return \"targets=[target names]\" }
",
    )
    .unwrap();
    let r = stdbg(
        d.path(),
        &[
            "-f",
            "helpers.tcl",
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "gdb_port disabled; telnet_port disabled; twice 21; guarded; names; find target/stm32f1x.cfg; shutdown",
        ],
    );
    r.expect_code(0);
    let lines = r.lines();
    assert_eq!(
        &lines[..7],
        &[
            "sourced: in helpers.tcl",
            "42",
            "caught: invalid command name \"no_such_command\"",
            "done",
            "targets=stm32f1x.cpu",
            "<builtin>/targets/stm32f1x.rhai",
            "shutdown command invoked",
        ],
        "{}",
        r.stdout
    );
}

#[test]
fn tcl_file_with_a_command_stdbg_lacks_names_it_and_the_way_out() {
    let d = tempdir();
    std::fs::write(
        d.path().join("stm32f4_custom.cfg"),
        "set _CHIPNAME stm32f4x\njtag newtap $_CHIPNAME cpu -irlen 4 -expected-id 0x4ba00477\n",
    )
    .unwrap();
    let r = stdbg(d.path(), &["-f", "stm32f4_custom.cfg"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("stm32f4_custom.cfg: invalid command name \"jtag\""),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "'jtag' is an OpenOCD command stdbg does not have. Use the built-in script closest to this file"
        ) && r.stderr.contains("docs/scripting.md, section \"Porting an OpenOCD Tcl config\""),
        "{}",
        r.stderr
    );
}

/// Runaway Tcl (endless recursion, an endless loop, a loop doubling a string) ends with a
/// message instead of a crash, a hang or gigabytes of memory.
#[test]
fn tcl_runaway_recursion_loops_and_memory_are_stopped() {
    let d = tempdir();
    for (name, text, msg) in [
        (
            "rec.tcl",
            "proc f {n} { f [expr {$n+1}] }\nf 0\n",
            "rec.tcl: more than 200 nested Tcl calls: a proc that calls itself without end?",
        ),
        (
            "loop.tcl",
            "set i 0\nwhile 1 { incr i }\n",
            "loop.tcl: more than 1000000 loop iterations in one Tcl run: a runaway loop? check the loop's condition",
        ),
        (
            "mem.tcl",
            "set s x\nfor {set i 0} {1} {incr i} { append s $s }\n",
            "mem.tcl: the Tcl variables hold more than 16 MiB: a runaway loop? configuration files need a few KiB",
        ),
    ] {
        std::fs::write(d.path().join(name), text).unwrap();
        let r = stdbg(d.path(), &["-f", name]);
        r.expect_code(1);
        assert_eq!(r.stderr.trim_end(), format!("Error: {msg}"), "{name}");
    }
}

/// A Rhai script sources a Tcl file: the Tcl interpreter runs it, its printed lines are the value.
#[test]
fn rhai_source_of_a_tcl_file_runs_it_in_tcl() {
    let d = tempdir();
    std::fs::write(
        d.path().join("vars.tcl"),
        "set X [expr {6 * 7}]\nputs \"X=$X\"\nproc seven {} { return 7 }\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("main.rhai"),
        "let out = source(\"vars.tcl\");\nprint(\"got \" + out);\n",
    )
    .unwrap();
    let r = stdbg(d.path(), &["-f", "main.rhai", "-c", "seven; shutdown"]);
    r.expect_code(0);
    assert_eq!(
        r.lines(),
        ["got X=42", "7", "shutdown command invoked"],
        "{}",
        r.stderr
    );
}

/// `-c "set NAME value"` before a Tcl file: the file sees `$NAME` (OpenOCD users override
/// variables this way); a Tcl `set` is seen by a later Rhai script.
#[test]
fn command_line_set_reaches_tcl_and_tcl_set_reaches_rhai() {
    let d = tempdir();
    std::fs::write(
        d.path().join("b.cfg"),
        "if {[info exists FLASH_SIZE]} { puts \"flash $FLASH_SIZE\" } else { puts none }\nset WORKAREASIZE 0x800\n",
    )
    .unwrap();
    let r = stdbg(
        d.path(),
        &[
            "-c",
            "set FLASH_SIZE 0x10000",
            "-f",
            "b.cfg",
            "-c",
            "eval WORKAREASIZE; shutdown",
        ],
    );
    r.expect_code(0);
    assert_eq!(
        r.lines(),
        ["flash 65536", "2048", "shutdown command invoked"],
        "{}",
        r.stderr
    );
}

/// A `-c` line with a Tcl substitution is evaluated by Tcl as a whole, as OpenOCD evaluates it:
/// `$var` and `[…]` are substituted, `catch` gives the command's status, and only the line's
/// result (that of its last command) is printed.
#[test]
fn cli_line_with_substitutions_is_evaluated_as_tcl() {
    let dir = tempdir();
    let r = stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "gdb_port disabled; telnet_port disabled; tcl_port disabled; init",
            "-c",
            r#"catch {foo_unknown 1} msg; echo "rc: [catch {mdw 0x60000000}] msg: $msg""#,
            "-c",
            "set n 3; mdw 0x1ffff7e0 [expr {$n - 2}]",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    let lines = r.lines();
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("rc: 1 msg: invalid command name \"foo_unknown\"")),
        "{}",
        r.stderr
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("0x1ffff7e0:"))
            .count(),
        1,
        "{}",
        r.stdout
    );
    assert!(lines.contains(&"0x1ffff7e0: ffff0040 "), "{}", r.stdout);
    assert!(
        !lines.contains(&"1"),
        "catch's result is not printed: {}",
        r.stdout
    );
}

/// Regression: molt 0.3.1 loops forever on an array reference with no `)` (`$A(`) and panics on
/// some others; found by the command-line fuzzer once `-c` lines with `$` went to Tcl. Both a
/// `-c` line and a `.cfg` file get Tcl's error and stdbg goes on.
#[test]
fn tcl_unclosed_array_index_is_an_error_not_a_hang() {
    let dir = tempdir();
    std::fs::write(dir.path().join("bad.cfg"), "set x 1\necho $A(\n").unwrap();
    for args in [
        vec!["-c", "echo $A(x", "-c", "shutdown"],
        vec!["-f", "bad.cfg", "-c", "shutdown"],
    ] {
        let r = stdbg(dir.path(), &args);
        r.expect_code(1);
        assert!(
            r.stderr
                .contains("missing ) after \"$A(\": an array reference needs its index closed"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("internal error"), "{}", r.stderr);
    }
    let r = stdbg(
        dir.path(),
        &[
            "-c",
            "set A(1) 5; echo \"v=$A([expr {0 + 1}])\"",
            "-c",
            "shutdown",
        ],
    );
    r.expect_code(0);
    assert!(r.stderr.lines().any(|l| l == "v=5"), "{}", r.stderr);
}
