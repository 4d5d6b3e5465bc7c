//! A raw GDB Remote Serial Protocol client for tests that send what a real GDB would not:
//! bad checksums, stray bytes, oversized or malformed packets.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `$body#cs`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    let mut v = vec![b'$'];
    v.extend_from_slice(body);
    v.extend_from_slice(format!("#{sum:02x}").as_bytes());
    v
}

/// Expands run-length encoding (`X*n`: n − 29 more copies of X; RSP "Binary Data").
pub fn unrle(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'*' && i + 1 < b.len() && !out.is_empty() {
            let last = *out.last().unwrap();
            for _ in 0..(b[i + 1] as usize).saturating_sub(29) {
                out.push(last);
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// One connection to a GDB server.
pub struct Rsp {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl Rsp {
    /// Connects to `127.0.0.1:port`.
    pub fn connect(port: u16) -> Rsp {
        let sock = TcpStream::connect(("127.0.0.1", port)).expect("connect to the GDB port");
        sock.set_nodelay(true).unwrap();
        Rsp {
            sock,
            buf: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).expect("send to the GDB server");
    }

    /// Reads until `pred(buffer)` gives a cut position or `limit` passes; returns the bytes up to
    /// the cut (removed from the buffer), or `None` on timeout or a closed connection.
    fn read_until(
        &mut self,
        limit: Duration,
        pred: impl Fn(&[u8]) -> Option<usize>,
    ) -> Option<Vec<u8>> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(n) = pred(&self.buf) {
                return Some(self.buf.drain(..n).collect());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.sock
                .set_read_timeout(Some(left.min(Duration::from_millis(100))))
                .unwrap();
            let mut b = [0u8; 65536];
            match self.sock.read(&mut b) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&b[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return None,
            }
        }
    }

    /// The next single acknowledgement byte (`+` or `-`), skipping nothing.
    pub fn ack(&mut self, limit: Duration) -> Option<u8> {
        self.read_until(limit, |b| (!b.is_empty()).then_some(1))
            .map(|v| v[0])
    }

    /// The body of the next complete packet (acks and `O` console packets before it skipped).
    pub fn packet(&mut self, limit: Duration) -> Option<Vec<u8>> {
        loop {
            let p = self.read_until(limit, |b| {
                let start = b.iter().position(|&c| c == b'$')?;
                let hash = start + b[start..].iter().position(|&c| c == b'#')?;
                (b.len() >= hash + 3).then_some(hash + 3)
            })?;
            let start = p.iter().position(|&c| c == b'$')?;
            let body = unrle(&p[start + 1..p.len() - 3]);
            if body.first() == Some(&b'O') && body.len() > 1 && body != b"OK" {
                continue;
            }
            return Some(body);
        }
    }

    /// The body of the next complete packet, `O` console packets included (acks skipped).
    pub fn packet_raw(&mut self, limit: Duration) -> Option<Vec<u8>> {
        let p = self.read_until(limit, |b| {
            let start = b.iter().position(|&c| c == b'$')?;
            let hash = start + b[start..].iter().position(|&c| c == b'#')?;
            (b.len() >= hash + 3).then_some(hash + 3)
        })?;
        let start = p.iter().position(|&c| c == b'$')?;
        Some(unrle(&p[start + 1..p.len() - 3]))
    }

    /// Sends `body` as a packet and returns the reply's body (5 s limit).
    pub fn ask(&mut self, body: &str) -> Option<String> {
        self.raw(&frame(body.as_bytes()));
        self.packet(Duration::from_secs(5))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}
