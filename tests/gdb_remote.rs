//! The GDB server against the real `gdb-multiarch` (batch mode) and the virtual Blue Pill:
//! load + compare-sections, breakpoints, next/step/finish, a watchpoint, registers, monitor,
//! Ctrl-C, refusal of a second client, detach + reconnect, GDB alongside the telnet console.

#[path = "gdb/harness.rs"]
mod harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use harness::{Server, Step, ex, sigint, wait_output};

/// The first `n` little-endian words of blinky as `arm-none-eabi-objcopy -O binary` gives them.
fn image_words(n: usize) -> Vec<u32> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blinky.bin");
    let st = std::process::Command::new("arm-none-eabi-objcopy")
        .args(["-O", "binary"])
        .arg(harness::firmware("f103-blinky.elf"))
        .arg(&out)
        .status()
        .expect("arm-none-eabi-objcopy is required by the tests: apt-get install binutils-arm-none-eabi");
    assert!(st.success());
    let b = std::fs::read(out).unwrap();
    b.chunks(4)
        .take(n)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn gdb_load_then_compare_sections_all_match_and_flash_holds_the_image() {
    let s = Server::start();
    let r = s.gdb(&[Step::Script("load.gdb")]);
    r.expect("Loading section .isr_vector, size 0xec lma 0x8000000")
        .expect("Loading section .text, size 0xc8 lma 0x80000ec")
        .expect("Start address 0x080000f0, load size 440")
        .expect("Section .isr_vector, range 0x8000000 -- 0x80000ec: matched.")
        .expect("Section .text, range 0x80000ec -- 0x80001b4: matched.")
        .expect("Section .data, range 0x80001b4 -- 0x80001b8: matched.")
        .reject("MIS-MATCHED");
    let words = image_words(4);
    let expected = format!(
        "0x8000000 <vector_table>:\t0x{:08x}\t0x{:08x}\t0x{:08x}\t0x{:08x}",
        words[0], words[1], words[2], words[3]
    );
    r.expect(&expected);
    assert!(
        s.log()
            .contains("GDB load: programmed and verified 440 bytes"),
        "{}",
        s.log()
    );
}

#[test]
fn gdb_load_with_a_watchpoint_on_the_work_area_programs_the_flash() {
    // The flash algorithm runs in the work area at 0x20000000: GDB's load now writes through the
    // same path as `program`, which suspends watchpoints around the algorithm.
    let s = Server::start();
    let r = s.gdb(&[
        ex("monitor wp 0x20000000 0x1000 a"),
        Step::Script("load.gdb"),
        ex("monitor wp"),
    ]);
    r.expect("Start address 0x080000f0, load size 440")
        .expect("Section .text, range 0x80000ec -- 0x80001b4: matched.")
        .expect(
            "address: 0x20000000, len: 0x00001000, r/w/a: 2, value: 0x00000000, mask: 0xffffffff",
        )
        .reject("MIS-MATCHED");
    assert!(
        s.log()
            .contains("GDB load: programmed and verified 440 bytes"),
        "{}",
        s.log()
    );
}

#[test]
fn gdb_break_main_and_continue_stops_at_main() {
    let s = Server::start();
    let r = s.gdb(&[Step::Script("break_main.gdb"), ex("p $pc")]);
    r.expect("Breakpoint 1 at 0x8000174: file blinky.c, line 19.")
        .expect("Breakpoint 1, main () at blinky.c:19")
        .expect("$1 = (void (*)()) 0x8000174 <main>");
}

#[test]
fn gdb_next_step_and_finish_move_through_the_source() {
    let s = Server::start();
    let r = s.gdb(&[
        Step::Script("break_main.gdb"),
        Step::Script("step_finish.gdb"),
    ]);
    let t = &r.text;
    let at = |needle: &str| {
        t.find(needle)
            .unwrap_or_else(|| panic!("GDB output lacks {needle:?}:\n{t}"))
    };
    // next: main line 19 -> 21; the temporary breakpoint in toggle_led; finish returns to main's
    // call of delay (line 32); step enters delay; finish returns to the loop (line 29).
    let next = at("21\tin blinky.c");
    let toggle = at("Temporary breakpoint 2, toggle_led () at blinky.c:15");
    let back = at("main () at blinky.c:32");
    let step = at("delay (n=1000) at delay.c:8");
    let frames = at("#1  0x080001a4 in main () at blinky.c:32");
    let out = at("main () at blinky.c:29");
    assert!(
        next < toggle && toggle < back && back < step && step < frames && frames < out,
        "order:\n{t}"
    );
}

