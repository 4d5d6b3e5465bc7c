//! ARM semihosting served by the host: the state behind OpenOCD's `arm semihosting*` commands,
//! the firmware's console output, the file table and the base directory.
//!
//! A semihosting call is `BKPT 0xAB` with the operation in r0 and its parameter in r1 (ARM
//! "Semihosting for AArch32 and AArch64", semihosting.rst §"The semihosting interface"). The
//! core halts on it; probe-rs decodes it (`HaltReason::Breakpoint(BreakpointCause::Semihosting)`)
//! and the poller ([`super::control`]'s `poll_core`) hands it to [`Host::serve_semihosting`]
//! (`semihosting_ops.rs`), which performs it, writes r0 and resumes the core: no halt message,
//! no `halted` event, GDB's `continue` goes on.
//!
//! Output of the firmware's console (SYS_WRITEC, SYS_WRITE0, SYS_WRITE to a `:tt` handle) goes
//! to stdout as written on a `-c` run (like OpenOCD), as lines to every console (telnet, the
//! REPL) through the event bus, and to GDB's console when a GDB session is attached (`O`
//! packets while it waits for the target). `arm semihosting_redirect tcp PORT` sends it to a
//! TCP client instead, which also provides the console input (SYS_READC, SYS_READ of `:tt`).
//!
//! With `arm semihosting_fileio enable` and GDB attached, the file operations are GDB's
//! (`semihosting_fileio.rs`, `gdb/fileio.rs`).
//!
//! Files are opened relative to the base directory (`arm semihosting_basedir`, the working
//! directory by default); an absolute path or one with `..` that leads outside it is refused
//! with EACCES and a warning naming the command that allows it.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::lines::LineBuffer;
use super::{Host, HostEvent};

/// Linux errno values the firmware sees through SYS_ERRNO (the host's own, as OpenOCD passes
/// the host's `errno`).
pub mod errno {
    /// No such file or directory.
    pub const ENOENT: i32 = 2;
    /// Bad file descriptor (a handle that is not open).
    pub const EBADF: i32 = 9;
    /// Permission denied (a path outside the base directory).
    pub const EACCES: i32 = 13;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Bad address (a buffer that cannot be read).
    pub const EFAULT: i32 = 14;
    /// File name too long.
    pub const ENAMETOOLONG: i32 = 36;
    /// Operation not supported (an operation stdbg does not serve).
    pub const ENOTSUP: i32 = 95;
}

/// First handle given to a file (1, 2, 3 are the console's stdin, stdout and stderr).
const FIRST_FILE_HANDLE: u32 = 4;
/// Console handles: what `SYS_OPEN(":tt", mode)` returns for modes "r*", "w*", "a*".
pub const TT_STDIN: u32 = 1;
/// Standard output of the console.
pub const TT_STDOUT: u32 = 2;
/// Standard error of the console.
pub const TT_STDERR: u32 = 3;
/// Output kept for an attached GDB that is not waiting for the target (bytes).
const GDB_BUFFER: usize = 64 << 10;

/// Which console operations `arm semihosting_redirect tcp` sends to its TCP client
/// (OpenOCD's `semihosting_redirect_config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectCfg {
    /// SYS_WRITEC, SYS_WRITE0, SYS_READC.
    Debug,
    /// Reads and writes of the `:tt` handles.
    Stdio,
    /// Both.
    All,
}

/// The class of a console operation, for the redirection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// SYS_WRITEC, SYS_WRITE0, SYS_READC.
    Debug,
    /// `:tt` stdout and stdin.
    Stdio,
    /// `:tt` stderr (stdio class; written to stderr on a `-c` run).
    Stderr,
}

