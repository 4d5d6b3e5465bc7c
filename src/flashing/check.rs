//! The check every image passes before anything is erased: each loadable byte must lie in a
//! flash bank (its declared or probed size) or in RAM (probe-rs memory map), and each flash byte
//! must be covered by the probe-rs target description that supplies the flash algorithm.

use std::ops::Range;

use thiserror::Error;

use super::image::Image;

/// A flash bank as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashArea {
    /// Bank name, e.g. `stm32f1x.flash`.
    pub bank: String,
    /// The chip (probe-rs name from the target script), e.g. `STM32F103C8`.
    pub chip: String,
    /// Bank address range (bytes).
    pub range: Range<u64>,
    /// The bank's flash driver (`stm32f1x`, `stmqspi`, …).
    pub driver: String,
    /// Why stdbg cannot program this bank (an external-memory bank without a probe-rs flash
    /// algorithm); `None` for a bank it can program.
    pub unusable: Option<String>,
    /// The family programs this bank with its own register sequence (the G4/L4 OTP), so the
    /// probe-rs flash description need not cover it.
    pub direct: bool,
}

/// The memory an image may be loaded into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Flash banks of the target (declared or probed size).
    pub flash: Vec<FlashArea>,
    /// RAM regions (probe-rs memory map).
    pub ram: Vec<Range<u64>>,
    /// Flash the probe-rs target description (and so its flash algorithm) covers.
    pub nvm: Vec<Range<u64>>,
    /// The chip name for messages.
    pub chip: String,
}

/// Where an operation may put bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// `program`, `flash write_image`: flash and RAM, to be written.
    FlashOrRam,
    /// `verify_image`, `flash verify_image`: flash and RAM, only read.
    Verify,
    /// `load_image`: RAM only (flash needs the flash algorithm).
    RamOnly,
}

/// Why an image does not fit the target. Nothing has been erased when one is returned.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FitError {
    /// A section starts in flash and runs past its end.
    #[error("{what} (0x{start:08x}-0x{end:08x}) does not fit: the flash of {chip} is {} ({}); the image was linked for a larger chip — relink for {} or select the right board/target script", range_text(.flash), size_text(.flash.end - .flash.start), size_text(.flash.end - .flash.start))]
    FlashOverflow {
        /// `section .rodata` or `data`.
        what: String,
        /// Its first address.
        start: u64,
        /// One past its last.
        end: u64,
        /// Chip name.
        chip: String,
        /// The bank's range.
        flash: Range<u64>,
    },
    /// A section starts in RAM and runs past its end.
    #[error("{what} (0x{start:08x}-0x{end:08x}) does not fit: the RAM of {chip} is {} ({}); reduce the RAM use or select the right board/target script", range_text(.ram), size_text(.ram.end - .ram.start))]
    RamOverflow {
        /// `section .bss` or `data`.
        what: String,
        /// Its first address.
        start: u64,
        /// One past its last.
        end: u64,
        /// Chip name.
        chip: String,
        /// The RAM range.
        ram: Range<u64>,
    },
    /// A section lies outside every flash bank and RAM region.
    #[error(
        "{what} (0x{start:08x}-0x{end:08x}) is outside the memory of {chip}: flash {flash}, RAM {ram}; check the linker script's MEMORY, or the address/offset given"
    )]
    Outside {
        /// `section .foo` or `data`.
        what: String,
        /// Its first address.
        start: u64,
        /// One past its last.
        end: u64,
        /// Chip name.
        chip: String,
        /// The flash banks, e.g. `0x08000000-0x08010000 (64 KiB)`.
        flash: String,
        /// The RAM regions.
        ram: String,
    },
    /// A raw binary was given without an address.
    #[error(
        "raw binary '{path}' has no address: give the flash address after the file name, e.g. `program {path} 0x08000000` or `flash write_image erase {path} 0x08000000`"
    )]
    BinWithoutAddress {
        /// The file.
        path: String,
    },
    /// `load_image` of bytes that are in flash.
    #[error(
        "{what} (0x{start:08x}-0x{end:08x}) is in flash ({bank}); load_image writes RAM only: use 'flash write_image erase' or 'program' for flash"
    )]
    FlashNotAllowed {
        /// `section .text` or `data`.
        what: String,
        /// Its first address.
        start: u64,
        /// One past its last.
        end: u64,
        /// Bank name.
        bank: String,
    },
    /// A section lies in a declared bank stdbg cannot program (external memory).
    #[error("{what} (0x{start:08x}-0x{end:08x}) lies in flash bank {bank} (driver {driver}, {}), which stdbg cannot program: {reason}. Nothing was erased; link the section into the internal flash, or remove the bank's flash_bank line from the board script", range_text(.bank_range))]
    UnusableBank {
        /// `section .qspi` or `data`.
        what: String,
        /// Its first address.
        start: u64,
        /// One past its last.
        end: u64,
        /// Bank name.
        bank: String,
        /// Bank driver.
        driver: String,
        /// Bank range.
        bank_range: Range<u64>,
        /// Why.
        reason: String,
    },
    /// The bank is larger than the flash the probe-rs target describes.
    #[error("{what} (0x{start:08x}-0x{end:08x}) lies in flash bank {bank} ({} = {}), but the probe-rs description of {chip}, which supplies the flash algorithm, covers only {nvm}; select the probe-rs chip with the larger flash (e.g. `let CHIP = \"STM32F103CB\";` before sourcing the target script) or declare a smaller bank", range_text(.bank_range), size_text(.bank_range.end - .bank_range.start))]
    BeyondAlgorithm {
        /// `section .rodata` or `data`.
        what: String,
        /// Its first address.
        start: u64,
        /// One past its last.
        end: u64,
        /// Bank name.
        bank: String,
        /// Bank range.
        bank_range: Range<u64>,
        /// Chip name.
        chip: String,
        /// What probe-rs covers.
        nvm: String,
    },
}

