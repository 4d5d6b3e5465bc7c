//! RTT and defmt on the virtual Blue Pill through the `stdbg` binary: `f103-rtt.elf` (up 0
//! "Terminal": `tick N` every 100 ms; up 1 "Echo": `echo: <line>` for each line received on
//! down 0) and `f103-defmt.elf` (defmt frames on up 0). The console lines, OpenOCD's `rtt
//! channels` / `rtt channellist` output, the raw bytes of the TCP servers both ways, `rtt write`,
//! `rtt stop`, the decoded defmt lines and the error messages.

mod common;
mod telnet_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{QUIET, assert_has, firmware, stdbg, tempdir};
use telnet_support::{Client, Running};

/// Deadlock guard for reads from a running stdbg (not a timing assertion).
const STALL: Duration = Duration::from_secs(30);

fn fw(name: &str) -> String {
    firmware(name).display().to_string()
}

/// `stdbg -f board/sim-bluepill.rhai -c "sim storage none" -c QUIET -c <cmd>…` in a temp dir.
fn run(cmds: &[&str]) -> common::Run {
    let dir = tempdir();
    let mut args = vec![
        "-f",
        "board/sim-bluepill.rhai",
        "-c",
        "sim storage none",
        "-c",
        QUIET,
    ];
    for c in cmds {
        args.extend(["-c", c]);
    }
    stdbg(dir.path(), &args)
}

/// The `[rtt0] tick N` lines of `out`, as numbers.
fn ticks(out: &str) -> Vec<u32> {
    out.lines()
        .filter_map(|l| l.strip_prefix("[rtt0] tick "))
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("bad tick line in:\n{out}"))
        })
        .collect()
}

/// A running stdbg whose stdout and stderr lines arrive on channels.
struct Live {
    child: Child,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Live {
    fn spawn(cmds: &[&str]) -> Live {
        let dir = tempdir();
        let mut c = Command::new(env!("CARGO_BIN_EXE_stdbg"));
        c.args([
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            QUIET,
        ]);
        for x in cmds {
            c.args(["-c", x]);
        }
        let mut child = c
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning stdbg");
        let pipe = |r: Box<dyn Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for l in BufReader::new(r).lines().map_while(Result::ok) {
                    let _ = tx.send(l);
                }
            });
            rx
        };
        let out = pipe(Box::new(child.stdout.take().unwrap()));
        let err = pipe(Box::new(child.stderr.take().unwrap()));
        Live {
            child,
            out,
            err,
            _dir: dir,
        }
    }

    /// Waits for a line of `rx` for which `f` returns `Some`; returns it and the lines before.
    fn wait<T>(
        rx: &mpsc::Receiver<String>,
        seen: &mut Vec<String>,
        f: impl Fn(&str) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + STALL;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) => {
                    let r = f(&l);
                    seen.push(l);
                    if let Some(v) = r {
                        return v;
                    }
                }
                Err(_) => panic!("stalled; lines so far:\n{}", seen.join("\n")),
            }
        }
    }

    /// Ends the process (its chip is not saved: `sim storage none`) and returns what it printed.
    fn kill(mut self, mut out: Vec<String>, err: Vec<String>) -> common::Run {
        let _ = self.child.kill();
        let _ = self.child.wait();
        out.extend(self.out.try_iter());
        common::Run {
            code: -1,
            stdout: out.join("\n") + "\n",
            stderr: err.join("\n") + "\n",
        }
    }

    /// Collects the rest of stdout after the process ended.
    fn finish(mut self, mut out: Vec<String>) -> (i32, String) {
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        out.extend(self.out.try_iter());
        (code, out.join("\n"))
    }
}

/// Reads from `s` until `needle` arrived; returns everything received.
fn read_until(s: &mut TcpStream, got: &mut Vec<u8>, needle: &[u8]) {
    let deadline = Instant::now() + STALL;
    let mut buf = [0u8; 512];
    while !got.windows(needle.len()).any(|w| w == needle) {
        assert!(
            Instant::now() < deadline,
            "never got {:?}: {:?}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(got)
        );
        if let Ok(n) = s.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + STALL;
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                return s;
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot connect to the RTT server on {port}: {e}"),
        }
    }
}

