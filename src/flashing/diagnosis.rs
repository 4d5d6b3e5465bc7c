//! Flash diagnosis for the banks of a family stdbg drives (`stm32f1x`, `stm32l4x`): the flash
//! controller's registers read through the session and decoded by the family
//! ([`crate::family::Family::read_flash`]), read-out and write protection found before anything
//! is erased, and interrupted writes tracked from probe-rs's [`ProgressEvent`]s so that the pages
//! left erased can be named.
//!
//! Nothing here changes the chip: the fixes (`stm32f1x unlock 0`, `flash protect …`) are
//! proposed as commands and run only when the user types them.

use std::ops::Range;
use std::sync::Mutex;

use probe_rs::MemoryInterface;
use probe_rs::flashing::{FlashError, ProgressEvent, ProgressOperation};

use crate::command::CommandError;
use crate::family::{self, Family, FlashState, Line, Rdp};
use crate::host::Host;

/// A probed bank of a family stdbg drives, for messages: where it is and its pages.
#[derive(Clone)]
pub struct BankGeometry {
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
    /// The family serving the bank.
    pub family: &'static dyn Family,
    /// The chip's line (from DBGMCU_IDCODE when readable, else the target script's IDs).
    pub line: &'static Line,
}

impl std::fmt::Debug for BankGeometry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankGeometry")
            .field("index", &self.index)
            .field("base", &self.base)
            .field("size", &self.size)
            .field("page_size", &self.page_size)
            .field("line", &self.line.dev_id)
            .finish()
    }
}

impl BankGeometry {
    /// The page number of `addr`.
    pub fn page_of(&self, addr: u64) -> u64 {
        (addr - self.base) / self.page_size
    }

