//! Registers (`g`/`G`/`p`/`P`) and memory (`m`/`M`/`X`) through the host thread.
//!
//! Register numbers are those of [`super::arch`]. primask, basepri, faultmask and control are
//! the four bytes of the CONTROL/FAULTMASK/BASEPRI/PRIMASK special register (DCRSR REGSEL 20,
//! ARMv7-M ARM §C1.6.3), so writing one is a read-modify-write of that register.

use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::singlethread::{SingleThreadBase, SingleThreadResumeOps};
use gdbstub::target::{TargetError, TargetResult};

use probe_rs::{Core, MemoryInterface, RegisterId};

use super::arch::{CortexMRegId, CortexMRegs, FIRST_D_REG, FPSCR_REG, FpuRegs};
use super::target::GdbTarget;
use crate::host::control::regsel;

/// probe-rs register id of s0 (FPU single-precision registers are 0x40 + n).
const S0: u16 = 0x40;
/// probe-rs register id of FPSCR.
const FPSCR: u16 = 33;

fn read(core: &mut Core<'_>, id: u16) -> Result<u32, probe_rs::Error> {
    core.read_core_reg::<u32>(RegisterId(id))
}

/// Reads one register by remote number (see [`super::arch`]); d registers as 64 bits.
pub fn read_reg(core: &mut Core<'_>, reg: u16) -> Result<u64, probe_rs::Error> {
    let r = reg as usize;
    Ok(match r {
        0..=16 => read(core, reg)? as u64,
        17 => read(core, regsel::MSP)? as u64,
        18 => read(core, regsel::PSP)? as u64,
        19..=22 => ((read(core, regsel::SPECIAL)? >> (8 * (r - 19))) & 0xff) as u64,
        _ if (FIRST_D_REG..FIRST_D_REG + 16).contains(&r) => {
            let n = (r - FIRST_D_REG) as u16;
            let lo = read(core, S0 + 2 * n)? as u64;
            let hi = read(core, S0 + 2 * n + 1)? as u64;
            lo | (hi << 32)
        }
        FPSCR_REG => read(core, FPSCR)? as u64,
        _ => {
            return Err(probe_rs::Error::Other(format!(
                "register number {reg} does not exist on this core"
            )));
        }
    })
}

/// Writes one register by remote number.
pub fn write_reg(core: &mut Core<'_>, reg: u16, value: u64) -> Result<(), probe_rs::Error> {
    let r = reg as usize;
    let v = value as u32;
    match r {
        0..=16 => core.write_core_reg(RegisterId(reg), v)?,
        17 => core.write_core_reg(RegisterId(regsel::MSP), v)?,
        18 => core.write_core_reg(RegisterId(regsel::PSP), v)?,
        19..=22 => {
            let shift = 8 * (r - 19);
            let old = read(core, regsel::SPECIAL)?;
            let new = (old & !(0xff << shift)) | ((v & 0xff) << shift);
            core.write_core_reg(RegisterId(regsel::SPECIAL), new)?;
        }
        _ if (FIRST_D_REG..FIRST_D_REG + 16).contains(&r) => {
            let n = (r - FIRST_D_REG) as u16;
            core.write_core_reg(RegisterId(S0 + 2 * n), value as u32)?;
            core.write_core_reg(RegisterId(S0 + 2 * n + 1), (value >> 32) as u32)?;
        }
        FPSCR_REG => core.write_core_reg(RegisterId(FPSCR), v)?,
        _ => {
            return Err(probe_rs::Error::Other(format!(
                "register number {reg} does not exist on this core"
            )));
        }
    }
    Ok(())
}

/// The DCRSR REGSEL numbers of the whole register file, in the order [`regs_from`] takes
/// them: r0–r12, sp, lr, pc, xPSR, MSP, PSP, CONTROL/FAULTMASK/BASEPRI/PRIMASK (20), then with
/// an FPU s0–s31 and FPSCR (53).
pub fn regsels(fpu: bool) -> Vec<u16> {
    let mut v: Vec<u16> = (0..17).collect();
    v.extend([regsel::MSP, regsel::PSP, regsel::SPECIAL]);
    if fpu {
        v.extend(S0..S0 + 32);
        v.push(FPSCR);
    }
    v
}

