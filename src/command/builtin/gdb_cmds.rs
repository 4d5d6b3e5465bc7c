//! OpenOCD 0.12's GDB server commands (src/server/gdb_server.c): `gdb_sync`,
//! `gdb_breakpoint_override`, `gdb_memory_map`, `gdb_flash_program`, `gdb_report_data_abort`,
//! `gdb_report_register_access_error`, `gdb_target_description`, `gdb_save_tdesc`. They change
//! [`crate::host::gdb_settings::GdbSettings`], which the GDB sessions (`crate::gdb`) read: see
//! docs/gdb.md "OpenOCD's gdb_* commands" for what each one changes.

use crate::command::{CommandError, Ctx, Mode, Origin, Registry, bad_args, command};
use crate::host::gdb_settings::{BreakpointOverride, GdbSettings};

/// OpenOCD's `command_parse_bool_arg`: the words that mean on and off.
pub fn parse_bool(word: &str) -> Option<bool> {
    match word {
        "enable" | "on" | "true" | "yes" | "1" => Some(true),
        "disable" | "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// An `enable|disable` setting: OpenOCD's `COMMAND_PARSE_ENABLE`, whose error names the C
/// variable (`variable`) and the choices.
fn enable_command(
    reg: &mut Registry,
    name: &'static str,
    variable: &'static str,
    help: &'static str,
    set: fn(&mut GdbSettings, bool),
) {
    reg.add(command(
        name,
        Mode::Config,
        "('enable'|'disable')",
        help,
        move |ctx, args| {
            let [word] = args else {
                return Err(bad_args());
            };
            let Some(on) = parse_bool(word) else {
                return Err(CommandError::failed(format!(
                    "{variable} option value ('{word}') is not valid\n  choices are 'enable' or 'disable'"
                )));
            };
            set(&mut ctx.host.config().gdb, on);
            Ok(())
        },
    ));
}

fn override_text(o: Option<BreakpointOverride>) -> &'static str {
    match o {
        Some(BreakpointOverride::Hard) => "force hard breakpoints",
        Some(BreakpointOverride::Soft) => "force soft breakpoints",
        None => "breakpoint type is not overridden",
    }
}

fn gdb_sync(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    if !args.is_empty() {
        return Err(bad_args());
    }
    let Origin::Gdb(id) = ctx.origin else {
        return Err(CommandError::failed(
            "gdb_sync command can only be run from within gdb using \"monitor gdb_sync\"",
        ));
    };
    ctx.host.config().gdb.sync.insert(id);
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "gdb_sync",
        Mode::Any,
        "",
        "next stepi will return immediately allowing GDB to fetch register state without affecting target state",
        gdb_sync,
    ));
    reg.add(command(
        "gdb_breakpoint_override",
        Mode::Any,
        "('hard'|'soft'|'disable')",
        "Display or specify type of breakpoint to be used by gdb 'break' commands.",
        |ctx, args| {
            let new = match args {
                [] => ctx.host.config().gdb.breakpoint_override,
                [w] => {
                    let o = match w.as_str() {
                        "hard" => Some(BreakpointOverride::Hard),
                        "soft" => Some(BreakpointOverride::Soft),
                        "disable" => None,
                        _ => {
                            return Err(CommandError::failed(format!(
                                "gdb_breakpoint_override: '{w}' is not 'hard', 'soft' or 'disable'"
                            )));
                        }
                    };
                    ctx.host.config().gdb.breakpoint_override = o;
                    o
                }
                _ => return Err(bad_args()),
            };
            ctx.println(override_text(new));
            Ok(())
        },
    ));
    reg.add(command(
        "gdb_save_tdesc",
        Mode::Exec,
        "",
        "Save the target description file",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            // OpenOCD names the file after the target type: cortex_m.xml, in the current
            // directory; the content is what GDB gets (qXfer:features:read:target.xml).
            let fpu = ctx.host.with_core(|core, _| core.fpu_support())?;
            let xml = crate::host::gdb_settings::target_description_xml(fpu);
            std::fs::write("cortex_m.xml", xml).map_err(|e| {
                CommandError::failed(format!(
                    "Can't open cortex_m.xml for writing: {e}; run stdbg in a writable directory"
                ))
            })
        },
    ));
    enable_command(
        reg,
        "gdb_memory_map",
        "gdb_use_memory_map",
        "enable or disable memory map",
        |s, on| s.memory_map = on,
    );
    enable_command(
        reg,
        "gdb_flash_program",
        "gdb_flash_program",
        "enable or disable flash program",
        |s, on| s.flash_program = on,
    );
    enable_command(
        reg,
        "gdb_report_data_abort",
        "gdb_report_data_abort",
        "enable or disable reporting data aborts",
        |s, on| s.report_data_abort = on,
    );
    enable_command(
        reg,
        "gdb_report_register_access_error",
        "gdb_report_register_access_error",
        "enable or disable reporting register access errors",
        |s, on| s.report_register_access_error = on,
    );
    enable_command(
        reg,
        "gdb_target_description",
        "gdb_use_target_description",
        "enable or disable target description",
        |s, on| s.target_description = on,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_words_are_openocds() {
        assert_eq!(parse_bool("enable"), Some(true));
        assert_eq!(parse_bool("off"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(
            override_text(Some(BreakpointOverride::Hard)),
            "force hard breakpoints"
        );
    }
}
