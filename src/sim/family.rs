//! Identity and memory layout of each modelled chip: what a debugger sees
//! before it knows which chip it talks to (DPIDR, CPUID, DBGMCU_IDCODE, MVFR0,
//! F_SIZE) and where memories and the system-memory block lie.
//!
//! Sources: RM0008 (F1), RM0316 (F303), RM0440 (G4), RM0351 (L4), RM0433 (H7),
//! the Cortex-M3/M4/M7 TRMs (CPUID, MVFR0/1/2) and ADIv5/ADIv6 (DPIDR).
//! Only the STM32F1 has a full flash controller; the F303's flash interface is
//! register-compatible with the F1's FPEC (RM0316 §4) and uses the F1 model
//! with 2 KiB pages; G4/L4/H7 have no flash controller in the model (flash is
//! read-only, the FLASH register block reads 0).

/// The debug-visible identity and memory layout of one chip model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity {
    /// DP identification register (ADIv5 §B2.2.5).
    pub dpidr: u32,
    /// DP architecture version (DPIDR.VERSION): 1 or 2.
    pub dp_version: u8,
    /// TARGETID for DPv2 (ADIv5.2 §B2.2.10), 0 on DPv1.
    pub targetid: u32,
    /// SCB CPUID (ARMv7-M §B3.2.3).
    pub cpuid: u32,
    /// MVFR0, MVFR1, MVFR2 (0 without FPU).
    pub mvfr: [u32; 3],
    /// DBGMCU_IDCODE value and the address where it is read.
    pub idcode: u32,
    pub dbgmcu_addr: u32,
    /// Main flash size, bytes (at 0x0800_0000).
    pub flash_size: usize,
    /// Flash page (erase unit) of the F1-style FPEC, bytes.
    pub page_size: usize,
    /// Pages covered by one WRPR bit.
    pub pages_per_wrp_bit: usize,
    /// The F1-style FPEC and the option bytes at 0x1FFF_F800 exist.
    pub f1_fpec: bool,
    /// SRAM at 0x2000_0000, bytes.
    pub ram_size: usize,
    /// A second RAM region (CCM SRAM, SRAM2, AXI SRAM): base and size in bytes.
    pub ram2: Option<(u32, usize)>,
    /// System memory block (boot loader stub + signature): base and size.
    pub sysmem_base: u32,
    pub sysmem_size: u32,
    /// Address of F_SIZE (16 bit, KiB) and of the 96-bit unique ID.
    pub fsize_addr: u32,
    pub uid_addr: u32,
    /// The AFIO/SWJ_CFG debug-port disable of the F1 exists.
    pub afio_swj: bool,
}

impl Identity {
    /// DEV_ID (DBGMCU_IDCODE[11:0]): also the ST part number in the ROM table.
    pub(crate) fn dev_id(&self) -> u16 {
        (self.idcode & 0xFFF) as u16
    }
}

const KIB: usize = 1024;
const MVFR_NONE: [u32; 3] = [0, 0, 0];
/// Cortex-M4F single-precision FPU (Cortex-M4 TRM §7.3).
const MVFR_M4F: [u32; 3] = [0x1011_0021, 0x1100_0011, 0];
/// Cortex-M7 double-precision FPU (Cortex-M7 TRM §4.1).
const MVFR_M7_DP: [u32; 3] = [0x1011_0221, 0x1200_0011, 0x0000_0040];

pub(crate) const STM32F103C8: Identity = Identity {
    dpidr: 0x1BA0_1477,
    dp_version: 1,
    targetid: 0,
    cpuid: 0x411F_C231, // Cortex-M3 r1p1
    mvfr: MVFR_NONE,
    idcode: 0x2003_6410, // medium density, revision X
    dbgmcu_addr: 0xE004_2000,
    flash_size: 64 * KIB,
    page_size: KIB,
    pages_per_wrp_bit: 4,
    f1_fpec: true,
    ram_size: 20 * KIB,
    ram2: None,
    sysmem_base: 0x1FFF_F000,
    sysmem_size: 0x800,
    fsize_addr: 0x1FFF_F7E0,
    uid_addr: 0x1FFF_F7E8,
    afio_swj: true,
};

pub(crate) const STM32F103CB: Identity = Identity {
    flash_size: 128 * KIB,
    ..STM32F103C8
};

