//! The generic block that serves a peripheral stdbg does not model (ADC1/2, DMA1, CRC, RTC, BKP,
//! WWDG, bxCAN: the [`Model::Stored`](super::map::Model::Stored) blocks of `map.rs`), so that
//! firmware and debugger can touch every register RM0008 lists without a panic or a bus error.
//!
//! A listed register reads its reset value until written and then what was last written (all
//! 32 bits are kept: no writable masks, no side effects, no flags that set by themselves, no
//! interrupts); the first access to each register says so once in the debug log:
//! `virtual STM32: <BLOCK> register at <addr> is not modelled: stored only`. Offsets RM0008 does
//! not list read 0 and ignore writes (reserved). A reset restores the reset values; a register
//! already reported is not reported again.

use super::map::{Block, Model, Reg};
use crate::sim::periph::{Ctx, Peripheral};

#[derive(Debug, Clone)]
pub(crate) struct Unmodelled {
    name: &'static str,
    base: u32,
    regs: &'static [Reg],
    values: Vec<u32>,
    reported: Vec<bool>,
}

impl Unmodelled {
    /// A stored-register block named `name` at `base` with the registers `regs` (ascending
    /// offsets), at their reset values.
    pub(crate) fn new(name: &'static str, base: u32, regs: &'static [Reg]) -> Unmodelled {
        Unmodelled {
            name,
            base,
            regs,
            values: regs.iter().map(|r| r.reset).collect(),
            reported: vec![false; regs.len()],
        }
    }

    /// The stored-register block for a `map.rs` block, if that block is not modelled.
    pub(crate) fn for_block(block: &'static Block) -> Option<Unmodelled> {
        match block.model {
            Model::Stored(regs) => Some(Unmodelled::new(block.name, block.base, regs)),
            Model::File(_) => None,
        }
    }

    /// Index of the register at `off`, reporting it on first use.
    fn index(&mut self, off: u32) -> Option<usize> {
        let i = self.regs.binary_search_by_key(&off, |r| r.off).ok()?;
        if !self.reported[i] {
            self.reported[i] = true;
            tracing::debug!(
                "virtual STM32: {} register at {:#010x} is not modelled: stored only",
                self.name,
                self.base + off
            );
        }
        Some(i)
    }
}

impl Peripheral for Unmodelled {
    fn name(&self) -> &'static str {
        self.name
    }

    fn read(&mut self, off: u32, _cx: &Ctx) -> u32 {
        self.index(off).map_or(0, |i| self.values[i])
    }

    fn write(&mut self, off: u32, value: u32, _cx: &Ctx) {
        if let Some(i) = self.index(off) {
            self.values[i] = value;
        }
    }

    fn reset(&mut self) {
        for (v, r) in self.values.iter_mut().zip(self.regs) {
            *v = r.reset;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::super::map;
    use super::*;
    use crate::sim::periph::Clocks;

    const CX: Ctx = Ctx {
        now: 0,
        clocks: &Clocks::RESET,
    };

    fn block(name: &str) -> Unmodelled {
        Unmodelled::for_block(map::block(name).unwrap()).unwrap()
    }

    #[test]
    fn every_unmodelled_block_reads_its_reset_values() {
        let mut n = 0;
        for blk in map::BLOCKS {
            let Some(mut u) = Unmodelled::for_block(blk) else {
                continue;
            };
            let Model::Stored(regs) = blk.model else {
                unreachable!()
            };
            for r in regs {
                assert_eq!(u.read(r.off, &CX), r.reset, "{} {}", blk.name, r.name);
            }
            n += 1;
        }
        assert_eq!(n, 8, "ADC1, ADC2, DMA1, CRC, RTC, BKP, WWDG, bxCAN");
        assert!(Unmodelled::for_block(map::block("TIM2").unwrap()).is_none());
    }

    #[test]
    fn writes_are_kept_reserved_offsets_read_0_and_reset_restores() {
        let mut u = block("ADC1");
        u.write(0x24, 0x123, &CX);
        assert_eq!(u.read(0x24, &CX), 0x123);
        u.write(0x08, 0xFFFF_FFFF, &CX);
        assert_eq!(
            u.read(0x08, &CX),
            0xFFFF_FFFF,
            "no masks: stored as written"
        );
        u.write(0x50, 7, &CX);
        assert_eq!(u.read(0x50, &CX), 0, "reserved");
        assert_eq!(u.read(0x3FC, &CX), 0);
        u.reset();
        assert_eq!(u.read(0x24, &CX), 0xFFF);
        assert_eq!(u.read(0x08, &CX), 0);
        assert_eq!(u.name(), "ADC1");
    }

    /// Collects formatted log lines.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_register_is_reported_once_in_the_debug_log() {
        let sink = Sink::default();
        let out = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || out.clone())
            .without_time()
            .with_target(false)
            .with_level(false)
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let mut u = block("DMA1");
            u.read(0x08, &CX);
            u.write(0x08, 1, &CX);
            u.read(0x08, &CX);
            u.write(0x00, 0, &CX);
            u.read(0x18, &CX); // reserved: not a register
            u.reset();
            u.read(0x00, &CX);
        });
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(
            lines,
            [
                "virtual STM32: DMA1 register at 0x40020008 is not modelled: stored only",
                "virtual STM32: DMA1 register at 0x40020000 is not modelled: stored only",
            ]
        );
    }
}
