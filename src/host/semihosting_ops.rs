//! Serving one semihosting call (see [`super::semihosting`]): probe-rs's decoding where it has
//! one (`probe_rs::semihosting::SemihostingCommand`), the parameter block read here for the
//! rest (its `Unknown` operation and parameter), per ARM "Semihosting for AArch32 and AArch64"
//! (semihosting.rst §"Semihosting operations"). r0 gets the result; the core is resumed past
//! the `BKPT 0xAB` by probe-rs's `run` (which steps over a BKPT at the PC, advancing it by 2).

use std::io::{Read, Seek, SeekFrom, Write};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use probe_rs::semihosting::{SemihostingCommand as Cmd, UnknownCommandDetails};
use probe_rs::{BreakpointCause, Core, CoreStatus, HaltReason, MemoryInterface, RegisterId};

use super::semihosting::{Class, TT_STDERR, TT_STDIN, TT_STDOUT, errno};
use super::{Host, Shutdown};

/// Operation numbers probe-rs leaves undecoded (semihosting.rst, "Semihosting operations").
mod op {
    pub const SYS_READC: u32 = 0x07;
    pub const SYS_ISERROR: u32 = 0x08;
    pub const SYS_ISTTY: u32 = 0x09;
    pub const SYS_TMPNAM: u32 = 0x0D;
    pub const SYS_CLOCK: u32 = 0x10;
    pub const SYS_SYSTEM: u32 = 0x12;
    pub const SYS_HEAPINFO: u32 = 0x16;
    pub const SYS_ELAPSED: u32 = 0x30;
    pub const SYS_TICKFREQ: u32 = 0x31;
}

/// `ADP_Stopped_RunTimeErrorUnknown` (semihosting.rst, SYS_EXIT reason codes; probe-rs decodes
/// `ADP_Stopped_ApplicationExit`, 0x20026).
const ADP_RUN_TIME_ERROR: u32 = 0x20023;
/// Ticks per second of SYS_ELAPSED (host microseconds).
const TICK_HZ: u32 = 1_000_000;
/// How long the poller keeps polling quickly after a call, for the next one (a firmware
/// printing line by line makes many calls in a row): each call waits for a poll otherwise.
const QUIET: Duration = Duration::from_millis(20);
/// The longest the poller serves calls in one go (the other front ends wait meanwhile).
const BURST: Duration = Duration::from_millis(200);
/// The most bytes one SYS_WRITE or SYS_READ moves (a larger request is served in part: both
/// return the number of bytes not transferred, and C libraries call again for the rest), so a
/// firmware's wrong length cannot make stdbg allocate or transfer gigabytes.
pub const IO_MAX: u32 = 64 << 10;
/// The longest file name accepted (SYS_OPEN, SYS_REMOVE, SYS_RENAME), in bytes.
pub const PATH_MAX: u32 = 4096;
/// The longest SYS_WRITE0 string looked for, in bytes (its end is the first NUL).
pub const WRITE0_MAX: u32 = 64 << 10;

/// What happens after a call.
enum After {
    /// Resume the core past the BKPT.
    Resume,
    /// Leave it halted on the call and try again at the next poll (input not there yet).
    Wait,
    /// Leave it halted and announce the halt (SYS_EXIT without `semihosting_resexit`).
    Halt,
    /// stdbg is ending with the firmware's exit status.
    Quit,
}

fn is_call(status: CoreStatus) -> bool {
    matches!(
        status,
        CoreStatus::Halted(HaltReason::Breakpoint(BreakpointCause::Semihosting(_)))
    )
}

fn r0(core: &mut Core<'_>, v: i32) -> Result<(), probe_rs::Error> {
    core.write_core_reg(RegisterId(0), v as u32)
}

