//! The memory map XML (`qXfer:memory-map:read`) from the probe-rs target description: flash
//! regions with their erase block size (so GDB's `load` uses vFlashErase/vFlashWrite and
//! `break` on flash uses hardware breakpoints), and RAM regions.
//!
//! Source: GDB manual, "Memory Map Format". Flash block sizes come from the flash algorithm's
//! sector table (probe-rs `FlashProperties::sectors`, addresses relative to the algorithm's
//! range; probe-rs 0.32 fixed #4152, which advertised them relative to the region).

use std::ops::Range;

use probe_rs::config::MemoryRegion;

/// One region of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    /// Flash: address range and erase block size in bytes.
    Flash {
        /// Addresses covered.
        range: Range<u64>,
        /// Erase block (sector/page) size in bytes.
        block: u64,
    },
    /// RAM.
    Ram {
        /// Addresses covered.
        range: Range<u64>,
    },
}

/// The memory map of the attached target.
#[derive(Debug, Clone, Default)]
pub struct MemoryMap {
    /// Regions in address order.
    pub regions: Vec<Region>,
}

impl MemoryMap {
    /// Builds the map from a probe-rs target (alias regions, such as the synthesized option-byte
    /// regions, are left out).
    pub fn from_target(target: &probe_rs::Target) -> MemoryMap {
        let mut regions = Vec::new();
        for r in &target.memory_map {
            match r {
                MemoryRegion::Nvm(n) if !n.is_alias => {
                    let mut pieces = flash_blocks(target, &n.range);
                    if pieces.is_empty() {
                        // No algorithm describes it: advertise one block so GDB still knows it is flash.
                        pieces.push(Region::Flash {
                            range: n.range.clone(),
                            block: n.range.end - n.range.start,
                        });
                    }
                    regions.extend(pieces);
                }
                MemoryRegion::Ram(ram) if !ram.is_alias => regions.push(Region::Ram {
                    range: ram.range.clone(),
                }),
                _ => {}
            }
        }
        regions.sort_by_key(|r| match r {
            Region::Flash { range, .. } | Region::Ram { range } => range.start,
        });
        MemoryMap { regions }
    }

    /// Whether `addr` is in a flash region.
    pub fn is_flash(&self, addr: u64) -> bool {
        self.regions
            .iter()
            .any(|r| matches!(r, Region::Flash { range, .. } if range.contains(&addr)))
    }

    /// The RAM or flash region holding `addr`.
    pub fn region_of(&self, addr: u64) -> Option<Range<u64>> {
        self.regions.iter().find_map(|r| match r {
            Region::Flash { range, .. } | Region::Ram { range } if range.contains(&addr) => {
                Some(range.clone())
            }
            _ => None,
        })
    }

    /// Whether `addr..addr+len` lies inside one flash region.
    pub fn flash_contains(&self, addr: u64, len: u64) -> bool {
        self.regions
            .iter()
            .any(|r| matches!(r, Region::Flash { range, .. } if range.start <= addr && addr + len <= range.end))
    }

    /// The XML document.
    pub fn xml(&self) -> String {
        let mut x = String::from(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n<memory-map>\n",
        );
        for r in &self.regions {
            match r {
                Region::Flash { range, block } => x.push_str(&format!(
                    "<memory type=\"flash\" start=\"{:#x}\" length=\"{:#x}\"><property name=\"blocksize\">{:#x}</property></memory>\n",
                    range.start,
                    range.end - range.start,
                    block
                )),
                Region::Ram { range } => x.push_str(&format!(
                    "<memory type=\"ram\" start=\"{:#x}\" length=\"{:#x}\"/>\n",
                    range.start,
                    range.end - range.start
                )),
            }
        }
        x.push_str("</memory-map>\n");
        x
    }
}

/// Splits an NVM range into pieces of uniform erase block size using the flash algorithms.
fn flash_blocks(target: &probe_rs::Target, range: &Range<u64>) -> Vec<Region> {
    let Some(algo) = target
        .flash_algorithms
        .iter()
        .filter(|a| {
            let p = &a.flash_properties.address_range;
            p.start <= range.start && range.end <= p.end
        })
        .max_by_key(|a| a.default)
    else {
        return Vec::new();
    };
    let props = &algo.flash_properties;
    let mut out = Vec::new();
    for (i, s) in props.sectors.iter().enumerate() {
        let start = props.address_range.start + s.address;
        let end = props
            .sectors
            .get(i + 1)
            .map(|n| props.address_range.start + n.address)
            .unwrap_or(props.address_range.end);
        let (start, end) = (start.max(range.start), end.min(range.end));
        if start < end && s.size > 0 {
            out.push(Region::Flash {
                range: start..end,
                block: s.size,
            });
        }
    }
    out
}

/// `qXfer:memory-map:read` (offered unless `gdb_memory_map disable`).
impl gdbstub::target::ext::memory_map::MemoryMap for super::target::GdbTarget {
    fn memory_map_xml(
        &self,
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> gdbstub::target::TargetResult<usize, Self> {
        Ok(super::target_desc::copy_range(
            self.memory_map_xml.as_bytes(),
            offset,
            length,
            buf,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stm32f103c8_has_1k_flash_pages_and_20k_ram() {
        let reg = probe_rs::config::Registry::from_builtin_families();
        let t = reg.get_target_by_name("STM32F103C8").unwrap();
        let m = MemoryMap::from_target(&t);
        let x = m.xml();
        assert!(
            x.contains("<memory type=\"flash\" start=\"0x8000000\""),
            "{x}"
        );
        assert!(
            x.contains("<property name=\"blocksize\">0x400</property>"),
            "{x}"
        );
        assert!(
            x.contains("<memory type=\"ram\" start=\"0x20000000\" length=\"0x5000\"/>"),
            "{x}"
        );
        assert!(m.is_flash(0x0800_0174));
        assert!(!m.is_flash(0x2000_0000));
    }
}
