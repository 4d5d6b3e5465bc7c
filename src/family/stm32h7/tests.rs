//! Unit tests of the stm32h7x family against a fake flash controller (register sequences of
//! OpenOCD 0.12's `stm32h7x.c`, RM0433 §4).

use std::collections::HashMap;

use super::options::{self, RdpChange};
use super::*;
use crate::family::{FlashRegs, line};

/// The option and key behaviour of RM0433 §4.9 that the sequences rely on.
#[derive(Default)]
struct Fake {
    regs: HashMap<u64, u32>,
    writes: Vec<(u64, u32)>,
}

impl Fake {
    fn new() -> Fake {
        let mut f = Fake::default();
        for base in [REGS_BANK1, REGS_BANK2] {
            f.regs.insert(base + u64::from(CR), cr::LOCK | cr::PSIZE_64);
            f.regs.insert(base + u64::from(OPTCR), opt::LOCK);
        }
        f.set_opt(OPTSR_CUR, 0x1A6A_AAF0);
        f.set_opt(OPTSR_PRG, 0x1A6A_AAF0);
        f.regs.insert(REGS_BANK1 + u64::from(WPSN_CUR), 0xFF);
        f.regs.insert(REGS_BANK2 + u64::from(WPSN_CUR), 0xFF);
        f
    }
    /// Option registers are one set seen from both bases.
    fn set_opt(&mut self, off: u32, v: u32) {
        self.regs.insert(REGS_BANK1 + u64::from(off), v);
        self.regs.insert(REGS_BANK2 + u64::from(off), v);
    }
}

impl FlashRegs for Fake {
    fn rd(&mut self, addr: u64) -> Result<u32, probe_rs::Error> {
        Ok(*self.regs.get(&addr).unwrap_or(&0))
    }
    fn wr(&mut self, addr: u64, value: u32) -> Result<(), probe_rs::Error> {
        self.writes.push((addr, value));
        let base = addr & !0xFF;
        let off = (addr & 0xFF) as u32;
        match off {
            KEYR if value == options::KEY2 => {
                *self.regs.entry(base + u64::from(CR)).or_default() &= !cr::LOCK;
            }
            OPTKEYR if value == options::OPTKEY2 => {
                let v = self.rd(base + u64::from(OPTCR))? & !opt::LOCK;
                self.set_opt(OPTCR, v);
            }
            OPTCR if value & opt::START != 0 => {
                let prg = self.rd(base + u64::from(OPTSR_PRG))?;
                self.set_opt(OPTSR_CUR, prg);
            }
            OPTCR | OPTSR_PRG | OPTCCR => self.set_opt(off, value),
            _ => {
                self.regs.insert(addr, value);
            }
        }
        Ok(())
    }
}

#[test]
fn bank_geometry_from_the_flash_size_register() {
    let h743 = line(0x450).unwrap();
    assert_eq!(bank_kib(h743, 2048), (1024, true));
    assert_eq!(bank_kib(h743, 128), (128, false));
    assert_eq!(bank_kib(line(0x483).unwrap(), 1024), (1024, false));
    let bank = |base| FlashBank {
        name: "stm32h7x.bank".into(),
        driver: "stm32h7x".into(),
        base,
        size: 0,
        target: "stm32h7x.cpu0".into(),
        probed_size: None,
        sector_size: None,
    };
    let mut rd = |_a: u64| None;
    let g = STM32H7X
        .size_bank(h743, &bank(BANK2_BASE), 1, Some(2048), 128 << 10, &mut rd)
        .unwrap();
    assert_eq!((g.size, g.page_size), (1 << 20, 128 << 10));
    let e = STM32H7X
        .size_bank(
            line(0x483).unwrap(),
            &bank(BANK2_BASE),
            1,
            Some(1024),
            128 << 10,
            &mut rd,
        )
        .unwrap_err();
    assert_eq!(e, "this device has a single bank only");
    let e = STM32H7X
        .size_bank(h743, &bank(0x0900_0000), 0, Some(2048), 128 << 10, &mut rd)
        .unwrap_err();
    assert!(
        e.contains("should rather be 0x08000000 or 0x08100000"),
        "{e}"
    );
}

