//! The STM32H743ZI flash images (tests/firmware/README.md, "Cortex-M7 flash images") on the
//! virtual NUCLEO-H743ZI through the built binary: `program … verify reset exit` with OpenOCD's
//! lines and the flash read back byte for byte, the blinky's USART3 lines on the console,
//! `reset halt` / bp / step / wp with their exact halt lines, the LEDs and the result block; and
//! the vector tables of the five H743 images (RM0433 Table 137: 150 IRQ vectors).
//!
//! A separate file, not a row of `tests/common/chips.rs`: that table's tests assume the F3/G4/L4
//! DBGMCU at 0xE004_2004 and their option-byte model, which the H7 does not have.

mod common;

use std::path::Path;
use std::process::Command;

use common::chips::{sym, words_at};
use common::{Run, assert_has, firmware, fresh_board_run, objcopy_binary, stdbg, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

const BOARD: &str = "board/sim-st_nucleo_h743zi.rhai";
const BLINKY: &str = "h743-blinky.elf";
/// Top of DTCM: the images' initial SP.
const ESTACK: u32 = 0x2002_0000;
/// `blinky_result` (m4_result.h) at the start of DTCM, and its `lines` field.
const RESULT: u32 = 0x2000_0000;
const LINES: u32 = RESULT + 0x50;
/// GPIOB_ODR (LD1 PB0, LD3 PB14) and GPIOE_ODR (LD2 PE1), RM0433 §11.4.
const GPIOB_ODR: u32 = 0x5802_0414;
const GPIOE_ODR: u32 = 0x5802_1014;

fn run(dir: &Path, storage: &Path, cmds: &str) -> Run {
    common::stored_board_run(dir, BOARD, storage, cmds)
}

/// (address, size) of `name` in `elf` (`arm-none-eabi-nm -S`).
fn sym_sized(elf: &str, name: &str) -> (u32, u32) {
    let out = Command::new("arm-none-eabi-nm")
        .arg("-S")
        .arg(firmware(elf))
        .output()
        .expect(
            "arm-none-eabi-nm is required by the tests: apt-get install binutils-arm-none-eabi",
        );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f[..] {
                [a, s, _, n] if n == name => Some((
                    u32::from_str_radix(a, 16).ok()?,
                    u32::from_str_radix(s, 16).ok()?,
                )),
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("{name} (with a size) not in {elf}:\n{text}"))
}

/// `stdbg -f board/sim-st_nucleo_h743zi.rhai -c "program h743-blinky.elf verify reset exit"`:
/// exit 0, OpenOCD's program/verify lines in order, the flash holds `objcopy -O binary` of the
/// image and the rest of the sector is erased; a second run reads the vector table back.
#[test]
fn h743_program_verify_reset_exit_prints_openocd_lines_and_flash_matches_objcopy() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let cmd = format!("program {} verify reset exit", firmware(BLINKY).display());
    let st = format!("sim storage {}", storage.display());
    let r = stdbg(dir.path(), &["-c", &st, "-f", BOARD, "-c", &cmd]);
    r.expect_code(0);
    let banners: Vec<&str> = r
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("**") || l.starts_with("shutdown"))
        .collect();
    assert_eq!(
        banners,
        [
            "** Programming Started **",
            "** Programming Finished **",
            "** Verify Started **",
            "** Verified OK **",
            "** Resetting Target **",
            "shutdown command invoked",
        ],
        "{}",
        r.stdout
    );
    // `reset init` announced the halt of the blank chip (its reset vector reads 0xFFFFFFFF)
    // before programming.
    let lines = r.lines();
    let start = lines
        .iter()
        .position(|l| *l == "** Programming Started **")
        .unwrap();
    assert!(
        lines[..start].windows(2).any(|w| w
            == [
                "[stm32h7x.cpu0] halted due to debug-request, current mode: Thread ",
                "xPSR: 0x01000000 pc: 0xfffffffe msp: 0xfffffffc"
            ]),
        "{}",
        r.stdout
    );
    let image = objcopy_binary(BLINKY, dir.path());
    let sim = Sim::new(SimConfig {
        chip: ChipModel::Stm32h743zi,
        storage: Some(storage.clone()),
    })
    .expect("virtual chip");
    assert_eq!(sim.read_nonvolatile(0x0800_0000, image.len()), image);
    let tail = sim.read_nonvolatile(0x0800_0000 + image.len() as u32, 256);
    assert!(tail.iter().all(|&b| b == 0xFF), "{tail:02x?}");
    drop(sim);

    let reset = sym(BLINKY, "Reset_Handler");
    let r = run(dir.path(), &storage, "init; mdw 0x08000000 2; shutdown");
    r.expect_code(0);
    assert_has(
        &r.stdout,
        &format!("0x08000000: {ESTACK:08x} {:08x} \n", reset | 1),
    );
}

