//! Attaching probe-rs to the virtual STM32F103 and basic debug access.

use probe_rs::MemoryInterface;

mod sim_support;
use sim_support::{attach, fresh};

#[test]
fn attach_blank_chip_halts_out_of_lockup() {
    let sim = fresh();
    let mut session = attach(&sim).expect("attach");
    let mut core = session.core(0).expect("core");
    core.halt(std::time::Duration::from_millis(100))
        .expect("halt");
    assert!(core.core_halted().unwrap());
    let idcode = core.read_word_32(0xE004_2000).unwrap();
    assert_eq!(idcode, 0x2003_6410);
    let cpuid = core.read_word_32(0xE000_ED00).unwrap();
    assert_eq!(cpuid, 0x411F_C231);
}
