//! The option registers of the stm32l4x-family flash controller (STM32L4:
//! RM0351 §3.4 and §3.7.8–§3.7.17; STM32G4: RM0440 §3.4 and §3.7.8–§3.7.19)
//! and what they mean: bank geometry (L476 always dual bank; G474 per
//! OPTR.DBANK), read-out protection level, write protection (WRP) and
//! proprietary code read-out protection (PCROP) areas.

/// Which member of the stm32l4x driver family the controller belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    /// STM32L476xG (RM0351): 1 MiB, always two banks of 256 pages of 2 KiB.
    L476,
    /// STM32G474xE (RM0440, category 3): 512 KiB; OPTR.DBANK = 1: two banks
    /// of 128 pages of 2 KiB, DBANK = 0: one bank of 128 pages of 4 KiB.
    G474,
}

/// Number of option words (`NvMem::opt_words`).
pub(crate) const OPT_WORDS: usize = 11;

/// OPTR.RDP values (RM0351 §3.5.1, RM0440 §3.5.1).
pub(crate) const RDP_LEVEL0: u8 = 0xAA;
pub(crate) const RDP_LEVEL2: u8 = 0xCC;
/// OPTR.IWDG_SW (bit 16): 1 = software watchdog (RM0351 §3.7.8).
pub(crate) const OPTR_IWDG_SW: u32 = 1 << 16;
/// OPTR.DBANK (G4, bit 22; the L476's DUALBANK, bit 21, has no effect on
/// 1 MiB parts).
pub(crate) const OPTR_DBANK_G4: u32 = 1 << 22;
/// PCROP1ER.PCROP_RDP (bit 31): the PCROP area is erased on RDP regression.
pub(crate) const PCROP_RDP: u32 = 1 << 31;

/// The option registers, in storage order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionRegs {
    pub optr: u32,
    pub pcrop1sr: u32,
    pub pcrop1er: u32,
    pub wrp1ar: u32,
    pub wrp1br: u32,
    pub pcrop2sr: u32,
    pub pcrop2er: u32,
    pub wrp2ar: u32,
    pub wrp2br: u32,
    /// G4 only (RM0440 §3.7.20/21): securable area size and BOOT_LOCK.
    pub sec1r: u32,
    pub sec2r: u32,
}

/// Register offsets from 0x4002_2000 and the writable bits of each option
/// register per variant; reserved bits read as 1 (their factory value).
const OFFSETS: [u32; OPT_WORDS] = [
    0x20, 0x24, 0x28, 0x2C, 0x30, 0x44, 0x48, 0x4C, 0x50, 0x70, 0x74,
];

impl Variant {
    /// Writable bits of option register `i` (storage order).
    ///
    /// OPTR, RM0351 §3.7.8: RDP[7:0], BOR_LEV[10:8], nRST_STOP 12, nRST_STDBY
    /// 13, nRST_SHDW 14, IWDG_SW 16, IWDG_STOP 17, IWDG_STDBY 18, WWDG_SW 19,
    /// BFB2 20, DUALBANK 21, nBOOT1 23, SRAM2_PE 24, SRAM2_RST 25 (nSWBOOT0
    /// and nBOOT0 exist on L49x/L4Ax only).
    /// OPTR, RM0440 §3.7.8: the same up to BFB2, DBANK 22, nBOOT1 23, SRAM_PE
    /// 24, CCMSRAM_RST 25, nSWBOOT0 26, nBOOT0 27, NRST_MODE[29:28], IRHEN 30.
    /// PCROPxSR/ER: start/end offsets (L4 16 bit, G4 15 bit), PCROP1ER bit 31
    /// PCROP_RDP; WRPxyR: STRT[7:0] and END[23:16] (L4 8 bit, G4 7 bit);
    /// SEC1R: SEC_SIZE1[7:0], BOOT_LOCK 16; SEC2R: SEC_SIZE2[7:0].
    pub(crate) fn writable(self, i: usize) -> u32 {
        let l4 = self == Variant::L476;
        match (i, l4) {
            (0, true) => 0x03BF_77FF,
            (0, false) => 0x7FDF_77FF,
            (1 | 5, true) => 0xFFFF,
            (1 | 5, false) => 0x7FFF,
            (2, true) => PCROP_RDP | 0xFFFF,
            (2, false) => PCROP_RDP | 0x7FFF,
            (6, true) => 0xFFFF,
            (6, false) => 0x7FFF,
            (3 | 4 | 7 | 8, true) => 0x00FF_00FF,
            (3 | 4 | 7 | 8, false) => 0x007F_007F,
            (9, false) => 0x0001_00FF,
            (10, false) => 0x0000_00FF,
            _ => 0,
        }
    }

    /// The factory option words: RDP level 0 (0xAA), BOR level 0, no reset
    /// on Stop/Standby/Shutdown entry, software watchdogs, dual bank, no WRP
    /// area (STRT > END), no PCROP area (STRT > END), no securable area; the
    /// OPTR value is the factory value 0xFFEF_F8AA of both RMs.
    pub(crate) fn factory(self) -> OptionRegs {
        let f = |i: usize, fields: u32| fields | !self.writable(i);
        let pstart = if self == Variant::L476 {
            0xFFFF
        } else {
            0x7FFF
        };
        let wstart = if self == Variant::L476 { 0xFF } else { 0x7F };
        let mut w = [0u32; OPT_WORDS];
        w[0] = 0xFFEF_F8AA;
        for (i, v) in w.iter_mut().enumerate().skip(1) {
            *v = match i {
                1 | 5 => f(i, pstart),
                2 | 6 => f(i, 0),
                3 | 4 | 7 | 8 => f(i, wstart),
                _ => f(i, 0),
            };
        }
        OptionRegs::from_words(&w)
    }
}

