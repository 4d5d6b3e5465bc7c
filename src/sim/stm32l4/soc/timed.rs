//! The timed blocks of the L476/G474 SoC: USART1..3 (the newer USART,
//! `st/usart.rs`; on the G474 with USART_PRESC, RM0440 §37.8.12) and TIM2
//! (the F1 timer model in its 32-bit kind, `stm32f1/tim.rs`; RM0351 §31,
//! RM0440 §29), as the F303 places them (`stm32f3/mod.rs`):
//!
//! * bases (RM0351 §2.2.2 Table 1, RM0440 §2.2.2 Table 3): TIM2 0x4000_0000,
//!   USART2 0x4000_4400, USART3 0x4000_4800 on APB1, USART1 0x4001_3800 on
//!   APB2, 1 KiB each;
//! * RCC: a block whose enable bit is clear (APB1ENR1 TIM2EN 0, USART2EN 17,
//!   USART3EN 18; APB2ENR USART1EN 14) reads 0, ignores writes and gets no
//!   clock; while its reset bit (APB1RSTR1 / APB2RSTR, same positions) is set
//!   it is held in its reset state; the kernel clock of USARTx is
//!   RCC_CCIPR.USARTxSEL (PCLK2 for USART1 or PCLK1, SYSCLK, HSI16, LSE),
//!   TIM2 counts the APB1 timer clock; in Stop and Standby the bus clocks
//!   stop (LSE and LSI run on);
//! * DBGMCU_APB1FZR1.DBG_TIM2_STOP (bit 0) stops TIM2 while the core is
//!   halted;
//! * NVIC lines (RM0351 Table 58, RM0440 Table 97): TIM2 28, USART1 37,
//!   USART2 38, USART3 39.

use super::super::super::periph::{Clocks, Ctx, Peripheral};
use super::super::super::st::usart::{Kernel, Layout, Usart, drain_serial};
use super::super::super::stm32f1::tim::{Tim, TimKind};
use super::super::super::time::Ps;
use super::super::options::Variant;
use super::super::rcc::Apb;
use super::L4Soc;
use crate::sim::soc::PowerMode;

const TIM2: u32 = 0x4000_0000;
const USART_BASES: [u32; 3] = [0x4001_3800, 0x4000_4400, 0x4000_4800];
/// The RCC enable/reset bit of USART1..3.
const USART_BITS: [(Apb, u32); 3] = [(Apb::Apb2, 14), (Apb::Apb1, 17), (Apb::Apb1, 18)];
const TIM2_BIT: (Apb, u32) = (Apb::Apb1, 0);
const USART_IRQS: [u32; 3] = [37, 38, 39];
const TIM2_IRQ: u32 = 28;
/// USART instance names as `Soc::take_serial_output` reports them.
const USART_NAMES: [&str; 3] = ["usart1", "usart2", "usart3"];
const USART_BLOCKS: [&str; 3] = ["USART1", "USART2", "USART3"];
/// DBGMCU_APB1FZR1.DBG_TIM2_STOP (RM0351 §48.16.4, RM0440 §47.16.4).
const DBG_TIM2_STOP: u32 = 1 << 0;

/// A timed block an address falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timed {
    Usart(usize),
    Tim2,
}

impl Timed {
    /// The block at `a` and the offset into it.
    pub(super) fn at(a: u32) -> Option<(Timed, u32)> {
        if (TIM2..TIM2 + 0x400).contains(&a) {
            return Some((Timed::Tim2, a - TIM2));
        }
        USART_BASES
            .iter()
            .position(|&b| (b..b + 0x400).contains(&a))
            .map(|i| (Timed::Usart(i), a - USART_BASES[i]))
    }

    fn bit(self) -> (Apb, u32) {
        match self {
            Timed::Usart(i) => USART_BITS[i],
            Timed::Tim2 => TIM2_BIT,
        }
    }
}

/// The USARTs of `variant` in their reset state.
pub(super) fn new_usarts(variant: Variant, now: Ps) -> [Usart; 3] {
    let layout = match variant {
        Variant::G474 => Layout::Presc,
        Variant::L476 => Layout::Plain,
    };
    std::array::from_fn(|i| {
        let kernel = if i == 0 { Kernel::Pclk2 } else { Kernel::Pclk1 };
        Usart::with_layout(USART_BLOCKS[i], kernel, layout, now)
    })
}

/// TIM2 in its reset state.
pub(super) fn new_tim2(now: Ps) -> Tim {
    Tim::new(TimKind::Tim2x32, now)
}

impl L4Soc {
    fn gated(&self, b: Timed) -> bool {
        let (bus, bit) = b.bit();
        !self.rcc.clock_enabled(bus, bit)
    }

    fn held(&self, b: Timed) -> bool {
        let (bus, bit) = b.bit();
        self.rcc.held_in_reset(bus, bit)
    }

