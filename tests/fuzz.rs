//! Fuzz harnesses (issue 13), one per input surface, on stable Rust with proptest: a fixed seed
//! and a bounded number of cases, so a run is repeatable. Each prints its execution count.
//!
//! - `cargo test --test fuzz` runs the short budget (CI).
//! - `cargo test --release --test fuzz -- --ignored fuzz` runs the long one (1e6 executions per
//!   surface); `STDBG_FUZZ_CASES=N` sets any budget for both.
//!
//! Surfaces: command lines (parser and every command's arguments, through the host thread with
//! a watchdog: a command that neither ends nor obeys Ctrl-C within 20 s is a hang), GDB packets
//! (through the real server on port 0), the telnet decoder and line editor, the Rhai object
//! model (random calls with random argument types), Tcl config files (random Tcl fragments and
//! commands, through `source`), image loading (ELF/HEX/BIN mutations;
//! refused means flash unchanged) and the simulator's instruction decoder (random instruction
//! words through the probe: no panic, the chip keeps answering).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use stdbg::command::{Collect, Ctx, Origin};
use stdbg::host::worker::{self, HostHandle, Reply};
use stdbg::host::{Host, HostConfig};

/// The fixed seed of every harness.
const SEED: [u8; 32] = *b"stdbg issue 13 fuzz seed 0000001";

/// A string strategy from a regex, compiled once (a `&str` strategy compiles its regex for
/// every case).
fn re(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(pattern).expect("a valid regex")
}

/// The number of cases: `STDBG_FUZZ_CASES`, else `default`.
fn budget(default: u32) -> u32 {
    std::env::var("STDBG_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `f` on `cases` values of `strategy`; panics with the (shrunk) failing input.
fn fuzz<S: Strategy>(
    surface: &str,
    cases: u32,
    strategy: S,
    f: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let n = AtomicU64::new(0);
    let inside = AtomicU64::new(0);
    let t = Instant::now();
    let r = runner.run(&strategy, |v| {
        n.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        let r = f(v);
        inside.fetch_add(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
        r
    });
    println!(
        "fuzz {surface}: {} executions in {:.1} s ({:.1} s in the harness)",
        n.load(Ordering::Relaxed),
        t.elapsed().as_secs_f64(),
        inside.load(Ordering::Relaxed) as f64 / 1e6
    );
    if let Err(e) = r {
        panic!("fuzz {surface} found a failing input: {e}");
    }
}

/// A host thread with the virtual Blue Pill (no storage, servers off), initialised.
/// Moves this test process into a scratch directory, once: random command lines and scripts
/// name files (`dump_image 0777 …`, `log_output q w`), which must not land in the source tree.
fn in_scratch_dir() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = tempfile::tempdir().expect("a scratch directory");
        std::env::set_current_dir(dir.path()).expect("cd into the scratch directory");
        // Kept for the life of the process.
        std::mem::forget(dir);
    });
}

fn live_host() -> (HostHandle, std::thread::JoinHandle<()>) {
    in_scratch_dir();
    let host = Host::new(HostConfig::default());
    let (handle, join) = worker::spawn(host);
    for line in [
        "sim storage none",
        "gdb_port disabled",
        "telnet_port disabled",
        "script board/sim-bluepill.rhai",
        "init",
    ] {
        let (r, _) = handle.exec_blocking(line, Origin::Cli, |_| {});
        r.unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    (handle, join)
}

/// Runs `line` on the host thread as telnet console 999; after 300 ms it is interrupted (as
/// Ctrl-C would), and a line that still runs 20 s later is a hang.
fn exec_bounded(h: &HostHandle, line: &str) -> Result<Result<(), String>, String> {
    let origin = Origin::Telnet(999);
    let mut rx = h.exec(line, origin);
    let start = Instant::now();
    let mut interrupted = false;
    let mut lines = 0usize;
    loop {
        match rx.try_recv() {
            Ok(Reply::Done { result, .. }) => return Ok(result),
            Ok(Reply::Line(_)) => {
                lines += 1;
                if lines > 2_000_000 {
                    return Err(format!("'{line}' printed more than 2e6 lines"));
                }
                continue;
            }
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                return Err(format!("'{line}': the host thread ended"));
            }
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {}
        }
        let e = start.elapsed();
        if e > Duration::from_millis(300) && !interrupted {
            h.interrupt(origin);
            interrupted = true;
        }
        if e > Duration::from_secs(20) {
            return Err(format!("'{line}' hangs: no end 20 s after Ctrl-C"));
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

// ---- command lines --------------------------------------------------------------------

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|v| format!("{v:#x}")),
        any::<u64>().prop_map(|v| v.to_string()),
        (0u64..0x100).prop_map(|v| v.to_string()),
        prop_oneof![
            Just(0x0800_0000u64),
            Just(0x2000_0000),
            Just(0x2000_4ffc),
            Just(0x4002_1000),
            Just(0x6000_0000),
            Just(0xE000_EDF0),
            Just(0xFFFF_FFFC)
        ]
        .prop_map(|v| format!("{v:#x}")),
        Just("-1".to_string()),
        Just("0777".to_string()),
        Just("/dev/zero".to_string()),
        Just("nonexistent.elf".to_string()),
        Just("{a {b} c}".to_string()),
        Just("\"q w\"".to_string()),
        prop_oneof![
            Just("halt"),
            Just("run"),
            Just("init"),
            Just("on"),
            Just("off"),
            Just("phys"),
            Just("erase"),
            Just("verify"),
            Just("bin"),
            Just("elf"),
            Just("ihex"),
            Just("last"),
            Just("clear"),
            Just("no-power"),
            Just("r"),
            Just("w"),
            Just("a")
        ]
        .prop_map(String::from),
        re("[ -~]{0,12}"),
    ]
}

