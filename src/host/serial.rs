//! Where the virtual chip's USART output goes (`sim uart`).
//!
//! By default every USART's output becomes lines on every console, prefixed by
//! the chip and the instance: `[stm32f1x.usart1] hello` (telnet and the REPL
//! through the event bus; stdout when no REPL runs). `sim uart usart1 tcp
//! PORT` serves it raw on 127.0.0.1:PORT instead, both ways (what a client
//! sends goes to the USART's receiver, so a terminal program can talk to the
//! firmware); `sim uart usart1 file PATH` appends it raw to a file; `off`
//! discards it.
//!
//! The simulator calls [`SerialRouter::deliver`] on its own thread: it only
//! buffers, formats and hands bytes on (to the event bus, a channel or a
//! file), it never blocks on a slow client.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::event::{EventBus, HostEvent};
use super::lines::{LineBuffer, printable};
use crate::sim::Sim;

/// Bytes queued for a slow TCP client before the oldest are dropped.
const TCP_QUEUE: usize = 1 << 20;

/// Where one USART's output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialMode {
    /// Lines on every console (the default).
    Console,
    /// Raw bytes both ways on a TCP port of 127.0.0.1 (0: any free port).
    Tcp(u16),
    /// Raw bytes appended to a file.
    File(PathBuf),
    /// Discarded.
    Off,
}

