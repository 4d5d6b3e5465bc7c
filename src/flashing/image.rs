//! Firmware image files: ELF, Intel HEX and raw binary, parsed into loadable segments.
//!
//! The parsing is done here (not by probe-rs's `ImageLoader`s) so that every byte can be checked
//! against the flash bank and RAM *before* anything is erased, and so that errors can name the
//! ELF section at fault. The segments are then handed to probe-rs's `FlashLoader` unchanged.
//!
//! ELF: one segment per `PT_LOAD` program header with file data, at its physical address (LMA,
//! `p_paddr`), like OpenOCD and probe-rs; the bytes are the segment's file bytes, so the padding
//! between sections is written exactly as `objcopy -O binary` writes it.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// An image file format, as OpenOCD names them in `load_image`/`flash write_image`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// ELF executable (`elf`).
    Elf,
    /// Intel HEX (`ihex`).
    Ihex,
    /// Raw binary (`bin`): needs an address (the offset argument).
    Bin,
}

impl ImageFormat {
    /// Parses OpenOCD's type word: `elf`, `ihex` (also `hex`), `bin`.
    pub fn from_word(w: &str) -> Option<ImageFormat> {
        match w {
            "elf" => Some(ImageFormat::Elf),
            "ihex" | "hex" => Some(ImageFormat::Ihex),
            "bin" | "binary" => Some(ImageFormat::Bin),
            _ => None,
        }
    }

    /// The word for messages.
    pub fn name(&self) -> &'static str {
        match self {
            ImageFormat::Elf => "ELF",
            ImageFormat::Ihex => "Intel HEX",
            ImageFormat::Bin => "raw binary",
        }
    }

    /// Guesses the format from the content (ELF magic; a `:` record start), then from the file
    /// extension (`.elf`/`.axf`/`.out`, `.hex`/`.ihex`), else raw binary. OpenOCD looks at the
    /// content only; the extension fallback makes a damaged `fw.elf` an ELF error instead of a
    /// silent raw-binary load.
    pub fn detect(bytes: &[u8], path: &Path) -> ImageFormat {
        if bytes.starts_with(b"\x7fELF") {
            return ImageFormat::Elf;
        }
        let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
        if first_line.len() >= 11
            && first_line[0] == b':'
            && first_line[1..].iter().all(u8::is_ascii_hexdigit)
        {
            return ImageFormat::Ihex;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "elf" | "axf" | "out" => ImageFormat::Elf,
            "hex" | "ihex" => ImageFormat::Ihex,
            _ => ImageFormat::Bin,
        }
    }
}

/// A named part of a segment: an ELF section with its load address range (LMA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSpan {
    /// Section name, e.g. `.rodata`.
    pub name: String,
    /// First byte's load address.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// A contiguous block of bytes to load at `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Load address of the first byte.
    pub address: u64,
    /// The bytes.
    pub data: Vec<u8>,
    /// The ELF sections inside the block (empty for HEX and binary files).
    pub sections: Vec<SectionSpan>,
}

impl Segment {
    /// One past the last byte's address.
    pub fn end(&self) -> u64 {
        self.address + self.data.len() as u64
    }

    /// A name for messages: the section containing `addr` (or the first overlapping
    /// `addr..end`), else `data 0x…-0x…`.
    pub fn describe_at(&self, addr: u64, end: u64) -> (String, u64, u64) {
        if let Some(s) = self
            .sections
            .iter()
            .find(|s| s.start <= addr && addr < s.end)
        {
            return (format!("section {}", s.name), s.start, s.end);
        }
        if let Some(s) = self.sections.iter().find(|s| s.start < end && addr < s.end) {
            return (format!("section {}", s.name), s.start, s.end);
        }
        ("data".to_string(), self.address, self.end())
    }
}

/// A parsed image file.
#[derive(Debug, Clone)]
pub struct Image {
    /// The path as given.
    pub path: PathBuf,
    /// The format it was read as.
    pub format: ImageFormat,
    /// Loadable blocks, in file order.
    pub segments: Vec<Segment>,
    /// Whether an address/offset was given (a raw binary without one loads at 0).
    pub offset_given: bool,
}

