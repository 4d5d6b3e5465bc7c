//! `flash …` commands with OpenOCD 0.12's syntax and output: `flash banks`, `flash list`,
//! `flash info`, `flash probe`, `flash erase_sector`, `flash erase_address`,
//! `flash write_image`, `flash verify_image`, `flash write_bank`, `flash read_bank`,
//! `flash verify_bank`. Erasing and programming go through probe-rs's flash loader
//! ([`crate::flashing`]); every image is checked against the bank before anything is erased.

use std::path::Path;

use super::parse_u64;
use crate::command::format::flash_bank_line;
use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command, usage_error};
use crate::flashing::{self, Allowed, Bench, ImageFormat, WriteOptions};

/// Parses `[offset [file_type]]` after a file name.
pub fn offset_and_type(
    args: &[String],
) -> Result<(Option<u64>, Option<ImageFormat>), CommandError> {
    let offset = args.first().map(|a| parse_u64(a)).transpose()?;
    let format = args.get(1).map(|t| image_type(t)).transpose()?;
    if args.len() > 2 {
        return Err(bad_args());
    }
    Ok((offset, format))
}

/// Parses an image type word (`elf`, `ihex`, `bin`, …).
pub fn image_type(word: &str) -> Result<ImageFormat, CommandError> {
    ImageFormat::from_word(word).ok_or_else(|| {
        CommandError::failed(flashing::ImageError::UnknownType(word.to_string()).to_string())
    })
}

/// Writes `data` to the file `path`, naming the file when that fails.
pub fn write_file(path: &str, data: &[u8]) -> Result<(), CommandError> {
    std::fs::write(path, data).map_err(|e| {
        CommandError::failed(format!(
            "can't write file '{path}': {e}; check that the directory exists and is writable"
        ))
    })
}

/// Reads at most `cap + 1` bytes of `path` (one more than fits, so the caller's range check
/// refuses a file that is too large without reading all of it: /dev/zero ends here too).
fn read_file(path: &str, cap: u64) -> Result<Vec<u8>, CommandError> {
    use std::io::Read;
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(cap.saturating_add(1)).read_to_end(&mut data))
        .map_err(|e| {
            CommandError::failed(format!("can't read file '{path}': {e}; check the path (relative paths start at stdbg's working directory)"))
        })?;
    Ok(data)
}

/// Checks that `offset..offset+len` lies in the bank (size after probing).
fn check_in_bank(
    bank: &crate::host::FlashBank,
    index: usize,
    offset: u64,
    len: u64,
) -> Result<(), CommandError> {
    let size = u64::from(bank.effective_size());
    if offset.checked_add(len).is_none_or(|e| e > size) {
        return Err(CommandError::failed(format!(
            "offset 0x{offset:08x} + length {len} does not fit flash bank #{index} ({}, 0x{:08x}-0x{:08x}, {}); nothing was written",
            bank.name,
            bank.base,
            bank.base + size,
            flashing::check::size_text(size)
        )));
    }
    Ok(())
}

/// Writes a checked image, printing OpenOCD's `wrote … from file …` summary.
fn write_image_cmd(ctx: &mut Ctx<'_>, args: &[String]) -> Result<(), CommandError> {
    let mut erase = false;
    let mut rest = args;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "erase" => erase = true,
            // probe-rs's algorithm unlocks the FPEC itself; write protection is not cleared.
            "unlock" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    let Some((file, tail)) = rest.split_first() else {
        return Err(bad_args());
    };
    let (offset, format) = offset_and_type(tail)?;
    let image = flashing::load_image_file(ctx.host, file, format, offset)?;
    flashing::check(ctx.host, &image, Allowed::FlashOrRam)?;
    let bench = Bench::start();
    let progress = flashing::progress_enabled(ctx);
    flashing::write_image(ctx.host, &image, WriteOptions { erase, progress })?;
    ctx.host.set_program(std::path::Path::new(file));
    let (s, r) = bench.rate(image.len());
    // OpenOCD prints both lines as the command's result, after the log lines of the write.
    if erase {
        ctx.println("auto erase enabled");
    }
    ctx.println(format!(
        "wrote {} bytes from file {file} in {s}s ({r} KiB/s)",
        image.len()
    ));
    Ok(())
}

