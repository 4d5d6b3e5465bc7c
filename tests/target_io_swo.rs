//! SWO / ITM on the virtual Blue Pill: the f103-itm firmware's ITM writes become the exact
//! SWO byte stream (instrumentation packets, formatter frames), at TRACECLKIN/(ACPR+1) in
//! virtual time, gated by ITM_TER and DBGMCU_CR.TRACE_IOEN, captured through probe-rs's
//! `SwoAccess`; and the OpenOCD commands (`tpiu create|names|config`, `<tpiu>
//! configure|cget|enable`, `itm port(s)`) with their file and TCP outputs, `[itm0]` console
//! lines; the commands and their errors are in `target_io_swo_cli.rs`.

mod common;
mod sim_support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use probe_rs::MemoryInterface;
use probe_rs::architecture::arm::swo::SwoConfig;
use sim_support::{
    TIMEOUT, attach, download, firmware, fresh, itm_iteration as iteration, read_swo,
};
use stdbg::sim::Sim;

const DBGMCU_CR: u64 = 0xE004_2004;
const TPIU_ACPR: u64 = 0xE004_0010;
const TPIU_SPPR: u64 = 0xE004_00F0;
const TPIU_FFCR: u64 = 0xE004_0304;
/// HSI: the firmware leaves the reset clock.
const HCLK: u32 = 8_000_000;

fn stream(iterations: u32) -> Vec<u8> {
    (0..iterations).flat_map(iteration).collect()
}

/// Programs f103-itm, halts it at its reset vector and sets the TPIU up as a debugger does:
/// TRACE_IOEN (unless `pin` is false), ACPR, SPPR = 2 (NRZ), FFCR; then starts the probe's
/// capture at `baud` and lets the firmware run.
fn setup(acpr: u32, ffcr: u32, pin: bool, baud: u32) -> (Sim, probe_rs::Session) {
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    download(&mut session, &firmware("f103-itm.elf")).unwrap();
    {
        let mut core = session.core(0).unwrap();
        core.reset_and_halt(TIMEOUT).unwrap();
        if pin {
            core.write_word_32(DBGMCU_CR, 0x20).unwrap();
        }
        core.write_word_32(TPIU_ACPR, acpr).unwrap();
        core.write_word_32(TPIU_SPPR, 2).unwrap();
        core.write_word_32(TPIU_FFCR, ffcr).unwrap();
    }
    session
        .get_arm_interface()
        .unwrap()
        .enable_swo(&SwoConfig::new(HCLK).set_baud(baud))
        .unwrap();
    session.core(0).unwrap().run().unwrap();
    (sim, session)
}

/// The data bytes of trace source `want` in formatter frames (CoreSight DDI 0314H §9.6.1).
fn deformat(frames: &[u8], want: u8) -> Vec<u8> {
    let mut id = 0;
    let mut out = Vec::new();
    for f in frames.chunks_exact(16) {
        let mut i = 0;
        while i < 15 {
            let lsb = (f[15] >> (i / 2)) & 1;
            if i % 2 == 1 {
                if id == want {
                    out.push(f[i]);
                }
            } else if f[i] & 1 == 0 {
                if id == want {
                    out.push(f[i] | lsb);
                }
            } else {
                let next = if lsb == 1 { id } else { f[i] >> 1 };
                id = f[i] >> 1;
                if i < 14 {
                    i += 1;
                    if next == want {
                        out.push(f[i]);
                    }
                }
            }
            i += 1;
        }
    }
    out
}

#[test]
fn itm_writes_are_the_exact_swo_stream_in_bypass() {
    // 8 MHz / (7 + 1) = 1 MBd.
    let (sim, mut session) = setup(7, 0x100, true, 1_000_000);
    sim.run_for(Duration::from_millis(200));
    let out = read_swo(&mut session);
    let want = stream(100);
    assert!(out.len() > 300, "only {} bytes: {out:02x?}", out.len());
    assert_eq!(out[..], want[..out.len()], "{out:02x?}");
}

#[test]
fn formatter_frames_carry_the_same_stream_with_the_itm_id() {
    let (sim, mut session) = setup(7, 0x102, true, 1_000_000);
    sim.run_for(Duration::from_millis(200));
    let out = read_swo(&mut session);
    assert!(
        out.len() >= 160 && out.len().is_multiple_of(16),
        "{} bytes",
        out.len()
    );
    for f in out.chunks_exact(16) {
        assert_eq!(
            f[0],
            (1 << 1) | 1,
            "frame starts with ID 1 (TraceBusID): {f:02x?}"
        );
    }
    let data = deformat(&out, 1);
    let want = stream(100);
    assert!(data.len() > 100);
    assert_eq!(data[..], want[..data.len()]);
}