#[test]
fn gdb_watch_counter_stops_with_old_and_new_value() {
    let s = Server::start();
    let r = s.gdb(&[
        Step::Script("break_main.gdb"),
        Step::Script("watch.gdb"),
        ex("p counter"),
    ]);
    r.expect("Hardware watchpoint 2: counter")
        .expect("Old value = 0\nNew value = 1")
        .expect("Old value = 1\nNew value = 2")
        .expect("$1 = 2")
        .reject("SIGTRAP");
}

#[test]
fn gdb_info_registers_shows_msp_psp_primask_and_writes_reach_the_core() {
    let s = Server::start();
    let r = s.gdb(&[
        Step::Script("break_main.gdb"),
        Step::Script("registers.gdb"),
    ]);
    for name in [
        "r0 ",
        "r12 ",
        "sp ",
        "lr ",
        "pc ",
        "xpsr ",
        "msp ",
        "psp ",
        "primask ",
        "basepri ",
        "faultmask ",
        "control ",
    ] {
        r.line(name);
    }
    // At main the stack pointer is the main stack, below the initial SP 0x20005000.
    let msp = r.line("msp ");
    assert!(msp.contains("0x20004"), "{msp}");
    assert_eq!(
        r.line("sp ").split_whitespace().nth(1),
        msp.split_whitespace().nth(1)
    );
    assert!(r.line("pc ").contains("0x8000174 <main>"));
    assert!(r.line("primask ").contains("0x0"));
    // The write went to the core: the dispatcher's `reg` reads it back.
    r.expect("$1 = 1").expect("primask (/1): 0x01");
}

#[test]
fn gdb_monitor_runs_dispatcher_commands_with_openocd_output() {
    let s = Server::start();
    let r = s.gdb(&[Step::Script("load.gdb"), Step::Script("monitor.gdb")]);
    let w = image_words(4);
    r.expect(&format!(
        "0x08000000: {:08x} {:08x} {:08x} {:08x} \n",
        w[0], w[1], w[2], w[3]
    ))
    .expect("mdw ['phys'] address [count]")
    .expect("invalid command name \"nosuchcommand\"");
}

