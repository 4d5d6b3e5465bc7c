//! The one DEV_ID table: every STM32 line stdbg can name, by DBGMCU_IDCODE DEV_ID (bits 11:0).
//!
//! Sources: the "MCU device ID code" section of each reference manual (RM0008 §31.6.1, RM0316
//! §33.6.1, RM0440 §47.6.1, RM0351 §48.6.1, RM0433 §60.5.8, RM0091 §40.5.1) and, for the device
//! strings, revision letters, flash-size registers and page sizes, the tables of OpenOCD 0.12's
//! flash drivers (`src/flash/nor/stm32f1x.c` `stm32x_probe`/`get_stm32x_info`, `stm32l4x.c`
//! `stm32l4_parts`, `stm32h7x.c` `stm32h7x_parts`).

use super::Driver;
use super::regs::{self, DebugRegs, ResetRegs};

/// One STM32 line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// DBGMCU_IDCODE bits 11:0.
    pub dev_id: u16,
    /// The series, named like its OpenOCD target script: `stm32f1x`, `stm32f3x`, `stm32g4x`,
    /// `stm32l4x`, `stm32h7x`, …
    pub series: &'static str,
    /// The line in words, e.g. `STM32F10xx8/B (medium density)`.
    pub words: &'static str,
    /// OpenOCD's device string, e.g. `STM32F10x (Medium Density)`.
    pub device: &'static str,
    /// The flash driver that serves it (`None`: stdbg names the chip but drives no flash).
    pub driver: Option<Driver>,
    /// REV_ID → revision letter.
    pub revisions: &'static [(u16, &'static str)],
    /// Address of DBGMCU_IDCODE as the CPU's AP sees it.
    pub idcode_addr: u64,
    /// Address of the flash-size register (16 bits, KiB); 0 = not known to stdbg.
    pub flash_size_reg: u64,
    /// Default erase page (sector) size in bytes (the G4/L4+ geometry also depends on OPTR).
    pub page_size: u32,
    /// Pages per write-protection bit (F1-style FPEC, FLASH_WRPR); 1 for the others.
    pub pages_per_prot_block: u32,
    /// The largest flash of the line in KiB (assumed when the flash-size register is unreadable).
    pub max_kib: u32,
    /// The flash can run as two banks (L4 1 MiB: always; G4 cat. 3: OPTR.DBANK).
    pub dual_bank: bool,
}

impl Line {
    /// The revision letter of REV_ID `rev`, if the table knows it.
    pub fn revision(&self, rev: u16) -> Option<&'static str> {
        self.revisions
            .iter()
            .find(|(r, _)| *r == rev)
            .map(|(_, s)| *s)
    }

    /// DBGMCU location and bits of the series, if stdbg knows them.
    pub fn debug(&self) -> Option<&'static DebugRegs> {
        regs::debug_of(self.series)
    }

    /// The reset-flag register of the series, if stdbg knows it.
    pub fn reset(&self) -> Option<&'static ResetRegs> {
        regs::reset_of(self.series)
    }
}

const M3M4: u64 = 0xE004_2000;
const M0: u64 = 0x4001_5800;
const H7: u64 = 0x5C00_1000;
const F1_FSIZE: u64 = 0x1FFF_F7E0;
const F3_FSIZE: u64 = 0x1FFF_F7CC;
const L4_FSIZE: u64 = 0x1FFF_75E0;
const H7_FSIZE: u64 = 0x1FF1_E880;

const F1_DRV: Option<Driver> = Some(Driver::Stm32f1x);
const L4_DRV: Option<Driver> = Some(Driver::Stm32l4x);
const H7_DRV: Option<Driver> = Some(Driver::Stm32h7x);

#[allow(clippy::too_many_arguments)]
const fn l(
    dev_id: u16,
    series: &'static str,
    words: &'static str,
    device: &'static str,
    driver: Option<Driver>,
    revisions: &'static [(u16, &'static str)],
    idcode_addr: u64,
    flash_size_reg: u64,
    page_size: u32,
    pages_per_prot_block: u32,
    max_kib: u32,
    dual_bank: bool,
) -> Line {
    Line {
        dev_id,
        series,
        words,
        device,
        driver,
        revisions,
        idcode_addr,
        flash_size_reg,
        page_size,
        pages_per_prot_block,
        max_kib,
        dual_bank,
    }
}

