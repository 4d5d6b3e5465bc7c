//! Helpers shared by the integration tests: run the built `stdbg` in a temp dir, prepare a
//! virtual chip whose flash already holds a firmware, read the firmware images.
#![allow(dead_code)]

pub mod chips;
pub mod remote_bitbang;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where `tests/firmware` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a committed firmware image.
pub fn firmware(name: &str) -> PathBuf {
    root().join("tests/firmware").join(name)
}

/// The result of one `stdbg` run.
pub struct Run {
    /// Exit status code.
    pub code: i32,
    /// Standard output lines.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Panics with both streams unless the exit status is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs the built binary in `dir` with `args`; stdin is closed (not a terminal).
pub fn stdbg(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_stdbg"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("HOME", dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running stdbg");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `stdbg -f board/sim-bluepill.rhai -c "sim storage <storage>" -c <cmds>` in `dir`.
pub fn sim_run(dir: &Path, storage: &Path, cmds: &str) -> Run {
    let storage_cmd = format!("sim storage {}", storage.display());
    stdbg(
        dir,
        &[
            "-c",
            &storage_cmd,
            "-f",
            "board/sim-bluepill.rhai",
            "-c",
            cmds,
        ],
    )
}

/// A virtual Blue Pill storage file in `dir` whose flash holds `elf`, programmed through the
/// library (probe-rs's loader against the virtual chip), independent of the `program` command.
pub fn programmed_chip(dir: &Path, elf: &str) -> PathBuf {
    use probe_rs::Permissions;
    use probe_rs::flashing::{DownloadOptions, ElfOptions, download_file_with_options};
    use probe_rs::probe::Probe;
    use stdbg::sim::{ChipModel, Sim, SimConfig};
    let path = dir.join("chip.bin");
    let sim = Sim::new(SimConfig {
        chip: ChipModel::Stm32f103c8,
        storage: Some(path.clone()),
    })
    .expect("virtual chip");
    {
        let probe = Probe::from_specific_probe(Box::new(sim.probe()));
        let mut session = probe
            .attach("STM32F103C8", Permissions::default())
            .expect("attach to the virtual chip");
        let mut opts = DownloadOptions::default();
        opts.verify = true;
        download_file_with_options(
            &mut session,
            firmware(elf),
            probe_rs::flashing::ElfLoader(ElfOptions::default()),
            opts,
        )
        .expect("programming the firmware");
    }
    sim.flush_storage().expect("saving the virtual chip");
    drop(sim);
    path
}

/// `arm-none-eabi-objcopy -O binary` of a firmware image (the bytes flash must hold from
/// 0x08000000). Fails loudly when the tool is missing.
pub fn objcopy_binary(elf: &str, out_dir: &Path) -> Vec<u8> {
    let out = out_dir.join(format!("{elf}.bin"));
    let status = Command::new("arm-none-eabi-objcopy")
        .args(["-O", "binary"])
        .arg(firmware(elf))
        .arg(&out)
        .status()
        .expect("arm-none-eabi-objcopy is required by the tests: apt-get install binutils-arm-none-eabi");
    assert!(status.success(), "objcopy failed on {elf}");
    std::fs::read(out).unwrap()
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Turns off the GDB and telnet servers, so a run without `shutdown` ends after its commands.
pub const QUIET: &str = "gdb_port disabled; telnet_port disabled";

/// Runs `stdbg -c "sim storage <storage>" [-c <pre>]… -f board/sim-bluepill.rhai -c QUIET
/// [-c <cmd>]…` in `dir`: `pre` lines run before the board script (faults, chip, CPUTAPID),
/// `cmds` after it, each as its own `-c`.
pub fn board_run(dir: &Path, storage: &Path, pre: &[&str], cmds: &[&str]) -> Run {
    let st = format!("sim storage {}", storage.display());
    let mut args: Vec<&str> = vec!["-c", &st];
    for p in pre {
        args.extend(["-c", p]);
    }
    args.extend(["-f", "board/sim-bluepill.rhai", "-c", QUIET]);
    for c in cmds {
        args.extend(["-c", c]);
    }
    stdbg(dir, &args)
}

/// Runs `stdbg -f <board> -c "sim storage none" -c QUIET [-c <cmd>]…` in `dir`: a fresh
/// virtual chip of the board, nothing saved.
pub fn fresh_board_run(dir: &Path, board: &str, cmds: &[&str]) -> Run {
    let mut args: Vec<&str> = vec!["-f", board, "-c", "sim storage none", "-c", QUIET];
    for c in cmds {
        args.extend(["-c", c]);
    }
    stdbg(dir, &args)
}

/// The virtual NUCLEO-H743ZI's board script.
pub const H743_BOARD: &str = "board/sim-st_nucleo_h743zi.rhai";

/// Runs `stdbg -c "sim storage <storage>" -f <board> -c QUIET -c <cmds>` in `dir`.
pub fn stored_board_run(dir: &Path, board: &str, storage: &Path, cmds: &str) -> Run {
    let st = format!("sim storage {}", storage.display());
    stdbg(dir, &["-c", &st, "-f", board, "-c", QUIET, "-c", cmds])
}

/// Asserts that `program` was refused before it started: `** Programming Failed **` and no
/// `** Programming Started **` (so nothing was erased).
#[track_caller]
pub fn assert_refused_before_erase(r: &Run) {
    assert_has(&r.stdout, "** Programming Failed **");
    assert!(
        !r.stdout.contains("** Programming Started **"),
        "{}",
        r.stdout
    );
}

/// Asserts that `out` contains `needle`; the failure message is the whole of `out`.
#[track_caller]
pub fn assert_has(out: &str, needle: &str) {
    assert!(out.contains(needle), "{out}");
}

/// Reads a running stdbg's stderr until `Info : Listening on port N for <server> connections`
/// and returns N; the rest of stderr keeps being drained on a thread so stdbg never blocks on
/// it. Panics (naming `server`) if stdbg ends first.
pub fn listening_port(child: &mut std::process::Child, server: &str) -> u16 {
    use std::io::{BufRead, BufReader};
    let err = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(err).lines();
    let suffix = format!(" for {server} connections");
    let port = loop {
        let l = lines
            .next()
            .unwrap_or_else(|| panic!("stdbg ended before opening the {server} port"))
            .unwrap();
        if let Some(p) = l
            .strip_prefix("Info : Listening on port ")
            .and_then(|r| r.strip_suffix(suffix.as_str()))
        {
            break p.parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    port
}
