//! Server-side line editing for the telnet console, as OpenOCD's `telnet_server.c` does it:
//! the client runs in character mode, the server echoes and redraws.
//!
//! The editor is sans-I/O: [`LineEditor::feed`] takes one data byte (telnet commands already
//! removed by [`super::negotiation::Decoder`]) and appends the bytes to send back to `out`.
//!
//! Keys: printable characters (UTF-8) insert at the cursor; Backspace/DEL delete before it,
//! ^D and `ESC [ 3 ~` under it; ^A/Home, ^E/End, ^B/←, ^F/→ move; ^K kills to the end, ^U to
//! the start, ^W the previous word; ↑/^P and ↓/^N walk the history ([`HISTORY_LEN`] lines);
//! Tab completes command names; ^C abandons the line (`^C` and a fresh prompt); ^L redraws.
//! CR, LF, CR LF and CR NUL each end one line.

use std::collections::VecDeque;

/// The prompt, as OpenOCD prints it.
pub const PROMPT: &str = "> ";
/// History lines kept per session (OpenOCD keeps 128).
pub const HISTORY_LEN: usize = 128;
/// The longest line the editor accepts, in characters. Longer input is discarded up to the
/// end of the line, with [`TOO_LONG`] shown.
pub const MAX_LINE: usize = 4096;
/// Shown when a line exceeds [`MAX_LINE`].
pub const TOO_LONG: &str = "Error: line too long: a console line holds at most 4096 characters, the rest of this line is discarded. Split it into several commands, or put them in a script file and run it with `script <file>`";

/// Longest escape sequence parameter kept (longer ones are dropped as garbage).
const MAX_ESC: usize = 16;

/// What a fed byte produced for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A complete line (the echo and `\r\n` are already in `out`). The session runs it and
    /// then shows the prompt with [`LineEditor::redraw`].
    Line(String),
}

/// Tab completion: given the text before the cursor, returns the character offset where the
/// word being completed starts and the full candidate words for it.
pub type Completer<'a> = &'a dyn Fn(&str) -> (usize, Vec<String>);

#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Esc {
    #[default]
    None,
    /// After ESC.
    Start,
    /// After `ESC [` (parameters so far) or `ESC O`.
    Csi(String),
}

/// One session's line editor.
#[derive(Debug, Default)]
pub struct LineEditor {
    buf: Vec<char>,
    cursor: usize,
    history: VecDeque<String>,
    /// Position while walking the history (`history.len()` = the draft line).
    hist_pos: usize,
    draft: Vec<char>,
    esc: Esc,
    utf8: Vec<u8>,
    after_cr: bool,
    /// The line overflowed: discard until its end.
    discarding: bool,
}

fn bs(out: &mut Vec<u8>, n: usize) {
    out.extend(std::iter::repeat_n(b'\x08', n));
}

fn put(out: &mut Vec<u8>, chars: &[char]) {
    let s: String = chars.iter().collect();
    out.extend_from_slice(s.as_bytes());
}

impl LineEditor {
    /// An empty editor with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The line being edited.
    pub fn line(&self) -> String {
        self.buf.iter().collect()
    }

    /// The cursor position in characters.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The history, oldest first.
    pub fn history(&self) -> impl Iterator<Item = &str> {
        self.history.iter().map(|s| s.as_str())
    }

    /// Writes the prompt and the partial line, and puts the cursor back where it was.
    pub fn redraw(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(PROMPT.as_bytes());
        put(out, &self.buf);
        bs(out, self.buf.len() - self.cursor);
    }

    /// Erases the terminal line holding the prompt (before printing asynchronous lines above
    /// it; [`redraw`](Self::redraw) restores it).
    pub fn erase(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\r\x1b[K");
    }

    /// Abandons the current line: `^C`, a new line and a fresh prompt.
    pub fn interrupt(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"^C\r\n");
        self.reset_line();
        self.discarding = false;
        self.redraw(out);
    }

    fn reset_line(&mut self) {
        self.buf.clear();
        self.cursor = 0;
        self.hist_pos = self.history.len();
        self.draft.clear();
        self.esc = Esc::None;
        self.utf8.clear();
    }

