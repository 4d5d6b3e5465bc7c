//! Fault injection at each layer of the virtual STM32F103.

use probe_rs::architecture::arm::{ArmError, DapError};
use probe_rs::probe::{DebugProbe, Probe};
use probe_rs::{MemoryInterface, Permissions};
use stdbg::sim::Fault;

mod sim_support;
use sim_support::{TIMEOUT, attach, error_chain, fresh};

#[test]
fn no_power_attach_fails_without_ack() {
    let sim = fresh();
    sim.inject(Fault::NoPower);
    let mut probe = sim.probe();
    assert_eq!(probe.get_target_voltage().unwrap(), Some(0.0));
    let Err(err) = attach(&sim) else {
        panic!("attach must fail on an unpowered target")
    };
    let chain = error_chain(&err);
    assert!(
        matches!(err, probe_rs::Error::Arm(ArmError::NoTargetResponse { .. }))
            || chain.to_lowercase().contains("acknowledge")
            || chain.to_lowercase().contains("respon"),
        "{err:?}"
    );
    let stats = sim.stats();
    assert!(
        stats.no_acks > 0 && stats.no_acks == stats.total(),
        "{stats:?}"
    );
    // Power back: attach works.
    sim.clear_faults();
    assert!(sim.faults().is_empty());
    attach(&sim).expect("attach after power-up");
}

#[test]
fn disconnect_after_cuts_the_link() {
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(core.read_word_32(0xE004_2000).unwrap(), 0x2003_6410);
    sim.inject(Fault::DisconnectAfter(5));
    let mut failed = false;
    for _ in 0..10 {
        if let Err(e) = core.read_word_32(0xE004_2000) {
            let chain = error_chain(&e);
            assert!(
                chain.contains("did not respond") || chain.to_lowercase().contains("acknowledge"),
                "{chain}"
            );
            failed = true;
            break;
        }
    }
    assert!(failed, "link still alive after the disconnect");
    assert!(sim.stats().no_acks > 0);
    assert!(
        core.read_word_32(0x2000_0000).is_err(),
        "stays disconnected"
    );
}

#[test]
fn line_errors_above_speed_and_recovery_by_slowing_down() {
    let sim = fresh();
    sim.inject(Fault::LineErrorsAboveKhz(1000));
    let mut probe = sim.probe();
    assert_eq!(probe.set_speed(4000).unwrap(), 4000);
    let session =
        Probe::from_specific_probe(Box::new(probe)).attach("STM32F103C8", Permissions::default());
    assert!(session.is_err(), "4 MHz must fail on a bad line");
    let mut probe = sim.probe();
    assert_eq!(
        probe.set_speed(1100).unwrap(),
        1000,
        "speed table rounds down"
    );
    let mut session = Probe::from_specific_probe(Box::new(probe))
        .attach("STM32F103C8", Permissions::default())
        .unwrap();
    let mut core = session.core(0).unwrap();
    assert_eq!(core.read_word_32(0xE004_2000).unwrap(), 0x2003_6410);
}

#[test]
fn ap_wait_is_retried_by_the_probe() {
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    sim.inject(Fault::ApWait(3));
    sim.reset_stats();
    core.write_word_32(0x2000_0000, 0xCAFE_F00D).unwrap();
    assert_eq!(core.read_word_32(0x2000_0000).unwrap(), 0xCAFE_F00D);
    let stats = sim.stats();
    assert!(stats.waits >= 3 * stats.ap_writes.min(1), "{stats:?}");
    assert!(stats.waits > 0 && stats.faults == 0, "{stats:?}");
}

#[test]
fn injected_bus_error_faults_the_access_only() {
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    sim.inject(Fault::BusErrorAt {
        start: 0x2000_1000,
        end: 0x2000_1004,
    });
    let e = core.read_word_32(0x2000_1000).unwrap_err();
    assert!(
        error_chain(&e).contains("ault") || format!("{e:?}").contains("FaultResponse"),
        "{e:?}"
    );
    assert!(sim.stats().faults > 0);
    core.write_word_32(0x2000_1004, 7).unwrap();
    assert_eq!(core.read_word_32(0x2000_1004).unwrap(), 7);
}

