//! `arm semihosting_fileio enable`: the firmware's file operations done by GDB, through its
//! File-I/O protocol (GDB manual, "File-I/O Remote Protocol Extension"): while GDB waits for the
//! target, the stub sends a request (`Fopen,pathptr/len,flags,mode`), GDB reads or writes the
//! target memory it names (`m`, `M`, `X`), does the call on its host and answers
//! `Fretcode[,errno[,C]]`. The core stays halted on the `BKPT 0xAB` meanwhile; the reply turns
//! into the semihosting result in r0 and the core is resumed.
//!
//! Served so when a GDB session is attached: SYS_OPEN (not `:tt`), SYS_CLOSE, SYS_READ,
//! SYS_WRITE (files, not `:tt`), SYS_SEEK, SYS_FLEN (`Ffstat` into scratch memory below the
//! stack pointer), SYS_ISTTY, SYS_REMOVE, SYS_RENAME. The console stays stdbg's (its output
//! reaches GDB's console as `O` packets). Paths are checked as without File-I/O.
//! A file GDB opened has semihosting handle [`GDB_FD_BASE`] + GDB's descriptor.

use probe_rs::semihosting::SemihostingCommand as Cmd;
use probe_rs::{Core, MemoryInterface, RegisterId};

use super::Host;
use super::semihosting::{TT_STDERR, TT_STDIN, TT_STDOUT};

/// Semihosting handles of files GDB opened: this plus GDB's file descriptor.
pub const GDB_FD_BASE: u32 = 0x100;

/// GDB's open flags (File-I/O "Open Flags").
mod flags {
    pub const O_RDONLY: u32 = 0x0;
    pub const O_WRONLY: u32 = 0x1;
    pub const O_RDWR: u32 = 0x2;
    pub const O_APPEND: u32 = 0x8;
    pub const O_CREAT: u32 = 0x200;
    pub const O_TRUNC: u32 = 0x400;
}

/// `struct stat` as GDB writes it (File-I/O "struct stat"): 64 bytes, big-endian; `st_size`
/// is the 8 bytes at offset 28.
const STAT_SIZE: u32 = 64;
const STAT_ST_SIZE: u64 = 28;

/// How GDB's return code becomes the semihosting result.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// SYS_OPEN: the descriptor, as a handle.
    Open,
    /// SYS_CLOSE, SYS_REMOVE, SYS_RENAME, SYS_SEEK: 0 or -1.
    Status,
    /// SYS_READ, SYS_WRITE of `len` bytes: the number not transferred.
    Transfer { len: u32 },
    /// SYS_ISTTY: 1, 0, or -1.
    Isatty,
    /// SYS_FLEN: `st_size` of the `struct stat` GDB wrote at `at`.
    Fstat { at: u32 },
}

/// A call waiting for GDB.
#[derive(Debug, Clone)]
pub struct FileIoCall {
    /// The request packet's body (`Fopen,…`).
    pub request: String,
    /// GDB has been sent it.
    pub sent: bool,
    kind: Kind,
}

fn field(core: &mut Core<'_>, i: u32) -> Result<u32, probe_rs::Error> {
    let block: u32 = core.read_core_reg(RegisterId(1))?;
    core.read_word_32(u64::from(block + 4 * i))
}

/// GDB's descriptor of a semihosting handle of a file GDB opened.
fn gdb_fd(h: u32) -> Option<u32> {
    h.checked_sub(GDB_FD_BASE)
}

