//! `monitor <command line>` (qRcmd): runs any dispatcher command on the host thread, exactly as
//! typed on the telnet console, and streams each output line to GDB's console as it is printed.
//! Errors are printed the same way; the packet still succeeds, so GDB and IDEs carry on.

use gdbstub::outputln;
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd};

use super::target::{GdbError, GdbTarget};

impl MonitorCmd for GdbTarget {
    fn handle_monitor_cmd(
        &mut self,
        cmd: &[u8],
        mut out: ConsoleOutput<'_>,
    ) -> Result<(), GdbError> {
        self.read_cache = None;
        for l in self.take_console() {
            outputln!(out, "{l}");
        }
        out.flush();
        let line = String::from_utf8_lossy(cmd).into_owned();
        let origin = self.origin();
        let (result, _close) = self.handle.exec_blocking(&line, origin, |l| {
            outputln!(out, "{l}");
            out.flush();
        });
        if let Err(e) = result {
            outputln!(out, "{e}");
        }
        Ok(())
    }
}
