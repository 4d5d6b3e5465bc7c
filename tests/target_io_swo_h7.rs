//! SWO / ITM on the virtual STM32H743 (RM0433 §60): the h743-itm firmware's ITM writes leave
//! through the SWTF funnel and the SWO at 0xE00E3000 on APB-D (AP2) as the exact ITM packet
//! stream (the SWO has no formatter), at TRACECLKIN/(SWO_CODR+1) in virtual time, only with
//! DBGMCU_CR's TRACECLKEN/D1DBGCKEN/D3DBGCKEN, SWTF_CTRL.ENS0 and PB3 in AF0; through
//! OpenOCD's commands on `stm32h7x.swo` (targets/stm32h7x.rhai), probe-rs's `SwoAccess` and
//! probe-rs's own `setup_tracing`.

mod common;
mod sim_support;

use std::time::Duration;

use probe_rs::architecture::arm::FullyQualifiedApAddress;
use probe_rs::architecture::arm::swo::SwoConfig;
use probe_rs::{MemoryInterface, Session};
use sim_support::{TIMEOUT, download, firmware, itm_iteration as iteration, read_swo, sim_of};
use stdbg::sim::{ChipModel, Sim};

const DBGMCU_CR: u64 = 0xE00E_1004;
const SWO_CODR: u64 = 0xE00E_3010;
const SWO_SPPR: u64 = 0xE00E_30F0;
const SWTF_CTRL: u64 = 0xE00E_4000;
/// RCC_AHB4ENR (GPIOBEN bit 1) and GPIOB_MODER (reset 0xFFFFFEBF: PB3 alternate function).
const RCC_AHB4ENR: u64 = 0x5802_44E0;
const GPIOB_MODER: u64 = 0x5802_0400;
/// HSI: the firmware keeps the reset clock.
const TRACECLK: u32 = 64_000_000;

/// Asserts that `got`, after the first whole iteration in it, is exactly the firmware's
/// stream from there on; returns how many iterations that covers.
fn assert_exact_stream(got: &[u8]) -> usize {
    let (k, pos) = (0..10_000u32)
        .find_map(|k| {
            let it = iteration(k);
            got.windows(it.len()).position(|w| w == it).map(|p| (k, p))
        })
        .unwrap_or_else(|| panic!("no whole iteration in {} bytes: {got:02x?}", got.len()));
    let rest = &got[pos..];
    let want: Vec<u8> = (k..k + 10_000)
        .flat_map(iteration)
        .take(rest.len())
        .collect();
    assert_eq!(rest, &want[..], "stream from iteration {k}");
    let whole = (k..).take_while(|&n| {
        let end: usize = (k..=n).map(|m| iteration(m).len()).sum();
        end <= rest.len()
    });
    whole.count()
}

fn attach(sim: &Sim) -> Session {
    probe_rs::probe::Probe::from_specific_probe(Box::new(sim.probe()))
        .attach("STM32H743ZITx", probe_rs::Permissions::default())
        .expect("attach as STM32H743ZITx")
}

fn ap2_write(session: &mut Session, addr: u64, v: u32) {
    let iface = session.get_arm_interface().unwrap();
    let ap2 = FullyQualifiedApAddress::v1_with_default_dp(2);
    let mut mem = iface.memory_interface(&ap2).unwrap();
    mem.write_word_32(addr, v).unwrap();
}

fn ap2_read(session: &mut Session, addr: u64) -> u32 {
    let iface = session.get_arm_interface().unwrap();
    let ap2 = FullyQualifiedApAddress::v1_with_default_dp(2);
    let mut mem = iface.memory_interface(&ap2).unwrap();
    mem.read_word_32(addr).unwrap()
}

/// Programs h743-itm, halts it at its reset vector, programs the SWO through AP2 (CODR, SPPR
/// = 2 NRZ), SWTF_CTRL.ENS0 when `funnel`, starts the probe's capture at `baud` and runs.
/// probe-rs's STM32H7 sequence has set DBGMCU_CR's debug and trace clocks at attach.
fn setup(codr: u32, funnel: bool, baud: u32) -> (Sim, Session) {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    download(&mut session, &firmware("h743-itm.elf")).unwrap();
    session.core(0).unwrap().reset_and_halt(TIMEOUT).unwrap();
    ap2_write(&mut session, SWO_CODR, codr);
    ap2_write(&mut session, SWO_SPPR, 2);
    if funnel {
        ap2_write(&mut session, SWTF_CTRL, 0x301);
    }
    session
        .get_arm_interface()
        .unwrap()
        .enable_swo(&SwoConfig::new(TRACECLK).set_baud(baud))
        .unwrap();
    session.core(0).unwrap().run().unwrap();
    (sim, session)
}