/// The TCP client of `arm semihosting_redirect tcp`: one at a time.
struct Redirect {
    cfg: RedirectCfg,
    port: u16,
    /// The connected client (written by the host thread, with a write timeout).
    client: Arc<Mutex<Option<TcpStream>>>,
    input: Arc<Mutex<VecDeque<u8>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Redirect {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Redirect {
    /// Writes `bytes` to the client; false when none is connected (or it went away).
    fn send(&self, bytes: &[u8]) -> bool {
        let mut c = self.client.lock().unwrap_or_else(|e| e.into_inner());
        let ok = c
            .as_mut()
            .is_some_and(|s| s.write_all(bytes).and_then(|()| s.flush()).is_ok());
        if !ok {
            *c = None;
        }
        ok
    }

    fn connected(&self) -> bool {
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    fn covers(&self, class: Class) -> bool {
        match (self.cfg, class) {
            (RedirectCfg::All, _) => true,
            (RedirectCfg::Debug, c) => c == Class::Debug,
            (RedirectCfg::Stdio, c) => c != Class::Debug,
        }
    }
}

/// What the semihosting commands configured and what the firmware opened.
pub struct Semihosting {
    /// `arm semihosting enable` (off by default, as in OpenOCD).
    pub enabled: bool,
    /// `arm semihosting_fileio enable`.
    pub fileio: bool,
    /// `arm semihosting_resexit enable`: SYS_EXIT resumes the firmware when GDB is attached.
    pub resexit: bool,
    /// `arm semihosting_cmdline`: what SYS_GET_CMDLINE returns.
    pub cmdline: Option<String>,
    /// `arm semihosting_basedir`: where files are opened (None: the working directory).
    pub basedir: Option<PathBuf>,
    redirect: Option<Redirect>,
    files: HashMap<u32, std::fs::File>,
    /// The host errno of the last failed operation (SYS_ERRNO).
    pub errno: i32,
    /// When semihosting was enabled: the origin of SYS_CLOCK and SYS_ELAPSED.
    pub started: Instant,
    /// Console text not yet ended by a newline, for the consoles' lines (stdout, stderr).
    partial: [LineBuffer; 2],
    gdb_sessions: u32,
    gdb_out: Vec<u8>,
    /// The "no console input" warning was given.
    pub warned_input: bool,
    /// A call GDB does through File-I/O, waiting for its reply (`semihosting_fileio.rs`).
    pub fileio_call: Option<super::semihosting_fileio::FileIoCall>,
}

impl Default for Semihosting {
    fn default() -> Self {
        Semihosting {
            enabled: false,
            fileio: false,
            resexit: false,
            cmdline: None,
            basedir: None,
            redirect: None,
            files: HashMap::new(),
            errno: 0,
            started: Instant::now(),
            partial: Default::default(),
            gdb_sessions: 0,
            gdb_out: Vec::new(),
            warned_input: false,
            fileio_call: None,
        }
    }
}

/// A path the firmware may not use: it leads outside the base directory.
#[derive(Debug, thiserror::Error)]
#[error(
    "semihosting: refused {op} of \"{path}\": it is {resolved}, outside the base directory {base}{why}; {hint}"
)]
pub struct Refused {
    /// The operation (SYS_OPEN, SYS_REMOVE, SYS_RENAME).
    pub op: &'static str,
    /// The path as the firmware gave it.
    pub path: String,
    /// Where it leads.
    pub resolved: String,
    /// The base directory.
    pub base: String,
    /// " (the working directory)" when no base directory was set.
    pub why: &'static str,
    /// The command that allows it.
    pub hint: String,
}

/// `path` with `.` and `..` applied without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Semihosting {
    /// The base directory files are opened in (absolute).
    pub fn base(&self) -> PathBuf {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        normalize(&match &self.basedir {
            Some(b) => cwd.join(b),
            None => cwd,
        })
    }

