//! The field failures of issue 4, reproduced by the virtual STM32 the way real
//! chips produce them (RM0008, PM0075, ARMv7-M, ADIv5), driven through probe-rs.

use std::time::Duration;

use probe_rs::probe::{DebugProbe, Probe};
use probe_rs::{Core, CoreStatus, MemoryInterface, Permissions, Session};
use stdbg::sim::{ChipModel, Fault, Sim};

mod sim_support;
use sim_support::{
    FLASH_AR, FLASH_CR, FLASH_KEYR, FLASH_OBR, FLASH_OPTKEYR, FLASH_SR, FLASH_WRPR, KEY1, KEY2,
    TIMEOUT, attach, attach_under_reset, download, error_chain, firmware, fresh, run_to, sim_of,
};

const RESET_HANDLER: u32 = 0x0800_00F0;
const COUNTER: u64 = 0x2000_0000;
const DHCSR: u64 = 0xE000_EDF0;
const DEMCR: u64 = 0xE000_EDFC;
const DBGMCU_CR: u64 = 0xE004_2004;
const RCC_CSR: u64 = 0x4002_1024;
const WRPRTERR: u32 = 1 << 4;
const S_RESET_ST: u32 = 1 << 25;

fn flashed(name: &str) -> Sim {
    let sim = fresh();
    let mut session = attach(&sim).expect("attach");
    download(&mut session, &firmware(name)).expect("download");
    sim
}

fn is_no_ack(chain: &str) -> bool {
    let c = chain.to_lowercase();
    c.contains("acknowledge") || c.contains("did not respond") || c.contains("no response")
}

/// `op` (reset or resume) lets the firmware run; it may already fail because
/// the firmware went silent within the operation's own wire time (f103-stop
/// needs a few dozen instructions). Then the link must be lost.
fn run_until_link_lost(core: &mut Core, op: impl FnOnce(&mut Core) -> Result<(), probe_rs::Error>) {
    let chain = match op(core) {
        Err(e) => error_chain(&e),
        Ok(()) => poll_until_link_lost(core),
    };
    assert!(is_no_ack(&chain), "{chain}");
}

/// Polls `counter` until a DAP access fails (each poll lets the core run for
/// its wire time). Returns the error chain.
fn poll_until_link_lost(core: &mut Core) -> String {
    for _ in 0..20_000 {
        if let Err(e) = core.read_word_32(COUNTER) {
            return error_chain(&e);
        }
    }
    panic!("the link stayed up");
}

/// Halt on the reset vector the way OpenOCD's `connect_assert_srst` does,
/// with raw DAP accesses while NRST is held: DHCSR = C_DEBUGEN | C_HALT and
/// DEMCR.VC_CORERESET, then release NRST. Unlike probe-rs 0.32's
/// `attach_under_reset`, which sets only VC_CORERESET under reset and
/// C_DEBUGEN after the release, this works when the debug logic was powered
/// down (power-on, Standby): vector catch needs C_DEBUGEN (ARMv7-M §C1.6.5).
fn halt_under_reset(sim: &Sim) -> Session {
    use probe_rs::architecture::arm::{RawDapAccess, RegisterAddress, dp::DpRegisterAddress};
    let dp = |address| {
        RegisterAddress::DpRegister(DpRegisterAddress {
            address,
            bank: Some(0),
        })
    };
    let ap = RegisterAddress::ApRegister;
    let mut p = sim.probe();
    p.target_reset_assert().unwrap();
    p.swj_sequence(51, 0x0007_FFFF_FFFF_FFFF).unwrap();
    p.swj_sequence(16, 0xE79E).unwrap();
    p.swj_sequence(51, 0x0007_FFFF_FFFF_FFFF).unwrap();
    p.swj_sequence(3, 0).unwrap();
    assert_eq!(p.raw_read_register(dp(0)).unwrap(), 0x1BA0_1477);
    p.raw_write_register(dp(4), 0x5000_0000).unwrap(); // CDBGPWRUPREQ | CSYSPWRUPREQ
    p.raw_write_register(dp(8), 0).unwrap(); // SELECT AP0 bank 0
    p.raw_write_register(ap(0x00), 0x2300_0002).unwrap(); // CSW: word
    p.raw_write_register(ap(0x04), DHCSR as u32).unwrap();
    p.raw_write_register(ap(0x0C), 0xA05F_0003).unwrap(); // C_DEBUGEN | C_HALT
    p.raw_write_register(ap(0x04), DEMCR as u32).unwrap();
    p.raw_write_register(ap(0x0C), 0x0000_0001).unwrap(); // VC_CORERESET
    p.raw_flush().unwrap();
    p.target_reset_deassert().unwrap();
    let mut session = attach(sim).expect("attach to the halted core");
    {
        let mut core = session.core(0).unwrap();
        assert!(core.core_halted().unwrap(), "halted as it left reset");
        core.write_word_32(DEMCR, 0).unwrap();
    }
    session
}