impl OptionRegs {
    /// From `NvMem::opt_words` (missing words read as erased, 0xFFFF_FFFF).
    pub(crate) fn from_words(w: &[u32]) -> OptionRegs {
        let g = |i: usize| w.get(i).copied().unwrap_or(u32::MAX);
        OptionRegs {
            optr: g(0),
            pcrop1sr: g(1),
            pcrop1er: g(2),
            wrp1ar: g(3),
            wrp1br: g(4),
            pcrop2sr: g(5),
            pcrop2er: g(6),
            wrp2ar: g(7),
            wrp2br: g(8),
            sec1r: g(9),
            sec2r: g(10),
        }
    }

    pub(crate) fn to_words(self) -> Vec<u32> {
        vec![
            self.optr,
            self.pcrop1sr,
            self.pcrop1er,
            self.wrp1ar,
            self.wrp1br,
            self.pcrop2sr,
            self.pcrop2er,
            self.wrp2ar,
            self.wrp2br,
            self.sec1r,
            self.sec2r,
        ]
    }

    /// Index (storage order) of the option register at controller offset `off`.
    pub(crate) fn index_of(variant: Variant, off: u32) -> Option<usize> {
        let i = OFFSETS.iter().position(|&o| o == off)?;
        (variant == Variant::G474 || i < 9).then_some(i)
    }

    pub(crate) fn get(&self, i: usize) -> u32 {
        self.to_words()[i]
    }

    pub(crate) fn set(&mut self, i: usize, v: u32) {
        let mut w = self.to_words();
        w[i] = v;
        *self = OptionRegs::from_words(&w);
    }

    /// The read-out protection level 0, 1 or 2 (RM0351 §3.5.1: 0xAA level 0,
    /// 0xCC level 2, any other value level 1).
    pub(crate) fn rdp_level(&self) -> u8 {
        match self.optr as u8 {
            RDP_LEVEL0 => 0,
            RDP_LEVEL2 => 2,
            _ => 1,
        }
    }
}

/// The bank organisation in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// Two banks (BKER, MER2 and the bank-2 WRP/PCROP areas apply).
    pub dual: bool,
    /// Erase unit, bytes.
    pub page_size: usize,
    /// Pages per bank.
    pub pages_per_bank: usize,
}

impl Geometry {
    /// Bytes per bank.
    pub(crate) fn bank_size(&self) -> usize {
        self.page_size * self.pages_per_bank
    }
}

/// The geometry `optr` selects (RM0351 §3.3.1: the 1 MiB L476 is always
/// dual bank, 2 KiB pages; RM0440 §3.3.1: DBANK = 1 two banks of 2 KiB
/// pages, DBANK = 0 one bank of 4 KiB pages).
pub(crate) fn geometry(variant: Variant, optr: u32) -> Geometry {
    match variant {
        Variant::L476 => Geometry {
            dual: true,
            page_size: 2048,
            pages_per_bank: 256,
        },
        Variant::G474 if optr & OPTR_DBANK_G4 != 0 => Geometry {
            dual: true,
            page_size: 2048,
            pages_per_bank: 128,
        },
        Variant::G474 => Geometry {
            dual: false,
            page_size: 4096,
            pages_per_bank: 128,
        },
    }
}

/// The protected areas in effect, as flash byte ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Protection {
    /// WRP areas (RM0351 §3.6.2: pages STRT..=END of the bank; none when
    /// STRT > END).
    pub wrp: Vec<std::ops::Range<usize>>,
    /// PCROP areas (RM0351 §3.6.1: double words STRT..=END of the bank; none
    /// when STRT > END; RM0440 §3.6.1: in single-bank mode the unit is two
    /// double words).
    pub pcrop: Vec<std::ops::Range<usize>>,
}

impl Protection {
    pub(crate) fn of(variant: Variant, o: &OptionRegs) -> Protection {
        let g = geometry(variant, o.optr);
        let (wmask, pmask) = match variant {
            Variant::L476 => (0xFF, 0xFFFF),
            Variant::G474 => (0x7F, 0x7FFF),
        };
        let punit = if variant == Variant::G474 && !g.dual {
            16
        } else {
            8
        };
        let banks = if g.dual { 2 } else { 1 };
        let mut p = Protection::default();
        for bank in 0..banks {
            let base = bank * g.bank_size();
            let (wa, wb, ps, pe) = if bank == 0 {
                (o.wrp1ar, o.wrp1br, o.pcrop1sr, o.pcrop1er)
            } else {
                (o.wrp2ar, o.wrp2br, o.pcrop2sr, o.pcrop2er)
            };
            for w in [wa, wb] {
                let (s, e) = ((w & wmask) as usize, ((w >> 16) & wmask) as usize);
                if s <= e && s < g.pages_per_bank {
                    let e = e.min(g.pages_per_bank - 1);
                    p.wrp
                        .push(base + s * g.page_size..base + (e + 1) * g.page_size);
                }
            }
            let (s, e) = ((ps & pmask) as usize, (pe & pmask) as usize);
            if s <= e && s * punit < g.bank_size() {
                let end = ((e + 1) * punit).min(g.bank_size());
                p.pcrop.push(base + s * punit..base + end);
            }
        }
        p
    }

    /// Whether any byte of `r` lies in a WRP or PCROP area.
    pub(crate) fn hits(&self, r: std::ops::Range<usize>) -> bool {
        self.wrp
            .iter()
            .chain(&self.pcrop)
            .any(|a| a.start < r.end && r.start < a.end)
    }
}