/// The `bank_id filename [offset]` arguments of `flash write_bank` / `verify_bank`, resolved:
/// the bank (probed), the file's bytes, and the range checked against the bank.
struct BankFile<'a> {
    index: usize,
    bank: crate::host::FlashBank,
    file: &'a str,
    offset: u64,
    data: Vec<u8>,
}

fn bank_file_args<'a>(ctx: &Ctx<'_>, args: &'a [String]) -> Result<BankFile<'a>, CommandError> {
    let (b, file, offset) = match args {
        [b, f] => (b, f, 0),
        [b, f, o] => (b, f, parse_u64(o)?),
        _ => return Err(bad_args()),
    };
    let index = flashing::bank_index(ctx.host, b)?;
    let bank = flashing::ensure_probed(ctx.host, index)?;
    let data = read_file(file, u64::from(bank.effective_size()))?;
    check_in_bank(&bank, index, offset, data.len() as u64)?;
    Ok(BankFile {
        index,
        bank,
        file: file.as_str(),
        offset,
        data,
    })
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command(
        "flash banks",
        Mode::Any,
        "",
        "List the flash banks: number, name, driver, base, size (0 = not probed yet).",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            let lines: Vec<String> = ctx
                .host
                .targets()
                .banks
                .iter()
                .enumerate()
                .map(|(i, b)| flash_bank_line(i, &b.name, &b.driver, b.base, b.effective_size()))
                .collect();
            for l in lines {
                ctx.println(l);
            }
            Ok(())
        },
    ));
    reg.add(command(
        "flash list",
        Mode::Any,
        "",
        "List the flash banks as a list of dicts (decimal numbers), like OpenOCD.",
        |ctx, args| {
            if !args.is_empty() {
                return Err(bad_args());
            }
            let items: Vec<String> = ctx
                .host
                .targets()
                .banks
                .iter()
                .map(|b| {
                    format!(
                        "{{name {} driver {} base {} size {} bus_width 0 chip_width 0 target {}}}",
                        b.name,
                        b.driver,
                        b.base,
                        b.effective_size(),
                        b.target
                    )
                })
                .collect();
            if !items.is_empty() {
                ctx.println(items.join(" "));
            }
            Ok(())
        },
    ));
    reg.add(command(
        "flash probe",
        Mode::Exec,
        "bank_id",
        "Identify the flash: read the chip's flash-size register (F_SIZE; its address comes from the DEV_ID table).",
        |ctx, args| {
            let [b] = args else { return Err(bad_args()) };
            let i = flashing::bank_index(ctx.host, b)?;
            flashing::probe_bank(ctx.host, i)?;
            let bank = flashing::bank(ctx.host, i)?;
            ctx.println(format!(
                "flash '{}' found at 0x{:08x}",
                bank.driver, bank.base
            ));
            Ok(())
        },
    ));
    reg.add(command(
        "flash info",
        Mode::Exec,
        "bank_id ['sectors']",
        "Print the bank's protection blocks (or sectors) and the chip's flash information.",
        |ctx, args| {
            let (b, sectors) = match args {
                [b] => (b, false),
                [b, s] if s == "sectors" => (b, true),
                _ => return Err(bad_args()),
            };
            let i = flashing::bank_index(ctx.host, b)?;
            let bank = flashing::ensure_probed(ctx.host, i)?;
            let size = bank.effective_size();
            let fam = crate::family::of_bank(&bank);
            let line = match fam {
                Some(f) => {
                    let id = flashing::read_idcode(ctx.host)?;
                    crate::family::line((id & 0xfff) as u16)
                        .filter(|l| l.driver == Some(f.driver()))
                        .map(|l| (id, l))
                }
                None => None,
            };
            let sector = bank
                .sector_size
                .or(line.map(|(_, l)| l.page_size))
                .ok_or_else(|| {
                    CommandError::failed(format!(
                        "flash bank #{i}: its sector size is unknown; run 'flash probe {i}'"
                    ))
                })?
                .max(1);
            ctx.println(format!(
                "#{i} : {} at 0x{:08x}, size 0x{size:08x}, buswidth 0, chipwidth 0",
                bank.driver, bank.base
            ));
            let blocks = match (fam, line) {
                (Some(f), Some((_, l))) if !sectors => ctx.host.with_core(|core, _| {
                    use probe_rs::MemoryInterface;
                    let mut rd = |a: u64| core.read_word_32(a).ok();
                    Ok(f.protection_blocks(l, i, bank.base, size, sector, &mut rd))
                })?,
                _ => None,
            };
            if sectors {
                for (n, off) in (0..size).step_by(sector as usize).enumerate() {
                    ctx.println(format!(
                        "\t#{n:3}: 0x{off:08x} (0x{sector:x} {}kB) ",
                        sector >> 10
                    ));
                }
            } else if let Some(blocks) = blocks {
                for (n, (off, len, prot)) in blocks.into_iter().enumerate() {
                    let state = if prot { "protected" } else { "not protected" };
                    ctx.println(format!(
                        "\t#{n:3}: 0x{off:08x} (0x{len:x} {}kB) {state}",
                        len >> 10
                    ));
                }
            } else {
                for (n, off) in (0..size).step_by(sector as usize).enumerate() {
                    ctx.println(format!(
                        "\t#{n:3}: 0x{off:08x} (0x{sector:x} {}kB) protection state unknown",
                        sector >> 10
                    ));
                }
            }
            if let (Some(f), Some((id, l))) = (fam, line) {
                let info = ctx.host.with_core(|core, _| {
                    use probe_rs::MemoryInterface;
                    let mut rd = |a: u64| core.read_word_32(a).ok();
                    Ok(f.info(l, id, f.fixed_geometry(bank.base).is_some(), &mut rd))
                })?;
                ctx.println(info);
            }
            Ok(())
        },
    ));
    reg.add(command("flash erase_sector", Mode::Exec, "bank_id first_sector_num (last_sector_num|'last')", "Erase a range of sectors (pages) of a bank.", |ctx, args| {
        let [b, first, last] = args else { return Err(bad_args()) };
        let i = flashing::bank_index(ctx.host, b)?;
        let bank = flashing::ensure_probed(ctx.host, i)?;
        let sector = u64::from(sector_of(&bank, i)?);
        let count = u64::from(bank.effective_size()) / sector;
        let first = parse_u64(first)?;
        let last = if last == "last" { count.saturating_sub(1) } else { parse_u64(last)? };
        if first > last || last >= count {
            return Err(usage_error(format!(
                "sectors {first} through {last} are not in flash bank #{i}: it has sectors 0 through {} ({} bytes each); nothing was erased",
                count.saturating_sub(1),
                sector
            )));
        }
        let bench = Bench::start();
        let start = bank.base + first * sector;
        let end = bank.base + (last + 1) * sector;
        flashing::erase_range(ctx.host, start..end, flashing::progress_enabled(ctx))?;
        ctx.println(format!("erased sectors {first} through {last} on flash bank {i} in {}s", bench.secs()));
        Ok(())
    }));
    reg.add(command("flash erase_address", Mode::Exec, "['pad'] ['unlock'] address length", "Erase the sectors covering address..address+length (must be sector aligned unless 'pad').", |ctx, args| {
        let mut pad = false;
        let mut rest = args;
        while let Some(w) = rest.first() {
            match w.as_str() {
                "pad" => pad = true,
                "unlock" => {}
                _ => break,
            }
            rest = &rest[1..];
        }
        let [a, l] = rest else { return Err(bad_args()) };
        let (addr, len) = (parse_u64(a)?, parse_u64(l)?);
        if len == 0 {
            return Err(usage_error("length is 0: nothing to erase"));
        }
        let nbanks = ctx.host.targets().banks.len();
        let mut found = None;
        for i in 0..nbanks {
            let declared = flashing::bank(ctx.host, i)?;
            let declared_end = declared.base + u64::from(declared.effective_size());
            if crate::family::of_bank(&declared).is_none() && !(addr >= declared.base && addr < declared_end) {
                continue; // do not probe other banks for an address outside them
            }
            let b = flashing::ensure_probed(ctx.host, i)?;
            if addr >= b.base && addr < b.base + u64::from(b.effective_size()) {
                found = Some((i, b));
                break;
            }
        }
        let Some((i, bank)) = found else {
            return Err(CommandError::failed(format!("address 0x{addr:08x} is in no flash bank; 'flash banks' lists them (after 'flash probe' their sizes)")));
        };
        let size = u64::from(bank.effective_size());
        let sector = u64::from(sector_of(&bank, i)?);
        let end = addr + len;
        if addr < bank.base || end > bank.base + size {
            return Err(CommandError::failed(format!(
                "0x{addr:08x}-0x{end:08x} is not inside flash bank #{i} ({}, 0x{:08x}-0x{:08x}, {}); nothing was erased",
                bank.name,
                bank.base,
                bank.base + size,
                flashing::check::size_text(size)
            )));
        }
        let s0 = bank.base + (addr - bank.base) / sector * sector;
        let e0 = bank.base + (end - bank.base).div_ceil(sector) * sector;
        if (s0 != addr || e0 != end) && !pad {
            return Err(CommandError::failed(format!(
                "0x{addr:08x}-0x{end:08x} is not sector aligned (sectors are {sector} bytes); erasing it would also erase 0x{s0:08x}-0x{e0:08x}: add 'pad' to allow that"
            )));
        }
        if s0 != addr {
            tracing::warn!("Adding extra erase range, 0x{s0:08x} .. 0x{:08x}", addr - 1);
        }
        if e0 != end {
            tracing::warn!("Adding extra erase range, 0x{end:08x} .. 0x{:08x}", e0 - 1);
        }
        let bench = Bench::start();
        flashing::erase_range(ctx.host, s0..e0, flashing::progress_enabled(ctx))?;
        let (s, r) = bench.rate(len as usize);
        ctx.println(format!("erased address 0x{addr:08x} (length {len}) in {s}s ({r} KiB/s)"));
        Ok(())
    }));
    reg.add(command("flash protect", Mode::Exec, "bank_id first_block (last_block|'last') ('on'|'off')", "Set or clear the write protection of protection blocks (stm32f1x: FLASH_WRPR bits via the option bytes, in force after a reset; stm32h7x: FLASH_WPSN_PRGxR bits by OPTSTART, in force at once).", |ctx, args| {
        let [b, first, last, onoff] = args else { return Err(bad_args()) };
        let on = match onoff.as_str() {
            "on" => true,
            "off" => false,
            _ => return Err(bad_args()),
        };
        let i = flashing::bank_index(ctx.host, b)?;
        let bank = flashing::ensure_probed(ctx.host, i)?;
        let g = flashing::diagnosis::bank_at(ctx.host, bank.base).ok_or_else(|| CommandError::failed(format!(
            "flash bank #{i} ({}, driver {}): stdbg changes write protection with 'flash protect' only on the banks of the families it drives (stm32f1x, stm32h7x); this bank's memory has no write protection stdbg knows of",
            bank.name,
            bank.driver,
        )))?;
        let (nblocks, per_block) = g
            .family
            .protect_blocks(g.line, i, g.size, g.page_size)
            .map_err(CommandError::failed)?;
        let first = parse_u64(first)?;
        let last = if last == "last" { nblocks - 1 } else { parse_u64(last)? };
        if first > last || last >= nblocks {
            return Err(usage_error(format!(
                "blocks {first} through {last} are not in flash bank #{i}: it has protection blocks 0 through {} ({per_block} {} each); nothing was changed",
                nblocks - 1,
                if per_block == 1 { "sector" } else { "pages" }
            )));
        }
        g.family.protect(ctx.host, g.line, g.base, first as u32, last as u32, on)?;
        let verb = if on { "set" } else { "cleared" };
        ctx.println(format!("{verb} protection for blocks {first} through {last} on flash bank {i}"));
        Ok(())
    }));
    reg.add(command("flash write_image", Mode::Exec, "[erase] [unlock] filename [offset [file_type]]", "Write an image (elf, ihex, bin) to flash; 'erase' erases the sectors it covers first. The image is checked against the flash bank before anything is erased.", write_image_cmd));
    reg.add(command("flash verify_image", Mode::Exec, "filename [offset [file_type]]", "Compare an image with the flash content.", |ctx, args| {
        let Some((file, tail)) = args.split_first() else { return Err(bad_args()) };
        let (offset, format) = offset_and_type(tail)?;
        let image = flashing::load_image_file(ctx.host, file, format, offset)?;
        flashing::check(ctx.host, &image, Allowed::Verify)?;
        let bench = Bench::start();
        let c = flashing::compare(ctx.host, &image, flashing::progress_enabled(ctx))?;
        if c.total_diffs > 0 {
            for (n, (a, was, want)) in c.diffs.iter().enumerate() {
                ctx.println(format!("diff {n} address 0x{a:08x}. Was 0x{was:02x} instead of 0x{want:02x}"));
            }
            return Err(CommandError::failed(format!(
                "verify failed: {} of {} bytes differ from {file}; program it with 'program {file}' or 'flash write_image erase {file}'",
                c.total_diffs, c.bytes
            )));
        }
        let (s, r) = bench.rate(c.bytes);
        ctx.println(format!("verified {} bytes from file {file} in {s}s ({r} KiB/s)", c.bytes));
        Ok(())
    }));
    reg.add(command("flash write_bank", Mode::Exec, "bank_id filename [offset]", "Write a binary file to a bank at offset (the sectors must be erased).", |ctx, args| {
        let BankFile { index: i, bank, file, offset, data } = bank_file_args(ctx, args)?;
        let image = flashing::Image {
            path: Path::new(file).to_path_buf(),
            format: ImageFormat::Bin,
            segments: vec![flashing::Segment { address: bank.base + offset, data, sections: vec![] }],
            offset_given: true,
        };
        flashing::check(ctx.host, &image, Allowed::FlashOrRam)?;
        let bench = Bench::start();
        flashing::write_image(ctx.host, &image, WriteOptions { erase: false, progress: flashing::progress_enabled(ctx) })?;
        let (s, r) = bench.rate(image.len());
        ctx.println(format!("wrote {} bytes from file {file} to flash bank {i} at offset 0x{offset:08x} in {s}s ({r} KiB/s)", image.len()));
        Ok(())
    }));
    reg.add(command("flash read_bank", Mode::Exec, "bank_id filename [offset [length]]", "Read flash bank content (from offset, length bytes; default: to the end) into a binary file.", |ctx, args| {
        let (b, file, offset, length) = match args {
            [b, f] => (b, f, 0, None),
            [b, f, o] => (b, f, parse_u64(o)?, None),
            [b, f, o, l] => (b, f, parse_u64(o)?, Some(parse_u64(l)?)),
            _ => return Err(bad_args()),
        };
        let i = flashing::bank_index(ctx.host, b)?;
        let bank = flashing::ensure_probed(ctx.host, i)?;
        let size = u64::from(bank.effective_size());
        let length = length.unwrap_or(size.saturating_sub(offset));
        check_in_bank(&bank, i, offset, length)?;
        let bench = Bench::start();
        let data = flashing::read_with_bar(ctx.host, flashing::progress_enabled(ctx), "Reading", bank.base + offset, length as usize)?;
        write_file(file, &data)?;
        let (s, r) = bench.rate(data.len());
        ctx.println(format!("wrote {} bytes to file {file} from flash bank {i} at offset 0x{offset:08x} in {s}s ({r} KiB/s)", data.len()));
        Ok(())
    }));
    reg.add(command("flash verify_bank", Mode::Exec, "bank_id filename [offset]", "Compare a binary file with the flash bank content at offset.", |ctx, args| {
        let BankFile { index: i, bank, file, offset, data } = bank_file_args(ctx, args)?;
        let bench = Bench::start();
        let flash = flashing::read_with_bar(ctx.host, flashing::progress_enabled(ctx), "Verifying", bank.base + offset, data.len())?;
        let (s, r) = bench.rate(data.len());
        ctx.println(format!(
            "read {} bytes from file {file} and flash bank {i} at offset 0x{offset:08x} in {s}s ({r} KiB/s)",
            data.len()
        ));
        if flash == data {
            ctx.println("contents match");
            return Ok(());
        }
        ctx.println("contents differ");
        let mut n = 0;
        for (t, (was, want)) in flash.iter().zip(&data).enumerate() {
            if was == want {
                continue;
            }
            ctx.println(format!("diff {n} address 0x{:08x}. Was 0x{was:02x} instead of 0x{want:02x}", t as u64 + offset));
            n += 1;
            if n >= 128 {
                ctx.println("More than 128 errors, the rest are not printed.");
                break;
            }
        }
        Err(CommandError::failed(format!("flash bank #{i} differs from {file}")))
    }));
}

/// The probed sector size of bank `i`.
fn sector_of(bank: &crate::host::FlashBank, i: usize) -> Result<u32, CommandError> {
    bank.sector_size.filter(|s| *s != 0).ok_or_else(|| {
        CommandError::failed(format!(
            "flash bank #{i}: its sector size is unknown; run 'flash probe {i}'"
        ))
    })
}
