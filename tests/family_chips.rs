//! The three new chips (STM32F303VC, STM32G474RE, STM32L476RG) through the built binary, one
//! harness parameterised by board: program + verify read back byte for byte, `reset halt` from
//! the vector table, the examine-end DBGMCU writes, bp / step / wp, the blinky's result block,
//! and the option-byte commands of each family (`stm32l4x` on G4/L4, `stm32f1x` on F3).

mod common;

use std::path::Path;
use std::process::Command;

use common::{assert_has, firmware, objcopy_binary, stdbg, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

/// One board of the table.
struct Chip {
    /// Board script.
    board: &'static str,
    /// The virtual chip behind it.
    model: ChipModel,
    /// The blinky image.
    blinky: &'static str,
    /// `magic` of the blinky's result block (0x20000000).
    magic: u32,
    /// `syst_load` the blinky stores (HCLK / 1000 - 1).
    syst_load: u32,
    /// DBGMCU freeze register written at examine-end and the bits written (target script).
    freeze: (u32, u32),
    /// Whether the bank is an `stm32l4x` one (G4/L4) or `stm32f1x` (F3).
    l4x: bool,
}

const CHIPS: &[Chip] = &[
    Chip {
        board: "board/sim-stm32f3discovery.rhai",
        model: ChipModel::Stm32f303vc,
        blinky: "f303-blinky.elf",
        magic: 0x4C42_3346,
        syst_load: 7999,
        // DBGMCU_APB1_FZ |= DBG_IWDG_STOP | DBG_WWDG_STOP (targets/stm32f3x.rhai).
        freeze: (0xE004_2008, 0x0000_1800),
        l4x: false,
    },
    Chip {
        board: "board/sim-st_nucleo_g4.rhai",
        model: ChipModel::Stm32g474re,
        blinky: "g474-blinky.elf",
        magic: 0x4C42_3447,
        syst_load: 15999,
        // DBGMCU_APB1FZR1 |= DBG_IWDG_STOP | DBG_WWDG_STOP (targets/stm32g4x.rhai).
        freeze: (0xE004_2008, 0x0000_1800),
        l4x: true,
    },
    Chip {
        board: "board/sim-st_nucleo_l4.rhai",
        model: ChipModel::Stm32l476rg,
        blinky: "l476-blinky.elf",
        magic: 0x4C42_344C,
        syst_load: 3999,
        // DBGMCU_APB1FZR1 |= DBG_IWDG_STOP | DBG_WWDG_STOP (targets/stm32l4x.rhai).
        freeze: (0xE004_2008, 0x0000_1800),
        l4x: true,
    },
];

/// The address of `name` in `elf` (`arm-none-eabi-nm`); fails loudly without the tool.
fn sym(elf: &str, name: &str) -> u32 {
    let out = Command::new("arm-none-eabi-nm")
        .arg(firmware(elf))
        .output()
        .expect(
            "arm-none-eabi-nm is required by the tests: apt-get install binutils-arm-none-eabi",
        );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            let (a, _, n) = (it.next()?, it.next()?, it.next()?);
            (n == name).then(|| u32::from_str_radix(a, 16).ok())?
        })
        .unwrap_or_else(|| panic!("{name} not in {elf}:\n{text}"))
}

/// Runs `stdbg -c "sim storage <storage>" -f <board> -c QUIET -c <cmds>` in `dir`.
fn run(dir: &Path, c: &Chip, storage: &Path, cmds: &str) -> common::Run {
    let st = format!("sim storage {}", storage.display());
    stdbg(
        dir,
        &["-c", &st, "-f", c.board, "-c", common::QUIET, "-c", cmds],
    )
}

/// `program <blinky> verify` command text (absolute path).
fn program(elf: &str) -> String {
    format!("program {} verify", firmware(elf).display())
}

/// `len` bytes of main flash of the chip kept in `storage`, through the virtual chip's back door.
fn flash_of(c: &Chip, storage: &Path, addr: u32, len: usize) -> Vec<u8> {
    let sim = Sim::new(SimConfig {
        chip: c.model,
        storage: Some(storage.to_path_buf()),
    })
    .expect("virtual chip");
    sim.read_nonvolatile(addr, len)
}

/// The words `mdw` printed for `addr` (the first line starting with `0x<addr>:`).
fn words_at(out: &str, addr: u32) -> Vec<u32> {
    let head = format!("0x{addr:08x}:");
    let mut words = Vec::new();
    let mut lines = out.lines().skip_while(|l| !l.starts_with(&head));
    let mut expect = addr;
    while let Some(l) = lines.next() {
        let Some(rest) = l.strip_prefix(&format!("0x{expect:08x}:")) else {
            break;
        };
        let w: Vec<u32> = rest
            .split_whitespace()
            .map(|w| u32::from_str_radix(w, 16).unwrap())
            .collect();
        expect += 4 * w.len() as u32;
        words.extend(w);
    }
    assert!(!words.is_empty(), "no mdw output at 0x{addr:08x}:\n{out}");
    words
}

