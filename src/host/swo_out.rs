//! Where captured SWO bytes go (`<tpiu> configure -output`), and the small decoders that turn
//! them into console text: the TPIU formatter's frames (CoreSight Components TRM DDI 0314H
//! §9.6.1) and ITM packets (ARMv7-M ARM §D4.2).
//!
//! The outputs get the bytes as the probe captured them (formatter frames included, as
//! OpenOCD's `arm_tpiu_swo_poll_trace` writes them): a file opened for appending, or every
//! client of a TCP server on 127.0.0.1 (cortex-debug connects there and reads raw bytes). The
//! consoles get ITM stimulus port 0 as text lines, `[itm0] hello 3`.
//!
//! No maintained crate fits the decoding: the `itm` crate on crates.io is a release candidate
//! (0.9.0-rc) built around timestamp correlation with many dependencies; probe-rs decodes
//! formatter frames only for its trace memory path (private `tmc::Frame`).

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use super::lines::LineBuffer;
use super::rtt_server::Server;

/// Why an output could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SwoOutputError {
    /// Listening failed.
    #[error(
        "Can't configure trace TCP port {port}: {source}. Choose another port with '-output :PORT' (':0' picks a free one)"
    )]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// Opening the file failed.
    #[error(
        "Can't open trace destination file \"{}\": {source}. Check that the directory exists and is writable",
        path.display()
    )]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A raw-byte output.
pub enum Sink {
    /// Appended to a file.
    File(std::fs::File),
    /// Sent to every connected client.
    Tcp(TcpServer),
    /// Nowhere but the consoles (`-output -`, `external`, or none).
    None,
}

impl Sink {
    /// Opens the output named by `-output`: `:PORT` (TCP on 127.0.0.1), `-` or `external`
    /// (none), else a file path.
    pub fn open(spec: Option<&str>) -> Result<Sink, SwoOutputError> {
        match spec {
            None | Some("") | Some("-") | Some("external") => Ok(Sink::None),
            Some(s) if s.starts_with(':') => {
                let port: u16 = s[1..].parse().unwrap_or(0);
                TcpServer::start(port).map(Sink::Tcp)
            }
            Some(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(Sink::File)
                .map_err(|source| SwoOutputError::File {
                    path: path.into(),
                    source,
                }),
        }
    }

    /// Passes `bytes` on. A failing file write is returned; a TCP client that fails is dropped.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.write_all(bytes).and_then(|()| f.flush()),
            Sink::Tcp(t) => {
                t.send(bytes);
                Ok(())
            }
            Sink::None => Ok(()),
        }
    }

    /// The TCP port listened on, if a server.
    pub fn port(&self) -> Option<u16> {
        match self {
            Sink::Tcp(t) => Some(t.addr.port()),
            _ => None,
        }
    }
}

/// The TCP output on 127.0.0.1 (OpenOCD's `tpiu_swo_trace` service): every byte to every
/// client, through the RTT servers' fan-out server (a slow client never blocks the poll).
pub struct TcpServer {
    /// The address listened on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    server: Server,
}

impl TcpServer {
    fn start(port: u16) -> Result<TcpServer, SwoOutputError> {
        let l = TcpListener::bind(("127.0.0.1", port))
            .map_err(|source| SwoOutputError::Bind { port, source })?;
        let addr = l
            .local_addr()
            .map_err(|source| SwoOutputError::Bind { port, source })?;
        Ok(TcpServer {
            addr,
            server: Server::serve_on(l, 0, None, false),
        })
    }

    fn send(&self, bytes: &[u8]) {
        self.server.send(bytes);
    }
}

/// Undoes the TPIU formatter (DDI 0314H §9.6.1): 16-byte frames in, the bytes of trace
/// source `want` out. Keeps a partial frame between calls.
#[derive(Debug, Default)]
pub struct Deformatter {
    buf: Vec<u8>,
    id: u8,
}

impl Deformatter {
    /// Feeds captured bytes; returns the data bytes of source `want`.
    pub fn feed(&mut self, bytes: &[u8], want: u8) -> Vec<u8> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let whole = self.buf.len() / 16 * 16;
        for f in self.buf[..whole].chunks_exact(16) {
            // A full-frame synchronisation packet (0x7FFFFFFF) carries nothing.
            if f[12..16] == [0xFF, 0xFF, 0xFF, 0x7F] {
                continue;
            }
            let mut i = 0;
            while i < 15 {
                let b = f[i];
                let lsb = (f[15] >> (i >> 1)) & 1;
                if i & 1 == 1 {
                    if self.id == want {
                        out.push(b);
                    }
                } else if b & 1 == 0 {
                    if self.id == want {
                        out.push(b | lsb);
                    }
                } else {
                    let new = b >> 1;
                    let next = if lsb == 1 { self.id } else { new };
                    self.id = new;
                    if i < 14 {
                        i += 1;
                        if next == want {
                            out.push(f[i]);
                        }
                    }
                }
                i += 1;
            }
        }
        self.buf.drain(..whole);
        out
    }
}