    /// Pages in the bank.
    pub fn pages(&self) -> u64 {
        self.size / self.page_size.max(1)
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

/// Reads the family's flash controller registers for bank `g` through the session; `None` when
/// the link does not answer (then the caller says so).
pub fn read_flash(host: &Host, g: &BankGeometry) -> Option<FlashState> {
    host.with_core(|core, _| {
        let mut rd = |a: u64| core.read_word_32(a).ok();
        Ok(g.family
            .read_flash(g.line, g.index, g.base, g.pages(), &mut rd))
    })
    .ok()
    .flatten()
}

/// The bank of a family stdbg drives, of the current target, that contains `addr`, with its
/// geometry, if the bank was probed (its DEV_ID is known through the session).
pub fn bank_at(host: &Host, addr: u64) -> Option<BankGeometry> {
    let (candidates, expected): (Vec<usize>, Vec<u32>) = {
        let t = host.targets();
        let cur = t.current()?;
        let name = cur.name.clone();
        let expected = cur.expected_dev_ids.clone();
        (
            t.banks
                .iter()
                .enumerate()
                .filter(|(_, b)| family::of_bank(b).is_some() && b.target == name)
                .map(|(i, _)| i)
                .collect(),
            expected,
        )
    };
    let (index, bank) = candidates.into_iter().find_map(|i| {
        // A bank of size 0 is sized from F_SIZE (not a flash read, allowed under RDP).
        let b = super::ensure_probed(host, i).ok()?;
        (addr >= b.base && addr < b.base + u64::from(b.effective_size())).then_some((i, b))
    })?;
    let fam = family::of_bank(&bank)?;
    let idcode = family::read_idcode_host(host).ok();
    let line = family::line_for(idcode, &expected);
    let page_size = u64::from(bank.sector_size.unwrap_or(line.page_size).max(1));
    Some(BankGeometry {
        index,
        name: bank.name.clone(),
        base: bank.base,
        size: u64::from(bank.effective_size()),
        page_size,
        family: fam,
        line,
    })
}

/// The RDP explanation and fix.
pub fn rdp_message(st: &FlashState, g: &BankGeometry, what: &str, before: bool) -> String {
    if st.rdp == Rdp::Level2 {
        return format!(
            "{what}: read-out protection LEVEL 2 is set: {}. Level 2 is permanent: the chip keeps its debug port disabled and refuses every flash access from a debugger for good; nothing can be done over SWD (not even an erase), only the firmware on the chip can still change its own flash.",
            st.rdp_evidence
        );
    }
    let tail = if before { " Nothing was erased." } else { "" };
    format!(
        "{what}: read-out protection (RDP level 1) is active: {}. While a debugger is connected the chip refuses every read, erase and program of its flash.{tail}\n  fix: {}. This removes the protection and the chip then MASS-ERASES its whole flash: the firmware on it is lost; program it again afterwards. stdbg never runs this for you.",
        st.rdp_evidence,
        g.family.unlock_fix(g.index)
    )
}

/// Before a write: refuses (nothing erased) when RDP is active or a page the image covers is
/// write-protected. `ranges` are the flash byte ranges of the image; each is checked against
/// the bank it starts in (an image over both banks of an H7 is checked in both). For a verify
/// (`write` = false) only RDP matters.
pub fn check_protection(
    host: &Host,
    ranges: &[Range<u64>],
    write: bool,
) -> Result<(), CommandError> {
    // Each bank is sized and read once (a probe round trip), however many ranges it holds.
    let mut banks: Vec<(BankGeometry, Option<FlashState>)> = Vec::new();
    for r in ranges {
        // A range over two banks (an H7 image across 0x0810_0000) is checked in each.
        let mut a = r.start;
        while a < r.end {
            let i = match banks
                .iter()
                .position(|(g, _)| (g.base..g.base + g.size).contains(&a))
            {
                Some(i) => i,
                None => {
                    let Some(g) = bank_at(host, a) else {
                        break;
                    };
                    let st = read_flash(host, &g);
                    banks.push((g, st));
                    banks.len() - 1
                }
            };
            let (g, st) = &banks[i];
            let next = g.base + g.size;
            if let Some(st) = st {
                check_bank(g, st, a..r.end.min(next), write)?;
            }
            a = next;
        }
    }
    Ok(())
}

/// [`check_protection`] of the part `r` of an image inside the bank `g` whose state is `st`.
fn check_bank(
    g: &BankGeometry,
    st: &FlashState,
    r: Range<u64>,
    write: bool,
) -> Result<(), CommandError> {
    if st.rdp != Rdp::Level0 {
        let what = if write {
            "cannot program the flash"
        } else {
            "cannot read the flash"
        };
        return Err(CommandError::failed(rdp_message(st, g, what, write)));
    }
    // Write protection covers main flash only: the OTP area has none (RM0351 §3.5.2).
    if !write || g.family.fixed_geometry(g.base).is_some() {
        return Ok(());
    }
    for page in g.page_of(r.start)..=g.page_of(r.end - 1) {
        if st.wrp_at(page).is_some() {
            return Err(CommandError::failed(wrp_message(
                g,
                st,
                page,
                "cannot program the image",
                true,
            )));
        }
    }
    Ok(())
}

/// The WRP explanation and fix for `page` (which must be in a protected area of `st`).
pub fn wrp_message(
    g: &BankGeometry,
    st: &FlashState,
    page: u64,
    what: &str,
    before: bool,
) -> String {
    let start = g.base + page * g.page_size;
    let tail = if before {
        format!(
            "the flash controller would refuse to erase or program it ({}); nothing was erased",
            st.wrp_error
        )
    } else {
        format!(
            "the flash controller refused to erase or program it ({})",
            st.wrp_error
        )
    };
    let (by, fix) = st
        .wrp_at(page)
        .map(|a| (a.by.clone(), a.fix.clone()))
        .unwrap_or_else(|| (st.wrp_words.clone(), String::new()));
    format!(
        "{what}: {} {page} (0x{start:08x}-0x{:08x}) is write-protected by {by}; {tail}.\n  fix: {fix}. stdbg never changes the option bytes for you.",
        g.family.page_word(),
        start + g.page_size - 1,
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
    /// The sectors to erase and the pages (or `ProgramPage` chunks) to program, in the order
    /// their events will come: what `FlashLayoutReady` gives for probe-rs's loader, for stdbg's
    /// own calls of the algorithm (`lean.rs`). Events of probe-rs's loader after it (a fallback)
    /// replace it.
    pub fn set_layout(
        &mut self,
        sectors: impl IntoIterator<Item = Range<u64>>,
        pages: impl IntoIterator<Item = Range<u64>>,
    ) {
        self.sectors = sectors.into_iter().collect();
        self.pages = pages.into_iter().collect();
    }

    /// Feeds one event (erase and program events arrive in layout order, RAM-side
    /// `FlashLayoutReady` first).
    pub fn handle(&mut self, ev: &ProgressEvent) {
        match ev {
            ProgressEvent::FlashLayoutReady { flash_layout } => {
                self.sectors.clear();
                self.pages.clear();
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

fn ranges_text(g: Option<&BankGeometry>, ranges: &[Range<u64>]) -> String {
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
    let g = probe_addr.and_then(|a| bank_at(host, a));
    let regs = g.as_ref().and_then(|g| read_flash(host, g));
    let mut msg = String::new();
    match (&regs, &g) {
        (Some(regs), Some(g)) => {
            let page = failed_at.map(|a| g.page_of(a));
            if regs.rdp != Rdp::Level0 {
                msg.push_str(&rdp_message(regs, g, "the flash write failed", false));
            } else if let Some(p) = page.filter(|p| regs.wrp_at(*p).is_some()) {
                msg.push_str(&wrp_message(g, regs, p, "the flash write failed", false));
            } else {
                let words = regs.sr_words.clone();
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
                        "the flash write failed{at}: {why}; the flash controller reports no programming error, so this is not {} or write protection",
                        regs.program_error
                    ));
                } else if words.is_empty() {
                    let page_blank = page.and_then(|p| host.read_memory(g.base + p * g.page_size, g.page_size as usize).ok()).map(|d| d.iter().all(|b| *b == 0xFF));
                    let likely = g.family.unexplained_failure(page_blank);
                    msg.push_str(&format!(
                        "the flash controller failed{at}, and no error bit is left in FLASH_SR (probe-rs's flash algorithm clears them); the page is not write-protected and read-out protection is off; {likely}"
                    ));
                } else {
                    msg.push_str(&format!("the flash controller failed{at}: {}", words.join("; ")));
                }
            }
            msg.push_str(&format!("\n  evidence: {}", regs.evidence));
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
fn blank_pages(host: &Host, g: &BankGeometry, ranges: &[Range<u64>]) -> Vec<Range<u64>> {
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

/// A read of target memory failed: when it touched a bank of a family stdbg drives and read-out protection is
/// on, say so (a FAULT on a protected flash read is the chip working as designed).
pub fn explain_read_error(host: &Host, addr: u64, len: u64, err: CommandError) -> CommandError {
    let Some(g) = bank_at(host, addr).or_else(|| bank_at(host, addr + len.saturating_sub(1)))
    else {
        return err;
    };
    match read_flash(host, &g) {
        Some(regs) if regs.rdp != Rdp::Level0 => CommandError::failed(format!(
            "{}\n  detail: {err}",
            rdp_message(
                &regs,
                &g,
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

    fn geom() -> BankGeometry {
        BankGeometry {
            index: 0,
            name: "stm32f1x.flash".into(),
            base: 0x0800_0000,
            size: 0x10000,
            page_size: 1024,
            family: &crate::family::stm32f1::STM32F1X,
            line: crate::family::line(0x410).unwrap(),
        }
    }

    fn state(wrpr: u32) -> FlashState {
        let g = geom();
        let mut rd = |a: u64| {
            Some(match a {
                crate::family::stm32f1::FLASH_OBR => 0x03ff_fffc,
                crate::family::stm32f1::FLASH_WRPR => wrpr,
                _ => 0,
            })
        };
        g.family
            .read_flash(g.line, 0, g.base, g.pages(), &mut rd)
            .unwrap()
    }

    #[test]
    fn wrp_names_page_and_bit() {
        let m = wrp_message(
            &geom(),
            &state(0xffff_fffe),
            0,
            "cannot program the image",
            true,
        );
        assert!(m.starts_with("cannot program the image: page 0 (0x08000000-0x080003ff) is write-protected by WRP0 bit 0 (FLASH_WRPR = 0xfffffffe: bit 0 = 0 protects pages 0-3)"), "{m}");
        assert!(m.contains("'flash protect 0 0 0 off'"), "{m}");
        assert!(m.contains("(FLASH_SR.WRPRTERR); nothing was erased"), "{m}");
        let m = wrp_message(&geom(), &state(0xffff_feff), 33, "x", false);
        assert!(
            m.contains("page 33 (0x08008400-0x080087ff) is write-protected by WRP1 bit 0"),
            "{m}"
        );
    }

    #[test]
    fn rdp_fix_names_the_family_command() {
        let mut st = state(0xffff_ffff);
        st.rdp = Rdp::Level1;
        let m = rdp_message(&st, &geom(), "cannot read", false);
        assert!(
            m.contains("fix: 'stm32f1x unlock 0' then 'reset halt'"),
            "{m}"
        );
        st.rdp = Rdp::Level2;
        let m = rdp_message(&st, &geom(), "cannot read", false);
        assert!(
            m.contains("LEVEL 2")
                && m.contains("permanent")
                && m.contains("nothing can be done over SWD"),
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
