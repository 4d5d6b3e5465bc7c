//! Flash diagnosis for STM32F1 banks: the flash controller's registers read through the session
//! and decoded in words (RM0008 §3.5, PM0075 §3-4), read-out and write protection found before
//! anything is erased, and interrupted writes tracked from probe-rs's [`ProgressEvent`]s so that
//! the pages left erased can be named.
//!
//! Nothing here changes the chip: the fixes (`stm32f1x unlock 0`, `flash protect …`) are
//! proposed as commands and run only when the user types them.

use std::ops::Range;
use std::sync::Mutex;

use probe_rs::MemoryInterface;
use probe_rs::flashing::{FlashError, ProgressEvent, ProgressOperation};

use super::f1_line;
use super::fpec::{
    FLASH_AR, FLASH_CR, FLASH_OBR, FLASH_SR, FLASH_WRPR, OBR_RDPRT, SR_BSY, SR_EOP, SR_PGERR,
    SR_WRPRTERR,
};
use crate::command::CommandError;
use crate::host::Host;

/// The F1 flash controller's registers as read after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpecRegs {
    /// FLASH_SR.
    pub sr: u32,
    /// FLASH_CR.
    pub cr: u32,
    /// FLASH_AR.
    pub ar: u32,
    /// FLASH_OBR.
    pub obr: u32,
    /// FLASH_WRPR.
    pub wrpr: u32,
}

impl FpecRegs {
    /// OBR.RDPRT: read-out protection level 1 is active.
    pub fn rdp_active(&self) -> bool {
        self.obr & OBR_RDPRT != 0
    }

    /// `FLASH_SR = 0x00000014 (PGERR, WRPRTERR)`-style evidence line.
    pub fn evidence(&self) -> String {
        let bits = sr_bits(self.sr);
        let sr = if bits.is_empty() {
            String::from("no error bits")
        } else {
            bits.join(", ")
        };
        format!(
            "FLASH_SR = 0x{:08x} ({sr}), FLASH_CR = 0x{:08x}, FLASH_AR = 0x{:08x}, FLASH_OBR = 0x{:08x} (RDPRT = {}), FLASH_WRPR = 0x{:08x}",
            self.sr,
            self.cr,
            self.ar,
            self.obr,
            u32::from(self.rdp_active()),
            self.wrpr
        )
    }
}

/// The names of the set FLASH_SR bits.
pub fn sr_bits(sr: u32) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (bit, name) in [
        (SR_BSY, "BSY"),
        (SR_PGERR, "PGERR"),
        (SR_WRPRTERR, "WRPRTERR"),
        (SR_EOP, "EOP"),
    ] {
        if sr & bit != 0 {
            v.push(name);
        }
    }
    v
}

/// FLASH_SR error bits in words (RM0008 §3.5.3).
pub fn sr_words(sr: u32) -> Vec<&'static str> {
    let mut v = Vec::new();
    if sr & SR_PGERR != 0 {
        v.push("PGERR: a half-word was programmed that was not erased (it did not read 0xFFFF)");
    }
    if sr & SR_WRPRTERR != 0 {
        v.push("WRPRTERR: a write-protected page was to be erased or programmed");
    }
    if sr & SR_BSY != 0 {
        v.push("BSY: an operation is still in progress");
    }
    v
}

/// Reads the F1 flash controller's registers through the session; `None` when the link does
/// not answer (then the caller says so).
pub fn read_fpec(host: &Host) -> Option<FpecRegs> {
    host.with_core(|core, _| {
        Ok(FpecRegs {
            sr: core.read_word_32(FLASH_SR)?,
            cr: core.read_word_32(FLASH_CR)?,
            ar: core.read_word_32(FLASH_AR)?,
            obr: core.read_word_32(FLASH_OBR)?,
            wrpr: core.read_word_32(FLASH_WRPR)?,
        })
    })
    .ok()
}