#[derive(Debug, Clone)]
enum LineKind {
    Command(usize, Vec<String>),
    Raw(String),
}

fn command_names(h: &HostHandle) -> Vec<String> {
    let names: Vec<String> = h.host().registry().names().map(String::from).collect();
    names.into_iter().filter(|n| n != "shutdown").collect()
}

fn fuzz_command_lines(cases: u32) {
    let (h, _join) = live_host();
    let names = command_names(&h);
    let n = names.len();
    let strategy = prop_oneof![
        4 => (0..n, prop::collection::vec(word(), 0..5)).prop_map(|(i, a)| LineKind::Command(i, a)),
        1 => re("[ -~;{}\"\\\\\\n]{0,40}").prop_map(LineKind::Raw),
    ];
    let count = AtomicU64::new(0);
    fuzz("command lines", cases, strategy, |k| {
        let line = match k {
            LineKind::Command(i, args) => format!("{} {}", names[i], args.join(" ")),
            LineKind::Raw(s) => s,
        };
        if line.contains("shutdown") {
            return Ok(());
        }
        let r = exec_bounded(&h, &line).map_err(TestCaseError::fail)?;
        if let Err(msg) = r {
            for bad in ["panicked", "Stack backtrace", "stdbg::", "RUST_BACKTRACE"] {
                prop_assert!(!msg.contains(bad), "'{line}' gave: {msg}");
            }
        }
        // Keep the chip usable for the next cases.
        if count.fetch_add(1, Ordering::Relaxed) % 200 == 199 {
            let _ = exec_bounded(&h, "sim fault clear; adapter speed 1000; reset halt");
        }
        Ok(())
    });
    // The host still works after all of it.
    let _ = exec_bounded(&h, "sim fault clear");
    let r = exec_bounded(&h, "echo alive").unwrap();
    assert_eq!(r, Ok(()));
}

#[test]
fn fuzz_command_line_parser_and_arguments() {
    fuzz_command_lines(budget(300));
}

#[test]
#[ignore]
fn fuzz_command_line_parser_and_arguments_long() {
    fuzz_command_lines(budget(1_000_000));
}

// ---- telnet decoder and line editor -----------------------------------------------------

