//! The remote_bitbang server: the virtual chip's JTAG pins ([`JtagPort`]) over OpenOCD 0.12's
//! `remote_bitbang` protocol (`src/jtag/drivers/remote_bitbang.c`), so that OpenOCD (`adapter
//! driver remote_bitbang; remote_bitbang port N; transport select jtag`) or stdbg's own client
//! adapter can debug it.
//!
//! Bytes: `'0'`–`'7'` set TCK (4), TMS (2), TDI (1); `'R'` reads TDO, answered `'0'`/`'1'`;
//! `'r'`–`'u'` set TRST (2) and SRST (1), 1 = asserted; `'B'`/`'b'` (LED) are accepted;
//! `'Q'` ends the connection. The SWD extension of newer OpenOCD clients drives the chip's SWD
//! pins ([`SwdPort`]): `'O'`/`'o'` switch the host's SWDIO output on/off, `'d'`–`'g'` set SWCLK
//! (2) and SWDIO (1), `'c'` reads SWDIO, answered `'0'`/`'1'`. Other bytes are ignored with one
//! warning per connection. Input is handled in chunks of up to 64 KiB and
//! the TDO answers of a chunk are sent together, so memory stays bounded whatever a client
//! sends. One thread per connection; each connection has its own TAP state.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::sim::{JtagPort, Sim, SwdPort};

/// Bytes read and handled at once.
const CHUNK: usize = 64 << 10;

/// What crossed the wire, summed over the server's connections (for `cargo bench --bench race`).
#[derive(Debug, Default)]
pub struct WireCounters {
    /// Bytes received from clients.
    pub bytes_in: AtomicU64,
    /// Bytes sent to clients (TDO answers).
    pub bytes_out: AtomicU64,
    /// Answer batches sent: each is a TCP round trip the client waited for.
    pub round_trips: AtomicU64,
}

impl WireCounters {
    /// (bytes in, bytes out, round trips) so far.
    pub fn get(&self) -> (u64, u64, u64) {
        (
            self.bytes_in.load(Ordering::Relaxed),
            self.bytes_out.load(Ordering::Relaxed),
            self.round_trips.load(Ordering::Relaxed),
        )
    }
}

/// Serves `sim` on `listener` until `stop` turns true.
pub fn run(listener: TcpListener, sim: Sim, stop: watch::Receiver<bool>) {
    run_counted(listener, sim, stop, Arc::default())
}

/// [`run`], adding what crosses the wire to `counters`.
pub fn run_counted(
    listener: TcpListener,
    sim: Sim,
    stop: watch::Receiver<bool>,
    counters: Arc<WireCounters>,
) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    if let Err(e) = listener.set_nonblocking(true) {
        tracing::error!("remote_bitbang server: {e}");
        return;
    }
    loop {
        if *stop.borrow() {
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                tracing::info!("accepting 'remote_bitbang' connection on tcp/{port}");
                let port_pins = Pins::new(&sim);
                let stop = stop.clone();
                let counters = counters.clone();
                let _ = std::thread::Builder::new()
                    .name("stdbg-rbb".into())
                    .spawn(move || {
                        if let Err(e) = session(stream, port_pins, stop, &counters) {
                            tracing::debug!("remote_bitbang connection: {e}");
                        }
                        tracing::info!("dropped 'remote_bitbang' connection");
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                tracing::warn!("remote_bitbang: accepting a connection failed: {e}; retrying");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// The chip's pins one connection drives: JTAG, and SWD for the SWD extension.
pub struct Pins {
    /// TCK, TMS, TDI, TDO, TRST, SRST.
    pub jtag: JtagPort,
    /// SWCLK, SWDIO (the same balls as TCK and TMS on an STM32).
    pub swd: SwdPort,
}

impl Pins {
    /// `sim`'s pins, TAPs in Test-Logic-Reset.
    pub fn new(sim: &Sim) -> Pins {
        Pins {
            jtag: sim.jtag_port(),
            swd: sim.swd_port(),
        }
    }
}

/// Handles `input` on `pins`; TDO and SWDIO answers go to `out`. Returns false at `'Q'`.
pub fn handle(pins: &mut Pins, input: &[u8], out: &mut Vec<u8>, warned: &mut bool) -> bool {
    let bit = |v: bool| if v { b'1' } else { b'0' };
    for &b in input {
        match b {
            b'0'..=b'7' => {
                let v = b - b'0';
                pins.jtag.write(v & 4 != 0, v & 2 != 0, v & 1 != 0);
            }
            b'R' => out.push(bit(pins.jtag.tdo())),
            b'r'..=b'u' => {
                let v = b - b'r';
                pins.jtag.reset(v & 2 != 0, v & 1 != 0);
            }
            b'O' | b'o' => pins.swd.drive(b == b'O'),
            b'd'..=b'g' => {
                let v = b - b'd';
                pins.swd.write(v & 2 != 0, v & 1 != 0);
            }
            b'c' => out.push(bit(pins.swd.swdio())),
            b'B' | b'b' => {}
            b'Q' => return false,
            b'\n' | b'\r' | b' ' => {}
            other => {
                if !*warned {
                    *warned = true;
                    tracing::warn!(
                        "remote_bitbang: ignoring command byte 0x{other:02x}: not a command of OpenOCD's remote_bitbang protocol (JTAG, reset, SWD extension)"
                    );
                }
            }
        }
    }
    true
}

fn session(
    mut stream: TcpStream,
    mut pins: Pins,
    stop: watch::Receiver<bool>,
    counters: &WireCounters,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut buf = vec![0u8; CHUNK];
    let mut out = Vec::with_capacity(CHUNK);
    let mut warned = false;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        out.clear();
        let go_on = handle(&mut pins, &buf[..n], &mut out, &mut warned);
        if !out.is_empty() {
            stream.write_all(&out)?;
            counters
                .bytes_out
                .fetch_add(out.len() as u64, Ordering::Relaxed);
            counters.round_trips.fetch_add(1, Ordering::Relaxed);
        }
        if !go_on {
            return Ok(());
        }
    }
}
