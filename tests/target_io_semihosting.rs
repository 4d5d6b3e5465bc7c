//! ARM semihosting served by stdbg, through the binary, on the virtual Blue Pill with
//! `tests/firmware/f103-semihost.elf` (each operation, its result printed on the console):
//! the exact console text, the files the firmware creates in the working directory, the
//! refused paths outside it, the exit status of SYS_EXIT_EXTENDED / SYS_EXIT, the disabled
//! behaviour, the commands' OpenOCD output, and GDB's console.

mod common;

#[path = "gdb/harness.rs"]
mod harness;
mod telnet_support;

use std::path::{Path, PathBuf};

use common::{QUIET, Run, firmware, stdbg, tempdir};

/// What the firmware prints on :tt from its start to the exit call, with the default command
/// line (exit status 3).
const CONSOLE: &[&str] = &[
    "writec ok",
    "write0 ok",
    "tt handles distinct: 1",
    "istty stdout: 1",
    "clock valid: 1",
    "time after 2020: 1",
    "tickfreq: 1000000",
    "elapsed ok: 1",
    "elapsed advances: 1",
    "heapinfo: 0 0 0 0",
    "cmdline result: 0",
    "cmdline: []",
    "cmdline length: 0",
    "open w: 1",
    "write: 0",
    "istty file: 0",
    "close: 0",
    "write appended: 0",
    "flen: 23",
    "seek 6: 0",
    "read 11 (0 = all): 0",
    "read: [semihosting]",
    "read 8 at 21 (bytes not read): 6",
    "read 4 at eof: 4",
    "rename: 0",
    "remove: 0",
    "open removed: -1",
    "errno: 2",
    "open ../semi-outside.txt: -1",
    "errno: 13",
    "open /tmp/semi-abs.txt: -1",
    "errno: 13",
    "close 99: -1",
    "errno: 9",
    "iserror -1: 1",
    "iserror 0: 0",
    "tmpnam: 0",
    "tmpnam: stdbg-tmp-007",
    "readc: -1",
    "close stdin: 0",
];

/// A working directory `run` inside a temp dir (so `..` is the temp dir), with the image
/// copied in as `semi.elf`.
fn workdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempdir();
    let run = t.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::copy(firmware("f103-semihost.elf"), run.join("semi.elf")).unwrap();
    let run = std::fs::canonicalize(run).unwrap();
    (t, run)
}

/// `stdbg -f board/sim-bluepill.rhai -c QUIET -c <cmds>…` in `dir`, the chip in memory only.
fn run(dir: &Path, cmds: &[&str]) -> Run {
    let mut args = vec![
        "-c",
        "sim storage none",
        "-f",
        "board/sim-bluepill.rhai",
        "-c",
        QUIET,
    ];
    for c in cmds {
        args.extend(["-c", c]);
    }
    stdbg(dir, &args)
}

/// The stdout lines after `** Resetting Target **`.
fn firmware_lines(r: &Run) -> Vec<&str> {
    let lines = r.lines();
    let at = lines
        .iter()
        .position(|l| *l == "** Resetting Target **")
        .unwrap_or_else(|| panic!("no reset line:\n{}\n{}", r.stdout, r.stderr));
    lines[at + 1..].to_vec()
}

/// The warnings of the two refused paths with base directory `base`.
fn refusals(base: &Path) -> [String; 2] {
    let b = base.display();
    let parent = base.parent().unwrap().display();
    [
        format!(
            "Warn : [stm32f1x.cpu] semihosting: refused SYS_OPEN of \"../semi-outside.txt\": it is {parent}/semi-outside.txt, outside the base directory {b} (the working directory); a relative path must stay inside the base directory: to reach it, set a base directory that contains it (`arm semihosting_basedir {parent}`) and open it by a path relative to that"
        ),
        format!(
            "Warn : [stm32f1x.cpu] semihosting: refused SYS_OPEN of \"/tmp/semi-abs.txt\": it is /tmp/semi-abs.txt, outside the base directory {b} (the working directory); allow it with `arm semihosting_basedir /tmp` (a base directory that contains it; relative paths then resolve there too)"
        ),
    ]
}

