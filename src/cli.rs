//! The `stdbg` command line, compatible with OpenOCD's: `-f`/`-c` run in the order given, then
//! `init` runs if no command ran it, then the servers run until `shutdown`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use crate::command::Origin;
use crate::command::parse::quote_word;
use crate::host::{Host, HostConfig, Shutdown, worker};

/// One `-f` or `-c` item, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `-f FILE`: run a script.
    File(String),
    /// `-c CMDS`: run command lines.
    Command(String),
}

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-f`/`-c` in order.
    pub steps: Vec<Step>,
    /// `-s` directories.
    pub search: Vec<PathBuf>,
    /// `-d` level (default 2, bare `-d` = 3).
    pub debug: u8,
    /// `-l` file.
    pub log_output: Option<PathBuf>,
}

fn clap_command() -> Command {
    Command::new("stdbg")
        .about("Scriptable debug host for STM32: OpenOCD-style configs in Rhai, telnet console, GDB port, flashing; includes a virtual STM32F103")
        .version(env!("CARGO_PKG_VERSION"))
        .disable_version_flag(true)
        .arg(Arg::new("version").short('v').long("version").action(ArgAction::Version).help("Print the version and exit"))
        .arg(Arg::new("file").short('f').long("file").value_name("FILE").action(ArgAction::Append).help("Run a configuration script (searched in -s dirs, the current directory, then the built-in scripts)"))
        .arg(Arg::new("command").short('c').long("command").value_name("CMDS").action(ArgAction::Append).help("Run commands (';' separates them); -f and -c run in the order given"))
        .arg(Arg::new("search").short('s').long("search").value_name("DIR").action(ArgAction::Append).help("Add a directory to the script search path"))
        .arg(
            Arg::new("debug")
                .short('d')
                .long("debug")
                .value_name("N")
                .num_args(0..=1)
                .default_missing_value("3")
                .value_parser(clap::value_parser!(u8).range(0..=4))
                .help("Debug level 0-4 (0 error, 1 warning, 2 info [default], 3 debug, 4 trace); write -d3, not -d 3"),
        )
        .arg(Arg::new("log_output").short('l').long("log-output").alias("log_output").value_name("FILE").help("Write the log to FILE instead of stderr"))
}

/// Parses the command line (`args` includes the program name).
pub fn parse(args: &[String]) -> Result<Options, clap::Error> {
    let m = clap_command().try_get_matches_from(args)?;
    let mut steps: Vec<(usize, Step)> = Vec::new();
    if let (Some(vals), Some(idx)) = (m.get_many::<String>("file"), m.indices_of("file")) {
        steps.extend(idx.zip(vals).map(|(i, v)| (i, Step::File(v.clone()))));
    }
    if let (Some(vals), Some(idx)) = (m.get_many::<String>("command"), m.indices_of("command")) {
        steps.extend(idx.zip(vals).map(|(i, v)| (i, Step::Command(v.clone()))));
    }
    steps.sort_by_key(|(i, _)| *i);
    Ok(Options {
        steps: steps.into_iter().map(|(_, s)| s).collect(),
        search: m
            .get_many::<String>("search")
            .map(|v| v.map(PathBuf::from).collect())
            .unwrap_or_default(),
        debug: m.get_one::<u8>("debug").copied().unwrap_or(2),
        log_output: m.get_one::<String>("log_output").map(PathBuf::from),
    })
}

/// Runs `stdbg` with the process's arguments; returns the exit status.
pub fn main() -> i32 {
    install_panic_hook();
    let args: Vec<String> = std::env::args().collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    run(opts)
}

/// Replaces Rust's panic report (thread name, source path, `RUST_BACKTRACE` hint) with a
/// message for users. A panic of the virtual chip's processor model is caught on its thread
/// (`sim-*`), which logs its own error and locks the core up, and one inside the Tcl interpreter
/// becomes a Tcl error (`script::tcl`), so nothing is printed for them.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("sim-"))
            || crate::script::tcl::in_molt()
        {
            return;
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unexpected internal state".into());
        eprintln!(
            "Error: stdbg stopped on an internal error ({what}). This is a bug in stdbg, not in \
             your setup: please report it with the command line, script or image that caused it"
        );
    }));
}

/// Prints an error on stderr the way the command line does: `Error: ` before the first line,
/// the following lines indented under it.
pub fn print_error(msg: &str) {
    for (i, l) in msg.lines().enumerate() {
        if i == 0 {
            eprintln!("Error: {l}");
        } else {
            eprintln!("       {l}");
        }
    }
}

/// Runs the host with parsed options; returns the exit status.
pub fn run(opts: Options) -> i32 {
    let bus_slot = match crate::log::init(opts.debug, opts.log_output.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("Error: can't open the log file: {e}");
            return 1;
        }
    };
    let config = HostConfig {
        search_dirs: opts.search.clone(),
        progress_bars: std::io::stderr().is_terminal(),
        ..HostConfig::default()
    };
    let host = Host::new(config);
    let _ = bus_slot.set(host.events().clone());
    let (handle, join) = worker::spawn(host.clone());

    let mut steps = opts.steps.clone();
    if steps.is_empty() {
        if std::path::Path::new("stdbg.rhai").is_file() {
            steps.push(Step::File("stdbg.rhai".into()));
        } else {
            print_error(
                "no configuration given and no stdbg.rhai in the current directory: run for example `stdbg -f board/sim-bluepill.rhai` (virtual Blue Pill) or `stdbg -f interface/stlink.rhai -f board/bluepill.rhai`",
            );
            return 1;
        }
    }
    let run_line = |line: &str| -> Result<(), i32> {
        let (r, _close) = handle.exec_to_stdout(line, Origin::Cli);
        // The firmware ended the run (semihosting SYS_EXIT) while this line ran.
        if let Some(Shutdown::Code(c)) = host.shutdown_requested() {
            return Err(c);
        }
        if let Err(e) = r {
            // `shutdown error` reports itself through the exit status only.
            if !(host.shutdown_requested() == Some(Shutdown::Error)
                && e == "shutdown command invoked")
            {
                print_error(&e);
            }
            return Err(1);
        }
        match host.shutdown_requested() {
            Some(Shutdown::Ok) => Err(0),
            Some(Shutdown::Error) => Err(1),
            Some(Shutdown::Code(c)) => Err(c),
            None => Ok(()),
        }
    };
    for (i, step) in steps.iter().enumerate() {
        let line = match step {
            Step::File(f) => format!("script {}", quote_word(f)),
            Step::Command(c) => c.clone(),
        };
        if let Err(code) = run_line(&line) {
            // A failing command (typically init) stops the run, except that a later `-c doctor`
            // still runs: it exists to explain that failure.
            if code != 0
                && host.shutdown_requested().is_none()
                && let Some(Step::Command(d)) = steps[i + 1..]
                    .iter()
                    .find(|s| matches!(s, Step::Command(c) if c.trim_start().starts_with("doctor")))
            {
                let _ = run_line(d);
            }
            shutdown_host(&handle, join);
            return code;
        }
    }
    if !host.initialized()
        && !host.config().compat.noinit
        && let Err(code) = run_line("init")
    {
        shutdown_host(&handle, join);
        return code;
    }
    crate::server::serve(handle, join)
}

fn shutdown_host(handle: &worker::HostHandle, join: std::thread::JoinHandle<()>) {
    handle
        .host()
        .request_shutdown(handle.host().shutdown_requested().unwrap_or(Shutdown::Ok));
    let _ = handle.call(|_| ());
    let _ = join.join();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_f_and_c_order() {
        let o = parse(&a(&[
            "stdbg", "-c", "a", "-f", "x.rhai", "-c", "b; c", "--file", "y.rhai",
        ]))
        .unwrap();
        assert_eq!(
            o.steps,
            vec![
                Step::Command("a".into()),
                Step::File("x.rhai".into()),
                Step::Command("b; c".into()),
                Step::File("y.rhai".into())
            ]
        );
        assert_eq!(o.debug, 2);
    }

    #[test]
    fn debug_levels() {
        assert_eq!(parse(&a(&["stdbg", "-d"])).unwrap().debug, 3);
        assert_eq!(parse(&a(&["stdbg", "-d1"])).unwrap().debug, 1);
        assert!(parse(&a(&["stdbg", "-d9"])).is_err());
    }
}