/// `0x08000000-0x08010000`.
pub fn range_text(r: &Range<u64>) -> String {
    format!("0x{:08x}-0x{:08x}", r.start, r.end)
}

/// `64 KiB`, or `1000 bytes` when not a whole number of KiB.
pub fn size_text(n: u64) -> String {
    if n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

fn list(ranges: &[Range<u64>]) -> String {
    if ranges.is_empty() {
        return "none".into();
    }
    ranges
        .iter()
        .map(|r| format!("{} ({})", range_text(r), size_text(r.end - r.start)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that every byte of `image` may be written under `allowed`.
#[allow(clippy::result_large_err)] // built once per command, on the error path only
pub fn check_image(image: &Image, layout: &Layout, allowed: Allowed) -> Result<(), FitError> {
    if image.format == super::image::ImageFormat::Bin && !image.offset_given {
        return Err(FitError::BinWithoutAddress {
            path: image.path.display().to_string(),
        });
    }
    for seg in &image.segments {
        let mut a = seg.address;
        let end = seg.end();
        while a < end {
            if let Some(f) = layout
                .flash
                .iter()
                .find(|f| f.range.contains(&a) && f.unusable.is_some())
            {
                let (what, s, e) = seg.describe_at(a, f.range.end.min(end));
                return Err(FitError::UnusableBank {
                    what,
                    start: s,
                    end: e,
                    bank: f.bank.clone(),
                    driver: f.driver.clone(),
                    bank_range: f.range.clone(),
                    reason: f.unusable.clone().unwrap_or_default(),
                });
            }
            if let Some(f) = layout.flash.iter().find(|f| f.range.contains(&a)) {
                let stop = f.range.end.min(end);
                if allowed == Allowed::RamOnly {
                    let (what, s, e) = seg.describe_at(a, stop);
                    return Err(FitError::FlashNotAllowed {
                        what,
                        start: s,
                        end: e,
                        bank: f.bank.clone(),
                    });
                }
                // The part in the bank must also be covered by probe-rs's flash description
                // (unless the family programs the bank itself).
                let mut b = if f.direct { stop } else { a };
                while b < stop {
                    match layout.nvm.iter().find(|n| n.contains(&b)) {
                        Some(n) => b = n.end.min(stop),
                        None => {
                            let (what, s, e) = seg.describe_at(b, stop);
                            return Err(FitError::BeyondAlgorithm {
                                what,
                                start: s,
                                end: e,
                                bank: f.bank.clone(),
                                bank_range: f.range.clone(),
                                chip: f.chip.clone(),
                                nvm: list(&layout.nvm),
                            });
                        }
                    }
                }
                a = stop;
                continue;
            }
            if let Some(r) = layout.ram.iter().find(|r| r.contains(&a)) {
                a = r.end.min(end);
                continue;
            }
            // `a` is in no region. Did the section start in one?
            let (what, s, e) = seg.describe_at(a, end);
            if let Some(f) = layout
                .flash
                .iter()
                .find(|f| f.range.contains(&s) || (s < f.range.end && f.range.end == a))
            {
                return Err(FitError::FlashOverflow {
                    what,
                    start: s,
                    end: e,
                    chip: f.chip.clone(),
                    flash: f.range.clone(),
                });
            }
            if let Some(r) = layout.ram.iter().find(|r| r.contains(&s) || r.end == a) {
                return Err(FitError::RamOverflow {
                    what,
                    start: s,
                    end: e,
                    chip: layout.chip.clone(),
                    ram: r.clone(),
                });
            }
            let flash: Vec<Range<u64>> = layout.flash.iter().map(|f| f.range.clone()).collect();
            return Err(FitError::Outside {
                what,
                start: s,
                end: e,
                chip: layout.chip.clone(),
                flash: list(&flash),
                ram: list(&layout.ram),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flashing::image::{ImageFormat, SectionSpan, Segment};

    #[allow(clippy::single_range_in_vec_init)]
    fn layout(flash_kib: u64, nvm_kib: u64) -> Layout {
        Layout {
            flash: vec![FlashArea {
                direct: false,
                bank: "stm32f1x.flash".into(),
                chip: "STM32F103C8".into(),
                range: 0x0800_0000..0x0800_0000 + flash_kib * 1024,
                driver: "stm32f1x".into(),
                unusable: None,
            }],
            ram: vec![0x2000_0000..0x2000_5000],
            nvm: vec![0x0800_0000..0x0800_0000 + nvm_kib * 1024],
            chip: "STM32F103C8".into(),
        }
    }

    fn image(segs: Vec<Segment>) -> Image {
        Image {
            path: "fw.elf".into(),
            format: ImageFormat::Elf,
            segments: segs,
            offset_given: false,
        }
    }

    fn seg(addr: u64, len: usize, secs: &[(&str, u64, u64)]) -> Segment {
        Segment {
            address: addr,
            data: vec![0; len],
            sections: secs
                .iter()
                .map(|(n, s, e)| SectionSpan {
                    name: n.to_string(),
                    start: *s,
                    end: *e,
                })
                .collect(),
        }
    }

    #[test]
    fn too_big_message() {
        let img = image(vec![seg(
            0x0800_0000,
            0x14184,
            &[
                (".isr_vector", 0x0800_0000, 0x0800_00ec),
                (".rodata", 0x0800_0184, 0x0801_4184),
            ],
        )]);
        let e = check_image(&img, &layout(64, 64), Allowed::FlashOrRam).unwrap_err();
        assert_eq!(
            e.to_string(),
            "section .rodata (0x08000184-0x08014184) does not fit: the flash of STM32F103C8 is 0x08000000-0x08010000 (64 KiB); the image was linked for a larger chip — relink for 64 KiB or select the right board/target script"
        );
        assert!(check_image(&img, &layout(128, 128), Allowed::FlashOrRam).is_ok());
        let e = check_image(&img, &layout(128, 64), Allowed::FlashOrRam)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("probe-rs description of STM32F103C8") && e.contains(".rodata"),
            "{e}"
        );
    }

    #[test]
    fn ram_only_and_outside() {
        let img = image(vec![seg(
            0x0800_0000,
            16,
            &[(".text", 0x0800_0000, 0x0800_0010)],
        )]);
        let e = check_image(&img, &layout(64, 64), Allowed::RamOnly)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("section .text (0x08000000-0x08000010) is in flash"),
            "{e}"
        );
        let img = image(vec![seg(0x3000_0000, 16, &[])]);
        let e = check_image(&img, &layout(64, 64), Allowed::FlashOrRam)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("data (0x30000000-0x30000010) is outside the memory of STM32F103C8"),
            "{e}"
        );
        let img = image(vec![seg(0x2000_4ff0, 32, &[])]);
        let e = check_image(&img, &layout(64, 64), Allowed::RamOnly)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the RAM of STM32F103C8 is 0x20000000-0x20005000 (20 KiB)"),
            "{e}"
        );
    }
}
