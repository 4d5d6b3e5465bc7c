//! The `stm32f1x` command group of OpenOCD 0.12 (`src/flash/nor/stm32f1x.c`), for F1 and F3 banks:
//! `stm32f1x lock|unlock|mass_erase|options_read|options_write|options_load <bank>`, with its
//! syntax and output. The register sequences are in [`crate::family::stm32f1`].
//!
//! Differences from OpenOCD 0.12: `options_load` on an F1 (no OBL_LAUNCH) reloads the option
//! bytes with a `reset halt` instead of failing with "Command not applicable"; the option bytes
//! written back are read from the option-byte block itself (so a change not yet loaded by a reset
//! is kept), not only from FLASH_OBR; `options_write` refuses a read-protected chip instead of
//! silently removing the protection (and mass-erasing the flash).

use crate::command::{CommandError, Ctx, Mode, Registry, command};
use crate::family::{self, Driver, Line, stm32f1};
use crate::host::FlashBank;
use crate::host::target::TargetState;

/// `options_write`'s usage (OpenOCD's, single-bank parts).
pub const OPTIONS_WRITE_USAGE: &str = "bank_id ('SWWDG'|'HWWDG') ('RSTSTNDBY'|'NORSTSTNDBY') ('RSTSTOP'|'NORSTSTOP') ('USEROPT' user_data)";

/// The bank a command names, which must have an `stm32f1x` (or `stm32l4x`, for that group)
/// driver; with its index.
pub fn driver_bank(
    ctx: &Ctx<'_>,
    word: &str,
    driver: Driver,
) -> Result<(usize, FlashBank), CommandError> {
    let i = crate::flashing::bank_index(ctx.host, word)?;
    let b = crate::flashing::bank(ctx.host, i)?;
    if family::of_bank(&b).map(|f| f.driver()) != Some(driver) {
        return Err(CommandError::failed(format!(
            "flash bank #{i} ({}) has driver '{}': the {} commands work on {} banks only",
            b.name,
            b.driver,
            driver.name(),
            driver.name()
        )));
    }
    Ok((i, b))
}

/// OpenOCD's `Target not halted`, with the state and what to do.
pub fn require_halted(ctx: &Ctx<'_>, bank: &FlashBank) -> Result<(), CommandError> {
    let state = ctx
        .host
        .targets()
        .by_name(&bank.target)
        .map(|t| t.state)
        .unwrap_or(TargetState::Unknown);
    if state != TargetState::Halted {
        return Err(CommandError::failed(format!(
            "Target not halted: {} is {}; halt it first ('halt' or 'reset halt'), so that no firmware uses the flash controller while the option bytes change",
            bank.target,
            state.as_str()
        )));
    }
    Ok(())
}

/// The line of the connected chip (DBGMCU_IDCODE), which must be one the driver serves.
pub fn chip_line(ctx: &Ctx<'_>, driver: Driver) -> Result<&'static Line, CommandError> {
    let idcode = family::read_idcode_host(ctx.host)?;
    family::line((idcode & 0xFFF) as u16)
        .filter(|l| l.driver == Some(driver))
        .ok_or_else(|| {
            CommandError::failed(format!(
                "DBGMCU_IDCODE 0x{idcode:08x} is not a chip the {} driver serves ({}): the target script does not match the chip",
                driver.name(),
                driver.family().map(|f| f.chips()).unwrap_or("")
            ))
        })
}

fn usage(name: &str, usage: &str) -> CommandError {
    CommandError::failed(format!("usage: stm32f1x {name} {usage}"))
}

fn one_bank<'a>(args: &'a [String], name: &str) -> Result<&'a str, CommandError> {
    match args {
        [b] => Ok(b),
        _ => Err(usage(name, "bank_id")),
    }
}

