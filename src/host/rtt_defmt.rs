//! defmt decoding of an RTT up channel, with the `defmt-decoder` crate (the decoder of
//! probe-rs-tools and defmt-print).
//!
//! When the ELF last programmed or loaded has a `.defmt` section, its string table
//! ([`defmt_decoder::Table`]) turns the channel's frames (defmt wire format version 3 or 4,
//! rzCOBS-encoded, `0x00`-delimited, as defmt-rtt sends them) into log lines:
//!
//! ```text
//! <timestamp> <LEVEL> <message> (<file>:<line>)
//! ```
//!
//! The timestamp is present when the firmware declares one (`defmt::timestamp!`), formatted by
//! its display hint (`{=u32:ms}` prints seconds with three decimals); the level is padded to five
//! characters (`INFO `, `WARN `, `ERROR`) and absent for `println!` frames; the location is
//! present when the ELF's DWARF has it (Rust firmware; C images carry none). The RTT layer
//! prefixes the channel: `[rtt0] 0.300 INFO  tick 3`.

use std::path::{Path, PathBuf};

use defmt_decoder::{DecodeError, Encoding, Locations, Table};

/// Bytes kept without a frame delimiter before they are dropped (a stream that is not defmt).
const MAX_PENDING: usize = 64 * 1024;

/// Why an ELF's defmt table could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DefmtError {
    /// The ELF could not be read.
    #[error(
        "could not read {path} for its defmt table: {source}. Program or load the ELF again ('program <file>', 'load_image <file>')"
    )]
    Read {
        /// The ELF.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// defmt-decoder refused the table.
    #[error(
        "the .defmt table of {path} cannot be decoded: {reason}. Build the firmware with a defmt version whose wire format defmt-decoder 1.2 reads (3 or 4), or 'rtt defmt off' to print channel 0 as text"
    )]
    Table {
        /// The ELF.
        path: PathBuf,
        /// defmt-decoder's message.
        reason: String,
    },
    /// The frames are not rzCOBS-delimited.
    #[error(
        "{path} uses defmt's raw encoding, which has no frame delimiters to resynchronise on over RTT: build the firmware with defmt's default rzcobs encoding, or 'rtt defmt off'"
    )]
    RawEncoding {
        /// The ELF.
        path: PathBuf,
    },
}

/// A defmt decoder for one channel: the table of an ELF and the bytes of an unfinished frame.
pub struct Defmt {
    path: PathBuf,
    table: Table,
    locations: Locations,
    pending: Vec<u8>,
}

impl std::fmt::Debug for Defmt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Defmt({})", self.path.display())
    }
}

impl Defmt {
    /// The decoder of `elf`'s `.defmt` table; `Ok(None)` when the ELF has no `.defmt` section.
    pub fn load(elf: &Path) -> Result<Option<Defmt>, DefmtError> {
        let bytes = std::fs::read(elf).map_err(|source| DefmtError::Read {
            path: elf.to_path_buf(),
            source,
        })?;
        Self::from_bytes(elf, &bytes)
    }