    /// The clocks `b` counts with: all zero while its clock is off, only
    /// LSE/LSI in Stop and Standby.
    fn clocks_for(&self, b: Timed) -> Clocks {
        let c = self.rcc.clocks();
        if self.gated(b) {
            Clocks::default()
        } else if self.power != PowerMode::Run {
            Clocks {
                lsi: c.lsi,
                lse: c.lse,
                ..Clocks::default()
            }
        } else {
            c
        }
    }

    /// The kernel clock RCC_CCIPR.USARTxSEL selects for USART `i`.
    fn usart_kernel(&self, i: usize) -> Kernel {
        match self.rcc.usart_sel(i) {
            0 if i == 0 => Kernel::Pclk2,
            0 => Kernel::Pclk1,
            1 => Kernel::Sysclk,
            2 => Kernel::Fixed(self.rcc.hsi16_hz()),
            _ => Kernel::Lse,
        }
    }

    /// Brings block `b` to `now` (and to its reset state while RCC holds it).
    fn sync_block(&mut self, b: Timed, now: Ps) {
        let clocks = self.clocks_for(b);
        let held = self.held(b);
        let cx = Ctx {
            now,
            clocks: &clocks,
        };
        match b {
            Timed::Usart(i) => {
                let kernel = self.usart_kernel(i);
                self.usart[i].sync_in_soc(kernel, held, &cx);
            }
            Timed::Tim2 => {
                self.tim2.sync(&cx);
                if held {
                    self.tim2.reset();
                }
            }
        }
    }

    /// Brings every timed block to `now`: before and after anything that
    /// changes their clocks (RCC, power mode, reset).
    pub(super) fn sync_timed(&mut self, now: Ps) {
        for i in 0..3 {
            self.sync_block(Timed::Usart(i), now);
        }
        self.sync_block(Timed::Tim2, now);
    }

    /// DBGMCU_APB1FZR1.DBG_TIM2_STOP stops TIM2 while the core is halted.
    pub(super) fn apply_freeze(&mut self, halted: bool, now: Ps) {
        let frozen = halted && self.dbg[1] & DBG_TIM2_STOP != 0;
        let clocks = self.clocks_for(Timed::Tim2);
        let cx = Ctx {
            now,
            clocks: &clocks,
        };
        // Counts up to now with the old setting, then takes the new one.
        self.tim2.set_frozen(frozen, &cx);
    }

    fn block_mut(&mut self, b: Timed) -> &mut dyn Peripheral {
        match b {
            Timed::Usart(i) => &mut self.usart[i],
            Timed::Tim2 => &mut self.tim2,
        }
    }

    pub(super) fn timed_read(&mut self, b: Timed, off: u32, now: Ps) -> u32 {
        self.sync_block(b, now);
        if self.gated(b) {
            return 0;
        }
        let clocks = self.clocks_for(b);
        self.block_mut(b).read(
            off,
            &Ctx {
                now,
                clocks: &clocks,
            },
        )
    }

    pub(super) fn timed_write(&mut self, b: Timed, off: u32, v: u32, now: Ps) {
        self.sync_block(b, now);
        if self.gated(b) || self.held(b) {
            return;
        }
        let clocks = self.clocks_for(b);
        self.block_mut(b).write(
            off,
            v,
            &Ctx {
                now,
                clocks: &clocks,
            },
        );
    }

    /// The earliest event of the timed blocks after `now`.
    pub(super) fn timed_next_event(&self, now: Ps) -> Option<Ps> {
        let blocks = (0..3).map(Timed::Usart).chain([Timed::Tim2]);
        blocks
            .filter_map(|b| {
                let clocks = self.clocks_for(b);
                let cx = Ctx {
                    now,
                    clocks: &clocks,
                };
                match b {
                    Timed::Usart(i) => self.usart[i].next_event(&cx),
                    Timed::Tim2 => self.tim2.next_event(&cx),
                }
            })
            .min()
    }

    /// The NVIC lines of the timed blocks into `out` (bit n of word n/32).
    pub(super) fn timed_irqs(&self, out: &mut [u32; 8]) {
        let mut set = |n: u32| out[(n / 32) as usize] |= 1 << (n % 32);
        for (u, &n) in self.usart.iter().zip(&USART_IRQS) {
            if u.irq(0) {
                set(n);
            }
        }
        if self.tim2.irq(0) {
            set(TIM2_IRQ);
        }
    }

    /// System reset of the timed blocks (the host queues survive).
    pub(super) fn reset_timed(&mut self) {
        for u in &mut self.usart {
            u.reset();
        }
        self.tim2.reset();
    }

    pub(super) fn serial_output(&mut self, out: &mut Vec<(&'static str, Vec<u8>)>) {
        drain_serial(&mut self.usart, &USART_NAMES, out);
    }

    pub(super) fn serial_input(&mut self, name: &str, bytes: &[u8], now: Ps) -> bool {
        let Some(i) = USART_NAMES.iter().position(|n| *n == name) else {
            return false;
        };
        let b = Timed::Usart(i);
        self.sync_block(b, now);
        let clocks = self.clocks_for(b);
        self.usart[i].push_rx(
            bytes,
            &Ctx {
                now,
                clocks: &clocks,
            },
        );
        true
    }
}
