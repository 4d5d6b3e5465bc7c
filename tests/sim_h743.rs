//! The virtual STM32H743ZI (its own SoC, `src/sim/stm32h7/`) through
//! probe-rs's real ARM stack: attach as "STM32H743ZITx" (probe-rs's STM32H7
//! sequence programs DBGMCU_CR through AP2), DBGMCU_IDCODE through the CPU's
//! AP0 and through AP2 on APB-D, the ROM tables of AP0 and AP2 as probe-rs
//! walks them, the RAMs of RM0433 §2.3.2, h743-fpu.elf run from DTCM, and
//! the flash controller (RM0433 §4): probe-rs's own flash algorithm and
//! direct register programming in both banks.

use std::time::Duration;

use probe_rs::architecture::arm::FullyQualifiedApAddress;
use probe_rs::architecture::arm::memory::PeripheralType;
use probe_rs::flashing::DownloadOptions;
use probe_rs::{MemoryInterface, RegisterId, Session};
use stdbg::sim::{ChipModel, Sim};

mod sim_support;
use sim_support::{KEY1, KEY2, TIMEOUT, firmware, pattern, sim_of};

/// Bank 1's and bank 2's registers (RM0433 §4.9: bank 2 at +0x100).
const BANK1: u64 = 0x5200_2000;
const BANK2: u64 = 0x5200_2100;
const KEYR: u64 = 0x04;
const CR: u64 = 0x0C;
const SR: u64 = 0x10;
const CR_LOCK: u32 = 1 << 0;
const CR_PG: u32 = 1 << 1;
const CR_SER: u32 = 1 << 2;
const CR_START: u32 = 1 << 7;
/// SRx.BSY, WBNE, QW and the error flags WRPERR..OPERR (RM0433 §4.9.5).
const SR_BUSY: u32 = 0b111;
const SR_EOP: u32 = 1 << 16;
const SR_ERRORS: u32 = 0x7E << 17;

fn attach(sim: &Sim) -> Session {
    probe_rs::probe::Probe::from_specific_probe(Box::new(sim.probe()))
        .attach("STM32H743ZITx", probe_rs::Permissions::default())
        .expect("attach as STM32H743ZITx")
}

#[test]
fn attach_and_dbgmcu_through_ap0_and_ap2() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        assert_eq!(core.read_word_32(0x5C00_1000).unwrap(), 0x2003_6450);
        // probe-rs's debug_device_unlock: DBGSLEEP/STOP/STBY D1 and D2,
        // TRACECLKEN, D1DBGCKEN, D3DBGCKEN (RM0433 §60.5.8).
        assert_eq!(core.read_word_32(0x5C00_1004).unwrap(), 0x0070_003F);
    }
    let iface = session.get_arm_interface().unwrap();
    let ap2 = FullyQualifiedApAddress::v1_with_default_dp(2);
    let mut mem = iface.memory_interface(&ap2).unwrap();
    assert_eq!(mem.read_word_32(0xE00E_1000).unwrap(), 0x2003_6450);
    mem.write_word_32(0xE00E_1054, 1 << 18).unwrap();
    drop(mem);
    let mut core = session.core(0).unwrap();
    assert_eq!(
        core.read_word_32(0x5C00_1054).unwrap(),
        1 << 18,
        "DBGMCU_APB4FZ1.WDGLSD1 written through AP2, read through AP0"
    );
}

#[test]
fn probe_rs_walks_the_rom_tables_of_ap0_and_ap2() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    let components = session
        .get_arm_components(probe_rs::architecture::arm::dp::DpAddress::Default)
        .unwrap();
    let found = |t: PeripheralType| -> Vec<u64> {
        components
            .iter()
            .flat_map(|c| c.iter())
            .filter(|c| c.component.id().peripheral_id().is_of_type(t))
            .map(|c| c.component.id().component_address())
            .collect()
    };
    assert_eq!(found(PeripheralType::Scs), [0xE000_E000]);
    assert_eq!(found(PeripheralType::Dwt), [0xE000_1000]);
    assert_eq!(found(PeripheralType::Itm), [0xE000_0000]);
    assert_eq!(
        found(PeripheralType::TraceFunnel),
        [0xE00E_4000, 0xE00F_3000]
    );
    assert_eq!(found(PeripheralType::Tpiu), [0xE00F_5000]);
    assert_eq!(components.len(), 2, "AP0 and AP2 have ROM tables, AP1 none");
}