impl Host {
    /// Serves the semihosting calls of core `name` while semihosting is enabled, starting with
    /// `status`; returns the status to report: `Running` after calls (the firmware goes on),
    /// or a halt that is not a call, or the halt on SYS_EXIT (without `resexit`).
    pub fn serve_semihosting(
        &self,
        core: &mut Core<'_>,
        name: &str,
        mut status: CoreStatus,
    ) -> Result<CoreStatus, probe_rs::Error> {
        let start = Instant::now();
        loop {
            let CoreStatus::Halted(HaltReason::Breakpoint(BreakpointCause::Semihosting(cmd))) =
                status
            else {
                return Ok(status);
            };
            if !self.semihosting().enabled {
                return Ok(status);
            }
            if start.elapsed() > BURST {
                // Served at the next poll.
                return Ok(CoreStatus::Running);
            }
            if self.semihosting().fileio_call.is_some() {
                // GDB is doing this call (File-I/O); its reply resumes the core.
                return Ok(CoreStatus::Running);
            }
            match self.semihosting_call(core, name, cmd)? {
                After::Resume => core.run()?,
                After::Wait | After::Quit => return Ok(CoreStatus::Running),
                After::Halt => return Ok(status),
            }
            let quiet = Instant::now();
            loop {
                std::thread::sleep(Duration::from_micros(300));
                status = core.status()?;
                if is_call(status) || !matches!(status, CoreStatus::Running | CoreStatus::Sleeping)
                {
                    break;
                }
                if quiet.elapsed() > QUIET || start.elapsed() > BURST {
                    return Ok(status);
                }
            }
        }
    }

    /// The line added to a halt on a semihosting call while semihosting is disabled.
    pub fn semihosting_disabled_note(&self, name: &str, status: CoreStatus) -> Option<String> {
        (is_call(status) && !self.semihosting().enabled).then(|| {
            format!(
                "[{name}] the program made a semihosting call (BKPT 0xAB), which stdbg does not serve while semihosting is disabled; fix: `arm semihosting enable` (then `resume`)"
            )
        })
    }

