//! The family seam through the built binary, against the virtual chips that exist today: every
//! sim board script × every modelled chip (the wrong-chip matrix: the chip found and the
//! script's expectation named from the one DEV_ID table), and on the matching pairs `init`,
//! `reset halt`, the examine-end DBGMCU writes, `flash probe`/`flash info` through the family
//! and the family's read-only option commands.

mod common;

use common::{assert_has, stdbg, tempdir};

/// (board, chip of the board, target script, expectation words).
const BOARDS: &[(&str, &str, &str, &str)] = &[
    (
        "board/sim-bluepill.rhai",
        "STM32F103C8",
        "targets/stm32f1x.rhai",
        "an STM32F1 (DEV_ID 0x412, 0x410, 0x414, 0x430, 0x418, 0x420, 0x428)",
    ),
    (
        "board/sim-stm32f3discovery.rhai",
        "STM32F303VC",
        "targets/stm32f3x.rhai",
        "an STM32F3 (DEV_ID 0x422, 0x432, 0x438, 0x439, 0x446)",
    ),
    (
        "board/sim-st_nucleo_g4.rhai",
        "STM32G474RE",
        "targets/stm32g4x.rhai",
        "an STM32G4 (DEV_ID 0x468, 0x469, 0x479)",
    ),
    (
        "board/sim-st_nucleo_l4.rhai",
        "STM32L476RG",
        "targets/stm32l4x.rhai",
        "an STM32L4 (DEV_ID 0x415, 0x435, 0x461, 0x462, 0x464, 0x470, 0x471)",
    ),
];

/// (chip, what the DEV_ID table calls it, its DBGMCU_IDCODE, the script to use instead).
const CHIPS: &[(&str, &str, &str)] = &[
    (
        "STM32F103C8",
        "STM32F10xx8/B (medium density)",
        "targets/stm32f1x.rhai",
    ),
    ("STM32F303VC", "STM32F303xB/C", "targets/stm32f3x.rhai"),
    ("STM32G474RE", "STM32G47x/G48x", "targets/stm32g4x.rhai"),
    ("STM32L476RG", "STM32L47x/L48x", "targets/stm32l4x.rhai"),
    ("STM32H743ZI", "STM32H74x/H75x", "targets/stm32h7x.rhai"),
];

fn run(board: &str, chip: &str, cmds: &str) -> common::Run {
    let dir = tempdir();
    let chip_cmd = format!("sim chip {chip}");
    stdbg(
        dir.path(),
        &[
            "-c",
            "sim storage none",
            "-f",
            board,
            "-c",
            &chip_cmd,
            "-c",
            "gdb_port disabled; telnet_port disabled",
            "-c",
            cmds,
        ],
    )
}

#[test]
fn every_board_against_every_modelled_chip() {
    for (board, own, script, expects) in BOARDS {
        for (chip, words, instead) in CHIPS {
            let r = run(board, chip, "init; shutdown");
            if chip == own {
                r.expect_code(0);
                assert!(
                    !r.stderr.contains("wrong chip"),
                    "{board} × {chip}: {}",
                    r.stderr
                );
                continue;
            }
            assert_eq!(r.code, 1, "{board} × {chip}: {}\n{}", r.stdout, r.stderr);
            assert_has(
                &r.stderr,
                &format!("wrong chip for this configuration: found {words} (DBGMCU_IDCODE 0x"),
            );
            assert_has(&r.stderr, &format!("but {script} expects {expects}"));
            assert_has(&r.stderr, &format!("fix: use -f {instead} instead"));
        }
    }
}

#[test]
fn new_boards_init_reset_halt_and_examine_end() {
    for (board, chip, _, _) in &BOARDS[1..] {
        let r = run(board, chip, "init; reset halt; mdw 0xE0042004; shutdown");
        r.expect_code(0);
        assert_has(&r.stdout, "halted due to debug-request");
        // examine-end: DBGMCU_CR |= DBG_SLEEP | DBG_STOP | DBG_STANDBY.
        assert_has(&r.stdout, "0xe0042004: 00000007 \n");
    }
}