/// Why a route could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    /// Could not listen on {addr} for {uart}: {source}. Choose another port with 'sim uart {uart} tcp PORT' (0 picks a free one).
    #[error(
        "could not listen on {addr} for {uart}: {source}. Choose another port with 'sim uart {uart} tcp PORT' (0 picks a free one)"
    )]
    Bind {
        uart: String,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Could not open {path} for {uart}'s output: {source}. Check the directory exists and is writable.
    #[error(
        "could not open {path} for {uart}'s output: {source}. Check the directory exists and is writable"
    )]
    File {
        uart: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

enum Route {
    Console {
        line: LineBuffer,
    },
    Tcp {
        tx: mpsc::SyncSender<Vec<u8>>,
        port: u16,
        stop: Arc<AtomicBool>,
    },
    File {
        file: std::fs::File,
        path: PathBuf,
    },
    Off,
}

impl Drop for Route {
    fn drop(&mut self) {
        if let Route::Tcp { stop, .. } = self {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

struct Inner {
    routes: HashMap<String, Route>,
    /// The prefix of console lines: the chip name (`stm32f1x`).
    prefix: String,
    /// The virtual chip, to deliver what TCP clients send.
    sim: Option<Sim>,
}

/// The routes of every USART (see the module documentation).
#[derive(Clone)]
pub struct SerialRouter {
    inner: Arc<Mutex<Inner>>,
    events: EventBus,
    /// Console lines also go to stdout (no REPL prints the event bus there).
    stdout: Arc<AtomicBool>,
}

impl SerialRouter {
    /// A router publishing console lines on `events`.
    pub fn new(events: EventBus) -> SerialRouter {
        SerialRouter {
            inner: Arc::new(Mutex::new(Inner {
                routes: HashMap::new(),
                prefix: "stm32".into(),
                sim: None,
            })),
            events,
            stdout: Arc::new(AtomicBool::new(true)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Console lines are printed on stdout too (false while a REPL runs).
    pub fn set_stdout(&self, on: bool) {
        self.stdout.store(on, Ordering::Relaxed);
    }

    /// Whether console lines are printed on stdout too (false while a REPL runs); RTT, ITM and
    /// semihosting output follow the same rule.
    pub fn stdout_enabled(&self) -> bool {
        self.stdout.load(Ordering::Relaxed)
    }

    /// Connects the router to a virtual chip: its output comes here, TCP
    /// clients' input goes to it. `prefix` names the chip in console lines.
    pub fn attach(&self, sim: &Sim, prefix: &str) {
        {
            let mut g = self.lock();
            g.prefix = prefix.to_string();
            g.sim = Some(sim.clone());
        }
        let me = self.clone();
        sim.set_serial_sink(Some(Arc::new(move |name: &str, bytes: &[u8]| {
            me.deliver(name, bytes)
        })));
    }

    /// Sets where `uart` (`usart1` …) goes. Returns the TCP port actually
    /// bound for [`SerialMode::Tcp`].
    pub fn set(&self, uart: &str, mode: SerialMode) -> Result<Option<u16>, SerialError> {
        let route = match &mode {
            SerialMode::Console => Route::Console {
                line: LineBuffer::default(),
            },
            SerialMode::Off => Route::Off,
            SerialMode::File(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| SerialError::File {
                        uart: uart.into(),
                        path: path.clone(),
                        source,
                    })?;
                Route::File {
                    file,
                    path: path.clone(),
                }
            }
            SerialMode::Tcp(port) => {
                let addr = SocketAddr::from(([127, 0, 0, 1], *port));
                let listener = TcpListener::bind(addr).map_err(|source| SerialError::Bind {
                    uart: uart.into(),
                    addr,
                    source,
                })?;
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(*port);
                let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(256);
                let stop = Arc::new(AtomicBool::new(false));
                let me = self.clone();
                let name = uart.to_string();
                let s2 = stop.clone();
                let _ = std::thread::Builder::new()
                    .name(format!("stdbg-{uart}-tcp"))
                    .spawn(move || serve_tcp(listener, rx, s2, me, name));
                Route::Tcp { tx, port, stop }
            }
        };
        let port = match &route {
            Route::Tcp { port, .. } => Some(*port),
            _ => None,
        };
        self.lock().routes.insert(uart.to_string(), route);
        Ok(port)
    }

    /// The routes that differ from the default, as `sim uart` lists them.
    pub fn describe(&self) -> Vec<String> {
        let g = self.lock();
        let mut v: Vec<String> = g
            .routes
            .iter()
            .map(|(k, r)| match r {
                Route::Console { .. } => format!("{k}: console"),
                Route::Tcp { port, .. } => format!("{k}: tcp 127.0.0.1:{port}"),
                Route::File { path, .. } => format!("{k}: file {}", path.display()),
                Route::Off => format!("{k}: off"),
            })
            .collect();
        v.sort();
        v
    }

    /// Bytes `uart` transmitted (called on the simulator's thread).
    pub fn deliver(&self, uart: &str, bytes: &[u8]) {
        let mut lines = Vec::new();
        {
            let mut g = self.lock();
            let prefix = g.prefix.clone();
            let route = g.routes.entry(uart.to_string()).or_insert(Route::Console {
                line: LineBuffer::default(),
            });
            match route {
                Route::Console { line } => {
                    lines = line.feed(bytes);
                    for l in &mut lines {
                        *l = format!("[{prefix}.{uart}] {}", printable(l)).into_bytes();
                    }
                }
                Route::Tcp { tx, .. } => {
                    let _ = tx.try_send(bytes.to_vec());
                }
                Route::File { file, .. } => {
                    let _ = file.write_all(bytes);
                }
                Route::Off => {}
            }
        }
        for l in lines {
            let text = String::from_utf8_lossy(&l).into_owned();
            if self.stdout.load(Ordering::Relaxed) {
                println!("{text}");
            }
            self.events.send(HostEvent::Target {
                target: uart.to_string(),
                lines: vec![text],
                origin: None,
            });
        }
    }

    fn input(&self, uart: &str, bytes: &[u8]) {
        let sim = self.lock().sim.clone();
        if let Some(sim) = sim {
            sim.push_serial(uart, bytes);
        }
    }
}

/// Serves one USART on a TCP listener: what the USART sends goes to the
/// current client (queued up to [`TCP_QUEUE`] bytes), what the client sends
/// goes to the USART's receiver. One client at a time; a new one replaces it.
fn serve_tcp(
    listener: TcpListener,
    rx: mpsc::Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    router: SerialRouter,
    uart: String,
) {
    let _ = listener.set_nonblocking(true);
    let mut client: Option<TcpStream> = None;
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((s, _)) = listener.accept() {
            let _ = s.set_nonblocking(true);
            let _ = s.set_nodelay(true);
            client = Some(s);
        }
        while let Ok(data) = rx.try_recv() {
            pending.extend_from_slice(&data);
        }
        if pending.len() > TCP_QUEUE {
            let drop = pending.len() - TCP_QUEUE;
            pending.drain(..drop);
        }
        let mut gone = false;
        if let Some(s) = client.as_mut() {
            if !pending.is_empty() {
                match s.write(&pending) {
                    Ok(n) => {
                        pending.drain(..n);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => gone = true,
                }
            }
            match s.read(&mut buf) {
                Ok(0) => gone = true,
                Ok(n) => router.input(&uart, &buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => gone = true,
            }
        }
        if gone {
            client = None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