/// The blinky's USART3 (PD8, the ST-LINK VCP, BRR 556 from the 64 MHz PCLK1) on the console:
/// a watchpoint on `blinky_result.lines` stops the core when "tick 1" is due (1 s of virtual
/// time after SysTick started); after a short resume the console holds exactly "hello" and
/// "tick 1" from `[stm32h7x.usart3]`, and the result block counts 15 bytes written to TDR with
/// no TXE timeout.
#[test]
fn h743_blinky_prints_hello_and_tick_1_on_usart3() {
    let dir = tempdir();
    let prog = format!("program {} verify reset", firmware(BLINKY).display());
    let wp = format!("wp 0x{LINES:08x} 4 w");
    let rwp = format!("rwp 0x{LINES:08x}");
    let mdw = format!("mdw 0x{LINES:08x} 3");
    let cmds = [
        prog.as_str(),
        &wp,
        "wait_halt 120000",
        &rwp,
        "resume",
        "sleep 300",
        "halt",
        "sim uart",
        &mdw,
        "mdw 0x20000040",
        "shutdown",
    ];
    let r = fresh_board_run(dir.path(), BOARD, &cmds);
    r.expect_code(0);
    let uart: Vec<&str> = r
        .lines()
        .into_iter()
        .filter_map(|l| l.strip_prefix("[stm32h7x.usart3] "))
        .collect();
    assert_eq!(uart, ["hello", "tick 1"], "{}", r.stdout);
    assert!(
        r.lines().contains(&"usart3: console"),
        "sim uart: {}",
        r.stdout
    );
    // lines 1, tx_bytes 7 + 8 ("hello\r\n", "tick 1\r\n"), tx_timeouts 0.
    assert_has(&r.stdout, "0x20000050: 00000001 0000000f 00000000 \n");
    // uart_brr: (64 MHz + 57 600) / 115 200.
    assert_has(&r.stdout, "0x20000040: 0000022c \n");
}

