//! The target description XML (`qXfer:features:read:target.xml`), built when GDB attaches
//! because the register set depends on the core: `org.gnu.gdb.arm.m-profile` (r0–r12, sp, lr,
//! pc, xpsr), `org.gnu.gdb.arm.m-system` (msp, psp, primask, basepri, faultmask, control) and,
//! when the core has an FPU (Cortex-M4F, M7), `org.gnu.gdb.arm.vfp` (d0–d15, fpscr).
//!
//! Source: GDB manual, "Target Descriptions" and "ARM Features". The register order is the
//! remote numbering of [`super::arch`]. Every register is in the `general` group so that
//! `info registers` lists the system registers too (as OpenOCD's description does).

/// The XML for a Cortex-M core, with the VFP feature when `fpu` is set (built in the host layer,
/// which `gdb_save_tdesc` also uses).
pub use crate::host::gdb_settings::target_description_xml as build;

/// Copies `offset..offset+length` of `doc` into `buf` (qXfer reads); returns the byte count.
pub fn copy_range(doc: &[u8], offset: u64, length: usize, buf: &mut [u8]) -> usize {
    let Ok(start) = usize::try_from(offset) else {
        return 0;
    };
    if start >= doc.len() {
        return 0;
    }
    let n = length.min(buf.len()).min(doc.len() - start);
    buf[..n].copy_from_slice(&doc[start..start + n]);
    n
}

/// `qXfer:features:read:target.xml`: the description built when GDB connected.
impl gdbstub::target::ext::target_description_xml_override::TargetDescriptionXmlOverride
    for super::target::GdbTarget
{
    fn target_description_xml(
        &self,
        annex: &[u8],
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> gdbstub::target::TargetResult<usize, Self> {
        if annex != b"target.xml" {
            return Err(gdbstub::target::TargetError::NonFatal);
        }
        Ok(copy_range(self.target_xml.as_bytes(), offset, length, buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m3_description_has_system_registers_and_no_vfp() {
        let x = build(false);
        assert!(x.contains("org.gnu.gdb.arm.m-profile"));
        assert!(x.contains("<reg name=\"primask\""));
        assert!(!x.contains("org.gnu.gdb.arm.vfp"));
        assert_eq!(x.matches("<reg ").count(), 23);
    }

    #[test]
    fn m4f_description_adds_the_vfp_feature() {
        let x = build(true);
        assert!(x.contains("org.gnu.gdb.arm.vfp"));
        assert_eq!(x.matches("<reg ").count(), 40);
    }

    #[test]
    fn copy_range_pages_through_the_document() {
        let mut buf = [0u8; 4];
        assert_eq!(copy_range(b"abcdef", 4, 10, &mut buf), 2);
        assert_eq!(&buf[..2], b"ef");
        assert_eq!(copy_range(b"abcdef", 6, 10, &mut buf), 0);
    }
}