#[test]
fn swo_registers_on_ap2_identify_as_coresight_swo() {
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    // CoreSight SWO: part 0x914 (PIDR0 0x14, PIDR1 0xB9), DEVTYPE 0x11, DEVID: NRZ,
    // Manchester, no synchronous port; no formatter (FFCR reads 0).
    assert_eq!(ap2_read(&mut session, 0xE00E_3FE0), 0x14);
    assert_eq!(ap2_read(&mut session, 0xE00E_3FE4), 0xB9);
    assert_eq!(ap2_read(&mut session, 0xE00E_3FCC), 0x11);
    assert_eq!(ap2_read(&mut session, 0xE00E_3FC8), 0xEA0);
    ap2_write(&mut session, 0xE00E_3304, 0x102);
    assert_eq!(ap2_read(&mut session, 0xE00E_3304), 0);
    ap2_write(&mut session, SWO_CODR, 31);
    assert_eq!(ap2_read(&mut session, SWO_CODR), 31);
    // SWTF_CTRL after reset: HT = 3, both slave ports off.
    assert_eq!(ap2_read(&mut session, SWTF_CTRL), 0x300);
    // The Cortex-M7 has no TPIU in its PPB on the H7.
    let mut core = session.core(0).unwrap();
    assert!(core.read_word_32(0xE004_0010).is_err());
    // The core's view of APB-D reaches the same SWO.
    assert_eq!(core.read_word_32(SWO_CODR).unwrap(), 31);
}

#[test]
fn itm_writes_are_the_exact_swo_stream() {
    // 64 MHz / 32 = 2 Mbit/s.
    let (sim, mut session) = setup(31, true, 2_000_000);
    sim.run_for(Duration::from_millis(200));
    let got = read_swo(&mut session);
    let n = assert_exact_stream(&got);
    println!("{} bytes, {n} whole iterations", got.len());
    assert!(n >= 20, "{n} iterations");
}

#[test]
fn bytes_leave_at_a_tenth_of_the_baud_rate_in_virtual_time() {
    // 64 MHz / 6400 = 10 kBd: 1000 bytes/s; / 8192 (the 13-bit CODR maximum): 781.25 bytes/s.
    // The firmware pauses less than the 16-byte FIFO takes to drain: the pin never idles.
    for (codr, bytes_per_s) in [(6399u32, 1000f64), (8191, 781.25)] {
        let (sim, mut session) = setup(codr, true, TRACECLK / (codr + 1));
        sim.run_for(Duration::from_millis(50));
        drop(read_swo(&mut session));
        let t0 = sim.virtual_time();
        sim.run_for(Duration::from_secs(1));
        let n = read_swo(&mut session).len() as f64;
        let dt = (sim.virtual_time() - t0).as_secs_f64();
        let rate = n / dt;
        println!("SWO_CODR {codr}: {n} bytes in {dt:.4} s of virtual time = {rate:.1} bytes/s");
        assert!(
            (rate - bytes_per_s).abs() / bytes_per_s < 0.02,
            "SWO_CODR {codr}: {rate} bytes/s, want {bytes_per_s}"
        );
    }
}

