//! The GDB remote server (OpenOCD's `gdb_port`, default 3333), built on gdbstub 0.7.8's
//! single-thread state machine.
//!
//! Threads: [`run`] accepts connections on its own thread; each client gets a session thread,
//! as many at once as the target's `-gdb-max-connections` allows (OpenOCD's default 1; one more
//! is refused with a message GDB prints). The oldest connection is the primary one (see
//! [`Sessions`]). [`run_pipe`] serves one client on stdin/stdout (`gdb_port pipe`). A session never touches the
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
pub mod fileio;
pub mod flash;
pub mod memory_map;
pub mod monitor;
pub mod read_ahead;
pub mod resume;
pub mod target;
pub mod target_desc;
pub mod wire;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStubBuilder, SingleThreadStopReason};
use tokio::sync::watch;

use crate::host::worker::HostHandle;
use target::GdbTarget;
use wire::{BufConn, Input, Reader};

/// How often a running target is polled for a halt while GDB waits for a stop reply. The delay
/// from a breakpoint hit to GDB's stop reply is at most this plus one poll's probe traffic.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// gdbstub's packet buffer in bytes (also the `PacketSize` GDB is told: `load` sends
/// vFlashWrite blocks of about this size).
pub const PACKET_SIZE: usize = 16 * 1024;

/// Numbers GDB connections for [`crate::command::Origin::Gdb`].
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// The GDB sessions being served, oldest first. The oldest is the primary connection: it
/// alone gets the default `gdb-attach` halt and resumes the target on `detach`; the others (a
/// live watch, a second debugger) leave the run state as they found it (see docs/gdb.md).
#[derive(Debug, Clone, Default)]
pub struct Sessions(Arc<Mutex<Vec<u64>>>);

impl Sessions {
    fn list(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds connection `id` (the newest).
    pub fn add(&self, id: u64) {
        self.list().push(id);
    }

    /// Removes connection `id`.
    pub fn remove(&self, id: u64) {
        self.list().retain(|&i| i != id);
    }

    /// How many connections are served.
    pub fn count(&self) -> usize {
        self.list().len()
    }

    /// Whether `id` is the oldest connection still served.
    pub fn is_primary(&self, id: u64) -> bool {
        self.list().first() == Some(&id)
    }
}

/// The current target's `-gdb-max-connections` (OpenOCD default 1; -1 = no limit).
fn max_connections(handle: &HostHandle) -> i64 {
    handle
        .call(|h| {
            let (name, _) = h.current_target().ok()?;
            h.targets().by_name(&name).map(|t| t.gdb_max_connections)
        })
        .flatten()
        .unwrap_or(1)
}

/// Serves GDB clients on `listener` until `shutdown` becomes true: as many at once as the
/// target's `-gdb-max-connections` allows (default 1); one more is refused with a message GDB
/// prints. The server keeps listening after a client leaves, whatever the reason.
pub fn run(listener: TcpListener, handle: HostHandle, shutdown: watch::Receiver<bool>) {
    if let Err(e) = listener.set_nonblocking(true) {
        tracing::error!(
            "GDB server: cannot poll the listening socket: {e}; GDB connections are not served"
        );
        return;
    }
    let sessions = Sessions::default();
    loop {
        if *shutdown.borrow() {
            return;
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                let _ = stream.set_nonblocking(false);
                let max = max_connections(&handle);
                if max >= 0 && sessions.count() as i64 >= max {
                    tracing::info!("rejected 'gdb' connection, no more connections allowed");
                    tracing::debug!(
                        "GDB connection from {peer} refused: -gdb-max-connections is {max}"
                    );
                    std::thread::spawn(move || refuse(stream, &refusal(max)));
                    continue;
                }
                let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    "accepting 'gdb' connection on tcp/{}",
                    listener.local_addr().map(|a| a.port()).unwrap_or(0)
                );
                sessions.add(id);
                let (h, s, all) = (handle.clone(), shutdown.clone(), sessions.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("stdbg-gdb-{id}"))
                    .spawn(move || {
                        // Frees the slot however the session ends (even by a panic), so a
                        // broken session never locks every later client out.
                        let _free = Free(all.clone(), id);
                        session(stream, h, s, id, all);
                    });
                if let Err(e) = spawned {
                    tracing::error!("GDB server: cannot start a session thread: {e}");
                    sessions.remove(id);
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

/// `gdb_port pipe`: serves one GDB session on the standard input and the standard output
/// taken by `gdb_port pipe` (`crate::host::gdb_settings::take_stdout_for_gdb`), then shuts
/// stdbg down when GDB closes the pipe, as OpenOCD does. The session runs on one end of a
/// loopback socket pair whose other end two threads relay to stdin and stdout, so the session
/// code is the same as for TCP clients.
pub fn run_pipe(handle: HostHandle, shutdown: watch::Receiver<bool>) {
    let Some(mut out) = crate::host::gdb_settings::gdb_stdout() else {
        tracing::error!("gdb_port pipe: standard output was not taken for GDB; no GDB session");
        return;
    };
    let pair = (|| -> std::io::Result<(TcpStream, TcpStream)> {
        let l = TcpListener::bind(("127.0.0.1", 0))?;
        let near = TcpStream::connect(l.local_addr()?)?;
        loop {
            let (far, peer) = l.accept()?;
            // Only our own connection, not another local process racing for the port.
            if peer == near.local_addr()? {
                return Ok((near, far));
            }
        }
    })();
    let (relay, stream) = match pair {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("gdb_port pipe: cannot set up the session: {e}; no GDB session");
            return;
        }
    };
    let _ = relay.set_nodelay(true);
    if let Ok(mut to_session) = relay.try_clone() {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_session);
            let _ = to_session.shutdown(std::net::Shutdown::Write);
        });
    }
    let mut from_session = relay;
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match from_session.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    tracing::info!("accepting 'gdb' connection from pipe");
    let sessions = Sessions::default();
    sessions.add(id);
    session(stream, handle.clone(), shutdown.clone(), id, sessions);
    if !*shutdown.borrow() {
        tracing::info!("dropped 'gdb' connection: GDB closed the pipe; shutting down");
        let _ = handle.exec("shutdown", crate::command::Origin::Cli);
    }
}

