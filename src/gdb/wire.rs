//! The byte layer in front of gdbstub: framing, acknowledgements and the packets gdbstub 0.7.8
//! must not see.
//!
//! gdbstub ends the whole session on any protocol error: a `-` (NAK) from the client ("doesn't
//! implement re-transmission"), a bad checksum, a byte other than `$`, `+`, `-` or 0x03 between
//! packets, an oversized packet, a known packet with arguments it cannot parse (a bare
//! `qSupported`, an address wider than the target's 32 bits) or one it finds unexpected. The
//! GDB Remote Serial Protocol ("Overview", "Packet Acknowledgment") asks for none of that: a
//! receiver NAKs a damaged packet and the sender retransmits; anything outside a packet is
//! ignored. This layer does what the RSP asks before gdbstub sees the bytes:
//!
//! - it frames packets itself and caps them at [`super::PACKET_SIZE`] (what `qSupported` tells
//!   GDB as `PacketSize`): a longer one is discarded up to the next `$` and NAKed, so nothing is
//!   buffered without bound;
//! - it checks each checksum: a bad one gets `-` and GDB retransmits (in no-ack mode, where no
//!   NAK exists, the packet is dropped);
//! - between packets it passes `+` and the interrupt byte 0x03 on, answers `-` by sending its
//!   last packet again ([`BufConn::resend`]) and drops every other byte;
//! - it answers some packets itself ([`Frame::Own`]): `qCRC` (gdbstub mistakes it for a
//!   malformed `qC`), and any packet while the target runs (in all-stop mode GDB sends only
//!   0x03 then);
//! - a bare `qSupported` (valid RSP: the feature list is optional) is passed on as
//!   `qSupported:multiprocess-`, which means the same and which gdbstub parses.
//!
//! What is left, a packet gdbstub still rejects, is handled by the session (`super::session`):
//! it answers `E01`, rebuilds gdbstub's state machine with the same protocol state (no-ack
//! mode, the client's `qSupported` features) and carries on. A client is disconnected only when
//! its connection is gone.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use super::PACKET_SIZE;

/// Frames a packet body: `$body#cs`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let sum = checksum(body);
    let mut v = Vec::with_capacity(body.len() + 4);
    v.push(b'$');
    v.extend_from_slice(body);
    v.extend_from_slice(format!("#{sum:02x}").as_bytes());
    v
}

/// The RSP checksum: the sum of the body's bytes modulo 256.
pub fn checksum(body: &[u8]) -> u8 {
    body.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}

/// An `O` (console output) packet carrying `text`, hex encoded.
pub fn console_packet(text: &str) -> Vec<u8> {
    console_packet_bytes(text.as_bytes())
}

/// An `O` packet carrying raw bytes, hex encoded.
pub fn console_packet_bytes(text: &[u8]) -> Vec<u8> {
    let mut body = String::with_capacity(1 + text.len() * 2);
    body.push('O');
    for &b in text {
        body.push_str(&format!("{b:02x}"));
    }
    frame(body.as_bytes())
}

/// The connection gdbstub writes to: buffers a packet and sends it in one write at `flush`, and
/// keeps the last packet sent so that a NAK can be answered by sending it again.
pub struct BufConn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The last packet sent (`$…#xx`, without a leading `+`), for [`BufConn::resend`].
    last: Vec<u8>,
    /// While set, output is discarded (replaying the client's protocol state into a rebuilt
    /// gdbstub, see `super::session`).
    pub mute: bool,
    /// The thread id (`p1.1`, or `1` without multiprocess) and the registers to expedite in
    /// the next stop reply written (see [`expedite`]); taken by the next flush.
    pub expedite: Option<(String, Vec<(u8, u32)>)>,
}

impl BufConn {
    /// Wraps a connected socket.
    pub fn new(stream: TcpStream) -> Self {
        BufConn {
            stream,
            buf: Vec::with_capacity(PACKET_SIZE),
            last: Vec::new(),
            mute: false,
            expedite: None,
        }
    }

    /// Sends console lines to GDB as `O` packets (only valid while GDB waits for a stop reply).
    pub fn console(&mut self, lines: &[String]) -> std::io::Result<()> {
        for l in lines {
            self.send(&console_packet(&format!("{l}\n")))?;
        }
        Ok(())
    }