/// The issue's example: `rtt setup` + `rtt start` + `rtt server start 9090 0`. The console gets
/// every `[rtt0] tick N` line from tick 1 on; a TCP client of port 9090 gets the raw bytes of
/// channel 0 and what it sends goes to down channel 0, which the firmware echoes on up 1.
#[test]
fn the_issue_example_prints_tick_lines_and_serves_channel_0_on_9090() {
    let prog = format!("program {} verify reset", fw("f103-rtt.elf"));
    let live = Live::spawn(&[
        &prog,
        "rtt setup 0x20000000 0x5000 \"SEGGER RTT\"; rtt start; rtt server start 9090 0",
        "sleep 3000",
        "shutdown",
    ]);
    let mut err = Vec::new();
    Live::wait(&live.err, &mut err, |l| {
        l.contains("Listening on port 9090 for rtt connections")
            .then_some(())
    });
    let mut s = connect(9090);
    let mut got = Vec::new();
    read_until(&mut s, &mut got, b"\n");
    // From a line start on, the raw stream is "tick N\n" lines with consecutive N.
    let start = got.iter().position(|&b| b == b'\n').unwrap() + 1;
    read_until(&mut s, &mut got, b"\n");
    while got[start..].iter().filter(|&&b| b == b'\n').count() < 2 {
        read_until(&mut s, &mut got, b"\n");
    }
    let text = String::from_utf8_lossy(&got[start..]).into_owned();
    let nums: Vec<u32> = text
        .split_terminator('\n')
        .map(|l| {
            l.strip_prefix("tick ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{text:?}"))
        })
        .collect();
    assert_eq!(nums[1], nums[0] + 1, "{text:?}");
    s.write_all(b"via tcp\n").unwrap();
    let mut out = Vec::new();
    Live::wait(&live.out, &mut out, |l| {
        (l == "[rtt1] echo: via tcp").then_some(())
    });
    let (code, stdout) = live.finish(out);
    assert_eq!(code, 0, "{stdout}");
    let t = ticks(&stdout);
    assert!(t.len() >= 5, "{stdout}");
    assert_eq!(t, (1..=t.len() as u32).collect::<Vec<_>>(), "{stdout}");
    assert_has(&stdout, "[rtt0] tick 1\n[rtt0] tick 2\n[rtt0] tick 3\n");
    let stderr: String = err.join("\n");
    assert_has(
        &stderr,
        "Info : rtt: Searching for control block 'SEGGER RTT'",
    );
    assert_has(
        &stderr,
        &format!(
            "Info : rtt: Control block found at {:#010x}",
            common::chips::sym("f103-rtt.elf", "_SEGGER_RTT")
        ),
    );
}

/// Without `rtt setup`, `rtt start` uses the `_SEGGER_RTT` symbol of the ELF programmed (and
/// says so); `rtt channels` and `rtt channellist` print OpenOCD's text; `rtt write` reaches down
/// channel 0 (echoed on up 1); after `rtt stop` no more lines come.
#[test]
fn rtt_start_finds_the_symbol_lists_channels_writes_and_stops() {
    let prog = format!("program {} verify reset", fw("f103-rtt.elf"));
    let r = run(&[
        &prog,
        "rtt start; rtt channels; rtt channellist; rtt polling_interval; rtt polling_interval 20; rtt polling_interval",
        "sleep 500",
        "rtt write 0 hello",
        "sleep 600",
        "rtt stop; eval {\"stopped\"}",
        "sleep 400",
        "rtt start; eval {\"restarted\"}",
        "sleep 300",
        // A new program: RTT stops and forgets the block (it may have moved).
        &prog,
        "eval {\"reprogrammed\"}",
        "sleep 300",
        "shutdown",
    ]);
    r.expect_code(0);
    let addr = common::chips::sym("f103-rtt.elf", "_SEGGER_RTT");
    assert_has(
        &r.stderr,
        &format!(
            "Info : rtt: no 'rtt setup': using the _SEGGER_RTT symbol of {} at {addr:#010x}\nInfo : rtt: Control block found at {addr:#010x}\n",
            fw("f103-rtt.elf")
        ),
    );
    assert_has(
        &r.stdout,
        "Channels: up=2, down=1\nUp-channels:\n0: Terminal 1024 0\n1: Echo 256 0\nDown-channels:\n0: Terminal 64 0\n\
         {{name Terminal size 1024 flags 0} {name Echo size 256 flags 0}} {{name Terminal size 64 flags 0}}\n100 ms\n20 ms\n",
    );
    assert_has(&r.stdout, "[rtt1] echo: hello\n");
    let (before, after) = r
        .stdout
        .split_once("stopped\n")
        .expect("the echo after rtt stop");
    let (stopped, after) = after
        .split_once("restarted\n")
        .expect("the echo after rtt start");
    assert!(
        !stopped.contains("[rtt"),
        "lines after rtt stop:\n{stopped}"
    );
    // Restarted: the ticks go on where the ring buffer stands (the firmware kept writing).
    assert!(after.contains("[rtt0] tick "), "{}", r.stdout);
    let (_, after) = after
        .split_once("reprogrammed\n")
        .expect("the echo after program");
    assert!(!after.contains("[rtt"), "lines after program:\n{after}");
    assert_has(
        &r.stderr,
        "Info : rtt: stopped: a new program was loaded and its control block may be elsewhere; 'rtt start' finds it again",
    );
    let t = ticks(before);
    assert!(t.len() >= 3, "{}", r.stdout);
    assert_eq!(t, (1..=t.len() as u32).collect::<Vec<_>>(), "{}", r.stdout);
}