#[test]
fn flash_probe_and_info_go_through_the_family() {
    let r = run(
        "board/sim-stm32f3discovery.rhai",
        "STM32F303VC",
        "init; halt; flash probe 0; flash info 0; stm32f1x options_read 0; shutdown",
    );
    r.expect_code(0);
    assert_has(&r.stderr, "Info : device id = 0x10036422\n");
    assert_has(&r.stderr, "Info : flash size = 256 KiB\n");
    assert_has(&r.stdout, "flash 'stm32f1x' found at 0x08000000\n");
    assert_has(
        &r.stdout,
        "#0 : stm32f1x at 0x08000000, size 0x00040000, buswidth 0, chipwidth 0\n",
    );
    // F3: 2 KiB pages, two pages per WRPR bit.
    assert_has(&r.stdout, "\t#  0: 0x00000000 (0x1000 4kB) not protected\n");
    assert_has(&r.stdout, "STM32F302xB/C - Rev: Y\n");
    assert_has(&r.stdout, "option byte register = 0x");
    assert_has(&r.stdout, "read protection: off\n");

    for (board, chip, idcode, kib, device, mode) in [
        (
            "board/sim-st_nucleo_g4.rhai",
            "STM32G474RE",
            "0x10006469 (STM32G47/G48xx - Rev A : 0x1000)",
            512,
            "STM32G47/G48xx - Rev A : 0x1000 - Flash dual-bank\n",
            "stm32g4x",
        ),
        (
            "board/sim-st_nucleo_l4.rhai",
            "STM32L476RG",
            "0x10076415 (STM32L47/L48xx - Rev 4 : 0x1007)",
            1024,
            "STM32L47/L48xx - Rev 4 : 0x1007 - Flash dual-bank\n",
            "stm32l4x",
        ),
    ] {
        let r = run(
            board,
            chip,
            "init; flash banks; flash probe 0; flash info 0; flash probe 1; stm32l4x option_read 0 0x20; shutdown",
        );
        r.expect_code(0);
        assert_has(&r.stderr, &format!("Info : device idcode = {idcode}\n"));
        // OpenOCD 0.12's stm32l4_probe lines, in its order.
        assert_has(
            &r.stderr,
            &format!(
                "Info : device idcode = {idcode}\nInfo : RDP level 0 (0xAA)\nInfo : flash size = {kib} KiB\nInfo : flash mode : dual-bank\n"
            ),
        );
        assert_has(
            &r.stdout,
            &format!(
                "#1 : {mode}.otp (stm32l4x) at 0x1fff7000, size 0x00000000, buswidth 0, chipwidth 0\n"
            ),
        );
        assert_has(&r.stdout, device);
        assert_has(
            &r.stderr,
            &format!(
                "Info : device idcode = {idcode}\nInfo : RDP level 0 (0xAA)\nInfo : OTP size is 1024 bytes, base address is 0x1fff7000\n"
            ),
        );
        assert_has(&r.stdout, "flash 'stm32l4x' found at 0x1fff7000\n");
        assert_has(&r.stdout, "Option Register: <0x40022020> = 0x");
    }
}

#[test]
fn family_commands_refuse_the_other_familys_banks() {
    let r = run(
        "board/sim-st_nucleo_l4.rhai",
        "STM32L476RG",
        "init; halt; stm32f1x options_read 0",
    );
    r.expect_code(1);
    assert_has(
        &r.stderr,
        "flash bank #0 (stm32l4x.flash) has driver 'stm32l4x': the stm32f1x commands work on stm32f1x banks only",
    );
    let r = run(
        "board/sim-bluepill.rhai",
        "STM32F103C8",
        "init; halt; stm32l4x wrp_info 0",
    );
    r.expect_code(1);
    assert_has(
        &r.stderr,
        "flash bank #0 (stm32f1x.flash) has driver 'stm32f1x': the stm32l4x commands work on stm32l4x banks only",
    );
    let r = run(
        "board/sim-st_nucleo_g4.rhai",
        "STM32G474RE",
        "init; halt; stm32l4x lock 1",
    );
    r.expect_code(1);
    assert_has(&r.stderr, "stm32g4x.otp: cannot lock/unlock OTP memory");
    let r = run(
        "board/sim-st_nucleo_g4.rhai",
        "STM32G474RE",
        "init; stm32l4x otp 1 show; stm32l4x otp 1 enable; stm32l4x otp 1 show; shutdown",
    );
    r.expect_code(0);
    assert_has(
        &r.stdout,
        "OTP memory bank #1 is disabled for write commands.\nOTP memory bank #1 is enabled for write commands.\n",
    );
}

