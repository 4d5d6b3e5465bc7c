//! Flash failures explained, against the virtual Blue Pill through the built binary: a link lost
//! in the middle of `program` (the pages left erased are named, `verify_image` fails on them,
//! a new `program` fixes them), an external flash bank declared in the board script (left alone,
//! named when probed or targeted), and images with a section where the chip has no memory
//! (refused before anything is erased).

mod common;

use std::path::Path;
use std::process::Command;

use common::{firmware, objcopy_binary, programmed_chip, sim_run, stdbg, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

fn flash_of(storage: &Path) -> Vec<u8> {
    let sim = Sim::new(SimConfig {
        chip: ChipModel::Stm32f103c8,
        storage: Some(storage.to_path_buf()),
    })
    .expect("virtual chip");
    sim.read_nonvolatile(0x0800_0000, 0x10000)
}

/// Parses `erased but not rewritten: 0x08009000-0x0800efff (pages 36-59)[, …]` into byte ranges
/// (end exclusive).
fn reported_ranges(stderr: &str) -> Vec<(usize, usize)> {
    let line = stderr
        .lines()
        .find(|l| l.contains("erased but not rewritten: "))
        .unwrap_or_else(|| panic!("no erased-pages line in:\n{stderr}"));
    let list = line.split("erased but not rewritten: ").nth(1).unwrap();
    list.split(", ")
        .map(|item| {
            let range = item.split_whitespace().next().unwrap();
            let (a, b) = range.split_once('-').unwrap();
            let a = usize::from_str_radix(a.trim_start_matches("0x"), 16).unwrap() - 0x0800_0000;
            let b =
                usize::from_str_radix(b.trim_start_matches("0x"), 16).unwrap() - 0x0800_0000 + 1;
            (a, b)
        })
        .collect()
}

#[test]
fn disconnect_mid_program_names_erased_pages_verify_fails_and_program_fixes() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let big = firmware("f103-big.elf");
    let want = objcopy_binary("f103-big.elf", dir.path());
    // ~10 000 SWD transactions in (of about 18 000 for the write): the erase is done,
    // programming is about half-way.
    let r = sim_run(
        dir.path(),
        &storage,
        &format!(
            "init; sim fault disconnect-after 10000; program {} verify",
            big.display()
        ),
    );
    r.expect_code(1);
    assert!(
        r.stdout.contains("** Programming Failed **"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("the connection to the target was lost during the flash write"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("pages now hold 0xFF instead of the image"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "then program again: 'program {} verify'",
            big.display()
        )),
        "{}",
        r.stderr
    );
    let ranges = reported_ranges(&r.stderr);
    assert!(r.stderr.contains(" (pages "), "{}", r.stderr);
    let flash = flash_of(&storage);
    // Outside the reported ranges the image is complete; inside, everything after the first
    // page (which may have been in flight) is still erased.
    for (i, (have, w)) in flash.iter().zip(&want).enumerate() {
        let reported = ranges.iter().any(|(a, b)| (*a..*b).contains(&i));
        if !reported {
            assert_eq!(
                have,
                w,
                "byte 0x{:08x} is outside the reported ranges but differs",
                0x0800_0000 + i
            );
        }
    }
    let (a, b) = ranges[0];
    assert!(
        b - a > 2048 + stdbg::flashing::lean::MAX_CHUNK as usize,
        "the cut should leave several pages: {ranges:?}"
    );
    // The first ProgramPage call of the range (up to 16 KiB, src/flashing/lean.rs) may have
    // been in flight; everything after it is still erased.
    let inflight = (a + stdbg::flashing::lean::MAX_CHUNK as usize).min(b);
    assert!(
        flash[inflight..b].iter().all(|x| *x == 0xFF),
        "reported pages after the one in flight are erased"
    );
    assert!(
        want[inflight..b.min(want.len())].iter().any(|x| *x != 0xFF),
        "and the image has data there"
    );

    // Reconnected (a new session, fault gone): verify cannot pass over the erased pages.
    let r = sim_run(
        dir.path(),
        &storage,
        &format!("init; verify_image {}", big.display()),
    );
    r.expect_code(1);
    assert!(
        r.stdout
            .contains("checksum mismatch - attempting binary compare"),
        "{}",
        r.stdout
    );
    let first_diff = format!(
        "diff 0 address 0x{:08x}.",
        0x0800_0000 + (a..b).find(|i| flash[*i] != want[*i]).unwrap()
    );
    assert!(r.stdout.contains(&first_diff), "{first_diff}\n{}", r.stdout);
    let r = sim_run(
        dir.path(),
        &storage,
        &format!("program {} verify exit", big.display()),
    );
    r.expect_code(0);
    assert!(r.stdout.contains("** Verified OK **"), "{}", r.stdout);
    assert_eq!(&flash_of(&storage)[..want.len()], &want[..]);
}

fn write_ext_board(dir: &Path) {
    std::fs::write(
        dir.join("ext-board.rhai"),
        "source(\"board/sim-bluepill.rhai\");\nflash_bank(\"ext.qspi\", \"stmqspi\", 0x90000000, 0x800000, _TARGET);\n",
    )
    .unwrap();
}

#[test]
fn external_bank_is_listed_left_alone_and_named_when_probed() {
    let dir = tempdir();
    write_ext_board(dir.path());
    let storage = dir.path().join("chip.bin");
    let storage_cmd = format!("sim storage {}", storage.display());
    let blinky = firmware("f103-blinky.elf");
    let r = stdbg(
        dir.path(),
        &[
            "-c",
            &storage_cmd,
            "-f",
            "ext-board.rhai",
            "-c",
            &format!("flash banks; program {} verify; shutdown", blinky.display()),
        ],
    );
    r.expect_code(0);
    assert!(
        r.stdout.contains(
            "#1 : ext.qspi (stmqspi) at 0x90000000, size 0x00800000, buswidth 0, chipwidth 0\n"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("** Verified OK **"), "{}", r.stdout);
    let want = objcopy_binary("f103-blinky.elf", dir.path());
    assert_eq!(&flash_of(&storage)[..want.len()], &want[..]);

    let r = stdbg(
        dir.path(),
        &[
            "-c",
            &storage_cmd,
            "-f",
            "ext-board.rhai",
            "-c",
            "init; flash probe 1",
        ],
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("flash bank #1 ext.qspi (driver stmqspi) at 0x90000000 cannot be probed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("none of which covers 0x90000000-0x907fffff on STM32F103C8"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("STM32F103C8 has no memory at 0x90000000 at all"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("check power and cabling"),
        "{}",
        r.stderr
    );
}

#[test]
fn image_in_external_bank_is_refused_naming_the_bank_before_erase() {
    let dir = tempdir();
    write_ext_board(dir.path());
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let before = flash_of(&storage);
    let elf = dir.path().join("qspi.elf");
    let st = Command::new("arm-none-eabi-objcopy")
        .args(["--change-addresses", "0x88000000"])
        .arg(firmware("f103-blinky.elf"))
        .arg(&elf)
        .status()
        .expect("arm-none-eabi-objcopy is required by this test (apt-get install binutils-arm-none-eabi)");
    assert!(st.success());
    let storage_cmd = format!("sim storage {}", storage.display());
    let r = stdbg(
        dir.path(),
        &[
            "-c",
            &storage_cmd,
            "-f",
            "ext-board.rhai",
            "-c",
            &format!("program {}", elf.display()),
        ],
    );
    r.expect_code(1);
    assert!(
        r.stderr.contains("section .isr_vector (0x90000000-0x900000ec) lies in flash bank ext.qspi (driver stmqspi, 0x90000000-0x90800000), which stdbg cannot program"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Nothing was erased"), "{}", r.stderr);
    assert_eq!(flash_of(&storage), before);
}

#[test]
fn section_where_the_chip_has_no_memory_is_refused_before_erase() {
    let dir = tempdir();
    let storage = programmed_chip(dir.path(), "f103-blinky.elf");
    let before = flash_of(&storage);
    // A vector table in flash and a data section linked at 0x60000000 (FSMC bank 1, which an
    // STM32F103C8 does not have).
    std::fs::write(dir.path().join("fsmc.s"), ".section .text\n.word 0x20005000\n.word 0x08000009\n.section .fsmc_data,\"aw\"\n.word 1,2,3,4\n").unwrap();
    let elf = dir.path().join("fsmc.elf");
    let st = Command::new("arm-none-eabi-gcc")
        .args([
            "-nostdlib",
            "-mcpu=cortex-m3",
            "-mthumb",
            "-Wl,-Ttext=0x08000000",
            "-Wl,--section-start=.fsmc_data=0x60000000",
            "-Wl,-e,0x08000000",
        ])
        .arg(dir.path().join("fsmc.s"))
        .arg("-o")
        .arg(&elf)
        .status()
        .expect("arm-none-eabi-gcc is required by this test (apt-get install gcc-arm-none-eabi)");
    assert!(st.success());
    let r = sim_run(dir.path(), &storage, &format!("program {}", elf.display()));
    r.expect_code(1);
    assert!(
        r.stdout.contains("** Programming Failed **")
            && !r.stdout.contains("** Programming Started **"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("section .fsmc_data (0x60000000-0x60000010) is outside the memory of STM32F103C8: flash 0x08000000-0x08010000 (64 KiB), RAM 0x20000000-0x20005000 (20 KiB)"),
        "{}",
        r.stderr
    );
    assert_eq!(flash_of(&storage), before);
    // The 128 KiB-linked image on the 64 KiB part, likewise.
    let r = sim_run(
        dir.path(),
        &storage,
        &format!("program {}", firmware("f103-too-big.elf").display()),
    );
    r.expect_code(1);
    assert!(r.stderr.contains("section .rodata (0x08000184-0x08014184) does not fit: the flash of STM32F103C8 is 0x08000000-0x08010000 (64 KiB)"), "{}", r.stderr);
    assert_eq!(flash_of(&storage), before);
}

/// The H743's QUADSPI window declared as an `stmqspi` bank: the internal banks still program;
/// probing the bank and programming an image there are refused before anything is erased, in
/// H7 terms (the QUADSPI memory-mapped window of RM0433 §23 that answers only once configured,
/// no stmqspi loader in stdbg, configuration and not power or cabling); a read there is a bus
/// error on the virtual chip, where nothing has set QUADSPI up.
#[test]
fn h743_qspi_bank_is_named_as_the_quadspi_window_and_program_there_is_refused() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("h7-qspi.rhai"),
        "source(\"board/sim-st_nucleo_h743zi.rhai\");\nflash_bank(\"stm32h7x.qspi\", \"stmqspi\", 0x90000000, 0x800000, _TARGET);\n",
    )
    .unwrap();
    let storage = dir.path().join("chip.bin");
    let st = format!("sim storage {}", storage.display());
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 11 + 1) as u8).collect();
    std::fs::write(dir.path().join("a.bin"), &data).unwrap();
    let run = |cmds: &str| {
        stdbg(
            dir.path(),
            &[
                "-c",
                &st,
                "-f",
                "h7-qspi.rhai",
                "-c",
                common::QUIET,
                "-c",
                cmds,
            ],
        )
    };
    let h7_flash = || {
        Sim::new(SimConfig {
            chip: ChipModel::Stm32h743zi,
            storage: Some(storage.clone()),
        })
        .unwrap()
        .read_nonvolatile(0x0800_0000, data.len())
    };
    let r = run("init; reset halt; flash banks; program a.bin verify 0x08000000; shutdown");
    r.expect_code(0);
    common::assert_has(
        &r.stdout,
        "#2 : stm32h7x.qspi (stmqspi) at 0x90000000, size 0x00800000, buswidth 0, chipwidth 0\n",
    );
    common::assert_has(&r.stdout, "** Verified OK **");
    assert_eq!(h7_flash(), data);
    let window = "on the STM32H7 0x90000000-0x9fffffff is the QUADSPI memory-mapped window (RM0433 §23; QUADSPI registers at 0x52005000): it answers only after firmware or a loader has configured QUADSPI in memory-mapped mode (QUADSPI_CCR.FMODE = 0b11, QUADSPI_CR.EN = 1) for the external flash wired to it, and until then every access there is a bus error. stdbg has no stmqspi loader and does not configure QUADSPI, so it can neither program nor probe that flash. This is a configuration question, not power or cabling: program the external flash with a tool that has a loader for it";
    let r = run("init; reset halt; flash probe 2; shutdown");
    r.expect_code(1);
    common::assert_has(
        &r.stderr,
        "flash bank #2 stm32h7x.qspi (driver stmqspi) at 0x90000000 cannot be probed: stdbg programs flash only with probe-rs flash algorithms for the chip's own memory map, and STM32H743ZI has none at 0x90000000-0x907fffff",
    );
    common::assert_has(&r.stderr, window);
    let r = run("init; reset halt; program a.bin verify 0x90000000; shutdown");
    r.expect_code(1);
    common::assert_has(&r.stdout, "** Programming Failed **");
    assert!(
        !r.stdout.contains("** Programming Started **"),
        "{}",
        r.stdout
    );
    common::assert_has(
        &r.stderr,
        "data (0x90000000-0x90001000) lies in flash bank stm32h7x.qspi (driver stmqspi, 0x90000000-0x90800000), which stdbg cannot program: ",
    );
    common::assert_has(&r.stderr, window);
    common::assert_has(&r.stderr, "Nothing was erased;");
    assert_eq!(h7_flash(), data);
    // The virtual H743 has no QUADSPI set up: the window is a bus error (FAULT).
    let r = run("init; reset halt; mdw 0x90000000; shutdown");
    r.expect_code(1);
    common::assert_has(&r.stderr, "FAULT");
}
