//! `cargo bench --bench race`: the same work on one kind of virtual chip (STM32F103C8, blank
//! flash each run) through three paths, and the figures side by side; it asserts nothing about
//! time.
//!
//! Paths: Debian's OpenOCD 0.12 over remote_bitbang (JTAG), stdbg over remote_bitbang (the
//! `stdbg` binary as a client of the same server), and stdbg in-process (the library on the
//! virtual chip's own probe, as `stdbg -f board/sim-bluepill.rhai` does). The remote_bitbang
//! server runs in this process (`stdbg::server::remote_bitbang::run_counted`), so it counts the
//! bytes each way and the answer batches (TCP round trips the client waited for), and the chip
//! counts the DAP transactions (DP + AP register accesses).
//!
//! Work: `program tests/firmware/f103-big.elf verify` (~60 KiB), `mdw 0x20000000 1024`, and
//! `step` ×100 after `reset halt`. For the two client processes, each figure is the run with the
//! work minus the same run without it (`init; shutdown`), so process start-up and `init` are
//! not counted; in-process runs time the commands alone.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stdbg::command::{Collect, Ctx, Origin, dispatch};
use stdbg::host::{Host, HostConfig};
use stdbg::server::remote_bitbang::{WireCounters, run_counted};
use stdbg::sim::Sim;

fn run(host: &Host, line: &str) {
    let mut out = Collect::default();
    let mut ctx = Ctx::new(host, Origin::Cli, &mut out);
    if let Err(e) = dispatch(&mut ctx, line) {
        eprintln!("{}", out.text());
        panic!("'{line}' failed: {e}");
    }
}

/// A blank virtual STM32F103C8 (its own host keeps it alive).
fn chip() -> (Host, Sim) {
    let host = Host::new(HostConfig::default());
    run(&host, "script board/sim-bluepill.rhai");
    run(&host, "sim storage none");
    run(&host, "remote_bitbang_port 0");
    run(&host, "init");
    let sim = host
        .served_sim()
        .expect("init with remote_bitbang_port serves the chip");
    (host, sim)
}

/// What one measurement cost.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    wall: Duration,
    bytes_in: u64,
    bytes_out: u64,
    round_trips: u64,
    dap: u64,
}