    /// Where the firmware's `path` leads, if it stays inside the base directory.
    pub fn resolve(&self, op: &'static str, path: &str) -> Result<PathBuf, Box<Refused>> {
        let base = self.base();
        let resolved = normalize(&base.join(path));
        if resolved.starts_with(&base) && !path.is_empty() {
            return Ok(resolved);
        }
        let parent = resolved
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "/".into());
        let hint = if Path::new(path).is_absolute() {
            format!(
                "allow it with `arm semihosting_basedir {parent}` (a base directory that contains it; relative paths then resolve there too)"
            )
        } else {
            format!(
                "a relative path must stay inside the base directory: to reach it, set a base directory that contains it (`arm semihosting_basedir {parent}`) and open it by a path relative to that"
            )
        };
        Err(Box::new(Refused {
            op,
            path: path.to_string(),
            resolved: resolved.display().to_string(),
            base: base.display().to_string(),
            why: if self.basedir.is_none() {
                " (the working directory)"
            } else {
                ""
            },
            hint,
        }))
    }

    /// Adds an open file; returns its handle.
    pub fn add_file(&mut self, f: std::fs::File) -> u32 {
        let mut h = FIRST_FILE_HANDLE;
        while self.files.contains_key(&h) {
            h += 1;
        }
        self.files.insert(h, f);
        h
    }

    /// The open file of `handle`.
    pub fn file(&mut self, handle: u32) -> Option<&mut std::fs::File> {
        self.files.get_mut(&handle)
    }

    /// Closes `handle`; false when it was not open.
    pub fn close(&mut self, handle: u32) -> bool {
        self.files.remove(&handle).is_some()
    }

    /// Forgets every open file (a new session, or semihosting disabled).
    pub fn close_all(&mut self) {
        self.files.clear();
    }

    /// A GDB session starts (its console gets the firmware's output) or ends.
    pub fn gdb_attached(&mut self, attached: bool) {
        if attached {
            self.gdb_sessions += 1;
        } else {
            self.gdb_sessions = self.gdb_sessions.saturating_sub(1);
            if self.gdb_sessions == 0 {
                self.gdb_out.clear();
                // Served by stdbg at the next poll instead.
                self.fileio_call = None;
            }
        }
    }

    /// Whether a GDB session is attached (OpenOCD's `gdb_actual_connections`).
    pub fn gdb_connected(&self) -> bool {
        self.gdb_sessions > 0
    }

    /// Takes the output waiting for GDB's console.
    pub fn take_gdb_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.gdb_out)
    }

    /// Queues `text` for GDB's console (when attached).
    pub fn to_gdb(&mut self, text: &[u8]) {
        if self.gdb_sessions > 0 {
            let room = GDB_BUFFER.saturating_sub(self.gdb_out.len());
            self.gdb_out
                .extend_from_slice(&text[..text.len().min(room)]);
        }
    }

    /// Console input for `class` (the redirection's TCP client): up to `max` bytes, `None`
    /// when no input source is connected (then reads see end of file).
    pub fn input(&mut self, class: Class, max: usize) -> Option<Vec<u8>> {
        let r = self.redirect.as_ref().filter(|r| r.covers(class))?;
        if !r.connected() {
            return None;
        }
        let mut q = r.input.lock().unwrap_or_else(|e| e.into_inner());
        let n = q.len().min(max);
        Some(q.drain(..n).collect())
    }

    /// The redirection, in words (`arm semihosting_redirect` without a change).
    pub fn redirect_words(&self) -> String {
        match &self.redirect {
            None => "semihosting redirect is disabled".into(),
            Some(r) => format!(
                "semihosting redirect is tcp {} {}",
                r.port,
                match r.cfg {
                    RedirectCfg::Debug => "debug",
                    RedirectCfg::Stdio => "stdio",
                    RedirectCfg::All => "all",
                }
            ),
        }
    }

    /// Ends the redirection.
    pub fn redirect_off(&mut self) {
        self.redirect = None;
    }

    /// Serves `class` output and console input on 127.0.0.1:`port` (0: any free port);
    /// returns the port.
    pub fn redirect_tcp(&mut self, port: u16, cfg: RedirectCfg) -> std::io::Result<u16> {
        self.redirect = None;
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let client = Arc::new(Mutex::new(None));
        let input = Arc::new(Mutex::new(VecDeque::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, i, s) = (client.clone(), input.clone(), stop.clone());
        std::thread::Builder::new()
            .name("stdbg-semihosting-tcp".into())
            .spawn(move || serve_redirect(listener, c, i, s))?;
        self.redirect = Some(Redirect {
            cfg,
            port,
            client,
            input,
            stop,
        });
        Ok(port)
    }
}

