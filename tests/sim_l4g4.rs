//! The virtual STM32G474RE and STM32L476RG driven through probe-rs: its
//! flash algorithm (the normal `program` path) and direct register
//! programming through the AHB-AP as OpenOCD's `stm32l4x` driver does it
//! (RM0351 §3.3.7, RM0440 §3.3.7), fast programming of a row (FSTPG) from
//! the debugger and from a RAM program, option bytes with OBL_LAUNCH, RDP
//! regression, the OTP, and SWD lost when firmware takes PA13/PA14.

use probe_rs::flashing::DownloadOptions;
use probe_rs::probe::Probe;
use probe_rs::{MemoryInterface, Permissions, RegisterId, Session};
use stdbg::sim::{ChipModel, Sim};

mod sim_support;
use sim_support::{TIMEOUT, assemble, sim_of};

const FLASH: u64 = 0x0800_0000;
const ACR: u64 = 0x4002_2000;
const KEYR: u64 = 0x4002_2008;
const OPTKEYR: u64 = 0x4002_200C;
const SR: u64 = 0x4002_2010;
const CR: u64 = 0x4002_2014;
const OPTR: u64 = 0x4002_2020;
const WRP1AR: u64 = 0x4002_202C;
const RCC_CSR: u64 = 0x4002_1094;
const OTP: u64 = 0x1FFF_7000;

const SR_BSY: u32 = 1 << 16;
const SR_EOP: u32 = 1;
const SR_PGSERR: u32 = 1 << 7;
const SR_MISERR: u32 = 1 << 8;
const SR_FASTERR: u32 = 1 << 9;
/// PROGERR … FASTERR, OPERR (OpenOCD's FLASH_ERROR mask, stm32l4x.h).
const SR_ERRORS: u32 = 0x3FA;
const CR_PG: u32 = 1;
const CR_PER: u32 = 2;
const CR_BKER: u32 = 1 << 11;
const CR_STRT: u32 = 1 << 16;
const CR_FSTPG: u32 = 1 << 18;
const CR_EOPIE: u32 = 1 << 24;
const CR_OPTSTRT: u32 = 1 << 17;
const CR_OBL_LAUNCH: u32 = 1 << 27;
const CR_OPTLOCK: u32 = 1 << 30;
const CR_LOCK: u32 = 1 << 31;

fn attach(sim: &Sim) -> Session {
    let target = match sim.chip() {
        ChipModel::Stm32g474re => "STM32G474RETx",
        ChipModel::Stm32l476rg => "STM32L476RGTx",
        c => panic!("{c:?}"),
    };
    Probe::from_specific_probe(Box::new(sim.probe()))
        .attach(target, Permissions::default())
        .unwrap_or_else(|e| panic!("attach as {target}: {e}"))
}

