//! The GDB side of semihosting File-I/O (`arm semihosting_fileio enable`, see
//! `host/semihosting_fileio.rs`): while GDB waits for the target, a request from the host is
//! sent as an `F` packet; GDB's memory accesses for it (`m`, `M`, `X`) are answered here, and
//! its `Fretcode[,errno[,C]]` reply goes back to the host, which resumes the core (GDB manual,
//! "File-I/O Remote Protocol Extension", "The F Reply Packet").

use probe_rs::MemoryInterface;

use super::target::GdbTarget;

/// A hexadecimal number, optionally negative (`-1`).
fn hex(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?;
    match s.strip_prefix('-') {
        Some(rest) => i64::from_str_radix(rest, 16).ok().map(|v| -v),
        None => i64::from_str_radix(s, 16).ok(),
    }
}

/// `addr,len` of a memory packet.
fn addr_len(s: &[u8]) -> Option<(u64, usize)> {
    let mut it = s.splitn(2, |&b| b == b',');
    let a = hex(it.next()?)?;
    let l = hex(it.next()?)?;
    Some((u64::try_from(a).ok()?, usize::try_from(l).ok()?))
}

/// The binary data of an `X` packet: `}` (0x7d) escapes the next byte, XORed with 0x20.
fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut esc = false;
    for &c in b {
        if esc {
            out.push(c ^ 0x20);
            esc = false;
        } else if c == 0x7d {
            esc = true;
        } else {
            out.push(c);
        }
    }
    out
}

impl GdbTarget {
    /// A packet GDB sent while a File-I/O request is out: the answer to a memory access, or
    /// `None` for the `F` reply (it only gets an acknowledgement).
    pub fn fileio_packet(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        match body.first() {
            Some(b'F') => {
                let mut parts = body[1..].split(|&b| b == b',');
                let ret = parts.next().and_then(hex).unwrap_or(-1);
                let errno = parts.next().and_then(hex).map(|e| e as i32);
                self.fileio_waiting = false;
                let r = self.handle.call(move |h| h.fileio_reply(ret, errno));
                if let Some(Err(e)) = r {
                    let _ = self.fail(format!("stdbg: semihosting File-I/O: {e}"));
                }
                None
            }
            Some(b'm') => {
                let Some((addr, len)) = addr_len(&body[1..]) else {
                    return Some(b"E01".to_vec());
                };
                let r = self.with_core(move |core, _| {
                    let mut buf = vec![0u8; len];
                    core.read(addr, &mut buf)?;
                    Ok(buf)
                });
                Some(match r {
                    Ok(Ok(buf)) => buf
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                        .into_bytes(),
                    _ => b"E01".to_vec(),
                })
            }
            Some(c @ (b'M' | b'X')) => {
                let colon = body.iter().position(|&b| b == b':')?;
                let Some((addr, len)) = addr_len(&body[1..colon]) else {
                    return Some(b"E01".to_vec());
                };
                let data = &body[colon + 1..];
                let bytes = if *c == b'X' {
                    unescape(data)
                } else {
                    data.chunks(2)
                        .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                        .collect()
                };
                if bytes.len() != len {
                    return Some(b"E01".to_vec());
                }
                let r = self.with_core(move |core, _| core.write(addr, &bytes));
                Some(match r {
                    Ok(Ok(())) => b"OK".to_vec(),
                    _ => b"E01".to_vec(),
                })
            }
            _ => Some(b"E01".to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_numbers_and_binary_data() {
        assert_eq!(hex(b"-1"), Some(-1));
        assert_eq!(hex(b"1a4"), Some(0x1a4));
        assert_eq!(addr_len(b"20000000,10"), Some((0x2000_0000, 16)));
        assert_eq!(unescape(&[1, 0x7d, 0x5d, 2]), vec![1, 0x7d, 2]);
    }
}