fn fuzz_telnet(cases: u32) {
    use stdbg::server::telnet::line_editor::{Action, LineEditor};
    use stdbg::server::telnet::negotiation::{Decoder, Input};
    let byte = prop_oneof![
        4 => any::<u8>(),
        1 => prop_oneof![Just(0xFFu8), Just(0xFA), Just(0xF0), Just(0xF4), Just(0xFD), Just(0xFB)],
        2 => prop_oneof![Just(0x1Bu8), Just(b'['), Just(b'A'), Just(b'D'), Just(b'~'), Just(b'3')],
        2 => prop_oneof![Just(b'\r'), Just(b'\n'), Just(0u8), Just(0x7F), Just(0x08), Just(b'\t'), Just(0x03), Just(0x15), Just(0x0B), Just(0x01), Just(0x05)],
    ];
    fuzz(
        "telnet decoder and line editor",
        cases,
        prop::collection::vec(byte, 0..300),
        |bytes| {
            let mut d = Decoder::new();
            let mut e = LineEditor::new();
            let mut out = Vec::new();
            let complete = |before: &str| (0usize, vec![format!("{before}x"), "reset".to_string()]);
            for b in bytes {
                match d.feed(b) {
                    Some(Input::Interrupt) => e.interrupt(&mut out),
                    Some(Input::Data(x)) => {
                        if let Some(Action::Line(l)) = e.feed(x, &complete, &mut out) {
                            prop_assert!(l.len() <= 64 * 1024);
                        }
                    }
                    None => {}
                }
                prop_assert!(out.len() < 1 << 20, "output grows without bound");
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_telnet_decoder_and_line_editor() {
    fuzz_telnet(budget(500));
}

#[test]
#[ignore]
fn fuzz_telnet_decoder_and_line_editor_long() {
    fuzz_telnet(budget(1_000_000));
}

// ---- Rhai object model --------------------------------------------------------------------

fn rhai_value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        any::<i64>().prop_map(|v| if v < 0 {
            format!("({v})")
        } else {
            v.to_string()
        }),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(0x2000_0000),
            Just(0x0800_0000),
            Just(0xFFFF_FFFF),
            Just(i64::MAX)
        ]
        .prop_map(|v| v.to_string()),
        Just("i64::MIN".replace("i64::MIN", "-9223372036854775807 - 1")),
        re("[a-z ]{0,8}").prop_map(|s| format!("{s:?}")),
        Just("\"srst_only srst_nogate\"".to_string()),
        Just("()".to_string()),
        Just("true".to_string()),
        Just("1.5".to_string()),
        Just("'c'".to_string()),
        Just("[1, \"a\", [2]]".to_string()),
        Just("#{ chip: \"X\", coreid: -1 }".to_string()),
        Just("|| 1".to_string()),
        Just("|t| t.halt()".to_string()),
        Just("adapter".to_string()),
        Just("transport".to_string()),
        Just("t".to_string()),
        Just("blob(16)".to_string()),
    ]
}

const METHODS: &[&str] = &[
    "read_u8",
    "read_u16",
    "read_u32",
    "read_u64",
    "write_u8",
    "write_u16",
    "write_u32",
    "write_u64",
    "read_memory",
    "write_memory",
    "mmw",
    "halt",
    "resume",
    "step",
    "poll",
    "reset",
    "reset_halt",
    "wait_halt",
    "configure",
    "cget",
    "eventlist",
    "speed",
    "reset_config",
    "select",
    "srst_assert",
    "srst_deassert",
    "to_string",
];

const FREE: &[&str] = &[
    "target",
    "target_create",
    "flash_bank",
    "cmd",
    "mdw",
    "mww",
    "reset_config",
    "adapter",
    "find",
    "print",
    "fail",
    "register_command",
    "source",
    "sleep",
    "targets",
    "reg",
];

fn rhai_call() -> impl Strategy<Value = String> {
    let args = prop::collection::vec(rhai_value(), 0..4);
    prop_oneof![
        (
            0..METHODS.len(),
            prop_oneof![Just("t"), Just("adapter"), Just("transport"), Just("b")],
            args.clone()
        )
            .prop_map(|(m, o, a)| format!("{o}.{}({})", METHODS[m], a.join(", "))),
        (0..FREE.len(), args.clone()).prop_map(|(f, a)| format!("{}({})", FREE[f], a.join(", "))),
        (
            prop_oneof![
                Just("adapter.speed"),
                Just("adapter.driver"),
                Just("adapter.serial"),
                Just("t.work_area_size")
            ],
            rhai_value()
        )
            .prop_map(|(p, v)| format!("{p} = {v}")),
    ]
}

fn fuzz_rhai(cases: u32) {
    let (h, _join) = live_host();
    let count = AtomicU64::new(0);
    let handle = Arc::new(h);
    let strategy = prop::collection::vec(rhai_call(), 1..4);
    fuzz("Rhai object model", cases, strategy, |calls| {
        // Never a command that ends the host, sleeps or runs scripts from disk for long.
        let body: String = calls
            .iter()
            .filter(|c| !c.contains("shutdown") && !c.starts_with("sleep"))
            .map(|c| format!("try {{ {c}; }} catch (e) {{ }}\n"))
            .collect();
        let script = format!("let t = target(\"stm32f1x.cpu\"); let b = 0;\n{body}");
        let h2 = handle.clone();
        let r = exec_script(&h2, script.clone()).map_err(TestCaseError::fail)?;
        if let Err(msg) = r {
            for bad in [
                "panicked",
                "Stack backtrace",
                "stdbg::script",
                "ImmutableString",
            ] {
                prop_assert!(!msg.contains(bad), "{script}\ngave: {msg}");
            }
        }
        if count.fetch_add(1, Ordering::Relaxed) % 200 == 199 {
            let _ = exec_bounded(&handle, "sim fault clear; adapter speed 1000; reset halt");
        }
        Ok(())
    });
    let r = exec_bounded(&handle, "echo alive").unwrap();
    assert_eq!(r, Ok(()));
}

/// Runs script text on the host thread (with the host thread's stack, as every script runs).
fn exec_script(h: &HostHandle, text: String) -> Result<Result<(), String>, String> {
    h.call(move |host: &Host| {
        let mut out = Collect::default();
        let mut ctx = Ctx::new(host, Origin::Script, &mut out);
        host.script()
            .run_text(&mut ctx, "<fuzz>", &text)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .ok_or_else(|| "the host thread ended".to_string())
}

#[test]
fn fuzz_rhai_object_model() {
    fuzz_rhai(budget(300));
}

#[test]
#[ignore]
fn fuzz_rhai_object_model_long() {
    fuzz_rhai(budget(1_000_000));
}

// ---- Tcl config files ----------------------------------------------------------------------

/// One Tcl fragment: Tcl control words, dispatcher commands with random words, substitutions
/// and broken syntax.
fn tcl_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("set a 1".to_string()),
        Just("set b [expr {$a + 1}]".to_string()),
        Just("proc p {x} { return [expr {$x * 2}] }".to_string()),
        Just("p 3".to_string()),
        Just("if {$a} { set c 2 } else { set c 3 }".to_string()),
        Just("foreach t [target names] { $t cget -work-area-size }".to_string()),
        Just("catch { no_such 1 } m".to_string()),
        Just("try { error x } on error {m} { set d $m } finally { set e 1 }".to_string()),
        Just("while {$a < 5} { incr a }".to_string()),
        Just("for {set i 0} {$i < 3} {incr i} { puts $i }".to_string()),
        Just("source [find target/stm32f1x.cfg]".to_string()),
        Just("info script".to_string()),
        Just("info commands".to_string()),
        Just("eval set f 1".to_string()),
        Just("stm32f1x.cpu configure -event reset-end { mdw 0x20000000 }".to_string()),
        Just("return".to_string()),
        Just("break".to_string()),
        Just("}".to_string()),
        Just("{".to_string()),
        Just("[".to_string()),
        Just("\"".to_string()),
        Just("$".to_string()),
        Just("$undefined".to_string()),
        Just("set ::x 1".to_string()),
        Just("rename p q".to_string()),
        Just("proc if {} {}".to_string()),
        Just("proc mdw {args} { return $args }".to_string()),
        (word(), word()).prop_map(|(a, b)| format!("mdw {a} {b}")),
        (word(), word()).prop_map(|(a, b)| format!("set {a} {b}")),
        (word(), word()).prop_map(|(a, b)| format!("expr {{{a} + {b}}}")),
        re("[ -~]{0,20}"),
    ]
}

fn fuzz_tcl(cases: u32) {
    let (h, _join) = live_host();
    let handle = Arc::new(h);
    let strategy = prop::collection::vec(tcl_piece(), 1..8);
    let file = std::env::current_dir().unwrap().join("fuzz.tcl");
    fuzz("Tcl config files", cases, strategy, |pieces| {
        let text: String = pieces
            .iter()
            .filter(|p| !p.contains("shutdown") && !p.contains("sleep"))
            .map(|p| format!("{p}\n"))
            .collect();
        std::fs::write(&file, &text).unwrap();
        let line = format!("source {}", file.display());
        let r = exec_bounded(&handle, &line).map_err(TestCaseError::fail)?;
        if let Err(msg) = r {
            for bad in ["panicked", "Stack backtrace", "Interp::", "molt::"] {
                prop_assert!(!msg.contains(bad), "{text}\ngave: {msg}");
            }
        }
        Ok(())
    });
    let r = exec_bounded(&handle, "echo alive").unwrap();
    assert_eq!(r, Ok(()));
}

#[test]
fn fuzz_tcl_config_files() {
    fuzz_tcl(budget(2000));
}

#[test]
#[ignore]
fn fuzz_tcl_config_files_long() {
    fuzz_tcl(budget(1_000_000));
}

// ---- GDB packets ---------------------------------------------------------------------------

fn packet() -> impl Strategy<Value = Vec<u8>> {
    let hex = || re("[0-9a-fA-F]{0,12}");
    prop_oneof![
        3 => (prop_oneof![Just("m"), Just("M"), Just("X"), Just("Z0,"), Just("Z1,"), Just("Z2,"), Just("Z3,"), Just("Z4,"), Just("z0,"), Just("z2,"), Just("p"), Just("P"), Just("H"), Just("T"), Just("qXfer:features:read:target.xml:"), Just("qXfer:memory-map:read::"), Just("vFlashErase:"), Just("vFlashWrite:"), Just("qCRC:"), Just("qSupported"), Just("vAttach;"), Just("qC"), Just("?"), Just("g"), Just("G")], hex(), hex(), re("[0-9a-f:,;]{0,8}"))
            .prop_map(|(p, a, b, c)| format!("{p}{a},{b}:{c}").into_bytes()),
        1 => re("[ -~]{0,30}").prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
}

fn fuzz_gdb(cases: u32) {
    let (h, _join) = live_host();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_stop, rx) = tokio::sync::watch::channel(false);
    let h2 = h.clone();
    std::thread::spawn(move || stdbg::gdb::run(listener, h2, rx));
    let connect = || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        s
    };
    let sock = std::sync::Mutex::new(connect());
    let reconnects = AtomicU64::new(0);
    // What was sent on the current connection (the last cases), for the failure message: the
    // session's state depends on what came before the failing case.
    let history = std::sync::Mutex::new(std::collections::VecDeque::<Vec<u8>>::new());
    let first_failure = std::sync::atomic::AtomicBool::new(false);
    fuzz(
        "GDB packets",
        cases,
        (packet(), any::<bool>()),
        |(body, framed)| {
            let _slow = Slow(
                Instant::now(),
                format!("{:?}", String::from_utf8_lossy(&body)),
            );
            let mut s = sock.lock().unwrap();
            let bytes = if framed { frame(&body) } else { body.clone() };
            // Resume/kill/detach packets are not sent (they change the session, not the parser).
            if framed
                && matches!(
                    body.first(),
                    Some(b'c' | b's' | b'C' | b'S' | b'k' | b'D' | b'R' | b'v')
                )
                && !body.starts_with(b"vFlash")
                && !body.starts_with(b"vAttach")
            {
                return Ok(());
            }
            if s.write_all(&bytes).is_err() {
                *s = connect();
                reconnects.fetch_add(1, Ordering::Relaxed);
                history.lock().unwrap().clear();
                return Ok(());
            }
            {
                let mut h = history.lock().unwrap();
                if h.len() == 32 {
                    h.pop_front();
                }
                h.push_back(bytes.clone());
            }
            // The session must still answer a plain query.
            let _ = s.write_all(&frame(b"qC"));
            let mut got = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut buf = [0u8; 4096];
            let mut closed = false;
            while Instant::now() < deadline {
                match s.read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => {
                        got.extend_from_slice(&buf[..n]);
                        if got.windows(4).any(|w| w == b"QCp0" || w == b"$QC0") {
                            break;
                        }
                    }
                    Err(_) => {
                        // A NAK or nothing: ask again (the first frame may have been cut short by a
                        // stray '$' in the fuzz bytes, which makes the server drop it).
                        let _ = s.write_all(&frame(b"qC"));
                    }
                }
            }
            // A detach or kill the fuzz bytes spell by chance (`{/\`v$D<=S` framed: after the
            // stray `$`, `$D<=S#10` is a valid detach packet) ends the session as the RSP says;
            // the server must then take the next client.
            if closed && ends_session(&bytes) {
                *s = connect();
                reconnects.fetch_add(1, Ordering::Relaxed);
                history.lock().unwrap().clear();
                let _ = s.write_all(&frame(b"qC"));
                got.clear();
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline && !got.windows(3).any(|w| w == b"$QC") {
                    match s.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(_) => {
                            let _ = s.write_all(&frame(b"qC"));
                        }
                    }
                }
            }
            let answered = got.windows(3).any(|w| w == b"QCp" || w == b"$QC");
            if !answered && !first_failure.swap(true, Ordering::Relaxed) {
                // Before shrinking (which sends more cases on the same session).
                println!(
                    "first failure: {:?} after {:?}",
                    String::from_utf8_lossy(&bytes),
                    history
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .collect::<Vec<_>>()
                );
            }
            prop_assert!(
                answered,
                "the GDB session stopped answering after {:?}: got {:?}; sent on this connection before (oldest first): {:?}",
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&got),
                history.lock().unwrap().iter().collect::<Vec<_>>()
            );
            Ok(())
        },
    );
    println!(
        "fuzz GDB packets: {} reconnects",
        reconnects.load(Ordering::Relaxed)
    );
}

