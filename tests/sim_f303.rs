//! The virtual STM32F303VC (RM0316 SoC) driven through probe-rs: its flash
//! algorithm programs and verifies, so does direct FPEC programming, a program in RAM blinks PE9 (the
//! STM32F3DISCOVERY's LD3) and prints on USART1, firmware that gives the SWD
//! pins to GPIO silences the debug port, FLASH_CR.OBL_LAUNCH reloads the
//! option bytes with a reset and read protection level 2 switches the debug
//! port off for good.

use std::time::Duration;

use probe_rs::flashing::DownloadOptions;
use probe_rs::probe::Probe;
use probe_rs::{MemoryInterface, Permissions, RegisterId, Session};
use stdbg::sim::{ChipModel, Sim, SimConfig};

mod sim_support;
use sim_support::assemble;

const TIMEOUT: Duration = Duration::from_millis(500);
const RCC_AHBENR: u64 = 0x4002_1014;
const RCC_CSR: u64 = 0x4002_1024;
const GPIOA_MODER: u64 = 0x4800_0000;
const FLASH_KEYR: u64 = 0x4002_2004;
const FLASH_OPTKEYR: u64 = 0x4002_2008;
const FLASH_SR: u64 = 0x4002_200C;
const FLASH_CR: u64 = 0x4002_2010;
const FLASH_OBR: u64 = 0x4002_201C;
const KEY1: u32 = 0x4567_0123;
const KEY2: u32 = 0xCDEF_89AB;

fn f303() -> Sim {
    Sim::new(SimConfig {
        chip: ChipModel::Stm32f303vc,
        storage: None,
    })
    .expect("sim")
}

fn attach(sim: &Sim) -> Result<Session, probe_rs::Error> {
    Probe::from_specific_probe(Box::new(sim.probe())).attach("STM32F303VC", Permissions::default())
}

