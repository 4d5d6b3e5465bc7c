//! `rtt …`: OpenOCD 0.12's RTT commands (`src/rtt/tcl.c`, `src/server/rtt_server.c`) with their
//! output, on [`crate::host::rtt`]:
//!
//! - `rtt setup <address> <size> <ID>`, `rtt start`, `rtt stop`, `rtt polling_interval [ms]`;
//! - `rtt channels` (`Channels: up=2, down=1`, `Up-channels:`, `0: Terminal 1024 0`, …) and
//!   `rtt channellist` (a Tcl list of dicts, printed as Tcl prints it:
//!   `{{name Terminal size 1024 flags 0} {name Echo size 256 flags 0}} {{name Terminal size 64 flags 0}}`);
//! - `rtt server start <port> <channel> [message]`, `rtt server stop <port>`.
//!
//! Beyond OpenOCD: `rtt start` without `rtt setup` uses the `_SEGGER_RTT` symbol of the ELF last
//! programmed or loaded; `rtt write [-nonewline] <channel> <text>` sends a line to a down
//! channel (named after Tcl's `puts`, which also ends the text with a newline unless told
//! `-nonewline`); `rtt defmt [on|off]` decodes channel 0 as defmt.

use super::{parse_u32, parse_u64};
use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command, usage_error};
use crate::host::rtt::{ChannelInfo, DefmtMode};

/// The words of `rtt setup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupArgs {
    /// Start of the searched range.
    pub address: u64,
    /// Bytes searched.
    pub size: u64,
    /// Control block ID.
    pub id: String,
}

/// Parses `<address> <size> <ID>`.
pub fn parse_setup(args: &[String]) -> Result<SetupArgs, CommandError> {
    match args {
        [a, s, id] => Ok(SetupArgs {
            address: parse_u64(a)?,
            size: u64::from(parse_u32(s)?),
            id: id.clone(),
        }),
        _ => Err(bad_args()),
    }
}

/// The words of `rtt server start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerArgs {
    /// TCP port (0: any free port).
    pub port: u16,
    /// RTT channel.
    pub channel: usize,
    /// Sent to each new client, followed by a newline.
    pub message: Option<String>,
}

fn parse_port(s: &str) -> Result<u16, CommandError> {
    u16::try_from(parse_u64(s)?)
        .map_err(|_| usage_error(format!("\"{s}\" is not a TCP port (0-65535)")))
}

/// Parses `<port> <channel> [message]`.
pub fn parse_server(args: &[String]) -> Result<ServerArgs, CommandError> {
    match args {
        [p, c] | [p, c, _] => Ok(ServerArgs {
            port: parse_port(p)?,
            channel: parse_u32(c)? as usize,
            message: args.get(2).cloned(),
        }),
        _ => Err(bad_args()),
    }
}

/// The words of `rtt write`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteArgs {
    /// Down channel.
    pub channel: usize,
    /// The bytes to send (the text, plus `\n` unless `-nonewline`).
    pub bytes: Vec<u8>,
}

/// Parses `[-nonewline] <channel> <text>`.
pub fn parse_write(args: &[String]) -> Result<WriteArgs, CommandError> {
    let (newline, rest) = match args.split_first() {
        Some((f, rest)) if f == "-nonewline" => (false, rest),
        _ => (true, args),
    };
    let [c, text] = rest else {
        return Err(bad_args());
    };
    let mut bytes = text.as_bytes().to_vec();
    if newline {
        bytes.push(b'\n');
    }
    Ok(WriteArgs {
        channel: parse_u32(c)? as usize,
        bytes,
    })
}

/// A word of a Tcl list: braced when empty or when it has spaces or braces.
fn tcl_word(s: &str) -> String {
    if s.is_empty() || s.contains(|c: char| c.is_whitespace() || "{}\"\\;$[]".contains(c)) {
        format!("{{{s}}}")
    } else {
        s.to_string()
    }
}

/// `rtt channellist`'s result: a list of two lists (up, down) of dicts.
pub fn channellist_text(up: &[ChannelInfo], down: &[ChannelInfo]) -> String {
    let list = |v: &[ChannelInfo]| {
        let items: Vec<String> = v
            .iter()
            .filter(|c| c.size != 0)
            .map(|c| {
                format!(
                    "{{name {} size {} flags {}}}",
                    tcl_word(&c.name),
                    c.size,
                    c.flags
                )
            })
            .collect();
        format!("{{{}}}", items.join(" "))
    };
    format!("{} {}", list(up), list(down))
}

/// `rtt channels`: OpenOCD's lines (channels without a buffer or of size 0 are skipped, as
/// there).
pub fn channels(ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
    let c = ctx.host.rtt_channels()?;
    ctx.println(format!("Channels: up={}, down={}", c.max_up, c.max_down));
    ctx.println("Up-channels:");
    for ch in c.up.iter().filter(|c| c.size != 0) {
        ctx.println(format!(
            "{}: {} {} {}",
            ch.index, ch.name, ch.size, ch.flags
        ));
    }
    ctx.println("Down-channels:");
    for ch in c.down.iter().filter(|c| c.size != 0) {
        ctx.println(format!(
            "{}: {} {} {}",
            ch.index, ch.name, ch.size, ch.flags
        ));
    }
    Ok(())
}

