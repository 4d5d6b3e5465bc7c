//! The `stm32l4x` command group of OpenOCD 0.12 (`src/flash/nor/stm32l4x.c`), for G4 and L4
//! banks: `stm32l4x lock|unlock|mass_erase|option_read|option_write|option_load|wrp_info|otp`,
//! with its syntax and output. The register sequences are in [`crate::family::stm32l4`].
//!
//! Differences from OpenOCD 0.12: `option_write` prints its `Option written` lines after the
//! write succeeded (OpenOCD prints them first); `lock`/`unlock` say what happened
//! (`stm32l4x locked` / `stm32l4x unlocked` and that `option_load` or a power cycle is needed),
//! where OpenOCD prints nothing on success; `trustzone` (L5/U5 only) is not provided.

use super::parse_u32;
use super::stm32f1x::{chip_line, driver_bank, print_option_register, require_halted, run};
use crate::command::{CommandError, Ctx, Mode, Registry, command};
use crate::family::stm32l4::OTP_BASE;
use crate::family::{Driver, stm32l4};
use crate::host::FlashBank;
use crate::host::target::TargetState;

fn is_otp(bank: &FlashBank) -> bool {
    bank.base == OTP_BASE
}

fn usage(name: &str, usage: &str) -> CommandError {
    CommandError::failed(format!("usage: stm32l4x {name} {usage}"))
}

fn not_otp(bank: &FlashBank, what: &str) -> Result<(), CommandError> {
    if is_otp(bank) {
        return Err(CommandError::failed(format!(
            "{}: {what}; name the main flash bank ('flash banks' lists them)",
            bank.name
        )));
    }
    Ok(())
}

fn lock_rdp(ctx: &mut Ctx<'_>, args: &[String], lock: bool) -> Result<(), CommandError> {
    let name = if lock { "lock" } else { "unlock" };
    let [b] = args else {
        return Err(usage(name, "bank_id"));
    };
    let (i, bank) = driver_bank(ctx, b, Driver::Stm32l4x)?;
    not_otp(&bank, "cannot lock/unlock OTP memory")?;
    require_halted(ctx, &bank)?;
    chip_line(ctx, Driver::Stm32l4x)?;
    // OpenOCD's RDP_LEVEL_1 (0x00) / RDP_LEVEL_0 (0xAA) into OPTR[7:0].
    let rdp = if lock { 0x00 } else { 0xAA };
    if run(ctx, |core| {
        stm32l4::write_option(core, stm32l4::OPTR, rdp, 0xFF)
    })
    .is_err()
    {
        ctx.println(format!("stm32l4x failed to {name} device"));
        return Ok(());
    }
    ctx.println(format!("stm32l4x {name}ed"));
    ctx.println(format!(
        "INFO: 'stm32l4x option_load {i}' or a power cycle is required for the new settings to take effect.{}",
        if lock {
            ""
        } else {
            " Leaving level 1 mass-erases the flash."
        }
    ));
    Ok(())
}

/// `stm32l4x lock bank_id`: OPTR.RDP = 0x00 (level 1).
pub fn lock(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    lock_rdp(ctx, args, true)
}

/// `stm32l4x unlock bank_id`: OPTR.RDP = 0xAA (level 0); the option load mass-erases.
pub fn unlock(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    lock_rdp(ctx, args, false)
}

/// `stm32l4x mass_erase bank_id`: MER1 (| MER2 on dual-bank parts).
pub fn mass_erase(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let [b] = args else {
        ctx.println("stm32l4x mass_erase <STM32L4 bank>");
        return Err(usage("mass_erase", "bank_id"));
    };
    let (_, bank) = driver_bank(ctx, b, Driver::Stm32l4x)?;
    not_otp(&bank, "cannot erase OTP memory")?;
    require_halted(ctx, &bank)?;
    let line = chip_line(ctx, Driver::Stm32l4x)?;
    match run(ctx, |core| stm32l4::mass_erase(core, line.dual_bank)) {
        Ok(()) => {
            ctx.println("stm32l4x mass erase complete");
            Ok(())
        }
        Err(e) => {
            ctx.println("stm32l4x mass erase failed");
            Err(e)
        }
    }
}

