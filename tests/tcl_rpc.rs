//! The Tcl RPC port (`tcl_port`) against the built binary: OpenOCD 0.12's framing (0x1a after a
//! command and after its result), `capture`, `tcl_notifications`, bounded input, clients that
//! go away.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = common::tempdir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_stdbg"))
            .args(["-f", "board/sim-bluepill.rhai", "-c", "sim storage none"])
            .args([
                "-c",
                "tcl_port 0",
                "-c",
                "gdb_port disabled",
                "-c",
                "telnet_port disabled",
            ])
            .args(extra.iter().flat_map(|c| ["-c", c]))
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting stdbg");
        let port = common::listening_port(&mut child, "tcl");
        Server {
            child,
            port,
            _dir: dir,
        }
    }

    fn connect(&self) -> Client {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Client { s, buf: Vec::new() }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    /// The next 0x1a-terminated frame, without the 0x1a.
    fn frame(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == 0x1a) {
                let f: Vec<u8> = self.buf.drain(..=i).collect();
                return String::from_utf8_lossy(&f[..f.len() - 1]).into_owned();
            }
            let mut b = [0u8; 4096];
            let n = self.s.read(&mut b).expect("a reply within 20 s");
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&b[..n]);
        }
    }

    fn rpc(&mut self, cmd: &str) -> String {
        self.s.write_all(cmd.as_bytes()).unwrap();
        self.s.write_all(b"\x1a").unwrap();
        self.frame()
    }
}

#[test]
fn tcl_port_answers_commands_with_their_result() {
    let srv = Server::start(&[]);
    let mut c = srv.connect();
    assert_eq!(
        c.rpc("version"),
        "stdbg 0.1.0 (virtual STM32 + probe-rs 0.32)"
    );
    assert_eq!(
        c.rpc("capture \"mdw 0x1ffff7e0 1\""),
        "0x1ffff7e0: ffff0040 "
    );
    assert_eq!(c.rpc("mdw 0x1ffff7e0 1"), "0x1ffff7e0: ffff0040 ");
    assert_eq!(
        c.rpc("nosuch 1"),
        "invalid command name \"nosuch\"; 'help' lists all commands"
    );
    // Two commands in one write, and one split across writes.
    c.s.write_all(b"echo one\x1aecho two\x1aecho th").unwrap();
    assert_eq!(c.frame(), "one");
    assert_eq!(c.frame(), "two");
    std::thread::sleep(Duration::from_millis(50));
    c.s.write_all(b"ree\x1a").unwrap();
    assert_eq!(c.frame(), "three");
    // Tcl: a proc defined over the port is a command afterwards.
    assert_eq!(c.rpc("proc twice {x} { return [expr {$x * 2}] }"), "");
    assert_eq!(c.rpc("twice 21"), "42");
}

#[test]
fn tcl_notifications_push_target_events_and_states() {
    let srv = Server::start(&[]);
    let mut c = srv.connect();
    assert_eq!(
        c.rpc("tcl_notifications"),
        "Target Notification output  is disabled"
    );
    assert_eq!(
        c.rpc("tcl_notifications on"),
        "Target Notification output  is enabled"
    );
    c.s.write_all(b"halt\x1a").unwrap();
    assert_eq!(c.frame(), "type target_event event halted\r\n");
    assert_eq!(c.frame(), "type target_state state halted\r\n");
    let halt = c.frame();
    assert!(
        halt.starts_with("[stm32f1x.cpu] halted due to debug-request"),
        "{halt}"
    );
    c.s.write_all(b"resume\x1a").unwrap();
    let mut frames = Vec::new();
    while frames.len() < 5 {
        frames.push(c.frame());
    }
    assert!(
        frames.contains(&"type target_event event resume-start\r\n".to_string()),
        "{frames:?}"
    );
    assert!(
        frames.contains(&"type target_event event resumed\r\n".to_string()),
        "{frames:?}"
    );
    assert!(
        frames.contains(&"type target_state state running\r\n".to_string()),
        "{frames:?}"
    );
    assert!(
        frames.contains(&String::new()),
        "the resume's own (empty) result: {frames:?}"
    );
    // A second connection without notifications gets only its results.
    let mut d = srv.connect();
    assert_eq!(
        d.rpc("halt").lines().next().unwrap(),
        "[stm32f1x.cpu] halted due to debug-request, current mode: Handler HardFault "
    );
    assert_eq!(c.frame(), "type target_event event halted\r\n");
}

#[test]
fn tcl_notifications_refused_outside_the_tcl_port() {
    let d = common::tempdir();
    let r = common::stdbg(d.path(), &["-c", "tcl_notifications on"]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("tcl_notifications: can only be called from the tcl server"),
        "{}",
        r.stderr
    );
}

#[test]
fn tcl_port_bounds_a_line_without_terminator_and_survives_a_client_leaving() {
    let srv = Server::start(&[]);
    let mut c = srv.connect();
    // 5 MiB without 0x1a, then the terminator: dropped with OpenOCD's message, memory bounded.
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..5 {
        c.s.write_all(&chunk).unwrap();
    }
    c.s.write_all(b"\x1a").unwrap();
    assert_eq!(c.frame(), "line too long\n");
    assert_eq!(c.rpc("echo still"), "still");
    // A client that leaves in the middle of a long command does not disturb the next one.
    let mut gone = srv.connect();
    gone.s.write_all(b"sleep 300\x1a").unwrap();
    drop(gone);
    let mut next = srv.connect();
    assert_eq!(next.rpc("echo next"), "next");
}

/// cortex-debug polls `capture "rtt start"` on the Tcl port until the reply says
/// `Control block found at`; the log line of the command is in the captured result.
#[test]
fn capture_returns_the_log_lines_of_rtt_start() {
    let elf = common::firmware("f103-rtt.elf");
    let prog = format!("program {} verify reset", elf.display());
    let srv = Server::start(&[&prog]);
    let mut c = srv.connect();
    std::thread::sleep(Duration::from_millis(300));
    let r = c.rpc("capture \"rtt start\"");
    assert!(
        r.lines()
            .any(|l| l.starts_with("Info : rtt: Control block found at 0x2000")),
        "{r}"
    );
}

/// `capture` on `-c` prints the captured output once: as the line's result, not also as the
/// inner command's own output.
#[test]
fn capture_on_the_command_line_prints_the_output_once() {
    let dir = common::tempdir();
    let r = common::stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "gdb_port disabled; telnet_port disabled; tcl_port disabled",
            "-c",
            r#"init; capture "mdw 0x1ffff7e0 1"; shutdown"#,
        ],
    );
    r.expect_code(0);
    let n = r
        .stdout
        .lines()
        .chain(r.stderr.lines())
        .filter(|l| *l == "0x1ffff7e0: ffff0040 ")
        .count();
    assert_eq!(n, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}