#[test]
fn dtcm_axi_sram_sram1_sram4_and_backup_sram() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    for (base, size) in [
        (0x2000_0000u64, 128 * 1024u64),
        (0x2400_0000, 512 * 1024),
        (0x3000_0000, 128 * 1024),
        (0x3002_0000, 128 * 1024),
        (0x3004_0000, 32 * 1024),
        (0x3800_0000, 64 * 1024),
        (0x3880_0000, 4 * 1024),
    ] {
        let last = base + size - 4;
        core.write_word_32(base, base as u32 ^ 0xA5A5_A5A5).unwrap();
        core.write_word_32(last, 0x1234_5678).unwrap();
        assert_eq!(core.read_word_32(base).unwrap(), base as u32 ^ 0xA5A5_A5A5);
        assert_eq!(core.read_word_32(last).unwrap(), 0x1234_5678);
    }
    // Past the end of each block of RAM: a bus error (SRAM1-3 are contiguous).
    for end in [
        0x2002_0000u64,
        0x2408_0000,
        0x3004_8000,
        0x3801_0000,
        0x3880_1000,
    ] {
        assert!(core.read_word_32(end).is_err(), "{end:#x} is not RAM");
    }
    let block: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    core.write_8(0x2400_1000, &block).unwrap();
    let mut back = vec![0u8; 4096];
    core.read_8(0x2400_1000, &mut back).unwrap();
    assert_eq!(back, block);
}

#[test]
fn usart3_is_the_vcp_and_rcc_starts_on_hsi() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    assert_eq!(ChipModel::Stm32h743zi.usarts(), ["usart3"]);
    assert!(sim.push_serial("usart3", b"x"));
    assert!(!sim.push_serial("usart1", b"x"));
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(
        core.read_word_32(0x5802_4400).unwrap(),
        0x0000_0025,
        "RCC_CR"
    );
    core.write_word_32(0x5802_44E8, 1 << 18).unwrap(); // RCC_APB1LENR.USART3EN
    assert_eq!(
        core.read_word_32(0x4000_481C).unwrap(),
        0xC0,
        "USART3_ISR: TXE, TC"
    );
    core.write_word_32(0x5802_44E0, 1 << 3).unwrap(); // RCC_AHB4ENR.GPIODEN
    core.write_word_32(0x5802_0C18, 1 << 8).unwrap();
    assert_eq!(sim.gpio_odr('D'), 1 << 8);
}

#[test]
fn h743_fpu_elf_runs_from_dtcm_to_its_breakpoint() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(TIMEOUT).unwrap();
    let bytes = std::fs::read(firmware("h743-fpu.elf")).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    for ph in elf
        .program_headers
        .iter()
        .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD)
    {
        let data = &bytes[ph.p_offset as usize..(ph.p_offset + ph.p_filesz) as usize];
        core.write_8(ph.p_paddr, data).unwrap();
    }
    core.write_core_reg(RegisterId(15), 0x2000_0000u32).unwrap();
    core.write_core_reg(RegisterId(13), 0x2002_0000u32).unwrap();
    core.write_core_reg(RegisterId(16), 0x0100_0000u32).unwrap();
    core.run().unwrap();
    sim.run_for(Duration::from_millis(200));
    core.wait_for_core_halted(Duration::from_secs(5)).unwrap();
    let pc: u32 = core.read_core_reg(RegisterId(15)).unwrap();
    assert_eq!(pc, 0x2000_0030, "halted on bkpt #0 (done), not a fault");
    let mut r = [0u32; 0x1A0 / 4];
    core.read_32(0x2000_0100, &mut r).unwrap();
    assert_eq!(r[0], u32::from_le_bytes(*b"H743"));
    assert_eq!(&r[6..10], &[0x1011_0221, 0x1200_0011, 0x40, 0x411F_C271]);
    assert_eq!(&r[0x190 / 4..0x1A0 / 4], &[0; 4], "no fault");
}

#[test]
fn probe_rs_flash_algorithm_programs_and_verifies_both_banks() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    let low = pattern(60 * 1024, 0x1234_5678);
    let high = pattern(8 * 1024, 0x9E37_79B9);
    let mut loader = session.target().flash_loader();
    loader.add_data(0x0800_0000, &low).unwrap();
    loader.add_data(0x0810_0000, &high).unwrap();
    let mut opts = DownloadOptions::default();
    opts.verify = true;
    loader
        .commit(&mut session, opts)
        .expect("program + verify with probe-rs's stm32h7x_2048 algorithm");
    assert_eq!(sim.read_nonvolatile(0x0800_0000, low.len()), low);
    assert_eq!(sim.read_nonvolatile(0x0810_0000, high.len()), high);
    assert!(
        sim.read_nonvolatile(0x0800_0000 + low.len() as u32, 4096)
            .iter()
            .all(|&b| b == 0xFF),
        "the rest of sector 0 erased"
    );
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    let mut back = vec![0u8; high.len()];
    core.read_8(0x0810_0000, &mut back).unwrap();
    assert_eq!(back, high, "bank 2 read back through the AHB-AP");
    let mut back = vec![0u8; 4096];
    core.read_8(0x0800_E000, &mut back).unwrap();
    assert_eq!(
        back,
        low[0xE000..0xF000],
        "bank 1 read back through the AHB-AP"
    );
}