#[test]
fn raw_dap_fault_response_for_sticky_error() {
    use probe_rs::architecture::arm::{RawDapAccess, RegisterAddress, dp::DpRegisterAddress};
    let sim = fresh();
    let mut p = sim.probe();
    // JTAG-to-SWD switch and line reset, then the mandatory DPIDR read.
    p.swj_sequence(51, 0x0007_FFFF_FFFF_FFFF).unwrap();
    p.swj_sequence(16, 0xE79E).unwrap();
    p.swj_sequence(51, 0x0007_FFFF_FFFF_FFFF).unwrap();
    p.swj_sequence(3, 0).unwrap();
    let dp = |address| {
        RegisterAddress::DpRegister(DpRegisterAddress {
            address,
            bank: Some(0),
        })
    };
    // Before DPIDR: locked out (no ACK).
    assert!(matches!(
        p.raw_read_register(dp(4)),
        Err(ArmError::Dap(DapError::NoAcknowledge))
    ));
    assert_eq!(p.raw_read_register(dp(0)).unwrap(), 0x1BA0_1477);
    // Power up debug and system domains; ACKs mirror the requests.
    p.raw_write_register(dp(4), 0x5000_0000).unwrap();
    let ctrl = p.raw_read_register(dp(4)).unwrap();
    assert_eq!(ctrl & 0xF000_0000, 0xF000_0000);
    // AP0 IDR (bank 0xF) and BASE.
    p.raw_write_register(dp(8), 0x0000_00F0).unwrap();
    assert_eq!(
        p.raw_read_register(RegisterAddress::ApRegister(0xFC))
            .unwrap(),
        0x1477_0011
    );
    assert_eq!(
        p.raw_read_register(RegisterAddress::ApRegister(0xF8))
            .unwrap(),
        0xE00F_F003
    );
    // TAR at a hole in the memory map, DRW read → sticky error → FAULT; the
    // probe clears STICKYERR through ABORT like probe-rs's CMSIS-DAP driver.
    p.raw_write_register(dp(8), 0).unwrap();
    p.raw_write_register(RegisterAddress::ApRegister(0x00), 0x2300_0012)
        .unwrap();
    p.raw_write_register(RegisterAddress::ApRegister(0x04), 0x6000_0000)
        .unwrap();
    assert!(matches!(
        p.raw_read_register(RegisterAddress::ApRegister(0x0C)),
        Err(ArmError::Dap(DapError::FaultResponse))
    ));
    assert_eq!(
        p.raw_read_register(dp(4)).unwrap() & (1 << 5),
        0,
        "STICKYERR cleared"
    );
    // TAR auto-increment carries across 1 KiB and wraps inside the 4 KiB block on the
    // Cortex-M3's AHB-AP (ARM IHI 0031C §7.2.2; OpenOCD relies on it).
    p.raw_write_register(RegisterAddress::ApRegister(0x04), 0x2000_03FC)
        .unwrap();
    p.raw_write_register(RegisterAddress::ApRegister(0x0C), 0x1111_1111)
        .unwrap();
    assert_eq!(
        p.raw_read_register(RegisterAddress::ApRegister(0x04))
            .unwrap(),
        0x2000_0400
    );
    p.raw_write_register(RegisterAddress::ApRegister(0x04), 0x2000_0FFC)
        .unwrap();
    p.raw_write_register(RegisterAddress::ApRegister(0x0C), 0x1111_1111)
        .unwrap();
    assert_eq!(
        p.raw_read_register(RegisterAddress::ApRegister(0x04))
            .unwrap(),
        0x2000_0000
    );
    assert!(sim.stats().line_resets >= 2);
}

#[test]
fn no_nrst_makes_reset_pin_ineffective() {
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    {
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        core.write_word_32(0xE000_EDF0, 0xA05F_0003).unwrap();
        core.read_word_32(0xE000_EDF0).unwrap(); // clears S_RESET_ST
    }
    sim.inject(Fault::NoNrst);
    let mut p = sim.probe();
    p.target_reset_assert().unwrap();
    let mut core = session.core(0).unwrap();
    let dhcsr = core.read_word_32(0xE000_EDF0).unwrap();
    assert_eq!(
        dhcsr & (1 << 25),
        0,
        "S_RESET_ST must stay clear: NRST is not connected"
    );
    p.target_reset_deassert().unwrap();
    sim.clear_faults();
    p.target_reset_assert().unwrap();
    let dhcsr = core.read_word_32(0xE000_EDF0).unwrap();
    assert_ne!(dhcsr & (1 << 25), 0, "held in reset: S_RESET_ST");
    p.target_reset_deassert().unwrap();
}