/// Deterministic pseudo-random bytes.
fn pattern(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn probe_rs_flash_algorithm_programs_and_verifies_2_kib_pages() {
    let sim = f303();
    let mut session = attach(&sim).expect("attach as STM32F303VC");
    let low = pattern(10_000, 0x1234_5678); // pages 0..4, the last one partly
    let high = pattern(3_000, 0x9E37_79B9); // the last two pages of 256 KiB
    let mut loader = session.target().flash_loader();
    loader.add_data(0x0800_0000, &low).unwrap();
    loader.add_data(0x0803_F000, &high).unwrap();
    let mut opts = DownloadOptions::default();
    opts.verify = true;
    loader
        .commit(&mut session, opts)
        .expect("program + verify with probe-rs's stm32f3xx_256 algorithm");
    assert_eq!(sim.read_nonvolatile(0x0800_0000, low.len()), low);
    assert_eq!(sim.read_nonvolatile(0x0803_F000, high.len()), high);
    assert!(
        sim.read_nonvolatile(0x0800_0000 + low.len() as u32, 10_240 - low.len())
            .iter()
            .all(|&b| b == 0xFF),
        "the rest of page 4 erased"
    );
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    let mut back = vec![0u8; 3_000];
    core.read_8(0x0803_F000, &mut back).unwrap();
    assert_eq!(back, high, "read back through the AHB-AP");
    assert_eq!(
        core.read_word_32(FLASH_CR).unwrap() & 0x80,
        0x80,
        "FPEC locked again"
    );
}

/// `ram_blinky.S`: enables GPIOE and USART1, makes PE9 an output, prints a
/// line at 115 200 baud (BRR = 69 at 8 MHz), waits for TC, toggles PE9 five
/// times through ODR (each ODR saved at 0x2000_1000), then `bkpt`.
const RAM_BLINKY: &str = r#"
    .syntax unified
    .cpu cortex-m4
    .thumb
    .global _start
_start:
    ldr r0, =0x40021000
    ldr r1, [r0, #0x14]
    orr r1, r1, #(1 << 21)
    str r1, [r0, #0x14]
    ldr r1, [r0, #0x18]
    orr r1, r1, #(1 << 14)
    str r1, [r0, #0x18]
    ldr r2, =0x48001000
    ldr r1, [r2]
    bic r1, r1, #(3 << 18)
    orr r1, r1, #(1 << 18)
    str r1, [r2]
    ldr r3, =0x40013800
    movs r1, #69
    str r1, [r3, #0x0C]
    movs r1, #9
    str r1, [r3]
    adr r4, msg
1:  ldrb r1, [r4], #1
    cbz r1, 3f
2:  ldr r5, [r3, #0x1C]
    tst r5, #0x80
    beq 2b
    str r1, [r3, #0x28]
    b 1b
3:  ldr r5, [r3, #0x1C]
    tst r5, #0x40
    beq 3b
    movs r6, #0
    ldr r7, =0x20001000
4:  ldr r1, [r2, #0x14]
    eor r1, r1, #(1 << 9)
    str r1, [r2, #0x14]
    str r1, [r7, r6, lsl #2]
    adds r6, #1
    cmp r6, #5
    bne 4b
    bkpt #0
    .ltorg
    .align 2
msg:
    .asciz "hello from F303\r\n"
"#;

#[test]
fn a_ram_program_blinks_pe9_and_prints_on_usart1() {
    let img = assemble(RAM_BLINKY);
    let sim = f303();
    let mut session = attach(&sim).expect("attach");
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(TIMEOUT).unwrap();
    core.write_8(0x2000_0000, &img).unwrap();
    core.write_core_reg(RegisterId(15), 0x2000_0000u32).unwrap();
    core.write_core_reg(RegisterId(13), 0x2000_8000u32).unwrap();
    core.write_core_reg(RegisterId(16), 0x0100_0000u32).unwrap();
    let _ = sim.take_serial();
    core.run().unwrap();
    // 17 characters + the idle frame at 115 942 baud: about 1.6 ms.
    sim.run_for(Duration::from_millis(5));
    core.wait_for_core_halted(Duration::from_secs(5))
        .expect("the program reached its bkpt");
    let mut odr = [0u32; 5];
    core.read_32(0x2000_1000, &mut odr).unwrap();
    assert_eq!(
        odr,
        [0x200, 0, 0x200, 0, 0x200],
        "PE9 toggled through GPIOE_ODR"
    );
    assert_eq!(sim.gpio_odr('E'), 0x200, "LD3 on");
    assert_eq!(
        core.read_word_32(0x4800_1000).unwrap(),
        1 << 18,
        "GPIOE_MODER"
    );
    let out = sim.take_serial();
    assert_eq!(out, [("usart1", b"hello from F303\r\n".to_vec())]);
    assert_eq!(
        core.read_word_32(0x4001_381C).unwrap(),
        0x0020_00C0,
        "USART1_ISR: TEACK, TXE, TC"
    );
}

#[test]
fn swd_pins_given_to_gpio_silence_the_debug_port_until_power_cycle() {
    let sim = f303();
    {
        let mut session = attach(&sim).expect("attach");
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        assert_eq!(core.read_word_32(GPIOA_MODER).unwrap(), 0, "clock off");
        core.write_word_32(RCC_AHBENR, 0x14 | 1 << 17).unwrap();
        assert_eq!(core.read_word_32(GPIOA_MODER).unwrap(), 0xA800_0000);
        assert_eq!(
            core.read_word_32(0x4800_000C).unwrap(),
            0x6400_0000,
            "PUPDR"
        );
        // PA13 (SWDIO) becomes an input: the debug port loses its pin.
        let _ = core.write_word_32(GPIOA_MODER, 0xA000_0000);
        assert!(
            core.read_word_32(0x2000_0000).is_err(),
            "no answer once PA13 left AF0"
        );
    }
    assert!(
        attach(&sim).is_err(),
        "attach fails while the pins are GPIO"
    );
    sim.power_cycle();
    let mut session = attach(&sim).expect("attach after a power cycle");
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    core.write_word_32(RCC_AHBENR, 0x14 | 1 << 17).unwrap();
    assert_eq!(core.read_word_32(GPIOA_MODER).unwrap(), 0xA800_0000);
}

/// Unlocks the FPEC and the option bytes, erases them and programs
/// `bytes` (offset, value) as half-words with OPTPG.
fn write_option_bytes(core: &mut probe_rs::Core, bytes: &[(u64, u8)]) {
    core.write_word_32(FLASH_KEYR, KEY1).unwrap();
    core.write_word_32(FLASH_KEYR, KEY2).unwrap();
    core.write_word_32(FLASH_OPTKEYR, KEY1).unwrap();
    core.write_word_32(FLASH_OPTKEYR, KEY2).unwrap();
    assert_eq!(
        core.read_word_32(FLASH_CR).unwrap(),
        1 << 9,
        "OPTWRE, unlocked"
    );
    core.write_word_32(FLASH_CR, 1 << 9 | 1 << 5).unwrap();
    core.write_word_32(FLASH_CR, 1 << 9 | 1 << 5 | 1 << 6)
        .unwrap();
    core.write_word_32(FLASH_CR, 1 << 9 | 1 << 4).unwrap();
    for &(off, v) in bytes {
        core.write_word_16(0x1FFF_F800 + off, v as u16).unwrap();
    }
    assert_eq!(core.read_word_32(FLASH_SR).unwrap() & 0x14, 0, "no error");
}

#[test]
fn obl_launch_reloads_the_option_bytes_and_resets_the_chip() {
    let sim = f303();
    let mut session = attach(&sim).expect("attach");
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    assert_eq!(
        core.read_word_32(FLASH_OBR).unwrap(),
        0xFFFF_7700,
        "factory OBR"
    );
    write_option_bytes(&mut core, &[(0, 0xAA), (4, 0x5C)]);
    assert_eq!(
        core.read_word_32(FLASH_OBR).unwrap(),
        0xFFFF_7700,
        "not loaded yet"
    );
    let _ = core.write_word_32(FLASH_CR, 1 << 9 | 1 << 13); // OBL_LAUNCH
    sim.run_for(Duration::from_millis(1));
    let _ = core.halt(TIMEOUT);
    assert_eq!(
        core.read_word_32(FLASH_OBR).unwrap(),
        0xFF5C_7700,
        "Data0 = 0x5C"
    );
    assert_eq!(
        core.read_word_32(RCC_CSR).unwrap() & 0xFE80_0000,
        1 << 25 | 1 << 26 | 1 << 27,
        "OBLRSTF | PINRSTF (PORRSTF from power-on)"
    );
    assert_eq!(
        core.read_word_32(FLASH_CR).unwrap(),
        0x80,
        "FPEC reset: locked"
    );
    assert_eq!(
        sim.read_nonvolatile(0x1FFF_F800, 6),
        [0xAA, 0x55, 0xFF, 0xFF, 0x5C, 0xA3]
    );
}

#[test]
fn read_protection_level_2_switches_the_debug_port_off_for_good() {
    let sim = f303();
    {
        let mut session = attach(&sim).expect("attach");
        let mut core = session.core(0).unwrap();
        core.halt(TIMEOUT).unwrap();
        write_option_bytes(&mut core, &[(0, 0xCC)]);
        let _ = core.write_word_32(FLASH_CR, 1 << 9 | 1 << 13);
        sim.run_for(Duration::from_millis(1));
        assert!(
            core.read_word_32(0x2000_0000).is_err(),
            "level 2 loaded: no debug access"
        );
    }
    assert_eq!(sim.read_nonvolatile(0x1FFF_F800, 2), [0xCC, 0x33]);
    assert!(attach(&sim).is_err(), "level 2: attach fails");
    sim.power_cycle();
    assert!(attach(&sim).is_err(), "level 2 is permanent");
}

/// Direct register programming of main flash, as OpenOCD's `stm32f1x` driver does it on the F3
/// (RM0316 §4.2.2–§4.2.3): unlock with FLASH_KEYR, page erase (PER, AR, STRT), half-word
/// programming with PG (EOP after each), PGERR for a half-word that is not erased, LOCK.
#[test]
fn direct_register_programming_erases_a_2_kib_page_and_programs_half_words() {
    let sim = f303();
    let mut session = attach(&sim).expect("attach");
    let mut core = session.core(0).unwrap();
    core.halt(TIMEOUT).unwrap();
    let wait = |core: &mut probe_rs::Core| {
        for _ in 0..10_000 {
            if core.read_word_32(FLASH_SR).unwrap() & 1 == 0 {
                return core.read_word_32(FLASH_SR).unwrap();
            }
        }
        panic!("FLASH_SR.BSY stays set");
    };
    core.write_word_32(FLASH_KEYR, KEY1).unwrap();
    core.write_word_32(FLASH_KEYR, KEY2).unwrap();
    assert_eq!(core.read_word_32(FLASH_CR).unwrap() & 0x80, 0, "unlocked");
    // Page 3 (0x0800_1800-0x0800_1FFF): erase.
    core.write_word_32(FLASH_CR, 1 << 1).unwrap(); // PER
    core.write_word_32(0x4002_2014, 0x0800_1800).unwrap(); // FLASH_AR
    core.write_word_32(FLASH_CR, 1 << 1 | 1 << 6).unwrap(); // PER | STRT
    assert_eq!(wait(&mut core) & 0x34, 0x20, "EOP, no PGERR/WRPRTERR");
    core.write_word_32(FLASH_SR, 0x20).unwrap();
    // Program 2 KiB as half-words.
    let data = pattern(2048, 0x0BAD_F00D);
    core.write_word_32(FLASH_CR, 1).unwrap(); // PG
    for (i, hw) in data.chunks(2).enumerate() {
        core.write_word_16(
            0x0800_1800 + 2 * i as u64,
            u16::from_le_bytes([hw[0], hw[1]]),
        )
        .unwrap();
        assert_eq!(wait(&mut core) & 0x34, 0x20, "half-word {i}: EOP only");
        core.write_word_32(FLASH_SR, 0x20).unwrap();
    }
    // A half-word that is not erased: PGERR, the flash keeps its value.
    core.write_word_16(0x0800_1800, 0x1234).unwrap();
    assert_eq!(wait(&mut core) & 0x04, 0x04, "PGERR");
    core.write_word_32(FLASH_SR, 0x34).unwrap();
    core.write_word_32(FLASH_CR, 0x80).unwrap(); // LOCK
    assert_eq!(sim.read_nonvolatile(0x0800_1800, 2048), data);
    let mut back = vec![0u8; 2048];
    core.read_8(0x0800_1800, &mut back).unwrap();
    assert_eq!(back, data, "read back through the AHB-AP");
    assert!(
        sim.read_nonvolatile(0x0800_2000, 16)
            .iter()
            .all(|&b| b == 0xFF),
        "page 4 untouched"
    );
}
