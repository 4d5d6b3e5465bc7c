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

use probe_rs::architecture::arm::{ArmDebugInterface, ArmError, FullyQualifiedApAddress};
use probe_rs::config::{MemoryRegion, NvmRegion, Target};
use probe_rs::flashing::{FlashAlgorithm, FlashError, ProgressEvent, ProgressOperation};
use probe_rs::{CoreStatus, HaltReason, MemoryInterface, Session};

use crate::diagnose::regs::DHCSR;
use crate::diagnose::regs::dhcsr::{C_DEBUGEN, DBGKEY, S_HALT, S_LOCKUP, S_REGRDY};

/// Largest `ProgramPage` call, bytes (the buffers are two of these at most).
pub const MAX_CHUNK: u64 = 16 * 1024;

/// MEM-AP registers (ADIv5 §C2.6): CSW, TAR, DRW, BD0–BD3.
const CSW: u64 = 0x00;
const TAR: u64 = 0x04;
const DRW: u64 = 0x0C;
const BD0: u64 = 0x10;
const BD1: u64 = 0x14;
const BD2: u64 = 0x18;
const BD3: u64 = 0x1C;
/// CSW.Size and CSW.AddrInc; 32-bit, single increment.
const CSW_SIZE_INC: u32 = 0x37;
const CSW_WORD_INC: u32 = 0x12;
/// TAR auto-increment is guaranteed within 1 KiB only (ADIv5 §C2.2.2).
const TAR_PAGE: u64 = 0x400;

/// DCRSR.REGWnR (ARMv7-M ARM §C1.6.3) and the REGSEL values used.
const REGWNR: u32 = 1 << 16;
const R0: u16 = 0;
const R9: u16 = 9;
const SP: u16 = 13;
const LR: u16 = 14;
const PC: u16 = 15;
const XPSR: u16 = 16;

/// DEMCR's fault vector catches (ARMv7-M ARM §C1.6.5): HARDERR, INTERR, BUSERR, STATERR,
/// CHKERR, NOCPERR, MMERR.
const VC_FAULTS: u32 = 0x7F0;

/// `Init` and `UnInit` limit, as probe-rs's loader.
const INIT_TIMEOUT: Duration = Duration::from_secs(2);
/// Added to every routine's own limit: the virtual chip in a debug build runs the algorithm
/// at a fraction of a real core's speed.
const SLACK: Duration = Duration::from_secs(2);

/// How long a routine is polled back to back once there is nothing left to load, and the
/// pauses between two DHCSR reads after that (doubling): an erase or the last `ProgramPage`
/// then costs a few reads, not one per transaction time (a 22 ms G4/L4 page erase is about
/// 120 back-to-back reads), and a routine that ends at once costs one.
const TIGHT: Duration = Duration::from_millis(2);
const PAUSE_FIRST: Duration = Duration::from_millis(4);
const PAUSE_MAX: Duration = Duration::from_millis(16);

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

/// Plans `blocks` ((address, bytes), non-overlapping) on `target`; the error says why the lean
/// path is not taken.
pub fn plan(target: &Target, blocks: &[(u64, Vec<u8>)]) -> Result<Vec<Region>, String> {
    if target.cores.len() != 1 {
        return Err("the target has more than one core".into());
    }
    let mut groups: Vec<(NvmRegion, Vec<(u64, &[u8])>)> = Vec::new();
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
    })
}

