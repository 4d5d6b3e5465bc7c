//! The telnet console (OpenOCD's port 4444 console).
//!
//! Behaviour follows OpenOCD 0.12 (`src/server/telnet_server.c`): on connect the server sends
//! IAC WILL SGA, IAC WILL ECHO, IAC DO SGA, IAC DONT ECHO (character mode, server echo) and the
//! prompt `> `; it edits the line itself ([`line_editor`]), echoes it, and on Enter sends `\r\n`,
//! the command's output lines each ending in `\r\n` (an error as its message lines), then the
//! prompt. Every line runs through the host thread ([`HostHandle::exec`]) exactly as `-c` lines
//! do, so output is the same. `exit` closes only its own session; `shutdown` closes all.
//!
//! Asynchronous lines (target state changes caused elsewhere, log messages) are printed above
//! the prompt: the input line is erased, the lines are printed, and the prompt and partial input
//! are redrawn. Any number of clients may connect; a client's failure or disconnection (even
//! mid-command) affects no other client.

pub mod line_editor;
pub mod negotiation;

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, watch};

use self::line_editor::{Action, LineEditor};
use self::negotiation::{Decoder, GREETING, Input};
use crate::command::Origin;
use crate::host::HostEvent;
use crate::host::worker::{HostHandle, Reply};

/// Input bytes buffered while a command runs; beyond this, further input is dropped (a client
/// pasting megabytes during a long `flash write_image` must not exhaust memory).
pub const MAX_PENDING: usize = 64 * 1024;

/// Telnet "interpret as command" and "interrupt process" (RFC 854).
const IAC: u8 = 0xFF;
const IP: u8 = 0xF4;

/// Connection numbers for [`Origin::Telnet`], unique in the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Serves telnet consoles on `listener` until `shutdown` completes; then closes every session.
///
/// Accept errors (e.g. out of file descriptors) are logged and retried after 100 ms; they never
/// end the server.
pub async fn run(listener: TcpListener, handle: HostHandle, shutdown: impl Future<Output = ()>) {
    super::sessions::serve(listener, "telnet", shutdown, |stream, peer, stop| {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let h = handle.clone();
        async move {
            if let Err(e) = session(stream, peer, id, h, stop).await {
                tracing::debug!("telnet connection {id} from {peer}: {e}");
            }
        }
    })
    .await
}

/// Completion candidates for the telnet editor (character offsets).
fn completer(handle: &HostHandle) -> impl Fn(&str) -> (usize, Vec<String>) + '_ {
    move |before: &str| {
        let (start, cands) = {
            let reg = handle.host().registry();
            super::repl::complete_command(reg.names(), before)
        };
        (before[..start].chars().count(), cands)
    }
}