    /// Sends raw console output to GDB as `O` packets of up to 1 KiB each (only valid while GDB
    /// waits for a stop reply).
    pub fn console_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        for chunk in bytes.chunks(1024) {
            self.send(&console_packet_bytes(chunk))?;
        }
        Ok(())
    }

    /// Sends stdbg's own reply to an intercepted packet (acknowledged first unless no-ack).
    pub fn reply(&mut self, ack: bool, body: &[u8]) -> std::io::Result<()> {
        if ack {
            self.stream.write_all(b"+")?;
        }
        self.send(&frame(body))
    }

    /// Acknowledges a packet (`+`) unless in no-ack mode.
    pub fn ack(&mut self, ack: bool) -> std::io::Result<()> {
        if ack && !self.mute {
            self.stream.write_all(b"+")?;
        }
        Ok(())
    }

    /// Sends the last packet again: the client NAKed it (`-`).
    pub fn resend(&mut self) -> std::io::Result<()> {
        if self.last.is_empty() {
            return Ok(());
        }
        self.stream.write_all(&self.last)
    }

    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.mute {
            return Ok(());
        }
        self.remember(bytes);
        self.stream.write_all(bytes)
    }

    /// Keeps the last `$…#xx` of `bytes` for [`BufConn::resend`].
    fn remember(&mut self, bytes: &[u8]) {
        if let Some(start) = bytes.iter().rposition(|&b| b == b'$') {
            self.last.clear();
            self.last.extend_from_slice(&bytes[start..]);
        }
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
        if self.mute {
            self.buf.clear();
            return Ok(());
        }
        if !self.buf.is_empty() {
            let mut out = std::mem::take(&mut self.buf);
            if let Some((thread, regs)) = self.expedite.take() {
                out = expedite(&out, &thread, &regs);
            }
            self.remember(&out);
            Write::write_all(&mut self.stream, &out)?;
        }
        Write::flush(&mut self.stream)
    }
}

/// Adds expedited registers to a stop reply (GDB RSP "Stop Reply Packets"): `$S05#xx` becomes
/// `$T05thread:<thread>;` followed by `nn:value;` for each `(number, value)` of `regs` (remote
/// register number, value in target byte order); a `$T05thread:…;…` reply gets them after its
/// thread field. GDB keeps expedited values only when the reply names the thread before them
/// (it cannot tell the architecture otherwise) and then needs no `g` packet if they are all it
/// uses. Any other bytes are returned unchanged; bytes before the `$` (an ack) are kept.
pub fn expedite(out: &[u8], thread: &str, regs: &[(u8, u32)]) -> Vec<u8> {
    let Some(start) = out.iter().position(|&b| b == b'$') else {
        return out.to_vec();
    };
    let Some(hash) = out.iter().rposition(|&b| b == b'#') else {
        return out.to_vec();
    };
    if hash < start + 4 || hash + 3 != out.len() {
        return out.to_vec();
    }
    let body = &out[start + 1..hash];
    if !body[1..3].iter().all(u8::is_ascii_hexdigit) {
        return out.to_vec();
    }
    let (head, rest): (Vec<u8>, &[u8]) = match body[0] {
        b'S' if body.len() == 3 => {
            let mut h = b"T".to_vec();
            h.extend_from_slice(&body[1..3]);
            h.extend_from_slice(format!("thread:{thread};").as_bytes());
            (h, &[])
        }
        b'T' if body[3..].starts_with(b"thread:") => {
            let Some(semi) = body.iter().skip(3).position(|&b| b == b';') else {
                return out.to_vec();
            };
            let cut = 3 + semi + 1;
            (body[..cut].to_vec(), &body[cut..])
        }
        _ => return out.to_vec(),
    };
    let mut new = head;
    for (n, v) in regs {
        let le = v.to_le_bytes();
        new.extend_from_slice(
            format!(
                "{n:02x}:{:02x}{:02x}{:02x}{:02x};",
                le[0], le[1], le[2], le[3]
            )
            .as_bytes(),
        );
    }
    new.extend_from_slice(rest);
    let mut v = out[..start].to_vec();
    v.extend_from_slice(&frame(&new));
    v
}

