//! Helpers shared by the `sim_*` tests: a virtual STM32F103 without storage, probe-rs
//! attached to it, firmware downloads, error chains.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use probe_rs::flashing::{
    DownloadOptions, ElfLoader, ElfOptions, FileDownloadError, download_file_with_options,
};
use probe_rs::probe::Probe;
use probe_rs::{Core, Permissions, Session};
use stdbg::sim::{ChipModel, Sim, SimConfig};

/// FPEC registers (RM0008 §3.4; PM0075 §4).
pub const FLASH_KEYR: u64 = 0x4002_2004;
pub const FLASH_OPTKEYR: u64 = 0x4002_2008;
pub const FLASH_SR: u64 = 0x4002_200C;
pub const FLASH_CR: u64 = 0x4002_2010;
pub const FLASH_AR: u64 = 0x4002_2014;
pub const FLASH_OBR: u64 = 0x4002_201C;
pub const FLASH_WRPR: u64 = 0x4002_2020;
/// The FPEC unlock key sequence (PM0075 §2.3.1).
pub const KEY1: u32 = 0x4567_0123;
pub const KEY2: u32 = 0xCDEF_89AB;

/// Timeout for halts and resets through probe-rs.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// Path of a committed firmware image in `tests/firmware`.
pub fn firmware(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/firmware")
        .join(name)
}

/// A virtual `chip` without storage (erased flash, factory option bytes).
pub fn sim_of(chip: ChipModel) -> Sim {
    Sim::new(SimConfig {
        chip,
        storage: None,
    })
    .expect("sim")
}

/// A virtual STM32F103C8 without storage.
pub fn fresh() -> Sim {
    sim_of(ChipModel::Stm32f103c8)
}

/// probe-rs attached to `sim` as an STM32F103C8.
pub fn attach(sim: &Sim) -> Result<Session, probe_rs::Error> {
    Probe::from_specific_probe(Box::new(sim.probe())).attach("STM32F103C8", Permissions::default())
}

/// probe-rs attached to `sim` as an STM32F103C8 with NRST held during the connect.
pub fn attach_under_reset(sim: &Sim) -> Result<Session, probe_rs::Error> {
    Probe::from_specific_probe(Box::new(sim.probe()))
        .attach_under_reset("STM32F103C8", Permissions::default())
}

/// Programs `elf` through probe-rs's flash loader, with verify.
pub fn download(session: &mut Session, elf: &Path) -> Result<(), FileDownloadError> {
    let mut opts = DownloadOptions::default();
    opts.verify = true;
    download_file_with_options(session, elf, ElfLoader(ElfOptions::default()), opts)
}

/// `e` and all its sources, joined by " / ".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(" / ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Runs the halted `core` until it reaches `addr` (a hardware breakpoint, removed again).
pub fn run_to(core: &mut Core, addr: u64) {
    core.set_hw_breakpoint(addr).unwrap();
    core.run().unwrap();
    core.wait_for_core_halted(Duration::from_secs(5)).unwrap();
    core.clear_hw_breakpoint(addr).unwrap();
}

/// Assembles a Thumb-2 program for a Cortex-M4 linked at SRAM 0x2000_0000
/// with the GNU Arm toolchain (`arm-none-eabi-gcc`, `objcopy`): its bytes.
pub fn assemble(src: &str) -> Vec<u8> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("stdbg-asm-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (s, elf, bin): (PathBuf, PathBuf, PathBuf) =
        (dir.join("p.S"), dir.join("p.elf"), dir.join("p.bin"));
    std::fs::write(&s, src).unwrap();
    let status = std::process::Command::new("arm-none-eabi-gcc")
        .args([
            "-mcpu=cortex-m4",
            "-mthumb",
            "-nostdlib",
            "-Wl,-Ttext=0x20000000",
            "-o",
        ])
        .arg(&elf)
        .arg(&s)
        .status()
        .expect("arm-none-eabi-gcc is required for this test (install the GNU Arm toolchain)");
    assert!(status.success(), "assembling the RAM program failed");
    let status = std::process::Command::new("arm-none-eabi-objcopy")
        .args(["-O", "binary"])
        .arg(&elf)
        .arg(&bin)
        .status()
        .expect("arm-none-eabi-objcopy is required for this test");
    assert!(status.success(), "objcopy failed");
    let img = std::fs::read(&bin).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    img
}

/// Deterministic pseudo-random bytes (xorshift32 from `seed`).
pub fn pattern(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The ITM packets `f103-itm` and `h743-itm` write in iteration `n` with ITM_TER = 0b11
/// (ARMv7-M ARM §D4.2.8): "hello n\n" one byte at a time on port 0 (header 0x01), n as 2
/// bytes on port 1 (0x0A), 0x12345678 + n as 4 bytes on port 1 (0x0B); nothing for port 2.
pub fn itm_iteration(n: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for c in format!("hello {n}\n").bytes() {
        v.extend([0x01, c]);
    }
    v.push(0x0A);
    v.extend((n as u16).to_le_bytes());
    v.push(0x0B);
    v.extend((0x1234_5678u32 + n).to_le_bytes());
    v
}

/// The SWO bytes the probe captured since the last read (no waiting).
pub fn read_swo(session: &mut Session) -> Vec<u8> {
    session
        .get_arm_interface()
        .unwrap()
        .read_swo_timeout(Duration::ZERO)
        .unwrap()
}
