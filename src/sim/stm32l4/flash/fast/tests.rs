//! Unit tests of fast programming (RM0351 §3.3.7): one per rule `fast.rs`
//! models.

use super::super::super::options::Variant;
use super::super::tests::{MS, Rig, US};
use super::super::*;
use super::{ROW_BYTES, T_FAST_GAP_PS, T_FAST_ROW_PS};

/// The two words of double word `i` of a test pattern.
fn pattern(i: usize) -> (u32, u32) {
    let i = i as u32;
    (0x1000_0000 | (i * 0x0101), 0x2000_0000 | (i * 0x1010))
}

/// Unlocked, FSTPG (and `extra`) set, the error flags clear.
fn fast_rig(variant: Variant, extra: u32) -> Rig {
    let mut r = Rig::new(variant);
    r.unlock();
    r.w(0x14, CR_FSTPG | extra).unwrap();
    r
}

/// Double word `i` of the row at `row`, its two stores `step` apart.
fn dword_at(r: &mut Rig, row: usize, i: usize, step: Ps) {
    let (lo, hi) = pattern(i);
    r.store(row + 8 * i, 4, lo);
    r.now += step;
    r.store(row + 8 * i + 4, 4, hi);
}

fn erased(r: &Rig, range: std::ops::Range<usize>) -> bool {
    r.nv.flash[range].iter().all(|b| *b == 0xFF)
}

#[test]
fn a_row_at_cpu_speed_programs_256_bytes_then_eop() {
    for variant in [Variant::L476, Variant::G474] {
        let mut r = fast_rig(variant, CR_EOPIE);
        let row = 3 * ROW_BYTES;
        let t0 = r.now;
        dword_at(&mut r, row, 0, 250_000);
        assert_eq!(
            r.r(0x10),
            SR_BSY,
            "{variant:?}: BSY from the first double word"
        );
        for i in 1..32 {
            r.now += 500_000; // a few CPU cycles between double words
            dword_at(&mut r, row, i, 250_000);
        }
        let mut want = Vec::new();
        for i in 0..32 {
            let (lo, hi) = pattern(i);
            want.extend_from_slice(&lo.to_le_bytes());
            want.extend_from_slice(&hi.to_le_bytes());
        }
        assert_eq!(&r.nv.flash[row..row + ROW_BYTES], &want[..], "{variant:?}");
        assert!(erased(&r, row + ROW_BYTES..row + 2 * ROW_BYTES));
        assert_eq!(r.ctl.next_event(), Some(t0 + 250_000 + T_FAST_ROW_PS));
        r.now = t0 + 250_000 + T_FAST_ROW_PS - 1;
        assert_eq!(r.r(0x10), SR_BSY, "{variant:?}: 1.91 ms per row");
        r.now += 1;
        assert_eq!(r.r(0x10), SR_EOP, "{variant:?}: EOP, no error");
        assert_eq!(r.ctl.next_event(), None);
    }
}

#[test]
fn a_gap_longer_than_20_us_is_a_data_miss() {
    let mut r = fast_rig(Variant::L476, CR_EOPIE);
    dword_at(&mut r, 0, 0, US);
    r.now += 19 * US;
    dword_at(&mut r, 0, 1, US);
    let last = r.now;
    assert_eq!(r.ctl.next_event(), Some(last + T_FAST_GAP_PS + 1));
    r.now = last + T_FAST_GAP_PS;
    assert_eq!(r.r(0x10), SR_BSY, "20 us is still in time");
    r.now += 1;
    assert_eq!(
        r.r(0x10),
        SR_MISERR | SR_FASTERR,
        "interrupted, BSY clear, no EOP"
    );
    assert_eq!(r.ctl.next_event(), None);
    assert_eq!(r.nv.flash[0..4], pattern(0).0.to_le_bytes(), "kept");
    assert_eq!(r.nv.flash[12..16], pattern(1).1.to_le_bytes(), "kept");
    assert!(erased(&r, 16..ROW_BYTES));
    // The late double word meets the pending error: a sequence error.
    dword_at(&mut r, 0, 2, US);
    assert_eq!(r.r(0x10), SR_MISERR | SR_FASTERR | SR_PGSERR);
    assert!(erased(&r, 16..ROW_BYTES), "stopped");

    // With ERRIE the miss is an interrupt (OPERR), raised at the deadline.
    let mut r = fast_rig(Variant::G474, CR_ERRIE);
    dword_at(&mut r, 0, 0, US);
    r.now += 5 * MS;
    assert_eq!(r.r(0x10), SR_MISERR | SR_FASTERR | SR_OPERR);
    assert!(r.ctl.irq());
}

