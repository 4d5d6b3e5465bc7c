//! The GDB remote server (OpenOCD's `gdb_port`, default 3333), built on gdbstub 0.7.8's
//! single-thread state machine.
//!
//! Threads: [`run`] accepts connections on its own thread; one client at a time gets a session
//! thread (a second client is refused with a message GDB prints). A session never touches the
//! probe-rs `Session`: every target access is a closure sent to the host thread
//! ([`HostHandle::call`]) or a command line ([`HostHandle::exec`], for `monitor`), so GDB,
//! telnet and scripts see one consistent target.
//!
//! While the target runs for GDB, the session polls it through the host thread every
//! [`POLL_INTERVAL`] with the host's own poller (`Host::poll_targets`), so a halt is announced
//! once to every console and reported to GDB with its real cause (see [`target::StopInfo`]).
//!
//! Files: [`arch`] (registers), [`target_desc`] (target XML), [`memory_map`], [`target`] (the
//! gdbstub target and its host-thread helpers) and one file per gdbstub extension: [`base`],
//! [`resume`], [`breakpoints`], [`flash`], [`monitor`], [`extended`].

pub mod arch;
pub mod base;
pub mod breakpoints;
pub mod extended;
pub mod flash;
pub mod memory_map;
pub mod monitor;
pub mod resume;
pub mod target;
pub mod target_desc;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStubBuilder, SingleThreadStopReason};
use tokio::sync::watch;

use crate::host::worker::HostHandle;
use target::GdbTarget;

/// How often a running target is polled for a halt while GDB waits for a stop reply. The delay
/// from a breakpoint hit to GDB's stop reply is at most this plus one poll's probe traffic.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// gdbstub's packet buffer in bytes (also the `PacketSize` GDB is told: `load` sends
/// vFlashWrite blocks of about this size).
pub const PACKET_SIZE: usize = 16 * 1024;

