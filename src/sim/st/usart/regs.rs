//! The registers of the newer USART (`usart.rs`): the bit positions of
//! RM0316 §29.8 (the same in RM0351 §40.8 and RM0440 §37.8), the kernel
//! clock choice and the instance's register set.

use crate::sim::periph::Clocks;

/// The USART's kernel clock fck (RM0316 §9.4.13 RCC_CFGR3.USARTxSW: PCLK,
/// SYSCLK, LSE or HSI; RM0351 §6.4.28 and RM0440 §7.4.26 RCC_CCIPR.USARTxSEL:
/// PCLK, SYSCLK, HSI16 or LSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// The APB1 clock.
    Pclk1,
    /// The APB2 clock.
    Pclk2,
    Sysclk,
    Lse,
    /// A clock the [`Clocks`] do not carry (HSI), Hz; 0 while it is off.
    Fixed(u64),
}

impl Kernel {
    pub(super) fn hz(self, c: &Clocks) -> u64 {
        match self {
            Kernel::Pclk1 => c.pclk1,
            Kernel::Pclk2 => c.pclk2,
            Kernel::Sysclk => c.sysclk,
            Kernel::Lse => c.lse,
            // A gated block gets all-zero clocks: a fixed source stops too.
            Kernel::Fixed(hz) if c.hclk != 0 => hz,
            Kernel::Fixed(_) => 0,
        }
    }
}

/// The register set of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// RM0316 §29.8 (F3), RM0351 §40.8 (L4): no prescaler, no FIFO; CR1
    /// bits 29..31 reserved, offset 0x2C reserved.
    Plain,
    /// RM0440 §37.8 (G4): USART_PRESC at 0x2C (§37.8.12, writable while UE
    /// = 0, divides fck) and CR1.FIFOEN/TXFEIE/RXFFIE (bits 29..31, stored;
    /// the FIFO mode itself is not modelled: see the module doc).
    Presc,
}

impl Layout {
    /// The CR1 bits that exist.
    pub(super) fn cr1_mask(self) -> u32 {
        match self {
            Layout::Plain => 0x1FFF_FFFF,
            Layout::Presc => u32::MAX,
        }
    }
}

// ISR bits (§29.8.8).
pub(super) const PE: u32 = 1 << 0;
pub(super) const FE: u32 = 1 << 1;
pub(super) const NF: u32 = 1 << 2;
pub(super) const ORE: u32 = 1 << 3;
pub(super) const IDLE: u32 = 1 << 4;
pub(super) const RXNE: u32 = 1 << 5;
pub(super) const TC: u32 = 1 << 6;
pub(super) const TXE: u32 = 1 << 7;
pub(super) const LBDF: u32 = 1 << 8;
pub(super) const CTSIF: u32 = 1 << 9;
pub(super) const CTS: u32 = 1 << 10;
pub(super) const RTOF: u32 = 1 << 11;
pub(super) const EOBF: u32 = 1 << 12;
pub(super) const BUSY: u32 = 1 << 16;
pub(super) const CMF: u32 = 1 << 17;
pub(super) const SBKF: u32 = 1 << 18;
pub(super) const RWU: u32 = 1 << 19;
pub(super) const WUF: u32 = 1 << 20;
pub(super) const TEACK: u32 = 1 << 21;
pub(super) const REACK: u32 = 1 << 22;
/// ISR reset value (§29.8.8).
pub(super) const ISR_RESET: u32 = TXE | TC;
/// ICR: the flags it clears (§29.8.9: PECF, FECF, NCF, ORECF, IDLECF, TCCF,
/// LBDCF, CTSCF, RTOCF, EOBCF, CMCF, WUCF).
pub(super) const ICR_MASK: u32 =
    PE | FE | NF | ORE | IDLE | TC | LBDF | CTSIF | RTOF | EOBF | CMF | WUF;
// CR1 bits (§29.8.1).
pub(super) const UE: u32 = 1 << 0;
pub(super) const RE: u32 = 1 << 2;
pub(super) const TE: u32 = 1 << 3;
pub(super) const IDLEIE: u32 = 1 << 4;
pub(super) const RXNEIE: u32 = 1 << 5;
pub(super) const TCIE: u32 = 1 << 6;
pub(super) const TXEIE: u32 = 1 << 7;
pub(super) const PEIE: u32 = 1 << 8;
pub(super) const PS: u32 = 1 << 9;
pub(super) const PCE: u32 = 1 << 10;
pub(super) const WAKE: u32 = 1 << 11;
pub(super) const M0: u32 = 1 << 12;
pub(super) const MME: u32 = 1 << 13;
pub(super) const CMIE: u32 = 1 << 14;
pub(super) const OVER8: u32 = 1 << 15;
pub(super) const RTOIE: u32 = 1 << 26;
pub(super) const EOBIE: u32 = 1 << 27;
pub(super) const M1: u32 = 1 << 28;
/// CR1.FIFOEN (RM0440 §37.8.1; bits 29..31 reserved on the F3 and L4).
pub(super) const FIFOEN: u32 = 1 << 29;
/// CR1 bits writable only while UE = 0: M0/M1, OVER8, WAKE, PCE, PS, DEAT,
/// DEDT (and FIFOEN, RM0440 §37.8.1).
pub(super) const CR1_UE0_ONLY: u32 = FIFOEN | M1 | OVER8 | M0 | WAKE | PCE | PS | (0x3FF << 16);
/// USART_PRESC.PRESCALER (RM0440 §37.8.12): the kernel clock divisor per
/// code; codes 1100..1111 are reserved and divide by 256 as 1011.
pub(super) const PRESC_DIV: [u64; 16] = [
    1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256, 256, 256, 256, 256,
];
// CR2 (§29.8.2): ADDM7 4, LBDL 5, LBDIE 6, LBCL 8 … ADD[31:24].
pub(super) const CR2_MASK: u32 = 0xFFFF_FF70;
pub(super) const CR2_ANYTIME: u32 = (1 << 6) | (1 << 20) | (1 << 23);
pub(super) const CR2_ADD: u32 = 0xFF << 24;
pub(super) const ADDM7: u32 = 1 << 4;
pub(super) const LBDIE: u32 = 1 << 6;
// CR3 (§29.8.3): EIE 0 … WUFIE 22, bit 16 reserved.
pub(super) const CR3_MASK: u32 = 0x007E_FFFF;
pub(super) const EIE: u32 = 1 << 0;
pub(super) const CTSE: u32 = 1 << 9;
pub(super) const CTSIE: u32 = 1 << 10;
pub(super) const OVRDIS: u32 = 1 << 12;
pub(super) const WUFIE: u32 = 1 << 22;
pub(super) const CR3_ANYTIME: u32 = EIE | (1 << 6) | (1 << 7) | CTSIE | WUFIE;
// RQR (§29.8.7).
pub(super) const SBKRQ: u32 = 1 << 1;
pub(super) const MMRQ: u32 = 1 << 2;
pub(super) const RXFRQ: u32 = 1 << 3;
pub(super) const TXFRQ: u32 = 1 << 4;
