//! The `stm32h7x` command group of OpenOCD 0.12 (`src/flash/nor/stm32h7x.c`), for STM32H7 banks:
//! `stm32h7x lock|unlock|mass_erase|option_read|option_write`, with its syntax and output. The
//! register sequences are in [`crate::family::stm32h7::options`].
//!
//! Differences from OpenOCD 0.12: `lock`/`unlock` say when nothing changed and that `unlock`
//! mass-erases both banks; writing RDP level 2 (0xCC) through `option_write` warns that it is
//! permanent and names the link loss that follows.

use super::parse_u32;
use super::stm32f1x::{chip_line, driver_bank, print_option_register, require_halted, run};
use crate::command::{CommandError, Ctx, Mode, Registry, command};
use crate::family::Driver;
use crate::family::stm32h7::options::{self, RdpChange};
use crate::family::stm32h7::{OPTSR_PRG, regs_of};

fn usage(name: &str, usage: &str) -> CommandError {
    CommandError::failed(format!("usage: stm32h7x {name} {usage}"))
}

fn lock_rdp(ctx: &mut Ctx<'_>, args: &[String], lock: bool) -> Result<(), CommandError> {
    let name = if lock { "lock" } else { "unlock" };
    let [b] = args else {
        return Err(usage(name, "bank_id"));
    };
    let (_, bank) = driver_bank(ctx, b, Driver::Stm32h7x)?;
    require_halted(ctx, &bank)?;
    chip_line(ctx, Driver::Stm32h7x)?;
    let rdp = if lock {
        options::RDP_L1
    } else {
        options::RDP_L0
    };
    // OpenOCD warns before the change.
    let prg = run(ctx, |core| {
        use probe_rs::MemoryInterface;
        core.read_word_32(regs_of(bank.base) + u64::from(OPTSR_PRG))
    })?;
    if (prg >> 8) & 0xFF != rdp {
        if lock {
            tracing::warn!("locking the entire flash device");
        } else {
            tracing::warn!(
                "unlocking the entire flash device: the chip mass-erases both banks as it leaves read-out protection level 1"
            );
        }
    }
    match run(ctx, |core| options::set_rdp(core, bank.base, rdp)) {
        Ok(RdpChange::Unchanged) => {
            tracing::info!("the requested RDP value is already programmed");
            ctx.println(format!("stm32h7x {name}ed"));
            Ok(())
        }
        Ok(RdpChange::Changed) => {
            ctx.println(format!("stm32h7x {name}ed"));
            Ok(())
        }
        Err(e) => {
            ctx.println(format!("stm32h7x failed to {name} device"));
            Err(e)
        }
    }
}

/// `stm32h7x lock bank_id`: OPTSR_PRG.RDP = 0x00 (level 1) and OPTSTART.
pub fn lock(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    lock_rdp(ctx, args, true)
}

/// `stm32h7x unlock bank_id`: OPTSR_PRG.RDP = 0xAA (level 0) and OPTSTART; the chip
/// mass-erases both banks.
pub fn unlock(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    lock_rdp(ctx, args, false)
}

/// `stm32h7x mass_erase bank_id`: the bank erase (BER) of that bank.
pub fn mass_erase(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let [b] = args else {
        ctx.println("stm32h7x mass_erase <bank>");
        return Err(usage("mass_erase", "bank_id"));
    };
    let (_, bank) = driver_bank(ctx, b, Driver::Stm32h7x)?;
    require_halted(ctx, &bank)?;
    match run(ctx, |core| options::mass_erase(core, bank.base)) {
        Ok(()) => {
            ctx.println("stm32h7x mass erase complete");
            Ok(())
        }
        Err(e) => {
            ctx.println("stm32h7x mass erase failed");
            Err(e)
        }
    }
}

/// `stm32h7x option_read bank_id reg_offset`: `Option Register: <0x5200201c> = 0x…` (the offset
/// from the bank's register base).
pub fn option_read(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let [b, off] = args else {
        ctx.println("stm32h7x option_read <bank> <option_reg offset>");
        return Err(usage("option_read", "bank_id reg_offset"));
    };
    let (_, bank) = driver_bank(ctx, b, Driver::Stm32h7x)?;
    print_option_register(ctx, regs_of(bank.base) + u64::from(parse_u32(off)?))
}

/// `stm32h7x option_write bank_id reg_offset value [mask]`: read-modify-write of the option
/// register and OPTSTART (in force when it returns).
pub fn option_write(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let (b, off, value, mask) = match args {
        [b, o, v] => (b, o, v, None),
        [b, o, v, m] => (b, o, v, Some(m)),
        _ => {
            ctx.println("stm32h7x option_write <bank> <option_reg offset> <value> [mask]");
            return Err(usage("option_write", "bank_id reg_offset value [mask]"));
        }
    };
    let (_, bank) = driver_bank(ctx, b, Driver::Stm32h7x)?;
    require_halted(ctx, &bank)?;
    let off = parse_u32(off)?;
    let value = parse_u32(value)?;
    let mask = match mask {
        Some(m) => parse_u32(m)?,
        None => 0xFFFF_FFFF,
    };
    let level2 =
        off == OPTSR_PRG && mask & 0xFF00 == 0xFF00 && (value >> 8) & 0xFF == options::RDP_L2;
    if level2 {
        tracing::warn!(
            "FLASH_OPTSR_PRG.RDP = 0xCC is read-out protection level 2: it is permanent once the option change ends, the chip switches its debug port off for good and nothing can undo it over SWD"
        );
    }
    run(ctx, |core| {
        options::modify_option(core, bank.base, off, value, mask)
    })
    .map_err(|e| {
        if !level2 {
            return e;
        }
        // The SW-DP stops answering when the change to level 2 ends (RM0433 §4.5.3).
        CommandError::failed(format!(
            "the option change to read-out protection level 2 (FLASH_OPTSR_PRG.RDP = 0xCC) ended and the chip switched its debug port off for good, so the debug link is gone. Level 2 is permanent: nothing can be done over SWD (no unlock, no erase); only the firmware on the chip can still change its own flash\n  detail: {e}"
        ))
    })
}

/// A command's function.
type Handler = fn(&mut Ctx<'_>, &[String]) -> Result<(), CommandError>;

/// Registers the group.
pub fn register(reg: &mut Registry) {
    let cmds: [(&str, &str, &str, Handler); 5] = [
        ("lock", "bank_id", "Lock entire flash device.", lock),
        (
            "unlock",
            "bank_id",
            "Unlock entire protected flash device.",
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
            "Read and display device option bytes.",
            option_read,
        ),
        (
            "option_write",
            "bank_id reg_offset value [mask]",
            "Write device option bit fields with provided value.",
            option_write,
        ),
    ];
    for (name, usage, help, f) in cmds {
        reg.add(command(
            &format!("stm32h7x {name}"),
            Mode::Exec,
            usage,
            help,
            f,
        ));
    }
}
