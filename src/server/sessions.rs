//! The accept loop the telnet console and the Tcl RPC port share: one task per connection,
//! OpenOCD's `accepting '<name>' connection on tcp/<port>` and `dropped '<name>' connection`
//! log lines, accept errors retried, and at shutdown every session told to stop and given
//! [`CLOSE_GRACE`] to close before it is aborted.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long sessions get to close after the shutdown signal before they are aborted.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Serves `listener` until `shutdown` completes. `session(stream, peer, stop)` is one
/// connection (`stop` turns true at shutdown); `name` is the server's name in the log lines.
/// Accept errors (e.g. out of file descriptors) are logged and retried after 100 ms; they never
/// end the server.
pub async fn serve<F, S>(
    listener: TcpListener,
    name: &'static str,
    shutdown: impl Future<Output = ()>,
    mut session: F,
) where
    F: FnMut(TcpStream, SocketAddr, watch::Receiver<bool>) -> S,
    S: Future<Output = ()> + Send + 'static,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut sessions = JoinSet::new();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let run = session(stream, peer, stop_rx.clone());
                    sessions.spawn(async move {
                        tracing::info!("accepting '{name}' connection on tcp/{port}");
                        run.await;
                        tracing::info!("dropped '{name}' connection");
                    });
                }
                Err(e) => {
                    tracing::warn!("{name}: accepting a connection failed: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drain = async { while sessions.join_next().await.is_some() {} };
    if tokio::time::timeout(CLOSE_GRACE, drain).await.is_err() {
        sessions.abort_all();
    }
}