/// Runs a family register sequence on the current core; its error text is the command's
/// (shared by the `stm32f1x`, `stm32l4x` and `stm32h7x` groups).
pub fn run<R>(
    ctx: &Ctx<'_>,
    f: impl FnOnce(&mut probe_rs::Core<'_>) -> Result<R, probe_rs::Error>,
) -> Result<R, CommandError> {
    ctx.host.with_core(|core, _| f(core)).map_err(|e| {
        // Our own messages arrive wrapped by with_core; keep them readable.
        CommandError::failed(e.to_string())
    })
}

/// OpenOCD's `option_read` line for the register at `addr`: `Option Register: <0x40022020> =
/// 0xffeff8aa` (`stm32l4x`, `stm32h7x`).
pub fn print_option_register(ctx: &mut Ctx<'_>, addr: u64) -> Result<(), CommandError> {
    let v = ctx.host.with_core(|core, _| {
        use probe_rs::MemoryInterface;
        core.read_word_32(addr)
    })?;
    ctx.println(format!("Option Register: <0x{addr:x}> = 0x{v:x}"));
    Ok(())
}

/// `stm32f1x lock bank_id`: RDP byte 0x00 (level 1), the other option bytes kept.
pub fn lock(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (_, bank) = driver_bank(ctx, one_bank(args, "lock")?, Driver::Stm32f1x)?;
    require_halted(ctx, &bank)?;
    let v = stm32f1::variant(chip_line(ctx, Driver::Stm32f1x)?);
    run(ctx, |core| {
        let mut opts = stm32f1::current_options(core, &v)?;
        opts[0] = 0x00;
        stm32f1::rewrite_options(core, &opts)
    })?;
    ctx.println("stm32x locked");
    Ok(())
}

/// `stm32f1x unlock bank_id`: RDP byte back to level 0 (0xA5 F1, 0xAA F3); at the next reset the
/// chip mass-erases its flash if it was protected.
pub fn unlock(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (_, bank) = driver_bank(ctx, one_bank(args, "unlock")?, Driver::Stm32f1x)?;
    require_halted(ctx, &bank)?;
    let v = stm32f1::variant(chip_line(ctx, Driver::Stm32f1x)?);
    run(ctx, |core| {
        let mut opts = stm32f1::current_options(core, &v)?;
        opts[0] = v.default_rdp;
        stm32f1::rewrite_options(core, &opts)
    })?;
    ctx.println("stm32x unlocked.");
    ctx.println("INFO: a reset or power cycle is required for the new settings to take effect.");
    Ok(())
}

/// `stm32f1x mass_erase bank_id`: FLASH_CR.MER.
pub fn mass_erase(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (_, bank) = driver_bank(ctx, one_bank(args, "mass_erase")?, Driver::Stm32f1x)?;
    require_halted(ctx, &bank)?;
    match run(ctx, stm32f1::mass_erase) {
        Ok(()) => {
            ctx.println("stm32x mass erase complete");
            Ok(())
        }
        Err(e) => {
            ctx.println("stm32x mass erase failed");
            Err(e)
        }
    }
}

/// `stm32f1x options_read bank_id`: FLASH_OBR and FLASH_WRPR decoded as OpenOCD prints them.
pub fn options_read(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (_, bank) = driver_bank(ctx, one_bank(args, "options_read")?, Driver::Stm32f1x)?;
    require_halted(ctx, &bank)?;
    let line = chip_line(ctx, Driver::Stm32f1x)?;
    let v = stm32f1::variant(line);
    let (obr, wrpr) = ctx.host.with_core(|core, _| {
        use probe_rs::MemoryInterface;
        Ok((
            core.read_word_32(stm32f1::FLASH_OBR)?,
            core.read_word_32(stm32f1::FLASH_WRPR)?,
        ))
    })?;
    for l in options_read_lines(&v, line.dual_bank, obr, wrpr) {
        ctx.println(l);
    }
    Ok(())
}

/// The lines of `options_read` (OpenOCD `stm32x_handle_options_read_command`).
pub fn options_read_lines(v: &stm32f1::Variant, dual: bool, obr: u32, wrpr: u32) -> Vec<String> {
    let mut out = Vec::new();
    if obr & stm32f1::OBR_OPTERR != 0 {
        out.push("option byte complement error".to_string());
    }
    out.push(format!("option byte register = 0x{obr:x}"));
    out.push(format!("write protection register = 0x{wrpr:x}"));
    let on = if obr & stm32f1::OBR_RDPRT != 0 {
        "on"
    } else {
        "off"
    };
    out.push(format!("read protection: {on}"));
    // OpenOCD: optionbyte >>= option_offset (F3: 6), then bits 2, 3, 4.
    let user = obr >> (v.user_shift - 2);
    out.push(format!(
        "watchdog: {}ware",
        if user & (1 << 2) != 0 { "soft" } else { "hard" }
    ));
    out.push(format!(
        "stop mode: {}reset generated upon entry",
        if user & (1 << 3) != 0 { "no " } else { "" }
    ));
    out.push(format!(
        "standby mode: {}reset generated upon entry",
        if user & (1 << 4) != 0 { "no " } else { "" }
    ));
    if dual {
        out.push(format!(
            "boot: bank {}",
            if user & (1 << 5) != 0 { 0 } else { 1 }
        ));
    }
    out.push(format!(
        "user data = 0x{:02x}",
        (obr >> v.data_shift) as u16
    ));
    out
}

/// `stm32f1x options_write bank_id …`: changes the named USER bits and the user data, keeps the
/// rest.
pub fn options_write(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let Some((b, words)) = args.split_first().filter(|(_, w)| !w.is_empty()) else {
        return Err(usage("options_write", OPTIONS_WRITE_USAGE));
    };
    let (i, bank) = driver_bank(ctx, b, Driver::Stm32f1x)?;
    require_halted(ctx, &bank)?;
    let line = chip_line(ctx, Driver::Stm32f1x)?;
    let v = stm32f1::variant(line);
    let edits = parse_options_write(words, line.dual_bank)?;
    run(ctx, |core| {
        use probe_rs::MemoryInterface;
        if core.read_word_32(stm32f1::FLASH_OBR)? & stm32f1::OBR_RDPRT != 0 {
            return Err(probe_rs::Error::Other(format!(
                "read protection is on (FLASH_OBR.RDPRT = 1): rewriting the option bytes starts with erasing them, which removes read protection and mass-erases the whole flash; run 'stm32f1x unlock {i}' and a reset first if that is what you want"
            )));
        }
        let mut opts = stm32f1::current_options(core, &v)?;
        let (user, data) = edits.apply(opts[1], u16::from(opts[2]) | u16::from(opts[3]) << 8);
        opts[1] = user;
        opts[2] = data as u8;
        opts[3] = (data >> 8) as u8;
        stm32f1::rewrite_options(core, &opts)
    })?;
    ctx.println("stm32x write options complete.");
    ctx.println(format!(
        "INFO: {}power cycle is required for the new settings to take effect.",
        if v.can_load_options {
            "'stm32f1x options_load' command or "
        } else {
            ""
        }
    ));
    Ok(())
}

/// The edits of an `options_write` line: bits to set and clear in USER, new user data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionEdits {
    /// USER bits to set.
    pub set: u8,
    /// USER bits to clear.
    pub clear: u8,
    /// New Data0/Data1.
    pub data: Option<u16>,
}

