//! `cargo bench --bench sim`: how fast the virtual chip runs code, and how its
//! virtual time keeps up with real time. Prints figures; asserts nothing
//! about time.
//!
//! Printed:
//! * instructions per second of an integer loop on the Cortex-M3 (STM32F103)
//!   and of a single-precision loop on the Cortex-M4F (STM32F303), at 72 MHz
//!   (so that the real-time throttle is not the limit), each with halting
//!   debug off (the core runs as if no debugger were attached) and on (a
//!   debugger attached: every instruction is checked for breakpoints);
//! * `f103-hal.elf` at 72 MHz: the wall time of its `HAL_Delay(1000)` with no
//!   debugger traffic, and while a debugger polls the core every 10 ms (as
//!   stdbg's GDB server does during `continue`), and the ratio of virtual to
//!   real time over that run.

use std::time::{Duration, Instant};

use probe_rs::flashing::{DownloadOptions, ElfLoader, ElfOptions, download_file_with_options};
use probe_rs::probe::Probe;
use probe_rs::{Core, MemoryInterface, Permissions, RegisterId, Session};
use stdbg::sim::{ChipModel, Sim, SimConfig};

const DHCSR: u64 = 0xE000_EDF0;
const DBGKEY: u32 = 0xA05F_0000;
const CPACR: u64 = 0xE000_ED88;

/// `int_loop`: adds r0,#1; eors r2,r0; subs r1,#1; bne int_loop; then
/// str r1,[r3]; b . (r3 = the flag address, written 0 when done).
const INT_LOOP: [u16; 6] = [0x3001, 0x4042, 0x3901, 0xd1fb, 0x6019, 0xe7fe];
/// `float_loop`: vadd.f32 s0,s0,s1; vmul.f32 s2,s0,s1; subs r1,#1;
/// bne float_loop; then str r1,[r3]; b .
const FLOAT_LOOP: [u16; 8] = [
    0xee30, 0x0a20, 0xee20, 0x1a20, 0x3901, 0xd1f9, 0x6019, 0xe7fe,
];
const CODE: u64 = 0x2000_0100;
const FLAG: u64 = 0x2000_0000;

fn sim(chip: ChipModel) -> Sim {
    Sim::new(SimConfig {
        chip,
        storage: None,
    })
    .expect("virtual chip")
}

fn attach(sim: &Sim, target: &str) -> Session {
    Probe::from_specific_probe(Box::new(sim.probe()))
        .attach(target, Permissions::default())
        .expect("attach")
}

/// Runs `code` from RAM for `iterations` loop rounds; returns the
/// instructions executed and the wall time, polling the done flag every 10 ms.
fn run_loop(
    sim: &Sim,
    core: &mut Core<'_>,
    code: &[u16],
    iterations: u32,
    debug: bool,
) -> (u64, Duration) {
    // Halting debug back on (the previous run may have left it off).
    core.write_word_32(DHCSR, DBGKEY | 0b11).unwrap();
    core.reset_and_halt(Duration::from_millis(500))
        .expect("reset halt");
    let bytes: Vec<u8> = code.iter().flat_map(|h| h.to_le_bytes()).collect();
    core.write_8(CODE, &bytes).unwrap();
    core.write_word_32(FLAG, 1).unwrap();
    core.write_word_32(CPACR, 0x00F0_0000).unwrap();
    // 72 MHz (HSE × 9), so that the real-time throttle does not limit the
    // measurement: FLASH_ACR latency 2, HSEON, PLL from HSE ×9, APB1 /2, SW = PLL.
    core.write_word_32(0x4002_2000, 0x32).unwrap();
    core.write_word_32(0x4002_1000, 0x0001_0083).unwrap();
    core.write_word_32(0x4002_1004, (7 << 18) | (1 << 16) | (4 << 8))
        .unwrap();
    core.write_word_32(0x4002_1000, 0x0101_0083).unwrap();
    core.write_word_32(0x4002_1004, (7 << 18) | (1 << 16) | (4 << 8) | 2)
        .unwrap();
    core.write_core_reg(RegisterId(1), iterations).unwrap();
    core.write_core_reg(RegisterId(3), FLAG as u32).unwrap();
    core.write_core_reg(RegisterId(15), CODE as u32).unwrap();
    let before = sim.exec_stats().instructions;
    let t = Instant::now();
    if debug {
        core.run().unwrap();
    } else {
        // Leave halting debug: the core runs as with no debugger attached.
        core.write_word_32(DHCSR, DBGKEY).unwrap();
    }
    loop {
        std::thread::sleep(Duration::from_millis(10));
        if core.read_word_32(FLAG).unwrap() == 0 {
            break;
        }
    }
    let wall = t.elapsed();
    (sim.exec_stats().instructions - before, wall)
}