/// A server on port 0 logs the port it bound; its client first gets the message given to `rtt
/// server start`, then the raw bytes of up channel 1 (the echo of what `rtt write` sent).
#[test]
fn a_server_on_port_0_logs_its_port_and_sends_the_message_then_raw_bytes() {
    let prog = format!("program {} verify reset", fw("f103-rtt.elf"));
    let live = Live::spawn(&[
        &prog,
        "rtt start; rtt server start 0 1 \"RTT channel 1\"",
        "sleep 1000",
        "rtt write 0 one; rtt write -nonewline 0 tw; rtt write -nonewline 0 \"o\\n\"",
        "sleep 2000",
        "shutdown",
    ]);
    let mut err = Vec::new();
    let port: u16 = Live::wait(&live.err, &mut err, |l| {
        l.strip_prefix("Info : Listening on port ")?
            .strip_suffix(" for rtt connections")?
            .parse()
            .ok()
    });
    assert_ne!(port, 0);
    let mut s = connect(port);
    let mut got = Vec::new();
    read_until(&mut s, &mut got, b"echo: two\n");
    assert_eq!(got, b"RTT channel 1\necho: one\necho: two\n");
    let (code, stdout) = live.finish(Vec::new());
    assert_eq!(code, 0, "{stdout}");
    assert_has(&stdout, "[rtt1] echo: one\n[rtt1] echo: two\n");
}

/// f103-defmt.elf: channel 0 decoded with the ELF's `.defmt` table into
/// `[rtt0] <seconds> <LEVEL> <message>` lines; `rtt defmt off` prints the frames as text.
#[test]
fn defmt_frames_are_decoded_into_log_lines() {
    let prog = format!("program {} verify reset", fw("f103-defmt.elf"));
    // Until the 1.000 s lines arrived (virtual time; the sleep is only an upper bound).
    let live = Live::spawn(&[&prog, "rtt start", "sleep 30000", "shutdown"]);
    let mut out = Vec::new();
    Live::wait(&live.out, &mut out, |l| {
        (l == "[rtt0] 1.000 DEBUG temperature -30 dC").then_some(())
    });
    let mut err = Vec::new();
    Live::wait(&live.err, &mut err, |l| {
        l.contains("(4 log statements, no source locations)")
            .then_some(())
    });
    let r = live.kill(out, err);
    assert_has(
        &r.stdout,
        "[rtt0] 0.000 INFO  boot, SystemCoreClock 8000000 Hz\n\
         [rtt0] 0.100 INFO  tick 1\n\
         [rtt0] 0.200 INFO  tick 2\n\
         [rtt0] 0.300 INFO  tick 3\n\
         [rtt0] 0.400 INFO  tick 4\n\
         [rtt0] 0.500 INFO  tick 5\n\
         [rtt0] 0.500 WARN  tick 5 is a multiple of 5\n\
         [rtt0] 0.600 INFO  tick 6\n",
    );
    assert_has(
        &r.stdout,
        "[rtt0] 1.000 WARN  tick 10 is a multiple of 5\n[rtt0] 1.000 DEBUG temperature -30 dC\n",
    );
    assert_has(
        &r.stderr,
        "Info : rtt: channel 0 is decoded as defmt with the .defmt table of",
    );
    assert_has(&r.stderr, "(4 log statements, no source locations)");

    // As text, the frames (no 0x0A in them) make one line of MAX_LINE (256) bytes once enough
    // arrived, their bytes escaped.
    let live = Live::spawn(&[&prog, "rtt defmt off; rtt start", "sleep 30000", "shutdown"]);
    let mut out = Vec::new();
    Live::wait(&live.out, &mut out, |l| {
        (l.starts_with("[rtt0] ") && l.contains("\\x")).then_some(())
    });
    let off = live.kill(out, Vec::new());
    assert_has(&off.stdout, "defmt off: channel 0 is text\n");
    assert!(!off.stdout.contains("INFO  tick"), "{}", off.stdout);
}