impl Host {
    /// The File-I/O request for `cmd`, when File-I/O is on, GDB is attached and GDB does this
    /// call; `Ok(None)`: stdbg serves it itself (the console, refused paths, unknown handles).
    pub(super) fn fileio_request(
        &self,
        core: &mut Core<'_>,
        cmd: &Cmd,
    ) -> Result<Option<FileIoCall>, probe_rs::Error> {
        {
            let s = self.semihosting();
            if !s.fileio || !s.gdb_connected() {
                return Ok(None);
            }
        }
        let call = |request: String, kind: Kind| {
            Ok(Some(FileIoCall {
                request,
                sent: false,
                kind,
            }))
        };
        let handle = |core: &mut Core<'_>| -> Result<Option<u32>, probe_rs::Error> {
            Ok(gdb_fd(field(core, 0)?))
        };
        match cmd {
            Cmd::Open(req) => {
                let path = req.path(core)?;
                if path == ":tt" {
                    return Ok(None);
                }
                // A path outside the base directory is refused by stdbg's own SYS_OPEN.
                if self.semihosting().resolve("SYS_OPEN", &path).is_err() {
                    return Ok(None);
                }
                let (ptr, mode, len) = (field(core, 0)?, field(core, 1)?, field(core, 2)?);
                use flags::*;
                let f = match mode >> 1 {
                    0 => O_RDONLY,
                    1 => O_RDWR,
                    2 => O_WRONLY | O_CREAT | O_TRUNC,
                    3 => O_RDWR | O_CREAT | O_TRUNC,
                    4 => O_WRONLY | O_CREAT | O_APPEND,
                    _ => O_RDWR | O_CREAT | O_APPEND,
                };
                call(format!("Fopen,{ptr:x}/{:x},{f:x},1a4", len + 1), Kind::Open)
            }
            Cmd::Close(_) => match handle(core)? {
                Some(fd) => call(format!("Fclose,{fd:x}"), Kind::Status),
                None => Ok(None),
            },
            Cmd::Write(_) | Cmd::Read(_) => match handle(core)? {
                Some(fd) => {
                    let (buf, len) = (field(core, 1)?, field(core, 2)?);
                    let op = if matches!(cmd, Cmd::Write(_)) {
                        "Fwrite"
                    } else {
                        "Fread"
                    };
                    call(
                        format!("{op},{fd:x},{buf:x},{len:x}"),
                        Kind::Transfer { len },
                    )
                }
                None => Ok(None),
            },
            Cmd::Seek(req) => match handle(core)? {
                Some(fd) => call(
                    format!("Flseek,{fd:x},{:x},0", req.position()),
                    Kind::Status,
                ),
                None => Ok(None),
            },
            Cmd::FileLength(_) => match handle(core)? {
                Some(fd) => {
                    // Scratch memory below the stack pointer (free while the core is halted).
                    let sp: u32 = core.read_core_reg(RegisterId(13))?;
                    let at = (sp - 2 * STAT_SIZE) & !7;
                    call(format!("Ffstat,{fd:x},{at:x}"), Kind::Fstat { at })
                }
                None => Ok(None),
            },
            Cmd::Remove(_) | Cmd::Rename(_) => {
                let (p1, l1) = (field(core, 0)?, field(core, 1)?);
                let (op, path) = match cmd {
                    Cmd::Remove(r) => ("SYS_REMOVE", r.path(core)?),
                    Cmd::Rename(r) => ("SYS_RENAME", r.from_path(core)?),
                    _ => unreachable!("matched above"),
                };
                let mut paths = vec![path];
                if let Cmd::Rename(r) = cmd {
                    paths.push(r.to_path(core)?);
                }
                // Refused by stdbg's own SYS_REMOVE / SYS_RENAME.
                if paths
                    .iter()
                    .any(|p| self.semihosting().resolve(op, p).is_err())
                {
                    return Ok(None);
                }
                if matches!(cmd, Cmd::Remove(_)) {
                    return call(format!("Funlink,{p1:x}/{:x}", l1 + 1), Kind::Status);
                }
                let (p2, l2) = (field(core, 2)?, field(core, 3)?);
                call(
                    format!("Frename,{p1:x}/{:x},{p2:x}/{:x}", l1 + 1, l2 + 1),
                    Kind::Status,
                )
            }
            Cmd::Unknown(d) if d.operation == 0x09 => {
                let h = field(core, 0)?;
                match (h, gdb_fd(h)) {
                    (TT_STDIN | TT_STDOUT | TT_STDERR, _) | (_, None) => Ok(None),
                    (_, Some(fd)) => call(format!("Fisatty,{fd:x}"), Kind::Isatty),
                }
            }
            _ => Ok(None),
        }
    }

    /// Takes the File-I/O request not yet sent to GDB (for the GDB session).
    pub fn take_fileio_request(&self) -> Option<String> {
        let mut s = self.semihosting();
        let c = s.fileio_call.as_mut().filter(|c| !c.sent)?;
        c.sent = true;
        Some(c.request.clone())
    }

    /// GDB answered the File-I/O request (`Fretcode,errno`): r0 gets the semihosting result,
    /// SYS_ERRNO GDB's errno (GDB's numbers are Linux's for the common ones), the core resumes.
    pub fn fileio_reply(&self, ret: i64, gdb_errno: Option<i32>) -> Result<(), String> {
        let Some(call) = self.semihosting().fileio_call.take() else {
            return Err("no File-I/O request is waiting for a reply".into());
        };
        if let Some(e) = gdb_errno.filter(|_| ret < 0) {
            self.semihosting().errno = e;
        }
        self.with_core(|core, _| {
            let r0: i64 = match call.kind {
                Kind::Open if ret >= 0 => ret + i64::from(GDB_FD_BASE),
                Kind::Status | Kind::Open => ret.min(0),
                Kind::Transfer { len } if ret >= 0 => i64::from(len) - ret,
                Kind::Transfer { len } => i64::from(len),
                Kind::Isatty => ret,
                Kind::Fstat { at } if ret >= 0 => {
                    let mut b = [0u8; 8];
                    core.read(u64::from(at) + STAT_ST_SIZE, &mut b)?;
                    i64::from_be_bytes(b).min(i64::from(i32::MAX))
                }
                Kind::Fstat { .. } => -1,
            };
            core.write_core_reg(RegisterId(0), r0 as i32 as u32)?;
            core.run()
        })
        .map_err(|e| e.to_string())
    }
}
