//! `flash erase_sector`/`flash erase_address` and `program`'s erase: sectors erased with the
//! probe-rs flash algorithm, refused for the OTP (direct) banks and for flash the algorithm does
//! not cover.

use std::ops::Range;

use super::*;

/// Erases the flash sectors in `range` (must be sector aligned) with probe-rs's flash
/// algorithm. The caller checks the range against the bank first.
pub fn erase_range(host: &Host, range: Range<u64>, progress: bool) -> Result<(), CommandError> {
    with_watchpoints_suspended(host, || erase_range_inner(host, range, progress))
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