/// What happened, why, and what to do, without a panic: no configuration at all, an ELF without
/// `_SEGGER_RTT`, no control block in the range, an ID probe-rs cannot find, commands needing
/// the control block, a missing down channel, `rtt defmt on` without a table.
#[test]
fn rtt_errors_say_what_happened_why_and_what_to_do() {
    let none = run(&["init", "rtt start"]);
    none.expect_code(1);
    assert_has(
        &none.stderr,
        "Error: RTT is not configured: no 'rtt setup' was given and no ELF with a _SEGGER_RTT symbol was programmed or loaded in this session. Give the search range, e.g. 'rtt setup 0x20000000 0x5000 \"SEGGER RTT\"' (the chip's RAM), or 'program <firmware.elf>' first",
    );

    let blinky = format!("program {} verify reset", fw("f103-blinky.elf"));
    let nosym = run(&[&blinky, "rtt start"]);
    nosym.expect_code(1);
    assert_has(
        &nosym.stderr,
        &format!(
            "Error: RTT is not configured: no 'rtt setup' was given and {}, the ELF last programmed or loaded, has no _SEGGER_RTT symbol",
            fw("f103-blinky.elf")
        ),
    );

    let empty = run(&[
        "init",
        "rtt setup 0x20000000 0x5000 \"SEGGER RTT\"; rtt start",
        "rtt channels",
    ]);
    empty.expect_code(1);
    assert_has(
        &empty.stderr,
        "Info : rtt: No control block found\nWarn : rtt: no valid \"SEGGER RTT\" control block in 0x20000000..0x20005000\nWarn : rtt: cause: the firmware has not initialised RTT yet",
    );
    assert_has(
        &empty.stderr,
        "Warn : rtt: fix: let it run ('reset run' or 'resume'), then 'rtt start' again",
    );
    assert_has(
        &empty.stderr,
        "Error: rtt: Control block not available: run 'rtt start' first",
    );

    let huge = run(&["rtt setup 0 0xffffffff \"SEGGER RTT\""]);
    huge.expect_code(1);
    assert_has(
        &huge.stderr,
        "rtt setup: a search range of 4294967295 bytes is refused: give the RAM that holds the control block, 1 byte to 16 MiB",
    );

    let id = run(&["rtt setup 0x20000000 0x5000 \"MY RTT\""]);
    id.expect_code(1);
    assert_has(
        &id.stderr,
        "rtt: control block ID \"MY RTT\" is not supported",
    );

    // A stopped server is gone: stopping it again names the servers left.
    let stop = run(&[
        "rtt server start 9091 0; rtt server start 0 1; rtt server stop 9091; rtt server stop 9091",
    ]);
    stop.expect_code(1);
    let left = stop
        .stderr
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Info : Listening on port ")?
                .strip_suffix(" for rtt connections")
        })
        .find(|p| *p != "9091")
        .expect("the port-0 server's log line");
    assert_has(
        &stop.stderr,
        &format!("Error: rtt: no RTT server on port 9091; running: port {left} (channel 1)"),
    );

    let prog = format!("program {} verify reset", fw("f103-rtt.elf"));
    let chan = run(&[&prog, "rtt start", "rtt write 3 x"]);
    chan.expect_code(1);
    assert_has(
        &chan.stderr,
        "Error: rtt: Down-channel 3 is not available: the control block has up channels 0, 1, down channels 0",
    );

    let defmt = run(&[&prog, "rtt defmt on"]);
    defmt.expect_code(1);
    assert_has(
        &defmt.stderr,
        &format!(
            "Error: rtt: no defmt table: {} has no .defmt section",
            fw("f103-rtt.elf")
        ),
    );
    assert!(!format!("{}{}", defmt.stderr, chan.stderr).contains("panicked"));
}