    /// Consumes one data byte; echo and redraw bytes go to `out`.
    pub fn feed(&mut self, b: u8, complete: Completer<'_>, out: &mut Vec<u8>) -> Option<Action> {
        if self.after_cr {
            self.after_cr = false;
            if b == b'\n' || b == 0 {
                return None;
            }
        }
        if b == b'\r' || b == b'\n' {
            self.after_cr = b == b'\r';
            return self.end_line(out);
        }
        if self.discarding {
            return None;
        }
        if self.esc != Esc::None {
            self.escape(b, out);
            return None;
        }
        if b >= 0x80 {
            self.utf8_byte(b, out);
            return None;
        }
        self.utf8.clear();
        match b {
            0x1b => self.esc = Esc::Start,
            0x01 => self.home(out),
            0x02 => self.left(out),
            0x03 => self.interrupt(out),
            0x04 => self.delete_under(out),
            0x05 => self.end(out),
            0x06 => self.right(out),
            0x08 | 0x7f => self.backspace(out),
            0x09 => self.complete(complete, out),
            0x0b => self.kill_to_end(out),
            0x0c => {
                out.extend_from_slice(b"\r\n");
                self.redraw(out);
            }
            0x0e => self.history_down(out),
            0x10 => self.history_up(out),
            0x15 => self.kill_to_start(out),
            0x17 => self.kill_word(out),
            0x20..=0x7e => self.insert(&[b as char], out),
            _ => {} // NUL and other control characters: ignored.
        }
        None
    }

    fn end_line(&mut self, out: &mut Vec<u8>) -> Option<Action> {
        out.extend_from_slice(b"\r\n");
        if self.discarding {
            self.discarding = false;
            self.reset_line();
            self.redraw(out);
            return None;
        }
        let line = self.line();
        if !line.trim().is_empty() && self.history.back() != Some(&line) {
            if self.history.len() == HISTORY_LEN {
                self.history.pop_front();
            }
            self.history.push_back(line.clone());
        }
        self.reset_line();
        Some(Action::Line(line))
    }

    fn utf8_byte(&mut self, b: u8, out: &mut Vec<u8>) {
        if b & 0xc0 == 0x80 {
            if self.utf8.is_empty() {
                return; // Stray continuation byte.
            }
            self.utf8.push(b);
        } else {
            self.utf8.clear();
            self.utf8.push(b);
        }
        let want = match self.utf8[0] {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => {
                self.utf8.clear();
                return;
            }
        };
        if self.utf8.len() == want {
            let bytes = std::mem::take(&mut self.utf8);
            if let Ok(s) = std::str::from_utf8(&bytes) {
                let chars: Vec<char> = s.chars().filter(|c| !c.is_control()).collect();
                self.insert(&chars, out);
            }
        }
    }

    fn escape(&mut self, b: u8, out: &mut Vec<u8>) {
        match std::mem::take(&mut self.esc) {
            Esc::None => {}
            Esc::Start => match b {
                b'[' | b'O' => self.esc = Esc::Csi(String::new()),
                0x1b => self.esc = Esc::Start,
                _ => {} // Alt-key combinations: ignored.
            },
            Esc::Csi(mut params) => match b {
                b'0'..=b'9' | b';' if params.len() < MAX_ESC => {
                    params.push(b as char);
                    self.esc = Esc::Csi(params);
                }
                b'A' => self.history_up(out),
                b'B' => self.history_down(out),
                b'C' => self.right(out),
                b'D' => self.left(out),
                b'H' => self.home(out),
                b'F' => self.end(out),
                b'~' => match params.as_str() {
                    "1" | "7" => self.home(out),
                    "4" | "8" => self.end(out),
                    "3" => self.delete_under(out),
                    _ => {}
                },
                0x40..=0x7e => {} // Other final bytes: ignored.
                _ => {}           // Malformed: dropped.
            },
        }
    }

    fn insert(&mut self, chars: &[char], out: &mut Vec<u8>) {
        if chars.is_empty() {
            return;
        }
        if self.buf.len() + chars.len() > MAX_LINE {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(TOO_LONG.as_bytes());
            out.extend_from_slice(b"\r\n");
            self.reset_line();
            self.discarding = true;
            return;
        }
        self.buf
            .splice(self.cursor..self.cursor, chars.iter().copied());
        put(out, &self.buf[self.cursor..]);
        self.cursor += chars.len();
        bs(out, self.buf.len() - self.cursor);
    }

    fn backspace(&mut self, out: &mut Vec<u8>) {
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        self.buf.remove(self.cursor);
        bs(out, 1);
        self.rewrite_tail(1, out);
    }