#[test]
fn without_the_funnel_the_trace_clocks_or_pb3_af0_nothing_comes_out() {
    // SWTF_CTRL.ENS0 clear (its reset state): silent.
    let (sim, mut session) = setup(31, false, 2_000_000);
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).is_empty());
    // ENS0 set: the stream comes.
    ap2_write(&mut session, SWTF_CTRL, 0x301);
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).len() > 100);
    // DBGMCU_CR without TRACECLKEN (bit 20), then without D3DBGCKEN (bit 22): silent again.
    let cr = ap2_read(&mut session, DBGMCU_CR);
    assert_eq!(
        cr & 0x0070_0000,
        0x0070_0000,
        "probe-rs's sequence set the clocks"
    );
    for bit in [20, 22, 21] {
        ap2_write(&mut session, DBGMCU_CR, cr & !(1 << bit));
        sim.run_for(Duration::from_millis(20));
        drop(read_swo(&mut session));
        sim.run_for(Duration::from_millis(100));
        assert!(
            read_swo(&mut session).is_empty(),
            "DBGMCU_CR bit {bit} clear"
        );
        ap2_write(&mut session, DBGMCU_CR, cr);
        sim.run_for(Duration::from_millis(100));
        assert!(read_swo(&mut session).len() > 100, "bit {bit} set again");
    }
    // PB3 as a GPIO output instead of TRACESWO (AF0): silent; back to AF0: the stream.
    let mut core = session.core(0).unwrap();
    core.write_word_32(RCC_AHB4ENR, 1 << 1).unwrap();
    core.write_word_32(GPIOB_MODER, 0xFFFF_FE7F).unwrap();
    drop(core);
    sim.run_for(Duration::from_millis(20));
    drop(read_swo(&mut session));
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).is_empty(), "PB3 not in AF0");
    session
        .core(0)
        .unwrap()
        .write_word_32(GPIOB_MODER, 0xFFFF_FEBF)
        .unwrap();
    sim.run_for(Duration::from_millis(100));
    assert!(read_swo(&mut session).len() > 100, "PB3 in AF0 again");
}

#[test]
fn openocd_commands_on_stm32h7x_swo_capture_the_stream_and_print_itm0_lines() {
    let dir = common::tempdir();
    let out = dir.path().join("swo.bin");
    let elf = firmware("h743-itm.elf");
    let cfg = format!(
        "stm32h7x.swo configure -protocol uart -traceclk 64000000 -pin-freq 2000000 -output {}",
        out.display()
    );
    let r = common::fresh_board_run(
        dir.path(),
        "board/sim-st_nucleo_h743zi.rhai",
        &[
            &format!("program {} verify reset", elf.display()),
            "itm port 0 on",
            "itm port 1 on",
            &cfg,
            "stm32h7x.swo enable",
            "sleep 400",
            "stm32h7x.swo disable",
            "stm32h7x.ap2 mdw 0xE00E1004",
            "stm32h7x.ap2 mdw 0xE00E3010",
            "stm32h7x.ap2 mdw 0xE00E30F0",
            "stm32h7x.ap2 mdw 0xE00E4000",
            "shutdown",
        ],
    );
    r.expect_code(0);
    // examine-end: D3DBGCKEN | D1DBGCKEN | TRACECLKEN and the D1/D2 low-power bits; the SWO
    // programmed by `enable` (64 MHz / 2 MHz = 32: CODR 31, SPPR 2 NRZ); SWTF_CTRL ENS0|ENS1.
    common::assert_has(&r.stdout, "0xe00e1004: 0070003f");
    common::assert_has(&r.stdout, "0xe00e3010: 0000001f");
    common::assert_has(&r.stdout, "0xe00e30f0: 00000002");
    common::assert_has(&r.stdout, "0xe00e4000: 00000303");
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
    // The file holds the raw stream (no formatter on the SWO), exactly the firmware's.
    let bytes = std::fs::read(&out).unwrap();
    let n = assert_exact_stream(&bytes);
    assert!(
        n >= lines.len() - 1,
        "{n} iterations in the file, {} lines",
        lines.len()
    );
}

#[test]
fn probe_rs_setup_tracing_finds_the_h7_swo_and_gets_the_stream() {
    use probe_rs::architecture::arm::component::TraceSink;
    let sim = sim_of(ChipModel::Stm32h743zi);
    let mut session = attach(&sim);
    download(&mut session, &firmware("h743-itm.elf")).unwrap();
    session.core(0).unwrap().reset_and_halt(TIMEOUT).unwrap();
    // probe-rs's own path: the STM32H7 sequence's trace_start (CSTF off, SWTF port 0 on),
    // the SWO found by its ROM-table walk (part 0x914), CODR/SPPR, the probe's capture.
    session
        .setup_tracing(
            0,
            TraceSink::Swo(SwoConfig::new(TRACECLK).set_baud(2_000_000)),
        )
        .unwrap();
    assert_eq!(ap2_read(&mut session, SWTF_CTRL) & 1, 1);
    assert_eq!(ap2_read(&mut session, SWO_CODR), 31);
    session.core(0).unwrap().run().unwrap();
    sim.run_for(Duration::from_millis(200));
    let out = session.read_trace_data().unwrap();
    let n = assert_exact_stream(&out);
    assert!(n >= 10, "{n} iterations in {} bytes", out.len());
}