/// Runs the plan on the session's core through access port `ap` (the core's MEM-AP), telling
/// `on_event` what probe-rs's loader would (progress bars, the diagnosis's tracker). Leaves the
/// core halted at the algorithm's `BKPT` with DFSR.BKPT set (the caller tells probe-rs to read
/// the core state again).
pub fn run(
    session: &mut Session,
    ap: u8,
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
        let mut c = Caller::new(iface, ap.clone(), &region.algo).map_err(|e| before(&e))?;
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
    let init = |c: &mut Caller<'_>, f: u32, feed: &mut Feed<'_>| -> Result<(), FlashError> {
        if let Some(pc) = algo.pc_init {
            let rc = c
                .call(pc, &[flash_start, 0, f], true, INIT_TIMEOUT, feed)
                .map_err(|e| FlashError::Init(Box::new(e)))?;
            if rc != 0 {
                return Err(FlashError::RoutineCallFailed {
                    name: "init".into(),
                    error_code: rc,
                });
            }
        }
        Ok(())
    };
    let uninit = |c: &mut Caller<'_>, f: u32, feed: &mut Feed<'_>| -> Result<(), FlashError> {
        if let Some(pc) = algo.pc_uninit {
            let rc = c
                .call(pc, &[f], false, INIT_TIMEOUT, feed)
                .map_err(|e| FlashError::Uninit(Box::new(e)))?;
            if rc != 0 {
                return Err(FlashError::RoutineCallFailed {
                    name: "uninit".into(),
                    error_code: rc,
                });
            }
        }
        Ok(())
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
    let erase_timeout = Duration::from_millis(u64::from(props.erase_sector_timeout)) + SLACK;
    for s in &region.sectors {
        let t = Instant::now();
        *erased_any = true;
        let rc = c
            .call(
                algo.pc_erase_sector,
                &[s.start as u32],
                false,
                erase_timeout,
                &mut feed,
            )
            .and_then(|rc| match rc {
                0 => Ok(()),
                error_code => Err(FlashError::RoutineCallFailed {
                    name: "erase_sector".into(),
                    error_code,
                }),
            });
        if let Err(e) = rc {
            on_event(ProgressEvent::Failed(ProgressOperation::Erase));
            return Err(flash(FlashError::EraseFailed {
                sector_address: s.start,
                source: Box::new(e),
            }));
        }
        on_event(ProgressEvent::Progress {
            operation: ProgressOperation::Erase,
            size: s.end - s.start,
            time: t.elapsed(),
        });
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

/// The chunks' way into the RAM buffers, 1 KiB at a time, while the core erases or programs:
/// chunk `i` goes to buffer `i % n`, once the chunk that used that buffer before is programmed.
struct Feed<'r> {
    chunks: &'r [(u64, Vec<u8>)],
    buffers: &'r [u64],
    /// The chunk being loaded and how many of its bytes are in RAM.
    next: usize,
    off: usize,
    /// Chunks programmed (their buffers are free).
    programmed: usize,
    /// Chunks that may be in RAM ahead of `programmed`: one while erasing (the next one is
    /// loaded while the first is programmed), the buffer count while programming.
    window: usize,
}

impl Feed<'_> {
    fn can_load(&self) -> bool {
        self.next < self.chunks.len() && self.next < self.programmed + self.window
    }

    /// Loads the next piece (up to 1 KiB, to the next TAR page boundary); false when there is
    /// nothing to load now.
    fn piece(&mut self, c: &mut Caller<'_>) -> Result<bool, ArmError> {
        if !self.can_load() {
            return Ok(false);
        }
        let data = &self.chunks[self.next].1;
        let addr = self.buffers[self.next % self.buffers.len()] + self.off as u64;
        let n = ((TAR_PAGE - addr % TAR_PAGE) as usize).min(data.len() - self.off);
        c.load(addr, &data[self.off..self.off + n])?;
        self.off += n;
        if self.off == data.len() {
            self.next += 1;
            self.off = 0;
        }
        Ok(true)
    }

    /// Loads chunk `i` completely (its buffer must be free).
    fn load_through(&mut self, c: &mut Caller<'_>, i: usize) -> Result<(), ArmError> {
        while self.next <= i {
            if !self.piece(c)? {
                return Err(ArmError::Other("internal: a buffer is still in use".into()));
            }
        }
        Ok(())
    }
}

/// Calls algorithm routines through the banked registers; TAR stays at DHCSR's block except
/// while data is written to a buffer.
struct Caller<'a> {
    i: &'a mut dyn ArmDebugInterface,
    ap: FullyQualifiedApAddress,
    /// The algorithm's `BKPT` (its load address): the return address of every call.
    bkpt: u32,
    static_base: u32,
    stack_top: u32,
    /// DEMCR before the run, written back by [`Caller::finish`].
    demcr: u32,
    /// TAR is at DHCSR's block.
    at_dcb: bool,
    /// A routine was started and DHCSR not read since.
    started: bool,
}

impl<'a> Caller<'a> {
    fn new(
        i: &'a mut dyn ArmDebugInterface,
        ap: FullyQualifiedApAddress,
        algo: &FlashAlgorithm,
    ) -> Result<Self, ArmError> {
        let csw = i.read_raw_ap_register(&ap, CSW)?;
        if csw & CSW_SIZE_INC != CSW_WORD_INC {
            i.write_raw_ap_register(&ap, CSW, (csw & !CSW_SIZE_INC) | CSW_WORD_INC)?;
        }
        i.write_raw_ap_register(&ap, TAR, DHCSR as u32)?;
        let demcr = i.read_raw_ap_register(&ap, BD3)?;
        i.write_raw_ap_register(&ap, BD3, demcr | VC_FAULTS)?;
        Ok(Caller {
            i,
            ap,
            bkpt: algo.load_address as u32,
            static_base: algo.static_base as u32,
            stack_top: algo.stack_top as u32,
            demcr,
            at_dcb: true,
            started: false,
        })
    }

    fn to_dcb(&mut self) -> Result<(), ArmError> {
        if !self.at_dcb {
            self.i.write_raw_ap_register(&self.ap, TAR, DHCSR as u32)?;
            self.at_dcb = true;
        }
        Ok(())
    }

    /// Writes `data` (a multiple of 4 bytes) to RAM at `addr`.
    fn load(&mut self, addr: u64, data: &[u8]) -> Result<(), ArmError> {
        self.at_dcb = false;
        let words: Vec<u32> = data
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let mut a = addr;
        let mut rest = &words[..];
        while !rest.is_empty() {
            let n = (((TAR_PAGE - a % TAR_PAGE) / 4) as usize).min(rest.len());
            self.i.write_raw_ap_register(&self.ap, TAR, a as u32)?;
            self.i
                .write_raw_ap_register_repeated(&self.ap, DRW, &rest[..n])?;
            a += 4 * n as u64;
            rest = &rest[n..];
        }
        Ok(())
    }

