//! Regression tests for scripts (issue 13): recursion that aborted the process, allocations
//! without limit, silent truncation, and messages with Rust type names.

mod common;
mod telnet_support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Run, assert_has, board_run, tempdir};

fn write(dir: &Path, name: &str, text: &[u8]) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// `init` then `script <name>` on a fresh virtual Blue Pill; the run must end on its own, fast.
fn run_script(dir: &Path, name: &str) -> Run {
    let t = Instant::now();
    let r = board_run(
        dir,
        &dir.join("chip.bin"),
        &[],
        &["init", &format!("script {name}"), "shutdown"],
    );
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    r
}

/// The run ended with an error (status 1), not an abort or a signal.
fn fails_with(r: &Run, needle: &str) {
    assert_eq!(
        r.code, 1,
        "--- stdout\n{}\n--- stderr\n{}",
        r.stdout, r.stderr
    );
    assert_has(&r.stderr, needle);
    for bad in [
        "panicked",
        "overflow",
        "memory allocation",
        "Stack backtrace",
    ] {
        assert!(!r.stderr.contains(bad), "{}", r.stderr);
    }
}

#[test]
fn script_that_sources_itself_stops_with_the_chain() {
    let d = tempdir();
    write(d.path(), "self.rhai", b"source(\"self.rhai\");\n");
    let r = run_script(d.path(), "self.rhai");
    fails_with(&r, "nested too deeply: more than 32 levels");
    assert_has(
        &r.stderr,
        "chain: command 'script' → script self.rhai (×32)",
    );
}

#[test]
fn registered_command_that_runs_itself_stops_with_the_chain() {
    let d = tempdir();
    write(
        d.path(),
        "rec.rhai",
        b"register_command(\"rec\", \"h\", \"\", || cmd(\"rec\"));\ncmd(\"rec\");\n",
    );
    let r = run_script(d.path(), "rec.rhai");
    fails_with(&r, "command 'rec' calls itself again");
}

#[test]
fn reset_end_handler_that_resets_stops_with_the_chain() {
    let d = tempdir();
    write(
        d.path(),
        "ev.rhai",
        b"let t = target(\"stm32f1x.cpu\");\nt.on(\"reset-end\", |t| t.reset());\nt.reset();\n",
    );
    let r = run_script(d.path(), "ev.rhai");
    fails_with(
        &r,
        "calls itself again: command 'reset' → event 'reset-end' of stm32f1x.cpu",
    );
}

#[test]
fn halted_handler_that_resumes_and_halts_stops_with_the_chain() {
    let d = tempdir();
    write(
        d.path(),
        "ev.rhai",
        b"let t = target(\"stm32f1x.cpu\");\nt.on(\"halted\", |t| { t.resume(); t.halt(); });\nt.halt();\n",
    );
    let r = run_script(d.path(), "ev.rhai");
    fails_with(&r, "calls itself again");
    assert_has(&r.stderr, "event 'halted' of stm32f1x.cpu");
}

#[test]
fn cmd_script_of_itself_stops_with_the_chain() {
    let d = tempdir();
    write(d.path(), "me.rhai", b"cmd(\"script me.rhai\");\n");
    let r = run_script(d.path(), "me.rhai");
    fails_with(&r, "command 'script' calls itself again");
}

