//! `cargo bench --bench rtt`: what one RTT poll costs on the wire. Prints figures; asserts
//! nothing about time.
//!
//! `f103-rtt.elf` runs on the virtual Blue Pill (two up channels, one down channel); the host
//! polls it with [`Host::rtt_poll_once`], the function the host thread's poller calls at every
//! `rtt polling_interval`. The sim counts every SWD transaction (DP and AP register accesses, as
//! a CMSIS-DAP probe's firmware issues them, see `src/sim/stats.rs`). Printed, per poll:
//! * idle: both up channels empty (nothing queued for the down channel);
//! * one `tick N` line on up channel 0 (after 100 ms);
//! * an echo on up channel 1 plus one `tick N`, after `rtt write 0 ping` (and the cost of that
//!   write itself);
//! * over 20 polls 100 ms apart: the minimum, mean and maximum.

use std::time::Duration;

use stdbg::command::{Collect, Ctx, Origin, dispatch};
use stdbg::host::{Host, HostConfig};
use stdbg::sim::DapStats;

fn run(host: &Host, line: &str) -> Vec<String> {
    let mut out = Collect::default();
    let mut ctx = Ctx::new(host, Origin::Cli, &mut out);
    if let Err(e) = dispatch(&mut ctx, line) {
        eprintln!("{}", out.text());
        panic!("'{line}' failed: {e}");
    }
    out.0
}

fn words(s: &DapStats) -> String {
    format!(
        "{} (DP r/w {}/{}, AP r/w {}/{})",
        s.total(),
        s.dp_reads,
        s.dp_writes,
        s.ap_reads,
        s.ap_writes
    )
}

fn main() {
    let host = Host::new(HostConfig::default());
    host.serial().set_stdout(false);
    run(&host, "script board/sim-bluepill.rhai");
    run(&host, "sim storage none");
    run(&host, "program tests/firmware/f103-rtt.elf verify reset");
    run(&host, "rtt start");
    let sim = host
        .conn()
        .as_ref()
        .and_then(|c| c.sim.clone())
        .expect("the sim adapter is connected");
    let poll = || {
        sim.reset_stats();
        let r = host.rtt_poll_once().expect("an RTT poll");
        (r, sim.stats())
    };
    // Drain what accumulated since the reset.
    std::thread::sleep(Duration::from_millis(150));
    poll();
    let (_, idle) = poll();
    std::thread::sleep(Duration::from_millis(110));
    let (tick_r, tick) = poll();
    sim.reset_stats();
    run(&host, "rtt write 0 ping");
    let write = sim.stats();
    std::thread::sleep(Duration::from_millis(250));
    let (echo_r, echo) = poll();

    let mut totals = Vec::new();
    let mut bytes = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        let (r, s) = poll();
        bytes += r.read;
        totals.push(s.total());
    }
    host.disconnect();
    let min = totals.iter().min().copied().unwrap_or(0);
    let max = totals.iter().max().copied().unwrap_or(0);
    let mean = totals.iter().sum::<u64>() as f64 / totals.len() as f64;
    println!("RTT poll on the virtual STM32F103 (f103-rtt.elf: 2 up channels, 1 down channel)");
    println!("  idle poll (no data)              {}", words(&idle));
    println!(
        "  poll with one line ({} bytes)     {}",
        tick_r.read,
        words(&tick)
    );
    println!("  rtt write 0 ping (5 bytes)       {}", words(&write));
    println!(
        "  poll with echo + tick ({} bytes) {}",
        echo_r.read,
        words(&echo)
    );
    println!(
        "  20 polls 100 ms apart            min {min}, mean {mean:.1}, max {max} transactions ({bytes} bytes read)"
    );
}
