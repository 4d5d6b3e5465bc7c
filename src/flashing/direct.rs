//! Image bytes for the banks a family programs with its own register sequence instead of the
//! probe-rs flash algorithm (the G4/L4 OTP: [`crate::family::Family::direct_plan`]). They are split
//! from the image and checked before anything is erased, and written after the flash loader has
//! written the rest, so that a failure there never leaves one-time-programmable bytes burnt for
//! an image that did not go in.

use std::ops::Range;

use crate::command::CommandError;
use crate::family::{self, Family};
use crate::host::{FlashBank, Host};

use super::image::Image;

/// The planned writes of one direct bank.
pub(super) struct Part {
    fam: &'static dyn Family,
    /// (address, double word) writes, checked against the bank's contents.
    words: Vec<(u64, u64)>,
}

/// The fixed-geometry banks of the current target: (index, bank, family, address range).
fn direct_banks(host: &Host) -> Vec<(usize, FlashBank, &'static dyn Family, Range<u64>)> {
    let Ok((target, _)) = host.current_target() else {
        return Vec::new();
    };
    let t = host.targets();
    t.banks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.target == target)
        .filter_map(|(i, b)| {
            let f = family::of_bank(b)?;
            let size = u64::from(f.fixed_geometry(b.base)?.size);
            Some((i, b.clone(), f, b.base..b.base + size))
        })
        .collect()
}

/// The name of the direct (one-time-programmable) bank `range` overlaps, if any.
pub(super) fn bank_in(host: &Host, range: &Range<u64>) -> Option<String> {
    direct_banks(host)
        .into_iter()
        .find_map(|(_, b, _, r)| (range.start < r.end && r.start < range.end).then_some(b.name))
}

/// The image's blocks for the flash algorithm, and the parts written directly.
pub(super) type Split = (Vec<(u64, Vec<u8>)>, Vec<Part>);

/// Splits `image` into the blocks for the flash loader, (address, bytes), and the checked writes
/// of the direct banks. Reads only: nothing is erased or written.
///
/// Errors: a direct bank refuses the bytes (OTP writes not enabled, a double word already
/// programmed), with the family's message.
pub(super) fn split(host: &Host, image: &Image) -> Result<Split, CommandError> {
    let banks = direct_banks(host);
    let mut rest = Vec::new();
    let mut parts = Vec::new();
    for seg in &image.segments {
        let mut a = seg.address;
        let end = seg.end();
        while a < end {
            let here = banks.iter().find(|(_, _, _, r)| r.contains(&a));
            let stop = match here {
                Some((_, _, _, r)) => end.min(r.end),
                None => banks
                    .iter()
                    .map(|(_, _, _, r)| r.start)
                    .filter(|&base| base > a)
                    .min()
                    .unwrap_or(end)
                    .min(end),
            };
            let bytes = &seg.data[(a - seg.address) as usize..(stop - seg.address) as usize];
            match here {
                Some((index, bank, fam, _)) => {
                    let words = host
                        .with_core(|core, _| Ok(fam.direct_plan(bank, *index, core, a, bytes)))?
                        .map_err(|e| CommandError::failed(e.to_string()))?;
                    parts.push(Part { fam: *fam, words });
                }
                None => rest.push((a, bytes.to_vec())),
            }
            a = stop;
        }
    }
    Ok((rest, parts))
}

/// Makes the planned writes.
pub(super) fn write(host: &Host, parts: &[Part]) -> Result<(), CommandError> {
    for p in parts.iter().filter(|p| !p.words.is_empty()) {
        host.with_core(|core, _| Ok(p.fam.direct_write(core, &p.words)))?
            .map_err(|e| CommandError::failed(e.to_string()))?;
    }
    Ok(())
}