/// Numbers GDB connections for [`crate::command::Origin::Gdb`].
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// Serves GDB clients on `listener` until `shutdown` becomes true. One client at a time; the
/// server keeps listening after a client leaves, whatever the reason.
pub fn run(listener: TcpListener, handle: HostHandle, shutdown: watch::Receiver<bool>) {
    if let Err(e) = listener.set_nonblocking(true) {
        tracing::error!(
            "GDB server: cannot poll the listening socket: {e}; GDB connections are not served"
        );
        return;
    }
    let busy = Arc::new(AtomicBool::new(false));
    loop {
        if *shutdown.borrow() {
            return;
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                let _ = stream.set_nonblocking(false);
                if busy.swap(true, Ordering::SeqCst) {
                    tracing::warn!(
                        "refused a second GDB connection from {peer}: one GDB client is already connected"
                    );
                    std::thread::spawn(move || refuse(stream));
                    continue;
                }
                let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    "accepting 'gdb' connection on tcp/{}",
                    listener.local_addr().map(|a| a.port()).unwrap_or(0)
                );
                let (h, s, b) = (handle.clone(), shutdown.clone(), busy.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("stdbg-gdb-{id}"))
                    .spawn(move || {
                        session(stream, h, s, id);
                        b.store(false, Ordering::SeqCst);
                    });
                if let Err(e) = spawned {
                    tracing::error!("GDB server: cannot start a session thread: {e}");
                    busy.store(false, Ordering::SeqCst);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                tracing::warn!("GDB server: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// The text a second client gets (GDB prints it as "Remote failure reply: E.…").
pub const REFUSAL: &str = "E.stdbg: another GDB client is already connected to this target; only one GDB connection per target is allowed. Disconnect the other GDB (detach or quit) and connect again, or use the telnet console alongside it.";

/// Answers the second client's first packet with [`REFUSAL`] and closes.
fn refuse(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + Duration::from_secs(2);
    // Wait for the end of the first packet ("$...#xx") so GDB reads our reply as its answer.
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                seen.extend_from_slice(&buf[..n]);
                if let Some(p) = seen.iter().position(|&b| b == b'#')
                    && seen.len() >= p + 3
                {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = stream.write_all(b"+");
    let _ = stream.write_all(&frame(REFUSAL.as_bytes()));
    let _ = stream.flush();
    std::thread::sleep(Duration::from_millis(200));
}

/// Frames a packet body: `$body#cs`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    let mut v = Vec::with_capacity(body.len() + 4);
    v.push(b'$');
    v.extend_from_slice(body);
    v.extend_from_slice(format!("#{sum:02x}").as_bytes());
    v
}

/// An `O` (console output) packet carrying `text`, hex encoded.
pub fn console_packet(text: &str) -> Vec<u8> {
    let mut body = String::with_capacity(1 + text.len() * 2);
    body.push('O');
    for b in text.bytes() {
        body.push_str(&format!("{b:02x}"));
    }
    frame(body.as_bytes())
}

/// The connection gdbstub writes to: buffers a packet and sends it in one write at `flush`.
pub struct BufConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl BufConn {
    /// Wraps a connected socket.
    pub fn new(stream: TcpStream) -> Self {
        BufConn {
            stream,
            buf: Vec::with_capacity(PACKET_SIZE),
        }
    }

    /// Sends console lines to GDB as `O` packets (only valid while GDB waits for a stop reply).
    pub fn console(&mut self, lines: &[String]) -> std::io::Result<()> {
        for l in lines {
            self.stream.write_all(&console_packet(&format!("{l}\n")))?;
        }
        Ok(())
    }
}

impl BufConn {
    /// Sends stdbg's own reply to an intercepted packet (acknowledged first unless no-ack).
    pub fn reply(&mut self, ack: bool, body: &[u8]) -> std::io::Result<()> {
        let mut v = Vec::new();
        if ack {
            v.push(b'+');
        }
        v.extend_from_slice(&frame(body));
        Write::write_all(&mut self.stream, &v)
    }
}

impl gdbstub::conn::Connection for BufConn {
    type Error = std::io::Error;

    fn write(&mut self, byte: u8) -> Result<(), Self::Error> {
        self.buf.push(byte);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        if !self.buf.is_empty() {
            Write::write_all(&mut self.stream, &self.buf)?;
            self.buf.clear();
        }
        Write::flush(&mut self.stream)
    }
}

enum Input {
    Byte(u8),
    /// A complete packet stdbg answers itself (body without `$`/`#xx`), see [`intercepted`].
    Packet(Vec<u8>),
    Timeout,
    Closed,
}

/// Packets answered by stdbg instead of gdbstub 0.7.8, which does not know them (and would end
/// the session on `qCRC`, mistaking it for a malformed `qC`).
fn intercepted(body: &[u8]) -> bool {
    body.starts_with(b"qCRC:")
}

/// Reads the client's bytes with a timeout (so the session can poll the target and notice
/// shutdown), and frames packets so that [`intercepted`] ones never reach gdbstub.
struct Reader {
    stream: TcpStream,
    /// Bytes ready for gdbstub.
    pending: VecDeque<u8>,
    /// A packet being received (from its `$`), and where its `#` is.
    packet: Option<(Vec<u8>, Option<usize>)>,
    /// Whether GDB asked for no-ack mode (then stdbg's own replies are not preceded by `+`).
    no_ack: bool,
    /// Counts packets that may change target memory (see [`keeps_reads_valid`]); the read-ahead
    /// cache of [`target::GdbTarget`] is only used while it stays the same.
    epoch: u64,
}

/// Packets after which memory read before is still what the target holds: reads (`m`, `g`,
/// `p`) and queries other than `qRcmd` (a monitor command may write memory or run the core).
fn keeps_reads_valid(body: &[u8]) -> bool {
    match body.first() {
        Some(b'm' | b'g' | b'p') => true,
        Some(b'q') => !body.starts_with(b"qRcmd"),
        _ => false,
    }
}

impl Reader {
    fn next(&mut self) -> Input {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Input::Byte(b);
            }
            let mut buf = [0u8; 4096];
            let n = match self.stream.read(&mut buf) {
                Ok(0) => return Input::Closed,
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    return Input::Timeout;
                }
                Err(_) => return Input::Closed,
            };
            let mut own = None;
            for &b in &buf[..n] {
                match &mut self.packet {
                    None if b == b'$' => self.packet = Some((vec![b], None)),
                    None => self.pending.push_back(b),
                    Some((p, hash)) => {
                        p.push(b);
                        if b == b'#' && hash.is_none() {
                            *hash = Some(p.len() - 1);
                        }
                        if let Some(h) = *hash
                            && p.len() == h + 3
                        {
                            let (p, _) = self.packet.take().unwrap_or_default();
                            let body = &p[1..h];
                            if body == b"QStartNoAckMode" {
                                self.no_ack = true;
                            }
                            if !keeps_reads_valid(body) {
                                self.epoch += 1;
                            }
                            if intercepted(body) && own.is_none() {
                                own = Some(body.to_vec());
                            } else {
                                self.pending.extend(&p);
                            }
                        }
                    }
                }
            }
            if let Some(body) = own {
                return Input::Packet(body);
            }
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// `detach` (D packet).
    Detach,
    /// `kill` in plain remote mode.
    Kill,
    /// The socket closed or failed without a detach.
    Lost,
    /// stdbg is shutting down.
    Shutdown,
}

fn session(stream: TcpStream, handle: HostHandle, shutdown: watch::Receiver<bool>, id: u64) {
    let _ = stream.set_nodelay(true);
    let reader_stream = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("GDB connection: cannot read the socket: {e}");
            return;
        }
    };
    let _ = reader_stream.set_read_timeout(Some(POLL_INTERVAL));
    let mut reader = Reader {
        stream: reader_stream,
        pending: VecDeque::new(),
        packet: None,
        no_ack: false,
        epoch: 0,
    };
    let mut target = GdbTarget::attach(handle, id);
    let stub = match GdbStubBuilder::new(BufConn::new(stream))
        .packet_buffer_size(PACKET_SIZE)
        .build()
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("GDB connection: {e}");
            return;
        }
    };
    let mut sm = match stub.run_state_machine(&mut target) {
        Ok(sm) => sm,
        Err(e) => {
            tracing::error!("GDB connection: {e}");
            target.end_session(false);
            return;
        }
    };
    let end = loop {
        if *shutdown.borrow() {
            break End::Shutdown;
        }
        target.read_epoch = reader.epoch;
        let step = match sm {
            GdbStubStateMachine::Idle(mut g) => {
                if let Err(e) = gdbstub::conn::Connection::flush(g.borrow_conn()) {
                    tracing::debug!("GDB connection: write failed: {e}");
                    break End::Lost;
                }
                match reader.next() {
                    Input::Byte(b) => g.incoming_data(&mut target, b),
                    Input::Packet(body) => {
                        let reply = target.own_packet(&body);
                        if let Err(e) = g.borrow_conn().reply(!reader.no_ack, &reply) {
                            tracing::debug!("GDB connection: write failed: {e}");
                            break End::Lost;
                        }
                        Ok(g.into())
                    }
                    Input::Timeout => Ok(g.into()),
                    Input::Closed => break End::Lost,
                }
            }
            GdbStubStateMachine::Running(mut g) => {
                if let Err(e) = gdbstub::conn::Connection::flush(g.borrow_conn()) {
                    tracing::debug!("GDB connection: write failed: {e}");
                    break End::Lost;
                }
                // Poll first (a stop already known, e.g. a step done synchronously, or a
                // breakpoint hit right after the resume, is reported at once), then wait up to
                // one poll interval for bytes from GDB (Ctrl-C).
                let stop = target.poll_stop();
                let lines = target.take_console();
                if !lines.is_empty()
                    && let Err(e) = g.borrow_conn().console(&lines)
                {
                    tracing::debug!("GDB connection: write failed: {e}");
                    break End::Lost;
                }
                if let Some(reason) = stop {
                    g.report_stop(&mut target, reason)
                } else {
                    match reader.next() {
                        Input::Byte(b) => g.incoming_data(&mut target, b),
                        Input::Packet(_) => {
                            // Not valid while the target runs: answer an error, GDB expects a reply.
                            if let Err(e) = g.borrow_conn().reply(!reader.no_ack, b"E01") {
                                tracing::debug!("GDB connection: write failed: {e}");
                                break End::Lost;
                            }
                            Ok(g.into())
                        }
                        Input::Closed => break End::Lost,
                        Input::Timeout => Ok(g.into()),
                    }
                }
            }
            GdbStubStateMachine::CtrlCInterrupt(g) => {
                let reason: SingleThreadStopReason<u32> = target.interrupt();
                g.interrupt_handled(&mut target, Some(reason))
            }
            GdbStubStateMachine::Disconnected(g) => match g.get_reason() {
                DisconnectReason::Disconnect => break End::Detach,
                DisconnectReason::Kill => break End::Kill,
                DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_) => {
                    break End::Kill;
                }
            },
        };
        sm = match step {
            Ok(next) => next,
            Err(e) => {
                if e.is_connection_error() {
                    tracing::debug!("GDB connection closed: {e}");
                } else {
                    tracing::error!("GDB connection: protocol error, closing the connection: {e}");
                }
                break End::Lost;
            }
        };
    };
    match end {
        End::Detach => tracing::info!("GDB detached; the target resumes"),
        End::Kill => {
            tracing::info!("GDB sent kill; the connection is closed, the target stays halted")
        }
        End::Lost => tracing::info!("GDB connection closed without detach"),
        End::Shutdown => tracing::info!("closing the GDB connection: stdbg is shutting down"),
    }
    target.end_session(end == End::Detach);
}
