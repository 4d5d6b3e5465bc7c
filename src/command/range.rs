//! Limits on the counts and lengths of memory commands, checked before anything is allocated or
//! sent to the target (docs/limits.md).
//!
//! A command that reads or writes `count` items of `width` bytes at `address` is refused when
//! the count is above [`MAX_ITEMS`], when the range leaves the 32-bit address space, or when it
//! starts in a known region of the chip and runs past that region's end. The regions are the
//! probe-rs memory map of the connected chip (flash, RAM) and the regions every STM32 has
//! (system memory and option bytes, peripherals, the private peripheral bus); an address outside
//! all of them is left to the bus, whose refusal is explained by the command.

use std::ops::Range;

use super::{CommandError, usage_error};
use crate::host::Host;

/// Most items one memory command reads or writes (`mdw`, `mww … count`, `read_memory`,
/// `write_memory`, `dump_image` counts bytes): 1 Mi.
pub const MAX_ITEMS: u64 = 1 << 20;

/// Most bytes one `dump_image` saves: 16 MiB (more than any STM32 has of flash and RAM together).
pub const MAX_DUMP_BYTES: u64 = 16 << 20;

/// One past the highest address of the 32-bit address space.
pub const ADDRESS_SPACE_END: u64 = 1 << 32;

/// A named address range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// What it is, for messages (`flash`, `RAM`, `the peripheral region` …).
    pub name: String,
    /// Its addresses.
    pub range: Range<u64>,
}

/// The regions of the connected chip (none before `init`): the probe-rs memory map plus the
/// system regions of every STM32 (Arm's fixed map, ARMv7-M ARM §B3.1: peripherals at
/// 0x40000000-0x5fffffff, the PPB and vendor system region from 0xe0000000; ST's system memory
/// and option bytes just below SRAM).
pub fn regions(host: &Host) -> Vec<Region> {
    let mut out = Vec::new();
    if let Some(conn) = host.conn().as_ref() {
        for r in &conn.session.target().memory_map {
            if r.as_nvm_region().is_some_and(|n| n.is_alias) {
                continue;
            }
            let name = if r.as_nvm_region().is_some() {
                "flash"
            } else if r.as_ram_region().is_some() {
                "RAM"
            } else {
                "memory"
            };
            out.push(Region {
                name: name.into(),
                range: r.address_range(),
            });
        }
    } else {
        return out;
    }
    for (name, range) in [
        (
            "system memory and option bytes",
            0x1FF0_0000..0x2000_0000u64,
        ),
        ("the peripheral region", 0x4000_0000..0x6000_0000),
        ("the system region (PPB)", 0xE000_0000..ADDRESS_SPACE_END),
    ] {
        out.push(Region {
            name: name.into(),
            range,
        });
    }
    out
}

/// Checks `count` items of `width` bytes at `addr` against [`MAX_ITEMS`], the address space and
/// the region the range starts in. Returns the length in bytes.
pub fn check_access(
    regions: &[Region],
    addr: u64,
    width: u64,
    count: u64,
    max_items: u64,
) -> Result<u64, CommandError> {
    if count > max_items {
        return Err(usage_error(format!(
            "count {count} is too large: one command reads or writes at most {max_items} items; split the range"
        )));
    }
    let len = width * count;
    let end = addr.saturating_add(len);
    if end > ADDRESS_SPACE_END {
        return Err(CommandError::failed(format!(
            "0x{addr:08x} + {len} bytes runs past the end of the 32-bit address space (0xffffffff); check the address and the count"
        )));
    }
    if let Some(r) = regions.iter().find(|r| r.range.contains(&addr))
        && end > r.range.end
    {
        let fits = (r.range.end - addr) / width.max(1);
        return Err(CommandError::failed(format!(
            "0x{addr:08x} + {len} bytes (to 0x{:08x}) runs past the end of {} (0x{:08x}-0x{:08x}) at 0x{:08x}; at most {fits} items of {width} bytes fit from 0x{addr:08x}",
            end - 1,
            r.name,
            r.range.start,
            r.range.end - 1,
            r.range.end
        )));
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Vec<Region> {
        vec![
            Region {
                name: "RAM".into(),
                range: 0x2000_0000..0x2000_5000,
            },
            Region {
                name: "the peripheral region".into(),
                range: 0x4000_0000..0x6000_0000,
            },
        ]
    }

    #[test]
    fn huge_counts_are_refused_before_allocation() {
        let e = check_access(&map(), 0, 8, u64::MAX, MAX_ITEMS).unwrap_err();
        assert!(e.to_string().contains("at most 1048576 items"), "{e}");
        let e = check_access(&map(), 0xffff_fff0, 4, 8, MAX_ITEMS).unwrap_err();
        assert!(e.to_string().contains("32-bit address space"), "{e}");
    }

    #[test]
    fn a_range_past_the_end_of_its_region_names_the_end() {
        let e = check_access(&map(), 0x2000_4ff0, 4, 8, MAX_ITEMS).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("runs past the end of RAM (0x20000000-0x20004fff) at 0x20005000"),
            "{e}"
        );
        assert!(e.contains("at most 4 items"), "{e}");
        assert_eq!(
            check_access(&map(), 0x2000_4ff0, 4, 4, MAX_ITEMS).unwrap(),
            16
        );
        // Outside every known region: left to the bus.
        assert_eq!(
            check_access(&map(), 0x6000_0000, 4, 1, MAX_ITEMS).unwrap(),
            4
        );
    }
}