impl Image {
    /// Total number of bytes to load.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.data.len()).sum()
    }

    /// Whether there is nothing to load.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps only the bytes in `min..min+max_len` (OpenOCD `load_image … [min_address]
    /// [max_length]`).
    pub fn clip(&mut self, min: u64, max_len: Option<u64>) {
        let lo = min;
        let hi = max_len.map(|l| min.saturating_add(l)).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for s in self.segments.drain(..) {
            let a = s.address.max(lo);
            let b = s.end().min(hi);
            if a >= b {
                continue;
            }
            let data = s.data[(a - s.address) as usize..(b - s.address) as usize].to_vec();
            out.push(Segment {
                address: a,
                data,
                sections: s.sections,
            });
        }
        self.segments = out;
    }
}

/// Why an image file could not be used. Nothing has been written to the target when one of these
/// is returned.
#[derive(Debug, Error)]
pub enum ImageError {
    /// The file could not be opened or read.
    #[error(
        "can't read image file '{path}': {source}; check the path (relative paths start at stdbg's working directory) and the file's permissions"
    )]
    Read {
        /// The path as given.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid image of its format.
    #[error(
        "'{path}' is not a valid {format} file: {detail}; the file is probably truncated or corrupt: rebuild it or copy it again"
    )]
    Corrupt {
        /// The path as given.
        path: PathBuf,
        /// The format it was read as.
        format: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The file has nothing to load.
    #[error("'{path}' ({format}) contains no loadable data{hint}")]
    Empty {
        /// The path as given.
        path: PathBuf,
        /// The format it was read as.
        format: &'static str,
        /// Extra advice.
        hint: &'static str,
    },
    /// The file holds more than the target can.
    #[error(
        "'{path}' is larger than {limit} bytes, more than the {what}; check the file name (a device such as /dev/zero, or the wrong file?) or the type"
    )]
    TooLarge {
        /// The path as given.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
        /// What the limit is.
        what: String,
    },
    /// Two parts of the image load at the same addresses.
    #[error(
        "'{path}': {first} and {second} overlap at 0x{at:08x}: the image would write those addresses twice, so it is refused (nothing was written)\n  fix: {fix}"
    )]
    Overlap {
        /// The path as given.
        path: PathBuf,
        /// The first part, with its range.
        first: String,
        /// The second part, with its range.
        second: String,
        /// The first address both cover.
        at: u64,
        /// What to do for this format.
        fix: &'static str,
    },
    /// The type word is not supported.
    #[error(
        "unsupported image type '{0}': stdbg reads 'elf', 'ihex' and 'bin' (convert S-records with `arm-none-eabi-objcopy -I srec -O ihex`)"
    )]
    UnknownType(String),
}

/// The `path` of an [`Image`] that GDB's `load` sent (it has no file).
pub const GDB_LOAD: &str = "GDB load";

/// Most loadable bytes an image may have when the target's memory is not known yet (before
/// `init`): 16 MiB, more than any STM32 has of flash and RAM together.
pub const MAX_LOADABLE: u64 = 16 << 20;

/// Largest ELF file read: 256 MiB (ELF files carry debug information, often many times the
/// loadable bytes).
pub const MAX_ELF_FILE: u64 = 256 << 20;

/// Reads and parses an image. `format` forces the type; `offset` is added to every address
/// (OpenOCD's `offset`/`address` argument; a raw binary is loaded at `offset`). At most
/// [`MAX_LOADABLE`] loadable bytes (see [`load_with_limit`]).
pub fn load(
    path: &Path,
    format: Option<ImageFormat>,
    offset: Option<u64>,
) -> Result<Image, ImageError> {
    load_with_limit(path, format, offset, MAX_LOADABLE, "memory of any STM32")
}

