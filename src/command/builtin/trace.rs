//! OpenOCD 0.12's SWO/ITM trace commands (src/target/arm_tpiu_swo.c, armv7m_trace.c):
//! `tpiu create|names|init` (also as `swo …`), the object commands `<tpiu> configure|cget|
//! enable|disable|eventlist` (reached through [`dispatch_object`]), the deprecated
//! `tpiu config …` that cortex-debug and older launch files send, and `itm port|ports`.
//! The work is done in `host/swo.rs`.

use super::{parse_u32, parse_u64};
use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command, usage_error};
use crate::host::swo::{EVENTS, Protocol, TpiuObject};

const OPTIONS: &str = "-port-width, -protocol, -formatter, -traceclk, -pin-freq, -output, -event, -dap, -ap-num, or -baseaddr";
const BOOLS: [(&str, bool); 8] = [
    ("on", true),
    ("yes", true),
    ("1", true),
    ("true", true),
    ("off", false),
    ("no", false),
    ("0", false),
    ("false", false),
];

fn failed(msg: impl Into<String>) -> CommandError {
    CommandError::failed(msg)
}

fn parse_bool(s: &str, what: &str) -> Result<bool, CommandError> {
    BOOLS
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, b)| *b)
        .ok_or_else(|| {
            failed(format!(
                "bad {what} \"{s}\": must be on, yes, 1, true, off, no, 0, or false"
            ))
        })
}

/// Applies `configure` options (also those of `create`) to `obj`.
fn configure(ctx: &Ctx<'_>, obj: &mut TpiuObject, args: &[String]) -> Result<(), CommandError> {
    let mut i = 0;
    while i < args.len() {
        let opt = args[i].as_str();
        let val = |k: usize| -> Result<&String, CommandError> {
            args.get(i + k).ok_or_else(|| {
                failed(format!(
                    "wrong # args: {opt} needs a value, e.g. '{} configure {opt} {}'",
                    obj.name,
                    example(opt)
                ))
            })
        };
        match opt {
            "-dap" => {
                let d = val(1)?.clone();
                let known = ctx.host.targets().list.iter().any(|t| t.dap == d);
                if !known {
                    return Err(failed(format!(
                        "-dap: no DAP named '{d}': the target scripts declare the DAPs ('dap names' lists them), e.g. stm32f1x.dap"
                    )));
                }
                obj.dap = d;
            }
            "-ap-num" => {
                let n = parse_u32(val(1)?)?;
                obj.ap_num = Some(u8::try_from(n).map_err(|_| {
                    failed(format!(
                        "-ap-num {n}: an access port number is 0 to 255 (ADIv5 APSEL)"
                    ))
                })?);
            }
            "-baseaddr" => obj.base = parse_u32(val(1)?)?,
            "-port-width" => {
                let w = parse_u64(val(1)?)?;
                if !(1..=32).contains(&w) {
                    return Err(failed(format!(
                        "Invalid port width! {w} is not 1 to 32 (the trace port's data pins)"
                    )));
                }
                obj.port_width = w as u32;
            }
            "-protocol" => {
                let p = val(1)?;
                obj.protocol = Protocol::parse(p).ok_or_else(|| {
                    failed(format!(
                        "bad protocol \"{p}\": must be sync, uart, or manchester"
                    ))
                })?;
            }
            "-formatter" => obj.formatter = parse_bool(val(1)?, "formatter")?,
            "-traceclk" => obj.traceclk = parse_u32(val(1)?)?,
            "-pin-freq" => obj.pin_freq = parse_u32(val(1)?)?,
            "-output" => {
                let o = val(1)?;
                if let Some(p) = o.strip_prefix(':') {
                    let ok = p.parse::<u32>().is_ok_and(|n| n <= u16::MAX as u32);
                    if !ok {
                        return Err(failed(format!(
                            "Invalid TCP port '{p}': use ':PORT' with PORT 1 to 65535 (':0' picks a free one and logs it)"
                        )));
                    }
                }
                obj.output = Some(o.clone());
            }
            "-event" => {
                let (Some(e), Some(body)) = (args.get(i + 1), args.get(i + 2)) else {
                    return Err(failed(
                        "wrong # args: should be \"-event ?event-name? ?EVENT-BODY?\"",
                    ));
                };
                if !EVENTS.contains(&e.as_str()) {
                    return Err(failed(format!(
                        "bad event \"{e}\": must be pre-enable, post-enable, pre-disable, or post-disable"
                    )));
                }
                obj.events.retain(|(x, _)| x != e);
                obj.events.push((e.clone(), body.clone()));
                i += 3;
                continue;
            }
            _ => {
                return Err(failed(format!("bad option \"{opt}\": must be {OPTIONS}")));
            }
        }
        i += 2;
    }
    Ok(())
}

fn example(opt: &str) -> &'static str {
    match opt {
        "-protocol" => "uart",
        "-traceclk" => "72000000",
        "-pin-freq" => "2000000",
        "-output" => ":3443",
        "-formatter" => "off",
        "-ap-num" => "0",
        "-baseaddr" => "0xE0040000",
        "-port-width" => "1",
        _ => "VALUE",
    }
}