fn pc(core: &mut Core) -> u32 {
    core.read_core_reg(core.program_counter()).unwrap()
}

/// Option-byte erase and program (PM0075 §2.5): `bytes` = (offset, value) of
/// the data bytes to program after the erase (complements are computed by the FPEC).
fn write_option_bytes(core: &mut Core, bytes: &[(u64, u16)]) {
    core.write_word_32(FLASH_KEYR, KEY1).unwrap();
    core.write_word_32(FLASH_KEYR, KEY2).unwrap();
    core.write_word_32(FLASH_OPTKEYR, KEY1).unwrap();
    core.write_word_32(FLASH_OPTKEYR, KEY2).unwrap();
    core.write_word_32(FLASH_CR, (1 << 9) | (1 << 5)).unwrap(); // OPTWRE | OPTER
    core.write_word_32(FLASH_CR, (1 << 9) | (1 << 5) | (1 << 6))
        .unwrap(); // + STRT
    core.write_word_32(FLASH_CR, (1 << 9) | (1 << 4)).unwrap(); // OPTPG
    for (off, v) in bytes {
        core.write_word_16(0x1FFF_F800 + off, *v).unwrap();
    }
    core.write_word_32(FLASH_CR, 1 << 7).unwrap(); // LOCK
    core.flush().unwrap();
}

/// Raw SWD bring-up (JTAG-to-SWD, line reset, DPIDR read) on a fresh probe.
fn raw_dpidr(sim: &Sim) -> Result<u32, probe_rs::architecture::arm::ArmError> {
    use probe_rs::architecture::arm::{RawDapAccess, RegisterAddress, dp::DpRegisterAddress};
    let mut p = sim.probe();
    p.swj_sequence(51, 0x0007_FFFF_FFFF_FFFF).unwrap();
    p.swj_sequence(16, 0xE79E).unwrap();
    p.swj_sequence(51, 0x0007_FFFF_FFFF_FFFF).unwrap();
    p.swj_sequence(3, 0).unwrap();
    p.raw_read_register(RegisterAddress::DpRegister(DpRegisterAddress {
        address: 0,
        bank: Some(0),
    }))
}

#[test]
fn swd_off_firmware_loses_the_link_and_attach_under_reset_recovers() {
    let sim = flashed("f103-swd-off.elf");
    // With a debugger attached: reset and run; once the firmware writes
    // AFIO_MAPR.SWJ_CFG = 0b100 the SW-DP stops answering.
    {
        let mut session = attach(&sim).unwrap();
        let mut core = session.core(0).unwrap();
        core.reset().unwrap();
        let chain = poll_until_link_lost(&mut core);
        assert!(is_no_ack(&chain), "{chain}");
    }
    // The board on its own for a while (the firmware runs the write again after any reset).
    sim.probe().target_reset().unwrap();
    sim.run_for(Duration::from_millis(20));
    assert!(raw_dpidr(&sim).is_err(), "SW-DP must not answer");
    let before = sim.stats().no_acks;
    let err = attach(&sim).expect_err("plain attach must fail");
    let chain = error_chain(&err);
    assert!(is_no_ack(&chain), "{chain}");
    assert!(sim.stats().no_acks > before);
    // Connect under reset: NRST resets AFIO (SWJ_CFG = 0), the DP answers,
    // probe-rs sets the reset vector catch and the firmware never runs.
    let mut session = attach_under_reset(&sim).expect("attach under reset");
    let mut core = session.core(0).unwrap();
    core.wait_for_core_halted(TIMEOUT).unwrap();
    assert_eq!(pc(&mut core), RESET_HANDLER);
    assert_eq!(core.read_word_32(0xE004_2000).unwrap(), 0x2003_6410);
    // Resuming lets the firmware disable the port again.
    core.run().unwrap();
    let chain = poll_until_link_lost(&mut core);
    assert!(is_no_ack(&chain), "{chain}");
}

