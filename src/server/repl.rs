//! The local REPL (placeholder: the rustyline console lands next).

use crate::host::worker::HostHandle;

/// Runs the REPL on the current thread until EOF or `shutdown`.
pub fn run(handle: HostHandle) {
    let _ = handle;
}
