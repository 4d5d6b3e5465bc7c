//! The STM32F1 flash program/erase controller (FPEC): register addresses and bits (RM0008 §3.5,
//! PM0075 §2.3–2.5), defined once for the flash diagnosis and `flash protect`. FLASH_OBR and
//! FLASH_WRPR come from [`crate::diagnose::regs`], which reads them as connection evidence.

pub use crate::diagnose::regs::{FLASH_OBR, FLASH_WRPR};

/// FLASH_KEYR: the FPEC unlock keys go here, RM0008 §3.5.2.
pub const FLASH_KEYR: u64 = 0x4002_2004;
/// FLASH_OPTKEYR: the option-byte unlock keys go here (sets FLASH_CR.OPTWRE), RM0008 §3.5.2.
pub const FLASH_OPTKEYR: u64 = 0x4002_2008;
/// FLASH_SR: BSY (0), PGERR (2), WRPRTERR (4), EOP (5), RM0008 §3.5.3.
pub const FLASH_SR: u64 = 0x4002_200C;
/// FLASH_CR: PG, PER, MER, OPTPG, OPTER, STRT, LOCK, OPTWRE, RM0008 §3.5.4.
pub const FLASH_CR: u64 = 0x4002_2010;
/// FLASH_AR: the page address of the last page erase, RM0008 §3.5.5.
pub const FLASH_AR: u64 = 0x4002_2014;
/// The option-byte block: eight half-words (byte + complement) RDP, USER, Data0, Data1,
/// WRP0–WRP3, PM0075 §2.5.
pub const OPTION_BYTES: u64 = 0x1FFF_F800;
/// `F_SIZE`: the flash size in KiB (16 bits), RM0008 §30.1.1.
pub const F_SIZE: u64 = 0x1FFF_F7E0;

/// First unlock key (FLASH_KEYR and FLASH_OPTKEYR), PM0075 §2.3.1.
pub const KEY1: u32 = 0x4567_0123;
/// Second unlock key.
pub const KEY2: u32 = 0xCDEF_89AB;

/// FLASH_SR.BSY: an operation is in progress.
pub const SR_BSY: u32 = 1 << 0;
/// FLASH_SR.PGERR: a half-word that did not read 0xFFFF was programmed (write 1 to clear).
pub const SR_PGERR: u32 = 1 << 2;
/// FLASH_SR.WRPRTERR: a write-protected page was erased or programmed (write 1 to clear).
pub const SR_WRPRTERR: u32 = 1 << 4;
/// FLASH_SR.EOP: end of operation.
pub const SR_EOP: u32 = 1 << 5;

/// FLASH_CR.OPTPG: option-byte programming.
pub const CR_OPTPG: u32 = 1 << 4;
/// FLASH_CR.OPTER: option-byte erase.
pub const CR_OPTER: u32 = 1 << 5;
/// FLASH_CR.STRT: starts an erase.
pub const CR_STRT: u32 = 1 << 6;
/// FLASH_CR.LOCK: the FPEC is locked (set by writing 1; cleared by the key sequence).
pub const CR_LOCK: u32 = 1 << 7;
/// FLASH_CR.OPTWRE: the option bytes may be written.
pub const CR_OPTWRE: u32 = 1 << 9;

/// FLASH_OBR.RDPRT: read-out protection is active, RM0008 §3.5.6.
pub const OBR_RDPRT: u32 = 1 << 1;
