//! Unit tests of the stm32l4x-family flash controller: one per rule of
//! RM0351 §3.3–§3.7 / RM0440 §3.3–§3.7 that `flash.rs` models.

use super::super::options::{OPTR_DBANK_G4, Variant};
use super::*;

pub(super) const MS: Ps = 1_000_000_000;
pub(super) const US: Ps = 1_000_000;

pub(super) struct Rig {
    pub(super) ctl: FlashCtl,
    pub(super) nv: NvMem,
    pub(super) faults: FaultSet,
    pub(super) now: Ps,
    pub(super) debug: bool,
}

impl Rig {
    pub(super) fn new(variant: Variant) -> Rig {
        let size = match variant {
            Variant::L476 => 1024 * 1024,
            Variant::G474 => 512 * 1024,
        };
        let mut nv = NvMem::blank(size, [0xFF; 16]);
        nv.opt_words = variant.factory().to_words();
        nv.otp = vec![0xFF; OTP_SIZE];
        Rig {
            ctl: FlashCtl::after_reset(variant, &nv),
            nv,
            faults: FaultSet::default(),
            now: 0,
            debug: false,
        }
    }

    pub(super) fn cx(&mut self) -> (FlashCx<'_>, &mut FlashCtl) {
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

    pub(super) fn w(&mut self, off: u32, v: u32) -> Result<Outcome, KeyError> {
        let (mut cx, ctl) = self.cx();
        ctl.write(off, v, &mut cx)
    }

    pub(super) fn r(&mut self, off: u32) -> u32 {
        self.ctl.read(off, self.now)
    }

    pub(super) fn store(&mut self, off: usize, size: u32, v: u32) {
        let (mut cx, ctl) = self.cx();
        ctl.program(Target::Main, off, size, v, &mut cx);
    }

    pub(super) fn otp_store(&mut self, off: usize, v: u32) {
        let (mut cx, ctl) = self.cx();
        ctl.program(Target::Otp, off, 4, v, &mut cx);
    }

    pub(super) fn unlock(&mut self) {
        self.w(0x08, KEY1).unwrap();
        self.w(0x08, KEY2).unwrap();
        assert_eq!(self.r(0x14) & CR_LOCK, 0);
    }

    pub(super) fn unlock_options(&mut self) {
        if self.r(0x14) & CR_LOCK != 0 {
            self.unlock();
        }
        self.w(0x0C, OPTKEY1).unwrap();
        self.w(0x0C, OPTKEY2).unwrap();
        assert_eq!(self.r(0x14) & CR_OPTLOCK, 0);
    }

    /// Lets the running operation end.
    pub(super) fn wait(&mut self) {
        self.now += 100 * MS;
        assert_eq!(self.r(0x10) & SR_BSY, 0);
    }

    pub(super) fn dword(&mut self, off: usize, lo: u32, hi: u32) {
        self.store(off, 4, lo);
        self.store(off + 4, 4, hi);
        self.wait();
    }

    pub(super) fn errors(&mut self) -> u32 {
        self.r(0x10) & !SR_EOP
    }

    /// OPTSTRT then OBL_LAUNCH (the SoC's reset reloads with `after_reset`).
    pub(super) fn program_options_and_reload(&mut self) {
        self.w(0x14, CR_OPTSTRT).unwrap();
        self.wait();
        assert!(self.w(0x14, CR_OBL_LAUNCH).unwrap().obl_launch);
        self.ctl = FlashCtl::after_reset(self.ctl.variant, &self.nv);
    }
}

#[test]
fn reset_values() {
    let mut l4 = Rig::new(Variant::L476);
    assert_eq!(l4.r(0x00), 0x0000_0600);
    assert_eq!(l4.r(0x10), 0);
    assert_eq!(l4.r(0x14), 0xC000_0000);
    assert_eq!(l4.r(0x20), 0xFFEF_F8AA);
    assert_eq!(
        l4.r(0x2C),
        0xFF00_FFFF,
        "WRP1AR: STRT 0xFF > END 0: no area"
    );
    assert_eq!(l4.r(0x70), 0, "no SEC1R on the L4");
    let mut g4 = Rig::new(Variant::G474);
    assert_eq!(g4.r(0x00), 0x0004_0600, "DBG_SWEN set");
    assert_eq!(
        g4.r(0x20) & OPTR_DBANK_G4,
        OPTR_DBANK_G4,
        "factory: dual bank"
    );
    assert_eq!(g4.r(0x2C), 0xFF80_FFFF);
    assert_eq!(g4.r(0x70), 0xFFFE_FF00);
}

#[test]
fn key_sequence_unlocks_and_a_wrong_key_locks_until_reset() {
    let mut r = Rig::new(Variant::L476);
    r.unlock();
    r.w(0x14, CR_LOCK).unwrap();
    assert_ne!(r.r(0x14) & CR_LOCK, 0);
    r.unlock(); // a second sequence after LOCK works again
    assert_eq!(r.w(0x08, KEY1), Err(KeyError), "KEYR while unlocked");
    assert_ne!(r.r(0x14) & CR_LOCK, 0, "locked up");
    assert_eq!(r.w(0x08, KEY1), Err(KeyError));
    assert_eq!(r.w(0x08, KEY2), Err(KeyError));
    assert_ne!(r.r(0x14) & CR_LOCK, 0);
    r.w(0x14, 0).unwrap();
    assert_ne!(r.r(0x14) & CR_LOCK, 0, "CR is write-protected");
    r.ctl = FlashCtl::after_reset(Variant::L476, &r.nv);
    r.unlock();

    let mut r = Rig::new(Variant::G474);
    assert_eq!(r.w(0x08, KEY2), Err(KeyError), "keys in the wrong order");
    assert_eq!(r.w(0x08, KEY1), Err(KeyError));
    assert_ne!(r.r(0x14) & CR_LOCK, 0);
}

#[test]
fn option_keys_need_lock_clear_and_a_wrong_key_locks() {
    let mut r = Rig::new(Variant::G474);
    r.w(0x0C, OPTKEY1).unwrap();
    r.w(0x0C, OPTKEY2).unwrap();
    assert_ne!(r.r(0x14) & CR_OPTLOCK, 0, "ignored while LOCK is set");
    r.unlock_options();
    r.w(0x20, 0x1234_5678).unwrap();
    assert_eq!(r.r(0x20) & 0xFF, 0x78, "OPTR writable");
    r.w(0x14, CR_OPTLOCK).unwrap();
    r.w(0x20, 0xFFEF_F8AA).unwrap();
    assert_eq!(r.r(0x20) & 0xFF, 0x78, "OPTR write-protected again");
    assert_eq!(r.w(0x0C, OPTKEY2), Err(KeyError));
    assert_eq!(r.w(0x0C, OPTKEY1), Err(KeyError), "blocked until reset");
    assert_ne!(r.r(0x14) & CR_OPTLOCK, 0);
    assert_eq!(r.r(0x14) & CR_LOCK, 0, "CR itself stays unlocked");
}

#[test]
fn double_word_programming_and_bsy_timing() {
    let mut r = Rig::new(Variant::L476);
    r.unlock();
    r.w(0x14, CR_PG | CR_EOPIE).unwrap();
    r.store(0x100, 4, 0x1122_3344);
    assert_eq!(r.nv.flash[0x100], 0xFF, "first word only latched");
    assert_eq!(r.r(0x10) & SR_BSY, 0);
    r.store(0x104, 4, 0x5566_7788);
    assert_eq!(
        &r.nv.flash[0x100..0x108],
        &[0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55]
    );
    assert_eq!(r.r(0x10), SR_BSY, "busy, EOP not yet");
    r.now += T_PROG_PS - 1;
    assert_eq!(r.r(0x10), SR_BSY);
    assert_eq!(r.ctl.next_event(), Some(T_PROG_PS));
    r.now += 1;
    assert_eq!(r.r(0x10), SR_EOP, "done after 81.69 us");
    assert!(r.ctl.irq());
    r.w(0x10, SR_EOP).unwrap();
    assert_eq!(r.r(0x10), 0);
    // Without EOPIE no EOP.
    r.w(0x14, CR_PG).unwrap();
    r.dword(0x108, 1, 2);
    assert_eq!(r.r(0x10), 0);
    // All-zero data may overwrite programmed cells (PROGERR exception).
    r.dword(0x100, 0, 0);
    assert_eq!(r.errors(), 0);
    assert_eq!(&r.nv.flash[0x100..0x108], &[0; 8]);
}

#[test]
fn each_programming_error_on_its_misuse() {
    let mut r = Rig::new(Variant::G474);
    r.unlock();
    // PGSERR: store with PG clear.
    r.store(0x0, 4, 0);
    assert_eq!(r.errors(), SR_PGSERR);
    // A stale error blocks the next programming with PGSERR, nothing written.
    r.w(0x14, CR_PG).unwrap();
    r.dword(0x0, 0x1234, 0x5678);
    assert_eq!(r.nv.flash[0], 0xFF);
    r.w(0x10, 0xFFFF).unwrap();
    // PG together with PER: PGSERR.
    r.w(0x14, CR_PG | CR_PER).unwrap();
    r.store(0x0, 4, 0);
    assert_eq!(r.errors(), SR_PGSERR);
    r.w(0x10, 0xFFFF).unwrap();
    // SIZERR: half-word and byte stores.
    r.w(0x14, CR_PG).unwrap();
    r.store(0x0, 2, 0x1234);
    assert_eq!(r.errors(), SR_SIZERR);
    r.w(0x10, 0xFFFF).unwrap();
    r.store(0x1, 1, 0x12);
    assert_eq!(r.errors(), SR_SIZERR);
    r.w(0x10, 0xFFFF).unwrap();
    // PGAERR: first word not aligned to a double word.
    r.store(0x4, 4, 0x1234);
    assert_eq!(r.errors(), SR_PGAERR);
    r.w(0x10, 0xFFFF).unwrap();
    // PGAERR: second word in another double word.
    r.store(0x8, 4, 0x1234);
    r.store(0x14, 4, 0x5678);
    assert_eq!(r.errors(), SR_PGAERR);
    assert!(r.nv.flash[0x8..0x18].iter().all(|b| *b == 0xFF));
    r.w(0x10, 0xFFFF).unwrap();
    // PROGERR: the double word is not erased.
    r.dword(0x20, 0x1111_1111, 0x2222_2222);
    assert_eq!(r.errors(), 0);
    r.dword(0x20, 0x0000_0001, 0x0000_0000);
    assert_eq!(r.errors(), SR_PROGERR);
    assert_eq!(r.nv.flash[0x20], 0x11, "unchanged");
    r.w(0x10, 0xFFFF).unwrap();
    // OPERR accompanies an error with ERRIE.
    r.w(0x14, CR_PG | CR_ERRIE).unwrap();
    r.store(0x2, 2, 0);
    assert_eq!(r.errors(), SR_SIZERR | SR_OPERR);
    assert!(r.ctl.irq());
    // Locked: PGSERR.
    r.w(0x10, 0xFFFF).unwrap();
    r.w(0x14, CR_LOCK).unwrap();
    r.store(0x30, 4, 0);
    assert_eq!(r.errors() & SR_PGSERR, SR_PGSERR);
}

#[test]
fn write_protection_areas_give_wrperr() {
    let mut r = Rig::new(Variant::L476);
    r.unlock_options();
    // Bank 1 pages 2..=3, bank 2 pages 0..=0.
    r.w(0x2C, 0x0003_0002).unwrap();
    r.w(0x4C, 0x0000_0000).unwrap();
    r.program_options_and_reload();
    assert_eq!(r.r(0x2C) & 0x00FF_00FF, 0x0003_0002, "loaded");
    r.unlock();
    r.w(0x14, CR_PG).unwrap();
    r.dword(2 * 2048, 0, 0);
    assert_eq!(r.errors(), SR_WRPERR);
    r.w(0x10, 0xFFFF).unwrap();
    r.dword(4 * 2048, 0, 0);
    assert_eq!(r.errors(), 0, "page 4 is free");
    r.dword(512 * 1024 + 8, 0, 0);
    assert_eq!(r.errors(), SR_WRPERR, "bank 2 page 0");
    r.w(0x10, 0xFFFF).unwrap();
    // Page erase of a protected page, and mass erase of a bank with an area.
    r.w(0x14, CR_PER | (3 << 3) | CR_STRT).unwrap();
    assert_eq!(r.errors(), SR_WRPERR);
    r.w(0x10, 0xFFFF).unwrap();
    r.w(0x14, CR_MER1 | CR_STRT).unwrap();
    assert_eq!(r.errors(), SR_WRPERR);
    assert_eq!(r.nv.flash[4 * 2048], 0, "nothing erased");
}

#[test]
fn page_erase_in_both_banks_of_the_l476() {
    let mut r = Rig::new(Variant::L476);
    r.nv.flash.fill(0);
    r.unlock();
    r.w(0x14, CR_PER | (5 << 3) | CR_STRT).unwrap();
    assert_ne!(r.r(0x14) & CR_STRT, 0, "STRT reads 1 while BSY");
    assert_eq!(r.r(0x10) & SR_BSY, SR_BSY);
    r.now += T_PAGE_ERASE_PS;
    assert_eq!(r.r(0x10) & SR_BSY, 0, "22.02 ms");
    assert_eq!(r.r(0x14) & CR_STRT, 0);
    let p = |n: usize| n * 2048..(n + 1) * 2048;
    assert!(r.nv.flash[p(5)].iter().all(|b| *b == 0xFF));
    assert_eq!(r.nv.flash[p(4).end - 1], 0);
    assert_eq!(r.nv.flash[p(6).start], 0);
    r.w(0x14, CR_PER | (255 << 3) | CR_BKER | CR_STRT).unwrap();
    r.wait();
    assert!(
        r.nv.flash[p(511)].iter().all(|b| *b == 0xFF),
        "bank 2 page 255"
    );
    assert_eq!(r.nv.flash[p(255).start], 0);
    // PER with MER1: PGSERR.
    r.w(0x14, CR_PER | CR_MER1 | CR_STRT).unwrap();
    assert_eq!(r.errors(), SR_PGSERR);
}

#[test]
fn g474_page_erase_in_both_dbank_modes() {
    let mut r = Rig::new(Variant::G474);
    r.nv.flash.fill(0);
    r.unlock();
    // DBANK = 1: 2 KiB pages, BKER selects bank 2 at 256 KiB.
    r.w(0x14, CR_PER | (1 << 3) | CR_BKER | CR_STRT).unwrap();
    r.wait();
    let b2 = 256 * 1024;
    assert!(r.nv.flash[b2 + 2048..b2 + 4096].iter().all(|b| *b == 0xFF));
    assert_eq!(r.nv.flash[b2 + 4096], 0);
    assert_eq!(r.nv.flash[2048], 0);
    // DBANK = 0: single bank of 4 KiB pages, BKER ignored.
    r.nv.flash.fill(0);
    r.unlock_options();
    let optr = r.r(0x20);
    r.w(0x20, optr & !OPTR_DBANK_G4).unwrap();
    r.program_options_and_reload();
    r.unlock();
    r.w(0x14, CR_PER | (1 << 3) | CR_BKER | CR_STRT).unwrap();
    r.wait();
    assert!(r.nv.flash[4096..8192].iter().all(|b| *b == 0xFF));
    assert_eq!(r.nv.flash[4095], 0);
    assert_eq!(r.nv.flash[8192], 0);
    assert_eq!(r.nv.flash[b2 + 4096], 0, "no bank 2");
    r.w(0x14, CR_PER | (127 << 3) | CR_STRT).unwrap();
    r.wait();
    assert!(r.nv.flash[512 * 1024 - 4096..].iter().all(|b| *b == 0xFF));
}

#[test]
fn mass_erase_per_bank_and_both() {
    let mut r = Rig::new(Variant::L476);
    r.nv.flash.fill(0);
    r.unlock();
    r.w(0x14, CR_MER2).unwrap();
    r.w(0x14, CR_MER2 | CR_STRT).unwrap();
    r.now += T_MASS_ERASE_PS;
    assert_eq!(r.r(0x10) & SR_BSY, 0);
    assert_eq!(r.nv.flash[512 * 1024 - 1], 0);
    assert!(r.nv.flash[512 * 1024..].iter().all(|b| *b == 0xFF));
    r.nv.flash.fill(0);
    r.w(0x14, CR_MER1 | CR_MER2 | CR_STRT).unwrap();
    r.wait();
    assert!(r.nv.flash.iter().all(|b| *b == 0xFF));
    // G4 single bank: MER1 erases everything.
    let mut g = Rig::new(Variant::G474);
    g.unlock_options();
    let optr = g.r(0x20);
    g.w(0x20, optr & !OPTR_DBANK_G4).unwrap();
    g.program_options_and_reload();
    g.nv.flash.fill(0);
    g.unlock();
    g.w(0x14, CR_MER1 | CR_STRT).unwrap();
    g.wait();
    assert!(g.nv.flash.iter().all(|b| *b == 0xFF));
}

#[test]
fn optstrt_persists_and_takes_effect_at_the_option_byte_load() {
    let mut r = Rig::new(Variant::L476);
    r.unlock_options();
    r.w(0x20, 0xFFEF_F8BB).unwrap(); // RDP level 1
    assert_eq!(r.ctl.rdp_level(), 0, "not before OPTSTRT and a load");
    r.w(0x14, CR_OPTSTRT).unwrap();
    assert_eq!(r.r(0x10) & SR_BSY, SR_BSY);
    assert_eq!(r.nv.opt_words[0], 0xFFEF_F8BB, "in the option-byte area");
    assert_eq!(
        r.ctl.option_area_read(0x1FFF_7800, &r.nv),
        Some(0xFFEF_F8BB)
    );
    assert_eq!(
        r.ctl.option_area_read(0x1FFF_7804, &r.nv),
        Some(!0xFFEF_F8BB)
    );
    r.wait();
    assert_eq!(r.ctl.rdp_level(), 0);
    assert!(
        r.w(0x14, CR_LOCK).unwrap().persist,
        "changed while unlocked"
    );
    // OBL_LAUNCH cannot be written while OPTLOCK is set.
    r.unlock();
    assert!(!r.w(0x14, CR_OBL_LAUNCH).unwrap().obl_launch);
    r.w(0x0C, OPTKEY1).unwrap();
    r.w(0x0C, OPTKEY2).unwrap();
    assert!(r.w(0x14, CR_OBL_LAUNCH).unwrap().obl_launch);
    r.ctl = FlashCtl::after_reset(Variant::L476, &r.nv);
    assert_eq!(r.ctl.rdp_level(), 1);
    assert!(r.ctl.flash_readable(false));
    assert!(
        !r.ctl.flash_readable(true),
        "debugger attached: no flash access"
    );
}

#[test]
fn rdp_level1_with_debugger_blocks_program_and_erase_and_regression_mass_erases() {
    let mut r = Rig::new(Variant::G474);
    r.nv.opt_words[0] = 0xFFEF_F800; // level 1
    r.ctl = FlashCtl::after_reset(Variant::G474, &r.nv);
    r.nv.flash.fill(0x5A);
    r.nv.otp[0..8].fill(0x11);
    r.debug = true;
    r.unlock();
    r.w(0x14, CR_PG).unwrap();
    r.store(0, 4, 0);
    assert_eq!(r.errors(), SR_WRPERR);
    r.store(4, 4, 0);
    assert_eq!(
        r.errors(),
        SR_WRPERR | SR_PGSERR,
        "G4: a stale WRPERR blocks"
    );
    r.w(0x10, 0xFFFF).unwrap();
    r.w(0x14, CR_PER | CR_STRT).unwrap();
    assert_eq!(r.errors(), SR_WRPERR);
    assert_eq!(r.nv.flash[0], 0x5A);
    r.w(0x10, 0xFFFF).unwrap();
    r.w(0x14, 0).unwrap();
    // Regression 1 → 0: the whole main flash is erased, OTP kept.
    r.w(0x0C, OPTKEY1).unwrap();
    r.w(0x0C, OPTKEY2).unwrap();
    r.w(0x20, 0xFFEF_F8AA).unwrap();
    r.w(0x14, CR_OPTSTRT).unwrap();
    assert!(r.nv.flash.iter().all(|b| *b == 0xFF));
    assert_eq!(r.nv.otp[0], 0x11);
    r.program_options_and_reload();
    assert_eq!(r.ctl.rdp_level(), 0);
    assert!(r.ctl.flash_readable(true));
}

#[test]
fn regression_keeps_pcrop_pages_when_pcrop_rdp_is_clear() {
    let mut r = Rig::new(Variant::L476);
    let mut o = Variant::L476.factory();
    o.optr = 0xFFEF_F811; // level 1
    o.pcrop1sr = 0xFFFF_0000 | (4096 / 8); // page 2
    o.pcrop1er = 0x7FFF_0000 | (4096 / 8 + 1);
    r.nv.opt_words = o.to_words();
    r.ctl = FlashCtl::after_reset(Variant::L476, &r.nv);
    r.nv.flash.fill(0x5A);
    r.unlock_options();
    r.w(0x20, 0xFFEF_F8AA).unwrap();
    r.w(0x14, CR_OPTSTRT).unwrap();
    assert!(r.nv.flash[..4096].iter().all(|b| *b == 0xFF));
    assert!(
        r.nv.flash[4096..6144].iter().all(|b| *b == 0x5A),
        "PCROP page kept"
    );
    assert!(r.nv.flash[6144..].iter().all(|b| *b == 0xFF));
    // With PCROP_RDP set the PCROP area goes too.
    let mut r2 = Rig::new(Variant::L476);
    o.pcrop1er |= PCROP_RDP;
    r2.nv.opt_words = o.to_words();
    r2.ctl = FlashCtl::after_reset(Variant::L476, &r2.nv);
    r2.nv.flash.fill(0x5A);
    r2.unlock_options();
    r2.w(0x20, 0xFFEF_F8AA).unwrap();
    r2.w(0x14, CR_OPTSTRT).unwrap();
    assert!(r2.nv.flash.iter().all(|b| *b == 0xFF));
}

#[test]
fn level2_freezes_the_option_bytes() {
    let mut r = Rig::new(Variant::L476);
    r.nv.opt_words[0] = 0xFFEF_F8CC;
    r.ctl = FlashCtl::after_reset(Variant::L476, &r.nv);
    assert_eq!(r.ctl.rdp_level(), 2);
    r.unlock_options();
    r.w(0x20, 0xFFEF_F8AA).unwrap();
    r.w(0x14, CR_OPTSTRT).unwrap();
    assert_eq!(r.nv.opt_words[0], 0xFFEF_F8CC);
}

#[test]
fn otp_programs_like_flash_and_never_erases() {
    let mut r = Rig::new(Variant::L476);
    r.unlock();
    r.w(0x14, CR_PG).unwrap();
    r.otp_store(0x10, 0xDEAD_BEEF);
    r.otp_store(0x14, 0x0BAD_F00D);
    r.wait();
    assert_eq!(&r.nv.otp[0x10..0x14], &0xDEAD_BEEFu32.to_le_bytes());
    r.otp_store(0x10, 1);
    r.otp_store(0x14, 0);
    assert_eq!(r.errors(), SR_PROGERR, "not erased");
    r.w(0x10, 0xFFFF).unwrap();
    r.w(0x14, CR_MER1 | CR_MER2 | CR_STRT).unwrap();
    r.wait();
    assert_eq!(
        &r.nv.otp[0x10..0x14],
        &0xDEAD_BEEFu32.to_le_bytes(),
        "mass erase keeps OTP"
    );
}

#[test]
fn operation_started_while_busy_is_queued() {
    let mut r = Rig::new(Variant::L476);
    r.unlock();
    r.w(0x14, CR_PG).unwrap();
    r.store(0, 4, 1);
    r.store(4, 4, 2);
    r.store(8, 4, 3);
    r.store(12, 4, 4);
    assert_eq!(r.ctl.next_event(), Some(2 * T_PROG_PS));
    r.now = T_PROG_PS + US;
    assert_eq!(r.r(0x10) & SR_BSY, SR_BSY);
    r.now = 2 * T_PROG_PS;
    assert_eq!(r.r(0x10) & SR_BSY, 0);
}
