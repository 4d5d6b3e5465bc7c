//! `gdb_port`, `telnet_port`, `bindto`: server settings, config stage only (as in OpenOCD).

use crate::command::{Mode, Registry, bad_args, command, usage_error};
use crate::host::config::PortSetting;

fn port_text(p: PortSetting) -> String {
    match p {
        PortSetting::Port(n) => n.to_string(),
        PortSetting::Disabled => "disabled".into(),
    }
}

fn parse_port(s: &str) -> Result<PortSetting, crate::command::CommandError> {
    if s == "disabled" {
        return Ok(PortSetting::Disabled);
    }
    s.parse::<u16>()
        .map(PortSetting::Port)
        .map_err(|_| usage_error(format!("\"{s}\" is not a TCP port (0-65535) or 'disabled'")))
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "gdb_port",
        Mode::Config,
        "[port_num|'pipe'|'disabled']",
        "GDB server port (default 3333; 0 = any free port; 'pipe' = stdin/stdout).",
        |ctx, args| {
            match args {
                [] => {
                    let c = ctx.host.config();
                    let text = if c.gdb.pipe {
                        "pipe".into()
                    } else {
                        port_text(c.gdb_port)
                    };
                    drop(c);
                    ctx.println(text);
                }
                // GDB's protocol on stdin/stdout (`target extended-remote | stdbg …`): from here
                // on every other write to stdout goes to stderr.
                [p] if p == "pipe" => {
                    crate::host::gdb_settings::take_stdout_for_gdb().map_err(|e| {
                        crate::command::CommandError::failed(format!(
                            "gdb_port pipe: cannot take standard output for GDB: {e}"
                        ))
                    })?;
                    let mut c = ctx.host.config();
                    c.gdb.pipe = true;
                    c.gdb_port = PortSetting::Disabled;
                }
                [p] => {
                    let mut c = ctx.host.config();
                    c.gdb_port = parse_port(p)?;
                    c.gdb.pipe = false;
                }
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
    reg.add(command(
        "telnet_port",
        Mode::Config,
        "[port_num|'disabled']",
        "Telnet console port (default 4444; 0 = any free port).",
        |ctx, args| {
            match args {
                [] => {
                    let p = ctx.host.config().telnet_port;
                    ctx.println(port_text(p));
                }
                [p] => ctx.host.config().telnet_port = parse_port(p)?,
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
    reg.add(command(
        "bindto",
        Mode::Config,
        "[name]",
        "Address the servers listen on (default 127.0.0.1; 0.0.0.0 = every interface).",
        |ctx, args| {
            match args {
                [] => {
                    let a = ctx.host.config().bindto;
                    ctx.println(a.to_string());
                }
                [a] => {
                    let ip = if a == "localhost" {
                        std::net::IpAddr::from([127, 0, 0, 1])
                    } else {
                        a.parse()
                            .map_err(|_| usage_error(format!("\"{a}\" is not an IP address")))?
                    };
                    ctx.host.config().bindto = ip;
                }
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
}