#[test]
fn program_verify_reads_back_byte_for_byte_and_reset_halt_follows_the_vectors() {
    for c in CHIPS.iter().rev() {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let image = objcopy_binary(c.blinky, dir.path());
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "{}; reset halt; reg pc; reg msp; mdw 0xE0042004; mdw 0x{:08x}; shutdown",
                program(c.blinky),
                c.freeze.0
            ),
        );
        r.expect_code(0);
        assert_has(&r.stdout, "** Verified OK **");
        assert_eq!(
            flash_of(c, &storage, 0x0800_0000, image.len()),
            image,
            "{}: flash differs from objcopy -O binary",
            c.board
        );
        // The rest of the first page stays erased.
        let tail = flash_of(c, &storage, 0x0800_0000 + image.len() as u32, 64);
        assert!(tail.iter().all(|&b| b == 0xFF), "{}: {tail:02x?}", c.board);
        let reset = sym(c.blinky, "Reset_Handler");
        let sp = sym(c.blinky, "_estack");
        assert_eq!(u32::from_le_bytes(image[0..4].try_into().unwrap()), sp);
        assert_eq!(
            u32::from_le_bytes(image[4..8].try_into().unwrap()),
            reset | 1
        );
        assert_has(&r.stdout, &format!("pc (/32): 0x{reset:08x}\n"));
        assert_has(&r.stdout, &format!("msp (/32): 0x{sp:08x}\n"));
        // examine-end: DBGMCU_CR |= DBG_SLEEP | DBG_STOP | DBG_STANDBY, and the watchdog freeze.
        assert_has(&r.stdout, "0xe0042004: 00000007 \n");
        assert_has(
            &r.stdout,
            &format!("0x{:08x}: {:08x} \n", c.freeze.0, c.freeze.1),
        );
    }
}

#[test]
fn breakpoint_step_watchpoint_and_the_blinky_result_block() {
    for c in CHIPS.iter().rev() {
        let dir = tempdir();
        let main = sym(c.blinky, "main");
        let cmds = format!(
            "{prog}; bp 0x{main:08x} 2 hw; reset run; sleep 300; reg pc; step; reg pc; rbp 0x{main:08x}; \
             wp 0x2000001c 4 w; resume; sleep 300; targets; reg pc; mdw 0x2000001c; rwp 0x2000001c; \
             resume; sleep 1500; halt; mdw 0x20000000 0x19; resume; sleep 500; halt; mdw 0x20000020; shutdown",
            prog = program(c.blinky)
        );
        let r = run(dir.path(), c, Path::new("none"), &cmds);
        r.expect_code(0);
        let out = r.stdout.as_str();
        // The hardware breakpoint on main hit, and a step moved past it.
        assert_has(out, &format!("breakpoint set at 0x{main:08x}\n"));
        let pcs: Vec<u32> = out
            .lines()
            .filter_map(|l| l.strip_prefix("pc (/32): 0x"))
            .map(|h| u32::from_str_radix(h, 16).unwrap())
            .collect();
        assert_eq!(pcs.len(), 3, "{out}");
        assert_eq!(pcs[0], main, "{}: not halted on main\n{out}", c.board);
        assert!(
            pcs[1] > main && pcs[1] <= main + 4,
            "{}: step from 0x{main:08x} went to 0x{:08x}",
            c.board,
            pcs[1]
        );
        // The write watchpoint on `counter` halted the core right after its first store.
        assert!(
            out.lines()
                .any(|l| l.starts_with(" 0* ") && l.trim_end().ends_with("halted")),
            "{out}"
        );
        assert_eq!(words_at(out, 0x2000_001c)[0], 1, "{}: {out}", c.board);
        assert!(pcs[2] > main, "{out}");
        // The result block after a run.
        let w = words_at(out, 0x2000_0000);
        assert_eq!(w.len(), 0x19, "{out}");
        assert_eq!(w[0], c.magic, "{}: magic", c.board);
        assert_eq!(w[1], 4, "{}: stage", c.board);
        assert_eq!(w[2], 0x600D_D0E5, "{}: done", c.board);
        assert_eq!(w[3], 0, "{}: error", c.board);
        assert_eq!(w[4], 0xDA7A_5EED, "{}: data_word", c.board);
        assert_eq!(w[5], 8, "{}: data_ok", c.board);
        assert_eq!(w[6], 0, "{}: bss_nonzero", c.board);
        assert!(w[7] > 1, "{}: counter {}", c.board, w[7]);
        assert!(w[8] > 0, "{}: ticks", c.board);
        assert_eq!(w[0xB], 0x00F0_0000, "{}: cpacr", c.board);
        assert_eq!(w[0xC], 0x0800_0000, "{}: vtor", c.board);
        assert_eq!(w[0xD], c.syst_load, "{}: syst_load", c.board);
        assert_eq!(w[0xE], 7, "{}: syst_ctrl", c.board);
        let later = words_at(out.split("0x20000060:").nth(1).unwrap(), 0x2000_0020)[0];
        assert!(later > w[8], "{}: ticks {} then {later}", c.board, w[8]);
    }
}

