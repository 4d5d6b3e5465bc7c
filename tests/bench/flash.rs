//! `cargo bench --bench flash`: programs and verifies a ~60 KiB image on each virtual chip
//! (STM32F103C8, STM32F303VC, STM32G474RE, STM32L476RG) through stdbg's own command path (the same
//! dispatcher, probe-rs session and flash loader the `stdbg` binary uses) and prints figures; it
//! asserts nothing about time.
//!
//! The F103 programs `tests/firmware/f103-big.elf`; the other chips program a raw image of the same
//! size (deterministic pseudo-random bytes, `flash write_image erase FILE 0x08000000 bin`), so the
//! figures compare the flash paths, not the images.
//!
//! Printed per chip: image bytes; DAP transactions (DP+AP register accesses counted by the sim)
//! for the write and for the verify; transactions per KiB against the floor of 512/KiB (one DRW
//! access per 4 bytes written plus one per 4 bytes read back); host wall time. Then the peak
//! resident memory of the whole run (VmHWM). Aims: ≤ 1.10× the floor (issue 12's goal for
//! program+verify; an older aim was 1.25×), < 150 ms in release, < 64 MiB.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stdbg::command::{Collect, Ctx, Origin, dispatch};
use stdbg::host::{Host, HostConfig};

fn run(host: &Host, line: &str) -> Vec<String> {
    let mut out = Collect::default();
    let mut ctx = Ctx::new(host, Origin::Cli, &mut out);
    if let Err(e) = dispatch(&mut ctx, line) {
        eprintln!("{}", out.text());
        panic!("'{line}' failed: {e}");
    }
    out.0
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One chip of the benchmark.
struct Bench {
    /// What the figures are printed under.
    chip: &'static str,
    /// Board script of the virtual chip.
    board: &'static str,
    /// The image as given to `flash write_image erase` / `verify_image` (path and its arguments).
    image: String,
    /// Image size, bytes.
    bytes: usize,
}

/// `len` deterministic pseudo-random bytes (xorshift32), written to `path`.
fn raw_image(path: &Path, len: usize) {
    let mut x: u32 = 0x2545_F491;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(path, bytes).expect("write the raw image");
}

fn bench(b: &Bench) {
    let host = Host::new(HostConfig::default());
    run(&host, &format!("script {}", b.board));
    run(&host, "sim storage none");
    run(&host, "init");
    run(&host, "reset halt");
    run(&host, "flash probe 0");
    let sim = host
        .conn()
        .as_ref()
        .and_then(|c| c.sim.clone())
        .expect("the sim adapter is connected");

    sim.reset_stats();
    let t0 = Instant::now();
    run(&host, &format!("flash write_image erase {}", b.image));
    let t_write = t0.elapsed();
    let write = sim.stats();

    sim.reset_stats();
    let t1 = Instant::now();
    run(&host, &format!("verify_image {}", b.image));
    let t_verify = t1.elapsed();
    let verify = sim.stats();
    host.disconnect();

    let kib = b.bytes as f64 / 1024.0;
    let total = write.total() + verify.total();
    let floor = 512.0;
    let per_kib = total as f64 / kib;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{}", b.chip);
    println!("  image bytes            {} ({kib:.1} KiB)", b.bytes);
    println!(
        "  DAP transactions       write {} (DP r/w {}/{}, AP r/w {}/{}), verify {} (AP reads {}), total {total}",
        write.total(),
        write.dp_reads,
        write.dp_writes,
        write.ap_reads,
        write.ap_writes,
        verify.total(),
        verify.ap_reads
    );
    println!(
        "  transactions per KiB   {per_kib:.1} (write {:.1} + verify {:.1}); floor {floor:.0}/KiB; ratio {:.3}x (goal <= 1.10x)",
        write.total() as f64 / kib,
        verify.total() as f64 / kib,
        per_kib / floor
    );
    println!(
        "  host wall time         {:.1} ms (write {:.1} ms + verify {:.1} ms; aim < 150 ms in release)",
        ms(t_write + t_verify),
        ms(t_write),
        ms(t_verify)
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let elf = root.join("tests/firmware/f103-big.elf");
    let bytes = stdbg::flashing::image::load(&elf, None, None)
        .expect("f103-big.elf parses")
        .len();
    let raw: PathBuf = std::env::temp_dir().join(format!("stdbg-bench-{}.bin", std::process::id()));
    raw_image(&raw, bytes);
    let raw_arg = format!("{} 0x08000000 bin", raw.display());
    println!(
        "flash benchmark: program + verify on the virtual chips ({})",
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    );
    let benches = [
        Bench {
            chip: "STM32F103C8 (board/sim-bluepill.rhai, f103-big.elf)",
            board: "board/sim-bluepill.rhai",
            image: elf.display().to_string(),
            bytes,
        },
        Bench {
            chip: "STM32F303VC (board/sim-stm32f3discovery.rhai, raw image)",
            board: "board/sim-stm32f3discovery.rhai",
            image: raw_arg.clone(),
            bytes,
        },
        Bench {
            chip: "STM32G474RE (board/sim-st_nucleo_g4.rhai, raw image)",
            board: "board/sim-st_nucleo_g4.rhai",
            image: raw_arg.clone(),
            bytes,
        },
        Bench {
            chip: "STM32L476RG (board/sim-st_nucleo_l4.rhai, raw image)",
            board: "board/sim-st_nucleo_l4.rhai",
            image: raw_arg,
            bytes,
        },
    ];
    for b in &benches {
        bench(b);
    }
    let _ = std::fs::remove_file(&raw);
    match vm_hwm_kib() {
        Some(k) => println!(
            "peak resident memory of the run: {:.1} MiB (VmHWM; aim < 64 MiB)",
            k as f64 / 1024.0
        ),
        None => println!("peak resident memory: unknown (/proc/self/status has no VmHWM)"),
    }
}