#[test]
fn recursion_from_telnet_leaves_the_server_running() {
    use telnet_support::{Client, Running, noinit_script, stdbg};
    let d = tempdir();
    write(d.path(), "self.rhai", b"source(\"self.rhai\");\n");
    let board = noinit_script(d.path());
    let run = Running::spawn(stdbg(
        d.path(),
        &["-f", board.to_str().unwrap(), "-c", "telnet_port 0"],
    ));
    let mut c = Client::connect(run.addr());
    let out = c.command("script self.rhai").join("\n");
    assert!(out.contains("nested too deeply"), "{out}");
    assert_eq!(c.command("echo alive"), vec!["alive"]);
    c.send("shutdown\r\n");
    let (code, _, err) = run.wait();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn doubling_a_string_40_times_stops_at_the_string_limit() {
    let d = tempdir();
    write(
        d.path(),
        "s.rhai",
        b"let s = \"y\";\nfor i in 0..40 { s += s; }\n",
    );
    fails_with(
        &run_script(d.path(), "s.rhai"),
        "Length of string is too large",
    );
}

#[test]
fn doubling_an_array_40_times_stops_at_the_array_limit() {
    let d = tempdir();
    write(
        d.path(),
        "a.rhai",
        b"let a = [1];\nfor i in 0..40 { a += a; }\n",
    );
    fails_with(
        &run_script(d.path(), "a.rhai"),
        "Size of array/BLOB is too large",
    );
}

#[test]
fn blob_of_100_gb_is_refused() {
    let d = tempdir();
    write(d.path(), "b.rhai", b"let b = blob(100000000000);\n");
    fails_with(
        &run_script(d.path(), "b.rhai"),
        "Size of array/BLOB is too large",
    );
}

#[test]
fn pad_to_10_gb_is_refused() {
    let d = tempdir();
    write(
        d.path(),
        "p.rhai",
        b"let s = \"y\";\ns.pad(10000000000, \"z\");\n",
    );
    fails_with(
        &run_script(d.path(), "p.rhai"),
        "Length of string is too large",
    );
}

#[test]
fn write_u32_of_minus_1_is_refused_like_mww() {
    let d = tempdir();
    write(
        d.path(),
        "w.rhai",
        b"let t = target(\"stm32f1x.cpu\");\nt.write_u32(0x20000000, 0x12345678);\ntry { t.write_u32(0x20000000, -1); } catch (e) { print(e); }\ntry { t.write_u8(0x20000000, -2); } catch (e) { print(e); }\nprint(mdw(0x20000000));\n",
    );
    let r = run_script(d.path(), "w.rhai");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_has(
        &r.stdout,
        "value -1 is negative: a 32-bit value is 0 to 0xffffffff",
    );
    assert_has(
        &r.stdout,
        "value -2 is negative: a 8-bit value is 0 to 0xff",
    );
    // Memory kept its value: nothing was written.
    assert_has(&r.stdout, "0x20000000: 12345678");
}

#[test]
fn adapter_reset_config_with_a_number_names_the_argument_not_a_rust_type() {
    let d = tempdir();
    write(d.path(), "r.rhai", b"adapter.reset_config(5);\n");
    let r = run_script(d.path(), "r.rhai");
    fails_with(&r, "argument 1 is a value of type adapter");
    assert!(!r.stderr.contains("stdbg::"), "{}", r.stderr);
}

#[test]
fn source_of_an_integer_says_it_needs_a_string() {
    let d = tempdir();
    write(d.path(), "s.rhai", b"source(5);\n");
    let r = run_script(d.path(), "s.rhai");
    fails_with(&r, "source: expects the script's name as a string");
    assert!(!r.stderr.contains("i64"), "{}", r.stderr);
}

#[test]
fn script_with_a_utf8_bom_runs() {
    let d = tempdir();
    write(d.path(), "bom.rhai", b"\xEF\xBB\xBFprint(\"bom ok\");\n");
    let r = run_script(d.path(), "bom.rhai");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_has(&r.stdout, "bom ok");
}

#[test]
fn script_with_invalid_utf8_names_the_line() {
    let d = tempdir();
    write(d.path(), "bad.rhai", b"print(\"a\");\n\xff\xfe\n");
    let r = run_script(d.path(), "bad.rhai");
    fails_with(&r, "bad.rhai is not UTF-8 text: byte 12 (line 2)");
    assert!(!r.stderr.contains("permissions"), "{}", r.stderr);
}

#[test]
fn script_with_a_nul_byte_says_it_is_binary() {
    let d = tempdir();
    write(d.path(), "nul.rhai", b"print(\"a\");\n\x00\n");
    let r = run_script(d.path(), "nul.rhai");
    fails_with(
        &r,
        "nul.rhai contains a NUL byte (line 2): it is a binary file",
    );
}
