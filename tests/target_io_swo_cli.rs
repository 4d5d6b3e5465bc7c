//! The OpenOCD SWO/ITM commands through the binary on the virtual Blue Pill: `tpiu names`,
//! `<tpiu> cget`, `swo create`, the deprecated `tpiu config` (what it logs and runs), and the
//! error of every bad argument (what happened, cause, fix; exit status 1, no panic). The
//! trace itself is tested in `target_io_swo.rs`.

mod common;

/// Runs the commands on a fresh virtual Blue Pill; returns (exit status, stdout + stderr).
fn run(cmds: &[&str]) -> (i32, String, Vec<String>) {
    let dir = common::tempdir();
    let r = common::fresh_board_run(dir.path(), "board/sim-bluepill.rhai", cmds);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains("panicked"), "{all}");
    (
        r.code,
        all,
        r.lines().iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn openocd_syntax_results() {
    let dir = common::tempdir();
    let file = dir.path().join("dep.bin");
    let dep = format!(
        "tpiu config internal {} uart off 8000000 1000000",
        file.display()
    );
    let (code, all, l) = run(&[
        "tpiu names",
        "stm32f1x.tpiu cget -baseaddr",
        "stm32f1x.tpiu cget -protocol",
        "stm32f1x.tpiu cget -event pre-enable",
        "swo create stm32f1x.swo -dap stm32f1x.dap -ap-num 0",
        "swo names",
        "itm port 0 on",
        "init",
        &dep,
        "stm32f1x.tpiu cget -pin-freq",
        "stm32f1x.tpiu cget -output",
        "stm32f1x.tpiu cget -formatter",
        "stm32f1x.tpiu disable",
        "stm32f1x.tpiu configure -formatter on",
        "stm32f1x.tpiu cget -formatter",
        "shutdown",
    ]);
    assert_eq!(code, 0, "{all}");
    assert_eq!(
        l[..10],
        [
            "stm32f1x.tpiu",
            "3758358528",
            "sync",
            "mmw 0xE0042004 0x00000020 0",
            "stm32f1x.tpiu stm32f1x.swo",
            "1000000",
            &file.display().to_string(),
            "off",
            "on",
            "shutdown command invoked",
        ]
        .map(String::from),
        "{all}"
    );
    for needle in [
        "DEPRECATED 'tpiu config' command: Using stm32f1x.tpiu",
        &format!(
            "DEPRECATED 'tpiu config' command: Running: 'stm32f1x.tpiu configure -protocol uart -traceclk 8000000 -pin-freq 1000000 -output {} -formatter off'",
            file.display()
        ),
        "DEPRECATED 'tpiu config' command: Running: 'stm32f1x.tpiu enable'",
    ] {
        common::assert_has(&all, needle);
    }
}

#[test]
fn openocd_syntax_errors_say_what_and_how_to_fix() {
    let cfg = "stm32f1x.tpiu configure -protocol uart -traceclk 72000000";
    let cases: &[(&[&str], &str)] = &[
        (
            &["stm32f1x.tpiu configure -protocol bogus"],
            "bad protocol \"bogus\": must be sync, uart, or manchester",
        ),
        (
            &["stm32f1x.tpiu configure -foo 1"],
            "bad option \"-foo\": must be -port-width, -protocol, -formatter, -traceclk, -pin-freq, -output, -event, -dap, -ap-num, or -baseaddr",
        ),
        (
            &["stm32f1x.tpiu configure -output :abc"],
            "Invalid TCP port 'abc': use ':PORT'",
        ),
        (
            &["stm32f1x.tpiu configure -formatter maybe"],
            "bad formatter \"maybe\": must be on, yes, 1, true, off, no, 0, or false",
        ),
        (
            &["stm32f1x.tpiu configure -traceclk"],
            "wrong # args: -traceclk needs a value, e.g. 'stm32f1x.tpiu configure -traceclk 72000000'",
        ),
        (
            &["stm32f1x.tpiu configure -port-width 40"],
            "Invalid port width! 40 is not 1 to 32",
        ),
        (
            &["stm32f1x.tpiu configure -event reset-init {halt}"],
            "bad event \"reset-init\": must be pre-enable, post-enable, pre-disable, or post-disable",
        ),
        (
            &["stm32f1x.tpiu frob"],
            "stm32f1x.tpiu: unknown subcommand \"frob\"",
        ),
        (
            &["tpiu create x"],
            "-dap and -ap-num required when creating TPIU, e.g. 'tpiu create x -dap stm32f1x.dap -ap-num 0'",
        ),
        (
            &["tpiu create stm32f1x.tpiu -dap stm32f1x.dap -ap-num 0"],
            "cannot create TPIU object because a command with name 'stm32f1x.tpiu' already exists",
        ),
        (
            &["swo create y -dap nodap -ap-num 0"],
            "-dap: no DAP named 'nodap'",
        ),
        (
            &["itm port 300 on"],
            "ITM port 300 does not exist: ports are 0 to 255",
        ),
        (
            &["itm port 0 maybe"],
            "bad value \"maybe\": must be on, yes, 1, true, off, no, 0, or false",
        ),
        (&["itm ports"], "wrong arguments for 'itm ports'"),
        (
            &["tpiu config internal"],
            "wrong arguments for 'tpiu config'",
        ),
        (&["tpiu init"], "'tpiu init'"),
        (
            &["init", "stm32f1x.tpiu enable"],
            "Trace clock-in frequency not set: stm32f1x.tpiu needs TRACECLKIN",
        ),
        (
            &["init", cfg, "stm32f1x.tpiu enable"],
            "Adapter does not support auto-detection of SWO pin frequency nor a default value: set it with 'stm32f1x.tpiu configure -pin-freq HZ'",
        ),
        (
            &[
                "init",
                cfg,
                "stm32f1x.tpiu configure -pin-freq 20000000 -output :0",
                "stm32f1x.tpiu enable",
            ],
            "the virtual probe cannot capture SWO at 18000000 Bd",
        ),
        (
            &[
                "init",
                "stm32f1x.tpiu configure -traceclk 8000000 -output :0",
                "stm32f1x.tpiu enable",
            ],
            "Failed to start adapter's trace: the probe captures SWO only, not the 1-bit synchronous trace port",
        ),
        (
            &[
                "init",
                cfg,
                "stm32f1x.tpiu configure -pin-freq 2000000",
                "stm32f1x.tpiu enable",
                "stm32f1x.tpiu configure -formatter 1",
            ],
            "Cannot configure TPIU/SWO; stm32f1x.tpiu is enabled! Run 'stm32f1x.tpiu disable' first",
        ),
    ];
    for (cmds, needle) in cases {
        let (code, all, _) = run(cmds);
        assert_eq!(code, 1, "{cmds:?}: {all}");
        common::assert_has(&all, needle);
    }
    // Rounding to the prescaler is logged, as OpenOCD does.
    let (_, all, _) = run(&[
        "init",
        cfg,
        "stm32f1x.tpiu configure -pin-freq 20000000 -output :0",
        "stm32f1x.tpiu enable",
    ]);
    common::assert_has(&all, "SWO pin data rate adjusted to 18000000 Hz");
}
