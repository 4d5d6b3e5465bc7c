//! Regression tests for command counts and lengths (issue 13): counts that panicked with
//! "capacity overflow", aborted on allocation or used gigabytes, and ranges blamed on their
//! start address.

mod common;
mod telnet_support;

use std::time::{Duration, Instant};

use common::{Run, assert_has, board_run, tempdir};

/// `init` then `line` on a fresh virtual Blue Pill; must end within seconds with status 1.
fn refused(line: &str) -> Run {
    let d = tempdir();
    let t = Instant::now();
    let r = board_run(d.path(), &d.path().join("chip.bin"), &[], &["init", line]);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(
        r.code, 1,
        "--- stdout\n{}\n--- stderr\n{}",
        r.stdout, r.stderr
    );
    for bad in ["panicked", "capacity overflow", "memory allocation"] {
        assert!(!r.stderr.contains(bad), "{}", r.stderr);
    }
    r
}

#[test]
fn read_memory_count_of_u64_max_is_refused_without_a_panic() {
    let r = refused("read_memory 0 8 0xffffffffffffffff");
    assert_has(&r.stderr, "count 18446744073709551615 is too large");
}

#[test]
fn mww_fill_count_of_u64_max_is_refused_without_a_panic() {
    let r = refused("mww 0x20000000 0 0xffffffffffffffff");
    assert_has(
        &r.stderr,
        "one command reads or writes at most 1048576 items",
    );
}

#[test]
fn read_memory_of_a_tebibyte_is_refused_before_allocation() {
    let r = refused("read_memory 0x20000000 32 0x10000000000");
    assert_has(&r.stderr, "count 1099511627776 is too large");
}

#[test]
fn mww_fill_of_64_gib_is_refused_before_allocation() {
    let r = refused("mww 0x20000000 0 0x1000000000");
    assert_has(&r.stderr, "count 68719476736 is too large");
}

#[test]
fn mww_fill_across_the_peripheral_region_is_refused() {
    let r = refused("mww 0x40021000 0777 0x0800fffc");
    assert_has(&r.stderr, "count 134283260 is too large");
    let r = refused("mww 0x5ffffff0 0 8");
    assert_has(
        &r.stderr,
        "runs past the end of the peripheral region (0x40000000-0x5fffffff) at 0x60000000",
    );
}

#[test]
fn range_past_the_end_of_ram_names_the_end_not_the_start() {
    let r = refused("mdw 0x20004ff0 8");
    assert_has(
        &r.stderr,
        "0x20004ff0 + 32 bytes (to 0x2000500f) runs past the end of RAM (0x20000000-0x20004fff) at 0x20005000; at most 4 items of 4 bytes fit",
    );
}

#[test]
fn dump_image_of_more_than_the_chip_is_refused() {
    let r = refused("dump_image out.bin 0x08000000 0xffffffffff");
    assert_has(&r.stderr, "is too large");
    let r = refused("dump_image out.bin 0x08000000 0x20000");
    assert_has(
        &r.stderr,
        "runs past the end of flash (0x08000000-0x0800ffff)",
    );
}

#[test]
fn huge_count_over_telnet_leaves_the_server_running() {
    use telnet_support::{Client, Running, noinit_script, stdbg};
    let d = tempdir();
    let board = noinit_script(d.path());
    let run = Running::spawn(stdbg(
        d.path(),
        &[
            "-f",
            board.to_str().unwrap(),
            "-c",
            "telnet_port 0",
            "-c",
            "init",
        ],
    ));
    let mut c = Client::connect(run.addr());
    let out = c.command("read_memory 0 8 0xffffffffffffffff").join("\n");
    assert!(out.contains("is too large"), "{out}");
    assert_eq!(c.command("mdw 0x08000000"), vec!["0x08000000: ffffffff "]);
    c.send("shutdown\r\n");
    let (code, _, err) = run.wait();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn warnings_have_no_backtrace_when_rust_backtrace_is_set() {
    let d = tempdir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stdbg"))
        .args([
            "-c",
            "sim storage none",
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            common::QUIET,
            "-c",
            "init",
            "-c",
            "sim fault no-power",
            "-c",
            "mdw 0x20000000",
        ])
        .current_dir(d.path())
        .env("RUST_BACKTRACE", "1")
        .env("HOME", d.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for bad in [
        "Stack backtrace",
        "anyhow::",
        "Caused by:",
        "FullyQualifiedApAddress",
        "Arm(",
    ] {
        assert!(!err.contains(bad), "stderr shows {bad:?}:\n{err}");
    }
}
