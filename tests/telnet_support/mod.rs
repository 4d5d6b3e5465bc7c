//! Helpers shared by the telnet tests: a blocking telnet client, an in-process server, and the
//! built binary with its telnet port read from the log.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use stdbg::host::worker::{self, HostHandle};
use stdbg::host::{Host, HostConfig};
use stdbg::server::telnet::negotiation::GREETING;
use stdbg::server::{shutdown_signal, telnet};

/// Guard against a hung test: a read that sees nothing for this long fails the test with what
/// was received so far (a deadlock guard, not a timing assertion).
pub const STALL: Duration = Duration::from_secs(30);

/// A blocking telnet client that keeps everything it received.
pub struct Client {
    pub stream: TcpStream,
    /// Bytes received and not yet consumed by `expect`.
    pub pending: Vec<u8>,
}

impl Client {
    /// Connects and consumes the negotiation and the first prompt (asserting them).
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connecting to the telnet port");
        stream.set_read_timeout(Some(STALL)).unwrap();
        let mut c = Client {
            stream,
            pending: Vec::new(),
        };
        let mut greeting = GREETING.to_vec();
        greeting.extend_from_slice(b"> ");
        let got = c.expect_bytes(&greeting);
        assert_eq!(got, greeting, "negotiation then prompt");
        c
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .write_all(bytes.as_ref())
            .expect("sending to the telnet port");
    }

    /// Reads until `needle` was received; returns everything up to and including it.
    pub fn expect_bytes(&mut self, needle: &[u8]) -> Vec<u8> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(i) = self.pending.windows(needle.len()).position(|w| w == needle) {
                let rest = self.pending.split_off(i + needle.len());
                return std::mem::replace(&mut self.pending, rest);
            }
            match self.stream.read(&mut buf) {
                Ok(0) => panic!(
                    "connection closed while waiting for {:?}; received {:?}",
                    String::from_utf8_lossy(needle),
                    String::from_utf8_lossy(&self.pending)
                ),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) => panic!(
                    "no {:?} from the server ({e}); received {:?}",
                    String::from_utf8_lossy(needle),
                    String::from_utf8_lossy(&self.pending)
                ),
            }
        }
    }

    /// As [`expect_bytes`](Self::expect_bytes), as text.
    pub fn expect(&mut self, needle: &str) -> String {
        String::from_utf8_lossy(&self.expect_bytes(needle.as_bytes())).into_owned()
    }

    /// Sends `line` with CR LF and returns the output between the echoed line and the next
    /// prompt, as lines.
    pub fn command(&mut self, line: &str) -> Vec<String> {
        self.send(format!("{line}\r\n"));
        let echo = format!("{line}\r\n");
        let got = self.expect(&echo);
        assert_eq!(got, echo, "the server echoes the line, then CR LF");
        let out = self.expect("\r\n> ");
        let body = &out[..out.len() - "> ".len()];
        body.split_terminator("\r\n").map(str::to_string).collect()
    }

    /// Reads until the server closes the connection; returns what came before.
    pub fn read_to_eof(&mut self) -> String {
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) => panic!(
                "the server did not close the connection ({e}); received {:?}",
                String::from_utf8_lossy(&[self.pending.as_slice(), rest.as_slice()].concat())
            ),
        }
        self.pending.extend_from_slice(&rest);
        String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned()
    }
}

/// An in-process host and telnet server on 127.0.0.1:0.
pub struct Server {
    pub addr: SocketAddr,
    pub handle: HostHandle,
    stop: tokio::sync::watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    rt: tokio::runtime::Runtime,
    host_thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        let host = Host::new(HostConfig::default());
        let (handle, host_thread) = worker::spawn(host);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("binding 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = tokio::sync::watch::channel(false);
        let server = rt.spawn(telnet::run(listener, handle.clone(), shutdown_signal(rx)));
        Server {
            addr,
            handle,
            stop,
            server: Some(server),
            rt,
            host_thread: Some(host_thread),
        }
    }

    pub fn host(&self) -> &Host {
        self.handle.host()
    }

    /// Signals shutdown and waits for `run` to return.
    pub fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(s) = self.server.take() {
            self.rt.block_on(s).expect("telnet::run panicked");
        }
    }

    /// Whether the telnet server task is still running.
    pub fn serving(&self) -> bool {
        self.server.as_ref().is_some_and(|s| !s.is_finished())
    }

    /// Waits for the host thread to end (after `shutdown`).
    pub fn join_host(&mut self) {
        if let Some(t) = self.host_thread.take() {
            t.join().expect("host thread panicked");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A setup script for the tests: the virtual Blue Pill with a fresh chip (nothing stored), so
/// `init` succeeds without touching the user's storage file.
pub fn noinit_script(dir: &Path) -> PathBuf {
    let p = dir.join("board.rhai");
    std::fs::write(&p, "cmd(\"sim storage none\");\ncmd(\"gdb_port disabled\");\nsource(\"board/sim-bluepill.rhai\");\n").unwrap();
    p
}

/// The built binary, running in `dir` with stdin/stdout/stderr piped.
pub fn stdbg(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stdbg"));
    c.current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.env("XDG_STATE_HOME", dir.join("state"));
    c
}

/// A running binary whose telnet port was read from its log.
pub struct Running {
    pub child: Child,
    pub port: u16,
    /// The rest of stderr, once the process ends.
    pub stderr: mpsc::Receiver<String>,
}

impl Running {
    /// Spawns `cmd` and waits for `Info : Listening on port N for telnet connections`.
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd.spawn().expect("running stdbg");
        let stderr = child.stderr.take().unwrap();
        let (port_tx, port_rx) = mpsc::channel();
        let (rest_tx, rest_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(p) = line
                    .strip_prefix("Info : Listening on port ")
                    .and_then(|r| r.strip_suffix(" for telnet connections"))
                    .and_then(|p| p.parse::<u16>().ok())
                {
                    let _ = port_tx.send(p);
                }
                all.push_str(&line);
                all.push('\n');
            }
            let _ = rest_tx.send(all);
        });
        let port = match port_rx.recv_timeout(STALL) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "no 'Listening on port N for telnet connections' line; stderr: {}",
                    rest_rx.recv().unwrap_or_default()
                );
            }
        };
        Running {
            child,
            port,
            stderr: rest_rx,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Waits for exit; returns (status code, stdout, stderr).
    pub fn wait(mut self) -> (Option<i32>, String, String) {
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        let status = self.child.wait().expect("waiting for stdbg");
        (status.code(), out, self.stderr.recv().unwrap_or_default())
    }
}
