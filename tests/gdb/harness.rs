//! Shared by the GDB tests and the GDB benchmark: start `stdbg` on the virtual Blue Pill with
//! the GDB and telnet ports on free ports, and drive the real `gdb-multiarch` against it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The GDB the tests drive. It must be installed: the tests fail loudly without it.
pub const GDB: &str = "gdb-multiarch";

/// Upper bound for one GDB run, so a broken server cannot hang the test suite (not a timing
/// assertion: runs take well under a second each).
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A committed firmware image.
pub fn firmware(name: &str) -> PathBuf {
    root().join("tests/firmware").join(name)
}

/// A GDB script of `tests/gdb/`.
pub fn script(name: &str) -> PathBuf {
    root().join("tests/gdb").join(name)
}

/// Panics with installation advice when gdb-multiarch is missing.
pub fn require_gdb() {
    let ok = Command::new(GDB)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        matches!(ok, Ok(s) if s.success()),
        "{GDB} is required by the GDB tests and was not found: install it (Debian/Ubuntu: apt-get install gdb-multiarch)"
    );
}

/// A running `stdbg` with the virtual Blue Pill.
pub struct Server {
    child: Child,
    /// The ELF GDB is given.
    elf: PathBuf,
    /// The temporary directory it runs in (holds the chip storage and the logs).
    pub dir: tempfile::TempDir,
    /// The GDB port it listens on.
    pub gdb_port: u16,
    /// The telnet port.
    pub telnet_port: u16,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts `stdbg -d3 -f board/sim-bluepill.rhai -c "sim storage <tmp>" -c "gdb_port 0"
    /// -c "telnet_port 0"` with stdin closed and waits for its "Listening on port N for gdb
    /// connections" line.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// [`Server::start`] with more `-c` command lines, run after the board script.
    pub fn start_with(commands: &[&str]) -> Server {
        Server::start_on("board/sim-bluepill.rhai", "f103-blinky.elf", commands)
    }