/// `reset halt` follows the vector table; a hardware breakpoint on `main` and a step; a write
/// watchpoint on `counter`; watchpoints on `toggles` show the three LEDs (PB0, PB14, PE1)
/// switched on at 500 ms and off at 1000 ms; then the result block.
#[test]
fn h743_reset_halt_breakpoint_step_watchpoint_leds_and_the_result_block() {
    let dir = tempdir();
    let main = sym(BLINKY, "main");
    let reset = sym(BLINKY, "Reset_Handler");
    let (systick, systick_len) = sym_sized(BLINKY, "SysTick_Handler");
    let toggles = RESULT + 0x24;
    let cmds = format!(
        "program {elf} verify; reset halt; reg pc; reg msp; bp 0x{main:08x} 2 hw; resume; \
         wait_halt 5000; step; rbp 0x{main:08x}; wp 0x2000001c 4 w; resume; wait_halt 5000; \
         mdw 0x2000001c; rwp 0x2000001c; wp 0x{toggles:08x} 4 w; resume; wait_halt 5000; \
         mdw 0x{ticks:08x} 2; mdw 0x{GPIOB_ODR:08x}; mdw 0x{GPIOE_ODR:08x}; resume; \
         wait_halt 5000; mdw 0x{ticks:08x} 2; mdw 0x{GPIOB_ODR:08x}; mdw 0x{GPIOE_ODR:08x}; \
         rwp 0x{toggles:08x}; mdw 0x{RESULT:08x} 0x19; mdw 0x58020400; mdw 0x58021000; shutdown",
        elf = firmware(BLINKY).display(),
        ticks = RESULT + 0x20,
    );
    let r = run(dir.path(), Path::new("none"), &cmds);
    r.expect_code(0);
    let out = r.stdout.as_str();
    // reset halt: the core at the reset vector, MSP from word 0.
    assert_has(
        out,
        &format!("pc (/32): 0x{reset:08x}\nmsp (/32): 0x{ESTACK:08x}\n"),
    );
    assert_has(out, &format!("breakpoint set at 0x{main:08x}\n"));
    // At main: Reset_Handler pushed 8 bytes; its last compare left Z and C set.
    assert_has(
        out,
        &format!(
            "[stm32h7x.cpu0] halted due to breakpoint, current mode: Thread \n\
             xPSR: 0x61000000 pc: 0x{main:08x} msp: 0x2001fff8\n"
        ),
    );
    // The step executed main's first instruction, a 2-byte PUSH of 5 registers.
    assert_has(
        out,
        &format!(
            "[stm32h7x.cpu0] halted due to single-step, current mode: Thread \n\
             xPSR: 0x61000000 pc: 0x{:08x} msp: 0x2001ffe4\n",
            main + 2
        ),
    );
    // The write watchpoint on `counter` halted in Thread mode right after its first store.
    assert_has(
        out,
        "[stm32h7x.cpu0] halted due to watchpoint, current mode: Thread \n",
    );
    assert_has(out, "0x2000001c: 00000001 \n");
    // `toggles` is stored in SysTick_Handler after the LED writes: halted there, twice.
    let in_systick: Vec<u32> = out
        .lines()
        .zip(out.lines().skip(1))
        .filter(|(a, _)| {
            *a == "[stm32h7x.cpu0] halted due to watchpoint, current mode: Handler SysTick "
        })
        .map(|(_, b)| {
            let pc = b.split("pc: 0x").nth(1).unwrap().split(' ').next().unwrap();
            u32::from_str_radix(pc, 16).unwrap()
        })
        .collect();
    assert_eq!(in_systick.len(), 2, "{out}");
    for pc in in_systick {
        assert!(
            (systick..systick + systick_len).contains(&pc),
            "pc 0x{pc:08x} not in SysTick_Handler 0x{systick:08x}+0x{systick_len:x}\n{out}"
        );
    }
    // First toggle at ticks 500: LD1 + LD3 on GPIOB, LD2 on GPIOE; second at 1000: all off.
    let first = out.find("0x20000020: 000001f4 00000001 \n").expect(out);
    let second = out.find("0x20000020: 000003e8 00000002 \n").expect(out);
    assert!(first < second, "{out}");
    assert_eq!(words_at(&out[first..second], GPIOB_ODR), [0x4001], "{out}");
    assert_eq!(words_at(&out[first..second], GPIOE_ODR), [0x0002], "{out}");
    assert_eq!(words_at(&out[second..], GPIOB_ODR), [0], "{out}");
    assert_eq!(words_at(&out[second..], GPIOE_ODR), [0], "{out}");
    // MODER: PB0 and PB14 outputs (reset 0xFFFFFEBF), PE1 output (reset 0xFFFFFFFF).
    assert_eq!(words_at(out, 0x5802_0400), [0xDFFF_FEBD], "{out}");
    assert_eq!(words_at(out, 0x5802_1000), [0xFFFF_FFF7], "{out}");
    // The result block (README.md, "h743-blinky.elf").
    let w = words_at(&out[second..], RESULT);
    assert_eq!(w.len(), 0x19, "{out}");
    let expect = [
        (0x0, 0x4C42_3748, "magic \"H7BL\""),
        (0x1, 4, "stage"),
        (0x2, 0x600D_D0E5, "done"),
        (0x3, 0, "error"),
        (0x4, 0xDA7A_5EED, "data_word"),
        (0x5, 8, "data_ok"),
        (0x6, 0, "bss_nonzero"),
        (0x8, 1000, "ticks"),
        (0x9, 2, "toggles"),
        (0xB, 0x00F0_0000, "cpacr"),
        (0xC, 0x0800_0000, "vtor"),
        (0xD, 63_999, "syst_load"),
        (0xE, 7, "syst_ctrl"),
        (0xF, 0xFFFF_FEBD, "led_moder"),
        (0x10, 556, "uart_brr"),
        (0x11, 0xD, "uart_cr1"),
        (0x12, 0xFFFA_FFFF, "uart_moder (GPIOD)"),
        (0x13, 0x77, "uart_afr (GPIOD_AFRH)"),
        (0x16, 0, "tx_timeouts"),
        (0x17, 0, "swd_off_tick"),
        (0x18, 0, "swd_moder"),
    ];
    for (i, v, name) in expect {
        assert_eq!(w[i], v, "{name} (word {i:#x}): {out}");
    }
    // counter: about one main-loop round per ms (wfi between SysTick interrupts).
    assert!((990..=1010).contains(&w[7]), "counter {}: {out}", w[7]);
}