impl Cost {
    fn minus(self, base: Cost) -> Cost {
        Cost {
            wall: self.wall.saturating_sub(base.wall),
            bytes_in: self.bytes_in.saturating_sub(base.bytes_in),
            bytes_out: self.bytes_out.saturating_sub(base.bytes_out),
            round_trips: self.round_trips.saturating_sub(base.round_trips),
            dap: self.dap.saturating_sub(base.dap),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Client {
    OpenOcd,
    /// stdbg over JTAG, as OpenOCD 0.12.
    Stdbg,
    /// stdbg over remote_bitbang's SWD extension (`transport select swd`).
    StdbgSwd,
}

/// Runs `client` against a fresh served chip with `cmds` (after `init`), then `shutdown`; the
/// client's first error line when it fails.
fn client_run(client: Client, dir: &Path, cmds: &[String]) -> Result<Cost, String> {
    let (_host, sim) = chip();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let counters = Arc::new(WireCounters::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = {
        let (sim, counters) = (sim.clone(), counters.clone());
        std::thread::spawn(move || run_counted(listener, sim, stop_rx, counters))
    };
    sim.reset_stats();
    let mut c = match client {
        Client::OpenOcd => Command::new("openocd"),
        Client::Stdbg | Client::StdbgSwd => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_stdbg"));
            c.env("HOME", dir).env("XDG_CACHE_HOME", dir.join("cache"));
            c
        }
    };
    c.args([
        "-c",
        &format!(
            "adapter driver remote_bitbang; remote_bitbang port {port}; transport select {}",
            if client == Client::StdbgSwd {
                "swd"
            } else {
                "jtag"
            }
        ),
        "-f",
        "target/stm32f1x.cfg",
        "-c",
        "gdb_port disabled; tcl_port disabled; telnet_port disabled",
        "-c",
        "init",
    ]);
    for cmd in cmds {
        c.args(["-c", cmd]);
    }
    c.args(["-c", "shutdown"]);
    let t0 = Instant::now();
    let out = c
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("starting the client (is openocd installed? apt-get install openocd)");
    let wall = t0.elapsed();
    let _ = stop_tx.send(true);
    let _ = server.join();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err
            .lines()
            .find(|l| l.starts_with("Error"))
            .unwrap_or("failed")
            .to_string());
    }
    let (bytes_in, bytes_out, round_trips) = counters.get();
    Ok(Cost {
        wall,
        bytes_in,
        bytes_out,
        round_trips,
        dap: sim.stats().total(),
    })
}

/// `work` minus `base`, both client runs.
fn net(work: Result<Cost, String>, base: Result<Cost, String>) -> Result<Cost, String> {
    Ok(work?.minus(base?))
}

/// Runs `cmds` with stdbg's library on the virtual chip's own probe (after `init`).
fn in_process_run(setup: &[&str], cmds: &[String]) -> Cost {
    let host = Host::new(HostConfig::default());
    run(&host, "script board/sim-bluepill.rhai");
    run(&host, "sim storage none");
    run(&host, "init");
    for s in setup {
        run(&host, s);
    }
    let sim = host
        .conn()
        .as_ref()
        .and_then(|c| c.sim.clone())
        .expect("the sim adapter is connected");
    sim.reset_stats();
    let t0 = Instant::now();
    for c in cmds {
        run(&host, c);
    }
    let wall = t0.elapsed();
    let dap = sim.stats().total();
    host.disconnect();
    Cost {
        wall,
        dap,
        ..Cost::default()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "-".into()
    } else {
        format!("{:.2}x", a / b)
    }
}

/// Prints the table of `work` and the stdbg/OpenOCD ratios, followed by `note` (the goal or
/// the floor that applies).
fn report(work: &str, note: &str, rows: [(&str, Result<Cost, String>, bool); 4]) {
    println!("{work}");
    println!(
        "  {:<34} {:>10} {:>12} {:>12} {:>12} {:>10}",
        "path", "wall ms", "bytes out", "bytes in", "round trips", "DAP tx"
    );
    for (name, c, wire) in &rows {
        match c {
            Ok(c) if *wire => println!(
                "  {name:<34} {:>10.1} {:>12} {:>12} {:>12} {:>10}",
                ms(c.wall),
                c.bytes_in,
                c.bytes_out,
                c.round_trips,
                c.dap
            ),
            Ok(c) => println!(
                "  {name:<34} {:>10.1} {:>12} {:>12} {:>12} {:>10}",
                ms(c.wall),
                "-",
                "-",
                "-",
                c.dap
            ),
            Err(e) => println!("  {name:<34} failed: {e}"),
        }
    }
    if let (Ok(o), Ok(s)) = (&rows[0].1, &rows[1].1) {
        println!(
            "  stdbg/OpenOCD over the same wire (JTAG): wall {}, bytes to the chip {}, round trips {}, DAP tx {} ({note})",
            ratio(ms(s.wall), ms(o.wall)),
            ratio(s.bytes_in as f64, o.bytes_in as f64),
            ratio(s.round_trips as f64, o.round_trips as f64),
            ratio(s.dap as f64, o.dap as f64)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no options.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("stdbg-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let elf = root.join("tests/firmware/f103-big.elf");
    let bytes = stdbg::flashing::image::load(&elf, None, None)
        .expect("f103-big.elf parses")
        .len();
    println!(
        "race: OpenOCD 0.12 and stdbg on the virtual STM32F103C8 ({} build of stdbg)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("  'bytes out' = bytes the client sent, 'bytes in' = TDO answers it received");

    let base = |c: Client| client_run(c, &dir, &[]);
    let (ob, sb, wb) = (
        base(Client::OpenOcd),
        base(Client::Stdbg),
        base(Client::StdbgSwd),
    );
    let race = |work: &str, note: &str, cmds: &[String], setup: &[String], inproc: Cost| {
        let with = |c: Client, b: &Result<Cost, String>| {
            let base = if setup.is_empty() {
                b.clone()
            } else {
                client_run(c, &dir, setup)
            };
            net(client_run(c, &dir, cmds), base)
        };
        report(
            work,
            note,
            [
                (
                    "OpenOCD over remote_bitbang (JTAG)",
                    with(Client::OpenOcd, &ob),
                    true,
                ),
                (
                    "stdbg over remote_bitbang (JTAG)",
                    with(Client::Stdbg, &sb),
                    true,
                ),
                (
                    "stdbg over remote_bitbang (SWD ext)",
                    with(Client::StdbgSwd, &wb),
                    true,
                ),
                ("stdbg in-process", Ok(inproc), false),
            ],
        );
    };

    let program = vec![format!("program {} verify", elf.display())];
    race(
        &format!("program + verify f103-big.elf ({bytes} bytes)"),
        "goal: wall <= 0.50x, bytes <= 0.50x",
        &program,
        &[],
        in_process_run(&[], &program),
    );

    let halt = vec!["halt".to_string()];
    let mdw = vec!["halt".to_string(), "mdw 0x20000000 1024".to_string()];
    race(
        "mdw 0x20000000 1024 (4 KiB of RAM)",
        "bytes floor: 1024 DRW read scans of 40 TCKs and 35 TDO reads, 117 760 bytes; no goal set",
        &mdw,
        &halt,
        in_process_run(&["halt"], &mdw[1..]),
    );

    // Stepping needs code: the chip's flash is blank, so step a RAM loop (`b .` at 0x20000000).
    let ram_loop = [
        "reset halt",
        "mwh 0x20000000 0xe7fe",
        "reg pc 0x20000000",
        "reg xPSR 0x01000000",
    ];
    let setup: Vec<String> = ram_loop.iter().map(|s| s.to_string()).collect();
    let mut steps = setup.clone();
    steps.extend((0..100).map(|_| "step".to_string()));
    race(
        "step x100",
        "no goal set",
        &steps,
        &setup,
        in_process_run(&ram_loop, &steps[ram_loop.len()..]),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