/// Prints a case that took long (with STDBG_FUZZ_SLOW set), when dropped.
struct Slow(Instant, String);

impl Drop for Slow {
    fn drop(&mut self) {
        if std::env::var_os("STDBG_FUZZ_SLOW").is_some()
            && self.0.elapsed() > Duration::from_millis(5)
        {
            println!("slow case {:?}: {}", self.0.elapsed(), self.1);
        }
    }
}

/// Whether `bytes` hold a complete packet with a valid checksum that ends a session (`D`
/// detach, `k` kill, `vKill`), as the server's framing layer reads them: a `$` restarts a packet.
fn ends_session(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(start) = bytes[i..].iter().position(|&b| b == b'$').map(|p| p + i) {
        let rest = &bytes[start + 1..];
        let next_dollar = rest.iter().position(|&b| b == b'$');
        let hash = rest.iter().position(|&b| b == b'#');
        if let Some(h) = hash.filter(|h| next_dollar.is_none_or(|d| d > *h))
            && rest.len() >= h + 3
        {
            let body = &rest[..h];
            let sum = std::str::from_utf8(&rest[h + 1..h + 3])
                .ok()
                .and_then(|t| u8::from_str_radix(t, 16).ok());
            if sum == Some(body.iter().fold(0u8, |a, b| a.wrapping_add(*b)))
                && (body.starts_with(b"D") || body.starts_with(b"k") || body.starts_with(b"vKill"))
            {
                return true;
            }
        }
        i = start + 1;
    }
    false
}