    /// [`Server::start_with`] on another board script; GDB gets firmware `elf`.
    pub fn start_on(board: &str, elf: &str, commands: &[&str]) -> Server {
        require_gdb();
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = dir.path().join("chip.bin");
        let stderr_path = dir.path().join("stderr.txt");
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_stdbg"))
            .args(["-d3", "-f", board, "-c"])
            .arg(format!("sim storage {}", storage.display()))
            .args(["-c", "gdb_port 0", "-c", "telnet_port 0"])
            .args(commands.iter().flat_map(|c| ["-c", c]))
            .current_dir(dir.path())
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("starting stdbg");
        let mut s = Server {
            child,
            elf: firmware(elf),
            dir,
            gdb_port: 0,
            telnet_port: 0,
            stderr_path,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = s.log();
            if let (Some(g), Some(t)) = (port_in(&log, "gdb"), port_in(&log, "telnet")) {
                s.gdb_port = g;
                s.telnet_port = t;
                return s;
            }
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!("stdbg exited ({status}) before opening the GDB port:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "stdbg did not open its GDB port:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything stdbg logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Runs `gdb-multiarch -batch -nx` on the server's ELF (blinky unless [`Server::start_on`]
    /// said otherwise): connects with `target extended-remote`,
    /// then runs each `-ex` command and the script files in order.
    pub fn gdb(&self, steps: &[Step]) -> GdbRun {
        let out = self
            .gdb_command(steps)
            .output()
            .expect("running gdb-multiarch");
        GdbRun::from(out)
    }

    /// The GDB command line of [`Server::gdb`], not started.
    pub fn gdb_command(&self, steps: &[Step]) -> Command {
        let mut c = Command::new(GDB);
        c.args([
            "-batch",
            "-nx",
            "-ex",
            "set pagination off",
            "-ex",
            "set confirm off",
            "-ex",
        ])
        .arg(format!(
            "target extended-remote 127.0.0.1:{}",
            self.gdb_port
        ));
        for s in steps {
            match s {
                Step::Ex(cmd) => c.arg("-ex").arg(cmd),
                Step::Script(name) => c.arg("-x").arg(script(name)),
            };
        }
        c.arg(&self.elf)
            .stdin(Stdio::null())
            .current_dir(self.dir.path());
        c
    }

    /// Waits until the log contains `text` (at most [`RUN_LIMIT`]).
    pub fn wait_log(&self, text: &str) {
        let deadline = Instant::now() + RUN_LIMIT;
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "stdbg never logged {text:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in stdbg's "Listening on port N for <what> connections" line.
pub fn port_in(log: &str, what: &str) -> Option<u16> {
    let tail = format!(" for {what} connections");
    log.lines().find_map(|l| {
        l.split("Listening on port ")
            .nth(1)?
            .strip_suffix(tail.as_str())?
            .trim()
            .parse()
            .ok()
    })
}

/// One step of a GDB batch run.
pub enum Step {
    /// A command (`-ex`).
    Ex(String),
    /// A script of `tests/gdb/` (`-x`).
    Script(&'static str),
}

/// A `-ex` step.
pub fn ex(cmd: &str) -> Step {
    Step::Ex(cmd.to_string())
}

/// The outcome of a GDB run.
pub struct GdbRun {
    /// Exit status.
    pub code: i32,
    /// stdout and stderr, in that order.
    pub text: String,
}

impl From<Output> for GdbRun {
    fn from(out: Output) -> Self {
        GdbRun {
            code: out.status.code().unwrap_or(-1),
            text: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

impl GdbRun {
    /// Panics, showing the transcript, unless `text` occurs.
    pub fn expect(&self, text: &str) -> &Self {
        assert!(
            self.text.contains(text),
            "GDB output lacks {text:?}:\n{}",
            self.text
        );
        self
    }

    /// Panics, showing the transcript, if `text` occurs.
    pub fn reject(&self, text: &str) -> &Self {
        assert!(
            !self.text.contains(text),
            "GDB output contains {text:?}:\n{}",
            self.text
        );
        self
    }

    /// The first line starting with `prefix`.
    pub fn line(&self, prefix: &str) -> &str {
        self.text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?}:\n{}", self.text))
    }
}

/// Sends SIGINT to a process (what Ctrl-C in GDB's terminal does).
pub fn sigint(pid: u32) {
    let ok = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(ok.success(), "kill -INT {pid} failed");
}

/// Waits for a child, killing it after [`RUN_LIMIT`]; returns its output.
pub fn wait_output(mut child: Child) -> GdbRun {
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    GdbRun::from(child.wait_with_output().expect("collecting gdb output"))
}

/// A GDB/MI session (`--interpreter=mi2`) driven record by record.
pub struct Mi {
    child: Child,
    stdin: std::process::ChildStdin,
    lines: mpsc::Receiver<String>,
    /// Every line GDB printed so far.
    pub transcript: Vec<String>,
}

impl Mi {
    /// Starts `gdb-multiarch --interpreter=mi2 -nx` (no file loaded yet).
    pub fn start(dir: &Path) -> Mi {
        require_gdb();
        let mut child = Command::new(GDB)
            .args(["--interpreter=mi2", "-nx", "-q"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting gdb-multiarch");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
        });
        Mi {
            child,
            stdin,
            lines: rx,
            transcript: Vec::new(),
        }
    }

    fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(RUN_LIMIT) {
            Ok(l) => {
                self.transcript.push(l.clone());
                l
            }
            Err(_) => panic!(
                "GDB/MI stopped answering; transcript:\n{}",
                self.transcript.join("\n")
            ),
        }
    }

    /// Sends `cmd` and reads until its result record (`^done`, `^running`, `^connected`,
    /// `^error`, `^exit`); returns the lines read.
    pub fn cmd(&mut self, cmd: &str) -> Vec<String> {
        self.transcript.push(format!(">>> {cmd}"));
        writeln!(self.stdin, "{cmd}").expect("writing to gdb");
        self.stdin.flush().unwrap();
        let mut got = Vec::new();
        loop {
            let l = self.next_line();
            let done = l.starts_with('^');
            got.push(l);
            if done {
                return got;
            }
        }
    }

    /// Reads until a `*stopped` record and returns it.
    pub fn wait_stopped(&mut self) -> String {
        loop {
            let l = self.next_line();
            if l.starts_with("*stopped") {
                return l;
            }
        }
    }

    /// The whole transcript as text.
    pub fn text(&self) -> String {
        self.transcript.join("\n")
    }
}

impl Drop for Mi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
