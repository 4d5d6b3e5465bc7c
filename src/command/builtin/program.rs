//! `program filename [preverify] [verify] [reset] [exit] [offset]`: OpenOCD's `program` proc
//! (`src/flash/startup.tcl`) with its echo lines: init if needed → `reset init` →
//! (`**pre-verifying**` → `**Verified OK - No flashing**`) → `** Programming Started **` → erase
//! and write through probe-rs → `** Programming Finished **` → (`** Verify Started **` →
//! `** Verified OK **`) → (`** Resetting Target **`, `reset run`) → (`shutdown`).
//!
//! Differences from OpenOCD: the image is read and checked against the flash bank and RAM before
//! anything is erased, and an unknown word is a usage error (OpenOCD silently takes any unknown
//! word as the address).

use super::parse_u64;
use crate::command::{CommandError, Ctx, Mode, Registry, command, usage_error};
use crate::flashing::{self, Allowed, Image, WriteOptions};
use crate::host::Shutdown;

/// The words of a `program` line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramArgs {
    /// Image file.
    pub file: String,
    /// Compare first; skip programming when equal.
    pub preverify: bool,
    /// Compare after programming.
    pub verify: bool,
    /// `reset run` at the end.
    pub reset: bool,
    /// `shutdown` at the end (`shutdown error` on failure).
    pub exit: bool,
    /// Added to the image's addresses (the load address of a raw binary).
    pub offset: Option<u64>,
}

/// Parses `filename [preverify] [verify] [reset] [exit] [offset]` (words in any order after the
/// file name, as in OpenOCD).
pub fn parse_args(args: &[String]) -> Result<ProgramArgs, CommandError> {
    let Some((file, rest)) = args.split_first() else {
        return Err(usage_error("the image file name is missing"));
    };
    let mut p = ProgramArgs {
        file: file.clone(),
        ..Default::default()
    };
    for w in rest {
        match w.as_str() {
            "preverify" => p.preverify = true,
            "verify" => p.verify = true,
            "reset" => p.reset = true,
            "exit" => p.exit = true,
            other => {
                let looks_numeric = other.chars().next().is_some_and(|c| c.is_ascii_digit());
                if !looks_numeric {
                    return Err(usage_error(format!(
                        "unknown word '{other}': expected preverify, verify, reset, exit or an address/offset"
                    )));
                }
                if p.offset.is_some() {
                    return Err(usage_error(format!(
                        "a second offset '{other}': give at most one address/offset"
                    )));
                }
                p.offset = Some(parse_u64(other)?);
            }
        }
    }
    Ok(p)
}

/// OpenOCD's `program_error`: prints the `** … **` line and fails; with `exit` the host shuts
/// down with status 1.
fn program_error(
    ctx: &mut Ctx<'_>,
    p: &ProgramArgs,
    banner: &str,
    err: CommandError,
) -> CommandError {
    ctx.println(banner);
    if p.exit {
        ctx.host.request_shutdown(Shutdown::Error);
    }
    err
}

fn matches(ctx: &Ctx<'_>, image: &Image) -> Result<bool, CommandError> {
    let c = flashing::compare(ctx.host, image, flashing::progress_enabled(ctx))?;
    Ok(c.total_diffs == 0)
}

/// Runs `program`.
pub fn program(ctx: &mut Ctx<'_>, p: &ProgramArgs) -> Result<(), CommandError> {
    // Read the image before touching the target: a missing or corrupt file changes nothing.
    let image = match flashing::load_image_file(ctx.host, &p.file, None, p.offset) {
        Ok(i) => i,
        Err(e) => return Err(program_error(ctx, p, "** Programming Failed **", e)),
    };
    if !ctx.host.initialized()
        && let Err(e) = ctx.host.init(ctx)
    {
        return Err(program_error(ctx, p, "** Init Failed **", e));
    }
    if let Err(e) = ctx.run("reset init") {
        return Err(program_error(ctx, p, "** Unable to reset target **", e));
    }
    // Every byte must fit the flash bank (probed) or RAM before anything is erased.
    if let Err(e) = flashing::check(ctx.host, &image, Allowed::FlashOrRam) {
        return Err(program_error(ctx, p, "** Programming Failed **", e));
    }
    let mut needs_flash = true;
    if p.preverify {
        ctx.println("**pre-verifying**");
        if matches(ctx, &image).unwrap_or(false) {
            ctx.println("**Verified OK - No flashing**");
            ctx.host.set_program(std::path::Path::new(&p.file));
            needs_flash = false;
        }
    }
    if needs_flash {
        ctx.println("** Programming Started **");
        let opts = WriteOptions {
            erase: true,
            progress: flashing::progress_enabled(ctx),
        };
        if let Err(e) = flashing::write_image(ctx.host, &image, opts) {
            return Err(program_error(ctx, p, "** Programming Failed **", e));
        }
        ctx.host.set_program(std::path::Path::new(&p.file));
        ctx.println("** Programming Finished **");
        if p.verify {
            ctx.println("** Verify Started **");
            match matches(ctx, &image) {
                Ok(true) => ctx.println("** Verified OK **"),
                Ok(false) => {
                    let e = CommandError::failed(format!(
                        "the flash content differs from {} after programming: the write was disturbed or the flash is worn; run 'verify_image {}' to see the differing bytes, then program again",
                        p.file, p.file
                    ));
                    return Err(program_error(ctx, p, "** Verify Failed **", e));
                }
                Err(e) => return Err(program_error(ctx, p, "** Verify Failed **", e)),
            }
        }
    }
    if p.reset {
        ctx.println("** Resetting Target **");
        if let Err(e) = ctx.run("reset run") {
            return Err(program_error(ctx, p, "** Unable to reset target **", e));
        }
    }
    if p.exit {
        ctx.run("shutdown")?;
    }
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "program",
        Mode::Any,
        "filename [preverify] [verify] [reset] [exit] [offset]",
        "Program an image (elf, ihex, bin + address) into flash: init, reset init, erase+write, optionally verify, reset and exit.",
        |ctx, args| {
            let p = parse_args(args)?;
            program(ctx, &p)
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_and_offset() {
        let p = parse_args(&w(&["fw.bin", "verify", "0x08000000", "reset", "exit"])).unwrap();
        assert!(p.verify && p.reset && p.exit && !p.preverify);
        assert_eq!(p.offset, Some(0x0800_0000));
        assert!(parse_args(&w(&["fw.elf", "verfy"])).is_err());
        assert!(parse_args(&w(&["fw.elf", "1", "2"])).is_err());
        assert!(parse_args(&[]).is_err());
    }
}