/// [`load`] with the loadable bytes capped at `limit` (`what` names it in the error: the
/// target's memory). Reads never go further than the format needs: a raw binary at most
/// `limit` bytes, Intel HEX at most about 3 × `limit` of text, ELF at most [`MAX_ELF_FILE`];
/// a device such as /dev/zero is refused at the cap instead of being read until memory runs
/// out. Overlapping parts are refused ([`ImageError::Overlap`]).
pub fn load_with_limit(
    path: &Path,
    format: Option<ImageFormat>,
    offset: Option<u64>,
    limit: u64,
    what: &str,
) -> Result<Image, ImageError> {
    use std::io::Read;
    let read_err = |source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(4096)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    let format = format.unwrap_or_else(|| ImageFormat::detect(&bytes, path));
    // A forced type that the content contradicts is refused before the rest is read.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let contradicts = match format {
        ImageFormat::Elf => !bytes.starts_with(b"\x7fELF"),
        ImageFormat::Ihex => !bytes.is_empty() && first != Some(&b':'),
        ImageFormat::Bin => false,
    };
    if contradicts {
        return Err(ImageError::Corrupt {
            path: path.to_path_buf(),
            format: format.name(),
            detail: match format {
                ImageFormat::Elf => {
                    "it does not start with the ELF magic number (0x7f 'E' 'L' 'F')".into()
                }
                _ => "it does not start with a ':' record".into(),
            },
        });
    }
    let cap = match format {
        ImageFormat::Bin => limit,
        // ":llaaaatt" + 2 hex digits per byte + checksum + CRLF: at most 2.75 × the data, plus
        // the extended-address records.
        ImageFormat::Ihex => limit.saturating_mul(3).saturating_add(64 << 10),
        ImageFormat::Elf => MAX_ELF_FILE,
    };
    if bytes.len() as u64 <= cap {
        file.take(cap + 1 - bytes.len() as u64)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
    }
    if bytes.len() as u64 > cap {
        return Err(ImageError::TooLarge {
            path: path.to_path_buf(),
            limit: cap,
            what: match format {
                ImageFormat::Elf => "largest ELF file stdbg reads (256 MiB)".to_string(),
                _ => format!("{what} ({limit} bytes) can hold"),
            },
        });
    }
    let mut segments = match format {
        ImageFormat::Elf => parse_elf(&bytes).map_err(|detail| ImageError::Corrupt {
            path: path.to_path_buf(),
            format: "ELF",
            detail,
        })?,
        ImageFormat::Ihex => parse_ihex(&bytes).map_err(|detail| ImageError::Corrupt {
            path: path.to_path_buf(),
            format: "Intel HEX",
            detail,
        })?,
        ImageFormat::Bin => {
            if bytes.is_empty() {
                Vec::new()
            } else {
                vec![Segment {
                    address: 0,
                    data: bytes,
                    sections: Vec::new(),
                }]
            }
        }
    };
    if segments.is_empty() {
        return Err(ImageError::Empty {
            path: path.to_path_buf(),
            format: format.name(),
            hint: match format {
                ImageFormat::Elf => {
                    ": no PT_LOAD program header has file data (check the linker script)"
                }
                _ => ": the file is empty",
            },
        });
    }
    let loadable: u64 = segments.iter().map(|s| s.data.len() as u64).sum();
    if loadable > limit {
        return Err(ImageError::TooLarge {
            path: path.to_path_buf(),
            limit,
            what: format!("{what} ({limit} bytes) can hold: it has {loadable} loadable bytes"),
        });
    }
    check_overlaps(path, format, &segments)?;
    if let Some(off) = offset {
        for s in &mut segments {
            s.address = s.address.wrapping_add(off) & 0xffff_ffff;
            for sec in &mut s.sections {
                let len = sec.end - sec.start;
                sec.start = sec.start.wrapping_add(off) & 0xffff_ffff;
                sec.end = sec.start + len;
            }
        }
    }
    Ok(Image {
        path: path.to_path_buf(),
        format,
        segments,
        offset_given: offset.is_some(),
    })
}