/// A 60 KiB pseudo-random image (a 32-bit LCG), so that every byte matters.
fn image(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn read_back(session: &mut Session, addr: u64, len: usize) -> Vec<u8> {
    let mut core = session.core(0).unwrap();
    let mut back = vec![0u8; len];
    core.read_8(addr, &mut back).unwrap();
    back
}

fn program_with_algorithm(model: ChipModel, addr: u64) {
    let sim = sim_of(model);
    let mut session = attach(&sim);
    let data = image(0x1234_5678 ^ addr as u32, 60 * 1024);
    let mut loader = session.target().flash_loader();
    loader.add_data(addr, &data).unwrap();
    let mut opts = DownloadOptions::default();
    opts.verify = true;
    loader
        .commit(&mut session, opts)
        .unwrap_or_else(|e| panic!("{model:?}: probe-rs flash algorithm: {e}"));
    let back = read_back(&mut session, addr, data.len());
    assert!(back == data, "{model:?}: read back differs");
    // The flash content is what the model holds (not a RAM copy).
    assert_eq!(
        sim.read_nonvolatile(addr as u32, 16),
        data[..16].to_vec(),
        "{model:?}"
    );
    let mut core = session.core(0).unwrap();
    assert_ne!(
        core.read_word_32(CR).unwrap() & CR_LOCK,
        0,
        "the algorithm's UnInit locked the controller"
    );
}

#[test]
fn g474_probe_rs_algorithm_programs_and_verifies_60_kib() {
    program_with_algorithm(ChipModel::Stm32g474re, FLASH);
}

#[test]
fn l476_probe_rs_algorithm_programs_and_verifies_60_kib_in_bank_2() {
    // Bank 2 of the L476 starts at 0x0808_0000 (RM0351 §3.3.1); the
    // algorithm sets BKER from the address.
    program_with_algorithm(ChipModel::Stm32l476rg, 0x0808_0000);
}

#[test]
fn l476_probe_rs_algorithm_programs_bank_1() {
    program_with_algorithm(ChipModel::Stm32l476rg, FLASH);
}

fn wait_not_busy(core: &mut probe_rs::Core) -> u32 {
    for _ in 0..10_000 {
        let sr = core.read_word_32(SR).unwrap();
        if sr & SR_BSY == 0 {
            return sr;
        }
    }
    panic!("BSY never cleared");
}

fn unlock(core: &mut probe_rs::Core) {
    // OpenOCD reads CR first: KEYR written while unlocked is a bus error.
    if core.read_word_32(CR).unwrap() & CR_LOCK != 0 {
        core.write_word_32(KEYR, 0x4567_0123).unwrap();
        core.write_word_32(KEYR, 0xCDEF_89AB).unwrap();
    }
    assert_eq!(core.read_word_32(CR).unwrap() & CR_LOCK, 0);
}

fn unlock_options(core: &mut probe_rs::Core) {
    unlock(core);
    if core.read_word_32(CR).unwrap() & CR_OPTLOCK != 0 {
        core.write_word_32(OPTKEYR, 0x0819_2A3B).unwrap();
        core.write_word_32(OPTKEYR, 0x4C5D_6E7F).unwrap();
    }
    assert_eq!(core.read_word_32(CR).unwrap() & CR_OPTLOCK, 0);
}

/// Page erase (one CR write, as stm32l4x.c l.1134), then double words with
/// PG through the AHB-AP, BSY polled and SR checked after each.
fn program_direct(core: &mut probe_rs::Core, bank2: bool, page: u32, addr: u64, data: &[u8]) {
    unlock(core);
    core.write_word_32(SR, 0xFFFF).unwrap();
    let bker = if bank2 { CR_BKER } else { 0 };
    let page_size = 2048;
    for p in 0..(data.len() as u32).div_ceil(page_size) {
        core.write_word_32(CR, CR_PER | CR_STRT | ((page + p) << 3) | bker)
            .unwrap();
        let sr = wait_not_busy(core);
        assert_eq!(sr & SR_ERRORS, 0, "erase SR {sr:#x}");
    }
    core.write_word_32(CR, CR_PG).unwrap();
    for (i, dw) in data.chunks(8).enumerate() {
        let lo = u32::from_le_bytes(dw[..4].try_into().unwrap());
        let hi = u32::from_le_bytes(dw[4..].try_into().unwrap());
        core.write_32(addr + 8 * i as u64, &[lo, hi]).unwrap();
        let sr = wait_not_busy(core);
        assert_eq!(sr & SR_ERRORS, 0, "program SR {sr:#x} at dword {i}");
    }
    core.write_word_32(CR, CR_LOCK).unwrap();
}

fn direct_register_programming(model: ChipModel, bank2: bool, addr: u64, page: u32) {
    let sim = sim_of(model);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    let data = image(0xBEEF ^ addr as u32, 60 * 1024);
    let t0 = sim.virtual_time();
    program_direct(&mut core, bank2, page, addr, &data);
    let took = sim.virtual_time() - t0;
    // 30 page erases of 22.02 ms at least (virtual time, DS11789/DS12288).
    assert!(took.as_millis() >= 30 * 22, "{model:?}: {took:?}");
    let mut back = vec![0u8; data.len()];
    core.read_8(addr, &mut back).unwrap();
    assert!(back == data, "{model:?}: read back differs");
}

#[test]
fn g474_direct_register_programming_60_kib_bank_2() {
    // DBANK = 1 (factory): bank 2 at 0x0804_0000, 2 KiB pages.
    direct_register_programming(ChipModel::Stm32g474re, true, 0x0804_0000, 0);
}

#[test]
fn l476_direct_register_programming_60_kib() {
    direct_register_programming(ChipModel::Stm32l476rg, false, FLASH + 0x800, 1);
}

#[test]
fn misuse_through_the_debugger_raises_the_rm_flags() {
    let sim = sim_of(ChipModel::Stm32l476rg);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    // A wrong key: bus error, and CR stays locked until reset.
    // (probe-rs posts writes: the fault shows at the flush.)
    let wrong = core
        .write_word_32(KEYR, 0x1111_1111)
        .and_then(|_| core.flush());
    assert!(wrong.is_err(), "a wrong key must be a bus error");
    let again = core
        .write_word_32(KEYR, 0x4567_0123)
        .and_then(|_| core.flush());
    assert!(again.is_err(), "KEYR stays blocked until reset");
    assert_ne!(core.read_word_32(CR).unwrap() & CR_LOCK, 0);
    drop(core);
    drop(session);
    let sim = sim_of(ChipModel::Stm32l476rg);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    unlock(&mut core);
    // Store without PG: PGSERR, nothing written.
    core.write_word_32(FLASH, 0).unwrap();
    assert_eq!(core.read_word_32(SR).unwrap(), 1 << 7);
    core.write_word_32(SR, 0xFFFF).unwrap();
    // Half-word store with PG: SIZERR.
    core.write_word_32(CR, CR_PG).unwrap();
    core.write_word_16(FLASH, 0).unwrap();
    assert_eq!(core.read_word_32(SR).unwrap(), 1 << 6);
    core.write_word_32(SR, 0xFFFF).unwrap();
    assert_eq!(core.read_word_32(FLASH).unwrap(), 0xFFFF_FFFF);
}

#[test]
fn wrp_through_option_bytes_and_obl_launch() {
    let sim = sim_of(ChipModel::Stm32g474re);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    unlock_options(&mut core);
    // WRP1A: pages 0..=1 of bank 1 (RM0440 §3.7.12).
    core.write_word_32(WRP1AR, 0x0001_0000).unwrap();
    core.write_word_32(CR, CR_OPTSTRT).unwrap();
    wait_not_busy(&mut core);
    assert_eq!(
        core.read_word_32(0x1FFF_7818).unwrap() & 0x007F_007F,
        0x0001_0000
    );
    // OBL_LAUNCH resets the chip and reloads the options (RCC_CSR.OBLRSTF).
    let _ = core.write_word_32(CR, CR_OBL_LAUNCH);
    drop(core);
    sim.run_for(std::time::Duration::from_millis(5));
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_ne!(
        core.read_word_32(RCC_CSR).unwrap() & (1 << 25),
        0,
        "OBLRSTF"
    );
    assert_eq!(
        core.read_word_32(WRP1AR).unwrap() & 0x007F_007F,
        0x0001_0000
    );
    assert_ne!(
        core.read_word_32(CR).unwrap() & CR_LOCK,
        0,
        "locked after reset"
    );
    unlock(&mut core);
    core.write_word_32(CR, CR_PER | CR_STRT | (1 << 3)).unwrap();
    assert_eq!(wait_not_busy(&mut core) & (1 << 4), 1 << 4, "WRPERR");
    core.write_word_32(SR, 0xFFFF).unwrap();
    core.write_word_32(CR, CR_PER | CR_STRT | (2 << 3)).unwrap();
    assert_eq!(wait_not_busy(&mut core) & SR_ERRORS, 0, "page 2 is free");
}

#[test]
fn rdp_level1_then_regression_mass_erases() {
    let sim = sim_of(ChipModel::Stm32l476rg);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    let data = image(7, 256);
    program_direct(&mut core, false, 0, FLASH, &data);
    // OTP: programs like flash, survives everything.
    unlock(&mut core);
    core.write_word_32(CR, CR_PG).unwrap();
    core.write_32(OTP, &[0xC0DE_0001, 0xC0DE_0002]).unwrap();
    wait_not_busy(&mut core);
    unlock_options(&mut core);
    let optr = core.read_word_32(OPTR).unwrap();
    core.write_word_32(OPTR, (optr & !0xFF) | 0xBB).unwrap();
    core.write_word_32(CR, CR_OPTSTRT).unwrap();
    wait_not_busy(&mut core);
    let _ = core.write_word_32(CR, CR_OBL_LAUNCH);
    drop(core);
    sim.run_for(std::time::Duration::from_millis(5));
    let mut core = session.core(0).unwrap();
    let _ = core.halt(TIMEOUT);
    // Level 1 with a debugger attached: flash reads are bus errors.
    assert!(
        core.read_word_32(FLASH).is_err(),
        "flash must be unreadable"
    );
    assert_eq!(core.read_word_32(OPTR).unwrap() & 0xFF, 0xBB);
    // Regression to level 0: mass erase, OTP kept.
    unlock_options(&mut core);
    core.write_word_32(OPTR, (optr & !0xFF) | 0xAA).unwrap();
    core.write_word_32(CR, CR_OPTSTRT).unwrap();
    wait_not_busy(&mut core);
    let _ = core.write_word_32(CR, CR_OBL_LAUNCH);
    drop(core);
    sim.run_for(std::time::Duration::from_millis(5));
    let mut core = session.core(0).unwrap();
    let _ = core.halt(TIMEOUT);
    assert_eq!(
        core.read_word_32(FLASH).unwrap(),
        0xFFFF_FFFF,
        "mass-erased"
    );
    assert_eq!(core.read_word_32(OTP).unwrap(), 0xC0DE_0001, "OTP kept");
    assert_eq!(sim.read_nonvolatile(FLASH as u32, 256), vec![0xFF; 256]);
}

#[test]
fn identity_memory_map_and_clocks() {
    for (model, kib) in [
        (ChipModel::Stm32g474re, 512u16),
        (ChipModel::Stm32l476rg, 1024),
    ] {
        let sim = sim_of(model);
        let mut session = attach(&sim);
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        assert_eq!(
            core.read_word_16(0x1FFF_75E0).unwrap(),
            kib,
            "{model:?} F_SIZE"
        );
        assert_eq!(
            core.read_word_32(0x1FFF_7000).unwrap(),
            0xFFFF_FFFF,
            "erased OTP"
        );
        // CCM SRAM / SRAM2 at 0x1000_0000 is the same memory as at 0x2001_8000.
        core.write_word_32(0x1000_0010, 0x5A5A_1234).unwrap();
        assert_eq!(
            core.read_word_32(0x2001_8010).unwrap(),
            0x5A5A_1234,
            "{model:?}"
        );
        let acr = core.read_word_32(ACR).unwrap();
        assert_eq!(acr & 0x600, 0x600, "{model:?} ICEN DCEN");
        // OpenOCD's reset-init writes (stm32g4x.cfg / stm32l4x.cfg) are accepted.
        let (cr, cfgr) = (
            core.read_word_32(0x4002_1000).unwrap(),
            core.read_word_32(0x4002_1008).unwrap(),
        );
        match model {
            ChipModel::Stm32g474re => {
                assert_eq!((cr, cfgr), (0x500, 0x5), "HSI16 after reset");
            }
            _ => assert_eq!((cr, cfgr), (0x63, 0), "MSI 4 MHz after reset"),
        }
    }
}

#[test]
fn firmware_taking_pa13_pa14_silences_swd() {
    let sim = sim_of(ChipModel::Stm32g474re);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    core.write_word_32(0x4002_104C, 1).unwrap(); // RCC_AHB2ENR.GPIOAEN
    assert_eq!(
        core.read_word_32(0x4800_0000).unwrap(),
        0xABFF_FFFF,
        "GPIOA_MODER reset"
    );
    // PA13/PA14 as general-purpose outputs: the debugger loses the target.
    let _ = core.write_word_32(0x4800_0000, 0x97FF_FFFF);
    assert!(core.read_word_32(0x2000_0000).is_err(), "SWD must be gone");
}

#[test]
fn option_bytes_otp_and_flash_persist_in_the_storage_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g474.nv");
    let on_disk = || {
        stdbg::sim::Sim::new(stdbg::sim::SimConfig {
            chip: ChipModel::Stm32g474re,
            storage: Some(path.clone()),
        })
        .unwrap()
    };
    {
        let sim = on_disk();
        let mut session = attach(&sim);
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        program_direct(&mut core, false, 3, FLASH + 3 * 2048, &image(3, 64));
        unlock(&mut core);
        core.write_word_32(CR, CR_PG).unwrap();
        core.write_32(OTP + 8, &[0x0102_0304, 0x0506_0708]).unwrap();
        wait_not_busy(&mut core);
        unlock_options(&mut core);
        core.write_word_32(WRP1AR, 0x0005_0004).unwrap();
        core.write_word_32(CR, CR_OPTSTRT).unwrap();
        wait_not_busy(&mut core);
        core.write_word_32(CR, CR_LOCK).unwrap();
    }
    assert_eq!(&std::fs::read(&path).unwrap()[..8], b"STDBGNV2");
    let sim = on_disk();
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(
        core.read_word_32(WRP1AR).unwrap() & 0x007F_007F,
        0x0005_0004
    );
    assert_eq!(core.read_word_32(OTP + 12).unwrap(), 0x0506_0708);
    let mut back = vec![0u8; 64];
    core.read_8(FLASH + 3 * 2048, &mut back).unwrap();
    assert_eq!(back, image(3, 64));
}