/// Removes a session from [`Sessions`] when dropped.
struct Free(Sessions, u64);

impl Drop for Free {
    fn drop(&mut self) {
        self.0.remove(self.1);
    }
}

/// The text a client beyond the limit gets (GDB prints it as "Remote failure reply: E.…").
pub const REFUSAL: &str = "E.stdbg: another GDB client is already connected to this target; only one GDB connection per target is allowed (-gdb-max-connections 1). Disconnect the other GDB (detach or quit) and connect again, use the telnet console alongside it, or allow more before init: `<target> configure -gdb-max-connections 2` (-1 = no limit).";

/// The refusal for a target whose limit is `max` connections.
pub fn refusal(max: i64) -> String {
    match max {
        1 => REFUSAL.to_string(),
        0 => "E.stdbg: this target serves no GDB connection (-gdb-max-connections 0); allow one before init: `<target> configure -gdb-max-connections 1`.".to_string(),
        n => format!(
            "E.stdbg: {n} GDB clients are already connected to this target, its limit (-gdb-max-connections {n}). Disconnect one (detach or quit) and connect again, or allow more before init: `<target> configure -gdb-max-connections {}` (-1 = no limit).",
            n + 1
        ),
    }
}

/// Answers the refused client's first packet with `text` and closes.
fn refuse(mut stream: TcpStream, text: &str) {
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
    let _ = stream.write_all(&frame(text.as_bytes()));
    let _ = stream.flush();
    std::thread::sleep(Duration::from_millis(200));
}

pub use wire::{console_packet, frame};

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

type Machine = GdbStubStateMachine<'static, GdbTarget, BufConn>;

/// The connection inside a state machine, whatever its state.
fn conn_of(sm: &mut Machine) -> &mut BufConn {
    match sm {
        GdbStubStateMachine::Idle(g) => g.borrow_conn(),
        GdbStubStateMachine::Running(g) => g.borrow_conn(),
        GdbStubStateMachine::CtrlCInterrupt(g) => g.borrow_conn(),
        GdbStubStateMachine::Disconnected(g) => g.borrow_conn(),
    }
}