/// What the session gets from the client.
pub enum Input {
    /// A byte for gdbstub.
    Byte(u8),
    /// A complete packet stdbg answers itself (body without `$`/`#xx`), see [`Frame::Own`].
    Packet(Vec<u8>),
    /// The client NAKed stdbg's last packet: send it again.
    Resend,
    /// Nothing arrived within the socket's read timeout.
    Timeout,
    /// The connection is gone.
    Closed,
}

/// How a complete, valid packet is handled.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Pass these bytes (a whole `$…#xx` frame) to gdbstub.
    Stub(Vec<u8>),
    /// stdbg answers it (the body).
    Own(Vec<u8>),
}

/// Packets stdbg answers instead of gdbstub 0.7.8: `qCRC` (gdbstub would end the session,
/// mistaking it for a malformed `qC`).
pub fn intercepted(body: &[u8]) -> bool {
    body.starts_with(b"qCRC:")
}

/// Decides what happens to a packet body: rewritten for gdbstub, or answered by stdbg.
/// `running`: the target runs for GDB (then every packet is answered by stdbg, see the module
/// documentation).
pub fn route(body: &[u8], running: bool) -> Frame {
    if running || intercepted(body) {
        return Frame::Own(body.to_vec());
    }
    Frame::Stub(for_stub(body))
}

/// The frame gdbstub gets for a packet body: the body itself, except that a bare `qSupported`
/// (no feature list) becomes `qSupported:multiprocess-`, which means the same (gdbstub parses
/// neither the bare form nor an empty list).
pub fn for_stub(body: &[u8]) -> Vec<u8> {
    if body == b"qSupported" || body == b"qSupported:" {
        return frame(b"qSupported:multiprocess-");
    }
    frame(body)
}

/// Statistics of what the layer did, for the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WireStats {
    /// Packets NAKed because of a bad checksum.
    pub bad_checksums: u64,
    /// Packets discarded because they exceeded [`PACKET_SIZE`].
    pub oversized: u64,
    /// Bytes outside packets that were dropped.
    pub stray: u64,
}

/// Reads the client's bytes with a timeout (so the session can poll the target and notice
/// shutdown) and applies the rules of the module documentation.
pub struct Reader {
    stream: TcpStream,
    /// Input ready for the session.
    pending: VecDeque<Input>,
    /// A packet being received, from its `$`; `hash` is where its `#` is.
    packet: Option<Vec<u8>>,
    hash: Option<usize>,
    /// Discarding an oversized packet until the next `$`.
    skipping: bool,
    /// Whether GDB asked for no-ack mode (then stdbg's own replies are not preceded by `+`,
    /// and NAKs do not exist).
    pub no_ack: bool,
    /// The target runs for GDB (set by the session before each read).
    pub running: bool,
    /// Counts packets that may change target memory (see [`keeps_reads_valid`]); the read-ahead
    /// cache of the GDB target is only used while it stays the same.
    pub epoch: u64,
    /// Like `epoch`, but single steps (`s`, `vCont;s…`, see [`keeps_code_valid`]) do not count:
    /// the flash read ahead stays valid across them (the GDB target drops it itself when a step
    /// ran with the flash controller unlocked).
    pub code_epoch: u64,
    /// The body of the last packet passed to gdbstub, for the log when gdbstub rejects it.
    pub last_body: Vec<u8>,
    /// The client's last `qSupported` body, replayed into a rebuilt gdbstub.
    pub supported: Option<Vec<u8>>,
    /// What was dropped or refused so far.
    pub stats: WireStats,
}

/// Packets after which memory read before is still what the target holds: reads (`m`, `g`,
/// `p`), queries other than `qRcmd` (a monitor command may write memory or run the core) and
/// `vCont?`.
pub fn keeps_reads_valid(body: &[u8]) -> bool {
    match body.first() {
        Some(b'm' | b'g' | b'p') => true,
        Some(b'q') => !body.starts_with(b"qRcmd"),
        Some(b'v') => body == b"vCont?",
        _ => false,
    }
}