/// An stm32f1x bank's geometry for messages: base, page size, pages per WRPR bit.
#[derive(Debug, Clone)]
pub struct F1Geometry {
    /// Bank index (`flash banks` number).
    pub index: usize,
    /// Bank name.
    pub name: String,
    /// Bank base address.
    pub base: u64,
    /// Bank size in bytes.
    pub size: u64,
    /// Page (erase sector) size in bytes.
    pub page_size: u64,
    /// Pages per FLASH_WRPR bit.
    pub pages_per_block: u64,
}

impl F1Geometry {
    /// The page number of `addr`.
    pub fn page_of(&self, addr: u64) -> u64 {
        (addr - self.base) / self.page_size
    }

    /// The WRPR bit protecting `page` (bit 31 covers every page after the 31st block).
    pub fn block_of(&self, page: u64) -> u32 {
        (page / self.pages_per_block).min(31) as u32
    }

    /// The pages a WRPR bit covers.
    pub fn block_pages(&self, block: u32) -> Range<u64> {
        let first = u64::from(block) * self.pages_per_block;
        let last = if block == 31 {
            self.size / self.page_size
        } else {
            first + self.pages_per_block
        };
        first..last
    }

    /// `0x08000400-0x08000bff (pages 1-2)`.
    pub fn describe(&self, r: &Range<u64>) -> String {
        let (p0, p1) = (self.page_of(r.start), self.page_of(r.end - 1));
        let pages = if p0 == p1 {
            format!("page {p0}")
        } else {
            format!("pages {p0}-{p1}")
        };
        format!("0x{:08x}-0x{:08x} ({pages})", r.start, r.end - 1)
    }
}

/// The stm32f1x bank of the current target that contains `addr`, with its geometry, if the
/// bank was probed (its DEV_ID is known through the session).
pub fn f1_bank_at(host: &Host, addr: u64) -> Option<F1Geometry> {
    let candidates: Vec<usize> = {
        let t = host.targets();
        let cur = t.current()?.name.clone();
        t.banks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.driver == "stm32f1x" && b.target == cur)
            .map(|(i, _)| i)
            .collect()
    };
    let (index, bank) = candidates.into_iter().find_map(|i| {
        // A bank of size 0 is sized from F_SIZE (not a flash read, allowed under RDP).
        let b = super::ensure_probed(host, i).ok()?;
        (addr >= b.base && addr < b.base + u64::from(b.effective_size())).then_some((i, b))
    })?;
    // The probed page size; DEV_ID (when the link answers) gives the pages per WRPR bit.
    let page_size = u64::from(bank.sector_size.unwrap_or(1024));
    let pages_per_block = super::read_idcode(host)
        .ok()
        .and_then(|id| f1_line((id & 0xfff) as u16))
        .map(|l| u64::from(l.pages_per_prot_block))
        .unwrap_or(if page_size == 1024 { 4 } else { 2 });
    Some(F1Geometry {
        index,
        name: bank.name.clone(),
        base: bank.base,
        size: u64::from(bank.effective_size()),
        page_size,
        pages_per_block,
    })
}

/// The RDP explanation and fix.
pub fn rdp_message(obr: u32, bank: usize, what: &str, before: bool) -> String {
    let tail = if before { " Nothing was erased." } else { "" };
    format!(
        "{what}: read-out protection (RDP level 1) is active: FLASH_OBR = 0x{obr:08x}, RDPRT = 1. While a debugger is connected the chip refuses every read, erase and program of its flash.{tail}\n  fix: 'stm32f1x unlock {bank}' then 'reset halt' (or a power cycle). This removes the protection and the chip then MASS-ERASES its whole flash: the firmware on it is lost; program it again afterwards. stdbg never runs this for you."
    )
}

