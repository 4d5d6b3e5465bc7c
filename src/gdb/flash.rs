//! GDB `load`: vFlashErase / vFlashWrite / vFlashDone into the same flash path as `program`.
//!
//! Like probe-rs's own GDB server, erase requests are only recorded and the written blocks are
//! staged; at vFlashDone the whole image is checked with `crate::flashing::check` (every byte
//! in a flash bank covered by the flash algorithm, or in RAM — the checks `program` makes, so
//! nothing is erased for an image that does not fit), then written with
//! `crate::flashing::write_image` like `program` (the sectors holding data are erased and
//! programmed) and verified by reading it back.
//!
//! Events (OpenOCD): `gdb-flash-erase-start`/`-end` around each vFlashErase (which only records
//! the range), `gdb-flash-write-start`/`-end` around the commit at vFlashDone.

use std::ops::Range;

use gdbstub::target::TargetResult;
use gdbstub::target::ext::flash::Flash;

use super::target::GdbTarget;
use crate::command::CommandError;
use crate::flashing::{self, Allowed, Image, ImageFormat, Segment, WriteOptions};

/// Blocks GDB sent since the last vFlashDone.
#[derive(Debug, Default, Clone)]
pub struct FlashStage {
    /// Written blocks, merged when contiguous, in address order (GDB sends increasing addresses).
    pub segments: Vec<Segment>,
    /// Ranges GDB asked to erase.
    pub erased: Vec<Range<u64>>,
}

impl FlashStage {
    /// Adds a written block.
    pub fn add(&mut self, addr: u64, data: &[u8]) {
        if let Some(last) = self.segments.last_mut()
            && last.end() == addr
        {
            last.data.extend_from_slice(data);
            return;
        }
        self.segments.push(Segment {
            address: addr,
            data: data.to_vec(),
            sections: Vec::new(),
        });
    }

    /// Bytes staged.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.data.len()).sum()
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }
}

impl GdbTarget {
    fn fire(&mut self, event: &'static str) -> Result<(), super::target::GdbError> {
        let (r, lines) = self.with_host(move |host, ctx| -> Result<(), CommandError> {
            let (target, _) = host.current_target()?;
            host.fire_event(ctx, &target, event)
        })?;
        for l in lines {
            self.note(l);
        }
        if let Err(e) = r {
            let _ = self.fail(format!("stdbg: {e}"));
        }
        Ok(())
    }
}

impl Flash for GdbTarget {
    fn flash_erase(&mut self, start_addr: u32, length: u32) -> TargetResult<(), Self> {
        self.fire("gdb-flash-erase-start")?;
        let range = start_addr as u64..start_addr as u64 + length as u64;
        let ok = self.memory_map.flash_contains(range.start, length as u64);
        if ok {
            self.flash.erased.push(range);
        }
        self.fire("gdb-flash-erase-end")?;
        if !ok {
            return Err(self.fail(format!(
                "stdbg: GDB asked to erase 0x{start_addr:08x}-0x{:08x}, which is not in the target's flash",
                start_addr as u64 + length as u64
            )));
        }
        Ok(())
    }

    fn flash_write(&mut self, start_addr: u32, data: &[u8]) -> TargetResult<(), Self> {
        if !self
            .memory_map
            .flash_contains(start_addr as u64, data.len() as u64)
        {
            self.flash = FlashStage::default();
            return Err(self.fail(format!(
                "stdbg: GDB wrote {} bytes at 0x{start_addr:08x}, outside the target's flash; nothing was programmed",
                data.len()
            )));
        }
        self.flash.add(start_addr as u64, data);
        Ok(())
    }

    fn flash_done(&mut self) -> TargetResult<(), Self> {
        self.read_cache = None;
        self.code_cache = None;
        let stage = std::mem::take(&mut self.flash);
        if stage.is_empty() {
            return Ok(());
        }
        let bytes = stage.len();
        self.fire("gdb-flash-write-start")?;
        let image = Image {
            path: crate::flashing::image::GDB_LOAD.into(),
            format: ImageFormat::Elf,
            segments: stage.segments,
            offset_given: true,
        };
        let (r, _) = self.with_host(move |host, _ctx| -> Result<(), CommandError> {
            flashing::check(host, &image, Allowed::FlashOrRam)?;
            // The same write as `program` (watchpoints suspended around the flash algorithm,
            // breakpoints and watchpoints programmed again afterwards, failures explained).
            flashing::write_image(
                host,
                &image,
                WriteOptions {
                    erase: true,
                    progress: false,
                },
            )?;
            let c = flashing::compare(host, &image, false)?;
            if c.total_diffs > 0 {
                return Err(CommandError::failed(format!(
                    "after programming, {} of {} bytes differ from GDB's image: the write was disturbed or the flash is worn; load again",
                    c.total_diffs, c.bytes
                )));
            }
            Ok(())
        })?;
        self.fire("gdb-flash-write-end")?;
        match r {
            Ok(()) => {
                tracing::info!("GDB load: programmed and verified {bytes} bytes");
                Ok(())
            }
            Err(e) => Err(self.fail(format!("stdbg: load failed: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FlashStage;

    #[test]
    fn contiguous_blocks_merge() {
        let mut s = FlashStage::default();
        s.add(0x0800_0000, &[1, 2]);
        s.add(0x0800_0002, &[3]);
        s.add(0x0800_0010, &[4]);
        assert_eq!(s.segments.len(), 2);
        assert_eq!(s.segments[0].data, vec![1, 2, 3]);
        assert_eq!(s.len(), 4);
    }
}
