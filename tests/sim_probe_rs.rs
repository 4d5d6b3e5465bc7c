//! The virtual STM32F103 driven through probe-rs's real ARM stack and flash loader.

use std::path::Path;
use std::time::Duration;

use probe_rs::{BreakpointCause, CoreStatus, HaltReason, MemoryInterface};

mod sim_support;
use sim_support::{TIMEOUT, attach, attach_under_reset, download, firmware, fresh, run_to};

const BLINKY_MAIN_LOOP: u64 = 0x0800_0194;
const COUNTER: u64 = 0x2000_0004;

/// `arm-none-eabi-objcopy -O binary` of `elf` (the image as it lies in flash from 0x0800_0000).
fn objcopy_binary(elf: &Path) -> Vec<u8> {
    let out = std::env::temp_dir().join(format!(
        "stdbg-sim-{}-{}.bin",
        std::process::id(),
        elf.file_stem().unwrap().to_string_lossy()
    ));
    let status = std::process::Command::new("arm-none-eabi-objcopy")
        .args(["-O", "binary"])
        .arg(elf)
        .arg(&out)
        .status()
        .expect("arm-none-eabi-objcopy is required for this test (install the GNU Arm toolchain)");
    assert!(status.success(), "objcopy failed");
    let bin = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bin
}

fn run_until<F: FnMut(&mut probe_rs::Core) -> bool>(
    core: &mut probe_rs::Core,
    mut done: F,
) -> bool {
    // Every DAP access lets the core run for its wire time, so this polls in
    // simulated time, independent of the host's speed.
    for _ in 0..20_000 {
        if done(core) {
            return true;
        }
    }
    false
}

