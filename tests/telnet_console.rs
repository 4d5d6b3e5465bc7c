//! The telnet console, driven in-process: `telnet::run` on 127.0.0.1:0 with a watch-based
//! shutdown signal, and blocking clients.

mod telnet_support;

use stdbg::command::Origin;
use stdbg::command::builtin::lifecycle::banner;
use stdbg::host::HostEvent;
use stdbg::server::telnet::line_editor::TOO_LONG;
use telnet_support::{Client, Server};

#[test]
fn negotiation_prompt_and_version() {
    let mut s = Server::start();
    let mut c = Client::connect(s.addr);
    assert_eq!(c.command("version"), vec![banner()]);
    assert_eq!(c.command("echo \"a b\"; echo c"), vec!["a b", "c"]);
    s.stop();
    assert_eq!(
        c.read_to_eof(),
        "",
        "the shutdown signal closes the session"
    );
}

#[test]
fn error_is_sent_as_its_message_lines_then_the_prompt() {
    let s = Server::start();
    let mut c = Client::connect(s.addr);
    let out = c.command("nosuchcommand 1 2");
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].starts_with("invalid command name \"nosuchcommand\""),
        "{out:?}"
    );
    // The console keeps working.
    assert_eq!(c.command("version"), vec![banner()]);
}

#[test]
fn empty_line_gives_a_fresh_prompt() {
    let s = Server::start();
    let mut c = Client::connect(s.addr);
    c.send("\r\n");
    assert_eq!(c.expect("> "), "\r\n> ");
    c.send("   \r\n");
    assert_eq!(c.expect("> "), "   \r\n> ");
}

#[test]
fn exit_closes_only_that_client() {
    let s = Server::start();
    let mut a = Client::connect(s.addr);
    let mut b = Client::connect(s.addr);
    a.send("exit\r\n");
    assert_eq!(a.read_to_eof(), "exit\r\n");
    assert_eq!(b.command("version"), vec![banner()]);
    let mut c = Client::connect(s.addr);
    assert_eq!(c.command("version"), vec![banner()]);
    assert!(s.host().shutdown_requested().is_none());
}

#[test]
fn shutdown_closes_all_clients() {
    let mut s = Server::start();
    let mut a = Client::connect(s.addr);
    let mut b = Client::connect(s.addr);
    a.send("shutdown\r\n");
    assert_eq!(a.read_to_eof(), "shutdown\r\nshutdown command invoked\r\n");
    assert_eq!(b.read_to_eof(), "");
    s.join_host();
}

#[test]
fn tab_completion_and_history_over_telnet() {
    let s = Server::start();
    let mut c = Client::connect(s.addr);
    c.send("vers\t");
    assert_eq!(c.expect("version "), "version ");
    c.send("\r");
    assert_eq!(c.expect("> "), format!("\r\n{}\r\n> ", banner()));
    // Ambiguous with no longer common prefix: the candidates are listed and the line redrawn.
    c.send("res\t");
    let got = c.expect("\r\n> res");
    assert_eq!(
        got,
        "res\r\nreset  reset_config  reset_nag  resume\r\n> res"
    );
    // `rese` extends to the common prefix `reset`.
    c.send("e\t");
    assert_eq!(c.expect("et"), "et", "echo of `e`, then the completed `t`");
    // ^U clears, ↑ recalls `version`, Enter runs it.
    c.send("\x15\x1b[A\r\n");
    let got = c.expect(&format!("{}\r\n> ", banner()));
    assert!(
        got.ends_with(&format!("version \r\n{}\r\n> ", banner())),
        "{got:?}"
    );
}

#[test]
fn ctrl_c_abandons_the_line() {
    let s = Server::start();
    let mut c = Client::connect(s.addr);
    c.send("mdw 0x0800\x03");
    assert_eq!(c.expect("^C\r\n> "), "mdw 0x0800^C\r\n> ");
    assert_eq!(c.command("version"), vec![banner()]);
}