/// A gdbstub state machine (idle) writing to `stream`, with the protocol state the client set
/// up so far replayed into it without output: no-ack mode and its `qSupported` features (see
/// [`wire`]: used again after gdbstub rejected a packet).
fn new_machine(stream: &TcpStream, target: &mut GdbTarget, reader: &Reader) -> Option<Machine> {
    let mut replay = Vec::new();
    if let Some(q) = &reader.supported {
        replay.push(wire::for_stub(q));
    }
    if reader.no_ack {
        replay.push(wire::frame(b"QStartNoAckMode"));
    }
    machine_with(stream, target, &replay)
}

/// A gdbstub state machine that has seen the frames of `replay` (their answers discarded).
fn machine_with(stream: &TcpStream, target: &mut GdbTarget, replay: &[Vec<u8>]) -> Option<Machine> {
    let conn = match stream.try_clone() {
        Ok(s) => BufConn::new(s),
        Err(e) => {
            tracing::error!("GDB connection: cannot write to the socket: {e}");
            return None;
        }
    };
    let stub = match GdbStubBuilder::new(conn)
        .packet_buffer_size(PACKET_SIZE)
        .build()
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("GDB connection: cannot start the protocol: {e}");
            return None;
        }
    };
    let mut sm = match stub.run_state_machine(target) {
        Ok(sm) => sm,
        Err(e) => {
            tracing::error!("GDB connection: cannot start the protocol: {e}");
            return None;
        }
    };
    conn_of(&mut sm).mute = true;
    for bytes in replay {
        for &b in bytes {
            sm = match sm {
                GdbStubStateMachine::Idle(g) => match g.incoming_data(target, b) {
                    Ok(next) => next,
                    // The packet that set this state up was refused itself: start from
                    // scratch without it.
                    Err(_) if !replay.is_empty() => return machine_with(stream, target, &[]),
                    Err(_) => return None,
                },
                other => other,
            };
        }
    }
    let _ = gdbstub::conn::Connection::flush(conn_of(&mut sm));
    conn_of(&mut sm).mute = false;
    Some(sm)
}

