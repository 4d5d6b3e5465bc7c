//! Register lists of the STM32F103 blocks stdbg does not model (RM0008 Rev 21): offset, name
//! and reset value of every register the manual lists, for the generic stored-register block
//! ([`super::super::unmodelled`]). Registers whose reset value RM0008 gives as undefined
//! ("0xXXXX XXXX": the bxCAN mailboxes and filter banks) start at 0 here.

use super::Reg;

const fn r(off: u32, name: &'static str, reset: u32) -> Reg {
    Reg { off, name, reset }
}

/// ADC1/ADC2 (§11.12; HTR resets to 0x0FFF).
pub(crate) const ADC: &[Reg] = &[
    r(0x00, "SR", 0),
    r(0x04, "CR1", 0),
    r(0x08, "CR2", 0),
    r(0x0C, "SMPR1", 0),
    r(0x10, "SMPR2", 0),
    r(0x14, "JOFR1", 0),
    r(0x18, "JOFR2", 0),
    r(0x1C, "JOFR3", 0),
    r(0x20, "JOFR4", 0),
    r(0x24, "HTR", 0x0000_0FFF),
    r(0x28, "LTR", 0),
    r(0x2C, "SQR1", 0),
    r(0x30, "SQR2", 0),
    r(0x34, "SQR3", 0),
    r(0x38, "JSQR", 0),
    r(0x3C, "JDR1", 0),
    r(0x40, "JDR2", 0),
    r(0x44, "JDR3", 0),
    r(0x48, "JDR4", 0),
    r(0x4C, "DR", 0),
];

/// DMA1 (§13.4): ISR, IFCR and channels 1..7 (CCRx, CNDTRx, CPARx, CMARx every 20 bytes).
pub(crate) const DMA1: &[Reg] = &[
    r(0x00, "ISR", 0),
    r(0x04, "IFCR", 0),
    r(0x008, "CCR1", 0),
    r(0x00C, "CNDTR1", 0),
    r(0x010, "CPAR1", 0),
    r(0x014, "CMAR1", 0),
    r(0x01C, "CCR2", 0),
    r(0x020, "CNDTR2", 0),
    r(0x024, "CPAR2", 0),
    r(0x028, "CMAR2", 0),
    r(0x030, "CCR3", 0),
    r(0x034, "CNDTR3", 0),
    r(0x038, "CPAR3", 0),
    r(0x03C, "CMAR3", 0),
    r(0x044, "CCR4", 0),
    r(0x048, "CNDTR4", 0),
    r(0x04C, "CPAR4", 0),
    r(0x050, "CMAR4", 0),
    r(0x058, "CCR5", 0),
    r(0x05C, "CNDTR5", 0),
    r(0x060, "CPAR5", 0),
    r(0x064, "CMAR5", 0),
    r(0x06C, "CCR6", 0),
    r(0x070, "CNDTR6", 0),
    r(0x074, "CPAR6", 0),
    r(0x078, "CMAR6", 0),
    r(0x080, "CCR7", 0),
    r(0x084, "CNDTR7", 0),
    r(0x088, "CPAR7", 0),
    r(0x08C, "CMAR7", 0),
];

/// CRC calculation unit (§4.4).
pub(crate) const CRC: &[Reg] = &[
    r(0x00, "DR", 0xFFFF_FFFF),
    r(0x04, "IDR", 0),
    r(0x08, "CR", 0),
];

/// Real-time clock (§18.4).
pub(crate) const RTC: &[Reg] = &[
    r(0x00, "CRH", 0),
    r(0x04, "CRL", 0x0000_0020),
    r(0x08, "PRLH", 0),
    r(0x0C, "PRLL", 0x0000_8000),
    r(0x10, "DIVH", 0),
    r(0x14, "DIVL", 0x0000_8000),
    r(0x18, "CNTH", 0),
    r(0x1C, "CNTL", 0),
    r(0x20, "ALRH", 0x0000_FFFF),
    r(0x24, "ALRL", 0x0000_FFFF),
];