/// Polls SRx of `bank` until no operation is queued or running (virtual
/// time passes between the polls); returns SRx.
fn wait_idle(sim: &Sim, core: &mut probe_rs::Core, bank: u64) -> u32 {
    for _ in 0..5_000 {
        let sr = core.read_word_32(bank + SR).unwrap();
        if sr & SR_BUSY == 0 {
            return sr;
        }
        sim.run_for(Duration::from_millis(1));
    }
    panic!("SR at {bank:#x} stayed busy");
}

/// Unlocks `bank`, erases its sector `snb`, programs `data` (a multiple of
/// 32 bytes) at `addr` with PG, eight word stores per flash word, locks.
fn erase_and_program(
    sim: &Sim,
    core: &mut probe_rs::Core,
    bank: u64,
    snb: u32,
    addr: u64,
    data: &[u8],
) {
    assert_eq!(core.read_word_32(bank + CR).unwrap() & CR_LOCK, CR_LOCK);
    core.write_word_32(bank + KEYR, KEY1).unwrap();
    core.write_word_32(bank + KEYR, KEY2).unwrap();
    let cr = core.read_word_32(bank + CR).unwrap();
    assert_eq!(cr & CR_LOCK, 0, "unlocked");
    core.write_word_32(bank + CR, cr | CR_SER | (snb << 8))
        .unwrap();
    core.write_word_32(bank + CR, cr | CR_SER | (snb << 8) | CR_START)
        .unwrap();
    let sr = wait_idle(sim, core, bank);
    assert_eq!(
        sr & (SR_EOP | SR_ERRORS),
        SR_EOP,
        "sector erase: EOP, no error"
    );
    core.write_word_32(bank + 0x14, SR_EOP).unwrap(); // CCRx.CLR_EOP
    core.write_word_32(bank + CR, cr | CR_PG).unwrap();
    for (i, fw) in data.chunks(32).enumerate() {
        for (j, w) in fw.chunks(4).enumerate() {
            let v = u32::from_le_bytes(w.try_into().unwrap());
            core.write_word_32(addr + (i * 32 + j * 4) as u64, v)
                .unwrap();
        }
        let sr = wait_idle(sim, core, bank);
        assert_eq!(sr & SR_ERRORS, 0, "flash word {i}: no error (SR {sr:#x})");
    }
    core.write_word_32(bank + CR, cr | CR_LOCK).unwrap();
    assert_eq!(core.read_word_32(bank + CR).unwrap() & CR_LOCK, CR_LOCK);
}

#[test]
fn direct_register_programming_in_both_banks() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    let a = pattern(256, 0xC0FF_EE11);
    erase_and_program(&sim, &mut core, BANK1, 1, 0x0802_0000, &a);
    let b = pattern(96, 0x0BAD_F00D);
    erase_and_program(&sim, &mut core, BANK2, 3, 0x0816_0040, &b);
    let mut back = vec![0u8; 256];
    core.read_8(0x0802_0000, &mut back).unwrap();
    assert_eq!(back, a, "sector 1 of bank 1 through the AHB-AP");
    assert_eq!(sim.read_nonvolatile(0x0802_0000, 256), a);
    assert_eq!(sim.read_nonvolatile(0x0816_0040, 96), b);
    assert_eq!(sim.read_nonvolatile(0x0816_0000, 64), [0xFF; 64]);
    let mut back = vec![0u8; 96];
    core.read_8(0x0816_0040, &mut back).unwrap();
    assert_eq!(back, b, "sector 3 of bank 2 through the AHB-AP");
    // A store with PG clear (both banks locked again): PGSERR, flash unchanged.
    core.write_word_32(0x0802_0100, 0).unwrap();
    let sr = core.read_word_32(BANK1 + SR).unwrap();
    assert_eq!(sr & (1 << 18), 1 << 18, "PGSERR");
    assert_eq!(sim.read_nonvolatile(0x0802_0100, 4), [0xFF; 4]);
}
