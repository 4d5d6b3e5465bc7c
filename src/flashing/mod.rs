//! Flashing: image files ([`image`]), the checks every image passes before anything is erased
//! ([`check`]), flash bank probing (through the family: [`crate::family::probe`]), and erase/program/verify
//! with probe-rs's flash algorithms: called by stdbg ([`lean`]) or, where that does not apply,
//! by probe-rs's flash loader (`probe_rs::flashing`: `FlashLoader`, `erase`), with progress
//! bars ([`progress`]).
//!
//! Nothing here pokes the flash controller by hand: erasing and programming run probe-rs's flash
//! algorithm for the probe-rs chip the target script names (`TargetDef::chip`).

mod algorithm;
pub mod check;
pub mod crc;
pub mod diagnosis;
mod direct;
mod erase;
pub mod image;
pub mod lean;
pub mod progress;
pub mod protect;

use std::ops::Range;
use std::time::Instant;

use probe_rs::MemoryInterface;
use probe_rs::flashing::{DownloadOptions, FlashError, FlashProgress};

use crate::command::{CommandError, Ctx};
use crate::diagnose;
use crate::host::target::TargetState;
use crate::host::{FlashBank, Host};
pub use check::{Allowed, FitError, FlashArea, Layout, check_image};
pub use erase::erase_range;
pub use image::{Image, ImageError, ImageFormat, Segment};
pub use progress::ProgressUi;

fn no_conn() -> CommandError {
    CommandError::failed(
        "the target is not connected: 'init' failed or was not run; see the error printed by init",
    )
}

