//! The virtual chip served over OpenOCD's remote_bitbang protocol (`remote_bitbang_port`) and
//! driven over JTAG by Debian's OpenOCD 0.12 and by stdbg's own remote_bitbang adapter: the
//! chip must behave for an independent debugger as it does for stdbg in-process.

mod common;

use common::remote_bitbang::{Server, require_openocd};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn openocd(dir: &Path, srv: &Server, cmds: &[&str]) -> Output {
    openocd_with(dir, srv, "target/stm32f1x.cfg", cmds)
}

/// OpenOCD with `target` (one of its own target configs) on the server's chip.
fn openocd_with(dir: &Path, srv: &Server, target: &str, cmds: &[&str]) -> Output {
    let mut c = Command::new("openocd");
    c.args(["-c", &srv.adapter(), "-f", target]);
    c.args([
        "-c",
        "gdb_port disabled",
        "-c",
        "tcl_port disabled",
        "-c",
        "telnet_port disabled",
    ]);
    for cmd in cmds {
        c.args(["-c", cmd]);
    }
    c.current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("running openocd")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn fw(name: &str) -> PathBuf {
    common::firmware(name)
}

/// A chip storage file with f103-blinky programmed (through stdbg in-process).
fn blinky_chip(dir: &Path) -> PathBuf {
    common::programmed_chip(dir, "f103-blinky.elf")
}

#[test]
fn openocd_finds_both_taps_and_reads_and_writes_the_virtual_chip() {
    require_openocd();
    let dir = common::tempdir();
    let chip = blinky_chip(dir.path());
    let srv = Server::start(dir.path(), &chip);
    let o = openocd(
        dir.path(),
        &srv,
        &[
            "init",
            "halt",
            "mdw 0x08000000 4",
            "mww 0x20001000 0x12345678",
            "mdw 0x20001000",
            "flash probe 0",
            "stm32f1x options_read 0",
            "shutdown",
        ],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for line in [
        "Info : JTAG tap: stm32f1x.cpu tap/device found: 0x3ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x3)",
        "Info : JTAG tap: stm32f1x.bs tap/device found: 0x06410041 (mfg: 0x020 (STMicroelectronics), part: 0x6410, ver: 0x0)",
        "Info : [stm32f1x.cpu] Cortex-M3 r1p1 processor detected",
        "0x08000000: 20005000 080000f1 080000ed 080000ed ",
        "0x20001000: 12345678 ",
        "flash 'stm32f1x' found at 0x08000000",
        "read protection: off",
    ] {
        assert!(t.lines().any(|l| l == line), "missing {line:?} in:\n{t}");
    }
}

/// The F3, G4, L4 and H7 virtual chips over JTAG as OpenOCD 0.12's own target configs declare
/// them: the core TAP (Cortex-M4 0x4BA00477, Cortex-M7 0x6BA00477) and the boundary-scan TAP
/// with the reference manual's ID code, then a halt, a flash read and OpenOCD's flash probe.
#[test]
fn openocd_finds_each_familys_taps_and_probes_its_flash() {
    require_openocd();
    for (board, cfg, chip, cpu, bs, driver, size) in [
        (
            "board/sim-stm32f3discovery.rhai",
            "target/stm32f3x.cfg",
            "stm32f3x",
            "0x4ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)",
            "0x06422041 (mfg: 0x020 (STMicroelectronics), part: 0x6422, ver: 0x0)",
            "stm32f1x",
            "flash size = 256 KiB",
        ),
        (
            "board/sim-st_nucleo_g4.rhai",
            "target/stm32g4x.cfg",
            "stm32g4x",
            "0x4ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)",
            "0x06469041 (mfg: 0x020 (STMicroelectronics), part: 0x6469, ver: 0x0)",
            "stm32l4x",
            "flash size = 512 KiB",
        ),
        (
            "board/sim-st_nucleo_l4.rhai",
            "target/stm32l4x.cfg",
            "stm32l4x",
            "0x4ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)",
            "0x06415041 (mfg: 0x020 (STMicroelectronics), part: 0x6415, ver: 0x0)",
            "stm32l4x",
            "flash size = 1024 KiB",
        ),
        (
            "board/sim-st_nucleo_h743zi.rhai",
            "target/stm32h7x.cfg",
            "stm32h7x",
            "0x6ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x6)",
            "0x06450041 (mfg: 0x020 (STMicroelectronics), part: 0x6450, ver: 0x0)",
            "stm32h7x",
            "flash size probed value 2048k",
        ),
    ] {
        let dir = common::tempdir();
        let srv = Server::start_board(dir.path(), board, &dir.path().join("flash.bin"));
        let o = openocd_with(
            dir.path(),
            &srv,
            cfg,
            &[
                "init",
                "halt",
                "mdw 0x08000000 2",
                "flash probe 0",
                "shutdown",
            ],
        );
        let t = text(&o);
        assert!(o.status.success(), "{board}:\n{t}");
        for line in [
            format!("Info : JTAG tap: {chip}.cpu tap/device found: {cpu}"),
            format!("Info : JTAG tap: {chip}.bs tap/device found: {bs}"),
            "0x08000000: ffffffff ffffffff ".to_string(),
            format!("Info : {size}"),
            format!("flash '{driver}' found at 0x08000000"),
        ] {
            assert!(
                t.lines().any(|l| l == line),
                "{board}: missing {line:?} in:\n{t}"
            );
        }
    }
}

/// OpenOCD programs and verifies an image with its stm32f1x driver (its flash loader runs on
/// the virtual core); stdbg then reads the flash back over the same wire, byte for byte.
#[test]
fn openocd_programs_the_virtual_chip_and_stdbg_reads_the_same_bytes_back() {
    require_openocd();
    let dir = common::tempdir();
    let chip = dir.path().join("chip.bin");
    let srv = Server::start(dir.path(), &chip);
    let elf = fw("f103-big.elf");
    let o = openocd(
        dir.path(),
        &srv,
        &[&format!("program {} verify reset exit", elf.display())],
    );
    let t = text(&o);
    assert!(t.lines().any(|l| l == "** Verified OK **"), "{t}");
    let want = common::objcopy_binary("f103-big.elf", dir.path());
    let dump = dir.path().join("flash.bin");
    let r = common::stdbg(
        dir.path(),
        &[
            "-c",
            &srv.adapter(),
            "-f",
            "targets/stm32f1x.rhai",
            "-c",
            "gdb_port disabled; telnet_port disabled; tcl_port disabled",
            "-c",
            &format!(
                "init; halt; dump_image {} 0x08000000 {}; shutdown",
                dump.display(),
                want.len()
            ),
        ],
    );
    r.expect_code(0);
    assert!(
        r.stderr
            .contains("Info : remote_bitbang driver initialized\nInfo : This adapter doesn't support configurable speed\nInfo : JTAG tap: stm32f1x.cpu tap/device found: 0x3ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x3)\nInfo : JTAG tap: stm32f1x.bs tap/device found: 0x06410041 (mfg: 0x020 (STMicroelectronics), part: 0x6410, ver: 0x0)\n"),
        "{}",
        r.stderr
    );
    let got = std::fs::read(&dump).unwrap();
    assert!(
        got == want,
        "flash differs from the image ({} bytes)",
        want.len()
    );
}

/// stdbg's own remote_bitbang adapter (probe-rs over JTAG): program, verify, run control.
#[test]
fn stdbg_programs_and_verifies_over_remote_bitbang() {
    let dir = common::tempdir();
    let chip = dir.path().join("chip.bin");
    let srv = Server::start(dir.path(), &chip);
    let r = common::stdbg(
        dir.path(),
        &[
            "-c",
            &srv.adapter(),
            "-f",
            "targets/stm32f1x.rhai",
            "-c",
            "gdb_port disabled; telnet_port disabled; tcl_port disabled",
            "-c",
            &format!(
                "program {} verify reset; halt; mdw 0x08000000 2; shutdown",
                fw("f103-blinky.elf").display()
            ),
        ],
    );
    r.expect_code(0);
    let lines = r.lines();
    assert!(lines.contains(&"** Verified OK **"), "{}", r.stdout);
    assert!(
        lines.contains(&"0x08000000: 20005000 080000f1 "),
        "{}",
        r.stdout
    );
}

/// `transport select jtag` needs the remote_bitbang adapter; the adapter needs a port.
#[test]
fn remote_bitbang_adapter_errors_name_the_fix() {
    let dir = common::tempdir();
    let r = common::stdbg(
        dir.path(),
        &["-c", "adapter driver stlink; transport select jtag"],
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("transport 'jtag' needs the remote_bitbang adapter"),
        "{}",
        r.stderr
    );
    let r = common::stdbg(
        dir.path(),
        &[
            "-c",
            "adapter driver remote_bitbang",
            "-f",
            "targets/stm32f1x.rhai",
            "-c",
            "init",
        ],
    );
    r.expect_code(1);
    assert!(
        r.stderr.contains(
            "the remote_bitbang adapter needs the server's port: add 'remote_bitbang port N'"
        ),
        "{}",
        r.stderr
    );
    let r = common::stdbg(
        dir.path(),
        &[
            "-c",
            "adapter driver remote_bitbang; remote_bitbang port 1",
            "-f",
            "targets/stm32f1x.rhai",
            "-c",
            "init",
        ],
    );
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("can't connect to the remote_bitbang server at localhost:1"),
        "{}",
        r.stderr
    );
}

/// OpenOCD's own GDB port on the virtual chip, with gdb-multiarch: `load`, a breakpoint at
/// main, `continue`, registers and a variable (a second debugger's GDB path).
#[test]
fn gdb_through_openocd_loads_and_stops_at_main_on_the_virtual_chip() {
    require_openocd();
    let dir = common::tempdir();
    let chip = dir.path().join("chip.bin");
    let srv = Server::start(dir.path(), &chip);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut ocd = Command::new("openocd")
        .args(["-c", &srv.adapter(), "-f", "target/stm32f1x.cfg"])
        .args([
            "-c",
            &format!("gdb_port {port}"),
            "-c",
            "tcl_port disabled",
            "-c",
            "telnet_port disabled",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = ocd.stderr.take().unwrap();
    let mut lines = BufReader::new(err).lines();
    let ready = format!("Info : Listening on port {port} for gdb connections");
    loop {
        let l = lines
            .next()
            .expect("openocd ended before its gdb port opened")
            .unwrap();
        if l == ready {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let out = Command::new("gdb-multiarch")
        .args(["-batch", "-nx", "-ex", "set pagination off"])
        .arg("-ex")
        .arg(format!("target extended-remote 127.0.0.1:{port}"))
        .args([
            "-ex",
            "monitor reset halt",
            "-ex",
            "load",
            "-ex",
            "break main",
            "-ex",
            "continue",
            "-ex",
            "info registers pc",
            "-ex",
            "print blink_period",
        ])
        .arg(fw("f103-blinky.elf"))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("running gdb-multiarch (apt-get install gdb-multiarch)");
    let _ = ocd.kill();
    let _ = ocd.wait();
    let t = text(&out);
    assert!(t.contains("Breakpoint 1, main"), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("pc ") && l.contains("0x8000174")),
        "{t}"
    );
    assert!(t.lines().any(|l| l == "$1 = 1000"), "{t}");
}

/// The issue's command with the interface script (`-f interface/remote_bitbang.rhai`), its port
/// and the SWD extension chosen with `set`: program, verify, and a FAULT reported as an error
/// (over SWD probe-rs sees it; see docs/remote_bitbang.md for JTAG).
#[test]
fn interface_script_programs_over_the_swd_extension_and_reports_a_fault() {
    let dir = common::tempdir();
    let chip = dir.path().join("chip.bin");
    let srv = Server::start(dir.path(), &chip);
    let r = common::stdbg(
        dir.path(),
        &[
            "-c",
            &format!(
                "set REMOTE_BITBANG_PORT {}; set REMOTE_BITBANG_SWD 1",
                srv.port
            ),
            "-f",
            "interface/remote_bitbang.rhai",
            "-f",
            "targets/stm32f1x.rhai",
            "-c",
            "gdb_port disabled; telnet_port disabled; tcl_port disabled",
            "-c",
            &format!(
                "program {} verify reset; halt; transport select; mdw 0x08000000 2",
                fw("f103-blinky.elf").display()
            ),
            "-c",
            r#"echo "rc: [catch {mdw 0x60000000}]""#,
            "-c",
            "mdw 0x08000004; shutdown",
        ],
    );
    r.expect_code(0);
    let lines = r.lines();
    for want in [
        "** Verified OK **",
        "swd",
        "0x08000000: 20005000 080000f1 ",
        "0x08000004: 080000f1 ",
    ] {
        assert!(lines.contains(&want), "missing {want:?}:\n{}", r.stdout);
    }
    assert!(r.stderr.lines().any(|l| l == "rc: 1"), "{}", r.stderr);
    assert!(!r.stderr.contains("JTAG tap:"), "{}", r.stderr);
}

/// stdbg's queued JTAG-DP (src/probe/jtag_dp.rs) on a chip whose AP stays busy for two scans
/// after every access: the batch is re-sent from its first WAIT (STICKYORUN cleared, SELECT
/// restored) and the client then idles after each AP access, so programming, verifying and a
/// RAM write read back are exact; and a FAULT on an unmapped address is seen through CTRL/STAT
/// (probe-rs 0.32's own JTAG path missed it).
#[test]
fn queued_jtag_dp_resends_after_wait_and_sees_a_fault() {
    use stdbg::sim::Fault;
    let dir = common::tempdir();
    let srv = common::remote_bitbang::InProcessServer::start();
    srv.sim.inject(Fault::ApWait(2));
    srv.sim.reset_stats();
    let r = common::stdbg(
        dir.path(),
        &[
            "-c",
            &format!(
                "adapter driver remote_bitbang; remote_bitbang port {}; transport select jtag",
                srv.port
            ),
            "-f",
            "targets/stm32f1x.rhai",
            "-c",
            "gdb_port disabled; telnet_port disabled; tcl_port disabled",
            "-c",
            &format!(
                "program {} verify reset; halt; mdw 0x08000000 2",
                fw("f103-blinky.elf").display()
            ),
            "-c",
            "mww 0x20000000 0x12345678; mww 0x20000004 0x9abcdef0; mdw 0x20000000 2",
            "-c",
            r#"echo "rc: [catch {mdw 0x60000000}]""#,
            "-c",
            "mdw 0x20000004; shutdown",
        ],
    );
    r.expect_code(0);
    let lines = r.lines();
    for want in [
        "** Verified OK **",
        "0x08000000: 20005000 080000f1 ",
        "0x20000000: 12345678 9abcdef0 ",
        "0x20000004: 9abcdef0 ",
    ] {
        assert!(
            lines.contains(&want),
            "no line {want:?} in:\n{}{}",
            r.stdout,
            r.stderr
        );
    }
    assert!(r.stderr.lines().any(|l| l == "rc: 1"), "{}", r.stderr);
    // The first WAITs are answered by re-sending; after them the client idles after each AP
    // access long enough that the chip has no reason to answer WAIT again.
    let stats = srv.sim.stats();
    assert!((1..10).contains(&stats.waits), "{stats:?}");
}