#[test]
fn ram_access_8_16_32_and_block_cost() {
    let sim = fresh();
    let mut session = attach(&sim).expect("attach");
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();

    core.write_word_32(0x2000_0100, 0x1122_3344).unwrap();
    assert_eq!(core.read_word_32(0x2000_0100).unwrap(), 0x1122_3344);
    core.write_word_8(0x2000_0101, 0xAB).unwrap();
    assert_eq!(core.read_word_8(0x2000_0101).unwrap(), 0xAB);
    assert_eq!(core.read_word_32(0x2000_0100).unwrap(), 0x1122_AB44);
    core.write_word_16(0x2000_0102, 0xBEEF).unwrap();
    assert_eq!(core.read_word_16(0x2000_0102).unwrap(), 0xBEEF);
    assert_eq!(core.read_word_32(0x2000_0100).unwrap(), 0xBEEF_AB44);

    let pattern: Vec<u32> = (0..256u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
    core.write_32(0x2000_0400, &pattern).unwrap();
    let mut back = vec![0u32; 256];
    sim.reset_stats();
    core.read_32(0x2000_0400, &mut back).unwrap();
    let stats = sim.stats();
    assert_eq!(back, pattern);
    // Floor: one posted AP read (DRW) per word. Overhead: TAR/CSW setup and RDBUFF.
    assert!(stats.ap_reads >= 256, "{stats:?}");
    assert!(
        stats.total() <= 256 + 8,
        "1 KiB block read cost {} transactions: {stats:?}",
        stats.total()
    );

    // Memory that does not exist: bus error → FAULT → error, and the link recovers.
    assert!(core.read_word_32(0x6000_0000).is_err());
    assert!(core.read_word_32(0x2000_5000).is_err(), "SRAM is 20 KiB");
    assert!(
        core.read_word_32(0x0801_0000).is_err(),
        "flash of a C8 is 64 KiB"
    );
    assert_eq!(
        core.read_word_32(0x4000_5000).unwrap(),
        0,
        "unimplemented peripheral reads 0"
    );
    assert_eq!(core.read_word_32(0x2000_0100).unwrap(), 0xBEEF_AB44);
}

#[test]
fn download_blinky_matches_objcopy_and_runs() {
    let elf = firmware("f103-blinky.elf");
    let image = objcopy_binary(&elf);
    let sim = fresh();
    let mut session = attach(&sim).expect("attach");
    download(&mut session, &elf).expect("download");

    let mut core = session.core(0).unwrap();
    let mut readback = vec![0u8; image.len()];
    core.halt(TIMEOUT).unwrap();
    core.read(0x0800_0000, &mut readback).unwrap();
    assert!(
        readback == image,
        "flash read back through the DAP differs from objcopy output"
    );
    assert!(sim.read_nonvolatile(0x0800_0000, image.len()) == image);
    assert!(sim.read_nonvolatile(0, image.len()) == image, "alias at 0");
    assert!(
        sim.read_nonvolatile(0x0800_0000 + image.len() as u32, 16)
            .iter()
            .all(|b| *b == 0xFF)
    );

    // reset_and_halt: PC = reset handler, SP = initial SP from the vector table.
    let sp0 = u32::from_le_bytes(image[0..4].try_into().unwrap());
    let reset = u32::from_le_bytes(image[4..8].try_into().unwrap());
    core.reset_and_halt(TIMEOUT).unwrap();
    let pc: u32 = core.read_core_reg(core.program_counter()).unwrap();
    let sp: u32 = core.read_core_reg(core.stack_pointer()).unwrap();
    assert_eq!(pc, reset & !1);
    assert_eq!(sp, sp0);

    // Run: the counter increases and PC13 toggles.
    core.run().unwrap();
    let c0 = core.read_word_32(COUNTER).unwrap();
    let led0 = sim.gpio_odr('C') & (1 << 13);
    let mut toggles = 0;
    let mut last = led0;
    let ok = run_until(&mut core, |core| {
        let led = sim.gpio_odr('C') & (1 << 13);
        if led != last {
            toggles += 1;
            last = led;
        }
        core.read_word_32(COUNTER).unwrap() >= c0 + 3 && toggles >= 2
    });
    assert!(ok, "counter/LED did not advance (toggles {toggles})");
    assert!(matches!(core.status().unwrap(), CoreStatus::Running));
    core.halt(TIMEOUT).unwrap();
    let crh = core.read_word_32(0x4001_1004).unwrap();
    assert_eq!(crh, 0x4424_4444);
}

#[test]
fn breakpoint_step_and_watchpoint() {
    let sim = fresh();
    let mut session = attach(&sim).expect("attach");
    download(&mut session, &firmware("f103-blinky.elf")).expect("download");
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(TIMEOUT).unwrap();

    // FPB breakpoint in the main loop.
    core.set_hw_breakpoint(BLINKY_MAIN_LOOP).unwrap();
    core.run().unwrap();
    core.wait_for_core_halted(Duration::from_secs(5)).unwrap();
    assert!(matches!(
        core.status().unwrap(),
        CoreStatus::Halted(HaltReason::Breakpoint(
            BreakpointCause::Hardware | BreakpointCause::Unknown
        ))
    ));
    let pc: u32 = core.read_core_reg(core.program_counter()).unwrap();
    assert_eq!(pc as u64, BLINKY_MAIN_LOOP);
    // Running again stops at the same place on the next iteration.
    core.run().unwrap();
    core.wait_for_core_halted(Duration::from_secs(5)).unwrap();
    let pc: u32 = core.read_core_reg(core.program_counter()).unwrap();
    assert_eq!(pc as u64, BLINKY_MAIN_LOOP);
    core.clear_hw_breakpoint(BLINKY_MAIN_LOOP).unwrap();

    // Step: exactly one instruction (16- or 32-bit) further.
    let info = core.step().unwrap();
    assert!(
        info.pc == BLINKY_MAIN_LOOP + 2 || info.pc == BLINKY_MAIN_LOOP + 4,
        "pc {:#x}",
        info.pc
    );
    let pc2 = core.step().unwrap().pc;
    assert!(
        pc2 > info.pc && pc2 <= info.pc + 4 || pc2 < BLINKY_MAIN_LOOP,
        "pc {pc2:#x}"
    );

    // Back to the top of the loop, before `counter` is loaded and stored.
    run_to(&mut core, BLINKY_MAIN_LOOP);

    // DWT write watchpoint on `counter` (FUNCTION = 0b0110), DEMCR.TRCENA.
    let demcr = core.read_word_32(0xE000_EDFC).unwrap();
    core.write_word_32(0xE000_EDFC, demcr | (1 << 24)).unwrap();
    core.write_word_32(0xE000_1020, COUNTER as u32).unwrap(); // DWT_COMP0
    core.write_word_32(0xE000_1024, 0).unwrap(); // DWT_MASK0
    core.write_word_32(0xE000_1028, 0x6).unwrap(); // DWT_FUNCTION0
    core.write_word_32(0xE000_ED30, 0x1F).unwrap(); // clear DFSR
    let before = core.read_word_32(COUNTER).unwrap();
    core.run().unwrap();
    // Poll DHCSR.S_HALT by hand: probe-rs's status() would read and clear DFSR.
    let halted = run_until(&mut core, |core| {
        core.read_word_32(0xE000_EDF0).unwrap() & (1 << 17) != 0
    });
    assert!(halted, "watchpoint did not halt the core");
    let dfsr = core.read_word_32(0xE000_ED30).unwrap();
    assert_ne!(dfsr & (1 << 2), 0, "DFSR.DWTTRAP, dfsr = {dfsr:#x}");
    assert_eq!(core.read_word_32(COUNTER).unwrap(), before.wrapping_add(1));
    let function0 = core.read_word_32(0xE000_1028).unwrap();
    assert_ne!(function0 & (1 << 24), 0, "FUNCTION0.MATCHED");
    assert_eq!(
        core.read_word_32(0xE000_1028).unwrap() & (1 << 24),
        0,
        "MATCHED clears on read"
    );
    assert!(matches!(
        core.status().unwrap(),
        CoreStatus::Halted(HaltReason::Watchpoint)
    ));
}

#[test]
fn attach_under_reset_and_vector_catch() {
    let sim = fresh();
    {
        let mut session = attach(&sim).expect("attach");
        download(&mut session, &firmware("f103-blinky.elf")).expect("download");
    }
    let mut session = attach_under_reset(&sim).expect("attach under reset");
    let mut core = session.core(0).unwrap();
    // probe-rs sets DEMCR.VC_CORERESET before releasing NRST: halted at the reset handler.
    core.wait_for_core_halted(TIMEOUT).unwrap();
    let pc: u32 = core.read_core_reg(core.program_counter()).unwrap();
    assert_eq!(pc, 0x0800_00F0);
}

#[test]
fn wfi_puts_the_core_to_sleep_and_halt_wakes_it() {
    // f103-stop enters Stop (SLEEPDEEP); stop at its WFI and clear SLEEPDEEP
    // from the debugger so that the WFI is a plain Sleep, which keeps the
    // debugger working (RM0008 §5.3.3).
    const WFI: u64 = 0x0800_0190;
    let sim = fresh();
    let mut session = attach(&sim).expect("attach");
    download(&mut session, &firmware("f103-stop.elf")).expect("download");
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(TIMEOUT).unwrap();
    run_to(&mut core, WFI);
    // The firmware's SCR write (SLEEPDEEP) is visible to the debugger.
    assert_eq!(
        core.read_word_32(0xE000_ED10).unwrap() & 4,
        4,
        "SCR.SLEEPDEEP"
    );
    core.write_word_32(0xE000_ED10, 0).unwrap();
    core.run().unwrap();
    let asleep = run_until(&mut core, |core| {
        matches!(core.status().unwrap(), CoreStatus::Sleeping)
    });
    assert!(asleep, "core did not reach WFI");
    assert_ne!(
        core.read_word_32(0xE000_EDF0).unwrap() & (1 << 18),
        0,
        "DHCSR.S_SLEEP"
    );
    assert_eq!(core.read_word_32(0x2000_0000).unwrap(), 1, "counter");
    core.halt(TIMEOUT).unwrap();
    let pc: u32 = core.read_core_reg(core.program_counter()).unwrap();
    assert_eq!(pc, 0x0800_0192, "halted after the WFI");
}
