//! Unit tests of the STM32H743 flash controller (`flash.rs`, `options.rs`):
//! one per rule of RM0433 §4 that the model implements.

use super::super::fault::{Fault, FaultSet};
use super::super::nvmem::NvMem;
use super::super::stm32l4::flash::{FlashCx, KEY1, KEY2, KeyError, OPTKEY1, OPTKEY2};
use super::super::time::Ps;
use super::flash::*;
use super::options::{FACTORY, OPT_WORDS, OptionRegs, factory_nv};

const MS: Ps = 1_000_000_000;
const US: Ps = 1_000_000;
const SIZE: usize = 2 * BANK_SIZE;
/// Bank register bases (offsets from 0x5200_2000).
const B1: u32 = 0x000;
const B2: u32 = 0x100;
const PG64: u32 = CR_PG | CR_PSIZE;

struct Rig {
    ctl: FlashCtl,
    nv: NvMem,
    faults: FaultSet,
    now: Ps,
    debug: bool,
}

impl Rig {
    fn new() -> Rig {
        let nv = factory_nv(SIZE);
        Rig {
            ctl: FlashCtl::after_reset(&nv),
            nv,
            faults: FaultSet::default(),
            now: 0,
            debug: false,
        }
    }

    fn cx(&mut self) -> (FlashCx<'_>, &mut FlashCtl) {
        (
            FlashCx {
                now: self.now,
                nv: &mut self.nv,
                faults: &self.faults,
                debug: self.debug,
            },
            &mut self.ctl,
        )
    }

    fn w(&mut self, off: u32, v: u32) -> Result<Outcome, KeyError> {
        let (mut cx, ctl) = self.cx();
        ctl.write(off, v, &mut cx)
    }

    fn r(&mut self, off: u32) -> u32 {
        self.ctl.read(off, self.now)
    }

    fn store(&mut self, off: usize, size: u32, v: u32) {
        let (mut cx, ctl) = self.cx();
        ctl.program(off, size, v, &mut cx);
    }

    /// Eight 32-bit stores of `words` to the flash word at `off`.
    fn store_word(&mut self, off: usize, words: [u32; 8]) {
        for (i, w) in words.into_iter().enumerate() {
            self.store(off + 4 * i, 4, w);
        }
    }

    fn unlock(&mut self, base: u32) {
        self.w(base + 0x04, KEY1).unwrap();
        self.w(base + 0x04, KEY2).unwrap();
        assert_eq!(self.r(base + 0x0C) & CR_LOCK, 0);
    }

    fn unlock_options(&mut self) {
        if self.r(0x18) & OPTCR_OPTLOCK == 0 {
            return; // a key written while unlocked would jam the options
        }
        self.w(0x08, OPTKEY1).unwrap();
        self.w(0x08, OPTKEY2).unwrap();
        assert_eq!(self.r(0x18) & OPTCR_OPTLOCK, 0);
    }

    /// OPTSTART with `reg` (a `_PRG` offset) set to `v`, then wait for OPT_BUSY to fall.
    fn program_option(&mut self, reg: u32, v: u32) {
        self.unlock_options();
        self.w(reg, v).unwrap();
        self.w(0x18, OPTCR_OPTSTART).unwrap();
        while let Some(t) = self.ctl.next_event() {
            self.now = t;
            self.ctl.settle(t);
        }
        assert_eq!(self.r(0x1C) & 1, 0);
    }

    fn pass(&mut self, ps: Ps) {
        self.now += ps;
    }

    fn flash(&self, off: usize, len: usize) -> &[u8] {
        &self.nv.flash[off..off + len]
    }
}