#[test]
fn stop_firmware_loses_the_link_until_reset() {
    let sim = flashed("f103-stop.elf");
    {
        let mut session = attach(&sim).unwrap();
        let mut core = session.core(0).unwrap();
        // The firmware clears DBGMCU_CR and enters Stop: HCLK/FCLK off.
        run_until_link_lost(&mut core, |c| c.reset());
    }
    let err = attach(&sim).expect_err("plain attach must fail in Stop");
    assert!(is_no_ack(&error_chain(&err)), "{err}");
    let mut session = attach_under_reset(&sim).expect("connect under reset wakes the chip");
    let mut core = session.core(0).unwrap();
    core.wait_for_core_halted(TIMEOUT).unwrap();
    assert_eq!(pc(&mut core), RESET_HANDLER);
    // SRAM survives Stop and the reset: the firmware had counted once.
    assert_eq!(core.read_word_32(COUNTER).unwrap(), 1);
}

/// Runs f103-stop to its WFI (after it cleared DBGMCU_CR), halted there.
fn stop_firmware_at_wfi(sim: &Sim) -> Session {
    const WFI: u64 = 0x0800_0190;
    let mut session = attach(sim).unwrap();
    {
        let mut core = session.core(0).unwrap();
        core.reset_and_halt(TIMEOUT).unwrap();
        run_to(&mut core, WFI);
        assert_eq!(
            core.read_word_32(DBGMCU_CR).unwrap(),
            0,
            "firmware cleared DBGMCU_CR"
        );
    }
    session
}

#[test]
fn dbg_stop_set_by_the_debugger_keeps_the_link_in_stop() {
    let sim = flashed("f103-stop.elf");
    let mut session = stop_firmware_at_wfi(&sim);
    let mut core = session.core(0).unwrap();
    core.write_word_32(DBGMCU_CR, 0x7).unwrap(); // DBG_SLEEP | DBG_STOP | DBG_STANDBY
    core.run().unwrap();
    for _ in 0..200 {
        assert!(matches!(core.status().unwrap(), CoreStatus::Sleeping));
    }
    assert_ne!(core.read_word_32(DHCSR).unwrap() & (1 << 18), 0, "S_SLEEP");
    core.halt(TIMEOUT).unwrap();
    assert_eq!(pc(&mut core), 0x0800_0192, "halted after the WFI");
    // Leaving Stop selects HSI as system clock (RM0008 §5.3.5).
    assert_eq!(
        core.read_word_32(0x4002_1004).unwrap() & 0xF,
        0,
        "RCC_CFGR SW/SWS = HSI"
    );
}

#[test]
fn timers_stop_in_stop_mode_and_count_again_after_the_halt_leaves_it() {
    // RM0008 §5.3.5: in Stop "all clocks in the 1.8 V domain are stopped",
    // so TIM2 (on PCLK1) does not count; a debugger halt leaves Stop.
    const TIM2_CNT: u64 = 0x4000_0024;
    let sim = flashed("f103-stop.elf");
    let mut session = stop_firmware_at_wfi(&sim);
    let mut core = session.core(0).unwrap();
    core.write_word_32(DBGMCU_CR, 0x2).unwrap(); // DBG_STOP: the link stays up
    let enr = core.read_word_32(0x4002_101C).unwrap();
    core.write_word_32(0x4002_101C, enr | 1).unwrap(); // RCC_APB1ENR.TIM2EN
    core.write_word_32(0x4000_002C, 0xFFFF).unwrap(); // ARR
    core.write_word_32(0x4000_0000, 1).unwrap(); // CR1.CEN
    core.run().unwrap();
    sim.run_for(Duration::from_millis(1));
    assert_ne!(core.read_word_32(DHCSR).unwrap() & (1 << 18), 0, "S_SLEEP");
    let a = core.read_word_32(TIM2_CNT).unwrap();
    sim.run_for(Duration::from_millis(2));
    let b = core.read_word_32(TIM2_CNT).unwrap();
    assert_eq!(a, b, "TIM2 must not count in Stop");
    core.halt(TIMEOUT).unwrap();
    let c = core.read_word_32(TIM2_CNT).unwrap();
    sim.run_for(Duration::from_millis(1));
    let d = core.read_word_32(TIM2_CNT).unwrap();
    assert!(
        d > c,
        "after the halt left Stop TIM2 counts on HSI again ({c} -> {d})"
    );
}