    fn semihosting_call(
        &self,
        core: &mut Core<'_>,
        name: &str,
        cmd: Cmd,
    ) -> Result<After, probe_rs::Error> {
        tracing::debug!("[{name}] semihosting call {cmd:?}");
        if let Some(c) = self.fileio_request(core, &cmd)? {
            tracing::debug!("[{name}] semihosting: File-I/O request {}", c.request);
            self.semihosting().fileio_call = Some(c);
            return Ok(After::Wait);
        }
        if let Some(r) = self.semihosting_oversized(core, name, &cmd)? {
            r0(core, r)?;
            return Ok(After::Resume);
        }
        match cmd {
            Cmd::ExitSuccess | Cmd::ExitError(_) => return self.semihosting_exit(name, cmd),
            Cmd::WriteConsole(req) => {
                let text = req.read(core)?;
                self.semihosting_output(name, Class::Debug, text.as_bytes());
            }
            Cmd::GetCommandLine(req) => {
                let line = self.semihosting().cmdline.clone().unwrap_or_default();
                // probe-rs set r0 to -1 (no room) before; it writes 0 on success.
                if req.write_command_line_to_target(core, &line).is_err() {
                    r0(core, -1)?;
                }
            }
            Cmd::Open(req) => {
                let path = req.path(core)?;
                let h = self.sh_open(name, &path, req.mode());
                match NonZeroU32::new(h.unwrap_or(0)) {
                    Some(h) => req.respond_with_handle(core, h)?,
                    None => r0(core, -1)?,
                }
            }
            Cmd::Close(req) => {
                let h = req.file_handle();
                let mut s = self.semihosting();
                let ok = matches!(h, TT_STDIN | TT_STDOUT | TT_STDERR) || s.close(h);
                if !ok {
                    s.errno = errno::EBADF;
                }
                drop(s);
                r0(core, if ok { 0 } else { -1 })?;
            }
            Cmd::Write(req) => {
                // The parameter block is read here, not by probe-rs's `WriteRequest::read`,
                // which allocates the whole length the firmware gives.
                let (buf, want) = (param(core, 1)?, param(core, 2)?);
                let mut data = vec![0u8; want.min(IO_MAX) as usize];
                if let Err(e) = core.read(u64::from(buf), &mut data) {
                    tracing::debug!("[{name}] semihosting: SYS_WRITE buffer read: {e}");
                    // A buffer the firmware cannot have meant (past the end of RAM, unmapped):
                    // nothing is written. A link that really went fails the status write.
                    self.semihosting_note(
                        true,
                        &format!(
                            "[{name}] semihosting: SYS_WRITE of {want} bytes at {buf:#010x} failed: the bus refused to read that memory (not all of it is RAM or flash); the firmware passed a wrong buffer or length"
                        ),
                    );
                    self.semihosting().errno = errno::EFAULT;
                    req.write_status(core, want as i32)?;
                    return Ok(After::Resume);
                }
                let h = req.file_handle();
                let left = match h {
                    TT_STDOUT | TT_STDERR => {
                        let class = if h == TT_STDOUT {
                            Class::Stdio
                        } else {
                            Class::Stderr
                        };
                        self.semihosting_output(name, class, &data);
                        0
                    }
                    _ => self.with_file(h, data.len() as i32, |f| f.write_all(&data).map(|()| 0)),
                };
                // Not written: what failed, plus what was beyond IO_MAX.
                let left = left as u32 + (want - data.len() as u32);
                req.write_status(core, left as i32)?;
            }
            Cmd::Read(req) => {
                let want = req.bytes_to_read() as usize;
                let len = want.min(IO_MAX as usize);
                let h = req.file_handle();
                let data = if h == TT_STDIN {
                    match self.semihosting_input(Class::Stdio, len) {
                        Some(d) if d.is_empty() => return Ok(After::Wait),
                        Some(d) => Ok(d),
                        None => {
                            self.warn_no_input(name, "SYS_READ of :tt");
                            Ok(Vec::new())
                        }
                    }
                } else {
                    let mut out = Err(());
                    let r = self.with_file(h, -1, |f| {
                        let mut buf = Vec::with_capacity(len);
                        f.take(len as u64).read_to_end(&mut buf)?;
                        out = Ok(buf);
                        Ok(0)
                    });
                    out.map_err(|()| r)
                };
                match data {
                    Ok(d) => {
                        if !d.is_empty() {
                            let addr = req_addr(core)?;
                            core.write_8(u64::from(addr), &d)?;
                        }
                        // The number of bytes not read (semihosting.rst SYS_READ).
                        r0(core, (want - d.len()) as u32 as i32)?;
                    }
                    Err(r) => r0(core, r)?,
                }
            }
            Cmd::Seek(req) => {
                let pos = u64::from(req.position());
                let r = self.with_file(req.file_handle(), -1, |f| {
                    f.seek(SeekFrom::Start(pos)).map(|_| 0)
                });
                r0(core, r)?;
            }
            Cmd::FileLength(req) => {
                let r = self.with_file(req.file_handle(), -1, |f| {
                    f.metadata().map(|m| m.len().min(i32::MAX as u64) as i32)
                });
                r0(core, r)?;
            }
            Cmd::Remove(req) => {
                let path = req.path(core)?;
                let r = self.sh_path(name, "SYS_REMOVE", &path, |p| std::fs::remove_file(p));
                r0(core, r)?;
            }
            Cmd::Rename(req) => {
                let (from, to) = (req.from_path(core)?, req.to_path(core)?);
                let target = self.semihosting().resolve("SYS_RENAME", &to);
                let r = match target {
                    Ok(to) => self.sh_path(name, "SYS_RENAME", &from, |p| std::fs::rename(p, &to)),
                    Err(e) => self.refuse(name, &e),
                };
                r0(core, r)?;
            }
            Cmd::Time(req) => req.write_current_time(core)?,
            Cmd::Errno(req) => {
                let e = self.semihosting().errno;
                req.write_errno(core, e)?;
            }
            Cmd::Unknown(d) => return self.semihosting_other(core, name, d),
        }
        Ok(After::Resume)
    }