fn session(
    stream: TcpStream,
    handle: HostHandle,
    shutdown: watch::Receiver<bool>,
    id: u64,
    sessions: Sessions,
) {
    let _ = stream.set_nodelay(true);
    let reader_stream = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("GDB connection: cannot read the socket: {e}");
            return;
        }
    };
    let _ = reader_stream.set_read_timeout(Some(POLL_INTERVAL));
    let mut reader = Reader::new(reader_stream);
    let mut target = GdbTarget::attach(handle, id, sessions);
    target.interrupt_socket = stream.try_clone().ok();
    let Some(mut sm) = new_machine(&stream, &mut target, &reader) else {
        target.end_session(false);
        return;
    };
    let mut rejected = 0u64;
    let end = loop {
        if *shutdown.borrow() {
            break End::Shutdown;
        }
        target.read_epoch = reader.epoch;
        target.code_epoch = reader.code_epoch;
        reader.running = matches!(sm, GdbStubStateMachine::Running(_));
        let step = match sm {
            GdbStubStateMachine::Idle(mut g) => {
                if let Err(e) = gdbstub::conn::Connection::flush(g.borrow_conn()) {
                    tracing::debug!("GDB connection: write failed: {e}");
                    break End::Lost;
                }
                match reader.next_input() {
                    Input::Byte(b) => g.incoming_data(&mut target, b),
                    Input::Packet(body) => {
                        let reply = target.own_packet(&body);
                        if let Err(e) = g.borrow_conn().reply(!reader.no_ack, &reply) {
                            tracing::debug!("GDB connection: write failed: {e}");
                            break End::Lost;
                        }
                        Ok(g.into())
                    }
                    Input::Resend => {
                        if let Err(e) = g.borrow_conn().resend() {
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
                // The firmware's semihosting output, as written (host/semihosting.rs).
                let out = std::mem::take(&mut target.output);
                if let Err(e) = g.borrow_conn().console_bytes(&out) {
                    tracing::debug!("GDB connection: write failed: {e}");
                    break End::Lost;
                }
                // A semihosting File-I/O request for GDB (gdb/fileio.rs).
                if let Some(req) = target.fileio_out.take()
                    && let Err(e) = g.borrow_conn().reply(false, req.as_bytes())
                {
                    tracing::debug!("GDB connection: write failed: {e}");
                    break End::Lost;
                }
                if let Some(reason) = stop {
                    let multiprocess = reader
                        .supported
                        .as_ref()
                        .is_some_and(|q| q.windows(13).any(|w| w == b"multiprocess+"));
                    let thread = if multiprocess { "p1.1" } else { "1" };
                    g.borrow_conn().expedite =
                        target.expedite.take().map(|r| (thread.to_string(), r));
                    g.report_stop(&mut target, reason)
                } else {
                    match reader.next_input() {
                        Input::Byte(b) => g.incoming_data(&mut target, b),
                        Input::Packet(body) if target.fileio_waiting => {
                            let ack = !reader.no_ack;
                            let r = match target.fileio_packet(&body) {
                                Some(reply) => g.borrow_conn().reply(ack, &reply),
                                None => g.borrow_conn().ack(ack),
                            };
                            if let Err(e) = r {
                                tracing::debug!("GDB connection: write failed: {e}");
                                break End::Lost;
                            }
                            Ok(g.into())
                        }
                        Input::Packet(_) => {
                            // In all-stop mode GDB sends nothing but Ctrl-C while the target
                            // runs; answer an error, as it expects a reply.
                            if let Err(e) = g.borrow_conn().reply(!reader.no_ack, b"E01") {
                                tracing::debug!("GDB connection: write failed: {e}");
                                break End::Lost;
                            }
                            Ok(g.into())
                        }
                        Input::Resend => {
                            if let Err(e) = g.borrow_conn().resend() {
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
            Err(e) if e.is_connection_error() => {
                tracing::debug!("GDB connection closed: {e}");
                break End::Lost;
            }
            Err(e) if e.is_target_error() => {
                // Only GdbError::HostGone is fatal: stdbg is shutting down.
                tracing::debug!("GDB connection: {e}");
                break End::Shutdown;
            }
            Err(e) => {
                // gdbstub rejected a packet (arguments it cannot parse, a value wider than the
                // target's 32 bits, a request it finds unexpected): answer an error and go on
                // with a fresh state machine (see `wire`).
                rejected += 1;
                let body = String::from_utf8_lossy(&reader.last_body).into_owned();
                let shown: String = body.chars().take(80).collect();
                tracing::debug!(
                    "GDB: packet '{shown}' refused ({}); answered E01",
                    crate::log::clean_message(&e.to_string())
                );
                let Some(mut fresh) = new_machine(&stream, &mut target, &reader) else {
                    break End::Lost;
                };
                if let Err(e) = conn_of(&mut fresh).reply(!reader.no_ack, b"E01") {
                    tracing::debug!("GDB connection: write failed: {e}");
                    break End::Lost;
                }
                fresh
            }
        };
    };
    let st = reader.stats;
    if rejected + st.bad_checksums + st.oversized + st.stray > 0 {
        tracing::debug!(
            "GDB connection: {rejected} packets refused, {} bad checksums NAKed, {} oversized packets dropped, {} stray bytes ignored",
            st.bad_checksums,
            st.oversized,
            st.stray
        );
    }
    match end {
        End::Detach if !target.sessions.is_primary(id) => tracing::info!(
            "GDB detached; the target's run state is left to the first GDB connection"
        ),
        End::Detach => tracing::info!("GDB detached; the target resumes"),
        End::Kill => {
            tracing::info!("GDB sent kill; the connection is closed, the target stays halted")
        }
        End::Lost => tracing::info!("GDB connection closed without detach"),
        End::Shutdown => tracing::info!("closing the GDB connection: stdbg is shutting down"),
    }
    target.end_session(end == End::Detach);
}
