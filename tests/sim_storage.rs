//! Non-volatile storage of the virtual STM32F103 (flash + option bytes on disk).

use std::path::Path;

use probe_rs::MemoryInterface;
use stdbg::sim::{ChipModel, Sim, SimConfig, SimError};

mod sim_support;
use sim_support::{attach, download, firmware};

fn sim_on(path: &Path, chip: ChipModel) -> Result<Sim, SimError> {
    Sim::new(SimConfig {
        chip,
        storage: Some(path.to_owned()),
    })
}

#[test]
fn flash_survives_dropping_the_sim() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f103.nv");
    let elf = firmware("f103-blinky.elf");
    let programmed = {
        let sim = sim_on(&file, ChipModel::Stm32f103c8).unwrap();
        let mut session = attach(&sim).unwrap();
        download(&mut session, &elf).unwrap();
        // Saved when the flash algorithm locked the FPEC again.
        assert!(file.exists());
        sim.read_nonvolatile(0x0800_0000, 512)
        // session and sim dropped here: the CPU thread stops, storage is flushed
    };
    assert_ne!(programmed, vec![0xFF; 512]);

    let sim = sim_on(&file, ChipModel::Stm32f103c8).unwrap();
    assert_eq!(sim.read_nonvolatile(0x0800_0000, 512), programmed);
    // The chip boots the stored firmware: not locked up, vectors readable.
    let mut session = attach(&sim).unwrap();
    let mut core = session.core(0).unwrap();
    core.halt(std::time::Duration::from_millis(500)).unwrap();
    let mut buf = vec![0u8; 512];
    core.read(0x0800_0000, &mut buf).unwrap();
    assert_eq!(buf, programmed);
    sim.flush_storage().unwrap();
}

#[test]
fn corrupt_or_foreign_storage_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.nv");
    std::fs::write(&junk, b"this is not a flash image").unwrap();
    let err = sim_on(&junk, ChipModel::Stm32f103c8).unwrap_err();
    assert!(matches!(err, SimError::StorageCorrupt { .. }), "{err}");
    assert!(err.to_string().contains("delete it"), "{err}");

    // A valid file for the 64 KiB part, opened as the 128 KiB part.
    let c8 = dir.path().join("c8.nv");
    sim_on(&c8, ChipModel::Stm32f103c8)
        .unwrap()
        .flush_storage()
        .unwrap();
    {
        // Make it dirty so that it is written: program one half-word via the FPEC.
        let sim = sim_on(&c8, ChipModel::Stm32f103c8).unwrap();
        let mut session = attach(&sim).unwrap();
        let mut core = session.core(0).unwrap();
        core.halt(std::time::Duration::from_millis(500)).unwrap();
        core.write_word_32(0x4002_2004, 0x4567_0123).unwrap();
        core.write_word_32(0x4002_2004, 0xCDEF_89AB).unwrap();
        core.write_word_32(0x4002_2010, 1).unwrap();
        core.write_word_16(0x0800_0000, 0xABCD).unwrap();
        core.write_word_32(0x4002_2010, 0x80).unwrap();
        core.flush().unwrap();
    }
    assert!(c8.exists());
    let err = sim_on(&c8, ChipModel::Stm32f103cb).unwrap_err();
    assert!(matches!(err, SimError::StorageWrongChip { .. }), "{err}");

    // Truncated file: reported, not a panic.
    let data = std::fs::read(&c8).unwrap();
    std::fs::write(&c8, &data[..data.len() / 2]).unwrap();
    let err = sim_on(&c8, ChipModel::Stm32f103c8).unwrap_err();
    assert!(matches!(err, SimError::StorageCorrupt { .. }), "{err}");
}

#[test]
fn chip_model_names() {
    assert_eq!(
        ChipModel::from_name("STM32F103C8"),
        Some(ChipModel::Stm32f103c8)
    );
    assert_eq!(
        ChipModel::from_name("STM32F103C8Tx"),
        Some(ChipModel::Stm32f103c8)
    );
    assert_eq!(
        ChipModel::from_name("stm32f103cb"),
        Some(ChipModel::Stm32f103cb)
    );
    assert_eq!(
        ChipModel::from_name("STM32F103CBT6"),
        Some(ChipModel::Stm32f103cb)
    );
    assert_eq!(ChipModel::from_name("STM32F103C"), None);
    assert_eq!(ChipModel::from_name("STM32F103C8X"), None);
    assert_eq!(ChipModel::Stm32f103cb.probe_rs_target_name(), "STM32F103CB");
    assert_eq!(ChipModel::Stm32f103c8.flash_size(), 65536);
    assert_eq!(ChipModel::Stm32f103cb.flash_size(), 131072);
    assert_eq!(ChipModel::Stm32f103cb.ram_size(), 20 * 1024);
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Sim>();
    send::<stdbg::sim::SimProbe>();
}

#[test]
fn flush_without_changes_creates_a_blank_image() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blank.nv");
    let sim = sim_on(&file, ChipModel::Stm32f103cb).unwrap();
    sim.flush_storage().unwrap();
    drop(sim);
    let sim = sim_on(&file, ChipModel::Stm32f103cb).unwrap();
    assert_eq!(sim.read_nonvolatile(0x0801_FFF0, 16), vec![0xFF; 16]);
    assert_eq!(sim.read_nonvolatile(0x1FFF_F800, 2), vec![0xA5, 0x5A]);
}
