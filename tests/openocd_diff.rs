//! The differential test against Debian's OpenOCD 0.12: one command sequence run on four copies
//! of the same virtual STM32F103 (f103-blinky programmed) by OpenOCD over remote_bitbang (JTAG),
//! by stdbg over remote_bitbang (JTAG, and SWD through the protocol's SWD extension) and by
//! stdbg in-process. The outputs must be equal line by line
//! after masking timings, except for the differences listed in docs/commands.md ("Differences
//! from OpenOCD 0.12"), each named here by the text that lists it; the four chips' flash must
//! end byte-for-byte identical.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::remote_bitbang::{Server, require_openocd};

/// How a step's output is compared.
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    /// Line by line (after the common masking).
    Exact,
    /// Halting a running target: where it stopped depends on timing, so the numbers of the
    /// `xPSR: … pc: … msp: …` line are masked.
    HaltWhileRunning,
    /// An error case run under `catch`: only the `rc:` lines (the catch results) are compared,
    /// because the messages differ on purpose (see docs/commands.md).
    ErrorCase,
}

/// The sequence: (command line, comparison). Each runs as one `-c` line.
const STEPS: &[(&str, Cmp)] = &[
    ("init", Cmp::Exact),
    ("targets", Cmp::Exact),
    ("poll", Cmp::Exact),
    ("halt", Cmp::HaltWhileRunning),
    ("reset halt", Cmp::Exact),
    ("targets", Cmp::Exact),
    ("reg", Cmp::Exact),
    ("reg pc", Cmp::Exact),
    ("reg sp", Cmp::Exact),
    ("reg r0 0x1234", Cmp::Exact),
    ("reg r0", Cmp::Exact),
    ("mdw 0x08000000 8", Cmp::Exact),
    ("mdh 0x08000000 8", Cmp::Exact),
    ("mdb 0x08000000 16", Cmp::Exact),
    ("mww 0x20000100 0xcafef00d", Cmp::Exact),
    ("mdw 0x20000100", Cmp::Exact),
    ("mww 0x20000104 0x11223344 2", Cmp::Exact),
    ("mdw 0x20000100 3", Cmp::Exact),
    ("mwh 0x20000104 0x5566", Cmp::Exact),
    ("mwb 0x20000107 0x77", Cmp::Exact),
    ("mdh 0x20000104 2", Cmp::Exact),
    ("mdb 0x20000104 4", Cmp::Exact),
    ("flash banks", Cmp::Exact),
    ("flash probe 0", Cmp::Exact),
    ("flash info 0", Cmp::Exact),
    ("flash info 0 sectors", Cmp::Exact),
    ("flash erase_sector 0 60 61", Cmp::Exact),
    ("mdw 0x0800f000 2", Cmp::Exact),
    ("flash write_image erase fw.elf", Cmp::Exact),
    ("flash verify_image fw.elf", Cmp::Exact),
    ("verify_image fw.elf", Cmp::Exact),
    ("dump_image dump.bin 0x08000000 0x200", Cmp::Exact),
    ("load_image ram.bin 0x20001000 bin", Cmp::Exact),
    ("verify_image ram.bin 0x20001000 bin", Cmp::Exact),
    ("mdw 0x20001000 2", Cmp::Exact),
    ("bp 0x08000164 2 hw", Cmp::Exact),
    ("bp", Cmp::Exact),
    // Where the halt message falls (in resume's output or wait_halt's) depends on timing.
    ("resume; wait_halt 2000", Cmp::Exact),
    ("reg pc", Cmp::Exact),
    ("rbp 0x08000164", Cmp::Exact),
    ("wp 0x20000004 4 w", Cmp::Exact),
    ("wp", Cmp::Exact),
    ("resume; wait_halt 2000", Cmp::Exact),
    ("rwp 0x20000004", Cmp::Exact),
    ("step", Cmp::Exact),
    ("reg pc", Cmp::Exact),
    ("stm32f1x options_read 0", Cmp::Exact),
    (r#"echo "rc: [catch {foo_unknown 1}]""#, Cmp::ErrorCase),
    (r#"echo "rc: [catch {mdw}]""#, Cmp::ErrorCase),
    (r#"echo "rc: [catch {mdw 0x20000000 zz}]""#, Cmp::ErrorCase),
    (r#"echo "rc: [catch {mww 0x20000000}]""#, Cmp::ErrorCase),
    (r#"echo "rc: [catch {mdw 0x60000000}]""#, Cmp::ErrorCase),
    (
        r#"echo "rc: [catch {flash erase_sector 0 100 200}]""#,
        Cmp::ErrorCase,
    ),
    (r#"echo "rc: [catch {flash info 7}]""#, Cmp::ErrorCase),
    ("stm32f1x lock 0", Cmp::Exact),
    ("reset halt", Cmp::Exact),
    ("stm32f1x options_read 0", Cmp::Exact),
    ("stm32f1x unlock 0", Cmp::Exact),
    ("reset halt", Cmp::Exact),
    ("stm32f1x options_read 0", Cmp::Exact),
    ("program fw.elf verify", Cmp::Exact),
    ("reset init", Cmp::Exact),
    ("dump_image final.bin 0x08000000 0x10000", Cmp::Exact),
    ("shutdown", Cmp::Exact),
];

/// A documented difference: lines one tool prints and the other does not (by prefix), or a
/// line each prints differently. `doc` is the text of its row in docs/commands.md.
struct Difference {
    doc: &'static str,
    /// Lines only OpenOCD prints (prefixes), dropped from its output.
    openocd_only: &'static [&'static str],
    /// Lines only stdbg prints (prefixes), dropped from its output.
    stdbg_only: &'static [&'static str],
    /// (stdbg's line, OpenOCD's line): stdbg's is compared as OpenOCD's.
    same_as: &'static [(&'static str, &'static str)],
    /// The stdbg paths it applies to (all when empty).
    only_vs: &'static [Tool],
    /// Applies to the steps after `init` only (both print these lines at `init`).
    after_init: bool,
}

const DIFFERENCES: &[Difference] = &[
    Difference {
        doc: "OpenOCD prints an empty line after each command's result",
        openocd_only: &[],
        stdbg_only: &[],
        same_as: &[],
        only_vs: &[],
        after_init: false,
    },
    Difference {
        doc: "OpenOCD re-examines the JTAG chain at each reset",
        openocd_only: &["Info : JTAG tap: "],
        stdbg_only: &[],
        same_as: &[],
        only_vs: &[],
        after_init: true,
    },
    Difference {
        doc: "The in-process virtual chip is reached over SWD",
        openocd_only: &[
            "Info : Initializing remote_bitbang driver",
            "Info : Connecting to ",
            "Info : remote_bitbang driver initialized",
            "Info : This adapter doesn't support configurable speed",
            "Info : remote_bitbang interface quit",
            "Info : JTAG tap: ",
        ],
        stdbg_only: &["Info : sim adapter connected, SWD clock 1000 kHz"],
        same_as: &[],
        only_vs: &[Tool::StdbgInProcess],
        after_init: false,
    },
    Difference {
        doc: "Over the SWD extension of remote_bitbang there is no JTAG chain",
        openocd_only: &["Info : JTAG tap: "],
        stdbg_only: &[],
        same_as: &[],
        only_vs: &[Tool::StdbgRemoteBitbangSwd],
        after_init: false,
    },
    Difference {
        doc: "probe-rs sets the Thumb bit",
        openocd_only: &[],
        stdbg_only: &[],
        same_as: &[(
            "xPSR: 0x01000000 pc: 00000000 msp: 00000000",
            "xPSR: 00000000 pc: 00000000 msp: 00000000",
        )],
        only_vs: &[],
        after_init: false,
    },
    Difference {
        doc: "`mdw` at an address that is not a multiple of 4",
        openocd_only: &[],
        stdbg_only: &[],
        same_as: &[],
        only_vs: &[],
        after_init: false,
    },
    Difference {
        doc: "Error messages",
        openocd_only: &[],
        stdbg_only: &[],
        same_as: &[],
        only_vs: &[],
        after_init: false,
    },
];

/// Which tool ran.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Tool {
    OpenOcd,
    /// stdbg over remote_bitbang, JTAG (as OpenOCD 0.12).
    StdbgRemoteBitbang,
    /// stdbg over remote_bitbang's SWD extension (`transport select swd`).
    StdbgRemoteBitbangSwd,
    StdbgInProcess,
}

/// One run's directory (image, RAM file, dumps) and output.
struct RunResult {
    dir: PathBuf,
    /// Output per step, marker lines removed.
    sections: Vec<Vec<String>>,
}

const MARK: &str = "@@@ step ";

/// Runs the sequence with `tool` on a copy of `chip` in `dir`; stdout and stderr go to one file
/// so their lines keep their order.
fn run(tool: Tool, dir: &Path, chip: &Path) -> RunResult {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(common::firmware("f103-blinky.elf"), dir.join("fw.elf")).unwrap();
    let ram: Vec<u8> = (0..256u32).map(|i| (i * 37 + 11) as u8).collect();
    std::fs::write(dir.join("ram.bin"), ram).unwrap();
    let storage = dir.join("chip.bin");
    std::fs::copy(chip, &storage).unwrap();
    let server = (tool != Tool::StdbgInProcess).then(|| Server::start(dir, &storage));
    let mut cmd = match tool {
        Tool::OpenOcd => Command::new("openocd"),
        _ => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_stdbg"));
            c.env("HOME", dir).env("XDG_CACHE_HOME", dir.join("cache"));
            c
        }
    };
    let adapter = server.as_ref().map(|s| match tool {
        Tool::StdbgRemoteBitbangSwd => s
            .adapter()
            .replace("transport select jtag", "transport select swd"),
        _ => s.adapter(),
    });
    match &adapter {
        Some(a) => cmd.args(["-c", a, "-f", "target/stm32f1x.cfg"]),
        None => cmd
            .args(["-f", "board/sim-bluepill.rhai", "-c"])
            .arg(format!("sim storage {}", storage.display())),
    };
    cmd.args([
        "-c",
        "gdb_port disabled; tcl_port disabled; telnet_port disabled",
    ]);
    for (i, (line, _)) in STEPS.iter().enumerate() {
        cmd.arg("-c").arg(format!("echo {{{MARK}{i}}}"));
        cmd.arg("-c").arg(line);
    }
    let log = dir.join("out.txt");
    let f = File::create(&log).unwrap();
    let status = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .status()
        .expect("starting the tool");
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{tool:?} failed:\n{text}");
    let mut sections = vec![Vec::new(); STEPS.len()];
    let mut cur: Option<usize> = None;
    for l in text.lines() {
        if let Some(n) = l.strip_prefix(MARK) {
            cur = Some(n.parse().unwrap());
        } else if let Some(i) = cur {
            sections[i].push(l.to_string());
        }
    }
    RunResult {
        dir: dir.to_path_buf(),
        sections,
    }
}

/// Digits around a `.` (a duration or a rate) become `N`: `in 0.0123s (47.6 KiB/s)` → `in Ns (N KiB/s)`.
fn mask_numbers(line: &str) -> String {
    let c: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_ascii_digit() {
            let mut j = i;
            while j < c.len() && c[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < c.len() && c[j] == '.' && c[j + 1].is_ascii_digit() {
                j += 1;
                while j < c.len() && c[j].is_ascii_digit() {
                    j += 1;
                }
                out.push('N');
            } else {
                out.extend(&c[i..j]);
            }
            i = j;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// A section as compared: blank lines dropped, timings masked, the documented differences
/// applied.
fn normalize(tool: Tool, vs: Tool, step: usize, cmp: Cmp, lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    'line: for l in lines {
        if l.trim().is_empty() {
            continue;
        }
        let mut l = mask_numbers(l);
        // The server's port.
        if l.starts_with("Info : Connecting to localhost:") {
            l = "Info : Connecting to localhost:PORT".to_string();
        }
        for d in DIFFERENCES {
            if (!d.only_vs.is_empty() && !d.only_vs.contains(&vs)) || (d.after_init && step == 0) {
                continue;
            }
            let only = if tool == Tool::OpenOcd {
                d.openocd_only
            } else {
                d.stdbg_only
            };
            if only.iter().any(|p| l.starts_with(p)) {
                continue 'line;
            }
            if tool != Tool::OpenOcd
                && let Some((_, theirs)) = d.same_as.iter().find(|(ours, _)| *ours == l)
            {
                l = theirs.to_string();
            }
        }
        match cmp {
            Cmp::ErrorCase if !l.starts_with("rc: ") => continue,
            // OpenOCD's catch returns its error code (-4, -107, -601); stdbg's returns 1.
            Cmp::ErrorCase => {
                out.push(if l == "rc: 0" { "rc: ok" } else { "rc: error" }.to_string());
                continue;
            }
            Cmp::HaltWhileRunning if l.starts_with("xPSR: ") => {
                out.push("xPSR: * pc: * msp: *".to_string());
                continue;
            }
            _ => {}
        }
        out.push(l);
    }
    out
}

/// Compares OpenOCD's run `a` with stdbg's run `b` made by `tb`.
fn compare(a: &RunResult, ta: Tool, b: &RunResult, tb: Tool) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, (line, cmp)) in STEPS.iter().enumerate() {
        let x = normalize(ta, tb, i, *cmp, &a.sections[i]);
        let y = normalize(tb, tb, i, *cmp, &b.sections[i]);
        if x != y {
            problems.push(format!(
                "step {i} `{line}`:\n--- {ta:?}\n{}\n--- {tb:?}\n{}",
                x.join("\n"),
                y.join("\n")
            ));
        }
    }
    problems
}

#[test]
fn openocd_and_stdbg_print_the_same_for_the_same_commands_on_the_same_chip() {
    require_openocd();
    let dir = common::tempdir();
    let chip = common::programmed_chip(dir.path(), "f103-blinky.elf");
    let (o, r) = std::thread::scope(|s| {
        let o = s.spawn(|| run(Tool::OpenOcd, &dir.path().join("openocd"), &chip));
        let r = s.spawn(|| run(Tool::StdbgRemoteBitbang, &dir.path().join("rb"), &chip));
        (o.join().unwrap(), r.join().unwrap())
    });
    let (w, p) = std::thread::scope(|s| {
        let w = s.spawn(|| run(Tool::StdbgRemoteBitbangSwd, &dir.path().join("swd"), &chip));
        let p = s.spawn(|| run(Tool::StdbgInProcess, &dir.path().join("inproc"), &chip));
        (w.join().unwrap(), p.join().unwrap())
    });

    let mut problems = compare(&o, Tool::OpenOcd, &r, Tool::StdbgRemoteBitbang);
    problems.extend(compare(&o, Tool::OpenOcd, &w, Tool::StdbgRemoteBitbangSwd));
    problems.extend(compare(&o, Tool::OpenOcd, &p, Tool::StdbgInProcess));
    assert!(
        problems.is_empty(),
        "{} steps differ:\n{}",
        problems.len(),
        problems.join("\n\n")
    );

    // The sequence really ran: spot checks on OpenOCD's own output.
    let step = |needle: &str| STEPS.iter().position(|(l, _)| *l == needle).unwrap();
    assert_eq!(
        normalize(
            Tool::OpenOcd,
            Tool::OpenOcd,
            1,
            Cmp::Exact,
            &o.sections[step("mdw 0x20000100 3")]
        ),
        ["0x20000100: cafef00d 11223344 11223344 "]
    );
    let rc: Vec<String> = STEPS
        .iter()
        .enumerate()
        .filter(|(_, (_, c))| *c == Cmp::ErrorCase)
        .flat_map(|(i, _)| {
            normalize(
                Tool::OpenOcd,
                Tool::OpenOcd,
                i,
                Cmp::ErrorCase,
                &o.sections[i],
            )
        })
        .collect();
    assert_eq!(
        rc,
        vec!["rc: error"; 7],
        "every error case fails in OpenOCD"
    );

    // Same flash, byte for byte, and the same dumps.
    for f in ["final.bin", "dump.bin"] {
        let want = std::fs::read(o.dir.join(f)).unwrap();
        assert_eq!(want.len(), if f == "final.bin" { 0x10000 } else { 0x200 });
        for other in [&r, &w, &p] {
            assert!(
                std::fs::read(other.dir.join(f)).unwrap() == want,
                "{f} differs between OpenOCD and {}",
                other.dir.display()
            );
        }
    }
    let blinky = common::objcopy_binary("f103-blinky.elf", dir.path());
    let fin = std::fs::read(o.dir.join("final.bin")).unwrap();
    assert!(
        fin[..blinky.len()] == blinky[..],
        "the final flash holds f103-blinky"
    );
}

/// Every difference the test allows is listed, with its reason, in docs/commands.md.
#[test]
fn every_allowed_difference_is_documented() {
    let doc = std::fs::read_to_string(common::root().join("docs/commands.md")).unwrap();
    let section = doc
        .split("## Differences from OpenOCD 0.12")
        .nth(1)
        .expect("docs/commands.md has a section 'Differences from OpenOCD 0.12'");
    for d in DIFFERENCES {
        assert!(
            section.contains(d.doc),
            "docs/commands.md does not list: {}",
            d.doc
        );
    }
}
