//! Regression tests for the GDB port (issue 13): inputs that hung, poisoned the link or closed
//! the session. Each test talks raw RSP to a real `stdbg` on the virtual Blue Pill.

#[path = "gdb/harness.rs"]
mod harness;
#[path = "gdb/rsp.rs"]
mod rsp;

use std::time::{Duration, Instant};

use harness::{Server, ex};
use rsp::{Rsp, frame};

const WAIT: Duration = Duration::from_secs(5);

/// The log must never show gdbstub internals or upstream bug-report links.
fn assert_clean_log(s: &Server) {
    let log = s.log();
    for bad in [
        "log.target=",
        "log.file=",
        "github.com/daniel5151",
        "file an issue",
        "Stack backtrace",
        "panicked",
    ] {
        assert!(!log.contains(bad), "the log shows {bad:?}:\n{log}");
    }
}

#[test]
fn gdb_watchpoint_longer_than_2gib_does_not_hang() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    assert!(c.ask("qSupported:multiprocess+").is_some());
    for kind in ["Z2", "Z3", "Z4"] {
        let t = Instant::now();
        let r = c.ask(&format!("{kind},20000000,80000001"));
        let r = r.unwrap_or_else(|| panic!("{kind} longer than 2 GiB got no answer:\n{}", s.log()));
        assert!(r.starts_with('E'), "{kind}: {r}");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{kind} took {:?}",
            t.elapsed()
        );
    }
    // The session still works, and a later client is served once this one leaves.
    assert_eq!(c.ask("m20000000,4").map(|r| r.len()), Some(8));
    drop(c);
    s.wait_log("GDB connection closed without detach");
    let mut c2 = Rsp::connect(s.gdb_port);
    let r = c2.ask("qSupported:multiprocess+").unwrap();
    assert!(r.contains("PacketSize"), "{r}");
    assert!(
        s.log().contains("no DWT comparator can watch that range"),
        "{}",
        s.log()
    );
    assert_clean_log(&s);
}

#[test]
fn gdb_write_to_unmapped_memory_fails_and_keeps_the_link() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    c.ask("qSupported:multiprocess+").unwrap();
    let r = c.ask("M60000000,4:00000000").unwrap();
    assert!(
        r.starts_with('E'),
        "a write the bus refuses must fail, not answer {r}"
    );
    // The next accesses work without doctor.
    let m = c.ask("m20000000,4").unwrap();
    assert_eq!(m.len(), 8, "{m}");
    let g = c.ask("g").unwrap();
    assert!(!g.starts_with('E') && g.len() > 100, "{g}");
    assert_clean_log(&s);
}

#[test]
fn gdb_bad_checksum_is_naked_and_the_retransmission_is_answered() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    c.ask("qSupported:multiprocess+").unwrap();
    c.raw(b"$m20000000,4#00");
    assert_eq!(c.ack(WAIT), Some(b'-'), "a bad checksum gets a NAK");
    // GDB retransmits the packet, correctly this time.
    let r = c.ask("m20000000,4").unwrap();
    assert_eq!(r.len(), 8, "{r}");
    assert_clean_log(&s);
}

#[test]
fn gdb_stray_bytes_and_a_nak_between_packets_keep_the_session() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    let first = c.ask("qSupported:multiprocess+").unwrap();
    // A NAK asks for the last packet again; other bytes outside packets are ignored.
    c.raw(b"-");
    let again = c.packet(WAIT).unwrap();
    assert_eq!(String::from_utf8_lossy(&again), first);
    c.raw(b"garbage\r\n}}");
    let r = c.ask("m20000000,4").unwrap();
    assert_eq!(r.len(), 8, "{r}");
    assert_clean_log(&s);
}

#[test]
fn gdb_bare_qsupported_is_answered() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    let r = c.ask("qSupported").unwrap();
    assert!(r.contains("PacketSize=4000"), "{r}");
    assert_clean_log(&s);
}