/// Looks a bank up by number or name (OpenOCD `flash_command_get_bank`).
pub fn bank_index(host: &Host, word: &str) -> Result<usize, CommandError> {
    let t = host.targets();
    if let Some(i) = t.banks.iter().position(|b| b.name == word) {
        return Ok(i);
    }
    let n = crate::command::builtin::parse_u64(word).ok();
    match n {
        Some(n) if (n as usize) < t.banks.len() => Ok(n as usize),
        _ => Err(CommandError::failed(if t.banks.is_empty() {
            format!(
                "flash bank '{word}' not found: no flash bank is declared; source a target script (e.g. -f board/sim-bluepill.rhai)"
            )
        } else {
            format!(
                "flash bank '{word}' not found: the banks are {}; 'flash banks' lists them",
                t.banks
                    .iter()
                    .enumerate()
                    .map(|(i, b)| format!("#{i} {}", b.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })),
    }
}

/// A bank (clone).
pub fn bank(host: &Host, index: usize) -> Result<FlashBank, CommandError> {
    host.targets()
        .banks
        .get(index)
        .cloned()
        .ok_or_else(|| CommandError::failed(format!("flash bank #{index} not found")))
}

/// The probe-rs chip of the bank's target (e.g. `STM32F103C8`).
pub fn bank_chip(host: &Host, bank: &FlashBank) -> String {
    let t = host.targets();
    t.by_name(&bank.target)
        .or(t.current())
        .map(|t| t.chip.clone())
        .unwrap_or_else(|| "the target".into())
}

/// Reads DBGMCU_IDCODE (32-bit) where the family table says the chip has it.
pub fn read_idcode(host: &Host) -> Result<u32, CommandError> {
    crate::family::read_idcode_host(host)
}

/// `flash probe`: reads the chip's flash size and sector size and records them in the bank.
/// For banks of a family stdbg drives (`stm32f1x`, `stm32l4x`): DBGMCU_IDCODE (logged as the
/// OpenOCD driver does, e.g. `device id = 0x…`), the flash-size register of the line; a
/// configured size wins (logs `ignoring flash probed value, using configured bank size`), then
/// logs `flash size = N KiB` ([`crate::family::probe`]). Other drivers take the size from the
/// probe-rs memory map.
pub fn probe_bank(host: &Host, index: usize) -> Result<(), CommandError> {
    let b = bank(host, index)?;
    let (size, sector) = if let Some(fam) = crate::family::of_bank(&b) {
        let g = crate::family::probe(host, &b, fam)?;
        (g.size, g.page_size)
    } else {
        if host.conn().is_none() {
            return Err(no_conn());
        }
        if let Some(reason) = unusable_reason(host, &b) {
            return Err(CommandError::failed(format!(
                "flash bank #{index} {} (driver {}) at 0x{:08x} cannot be probed: {reason}. Remove its flash_bank line from the board script (stdbg never touches it otherwise)",
                b.name, b.driver, b.base
            )));
        }
        let guard = host.conn();
        let conn = guard.as_ref().ok_or_else(no_conn)?;
        let target = conn.session.target();
        let region = target
            .memory_map
            .iter()
            .filter_map(|r| r.as_nvm_region())
            .find(|r| !r.is_alias && r.range.contains(&b.base))
            .ok_or_else(|| {
                CommandError::failed(format!(
                    "flash bank {} at 0x{:08x}: the probe-rs description of {} has no flash there; check the bank's base address",
                    b.name, b.base, target.name
                ))
            })?;
        let sector = target
            .flash_algorithms
            .iter()
            .find(|a| a.flash_properties.address_range.contains(&b.base))
            .and_then(|a| a.flash_properties.sectors.first().map(|s| s.size as u32))
            .ok_or_else(|| {
                CommandError::failed(format!(
                    "flash bank {} at 0x{:08x}: the probe-rs flash algorithm of {} gives no sector size there; check the bank's base address",
                    b.name, b.base, target.name
                ))
            })?;
        let size = if b.size != 0 {
            b.size
        } else {
            (region.range.end - region.range.start) as u32
        };
        (size, sector)
    };
    let mut t = host.targets();
    if let Some(bk) = t.banks.get_mut(index) {
        bk.probed_size = Some(size);
        bk.sector_size = Some(sector);
    }
    Ok(())
}

/// Probes the bank unless it already was (OpenOCD's auto-probe).
pub fn ensure_probed(host: &Host, index: usize) -> Result<FlashBank, CommandError> {
    let b = bank(host, index)?;
    if b.probed_size.is_none() || b.sector_size.is_none() {
        probe_bank(host, index)?;
    }
    bank(host, index)
}

/// The memory the current target offers: its flash banks (probed first when their size is 0)
/// and the probe-rs RAM and flash regions.
pub fn layout(host: &Host) -> Result<Layout, CommandError> {
    let (target, chip) = {
        let t = host.targets();
        let cur = t.current().ok_or_else(|| {
            CommandError::failed("no current target: source a target script first")
        })?;
        (cur.name.clone(), cur.chip.clone())
    };
    let indices: Vec<usize> = {
        let t = host.targets();
        t.banks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.target == target)
            .map(|(i, _)| i)
            .collect()
    };
    let mut flash = Vec::new();
    for i in indices {
        // A bank no probe-rs flash algorithm covers (an external-memory bank) is not probed:
        // nothing touches it unless an image targets it, and then the check names it.
        let declared = bank(host, i)?;
        if crate::family::of_bank(&declared).is_none()
            && let Some(reason) = unusable_reason(host, &declared)
        {
            let range = declared.base..declared.base + u64::from(declared.effective_size().max(1));
            flash.push(FlashArea {
                bank: declared.name.clone(),
                chip: chip.clone(),
                range,
                driver: declared.driver.clone(),
                unusable: Some(reason),
                direct: false,
            });
            continue;
        }
        let b = ensure_probed(host, i)?;
        flash.push(FlashArea {
            bank: b.name.clone(),
            chip: chip.clone(),
            range: b.base..b.base + u64::from(b.effective_size()),
            driver: b.driver.clone(),
            unusable: None,
            direct: crate::family::of_bank(&b).is_some_and(|f| f.fixed_geometry(b.base).is_some()),
        });
    }
    let guard = host.conn();
    let conn = guard.as_ref().ok_or_else(no_conn)?;
    let map = &conn.session.target().memory_map;
    let ram = map
        .iter()
        .filter_map(|r| r.as_ram_region())
        .filter(|r| !r.is_alias)
        .map(|r| r.range.clone())
        .collect();
    let nvm = map
        .iter()
        .filter_map(|r| r.as_nvm_region())
        .filter(|r| !r.is_alias)
        .map(|r| r.range.clone())
        .collect();
    Ok(Layout {
        flash,
        ram,
        nvm,
        chip,
    })
}

/// Why stdbg cannot program `bank` (read from the probe-rs target description only; the chip
/// is not accessed): no probe-rs flash algorithm covers its base address, and whether the chip
/// has any memory there. `None` when an algorithm covers it.
pub fn unusable_reason(host: &Host, bank: &FlashBank) -> Option<String> {
    let dev_ids = expected_dev_ids(host);
    let guard = host.conn();
    let conn = guard.as_ref()?;
    let target = conn.session.target();
    // An algorithm counts only where the chip's memory map has flash: probe-rs lists external
    // loaders of other boards for some chips (the STM32H743ZI has the H747I/H750B Discovery QSPI
    // loaders at 0x9000_0000), which must not run on this board's memory.
    let nvm_there = target
        .memory_map
        .iter()
        .filter_map(|r| r.as_nvm_region())
        .any(|r| !r.is_alias && r.range.contains(&bank.base));
    let covered = target
        .flash_algorithms
        .iter()
        .any(|a| a.flash_properties.address_range.contains(&bank.base));
    if covered && nvm_there {
        return None;
    }
    let end = bank.base + u64::from(bank.effective_size().max(1));
    let window = crate::family::line_for(None, &dev_ids)
        .driver
        .and_then(|d| d.family())
        .and_then(|f| f.external_window(bank.base));
    if let Some(w) = window {
        return Some(format!(
            "stdbg programs flash only with probe-rs flash algorithms for the chip's own memory map, and {} has none at 0x{:08x}-0x{:08x} (the '{}' driver drives an external memory through a loader stdbg does not have); {w}",
            target.name,
            bank.base,
            end - 1,
            bank.driver
        ));
    }
    let region = target
        .memory_map
        .iter()
        .find(|r| r.address_range().contains(&bank.base));
    let memory = match region {
        None => format!(
            "{} has no memory at 0x{:08x} at all (its memory map has nothing there, so nothing can answer at that address)",
            target.name, bank.base
        ),
        Some(r) if r.as_ram_region().is_some() => {
            format!("{} has RAM there, not flash", target.name)
        }
        Some(_) => format!(
            "{} has memory there, but probe-rs has no algorithm to program it",
            target.name
        ),
    };
    Some(format!(
        "stdbg programs flash only with probe-rs flash algorithms, none of which covers 0x{:08x}-0x{:08x} on {} (the '{}' driver drives an external memory through a loader stdbg does not have); {memory}. This is a configuration problem, not power or cabling",
        bank.base,
        end - 1,
        target.name,
        bank.driver
    ))
}

/// Explains a probe-rs flash error, naming the sector or page.
pub fn flash_error(what: &str, err: &FlashError) -> CommandError {
    let detail = diagnose::command_error(what, err).to_string();
    let why = match err {
        FlashError::EraseFailed { sector_address, .. } => Some(format!(
            "the flash sector at 0x{sector_address:08x} could not be erased: the flash controller reported an error (the page may be write-protected: see FLASH_WRPR with 'flash info 0'; or the chip is read-protected)"
        )),
        FlashError::PageWrite { page_address, .. } => Some(format!(
            "the flash page at 0x{page_address:08x} could not be programmed: it was probably not erased (use 'flash write_image erase …' or 'program'), or it is write-protected"
        )),
        FlashError::ChipEraseFailed { .. } => Some("the mass erase failed: the chip may be read-protected".to_string()),
        FlashError::Verify => Some("after programming, the flash content differs from the image: the flash may be worn or the write was disturbed; erase and program again".to_string()),
        FlashError::Init(_) | FlashError::Core(_) | FlashError::ResetAndHalt(_) | FlashError::Run(_) => Some(
            "the flash algorithm could not be started on the target (it runs from RAM at 0x20000000): check that the core can be halted ('reset halt') and that RAM works".to_string(),
        ),
        FlashError::RoutineCallFailed { name, error_code } => Some(format!(
            "the flash algorithm's {name} routine returned error {error_code}: the flash controller refused the operation (write protection or a locked FPEC)"
        )),
        _ => None,
    };
    match why {
        Some(w) => CommandError::failed(format!("{w}\n  detail: {detail}")),
        None => CommandError::failed(detail),
    }
}

/// The DEV_IDs the current target's script expects (`dev_ids`), for the family of a bank that
/// is not the family's own.
fn expected_dev_ids(host: &Host) -> Vec<u32> {
    host.targets()
        .current()
        .map(|t| t.expected_dev_ids.clone())
        .unwrap_or_default()
}

/// How to write an image to flash.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Erase the sectors the image touches first (`flash write_image erase`, `program`). Without
    /// it the flash must already be blank, as in OpenOCD.
    pub erase: bool,
    /// Draw progress bars.
    pub progress: bool,
}

/// Writes a checked image through probe-rs's flash loader (flash bytes with the flash algorithm,
/// RAM bytes with plain memory writes). Call [`check_image`] first. Leaves the core halted.
pub fn write_image(host: &Host, image: &Image, opts: WriteOptions) -> Result<(), CommandError> {
    // The probe is held for the whole write: other consoles wait (host/jobs.rs); a flash write
    // is never cancelled halfway.
    let _x = host.jobs().exclusive("flash write");
    if opts.erase {
        erase::warn_extra_erase(host, image);
    }
    algorithm::around_algorithm(host, || write_image_inner(host, image, opts))
}

fn write_image_inner(host: &Host, image: &Image, opts: WriteOptions) -> Result<(), CommandError> {
    let target = host.current_target()?.0;
    // Bytes for banks the family programs itself (the G4/L4 OTP) are checked first and written
    // last (direct.rs).
    let (blocks, direct) = direct::split(host, image)?;
    if blocks.is_empty() {
        return direct::write(host, &direct);
    }
    let mut tracker = diagnosis::FlashTracker::default();
    let ap = host.current_any()?.2;
    let result = {
        let mut guard = host.conn();
        let conn = guard.as_mut().ok_or_else(no_conn)?;
        // stdbg's own calls of the flash algorithm first (lean.rs); probe-rs's loader when
        // they do not apply or fail before anything was erased.
        let regions = match lean::plan(conn.session.target(), &blocks) {
            Ok(r) if opts.erase => Some(r),
            Ok(_) => None,
            Err(why) => {
                tracing::debug!("flash loader: probe-rs's ({why})");
                None
            }
        };
        if let Some(regions) = &regions {
            tracker.set_layout(
                regions.iter().flat_map(|r| r.sectors().iter().cloned()),
                regions
                    .iter()
                    .flat_map(|r| r.chunks().iter().map(|(a, d)| *a..*a + d.len() as u64)),
            );
        }
        let mut ui = ProgressUi::new(opts.progress);
        let mut on_event = |ev: probe_rs::flashing::ProgressEvent| {
            tracker.handle(&ev);
            ui.handle(ev);
            // Tell the other consoles and GDB that they wait (never cancelled halfway).
            let _ = host.checkpoint(false);
        };
        let lean = regions.and_then(|regions| {
            let reads = conn.reads.clone();
            let r = lean::run(
                &mut conn.session,
                ap,
                reads.as_ref(),
                &regions,
                &mut on_event,
            );
            // probe-rs's view of the core (halted at the algorithm's BKPT) is read again.
            conn.core_state_stale = Some(0);
            match r {
                Ok(()) => Some(Ok(())),
                Err(lean::Failure::Flash(e)) => Some(Err(e)),
                Err(lean::Failure::Before(why)) => {
                    tracing::debug!("flash loader: probe-rs's ({why})");
                    None
                }
            }
        });
        match lean {
            Some(r) => r,
            None => {
                let session = &mut conn.session;
                let mut loader = session.target().flash_loader();
                for (addr, data) in &blocks {
                    loader
                        .add_data(*addr, data)
                        .map_err(|e| flash_error("stage the image", &e))?;
                }
                let mut dl = DownloadOptions::default();
                dl.progress = FlashProgress::new(&mut on_event);
                dl.skip_erase = !opts.erase;
                dl.keep_unwritten_bytes = false;
                dl.verify = false;
                loader.commit(session, dl)
            }
        }
    };
    // The flash algorithm reset and halted the core.
    host.set_state(&target, TargetState::Halted);
    match result {
        Ok(()) => {
            let mut left = diagnosis::left_erased();
            left.retain(|r| {
                !image
                    .segments
                    .iter()
                    .any(|s| s.address < r.end && r.start < s.end())
            });
            diagnosis::set_left_erased(left);
            direct::write(host, &direct)
        }
        Err(e) => Err({
            host.note_link_failure(&e);
            diagnosis::explain_write_failure(
                host,
                &format!("write {}", image.path.display()),
                &e,
                &tracker,
                &rerun_command(image),
            )
        }),
    }
}

/// The command that writes `image` again.
fn rerun_command(image: &Image) -> String {
    if image.path == std::path::Path::new(image::GDB_LOAD) {
        // GDB sent the image: its own command writes it again.
        return "load".to_string();
    }
    let path = crate::command::parse::quote_word(&image.path.display().to_string());
    match (image.format, image.segments.first()) {
        (ImageFormat::Bin, Some(seg)) => format!("program {path} verify 0x{:08x}", seg.address),
        _ => format!("program {path} verify"),
    }
}

/// Reads `len` bytes at `addr`, in 16 KiB pieces so that a progress bar can follow.
pub fn read_with_progress(
    host: &Host,
    addr: u64,
    len: usize,
    bar: &indicatif::ProgressBar,
) -> Result<Vec<u8>, CommandError> {
    const CHUNK: usize = 16 * 1024;
    let mut out = vec![0u8; len];
    host.with_core(|core, _| {
        let mut off = 0;
        while off < len {
            let n = CHUNK.min(len - off);
            core.read(addr + off as u64, &mut out[off..off + n])?;
            off += n;
            bar.inc(n as u64);
        }
        Ok(())
    })
    .map_err(|e| diagnosis::explain_read_error(host, addr, len as u64, e))?;
    Ok(out)
}

/// Reads `len` bytes at `addr` behind a progress bar labelled `label` (drawn when `progress`).
pub fn read_with_bar(
    host: &Host,
    progress: bool,
    label: &'static str,
    addr: u64,
    len: usize,
) -> Result<Vec<u8>, CommandError> {
    let ui = ProgressUi::new(progress);
    let bar = ui.bar(label, len as u64);
    let data = read_with_progress(host, addr, len, &bar)?;
    bar.finish_and_clear();
    Ok(data)
}

/// One differing byte: address, value in target memory, value in the file.
pub type Diff = (u64, u8, u8);

/// The result of comparing an image with target memory.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Bytes compared.
    pub bytes: usize,
    /// The first 128 differences (OpenOCD prints at most 128).
    pub diffs: Vec<Diff>,
    /// Total number of differing bytes.
    pub total_diffs: usize,
}

