//! `load_image`, `dump_image`, `verify_image`: images to and from target memory with OpenOCD
//! 0.12's syntax and summaries. `load_image` writes RAM only (flash needs `flash write_image` or
//! `program`); `verify_image` compares flash and RAM.

use super::parse_u64;
use crate::command::{CommandError, Ctx, Mode, Registry, bad_args, command};
use crate::flashing::{self, Allowed, Bench, ImageFormat};

/// Compares an image with target memory; prints OpenOCD's `verified N bytes in …` on success,
/// or `checksum mismatch - attempting binary compare`, the `diff …` lines and
/// `No more differences found.` followed by an error.
pub fn verify_image(
    ctx: &mut Ctx<'_>,
    file: &str,
    offset: Option<u64>,
    format: Option<ImageFormat>,
) -> Result<(), CommandError> {
    let image = flashing::load_image_file(ctx.host, file, format, offset)?;
    flashing::check(ctx.host, &image, Allowed::Verify)?;
    let bench = Bench::start();
    let c = flashing::compare(ctx.host, &image, flashing::progress_enabled(ctx))?;
    if c.total_diffs > 0 {
        ctx.println("checksum mismatch - attempting binary compare");
        for (n, (a, was, want)) in c.diffs.iter().enumerate() {
            ctx.println(format!(
                "diff {n} address 0x{a:08x}. Was 0x{was:02x} instead of 0x{want:02x}"
            ));
        }
        if c.total_diffs > c.diffs.len() {
            ctx.println("More than 128 errors, the rest are not printed.");
        } else {
            ctx.println("No more differences found.");
        }
        let note = flashing::diagnosis::verify_note(c.diffs.iter().map(|d| d.0))
            .map(|n| format!("\n  {n}"))
            .unwrap_or_default();
        return Err(CommandError::failed(format!(
            "verify_image: {} of {} bytes in target memory differ from {file}: the target holds a different program (load it with 'program {file}'){note}",
            c.total_diffs, c.bytes
        )));
    }
    let (s, r) = bench.rate(c.bytes);
    ctx.println(format!("verified {} bytes in {s}s ({r} KiB/s)", c.bytes));
    Ok(())
}

/// Registers the commands of this file.
pub fn register(reg: &mut Registry) {
    reg.add(command("load_image", Mode::Exec, "filename [address ['bin'|'ihex'|'elf'] [min_address] [max_length]]", "Load an image into RAM; address (default 0) is added to the image's addresses (the load address of a raw binary).", |ctx, args| {
        let [file, rest @ ..] = args else { return Err(bad_args()) };
        let (addr, rest) = match rest {
            [] => (None, rest),
            [a, r @ ..] => (Some(a), r),
        };
        if rest.len() > 3 {
            return Err(bad_args());
        }
        let offset = addr.map(|a| parse_u64(a)).transpose()?.unwrap_or(0);
        let format = rest.first().map(|t| super::flash::image_type(t)).transpose()?;
        let min = rest.get(1).map(|a| parse_u64(a)).transpose()?;
        let max_len = rest.get(2).map(|a| parse_u64(a)).transpose()?;
        let mut image = flashing::load_image_file(ctx.host, file, format, Some(offset))?;
        if min.is_some() || max_len.is_some() {
            image.clip(min.unwrap_or(0), max_len);
        }
        flashing::check(ctx.host, &image, Allowed::RamOnly)?;
        let bench = Bench::start();
        let mut total = 0;
        for seg in &image.segments {
            ctx.host.with_core(|core, _| {
                use probe_rs::MemoryInterface;
                core.write(seg.address, &seg.data)
            })?;
            total += seg.data.len();
            ctx.println(format!("{} bytes written at address 0x{:08x}", seg.data.len(), seg.address));
        }
        ctx.host.set_program(std::path::Path::new(file));
        let (s, r) = bench.rate(total);
        ctx.println(format!("downloaded {total} bytes in {s}s ({r} KiB/s)"));
        Ok(())
    }));
    reg.add(command(
        "dump_image",
        Mode::Exec,
        "filename address size",
        "Save size bytes of target memory from address into a binary file.",
        |ctx, args| {
            let [file, addr, size] = args else {
                return Err(bad_args());
            };
            let (addr, size) = (parse_u64(addr)?, parse_u64(size)?);
            let regions = crate::command::range::regions(ctx.host);
            crate::command::range::check_access(
                &regions,
                addr,
                1,
                size,
                crate::command::range::MAX_DUMP_BYTES,
            )?;
            let bench = Bench::start();
            let data = flashing::read_with_bar(
                ctx.host,
                flashing::progress_enabled(ctx),
                "Reading",
                addr,
                size as usize,
            )?;
            super::flash::write_file(file, &data)?;
            let (s, r) = bench.rate(data.len());
            ctx.println(format!("dumped {} bytes in {s}s ({r} KiB/s)", data.len()));
            Ok(())
        },
    ));
    reg.add(command("verify_image", Mode::Exec, "filename [offset [type]]", "Compare an image (elf, ihex, bin) with target memory (flash or RAM); offset is added to the image's addresses.", |ctx, args| {
        let Some((file, tail)) = args.split_first() else { return Err(bad_args()) };
        let (offset, format) = super::flash::offset_and_type(tail)?;
        verify_image(ctx, file, offset, format)
    }));
}