#[test]
fn standby_without_dbg_standby_resets_the_debug_logic() {
    let sim = flashed("f103-stop.elf");
    {
        let mut session = stop_firmware_at_wfi(&sim);
        let mut core = session.core(0).unwrap();
        // Select Standby instead of Stop (PWR_CR.PDDS), keep DBGMCU_CR = 0.
        let cr = core.read_word_32(0x4000_7000).unwrap();
        core.write_word_32(0x4000_7000, cr | 2).unwrap();
        run_until_link_lost(&mut core, |c| c.run());
    }
    assert!(raw_dpidr(&sim).is_err(), "1.8 V domain off");
    // Waking by NRST reset the debug logic (DHCSR.C_DEBUGEN = 0): probe-rs's
    // attach_under_reset cannot catch the reset vector, the firmware runs
    // into Stop again and the wait for the halt fails.
    let err = attach_under_reset(&sim).expect_err("probe-rs attach_under_reset must fail");
    eprintln!("attach_under_reset after Standby: {}", error_chain(&err));
    // Halting debug enabled under reset works.
    let mut session = halt_under_reset(&sim);
    let mut core = session.core(0).unwrap();
    assert_eq!(pc(&mut core), RESET_HANDLER);
    // PWR_CSR.SBF (needs the PWR clock): the chip was in Standby.
    core.write_word_32(0x4002_101C, 1 << 28).unwrap();
    assert_eq!(
        core.read_word_32(0x4000_7004).unwrap() & 2,
        2,
        "PWR_CSR.SBF"
    );
}

#[test]
fn swd_off_after_power_on_needs_halting_debug_enabled_under_reset() {
    // A board that was never debugged since power-up: C_DEBUGEN = 0.
    let sim = flashed("f103-swd-off.elf");
    sim.power_cycle();
    sim.run_for(Duration::from_millis(20));
    assert!(attach(&sim).is_err(), "SWD disabled by the firmware");
    let err = attach_under_reset(&sim).expect_err("vector catch without C_DEBUGEN");
    eprintln!("attach_under_reset after power-on: {}", error_chain(&err));
    sim.run_for(Duration::from_millis(20));
    let mut session = halt_under_reset(&sim);
    let mut core = session.core(0).unwrap();
    assert_eq!(pc(&mut core), RESET_HANDLER);
    // Now C_DEBUGEN is set and stays set across NRST: probe-rs's
    // attach_under_reset works from here on.
    drop(core);
    drop(session);
    sim.probe().target_reset().unwrap();
    sim.run_for(Duration::from_millis(20));
    assert!(attach(&sim).is_err());
    let mut session = attach_under_reset(&sim).expect("attach under reset");
    let mut core = session.core(0).unwrap();
    core.wait_for_core_halted(TIMEOUT).unwrap();
    assert_eq!(pc(&mut core), RESET_HANDLER);
}