/// The `stm32l4x` option bytes on G474 and L476: factory OPTR, RDP level 1 and back (mass
/// erase observed, OTP kept), WRP on and off, mass erase, wrp_info.
#[test]
fn stm32l4x_rdp_lock_unlock_with_the_mass_erase_observed() {
    for c in CHIPS.iter().filter(|c| c.l4x) {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let image = objcopy_binary(c.blinky, dir.path());
        // Factory OPTR; program; write a word of OTP; lock.
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "init; reset halt; stm32l4x option_read 0 0x20; {}; reset halt; stm32l4x lock 0; stm32l4x option_load 0; \
                 reset halt; stm32l4x option_read 0 0x20; mdw 0x08000000",
                program(c.blinky)
            ),
        );
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        // The factory OPTR (RDP 0xAA, DBANK and the user bits of RM0440 §5.4.1 / RM0351 §3.7.8).
        assert_has(&r.stdout, "Option Register: <0x40022020> = 0xffeff8aa\n");
        assert_has(&r.stdout, "stm32l4x locked\n");
        assert_has(
            &r.stdout,
            "stm32l4x option load completed. Power-on reset might be required\n",
        );
        assert_has(&r.stdout, "Option Register: <0x40022020> = 0xffeff800\n");
        assert_has(
            &r.stderr,
            "read-out protection (RDP level 1) is active: FLASH_OPTR = 0xffeff800, RDP = 0x00",
        );
        assert_has(
            &r.stderr,
            "fix: 'stm32l4x unlock 0' then 'stm32l4x option_load 0'",
        );
        assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
        // Unlock: level 0, the flash mass-erased, the OTP kept.
        let r = run(
            dir.path(),
            c,
            &storage,
            "init; reset halt; stm32l4x unlock 0; stm32l4x option_load 0; reset halt; \
             stm32l4x option_read 0 0x20; mdw 0x08000000 4; mdw 0x1fff7000 2; shutdown",
        );
        r.expect_code(0);
        assert_has(&r.stdout, "stm32l4x unlocked\n");
        assert_has(&r.stdout, "Option Register: <0x40022020> = 0xffeff8aa\n");
        assert_has(
            &r.stdout,
            "0x08000000: ffffffff ffffffff ffffffff ffffffff \n",
        );
        assert_has(&r.stdout, "0x1fff7000: ffffffff ffffffff \n");
        assert!(
            flash_of(c, &storage, 0x0800_0000, image.len())
                .iter()
                .all(|&b| b == 0xFF),
            "{}: flash not mass-erased",
            c.board
        );
    }
}

#[test]
fn stm32l4x_wrp_refuses_program_before_erase_then_removing_it_works() {
    for c in CHIPS.iter().filter(|c| c.l4x) {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let image = objcopy_binary(c.blinky, dir.path());
        // Program, then protect pages 0-1 through FLASH_WRP1AR (start 0, end 1).
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "{}; reset halt; stm32l4x wrp_info 0; stm32l4x option_write 0 0x2c 0x00010000 0x00ff00ff; \
                 stm32l4x option_load 0; reset halt; stm32l4x wrp_info 0; stm32l4x option_read 0 0x2c; \
                 program {} verify",
                program(c.blinky),
                firmware(if c.model == ChipModel::Stm32g474re {
                    "g474-fpu.elf"
                } else {
                    "l476-fpu.elf"
                })
                .display()
            ),
        );
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_has(&r.stdout, "no protected areas\n");
        assert_has(
            &r.stdout,
            "stm32l4x Option written.\nINFO: a reset or power cycle is required for the new settings to take effect.\n",
        );
        assert_has(&r.stdout, "protected areas: 0-1\n");
        assert_has(
            &r.stderr,
            "page 0 (0x08000000-0x080007ff) is write-protected by FLASH_WRP1AR = 0x",
        );
        assert_has(&r.stderr, "(protects pages 0-1)");
        assert_has(&r.stderr, "(FLASH_SR.WRPERR); nothing was erased.");
        assert_has(
            &r.stderr,
            "fix: 'stm32l4x option_write 0 0x2c 0x000000ff 0x00ff00ff' (start above end turns the area off) then 'stm32l4x option_load 0'",
        );
        // Refused before the erase: the blinky is still there.
        assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
        // The suggested fix, then program works; then a mass erase.
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "init; reset halt; stm32l4x option_write 0 0x2c 0x000000ff 0x00ff00ff; stm32l4x option_load 0; \
                 reset halt; stm32l4x wrp_info 0; {}; reset halt; stm32l4x mass_erase 0; mdw 0x08000000 2; shutdown",
                program(c.blinky)
            ),
        );
        r.expect_code(0);
        assert_has(&r.stdout, "no protected areas\n");
        assert_has(&r.stdout, "** Verified OK **");
        assert_has(&r.stdout, "stm32l4x mass erase complete\n");
        assert_has(&r.stdout, "0x08000000: ffffffff ffffffff \n");
    }
}

