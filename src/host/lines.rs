//! Firmware output bytes as console lines, shared by every stream that prints on the consoles
//! (USART lines of `sim uart`, RTT channels, semihosting `:tt`, ITM port 0).
//!
//! A partial line waits for its `\n`; `\r` is dropped; a line reaching [`MAX_LINE`] bytes is
//! printed without its end, so a firmware that never sends a newline cannot grow it without
//! bound.

/// Longest console line kept before it is printed without its end, in bytes.
pub const MAX_LINE: usize = 256;

/// The partial line of one stream.
#[derive(Debug, Default)]
pub struct LineBuffer {
    line: Vec<u8>,
}

impl LineBuffer {
    /// Feeds bytes; returns the finished lines, raw (without `\r` and `\n`).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                b'\n' => out.push(std::mem::take(&mut self.line)),
                b'\r' => {}
                _ => {
                    self.line.push(b);
                    if self.line.len() >= MAX_LINE {
                        out.push(std::mem::take(&mut self.line));
                    }
                }
            }
        }
        out
    }
}

/// Bytes as text: printable ASCII and tab as is, anything else as `\xNN`.
pub fn printable(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7F).contains(&c) || c == b'\t' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_for_their_end_and_are_capped() {
        let mut l = LineBuffer::default();
        assert!(l.feed(b"tic").is_empty());
        assert_eq!(
            l.feed(b"k 1\r\ntick 2\n"),
            vec![b"tick 1".to_vec(), b"tick 2".to_vec()]
        );
        let long = vec![b'a'; MAX_LINE + 3];
        let out = l.feed(&long);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), MAX_LINE);
        let rest = l.feed(b"\x01\n");
        assert_eq!(printable(&rest[0]), "aaa\\x01");
    }
}