    fn delete_under(&mut self, out: &mut Vec<u8>) {
        if self.cursor < self.buf.len() {
            self.buf.remove(self.cursor);
            self.rewrite_tail(1, out);
        }
    }

    /// Rewrites from the cursor to the end after `removed` characters were deleted there.
    fn rewrite_tail(&self, removed: usize, out: &mut Vec<u8>) {
        put(out, &self.buf[self.cursor..]);
        out.extend(std::iter::repeat_n(b' ', removed));
        bs(out, self.buf.len() - self.cursor + removed);
    }

    fn home(&mut self, out: &mut Vec<u8>) {
        bs(out, self.cursor);
        self.cursor = 0;
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        put(out, &self.buf[self.cursor..]);
        self.cursor = self.buf.len();
    }

    fn left(&mut self, out: &mut Vec<u8>) {
        if self.cursor > 0 {
            self.cursor -= 1;
            bs(out, 1);
        }
    }

    fn right(&mut self, out: &mut Vec<u8>) {
        if self.cursor < self.buf.len() {
            put(out, &self.buf[self.cursor..=self.cursor]);
            self.cursor += 1;
        }
    }

    fn kill_to_end(&mut self, out: &mut Vec<u8>) {
        let n = self.buf.len() - self.cursor;
        self.buf.truncate(self.cursor);
        self.rewrite_tail(n, out);
    }

    fn kill_to_start(&mut self, out: &mut Vec<u8>) {
        let n = self.cursor;
        self.buf.drain(..n);
        bs(out, n);
        self.cursor = 0;
        self.rewrite_tail(n, out);
    }

    fn kill_word(&mut self, out: &mut Vec<u8>) {
        let mut start = self.cursor;
        while start > 0 && self.buf[start - 1] == ' ' {
            start -= 1;
        }
        while start > 0 && self.buf[start - 1] != ' ' {
            start -= 1;
        }
        let n = self.cursor - start;
        self.buf.drain(start..self.cursor);
        bs(out, n);
        self.cursor = start;
        self.rewrite_tail(n, out);
    }

    /// Replaces the whole line (history, completion listing) and redraws it.
    fn replace(&mut self, chars: Vec<char>, out: &mut Vec<u8>) {
        let old_len = self.buf.len();
        bs(out, self.cursor);
        self.buf = chars;
        self.cursor = self.buf.len();
        put(out, &self.buf);
        let extra = old_len.saturating_sub(self.buf.len());
        out.extend(std::iter::repeat_n(b' ', extra));
        bs(out, extra);
    }

    fn history_up(&mut self, out: &mut Vec<u8>) {
        if self.hist_pos == 0 {
            return;
        }
        if self.hist_pos == self.history.len() {
            self.draft = self.buf.clone();
        }
        self.hist_pos -= 1;
        let line = self.history[self.hist_pos].chars().collect();
        self.replace(line, out);
    }

    fn history_down(&mut self, out: &mut Vec<u8>) {
        if self.hist_pos >= self.history.len() {
            return;
        }
        self.hist_pos += 1;
        let line = if self.hist_pos == self.history.len() {
            std::mem::take(&mut self.draft)
        } else {
            self.history[self.hist_pos].chars().collect()
        };
        self.replace(line, out);
    }

    fn complete(&mut self, complete: Completer<'_>, out: &mut Vec<u8>) {
        let before: String = self.buf[..self.cursor].iter().collect();
        let (start, cands) = complete(&before);
        let word: Vec<char> = self.buf[start.min(self.cursor)..self.cursor].to_vec();
        let word_len = word.len();
        match cands.len() {
            0 => out.push(b'\x07'),
            1 => {
                let mut rest: Vec<char> = cands[0].chars().skip(word_len).collect();
                if self.buf.get(self.cursor) != Some(&' ') {
                    rest.push(' ');
                }
                self.insert(&rest, out);
            }
            _ => {
                let common = common_prefix(&cands);
                if common.chars().count() > word_len {
                    let rest: Vec<char> = common.chars().skip(word_len).collect();
                    self.insert(&rest, out);
                } else {
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(cands.join("  ").as_bytes());
                    out.extend_from_slice(b"\r\n");
                    self.redraw(out);
                }
            }
        }
    }
}

