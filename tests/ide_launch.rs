//! IDE launches replayed against the virtual chip with the IDE's own argv (OpenOCD's `.cfg` names
//! included) and `STDBG_SIM=1` in place of the probe: wait for the readiness line the IDE waits
//! for, on the stream it reads, then drive gdb-multiarch through the IDE's command sequence.
//! Sources of each sequence: /work's shared notes openocd-ide-compat.md, from cortex-debug's
//! src/openocd.ts, Eclipse Embedded CDT's Configuration.java/DebuggerCommands.java and PlatformIO's
//! platform-ststm32 main.py. Every flow reaches a breakpoint at main and reads registers and a
//! variable.

#[path = "gdb/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Mi, firmware, port_in, require_gdb};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ide")
        .join(name)
}

/// OpenOCD's scripts folder as IDEs pass it with `-s` (Debian's openocd package installs it).
const OPENOCD_SCRIPTS: &str = "/usr/share/openocd/scripts";

/// stdbg started with an IDE's argv; stdout and stderr kept apart, as the IDE reads them.
struct Launch {
    child: Child,
    dir: tempfile::TempDir,
    out: PathBuf,
    err: PathBuf,
}

impl Launch {
    fn start(argv: &[&str]) -> Launch {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("stdout.txt");
        let err = dir.path().join("stderr.txt");
        let child = Command::new(env!("CARGO_BIN_EXE_stdbg"))
            .args(argv)
            .current_dir(dir.path())
            .env("STDBG_SIM", "1")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("starting stdbg");
        Launch {
            child,
            dir,
            out,
            err,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits until `ready` matches a line of stderr (the stream OpenOCD writes everything to).
    fn wait_stderr(&mut self, what: &str, ready: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.stderr().lines().any(&ready) {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "stdbg exited ({st}) before {what}:\nstderr:\n{}\nstdout:\n{}",
                    self.stderr(),
                    self.stdout()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what} on stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn port(&self, what: &str) -> u16 {
        port_in(&self.stderr(), what)
            .unwrap_or_else(|| panic!("no {what} port:\n{}", self.stderr()))
    }
}

impl Drop for Launch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// cortex-debug's readiness regex: `Info\s:[^\n]*Listening on port \d+ for gdb connection`.
fn cortex_debug_ready(l: &str) -> bool {
    l.starts_with("Info :") && l.contains("Listening on port ") && l.contains(" for gdb connection")
}

/// `-break-insert main`, `-exec-continue` to it, the registers and `blink_period` (1000 in
/// blinky's .data) through MI.
fn mi_break_main_and_read(mi: &mut Mi) {
    let r = mi.cmd("-break-insert main");
    assert!(r.last().unwrap().contains("func=\"main\""), "{}", mi.text());
    let r = mi.cmd("-exec-continue");
    assert!(r.last().unwrap().starts_with("^running"), "{}", mi.text());
    let stop = mi.wait_stopped();
    assert!(
        stop.contains("reason=\"breakpoint-hit\"") && stop.contains("func=\"main\""),
        "{stop}"
    );
    let r = mi.cmd("-data-list-register-values x 15");
    assert!(
        r.last()
            .unwrap()
            .contains("{number=\"15\",value=\"0x8000174\"}"),
        "{}",
        mi.text()
    );
    let r = mi.cmd("-data-evaluate-expression blink_period");
    assert_eq!(r.last().unwrap(), "^done,value=\"1000\"", "{}", mi.text());
}

fn mi_connect(mi: &mut Mi, port: u16) {
    let elf = firmware("f103-blinky.elf");
    mi.cmd("-gdb-set pagination off");
    // As the IDEs run GDB: commands are read while the target runs (-exec-interrupt).
    mi.cmd("-gdb-set mi-async on");
    mi.cmd(&format!("-file-exec-and-symbols {}", elf.display()));
    let r = mi.cmd(&format!("-target-select extended-remote 127.0.0.1:{port}"));
    assert!(
        r.iter().any(|l| l.starts_with("^connected")),
        "{}",
        mi.text()
    );
}

fn mi_monitor(mi: &mut Mi, cmd: &str) -> Vec<String> {
    let r = mi.cmd(&format!("-interpreter-exec console \"monitor {cmd}\""));
    assert!(
        r.last().unwrap().starts_with("^done"),
        "monitor {cmd}: {}",
        mi.text()
    );
    r
}

/// VS Code cortex-debug, servertype "openocd" (src/openocd.ts): its helper Tcl file first, the
/// three ports, `-s <cwd>`, the launch.json's configFiles, then CDRTOSConfigure and
/// CDLiveWatchSetup; GDB/MI: reset halt, download, reset halt, break main, continue, then
/// `gdb_sync` + `stepi` as after a reset request.
#[test]
fn ide_cortex_debug_launch_reaches_main() {
    require_gdb();
    let helpers = fixture("cortex-debug-helpers.tcl");
    let cwd = fixture("");
    let mut l = Launch::start(&[
        "-f",
        helpers.to_str().unwrap(),
        "-c",
        "gdb_port 0",
        "-c",
        "tcl_port 0",
        "-c",
        "telnet_port 0",
        "-s",
        cwd.to_str().unwrap(),
        "-f",
        "interface/stlink.cfg",
        "-f",
        "target/stm32f1x.cfg",
        "-c",
        "CDRTOSConfigure none",
        "-c",
        "CDLiveWatchSetup",
    ]);
    l.wait_stderr("the gdb readiness line", cortex_debug_ready);
    let err = l.stderr();
    assert!(
        err.contains("Info : interface/stlink.cfg: running stdbg's built-in interface/stlink.rhai"),
        "{err}"
    );
    let out = l.stdout();
    assert!(
        out.lines()
            .any(|x| x == ": Info: Setting gdb-max-connections for target 'stm32f1x.cpu' to 2"),
        "stdout:\n{out}\nstderr:\n{err}"
    );
    let mut mi = Mi::start(l.dir.path());
    mi_connect(&mut mi, l.port("gdb"));
    mi_monitor(&mut mi, "reset halt");
    let r = mi.cmd("-target-download");
    assert!(
        r.last()
            .unwrap()
            .starts_with("^done,address=\"0x080000f0\""),
        "{}",
        mi.text()
    );
    // cortex-debug's Tcl connection: notifications on, then it sees the halt at main.
    let mut tcl = std::net::TcpStream::connect(("127.0.0.1", l.port("tcl"))).unwrap();
    tcl.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tcl_buf = Vec::new();
    let mut tcl_frame = |s: &mut std::net::TcpStream| -> String {
        use std::io::Read;
        loop {
            if let Some(i) = tcl_buf.iter().position(|&b| b == 0x1a) {
                let f: Vec<u8> = tcl_buf.drain(..=i).collect();
                return String::from_utf8_lossy(&f[..f.len() - 1]).into_owned();
            }
            let mut b = [0u8; 4096];
            let n = s.read(&mut b).expect("a Tcl frame");
            assert!(n > 0, "the Tcl port closed");
            tcl_buf.extend_from_slice(&b[..n]);
        }
    };
    {
        use std::io::Write;
        tcl.write_all(b"tcl_notifications on\x1a").unwrap();
    }
    assert_eq!(
        tcl_frame(&mut tcl),
        "Target Notification output  is enabled"
    );
    mi_monitor(&mut mi, "reset halt");
    mi_break_main_and_read(&mut mi);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|f| f == "type target_event event halted\r\n")
    {
        assert!(seen.len() < 50, "no halted event on the Tcl port: {seen:?}");
        seen.push(tcl_frame(&mut tcl));
    }
    // Live watch: with the target running under the first connection, a second GDB connection
    // (the one CDLiveWatchSetup made room for) reads `counter`, which keeps counting.
    let r = mi.cmd("-break-delete");
    assert!(r.last().unwrap().starts_with("^done"), "{}", mi.text());
    let r = mi.cmd("-exec-continue");
    assert!(r.last().unwrap().starts_with("^running"), "{}", mi.text());
    let mut live = Mi::start(l.dir.path());
    mi_connect(&mut live, l.port("gdb"));
    let read = |live: &mut Mi| -> u64 {
        let r = live.cmd("-data-evaluate-expression counter");
        let v = r.last().unwrap().clone();
        v.strip_prefix("^done,value=\"")
            .and_then(|x| x.strip_suffix('"'))
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("{}", live.text()))
    };
    let a = read(&mut live);
    std::thread::sleep(Duration::from_millis(300));
    let b = read(&mut live);
    assert!(b > a, "counter {a} then {b}: the target should be running");
    live.cmd("-target-detach");
    let r = mi.cmd("-exec-interrupt");
    assert!(r.last().unwrap().starts_with("^done"), "{}", mi.text());
    mi.wait_stopped();
    // A reset from the IDE: `monitor reset halt`, `monitor gdb_sync`, `stepi` reports the halt
    // at the reset vector without stepping.
    mi_monitor(&mut mi, "reset halt");
    mi_monitor(&mut mi, "gdb_sync");
    let r = mi.cmd("-exec-step-instruction");
    assert!(r.last().unwrap().starts_with("^running"), "{}", mi.text());
    let stop = mi.wait_stopped();
    assert!(stop.contains("addr=\"0x080000f0\""), "{stop}");
}

/// STM32CubeIDE's OpenOCD launch: the generated `<project> Debug.cfg` with `-s` folders and the
/// ports, `gdb_report_data_abort enable`; ST's `WriteDP`/`ReadAP` device check, then load,
/// break at main, registers and a variable.
#[test]
fn ide_stm32cubeide_launch_reaches_main() {
    require_gdb();
    let cfg = fixture("blinky Debug.cfg");
    let proj = fixture("");
    let mut l = Launch::start(&[
        "-f",
        cfg.to_str().unwrap(),
        "-s",
        proj.to_str().unwrap(),
        "-s",
        OPENOCD_SCRIPTS,
        "-c",
        "gdb_report_data_abort enable",
        "-c",
        "gdb_port 0",
        "-c",
        "tcl_port 0",
        "-c",
        "telnet_port 0",
    ]);
    l.wait_stderr("the gdb readiness line", cortex_debug_ready);
    let mut mi = Mi::start(l.dir.path());
    mi_connect(&mut mi, l.port("gdb"));
    // ST's check: select AP bank 0xF, read the IDR (an AHB-AP of ADIv5) and the ROM table base.
    mi_monitor(&mut mi, "WriteDP 2 0xF0");
    let r = mi_monitor(&mut mi, "ReadAP 3");
    assert!(r.iter().any(|x| x.contains("0x14770011")), "{}", mi.text());
    let r = mi_monitor(&mut mi, "ReadAP 2");
    assert!(r.iter().any(|x| x.contains("0xe00ff003")), "{}", mi.text());
    mi_monitor(&mut mi, "reset halt");
    let r = mi.cmd("-target-download");
    assert!(r.last().unwrap().starts_with("^done"), "{}", mi.text());
    mi_monitor(&mut mi, "reset halt");
    mi_break_main_and_read(&mut mi);
    let err = l.stderr();
    assert!(
        err.contains("STM32F103C8Tx.cpu"),
        "CHIPNAME from the .cfg:\n{err}"
    );
}

/// Eclipse Embedded CDT: the ports, the user's options, then `echo "Started by GNU MCU
/// Eclipse"`, which the plugin waits for on stderr only; its GDB init sequence (reset init,
/// halt, semihosting enable, load, reset halt, tbreak main, monitor reg, continue).
#[test]
fn ide_eclipse_embedded_cdt_launch_reaches_main() {
    require_gdb();
    let mut l = Launch::start(&[
        "-c",
        "gdb_port 0",
        "-c",
        "telnet_port 0",
        "-s",
        OPENOCD_SCRIPTS,
        "-f",
        "interface/stlink.cfg",
        "-f",
        "board/stm32f103c8_blue_pill.cfg",
        "-c",
        "echo \"Started by GNU MCU Eclipse\"",
    ]);
    l.wait_stderr("Eclipse's marker", |x| x == "Started by GNU MCU Eclipse");
    assert!(
        !l.stdout().contains("Started by GNU MCU Eclipse"),
        "the marker belongs on stderr"
    );
    l.wait_stderr("the gdb port", |x| x.contains("for gdb connections"));
    let mut mi = Mi::start(l.dir.path());
    mi_connect(&mut mi, l.port("gdb"));
    mi_monitor(&mut mi, "reset init");
    mi_monitor(&mut mi, "halt");
    mi_monitor(&mut mi, "arm semihosting enable");
    let r = mi.cmd("-target-download");
    assert!(r.last().unwrap().starts_with("^done"), "{}", mi.text());
    mi_monitor(&mut mi, "reset halt");
    let r = mi.cmd("-break-insert -t main");
    assert!(r.last().unwrap().contains("func=\"main\""), "{}", mi.text());
    let r = mi_monitor(&mut mi, "reg pc");
    assert!(
        r.iter().any(|x| x.contains("pc (/32): 0x080000f0")),
        "{}",
        mi.text()
    );
    let r = mi.cmd("-exec-continue");
    assert!(r.last().unwrap().starts_with("^running"), "{}", mi.text());
    let stop = mi.wait_stopped();
    assert!(stop.contains("func=\"main\""), "{stop}");
    let r = mi.cmd("-data-evaluate-expression blink_period");
    assert_eq!(r.last().unwrap(), "^done,value=\"1000\"", "{}", mi.text());
    let r = mi.cmd("-data-list-register-values x 15");
    assert!(
        r.last().unwrap().contains("value=\"0x8000174\""),
        "{}",
        mi.text()
    );
}

/// PlatformIO, board bluepill_f103c8 (platform-ststm32): the upload command, verbatim apart
/// from the ELF path, ends with exit status 0 and `** Verified OK **`.
#[test]
fn ide_platformio_upload_programs_and_verifies() {
    let elf = firmware("f103-blinky.elf");
    let program = format!("program {{{}}}  verify reset; shutdown;", elf.display());
    let mut l = Launch::start(&[
        "-d1",
        "-s",
        OPENOCD_SCRIPTS,
        "-f",
        "interface/stlink.cfg",
        "-c",
        "transport select hla_swd",
        "-f",
        "target/stm32f1x.cfg",
        "-c",
        "reset_config none",
        "-c",
        &program,
    ]);
    let st = l.child.wait().unwrap();
    let all = format!("{}{}", l.stdout(), l.stderr());
    assert!(st.success(), "{all}");
    assert!(all.lines().any(|x| x == "** Verified OK **"), "{all}");
}

/// PlatformIO's debug session: its debug server arguments (the upload's configs without
/// `program`), then GDB's `target extended-remote`, `monitor init`, `load`, `monitor reset
/// halt`, break at main, registers and a variable.
#[test]
fn ide_platformio_debug_reaches_main() {
    require_gdb();
    let mut l = Launch::start(&[
        "-s",
        OPENOCD_SCRIPTS,
        "-f",
        "interface/stlink.cfg",
        "-c",
        "transport select hla_swd",
        "-f",
        "target/stm32f1x.cfg",
        "-c",
        "reset_config none",
        "-c",
        "gdb_port 0",
        "-c",
        "telnet_port disabled",
    ]);
    l.wait_stderr("the gdb port", |x| x.contains("for gdb connections"));
    let port = l.port("gdb");
    let out = Command::new("gdb-multiarch")
        .args(["-batch", "-nx", "-ex", "set pagination off"])
        .arg("-ex")
        .arg(format!("target extended-remote 127.0.0.1:{port}"))
        .args([
            "-ex",
            "monitor init",
            "-ex",
            "load",
            "-ex",
            "monitor reset halt",
            "-ex",
            "break main",
            "-ex",
            "continue",
            "-ex",
            "info registers pc",
            "-ex",
            "print blink_period",
        ])
        .arg(firmware("f103-blinky.elf"))
        .current_dir(l.dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Breakpoint 1, main"), "{text}");
    assert!(
        text.lines()
            .any(|x| x.starts_with("pc ") && x.contains("0x8000174")),
        "{text}"
    );
    assert!(text.lines().any(|x| x == "$1 = 1000"), "{text}");
}