/// `rtt defmt [on|off]`.
pub fn defmt(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let mode = match args {
        [] => None,
        [w] if w == "on" || w == "enable" => Some(DefmtMode::On),
        [w] if w == "off" || w == "disable" => Some(DefmtMode::Off),
        [w] if w == "auto" => Some(DefmtMode::Auto),
        [w] => return Err(usage_error(format!("'{w}': expected on, off or auto"))),
        _ => return Err(bad_args()),
    };
    let state = ctx.host.rtt_defmt(mode)?;
    ctx.println(state);
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "rtt setup",
        Mode::Any,
        "<address> <size> <ID>",
        "Set the range searched for the RTT control block and its ID (\"SEGGER RTT\").",
        |ctx, args| {
            let a = parse_setup(args)?;
            ctx.host.rtt_setup(a.address, a.size, &a.id)?;
            Ok(())
        },
    ));
    reg.add(command(
        "rtt start",
        Mode::Exec,
        "",
        "Find the RTT control block (rtt setup's range, or the _SEGGER_RTT symbol of the ELF programmed) and start polling.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            ctx.host.rtt_start()
        },
    ));
    reg.add(command(
        "rtt stop",
        Mode::Exec,
        "",
        "Stop polling RTT.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            Ok(ctx.host.rtt_stop()?)
        },
    ));
    reg.add(command(
        "rtt polling_interval",
        Mode::Exec,
        "[interval]",
        "Show or set the RTT polling interval in ms (default 100).",
        |ctx, args| match args {
            [] => {
                let ms = ctx.host.rtt_polling_interval(None);
                ctx.println(format!("{ms} ms"));
                Ok(())
            }
            [ms] => {
                ctx.host
                    .rtt_polling_interval(Some(u64::from(parse_u32(ms)?)));
                Ok(())
            }
            _ => Err(bad_args()),
        },
    ));
    reg.add(command(
        "rtt channels",
        Mode::Exec,
        "",
        "List the RTT channels.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            channels(ctx)
        },
    ));
    reg.add(command(
        "rtt channellist",
        Mode::Exec,
        "",
        "List the RTT channels as a Tcl list of dicts (name, size, flags), up then down.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            let c = ctx.host.rtt_channels()?;
            ctx.println(channellist_text(&c.up, &c.down));
            Ok(())
        },
    ));
    reg.add(command(
        "rtt server start",
        Mode::Any,
        "<port> <channel> [message]",
        "Serve RTT channel <channel> on TCP port <port> of 127.0.0.1 (0: any free port), raw bytes both ways.",
        |ctx, args| {
            let a = parse_server(args)?;
            ctx.host.rtt_server_start(a.port, a.channel, a.message)?;
            Ok(())
        },
    ));
    reg.add(command(
        "rtt server stop",
        Mode::Any,
        "<port>",
        "Stop the RTT server on <port>.",
        |ctx, args| match args {
            [p] => Ok(ctx.host.rtt_server_stop(parse_port(p)?)?),
            _ => Err(bad_args()),
        },
    ));
    reg.add(command(
        "rtt write",
        Mode::Exec,
        "[-nonewline] <channel> <text>",
        "Send <text> and a newline to RTT down channel <channel> (stdbg; not in OpenOCD).",
        |ctx, args| {
            let a = parse_write(args)?;
            ctx.host.rtt_write(a.channel, &a.bytes)?;
            Ok(())
        },
    ));
    reg.add(command(
        "rtt defmt",
        Mode::Any,
        "['on'|'off'|'auto']",
        "Decode RTT channel 0 as defmt with the ELF's .defmt table (auto: when it has one; stdbg).",
        defmt,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words() {
        let s = parse_setup(&w(&["0x20000000", "0x5000", "SEGGER RTT"])).unwrap();
        assert_eq!(
            (s.address, s.size, s.id.as_str()),
            (0x2000_0000, 0x5000, "SEGGER RTT")
        );
        assert!(parse_setup(&w(&["0x20000000", "0x5000"])).is_err());
        let v = parse_server(&w(&["9090", "0", "hi"])).unwrap();
        assert_eq!(
            (v.port, v.channel, v.message.as_deref()),
            (9090, 0, Some("hi"))
        );
        assert!(parse_server(&w(&["70000", "0"])).is_err());
        assert_eq!(parse_write(&w(&["0", "hi"])).unwrap().bytes, b"hi\n");
        assert_eq!(
            parse_write(&w(&["-nonewline", "1", "hi"])).unwrap().bytes,
            b"hi"
        );
        assert!(parse_write(&w(&["1"])).is_err());
    }

    #[test]
    fn channellist_is_a_tcl_list_of_dicts() {
        let c = |index, name: &str, size| ChannelInfo {
            index,
            name: name.into(),
            size,
            flags: 0,
        };
        assert_eq!(
            channellist_text(
                &[c(0, "Terminal", 1024), c(1, "My Echo", 256)],
                &[c(0, "", 64)]
            ),
            "{{name Terminal size 1024 flags 0} {name {My Echo} size 256 flags 0}} {{name {} size 64 flags 0}}"
        );
    }
}