fn mips((n, wall): (u64, Duration)) -> f64 {
    n as f64 / wall.as_secs_f64() / 1e6
}

fn loops() {
    let s = sim(ChipModel::Stm32f103c8);
    let mut session = attach(&s, "STM32F103C8");
    let mut core = session.core(0).unwrap();
    let free = run_loop(&s, &mut core, &INT_LOOP, 5_000_000, false);
    let dbg = run_loop(&s, &mut core, &INT_LOOP, 5_000_000, true);
    println!(
        "integer loop, Cortex-M3: {:.1} MIPS without a debugger, {:.1} MIPS with halting debug ({} instructions)",
        mips(free),
        mips(dbg),
        free.0
    );
    drop(core);
    drop(session);
    let s = sim(ChipModel::Stm32f303vc);
    let mut session = attach(&s, "STM32F303VC");
    let mut core = session.core(0).unwrap();
    let free = run_loop(&s, &mut core, &FLOAT_LOOP, 4_000_000, false);
    let dbg = run_loop(&s, &mut core, &FLOAT_LOOP, 4_000_000, true);
    println!(
        "float loop, Cortex-M4F: {:.1} MIPS without a debugger, {:.1} MIPS with halting debug ({} instructions)",
        mips(free),
        mips(dbg),
        free.0
    );
}

/// `f103-hal.elf`: wall time of `HAL_Delay(1000)` (from `stage` 3 to
/// `delay_1000_done`), polling the result block every `poll`.
fn hal_delay(poll: Duration, label: &str) {
    let s = sim(ChipModel::Stm32f103c8);
    let mut session = attach(&s, "STM32F103C8");
    let elf = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/f103-hal.elf");
    let mut opts = DownloadOptions::default();
    opts.verify = true;
    download_file_with_options(&mut session, elf, ElfLoader(ElfOptions::default()), opts)
        .expect("program");
    let mut core = session.core(0).unwrap();
    core.reset().unwrap();
    s.reset_exec_stats();
    let t0 = Instant::now();
    let mut start = None;
    let end;
    loop {
        std::thread::sleep(poll);
        if poll < Duration::from_millis(50) {
            // A debugger's poll: DHCSR, as stdbg's GDB server does while GDB waits.
            let _ = core.read_word_32(DHCSR);
        }
        let stage = core.read_word_32(0x2000_0004).unwrap();
        if start.is_none() && stage >= 3 {
            start = Some(Instant::now());
        }
        if core.read_word_32(0x2000_0050).unwrap() == 1 {
            end = Instant::now();
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "HAL_Delay(1000) did not end"
        );
    }
    let e = s.exec_stats();
    let start = start.unwrap_or(t0);
    println!(
        "HAL_Delay(1000) at 72 MHz, {label}: {:.2} s wall (resolution {} ms); virtual/real {:.2}x over the run, {} instructions, {:.1}% of the cycles skipped",
        (end - start).as_secs_f64(),
        poll.as_millis(),
        e.ratio(),
        e.instructions,
        100.0 * e.skipped_cycles as f64 / e.cycles.max(1) as f64
    );
}

fn main() {
    loops();
    hal_delay(
        Duration::from_millis(100),
        "no debugger traffic (read every 100 ms)",
    );
    hal_delay(Duration::from_millis(10), "a debugger polling every 10 ms");
}