/// Refuses segments that load at the same addresses (probe-rs's loader would fail later with
/// "Adding data for addresses … overlaps", naming neither the file nor the parts).
fn check_overlaps(
    path: &Path,
    format: ImageFormat,
    segments: &[Segment],
) -> Result<(), ImageError> {
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|&i| segments[i].address);
    for w in order.windows(2) {
        let (a, b) = (&segments[w[0]], &segments[w[1]]);
        if b.address < a.end() {
            let name = |s: &Segment, i: usize| {
                let what = match format {
                    ImageFormat::Elf => {
                        let secs: Vec<&str> = s.sections.iter().map(|x| x.name.as_str()).collect();
                        if secs.is_empty() {
                            format!("program header (PT_LOAD segment) {i}")
                        } else {
                            format!("PT_LOAD segment {i} ({})", secs.join(", "))
                        }
                    }
                    _ => format!("data block {i}"),
                };
                format!("{what} at 0x{:08x}-0x{:08x}", s.address, s.end() - 1)
            };
            return Err(ImageError::Overlap {
                path: path.to_path_buf(),
                first: name(a, w[0]),
                second: name(b, w[1]),
                at: b.address,
                fix: match format {
                    ImageFormat::Elf => {
                        "two sections get the same load address (LMA): check the linker script's MEMORY regions and AT> placements (arm-none-eabi-objdump -h shows the LMAs), then relink"
                    }
                    _ => {
                        "the HEX file has records for the same addresses twice (often two HEX files concatenated): regenerate it, or merge the files without duplicates (srec_cat a.hex -intel b.hex -intel -o out.hex -intel, or objcopy)"
                    }
                },
            });
        }
    }
    Ok(())
}

fn parse_elf(bytes: &[u8]) -> Result<Vec<Segment>, String> {
    use goblin::elf::program_header::PT_LOAD;
    use goblin::elf::section_header::{SHF_ALLOC, SHT_NOBITS};
    if let Ok(h) = goblin::elf::Elf::parse_header(bytes) {
        let ends = [
            (
                "program header table",
                h.e_phoff + u64::from(h.e_phnum) * u64::from(h.e_phentsize),
            ),
            (
                "section header table",
                h.e_shoff + u64::from(h.e_shnum) * u64::from(h.e_shentsize),
            ),
        ];
        for (what, end) in ends {
            if end > bytes.len() as u64 {
                return Err(format!(
                    "it has {} bytes but its {what} ends at byte {end} (truncated)",
                    bytes.len()
                ));
            }
        }
    }
    let elf = goblin::elf::Elf::parse(bytes).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (i, ph) in elf.program_headers.iter().enumerate() {
        if ph.p_type != PT_LOAD || ph.p_filesz == 0 {
            continue;
        }
        let start = ph.p_offset as usize;
        let end = start
            .checked_add(ph.p_filesz as usize)
            .ok_or("segment size overflows")?;
        if end > bytes.len() {
            return Err(format!(
                "program header {i} needs file bytes 0x{start:x}-0x{end:x} but the file has only {} bytes",
                bytes.len()
            ));
        }
        let mut sections = Vec::new();
        for sh in &elf.section_headers {
            if sh.sh_type == SHT_NOBITS
                || sh.sh_flags & u64::from(SHF_ALLOC) == 0
                || sh.sh_size == 0
            {
                continue;
            }
            let (so, se) = (sh.sh_offset, sh.sh_offset + sh.sh_size);
            if so >= ph.p_offset && se <= ph.p_offset + ph.p_filesz {
                let name = elf
                    .shdr_strtab
                    .get_at(sh.sh_name)
                    .unwrap_or("?")
                    .to_string();
                let lma = ph.p_paddr + (so - ph.p_offset);
                sections.push(SectionSpan {
                    name,
                    start: lma,
                    end: lma + sh.sh_size,
                });
            }
        }
        out.push(Segment {
            address: ph.p_paddr,
            data: bytes[start..end].to_vec(),
            sections,
        });
    }
    Ok(out)
}