/// Reads the image's addresses back and compares them with the image.
pub fn compare(host: &Host, image: &Image, progress: bool) -> Result<Comparison, CommandError> {
    let ui = ProgressUi::new(progress);
    let bar = ui.bar("Verifying", image.len() as u64);
    let mut c = Comparison::default();
    let flash = layout(host).map(|l| l.flash).unwrap_or_default();
    for seg in &image.segments {
        c.bytes += seg.data.len();
        // Flash is compared by a CRC run on the target first (crc.rs); only a mismatch, or a
        // target that cannot run it, reads the bytes back.
        let end = seg.address + seg.data.len() as u64;
        let in_flash = flash
            .iter()
            .any(|f| f.range.start <= seg.address && end <= f.range.end);
        if in_flash
            && seg.data.len() >= crc::MIN_BYTES
            && end <= u64::from(u32::MAX)
            && crc::target_crc32(host, seg.address as u32, seg.data.len() as u32)
                == Some(crc::crc32(&seg.data))
        {
            bar.inc(seg.data.len() as u64);
            continue;
        }
        let mem = read_with_progress(host, seg.address, seg.data.len(), &bar)?;
        for (i, (m, f)) in mem.iter().zip(&seg.data).enumerate() {
            if m != f {
                c.total_diffs += 1;
                if c.diffs.len() < 128 {
                    c.diffs.push((seg.address + i as u64, *m, *f));
                }
            }
        }
    }
    bar.finish_and_clear();
    Ok(c)
}