    /// Reads a core register of the halted core: DCRSR, then DCRDR. S_REGRDY is not polled in
    /// between: the transfer takes a few core cycles and the next DAP transaction is far
    /// later (OpenOCD's fast register reads do the same); the next routine start checks it.
    fn read_reg(&mut self, sel: u16) -> Result<u32, FlashError> {
        self.to_dcb().map_err(core)?;
        self.i
            .write_raw_ap_register(&self.ap, BD1, u32::from(sel))
            .map_err(core)?;
        self.i.read_raw_ap_register(&self.ap, BD2).map_err(core)
    }

    /// Starts the routine at `pc` with `args` in r0–r3 (and r9, SP, xPSR on `init`), returning
    /// to the `BKPT`.
    fn start(&mut self, pc: u64, args: &[u32], init: bool) -> Result<(), ArmError> {
        self.to_dcb()?;
        let mut regs: Vec<(u16, u32)> = args
            .iter()
            .enumerate()
            .map(|(n, v)| (R0 + n as u16, *v))
            .collect();
        if init {
            regs.extend([
                (R9, self.static_base),
                (SP, self.stack_top),
                (XPSR, 1 << 24),
            ]);
        }
        regs.extend([(LR, self.bkpt | 1), (PC, pc as u32)]);
        for (sel, v) in regs {
            self.i.write_raw_ap_register(&self.ap, BD2, v)?;
            self.i
                .write_raw_ap_register(&self.ap, BD1, u32::from(sel) | REGWNR)?;
        }
        // Run. Whether the register writes completed (S_REGRDY) is seen in the first DHCSR
        // read of the wait, in the same batch of transactions (when the core is halted again
        // by then: S_REGRDY is UNKNOWN while it runs, ARMv7-M ARM §C1.6.2).
        self.i
            .write_raw_ap_register(&self.ap, BD0, DBGKEY | C_DEBUGEN)?;
        self.started = true;
        Ok(())
    }

    /// Waits until the routine stops at the `BKPT`, loading `feed`'s next pieces meanwhile;
    /// returns r0.
    fn wait(&mut self, timeout: Duration, feed: &mut Feed<'_>) -> Result<u32, FlashError> {
        let start = Instant::now();
        // Nothing left to load: DHCSR back to back for TIGHT, then after pauses that double.
        let mut idle: Option<(Instant, Duration)> = None;
        loop {
            if feed.piece(self).map_err(core)? {
                continue;
            }
            match &mut idle {
                None => idle = Some((Instant::now(), PAUSE_FIRST)),
                Some((since, pause)) if since.elapsed() >= TIGHT => {
                    std::thread::sleep(*pause);
                    *pause = (*pause * 2).min(PAUSE_MAX);
                }
                Some(_) => {}
            }
            self.to_dcb().map_err(core)?;
            let dhcsr = self.i.read_raw_ap_register(&self.ap, BD0).map_err(core)?;
            if std::mem::take(&mut self.started) && dhcsr & (S_HALT | S_REGRDY) == S_HALT {
                return Err(FlashError::Core(probe_rs::Error::Other(format!(
                    "a core register write to start the flash algorithm did not complete (DHCSR 0x{dhcsr:08x})"
                ))));
            }
            if dhcsr & S_LOCKUP != 0 {
                return Err(FlashError::UnexpectedCoreStatus {
                    status: CoreStatus::LockedUp,
                });
            }
            if dhcsr & S_HALT != 0 {
                break;
            }
            if start.elapsed() > timeout {
                return Err(FlashError::Core(probe_rs::Error::Timeout));
            }
        }
        let pc = self.read_reg(PC)?;
        if pc != self.bkpt {
            // A fault vector catch (or a breakpoint) halted the routine.
            return Err(FlashError::UnexpectedCoreStatus {
                status: CoreStatus::Halted(HaltReason::Exception),
            });
        }
        self.read_reg(R0)
    }

    fn call(
        &mut self,
        pc: u64,
        args: &[u32],
        init: bool,
        timeout: Duration,
        feed: &mut Feed<'_>,
    ) -> Result<u32, FlashError> {
        self.start(pc, args, init).map_err(core)?;
        self.wait(timeout, feed)
    }

    /// Halts the core if a routine still runs (after a failure) and writes DEMCR back.
    fn finish(mut self) -> Result<(), ArmError> {
        use crate::diagnose::regs::dhcsr::C_HALT;
        self.to_dcb()?;
        let dhcsr = self.i.read_raw_ap_register(&self.ap, BD0)?;
        if dhcsr & S_HALT == 0 {
            self.i
                .write_raw_ap_register(&self.ap, BD0, DBGKEY | C_DEBUGEN | C_HALT)?;
        }
        self.i.write_raw_ap_register(&self.ap, BD3, self.demcr)?;
        self.i.flush()
    }
}

fn core(e: ArmError) -> FlashError {
    FlashError::Core(e.into())
}
