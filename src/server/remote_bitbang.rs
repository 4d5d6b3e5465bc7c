//! The remote_bitbang server: the virtual chip's JTAG pins ([`JtagPort`]) over OpenOCD 0.12's
//! `remote_bitbang` protocol (`src/jtag/drivers/remote_bitbang.c`), so that OpenOCD (`adapter
//! driver remote_bitbang; remote_bitbang port N; transport select jtag`) or stdbg's own client
//! adapter can debug it.
//!
//! Bytes: `'0'`–`'7'` set TCK (4), TMS (2), TDI (1); `'R'` reads TDO, answered `'0'`/`'1'`;
//! `'r'`–`'u'` set TRST (2) and SRST (1), 1 = asserted; `'B'`/`'b'` (LED) are accepted;
//! `'Q'` ends the connection; other bytes (the newer SWD extension's `'O'`, `'c'`…) are
//! ignored with one warning per connection. Input is handled in chunks of up to 64 KiB and
//! the TDO answers of a chunk are sent together, so memory stays bounded whatever a client
//! sends. One thread per connection; each connection has its own TAP state.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use tokio::sync::watch;

use crate::sim::{JtagPort, Sim};

/// Bytes read and handled at once.
const CHUNK: usize = 64 << 10;

/// Serves `sim` on `listener` until `stop` turns true.
pub fn run(listener: TcpListener, sim: Sim, stop: watch::Receiver<bool>) {
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
                let port_pins = sim.jtag_port();
                let stop = stop.clone();
                let _ = std::thread::Builder::new()
                    .name("stdbg-rbb".into())
                    .spawn(move || {
                        if let Err(e) = session(stream, port_pins, stop) {
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

/// Handles `input` on `pins`; TDO answers go to `out`. Returns false at `'Q'`.
pub fn handle(pins: &mut JtagPort, input: &[u8], out: &mut Vec<u8>, warned: &mut bool) -> bool {
    for &b in input {
        match b {
            b'0'..=b'7' => {
                let v = b - b'0';
                pins.write(v & 4 != 0, v & 2 != 0, v & 1 != 0);
            }
            b'R' => out.push(if pins.tdo() { b'1' } else { b'0' }),
            b'r'..=b'u' => {
                let v = b - b'r';
                pins.reset(v & 2 != 0, v & 1 != 0);
            }
            b'B' | b'b' => {}
            b'Q' => return false,
            b'\n' | b'\r' | b' ' => {}
            other => {
                if !*warned {
                    *warned = true;
                    tracing::warn!(
                        "remote_bitbang: ignoring command byte 0x{other:02x}: this server speaks the JTAG commands of OpenOCD 0.12's protocol"
                    );
                }
            }
        }
    }
    true
}

fn session(
    mut stream: TcpStream,
    mut pins: JtagPort,
    stop: watch::Receiver<bool>,
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
        out.clear();
        let go_on = handle(&mut pins, &buf[..n], &mut out, &mut warned);
        if !out.is_empty() {
            stream.write_all(&out)?;
        }
        if !go_on {
            return Ok(());
        }
    }
}