/// The register file from the values of [`regsels`] (same order and length).
pub fn regs_from(values: &[u32], fpu: bool) -> CortexMRegs {
    let mut regs = CortexMRegs::default();
    regs.core.copy_from_slice(&values[..17]);
    regs.system[0] = values[17];
    regs.system[1] = values[18];
    let special = values[19];
    for i in 0..4 {
        regs.system[2 + i] = (special >> (8 * i)) & 0xff;
    }
    if fpu {
        let mut f = FpuRegs::default();
        for n in 0..16 {
            f.d[n] = values[20 + 2 * n] as u64 | ((values[21 + 2 * n] as u64) << 32);
        }
        f.fpscr = values[52];
        regs.fpu = Some(f);
    }
    regs
}

/// Reads the whole register file with probe-rs (20 core-register reads; 53 with an FPU).
pub fn read_all(core: &mut Core<'_>, fpu: bool) -> Result<CortexMRegs, probe_rs::Error> {
    let sels = regsels(fpu);
    let mut values = Vec::with_capacity(sels.len());
    for id in sels {
        values.push(read(core, id)?);
    }
    Ok(regs_from(&values, fpu))
}

/// Writes the registers that differ from `old` (a `G` packet usually changes one or two).
pub fn write_changed(
    core: &mut Core<'_>,
    old: &CortexMRegs,
    new: &CortexMRegs,
) -> Result<(), probe_rs::Error> {
    for i in 0..17 {
        if old.core[i] != new.core[i] {
            write_reg(core, i as u16, new.core[i] as u64)?;
        }
    }
    if new.core_only {
        return Ok(());
    }
    for i in 0..6 {
        if old.system[i] != new.system[i] {
            write_reg(core, 17 + i as u16, new.system[i] as u64)?;
        }
    }
    if let (Some(o), Some(n)) = (&old.fpu, &new.fpu) {
        for i in 0..16 {
            if o.d[i] != n.d[i] {
                write_reg(core, (FIRST_D_REG + i) as u16, n.d[i])?;
            }
        }
        if o.fpscr != n.fpscr {
            write_reg(core, FPSCR_REG as u16, n.fpscr as u64)?;
        }
    }
    Ok(())
}

impl GdbTarget {
    fn not_halted_hint(e: String) -> String {
        if e.contains("not halted") || e.contains("has to be halted") || e.contains("running") {
            format!(
                "{e} (the target was resumed from another console; 'continue' waits for it to stop, Ctrl-C halts it)"
            )
        } else {
            e
        }
    }
}

impl SingleThreadBase for GdbTarget {
    fn read_registers(&mut self, regs: &mut CortexMRegs) -> TargetResult<(), Self> {
        let fpu = self.fpu;
        // The banked-register path first (host/fastread.rs); probe-rs's when it fails, for
        // its explained error (or its success, after a transient fault).
        let fast = self
            .handle
            .call_or_busy(move |host| {
                let sels = regsels(fpu);
                let mut values = vec![0u32; sels.len()];
                host.read_core_regs_fast(&sels, &mut values)
                    .map(|()| regs_from(&values, fpu))
            })
            .ok_or(TargetError::Fatal(super::target::GdbError::HostGone))?;
        let read = match fast {
            Ok(Ok(r)) => Ok(Ok(r)),
            _ => self.with_core(move |core, _| read_all(core, fpu)),
        };
        match read.map_err(TargetError::Fatal)? {
            Ok(r) => {
                self.last_regs = Some(r.clone());
                *regs = r;
                regs.core_only = !self.settings.target_description;
                Ok(())
            }
            Err(e) if !self.settings.report_register_access_error => {
                // OpenOCD's default: GDB gets the values last read (zeros before any), so a
                // GDB connecting to a running target (a live watch) gets going.
                tracing::debug!("GDB: registers unreadable ({e}); answered the last values read");
                self.note(format!(
                    "stdbg: reading the registers failed; GDB got the last values read (gdb_report_register_access_error is disabled): {}",
                    Self::not_halted_hint(e)
                ));
                *regs = self.last_regs.clone().unwrap_or_default();
                if self.fpu && regs.fpu.is_none() {
                    regs.fpu = Some(Default::default());
                }
                regs.core_only = !self.settings.target_description;
                Ok(())
            }
            Err(e) => Err(self.fail(format!(
                "stdbg: reading the registers failed: {}",
                Self::not_halted_hint(e)
            ))),
        }
    }

