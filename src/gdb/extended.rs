//! Extended remote mode (`target extended-remote`): `run` resets and halts the target at its
//! reset vector (OpenOCD treats `R`/`vRun` the same way), `kill` halts it and keeps the
//! connection, `attach` accepts any pid (there is one "process": the core, pid 1) and reports
//! why the core is stopped.

use std::num::NonZeroUsize;
use std::time::Duration;

use gdbstub::common::Pid;
use gdbstub::target::TargetResult;
use gdbstub::target::ext::extended_mode::{
    Args, AttachKind, CurrentActivePid, CurrentActivePidOps, ExtendedMode, ShouldTerminate,
};

use super::target::{GdbError, GdbTarget};

/// The pid reported for the core.
pub const CORE_PID: Pid = match NonZeroUsize::new(1) {
    Some(p) => p,
    None => unreachable!(),
};

impl GdbTarget {
    fn reset_halt(&mut self) -> Result<bool, GdbError> {
        self.read_cache = None;
        self.code_cache = None;
        self.pending_stop = None;
        let (r, _) =
            self.with_host(|host, ctx| host.reset(ctx, "halt").map_err(|e| e.to_string()))?;
        Ok(self
            .ok_or_report(r, || "reset halt failed".into())
            .is_some())
    }
}

impl ExtendedMode for GdbTarget {
    fn run(&mut self, _filename: Option<&[u8]>, _args: Args<'_, '_>) -> TargetResult<Pid, Self> {
        if self.reset_halt()? {
            Ok(CORE_PID)
        } else {
            Err(gdbstub::target::TargetError::NonFatal)
        }
    }

    /// `attach N`: the core stops (as GDB expects of an attached process) and GDB gets the
    /// reason; any pid means the core.
    fn attach(&mut self, _pid: Pid) -> TargetResult<(), Self> {
        self.read_cache = None;
        self.code_cache = None;
        let (r, _) = self.with_host(|host, ctx| {
            host.halt(ctx, Duration::from_millis(1000))
                .map_err(|e| e.to_string())
        })?;
        if let Err(e) = r {
            let _ = self.fail(format!("stdbg: attach: could not halt the target: {e}"));
        }
        Ok(())
    }

    fn query_if_attached(&mut self, _pid: Pid) -> TargetResult<AttachKind, Self> {
        Ok(AttachKind::Attach)
    }

    fn kill(&mut self, _pid: Option<Pid>) -> TargetResult<ShouldTerminate, Self> {
        self.pending_stop = None;
        let (r, _) = self.with_host(|host, ctx| {
            host.halt(ctx, Duration::from_millis(1000))
                .map_err(|e| e.to_string())
        })?;
        if let Err(e) = r {
            let _ = self.fail(format!("stdbg: kill: could not halt the target: {e}"));
        }
        Ok(ShouldTerminate::No)
    }

    fn restart(&mut self) -> Result<(), GdbError> {
        self.reset_halt().map(|_| ())
    }

    fn support_current_active_pid(&mut self) -> Option<CurrentActivePidOps<'_, Self>> {
        Some(self)
    }
}

/// `attach <pid>` (vAttach) and `qC`: the core is the one process, [`CORE_PID`]. gdbstub
/// refuses `vAttach` (and ends the session) without this.
impl CurrentActivePid for GdbTarget {
    fn current_active_pid(&mut self) -> Result<Pid, GdbError> {
        Ok(CORE_PID)
    }
}