/// Regression: `board/st_nucleo_l4.rhai` called `reset_config("srst_only srst_nogate")`, which
/// the command refused as one unknown word, so the real NUCLEO-L476RG board did not load; the
/// same form is what stdbg's fixes tell users to add. Every real board script loads with the
/// ST-LINK interface and declares its banks and reset lines.
#[test]
fn real_board_scripts_load_and_reset_config_takes_one_string_of_words() {
    for (board, reset, bank) in [
        (
            "board/bluepill.rhai",
            "none separate\n",
            "#0 : stm32f1x.flash (stm32f1x) at 0x08000000",
        ),
        (
            "board/stm32f3discovery.rhai",
            "srst_only separate srst_nogate connect_deassert_srst\n",
            "#0 : stm32f3x.flash (stm32f1x) at 0x08000000",
        ),
        (
            "board/st_nucleo_g4.rhai",
            "srst_only separate srst_nogate connect_deassert_srst\n",
            "#1 : stm32g4x.otp (stm32l4x) at 0x1fff7000",
        ),
        (
            "board/st_nucleo_l4.rhai",
            "srst_only separate srst_nogate connect_deassert_srst\n",
            "#1 : stm32l4x.otp (stm32l4x) at 0x1fff7000",
        ),
    ] {
        let dir = common::tempdir();
        let r = common::stdbg(
            dir.path(),
            &[
                "-f",
                "interface/stlink.rhai",
                "-f",
                board,
                "-c",
                "reset_config; flash banks; shutdown",
            ],
        );
        r.expect_code(0);
        common::assert_has(&r.stdout, reset);
        common::assert_has(&r.stdout, bank);
    }
    // The fix stdbg prints, as a script line.
    let dir = common::tempdir();
    let script = dir.path().join("fix.rhai");
    std::fs::write(
        &script,
        "reset_config(\"srst_only srst_nogate connect_assert_srst\");\n",
    )
    .unwrap();
    let r = common::stdbg(
        dir.path(),
        &[
            "-f",
            "board/sim-bluepill.rhai",
            "-f",
            script.to_str().unwrap(),
            "-c",
            "reset_config; shutdown",
        ],
    );
    r.expect_code(0);
    common::assert_has(
        &r.stdout,
        "srst_only separate srst_nogate connect_assert_srst\n",
    );
}

/// The Nucleo-H743ZI board on the other virtual chips: probe-rs's STM32H7 attach needs AP2,
/// which they lack, so the failure is named as the wrong chip with both the configured and the
/// found chip and the script to use (the other direction, F1/F3/G4/L4 scripts on the H743, is in
/// `every_board_against_every_modelled_chip`).
#[test]
fn h743_board_on_the_other_chips_names_both_chips() {
    for (chip, words, instead) in CHIPS.iter().filter(|c| c.0 != "STM32H743ZI") {
        let r = run("board/sim-st_nucleo_h743zi.rhai", chip, "init; shutdown");
        assert_eq!(r.code, 1, "{chip}: {}\n{}", r.stdout, r.stderr);
        assert_has(
            &r.stderr,
            &format!("wrong chip for this configuration: found {words} (DBGMCU_IDCODE 0x"),
        );
        assert_has(
            &r.stderr,
            "but the configuration is for an STM32H743ZI (probe-rs's attach for it failed: The AP with address AP 2 does not exist.",
        );
        assert_has(&r.stderr, &format!("fix: use -f {instead} instead"));
    }
}