    fn write_registers(&mut self, regs: &CortexMRegs) -> TargetResult<(), Self> {
        let fpu = self.fpu;
        let new = regs.clone();
        let r = self
            .with_core(move |core, _| {
                let old = read_all(core, fpu)?;
                write_changed(core, &old, &new)
            })
            .map_err(TargetError::Fatal)?;
        match r {
            Ok(()) => Ok(()),
            Err(e) if !self.settings.report_register_access_error => {
                // OpenOCD's default: the write is dropped without an error; the reason still
                // reaches GDB's console.
                self.note(format!(
                    "stdbg: writing the registers failed (ignored: gdb_report_register_access_error is disabled): {}",
                    Self::not_halted_hint(e)
                ));
                Ok(())
            }
            Err(e) => Err(self.fail(format!(
                "stdbg: writing the registers failed: {}",
                Self::not_halted_hint(e)
            ))),
        }
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, (), Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start_addr: u32, data: &mut [u8]) -> TargetResult<usize, Self> {
        // While the core runs (another connection continued it, or this one is a live watch)
        // memory changes under GDB: every read goes to the target.
        // (Asked without waiting: while another console's command holds the probe the read
        // below gets the "busy" answer at once.)
        let running = match self.handle.call_or_busy(|h| {
            let (name, _) = h.current_target().ok()?;
            h.targets().by_name(&name).map(|t| t.state)
        }) {
            None => return Err(TargetError::Fatal(super::target::GdbError::HostGone)),
            Some(Ok(state)) => state == Some(crate::host::target::TargetState::Running),
            Some(Err(_busy)) => true,
        };
        if running {
            self.read_cache = None;
            self.code_cache = None;
        } else if let Some(n) = self.read_cached(start_addr, data)? {
            return Ok(n);
        }
        self.read_direct(start_addr, data)
    }