impl OptionEdits {
    /// The new USER byte and user data.
    pub fn apply(&self, user: u8, data: u16) -> (u8, u16) {
        ((user | self.set) & !self.clear, self.data.unwrap_or(data))
    }
}

/// Parses the words after the bank: `SWWDG HWWDG NORSTSTOP RSTSTOP NORSTSTNDBY RSTSTNDBY
/// USEROPT <n>` (and `BOOT0`/`BOOT1` on dual-bank parts), in order, later words winning.
pub fn parse_options_write(words: &[String], dual: bool) -> Result<OptionEdits, CommandError> {
    let mut e = OptionEdits::default();
    let bit = |e: &mut OptionEdits, b: u8, on: bool| {
        if on {
            e.set |= b;
            e.clear &= !b;
        } else {
            e.clear |= b;
            e.set &= !b;
        }
    };
    let mut it = words.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "SWWDG" => bit(&mut e, 1, true),
            "HWWDG" => bit(&mut e, 1, false),
            "NORSTSTOP" => bit(&mut e, 2, true),
            "RSTSTOP" => bit(&mut e, 2, false),
            "NORSTSTNDBY" => bit(&mut e, 4, true),
            "RSTSTNDBY" => bit(&mut e, 4, false),
            "BOOT0" if dual => bit(&mut e, 8, true),
            "BOOT1" if dual => bit(&mut e, 8, false),
            "USEROPT" => {
                let Some(n) = it.next() else {
                    return Err(CommandError::failed(format!(
                        "USEROPT needs a value (0 to 0xffff)\nusage: stm32f1x options_write {OPTIONS_WRITE_USAGE}"
                    )));
                };
                let v = super::parse_u64(n)
                    .ok()
                    .and_then(|v| u16::try_from(v).ok())
                    .ok_or_else(|| {
                        CommandError::failed(format!(
                            "user data '{n}' is not a number from 0 to 0xffff"
                        ))
                    })?;
                e.data = Some(v);
            }
            other => {
                return Err(CommandError::failed(format!(
                    "unknown option '{other}'\nusage: stm32f1x options_write {OPTIONS_WRITE_USAGE}"
                )));
            }
        }
    }
    Ok(e)
}

