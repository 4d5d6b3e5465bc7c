//! The telnet console in the built binary: the port it logs, a port already in use, and
//! output identical to `-c`.

mod telnet_support;

use std::net::TcpListener;

use telnet_support::{Client, Running, noinit_script, stdbg};

/// Lines run through both front ends (no target needed).
const SEQUENCE: &str = "version; help echo; echo \"a b\"; targets; usage sleep";

#[test]
fn telnet_port_0_logs_the_real_port_and_serves_until_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let script = noinit_script(dir.path());
    let run = Running::spawn(stdbg(
        dir.path(),
        &[
            "-c",
            &format!("script {}", script.display()),
            "-c",
            "telnet_port 0",
        ],
    ));
    assert_ne!(run.port, 0, "the log names the port actually bound");
    let mut c = Client::connect(run.addr());
    assert_eq!(c.command("echo hello"), vec!["hello"]);
    c.send("shutdown\r\n");
    assert_eq!(c.read_to_eof(), "shutdown\r\nshutdown command invoked\r\n");
    let (code, _out, err) = run.wait();
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(
        err.contains("Info : accepting 'telnet' connection on tcp/"),
        "stderr: {err}"
    );
}

#[test]
fn telnet_port_in_use_exits_1_naming_the_port_and_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let script = noinit_script(dir.path());
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = stdbg(
        dir.path(),
        &[
            "-c",
            &format!("script {}", script.display()),
            "-c",
            &format!("telnet_port {port}"),
        ],
    )
    .output()
    .expect("running stdbg");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port}")),
        "stderr names the port: {err}"
    );
    assert!(
        err.contains("telnet_port"),
        "stderr names the command to change it: {err}"
    );
    drop(taken);
}

#[test]
fn same_commands_give_identical_output_over_telnet_and_dash_c() {
    let dir = tempfile::tempdir().unwrap();
    let script = noinit_script(dir.path());
    let script_arg = format!("script {}", script.display());

    let out = stdbg(
        dir.path(),
        &[
            "-c",
            &script_arg,
            "-c",
            "init",
            "-c",
            SEQUENCE,
            "-c",
            "shutdown",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut expected: Vec<&str> = stdout.lines().collect();
    assert_eq!(expected.pop(), Some("shutdown command invoked"));
    assert!(expected.len() >= 5, "{expected:?}");
    // On the command line `echo` writes to stderr, as OpenOCD's (docs/commands.md, "Output
    // streams"); a console shows it in its place.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().any(|l| l == "a b"), "stderr: {err}");
    let at = expected
        .iter()
        .position(|l| l.starts_with("echo ['-n']"))
        .unwrap()
        + 1;
    expected.insert(at, "a b");

    let run = Running::spawn(stdbg(
        dir.path(),
        &["-c", &script_arg, "-c", "telnet_port 0"],
    ));
    let mut c = Client::connect(run.addr());
    let got = c.command(SEQUENCE);
    assert_eq!(got, expected);
    // One command per line gives the same lines too.
    let mut per_line = Vec::new();
    for cmd in SEQUENCE.split("; ") {
        per_line.extend(c.command(cmd));
    }
    assert_eq!(per_line, expected);
    c.send("shutdown\r\n");
    c.read_to_eof();
    let (code, _, err) = run.wait();
    assert_eq!(code, Some(0), "stderr: {err}");
}
