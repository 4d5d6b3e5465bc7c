//! `remote_bitbang_port`: serve the virtual chip's JTAG pins to OpenOCD's `remote_bitbang`
//! adapter (the server is `server/remote_bitbang.rs`; the client adapter's `remote_bitbang
//! host|port` are in `adapter.rs`).

use crate::command::{Mode, Registry, bad_args, command, usage_error};

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "remote_bitbang_port",
        Mode::Config,
        "[port_num]",
        "Serve the virtual chip over OpenOCD's remote_bitbang protocol (JTAG) on this port (0 = any free port); stdbg then does not attach to the chip itself.",
        |ctx, args| {
            match args {
                [] => {
                    let p = ctx.host.config().remote_bitbang_port;
                    ctx.println(p.map(|p| p.to_string()).unwrap_or_else(|| "disabled".into()));
                }
                [p] if p == "disabled" => ctx.host.config().remote_bitbang_port = None,
                [p] => {
                    let n = p.parse::<u16>().map_err(|_| {
                        usage_error(format!("\"{p}\" is not a TCP port (0-65535) or 'disabled'"))
                    })?;
                    ctx.host.config().remote_bitbang_port = Some(n);
                }
                _ => return Err(bad_args()),
            }
            Ok(())
        },
    ));
}