/// Accepts one client at a time on `listener` and keeps it in `client` (the host thread
/// writes the firmware's output to it); what it sends goes to `input`.
fn serve_redirect(
    listener: TcpListener,
    client: Arc<Mutex<Option<TcpStream>>>,
    input: Arc<Mutex<VecDeque<u8>>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let mut stream: TcpStream = match listener.accept() {
            Ok((s, peer)) => {
                tracing::info!("semihosting: TCP client {peer} connected");
                s
            }
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
        let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
        *client.lock().unwrap_or_else(|e| e.into_inner()) = stream.try_clone().ok();
        let mut buf = [0u8; 1024];
        while !stop.load(Ordering::Relaxed) {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => input
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        *client.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Host {
    /// The semihosting state.
    pub fn semihosting(&self) -> std::sync::MutexGuard<'_, Semihosting> {
        self.semihosting_state()
    }

    /// The `, semihosting` (` fileio`) suffix OpenOCD's halt message gets while semihosting is
    /// enabled (`armv7m_arch_state`).
    pub fn halt_suffix(&self) -> &'static str {
        let s = self.semihosting();
        match (s.enabled, s.fileio) {
            (true, true) => ", semihosting fileio",
            (true, false) => ", semihosting",
            _ => "",
        }
    }

    /// The firmware's console output: raw to the redirection's client or to stdout (stderr for
    /// `:tt` stderr) on a `-c` run, as lines to every console, raw to GDB's console.
    pub fn semihosting_output(&self, target: &str, class: Class, bytes: &[u8]) {
        let lines = {
            let mut s = self.semihosting();
            if let Some(r) = s.redirect.as_ref().filter(|r| r.covers(class))
                && r.send(bytes)
            {
                return;
            }
            s.to_gdb(bytes);
            let slot = usize::from(class == Class::Stderr);
            s.partial[slot].feed(bytes)
        };
        if self.serial().stdout_enabled() {
            if class == Class::Stderr {
                let mut e = std::io::stderr().lock();
                let _ = e.write_all(bytes);
                let _ = e.flush();
            } else {
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(bytes);
                let _ = o.flush();
            }
        }
        if !lines.is_empty() {
            self.events().send(HostEvent::Target {
                target: target.to_string(),
                lines: lines
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect(),
                origin: None,
            });
        }
    }

    /// A message about the firmware's semihosting (an exit, a refused path): the log (stderr),
    /// and GDB's console when attached.
    pub fn semihosting_note(&self, warn: bool, msg: &str) {
        if warn {
            tracing::warn!("{msg}");
        } else {
            tracing::info!("{msg}");
        }
        self.semihosting().to_gdb(format!("{msg}\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_base_directory() {
        let s = Semihosting {
            basedir: Some(PathBuf::from("/srv/fw/run")),
            ..Default::default()
        };
        assert_eq!(
            s.resolve("SYS_OPEN", "a/./b.txt").unwrap(),
            PathBuf::from("/srv/fw/run/a/b.txt")
        );
        assert_eq!(
            s.resolve("SYS_OPEN", "a/../b.txt").unwrap(),
            PathBuf::from("/srv/fw/run/b.txt")
        );
        let e = s.resolve("SYS_OPEN", "../x.txt").unwrap_err();
        assert_eq!(
            e.to_string(),
            "semihosting: refused SYS_OPEN of \"../x.txt\": it is /srv/fw/x.txt, outside the base directory /srv/fw/run; a relative path must stay inside the base directory: to reach it, set a base directory that contains it (`arm semihosting_basedir /srv/fw`) and open it by a path relative to that"
        );
        assert!(s.resolve("SYS_REMOVE", "/etc/passwd").is_err());
        assert!(s.resolve("SYS_OPEN", "/srv/fw/run/ok").is_ok());
        assert!(s.resolve("SYS_OPEN", "").is_err());
    }
}