fn le(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

const DATA: [u32; 8] = [
    0x0302_0100,
    0x0706_0504,
    0x0B0A_0908,
    0x0F0E_0D0C,
    0x1312_1110,
    0x1716_1514,
    0x1B1A_1918,
    0x1F1E_1D1C,
];

#[test]
fn reset_values_of_both_banks_and_the_options() {
    let mut r = Rig::new();
    assert_eq!(r.r(0x00), 0x37);
    assert_eq!(r.r(0x100), 0x37, "ACR alias");
    assert_eq!(
        (r.r(0x0C), r.r(0x10C)),
        (0x31, 0x31),
        "CR1/CR2: LOCK, PSIZE x64"
    );
    assert_eq!((r.r(0x10), r.r(0x110)), (0, 0));
    assert_eq!((r.r(0x18), r.r(0x118)), (1, 1), "OPTCR: OPTLOCK");
    for base in [B1, B2] {
        assert_eq!(r.r(base + 0x1C), 0x0006_AAD0, "OPTSR_CUR");
        assert_eq!(r.r(base + 0x20), 0x0006_AAD0, "OPTSR_PRG");
        assert_eq!(r.r(base + 0x28), 0xFF, "PRAR_CUR");
        assert_eq!(r.r(base + 0x30), 0xFF, "SCAR_CUR");
        assert_eq!(r.r(base + 0x38), 0xFF, "WPSN_CUR");
        assert_eq!(r.r(base + 0x3C), 0xFF, "WPSN_PRG");
        assert_eq!(r.r(base + 0x40), 0x1FF0_0800, "BOOT_CURR");
        assert_eq!(r.r(base + 0x04), 0, "KEYR is write-only");
    }
    assert_eq!(r.ctl.rdp_level(), 0);
    assert!(r.ctl.flash_readable(true));
    assert_eq!(r.ctl.next_event(), None);
    assert!(!r.ctl.irq());
}

#[test]
fn bank_keys_unlock_one_bank_and_a_wrong_key_jams_it_until_reset() {
    let mut r = Rig::new();
    r.unlock(B1);
    assert_eq!(r.r(0x10C) & CR_LOCK, CR_LOCK, "bank 2 stays locked");
    // A KEYR1 write while unlocked is a wrong sequence too.
    assert_eq!(r.w(0x04, KEY1), Err(KeyError));
    assert_eq!(r.r(0x0C) & CR_LOCK, CR_LOCK);
    // Bank 2: wrong second key.
    r.w(0x104, KEY1).unwrap();
    assert_eq!(r.w(0x104, 0x1234_5678), Err(KeyError));
    assert_eq!(r.w(0x104, KEY1), Err(KeyError), "jammed until reset");
    assert_eq!(r.w(0x104, KEY2), Err(KeyError));
    assert_eq!(r.r(0x10C), 0x31);
    // A write to a locked CR is ignored.
    r.w(0x10C, PG64).unwrap();
    assert_eq!(r.r(0x10C), 0x31);
    // Reset: unlockable again.
    r.ctl = FlashCtl::after_reset(&r.nv);
    r.unlock(B2);
    // LOCK written by software locks again, and the keys work once more.
    r.w(0x10C, CR_LOCK).unwrap();
    assert_eq!(r.r(0x10C) & CR_LOCK, CR_LOCK);
    r.unlock(B2);
}

#[test]
fn option_keys_are_independent_of_the_bank_locks() {
    let mut r = Rig::new();
    r.unlock_options();
    assert_eq!(r.r(0x0C) & CR_LOCK, CR_LOCK, "bank 1 still locked");
    r.w(0x18, OPTCR_OPTLOCK).unwrap();
    assert_eq!(r.r(0x118), OPTCR_OPTLOCK, "locked again, seen at the alias");
    // Bank-2 alias of OPTKEYR; a wrong key jams the options.
    r.w(0x108, OPTKEY1).unwrap();
    assert_eq!(r.w(0x108, KEY2), Err(KeyError));
    assert_eq!(r.w(0x08, OPTKEY1), Err(KeyError));
    assert_eq!(r.r(0x18) & OPTCR_OPTLOCK, OPTCR_OPTLOCK);
    // A _PRG write while locked is ignored.
    r.w(0x20, 0).unwrap();
    assert_eq!(r.r(0x20), 0x0006_AAD0);
}

#[test]
fn a_flash_word_is_programmed_when_the_buffer_is_full() {
    let mut r = Rig::new();
    r.unlock(B1);
    r.w(0x0C, PG64).unwrap();
    r.store(0x40, 4, DATA[0]);
    assert_eq!(r.r(0x10), SR_WBNE, "one word in the buffer");
    assert_eq!(r.flash(0x40, 4), [0xFF; 4], "nothing programmed yet");
    for (i, w) in DATA.iter().enumerate().skip(1) {
        r.store(0x40 + 4 * i, 4, *w);
    }
    assert_eq!(r.r(0x10), SR_QW | SR_BSY, "buffer full: programming");
    assert_eq!(r.flash(0x40, 32), le(&DATA));
    r.pass(T_WORD_PS[3] - 1);
    assert_eq!(r.r(0x10), SR_QW | SR_BSY);
    r.pass(1);
    assert_eq!(r.r(0x10), SR_EOP);
    r.w(0x14, SR_EOP).unwrap();
    assert_eq!(r.r(0x10), 0, "CCR1 clears EOP");
    assert_eq!(r.w(0x0C, CR_LOCK), Ok(Outcome { persist: true }));
    assert!(r.nv.dirty);
}

#[test]
fn bank_2_takes_byte_stores_and_force_write() {
    let mut r = Rig::new();
    r.unlock(B2);
    r.w(0x10C, CR_PG | (1 << 4)).unwrap(); // PSIZE x16
    let off = BANK_SIZE + 0x20;
    for i in 0..5 {
        r.store(off + i, 1, 0xA0 + i as u32);
    }
    assert_eq!(r.r(0x110), SR_WBNE);
    assert_eq!(r.r(0x10), 0, "bank 1 untouched");
    r.w(0x10C, CR_PG | (1 << 4) | CR_FW).unwrap();
    assert_eq!(r.r(0x110), SR_QW | SR_BSY);
    assert_eq!(r.flash(off, 6), [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xFF]);
    assert_eq!(
        r.flash(off + 5, 27),
        [0xFF; 27],
        "bytes not written stay erased"
    );
    r.pass(T_WORD_PS[1]);
    assert_eq!(r.r(0x110), SR_EOP, "x16: 180 µs");
    // FW with an empty buffer does nothing.
    r.w(0x10C, CR_PG | CR_FW).unwrap();
    assert_eq!(r.r(0x110), SR_EOP);
}

#[test]
fn programming_a_programmed_word_is_and_wise() {
    let mut r = Rig::new();
    r.unlock(B1);
    r.w(0x0C, PG64).unwrap();
    r.store_word(0, [0xF0F0_F0F0; 8]);
    r.store_word(0, [0xFF00_FF00; 8]);
    assert_eq!(r.flash(0, 4), [0x00, 0xF0, 0x00, 0xF0]);
}

#[test]
fn strberr_on_a_byte_written_twice() {
    let mut r = Rig::new();
    r.unlock(B1);
    r.w(0x0C, PG64).unwrap();
    r.store(0x100, 4, 1);
    r.store(0x104, 4, 2);
    r.store(0x106, 2, 3);
    assert_eq!(r.r(0x10), SR_STRBERR, "buffer discarded, nothing else");
    r.pass(MS);
    assert_eq!(r.flash(0x100, 32), [0xFF; 32]);
    r.w(0x14, SR_STRBERR).unwrap();
    // A fresh buffer works.
    r.store_word(0x100, DATA);
    assert_eq!(r.r(0x10), SR_QW | SR_BSY);
    assert_eq!(r.flash(0x100, 32), le(&DATA));
}

#[test]
fn incerr_on_another_flash_word_before_the_buffer_is_full() {
    let mut r = Rig::new();
    r.unlock(B1);
    r.w(0x0C, PG64).unwrap();
    for i in 0..4 {
        r.store(0x200 + 4 * i, 4, 0);
    }
    r.store(0x220, 4, 0);
    assert_eq!(r.r(0x10), SR_INCERR);
    assert_eq!(r.flash(0x200, 64), [0xFF; 64]);
    r.w(0x14, SR_INCERR).unwrap();
    // A store crossing the flash-word boundary.
    r.store(0x21E, 4, 0);
    assert_eq!(r.r(0x10), SR_INCERR);
}

#[test]
fn pgserr_on_a_store_without_pg_and_on_start_with_data_in_the_buffer() {
    let mut r = Rig::new();
    r.store(0, 4, 0);
    assert_eq!(r.r(0x10), SR_PGSERR, "locked bank, PG clear");
    r.unlock(B1);
    r.w(0x14, SR_PGSERR).unwrap();
    r.store(0, 4, 0);
    assert_eq!(r.r(0x10), SR_PGSERR, "unlocked, PG clear");
    assert_eq!(r.flash(0, 4), [0xFF; 4]);
    r.w(0x14, SR_PGSERR).unwrap();
    // START of a sector erase while the buffer holds data.
    r.w(0x0C, PG64).unwrap();
    r.store(0, 4, 0);
    r.w(0x0C, CR_SER | CR_PSIZE | CR_START).unwrap();
    assert_eq!(r.r(0x10), SR_PGSERR, "PG dropped with data in the buffer");
    r.w(0x14, SR_PGSERR).unwrap();
    // SER and BER together.
    r.w(0x0C, CR_SER | CR_BER | CR_START).unwrap();
    assert_eq!(r.r(0x10), SR_PGSERR);
    assert_eq!(r.ctl.next_event(), None, "nothing started");
}

#[test]
fn wrperr_on_a_protected_sector_only() {
    let mut r = Rig::new();
    r.program_option(0x3C, 0xFE); // WPSN_PRG1R: sector 0 of bank 1 protected
    assert_eq!(r.r(0x38), 0xFE);
    r.unlock(B1);
    r.w(0x0C, PG64).unwrap();
    r.store_word(0x20, DATA);
    assert_eq!(r.r(0x10) & SR_WRPERR, SR_WRPERR);
    assert_eq!(r.r(0x10) & !SR_WRPERR, 0);
    assert_eq!(r.flash(0x20, 32), [0xFF; 32]);
    r.w(0x14, SR_WRPERR).unwrap();
    r.store_word(SECTOR_SIZE, DATA);
    assert_eq!(r.r(0x10), SR_QW | SR_BSY, "sector 1 is not protected");
    r.pass(MS);
    r.w(0x14, SR_EOP).unwrap();
    r.w(0x0C, CR_SER | CR_PSIZE | CR_START).unwrap(); // sector 0
    assert_eq!(r.r(0x10), SR_WRPERR);
    r.w(0x14, SR_WRPERR).unwrap();
    r.w(0x0C, CR_BER | CR_PSIZE | CR_START).unwrap();
    assert_eq!(r.r(0x10), SR_WRPERR, "bank erase with a protected sector");
    assert_eq!(r.flash(SECTOR_SIZE, 32), le(&DATA));
}

#[test]
fn sector_erase_takes_the_datasheet_time_by_psize() {
    let mut r = Rig::new();
    r.nv.flash[2 * SECTOR_SIZE..3 * SECTOR_SIZE + 16].fill(0x55);
    r.unlock(B1);
    r.w(0x0C, CR_SER | CR_PSIZE | (2 << 8)).unwrap();
    r.w(0x0C, CR_SER | CR_PSIZE | (2 << 8) | CR_START).unwrap();
    assert_eq!(r.r(0x10), SR_QW | SR_BSY);
    assert_eq!(r.r(0x0C) & CR_START, CR_START);
    assert!(
        r.flash(2 * SECTOR_SIZE, SECTOR_SIZE)
            .iter()
            .all(|b| *b == 0xFF)
    );
    assert_eq!(r.flash(3 * SECTOR_SIZE, 16), [0x55; 16], "sector 3 kept");
    assert_eq!(r.ctl.next_event(), Some(1000 * MS));
    r.pass(1000 * MS - 1);
    assert_eq!(r.r(0x10), SR_QW | SR_BSY);
    r.pass(1);
    assert_eq!(r.r(0x10), SR_EOP);
    assert_eq!(r.r(0x0C) & CR_START, 0);
    // x8 parallelism: 2 s.
    r.w(0x0C, CR_SER | (3 << 8) | CR_START).unwrap();
    assert_eq!(r.ctl.next_event(), Some(r.now + 2000 * MS));
    assert_eq!(r.flash(3 * SECTOR_SIZE, 16), [0xFF; 16]);
}

#[test]
fn bank_erase_clears_one_bank_only() {
    let mut r = Rig::new();
    r.nv.flash[0x10] = 0;
    r.nv.flash[BANK_SIZE + 0x10] = 0;
    r.nv.flash[SIZE - 1] = 0;
    r.unlock(B2);
    r.w(0x10C, CR_BER | CR_PSIZE | CR_START).unwrap();
    assert_eq!(
        (r.nv.flash[BANK_SIZE + 0x10], r.nv.flash[SIZE - 1]),
        (0xFF, 0xFF)
    );
    assert_eq!(r.nv.flash[0x10], 0, "bank 1 kept");
    assert_eq!(r.r(0x110), SR_QW | SR_BSY);
    assert_eq!(r.r(0x10), 0);
    r.pass(T_MASS_PS[3]);
    assert_eq!(r.r(0x110), SR_EOP);
}

#[test]
fn optcr_mer_erases_both_banks() {
    let mut r = Rig::new();
    r.nv.flash[0] = 0;
    r.nv.flash[SIZE - 1] = 0;
    r.w(0x18, OPTCR_MER).unwrap();
    assert_eq!(r.nv.flash[0], 0, "ignored while OPTLOCK is set");
    r.unlock_options();
    r.w(0x118, OPTCR_MER).unwrap();
    assert_eq!((r.nv.flash[0], r.nv.flash[SIZE - 1]), (0xFF, 0xFF));
    assert_eq!(r.r(0x18) & OPTCR_MER, OPTCR_MER);
    assert_eq!((r.r(0x10), r.r(0x110)), (SR_QW | SR_BSY, SR_QW | SR_BSY));
    r.pass(T_MASS_PS[3]);
    assert_eq!((r.r(0x10), r.r(0x110)), (SR_EOP, SR_EOP));
    assert_eq!(r.r(0x18) & OPTCR_MER, 0);
    assert_eq!(r.w(0x18, OPTCR_OPTLOCK), Ok(Outcome { persist: true }));
}

#[test]
fn rdp_zero_to_one_to_zero_with_the_regression_mass_erase() {
    let mut r = Rig::new();
    r.nv.flash[0x1234] = 0x42;
    r.nv.flash[BANK_SIZE + 0x1234] = 0x43;
    r.unlock_options();
    r.w(0x120, 0x0006_00D0).unwrap(); // OPTSR_PRG through the bank-2 alias: RDP 0x00
    assert_eq!(r.r(0x20), 0x0006_00D0);
    r.w(0x18, OPTCR_OPTSTART).unwrap();
    assert_eq!(r.r(0x1C), 0x0006_AAD1, "OPT_BUSY, old value still current");
    assert_eq!(r.nv.opt_words[0], 0x0006_00D0, "stored at once");
    r.pass(T_OPT_PS);
    assert_eq!(r.r(0x1C), 0x0006_00D0);
    assert_eq!(r.ctl.rdp_level(), 1);
    assert!(!r.ctl.flash_readable(true));
    assert!(r.ctl.flash_readable(false));
    assert_eq!(r.nv.flash[0x1234], 0x42, "level 0 → 1 erases nothing");
    // With a debugger: no programming at level 1.
    r.debug = true;
    r.unlock(B1);
    r.w(0x0C, PG64).unwrap();
    r.store(0, 4, 0);
    assert_eq!(r.r(0x10), SR_WRPERR);
    // Regression to level 0: both banks erased, OPT_BUSY for longer.
    r.w(0x20, 0x0006_AAD0).unwrap();
    r.w(0x18, OPTCR_OPTSTART).unwrap();
    assert_eq!(
        (r.nv.flash[0x1234], r.nv.flash[BANK_SIZE + 0x1234]),
        (0xFF, 0xFF)
    );
    r.pass(T_OPT_PS);
    assert_eq!(r.r(0x1C) & 1, 1, "the mass erase still runs");
    r.pass(T_MASS_PS[3]);
    assert_eq!(r.r(0x1C), 0x0006_AAD0);
    assert_eq!(r.ctl.rdp_level(), 0);
    assert_eq!(r.w(0x18, OPTCR_OPTLOCK), Ok(Outcome { persist: true }));
    // The next reset loads the stored options.
    assert_eq!(FlashCtl::after_reset(&r.nv).cur, r.ctl.cur);
}

#[test]
fn level_2_freezes_the_options_with_optchangeerr() {
    let mut r = Rig::new();
    r.program_option(0x20, 0x0006_CCD0);
    assert_eq!(r.ctl.rdp_level(), 2);
    r.w(0x20, 0x0006_AAD0).unwrap();
    r.w(0x18, OPTCR_OPTCHANGEERRIE | OPTCR_OPTSTART).unwrap();
    assert_eq!(r.r(0x1C), 0x4006_CCD0, "OPTCHANGEERR, nothing started");
    assert!(r.ctl.irq());
    r.w(0x24, 1 << 30).unwrap(); // OPTCCR.CLR_OPTCHANGEERR
    assert_eq!(r.r(0x1C), 0x0006_CCD0);
    assert!(!r.ctl.irq());
    assert_eq!(FlashCtl::after_reset(&r.nv).rdp_level(), 2, "permanent");
}

#[test]
fn wpsn_of_bank_2_through_the_bank_2_base() {
    let mut r = Rig::new();
    r.program_option(0x13C, 0x7E); // WPSN_PRG2R: sectors 0 and 7 of bank 2
    assert_eq!((r.r(0x138), r.r(0x38)), (0x7E, 0xFF));
    assert_eq!(r.nv.opt_words.len(), OPT_WORDS);
    assert_eq!(r.nv.opt_words[7], 0x7E);
    r.unlock(B2);
    r.w(0x10C, PG64).unwrap();
    r.store(SIZE - 32, 4, 0);
    assert_eq!(r.r(0x110), SR_WRPERR, "sector 7 of bank 2");
    assert_eq!(r.r(0x10), 0);
    // Reserved WPSN bits are not writable; the CUR register is read-only.
    r.unlock_options();
    r.w(0x13C, 0xFFFF_FF00).unwrap();
    r.w(0x138, 0).unwrap();
    assert_eq!((r.r(0x13C), r.r(0x138)), (0, 0x7E));
    assert_eq!(FlashCtl::after_reset(&r.nv).cur.words[7], 0x7E);
}

#[test]
fn programs_queue_behind_a_running_erase() {
    let mut r = Rig::new();
    r.unlock(B1);
    r.w(0x0C, CR_SER | CR_PSIZE | (1 << 8) | CR_START).unwrap();
    r.pass(10 * US);
    r.w(0x0C, PG64).unwrap();
    r.store_word(0, DATA);
    assert_eq!(r.ctl.next_event(), Some(1000 * MS), "the erase first");
    r.pass(1000 * MS - 10 * US);
    assert_eq!(
        r.r(0x10),
        SR_EOP | SR_QW | SR_BSY,
        "the erase ended, the word runs"
    );
    assert_eq!(r.r(0x0C) & CR_START, 0);
    assert_eq!(r.ctl.next_event(), Some(1000 * MS + T_WORD_PS[3]));
    r.pass(T_WORD_PS[3] - 10 * US);
    assert_eq!(r.r(0x10), SR_EOP | SR_QW | SR_BSY);
    r.pass(10 * US);
    assert_eq!(r.r(0x10), SR_EOP);
}

#[test]
fn eop_and_error_interrupts_follow_their_enable_bits() {
    let mut r = Rig::new();
    r.unlock(B1);
    r.w(0x0C, PG64 | SR_EOP).unwrap(); // EOPIE is bit 16 like EOP
    r.store_word(0, DATA);
    assert!(!r.ctl.irq());
    r.pass(MS);
    r.ctl.settle(r.now);
    assert!(r.ctl.irq());
    r.w(0x14, SR_EOP).unwrap();
    assert!(!r.ctl.irq());
    r.w(0x0C, CR_PSIZE).unwrap(); // PG clear: the next store is a PGSERR
    r.store(0, 4, 0);
    assert!(!r.ctl.irq(), "PGSERRIE clear");
    r.w(0x0C, CR_PSIZE | SR_PGSERR).unwrap();
    assert!(r.ctl.irq());
}

#[test]
fn the_program_fault_gives_operr_and_changes_nothing() {
    let mut r = Rig::new();
    r.faults.inject(Fault::FlashProgramError);
    r.unlock(B1);
    r.w(0x0C, PG64).unwrap();
    r.store_word(0, DATA);
    assert_eq!(r.r(0x10), SR_OPERR);
    assert_eq!(r.flash(0, 4), [0xFF; 4]);
}

#[test]
fn older_images_get_the_factory_options() {
    let nv = NvMem::blank(SIZE, [0xFF; 16]);
    assert_eq!(OptionRegs::from_nv(&nv), FACTORY);
    let mut old = nv.clone();
    old.fill_missing(&factory_nv(SIZE));
    assert_eq!(old.opt_words, FACTORY.words.to_vec());
    assert!(old.otp.is_empty(), "the H743 has no OTP area");
    assert_eq!(FlashCtl::after_reset(&nv).cur, FACTORY);
}