/// `<tpiu> cget -option`.
fn cget(obj: &TpiuObject, args: &[String]) -> Result<String, CommandError> {
    let opt = args.first().map(String::as_str).unwrap_or("");
    let want = if opt == "-event" { 2 } else { 1 };
    if args.len() != want {
        return Err(failed(format!(
            "wrong # args: should be \"{} cget -option\" (one of {OPTIONS}; '-event NAME')",
            obj.name
        )));
    }
    Ok(match opt {
        "-dap" => obj.dap.clone(),
        "-ap-num" => obj.ap_num.map(|n| n.to_string()).unwrap_or_default(),
        "-baseaddr" => obj.base.to_string(),
        "-port-width" => obj.port_width.to_string(),
        "-protocol" => obj.protocol.name().into(),
        "-formatter" => if obj.formatter { "on" } else { "off" }.into(),
        "-traceclk" => obj.traceclk.to_string(),
        "-pin-freq" => obj.pin_freq.to_string(),
        "-output" => obj.output.clone().unwrap_or_default(),
        "-event" => obj
            .events
            .iter()
            .find(|(e, _)| *e == args[1])
            .map(|(_, b)| b.clone())
            .unwrap_or_default(),
        _ => return Err(failed(format!("bad option \"{opt}\": must be {OPTIONS}"))),
    })
}

fn create(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let Some(name) = args.first() else {
        return Err(failed(
            "wrong # args: should be \"tpiu create name ?option option ...?\", e.g. 'tpiu create stm32f1x.tpiu -dap stm32f1x.dap -ap-num 0'",
        ));
    };
    let taken = ctx.host.registry().get(name).is_some()
        || ctx.host.swo().has(name)
        || ctx
            .host
            .targets()
            .list
            .iter()
            .any(|t| t.name == *name || t.dap == *name);
    if taken {
        return Err(failed(format!(
            "cannot create TPIU object because a command with name '{name}' already exists; choose another name"
        )));
    }
    let mut obj = TpiuObject::new(name);
    configure(ctx, &mut obj, &args[1..])?;
    if obj.dap.is_empty() || obj.ap_num.is_none() {
        return Err(failed(format!(
            "-dap and -ap-num required when creating TPIU, e.g. 'tpiu create {name} -dap stm32f1x.dap -ap-num 0'"
        )));
    }
    ctx.host.swo().objects.push(obj);
    Ok(())
}

/// `tpiu config …` (deprecated in OpenOCD 0.12, still sent by cortex-debug).
fn deprecated_config(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    const MSG: &str = "DEPRECATED 'tpiu config' command: ";
    let (target, idx) = ctx.host.current_target()?;
    let _ = idx;
    let first = ctx.host.swo().objects.first().map(|o| o.name.clone());
    let obj = match first {
        Some(n) => {
            tracing::info!("{MSG}Using {n}");
            n
        }
        None => {
            let dap = ctx
                .host
                .targets()
                .by_name(&target)
                .map(|t| t.dap.clone())
                .unwrap_or_default();
            let n = format!("{target}.tpiu");
            tracing::info!("{MSG}Adding a TPIU '{n}' in the configuration");
            let line = format!("tpiu create {n} -dap {dap} -ap-num 0");
            tracing::info!("{MSG}Running: '{line}'");
            ctx.run(&line)?;
            n
        }
    };
    let mut a = args.iter().map(String::as_str);
    match a.next() {
        Some("disable") if args.len() == 1 => {
            tracing::info!("{MSG}Running: '{obj} disable'");
            return ctx.run(&format!("{obj} disable"));
        }
        Some("internal") | Some("external") => {}
        _ => return Err(bad_args()),
    }
    let output = if args[0] == "internal" {
        Some(a.next().ok_or_else(bad_args)?)
    } else {
        None
    };
    let protocol = a.next().ok_or_else(bad_args)?;
    let (formatter, width) = match protocol {
        "sync" => (None, Some(a.next().ok_or_else(bad_args)?)),
        "manchester" | "uart" => (Some(a.next().ok_or_else(bad_args)?), None),
        _ => return Err(bad_args()),
    };
    let traceclk = a.next().ok_or_else(bad_args)?;
    let pin = a.next();
    if a.next().is_some() {
        return Err(bad_args());
    }
    let mut line = format!("{obj} configure -protocol {protocol} -traceclk {traceclk}");
    for (k, v) in [
        ("-pin-freq", pin),
        ("-output", output),
        ("-formatter", formatter),
        ("-port-width", width),
    ] {
        if let Some(v) = v {
            line.push_str(&format!(" {k} {}", quote(v)));
        }
    }
    tracing::info!("{MSG}Running: '{line}'");
    ctx.run(&line)?;
    tracing::info!("{MSG}Running: '{obj} enable'");
    ctx.run(&format!("{obj} enable"))
}

/// Braces a word for the command parser when it has blanks or special characters.
fn quote(s: &str) -> String {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || "{}\";\\$[]".contains(c))
    {
        format!("{{{s}}}")
    } else {
        s.to_string()
    }
}