/// F303: the read-only option command and the mass erase (lock/unlock/WRP wait for its SoC).
#[test]
fn stm32f1x_options_read_and_mass_erase_on_the_f303() {
    let c = &CHIPS[0];
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let image = objcopy_binary(c.blinky, dir.path());
    let r = run(
        dir.path(),
        c,
        &storage,
        &format!(
            "{}; reset halt; stm32f1x options_read 0; mdw 0x08000000 2; shutdown",
            program(c.blinky)
        ),
    );
    r.expect_code(0);
    assert_has(&r.stdout, "read protection: off\n");
    assert_has(&r.stdout, "option byte register = 0x");
    assert_has(&r.stdout, "write protection register = 0xffffffff\n");
    assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
    let r = run(
        dir.path(),
        c,
        &storage,
        "init; reset halt; stm32f1x mass_erase 0; mdw 0x08000000 2; shutdown",
    );
    r.expect_code(0);
    assert_has(&r.stdout, "stm32x mass erase complete\n");
    assert_has(&r.stdout, "0x08000000: ffffffff ffffffff \n");
    assert!(
        flash_of(c, &storage, 0x0800_0000, image.len())
            .iter()
            .all(|&b| b == 0xFF)
    );
}

/// The G474 SWD-off field report: the firmware takes PA13/PA14 out of AF0, the link dies, the
/// ladder connects under reset and names GPIOA_MODER, not the F1's AFIO_MAPR.
#[test]
fn g474_swd_off_link_lost_then_connect_under_reset() {
    let c = &CHIPS[1];
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let image = objcopy_binary("g474-swd-off.elf", dir.path());
    let reset = sym("g474-swd-off.elf", "Reset_Handler");
    let r = run(
        dir.path(),
        c,
        &storage,
        &format!(
            "{}; reset run; sleep 500; halt; reg pc; mdw 0x20000000 2; shutdown",
            program("g474-swd-off.elf")
        ),
    );
    r.expect_code(0);
    assert_has(&r.stderr, "lost the debug link (no ACK from the SW-DP)");
    assert_has(
        &r.stderr,
        "GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode)",
    );
    assert!(!r.stderr.contains("AFIO_MAPR"), "{}", r.stderr);
    assert_has(
        &r.stderr,
        "connect: plain attach at 1800 kHz failed: no ACK from the SW-DP",
    );
    assert_has(
        &r.stderr,
        &format!(
            "connect: connected under reset at 1800 kHz; the core is halted at the reset vector (PC 0x{reset:08x}) before the firmware ran"
        ),
    );
    assert_has(&r.stdout, &format!("pc (/32): 0x{reset:08x}\n"));
    // The firmware had got to stage 3 of this run at most: "G4SW", halted before it ran again.
    assert_eq!(words_at(&r.stdout, 0x2000_0000)[0], 0x5753_3447);
    assert_eq!(flash_of(c, &storage, 0x0800_0000, image.len()), image);
}

/// The same firmware with NRST not wired: the ladder fails and its fix names the G4's pins and
/// the `stm32l4x` commands, not the F1's.
#[test]
fn g474_swd_off_without_nrst_names_the_stm32l4x_fix() {
    let c = &CHIPS[1];
    let dir = tempdir();
    let r = run(
        dir.path(),
        c,
        Path::new("none"),
        &format!(
            "{}; reset run; sleep 500; sim fault no-nrst; halt; shutdown",
            program("g474-swd-off.elf")
        ),
    );
    assert_has(&r.stderr, "NRST is not wired to the probe");
    assert_has(
        &r.stderr,
        "the firmware disabled the SWD pins (GPIOA_MODER of PA13/PA14 (SWDIO/SWCLK taken out of alternate-function mode))",
    );
    assert_has(&r.stderr, "connect and run `stm32l4x mass_erase 0`");
    assert!(!r.stderr.contains("stm32f1x"), "{}", r.stderr);
    assert!(!r.stderr.contains("AFIO_MAPR"), "{}", r.stderr);
}
