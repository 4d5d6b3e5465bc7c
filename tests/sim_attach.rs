//! Attaching probe-rs to the virtual STM32F103 and basic debug access.

use probe_rs::probe::Probe;
use probe_rs::{MemoryInterface, Permissions};
use stdbg::sim::{ChipModel, Sim, SimConfig};

fn fresh() -> Sim {
    Sim::new(SimConfig { chip: ChipModel::Stm32f103c8, storage: None }).expect("sim")
}

#[test]
fn attach_blank_chip_halts_out_of_lockup() {
    let sim = fresh();
    let probe = Probe::from_specific_probe(Box::new(sim.probe()));
    let mut session = probe.attach("STM32F103C8", Permissions::default()).expect("attach");
    let mut core = session.core(0).expect("core");
    core.halt(std::time::Duration::from_millis(100)).expect("halt");
    assert!(core.core_halted().unwrap());
    let idcode = core.read_word_32(0xE004_2000).unwrap();
    assert_eq!(idcode, 0x2003_6410);
    let cpuid = core.read_word_32(0xE000_ED00).unwrap();
    assert_eq!(cpuid, 0x411F_C231);
}