/// Before a write: refuses (nothing erased) when RDP is active or a page the image covers is
/// write-protected. `ranges` are the flash byte ranges of the image. For a verify (`write` =
/// false) only RDP matters.
pub fn check_protection(
    host: &Host,
    ranges: &[Range<u64>],
    write: bool,
) -> Result<(), CommandError> {
    let Some(first) = ranges.first() else {
        return Ok(());
    };
    let Some(g) = f1_bank_at(host, first.start) else {
        return Ok(());
    };
    let Some(regs) = read_fpec(host) else {
        return Ok(());
    };
    if regs.rdp_active() {
        let what = if write {
            "cannot program the flash"
        } else {
            "cannot read the flash"
        };
        return Err(CommandError::failed(rdp_message(
            regs.obr, g.index, what, write,
        )));
    }
    if !write {
        return Ok(());
    }
    for r in ranges {
        if r.start < g.base || r.start >= g.base + g.size {
            continue;
        }
        let end = r.end.min(g.base + g.size);
        for page in g.page_of(r.start)..=g.page_of(end - 1) {
            let block = g.block_of(page);
            if regs.wrpr & (1 << block) == 0 {
                return Err(CommandError::failed(wrp_message(
                    &g,
                    regs.wrpr,
                    page,
                    "cannot program the image",
                    true,
                )));
            }
        }
    }
    Ok(())
}

/// The WRP explanation and fix for `page`.
pub fn wrp_message(g: &F1Geometry, wrpr: u32, page: u64, what: &str, before: bool) -> String {
    let block = g.block_of(page);
    let pages = g.block_pages(block);
    let start = g.base + page * g.page_size;
    let tail = if before {
        "the flash controller would refuse to erase or program it (FLASH_SR.WRPRTERR); nothing was erased"
    } else {
        "the flash controller refused to erase or program it (FLASH_SR.WRPRTERR)"
    };
    format!(
        "{what}: page {page} (0x{start:08x}-0x{:08x}) is write-protected by WRP{} bit {} (FLASH_WRPR = 0x{wrpr:08x}: bit {block} = 0 protects pages {}-{}); {tail}.\n  fix: 'flash protect {} {block} {block} off' then 'reset halt' (the option bytes are reloaded at reset; the other option bytes are kept). stdbg never changes the option bytes for you.",
        start + g.page_size - 1,
        block / 8,
        block % 8,
        pages.start,
        pages.end - 1,
        g.index,
    )
}

/// What probe-rs's flash loader reported, turned into what happened to the flash: which
/// sectors were erased and which pages were programmed, from its [`ProgressEvent`]s.
#[derive(Debug, Clone, Default)]
pub struct FlashTracker {
    sectors: Vec<Range<u64>>,
    pages: Vec<Range<u64>>,
    erased: usize,
    programmed: usize,
    erase_running: bool,
    program_running: bool,
    program_finished: bool,
}

impl FlashTracker {
    /// Feeds one event (erase and program events arrive in layout order, RAM-side
    /// `FlashLayoutReady` first).
    pub fn handle(&mut self, ev: &ProgressEvent) {
        match ev {
            ProgressEvent::FlashLayoutReady { flash_layout } => {
                for l in flash_layout {
                    self.sectors.extend(
                        l.sectors()
                            .iter()
                            .map(|s| s.address()..s.address() + s.size()),
                    );
                    self.pages.extend(
                        l.pages()
                            .iter()
                            .map(|p| p.address()..p.address() + u64::from(p.size())),
                    );
                }
            }
            ProgressEvent::Started(ProgressOperation::Erase) => self.erase_running = true,
            ProgressEvent::Started(ProgressOperation::Program) => {
                self.program_running = true;
                self.program_finished = false;
            }
            ProgressEvent::Progress {
                operation: ProgressOperation::Erase,
                ..
            } => self.erased += 1,
            ProgressEvent::Progress {
                operation: ProgressOperation::Program,
                ..
            } => self.programmed += 1,
            ProgressEvent::Finished(ProgressOperation::Erase) => self.erase_running = false,
            ProgressEvent::Finished(ProgressOperation::Program) => {
                self.program_running = false;
                self.program_finished = true;
            }
            _ => {}
        }
    }