    /// The operations probe-rs does not decode.
    fn semihosting_other(
        &self,
        core: &mut Core<'_>,
        name: &str,
        d: UnknownCommandDetails,
    ) -> Result<After, probe_rs::Error> {
        let field = |core: &mut Core<'_>, i: u32| core.read_word_32(u64::from(d.parameter + 4 * i));
        let result: i32 = match d.operation {
            op::SYS_READC => match self.semihosting_input(Class::Debug, 1) {
                Some(b) if b.is_empty() => return Ok(After::Wait),
                Some(b) => i32::from(b[0]),
                None => {
                    self.warn_no_input(name, "SYS_READC");
                    -1
                }
            },
            // A negative status is an error (every operation's failure value is -1).
            op::SYS_ISERROR => i32::from((field(core, 0)? as i32) < 0),
            op::SYS_ISTTY => {
                let h = field(core, 0)?;
                let mut s = self.semihosting();
                if matches!(h, TT_STDIN | TT_STDOUT | TT_STDERR) {
                    1
                } else if s.file(h).is_some() {
                    0
                } else {
                    s.errno = errno::EBADF;
                    -1
                }
            }
            op::SYS_TMPNAM => {
                let (buf, id, len) = (field(core, 0)?, field(core, 1)?, field(core, 2)?);
                let name = format!("stdbg-tmp-{:03}\0", id & 0xFF);
                if name.len() as u32 > len {
                    self.semihosting().errno = errno::EINVAL;
                    -1
                } else {
                    core.write_8(u64::from(buf), name.as_bytes())?;
                    0
                }
            }
            op::SYS_CLOCK => {
                let cs = self.semihosting().started.elapsed().as_millis() / 10;
                cs.min(i32::MAX as u128) as i32
            }
            op::SYS_ELAPSED => {
                let us = self.semihosting().started.elapsed().as_micros() as u64;
                core.write_32(u64::from(d.parameter), &[us as u32, (us >> 32) as u32])?;
                0
            }
            op::SYS_TICKFREQ => TICK_HZ as i32,
            op::SYS_HEAPINFO => {
                // The parameter points to a word holding the block's address; zeros tell the C
                // library the debugger does not know (as OpenOCD answers).
                let block = field(core, 0)?;
                core.write_32(u64::from(block), &[0; 4])?;
                0
            }
            op::SYS_SYSTEM => {
                self.semihosting_note(
                    true,
                    &format!(
                        "[{name}] semihosting: refused SYS_SYSTEM (a host shell command): stdbg does not run commands for the firmware"
                    ),
                );
                self.semihosting().errno = errno::EACCES;
                -1
            }
            other => {
                self.semihosting_note(
                    true,
                    &format!(
                        "[{name}] semihosting: unsupported call {other:#x} (r1 = {:#010x}); it returns -1",
                        d.parameter
                    ),
                );
                self.semihosting().errno = errno::ENOTSUP;
                -1
            }
        };
        d.write_status(core, result)?;
        Ok(After::Resume)
    }

