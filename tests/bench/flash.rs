//! `cargo bench --bench flash`: programs and verifies `tests/firmware/f103-big.elf` on the
//! virtual STM32F103 through stdbg's own command path (the same dispatcher, probe-rs session and
//! flash loader the `stdbg` binary uses) and prints figures; it asserts nothing about time.
//!
//! Printed: image bytes; DAP transactions (DP+AP register accesses counted by the sim) for the
//! write and for the verify; transactions per KiB against the floor of 512/KiB (one DRW access per
//! 4 bytes written plus one per 4 bytes read back); host wall time; peak resident memory (VmHWM).
//! Aims: ≤ 1.25× the floor, < 150 ms in release, < 64 MiB.

use std::path::Path;
use std::time::Instant;

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

fn main() {
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/f103-big.elf");
    let elf = elf.display().to_string();
    let host = Host::new(HostConfig::default());
    run(&host, "script board/sim-bluepill.rhai");
    run(&host, "sim storage none");
    run(&host, "init");
    run(&host, "reset halt");
    run(&host, "flash probe 0");
    let sim = host
        .conn()
        .as_ref()
        .and_then(|c| c.sim.clone())
        .expect("the sim adapter is connected");
    let image =
        stdbg::flashing::image::load(Path::new(&elf), None, None).expect("f103-big.elf parses");
    let bytes = image.len();

    sim.reset_stats();
    let t0 = Instant::now();
    run(&host, &format!("flash write_image erase {elf}"));
    let t_write = t0.elapsed();
    let write = sim.stats();

    sim.reset_stats();
    let t1 = Instant::now();
    run(&host, &format!("verify_image {elf}"));
    let t_verify = t1.elapsed();
    let verify = sim.stats();

    let kib = bytes as f64 / 1024.0;
    let total = write.total() + verify.total();
    let floor = 512.0;
    let per_kib = total as f64 / kib;
    println!(
        "flash benchmark: f103-big.elf on the virtual STM32F103C8 ({})",
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    );
    println!("  image bytes            {bytes} ({kib:.1} KiB)");
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
        "  transactions per KiB   {per_kib:.1} (write {:.1} + verify {:.1}); floor {floor:.0}/KiB; ratio {:.3}x (aim <= 1.25x)",
        write.total() as f64 / kib,
        verify.total() as f64 / kib,
        per_kib / floor
    );
    println!(
        "  host wall time         {:.1} ms (write {:.1} ms + verify {:.1} ms; aim < 150 ms in release)",
        (t_write + t_verify).as_secs_f64() * 1e3,
        t_write.as_secs_f64() * 1e3,
        t_verify.as_secs_f64() * 1e3
    );
    match vm_hwm_kib() {
        Some(k) => println!(
            "  peak resident memory   {:.1} MiB (VmHWM; aim < 64 MiB)",
            k as f64 / 1024.0
        ),
        None => println!("  peak resident memory   unknown (/proc/self/status has no VmHWM)"),
    }
    host.disconnect();
}
