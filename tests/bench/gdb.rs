//! GDB server figures against the virtual Blue Pill, with the real gdb-multiarch (`cargo bench
//! --bench gdb`). Prints, each next to its floor:
//!
//! - DAP transactions per `stepi` (the step plus everything GDB reads to show the new frame),
//! - DAP transactions per `x/256xw` (a 1 KiB read),
//! - DAP transactions for `load` of the ~60 KiB image `f103-big.elf` (program + verify),
//! - the delay from a breakpoint hit to GDB's stop reply (GDB's own packet timestamps, `set
//!   debug remote 1` + `set debug timestamp on`), against a synchronous `stepi` round trip.
//!
//! Counts come from the virtual target's DAP counters (`monitor sim stats`). Nothing here is
//! asserted: these are figures to read, not timed tests.

#[path = "../gdb/harness.rs"]
mod harness;

use harness::{Server, ex, firmware};

/// `total N` from a `sim stats` line.
fn total(line: &str) -> u64 {
    line.split("total ")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// Field `name N` (e.g. `AP reads 12`) from a `sim stats` line.
fn field(line: &str, name: &str) -> u64 {
    line.split(name)
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.trim_end_matches([',', ';']).parse().ok())
        .unwrap_or(0)
}

/// Round trips (seconds) from `Sending packet: $<prefix>` to the next `Packet received: <reply>`.
fn round_trips(log: &str, prefix: &str, reply: &[&str]) -> Vec<f64> {
    let mut out = Vec::new();
    let mut sent: Option<f64> = None;
    for l in log.lines() {
        let t = l
            .split_whitespace()
            .next()
            .and_then(|w| w.parse::<f64>().ok());
        let Some(t) = t else { continue };
        if l.contains(&format!("Sending packet: ${prefix}")) {
            sent = Some(t);
        } else if l.contains("Sending packet:") {
            sent = None;
        } else if let Some(s) = sent
            && reply
                .iter()
                .any(|r| l.contains(&format!("Packet received: {r}")))
        {
            out.push(t - s);
            sent = None;
        }
    }
    out
}

fn stats(v: &[f64]) -> String {
    if v.is_empty() {
        return "no samples".into();
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let min = v.iter().cloned().fold(f64::MAX, f64::min);
    let max = v.iter().cloned().fold(0.0, f64::max);
    format!(
        "mean {:.1} ms, min {:.1} ms, max {:.1} ms over {} samples",
        mean * 1e3,
        min * 1e3,
        max * 1e3,
        v.len()
    )
}

fn main() {
    const STEPS: u64 = 20;
    const HITS: usize = 20;
    let s = Server::start();
    let big = firmware("f103-big.elf");
    let mut steps = vec![
        ex("monitor sim stats reset"),
        ex(&format!("load {}", big.display())),
        ex("monitor sim stats"),
        ex("load"),
        ex("monitor reset halt"),
        ex("break main"),
        ex("continue"),
        ex("delete"),
        ex("set debug timestamp on"),
        ex("set debug remote 1"),
        ex("monitor sim stats reset"),
        ex(&format!("stepi {STEPS}")),
        ex("monitor sim stats"),
        ex("monitor sim stats reset"),
        ex("x/256xw 0x20000000"),
        ex("monitor sim stats"),
        // A breakpoint inside delay()'s loop: hit within a few instructions of each resume.
        ex("break *0x0800015c"),
        ex("continue"),
        ex("monitor sim stats reset"),
    ];
    for _ in 0..HITS {
        steps.push(ex("continue"));
    }
    steps.push(ex("monitor sim stats"));
    steps.push(ex("set debug remote 0"));
    steps.push(ex("delete"));
    steps.push(ex("detach"));
    let out = s
        .gdb_command(&steps)
        .output()
        .expect("running gdb-multiarch");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // Monitor output goes to GDB's target stream (stderr in batch mode).
    let lines: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.starts_with("DP reads"))
        .collect();
    if lines.len() < 4 {
        eprintln!(
            "gdb run incomplete:\n--- stdout\n{stdout}\n--- stderr (tail)\n{}",
            stderr.lines().rev().take(40).collect::<Vec<_>>().join("\n")
        );
        std::process::exit(1);
    }
    let load_size: u64 = stdout
        .lines()
        .find_map(|l| {
            l.split("load size ")
                .nth(1)
                .and_then(|t| t.trim().parse().ok())
        })
        .unwrap_or(0);
    let words = load_size.div_ceil(4);

    println!(
        "GDB server benchmark (virtual STM32F103C8, gdb-multiarch, poll interval {} ms)",
        stdbg::gdb::POLL_INTERVAL.as_millis()
    );
    println!();
    println!(
        "load {} ({load_size} bytes):",
        big.file_name().unwrap().to_string_lossy()
    );
    println!("  {}", lines[0]);
    println!(
        "  floor: {words} AP writes to move the data into the flash algorithm's RAM buffer + {words} AP reads to verify = {} (plus per-page TAR/CSW writes and the algorithm's calls)",
        2 * words
    );
    let st = total(lines[1]);
    println!("stepi (x{STEPS}):");
    println!("  {}", lines[1]);
    println!(
        "  {:.1} transactions per stepi; goal <= 80: the step (CSW, ICSR, DHCSR reads and writes, the flash lock bits: about 17), the 7 registers expedited in the stop reply (38), GDB's 64-byte stack line (20); the code around the PC is kept from the first step",
        st as f64 / STEPS as f64
    );
    println!("x/256xw 0x20000000 (1 KiB):");
    println!("  {}", lines[2]);
    println!(
        "  {} transactions ({} AP reads); floor: 256 AP reads (DRW with auto-increment) + 1 TAR write",
        total(lines[2]),
        field(lines[2], "AP reads")
    );
    println!("continue to a breakpoint hit within a few instructions (x{HITS}):");
    println!("  {}", lines[3]);
    println!(
        "  {:.1} transactions per continue (resume, step off the breakpoint, polls, GDB's reads)",
        total(lines[3]) as f64 / HITS as f64
    );
    println!();
    let cont = round_trips(&stderr, "vCont;c", &["T05"]);
    let step = round_trips(&stderr, "vCont;s", &["S05", "T05"]);
    println!(
        "breakpoint hit -> stop reply (vCont;c sent -> T05 received, hit within a few instructions): {}",
        stats(&cont)
    );
    println!(
        "stepi round trip (vCont;s sent -> S05 received, no polling involved):                      {}",
        stats(&step)
    );
    println!(
        "  the session polls once right after the resume (so a hit within the resume is reported at once, as above), then every {} ms: a later hit waits at most one poll interval plus one poll (host poller + DHCSR/DFSR/PC reads)",
        stdbg::gdb::POLL_INTERVAL.as_millis()
    );
}
