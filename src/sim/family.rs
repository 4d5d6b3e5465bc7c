//! Identity and memory layout of each modelled chip: what a debugger sees
//! before it knows which chip it talks to (DPIDR, CPUID, DBGMCU_IDCODE, MVFR0,
//! F_SIZE) and where memories and the system-memory block lie.
//!
//! Sources: RM0008 (F1), RM0316 (F303), RM0440 (G4), RM0351 (L4), RM0433 (H7),
//! the Cortex-M3/M4/M7 TRMs (CPUID, MVFR0/1/2) and ADIv5/ADIv6 (DPIDR).
//! The STM32F1 (`stm32f1/`) and the STM32F303 (`stm32f3/`) have SoC models;
//! the G474 and L476 use the stm32l4x-family SoC (`stm32l4/`, `stm32g4/`);
//! the H743 its own (`stm32h7/`).

use super::arm::ap::{AHB3_IDR, APB_IDR, ApKind, CORTEX_M_AHB_AP, NO_ROM};
use super::arm::core::CoreKind;

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
    /// RAM regions (base, size in bytes), the main SRAM (or DTCM) at
    /// 0x2000_0000 first.
    pub rams: &'static [(u32, usize)],
    /// Aliases of RAM regions: (alias base, index into `rams`), e.g. the
    /// G474's CCM SRAM and the L476's SRAM2, also at 0x2001_8000 (RM0440
    /// §2.2.2, RM0351 §2.2.2) so that they continue SRAM1.
    pub ram_aliases: &'static [(u32, usize)],
    /// The processor.
    pub core: CoreKind,
    /// Main flash is aliased at 0 (boot from main flash, RM0008 §3.4).
    pub flash_alias_at_0: bool,
    /// The core has the bit-band aliases (Cortex-M3/M4, not M7).
    pub bit_band: bool,
    /// Address of the F1-style 16-byte option-byte block, if any.
    pub option_bytes_addr: Option<u32>,
    /// External interrupt lines of the NVIC (RM0008 Table 63: 43 on the
    /// medium-density F103; 60 reserved positions counted to the last one).
    pub irqs: u16,
    /// SYST_CALIB (PM0056 §4.5.4: 9000 on the F1/F3, 1 ms at HCLK/8 = 9 MHz).
    pub syst_calib: u32,
    /// Where the core reads its vector table at reset.
    pub boot_vtor: u32,
    /// The access ports, by AP number (ADIv5 §C2): one AHB-AP on the
    /// Cortex-M3/M4 parts; AP0 (Cortex-M7 AHB-AP), AP1 (D3 domain AHB-AP)
    /// and AP2 (APB-AP to APB-D) on the STM32H7 (RM0433 §60.4).
    pub aps: &'static [ApKind],
    /// The F1 SoC model (RCC, GPIO, AFIO, DBGMCU, PWR, IWDG, FPEC …) is used.
    pub f1_soc: bool,
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
    rams: &[(0x2000_0000, 20 * KIB)],
    ram_aliases: &[],
    core: CoreKind::CortexM3,
    flash_alias_at_0: true,
    bit_band: true,
    option_bytes_addr: Some(0x1FFF_F800),
    irqs: 43,
    syst_calib: 9000,
    boot_vtor: 0,
    aps: &[CORTEX_M_AHB_AP],
    f1_soc: true,
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
    rams: &[(0x2000_0000, 40 * KIB), (0x1000_0000, 8 * KIB)],
    ram_aliases: &[],
    core: CoreKind::CortexM4F,
    flash_alias_at_0: true,
    bit_band: true,
    option_bytes_addr: Some(0x1FFF_F800),
    irqs: 82,
    syst_calib: 9000,
    boot_vtor: 0,
    aps: &[CORTEX_M_AHB_AP],
    f1_soc: false,
    sysmem_base: 0x1FFF_D800,
    sysmem_size: 0x2000,
    fsize_addr: 0x1FFF_F7CC,
    uid_addr: 0x1FFF_F7AC,
    afio_swj: false,
};

/// RM0440 (STM32G474): DEV_ID 0x469, REV_ID 0x1000 (rev A); system memory
/// 28 KiB at 0x1FFF_0000, then (served by the SoC, `stm32l4/soc.rs`) the
/// 1 KiB OTP at 0x1FFF_7000, the engineering bytes with UID at 0x1FFF_7590
/// and F_SIZE at 0x1FFF_75E0, the option bytes at 0x1FFF_7800 (RM0440 §2.2.2,
/// §3.3.1, §48); SRAM1 80 KiB + SRAM2 16 KiB at 0x2000_0000, CCM SRAM 32 KiB
/// at 0x1000_0000 and aliased at 0x2001_8000; 512 KiB flash, dual bank with
/// 2 KiB pages (OPTR.DBANK = 1, factory) or single bank with 4 KiB pages;
/// 102 interrupt positions (RM0440 Table 97).
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
    rams: &[(0x2000_0000, 96 * KIB), (0x1000_0000, 32 * KIB)],
    ram_aliases: &[(0x2001_8000, 1)],
    core: CoreKind::CortexM4F,
    flash_alias_at_0: true,
    bit_band: true,
    option_bytes_addr: None,
    irqs: 102,
    // No calibration value documented for this part: reference clock present
    // (NOREF = 0), TENMS not exact (SKEW = 1), TENMS = 0.
    syst_calib: 0x4000_0000,
    boot_vtor: 0,
    aps: &[CORTEX_M_AHB_AP],
    f1_soc: false,
    sysmem_base: 0x1FFF_0000,
    sysmem_size: 0x7000,
    fsize_addr: 0x1FFF_75E0,
    uid_addr: 0x1FFF_7590,
    afio_swj: false,
};

