//! The link-level field faults on the STM32F303VC, STM32G474RE and STM32L476RG through the built
//! binary, as on the Blue Pill (tests/diagnose_connect.rs, tests/flash_diagnosis.rs): SWD line
//! errors above 200 kHz (from each board's speed the ladder steps down to 125 kHz and names the
//! board-script fix), no
//! target power (0.00 V, recovery skipped), and a link lost in the middle of `program` (the
//! erased-but-not-rewritten range is named, and programming again works).

mod common;

use common::chips::{CHIPS, flash_of, run};
use common::{assert_has, stdbg, tempdir};

#[test]
fn line_errors_above_200_khz_connect_at_125_khz_on_each_chip() {
    for c in CHIPS {
        let dir = tempdir();
        let st = format!("sim storage {}", dir.path().join("chip.bin").display());
        let r = stdbg(
            dir.path(),
            &[
                "-c",
                &st,
                "-c",
                "sim fault line-errors-above 200",
                "-f",
                c.board,
                "-c",
                common::QUIET,
                "-c",
                "init; adapter speed; mdw 0xE0042000; shutdown",
            ],
        );
        r.expect_code(0);
        assert_has(&r.stderr, "Info : connect: connected at 125 kHz\n");
        assert_has(
            &r.stderr,
            "make it the default with `adapter.speed = 125;` in the board script",
        );
        assert_has(&r.stdout, "adapter speed: 125 kHz\n");
        // DBGMCU_IDCODE read over the slowed link: the chip's DEV_ID.
        let dev_id = match c.model {
            stdbg::sim::ChipModel::Stm32f303vc => "422",
            stdbg::sim::ChipModel::Stm32g474re => "469",
            _ => "415",
        };
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with("0xe0042000: ") && l.trim_end().ends_with(dev_id)),
            "{}: {}",
            c.board,
            r.stdout
        );
    }
}

#[test]
fn no_power_says_no_target_power_on_each_chip() {
    for c in CHIPS {
        let dir = tempdir();
        let r = stdbg(
            dir.path(),
            &[
                "-c",
                "sim storage none",
                "-c",
                "sim fault no-power",
                "-f",
                c.board,
                "-c",
                common::QUIET,
                "-c",
                "init; shutdown",
            ],
        );
        r.expect_code(1);
        assert_has(&r.stderr, "cause: no target power");
        assert_has(&r.stderr, "target voltage 0.00 V");
        assert_has(&r.stderr, "the recovery steps were skipped");
        assert!(!r.stderr.contains("trying plain attach"), "{}", r.stderr);
    }
}

#[test]
fn link_lost_mid_program_names_the_erased_range_and_program_again_works() {
    for c in CHIPS {
        let dir = tempdir();
        let storage = dir.path().join("chip.bin");
        let raw = dir.path().join("raw.bin");
        let data: Vec<u8> = (0..32768u32).map(|i| (i * 13 + 5) as u8).collect();
        std::fs::write(&raw, &data).unwrap();
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!(
                "init; sim fault disconnect-after 8000; program {} verify 0x08000000",
                raw.display()
            ),
        );
        assert_eq!(r.code, 1, "{}: {}\n{}", c.board, r.stdout, r.stderr);
        assert_has(&r.stdout, "** Programming Failed **");
        assert_has(
            &r.stderr,
            "the connection to the target was lost during the flash write",
        );
        assert_has(&r.stderr, "erased but not rewritten: 0x080");
        assert_ne!(flash_of(c, &storage, 0x0800_0000, data.len()), data);
        let r = run(
            dir.path(),
            c,
            &storage,
            &format!("program {} verify 0x08000000; shutdown", raw.display()),
        );
        r.expect_code(0);
        assert_has(&r.stdout, "** Verified OK **");
        assert_eq!(flash_of(c, &storage, 0x0800_0000, data.len()), data);
    }
}