    /// SYS_EXIT and SYS_EXIT_EXTENDED, as OpenOCD 0.12 (`semihosting_common`): without a GDB
    /// connection stdbg ends with the status (0 for ADP_Stopped_ApplicationExit, the status of
    /// SYS_EXIT_EXTENDED, 1 for other reasons); with GDB the message goes to its console and
    /// the target halts, or resumes with `semihosting_resexit enable`.
    fn semihosting_exit(&self, name: &str, cmd: Cmd) -> Result<After, probe_rs::Error> {
        let (msg, code) = match cmd {
            Cmd::ExitError(e) => match (e.reason, e.exit_status, e.subcode) {
                (_, Some(c), _) => (format!("*** application exited with {c} ***"), Some(c)),
                (ADP_RUN_TIME_ERROR, None, None) => {
                    ("*** application exited with error ***".into(), Some(1))
                }
                (r, None, None) => (format!("application exception {r:#x}"), Some(1)),
                (r, None, Some(_)) => (format!("exception {r:#x}"), None),
            },
            _ => ("*** application exited normally ***".into(), Some(0)),
        };
        let (gdb, resexit) = {
            let s = self.semihosting();
            (s.gdb_connected(), s.resexit)
        };
        if !gdb && let Some(code) = code {
            tracing::info!("[{name}] semihosting: {msg}");
            self.request_shutdown(Shutdown::Code(code as i32));
            return Ok(After::Quit);
        }
        self.semihosting_note(false, &format!("semihosting: {msg}"));
        Ok(if resexit { After::Resume } else { After::Halt })
    }

    /// Console input (the lock is released before the caller goes on).
    fn semihosting_input(&self, class: Class, max: usize) -> Option<Vec<u8>> {
        self.semihosting().input(class, max)
    }

    /// A call whose lengths are out of bounds (a file name longer than [`PATH_MAX`], a
    /// SYS_WRITE0 string with no NUL in [`WRITE0_MAX`] bytes): refused with -1 and ENAMETOOLONG
    /// or EINVAL and a warning, before probe-rs's decoding would read it whole. `None`: serve it.
    fn semihosting_oversized(
        &self,
        core: &mut Core<'_>,
        name: &str,
        cmd: &Cmd,
    ) -> Result<Option<i32>, probe_rs::Error> {
        // Where each name's length is in the parameter block (semihosting.rst).
        let lengths: &[u32] = match cmd {
            Cmd::Open(_) => &[2],
            Cmd::Remove(_) => &[1],
            Cmd::Rename(_) => &[1, 3],
            // SYS_WRITE0 (0x04; SYS_WRITEC, one byte, is a WriteConsole too).
            Cmd::WriteConsole(_) if core.read_core_reg::<u32>(RegisterId(0))? == 0x04 => {
                let Some(_) = self.write0_len(core)? else {
                    self.semihosting_note(
                        true,
                        &format!(
                            "[{name}] semihosting: SYS_WRITE0 refused: no NUL in the first {WRITE0_MAX} bytes of the string; the firmware passed a wrong pointer or an unterminated string"
                        ),
                    );
                    self.semihosting().errno = errno::EINVAL;
                    return Ok(Some(-1));
                };
                return Ok(None);
            }
            _ => return Ok(None),
        };
        for &i in lengths {
            let len = param(core, i)?;
            if len > PATH_MAX {
                self.semihosting_note(
                    true,
                    &format!(
                        "[{name}] semihosting: a file name of {len} bytes refused (at most {PATH_MAX}); the firmware passed a wrong length"
                    ),
                );
                self.semihosting().errno = errno::ENAMETOOLONG;
                return Ok(Some(-1));
            }
        }
        Ok(None)
    }

    /// The length of SYS_WRITE0's string (r1 points to it), if a NUL ends it within
    /// [`WRITE0_MAX`] bytes.
    fn write0_len(&self, core: &mut Core<'_>) -> Result<Option<u32>, probe_rs::Error> {
        let at: u32 = core.read_core_reg(RegisterId(1))?;
        let mut buf = [0u8; 256];
        let mut n = 0;
        while n < WRITE0_MAX {
            core.read(u64::from(at.wrapping_add(n)), &mut buf)?;
            if let Some(end) = buf.iter().position(|&b| b == 0) {
                return Ok(Some(n + end as u32));
            }
            n += buf.len() as u32;
        }
        Ok(None)
    }