const AZ: &[(u16, &str)] = &[(0x1000, "A"), (0x1001, "Z")];
const A: &[(u16, &str)] = &[(0x1000, "A")];
const AZY: &[(u16, &str)] = &[(0x1000, "A"), (0x1001, "Z"), (0x1003, "Y")];
const L4_AZY: &[(u16, &str)] = &[(0x1000, "A"), (0x1001, "Z"), (0x2001, "Y")];
const G4_ABZ: &[(u16, &str)] = &[(0x1000, "A"), (0x2000, "B"), (0x2001, "Z")];
const NONE: &[(u16, &str)] = &[];

/// Every line, F1 first.
#[rustfmt::skip]
pub static LINES: &[Line] = &[
    // STM32F1 (RM0008, PM0075): driver stm32f1x.
    l(0x412, "stm32f1x", "STM32F10xx4/6 (low density)", "STM32F10x (Low Density)", F1_DRV, A, M3M4, F1_FSIZE, 1024, 4, 32, false),
    l(0x410, "stm32f1x", "STM32F10xx8/B (medium density)", "STM32F10x (Medium Density)", F1_DRV,
        &[(0x0000, "A"), (0x2000, "B"), (0x2001, "Z"), (0x2003, "Y")], M3M4, F1_FSIZE, 1024, 4, 128, false),
    l(0x414, "stm32f1x", "STM32F10xxC/D/E (high density)", "STM32F10x (High Density)", F1_DRV, AZY, M3M4, F1_FSIZE, 2048, 2, 512, false),
    l(0x430, "stm32f1x", "STM32F10xxF/G (XL density)", "STM32F10x (XL Density)", F1_DRV, A, M3M4, F1_FSIZE, 2048, 2, 1024, true),
    l(0x418, "stm32f1x", "STM32F105/F107 (connectivity line)", "STM32F10x (Connectivity)", F1_DRV, AZ, M3M4, F1_FSIZE, 2048, 2, 256, false),
    l(0x420, "stm32f1x", "STM32F100 (value line, low/medium density)", "STM32F100 (Low/Medium Density)", F1_DRV, AZ, M3M4, F1_FSIZE, 1024, 4, 128, false),
    l(0x428, "stm32f1x", "STM32F100 (value line, high density)", "STM32F100 (High Density)", F1_DRV, AZ, M3M4, F1_FSIZE, 2048, 4, 512, false),
    // STM32F3 (RM0316, RM0313, RM0364, RM0365/6): driver stm32f1x.
    l(0x422, "stm32f3x", "STM32F303xB/C", "STM32F302xB/C", F1_DRV,
        &[(0x1000, "A"), (0x1001, "Z"), (0x1003, "Y"), (0x2000, "B")], M3M4, F3_FSIZE, 2048, 2, 256, false),
    l(0x438, "stm32f3x", "STM32F303x6/8 / F334", "STM32F33x", F1_DRV, A, M3M4, F3_FSIZE, 2048, 2, 64, false),
    l(0x439, "stm32f3x", "STM32F301/F302x6/8", "STM32F302x6/8", F1_DRV, AZ, M3M4, F3_FSIZE, 2048, 2, 64, false),
    l(0x446, "stm32f3x", "STM32F303xD/E", "STM32F303xD/E", F1_DRV, A, M3M4, F3_FSIZE, 2048, 2, 512, false),
    l(0x432, "stm32f3x", "STM32F37x", "STM32F37x", F1_DRV, &[(0x1000, "A"), (0x2000, "B")], M3M4, F3_FSIZE, 2048, 2, 256, false),
    // STM32G4 (RM0440): driver stm32l4x.
    l(0x468, "stm32g4x", "STM32G431/G441", "STM32G43/G44xx", L4_DRV, G4_ABZ, M3M4, L4_FSIZE, 2048, 1, 128, false),
    l(0x469, "stm32g4x", "STM32G47x/G48x", "STM32G47/G48xx", L4_DRV, G4_ABZ, M3M4, L4_FSIZE, 4096, 1, 512, true),
    l(0x479, "stm32g4x", "STM32G491/G4A1", "STM32G49/G4Axx", L4_DRV, A, M3M4, L4_FSIZE, 2048, 1, 512, false),
    // STM32L4/L4+ (RM0351, RM0394, RM0432): driver stm32l4x.
    l(0x415, "stm32l4x", "STM32L47x/L48x", "STM32L47/L48xx", L4_DRV,
        &[(0x1000, "1"), (0x1001, "2"), (0x1003, "3"), (0x1007, "4")], M3M4, L4_FSIZE, 2048, 1, 1024, true),
    l(0x435, "stm32l4x", "STM32L43x/L44x", "STM32L43/L44xx", L4_DRV, L4_AZY, M3M4, L4_FSIZE, 2048, 1, 256, false),
    l(0x461, "stm32l4x", "STM32L49x/L4Ax", "STM32L49/L4Axx", L4_DRV, &[(0x1000, "A"), (0x2000, "B")], M3M4, L4_FSIZE, 2048, 1, 1024, true),
    l(0x462, "stm32l4x", "STM32L45x/L46x", "STM32L45/L46xx", L4_DRV, L4_AZY, M3M4, L4_FSIZE, 2048, 1, 512, false),
    l(0x464, "stm32l4x", "STM32L41x/L42x", "STM32L41/L42xx", L4_DRV, L4_AZY, M3M4, L4_FSIZE, 2048, 1, 128, false),
    l(0x470, "stm32l4x", "STM32L4R/L4S", "STM32L4R/L4Sxx", L4_DRV,
        &[(0x1000, "A"), (0x1001, "Z"), (0x1003, "Y"), (0x100F, "W")], M3M4, L4_FSIZE, 8192, 1, 2048, true),
    l(0x471, "stm32l4x", "STM32L4P/L4Q", "STM32L4P/L4Qxx", L4_DRV, &[(0x1001, "Z")], M3M4, L4_FSIZE, 8192, 1, 1024, true),
    // STM32H7 (RM0433, RM0399, RM0455, RM0468): driver stm32h7x (not driven yet).
    l(0x450, "stm32h7x", "STM32H74x/H75x", "STM32H74x/75x", H7_DRV,
        &[(0x1000, "A"), (0x1001, "Z"), (0x1003, "Y"), (0x2001, "X"), (0x2003, "V")], H7, H7_FSIZE, 128 * 1024, 1, 2048, true),
    l(0x480, "stm32h7x", "STM32H7A3/H7B0/H7B3", "STM32H7Ax/7Bx", H7_DRV, A, H7, 0x08FF_F80C, 8 * 1024, 1, 2048, true),
    l(0x483, "stm32h7x", "STM32H72x/H73x", "STM32H72x/73x", H7_DRV, AZ, H7, H7_FSIZE, 128 * 1024, 1, 1024, false),
    // Named only (no stdbg target script, no driver module).
    l(0x411, "stm32f2x", "STM32F2xx", "STM32F2xx", None, NONE, M3M4, 0, 0, 1, 0, false),
    l(0x413, "stm32f4x", "STM32F405/407/415/417", "STM32F4xx", None, NONE, M3M4, 0, 0, 1, 0, false),
    l(0x419, "stm32f4x", "STM32F42x/43x", "STM32F42x/43x", None, NONE, M3M4, 0, 0, 1, 0, false),
    l(0x423, "stm32f4x", "STM32F401xB/C", "STM32F401xB/C", None, NONE, M3M4, 0, 0, 1, 0, false),
    l(0x433, "stm32f4x", "STM32F401xD/E", "STM32F401xD/E", None, NONE, M3M4, 0, 0, 1, 0, false),
    l(0x431, "stm32f4x", "STM32F411", "STM32F411", None, NONE, M3M4, 0, 0, 1, 0, false),
    l(0x440, "stm32f0x", "STM32F030x8/F05x", "STM32F05x", None, NONE, M0, 0, 0, 1, 0, false),
    l(0x444, "stm32f0x", "STM32F03x", "STM32F03x", None, NONE, M0, 0, 0, 1, 0, false),
    l(0x445, "stm32f0x", "STM32F04x", "STM32F04x", None, NONE, M0, 0, 0, 1, 0, false),
    l(0x448, "stm32f0x", "STM32F07x", "STM32F07x", None, NONE, M0, 0, 0, 1, 0, false),
    l(0x442, "stm32f0x", "STM32F09x", "STM32F09x", None, NONE, M0, 0, 0, 1, 0, false),
    l(0x460, "stm32g0x", "STM32G07x/G08x", "STM32G07/G08xx", None, NONE, M0, 0, 0, 1, 0, false),
    l(0x466, "stm32g0x", "STM32G03x/G04x", "STM32G03/G04xx", None, NONE, M0, 0, 0, 1, 0, false),
    l(0x416, "stm32l1x", "STM32L1xx (Cat.1)", "STM32L1xx (Cat.1)", None, NONE, M3M4, 0, 0, 1, 0, false),
    l(0x417, "stm32l0x", "STM32L05x/L06x", "STM32L05x/L06x", None, NONE, M0, 0, 0, 1, 0, false),
];

