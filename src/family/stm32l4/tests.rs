//! Unit tests of the stm32l4x family: decoding, WRP areas, the probe and info lines.

use super::options::FlashRegs;
use super::options::fake::Fake;
use super::*;
use crate::family::line;

#[test]
fn sr_and_rdp_decoding() {
    assert_eq!(sr_bits(sr::PROGERR | sr::EOP), vec!["EOP", "PROGERR"]);
    assert!(sr_words(sr::WRPERR)[0].starts_with("WRPERR"));
    assert!(sr_words(sr::EOP).is_empty());
    assert_eq!(sr::ERRORS, 0xC3FA);
    assert_eq!(rdp_of(0xFFEF_F8AA), Rdp::Level0);
    assert_eq!(rdp_of(0xFFEF_F800), Rdp::Level1);
    assert_eq!(rdp_of(0xFFEF_F8BB), Rdp::Level1);
    assert_eq!(rdp_of(0xFFEF_F8CC), Rdp::Level2);
}

#[test]
fn geometry() {
    let g474 = line(0x469).unwrap();
    let l476 = line(0x415).unwrap();
    let mut dbank = |a: u64| (a == reg(OPTR)).then_some(0xFFEF_F8AA | OPTR_DBANK);
    assert_eq!(STM32L4X.page_size(g474, &mut dbank), 2048);
    let mut single = |a: u64| (a == reg(OPTR)).then_some(0xFFAF_F8AA);
    assert_eq!(STM32L4X.page_size(g474, &mut single), 4096);
    assert_eq!(STM32L4X.page_size(l476, &mut single), 2048);
    assert!(dual_bank_mode(l476, 0, 1024));
    assert!(!dual_bank_mode(l476, 0, 512));
    assert!(dual_bank_mode(g474, OPTR_DBANK, 512));
    assert!(!dual_bank_mode(g474, 0, 512));
}

#[test]
fn wrp_areas_l476_dual_bank() {
    let l = line(0x415).unwrap();
    let mut f = Fake::new(0xFFEF_F8AA);
    // WRP1A pages 0-3 of bank 1; WRP2A pages 0-1 of bank 2 (pages 256-257).
    f.regs.insert(reg(WRP1AR), 0x0003_0000);
    f.regs.insert(reg(WRP2AR), 0x0001_0000);
    let mut rd = |a: u64| f.rd(a).ok();
    let st = STM32L4X
        .read_flash(l, 0, 0x0800_0000, 512, &mut rd)
        .unwrap();
    assert_eq!(st.rdp, Rdp::Level0);
    assert_eq!(st.wrp.len(), 2);
    assert_eq!(st.wrp[0].pages, 0..4);
    assert_eq!(st.wrp[1].pages, 256..258);
    assert!(st.wrp_at(257).is_some() && st.wrp_at(4).is_none());
    assert!(
        st.wrp[0]
            .fix
            .contains("'stm32l4x option_write 0 0x2c 0x000000ff 0x00ff00ff'")
    );
    let mut rd = |a: u64| f.rd(a).ok();
    let regs = wrp_regs(l, 0xFFEF_F8AA, 512, &mut rd).unwrap();
    assert_eq!(ranges_text(&regs, 512).as_deref(), Some("0-3, 256-257"));
    let fresh = Fake::new(0xFFEF_F8AA);
    let mut f2 = fresh;
    let mut rd = |a: u64| f2.rd(a).ok();
    let regs = wrp_regs(l, 0xFFEF_F8AA, 512, &mut rd).unwrap();
    assert_eq!(ranges_text(&regs, 512), None);
}

#[test]
fn wrp_mask_g474_dual_bank_is_7f() {
    let g = line(0x469).unwrap();
    let mut f = Fake::new(0xFFEF_F8AA | OPTR_DBANK);
    // 0xFF start / 0x00 end with mask 0x7F: start 127 > end 0: off.
    f.regs.insert(reg(WRP1AR), 0x0000_00FF);
    f.regs.insert(reg(WRP1BR), 0x0005_0002);
    let mut rd = |a: u64| f.rd(a).ok();
    let regs = wrp_regs(g, 0xFFEF_F8AA | OPTR_DBANK, 256, &mut rd).unwrap();
    assert_eq!(regs.len(), 4);
    assert!(!regs[0].used());
    assert_eq!((regs[1].first, regs[1].last), (2, 5));
    assert_eq!(regs[2].first, 128 + 127);
}

#[test]
fn info_line() {
    let l = line(0x469).unwrap();
    let mut rd = |a: u64| match a {
        a if a == reg(OPTR) => Some(0xFFEF_F8AA | OPTR_DBANK),
        0x1FFF_75E0 => Some(0x0200),
        _ => None,
    };
    assert_eq!(
        STM32L4X.info(l, 0x2001_6469, false, &mut rd),
        "STM32G47/G48xx - Rev Z : 0x2001 - Flash dual-bank"
    );
    assert_eq!(
        STM32L4X.info(l, 0x2001_6469, true, &mut rd),
        "STM32G47/G48xx - Rev Z : 0x2001 - OTP-bank"
    );
}