#[test]
fn bytes_leave_at_a_tenth_of_the_baud_rate_in_virtual_time() {
    // 8 MHz / 1600 = 5 kBd: 500 bytes/s; 8 MHz / 3200: 250 bytes/s. The bytes left in the
    // FIFO when the firmware pauses (≥ 11) last longer than its 10 ms pause, so the pin
    // never idles: the firmware is throttled by FIFOREADY.
    for (acpr, bytes_per_s) in [(1599u32, 500f64), (3199, 250.0)] {
        let (sim, mut session) = setup(acpr, 0x100, true, HCLK / (acpr + 1));
        sim.run_for(Duration::from_millis(50));
        drop(read_swo(&mut session));
        let t0 = sim.virtual_time();
        sim.run_for(Duration::from_secs(1));
        let n = read_swo(&mut session).len() as f64;
        let dt = (sim.virtual_time() - t0).as_secs_f64();
        let rate = n / dt;
        println!("ACPR {acpr}: {n} bytes in {dt:.4} s of virtual time = {rate:.1} bytes/s");
        assert!(
            (rate - bytes_per_s).abs() / bytes_per_s < 0.02,
            "ACPR {acpr}: {rate} bytes/s, want {bytes_per_s}"
        );
    }
}

#[test]
fn without_trace_ioen_the_pin_stays_silent() {
    let (sim, mut session) = setup(7, 0x100, false, 1_000_000);
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).is_empty());
    // The same run with the pin enabled gets the stream.
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    core.write_word_32(DBGMCU_CR, 0x20).unwrap();
    core.run().unwrap();
    drop(core);
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).len() > 100);
}

#[test]
fn ter_gating_drops_disabled_ports() {
    let (sim, mut session) = setup(7, 0x100, true, 1_000_000);
    // Only port 0: ITM_TER = 1 (the debugger's write wins over the firmware's 0b11).
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        core.write_word_32(0xE000_0E00, 1).unwrap();
        core.run().unwrap();
    }
    sim.run_for(Duration::from_millis(100));
    let _ = read_swo(&mut session);
    sim.run_for(Duration::from_millis(100));
    let out = read_swo(&mut session);
    assert!(out.len() > 100);
    for p in out.chunks(2) {
        assert_eq!(p[0], 0x01, "only port-0 byte packets: {out:02x?}");
    }
    // ITMENA off: nothing at all.
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        core.write_word_32(0xE000_0E80, 0x0001_0000).unwrap();
        core.run().unwrap();
    }
    sim.run_for(Duration::from_millis(50));
    let _ = read_swo(&mut session);
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).is_empty());
}

#[test]
fn the_probe_refuses_a_baud_it_cannot_capture_and_gets_nothing_at_the_wrong_one() {
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    let e = session
        .get_arm_interface()
        .unwrap()
        .enable_swo(&SwoConfig::new(72_000_000).set_baud(18_000_000))
        .unwrap_err();
    let text = sim_support::error_chain(&e);
    assert!(
        text.contains("the virtual probe cannot capture SWO at 18000000 Bd"),
        "{text}"
    );
    drop(session);
    // Pin at 1 MBd, capture at 2 MBd: framing errors, no bytes.
    let (sim, mut session) = setup(7, 0x100, true, 2_000_000);
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).is_empty());
}

// ---- through the binary ----

/// ITM instrumentation packets of `bytes` (headers 0x01/0x0A/0x0B only): (port, payload).
fn packets(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut v = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let h = bytes[i];
        let n = match h & 3 {
            1 => 1,
            2 => 2,
            3 => 4,
            _ => panic!("byte {i}: 0x{h:02x} is not an instrumentation header in {bytes:02x?}"),
        };
        if i + 1 + n > bytes.len() {
            break;
        }
        v.push((h >> 3, bytes[i + 1..i + 1 + n].to_vec()));
        i += 1 + n;
    }
    v
}