/// The vector tables of the five H743 images: initial SP = top of DTCM, the reset vector with
/// the Thumb bit (also the ELF entry), 16 + 150 vectors, RM0433 Table 137's reserved positions
/// 0 and every other IRQ a handler address with the Thumb bit; the result block at 0x20000000.
#[test]
fn h743_images_vector_tables_and_result_blocks() {
    const RESERVED: [usize; 11] = [42, 64, 65, 66, 67, 79, 123, 126, 143, 147, 148];
    let dir = tempdir();
    for (elf, result) in [
        ("h743-blinky.elf", "blinky_result"),
        ("h743-swd-off.elf", "blinky_result"),
        ("h743-stop.elf", "lowpower_result"),
        ("h743-standby.elf", "lowpower_result"),
        ("h743-fpu-flash.elf", "fpu_result"),
    ] {
        let bin = objcopy_binary(elf, dir.path());
        let word = |i: usize| u32::from_le_bytes(bin[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!(
            sym_sized(elf, "vector_table"),
            (0x0800_0000, 4 * (16 + 150)),
            "{elf}"
        );
        assert_eq!(word(0), ESTACK, "{elf}: initial SP");
        assert_eq!(
            word(1),
            sym(elf, "Reset_Handler") | 1,
            "{elf}: reset vector"
        );
        let default = sym(elf, "Default_Handler") | 1;
        for irq in 0..150 {
            let v = word(16 + irq);
            if RESERVED.contains(&irq) {
                assert_eq!(v, 0, "{elf}: IRQ {irq} is reserved");
            } else {
                assert_eq!(v, default, "{elf}: IRQ {irq} goes to Default_Handler");
            }
        }
        assert_eq!(sym(elf, result), RESULT, "{elf}: {result}");
        let e = std::fs::read(firmware(elf)).unwrap();
        assert_eq!(
            u32::from_le_bytes(e[24..28].try_into().unwrap()),
            sym(elf, "Reset_Handler") | 1,
            "{elf}: ELF entry"
        );
    }
}

/// The address of the first `wfi` in `elf` (`arm-none-eabi-objdump -d`).
fn wfi_of(elf: &str) -> u32 {
    let out = Command::new("arm-none-eabi-objdump")
        .arg("-d")
        .arg(firmware(elf))
        .output()
        .expect("arm-none-eabi-objdump is required by the tests: apt-get install binutils-arm-none-eabi");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.split('\t').nth(2).is_some_and(|m| m.trim() == "wfi"))
        .and_then(|l| u32::from_str_radix(l.trim().split(':').next()?, 16).ok())
        .unwrap_or_else(|| panic!("no wfi in {elf}"))
}

/// h743-stop and h743-standby up to their `wfi` (README.md, "h743-stop.elf, h743-standby.elf"):
/// DBGMCU_CR set the way a debugger's examine-end does is cleared, 50 ms of SysTick periods pass
/// (DWT_CYCCNT: 3.2 million cycles at 64 MHz), PWR_CPUCR selects Stop (PDDS_D1..D3 = 0) or
/// Standby (all three 1), and SLEEPDEEP is set, so the next instruction enters the mode without
/// the debug bits.
#[test]
fn h743_stop_and_standby_images_clear_dbgmcu_and_select_the_mode_after_50_ms() {
    for (elf, magic, pdds) in [
        ("h743-stop.elf", 0x5453_3748u32, 0u32),
        ("h743-standby.elf", 0x4253_3748, 7),
    ] {
        let dir = tempdir();
        let wfi = wfi_of(elf);
        // DEMCR.TRCENA, DWT_CYCCNT = 0, DWT_CTRL.CYCCNTENA after the reset halt.
        let cmds = format!(
            "program {} verify; mww 0x5C001004 0x00700007; reset halt; mww 0xE000EDFC 0x01000000; \
             mww 0xE0001004 0; mww 0xE0001000 1; bp 0x{wfi:08x} 2 hw; resume; wait_halt 5000; \
             reg pc; mdw 0x{RESULT:08x} 8; mdw 0x5C001004; mdw 0x58024810; mdw 0xE000ED10; \
             mdw 0xE0001004; shutdown",
            firmware(elf).display()
        );
        let r = run(dir.path(), Path::new("none"), &cmds);
        r.expect_code(0);
        let out = r.stdout.as_str();
        assert_has(out, &format!("pc (/32): 0x{wfi:08x}\n"));
        // magic, stage 3, done, error 0, dbgmcu_cr 0, ms 50, cpucr, wfi_count 1.
        assert_eq!(
            words_at(out, RESULT),
            [magic, 3, 0x600D_D0E5, 0, 0, 50, pdds, 1],
            "{elf}: {out}"
        );
        assert_has(out, "0x5c001004: 00000000 \n");
        assert_eq!(words_at(out, 0x5802_4810), [pdds], "{elf}: PWR_CPUCR");
        // SCB_SCR.SLEEPDEEP (bit 2).
        assert_eq!(words_at(out, 0xE000_ED10)[0] & 4, 4, "{elf}: SCR");
        let cycles = words_at(out, 0xE000_1004)[0];
        // 50 ms plus the cycles that run while the debugger polls for the breakpoint (each SWD
        // transaction's wire time passes in virtual time too, so a busier host polls more).
        assert!(
            (3_200_000..3_400_000).contains(&cycles),
            "{elf}: {cycles} cycles to the wfi, not 50 ms at 64 MHz"
        );
    }
}