#[test]
fn rdp_level_1_blocks_debug_access_and_regression_mass_erases() {
    let sim = flashed("f103-blinky.elf");
    let blinky_start = sim.read_nonvolatile(0x0800_0000, 8);
    let mut session = attach(&sim).unwrap();
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        // RDP = 0x00 (level 1), the other option bytes erased (0xFF).
        write_option_bytes(&mut core, &[(0, 0x00)]);
        assert_eq!(sim.read_nonvolatile(0x1FFF_F800, 2), vec![0x00, 0xFF]);
        assert_eq!(
            core.read_word_32(FLASH_OBR).unwrap() & 2,
            0,
            "loaded at the next reset only"
        );
        core.reset_and_halt(TIMEOUT).unwrap();
        assert_eq!(core.read_word_32(FLASH_OBR).unwrap() & 2, 2, "OBR.RDPRT");
        // Debugger reads of flash: bus error → FAULT.
        let e = core.read_word_32(0x0800_0000).unwrap_err();
        let chain = error_chain(&e);
        assert!(chain.contains("ault"), "{chain}");
        assert!(core.read_word_32(0x0000_0004).is_err(), "alias at 0 too");
        // SRAM and registers stay accessible.
        core.write_word_32(0x2000_0100, 0x1234_5678).unwrap();
        assert_eq!(core.read_word_32(0x2000_0100).unwrap(), 0x1234_5678);
    }
    // probe-rs's flash algorithm runs from SRAM: erase/program are refused.
    let err = download(&mut session, &firmware("f103-blinky.elf")).expect_err("download must fail");
    let chain = error_chain(&err);
    eprintln!("download under RDP: {chain}");
    assert_eq!(
        sim.read_nonvolatile(0x0800_0000, 8),
        blinky_start,
        "flash unchanged"
    );
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        // Page erase by hand: WRPRTERR.
        core.write_word_32(FLASH_KEYR, KEY1).unwrap();
        core.write_word_32(FLASH_KEYR, KEY2).unwrap();
        core.write_word_32(FLASH_SR, 0x34).unwrap();
        core.write_word_32(FLASH_CR, 1 << 1).unwrap();
        core.write_word_32(FLASH_AR, 0x0800_2000).unwrap();
        core.write_word_32(FLASH_CR, (1 << 1) | (1 << 6)).unwrap();
        assert_eq!(core.read_word_32(FLASH_SR).unwrap() & WRPRTERR, WRPRTERR);
        core.write_word_32(FLASH_CR, 1 << 7).unwrap();
        // Regression to level 0: RDP = 0xA5 mass-erases the main flash.
        write_option_bytes(&mut core, &[(0, 0xA5)]);
        assert!(
            sim.read_nonvolatile(0x0800_0000, 64 * 1024)
                .iter()
                .all(|b| *b == 0xFF),
            "main flash mass-erased"
        );
        core.reset_and_halt(TIMEOUT).unwrap();
        assert_eq!(
            core.read_word_32(FLASH_OBR).unwrap() & 2,
            0,
            "RDPRT cleared"
        );
        let mut back = [0u32; 16];
        core.read_32(0x0800_0000, &mut back).unwrap();
        assert!(back.iter().all(|w| *w == 0xFFFF_FFFF), "{back:x?}");
    }
    // The chip is usable again.
    download(&mut session, &firmware("f103-blinky.elf")).expect("download after regression");
    assert_eq!(sim.read_nonvolatile(0x0800_0000, 8), blinky_start);
}

