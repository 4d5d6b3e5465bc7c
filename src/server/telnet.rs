//! The telnet console (placeholder: the full console lands next).

use std::future::Future;

use tokio::net::TcpListener;

use crate::host::worker::HostHandle;

/// Serves telnet consoles on `listener` until `shutdown` completes.
pub async fn run(listener: TcpListener, handle: HostHandle, shutdown: impl Future<Output = ()>) {
    let _ = (&listener, &handle);
    shutdown.await;
}
