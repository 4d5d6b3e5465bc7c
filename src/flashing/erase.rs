//! `flash erase_sector`/`flash erase_address` and `program`'s erase: sectors erased with the
//! probe-rs flash algorithm, refused for the OTP (direct) banks and for flash the algorithm does
//! not cover.

use std::ops::Range;

use super::*;

/// Erases the flash sectors in `range` (must be sector aligned) with probe-rs's flash
/// algorithm. The caller checks the range against the bank first.
pub fn erase_range(host: &Host, range: Range<u64>, progress: bool) -> Result<(), CommandError> {
    super::algorithm::around_algorithm(host, || erase_range_inner(host, range, progress))
}

fn erase_range_inner(host: &Host, range: Range<u64>, progress: bool) -> Result<(), CommandError> {
    let target = host.current_target()?.0;
    if let Some(otp) = direct::bank_in(host, &range) {
        return Err(CommandError::failed(format!(
            "cannot erase OTP memory: bank {otp} is one-time programmable (each double word is written once and never erased); nothing was erased"
        )));
    }
    let result = {
        let mut guard = host.conn();
        let conn = guard.as_mut().ok_or_else(no_conn)?;
        let session = &mut conn.session;
        let uncovered = {
            let nvm: Vec<Range<u64>> = session
                .target()
                .memory_map
                .iter()
                .filter_map(|r| r.as_nvm_region())
                .filter(|r| !r.is_alias)
                .map(|r| r.range.clone())
                .collect();
            let mut a = range.start;
            loop {
                if a >= range.end {
                    break None;
                }
                match nvm.iter().find(|n| n.contains(&a)) {
                    Some(n) => a = n.end,
                    None => break Some((a, nvm)),
                }
            }
        };
        if let Some((a, nvm)) = uncovered {
            return Err(CommandError::failed(format!(
                "cannot erase 0x{a:08x}: the probe-rs description of {}, which supplies the flash algorithm, covers only {}; select the probe-rs chip with the larger flash (e.g. `let CHIP = \"STM32F103CB\";` before sourcing the target script) or declare a smaller bank",
                session.target().name,
                nvm.iter()
                    .map(check::range_text)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut ui = ProgressUi::new(progress);
        let mut p = ui.flash_progress();
        probe_rs::flashing::erase(session, &mut p, range.start, range.end, false)
    };
    host.set_state(&target, TargetState::Halted);
    result.map_err(|e| {
        let what = format!("erase 0x{:08x}-0x{:08x}", range.start, range.end);
        // An erase was asked for: erased pages are no news, only the controller's errors are.
        diagnosis::explain_write_failure(host, &what, &e, &diagnosis::FlashTracker::default(), "")
    })
}

/// OpenOCD's `Adding extra erase range, 0x… .. 0x…` warnings for an erasing write
/// (`flash write_image erase`, `program`): the parts of the sectors the image touches that the
/// image does not cover, which the erase wipes too. Ranges of the image closer than a sector are
/// one run, as OpenOCD combines them. Banks whose sector size is not known yet are probed.
pub fn warn_extra_erase(host: &Host, image: &crate::flashing::Image) {
    let banks = host.targets().banks.len();
    for i in 0..banks {
        let Ok(b) = super::ensure_probed(host, i) else {
            continue;
        };
        let (base, size) = (b.base, u64::from(b.effective_size()));
        let Some(sector) = b.sector_size.filter(|s| *s != 0).map(u64::from) else {
            continue;
        };
        let mut runs: Vec<Range<u64>> = image
            .segments
            .iter()
            .map(|s| s.address.max(base)..s.end().min(base + size))
            .filter(|r| r.start < r.end)
            .collect();
        runs.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::new();
        for r in runs {
            match merged.last_mut() {
                // The next run starts in the sector the previous one ends in.
                Some(m) if r.start < (m.end - 1) / sector * sector + sector => {
                    m.end = m.end.max(r.end)
                }
                _ => merged.push(r),
            }
        }
        for r in merged {
            let first = base + (r.start - base) / sector * sector;
            let last = base + (r.end - base).div_ceil(sector) * sector;
            if first != r.start {
                tracing::warn!(
                    "Adding extra erase range, 0x{first:08x} .. 0x{:08x}",
                    r.start - 1
                );
            }
            if last != r.end {
                tracing::warn!(
                    "Adding extra erase range, 0x{:08x} .. 0x{:08x}",
                    r.end,
                    last - 1
                );
            }
        }
    }
}