/// Appends `text` as console lines (`\r\n` after each).
fn push_lines(out: &mut Vec<u8>, text: &str) {
    for l in text.split('\n') {
        out.extend_from_slice(l.trim_end_matches('\r').as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The lines an event shows on console `id`, if any.
fn event_text(ev: &HostEvent, id: u64) -> Option<String> {
    match ev {
        HostEvent::Target { origin, .. } if *origin == Some(Origin::Telnet(id)) => None,
        HostEvent::Target { lines, .. } => Some(lines.join("\n")),
        // OpenOCD shows log messages on telnet without the level prefix.
        HostEvent::Log { message, .. } => Some(message.clone()),
        HostEvent::Shutdown | HostEvent::TargetEvent { .. } => None,
    }
}

struct Session {
    id: u64,
    handle: HostHandle,
    editor: LineEditor,
    decoder: Decoder,
    /// The command running, if any.
    running: Option<mpsc::UnboundedReceiver<Reply>>,
    /// Bytes received while a command ran, fed to the editor when it ends.
    pending: VecDeque<u8>,
    out: Vec<u8>,
    close: bool,
}

impl Session {
    /// Feeds received bytes through the IAC decoder and the editor until a line starts a
    /// command (the rest waits in `pending`).
    fn input(&mut self, bytes: impl IntoIterator<Item = u8>) {
        let mut iter = bytes.into_iter();
        while self.running.is_none() && !self.close {
            let Some(b) = self.pending.pop_front().or_else(|| iter.next()) else {
                break;
            };
            let input = self.decoder.feed(b);
            let action = match input {
                None => None,
                Some(Input::Interrupt) => {
                    self.editor.interrupt(&mut self.out);
                    None
                }
                Some(Input::Data(d)) => {
                    let complete = completer(&self.handle);
                    self.editor.feed(d, &complete, &mut self.out)
                }
            };
            if let Some(Action::Line(line)) = action {
                if line.trim().is_empty() {
                    self.editor.redraw(&mut self.out);
                } else {
                    self.running = Some(self.handle.exec(&line, Origin::Telnet(self.id)));
                }
            }
        }
        for b in iter {
            // While a command runs, ^C and the telnet interrupt (IAC IP) cancel it
            // (host/jobs.rs); the other bytes wait for the next prompt.
            let iac_ip = self.pending.back() == Some(&IAC) && b == IP;
            if b == 0x03 || iac_ip {
                if iac_ip {
                    self.pending.pop_back();
                }
                if self.running.is_some() && self.handle.interrupt(Origin::Telnet(self.id)) {
                    push_lines(&mut self.out, "^C");
                }
                continue;
            }
            if self.pending.len() < MAX_PENDING {
                self.pending.push_back(b);
            }
        }
    }

    fn reply(&mut self, reply: Option<Reply>) {
        match reply {
            Some(Reply::Line(l)) => push_lines(&mut self.out, &l),
            Some(Reply::Done { result, close }) => {
                self.running = None;
                if let Err(msg) = result {
                    push_lines(&mut self.out, &msg);
                }
                if close || self.handle.host().shutdown_requested().is_some() {
                    self.close = true;
                } else {
                    self.editor.redraw(&mut self.out);
                    self.input(std::iter::empty());
                }
            }
            None => {
                // The host thread is gone.
                self.running = None;
                self.close = true;
            }
        }
    }

    fn event(&mut self, ev: Result<HostEvent, broadcast::error::RecvError>) -> bool {
        let text = match ev {
            Ok(HostEvent::Shutdown) => {
                // The console whose command shut the host down still gets that command's
                // output: `reply` closes it once the command's Done arrives.
                if self.running.is_none() {
                    self.close = true;
                }
                return true;
            }
            Ok(ev) => event_text(&ev, self.id),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(format!(
                "({n} messages were dropped because this console could not keep up)"
            )),
            Err(broadcast::error::RecvError::Closed) => return false,
        };
        if let Some(text) = text {
            if self.running.is_some() {
                push_lines(&mut self.out, &text);
            } else {
                self.editor.erase(&mut self.out);
                push_lines(&mut self.out, &text);
                self.editor.redraw(&mut self.out);
            }
        }
        true
    }
}

async fn session(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    handle: HostHandle,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    // Subscribe after the "accepting" log line so a console does not announce itself.
    let mut events = handle.host().events().subscribe();
    let mut events_open = true;
    let (mut rd, mut wr) = stream.into_split();
    let mut s = Session {
        id,
        handle,
        editor: LineEditor::new(),
        decoder: Decoder::new(),
        running: None,
        pending: VecDeque::new(),
        out: GREETING.to_vec(),
        close: false,
    };
    s.editor.redraw(&mut s.out);
    tracing::debug!("telnet connection {id} from {peer}");
    let mut buf = vec![0u8; 4096];
    loop {
        if !s.out.is_empty() {
            wr.write_all(&s.out).await?;
            s.out.clear();
        }
        if s.close || *stop.borrow() {
            // Deliver what a command still running has already produced (its Done is sent
            // before the host thread ends) so no output is lost at shutdown.
            while let Some(rx) = s.running.as_mut() {
                match rx.try_recv() {
                    Ok(r) => s.reply(Some(r)),
                    Err(_) => break,
                }
            }
            if !s.out.is_empty() {
                wr.write_all(&s.out).await?;
                s.out.clear();
            }
            break;
        }
        tokio::select! {
            n = rd.read(&mut buf) => {
                let n = n?;
                if n == 0 {
                    break;
                }
                s.input(buf[..n].iter().copied());
            }
            reply = async { s.running.as_mut().expect("guarded").recv().await }, if s.running.is_some() => {
                s.reply(reply);
            }
            ev = events.recv(), if events_open => {
                events_open = s.event(ev);
            }
            _ = stop.changed() => {}
        }
    }
    let _ = wr.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_skip_the_console_that_caused_them() {
        let ev = |origin| HostEvent::Target {
            target: "t".into(),
            lines: vec!["a".into(), "b".into()],
            origin,
        };
        assert_eq!(event_text(&ev(Some(Origin::Telnet(7))), 7), None);
        assert_eq!(
            event_text(&ev(Some(Origin::Telnet(8))), 7).as_deref(),
            Some("a\nb")
        );
        assert_eq!(
            event_text(&ev(Some(Origin::Repl)), 7).as_deref(),
            Some("a\nb")
        );
        assert_eq!(event_text(&ev(None), 7).as_deref(), Some("a\nb"));
        let log = HostEvent::Log {
            level: "Warn",
            message: "m".into(),
        };
        assert_eq!(event_text(&log, 7).as_deref(), Some("m"));
        assert_eq!(event_text(&HostEvent::Shutdown, 7), None);
    }
}