#[test]
fn a_double_word_out_of_order_or_outside_the_row_is_pgaerr() {
    let mut r = fast_rig(Variant::L476, 0);
    dword_at(&mut r, 0, 0, US);
    r.store(16, 4, 0); // skips double word 1
    assert_eq!(r.errors(), SR_PGAERR | SR_FASTERR);
    assert_eq!(r.r(0x10) & SR_BSY, 0, "BSY falls on the error");
    assert_eq!(r.nv.flash[0..4], pattern(0).0.to_le_bytes());
    assert!(erased(&r, 8..ROW_BYTES));

    // The first double word not at a row boundary.
    let mut r = fast_rig(Variant::G474, 0);
    r.store(ROW_BYTES + 8, 4, 0);
    assert_eq!(r.errors(), SR_PGAERR | SR_FASTERR);

    // The second word in another double word.
    let mut r = fast_rig(Variant::G474, 0);
    r.store(0, 4, 0);
    r.store(12, 4, 0);
    assert_eq!(r.errors(), SR_PGAERR | SR_FASTERR);
    assert!(erased(&r, 0..ROW_BYTES));

    // Past the row's last double word: a new row must start at its boundary.
    let mut r = fast_rig(Variant::L476, 0);
    for i in 0..32 {
        dword_at(&mut r, 0, i, US);
    }
    r.now += 3 * MS;
    assert_eq!(r.errors(), 0);
    r.store(ROW_BYTES + 8, 4, 0);
    assert_eq!(r.errors(), SR_PGAERR | SR_FASTERR);
}

#[test]
fn a_byte_or_half_word_store_is_sizerr() {
    let mut r = fast_rig(Variant::L476, 0);
    dword_at(&mut r, 0, 0, US);
    r.store(8, 2, 0x1234);
    assert_eq!(r.errors(), SR_SIZERR | SR_FASTERR);
    assert_eq!(r.r(0x10) & SR_BSY, 0);
    assert!(erased(&r, 8..ROW_BYTES));
    let mut r = fast_rig(Variant::G474, 0);
    r.store(0, 1, 0x12);
    assert_eq!(r.errors(), SR_SIZERR | SR_FASTERR);
}

#[test]
fn a_write_protected_row_is_wrperr_and_rdp_with_a_debugger_too() {
    let mut r = Rig::new(Variant::L476);
    r.unlock_options();
    r.w(0x2C, 0x0002_0002).unwrap(); // WRP1A: bank 1 page 2
    r.program_options_and_reload();
    r.unlock();
    r.w(0x14, CR_FSTPG).unwrap();
    r.store(2 * 2048, 4, 0);
    assert_eq!(r.errors(), SR_WRPERR | SR_FASTERR);
    assert!(erased(&r, 2 * 2048..3 * 2048));
    r.w(0x10, 0xFFFF).unwrap();
    dword_at(&mut r, 3 * 2048, 0, US);
    assert_eq!(r.r(0x10), SR_BSY, "page 3 is free: the row runs");

    let mut r = fast_rig(Variant::G474, 0);
    r.ctl.loaded.optr = (r.ctl.loaded.optr & !0xFF) | 0xBB; // RDP level 1
    r.debug = true;
    r.store(0, 4, 0);
    assert_eq!(r.errors(), SR_WRPERR | SR_FASTERR);
}

#[test]
fn sequence_errors_are_pgserr_alone() {
    // FSTPG with PG, PER or MER1.
    for extra in [CR_PG, CR_PER, CR_MER1] {
        let mut r = fast_rig(Variant::L476, extra);
        r.store(0, 4, 0);
        assert_eq!(r.errors(), SR_PGSERR, "FSTPG | {extra:#x}");
    }
    // STRT for an erase while FSTPG is set.
    let mut r = fast_rig(Variant::G474, CR_MER1 | CR_STRT);
    assert_eq!(r.errors(), SR_PGSERR);
    assert_eq!(r.r(0x10) & SR_BSY, 0, "no erase");
    // A pending error flag (here from the erase above) blocks the row.
    r.w(0x14, CR_FSTPG).unwrap();
    dword_at(&mut r, 0, 0, US);
    assert_eq!(r.errors(), SR_PGSERR);
    assert!(erased(&r, 0..8));
    // The OTP cannot be fast-programmed.
    let mut r = fast_rig(Variant::L476, 0);
    r.otp_store(0, 0);
    assert_eq!(r.errors(), SR_PGSERR);
    assert_eq!(r.nv.otp[0], 0xFF);
}

#[test]
fn a_row_not_erased_is_progerr() {
    let mut r = fast_rig(Variant::L476, 0);
    r.nv.flash[ROW_BYTES + 16] = 0x7F;
    dword_at(&mut r, ROW_BYTES, 0, US);
    dword_at(&mut r, ROW_BYTES, 1, US);
    dword_at(&mut r, ROW_BYTES, 2, US);
    assert_eq!(r.errors(), SR_PROGERR);
    assert_eq!(r.r(0x10) & SR_BSY, 0);
    assert_eq!(r.nv.flash[ROW_BYTES + 16], 0x7F, "unchanged");
    assert_eq!(
        r.nv.flash[ROW_BYTES + 8],
        pattern(1).0 as u8,
        "before: kept"
    );
}