#[test]
fn the_issue_example_prints_each_result_creates_files_and_exits_with_status_3() {
    let (t, dir) = workdir();
    let abs_before = Path::new("/tmp/semi-abs.txt").exists();
    let r = run(
        &dir,
        &[
            "arm semihosting enable",
            "arm semihosting_resexit enable",
            "program semi.elf verify reset",
        ],
    );
    r.expect_code(3);
    let mut want: Vec<&str> = CONSOLE.to_vec();
    want.push("exit 3");
    assert_eq!(firmware_lines(&r), want, "stderr:\n{}", r.stderr);
    assert_eq!(r.lines()[0], "semihosting is enabled");
    assert_eq!(r.lines()[1], "semihosting resumable exit is enabled");
    // The halt message of `reset init` has OpenOCD's suffix.
    assert!(r.lines()[3].ends_with(", semihosting"), "{}", r.lines()[3]);
    // :tt stderr goes to stderr, the refusals and the exit are logged.
    let err: Vec<&str> = r.stderr.lines().collect();
    assert!(err.contains(&"to stderr"), "{}", r.stderr);
    for w in refusals(&dir) {
        assert!(err.contains(&w.as_str()), "missing {w}\n{}", r.stderr);
    }
    assert!(
        err.contains(&"Info : [stm32f1x.cpu] semihosting: *** application exited with 3 ***"),
        "{}",
        r.stderr
    );
    // Files: semi-keep.txt stays with its bytes; semi-test.txt was renamed and removed.
    assert_eq!(std::fs::read(dir.join("semi-keep.txt")).unwrap(), b"kept\n");
    assert!(!dir.join("semi-test.txt").exists());
    assert!(!dir.join("semi-renamed.txt").exists());
    assert!(!t.path().join("semi-outside.txt").exists());
    if !abs_before {
        assert!(!Path::new("/tmp/semi-abs.txt").exists());
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["semi-keep.txt", "semi.elf"]);
}

/// Regression: probe-rs's decoding reads a SYS_WRITE buffer and a file name whole, at the
/// length the firmware gives; a wrong length must fail that call, not make stdbg read
/// gigabytes or drop the session.
#[test]
fn wrong_lengths_fail_the_call_without_reading_them() {
    let (_t, dir) = workdir();
    let r = run(
        &dir,
        &[
            "arm semihosting enable",
            "arm semihosting_cmdline bad",
            "program semi.elf reset",
        ],
    );
    r.expect_code(0);
    let got = firmware_lines(&r);
    let at = got
        .iter()
        .position(|l| l.starts_with("write len 0x7ffffff0"))
        .unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(
        got[at..],
        [
            "write len 0x7ffffff0 (bytes not written): 2147483632",
            "open name len 0x10000: -1",
            "errno: 36",
            "bad done",
        ],
        "{got:?}"
    );
    assert!(
        r.stderr.contains(
            "Warn : [stm32f1x.cpu] semihosting: SYS_WRITE of 2147483632 bytes at 0x20004ff0 failed: the bus refused to read that memory (not all of it is RAM or flash); the firmware passed a wrong buffer or length\n"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "Warn : [stm32f1x.cpu] semihosting: a file name of 65536 bytes refused (at most 4096); the firmware passed a wrong length"
        ),
        "{}",
        r.stderr
    );
    assert!(!dir.join("semi-long.txt").exists());
}