/// Packets after which flash read before is still what the target holds, as far as the
/// packet goes: those of [`keeps_reads_valid`] and single steps (one instruction can only
/// change flash through an unlocked flash controller, which the step checks).
pub fn keeps_code_valid(body: &[u8]) -> bool {
    keeps_reads_valid(body) || body.first() == Some(&b's') || body.starts_with(b"vCont;s")
}

impl Reader {
    /// A reader of `stream` (which should have a read timeout).
    pub fn new(stream: TcpStream) -> Reader {
        Reader {
            stream,
            pending: VecDeque::new(),
            packet: None,
            hash: None,
            skipping: false,
            no_ack: false,
            running: false,
            epoch: 0,
            code_epoch: 0,
            last_body: Vec::new(),
            supported: None,
            stats: WireStats::default(),
        }
    }

    /// The next input (waits up to the socket's read timeout).
    pub fn next_input(&mut self) -> Input {
        loop {
            if let Some(i) = self.pending.pop_front() {
                return i;
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
            let naks = self.feed(&buf[..n]);
            if naks > 0 {
                let nak = vec![b'-'; naks];
                if self.stream.write_all(&nak).is_err() {
                    return Input::Closed;
                }
            }
        }
    }

    /// Processes received bytes into [`Input`]s; returns how many NAKs to send.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        let mut naks = 0;
        for &b in bytes {
            if self.skipping {
                if b != b'$' {
                    continue;
                }
                self.skipping = false;
            }
            let Some(p) = self.packet.as_mut() else {
                match b {
                    b'$' => {
                        self.packet = Some(vec![b'$']);
                        self.hash = None;
                    }
                    b'+' | 0x03 => self.pending.push_back(Input::Byte(b)),
                    b'-' => self.pending.push_back(Input::Resend),
                    _ => self.stats.stray += 1,
                }
                continue;
            };
            if b == b'$' && self.hash.is_none() {
                // A `$` cannot occur inside a packet (it is escaped in binary data): the
                // previous packet was cut short. Drop it and start again here.
                self.stats.stray += p.len() as u64;
                p.clear();
                p.push(b'$');
                continue;
            }
            p.push(b);
            if b == b'#' && self.hash.is_none() {
                self.hash = Some(p.len() - 1);
            }
            if p.len() > PACKET_SIZE {
                self.stats.oversized += 1;
                self.packet = None;
                self.skipping = true;
                if !self.no_ack {
                    naks += 1;
                }
                continue;
            }
            let Some(h) = self.hash else { continue };
            if p.len() < h + 3 {
                continue;
            }
            let p = self.packet.take().unwrap_or_default();
            let body = &p[1..h];
            let sum = std::str::from_utf8(&p[h + 1..h + 3])
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok());
            if sum != Some(checksum(body)) {
                // Damaged (or a fragment after a stray `$`): NAK so GDB sends it again; in
                // no-ack mode, where no NAK exists, drop it. Taking it as sent would run
                // whatever the fragment spells (a fuzz input turned `…$D<=S#95` into a detach).
                self.stats.bad_checksums += 1;
                if !self.no_ack {
                    naks += 1;
                }
                continue;
            }
            self.accept(body.to_vec());
        }
        naks
    }

    /// A complete, valid packet body.
    fn accept(&mut self, body: Vec<u8>) {
        if body == b"QStartNoAckMode" {
            self.no_ack = true;
        }
        if body.starts_with(b"qSupported") {
            self.supported = Some(body.clone());
        }
        if !keeps_reads_valid(&body) {
            self.epoch += 1;
        }
        if !keeps_code_valid(&body) {
            self.code_epoch += 1;
        }
        match route(&body, self.running) {
            Frame::Own(b) => self.pending.push_back(Input::Packet(b)),
            Frame::Stub(bytes) => {
                self.last_body = body;
                self.pending.extend(bytes.into_iter().map(Input::Byte));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> (Reader, TcpStream) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        (Reader::new(s), c)
    }

    fn drain(r: &mut Reader) -> (Vec<u8>, Vec<Vec<u8>>, usize) {
        let (mut bytes, mut own, mut resends) = (Vec::new(), Vec::new(), 0);
        while let Some(i) = r.pending.pop_front() {
            match i {
                Input::Byte(b) => bytes.push(b),
                Input::Packet(p) => own.push(p),
                Input::Resend => resends += 1,
                _ => {}
            }
        }
        (bytes, own, resends)
    }

    #[test]
    fn stop_replies_get_the_thread_and_the_expedited_registers_and_other_packets_do_not() {
        let regs = [(0x0f, 0x0800_0178), (0x0d, 0x2000_4fe8)];
        assert_eq!(
            expedite(&frame(b"S05"), "p1.1", &regs),
            frame(b"T05thread:p1.1;0f:78010008;0d:e84f0020;")
        );
        assert_eq!(
            expedite(&frame(b"T05thread:p01.01;hwbreak:;"), "p1.1", &regs),
            frame(b"T05thread:p01.01;0f:78010008;0d:e84f0020;hwbreak:;")
        );
        let mut acked = b"+".to_vec();
        acked.extend(frame(b"S02"));
        let mut want = b"+".to_vec();
        want.extend(frame(b"T02thread:1;0f:78010008;0d:e84f0020;"));
        assert_eq!(expedite(&acked, "1", &regs), want);
        for other in [&b"OK"[..], b"W00", b"T05hwbreak:;", b"E01"] {
            assert_eq!(expedite(&frame(other), "p1.1", &regs), frame(other));
        }
    }

    #[test]
    fn bad_checksum_is_naked_and_dropped() {
        let (mut r, _c) = reader();
        assert_eq!(r.feed(b"$m0,4#00"), 1);
        assert_eq!(drain(&mut r).0, b"");
        assert_eq!(r.feed(&frame(b"m0,4")), 0);
        assert_eq!(drain(&mut r).0, frame(b"m0,4"));
        assert_eq!(r.stats.bad_checksums, 1);
    }

    #[test]
    fn stray_bytes_are_dropped_and_nak_asks_for_a_resend() {
        let (mut r, _c) = reader();
        r.feed(b"xyz+\x03-");
        let (bytes, _, resends) = drain(&mut r);
        assert_eq!(bytes, b"+\x03");
        assert_eq!(resends, 1);
        assert_eq!(r.stats.stray, 3);
    }

    #[test]
    fn oversized_packet_is_discarded_until_the_next_dollar() {
        let (mut r, _c) = reader();
        let mut big = vec![b'$'];
        big.extend(std::iter::repeat_n(b'a', PACKET_SIZE + 10));
        assert_eq!(r.feed(&big), 1);
        r.feed(b"#00");
        assert!(drain(&mut r).0.is_empty());
        r.feed(&frame(b"g"));
        assert_eq!(drain(&mut r).0, frame(b"g"));
        assert_eq!(r.stats.oversized, 1);
    }

    #[test]
    fn bare_qsupported_is_given_to_gdbstub_with_a_colon() {
        assert_eq!(
            route(b"qSupported", false),
            Frame::Stub(frame(b"qSupported:multiprocess-"))
        );
        assert_eq!(route(b"qCRC:0,4", false), Frame::Own(b"qCRC:0,4".to_vec()));
        assert_eq!(route(b"m0,4", true), Frame::Own(b"m0,4".to_vec()));
    }

    #[test]
    fn no_ack_mode_drops_a_bad_checksum_without_a_nak() {
        let (mut r, _c) = reader();
        r.feed(&frame(b"QStartNoAckMode"));
        drain(&mut r);
        assert_eq!(r.feed(b"$g#00"), 0);
        assert!(drain(&mut r).0.is_empty());
    }

    #[test]
    fn gdb_fragment_after_a_stray_dollar_in_no_ack_mode_is_not_run() {
        // Found by the GDB fuzz harness: the fragment `D<=S` with the outer packet's checksum
        // was taken as a detach.
        let (mut r, _c) = reader();
        r.feed(&frame(b"QStartNoAckMode"));
        drain(&mut r);
        r.feed(b"$/\\`v$D<=S#95");
        assert!(drain(&mut r).0.is_empty());
        r.feed(&frame(b"qC"));
        assert_eq!(drain(&mut r).0, frame(b"qC"));
    }
}