/// Every console gets the lines: `rtt start` on one telnet console, the `[rtt0] tick N` lines
/// reach the other one too, and `rtt write` from the second console comes back to both as
/// `[rtt1] echo: …`.
#[test]
fn rtt_lines_reach_every_telnet_console() {
    let dir = tempdir();
    let prog = format!("program {} verify reset", fw("f103-rtt.elf"));
    let cmd = telnet_support::stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            "gdb_port disabled",
            "-c",
            "telnet_port 0",
            "-c",
            &prog,
        ],
    );
    let run = Running::spawn(cmd);
    let mut a = Client::connect(run.addr());
    let mut b = Client::connect(run.addr());
    // Not `command()`: asynchronous lines may arrive between a line and its echo.
    a.send("rtt start\r\n");
    a.expect("[rtt0] tick ");
    b.expect("[rtt0] tick ");
    b.send("rtt write 0 \"from telnet\"\r\n");
    b.expect("[rtt1] echo: from telnet\r\n");
    a.expect("[rtt1] echo: from telnet\r\n");
    a.send("shutdown\r\n");
    a.read_to_eof();
    let (code, _, stderr) = run.wait();
    assert_eq!(code, Some(0), "{stderr}");
}

/// `rtt write` of more than the down buffer holds (63 bytes) while the core is halted: the rest
/// is queued and written by the polls once the firmware reads again, in order (the firmware
/// keeps the first 60 characters of a line).
#[test]
fn rtt_write_queues_what_does_not_fit_in_the_down_buffer() {
    let prog = format!("program {} verify reset", fw("f103-rtt.elf"));
    let long = "0123456789".repeat(10);
    let write = format!("rtt write 0 {long}; rtt write 0 second");
    let r = run(&[
        &prog,
        "rtt start",
        "halt",
        &write,
        "resume",
        "sleep 800",
        "shutdown",
    ]);
    r.expect_code(0);
    assert_has(
        &r.stdout,
        &format!("[rtt1] echo: {}\n[rtt1] echo: second\n", &long[..60]),
    );
}

/// A reset while RTT runs: the firmware zeroes its control block and starts over; the poll sees
/// the read offset move back, says so, reads the block again at the same address and the ticks
/// start again from 1 (no "polling failed" warning).
#[test]
fn a_reset_restarts_the_channels_from_their_start() {
    let prog = format!("program {} verify reset", fw("f103-rtt.elf"));
    let r = run(&[
        &prog,
        "rtt start",
        "sleep 500",
        "reset; eval {\"reset-done\"}",
        "sleep 500",
        "shutdown",
    ]);
    r.expect_code(0);
    let (before, after) = r.stdout.split_once("reset-done\n").expect("the echo");
    assert!(ticks(before).len() >= 2, "{}", r.stdout);
    let t = ticks(after);
    // Ticks of before the reset still in flight may come first.
    let from = t
        .iter()
        .position(|&n| n == 1)
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(t.len() - from >= 2, "{}", r.stdout);
    assert_eq!(
        t[from..],
        (1..=(t.len() - from) as u32).collect::<Vec<_>>(),
        "{}",
        r.stdout
    );
    assert_has(
        &r.stderr,
        &format!(
            "Info : rtt: the firmware re-initialised its control block at {:#010x} (a reset?)",
            common::chips::sym("f103-rtt.elf", "_SEGGER_RTT")
        ),
    );
    assert!(!r.stderr.contains("polling failed"), "{}", r.stderr);
}