#[test]
fn gdb_ctrl_c_during_continue_stops_with_sigint_and_a_second_client_is_refused() {
    let s = Server::start();
    let child = s
        .gdb_command(&[
            ex("load"),
            ex("continue"),
            ex("info registers pc"),
            ex("detach"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting gdb-multiarch");
    s.wait_log("GDB continue: the target runs until it stops");
    // While the first client waits for the target: a second client gets a clear refusal.
    let second = s.gdb(&[ex("info registers pc")]);
    second.expect("another GDB client is already connected to this target");
    sigint(child.id());
    let first = wait_output(child);
    first
        .expect("Program received signal SIGINT, Interrupt.")
        .expect("[Inferior 1 (process 1) detached]");
    assert!(
        first.line("pc ").contains("0x80001"),
        "the core stopped in the program:\n{}",
        first.text
    );
}

#[test]
fn gdb_detach_resumes_and_a_second_connection_works() {
    let s = Server::start();
    let first = s.gdb(&[
        Step::Script("break_main.gdb"),
        ex("p counter"),
        ex("detach"),
    ]);
    first
        .expect("Breakpoint 1, main () at blinky.c:19")
        .expect("$1 = 0")
        .expect("[Inferior 1 (process 1) detached]");
    s.wait_log("GDB detached; the target resumes");
    // A new client works: the first one's breakpoint is gone, a new one is hit in the loop.
    let second = s.gdb(&[
        ex("info breakpoints"),
        ex("break toggle_led"),
        ex("continue"),
        ex("p counter > 0"),
        ex("detach"),
    ]);
    second
        .expect("No breakpoints or watchpoints.")
        .expect("Breakpoint 1, toggle_led () at blinky.c:15")
        .expect("$1 = 1")
        .expect("[Inferior 1 (process 1) detached]");
    let third = s.gdb(&[ex("p blink_period"), ex("detach")]);
    third.expect("$1 = 1000");
}

/// A minimal telnet client: reads until `needle` shows up (IAC bytes are kept; lines are
/// plain text).
struct Telnet {
    sock: TcpStream,
    seen: String,
}

impl Telnet {
    fn connect(port: u16) -> Telnet {
        let sock = TcpStream::connect(("127.0.0.1", port)).expect("telnet connect");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Telnet {
            sock,
            seen: String::new(),
        }
    }

    fn send(&mut self, line: &str) {
        self.sock
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
    }

    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + harness::RUN_LIMIT;
        while !self.seen.contains(needle) {
            assert!(
                Instant::now() < deadline,
                "telnet never showed {needle:?}:\n{}",
                self.seen
            );
            let mut buf = [0u8; 4096];
            if let Ok(n) = self.sock.read(&mut buf) {
                self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    }
}

#[test]
fn gdb_reports_a_telnet_halt_and_telnet_announces_gdb_breakpoint_hits() {
    let s = Server::start();
    let mut telnet = Telnet::connect(s.telnet_port);
    telnet.wait_for("> ");
    let child = s
        .gdb_command(&[
            ex("load"),
            ex("continue"),
            ex("break toggle_led"),
            ex("continue"),
            ex("delete"),
            ex("detach"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting gdb-multiarch");
    s.wait_log("GDB continue: the target runs until it stops");
    telnet.send("halt");
    telnet.wait_for("halted due to debug-request");
    // GDB's breakpoint hit shows on the telnet console too.
    telnet.wait_for("halted due to breakpoint");
    telnet.wait_for("pc: 0x08000164");
    let r = wait_output(child);
    r.expect("Program received signal SIGINT, Interrupt.")
        .expect("Breakpoint 1, toggle_led () at blinky.c:15");
}

#[test]
fn gdb_extended_run_resets_to_main_and_kill_keeps_the_connection() {
    let s = Server::start();
    let r = s.gdb(&[
        Step::Script("break_main.gdb"),
        ex("next"),
        ex("run"),
        ex("p $pc"),
        ex("kill"),
        ex("info registers pc"),
        ex("run"),
        ex("p $pc"),
        ex("detach"),
    ]);
    // Both runs restart the program from the reset vector and stop at main again.
    assert_eq!(
        r.text
            .matches("Breakpoint 1, main () at blinky.c:19")
            .count(),
        3,
        "{}",
        r.text
    );
    r.expect("[Inferior 1 (process 1) killed]")
        .expect("The program has no registers now.")
        .expect("$2 = (void (*)()) 0x8000174 <main>")
        .expect("[Inferior 1 (process 1) detached]");
}

#[test]
fn gdb_events_fire_on_attach_load_and_detach() {
    // Handlers print the event name (shown on GDB's console); gdb-detach leaves a mark in RAM.
    let s = Server::start_with(&[
        r#"eval "for e in [\"gdb-attach\", \"gdb-flash-erase-start\", \"gdb-flash-erase-end\", \"gdb-flash-write-start\", \"gdb-flash-write-end\"] { let n = e; _TARGET.on(e, || print(\"EVENT \" + n)); }""#,
        r#"eval "_TARGET.on(\"gdb-detach\", || cmd(\"mww 0x20004800 0x600dd00d\"))""#,
    ]);
    let r = s.gdb(&[ex("load"), ex("monitor echo done"), ex("detach")]);
    let t = &r.text;
    let order = [
        "EVENT gdb-attach",
        "EVENT gdb-flash-erase-start",
        "EVENT gdb-flash-erase-end",
        "EVENT gdb-flash-write-start",
        "EVENT gdb-flash-write-end",
        "done",
    ];
    let mut at = 0;
    for o in order {
        at = t[at..]
            .find(o)
            .map(|i| at + i)
            .unwrap_or_else(|| panic!("{o:?} missing or out of order:\n{t}"));
    }
    // The custom gdb-attach handler does not halt: stdbg halts anyway so GDB can attach.
    assert!(
        s.log()
            .contains("the gdb-attach handler left the target running; halted it"),
        "{}",
        s.log()
    );
    let r = s.gdb(&[ex("x/xw 0x20004800"), ex("detach")]);
    r.expect("0x20004800:\t0x600dd00d");
}

/// GDB's flash reads are kept across a `stepi` (src/gdb/base.rs) only while the flash
/// controller stays locked: a step that programs flash (here a STRH from RAM with FLASH_CR.PG
/// set) must show the new half-word, not the erased one read before it.
#[test]
fn gdb_flash_read_after_a_step_that_programs_flash_shows_the_new_value() {
    let s = Server::start();
    let r = s.gdb(&[
        ex("monitor reset halt"),
        ex("monitor flash erase_sector 0 63 63"),
        ex("monitor mww 0x40022004 0x45670123"),
        ex("monitor mww 0x40022004 0xCDEF89AB"),
        ex("monitor mww 0x40022010 1"),
        // strh r0, [r1]; b .
        ex("set {short}0x20000100 = 0x8008"),
        ex("set {short}0x20000102 = 0xe7fe"),
        ex("set $r0 = 0x1234"),
        ex("set $r1 = 0x0800fc00"),
        ex("set $pc = 0x20000100"),
        ex("x/xh 0x0800fc00"),
        ex("stepi"),
        ex("x/xh 0x0800fc00"),
        ex("p/x $pc"),
    ]);
    let reads: Vec<&str> = r
        .text
        .lines()
        .filter(|l| l.starts_with("0x800fc00:"))
        .collect();
    assert_eq!(
        reads,
        ["0x800fc00:\t0xffff", "0x800fc00:\t0x1234"],
        "{}",
        r.text
    );
    r.expect("$1 = 0x20000102");
}

/// Regression: after a breakpoint hit on a `b .` (a step does not move the PC), a `stepi` and a
/// console `step` leave the PC where it is. probe-rs takes a step after a breakpoint halt that
/// leaves the PC in place for a step over a `BKPT` instruction and moves the PC on by 2; GDB's
/// step goes around probe-rs (src/host/faststep.rs), which must then learn the new halt reason.
#[test]
fn gdb_stepi_and_step_on_a_branch_to_self_after_a_breakpoint_hit_leave_the_pc() {
    let s = Server::start();
    let r = s.gdb(&[
        ex("monitor reset halt"),
        // nop; b .
        ex("set {short}0x20000100 = 0xbf00"),
        ex("set {short}0x20000102 = 0xe7fe"),
        ex("set $pc = 0x20000100"),
        ex("break *0x20000102"),
        ex("continue"),
        ex("delete"),
        ex("stepi"),
        ex("p/x $pc"),
        ex("stepi"),
        ex("p/x $pc"),
        ex("monitor step"),
        ex("monitor reg pc"),
    ]);
    r.expect("$1 = 0x20000102");
    r.expect("$2 = 0x20000102");
    r.expect("pc (/32): 0x20000102");
}

/// A `stepi`'s stop reply names the thread and expedites pc, r7, sp, lr, xPSR, MSP and PSP
/// (src/gdb/wire.rs `expedite`), so GDB shows the new frame without a `g` packet; the pc sent
/// is the one GDB then prints.
#[test]
fn gdb_stepi_stop_reply_expedites_the_frame_registers_and_gdb_sends_no_g() {
    let s = Server::start();
    let r = s.gdb(&[
        Step::Script("break_main.gdb"),
        ex("delete"),
        ex("stepi"),
        ex("set debug remote 1"),
        ex("stepi"),
        ex("set debug remote 0"),
        ex("p/x $pc"),
    ]);
    let lines: Vec<&str> = r.text.lines().collect();
    let step = lines
        .iter()
        .position(|l| l.contains("Sending packet: $vCont;s"))
        .unwrap_or_else(|| panic!("no vCont;s sent:\n{}", r.text));
    let reply = lines[step..]
        .iter()
        .find(|l| l.contains("Packet received: T05"))
        .unwrap_or_else(|| panic!("no T05 stop reply:\n{}", r.text));
    let fields = reply.split("Packet received: T05").nth(1).unwrap();
    assert!(fields.starts_with("thread:p1.1;"), "{reply}");
    let regs: Vec<&str> = fields
        .split(';')
        .filter_map(|f| f.split_once(':'))
        .map(|(n, _)| n)
        .filter(|n| *n != "thread")
        .collect();
    assert_eq!(regs, ["0f", "07", "0d", "0e", "10", "11", "12"], "{reply}");
    let pc_hex = fields.split("0f:").nth(1).unwrap().get(..8).unwrap();
    let pc = u32::from_le_bytes(
        (0..4)
            .map(|i| u8::from_str_radix(&pc_hex[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap(),
    );
    assert!(
        !lines[step..]
            .iter()
            .any(|l| l.contains("Sending packet: $g#")),
        "GDB still asked for the register file:\n{}",
        r.text
    );
    r.expect(&format!("$1 = 0x{pc:x}"));
}
