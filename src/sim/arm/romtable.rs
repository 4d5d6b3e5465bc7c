//! The Cortex-M3 ROM table at 0xE00F_F000 and the CoreSight identification
//! registers (PIDR0–7 at 0xFD0–0xFEC, CIDR0–3 at 0xFF0–0xFFC of each 4 KiB
//! component; ADIv5 §D1.2, ARMv7-M ARM §C1.2, Cortex-M3 TRM §11).
//!
//! Entries: SCS (0xE000_E000), DWT (0xE000_1000), FPB (0xE000_2000), ITM
//! (0xE000_0000), TPIU (0xE004_0000) present; ETM (0xE004_1000) marked absent
//! (no ETM on the medium-density F103).
//!
//! The Cortex-M7 (Cortex-M7 TRM §3.3 "ROM table", part 0x4C7, ARM): SCS
//! (part 0x00C), DWT, FPB (FPBv2, part 0x00E), ITM present; TPIU and ETM
//! entries marked absent (the STM32H7 has its TPIU on APB-D, RM0433 §60.5;
//! the ETM is not modelled). On the STM32H7 it is reached from ST's CPU ROM
//! table at 0xE00F_E000 (`stm32h7/dbgmcu.rs`).

pub(crate) const BASE: u32 = 0xE00F_F000;

/// ROM table entries (offset 0x000…): address offset from the table, bit 0 = present,
/// bit 1 = 32-bit format (ADIv5 §D3.4.2).
const ENTRIES: [u32; 7] = [
    0xFFF0_F003, // SCS   0xE000E000
    0xFFF0_2003, // DWT   0xE0001000
    0xFFF0_3003, // FPB   0xE0002000
    0xFFF0_1003, // ITM   0xE0000000
    0xFFF4_1003, // TPIU  0xE0040000
    0xFFF4_2002, // ETM   0xE0041000 (not present)
    0x0000_0000, // end of table
];

/// The Cortex-M7 PPB ROM table entries (TPIU and ETM not present).
const ENTRIES_M7: [u32; 7] = [
    0xFFF0_F003, // SCS   0xE000E000
    0xFFF0_2003, // DWT   0xE0001000
    0xFFF0_3003, // FPB   0xE0002000
    0xFFF0_1003, // ITM   0xE0000000
    0xFFF4_1002, // TPIU  0xE0040000 (not present)
    0xFFF4_2002, // ETM   0xE0041000 (not present)
    0x0000_0000, // end of table
];

/// A component's identity for its PIDR/CIDR block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsId {
    /// PIDR4..PIDR0 packed: [4]=JEP106 continuation|size, [3..0].
    pub pidr: [u8; 8],
    /// CIDR0..3
    pub cidr: [u8; 4],
}

const ARM_GENERIC_CIDR: [u8; 4] = [0x0D, 0xE0, 0x05, 0xB1]; // class 0xE
pub(crate) const CORESIGHT_CIDR: [u8; 4] = [0x0D, 0x90, 0x05, 0xB1]; // class 0x9
pub(crate) const ROM_CIDR: [u8; 4] = [0x0D, 0x10, 0x05, 0xB1]; // class 0x1

/// PIDR0..PIDR7 (in register order) for an ARM (JEP106 0x3B, bank 5) part.
pub(crate) const fn arm_pidr(part: u16, rev: u8) -> [u8; 8] {
    [
        (part & 0xFF) as u8,
        0xB0 | ((part >> 8) as u8 & 0xF),
        0x0B | (rev << 4),
        0x00,
        0x04,
        0,
        0,
        0,
    ]
}

/// The ROM table's identity: ST (JEP106 0x20, bank 1), part number = the
/// chip's DEV_ID (0x410 for the medium-density F1).
pub(crate) const fn rom_id(dev_id: u16) -> CsId {
    CsId {
        pidr: [
            (dev_id & 0xFF) as u8,
            ((dev_id >> 8) & 0xF) as u8,
            0x0A,
            0x00,
            0x00,
            0,
            0,
            0,
        ],
        cidr: ROM_CIDR,
    }
}
pub(crate) const SCS_ID: CsId = CsId {
    pidr: arm_pidr(0x000, 0),
    cidr: ARM_GENERIC_CIDR,
};
/// The Cortex-M7's SCS (Cortex-M7 TRM §3.3: part number 0x00C).
pub(crate) const SCS_M7_ID: CsId = CsId {
    pidr: arm_pidr(0x00C, 0),
    cidr: ARM_GENERIC_CIDR,
};
/// The Cortex-M7 PPB ROM table (part number 0x4C7).
const ROM_M7_ID: CsId = CsId {
    pidr: arm_pidr(0x4C7, 0),
    cidr: ROM_CIDR,
};
pub(crate) const ITM_ID: CsId = CsId {
    pidr: arm_pidr(0x001, 1),
    cidr: ARM_GENERIC_CIDR,
};
pub(crate) const DWT_ID: CsId = CsId {
    pidr: arm_pidr(0x002, 1),
    cidr: ARM_GENERIC_CIDR,
};
pub(crate) const FPB_ID: CsId = CsId {
    pidr: arm_pidr(0x003, 0),
    cidr: ARM_GENERIC_CIDR,
};
/// The Cortex-M7's FPBv2 (Cortex-M7 TRM §3.4: part number 0x00E).
pub(crate) const FPB_M7_ID: CsId = CsId {
    pidr: arm_pidr(0x00E, 0),
    cidr: ARM_GENERIC_CIDR,
};
pub(crate) const TPIU_ID: CsId = CsId {
    pidr: arm_pidr(0x923, 0),
    cidr: CORESIGHT_CIDR,
};

/// Reads the identification block (offset 0xFD0..0x1000 in a component), if `off` is in it.
pub(crate) fn id_register(id: &CsId, off: u32) -> Option<u32> {
    match off {
        0xFD0..=0xFDC => Some(id.pidr[4 + ((off - 0xFD0) / 4) as usize] as u32),
        0xFE0..=0xFEC => Some(id.pidr[((off - 0xFE0) / 4) as usize] as u32),
        0xFF0..=0xFFC => Some(id.cidr[((off - 0xFF0) / 4) as usize] as u32),
        _ => None,
    }
}

/// Read of the ROM table at `off` (0..0x1000) of a chip with DEV_ID
/// `dev_id`; `m7`: the Cortex-M7's own table.
pub(crate) fn read(off: u32, dev_id: u16, m7: bool) -> u32 {
    let (id, entries) = if m7 {
        (ROM_M7_ID, &ENTRIES_M7)
    } else {
        (rom_id(dev_id), &ENTRIES)
    };
    if let Some(v) = id_register(&id, off) {
        return v;
    }
    match off {
        0x000..=0x018 => entries[(off / 4) as usize],
        0xFCC => 1, // MEMTYPE.SYSMEM: system memory present on the bus
        _ => 0,
    }
}
