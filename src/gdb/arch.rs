//! The Cortex-M architecture for gdbstub: the register file GDB exchanges in `g`/`G` packets and
//! the register numbers of `p`/`P`, in the order of the target description built by
//! [`super::target_desc`].
//!
//! Remote register numbers (they follow the `<reg>` order of the target XML):
//!
//! | number | register | probe-rs `RegisterId` (DCRSR REGSEL, ARMv7-M ARM §C1.6.3) |
//! |---|---|---|
//! | 0–12 | r0–r12 | 0–12 |
//! | 13, 14, 15 | sp, lr, pc | 13, 14, 15 |
//! | 16 | xpsr | 16 |
//! | 17, 18 | msp, psp | 17, 18 |
//! | 19–22 | primask, basepri, faultmask, control | bytes 0–3 of 20 (CONTROL/FAULTMASK/BASEPRI/PRIMASK) |
//! | 23–38 | d0–d15 (64 bits, only with an FPU) | s(2n) and s(2n+1): 0x40 + 2n, 0x41 + 2n |
//! | 39 | fpscr (only with an FPU) | 33 |

use std::num::NonZeroUsize;

use gdbstub::arch::{Arch, RegId, Registers};

/// Number of 32-bit registers of the m-profile and m-system features (r0–r12, sp, lr, pc, xpsr,
/// msp, psp, primask, basepri, faultmask, control).
pub const BASE_REGS: usize = 23;
/// Remote number of the first VFP double register (d0).
pub const FIRST_D_REG: usize = 23;
/// Remote number of fpscr.
pub const FPSCR_REG: usize = 39;

/// Cortex-M (ARMv6-M / ARMv7-M / ARMv7E-M) for gdbstub. Uninhabited: used at the type level only.
pub enum CortexM {}

/// The floating-point registers of a core with an FPU (FPv4-SP / FPv5).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FpuRegs {
    /// d0–d15; d(n) is s(2n) in the low word and s(2n+1) in the high word.
    pub d: [u64; 16],
    /// Floating-point status and control register.
    pub fpscr: u32,
}

/// The register file exchanged in `g`/`G` packets, little-endian, in remote-number order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CortexMRegs {
    /// r0–r12, sp, lr, pc, xpsr (remote numbers 0–16).
    pub core: [u32; 17],
    /// msp, psp, primask, basepri, faultmask, control (remote numbers 17–22).
    pub system: [u32; 6],
    /// The VFP registers, present when the core has an FPU.
    pub fpu: Option<FpuRegs>,
    /// Only r0–r15 and xpsr are exchanged (68 bytes): GDB has no target description
    /// (`gdb_target_description disable`) and uses its built-in M-profile layout, as OpenOCD's
    /// "general" register class.
    pub core_only: bool,
}

impl Registers for CortexMRegs {
    type ProgramCounter = u32;

    fn pc(&self) -> u32 {
        self.core[15]
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        if self.core_only {
            for v in self.core {
                v.to_le_bytes()
                    .into_iter()
                    .for_each(|b| write_byte(Some(b)));
            }
            return;
        }
        for v in self.core.iter().chain(self.system.iter()) {
            v.to_le_bytes()
                .into_iter()
                .for_each(|b| write_byte(Some(b)));
        }
        if let Some(f) = &self.fpu {
            for d in f.d {
                d.to_le_bytes()
                    .into_iter()
                    .for_each(|b| write_byte(Some(b)));
            }
            f.fpscr
                .to_le_bytes()
                .into_iter()
                .for_each(|b| write_byte(Some(b)));
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let base = BASE_REGS * 4;
        let with_fpu = base + 16 * 8 + 4;
        if bytes.len() != base && bytes.len() != with_fpu && bytes.len() != 17 * 4 {
            return Err(());
        }
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        if bytes.len() == 17 * 4 {
            for i in 0..17 {
                self.core[i] = word(i * 4);
            }
            self.core_only = true;
            return Ok(());
        }
        for i in 0..17 {
            self.core[i] = word(i * 4);
        }
        for i in 0..6 {
            self.system[i] = word((17 + i) * 4);
        }
        if bytes.len() == with_fpu {
            let mut f = FpuRegs::default();
            for (n, d) in f.d.iter_mut().enumerate() {
                let at = base + n * 8;
                let mut b = [0u8; 8];
                b.copy_from_slice(&bytes[at..at + 8]);
                *d = u64::from_le_bytes(b);
            }
            f.fpscr = word(base + 128);
            self.fpu = Some(f);
        } else {
            self.fpu = None;
        }
        Ok(())
    }
}

/// A remote register number (see the table in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CortexMRegId(pub u16);

impl CortexMRegId {
    /// Size of the register in bytes (4, or 8 for d0–d15).
    pub fn size(self) -> usize {
        if (FIRST_D_REG..FIRST_D_REG + 16).contains(&(self.0 as usize)) {
            8
        } else {
            4
        }
    }
}

impl RegId for CortexMRegId {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        if id > FPSCR_REG {
            return None;
        }
        let r = CortexMRegId(id as u16);
        Some((r, NonZeroUsize::new(r.size())))
    }
}

impl Arch for CortexM {
    type Usize = u32;
    type Registers = CortexMRegs;
    /// The `kind` of Z0/Z1 packets: 2 = 16-bit Thumb, 3 = 32-bit Thumb-2, 4 = 32-bit ARM
    /// (GDB manual, "ARM Breakpoint Kinds").
    type BreakpointKind = usize;
    type RegId = CortexMRegId;

    /// The description is built at attach time (it depends on the FPU), see
    /// [`super::target_desc`].
    fn target_description_xml() -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_round_trip_without_and_with_fpu() {
        let mut r = CortexMRegs::default();
        r.core[15] = 0x0800_0174;
        r.system[0] = 0x2000_5000;
        let mut bytes = Vec::new();
        r.gdb_serialize(|b| bytes.push(b.unwrap()));
        assert_eq!(bytes.len(), 92);
        assert_eq!(&bytes[60..64], &[0x74, 0x01, 0x00, 0x08]);
        let mut back = CortexMRegs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, r);

        r.fpu = Some(FpuRegs {
            d: [7; 16],
            fpscr: 0x0300_0000,
        });
        let mut bytes = Vec::new();
        r.gdb_serialize(|b| bytes.push(b.unwrap()));
        assert_eq!(bytes.len(), 92 + 132);
        let mut back = CortexMRegs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, r);
        assert!(back.gdb_deserialize(&bytes[..91]).is_err());
    }

    #[test]
    fn register_numbers_and_sizes() {
        assert_eq!(
            CortexMRegId::from_raw_id(22).map(|(r, s)| (r.0, s.unwrap().get())),
            Some((22, 4))
        );
        assert_eq!(
            CortexMRegId::from_raw_id(23).map(|(r, s)| (r.0, s.unwrap().get())),
            Some((23, 8))
        );
        assert_eq!(
            CortexMRegId::from_raw_id(39).map(|(r, s)| (r.0, s.unwrap().get())),
            Some((39, 4))
        );
        assert!(CortexMRegId::from_raw_id(40).is_none());
    }
}