/// `stm32l4x option_read bank_id reg_offset`: `Option Register: <0x40022020> = 0xffeff8aa`.
pub fn option_read(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let [b, off] = args else {
        ctx.println("stm32l4x option_read <STM32L4 bank> <option_reg offset>");
        return Err(usage("option_read", "bank_id reg_offset"));
    };
    driver_bank(ctx, b, Driver::Stm32l4x)?;
    let off = parse_u32(off)?;
    print_option_register(ctx, stm32l4::reg(off))
}

/// `stm32l4x option_write bank_id reg_offset value [mask]`.
pub fn option_write(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (b, off, value, mask) = match args {
        [b, o, v] => (b, o, v, None),
        [b, o, v, m] => (b, o, v, Some(m)),
        _ => {
            ctx.println("stm32l4x option_write <STM32L4 bank> <option_reg offset> <value> [mask]");
            return Err(usage("option_write", "bank_id reg_offset value [mask]"));
        }
    };
    let (_, bank) = driver_bank(ctx, b, Driver::Stm32l4x)?;
    require_halted(ctx, &bank)?;
    let off = parse_u32(off)?;
    let value = parse_u32(value)?;
    let mask = match mask {
        Some(m) => parse_u32(m)?,
        None => 0xFFFF_FFFF,
    };
    run(ctx, |core| stm32l4::write_option(core, off, value, mask))?;
    if off == stm32l4::OPTR && mask & 0xFF == 0xFF && value & 0xFF == stm32l4::RDP_LEVEL2 {
        tracing::warn!(
            "FLASH_OPTR.RDP = 0xCC is read-out protection level 2: once loaded ('stm32l4x option_load' or a power cycle) it is permanent, the chip switches its debug port off for good and nothing can undo it over SWD"
        );
    }
    ctx.println("stm32l4x Option written.");
    ctx.println("INFO: a reset or power cycle is required for the new settings to take effect.");
    Ok(())
}

/// `stm32l4x option_load bank_id`: FLASH_CR.OBL_LAUNCH, a system reset that loads the option
/// bytes.
pub fn option_load(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let [b] = args else {
        return Err(usage("option_load", "bank_id"));
    };
    let (_, bank) = driver_bank(ctx, b, Driver::Stm32l4x)?;
    // FLASH_OPTR holds what OPTSTRT programmed, i.e. what OBL_LAUNCH is about to load.
    let optr = ctx
        .host
        .with_core(|core, _| {
            use probe_rs::MemoryInterface;
            core.read_word_32(stm32l4::reg(stm32l4::OPTR))
        })
        .ok();
    let launched = run(ctx, |core| stm32l4::obl_launch(core));
    if let Some(v) = optr.filter(|v| v & 0xFF == stm32l4::RDP_LEVEL2) {
        ctx.println("stm32l4x option load failed");
        return Err(CommandError::failed(format!(
            "the option bytes were loaded with read-out protection level 2 (FLASH_OPTR = {v:#010x}, RDP = 0xcc): the chip switched its debug port off for good at the reload, so the debug link is gone. Level 2 is permanent: nothing can be done over SWD (no unlock, no erase); only the firmware on the chip can still change its own flash"
        )));
    }
    if let Err(e) = launched {
        ctx.println("stm32l4x option load failed");
        return Err(e);
    }
    // The chip reset itself; banks must be probed again (the geometry may have changed).
    ctx.host.set_state(&bank.target, TargetState::Running);
    {
        let mut t = ctx.host.targets();
        for bk in t.banks.iter_mut() {
            bk.probed_size = None;
            bk.sector_size = None;
        }
    }
    ctx.println("stm32l4x option load completed. Power-on reset might be required");
    Ok(())
}