#[test]
fn commands_capture_to_a_file_and_print_itm0_lines() {
    let dir = common::tempdir();
    let out = dir.path().join("swo.bin");
    let elf = firmware("f103-itm.elf");
    let cfg = format!(
        "stm32f1x.tpiu configure -protocol uart -traceclk 8000000 -pin-freq 1000000 -output {}",
        out.display()
    );
    let r = common::fresh_board_run(
        dir.path(),
        "board/sim-bluepill.rhai",
        &[
            &format!("program {} verify reset", elf.display()),
            "itm port 0 on",
            "itm port 1 on",
            &cfg,
            "stm32f1x.tpiu enable",
            "sleep 400",
            "stm32f1x.tpiu disable",
            "mdw 0xE0042004",
            "shutdown",
        ],
    );
    r.expect_code(0);
    let lines: Vec<&str> = r
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("[itm0] "))
        .collect();
    assert!(lines.len() >= 5, "{}", r.stdout);
    let first: u32 = lines[0]["[itm0] hello ".len()..].parse().unwrap();
    for (k, l) in lines.iter().enumerate() {
        assert_eq!(
            *l,
            format!("[itm0] hello {}", first + k as u32),
            "{}",
            r.stdout
        );
    }
    // The pre-enable event of targets/stm32f1x.rhai set TRACE_IOEN on top of examine-end's 0x307.
    common::assert_has(&r.stdout, "0xe0042004: 00000327");
    // The file holds the raw stream: port 0 text, port 1's two writes per line.
    let bytes = std::fs::read(&out).unwrap();
    let mut text = Vec::new();
    let mut checked = 0;
    for (port, payload) in packets(&bytes) {
        match (port, payload.len()) {
            (0, 1) => text.push(payload[0]),
            (1, 2) => {}
            (1, 4) => {
                let line = String::from_utf8_lossy(&text).into_owned();
                let line = line
                    .trim_end()
                    .rsplit('\n')
                    .next()
                    .unwrap_or("")
                    .to_string();
                if let Some(n) = line.strip_prefix("hello ") {
                    let n: u32 = n.parse().unwrap();
                    assert_eq!(payload, (0x1234_5678u32 + n).to_le_bytes());
                    checked += 1;
                }
            }
            other => panic!("unexpected packet {other:?}"),
        }
    }
    assert!(checked >= 5, "{checked}");
    let text = String::from_utf8(text).unwrap();
    for l in &lines {
        assert!(
            text.contains(&format!("{}\n", &l["[itm0] ".len()..])),
            "{l}"
        );
    }
}

#[test]
fn tcp_output_on_port_0_serves_the_raw_stream() {
    let dir = common::tempdir();
    let elf = firmware("f103-itm.elf");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stdbg"))
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .args([
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            "sim storage none",
            "-c",
            common::QUIET,
        ])
        .args(["-c", &format!("program {} verify reset", elf.display())])
        .args(["-c", "itm ports on"])
        .args([
            "-c",
            "stm32f1x.tpiu configure -protocol uart -traceclk 8000000 -pin-freq 2000000 -output :0",
        ])
        .args([
            "-c",
            "stm32f1x.tpiu enable",
            "-c",
            "sleep 3000",
            "-c",
            "shutdown",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut port = None;
    let mut log = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if let Some(p) = line
            .split("starting trace server for stm32f1x.tpiu on ")
            .nth(1)
        {
            port = Some(p.trim().parse::<u16>().unwrap());
            break;
        }
    }
    let port = port.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("no trace server line:\n{log}")
    });
    assert_ne!(port, 0);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    while got.len() < 400 && Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(got.len() >= 400, "{} bytes", got.len());
    let hello: Vec<u8> = b"hello ".iter().flat_map(|&c| [0x01, c]).collect();
    assert!(got.windows(hello.len()).any(|w| w == hello), "{got:02x?}");
    // `itm ports on` enables port 2 too: its byte packets (header 0x11, 'x') appear.
    assert!(got.windows(2).any(|w| w == [0x11, b'x']), "{got:02x?}");
}

#[test]
fn probe_rs_setup_tracing_and_read_trace_data_get_the_stream() {
    use probe_rs::architecture::arm::component::TraceSink;
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    download(&mut session, &firmware("f103-itm.elf")).unwrap();
    session.core(0).unwrap().reset_and_halt(TIMEOUT).unwrap();
    // probe-rs's own SWO path: DWT, ITM (all ports, timestamps asked for), TPIU, probe capture.
    session
        .setup_tracing(0, TraceSink::Swo(SwoConfig::new(HCLK).set_baud(1_000_000)))
        .unwrap();
    session
        .core(0)
        .unwrap()
        .write_word_32(DBGMCU_CR, 0x20)
        .unwrap();
    session.core(0).unwrap().run().unwrap();
    sim.run_for(Duration::from_millis(200));
    let out = session.read_trace_data().unwrap();
    let want = stream(100);
    assert!(out.len() > 300, "{} bytes: {out:02x?}", out.len());
    assert_eq!(out[..], want[..out.len()]);
}

#[test]
fn enable_before_init_is_deferred_to_tpiu_init() {
    let dir = common::tempdir();
    let storage = common::programmed_chip(dir.path(), "f103-itm.elf");
    let (code, all, lines) = {
        let r = common::board_run(
            dir.path(),
            &storage,
            &[],
            &[
                "itm port 0 on",
                "stm32f1x.tpiu configure -protocol uart -traceclk 8000000 -pin-freq 500000 -output -",
                "stm32f1x.tpiu enable",
                "init",
                "reset run",
                "sleep 300",
                "stm32f1x.tpiu cget -pin-freq",
                "shutdown",
            ],
        );
        let all = format!("{}{}", r.stdout, r.stderr);
        (
            r.code,
            all,
            r.stdout.lines().map(String::from).collect::<Vec<_>>(),
        )
    };
    assert_eq!(code, 0, "{all}");
    // `-output -`: consoles only; the firmware restarted at reset, so its first line is there.
    assert!(lines.iter().any(|l| l == "[itm0] hello 0"), "{all}");
    assert!(lines.iter().any(|l| l == "500000"), "{all}");
}