/// The longest common prefix of `words` (character-wise).
pub fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut n = first.chars().count();
    for w in &words[1..] {
        n = n.min(
            first
                .chars()
                .zip(w.chars())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(before: &str) -> (usize, Vec<String>) {
        let all = ["version", "verify_image", "reset", "resume", "help"];
        let start = before.rfind(' ').map(|i| i + 1).unwrap_or(0);
        let w = &before[start..];
        (
            start,
            all.iter()
                .filter(|n| n.starts_with(w))
                .map(|s| s.to_string())
                .collect(),
        )
    }

    fn type_bytes(ed: &mut LineEditor, bytes: &[u8]) -> (Vec<Action>, Vec<u8>) {
        let mut out = Vec::new();
        let acts = bytes
            .iter()
            .filter_map(|&b| ed.feed(b, &names, &mut out))
            .collect();
        (acts, out)
    }

    #[test]
    fn editing_keys_change_the_line() {
        let mut ed = LineEditor::new();
        // "hlo", ^A, ^F, insert "el", ^E, "x", BS, ←, ^K, Enter
        let (acts, _) = type_bytes(&mut ed, b"hlo\x01\x06el\x05x\x7f\x1b[D\x0b\r");
        assert_eq!(acts, vec![Action::Line("hell".into())]);
        let (acts, _) = type_bytes(&mut ed, b"abc def\x17x\x01\x1b[C\x15\n");
        assert_eq!(acts, vec![Action::Line("bc x".into())]);
    }

    #[test]
    fn line_endings_each_end_one_line() {
        let mut ed = LineEditor::new();
        let (acts, _) = type_bytes(&mut ed, b"a\r\nb\r\0c\nd\re\r");
        let lines: Vec<_> = acts.into_iter().map(|Action::Line(l)| l).collect();
        assert_eq!(lines, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn history_walks_and_restores_the_draft() {
        let mut ed = LineEditor::new();
        type_bytes(&mut ed, b"one\rtwo\r");
        let (acts, _) = type_bytes(&mut ed, b"dr\x1b[A\x1b[A\x1b[A\x1b[B\r");
        assert_eq!(acts, vec![Action::Line("two".into())]);
        let (acts, _) = type_bytes(&mut ed, b"dr\x10\x0e\r");
        assert_eq!(acts, vec![Action::Line("dr".into())]);
        for i in 0..200 {
            type_bytes(&mut ed, format!("l{i}\r").as_bytes());
        }
        assert_eq!(ed.history().count(), HISTORY_LEN);
        assert_eq!(ed.history().last(), Some("l199"));
    }

    #[test]
    fn tab_completes_unique_prefix_and_lists_ambiguous() {
        let mut ed = LineEditor::new();
        let (_, out) = type_bytes(&mut ed, b"vers\t");
        assert_eq!(ed.line(), "version ");
        assert!(String::from_utf8_lossy(&out).ends_with("version "));
        type_bytes(&mut ed, b"\x15re\t");
        assert_eq!(ed.line(), "res", "extends to the common prefix");
        let (_, out) = type_bytes(&mut ed, b"\t");
        assert_eq!(ed.line(), "res");
        assert_eq!(String::from_utf8_lossy(&out), "\r\nreset  resume\r\n> res");
    }

    #[test]
    fn ctrl_c_abandons_the_line() {
        let mut ed = LineEditor::new();
        let (acts, out) = type_bytes(&mut ed, b"mdw 0x\x03");
        assert!(acts.is_empty());
        assert!(String::from_utf8_lossy(&out).ends_with("^C\r\n> "));
        assert_eq!(ed.line(), "");
    }

    #[test]
    fn too_long_line_is_discarded_with_a_message() {
        let mut ed = LineEditor::new();
        let mut input = vec![b'x'; MAX_LINE + 100];
        input.extend_from_slice(b"\rversion\r");
        let (acts, out) = type_bytes(&mut ed, &input);
        assert_eq!(acts, vec![Action::Line("version".into())]);
        assert!(String::from_utf8_lossy(&out).contains("line too long"));
    }

    #[test]
    fn garbage_never_panics() {
        let mut ed = LineEditor::new();
        let mut seed = 0x1234_5678u32;
        let mut out = Vec::new();
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let _ = ed.feed((seed & 0xff) as u8, &names, &mut out);
            out.clear();
            assert!(ed.cursor() <= ed.line().chars().count());
        }
    }

    #[test]
    fn utf8_is_inserted_as_characters() {
        let mut ed = LineEditor::new();
        let (acts, _) = type_bytes(&mut ed, "echo é€\x7f\r".as_bytes());
        assert_eq!(acts, vec![Action::Line("echo é".into())]);
    }
}