/// RM0351 (STM32L476): DEV_ID 0x415, REV_ID 0x1007 (rev 4); SRAM1 96 KiB at
/// 0x2000_0000, SRAM2 32 KiB at 0x1000_0000 and aliased at 0x2001_8000
/// (RM0351 §2.2.2); 1 MiB flash, always two banks of 256 pages of 2 KiB;
/// the information block as on the G474 (OTP 0x1FFF_7000, F_SIZE
/// 0x1FFF_75E0, UID 0x1FFF_7590, option bytes 0x1FFF_7800/0x1FFF_F800);
/// 82 interrupt positions (RM0351 Table 58, FPU at 81).
pub(crate) const STM32L476RG: Identity = Identity {
    idcode: 0x1007_6415,
    flash_size: 1024 * KIB,
    rams: &[(0x2000_0000, 96 * KIB), (0x1000_0000, 32 * KIB)],
    irqs: 82,
    ..STM32G474RE
};

/// The STM32H7's access ports (RM0433 §60.4): AP0 the Cortex-M7's AHB-AP
/// (BASE: the CPU ROM table at 0xE00F_E000), AP1 the D3 domain's AHB-AP
/// (AHB4/APB4 0x5800_0000–0x5802_7FFF, SRAM4, backup SRAM; no ROM table),
/// AP2 the APB-AP to the system debug bus APB-D (BASE: its ROM table at
/// 0xE00E_0000; 0xE00E_0000–0xE00F_DFFF).
const H7_APS: [ApKind; 3] = [
    ApKind::Cpu {
        idr: AHB3_IDR,
        base: 0xE00F_E003,
    },
    ApKind::Window {
        idr: AHB3_IDR,
        base: NO_ROM,
        ranges: &[
            (0x3800_0000, 0x3801_0000),
            (0x3880_0000, 0x3880_1000),
            (0x5800_0000, 0x5802_8000),
        ],
    },
    ApKind::Apb {
        idr: APB_IDR,
        base: 0xE00E_0003,
        range: (0xE00E_0000, 0xE00F_E000),
    },
];

/// RM0433 (STM32H743): SWJ-DP with DPv2 (DPIDR 0x6BA0_2477, TARGETID 0x0450_0041),
/// Cortex-M7 r1p1 with double-precision FPU, DEV_ID 0x450 REV_ID 0x2003 (rev V),
/// DBGMCU at 0x5C00_1000 on the system bus; 2 MiB flash, booting from
/// 0x0800_0000 (BOOT_ADD0 reset value); DTCM 128 KiB at 0x2000_0000, AXI SRAM
/// 512 KiB at 0x2400_0000, ITCM 64 KiB at 0, SRAM1/2/3 128/128/32 KiB at
/// 0x3000_0000/0x3002_0000/0x3004_0000, SRAM4 64 KiB at 0x3800_0000, backup
/// SRAM 4 KiB at 0x3880_0000 (RM0433 §2.3.2); system memory 0x1FF0_0000
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
    rams: &[
        (0x2000_0000, 128 * KIB), // DTCM
        (0x2400_0000, 512 * KIB), // AXI SRAM (D1)
        (0x0000_0000, 64 * KIB),  // ITCM
        (0x3000_0000, 128 * KIB), // SRAM1 (D2)
        (0x3002_0000, 128 * KIB), // SRAM2
        (0x3004_0000, 32 * KIB),  // SRAM3
        (0x3800_0000, 64 * KIB),  // SRAM4 (D3)
        (0x3880_0000, 4 * KIB),   // backup SRAM
    ],
    ram_aliases: &[],
    core: CoreKind::CortexM7,
    flash_alias_at_0: false,
    bit_band: false,
    option_bytes_addr: None,
    irqs: 150,
    syst_calib: 0x4000_0000,
    boot_vtor: 0x0800_0000,
    aps: &H7_APS,
    f1_soc: false,
    sysmem_base: 0x1FF0_0000,
    sysmem_size: 0x2_0000,
    fsize_addr: 0x1FF1_E880,
    uid_addr: 0x1FF1_E800,
    afio_swj: false,
};