#[test]
fn cmdline_exit0_ends_with_sys_exit_status_0() {
    let (_t, dir) = workdir();
    let r = run(
        &dir,
        &[
            "arm semihosting enable",
            "arm semihosting_cmdline exit0",
            "program semi.elf reset",
        ],
    );
    r.expect_code(0);
    assert!(r.lines().contains(&"semihosting command line is [exit0]"));
    let got = firmware_lines(&r);
    assert!(got.contains(&"cmdline: [exit0]"), "{got:?}");
    assert!(got.contains(&"cmdline length: 5"), "{got:?}");
    assert_eq!(got.last(), Some(&"exit 0"));
    assert!(
        r.stderr
            .contains("Info : [stm32f1x.cpu] semihosting: *** application exited normally ***\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_base_directory_command_moves_the_files() {
    let (t, dir) = workdir();
    let base = std::fs::canonicalize(t.path()).unwrap().join("base");
    std::fs::create_dir(&base).unwrap();
    let set = format!("arm semihosting_basedir {}", base.display());
    let r = run(
        &dir,
        &["arm semihosting enable", &set, "program semi.elf reset"],
    );
    r.expect_code(3);
    assert!(
        r.lines()
            .contains(&format!("semihosting base dir: {}", base.display()).as_str())
    );
    assert_eq!(
        std::fs::read(base.join("semi-keep.txt")).unwrap(),
        b"kept\n"
    );
    assert!(!dir.join("semi-keep.txt").exists());
    // With a base directory set, the warning names it (not "the working directory").
    assert!(
        r.stderr.contains(&format!(
            "it is /tmp/semi-abs.txt, outside the base directory {}; allow it with",
            base.display()
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn disabled_semihosting_halts_on_the_call_and_names_the_fix() {
    let (_t, dir) = workdir();
    let r = run(
        &dir,
        &["program semi.elf reset", "wait_halt 2000", "shutdown"],
    );
    r.expect_code(0);
    let got = firmware_lines(&r);
    assert_eq!(
        got[0],
        "[stm32f1x.cpu] halted due to breakpoint, current mode: Thread "
    );
    assert!(got[1].starts_with("xPSR: 0x21000000 pc: 0x0800"), "{got:?}");
    assert!(!got[1].contains("semihosting"), "{got:?}");
    assert_eq!(
        got[2],
        "[stm32f1x.cpu] the program made a semihosting call (BKPT 0xAB), which stdbg does not serve while semihosting is disabled; fix: `arm semihosting enable` (then `resume`)"
    );
    assert!(!r.stdout.contains("writec"), "{}", r.stdout);
    assert!(!dir.join("semi-keep.txt").exists());
}

#[test]
fn commands_print_openocd_lines_and_refuse_sub_options_while_disabled() {
    let (_t, dir) = workdir();
    let r = run(
        &dir,
        &[
            "arm semihosting",
            "arm semihosting enable",
            "arm semihosting_fileio",
            "arm semihosting_resexit",
            "arm semihosting_cmdline a b  c",
            "arm semihosting_cmdline",
            "arm semihosting_basedir",
            "arm semihosting_redirect",
            "arm semihosting disable",
            "arm semihosting_resexit enable",
        ],
    );
    r.expect_code(1);
    assert_eq!(
        r.lines(),
        [
            "semihosting is disabled",
            "semihosting is enabled",
            "semihosting fileio is disabled",
            "semihosting resumable exit is disabled",
            "semihosting command line is [a b c]",
            "semihosting command line is []",
            "semihosting base dir: ",
            "semihosting redirect is disabled",
            "semihosting is disabled",
        ]
    );
    assert!(
        r.stderr.contains(
            "semihosting not yet enabled for current target: run `arm semihosting enable` first"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn gdb_console_shows_the_output_and_continue_runs_to_the_exit() {
    let s = harness::Server::start_on("board/sim-bluepill.rhai", "f103-semihost.elf", &[]);
    let r = s.gdb(&[
        harness::ex("load"),
        harness::ex("monitor arm semihosting enable"),
        harness::ex("monitor reset halt"),
        harness::ex("continue"),
        harness::ex("p/x $r0"),
    ]);
    // Every line arrived on GDB's console, in order, before the one stop: the exit call.
    let text = &r.text;
    let mut at = 0;
    for l in CONSOLE.iter().chain(&["exit 3"]) {
        let line = format!("{l}\n");
        let found = text[at..]
            .find(&line)
            .unwrap_or_else(|| panic!("{l:?} missing (in order) on GDB's console:\n{text}"));
        at += found + line.len();
    }
    r.expect("semihosting: *** application exited with 3 ***\n")
        .expect("Program received signal SIGTRAP")
        // r0 still holds the call's operation: SYS_EXIT_EXTENDED.
        .expect("$1 = 0x20")
        .reject("does not serve");
    assert_eq!(
        text.matches("Program received signal").count(),
        1,
        "continue stopped more than once:\n{text}"
    );
    // The files are made in stdbg's working directory.
    assert_eq!(
        std::fs::read(s.dir.path().join("semi-keep.txt")).unwrap(),
        b"kept\n"
    );
}

#[test]
fn gdb_without_semihosting_stops_on_the_first_call_with_the_fix() {
    let s = harness::Server::start_on("board/sim-bluepill.rhai", "f103-semihost.elf", &[]);
    let r = s.gdb(&[
        harness::ex("load"),
        harness::ex("monitor reset halt"),
        harness::ex("continue"),
    ]);
    r.expect("stdbg: the program made a semihosting call (BKPT 0xAB), which stdbg does not serve while semihosting is disabled; fix: `monitor arm semihosting enable`, then `continue`")
        .expect("Program received signal SIGTRAP")
        .reject("writec ok");
}

#[test]
fn redirect_tcp_sends_the_console_to_the_client_and_reads_its_input() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let (_t, dir) = workdir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stdbg"))
        .args([
            "-c",
            "sim storage none",
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            QUIET,
        ])
        .args([
            "-c",
            "arm semihosting enable",
            "-c",
            "arm semihosting_redirect tcp 0 all",
        ])
        // The window in which the test connects, before the firmware runs.
        .args(["-c", "sleep 3000", "-c", "program semi.elf reset"])
        .current_dir(&dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let tail = " for stm32f1x.cpu semihosting service connections";
    let port: u16 = loop {
        let mut l = String::new();
        assert!(
            err.read_line(&mut l).unwrap() > 0,
            "stdbg ended before listening"
        );
        if let Some(p) = l.trim_end().strip_prefix("Info : Listening on port ") {
            break p.strip_suffix(tail).unwrap().parse().unwrap();
        }
    };
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // The byte SYS_READC gets.
    client.write_all(b"x").unwrap();
    let mut got = String::new();
    client.read_to_string(&mut got).unwrap_or_default();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(3), "{stdout}");
    let mut want: Vec<String> = CONSOLE.iter().map(|l| format!("{l}\n")).collect();
    // :tt stderr is redirected too (`all`), in its place; SYS_READC read the client's byte.
    want.insert(4, "to stderr\n".into());
    let readc = want.iter().position(|l| l == "readc: -1\n").unwrap();
    want[readc] = "readc: 120\n".into();
    want.push("exit 3\n".into());
    assert_eq!(got, want.concat());
    assert!(!stdout.contains("writec ok"), "{stdout}");
}

#[test]
fn gdb_file_io_does_the_file_operations_and_the_console_stays_the_same() {
    let s = harness::Server::start_on("board/sim-bluepill.rhai", "f103-semihost.elf", &[]);
    let r = s.gdb(&[
        harness::ex("load"),
        harness::ex("monitor arm semihosting enable"),
        harness::ex("monitor arm semihosting_fileio enable"),
        harness::ex("monitor reset halt"),
        // GDB's packet trace goes to stderr, after the console text in `r.text`.
        harness::ex("set debug remote 1"),
        harness::ex("continue"),
    ]);
    r.expect("semihosting fileio is enabled")
        // (the packet trace on stderr may split the line: only its end is checked)
        .expect("*** application exited with 3 ***\n")
        .expect("Program received signal SIGTRAP");
    let text = &r.text;
    let mut at = 0;
    for l in CONSOLE.iter().chain(&["exit 3"]) {
        let line = format!("{l}\n");
        let found = text[at..]
            .find(&line)
            .unwrap_or_else(|| panic!("{l:?} missing (in order) on GDB's console:\n{text}"));
        at += found + line.len();
    }
    // GDB did the file calls (the File-I/O requests in its packet trace) and created the file
    // in its working directory.
    for req in [
        "Fopen,", "Fwrite,", "Fread,", "Flseek,", "Ffstat,", "Frename,", "Funlink,", "Fclose,",
        "Fisatty,",
    ] {
        assert!(
            text.contains(&format!("Packet received: {req}")),
            "GDB received no {req} request:\n{text}"
        );
    }
    assert_eq!(
        std::fs::read(s.dir.path().join("semi-keep.txt")).unwrap(),
        b"kept\n"
    );
}

#[test]
fn gdb_with_resexit_resumes_the_firmware_after_its_exit_call() {
    let s = harness::Server::start_on("board/sim-bluepill.rhai", "f103-semihost.elf", &[]);
    let child = s
        .gdb_command(&[
            harness::ex("load"),
            harness::ex("monitor arm semihosting enable"),
            harness::ex("monitor arm semihosting_resexit enable"),
            harness::ex("monitor reset halt"),
            harness::ex("continue"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The exit call was served (stdbg logs it) and the firmware went on: Ctrl-C stops it.
    s.wait_log("semihosting: *** application exited with 3 ***");
    std::thread::sleep(std::time::Duration::from_millis(300));
    harness::sigint(child.id());
    let r = harness::wait_output(child);
    r.expect("semihosting: *** application exited with 3 ***\nresumed after exit\n")
        .expect("Program received signal SIGINT")
        .reject("SIGTRAP");
}

#[test]
fn telnet_console_gets_the_output_as_lines_and_closes_at_the_exit() {
    let (_t, dir) = workdir();
    let run = telnet_support::Running::spawn(telnet_support::stdbg(
        &dir,
        &[
            "-c",
            "sim storage none",
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "gdb_port disabled; telnet_port 0",
            "-c",
            "arm semihosting enable",
        ],
    ));
    let mut c = telnet_support::Client::connect(run.addr());
    c.send("program semi.elf reset\r\n");
    let text = c.read_to_eof();
    let mut at = 0;
    for l in CONSOLE.iter().chain(&["exit 3"]) {
        // Printed above the prompt: the prompt line is cleared (CR, ESC [K) first.
        let line = format!("\r\x1b[K{l}\r\n");
        let found = text[at..]
            .find(&line)
            .unwrap_or_else(|| panic!("{l:?} missing (in order) on telnet:\n{text}"));
        at += found + line.len();
    }
    let (code, stdout, _) = run.wait();
    assert_eq!(code, Some(3));
    // The -c run's stdout gets the output as written, too.
    assert!(
        stdout.contains("read: [semihosting]\nread 8 at 21"),
        "{stdout}"
    );
}
