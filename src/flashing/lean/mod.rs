//! The lean flash path: probe-rs's flash algorithm (the same CMSIS-Pack `Init`, `EraseSector`,
//! `ProgramPage`, `UnInit` code, assembled by probe-rs's [`FlashAlgorithm`] into the same RAM
//! layout), called by stdbg through the MEM-AP's banked registers, with large `ProgramPage`
//! calls and double buffering.
//!
//! probe-rs 0.32's loader calls `ProgramPage` once per algorithm page (1 KiB on the STM32s)
//! and each call costs it about 150–180 DAP transactions: every core register goes through its
//! memory interface (TAR writes, DCRSR, DCRDR, DHCSR polls), then `run`, then status reads.
//! Here, with TAR set once to DHCSR's 16-byte block (0xE000EDF0; ADIv5 §C2.6.1: BD0 DHCSR,
//! BD1 DCRSR, BD2 DCRDR, BD3 DEMCR), a register write is two transactions (DCRDR, then DCRSR
//! with REGWnR; ARMv7-M ARM §C1.6.3), one DHCSR read checks S_REGRDY and S_HALT before the run,
//! and a call costs about 20 transactions. `ProgramPage` gets up to [`MAX_CHUNK`] bytes per
//! call (the ST algorithms program any length: they loop over half, double or flash words),
//! in two RAM buffers after probe-rs's stack: while the core programs one, the next is written
//! to the other.
//!
//! The sectors are erased by one run of the core per run of contiguous sectors of one size:
//! [`ERASE_LOOP`] (20 bytes of Thumb code in RAM after the algorithm's stack, source
//! `src/flashing/erase_loop.S`) calls the algorithm's `EraseSector` for each and stores the
//! next sector's address in a RAM word, which the DHCSR polls read (a memory read while the
//! core runs) for the progress events; it stops at the first non-zero result. Without room
//! for it, `EraseSector` is called per sector. A finished call's PC and r0 are read in one
//! batch with a probe that batches reads (`probe/batch.rs`).
//!
//! What stays as in probe-rs's loader: the core is reset and halted first, the algorithm code
//! goes to the same address, the same sectors are erased (those holding a page with image
//! bytes), the same bytes are written (whole algorithm pages, the gaps filled with the erased
//! value), the same call arguments and timeouts, and the same errors ([`FlashError`]) for the
//! diagnosis. Added: the fault vector catches (DEMCR.VC_*) are set while the algorithm runs, and
//! every call must end at the algorithm's `BKPT` (a fault halts elsewhere and is an error).
//!
//! Not taken (probe-rs's loader runs instead, nothing has been erased): a target with more than
//! one core, bytes outside one NVM region, no single algorithm for a region, an encoded
//! transfer, or a failure before the first erase (reset, loading the code, `Init`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::{Duration, Instant};

use probe_rs::architecture::arm::FullyQualifiedApAddress;
use probe_rs::config::{MemoryRegion, NvmRegion, Target};
use probe_rs::flashing::{FlashAlgorithm, FlashError, ProgressEvent, ProgressOperation};
use probe_rs::{MemoryInterface, Session};

use crate::probe::batch::ReadBatch;

mod caller;
use caller::{Caller, Feed, core};

/// Largest `ProgramPage` call, bytes (the buffers are two of these at most).
pub const MAX_CHUNK: u64 = 16 * 1024;

/// The erase loop (Thumb, ARMv7-M), as `arm-none-eabi-as -mcpu=cortex-m3
/// src/flashing/erase_loop.S` assembles it (checked by `tests/firmware_rebuild.rs`): calls
/// `EraseSector` (r7) for r6 sectors of r5 bytes from r4, storing the next sector's address
/// at r8 after each (through r1), and stops at its `BKPT` with r0 = the last result.
pub const ERASE_LOOP: [u8; 20] = [
    0x20, 0x46, 0xb8, 0x47, 0x00, 0x28, 0x04, 0xd1, 0x64, 0x19, 0x41, 0x46, 0x0c, 0x60, 0x01, 0x3e,
    0xf6, 0xd1, 0x00, 0xbe,
];
/// Offset of the loop's `BKPT`, of its progress word, and the RAM it takes.
const LOOP_BKPT: u64 = 18;
const LOOP_PROGRESS: u64 = 20;
const LOOP_SPACE: u64 = 32;

