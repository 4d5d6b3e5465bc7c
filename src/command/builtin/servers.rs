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
        "[port_num|'disabled']",
        "GDB server port (default 3333; 0 = any free port).",
        |ctx, args| {
            match args {
                [] => {
                    let p = ctx.host.config().gdb_port;
                    ctx.println(port_text(p));
                }
                [p] => ctx.host.config().gdb_port = parse_port(p)?,
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