/// `stm32l4x wrp_info bank_id [bank1|bank2]`: `protected areas: 0-3, 256-257` or
/// `no protected areas`.
pub fn wrp_info(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (b, which) = match args {
        [b] => (b, None),
        [b, w] => (b, Some(w.as_str())),
        _ => return Err(usage("wrp_info", "bank_id [bank1|bank2]")),
    };
    let (i, bank) = driver_bank(ctx, b, Driver::Stm32l4x)?;
    not_otp(&bank, "OTP memory does not have write protection areas")?;
    let line = chip_line(ctx, Driver::Stm32l4x)?;
    let probed = crate::flashing::ensure_probed(ctx.host, i)?;
    let page = probed.sector_size.unwrap_or(line.page_size).max(1);
    let pages = u64::from(probed.effective_size() / page);
    let regs = ctx.host.with_core(|core, _| {
        use probe_rs::MemoryInterface;
        let mut rd = |a: u64| core.read_word_32(a).ok();
        let optr = rd(stm32l4::reg(stm32l4::OPTR)).unwrap_or(0);
        let kib = (pages * u64::from(page) / 1024) as u32;
        let dual = stm32l4::dual_bank_mode(line, optr, kib);
        Ok((stm32l4::wrp_regs(line, optr, pages, &mut rd), dual))
    })?;
    let (Some(all), dual) = regs else {
        return Err(CommandError::failed(
            "the FLASH_WRPxyR registers could not be read",
        ));
    };
    let regs: Vec<stm32l4::WrpReg> = match which {
        None => all,
        Some("bank1") => all
            .into_iter()
            .filter(|r| r.name.starts_with("FLASH_WRP1"))
            .collect(),
        Some("bank2") => {
            if !line.dual_bank {
                return Err(CommandError::failed("this device has no second bank"));
            }
            if !dual {
                return Err(CommandError::failed(
                    "this device is configured in single bank mode",
                ));
            }
            all.into_iter()
                .filter(|r| r.name.starts_with("FLASH_WRP2"))
                .collect()
        }
        Some(other) => {
            return Err(usage(
                "wrp_info",
                &format!("bank_id [bank1|bank2] ('{other}' is neither)"),
            ));
        }
    };
    match stm32l4::ranges_text(&regs, pages) {
        Some(r) => ctx.println(format!("protected areas: {r}")),
        None => ctx.println("no protected areas"),
    }
    Ok(())
}

/// `stm32l4x otp bank_id enable|disable|show`: allows writes to the OTP bank (a host-side switch,
/// as in OpenOCD).
pub fn otp(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let [b, what] = args else {
        return Err(usage("otp", "<bank_id> <enable|disable|show>"));
    };
    let (i, bank) = driver_bank(ctx, b, Driver::Stm32l4x)?;
    if !is_otp(&bank) {
        ctx.println("the specified bank is not an OTP memory");
        return Err(CommandError::failed(format!(
            "flash bank #{i} ({}) is not the OTP bank (at 0x{OTP_BASE:08x})",
            bank.name
        )));
    }
    match what.as_str() {
        "enable" => stm32l4::otp::set_enabled(&bank.name, true),
        "disable" => stm32l4::otp::set_enabled(&bank.name, false),
        "show" => ctx.println(format!(
            "OTP memory bank #{i} is {} for write commands.",
            if stm32l4::otp::enabled(&bank.name) {
                "enabled"
            } else {
                "disabled"
            }
        )),
        _ => return Err(usage("otp", "<bank_id> <enable|disable|show>")),
    }
    Ok(())
}

/// Registers the group.
pub fn register(reg: &mut Registry) {
    type H = fn(&mut Ctx<'_>, &[String]) -> Result<(), CommandError>;
    let cmds: [(&str, &str, &str, H); 8] = [
        (
            "lock",
            "bank_id",
            "Lock entire flash device (RDP level 1: OPTR.RDP = 0x00).",
            lock,
        ),
        (
            "unlock",
            "bank_id",
            "Unlock entire protected flash device (RDP level 0; the option load mass-erases).",
            unlock,
        ),
        (
            "mass_erase",
            "bank_id",
            "Erase entire flash device.",
            mass_erase,
        ),
        (
            "option_read",
            "bank_id reg_offset",
            "Read & display device option bytes.",
            option_read,
        ),
        (
            "option_write",
            "bank_id reg_offset value [mask]",
            "Write device option bit fields with provided value.",
            option_write,
        ),
        (
            "option_load",
            "bank_id",
            "Force re-load of device options (will cause device reset).",
            option_load,
        ),
        (
            "wrp_info",
            "bank_id [bank1|bank2]",
            "list the protected areas using WRP.",
            wrp_info,
        ),
        (
            "otp",
            "<bank_id> <enable|disable|show>",
            "OTP (One Time Programmable) memory write enable/disable.",
            otp,
        ),
    ];
    for (name, usage, help, f) in cmds {
        reg.add(command(
            &format!("stm32l4x {name}"),
            Mode::Exec,
            usage,
            help,
            f,
        ));
    }
}