    fn write_addrs(&mut self, start_addr: u32, data: &[u8]) -> TargetResult<(), Self> {
        self.read_cache = None;
        self.code_cache = None;
        if self.memory_map.is_flash(start_addr as u64) {
            return Err(self.fail(format!(
                "stdbg: cannot write {} bytes at 0x{start_addr:08x}: that is flash, which only 'load' (or 'monitor program') can change",
                data.len()
            )));
        }
        let bytes = data.to_vec();
        let r = self
            .with_core(move |core, _| core.write(start_addr as u64, &bytes))
            .map_err(TargetError::Fatal)?;
        r.map_err(|e| {
            self.fail(format!(
                "stdbg: writing {} bytes at 0x{start_addr:08x} failed: {e}",
                data.len()
            ))
        })
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl GdbTarget {
    /// Reads exactly what GDB asked for; on failure finds the readable prefix.
    fn read_direct(&mut self, start_addr: u32, data: &mut [u8]) -> TargetResult<usize, Self> {
        let len = data.len();
        let r = self
            .with_core(move |core, _| {
                let mut buf = vec![0u8; len];
                match core.read(start_addr as u64, &mut buf) {
                    Ok(()) => Ok((buf, None)),
                    Err(e) => {
                        // Find the readable prefix word by word, so GDB gets what exists.
                        let mut n = 0usize;
                        let mut a = start_addr as u64;
                        while n < len {
                            let chunk = (4 - (a % 4) as usize).min(len - n);
                            if core.read(a, &mut buf[n..n + chunk]).is_err() {
                                break;
                            }
                            n += chunk;
                            a += chunk as u64;
                        }
                        buf.truncate(n);
                        Ok((buf, Some(e.to_string())))
                    }
                }
            })
            .map_err(TargetError::Fatal)?;
        match r {
            Ok((buf, None)) => {
                data.copy_from_slice(&buf);
                Ok(len)
            }
            Ok((buf, Some(e))) if !self.settings.report_data_abort => {
                // OpenOCD's default (`gdb_report_data_abort disable`): what cannot be read
                // reads as zeros, so that stack traces work.
                tracing::debug!(
                    "GDB read at 0x{start_addr:08x}: {} of {len} bytes unreadable, answered as zeros: {e}",
                    len - buf.len()
                );
                data[..buf.len()].copy_from_slice(&buf);
                data[buf.len()..].fill(0);
                Ok(len)
            }
            Ok((buf, Some(e))) if !buf.is_empty() => {
                tracing::debug!(
                    "GDB read at 0x{start_addr:08x}: only {} of {len} bytes readable: {e}",
                    buf.len()
                );
                data[..buf.len()].copy_from_slice(&buf);
                Ok(buf.len())
            }
            Ok((_, Some(e))) | Err(e) => {
                tracing::debug!("GDB read of {len} bytes at 0x{start_addr:08x} failed: {e}");
                self.note(format!(
                    "stdbg: reading {len} bytes at 0x{start_addr:08x} failed: {e}"
                ));
                Err(TargetError::NonFatal)
            }
        }
    }
}

impl SingleRegisterAccess<()> for GdbTarget {
    fn read_register(
        &mut self,
        _tid: (),
        reg_id: CortexMRegId,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let reg = reg_id.0;
        if reg as usize >= FIRST_D_REG && !self.fpu {
            return Err(TargetError::NonFatal);
        }
        let r = self
            .with_core(move |core, _| read_reg(core, reg))
            .map_err(TargetError::Fatal)?;
        match r {
            Ok(v) => {
                let size = reg_id.size();
                let bytes = v.to_le_bytes();
                let n = size.min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                Ok(n)
            }
            Err(e) if !self.settings.report_register_access_error => {
                // OpenOCD's default: the value last read (0 before any).
                tracing::debug!("GDB: register {reg} unreadable ({e}); answered the last value");
                self.note(format!(
                    "stdbg: reading register {reg} failed; GDB got the last value read (gdb_report_register_access_error is disabled): {}",
                    Self::not_halted_hint(e.clone())
                ));
                let v = self
                    .last_regs
                    .as_ref()
                    .and_then(|r| match reg as usize {
                        i @ 0..=16 => Some(r.core[i] as u64),
                        i @ 17..=22 => Some(r.system[i - 17] as u64),
                        _ => None,
                    })
                    .unwrap_or(0);
                let n = reg_id.size().min(buf.len());
                buf[..n].copy_from_slice(&v.to_le_bytes()[..n]);
                Ok(n)
            }
            Err(e) => Err(self.fail(format!(
                "stdbg: reading register {reg} failed: {}",
                Self::not_halted_hint(e)
            ))),
        }
    }

    fn write_register(
        &mut self,
        _tid: (),
        reg_id: CortexMRegId,
        val: &[u8],
    ) -> TargetResult<(), Self> {
        let reg = reg_id.0;
        let mut b = [0u8; 8];
        let n = val.len().min(8);
        b[..n].copy_from_slice(&val[..n]);
        let v = u64::from_le_bytes(b);
        let r = self
            .with_core(move |core, _| write_reg(core, reg, v))
            .map_err(TargetError::Fatal)?;
        match r {
            Ok(()) => Ok(()),
            Err(e) if !self.settings.report_register_access_error => {
                self.note(format!(
                    "stdbg: writing register {reg} failed (ignored: gdb_report_register_access_error is disabled): {}",
                    Self::not_halted_hint(e)
                ));
                Ok(())
            }
            Err(e) => Err(self.fail(format!(
                "stdbg: writing register {reg} failed: {}",
                Self::not_halted_hint(e)
            ))),
        }
    }
}

/// GDB's CRC-32 for `qCRC` (polynomial 0x04C11DB7, MSB first, initial value 0xFFFFFFFF, no final
/// inversion; GDB manual "General Query Packets", gdbsupport `xcrc32`).
pub fn gdb_crc32(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

impl GdbTarget {
    /// Answers a packet gdbstub does not handle (see `super::Reader`): `qCRC:addr,length`
    /// (used by `compare-sections`) reads the memory on the host thread and returns `C<crc>`.
    pub fn own_packet(&mut self, body: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(body);
        let Some(args) = text.strip_prefix("qCRC:") else {
            return Vec::new();
        };
        let parsed = args.split_once(',').and_then(|(a, l)| {
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(l, 16).ok()?,
            ))
        });
        let Some((addr, len)) = parsed else {
            return b"E01".to_vec();
        };
        if len > 16 * 1024 * 1024 {
            return b"E01".to_vec();
        }
        let r = self.with_core(move |core, _| {
            let mut crc = 0xFFFF_FFFFu32;
            let mut buf = vec![0u8; 4096];
            let mut done = 0u64;
            while done < len {
                let n = (len - done).min(buf.len() as u64) as usize;
                core.read(addr + done, &mut buf[..n])?;
                crc = gdb_crc32(crc, &buf[..n]);
                done += n as u64;
            }
            Ok(crc)
        });
        match r {
            Ok(Ok(crc)) => format!("C{crc:x}").into_bytes(),
            Ok(Err(e)) => {
                let _ = self.fail(format!(
                    "stdbg: reading {len} bytes at 0x{addr:08x} for compare-sections failed: {e}"
                ));
                b"E01".to_vec()
            }
            Err(_) => b"E01".to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gdb_crc32;

    #[test]
    fn crc_matches_gdbs_xcrc32() {
        // xcrc32("123456789", 9, 0xffffffff) = 0x0376e6e7 (CRC-32/MPEG-2 check value).
        assert_eq!(gdb_crc32(0xFFFF_FFFF, b"123456789"), 0x0376_E6E7);
    }
}
