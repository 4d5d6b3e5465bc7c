//! GDB's memory reads served from blocks read ahead (see [`read_ahead_block`]): RAM until the
//! next packet that may change memory, flash also across single steps while the flash
//! controller stays locked. Blocks are read through `Host::read_fast` (host/fastread.rs).

use std::time::{Duration, Instant};

use gdbstub::target::TargetError;

use super::target::GdbTarget;

/// The largest read-ahead block in bytes, and its alignment: one MEM-AP auto-increment page
/// (ADIv5 §C2.2.2), so a block costs one TAR write. GDB reads memory in many small pieces
/// (`x/256xw` is 256 four-byte `m` packets; a frame is analysed two to four bytes at a time;
/// its stack cache reads 64-byte lines), each costing a round trip and its own DAP setup; one
/// block read serves the following ones.
pub const READ_AHEAD: u64 = 1024;

/// The first read-ahead block of a run of reads: the 64-byte line (GDB's stack-cache line)
/// around the request. Only a miss right at the end of the last block (GDB reading on, as
/// `x/256xw` does) reads on to the next [`READ_AHEAD`] boundary.
pub const READ_LINE: u64 = 64;

/// How long read-ahead data may be reused at most (a console may write memory meanwhile).
pub const READ_AHEAD_LIFE: Duration = Duration::from_millis(200);

/// Memory read ahead for GDB, valid while no packet that may change memory has arrived
/// (the session's packet epoch) and for at most [`READ_AHEAD_LIFE`].
#[derive(Debug, Clone)]
pub struct ReadCache {
    epoch: u64,
    at: Instant,
    base: u64,
    data: Vec<u8>,
}

impl ReadCache {
    fn serves(&self, epoch: u64, start: u64, len: u64) -> bool {
        self.epoch == epoch
            && self.at.elapsed() < READ_AHEAD_LIFE
            && self.base <= start
            && start + len <= self.base + self.data.len() as u64
    }

    fn end(&self) -> u64 {
        self.base + self.data.len() as u64
    }
}

/// The block to read ahead for a miss at `start..start + len` inside `region`: the 64-byte
/// line around it, or, when the miss starts where the last block (`last_end`) ended, on to the
/// next 1 KiB boundary. `None`: the request does not fit one block.
pub fn read_ahead_block(
    start: u64,
    len: u64,
    region: &std::ops::Range<u64>,
    last_end: Option<u64>,
) -> Option<(u64, u64)> {
    let (base, end) = if last_end == Some(start) {
        (start, (start + 1).next_multiple_of(READ_AHEAD))
    } else {
        (
            (start & !(READ_LINE - 1)).max(region.start),
            (start + len).next_multiple_of(READ_LINE),
        )
    };
    let end = end.min(region.end);
    (start + len <= end && end - base <= READ_AHEAD).then_some((base, end))
}

impl GdbTarget {
    /// Serves a small read of RAM or flash from (or into) the read-ahead block. Flash blocks
    /// are kept across single steps (`code_cache`; the step checks the flash controller's locks), RAM
    /// blocks only until the next packet that may change memory. `None`: not cacheable here,
    /// read directly.
    pub(super) fn read_cached(
        &mut self,
        start_addr: u32,
        data: &mut [u8],
    ) -> Result<Option<usize>, TargetError<super::target::GdbError>> {
        let (start, len) = (start_addr as u64, data.len() as u64);
        if len == 0 || len > READ_AHEAD {
            return Ok(None);
        }
        let flash = self.memory_map.is_flash(start);
        let (cache, epoch) = if flash {
            (&self.code_cache, self.code_epoch)
        } else {
            (&self.read_cache, self.read_epoch)
        };
        if let Some(c) = cache
            && c.serves(epoch, start, len)
        {
            let off = (start - c.base) as usize;
            data.copy_from_slice(&c.data[off..off + data.len()]);
            return Ok(Some(data.len()));
        }
        let last_end = cache
            .as_ref()
            .filter(|c| c.epoch == epoch && c.at.elapsed() < READ_AHEAD_LIFE)
            .map(ReadCache::end);
        let Some(region) = self.memory_map.region_of(start) else {
            return Ok(None);
        };
        let Some((base, end)) = read_ahead_block(start, len, &region, last_end) else {
            return Ok(None);
        };
        let n = (end - base) as usize;
        let r = self
            .handle
            .call_or_busy(move |host| {
                let mut buf = vec![0u8; n];
                host.read_fast(base as u32, &mut buf).map(|()| buf)
            })
            .ok_or(TargetError::Fatal(super::target::GdbError::HostGone))?;
        match r {
            Ok(Ok(block)) => {
                let off = (start - base) as usize;
                data.copy_from_slice(&block[off..off + data.len()]);
                let c = Some(ReadCache {
                    epoch,
                    at: Instant::now(),
                    base,
                    data: block,
                });
                if flash {
                    self.code_cache = c;
                } else {
                    self.read_cache = c;
                }
                Ok(Some(data.len()))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_reads_the_line_first_and_on_to_the_kib_boundary_when_gdb_reads_on() {
        let ram = 0x2000_0000..0x2000_5000;
        // A first read: the 64-byte line around it.
        assert_eq!(
            read_ahead_block(0x2000_0004, 4, &ram, None),
            Some((0x2000_0000, 0x2000_0040))
        );
        // GDB reads on where the block ended: up to the next 1 KiB boundary (one TAR write).
        assert_eq!(
            read_ahead_block(0x2000_0040, 4, &ram, Some(0x2000_0040)),
            Some((0x2000_0040, 0x2000_0400))
        );
        assert_eq!(
            read_ahead_block(0x2000_0400, 4, &ram, Some(0x2000_0400)),
            Some((0x2000_0400, 0x2000_0800))
        );
        // Clipped at the region's end; a read across a line gets both lines.
        assert_eq!(
            read_ahead_block(0x2000_4ffc, 4, &ram, Some(0x2000_4ffc)),
            Some((0x2000_4ffc, 0x2000_5000))
        );
        assert_eq!(
            read_ahead_block(0x2000_003c, 8, &ram, None),
            Some((0x2000_0000, 0x2000_0080))
        );
        // Longer than a block, or past the region: not read ahead.
        assert_eq!(read_ahead_block(0x2000_0000, 1028, &ram, None), None);
        assert_eq!(read_ahead_block(0x2000_4ffc, 8, &ram, None), None);
    }

    #[test]
    fn only_reads_and_single_steps_keep_flash_read_ahead() {
        use super::super::wire::keeps_code_valid;
        for keeps in [
            &b"m8000178,4"[..],
            b"g",
            b"p0f",
            b"qfThreadInfo",
            b"vCont?",
            b"s",
            b"vCont;s:p1.1;c:p1.-1",
        ] {
            assert!(
                keeps_code_valid(keeps),
                "{}",
                String::from_utf8_lossy(keeps)
            );
        }
        for drops in [
            &b"vCont;c:p1.-1"[..],
            b"c",
            b"M20000000,4:00000000",
            b"vFlashErase:08000000,400",
            b"qRcmd,7265736574",
            b"Z1,8000174,2",
            b"G00",
        ] {
            assert!(
                !keeps_code_valid(drops),
                "{}",
                String::from_utf8_lossy(drops)
            );
        }
    }
}