/// Erases bank-1 page `page` and sets FSTPG (and `extra`): RM0351 §3.3.7
/// fast programming, steps 1–4 (a page erase, as ST's HAL does).
fn erase_for_fast_programming(core: &mut probe_rs::Core, page: u32, extra: u32) {
    unlock(core);
    core.write_word_32(SR, 0xFFFF).unwrap();
    core.write_word_32(CR, CR_PER | CR_STRT | (page << 3))
        .unwrap();
    let sr = wait_not_busy(core);
    assert_eq!(sr & SR_ERRORS, 0, "erase SR {sr:#x}");
    core.write_word_32(CR, CR_FSTPG | extra).unwrap();
}

/// The 64 words of a 256-byte row.
fn row_words(seed: u32) -> Vec<u32> {
    image(seed, 256)
        .chunks(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
        .collect()
}

fn read_row(core: &mut probe_rs::Core, addr: u64) -> Vec<u8> {
    let mut back = vec![0u8; 256];
    core.read_8(addr, &mut back).unwrap();
    back
}

fn bytes_of(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// On silicon a debugger is too slow for fast programming: at 1 MHz SWCLK
/// one AP write is 50 SWCLK cycles, so double words come 100 µs apart, far
/// over the 20 µs the RM allows (RM0351 §3.3.7), and MISERR ends the row.
/// The sim charges wire time per probe request (docs/sim.md, "Time"),
/// before the request takes effect:
/// * word by word (`write_word_32`: every word its own requests, 175 µs
///   each), the second double word comes too late: MISERR | FASTERR at the
///   deadline, and the late store then meets the pending error (PGSERR);
///   only the first double word is programmed, as on silicon;
/// * as one block (`write_32` of the row: one DAP_TransferBlock) the 64
///   stores reach the controller at one virtual instant, so the row is
///   programmed without error, which silicon would not do (a known deviation).
#[test]
fn fast_programming_through_the_debugger() {
    let sim = sim_of(ChipModel::Stm32l476rg);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();

    let row = FLASH + 4 * 2048;
    let words = row_words(0xFA57);
    erase_for_fast_programming(&mut core, 4, 0);
    for (i, w) in words.iter().enumerate() {
        core.write_word_32(row + 4 * i as u64, *w).unwrap();
    }
    core.flush().unwrap();
    let sr = wait_not_busy(&mut core);
    assert_eq!(sr, SR_MISERR | SR_FASTERR | SR_PGSERR, "SR {sr:#x}");
    let back = read_row(&mut core, row);
    let mut want = bytes_of(&words[..2]);
    want.resize(256, 0xFF);
    assert_eq!(back, want, "only the first double word is programmed");

    let row = FLASH + 5 * 2048;
    erase_for_fast_programming(&mut core, 5, CR_EOPIE);
    core.write_32(row, &words).unwrap();
    let sr = wait_not_busy(&mut core);
    assert_eq!(sr, SR_EOP, "one block: no data miss in the sim");
    assert_eq!(read_row(&mut core, row), bytes_of(&words));
}

/// A RAM program copies a row from SRAM1 into flash with FSTPG set, at
/// CPU speed (a few cycles per store), then waits for BSY to fall.
const RAM_FAST_ROW: &str = r#"
    .syntax unified
    .thumb
    .global _start
_start:
    ldr r0, =0x40022000
    ldr r1, =0x08002000
    ldr r2, =0x20001000
    movs r3, #64
1:  ldr r4, [r2], #4
    str r4, [r1], #4
    subs r3, #1
    bne 1b
2:  ldr r4, [r0, #0x10]
    tst r4, #0x10000
    bne 2b
    bkpt #0
    .ltorg
"#;

#[test]
fn a_ram_program_fast_programs_a_row_without_miserr() {
    let img = assemble(RAM_FAST_ROW);
    let sim = sim_of(ChipModel::Stm32g474re);
    let mut session = attach(&sim);
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(TIMEOUT).unwrap();
    let words = row_words(0x5EED);
    core.write_32(0x2000_1000, &words).unwrap();
    core.write_8(0x2000_0000, &img).unwrap();
    erase_for_fast_programming(&mut core, 4, CR_EOPIE);
    core.write_core_reg(RegisterId(15), 0x2000_0000u32).unwrap();
    core.write_core_reg(RegisterId(13), 0x2000_8000u32).unwrap();
    core.write_core_reg(RegisterId(16), 0x0100_0000u32).unwrap();
    let t0 = sim.virtual_time();
    core.run().unwrap();
    core.wait_for_core_halted(std::time::Duration::from_secs(5))
        .expect("the program reached its bkpt");
    // BSY for the 1.91 ms of a fast row (DS12288), polled by the program.
    let took = sim.virtual_time() - t0;
    assert!(took.as_micros() >= 1910, "{took:?}");
    assert_eq!(core.read_word_32(SR).unwrap(), SR_EOP);
    assert_eq!(read_row(&mut core, FLASH + 4 * 2048), bytes_of(&words));
}
