//! The built-in commands, one file per concept. Each file has a `register` function adding its
//! commands to the registry.

pub mod adapter;
pub mod arm;
pub mod breakpoints;
pub mod dap;
pub mod doctor;
pub mod fault;
pub mod flash;
pub mod gdb_cmds;
pub mod image;
pub mod lifecycle;
pub mod memory;
pub mod openocd_compat;
pub mod program;
pub mod reg;
pub mod remote_bitbang;
pub mod rtt;
pub mod servers;
pub mod sim;
pub mod stm32f1x;
pub mod stm32h7x;
pub mod stm32l4x;
pub mod target_obj;
pub mod target_state;
pub mod tcl_rpc;
pub mod trace;

use super::{CommandError, Registry, usage_error};

/// Registers every built-in command.
pub fn register_all(reg: &mut Registry) {
    lifecycle::register(reg);
    target_state::register(reg);
    reg::register(reg);
    memory::register(reg);
    adapter::register(reg);
    dap::register(reg);
    servers::register(reg);
    sim::register(reg);
    flash::register(reg);
    program::register(reg);
    image::register(reg);
    breakpoints::register(reg);
    doctor::register(reg);
    fault::register(reg);
    rtt::register(reg);
    arm::register(reg);
    trace::register(reg); // SWO/ITM: tpiu, swo, itm
    openocd_compat::register(reg); // IDE launch files' OpenOCD commands
    target_obj::register(reg); // target names|current, <target> configure|cget
    tcl_rpc::register(reg); // tcl_port, tcl_notifications, tcl_trace, capture
    remote_bitbang::register(reg); // remote_bitbang_port (the server)
    gdb_cmds::register(reg); // OpenOCD's gdb_* commands (GDB server settings)
    for f in crate::family::all() {
        f.register_commands(reg);
    }
}

/// Parses a number the way OpenOCD's `parse_u64` does (C `strtoull` with base 0): `0x` hex,
/// leading `0` octal, else decimal; `0b` binary is accepted too.
pub fn parse_u64(s: &str) -> Result<u64, CommandError> {
    let t = s.trim();
    let r = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if let Some(b) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        u64::from_str_radix(b, 2)
    } else if t.len() > 1 && t.starts_with('0') {
        u64::from_str_radix(&t[1..], 8)
    } else {
        t.parse::<u64>()
    };
    r.map_err(|_| usage_error(format!("\"{s}\" is not a valid number")))
}

/// [`parse_u64`] limited to 32 bits.
pub fn parse_u32(s: &str) -> Result<u32, CommandError> {
    let v = parse_u64(s)?;
    u32::try_from(v).map_err(|_| usage_error(format!("\"{s}\" does not fit in 32 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_strtoul() {
        assert_eq!(parse_u64("0x08000000").unwrap(), 0x0800_0000);
        assert_eq!(parse_u64("0X1f").unwrap(), 0x1f);
        assert_eq!(parse_u64("010").unwrap(), 8);
        assert_eq!(parse_u64("0").unwrap(), 0);
        assert_eq!(parse_u64("1000").unwrap(), 1000);
        assert_eq!(parse_u64("0b101").unwrap(), 5);
        assert!(parse_u64("0x8g").is_err());
        assert!(parse_u32("0x100000000").is_err());
    }
}