/// `Init` and `UnInit` limit, as probe-rs's loader.
const INIT_TIMEOUT: Duration = Duration::from_secs(2);
/// Added to every routine's own limit: the virtual chip in a debug build runs the algorithm
/// at a fraction of a real core's speed.
const SLACK: Duration = Duration::from_secs(2);

/// CMSIS-Pack `Init` function codes.
const FN_ERASE: u32 = 1;
const FN_PROGRAM: u32 = 2;

/// The work for one NVM region.
#[derive(Debug)]
pub struct Region {
    algo: FlashAlgorithm,
    core: usize,
    /// Sectors to erase, in address order.
    sectors: Vec<Range<u64>>,
    /// Runs of whole algorithm pages, at most [`MAX_CHUNK`] bytes each, in address order.
    chunks: Vec<(u64, Vec<u8>)>,
    /// One or two RAM buffers of the largest chunk's size.
    buffers: Vec<u64>,
    /// Where [`ERASE_LOOP`] and its progress word go, when RAM has room for them.
    erase_loop: Option<u64>,
}

impl Region {
    /// Sector ranges to erase.
    pub fn sectors(&self) -> &[Range<u64>] {
        &self.sectors
    }
    /// `ProgramPage` calls: (flash address, bytes).
    pub fn chunks(&self) -> &[(u64, Vec<u8>)] {
        &self.chunks
    }
}

/// Why the lean path stopped.
#[derive(Debug)]
pub enum Failure {
    /// Nothing was erased: the caller may run probe-rs's loader instead (the reason, for the log).
    Before(String),
    /// A failure after the first erase started, as probe-rs's loader would report it.
    Flash(FlashError),
}

/// (address, bytes) pieces of an image.
type Blocks<'a> = Vec<(u64, &'a [u8])>;