/// One decoded ITM packet that matters to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItmPacket {
    /// A software-source (instrumentation) packet: stimulus port and payload (1, 2 or 4 bytes,
    /// as written).
    Instrumentation { port: u8, payload: Vec<u8> },
    /// The ITM's FIFO overflowed: packets were lost (§D4.2.3).
    Overflow,
}

/// A streaming ITM packet decoder (ARMv7-M ARM §D4.2): synchronisation (≥ 47 zero bits then
/// a 1, §D4.2.1), overflow 0x70 (§D4.2.3), local timestamps (§D4.2.4: header `CTTT0000`, with
/// continuation bytes when C = 1), extension packets (§D4.2.5), global timestamps 0x94/0xB4
/// (continuation-coded), and source packets (§D4.2.7/8: header `AAAAASS` with SS = 1/2/4-byte
/// payload; bit 2 set for hardware (DWT) sources, skipped).
#[derive(Debug, Default)]
pub struct ItmDecoder {
    /// Bytes of the packet being assembled.
    cur: Vec<u8>,
    /// Payload bytes still expected for a source packet.
    need: usize,
    /// In a continuation-coded packet (timestamp or extension).
    cont: bool,
    /// Consecutive zero bytes (synchronisation).
    zeros: u8,
}

impl ItmDecoder {
    /// Feeds bytes; returns the packets completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<ItmPacket> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.cont {
                self.cont = b & 0x80 != 0;
                continue;
            }
            if self.need > 0 {
                self.cur.push(b);
                self.need -= 1;
                if self.need == 0 {
                    let h = self.cur[0];
                    if h & 0x04 == 0 {
                        out.push(ItmPacket::Instrumentation {
                            port: h >> 3,
                            payload: self.cur[1..].to_vec(),
                        });
                    }
                    self.cur.clear();
                }
                continue;
            }
            if b == 0 {
                self.zeros = self.zeros.saturating_add(1);
                continue;
            }
            if self.zeros > 0 {
                self.zeros = 0;
                if b == 0x80 {
                    continue; // the end of a synchronisation packet
                }
            }
            match b {
                0x70 => out.push(ItmPacket::Overflow),
                _ if b & 0x03 != 0 => {
                    self.need = match b & 0x03 {
                        1 => 1,
                        2 => 2,
                        _ => 4,
                    };
                    self.cur.clear();
                    self.cur.push(b);
                }
                // Local timestamp (CTTT0000), extension (xxxx1x00), global timestamp (1001x100).
                _ => self.cont = b & 0x80 != 0,
            }
        }
        out
    }
}

/// Port 0 text as console lines (the shared [`LineBuffer`]), control characters shown as `.`.
#[derive(Debug, Default)]
pub struct ItmLines(LineBuffer);

impl ItmLines {
    /// Feeds text bytes; returns the finished lines (without their prefix).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.0
            .feed(bytes)
            .iter()
            .map(|l| {
                String::from_utf8_lossy(l)
                    .chars()
                    .map(|c| if c.is_control() { '.' } else { c })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itm_packets_across_calls_with_sync_timestamps_and_overflow() {
        let mut d = ItmDecoder::default();
        let mut all = d.feed(&[0, 0, 0, 0, 0, 0x80, 0x01, b'h']);
        all.extend(d.feed(&[0x0A, 0x34]));
        all.extend(d.feed(&[0x12, 0xC0, 0x85, 0x01, 0x70, 0x0B, 1, 2, 3, 4, 0x05, 9]));
        assert_eq!(
            all,
            [
                ItmPacket::Instrumentation {
                    port: 0,
                    payload: vec![b'h']
                },
                ItmPacket::Instrumentation {
                    port: 1,
                    payload: vec![0x34, 0x12]
                },
                ItmPacket::Overflow,
                ItmPacket::Instrumentation {
                    port: 1,
                    payload: vec![1, 2, 3, 4]
                },
            ]
        );
    }

    #[test]
    fn lines_drop_cr_and_show_control_characters() {
        let mut l = ItmLines::default();
        assert!(l.feed(b"hel").is_empty());
        assert_eq!(l.feed(b"lo 3\r\nx\x07y\n"), ["hello 3", "x.y"]);
    }

    #[test]
    fn deformatter_keeps_partial_frames() {
        let mut f = [0u8; 16];
        f[0] = 0x03; // ID 1
        f[1] = b'a';
        f[2] = b'b' & 0xFE;
        f[15] = (b'b' & 1) << 1;
        f[3] = b'c';
        f[4] = 0x01; // ID 0 (padding) from here
        let mut d = Deformatter::default();
        assert!(d.feed(&f[..7], 1).is_empty());
        assert_eq!(d.feed(&f[7..], 1), b"abc");
    }
}