#[test]
fn async_lines_are_printed_above_the_prompt_and_the_input_is_redrawn() {
    let s = Server::start();
    let mut c = Client::connect(s.addr);
    c.send("ver");
    assert_eq!(c.expect("ver"), "ver");
    s.host().events().send(HostEvent::Log {
        level: "Info",
        message: "a log line".into(),
    });
    assert_eq!(c.expect("> ver"), "\r\x1b[Ka log line\r\n> ver");
    s.host().events().send(HostEvent::Target {
        target: "stm32f1x.cpu".into(),
        lines: vec![
            "target halted due to breakpoint".into(),
            "xPSR: 0x01000000".into(),
        ],
        origin: Some(Origin::Repl),
    });
    assert_eq!(
        c.expect("> ver"),
        "\r\x1b[Ktarget halted due to breakpoint\r\nxPSR: 0x01000000\r\n> ver"
    );
    c.send("sion\r\n");
    assert_eq!(c.expect("> "), format!("sion\r\n{}\r\n> ", banner()));
}

#[test]
fn target_event_from_another_console_reaches_every_client() {
    let s = Server::start();
    let mut a = Client::connect(s.addr);
    let mut b = Client::connect(s.addr);
    // Telnet(u64::MAX) is neither client. (Skipping the originating console is unit-tested in
    // `server::telnet::tests`, as connection ids are process-wide.)
    s.host().events().send(HostEvent::Target {
        target: "t".into(),
        lines: vec!["halted elsewhere".into()],
        origin: Some(Origin::Telnet(u64::MAX)),
    });
    assert_eq!(a.expect("> "), "\r\x1b[Khalted elsewhere\r\n> ");
    assert_eq!(b.expect("> "), "\r\x1b[Khalted elsewhere\r\n> ");
}

#[test]
fn garbage_huge_lines_and_nuls_never_kill_the_server() {
    let s = Server::start();
    let mut c = Client::connect(s.addr);
    // Telnet commands, a subnegotiation, NULs, a stray continuation byte, escape garbage.
    c.send([
        255u8, 253, 1, 255, 250, 24, 0, 1, 2, 255, 255, 3, 255, 240, 0, 0, 0x80, 0x1b, b'[', b'9',
        b'9', b'Z',
    ]);
    c.send("version\r\n");
    assert_eq!(c.expect("> "), format!("version\r\n{}\r\n> ", banner()));
    // A 100 KB line: refused with a message, the rest of the line discarded.
    let mut big = vec![b'x'; 100_000];
    big.extend_from_slice(b"\r\n");
    c.send(&big);
    let got = c.expect(&format!("{TOO_LONG}\r\n"));
    assert!(got.ends_with(&format!("\r\n{TOO_LONG}\r\n")));
    assert_eq!(c.expect("> "), "\r\n> ");
    assert_eq!(c.command("version"), vec![banner()]);
    // Random bytes, then disconnect.
    let mut seed = 0x9e37_79b9u32;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            // Avoid bytes that run commands (CR/LF) so no random command runs.
            match (seed & 0xff) as u8 {
                b'\r' | b'\n' => b'x',
                b => b,
            }
        })
        .collect();
    c.send(&noise);
    drop(c);
    let mut d = Client::connect(s.addr);
    assert_eq!(d.command("version"), vec![banner()]);
    assert!(s.serving());
}

#[test]
fn disconnecting_mid_command_leaves_the_server_and_other_clients_running() {
    let s = Server::start();
    let mut a = Client::connect(s.addr);
    let mut b = Client::connect(s.addr);
    a.send("sleep 300; echo late\r\n");
    assert_eq!(a.expect("\r\n"), "sleep 300; echo late\r\n");
    drop(a);
    // b's command queues behind a's on the host thread and then runs.
    assert_eq!(b.command("version"), vec![banner()]);
    let mut c = Client::connect(s.addr);
    assert_eq!(c.command("echo ok"), vec!["ok"]);
    assert!(s.serving());
}

#[test]
fn input_typed_while_a_command_runs_is_kept() {
    let s = Server::start();
    let mut c = Client::connect(s.addr);
    c.send("sleep 200\r\nversion\r\n");
    let got = c.expect(&format!("{}\r\n> ", banner()));
    assert_eq!(got, format!("sleep 200\r\n> version\r\n{}\r\n> ", banner()));
}
