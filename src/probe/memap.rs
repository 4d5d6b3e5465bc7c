//! Register names of the MEM-AP (ADIv5 §C2.6) and of the core's debug registers reached
//! through its banked data registers, shared by every path that talks to them raw (fast reads
//! and steps, the lean flash path, the target CRC).

/// MEM-AP CSW, TAR, DRW (ADIv5 §C2.6.4–§C2.6.6), AP register byte addresses.
pub const CSW: u64 = 0x00;
pub const TAR: u64 = 0x04;
pub const DRW: u64 = 0x0C;
/// Banked data registers BD0–BD3 (ADIv5 §C2.6.1): the four words of TAR's 16-byte block.
/// With TAR = DHCSR (0xE000EDF0): BD0 DHCSR, BD1 DCRSR, BD2 DCRDR, BD3 DEMCR.
pub const BD0: u64 = 0x10;
pub const BD1: u64 = 0x14;
pub const BD2: u64 = 0x18;
pub const BD3: u64 = 0x1C;
/// CSW.Size (bits 2:0).
pub const CSW_SIZE: u32 = 0x7;
/// CSW.Size = 32 bits.
pub const CSW_WORD: u32 = 0x2;
/// CSW.Size and CSW.AddrInc (bits 5:4).
pub const CSW_SIZE_INC: u32 = 0x37;
/// CSW.Size = 32 bits, AddrInc = single.
pub const CSW_WORD_INC: u32 = 0x12;
/// TAR auto-increment is guaranteed within 1 KiB only (ADIv5 §C2.2.2): TAR is written again at
/// each boundary.
pub const TAR_PAGE: u32 = 0x400;
/// DCRSR.REGWnR: the transfer writes the register (ARMv7-M ARM §C1.6.3).
pub const REGWNR: u32 = 1 << 16;
