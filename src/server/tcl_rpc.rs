//! The Tcl RPC port (OpenOCD's port 6666), a fourth front end of the one dispatcher.
//!
//! Behaviour follows OpenOCD 0.12 (`src/server/tcl_server.c`): a client sends a command line
//! terminated by 0x1a (Ctrl-Z); the server runs it and answers with the command's result
//! followed by 0x1a. The result is the command's output lines joined with `\n` (no trailing
//! newline), as OpenOCD's Jim result of `command_print` output; for a failing command, the lines
//! it printed and then the error message. After `tcl_notifications on`, every target event is
//! pushed as `type target_event event <name>\r\n\x1a`, and a change of the target's state as
//! `type target_state state <state>\r\n\x1a`. `tcl_trace on` is accepted; stdbg produces no
//! trace data for it (OpenOCD's `type target_trace data <hex>` comes from trace-capable targets).
//!
//! A line longer than [`MAX_LINE`] is dropped and answered `line too long\n` followed by 0x1a
//! (OpenOCD sends its NUL-terminated text without the 0x1a). Lines run one after another per
//! connection; any number of clients may connect, and one's failure affects no other.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};

use crate::command::Origin;
use crate::command::builtin::tcl_rpc::TCL_FLAGS;
use crate::host::HostEvent;
use crate::host::worker::{HostHandle, Reply};

/// Longest command line, bytes (4 MiB, OpenOCD's `TCL_LINE_MAX`).
pub const MAX_LINE: usize = 4 << 20;

/// The end of a command and of a reply (Ctrl-Z).
pub const EOT: u8 = 0x1a;

/// Connection numbers for [`Origin::Tcl`], unique in the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Serves Tcl RPC clients on `listener` until `shutdown` completes; then closes every session.
pub async fn run(listener: TcpListener, handle: HostHandle, shutdown: impl Future<Output = ()>) {
    super::sessions::serve(listener, "tcl", shutdown, |stream, _peer, stop| {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let h = handle.clone();
        async move {
            if let Err(e) = session(stream, id, h, stop).await {
                tracing::debug!("tcl connection {id}: {e}");
            }
            TCL_FLAGS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    })
    .await
}

/// The reply frame of a finished line.
fn reply_frame(lines: &[String], result: &Result<(), String>) -> Vec<u8> {
    let mut text = lines.join("\n");
    if let Err(e) = result {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(e);
    }
    let mut out = text.into_bytes();
    out.push(EOT);
    out
}

/// The notification frames of an event for a connection that asked for them; `last` is the
/// state last announced.
fn notification(ev: &HostEvent, last: &mut Option<&'static str>) -> Vec<u8> {
    let HostEvent::TargetEvent { event, state, .. } = ev else {
        return Vec::new();
    };
    let mut out = format!("type target_event event {event}\r\n").into_bytes();
    out.push(EOT);
    if *last != Some(state) {
        *last = Some(state);
        out.extend_from_slice(format!("type target_state state {state}\r\n").as_bytes());
        out.push(EOT);
    }
    out
}

async fn session(
    stream: TcpStream,
    id: u64,
    handle: HostHandle,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut events = handle.host().events().subscribe();
    let mut last_state = handle.host().current_target().ok().and_then(|(name, _)| {
        handle
            .host()
            .targets()
            .by_name(&name)
            .map(|t| t.state.as_str())
    });
    let (mut rd, mut wr) = stream.into_split();
    let mut line: Vec<u8> = Vec::new();
    let mut dropping = false;
    // Complete lines waiting for the running one to finish.
    let mut queue: std::collections::VecDeque<String> = Default::default();
    let mut running: Option<(tokio::sync::mpsc::UnboundedReceiver<Reply>, Vec<String>)> = None;
    let mut buf = vec![0u8; 4096];
    loop {
        if running.is_none()
            && let Some(l) = queue.pop_front()
        {
            running = Some((handle.exec(&l, Origin::Tcl(id)), Vec::new()));
        }
        // Biased: a command's notifications come before its reply, as in OpenOCD (it sends
        // them while the command runs).
        tokio::select! {
            biased;
            _ = stop.changed() => return Ok(()),
            ev = events.recv() => match ev {
                Ok(HostEvent::Shutdown) | Err(broadcast::error::RecvError::Closed) => {
                    if running.is_none() {
                        return Ok(());
                    }
                }
                Ok(ev) => {
                    let notify = TCL_FLAGS
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&id)
                        .is_some_and(|f| f.notify);
                    if notify {
                        let out = notification(&ev, &mut last_state);
                        if !out.is_empty() {
                            wr.write_all(&out).await?;
                        }
                    } else if let HostEvent::TargetEvent { state, .. } = ev {
                        last_state = Some(state);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!("tcl connection {id}: {n} events dropped");
                }
            },
            r = async {
                match running.as_mut() {
                    Some((rx, _)) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                match r {
                    Some(Reply::Line(l)) => {
                        if let Some((_, lines)) = running.as_mut() {
                            lines.push(l);
                        }
                    }
                    Some(Reply::Done { result, .. }) => {
                        let lines = running.take().map(|(_, l)| l).unwrap_or_default();
                        wr.write_all(&reply_frame(&lines, &result)).await?;
                    }
                    None => return Ok(()), // the host thread is gone
                }
            }
            n = rd.read(&mut buf) => {
                let n = n?;
                if n == 0 {
                    return Ok(());
                }
                for &b in &buf[..n] {
                    if b != EOT {
                        if line.len() >= MAX_LINE {
                            dropping = true;
                        } else {
                            line.push(b);
                        }
                        continue;
                    }
                    if dropping {
                        tracing::warn!("tcl connection {id}: a command line longer than {} MiB was dropped", MAX_LINE >> 20);
                        wr.write_all(b"line too long\n\x1a").await?;
                    } else {
                        queue.push_back(String::from_utf8_lossy(&line).into_owned());
                    }
                    line.clear();
                    dropping = false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_join_lines_and_end_with_ctrl_z() {
        let ok = reply_frame(&["a".into(), "b".into()], &Ok(()));
        assert_eq!(ok, b"a\nb\x1a");
        let err = reply_frame(&[], &Err("invalid command name \"x\"".into()));
        assert_eq!(err, b"invalid command name \"x\"\x1a");
    }

    #[test]
    fn notifications_announce_events_and_state_changes() {
        let ev = |e: &str, s: &'static str| HostEvent::TargetEvent {
            target: "stm32f1x.cpu".into(),
            event: e.into(),
            state: s,
        };
        let mut last = Some("running");
        assert_eq!(
            notification(&ev("halted", "halted"), &mut last),
            b"type target_event event halted\r\n\x1atype target_state state halted\r\n\x1a"
        );
        assert_eq!(
            notification(&ev("debug-halted", "halted"), &mut last),
            b"type target_event event debug-halted\r\n\x1a"
        );
    }
}
