//! Regression tests for image files (issue 13): reads without bound (/dev/zero), overlapping
//! parts refused without naming the file, and the flash left unchanged by every refusal.

mod common;

use std::path::Path;

use common::{assert_has, board_run, firmware, programmed_chip, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

/// The 64 KiB flash of the virtual chip stored in `storage`.
fn flash_of(storage: &Path) -> Vec<u8> {
    let sim = Sim::new(SimConfig {
        chip: ChipModel::Stm32f103c8,
        storage: Some(storage.to_path_buf()),
    })
    .unwrap();
    sim.read_nonvolatile(0x0800_0000, 64 << 10)
}

/// Runs `init` then `line` on a chip holding blinky; returns stderr after checking that the
/// line failed and the flash did not change.
fn refused_flash_unchanged(dir: &Path, line: &str) -> String {
    let storage = programmed_chip(dir, "f103-blinky.elf");
    let before = flash_of(&storage);
    let r = board_run(dir, &storage, &[], &["init", line]);
    assert_eq!(
        r.code, 1,
        "--- stdout\n{}\n--- stderr\n{}",
        r.stdout, r.stderr
    );
    assert!(
        flash_of(&storage) == before,
        "the refused '{line}' changed the flash"
    );
    r.stderr
}

#[test]
fn load_image_of_dev_zero_is_refused_at_the_memory_size() {
    let d = tempdir();
    let e = refused_flash_unchanged(d.path(), "load_image /dev/zero 0x20000000 bin");
    assert_has(
        &e,
        "'/dev/zero' is larger than 86016 bytes, more than the flash and RAM of STM32F103C8",
    );
    let e = refused_flash_unchanged(d.path(), "load_image /dev/zero 0x20000000 elf");
    assert_has(&e, "does not start with the ELF magic number");
    let e = refused_flash_unchanged(d.path(), "load_image /dev/zero 0x20000000 ihex");
    assert_has(&e, "does not start with a ':' record");
}

#[test]
fn program_and_verify_of_dev_zero_are_refused() {
    let d = tempdir();
    let e = refused_flash_unchanged(d.path(), "program /dev/zero 0x08000000");
    assert_has(&e, "'/dev/zero' is larger than");
    let e = refused_flash_unchanged(d.path(), "verify_image /dev/zero 0x08000000 bin");
    assert_has(&e, "'/dev/zero' is larger than");
    let e = refused_flash_unchanged(d.path(), "flash write_image erase /dev/zero 0x08000000 bin");
    assert_has(&e, "'/dev/zero' is larger than");
}

#[test]
fn flash_write_bank_of_dev_zero_is_refused() {
    let d = tempdir();
    let e = refused_flash_unchanged(d.path(), "flash write_bank 0 /dev/zero");
    assert_has(&e, "flash bank");
    let e = refused_flash_unchanged(d.path(), "flash verify_bank 0 /dev/zero");
    assert_has(&e, "flash bank");
}

#[test]
fn overlapping_hex_records_name_the_file_and_the_records() {
    let d = tempdir();
    std::fs::write(
        d.path().join("dup.hex"),
        ":020000040800F2\n:04000000AABBCCDDEE\n:04000000AABBCCDDEE\n:00000001FF\n",
    )
    .unwrap();
    let e = refused_flash_unchanged(d.path(), "program dup.hex verify");
    assert_has(
        &e,
        "'dup.hex': data block 0 at 0x08000000-0x08000003 and data block 1 at 0x08000000-0x08000003 overlap at 0x08000000",
    );
    assert_has(
        &e,
        "fix: the HEX file has records for the same addresses twice",
    );
    assert!(!e.contains("Adding data for addresses"), "{e}");
}

#[test]
fn overlapping_elf_segments_name_the_sections() {
    let d = tempdir();
    let mut elf = std::fs::read(firmware("f103-blinky.elf")).unwrap();
    // ELF32: e_phoff at 0x1c, e_phentsize at 0x2a, e_phnum at 0x2c; p_paddr at +12 of a header.
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let phoff = u32_at(&elf, 0x1c) as usize;
    let phsize = u16::from_le_bytes([elf[0x2a], elf[0x2b]]) as usize;
    let phnum = u16::from_le_bytes([elf[0x2c], elf[0x2d]]) as usize;
    let loads: Vec<usize> = (0..phnum)
        .map(|i| phoff + i * phsize)
        .filter(|&h| u32_at(&elf, h) == 1 && u32_at(&elf, h + 16) > 0)
        .collect();
    assert!(
        loads.len() >= 2,
        "blinky has two PT_LOAD segments with data"
    );
    let first_paddr = u32_at(&elf, loads[0] + 12);
    elf[loads[1] + 12..loads[1] + 16].copy_from_slice(&first_paddr.to_le_bytes());
    std::fs::write(d.path().join("overlap.elf"), &elf).unwrap();
    let e = refused_flash_unchanged(d.path(), "program overlap.elf verify");
    assert_has(&e, "'overlap.elf': PT_LOAD segment");
    assert_has(&e, "overlap at 0x08000000");
    assert_has(
        &e,
        "check the linker script's MEMORY regions and AT> placements",
    );
}