#[test]
fn ends_session_finds_a_detach_after_a_stray_dollar() {
    assert!(ends_session(&frame(b"{/\\`v$D<=S")));
    assert!(ends_session(b"$D#44"));
    assert!(!ends_session(b"$D#45"));
    assert!(!ends_session(&frame(b"qC")));
}

fn frame(body: &[u8]) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    let mut v = vec![b'$'];
    v.extend_from_slice(body);
    v.extend_from_slice(format!("#{sum:02x}").as_bytes());
    v
}

#[test]
fn fuzz_gdb_packets_through_the_server() {
    fuzz_gdb(budget(200));
}

#[test]
#[ignore]
fn fuzz_gdb_packets_through_the_server_long() {
    fuzz_gdb(budget(1_000_000));
}

// ---- image loading -------------------------------------------------------------------------

fn fuzz_images(cases: u32, full_every: u64) {
    use stdbg::flashing::{Allowed, check_image, image};
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/firmware");
    let elf = std::fs::read(root.join("f103-blinky.elf")).unwrap();
    let hex = b":020000040800F2\n:10000000AABBCCDDEEFF00112233445566778899F0\n:04001000AABBCCDDEE\n:00000001FF\n".to_vec();
    let bin = elf[..512].to_vec();
    let bases = [elf, hex, bin];
    let (h, _join) = live_host();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img");
    let layout = h
        .call(|host| stdbg::flashing::layout(host).map_err(|e| e.to_string()))
        .unwrap()
        .unwrap();
    let sim = h.host().live_sim().expect("the virtual chip");
    let n = AtomicU64::new(0);
    let mutation = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8);
    let strategy = (
        0..3usize,
        mutation,
        any::<prop::sample::Index>(),
        any::<bool>(),
        0..3u8,
    );
    fuzz(
        "image loading",
        cases,
        strategy,
        |(base, muts, cut, truncate, ty)| {
            let mut bytes = bases[base].clone();
            for (i, b) in muts {
                let at = i.index(bytes.len());
                bytes[at] = b;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            std::fs::write(&path, &bytes).unwrap();
            let format = [
                None,
                Some(image::ImageFormat::Elf),
                Some(image::ImageFormat::Ihex),
            ][ty as usize];
            let offset = (base == 2).then_some(0x0800_0000u64);
            let loaded = image::load_with_limit(&path, format, offset, 86 << 10, "test memory");
            if let Ok(img) = &loaded {
                let _ = check_image(img, &layout, Allowed::FlashOrRam);
            }
            // Every so often the whole `program` runs: refused means flash unchanged.
            if n.fetch_add(1, Ordering::Relaxed).is_multiple_of(full_every) {
                let before = sim.read_nonvolatile(0x0800_0000, 64 << 10);
                let line = format!(
                    "program {}{}",
                    path.display(),
                    if base == 2 { " 0x08000000" } else { "" }
                );
                let r = exec_bounded(&h, &line).map_err(TestCaseError::fail)?;
                if let Err(e) = &r {
                    let after = sim.read_nonvolatile(0x0800_0000, 64 << 10);
                    let refused_before_writing = !e.contains("erased but not rewritten");
                    if refused_before_writing {
                        prop_assert!(before == after, "a refused image changed the flash: {r:?}");
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_image_loading_refused_means_flash_unchanged() {
    fuzz_images(budget(300), 30);
}

#[test]
#[ignore]
fn fuzz_image_loading_refused_means_flash_unchanged_long() {
    fuzz_images(budget(1_000_000), 1000);
}

// ---- simulator instruction decoder ----------------------------------------------------------

/// Random instruction words, stepped on the virtual `chip`: the chip keeps answering and the
/// processor model never fails (the sim would catch a panic of it, lock the core up and count
/// it in `ExecStats::emulator_failures`).
fn fuzz_sim_cpu(cases: u32, chip: stdbg::sim::ChipModel) {
    use probe_rs::{MemoryInterface, Permissions, RegisterId};
    use stdbg::sim::{Sim, SimConfig};
    let sim = Sim::new(SimConfig {
        chip,
        storage: None,
    })
    .unwrap();
    let probe = probe_rs::probe::Probe::from_specific_probe(Box::new(sim.probe()));
    let session = std::sync::Mutex::new(probe.attach(chip.name(), Permissions::default()).unwrap());
    let words = prop::collection::vec(any::<u32>(), 1..8);
    let surface = format!("simulator instruction decoder ({})", chip.name());
    fuzz(&surface, cases, (words, 1..4usize), |(words, steps)| {
        let mut s = session.lock().unwrap();
        let mut core = s.core(0).unwrap();
        let _ = core.halt(Duration::from_millis(100));
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        core.write_8(0x2000_0100, &bytes)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Registers the instructions may use: valid RAM addresses; Thumb state in xPSR.
        for r in 0..13u16 {
            let _ = core.write_core_reg(RegisterId(r), 0x2000_0800u32 + 16 * r as u32);
        }
        let _ = core.write_core_reg(RegisterId(13), 0x2000_4000u32);
        let _ = core.write_core_reg(RegisterId(16), 0x0100_0000u32);
        core.write_core_reg(RegisterId(15), 0x2000_0100u32)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for _ in 0..steps {
            if core.step().is_err() {
                break;
            }
        }
        // Whatever the words did (fault, lockup, a loop), the chip still answers the debugger.
        let status = core.status();
        prop_assert!(
            status.is_ok(),
            "the chip stopped answering: {status:?} after {words:08x?}"
        );
        if !matches!(status, Ok(probe_rs::CoreStatus::Halted(_))) {
            let _ = core.reset_and_halt(Duration::from_millis(200));
        }
        Ok(())
    });
    let failures = sim.exec_stats().emulator_failures;
    println!("fuzz {surface}: {failures} failures of the processor model");
    assert_eq!(
        failures, 0,
        "the CPU emulator failed on random instruction words"
    );
}

#[test]
fn fuzz_simulator_instruction_decoder() {
    use stdbg::sim::ChipModel;
    for chip in [
        ChipModel::Stm32f103c8,
        ChipModel::Stm32f303vc,
        ChipModel::Stm32h743zi,
    ] {
        fuzz_sim_cpu(budget(700), chip);
    }
}

#[test]
#[ignore]
fn fuzz_simulator_instruction_decoder_long() {
    use stdbg::sim::ChipModel;
    for chip in [
        ChipModel::Stm32f103c8,
        ChipModel::Stm32f303vc,
        ChipModel::Stm32h743zi,
    ] {
        fuzz_sim_cpu(budget(350_000), chip);
    }
}