    /// [`Defmt::load`] from the bytes of the ELF `path`.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Option<Defmt>, DefmtError> {
        let table = Table::parse(bytes).map_err(|e| DefmtError::Table {
            path: path.to_path_buf(),
            reason: format!("{e:#}"),
        })?;
        let Some(table) = table else {
            return Ok(None);
        };
        if table.encoding() == Encoding::Raw {
            return Err(DefmtError::RawEncoding {
                path: path.to_path_buf(),
            });
        }
        // Locations need the DWARF of defmt's Rust macros; an image without them decodes the
        // same, only without `(file:line)`.
        let locations = table.get_locations(bytes).unwrap_or_default();
        Ok(Some(Defmt {
            path: path.to_path_buf(),
            table,
            locations,
            pending: Vec::new(),
        }))
    }

    /// The ELF the table comes from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of log statements in the table.
    pub fn statements(&self) -> usize {
        self.table.indices().count()
    }

    /// Whether the table has source locations.
    pub fn has_locations(&self) -> bool {
        !self.locations.is_empty()
    }

    /// Takes bytes read from the channel and returns the lines of the frames they complete (a
    /// frame cut by the read waits for the rest). A frame that does not decode becomes a
    /// `(malformed defmt frame …)` line and the stream resynchronises on the next delimiter.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let Some(end) = self.pending.iter().rposition(|&b| b == 0) else {
            if self.pending.len() > MAX_PENDING {
                let n = self.pending.len();
                self.pending.clear();
                return vec![format!(
                    "(dropped {n} bytes without a defmt frame delimiter: is channel 0 defmt? 'rtt defmt off' prints it as text)"
                )];
            }
            return Vec::new();
        };
        let complete: Vec<u8> = self.pending.drain(..=end).collect();
        let mut decoder = self.table.new_stream_decoder();
        decoder.received(&complete);
        let mut lines = Vec::new();
        loop {
            match decoder.decode() {
                Ok(frame) => lines.push(format_frame(&frame, &self.locations)),
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) => lines.push(
                    "(malformed defmt frame: the firmware's table differs from the ELF last programmed or loaded, or the buffer overflowed)"
                        .to_string(),
                ),
            }
        }
        lines
    }
}

/// One frame as `<timestamp> <LEVEL> <message> (<file>:<line>)` (see the module documentation).
fn format_frame(frame: &defmt_decoder::Frame<'_>, locations: &Locations) -> String {
    let mut s = String::new();
    if let Some(t) = frame.display_timestamp() {
        s.push_str(&t.to_string());
        s.push(' ');
    }
    if let Some(level) = frame.level() {
        s.push_str(&format!("{:<5} ", level.as_str().to_uppercase()));
    }
    s.push_str(&frame.display_message().to_string());
    if let Some(loc) = locations.get(&frame.index()) {
        let file = loc
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| loc.file.display().to_string());
        s.push_str(&format!(" ({file}:{})", loc.line));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/f103-defmt.elf")
    }

    /// The committed image's table parses with defmt-decoder: its four log statements.
    #[test]
    fn the_c_images_defmt_table_parses() {
        let d = Defmt::load(&elf()).unwrap().expect("a .defmt section");
        assert_eq!(d.statements(), 4);
        assert!(!d.has_locations());
    }

    /// A frame encoded as f103-defmt's `rzcobs_encode` does: index 3 ("tick {=u32}") at 300 ms,
    /// argument 3; split across two reads.
    #[test]
    fn frames_decode_across_reads() {
        let mut d = Defmt::load(&elf()).unwrap().unwrap();
        // Message 03 00 | 2c 01 00 00 | 03 00 00 00 (10 bytes): group 1 = 03 00 2c 01 00 00 03
        // (zeros at bits 1, 4, 5: control 0x32, data 03 2c 01 03), group 2 = 00 00 00 + padding
        // (all zero: control 0x7f).
        let enc = [0x03, 0x2c, 0x01, 0x03, 0x32, 0x7f, 0x00];
        assert!(d.feed(&enc[..3]).is_empty());
        assert_eq!(d.feed(&enc[3..]), vec!["0.300 INFO  tick 3".to_string()]);
    }

    /// A statement with a source location (what defmt-decoder finds in a Rust image's DWARF;
    /// the C image has none): the line ends with `(file:line)`.
    #[test]
    fn a_located_statement_ends_with_its_file_and_line() {
        let mut d = Defmt::load(&elf()).unwrap().unwrap();
        d.locations.insert(
            3,
            defmt_decoder::Location {
                file: PathBuf::from("/src/app/src/main.rs"),
                line: 42,
                module: "app".into(),
            },
        );
        let enc = [0x03, 0x2c, 0x01, 0x03, 0x32, 0x7f, 0x00];
        assert_eq!(
            d.feed(&enc),
            vec!["0.300 INFO  tick 3 (main.rs:42)".to_string()]
        );
    }

    #[test]
    fn an_elf_without_defmt_has_no_table() {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/f103-rtt.elf");
        assert!(Defmt::load(&p).unwrap().is_none());
    }
}