#[test]
fn wrp_protected_page_download_fails_with_wrprterr() {
    let sim = flashed("f103-blinky.elf");
    let mut session = attach(&sim).unwrap();
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        // RDP level 0, WRP0 bit 0 = 0: pages 0–3 write-protected.
        write_option_bytes(&mut core, &[(0, 0xA5), (8, 0xFE)]);
        core.reset_and_halt(TIMEOUT).unwrap();
        assert_eq!(core.read_word_32(FLASH_WRPR).unwrap(), 0xFFFF_FFFE);
        assert_eq!(
            core.read_word_32(FLASH_OBR).unwrap() & 3,
            0,
            "no RDP, no OPTERR"
        );
    }
    let before = sim.read_nonvolatile(0x0800_0000, 4096);
    // probe-rs's algorithm: the page erase is refused silently (its
    // EraseSector does not check FLASH_SR), program_page sees WRPRTERR,
    // clears it and returns 1.
    let err = download(&mut session, &firmware("f103-stop.elf")).expect_err("download must fail");
    let chain = error_chain(&err);
    assert!(
        chain.contains("0x08000000") && chain.contains("code 1"),
        "{chain}"
    );
    assert_eq!(
        sim.read_nonvolatile(0x0800_0000, 4096),
        before,
        "protected pages unchanged"
    );
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    // The same by hand: WRPRTERR stays visible in FLASH_SR.
    core.write_word_32(FLASH_KEYR, KEY1).unwrap();
    core.write_word_32(FLASH_KEYR, KEY2).unwrap();
    core.write_word_32(FLASH_SR, 0x34).unwrap();
    core.write_word_32(FLASH_CR, 1).unwrap(); // PG
    core.write_word_16(0x0800_0FFE, 0x1234).unwrap();
    let sr = core.read_word_32(FLASH_SR).unwrap();
    assert_eq!(sr & 0x34, WRPRTERR, "FLASH_SR = {sr:#x}");
    assert_eq!(
        sim.read_nonvolatile(0x0800_0FFE, 2),
        before[0xFFE..].to_vec()
    );
    core.write_word_32(FLASH_CR, 1 << 1).unwrap(); // PER
    core.write_word_32(FLASH_AR, 0x0800_0400).unwrap();
    core.write_word_32(FLASH_CR, (1 << 1) | (1 << 6)).unwrap();
    assert_eq!(core.read_word_32(FLASH_SR).unwrap() & WRPRTERR, WRPRTERR);
    // Page 4 (0x0800_1000) is not protected.
    core.write_word_32(FLASH_SR, 0x34).unwrap();
    core.write_word_32(FLASH_CR, 1).unwrap();
    core.write_word_16(0x0800_1000, 0xBEEF).unwrap();
    assert_eq!(
        core.read_word_32(FLASH_SR).unwrap() & 0x34,
        0x20,
        "EOP only"
    );
    assert_eq!(core.read_word_16(0x0800_1000).unwrap(), 0xBEEF);
}

#[test]
fn f303vc_identity_seen_through_an_f1_configuration() {
    assert_eq!(
        ChipModel::from_name("STM32F303VC"),
        Some(ChipModel::Stm32f303vc)
    );
    assert_eq!(
        ChipModel::from_name("stm32f303vctx"),
        Some(ChipModel::Stm32f303vc)
    );
    let sim = sim_of(ChipModel::Stm32f303vc);
    assert_eq!(raw_dpidr(&sim).unwrap(), 0x2BA0_1477);
    let mut session = attach(&sim).expect("an F1 configuration still attaches");
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(
        core.read_word_32(0xE004_2000).unwrap(),
        0x1003_6422,
        "DBGMCU_IDCODE"
    );
    assert_eq!(
        core.read_word_32(0xE000_ED00).unwrap(),
        0x410F_C241,
        "CPUID Cortex-M4 r0p1"
    );
    assert_eq!(
        core.read_word_32(0xE000_EF40).unwrap(),
        0x1011_0021,
        "MVFR0: FPU"
    );
    assert_eq!(core.read_word_16(0x1FFF_F7CC).unwrap(), 256, "F_SIZE");
    assert!(core.read_word_16(0x1FFF_F7E0).is_ok());
    core.write_word_32(0x2000_9FFC, 0xA5A5_5A5A).unwrap();
    assert_eq!(
        core.read_word_32(0x2000_9FFC).unwrap(),
        0xA5A5_5A5A,
        "40 KiB SRAM"
    );
    assert!(core.read_word_32(0x2000_A000).is_err());
    core.write_word_32(0x1000_1FFC, 7).unwrap();
    assert_eq!(core.read_word_32(0x1000_1FFC).unwrap(), 7, "8 KiB CCM SRAM");
    assert!(core.read_word_32(0x0803_FFFC).is_ok(), "256 KiB flash");
    drop(core);
    drop(session);
    // The right configuration attaches too.
    let mut session = Probe::from_specific_probe(Box::new(sim.probe()))
        .attach("STM32F303VC", Permissions::default())
        .expect("attach as STM32F303VC");
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(core.read_word_32(0xE004_2000).unwrap(), 0x1003_6422);
}