/// Loads an image file for a command, turning the error into a command error.
pub fn load_image_file(
    host: &Host,
    path: &str,
    format: Option<ImageFormat>,
    offset: Option<u64>,
) -> Result<Image, CommandError> {
    let (limit, what) = memory_limit(host);
    image::load_with_limit(std::path::Path::new(path), format, offset, limit, &what)
        .map_err(|e| CommandError::failed(e.to_string()))
}

/// The most bytes an image for the connected chip can have: the size of its flash and RAM
/// together (probe-rs's memory map, aliases left out), and words for messages; before `init`,
/// [`image::MAX_LOADABLE`].
pub fn memory_limit(host: &Host) -> (u64, String) {
    let g = host.conn();
    match g.as_ref() {
        Some(conn) => {
            let t = conn.session.target();
            let total: u64 = t
                .memory_map
                .iter()
                .filter(|r| !r.as_nvm_region().is_some_and(|n| n.is_alias))
                .map(|r| {
                    let a = r.address_range();
                    a.end - a.start
                })
                .sum();
            (total, format!("flash and RAM of {}", t.name))
        }
        None => (image::MAX_LOADABLE, "memory of any STM32".to_string()),
    }
}

/// Checks an image against the current target's memory (probing banks as needed).
///
/// For flash writes (`Allowed::FlashOrRam`) on a bank of a family stdbg drives, read-out protection and
/// write-protected pages are refused here too, before anything is erased; for a verify
/// (`Allowed::Verify`) read-out protection is.
pub fn check(host: &Host, image: &Image, allowed: Allowed) -> Result<(), CommandError> {
    let layout = layout(host)?;
    check_image(image, &layout, allowed).map_err(|e| CommandError::failed(e.to_string()))?;
    if allowed == Allowed::RamOnly {
        return Ok(());
    }
    let in_flash: Vec<Range<u64>> = image
        .segments
        .iter()
        .filter(|s| layout.flash.iter().any(|f| f.range.contains(&s.address)))
        .map(|s| s.address..s.end())
        .collect();
    diagnosis::check_protection(host, &in_flash, allowed == Allowed::FlashOrRam)
}

/// Whether progress bars may be drawn.
pub fn progress_enabled(ctx: &Ctx<'_>) -> bool {
    ctx.host.config().progress_bars
}

/// A stopwatch for OpenOCD's `in %fs (%0.3f KiB/s)` summaries.
pub struct Bench(Instant);

impl Bench {
    /// Starts timing.
    pub fn start() -> Self {
        Bench(Instant::now())
    }

    /// `(seconds, KiB/s)` for `bytes`, formatted by [`crate::command::format::rate`].
    pub fn rate(&self, bytes: usize) -> (String, String) {
        crate::command::format::rate(bytes, self.0.elapsed().as_secs_f64())
    }

    /// Seconds, 6 decimals.
    pub fn secs(&self) -> String {
        self.rate(0).0
    }
}