#[test]
fn read_flash_decodes_rdp_and_wpsn_of_each_bank() {
    let mut f = Fake::new();
    f.regs.insert(REGS_BANK2 + u64::from(WPSN_CUR), 0xFA); // sectors 0 and 2 of bank 2
    f.regs.insert(REGS_BANK2 + u64::from(SR), 1 << 17);
    let l = line(0x450).unwrap();
    let mut rd = |a: u64| f.rd(a).ok();
    let st = STM32H7X.read_flash(l, 1, BANK2_BASE, 8, &mut rd).unwrap();
    assert_eq!(st.rdp, Rdp::Level0);
    assert_eq!(st.rdp_evidence, "FLASH_OPTSR_CUR = 0x1a6aaaf0, RDP = 0xaa");
    assert_eq!(st.wrp_register, "FLASH_WPSN_CUR2R");
    assert_eq!(st.wrp.len(), 2);
    assert_eq!(
        st.wrp[0].by,
        "FLASH_WPSN_CUR2R = 0x000000fa: bit 0 = 0 protects sector 0"
    );
    assert_eq!(
        st.wrp[1].fix,
        "'flash protect 1 2 2 off' (FLASH_WPSN_PRG2R + OPTSTART: in force at once)"
    );
    assert_eq!(st.wrp_error, "FLASH_SR2.WRPERR");
    assert!(st.sr_words[0].starts_with("WRPERR"));
    let blocks = STM32H7X
        .protection_blocks(l, 1, BANK2_BASE, 1 << 20, 128 << 10, &mut rd)
        .unwrap();
    assert_eq!(blocks.len(), 8);
    assert_eq!(blocks[0], (0, 128 << 10, true));
    assert_eq!(blocks[1], (128 << 10, 128 << 10, false));
    assert_eq!(rdp_of(0x1A6A_CCF0), Rdp::Level2);
    assert_eq!(rdp_of(0x1A6A_00F0), Rdp::Level1);
}

#[test]
fn info_line_names_the_revision() {
    let l = line(0x450).unwrap();
    let mut rd = |_a: u64| None;
    assert_eq!(
        STM32H7X.info(l, 0x2003_6450, false, &mut rd),
        "STM32H74x/75x - Rev: V"
    );
    assert_eq!(
        STM32H7X.info(l, 0x7777_6450, false, &mut rd),
        "STM32H74x/75x - Rev: unknown (0x7777)"
    );
}

#[test]
fn rdp_change_runs_openocds_option_sequence() {
    let mut f = Fake::new();
    assert_eq!(
        options::set_rdp(&mut f, BANK1_BASE, options::RDP_L0).unwrap(),
        RdpChange::Unchanged
    );
    assert!(f.writes.is_empty(), "nothing written when unchanged");
    assert_eq!(
        options::set_rdp(&mut f, BANK2_BASE, options::RDP_L1).unwrap(),
        RdpChange::Changed
    );
    let b2 = |off: u32| REGS_BANK2 + u64::from(off);
    assert_eq!(
        f.writes,
        vec![
            (b2(OPTKEYR), options::OPTKEY1),
            (b2(OPTKEYR), options::OPTKEY2),
            (b2(OPTSR_PRG), 0x1A6A_00F0),
            (b2(OPTCCR), opt::CHANGEERR),
            (b2(OPTCR), opt::START),
            (b2(OPTCR), opt::LOCK),
        ]
    );
    assert_eq!(
        rdp_of(f.rd(REGS_BANK1 + u64::from(OPTSR_CUR)).unwrap()),
        Rdp::Level1
    );
}

#[test]
fn bank_erase_of_bank_2_uses_its_registers() {
    let mut f = Fake::new();
    options::mass_erase(&mut f, BANK2_BASE).unwrap();
    let b2 = |off: u32| REGS_BANK2 + u64::from(off);
    assert_eq!(
        f.writes,
        vec![
            (b2(KEYR), options::KEY1),
            (b2(KEYR), options::KEY2),
            (b2(CR), cr::BER | cr::PSIZE_64),
            (b2(CR), cr::BER | cr::PSIZE_64 | cr::START),
            (b2(CR), cr::LOCK),
        ]
    );
}

/// Regression: `doctor` sized bank 1 of an H743 as the whole 2 MiB (16 sectors) and reported
/// WPSN_CUR1R = 0xff (no sector protected) as "write-protected sectors: 8, …, 15".
#[test]
fn wpsn_of_an_unprotected_h743_bank_sized_as_the_whole_flash_has_no_protected_sector() {
    let l = crate::family::line(0x450).unwrap();
    let mut rd = |a: u64| {
        Some(match a {
            0x5200_201C => 0x0006_AAD0,
            0x5200_2038 => 0x0000_00FF,
            _ => 0,
        })
    };
    let st = STM32H7X.read_flash(l, 0, 0x0800_0000, 16, &mut rd).unwrap();
    assert!(st.wrp.is_empty(), "{}", st.wrp_words);
    assert_eq!(st.wrp_words, "no sector write-protected");
}
