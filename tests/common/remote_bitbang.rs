//! The virtual chip served over OpenOCD's remote_bitbang protocol, for the tests that drive it
//! with Debian's OpenOCD 0.12 and with stdbg's remote_bitbang adapter.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `openocd` must be installed (Debian: apt-get install openocd); a missing one fails loudly.
pub fn require_openocd() {
    let ok = Command::new("openocd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        matches!(ok, Ok(s) if s.success()),
        "openocd (0.12) is required by the remote_bitbang tests and was not found: install it (Debian/Ubuntu: apt-get install openocd)"
    );
}

/// `stdbg -f board/sim-bluepill.rhai -c "remote_bitbang_port 0"` with its flash in `storage`.
pub struct Server {
    child: Child,
    /// The TCP port it listens on.
    pub port: u16,
}

impl Server {
    pub fn start(dir: &Path, storage: &Path) -> Server {
        Server::start_board(dir, "board/sim-bluepill.rhai", storage)
    }

    /// The virtual chip of `board` (e.g. `board/sim-st_nucleo_g4.rhai`) with its flash in
    /// `storage`.
    pub fn start_board(dir: &Path, board: &str, storage: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stdbg"))
            .args(["-f", board, "-c"])
            .arg(format!("sim storage {}", storage.display()))
            .args([
                "-c",
                "remote_bitbang_port 0; gdb_port disabled; telnet_port disabled; tcl_port disabled",
            ])
            .current_dir(dir)
            .env("HOME", dir)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting stdbg");
        let port = super::listening_port(&mut child, "remote_bitbang");
        Server { child, port }
    }

    /// OpenOCD's (and stdbg's) adapter lines for this server.
    pub fn adapter(&self) -> String {
        format!(
            "adapter driver remote_bitbang; remote_bitbang port {}; transport select jtag",
            self.port
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blank virtual STM32F103C8 served over remote_bitbang from this test process
/// (`stdbg::server::remote_bitbang::run`), so the test can inject faults and read the chip's
/// counters while a client process drives it.
pub struct InProcessServer {
    /// The chip (faults, statistics).
    pub sim: stdbg::sim::Sim,
    /// The TCP port it listens on.
    pub port: u16,
    _host: stdbg::host::Host,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessServer {
    pub fn start() -> InProcessServer {
        use stdbg::command::{Collect, Ctx, Origin, dispatch};
        let host = stdbg::host::Host::new(stdbg::host::HostConfig::default());
        for line in [
            "script board/sim-bluepill.rhai",
            "sim storage none",
            "remote_bitbang_port 0",
            "init",
        ] {
            let mut out = Collect::default();
            let mut ctx = Ctx::new(&host, Origin::Cli, &mut out);
            dispatch(&mut ctx, line).unwrap_or_else(|e| panic!("{line}: {e}\n{}", out.text()));
        }
        let sim = host
            .served_sim()
            .expect("remote_bitbang_port serves the chip");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let thread = {
            let sim = sim.clone();
            std::thread::spawn(move || stdbg::server::remote_bitbang::run(listener, sim, rx))
        };
        InProcessServer {
            sim,
            port,
            _host: host,
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
