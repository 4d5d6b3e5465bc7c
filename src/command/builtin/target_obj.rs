//! OpenOCD's target object commands for consoles and Tcl files: `target names`,
//! `target current`, `<target> configure -option value …`, `<target> cget -option`.

use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command};

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "target names",
        Mode::Any,
        "",
        "The targets' names, as a Tcl list (one line, separated by spaces).",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            let names: Vec<String> = ctx
                .host
                .targets()
                .list
                .iter()
                .map(|t| t.name.clone())
                .collect();
            ctx.println(names.join(" "));
            Ok(())
        },
    ));
    reg.add(command(
        "target current",
        Mode::Any,
        "",
        "The current target's name (empty before a target is created).",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            let name = {
                let t = ctx.host.targets();
                t.current().map(|d| d.name.clone()).unwrap_or_default()
            };
            ctx.println(name);
            Ok(())
        },
    ));
}

/// `<target> configure …` and `<target> cget -option` (`words[0]` is `configure` or `cget`).
/// `-rtos` is accepted with a warning: stdbg shows the core as one thread.
pub fn configure_or_cget(
    ctx: &mut Ctx<'_>,
    target: &str,
    words: &[String],
) -> Result<(), CommandError> {
    let weak = ctx.host.downgrade();
    match words[0].as_str() {
        "cget" => {
            let [_, key] = words else {
                return Err(CommandError::failed(format!(
                    "wrong # args: should be \"{target} cget -option\""
                )));
            };
            if key == "-rtos" {
                ctx.println("none");
                return Ok(());
            }
            let v = crate::script::objects::cget_word(&weak, target, key)
                .map_err(CommandError::Failed)?;
            ctx.println(v);
            Ok(())
        }
        _ => {
            let mut rest: Vec<String> = Vec::new();
            let mut i = 1;
            while i < words.len() {
                if words[i] == "-rtos" {
                    let r = words.get(i + 1).cloned().unwrap_or_default();
                    if r != "none" {
                        tracing::warn!(
                            "{target}: -rtos {r} is ignored: stdbg has no RTOS awareness yet, so GDB sees the core as one thread"
                        );
                    }
                    i += 2;
                    continue;
                }
                rest.push(words[i].clone());
                i += 1;
            }
            crate::script::objects::configure_words(&weak, target, &rest)
                .map_err(CommandError::Failed)
        }
    }
}