/// `stm32f1x options_load bank_id`: F3: FLASH_CR.OBL_LAUNCH (a system reset that reloads the
/// option bytes); F1 has no such bit, so stdbg resets the chip (`reset halt`), which loads them.
pub fn options_load(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (_, bank) = driver_bank(ctx, one_bank(args, "options_load")?, Driver::Stm32f1x)?;
    let v = stm32f1::variant(chip_line(ctx, Driver::Stm32f1x)?);
    if !v.can_load_options {
        ctx.run("reset halt")?;
        ctx.println(
            "the STM32F1 has no OBL_LAUNCH bit: option bytes reloaded by a system reset (reset halt)",
        );
        return Ok(());
    }
    require_halted(ctx, &bank)?;
    run(ctx, stm32f1::obl_launch)?;
    // The chip reset itself and runs the firmware (OpenOCD prints nothing here).
    ctx.host.set_state(&bank.target, TargetState::Running);
    Ok(())
}

/// Registers the group.
pub fn register(reg: &mut Registry) {
    for (name, usage, help, f) in [
        (
            "stm32f1x lock",
            "bank_id",
            "Lock the entire flash device (read-out protection level 1).",
            lock as fn(&mut Ctx<'_>, &[String]) -> Result<(), CommandError>,
        ),
        (
            "stm32f1x unlock",
            "bank_id",
            "Unlock the entire flash device (removes read-out protection; the chip mass-erases its flash).",
            unlock,
        ),
        (
            "stm32f1x mass_erase",
            "bank_id",
            "Erase the entire flash device.",
            mass_erase,
        ),
        (
            "stm32f1x options_read",
            "bank_id",
            "Read and display the device option bytes.",
            options_read,
        ),
        (
            "stm32f1x options_write",
            OPTIONS_WRITE_USAGE,
            "Replace bits in the device option bytes (the others are kept).",
            options_write,
        ),
        (
            "stm32f1x options_load",
            "bank_id",
            "Force re-load of device option bytes (F3: OBL_LAUNCH; F1: a system reset).",
            options_load,
        ),
    ] {
        reg.add(command(name, Mode::Exec, usage, help, f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_read_lines_f1_and_f3() {
        let l = options_read_lines(&stm32f1::F1, false, 0x3ff_fffc, 0xffff_ffff);
        assert_eq!(
            l,
            [
                "option byte register = 0x3fffffc",
                "write protection register = 0xffffffff",
                "read protection: off",
                "watchdog: software",
                "stop mode: no reset generated upon entry",
                "standby mode: no reset generated upon entry",
                "user data = 0xffff",
            ]
        );
        // F3: USER at bit 8 (WDG_SW), data at 16.
        let l = options_read_lines(&stm32f1::F3, false, 0x1234_7600, 0xffff_ffff);
        assert_eq!(l[3], "watchdog: hardware");
        assert_eq!(l[4], "stop mode: no reset generated upon entry");
        assert_eq!(l[5], "standby mode: no reset generated upon entry");
        assert_eq!(l[6], "user data = 0x1234");
        let l = options_read_lines(&stm32f1::F3, false, 0x0000_0102, 0);
        assert_eq!(l[2], "read protection: on");
        assert_eq!(l[3], "watchdog: software");
    }

    #[test]
    fn options_write_words() {
        let e = parse_options_write(&w("HWWDG RSTSTOP USEROPT 0x1234"), false).unwrap();
        assert_eq!(e.apply(0xFF, 0xFFFF), (0xFC, 0x1234));
        let e = parse_options_write(&w("SWWDG"), false).unwrap();
        assert_eq!(e.apply(0xFC, 0x1234), (0xFD, 0x1234));
        let err = parse_options_write(&w("SWWDG FOO"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option 'FOO'"), "{err}");
        assert!(err.contains("usage: stm32f1x options_write bank_id ('SWWDG'|'HWWDG')"));
        assert!(parse_options_write(&w("USEROPT"), false).is_err());
        assert!(parse_options_write(&w("USEROPT 0x10000"), false).is_err());
        assert!(parse_options_write(&w("BOOT0"), false).is_err());
        assert_eq!(parse_options_write(&w("BOOT1"), true).unwrap().clear, 8);
    }
}
