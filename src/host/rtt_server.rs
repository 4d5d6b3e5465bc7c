//! `rtt server start <port> <channel> [message]`: one RTT channel on a TCP port of 127.0.0.1,
//! raw bytes both ways (OpenOCD's `src/server/rtt_server.c`).
//!
//! What the firmware writes to up channel N goes to every client of the port; what a client
//! sends is queued for down channel N and written by the host thread's next RTT poll (the
//! server thread never touches the probe). OpenOCD 0.12 takes `port channel`; the optional
//! message is the one its later versions send to each new client, followed by `\n`.
//!
//! The same fan-out server (every byte to every client, never blocking the host thread)
//! serves the SWO trace output (`<tpiu> configure -output :port`, `swo_out.rs`), without input.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// Bytes queued for a slow client before the oldest are dropped.
const CLIENT_QUEUE: usize = 1 << 20;
/// Bytes received from clients and not yet written to the down channel, before more are refused.
pub const INPUT_QUEUE: usize = 64 * 1024;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The port could not be bound.
    #[error(
        "could not listen on {addr} for RTT channel {channel}: {source}. Choose another port ('rtt server start 0 {channel}' picks a free one)"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The channel.
        channel: usize,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A running server (its thread ends when this is dropped).
pub struct Server {
    /// The port actually bound.
    pub port: u16,
    /// The RTT channel.
    pub channel: usize,
    tx: mpsc::SyncSender<Vec<u8>>,
    input: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Server {
    /// Binds 127.0.0.1:`port` (0: any free port) and starts serving `channel`.
    pub fn start(port: u16, channel: usize, hello: Option<String>) -> Result<Server, ServerError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = TcpListener::bind(addr).map_err(|source| ServerError::Bind {
            addr,
            channel,
            source,
        })?;
        let hello = hello.map(|m| format!("{m}\n").into_bytes());
        Ok(Server::serve_on(listener, channel, hello, true))
    }

    /// Serves an already bound `listener` on its own thread: `hello` to each new client; what
    /// clients send is kept for [`Server::take_input`] when `input`, else discarded.
    pub fn serve_on(
        listener: TcpListener,
        channel: usize,
        hello: Option<Vec<u8>>,
        input: bool,
    ) -> Server {
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(256);
        let stop = Arc::new(AtomicBool::new(false));
        let queue = Arc::new(Mutex::new(Vec::new()));
        let (s2, i2) = (stop.clone(), input.then(|| queue.clone()));
        let _ = std::thread::Builder::new()
            .name(format!("stdbg-tcp-{port}"))
            .spawn(move || serve(listener, rx, s2, i2, hello));
        Server {
            port,
            channel,
            tx,
            input: queue,
            stop,
        }
    }

    /// Sends bytes of the up channel to the clients (never blocks; a full queue drops them).
    pub fn send(&self, bytes: &[u8]) {
        let _ = self.tx.try_send(bytes.to_vec());
    }

    /// Takes what the clients sent since the last call.
    pub fn take_input(&self) -> Vec<u8> {
        std::mem::take(&mut *self.input.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

struct Client {
    stream: TcpStream,
    pending: Vec<u8>,
}

fn serve(
    listener: TcpListener,
    rx: mpsc::Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    input: Option<Arc<Mutex<Vec<u8>>>>,
    hello: Option<Vec<u8>>,
) {
    let _ = listener.set_nonblocking(true);
    let mut clients: Vec<Client> = Vec::new();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        while let Ok((s, peer)) = listener.accept() {
            tracing::debug!("rtt: new connection from {peer}");
            let _ = s.set_nonblocking(true);
            let _ = s.set_nodelay(true);
            clients.push(Client {
                stream: s,
                pending: hello.clone().unwrap_or_default(),
            });
        }
        while let Ok(data) = rx.try_recv() {
            for c in &mut clients {
                c.pending.extend_from_slice(&data);
            }
        }
        clients.retain_mut(|c| {
            if c.pending.len() > CLIENT_QUEUE {
                let n = c.pending.len() - CLIENT_QUEUE;
                c.pending.drain(..n);
            }
            if !c.pending.is_empty() {
                match c.stream.write(&c.pending) {
                    Ok(n) => {
                        c.pending.drain(..n);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return false,
                }
            }
            match c.stream.read(&mut buf) {
                Ok(0) => false,
                Ok(n) => {
                    let Some(input) = &input else { return true };
                    let mut q = input.lock().unwrap_or_else(|e| e.into_inner());
                    if q.len() + n <= INPUT_QUEUE {
                        q.extend_from_slice(&buf[..n]);
                    } else {
                        tracing::warn!(
                            "rtt: dropped {n} bytes from a client: the target does not read its down channel"
                        );
                    }
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
                Err(_) => false,
            }
        });
        std::thread::sleep(Duration::from_millis(2));
    }
}