#[test]
fn gdb_address_wider_than_32_bits_answers_an_error_and_keeps_the_session() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    c.ask("qSupported:multiprocess+").unwrap();
    c.ask("QStartNoAckMode").unwrap();
    for p in [
        "m100000000,4",
        "M1000000000,1:00",
        "Z0,100000000,2",
        "X1ffffffff0,0:",
    ] {
        let r = c
            .ask(p)
            .unwrap_or_else(|| panic!("{p}: no answer\n{}", s.log()));
        assert!(r.starts_with('E'), "{p}: {r}");
    }
    // gdbstub was rebuilt with the client's no-ack mode: no `+` before the answer.
    c.raw(&frame(b"m20000000,4"));
    let r = c.packet(WAIT).unwrap();
    assert_eq!(r.len(), 8);
    assert_clean_log(&s);
}

#[test]
fn gdb_packet_without_end_is_capped_at_packet_size() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    c.ask("qSupported:multiprocess+").unwrap();
    // 1 MiB without a '#': dropped at PacketSize (16 KiB) and NAKed, not buffered.
    let mut big = vec![b'$'];
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    c.raw(&big);
    assert_eq!(c.ack(WAIT), Some(b'-'));
    let r = c.ask("m20000000,4").unwrap();
    assert_eq!(r.len(), 8, "{r}");
    drop(c);
    s.wait_log("1 oversized packets dropped");
    assert_clean_log(&s);
}

#[test]
fn gdb_unknown_packets_get_an_empty_reply() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    c.ask("qSupported:multiprocess+").unwrap();
    for p in ["qNoSuchThing", "vMustReplyEmpty", "jThreadsInfo", "_x"] {
        assert_eq!(c.ask(p).as_deref(), Some(""), "{p}");
    }
    assert_clean_log(&s);
}

#[test]
fn gdb_attach_1_reports_a_stop_and_keeps_the_connection() {
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    c.ask("qSupported:multiprocess+").unwrap();
    let r = c.ask("vAttach;1").unwrap();
    assert!(r.starts_with('T') || r.starts_with('S'), "{r}");
    assert_eq!(c.ask("qC").as_deref(), Some("QCp01.01"));
    drop(c);
    s.wait_log("GDB connection closed without detach");
    // The real GDB: `attach 1` in extended-remote mode, then the registers.
    let r = s.gdb(&[ex("attach 1"), ex("info registers pc")]);
    r.expect("pc").reject("Remote connection closed");
    assert_clean_log(&s);
}

#[test]
fn failed_gdb_load_suggests_load_and_names_the_bus_fault_not_pgerr() {
    let s = Server::start();
    // The flash algorithm's work area in RAM answers with bus errors.
    let r = s.gdb(&[
        ex("monitor sim fault bus-error 0x20000000 0x400"),
        ex("load"),
    ]);
    r.expect("Error finishing flash operation");
    // The reason reaches GDB's console with its next output, and the log at once.
    let log = s.log();
    assert!(log.contains("stdbg: load failed"), "{log}");
    assert!(log.contains("refused by the bus"), "{log}");
    assert!(!log.contains("program \"GDB load\""), "{log}");
    assert!(!log.contains("probably not erased (PGERR"), "{log}");
    assert!(log.contains("so this is not PGERR"), "{log}");
    assert_clean_log(&s);
}

#[test]
fn gdb_fragment_after_a_stray_dollar_in_no_ack_mode_does_not_detach() {
    // Found by the GDB fuzz harness (613 844 executions in): in no-ack mode the fragment
    // `D<=S` of `$/\`v$D<=S#95` was taken as a detach and the session ended.
    let s = Server::start();
    let mut c = Rsp::connect(s.gdb_port);
    c.ask("qSupported:multiprocess+").unwrap();
    c.ask("QStartNoAckMode").unwrap();
    c.raw(b"$/\\`v$D<=S#95");
    c.raw(&frame(b"qC"));
    let r = c.packet(WAIT).expect("the session still answers");
    assert_eq!(r, b"QCp01.01");
    assert!(!s.log().contains("GDB detached"), "{}", s.log());
}
