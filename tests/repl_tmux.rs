//! The local REPL, on a real terminal: tmux runs the binary in a detached pane, types keys and
//! reads the screen. tmux is required; a missing tmux fails these tests.

mod telnet_support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use telnet_support::{Client, STALL, noinit_script};

/// A detached tmux session on its own server socket (never the user's tmux).
struct Tmux {
    socket: String,
    dir: std::path::PathBuf,
}

fn tmux_cmd(socket: &str, args: &[&str]) -> Output {
    match Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!(
            "tmux is required for the REPL tests and could not run ({e}): install it (apt-get install -y tmux)"
        ),
    }
}

impl Tmux {
    /// Starts `stdbg <args>` in `dir` in a 200x50 pane that stays after the process exits.
    fn start(name: &str, dir: &Path, args: &[String]) -> Tmux {
        Tmux::start_shell(
            name,
            dir,
            &format!("{}; echo $? > exit-status", stdbg_shell(args)),
        )
    }

    /// Runs the shell command `shell` in `dir` (with `XDG_STATE_HOME` in `dir`).
    fn start_shell(name: &str, dir: &Path, shell: &str) -> Tmux {
        let socket = format!("stdbg-test-{}-{name}", std::process::id());
        let state = shell_words::quote(&dir.join("state").display().to_string()).into_owned();
        let shell = format!("export XDG_STATE_HOME={state}; {shell}");
        let o = tmux_cmd(
            &socket,
            &[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "50",
                "-c",
                &dir.display().to_string(),
                &shell,
            ],
        );
        assert!(
            o.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let t = Tmux {
            socket,
            dir: dir.to_path_buf(),
        };
        t.tmux(&["set-option", "-g", "remain-on-exit", "on"]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let o = tmux_cmd(&self.socket, args);
        assert!(
            o.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn literal(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", text]);
    }

    /// The screen and scrollback (tmux trims trailing blanks: the prompt reads `>`).
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0", "-S", "-200"])
    }

    /// Waits until the screen satisfies `pred` (a deadlock guard, not a timing assertion).
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STALL;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("the terminal never showed {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for an empty prompt on the last line. Keys typed before rustyline has drawn its
    /// prompt can be swallowed by its cursor-position query, so tests type only after this.
    fn prompt(&self) {
        self.wait_for("an empty prompt", |s| {
            s.lines().rev().find(|l| !l.is_empty()) == Some(">")
        });
    }

    /// stdbg's exit status, which the pane's shell writes to `exit-status` (tmux itself may
    /// leave the exited process unreaped for a while, so its pane status is not used).
    fn wait_exit(&self) -> i32 {
        let deadline = Instant::now() + STALL;
        loop {
            if let Ok(s) = std::fs::read_to_string(self.dir.join("exit-status"))
                && s.ends_with('\n')
            {
                return s.trim().parse().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                panic!("stdbg did not exit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// `stdbg <args>`, quoted for a shell.
fn stdbg_shell(args: &[String]) -> String {
    std::iter::once(env!("CARGO_BIN_EXE_stdbg").to_string())
        .chain(args.iter().cloned())
        .map(|a| shell_words::quote(&a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn base_args(dir: &Path, telnet: &str) -> Vec<String> {
    let script = noinit_script(dir);
    vec![
        "-c".into(),
        format!("script {}", script.display()),
        "-c".into(),
        format!("telnet_port {telnet}"),
        "-c".into(),
        "gdb_port disabled".into(),
    ]
}

#[test]
fn repl_runs_help_and_version_then_ctrl_d_shuts_down_and_saves_history() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start("help", dir.path(), &base_args(dir.path(), "disabled"));
    t.prompt();
    t.literal("help echo");
    t.keys(&["Enter"]);
    t.wait_for("the help line for echo", |s| {
        s.contains("echo ['-n'] string                       Print a line")
    });
    t.prompt();
    t.literal("version");
    t.keys(&["Enter"]);
    let s = t.wait_for("the version banner", |s| {
        s.contains("stdbg 0.1.0 (virtual STM32 + probe-rs 0.32)")
    });
    let lines: Vec<&str> = s.lines().collect();
    let v = lines
        .iter()
        .position(|l| *l == "> version")
        .expect("the typed line stays on screen");
    assert_eq!(lines[v + 1], "stdbg 0.1.0 (virtual STM32 + probe-rs 0.32)");
    t.prompt();
    t.literal("nosuchcmd");
    t.keys(&["Enter"]);
    t.wait_for("the error", |s| {
        s.contains("Error: invalid command name \"nosuchcmd\"")
    });
    t.prompt();
    t.keys(&["C-d"]);
    let code = t.wait_exit();
    assert_eq!(code, 0, "screen:\n{}", t.screen());
    assert!(t.screen().contains("shutdown command invoked"));
    let history = std::fs::read_to_string(dir.path().join("state/stdbg/history"))
        .expect("history file written");
    assert!(
        history.lines().any(|l| l == "version"),
        "history: {history:?}"
    );
    assert!(
        history.lines().any(|l| l == "help echo"),
        "history: {history:?}"
    );
}

#[test]
fn repl_tab_completes_command_names() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start("tab", dir.path(), &base_args(dir.path(), "disabled"));
    t.prompt();
    t.literal("vers");
    t.keys(&["Tab"]);
    t.wait_for("the completed name", |s| {
        s.lines().any(|l| l == "> version")
    });
    t.keys(&["Enter"]);
    t.wait_for("the version banner", |s| {
        s.contains("stdbg 0.1.0 (virtual STM32 + probe-rs 0.32)")
    });
    // Second word of a multi-word command.
    t.prompt();
    t.literal("adapter sp");
    t.keys(&["Tab"]);
    t.wait_for("the completed sub-command", |s| {
        s.lines().any(|l| l == "> adapter speed")
    });
    // Ctrl-C clears the line; the REPL goes on.
    t.keys(&["C-c"]);
    t.prompt();
    t.literal("echo still here");
    t.keys(&["Enter"]);
    t.wait_for("the echo", |s| s.lines().any(|l| l == "still here"));
    t.prompt();
    t.literal("exit");
    t.keys(&["Enter"]);
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());
}

#[test]
fn shutdown_from_telnet_ends_the_repl_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    // Find a free port for the telnet console (the log goes to the pane, not to us).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let args = base_args(dir.path(), &port.to_string());
    // After stdbg exits, the shell prints the terminal mode: a restored terminal echoes (`echo`,
    // not `-echo`) and is in canonical mode (`icanon`).
    let script = format!(
        "{}; echo status=$?; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(echo|icanon)$' | tr '\\n' ' '; echo; sleep 600",
        stdbg_shell(&args)
    );
    let t = Tmux::start_shell("telnet", dir.path(), &script);
    t.prompt();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = Client::connect(addr);
    assert_eq!(c.command("echo from telnet"), vec!["from telnet"]);
    c.send("shutdown\r\n");
    c.read_to_eof();
    let s = t.wait_for("the exit status and terminal mode", |s| {
        s.contains("status=") && s.contains("icanon")
    });
    assert!(s.contains("status=0"), "screen:\n{s}");
    let modes = s.lines().find(|l| l.contains("icanon")).unwrap_or_default();
    let mut modes: Vec<&str> = modes.split_whitespace().collect();
    modes.sort();
    assert_eq!(
        modes,
        ["echo", "icanon"],
        "the terminal is restored (not raw); screen:\n{s}"
    );
}

#[test]
fn ctrl_c_in_the_repl_cancels_a_running_sleep_and_the_repl_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start("ctrlc", dir.path(), &base_args(dir.path(), "disabled"));
    t.prompt();
    t.literal("sleep 100000");
    t.keys(&["Enter"]);
    // Wait until the sleep runs (the line was taken; no prompt yet), then Ctrl-C.
    t.wait_for("the sleep running", |s| {
        s.lines().rev().find(|l| !l.is_empty()) == Some("> sleep 100000")
    });
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-c"]);
    t.wait_for("the cancelled sleep", |s| {
        s.contains("Error: sleep cancelled (interrupted by the user)")
    });
    t.prompt();
    t.literal("echo still here");
    t.keys(&["Enter"]);
    t.wait_for("the echo", |s| s.lines().any(|l| l == "still here"));
    t.prompt();
    t.literal("exit");
    t.keys(&["Enter"]);
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());
}