/// Backup registers (§6.4): DR1..DR10 on low/medium density (DR11..42 are high-density only),
/// RTCCR, CR, CSR.
pub(crate) const BKP: &[Reg] = &[
    r(0x004, "DR1", 0),
    r(0x008, "DR2", 0),
    r(0x00C, "DR3", 0),
    r(0x010, "DR4", 0),
    r(0x014, "DR5", 0),
    r(0x018, "DR6", 0),
    r(0x01C, "DR7", 0),
    r(0x020, "DR8", 0),
    r(0x024, "DR9", 0),
    r(0x028, "DR10", 0),
    r(0x2C, "RTCCR", 0),
    r(0x30, "CR", 0),
    r(0x34, "CSR", 0),
];

/// Window watchdog (§20.6).
pub(crate) const WWDG: &[Reg] = &[
    r(0x00, "CR", 0x0000_007F),
    r(0x04, "CFR", 0x0000_007F),
    r(0x08, "SR", 0),
];

/// bxCAN (§24.9): control/status, the three TX mailboxes, the two RX FIFO mailboxes, the filter
/// registers and the 14 filter banks of the non-connectivity devices.
pub(crate) const CAN: &[Reg] = &[
    r(0x000, "MCR", 0x0001_0002),
    r(0x004, "MSR", 0x0000_0C02),
    r(0x008, "TSR", 0x1C00_0000),
    r(0x00C, "RF0R", 0),
    r(0x010, "RF1R", 0),
    r(0x014, "IER", 0),
    r(0x018, "ESR", 0),
    r(0x01C, "BTR", 0x0123_0000),
    r(0x180, "TI0R", 0),
    r(0x184, "TDT0R", 0),
    r(0x188, "TDL0R", 0),
    r(0x18C, "TDH0R", 0),
    r(0x190, "TI1R", 0),
    r(0x194, "TDT1R", 0),
    r(0x198, "TDL1R", 0),
    r(0x19C, "TDH1R", 0),
    r(0x1A0, "TI2R", 0),
    r(0x1A4, "TDT2R", 0),
    r(0x1A8, "TDL2R", 0),
    r(0x1AC, "TDH2R", 0),
    r(0x1B0, "RI0R", 0),
    r(0x1B4, "RDT0R", 0),
    r(0x1B8, "RDL0R", 0),
    r(0x1BC, "RDH0R", 0),
    r(0x1C0, "RI1R", 0),
    r(0x1C4, "RDT1R", 0),
    r(0x1C8, "RDL1R", 0),
    r(0x1CC, "RDH1R", 0),
    r(0x200, "FMR", 0x2A1C_0E01),
    r(0x204, "FM1R", 0),
    r(0x20C, "FS1R", 0),
    r(0x214, "FFA1R", 0),
    r(0x21C, "FA1R", 0),
    r(0x240, "F0R1", 0),
    r(0x244, "F0R2", 0),
    r(0x248, "F1R1", 0),
    r(0x24C, "F1R2", 0),
    r(0x250, "F2R1", 0),
    r(0x254, "F2R2", 0),
    r(0x258, "F3R1", 0),
    r(0x25C, "F3R2", 0),
    r(0x260, "F4R1", 0),
    r(0x264, "F4R2", 0),
    r(0x268, "F5R1", 0),
    r(0x26C, "F5R2", 0),
    r(0x270, "F6R1", 0),
    r(0x274, "F6R2", 0),
    r(0x278, "F7R1", 0),
    r(0x27C, "F7R2", 0),
    r(0x280, "F8R1", 0),
    r(0x284, "F8R2", 0),
    r(0x288, "F9R1", 0),
    r(0x28C, "F9R2", 0),
    r(0x290, "F10R1", 0),
    r(0x294, "F10R2", 0),
    r(0x298, "F11R1", 0),
    r(0x29C, "F11R2", 0),
    r(0x2A0, "F12R1", 0),
    r(0x2A4, "F12R2", 0),
    r(0x2A8, "F13R1", 0),
    r(0x2AC, "F13R2", 0),
];