    fn warn_no_input(&self, name: &str, what: &str) {
        let first = !std::mem::replace(&mut self.semihosting().warned_input, true);
        if first {
            self.semihosting_note(
                true,
                &format!(
                    "[{name}] semihosting: {what}: no console input is connected, the firmware reads end of file (-1 for SYS_READC); connect one with `arm semihosting_redirect tcp <port> all` and a TCP client"
                ),
            );
        }
    }

    /// Runs `f` on the open file `h`: its result, or `fail` with errno set (EBADF when `h` is
    /// not open, the host's errno when `f` fails).
    fn with_file(
        &self,
        h: u32,
        fail: i32,
        f: impl FnOnce(&mut std::fs::File) -> std::io::Result<i32>,
    ) -> i32 {
        let mut s = self.semihosting();
        let r = match s.file(h) {
            Some(file) => f(file).map_err(|e| e.raw_os_error().unwrap_or(errno::EINVAL)),
            None => Err(errno::EBADF),
        };
        match r {
            Ok(v) => v,
            Err(e) => {
                s.errno = e;
                fail
            }
        }
    }

    fn refuse(&self, name: &str, e: &super::semihosting::Refused) -> i32 {
        self.semihosting_note(true, &format!("[{name}] {e}"));
        self.semihosting().errno = errno::EACCES;
        -1
    }

    /// Runs `f` on the firmware's `path` inside the base directory: 0, or -1 with errno.
    fn sh_path(
        &self,
        name: &str,
        op: &'static str,
        path: &str,
        f: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
    ) -> i32 {
        let resolved = self.semihosting().resolve(op, path);
        match resolved {
            Ok(p) => match f(&p) {
                Ok(()) => 0,
                Err(e) => {
                    self.semihosting().errno = e.raw_os_error().unwrap_or(errno::ENOENT);
                    -1
                }
            },
            Err(e) => self.refuse(name, &e),
        }
    }

    /// SYS_OPEN: `:tt` is the console (mode "r*" stdin, "w*" stdout, "a*" stderr); other
    /// paths are files in the base directory, opened as C `fopen` `mode` does.
    fn sh_open(&self, name: &str, path: &str, mode: &str) -> Option<u32> {
        if path == ":tt" {
            return Some(match mode.as_bytes().first() {
                Some(b'r') => TT_STDIN,
                Some(b'w') => TT_STDOUT,
                _ => TT_STDERR,
            });
        }
        let resolved = self.semihosting().resolve("SYS_OPEN", path);
        let p = match resolved {
            Ok(p) => p,
            Err(e) => {
                self.refuse(name, &e);
                return None;
            }
        };
        let plus = mode.contains('+');
        let mut o = std::fs::OpenOptions::new();
        match mode.as_bytes().first() {
            Some(b'r') => o.read(true).write(plus),
            Some(b'w') => o.write(true).read(plus).create(true).truncate(true),
            Some(b'a') => o.append(true).read(plus).create(true),
            _ => {
                self.semihosting().errno = errno::EINVAL;
                return None;
            }
        };
        match o.open(&p) {
            Ok(f) => Some(self.semihosting().add_file(f)),
            Err(e) => {
                self.semihosting().errno = e.raw_os_error().unwrap_or(errno::ENOENT);
                None
            }
        }
    }
}

/// The buffer address of a SYS_READ: field 2 of the block r1 points to (probe-rs keeps it
/// private).
/// Word `i` of the call's parameter block (r1 points to it).
fn param(core: &mut Core<'_>, i: u32) -> Result<u32, probe_rs::Error> {
    let block: u32 = core.read_core_reg(RegisterId(1))?;
    core.read_word_32(u64::from(block) + 4 * u64::from(i))
}

fn req_addr(core: &mut Core<'_>) -> Result<u32, probe_rs::Error> {
    let block: u32 = core.read_core_reg(RegisterId(1))?;
    core.read_word_32(u64::from(block) + 4)
}