/// Plans `blocks` ((address, bytes), non-overlapping) on `target`; the error says why the lean
/// path is not taken.
pub fn plan(target: &Target, blocks: &[(u64, Vec<u8>)]) -> Result<Vec<Region>, String> {
    if target.cores.len() != 1 {
        return Err("the target has more than one core".into());
    }
    let mut groups: Vec<(NvmRegion, Blocks<'_>)> = Vec::new();
    for (addr, data) in blocks {
        if data.is_empty() {
            continue;
        }
        let end = addr + data.len() as u64;
        let Some(r) = target.memory_map.iter().find_map(|m| match m {
            MemoryRegion::Nvm(r) if r.range.start <= *addr && end <= r.range.end => Some(r),
            _ => None,
        }) else {
            return Err(format!(
                "0x{addr:08x}..0x{end:08x} is not inside one flash region"
            ));
        };
        match groups.iter_mut().find(|(g, _)| g.range == r.range) {
            Some((_, v)) => v.push((*addr, data)),
            None => groups.push((r.clone(), vec![(*addr, data)])),
        }
    }
    groups
        .into_iter()
        .map(|(region, blocks)| plan_region(target, &region, &blocks))
        .collect()
}

fn plan_region(
    target: &Target,
    region: &NvmRegion,
    blocks: &[(u64, &[u8])],
) -> Result<Region, String> {
    let core_name = region
        .cores
        .first()
        .cloned()
        .unwrap_or_else(|| target.cores[0].name.clone());
    let core = target
        .cores
        .iter()
        .position(|c| c.name == core_name)
        .ok_or("no core accesses the flash region")?;
    let fits: Vec<_> = target
        .flash_algorithms
        .iter()
        .filter(|a| {
            let r = &a.flash_properties.address_range;
            r.start <= region.range.start
                && region.range.end <= r.end
                && (a.cores.is_empty() || a.cores.contains(&core_name))
        })
        .collect();
    let raw = match fits.as_slice() {
        [one] => *one,
        many => {
            let defaults: Vec<_> = many.iter().filter(|a| a.default).collect();
            match defaults.as_slice() {
                [one] => **one,
                _ => return Err("no single flash algorithm for the region".into()),
            }
        }
    };
    let algo = FlashAlgorithm::assemble_from_raw_with_core(raw, &core_name, target)
        .map_err(|e| e.to_string())?;
    // The default encoding is raw bytes.
    if algo.transfer_encoding != Default::default() {
        return Err("the flash algorithm takes encoded data".into());
    }
    let page = u64::from(algo.flash_properties.page_size);
    if page == 0 || page % 4 != 0 {
        return Err("the algorithm's page size is not a multiple of 4".into());
    }
    // RAM after everything probe-rs placed (code, page buffers, stack) holds the buffers.
    let ram_end = target
        .memory_map
        .iter()
        .find_map(|m| match m {
            MemoryRegion::Ram(r) if r.range.contains(&algo.load_address) => Some(r.range.end),
            _ => None,
        })
        .ok_or("the algorithm is not in a RAM region")?;
    let used_end = algo
        .page_buffers
        .iter()
        .map(|b| b + page)
        .chain([
            algo.stack_top,
            algo.load_address + 4 * algo.instructions.len() as u64,
        ])
        .max()
        .unwrap_or(algo.stack_top)
        .next_multiple_of(8);
    // The erase loop first, when the buffers still get two pages.
    let (erase_loop, used_end) = if ram_end.saturating_sub(used_end) >= LOOP_SPACE + 2 * page {
        (Some(used_end), used_end + LOOP_SPACE)
    } else {
        (None, used_end)
    };
    let free = ram_end.saturating_sub(used_end);
    let mut chunk = ((free / 2) / page * page).min(MAX_CHUNK / page * page);
    let buffers = if chunk >= page {
        vec![used_end, used_end + chunk]
    } else {
        chunk = page;
        algo.page_buffers.clone()
    };
    if buffers.is_empty() {
        return Err("no RAM buffer for the data".into());
    }

    // Whole pages, the gaps filled with the erased value (what probe-rs writes).
    let erased = algo.flash_properties.erased_byte_value;
    let mut pages: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for &(addr, data) in blocks {
        let mut a = addr;
        let end = addr + data.len() as u64;
        while a < end {
            let base = a - a % page;
            let n = (base + page).min(end) - a;
            let p = pages
                .entry(base)
                .or_insert_with(|| vec![erased; page as usize]);
            let off = (a - addr) as usize;
            p[(a - base) as usize..(a - base + n) as usize]
                .copy_from_slice(&data[off..off + n as usize]);
            a += n;
        }
    }
    let mut sectors: Vec<Range<u64>> = Vec::new();
    let mut chunks: Vec<(u64, Vec<u8>)> = Vec::new();
    for (base, bytes) in pages {
        let mut a = base;
        while a < base + page {
            let s = algo
                .sector_info(a)
                .ok_or_else(|| format!("0x{a:08x} is in no sector of the algorithm"))?;
            let r = s.base_address..s.base_address + s.size;
            if sectors.last() != Some(&r) {
                sectors.push(r.clone());
            }
            a = r.end;
        }
        match chunks.last_mut() {
            Some((start, data))
                if *start + data.len() as u64 == base && (data.len() as u64) < chunk =>
            {
                data.extend_from_slice(&bytes)
            }
            _ => chunks.push((base, bytes)),
        }
    }
    sectors.dedup();
    Ok(Region {
        algo,
        core,
        sectors,
        chunks,
        buffers,
        erase_loop,
    })
}

/// Runs the plan on the session's core through access port `ap` (the core's MEM-AP), telling
/// `on_event` what probe-rs's loader would (progress bars, the diagnosis's tracker). Leaves the
/// core halted at the algorithm's `BKPT` with DFSR.BKPT set (the caller tells probe-rs to read
/// the core state again).
pub fn run(
    session: &mut Session,
    ap: u8,
    reads: Option<&ReadBatch>,
    regions: &[Region],
    on_event: &mut dyn FnMut(ProgressEvent),
) -> Result<(), Failure> {
    let erase_total: u64 = regions
        .iter()
        .flat_map(|r| &r.sectors)
        .map(|s| s.end - s.start)
        .sum();
    let program_total: u64 = regions
        .iter()
        .flat_map(|r| &r.chunks)
        .map(|c| c.1.len() as u64)
        .sum();
    // The bars appear once the first Init went well (before it, probe-rs's loader may still
    // take over and draws its own).
    let mut bars = Some((erase_total, program_total));
    let ap = FullyQualifiedApAddress::v1_with_default_dp(ap);
    let mut erased_any = false;
    for (i, region) in regions.iter().enumerate() {
        let before = |e: &dyn std::fmt::Display| Failure::Before(e.to_string());
        {
            let mut core = session.core(region.core).map_err(|e| before(&e))?;
            if i == 0 {
                core.reset_and_halt(Duration::from_millis(500))
                    .map_err(|e| before(&e))?;
            }
            core.write_32(region.algo.load_address, &region.algo.instructions)
                .map_err(|e| before(&e))?;
        }
        let iface = session.get_arm_interface().map_err(|e| before(&e))?;
        let mut c = Caller::new(iface, ap.clone(), reads, &region.algo).map_err(|e| before(&e))?;
        if let Some(at) = region.erase_loop {
            c.load(at, &ERASE_LOOP).map_err(|e| before(&e))?;
        }
        let r = region_run(&mut c, region, on_event, &mut bars, &mut erased_any);
        let restored = c.finish();
        match (r, restored) {
            (Err(Failure::Flash(e)), _) if !erased_any => {
                return Err(Failure::Before(e.to_string()));
            }
            (Err(e), _) => return Err(e),
            (Ok(()), Err(e)) => return Err(Failure::Flash(FlashError::Core(e.into()))),
            (Ok(()), Ok(())) => {}
        }
    }
    Ok(())
}

fn region_run(
    c: &mut Caller<'_>,
    region: &Region,
    on_event: &mut dyn FnMut(ProgressEvent),
    bars: &mut Option<(u64, u64)>,
    erased_any: &mut bool,
) -> Result<(), Failure> {
    let algo = &region.algo;
    let props = &algo.flash_properties;
    let flash_start = props.address_range.start as u32;
    let mut feed = Feed {
        chunks: &region.chunks,
        buffers: &region.buffers,
        next: 0,
        off: 0,
        programmed: 0,
        window: 1,
    };
    // `Init` (r0 = flash start, r1 = 0, r2 = function; also sets r9, SP, xPSR) and `UnInit`
    // (r0 = function), each optional, with probe-rs's errors.
    let init = |c: &mut Caller<'_>, f: u32, feed: &mut Feed<'_>| {
        optional_call(
            c,
            algo.pc_init,
            &[flash_start, 0, f],
            true,
            feed,
            "init",
            FlashError::Init,
        )
    };
    let uninit = |c: &mut Caller<'_>, f: u32, feed: &mut Feed<'_>| {
        optional_call(
            c,
            algo.pc_uninit,
            &[f],
            false,
            feed,
            "uninit",
            FlashError::Uninit,
        )
    };
    let flash = Failure::Flash;

    // Erase.
    init(c, FN_ERASE, &mut feed).map_err(flash)?;
    if let Some((erase, program)) = bars.take() {
        for (operation, total) in [
            (ProgressOperation::Erase, erase),
            (ProgressOperation::Program, program),
        ] {
            on_event(ProgressEvent::AddProgressBar {
                operation,
                total: Some(total),
            });
        }
    }
    on_event(ProgressEvent::Started(ProgressOperation::Erase));
    let sector_timeout = Duration::from_millis(u64::from(props.erase_sector_timeout));
    let mut done = 0;
    while done < region.sectors.len() {
        // A run of contiguous sectors of one size: one erase-loop call when there is a loop.
        let run = match region.erase_loop {
            Some(_) => uniform_run(&region.sectors[done..]),
            None => 1,
        };
        let sectors = &region.sectors[done..done + run];
        let size = sectors[0].end - sectors[0].start;
        let mut progress = EraseProgress {
            sectors,
            reported: 0,
            since: Instant::now(),
        };
        *erased_any = true;
        let r = match region.erase_loop {
            Some(at) => c.erase_loop(
                at,
                algo.pc_erase_sector,
                (sectors[0].start, size, run),
                sector_timeout * run as u32 + SLACK,
                &mut feed,
                &mut |upto| progress.upto(upto, on_event),
            ),
            None => c
                .call(
                    algo.pc_erase_sector,
                    &[sectors[0].start as u32],
                    false,
                    sector_timeout + SLACK,
                    &mut feed,
                )
                .map(|rc| (rc, sectors[0].start)),
        };
        let failure = match r {
            Ok((0, _)) => None,
            Ok((error_code, at)) => Some((
                at,
                FlashError::RoutineCallFailed {
                    name: "erase_sector".into(),
                    error_code,
                },
            )),
            Err(e) => Some((progress.current(), e)),
        };
        if let Some((sector_address, e)) = failure {
            on_event(ProgressEvent::Failed(ProgressOperation::Erase));
            return Err(flash(FlashError::EraseFailed {
                sector_address,
                source: Box::new(e),
            }));
        }
        progress.upto(u64::MAX, on_event);
        done += run;
    }
    on_event(ProgressEvent::Finished(ProgressOperation::Erase));
    uninit(c, FN_ERASE, &mut feed).map_err(flash)?;

    // Program, double buffered: the next chunk goes to the other buffer while the core
    // programs this one.
    init(c, FN_PROGRAM, &mut feed).map_err(flash)?;
    feed.window = region.buffers.len();
    on_event(ProgressEvent::Started(ProgressOperation::Program));
    let page = u64::from(props.page_size);
    let timeout = |len: usize| {
        Duration::from_millis(u64::from(props.program_page_timeout) * (len as u64).div_ceil(page))
            + SLACK
    };
    let r = (|| -> Result<(), FlashError> {
        for (i, (addr, data)) in region.chunks.iter().enumerate() {
            let buf = region.buffers[i % region.buffers.len()];
            feed.load_through(c, i).map_err(core)?;
            let t = Instant::now();
            let page_write = |e: FlashError| FlashError::PageWrite {
                page_address: *addr,
                source: Box::new(e),
            };
            c.start(
                algo.pc_program_page,
                &[*addr as u32, data.len() as u32, buf as u32],
                false,
            )
            .map_err(|e| page_write(core(e)))?;
            // Reported when started, as probe-rs's double-buffered loader does: the diagnosis
            // counts the last reported chunk as not (completely) written.
            on_event(ProgressEvent::Progress {
                operation: ProgressOperation::Program,
                size: data.len() as u64,
                time: t.elapsed(),
            });
            // The next chunk goes to the other buffer meanwhile.
            let rc = c.wait(timeout(data.len()), &mut feed).map_err(page_write)?;
            if rc != 0 {
                return Err(page_write(FlashError::RoutineCallFailed {
                    name: "program_page".into(),
                    error_code: rc,
                }));
            }
            feed.programmed = i + 1;
        }
        Ok(())
    })();
    if let Err(e) = r {
        on_event(ProgressEvent::Failed(ProgressOperation::Program));
        return Err(flash(e));
    }
    on_event(ProgressEvent::Finished(ProgressOperation::Program));
    uninit(c, FN_PROGRAM, &mut feed).map_err(flash)
}

/// Calls the routine at `pc` if the algorithm has it; a non-zero result is
/// `RoutineCallFailed { name }`, a failed call `wrap`'s error.
fn optional_call(
    c: &mut Caller<'_>,
    pc: Option<u64>,
    args: &[u32],
    init: bool,
    feed: &mut Feed<'_>,
    name: &str,
    wrap: fn(Box<dyn std::error::Error + Send + Sync>) -> FlashError,
) -> Result<(), FlashError> {
    let Some(pc) = pc else {
        return Ok(());
    };
    match c
        .call(pc, args, init, INIT_TIMEOUT, feed)
        .map_err(|e| wrap(Box::new(e)))?
    {
        0 => Ok(()),
        error_code => Err(FlashError::RoutineCallFailed {
            name: name.into(),
            error_code,
        }),
    }
}

/// How many sectors from the first of `sectors` are contiguous and of its size.
fn uniform_run(sectors: &[Range<u64>]) -> usize {
    let size = sectors[0].end - sectors[0].start;
    1 + sectors
        .windows(2)
        .take_while(|w| w[1].start == w[0].end && w[1].end - w[1].start == size)
        .count()
}

/// The erase progress events of one erase-loop call: a `Progress` per sector, once the loop's
/// progress word has passed it.
struct EraseProgress<'s> {
    sectors: &'s [Range<u64>],
    reported: usize,
    since: Instant,
}

impl EraseProgress<'_> {
    /// Reports the sectors that end at or below `upto` (the next sector's address).
    fn upto(&mut self, upto: u64, on_event: &mut dyn FnMut(ProgressEvent)) {
        while let Some(s) = self.sectors.get(self.reported).filter(|s| s.end <= upto) {
            on_event(ProgressEvent::Progress {
                operation: ProgressOperation::Erase,
                size: s.end - s.start,
                time: self.since.elapsed(),
            });
            self.since = Instant::now();
            self.reported += 1;
        }
    }

    /// The sector being erased (the first not reported).
    fn current(&self) -> u64 {
        self.sectors
            .get(self.reported)
            .or(self.sectors.last())
            .map_or(0, |s| s.start)
    }
}