    /// Flash ranges that may have been erased and not (completely) programmed again. Counted
    /// conservatively: a sector whose erase was under way counts as erased, and the page whose
    /// progress event came last before a failure counts as not written (with double buffering
    /// probe-rs reports a page when it starts it).
    pub fn erased_not_written(&self) -> Vec<Range<u64>> {
        let erased_n = (self.erased + usize::from(self.erase_running)).min(self.sectors.len());
        let written_n = if self.program_finished && !self.program_running {
            self.pages.len()
        } else {
            self.programmed.saturating_sub(1).min(self.pages.len())
        };
        let written = &self.pages[..written_n];
        let mut out: Vec<Range<u64>> = Vec::new();
        for s in &self.sectors[..erased_n] {
            // Subtract the written pages from the sector.
            let mut pieces = vec![s.clone()];
            for p in written {
                pieces = pieces
                    .into_iter()
                    .flat_map(|r| {
                        if p.end <= r.start || p.start >= r.end {
                            vec![r]
                        } else {
                            [r.start..p.start, p.end..r.end]
                                .into_iter()
                                .filter(|x| x.start < x.end)
                                .collect()
                        }
                    })
                    .collect();
            }
            for r in pieces {
                match out.last_mut() {
                    Some(last) if last.end == r.start => last.end = r.end,
                    _ => out.push(r),
                }
            }
        }
        out
    }

    /// Whether any sector was (or may have been) erased.
    pub fn erase_started(&self) -> bool {
        self.erased > 0 || self.erase_running
    }
}

/// Flash ranges left erased by the last interrupted write of this process, so that a later
/// verify can say why the bytes differ. Cleared by a complete write.
static LEFT_ERASED: Mutex<Vec<Range<u64>>> = Mutex::new(Vec::new());

/// Records the ranges an interrupted write left erased (empty = none).
pub fn set_left_erased(ranges: Vec<Range<u64>>) {
    *LEFT_ERASED.lock().unwrap_or_else(|e| e.into_inner()) = ranges;
}