#[test]
fn other_family_identities() {
    let cases = [
        (
            ChipModel::Stm32g474re,
            0x2BA0_1477,
            0x410F_C241,
            0xE004_2000u64,
            0x1000_6469,
            0x1FFF_75E0u64,
            512,
        ),
        (
            ChipModel::Stm32l476rg,
            0x2BA0_1477,
            0x410F_C241,
            0xE004_2000,
            0x1007_6415,
            0x1FFF_75E0,
            1024,
        ),
        (
            ChipModel::Stm32h743zi,
            0x6BA0_2477,
            0x411F_C271,
            0x5C00_1000,
            0x2003_6450,
            0x1FF1_E880,
            2048,
        ),
    ];
    for (model, dpidr, cpuid, idaddr, idcode, fsize_addr, kib) in cases {
        assert_eq!(ChipModel::from_name(model.name()), Some(model));
        assert_eq!(
            (model.dpidr(), model.cpuid(), model.dbgmcu_idcode()),
            (dpidr, cpuid, idcode)
        );
        assert_eq!(model.dbgmcu_idcode_address() as u64, idaddr);
        assert!(model.has_fpu() && !model.fully_modelled());
        let sim = sim_of(model);
        assert_eq!(raw_dpidr(&sim).unwrap(), dpidr, "{model:?}");
        let mut session = attach(&sim).unwrap_or_else(|e| panic!("{model:?}: {e}"));
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        assert_eq!(core.read_word_32(0xE000_ED00).unwrap(), cpuid, "{model:?}");
        assert_eq!(core.read_word_32(idaddr).unwrap(), idcode, "{model:?}");
        assert_eq!(core.read_word_16(fsize_addr).unwrap(), kib, "{model:?}");
        assert_ne!(
            core.read_word_32(0xE000_EF40).unwrap(),
            0,
            "{model:?} MVFR0"
        );
        assert_eq!(model.flash_size(), kib as usize * 1024);
    }
}

/// Runs f103-iwdg until its watchdog is started, then halts it with vector
/// catch set (so that a watchdog reset leaves the core halted at the reset
/// handler) and RCC_CSR's flags cleared.
/// Returns the virtual time just before the halt request.
fn iwdg_firmware_halted(sim: &Sim, session: &mut Session, dbg_iwdg_stop: bool) -> Duration {
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(TIMEOUT).unwrap();
    let cr = core.read_word_32(DBGMCU_CR).unwrap();
    let cr = if dbg_iwdg_stop {
        cr | (1 << 8)
    } else {
        cr & !(1 << 8)
    };
    core.write_word_32(DBGMCU_CR, cr).unwrap();
    core.run().unwrap();
    let mut n = 0;
    while core.read_word_32(COUNTER).unwrap() < 10 {
        n += 1;
        assert!(n < 10_000, "firmware does not count");
    }
    let t0 = sim.virtual_time();
    core.halt(TIMEOUT).unwrap();
    let demcr = core.read_word_32(DEMCR).unwrap();
    core.write_word_32(DEMCR, demcr | 1).unwrap(); // VC_CORERESET
    core.write_word_32(RCC_CSR, 1 << 24).unwrap(); // RMVF
    assert_eq!(core.read_word_32(RCC_CSR).unwrap() & 0xFE00_0000, 0);
    core.read_word_32(DHCSR).unwrap(); // clears S_RESET_ST
    t0
}

#[test]
fn iwdg_resets_the_halted_chip_without_dbg_iwdg_stop() {
    let sim = flashed("f103-iwdg.elf");
    let mut session = attach(&sim).unwrap();
    let t0 = iwdg_firmware_halted(&sim, &mut session, false);
    let mut core = session.core(0).unwrap();
    // Every DHCSR read is wire time (about 150 µs at 1 MHz): the watchdog
    // (RLR 0x100, /4: 25.7 ms) runs out within a few hundred reads.
    let mut reset_seen = false;
    for _ in 0..5_000 {
        if core.read_word_32(DHCSR).unwrap() & S_RESET_ST != 0 {
            reset_seen = true;
            break;
        }
    }
    let dt = sim.virtual_time() - t0;
    assert!(reset_seen, "no watchdog reset after {dt:?} halted");
    // The firmware refreshed it just before the halt: (0x100 + 1) × 4 / 40 kHz = 25.7 ms.
    assert!(
        dt >= Duration::from_micros(25_690),
        "reset after only {dt:?}"
    );
    assert!(dt < Duration::from_secs(2), "reset after {dt:?}");
    let csr = core.read_word_32(RCC_CSR).unwrap();
    assert_ne!(csr & (1 << 29), 0, "RCC_CSR.IWDGRSTF, csr = {csr:#x}");
    // Vector catch: halted at the reset handler of the restarted firmware.
    assert!(core.core_halted().unwrap());
    assert_eq!(pc(&mut core), RESET_HANDLER);
}