/// The line with this DEV_ID (bits 11:0 of DBGMCU_IDCODE; higher bits are ignored).
pub fn line(dev_id: u16) -> Option<&'static Line> {
    LINES.iter().find(|l| l.dev_id == dev_id & 0xFFF)
}

/// `stm32f1x` → `STM32F1`.
pub fn series_words(series: &str) -> String {
    series.trim_end_matches('x').to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_dev_id() {
        for (i, a) in LINES.iter().enumerate() {
            for b in &LINES[i + 1..] {
                assert_ne!(a.dev_id, b.dev_id, "{} twice", a.words);
            }
        }
    }

    #[test]
    fn the_issue_lines_are_all_there() {
        for (ids, series, drv) in [
            (
                &[0x412, 0x410, 0x414, 0x430, 0x418, 0x420, 0x428][..],
                "stm32f1x",
                F1_DRV,
            ),
            (&[0x422, 0x432, 0x438, 0x439, 0x446], "stm32f3x", F1_DRV),
            (&[0x468, 0x469, 0x479], "stm32g4x", L4_DRV),
            (
                &[0x415, 0x435, 0x461, 0x462, 0x464, 0x470, 0x471],
                "stm32l4x",
                L4_DRV,
            ),
            (&[0x450, 0x480, 0x483], "stm32h7x", H7_DRV),
        ] {
            for id in ids {
                let l = line(*id).unwrap_or_else(|| panic!("{id:#x}"));
                assert_eq!((l.series, l.driver), (series, drv), "{id:#x}");
                assert!(l.flash_size_reg != 0 && l.page_size != 0 && l.max_kib != 0);
                assert!(l.debug().is_some() && l.reset().is_some(), "{id:#x}");
            }
        }
    }

    #[test]
    fn geometry_and_revisions() {
        let f103 = line(0x410).unwrap();
        assert_eq!((f103.page_size, f103.pages_per_prot_block), (1024, 4));
        assert_eq!(f103.revision(0x2003), Some("Y"));
        let f303 = line(0x422).unwrap();
        assert_eq!((f303.page_size, f303.flash_size_reg), (2048, 0x1FFF_F7CC));
        assert_eq!(f303.revision(0x1003), Some("Y"));
        let l476 = line(0x415).unwrap();
        assert_eq!((l476.page_size, l476.flash_size_reg), (2048, 0x1FFF_75E0));
        assert_eq!(l476.revision(0x1007), Some("4"));
        assert_eq!(line(0x469).unwrap().revision(0x2001), Some("Z"));
        assert_eq!(line(0x450).unwrap().idcode_addr, 0x5C00_1000);
        assert_eq!(line(0x1410).unwrap().dev_id, 0x410);
        assert_eq!(series_words("stm32g4x"), "STM32G4");
    }
}