/// The ranges the last interrupted write left erased.
pub fn left_erased() -> Vec<Range<u64>> {
    LEFT_ERASED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

fn ranges_text(g: Option<&F1Geometry>, ranges: &[Range<u64>]) -> String {
    ranges
        .iter()
        .map(|r| match g {
            Some(g) => g.describe(r),
            None => format!("0x{:08x}-0x{:08x}", r.start, r.end - 1),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Explains a failed erase/program: `what` failed with `err`, `tracker` is what the loader
/// reported, `rerun` the command that writes the image again. On an stm32f1x bank the flash
/// controller's registers are read (if the link answers) and decoded; pages left erased are
/// named either way. Other banks get [`super::flash_error`].
pub fn explain_write_failure(
    host: &Host,
    what: &str,
    err: &FlashError,
    tracker: &FlashTracker,
    rerun: &str,
) -> CommandError {
    let failed_at = match err {
        FlashError::EraseFailed { sector_address, .. } => Some(*sector_address),
        FlashError::PageWrite { page_address, .. } => Some(*page_address),
        _ => None,
    };
    let left = tracker.erased_not_written();
    let probe_addr = failed_at
        .or_else(|| left.first().map(|r| r.start))
        .or_else(|| tracker.sectors.first().map(|s| s.start));
    let g = probe_addr.and_then(|a| f1_bank_at(host, a));
    let regs = if g.is_some() { read_fpec(host) } else { None };
    let mut msg = String::new();
    match (regs, &g) {
        (Some(regs), Some(g)) => {
            let page = failed_at.map(|a| g.page_of(a));
            if regs.rdp_active() {
                msg.push_str(&rdp_message(regs.obr, g.index, "the flash write failed", false));
            } else if let Some(p) = page.filter(|p| regs.wrpr & (1 << g.block_of(*p)) == 0) {
                msg.push_str(&wrp_message(g, regs.wrpr, p, "the flash write failed", false));
            } else {
                let words = sr_words(regs.sr);
                let at = page.map(|p| format!(" at page {p} (0x{:08x})", g.base + p * g.page_size)).unwrap_or_default();
                let chain = crate::diagnose::chain(err).join(": ");
                let bus_fault = crate::diagnose::evidence(err) == crate::diagnose::Evidence::Fault;
                let locked_up = chain.contains("LockedUp");
                if words.is_empty() && (bus_fault || locked_up) {
                    let why = if locked_up {
                        "the flash algorithm stopped because the core locked up (a fault with fault handling disabled: typically a bus error while the algorithm accessed the flash or its work area in RAM)"
                    } else {
                        "an access was refused by the bus (the debug port answered FAULT) while the flash algorithm was loaded or run: memory that does not answer, such as a bus error in the work area or the flash"
                    };
                    msg.push_str(&format!(
                        "the flash write failed{at}: {why}; the flash controller reports no programming error, so this is not PGERR or write protection"
                    ));
                } else if words.is_empty() {
                    let page_blank = page.and_then(|p| host.read_memory(g.base + p * g.page_size, g.page_size as usize).ok()).map(|d| d.iter().all(|b| *b == 0xFF));
                    let likely = match page_blank {
                        Some(false) => "the page holds data that was not erased, so programming it failed with PGERR (programming a half-word that does not read 0xFFFF): erase first ('program' or 'flash write_image erase')",
                        Some(true) => "the page reads erased, so the controller refused the write itself (PGERR or WRPRTERR, cleared by the algorithm): the write was disturbed (supply voltage, flash wear)",
                        None => "the page was probably not erased (PGERR: programming a non-erased half-word), or the write was disturbed",
                    };
                    msg.push_str(&format!(
                        "the flash controller failed{at}, and no error bit is left in FLASH_SR (probe-rs's flash algorithm clears them); the page is not write-protected and read-out protection is off; {likely}"
                    ));
                } else {
                    msg.push_str(&format!("the flash controller failed{at}: {}", words.join("; ")));
                }
            }
            msg.push_str(&format!("\n  evidence: {}", regs.evidence()));
        }
        (None, Some(_)) => msg.push_str(
            "the connection to the target was lost during the flash write: the debug port stopped answering, and the flash controller's registers cannot be read",
        ),
        _ => {}
    }
    // With the link alive the candidates are checked: only pages that read fully erased count
    // (an erase the controller refused left the old content).
    let link_alive = regs.is_some();
    let left = match (&g, link_alive) {
        (Some(g), true) => blank_pages(host, g, &left),
        _ => left,
    };
    if !left.is_empty() {
        let text = ranges_text(g.as_ref(), &left);
        let recover = if link_alive {
            format!("Recover: fix the cause above, then program again: '{rerun}'")
        } else {
            format!(
                "Recover: restore the connection (check the cable and power; 'sim fault clear' on the virtual chip): the next command attaches again by itself; then program again: '{rerun}'"
            )
        };
        msg.push_str(&format!(
            "\n  erased but not rewritten: {text}\n  these pages now hold 0xFF instead of the image: the firmware on the chip is incomplete and must not be run. {recover}. 'verify_image' fails on these pages until then."
        ));
        set_left_erased(left);
    }
    if msg.is_empty() {
        return super::flash_error(what, err);
    }
    CommandError::failed(format!(
        "{msg}\n  detail: {}",
        crate::diagnose::command_error(what, err)
    ))
}

/// The pages of `ranges` that read as erased (all 0xFF), merged into ranges.
fn blank_pages(host: &Host, g: &F1Geometry, ranges: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut out: Vec<Range<u64>> = Vec::new();
    for r in ranges {
        let mut a = r.start;
        while a < r.end {
            let page_end = (g.base + (g.page_of(a) + 1) * g.page_size).min(r.end);
            let blank = host
                .read_memory(a, (page_end - a) as usize)
                .map(|d| d.iter().all(|b| *b == 0xFF))
                .unwrap_or(true);
            if blank {
                match out.last_mut() {
                    Some(last) if last.end == a => last.end = page_end,
                    _ => out.push(a..page_end),
                }
            }
            a = page_end;
        }
    }
    out
}

/// A read of target memory failed: when it touched an stm32f1x bank and read-out protection is
/// on, say so (a FAULT on a protected flash read is the chip working as designed).
pub fn explain_read_error(host: &Host, addr: u64, len: u64, err: CommandError) -> CommandError {
    let Some(g) = f1_bank_at(host, addr).or_else(|| f1_bank_at(host, addr + len.saturating_sub(1)))
    else {
        return err;
    };
    match read_fpec(host) {
        Some(regs) if regs.rdp_active() => CommandError::failed(format!(
            "{}\n  detail: {err}",
            rdp_message(
                regs.obr,
                g.index,
                &format!(
                    "cannot read 0x{addr:08x} in flash bank #{} ({})",
                    g.index, g.name
                ),
                false
            )
        )),
        _ => err,
    }
}

/// A verify found differences: if some of them lie in pages an interrupted write left erased,
/// a sentence saying so.
pub fn verify_note(diff_addrs: impl Iterator<Item = u64>) -> Option<String> {
    let left = left_erased();
    if left.is_empty() {
        return None;
    }
    let n = diff_addrs
        .filter(|a| left.iter().any(|r| r.contains(a)))
        .count();
    (n > 0).then(|| {
        format!(
            "{n} of the differing bytes lie in pages that an interrupted flash write left erased ({}); program the image again",
            left.iter().map(|r| format!("0x{:08x}-0x{:08x}", r.start, r.end - 1)).collect::<Vec<_>>().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom() -> F1Geometry {
        F1Geometry {
            index: 0,
            name: "stm32f1x.flash".into(),
            base: 0x0800_0000,
            size: 0x10000,
            page_size: 1024,
            pages_per_block: 4,
        }
    }

    #[test]
    fn sr_decoding() {
        assert_eq!(sr_bits(0x34), vec!["PGERR", "WRPRTERR", "EOP"]);
        assert!(sr_words(0x04)[0].starts_with("PGERR"));
        assert!(sr_words(0x10)[0].starts_with("WRPRTERR"));
        assert!(sr_words(0x20).is_empty());
    }

    #[test]
    fn wrp_names_page_and_bit() {
        let m = wrp_message(&geom(), 0xffff_fffe, 0, "cannot program the image", true);
        assert!(m.starts_with("cannot program the image: page 0 (0x08000000-0x080003ff) is write-protected by WRP0 bit 0 (FLASH_WRPR = 0xfffffffe: bit 0 = 0 protects pages 0-3)"), "{m}");
        assert!(m.contains("'flash protect 0 0 0 off'"), "{m}");
        let m = wrp_message(&geom(), 0xffff_feff, 33, "x", false);
        assert!(
            m.contains("page 33 (0x08008400-0x080087ff) is write-protected by WRP1 bit 0"),
            "{m}"
        );
    }

    #[test]
    fn tracker_interrupted_during_program() {
        let mut t = FlashTracker {
            sectors: (0..4)
                .map(|i| 0x0800_0000 + i * 1024..0x0800_0000 + (i + 1) * 1024)
                .collect(),
            pages: (0..4)
                .map(|i| 0x0800_0000 + i * 1024..0x0800_0000 + (i + 1) * 1024)
                .collect(),
            ..Default::default()
        };
        t.handle(&ProgressEvent::Started(ProgressOperation::Erase));
        t.erased = 4;
        t.handle(&ProgressEvent::Finished(ProgressOperation::Erase));
        t.handle(&ProgressEvent::Started(ProgressOperation::Program));
        t.programmed = 2;
        t.handle(&ProgressEvent::Failed(ProgressOperation::Program));
        // Page 1 may be in flight: pages 1-3 are reported.
        assert_eq!(t.erased_not_written(), vec![0x0800_0400..0x0800_1000]);
        assert_eq!(
            geom().describe(&(0x0800_0400..0x0800_0c00)),
            "0x08000400-0x08000bff (pages 1-2)"
        );
        t.handle(&ProgressEvent::Finished(ProgressOperation::Program));
        assert!(t.erased_not_written().is_empty());
    }

    #[test]
    fn tracker_interrupted_during_erase() {
        let mut t = FlashTracker {
            sectors: (0..4).map(|i| i * 1024..(i + 1) * 1024).collect(),
            pages: (0..4).map(|i| i * 1024..(i + 1) * 1024).collect(),
            ..Default::default()
        };
        t.handle(&ProgressEvent::Started(ProgressOperation::Erase));
        t.erased = 1;
        assert_eq!(t.erased_not_written(), vec![0..2048]);
    }
}