/// RM0316 (STM32F303xB/C): DEV_ID 0x422, REV_ID 0x1003 (rev Y); F_SIZE at
/// 0x1FFF_F7CC, UID at 0x1FFF_F7AC; 40 KiB SRAM + 8 KiB CCM SRAM at 0x1000_0000;
/// 2 KiB pages, one WRP bit per 2 pages.
pub(crate) const STM32F303VC: Identity = Identity {
    dpidr: 0x2BA0_1477,
    dp_version: 1,
    targetid: 0,
    cpuid: 0x410F_C241, // Cortex-M4 r0p1
    mvfr: MVFR_M4F,
    idcode: 0x1003_6422,
    dbgmcu_addr: 0xE004_2000,
    flash_size: 256 * KIB,
    page_size: 2 * KIB,
    pages_per_wrp_bit: 2,
    f1_fpec: true,
    ram_size: 40 * KIB,
    ram2: Some((0x1000_0000, 8 * KIB)),
    sysmem_base: 0x1FFF_D800,
    sysmem_size: 0x2000,
    fsize_addr: 0x1FFF_F7CC,
    uid_addr: 0x1FFF_F7AC,
    afio_swj: false,
};

/// RM0440 (STM32G474): DEV_ID 0x469, REV_ID 0x1000 (rev A); system memory,
/// OTP and signature in 0x1FFF_0000..0x1FFF_7800, F_SIZE 0x1FFF_75E0, UID
/// 0x1FFF_7590; SRAM1+SRAM2 96 KiB at 0x2000_0000, CCM SRAM 32 KiB at 0x1000_0000.
pub(crate) const STM32G474RE: Identity = Identity {
    dpidr: 0x2BA0_1477,
    dp_version: 1,
    targetid: 0,
    cpuid: 0x410F_C241,
    mvfr: MVFR_M4F,
    idcode: 0x1000_6469,
    dbgmcu_addr: 0xE004_2000,
    flash_size: 512 * KIB,
    page_size: 2 * KIB,
    pages_per_wrp_bit: 1,
    f1_fpec: false,
    ram_size: 96 * KIB,
    ram2: Some((0x1000_0000, 32 * KIB)),
    sysmem_base: 0x1FFF_0000,
    sysmem_size: 0x7800,
    fsize_addr: 0x1FFF_75E0,
    uid_addr: 0x1FFF_7590,
    afio_swj: false,
};

/// RM0351 (STM32L476): DEV_ID 0x415, REV_ID 0x1007 (rev 4); SRAM1 96 KiB at
/// 0x2000_0000, SRAM2 32 KiB at 0x1000_0000; F_SIZE 0x1FFF_75E0, UID 0x1FFF_7590.
pub(crate) const STM32L476RG: Identity = Identity {
    idcode: 0x1007_6415,
    flash_size: 1024 * KIB,
    ram_size: 96 * KIB,
    ram2: Some((0x1000_0000, 32 * KIB)),
    ..STM32G474RE
};

/// RM0433 (STM32H743): SWJ-DP with DPv2 (DPIDR 0x6BA0_2477, TARGETID 0x0450_0041),
/// Cortex-M7 r1p1 with double-precision FPU, DEV_ID 0x450 REV_ID 0x2003 (rev V),
/// DBGMCU at 0x5C00_1000 on the system bus; 2 MiB flash; DTCM 128 KiB at
/// 0x2000_0000, AXI SRAM 512 KiB at 0x2400_0000; system memory 0x1FF0_0000
/// (128 KiB) with F_SIZE at 0x1FF1_E880 and UID at 0x1FF1_E800.
pub(crate) const STM32H743ZI: Identity = Identity {
    dpidr: 0x6BA0_2477,
    dp_version: 2,
    targetid: 0x0450_0041,
    cpuid: 0x411F_C271,
    mvfr: MVFR_M7_DP,
    idcode: 0x2003_6450,
    dbgmcu_addr: 0x5C00_1000,
    flash_size: 2048 * KIB,
    page_size: 128 * KIB,
    pages_per_wrp_bit: 1,
    f1_fpec: false,
    ram_size: 128 * KIB,
    ram2: Some((0x2400_0000, 512 * KIB)),
    sysmem_base: 0x1FF0_0000,
    sysmem_size: 0x2_0000,
    fsize_addr: 0x1FF1_E880,
    uid_addr: 0x1FF1_E800,
    afio_swj: false,
};
