//! Front ends other than `-c`: the telnet console and the local REPL, and [`serve`], which runs
//! them (and the GDB server, [`crate::gdb`]) after the configuration stage until `shutdown`.

pub mod remote_bitbang;
pub mod repl;
mod sessions;
pub mod tcl_rpc;
pub mod telnet;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::host::Shutdown;
use crate::host::config::PortSetting;
use crate::host::worker::HostHandle;

/// A future that completes when `rx` becomes `true` (the shutdown signal servers take).
pub async fn shutdown_signal(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The port is taken.
    #[error(
        "couldn't bind {server} to socket on {addr}: {source}. Another stdbg or OpenOCD may be running: stop it, or choose another port with -c \"{command} <port>\" (or \"{command} disabled\")"
    )]
    Bind {
        /// `telnet` or `gdb`.
        server: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The command that changes the port.
        command: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A server could not start: print why, stop the host thread, and return exit status 1.
fn abort_serving(e: &ServeError, handle: &HostHandle, join: JoinHandle<()>) -> i32 {
    eprintln!("Error: {e}");
    handle.host().request_shutdown(Shutdown::Error);
    let _ = handle.call(|_| ());
    let _ = join.join();
    1
}

/// Runs the servers until the host thread ends (after `shutdown`); returns the exit status.
pub fn serve(handle: HostHandle, join: JoinHandle<()>) -> i32 {
    let host = handle.host().clone();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: can't start the async runtime: {e}");
            return 1;
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (telnet_port, bindto) = {
        let c = host.config();
        (c.telnet_port, c.bindto)
    };
    let rbb_port = host.config().remote_bitbang_port;
    if let (Some(port), Some(sim)) = (rbb_port, host.served_sim()) {
        let addr = SocketAddr::new(bindto, port);
        match std::net::TcpListener::bind(addr) {
            Ok(l) => {
                let local = l.local_addr().map(|a| a.port()).unwrap_or(port);
                tracing::info!("Listening on port {local} for remote_bitbang connections");
                let rx = stop_rx.clone();
                let _ = std::thread::Builder::new()
                    .name("stdbg-rbb-accept".into())
                    .spawn(move || remote_bitbang::run(l, sim, rx));
            }
            Err(source) => {
                let e = ServeError::Bind {
                    server: "remote_bitbang",
                    addr,
                    command: "remote_bitbang_port",
                    source,
                };
                return abort_serving(&e, &handle, join);
            }
        }
    }
    let tcl_port = host.config().tcl_port;
    let (tcl_port, explicit) = match tcl_port {
        Some(p) => (p, true),
        None => (PortSetting::Port(6666), false),
    };
    if let PortSetting::Port(port) = tcl_port {
        let addr = SocketAddr::new(bindto, port);
        match rt.block_on(tokio::net::TcpListener::bind(addr)) {
            Ok(l) => {
                let local = l.local_addr().map(|a| a.port()).unwrap_or(port);
                tracing::info!("Listening on port {local} for tcl connections");
                rt.spawn(tcl_rpc::run(
                    l,
                    handle.clone(),
                    shutdown_signal(stop_rx.clone()),
                ));
            }
            // The default port taken (another stdbg or OpenOCD): go on without it.
            Err(e) if !explicit => tracing::warn!(
                "the Tcl RPC server is not started: {addr} is in use ({e}); another stdbg or OpenOCD may hold it. Choose a port with -c \"tcl_port <port>\" (0 = any free port) if you need it"
            ),
            Err(source) => {
                let e = ServeError::Bind {
                    server: "tcl",
                    addr,
                    command: "tcl_port",
                    source,
                };
                return abort_serving(&e, &handle, join);
            }
        }
    }
    if let PortSetting::Port(port) = telnet_port {
        let addr = SocketAddr::new(bindto, port);
        let listener = rt.block_on(tokio::net::TcpListener::bind(addr));
        match listener {
            Ok(l) => {
                let local = l.local_addr().map(|a| a.port()).unwrap_or(port);
                tracing::info!("Listening on port {local} for telnet connections");
                rt.spawn(telnet::run(
                    l,
                    handle.clone(),
                    shutdown_signal(stop_rx.clone()),
                ));
            }
            Err(source) => {
                let e = ServeError::Bind {
                    server: "telnet",
                    addr,
                    command: "telnet_port",
                    source,
                };
                return abort_serving(&e, &handle, join);
            }
        }
    }
    // The GDB server opens after init, like OpenOCD's per-target gdb port.
    let gdb_port = host.config().gdb_port;
    if let PortSetting::Port(port) = gdb_port {
        let addr = SocketAddr::new(bindto, port);
        match std::net::TcpListener::bind(addr) {
            Ok(l) => {
                let local = l.local_addr().map(|a| a.port()).unwrap_or(port);
                if let Ok((target, _)) = host.current_target() {
                    tracing::info!("starting gdb server for {target} on {local}");
                }
                tracing::info!("Listening on port {local} for gdb connections");
                let (h, rx) = (handle.clone(), stop_rx.clone());
                let _ = std::thread::Builder::new()
                    .name("stdbg-gdb".into())
                    .spawn(move || crate::gdb::run(l, h, rx));
            }
            Err(source) => {
                let e = ServeError::Bind {
                    server: "gdb",
                    addr,
                    command: "gdb_port",
                    source,
                };
                return abort_serving(&e, &handle, join);
            }
        }
    }
    // `gdb_port pipe`: one GDB session on stdin/stdout (crate::gdb::run_pipe); no REPL then.
    let gdb_pipe = host.config().gdb.pipe;
    if gdb_pipe {
        let (h, rx) = (handle.clone(), stop_rx.clone());
        let _ = std::thread::Builder::new()
            .name("stdbg-gdb-pipe".into())
            .spawn(move || crate::gdb::run_pipe(h, rx));
    }
    let mut repl_thread = None;
    if std::io::stdin().is_terminal() && !gdb_pipe {
        // The REPL prints the consoles' lines (USART output included) itself.
        host.serial().set_stdout(false);
        // Ctrl-C while a REPL command runs cancels it (host/jobs.rs). The handler is installed
        // before the REPL starts: rustyline replaces it while it reads a line (Ctrl-C then
        // clears the line) and puts it back afterwards.
        use tokio::signal::unix::{SignalKind, signal};
        match rt.block_on(async { signal(SignalKind::interrupt()) }) {
            Ok(mut sig) => {
                let h = handle.clone();
                rt.spawn(async move {
                    while sig.recv().await.is_some() {
                        if h.interrupt(crate::command::Origin::Repl) {
                            eprintln!("^C");
                        }
                    }
                });
            }
            Err(e) => tracing::warn!(
                "Ctrl-C cannot cancel commands in the local console ({e}); it ends stdbg instead"
            ),
        }
        let h = handle.clone();
        repl_thread = std::thread::Builder::new()
            .name("stdbg-repl".into())
            .spawn(move || repl::run(h))
            .ok();
    } else {
        let h = handle.clone();
        rt.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("SIGINT received: shutting down");
                // A runaway script would keep the host thread from ever reaching `shutdown`.
                h.host().script().cancel();
                let _ = h.exec("shutdown", crate::command::Origin::Cli);
            }
        });
    }
    let _ = join.join();
    if let Some(t) = repl_thread {
        repl::stop(t);
    }
    let _ = stop_tx.send(true);
    rt.shutdown_timeout(Duration::from_millis(500));
    match host.shutdown_requested() {
        Some(Shutdown::Error) => 1,
        Some(Shutdown::Code(c)) => c,
        _ => 0,
    }
}
