//! GDB server settings that commands change and GDB sessions read (OpenOCD 0.12's `gdb_*`
//! commands, src/server/gdb_server.c): what the server offers GDB, how errors are reported, the
//! breakpoint type override and per-connection `gdb_sync` requests. The commands are in
//! `crate::command::builtin::gdb_cmds`, the sessions in `crate::gdb`.
//!
//! Also the standard output taken over by `gdb_port pipe`: GDB's protocol then owns stdout, so
//! every other writer to file descriptor 1 is pointed at stderr.

use std::collections::HashSet;
use std::fs::File;
use std::os::fd::FromRawFd;
use std::sync::{Mutex, OnceLock};

/// `gdb_breakpoint_override`: the breakpoint type GDB's Z0/Z1 packets get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakpointOverride {
    /// Every GDB breakpoint uses an FPB comparator (as Z1).
    Hard,
    /// Every GDB breakpoint patches a `BKPT` instruction (as Z0; in flash stdbg still uses an FPB
    /// comparator, since flash cannot be patched).
    Soft,
}

/// The settings, with OpenOCD 0.12's defaults.
#[derive(Debug, Clone)]
pub struct GdbSettings {
    /// `gdb_report_data_abort` (default disabled): a failed memory read answers an error;
    /// disabled, the unreadable bytes read as zeros (OpenOCD: so that stack traces work).
    pub report_data_abort: bool,
    /// `gdb_report_register_access_error` (default disabled): a failed register access answers
    /// an error; disabled, reads give the last values known and writes are dropped.
    pub report_register_access_error: bool,
    /// `gdb_breakpoint_override` (default: not overridden).
    pub breakpoint_override: Option<BreakpointOverride>,
    /// `gdb_memory_map` (default enabled): `qXfer:memory-map:read` is offered.
    pub memory_map: bool,
    /// `gdb_flash_program` (default enabled): `vFlashErase`/`vFlashWrite`/`vFlashDone` are served.
    pub flash_program: bool,
    /// `gdb_target_description` (default enabled): `qXfer:features:read` is offered.
    pub target_description: bool,
    /// `gdb_port pipe`: the GDB protocol runs on stdin/stdout.
    pub pipe: bool,
    /// GDB connections whose next `stepi` reports the current state without stepping
    /// (`monitor gdb_sync`), by connection number (`crate::command::Origin::Gdb`).
    pub sync: HashSet<u64>,
}

impl Default for GdbSettings {
    fn default() -> Self {
        GdbSettings {
            report_data_abort: false,
            report_register_access_error: false,
            breakpoint_override: None,
            memory_map: true,
            flash_program: true,
            target_description: true,
            pipe: false,
            sync: HashSet::new(),
        }
    }
}

/// The process's original standard output, once `gdb_port pipe` took it over.
static GDB_STDOUT: OnceLock<Mutex<File>> = OnceLock::new();

/// Takes standard output for GDB's protocol: keeps a duplicate of file descriptor 1 for the
/// session and points descriptor 1 at stderr, so that nothing else (command output, UART lines,
/// a library's `println!`) can corrupt the protocol stream. Idempotent.
pub fn take_stdout_for_gdb() -> std::io::Result<()> {
    if GDB_STDOUT.get().is_some() {
        return Ok(());
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // SAFETY: dup/dup2 on the process's standard descriptors; the duplicate is owned by the
    // File created from it and by nothing else.
    let fd = unsafe { libc::dup(1) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if unsafe { libc::dup2(2, 1) } < 0 {
        let e = std::io::Error::last_os_error();
        unsafe { libc::close(fd) };
        return Err(e);
    }
    let file = unsafe { File::from_raw_fd(fd) };
    let _ = GDB_STDOUT.set(Mutex::new(file));
    Ok(())
}

/// A handle on the original standard output taken by [`take_stdout_for_gdb`], if it was.
pub fn gdb_stdout() -> Option<File> {
    GDB_STDOUT
        .get()
        .and_then(|m| m.lock().ok().and_then(|f| f.try_clone().ok()))
}

/// The GDB target description (`qXfer:features:read:target.xml`, `gdb_save_tdesc`) of a
/// Cortex-M core: `org.gnu.gdb.arm.m-profile` (r0–r12, sp, lr, pc, xpsr),
/// `org.gnu.gdb.arm.m-system` (msp, psp, primask, basepri, faultmask, control) and, with an FPU
/// (Cortex-M4F, M7), `org.gnu.gdb.arm.vfp` (d0–d15, fpscr). Source: GDB manual, "Target
/// Descriptions" and "ARM Features"; the order is the remote numbering of `crate::gdb::arch`.
pub fn target_description_xml(fpu: bool) -> String {
    let mut x = String::with_capacity(2048);
    x.push_str("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
    x.push_str("<architecture>arm</architecture>\n");
    x.push_str("<feature name=\"org.gnu.gdb.arm.m-profile\">\n");
    for i in 0..13 {
        reg(&mut x, &format!("r{i}"), 32, "uint32");
    }
    reg(&mut x, "sp", 32, "data_ptr");
    reg(&mut x, "lr", 32, "uint32");
    reg(&mut x, "pc", 32, "code_ptr");
    reg(&mut x, "xpsr", 32, "uint32");
    x.push_str("</feature>\n<feature name=\"org.gnu.gdb.arm.m-system\">\n");
    reg(&mut x, "msp", 32, "data_ptr");
    reg(&mut x, "psp", 32, "data_ptr");
    for name in ["primask", "basepri", "faultmask", "control"] {
        reg(&mut x, name, 32, "uint32");
    }
    x.push_str("</feature>\n");
    if fpu {
        x.push_str("<feature name=\"org.gnu.gdb.arm.vfp\">\n");
        for i in 0..16 {
            x.push_str(&format!(
                "<reg name=\"d{i}\" bitsize=\"64\" type=\"ieee_double\" group=\"float\"/>\n"
            ));
        }
        x.push_str("<reg name=\"fpscr\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n");
        x.push_str("</feature>\n");
    }
    x.push_str("</target>\n");
    x
}

fn reg(x: &mut String, name: &str, bits: u32, ty: &str) {
    x.push_str(&format!(
        "<reg name=\"{name}\" bitsize=\"{bits}\" type=\"{ty}\" group=\"general\"/>\n"
    ));
}