fn parse_ihex(bytes: &[u8]) -> Result<Vec<Segment>, String> {
    use ihex::Record;
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not text ({e})"))?;
    let mut base: u64 = 0;
    let mut out: Vec<Segment> = Vec::new();
    let mut saw_eof = false;
    for (n, rec) in ihex::Reader::new(text).enumerate() {
        let rec = rec.map_err(|e| format!("record {}: {e}", n + 1))?;
        match rec {
            Record::Data { offset, value } => {
                let addr = base + u64::from(offset);
                match out.last_mut() {
                    Some(last) if last.end() == addr => last.data.extend_from_slice(&value),
                    _ => out.push(Segment {
                        address: addr,
                        data: value,
                        sections: Vec::new(),
                    }),
                }
            }
            Record::ExtendedSegmentAddress(a) => base = u64::from(a) * 16,
            Record::ExtendedLinearAddress(a) => base = u64::from(a) << 16,
            Record::EndOfFile => {
                saw_eof = true;
                break;
            }
            Record::StartSegmentAddress { .. } | Record::StartLinearAddress(_) => {}
        }
    }
    if !saw_eof {
        return Err("no end-of-file record (:00000001FF)".to_string());
    }
    out.retain(|s| !s.data.is_empty());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fw(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/firmware")
            .join(name)
    }

    #[test]
    fn blinky_segments_and_sections() {
        let img = load(&fw("f103-blinky.elf"), None, None).unwrap();
        assert_eq!(img.format, ImageFormat::Elf);
        assert_eq!(img.segments[0].address, 0x0800_0000);
        assert!(
            img.segments
                .iter()
                .flat_map(|s| &s.sections)
                .any(|s| s.name == ".text")
        );
        // .data is loaded at its LMA in flash, after the code.
        let data = img
            .segments
            .iter()
            .flat_map(|s| &s.sections)
            .find(|s| s.name == ".data")
            .unwrap();
        assert_eq!(data.start, 0x0800_01b4);
    }

    #[test]
    fn too_big_names_rodata() {
        let img = load(&fw("f103-too-big.elf"), None, None).unwrap();
        let ro = img
            .segments
            .iter()
            .flat_map(|s| &s.sections)
            .find(|s| s.name == ".rodata")
            .unwrap();
        assert_eq!((ro.start, ro.end), (0x0800_0184, 0x0801_4184));
    }

    #[test]
    fn truncated_elf_is_corrupt() {
        let bytes = std::fs::read(fw("f103-blinky.elf")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.elf");
        std::fs::write(&p, &bytes[..300]).unwrap();
        let e = load(&p, None, None).unwrap_err().to_string();
        assert!(
            e.contains("cut.elf") && e.contains("not a valid ELF file"),
            "{e}"
        );
    }

    #[test]
    fn ihex_round_trip_and_detection() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fw.dat");
        std::fs::write(&p, ":020000040800F2\n:04000000AABBCCDDEE\n:00000001FF\n").unwrap();
        let img = load(&p, None, None).unwrap();
        assert_eq!(img.format, ImageFormat::Ihex);
        assert_eq!(
            img.segments,
            vec![Segment {
                address: 0x0800_0000,
                data: vec![0xaa, 0xbb, 0xcc, 0xdd],
                sections: vec![]
            }]
        );
        std::fs::write(&p, ":020000040800F2\n:04000000AABBCCDDEE\n").unwrap();
        assert!(
            load(&p, None, None)
                .unwrap_err()
                .to_string()
                .contains("end-of-file")
        );
    }

    #[test]
    fn bin_with_offset_and_clip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fw.bin");
        std::fs::write(&p, [1u8, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        let mut img = load(&p, None, Some(0x2000_0000)).unwrap();
        assert_eq!(img.segments[0].address, 0x2000_0000);
        img.clip(0x2000_0002, Some(4));
        assert_eq!(img.segments[0].address, 0x2000_0002);
        assert_eq!(img.segments[0].data, vec![3, 4, 5, 6]);
        let missing = load(&dir.path().join("nope.bin"), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("can't read image file") && missing.contains("nope.bin"),
            "{missing}"
        );
    }
}
