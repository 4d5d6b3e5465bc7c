//! Debug-port level tests on the STM32H743 (DPv2 TARGETID/DLPIDR, its three
//! APs, a missing AP) and the F103's single AHB-AP, through SWD requests as
//! a probe sends them; the Cortex-M7's cache and ROM-table registers.

use super::super::super::ChipModel;
use super::super::super::chip::Chip;
use super::super::dp::Ack;

const KHZ: u32 = 1000;

/// A chip with SWD selected, DPIDR read and the debug domain powered up.
fn attached(model: ChipModel) -> Chip {
    let mut c = Chip::new(model, None).unwrap();
    c.swj_bits(56, u64::MAX >> 8);
    c.swj_bits(16, 0xE79E);
    c.swj_bits(56, u64::MAX >> 8);
    c.swj_bits(8, 0);
    assert_eq!(dp_read(&mut c, 0), model.dpidr());
    dp_write(&mut c, 4, 0x5000_0000);
    c
}

fn dp_read(c: &mut Chip, a: u8) -> u32 {
    match c.swd_request(false, true, a, 0, KHZ) {
        Ack::Ok(v) => v,
        other => panic!("DP read {a:#x}: {other:?}"),
    }
}

fn dp_write(c: &mut Chip, a: u8, v: u32) {
    assert_eq!(c.swd_request(false, false, a, v, KHZ), Ack::Ok(0));
}

/// AP register `reg` (bank | A[3:2]) of AP `ap`: posted read + RDBUFF.
fn ap_read(c: &mut Chip, ap: u32, reg: u8) -> u32 {
    dp_write(c, 8, (ap << 24) | u32::from(reg & 0xF0));
    assert!(matches!(
        c.swd_request(true, true, reg & 0xC, 0, KHZ),
        Ack::Ok(_)
    ));
    dp_read(c, 0xC)
}

fn ap_write(c: &mut Chip, ap: u32, reg: u8, v: u32) {
    dp_write(c, 8, (ap << 24) | u32::from(reg & 0xF0));
    assert_eq!(c.swd_request(true, false, reg & 0xC, v, KHZ), Ack::Ok(0));
}

/// A word read through MEM-AP `ap` (CSW word, TAR, DRW).
fn mem_read(c: &mut Chip, ap: u32, addr: u32) -> u32 {
    ap_write(c, ap, 0x00, 0x2300_0002);
    ap_write(c, ap, 0x04, addr);
    ap_read(c, ap, 0x0C)
}

fn mem_write(c: &mut Chip, ap: u32, addr: u32, v: u32) {
    ap_write(c, ap, 0x00, 0x2300_0002);
    ap_write(c, ap, 0x04, addr);
    ap_write(c, ap, 0x0C, v);
}

/// A word read through `ap` that fails on the bus: STICKYERR, and RDBUFF
/// answers FAULT until ABORT.STKERRCLR.
fn mem_read_fails(c: &mut Chip, ap: u32, addr: u32) -> bool {
    ap_write(c, ap, 0x00, 0x2300_0002);
    ap_write(c, ap, 0x04, addr);
    dp_write(c, 8, ap << 24);
    assert!(matches!(c.swd_request(true, true, 0xC, 0, KHZ), Ack::Ok(_)));
    let fault = c.swd_request(false, true, 0xC, 0, KHZ) == Ack::Fault;
    fault && sticky_err(c)
}

fn sticky_err(c: &mut Chip) -> bool {
    let err = dp_read(c, 4) & (1 << 5) != 0;
    dp_write(c, 0, 1 << 2); // ABORT.STKERRCLR
    err
}

#[test]
fn dpv2_targetid_and_dlpidr_through_dpbanksel() {
    let mut c = attached(ChipModel::Stm32h743zi);
    dp_write(&mut c, 8, 2);
    assert_eq!(dp_read(&mut c, 4), 0x0450_0041, "TARGETID");
    dp_write(&mut c, 8, 3);
    assert_eq!(dp_read(&mut c, 4), 0x0000_0001, "DLPIDR: PROTVSN 1");
    dp_write(&mut c, 8, 0);
    assert_eq!(
        dp_read(&mut c, 4) >> 28,
        0xF,
        "CTRL/STAT again: power-up ACKs"
    );
}

#[test]
fn the_h7_has_three_aps_and_ap3_reads_idr_0() {
    let mut c = attached(ChipModel::Stm32h743zi);
    let idr: Vec<u32> = (0..4).map(|ap| ap_read(&mut c, ap, 0xFC)).collect();
    assert_eq!(idr, [0x8477_0001, 0x8477_0001, 0x5477_0002, 0]);
    let base: Vec<u32> = (0..4).map(|ap| ap_read(&mut c, ap, 0xF8)).collect();
    assert_eq!(base, [0xE00F_E003, 0x0000_0002, 0xE00E_0003, 0]);
    ap_write(&mut c, 3, 0x04, 0x1234);
    assert_eq!(
        ap_read(&mut c, 3, 0x04),
        0,
        "writes to a missing AP are ignored"
    );
}