#[test]
fn iwdg_does_not_reset_the_halted_chip_with_dbg_iwdg_stop() {
    let sim = flashed("f103-iwdg.elf");
    let mut session = attach(&sim).unwrap();
    let t0 = iwdg_firmware_halted(&sim, &mut session, true);
    let mut core = session.core(0).unwrap();
    let halted_at = pc(&mut core);
    for _ in 0..3_000 {
        assert_eq!(
            core.read_word_32(DHCSR).unwrap() & S_RESET_ST,
            0,
            "reset while frozen"
        );
    }
    assert!(
        sim.virtual_time() - t0 > Duration::from_millis(100),
        "enough time passed"
    );
    sim.run_for(Duration::from_millis(200));
    assert_eq!(core.read_word_32(DHCSR).unwrap() & S_RESET_ST, 0);
    assert_eq!(
        core.read_word_32(RCC_CSR).unwrap() & (1 << 29),
        0,
        "no IWDGRSTF"
    );
    assert_eq!(pc(&mut core), halted_at);
    // Running again, the firmware keeps refreshing it: no reset either.
    core.run().unwrap();
    sim.run_for(Duration::from_millis(100));
    core.halt(TIMEOUT).unwrap();
    assert_eq!(
        core.read_word_32(RCC_CSR).unwrap() & (1 << 29),
        0,
        "no IWDGRSTF"
    );
}

#[test]
fn no_power_reads_zero_volts_and_power_returns_with_a_power_on_reset() {
    let sim = fresh();
    assert_eq!(sim.target_voltage(), 3.3);
    {
        let mut session = attach(&sim).unwrap();
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        core.write_word_32(0x2000_0000, 0xDEAD_BEEF).unwrap();
    }
    sim.inject(Fault::NoPower);
    assert_eq!(sim.target_voltage(), 0.0);
    assert_eq!(sim.probe().get_target_voltage().unwrap(), Some(0.0));
    assert!(attach(&sim).is_err());
    sim.clear_faults();
    assert_eq!(sim.target_voltage(), 3.3);
    assert_eq!(sim.probe().get_target_voltage().unwrap(), Some(3.3));
    let mut session = attach(&sim).expect("attach after power-up");
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(
        core.read_word_32(0x2000_0000).unwrap(),
        0,
        "SRAM lost without power"
    );
}

#[test]
fn disconnect_in_the_middle_of_a_download_leaves_erased_pages() {
    let elf = firmware("f103-big.elf");
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    sim.inject(Fault::DisconnectAfter(15_000));
    let err = download(&mut session, &elf).expect_err("the link dies during the download");
    let chain = error_chain(&err);
    assert!(is_no_ack(&chain), "{chain}");
    drop(session);
    // 60 804 bytes from 0x0800_0000: pages 0..59. Some erased and not rewritten.
    let flash = sim.read_nonvolatile(0x0800_0000, 60 * 1024);
    let erased = flash
        .chunks(1024)
        .filter(|p| p.iter().all(|b| *b == 0xFF))
        .count();
    assert!(erased > 0, "no erased page left behind");
    // Still cut: nothing answers, even a fresh probe.
    assert!(attach(&sim).is_err());
    // Cable back: the DP needs a line reset + DPIDR read, which attach does.
    sim.clear_faults();
    let mut session = attach(&sim).expect("reconnect after the fault is cleared");
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        let mut page = [0u8; 1024];
        core.read_8(0x0800_0000 + (59 * 1024), &mut page).unwrap();
    }
    download(&mut session, &elf).expect("download again");
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(TIMEOUT).unwrap();
    assert_eq!(
        core.read_word_32(0x0800_0184).unwrap(),
        0x907E_A18A,
        "big_table[0]"
    );
}
