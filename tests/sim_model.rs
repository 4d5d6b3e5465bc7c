//! Register-level behaviour of the virtual STM32F103 (RM0008 / PM0075 / ARMv7-M),
//! exercised through probe-rs memory accesses.

use probe_rs::{CoreStatus, MemoryInterface, Session};
use stdbg::sim::Sim;

mod sim_support;
use sim_support::{
    FLASH_AR, FLASH_CR, FLASH_KEYR, FLASH_OBR, FLASH_SR, FLASH_WRPR, KEY1, KEY2, TIMEOUT, attach,
    fresh,
};

const PGERR: u32 = 1 << 2;
const EOP: u32 = 1 << 5;

fn setup() -> (Sim, Session) {
    let sim = fresh();
    let session = attach(&sim).unwrap();
    (sim, session)
}

/// A write followed by a flush; true when either reports an error.
fn write_err(
    core: &mut probe_rs::Core,
    f: impl FnOnce(&mut probe_rs::Core) -> Result<(), probe_rs::Error>,
) -> bool {
    f(core).and_then(|_| core.flush()).is_err()
}

#[test]
fn blank_chip_is_locked_up_until_halted() {
    let (_sim, mut session) = setup();
    let mut core = session.core(0).unwrap();
    assert!(matches!(core.status().unwrap(), CoreStatus::LockedUp));
    core.halt(TIMEOUT).unwrap();
    let dhcsr = core.read_word_32(0xE000_EDF0).unwrap();
    assert_ne!(dhcsr & (1 << 17), 0, "S_HALT");
    assert_eq!(dhcsr & (1 << 19), 0, "S_LOCKUP cleared by the halt");
}

#[test]
fn identification_and_option_byte_registers() {
    let (_sim, mut session) = setup();
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(core.read_word_16(0x1FFF_F7E0).unwrap(), 64, "F_SIZE in KiB");
    assert_eq!(core.read_word_32(FLASH_OBR).unwrap(), 0x03FF_FFFC);
    assert_eq!(core.read_word_32(FLASH_WRPR).unwrap(), 0xFFFF_FFFF);
    assert_eq!(
        core.read_word_32(FLASH_CR).unwrap(),
        0x80,
        "LOCK after reset"
    );
    assert_eq!(
        core.read_word_16(0x1FFF_F800).unwrap(),
        0x5AA5,
        "RDP = 0xA5 / nRDP"
    );
    assert_eq!(core.read_word_32(0xE000_EF40).unwrap(), 0, "MVFR0: no FPU");
    assert_eq!(
        core.read_word_32(0xE00F_F000).unwrap(),
        0xFFF0_F003,
        "ROM table → SCS"
    );
    assert_eq!(
        core.read_word_32(0xE00F_FFF4).unwrap(),
        0x10,
        "ROM table CIDR1: class 1"
    );
    assert_eq!(
        core.read_word_32(0xE000_2000).unwrap() & 0xFF0,
        0x260,
        "FPB: 6 code + 2 literal"
    );
    assert_eq!(
        core.read_word_32(0xE000_1000).unwrap() >> 28,
        4,
        "DWT NUMCOMP"
    );
    // DHCSR without DBGKEY is ignored; AIRCR without VECTKEY is ignored.
    core.write_word_32(0xE000_EDF0, 0x0000_0000).unwrap();
    assert_ne!(
        core.read_word_32(0xE000_EDF0).unwrap() & 1,
        0,
        "C_DEBUGEN kept"
    );
    core.write_word_32(0xE000_ED0C, 0x0000_0004).unwrap();
    assert_eq!(
        core.read_word_32(0xE000_EDF0).unwrap() & (1 << 25),
        0,
        "no reset without VECTKEY"
    );
    // AFIO_MAPR.SWJ_CFG is write-only.
    core.write_word_32(0x4002_1018, 1).unwrap(); // AFIOEN
    core.write_word_32(0x4001_0004, 0x0200_0000).unwrap();
    assert_eq!(core.read_word_32(0x4001_0004).unwrap(), 0);
}