#[test]
fn ap2_reaches_dbgmcu_on_apb_d_and_nothing_else() {
    let mut c = attached(ChipModel::Stm32h743zi);
    assert_eq!(mem_read(&mut c, 2, 0xE00E_1000), 0x2003_6450);
    mem_write(&mut c, 2, 0xE00E_1004, 0x0060_0007);
    assert_eq!(
        mem_read(&mut c, 0, 0x5C00_1004),
        0x0060_0007,
        "the same CR via AP0"
    );
    assert_eq!(
        mem_read(&mut c, 2, 0xE00E_0000),
        0x0000_1003,
        "system ROM table"
    );
    assert!(!sticky_err(&mut c));
    assert!(
        mem_read_fails(&mut c, 2, 0x2000_0000),
        "RAM is not on APB-D"
    );
    // Byte size requested: an APB-AP does words only.
    ap_write(&mut c, 2, 0x00, 0x2300_0000);
    assert_eq!(ap_read(&mut c, 2, 0x00) & 7, 2);
}

#[test]
fn ap1_reaches_the_d3_domain_only() {
    let mut c = attached(ChipModel::Stm32h743zi);
    mem_write(&mut c, 1, 0x3800_0010, 0xCAFE_F00D);
    assert_eq!(
        mem_read(&mut c, 0, 0x3800_0010),
        0xCAFE_F00D,
        "SRAM4 seen by AP0"
    );
    mem_write(&mut c, 1, 0x3880_0000, 0x1234_5678);
    assert_eq!(mem_read(&mut c, 1, 0x3880_0000), 0x1234_5678, "backup SRAM");
    assert_eq!(
        mem_read(&mut c, 1, 0x5802_4400),
        0x0000_0025,
        "RCC_CR on AHB4"
    );
    assert!(!sticky_err(&mut c));
    assert!(
        mem_read_fails(&mut c, 1, 0x2400_0000),
        "AXI SRAM is D1, not D3"
    );
}

#[test]
fn the_f103_keeps_one_ahb_ap() {
    let mut c = attached(ChipModel::Stm32f103c8);
    assert_eq!(ap_read(&mut c, 0, 0xFC), 0x1477_0011);
    assert_eq!(ap_read(&mut c, 0, 0xF8), 0xE00F_F003);
    assert_eq!(ap_read(&mut c, 1, 0xFC), 0);
    assert_eq!(ap_read(&mut c, 2, 0xFC), 0);
}

#[test]
fn cortex_m7_rom_tables_and_scs_identity() {
    let mut c = attached(ChipModel::Stm32h743zi);
    assert_eq!(
        mem_read(&mut c, 0, 0xE00F_E000),
        0x0000_1003,
        "CPU ROM → M7 ROM"
    );
    let m7: Vec<u32> = (0..7)
        .map(|i| mem_read(&mut c, 0, 0xE00F_F000 + 4 * i))
        .collect();
    assert_eq!(
        m7,
        [
            0xFFF0_F003,
            0xFFF0_2003,
            0xFFF0_3003,
            0xFFF0_1003,
            0xFFF4_1002,
            0xFFF4_2002,
            0
        ]
    );
    assert_eq!(
        mem_read(&mut c, 0, 0xE00F_FFE0),
        0xC7,
        "M7 ROM table part 0x4C7"
    );
    assert_eq!(mem_read(&mut c, 0, 0xE000_EFE0), 0x0C, "M7 SCS part 0x00C");
    let mut f1 = attached(ChipModel::Stm32f103c8);
    assert_eq!(mem_read(&mut f1, 0, 0xE00F_FFE0), 0x10, "F1: ST part 0x410");
    assert_eq!(mem_read(&mut f1, 0, 0xE000_EFE0), 0x00);
}

#[test]
fn cortex_m7_cache_registers() {
    let mut c = attached(ChipModel::Stm32h743zi);
    assert_eq!(mem_read(&mut c, 0, 0xE000_ED78), 0x0900_0003, "CLIDR");
    assert_eq!(mem_read(&mut c, 0, 0xE000_ED7C), 0x8303_C003, "CTR");
    assert_eq!(
        mem_read(&mut c, 0, 0xE000_ED80),
        0xF003_E019,
        "CCSIDR: D cache"
    );
    mem_write(&mut c, 0, 0xE000_ED84, 1);
    assert_eq!(mem_read(&mut c, 0, 0xE000_ED84), 1, "CSSELR.InD");
    assert_eq!(
        mem_read(&mut c, 0, 0xE000_ED80),
        0xF007_E009,
        "CCSIDR: I cache"
    );
    let ccr = mem_read(&mut c, 0, 0xE000_ED14);
    mem_write(&mut c, 0, 0xE000_ED14, ccr | (3 << 16));
    assert_eq!(
        mem_read(&mut c, 0, 0xE000_ED14),
        ccr | (3 << 16),
        "CCR.IC/DC"
    );
    for op in (0xE000_EF50..=0xE000_EF78).step_by(4) {
        mem_write(&mut c, 0, op, 0x2000_0000);
    }
    assert!(!sticky_err(&mut c), "maintenance writes are accepted");
    // MPU: rsemu's eight regions (the H7 has 16: docs/sim.md).
    assert_eq!(mem_read(&mut c, 0, 0xE000_ED90), 0x0000_0800, "MPU_TYPE");
    // The Cortex-M4 has no caches: CLIDR reads 0, CCR.IC/DC stay 0.
    let mut m4 = attached(ChipModel::Stm32f303vc);
    assert_eq!(mem_read(&mut m4, 0, 0xE000_ED78), 0);
    let ccr = mem_read(&mut m4, 0, 0xE000_ED14);
    mem_write(&mut m4, 0, 0xE000_ED14, ccr | (3 << 16));
    assert_eq!(mem_read(&mut m4, 0, 0xE000_ED14) & (3 << 16), 0);
}