fn itm_set(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut [u32; 8])) -> Result<(), CommandError> {
    f(&mut ctx.host.swo().itm_ter);
    if ctx.host.initialized() {
        ctx.host.itm_configure()
    } else {
        Ok(())
    }
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    for group in ["tpiu", "swo"] {
        reg.add(command(
            &format!("{group} create"),
            Mode::Any,
            "name [-dap dap] [-ap-num num] [-baseaddr baseaddr]",
            "Creates a new TPIU or SWO object",
            create,
        ));
        reg.add(command(
            &format!("{group} names"),
            Mode::Any,
            "",
            "Lists all registered TPIU and SWO objects by name",
            |ctx, args| {
                if !args.is_empty() {
                    return Err(failed("wrong # args: 'tpiu names' takes no parameters"));
                }
                let names: Vec<String> = ctx
                    .host
                    .swo()
                    .objects
                    .iter()
                    .map(|o| o.name.clone())
                    .collect();
                ctx.println(names.join(" "));
                Ok(())
            },
        ));
        reg.add(command(
            &format!("{group} init"),
            Mode::Exec,
            "",
            "Initialize TPIU and SWO",
            |ctx, args| {
                if !args.is_empty() {
                    return Err(failed("wrong # args: 'tpiu init' takes no parameters"));
                }
                ctx.host.tpiu_init(ctx)
            },
        ));
    }
    reg.add(command(
        "tpiu config",
        Mode::Any,
        "(disable | ((external | internal (<filename> | <:port> | -)) (sync <port width> | ((manchester | uart) <formatter enable>)) <TRACECLKIN freq> [<trace freq>]))",
        "Configure TPIU features, DEPRECATED, use 'tpiu create'",
        deprecated_config,
    ));
    reg.add(command(
        "itm port",
        Mode::Any,
        "<port> (0|1|on|off)",
        "Enable or disable ITM stimulus port",
        |ctx, args| {
            let [port, on] = args else {
                return Err(bad_args());
            };
            let p = parse_u32(port)?;
            if p > 255 {
                return Err(usage_error(format!(
                    "ITM port {p} does not exist: ports are 0 to 255 (32 on a Cortex-M3/M4)"
                )));
            }
            let on = parse_bool(on, "value")?;
            itm_set(ctx, |t| {
                let (w, b) = ((p / 32) as usize, p % 32);
                if on {
                    t[w] |= 1 << b;
                } else {
                    t[w] &= !(1 << b);
                }
            })
        },
    ));
    reg.add(command(
        "itm ports",
        Mode::Any,
        "(0|1|on|off)",
        "Enable or disable all ITM stimulus ports",
        |ctx, args| {
            let [on] = args else {
                return Err(bad_args());
            };
            let on = parse_bool(on, "value")?;
            itm_set(ctx, |t| *t = [if on { u32::MAX } else { 0 }; 8])
        },
    ));
}

/// `<tpiu> configure|cget|enable|disable|eventlist …` for a TPIU/SWO object name; `None` when
/// `words[0]` names none.
pub fn dispatch_object(ctx: &mut Ctx<'_>, words: &[String]) -> Option<Result<(), CommandError>> {
    let name = words.first()?;
    let obj = ctx
        .host
        .swo()
        .objects
        .iter()
        .find(|o| o.name == *name)
        .cloned()?;
    let sub = words.get(1).map(String::as_str);
    let rest = words.get(2..).unwrap_or(&[]);
    Some(match sub {
        Some("configure") => {
            if obj.enabled {
                return Some(Err(failed(format!(
                    "Cannot configure TPIU/SWO; {name} is enabled! Run '{name} disable' first"
                ))));
            }
            if rest.is_empty() {
                return Some(Err(failed(format!(
                    "wrong # args: should be \"{name} configure -option value ...\" (options {OPTIONS})"
                ))));
            }
            let mut o = obj;
            configure(ctx, &mut o, rest).map(|()| {
                if let Some(slot) = ctx.host.swo().get_mut(name) {
                    *slot = o;
                }
            })
        }
        Some("cget") => cget(&obj, rest).map(|v| ctx.println(v)),
        Some("enable") | Some("disable") if !rest.is_empty() => Err(failed(format!(
            "wrong # args: '{name} {}' takes no parameters",
            sub.unwrap_or("")
        ))),
        Some("enable") => ctx.host.tpiu_enable(ctx, name),
        Some("disable") => ctx.host.tpiu_disable(ctx, name),
        Some("eventlist") => {
            ctx.println(format!("Event actions for TPIU/SWO {name}\n"));
            ctx.println(format!("{:<25} | Body", "Event"));
            ctx.println("------------------------- | ----------------------------------------");
            for (e, b) in &obj.events {
                ctx.println(format!("{e:<25} | {b}"));
            }
            ctx.println("***END***");
            Ok(())
        }
        other => Err(failed(format!(
            "{name}: {} : use '{name} configure|cget|enable|disable|eventlist'",
            match other {
                Some(s) => format!("unknown subcommand \"{s}\""),
                None => "needs a subcommand".to_string(),
            }
        ))),
    })
}
