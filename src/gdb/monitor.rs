//! `monitor <command line>` (qRcmd): runs any dispatcher command on the host thread, exactly as
//! typed on the telnet console, and streams each output line to GDB's console as it is printed.
//! Errors are printed the same way; the packet still succeeds, so GDB and IDEs carry on.

use gdbstub::outputln;
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd};

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use super::target::{GdbError, GdbTarget};
use crate::host::worker::Reply;

/// Waits up to the socket's read timeout for a byte from GDB without taking it, except a
/// Ctrl-C (0x03), which is taken; returns whether it was one.
fn peek_interrupt(sock: &TcpStream) -> bool {
    let mut b = [0u8; 1];
    match sock.peek(&mut b) {
        Ok(1) if b[0] == 0x03 => {
            let _ = (&*sock).read(&mut b);
            true
        }
        Ok(_) => {
            // Some other byte waits for the session, or the client closed: do not spin.
            std::thread::sleep(Duration::from_millis(10));
            false
        }
        Err(_) => false,
    }
}

impl MonitorCmd for GdbTarget {
    fn handle_monitor_cmd(
        &mut self,
        cmd: &[u8],
        mut out: ConsoleOutput<'_>,
    ) -> Result<(), GdbError> {
        self.read_cache = None;
        self.code_cache = None;
        for l in self.take_console() {
            outputln!(out, "{l}");
        }
        out.flush();
        let line = String::from_utf8_lossy(cmd).into_owned();
        let origin = self.origin();
        let mut rx = self.handle.exec(&line, origin);
        // While the command runs, GDB's Ctrl-C (0x03, sent while it waits for the reply)
        // cancels it (host/jobs.rs); the socket is peeked so other bytes stay for the session.
        let result = loop {
            match rx.try_recv() {
                Ok(Reply::Line(l)) => {
                    outputln!(out, "{l}");
                    out.flush();
                    continue;
                }
                Ok(Reply::Done { result, .. }) => break result,
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    break Err("the debug host has shut down".to_string());
                }
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {}
            }
            match self.interrupt_socket.as_ref().map(peek_interrupt) {
                Some(true) => {
                    self.handle.interrupt(origin);
                }
                Some(false) => {}
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        if let Err(e) = result {
            outputln!(out, "{e}");
        }
        Ok(())
    }
}