#[test]
fn fpec_program_erase_and_pgerr() {
    let (sim, mut session) = setup();
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    // Flash writes without PG: bus error. Writes are posted and batched (as with
    // a real CMSIS-DAP probe), so the FAULT shows up at the flush.
    assert!(write_err(&mut core, |c| c.write_word_16(0x0800_0400, 0x1234)));
    core.write_word_32(FLASH_KEYR, KEY1).unwrap();
    core.write_word_32(FLASH_KEYR, KEY2).unwrap();
    assert_eq!(core.read_word_32(FLASH_CR).unwrap() & 0x80, 0, "unlocked");
    core.write_word_32(FLASH_CR, 1).unwrap(); // PG
    core.write_word_16(0x0800_0400, 0x1234).unwrap();
    assert_eq!(core.read_word_32(FLASH_SR).unwrap() & (EOP | PGERR), EOP);
    core.write_word_32(FLASH_SR, EOP).unwrap();
    assert_eq!(
        core.read_word_32(FLASH_SR).unwrap() & EOP,
        0,
        "EOP is write-1-to-clear"
    );
    // Programming a non-erased half-word: PGERR, cell unchanged.
    core.write_word_16(0x0800_0400, 0x0001).unwrap();
    assert_ne!(core.read_word_32(FLASH_SR).unwrap() & PGERR, 0);
    assert_eq!(core.read_word_16(0x0800_0400).unwrap(), 0x1234);
    assert_eq!(sim.read_nonvolatile(0x0800_0400, 2), vec![0x34, 0x12]);
    core.write_word_32(FLASH_SR, PGERR).unwrap();
    // Word and byte writes while PG: bus error.
    assert!(write_err(&mut core, |c| c.write_word_32(0x0800_0404, 0)));
    assert!(write_err(&mut core, |c| c.write_word_8(0x0800_0406, 0)));
    // Page erase (1 KiB) through PER + AR + STRT.
    core.write_word_32(FLASH_CR, 1 << 1).unwrap();
    core.write_word_32(FLASH_AR, 0x0800_0400).unwrap();
    core.write_word_32(FLASH_CR, (1 << 1) | (1 << 6)).unwrap();
    assert_ne!(core.read_word_32(FLASH_SR).unwrap() & EOP, 0);
    assert_eq!(core.read_word_16(0x0800_0400).unwrap(), 0xFFFF);
    core.write_word_32(FLASH_CR, 0x80).unwrap(); // LOCK
    assert_eq!(core.read_word_32(FLASH_CR).unwrap() & 0x80, 0x80);
}

#[test]
fn wrong_key_keeps_fpec_locked_until_reset() {
    let (_sim, mut session) = setup();
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    // Wrong first key: bus error, and the FPEC stays locked even for the right sequence.
    assert!(write_err(&mut core, |c| c.write_word_32(FLASH_KEYR, 0x1234_5678)));
    core.write_word_32(FLASH_KEYR, KEY1).ok();
    core.write_word_32(FLASH_KEYR, KEY2).ok();
    assert_eq!(
        core.read_word_32(FLASH_CR).unwrap() & 0x80,
        0x80,
        "still locked"
    );
    core.write_word_32(FLASH_CR, 1).unwrap();
    assert_eq!(
        core.read_word_32(FLASH_CR).unwrap(),
        0x80,
        "CR is write-protected"
    );
    // A system reset ends the blocked state.
    core.reset_and_halt(TIMEOUT).unwrap();
    core.write_word_32(FLASH_KEYR, KEY1).unwrap();
    core.write_word_32(FLASH_KEYR, KEY2).unwrap();
    assert_eq!(
        core.read_word_32(FLASH_CR).unwrap() & 0x80,
        0,
        "unlocked after reset"
    );
}

#[test]
fn gpio_clock_gating_and_bsrr() {
    let (sim, mut session) = setup();
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    core.write_word_32(0x4001_100C, 1 << 13).unwrap();
    assert_eq!(sim.gpio_odr('C'), 0, "IOPC clock off: write ignored");
    core.write_word_32(0x4002_1018, 1 << 4).unwrap(); // IOPCEN
    core.write_word_32(0x4001_1010, 1 << 13).unwrap(); // BSRR set
    assert_eq!(sim.gpio_odr('c'), 1 << 13);
    core.write_word_32(0x4001_1010, 1 << 29).unwrap(); // BSRR reset
    assert_eq!(sim.gpio_odr('C'), 0);
}
