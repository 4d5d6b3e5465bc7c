//! Register access to the F3's peripheral blocks: RCC gating and reset of
//! each block, the dispatch to the block models and the byte-lane rules (see
//! the module doc of `mod.rs`).

use super::super::periph::{Clocks, Ctx, Peripheral};
use super::super::soc::{BusError, ResetCause, SocCtx, SocEffects};
use super::super::st::gpio::GpioPort;
use super::super::stm32f1::fpec::FpecWrite;
use super::super::time::Ps;
use super::map::{BLOCKS, Bus};
use super::{F3Soc, USART_BLOCKS, pwr};

impl F3Soc {
    pub(super) fn periph_read(&mut self, i: usize, a: u32, now: Ps) -> u32 {
        let b = &BLOCKS[i];
        let off = a - b.base;
        if let Some(u) = USART_BLOCKS.iter().position(|n| *n == b.name) {
            self.sync_usart(u, now);
            if self.gated(b) {
                return 0;
            }
            let clocks = self.clocks_for(b);
            return self.usart[u].read(
                off,
                &Ctx {
                    now,
                    clocks: &clocks,
                },
            );
        }
        if b.name == "TIM2" {
            self.sync_tim2(now);
            if self.gated(b) {
                return 0;
            }
            let clocks = self.clocks_for(b);
            return self.tim2.read(
                off,
                &Ctx {
                    now,
                    clocks: &clocks,
                },
            );
        }
        if self.held(b) {
            if let Some(Some(s)) = self.stored.get_mut(i) {
                s.reset();
            }
            self.apply_gpio_resets();
        }
        if self.gated(b) {
            return 0;
        }
        match b.name {
            "RCC" => self.rcc.read(off),
            "FLASH" => self.fpec.read(off),
            "PWR" => self.pwr.read(off),
            "IWDG" => self.iwdg.read(off),
            "EXTI" => self.exti.read(
                off,
                &Ctx {
                    now,
                    clocks: &Clocks::default(),
                },
            ),
            n if n.starts_with("GPIO") => self.gpio[off_port(a) as usize].read(off),
            _ => {
                let clocks = self.clocks_for(b);
                match self.stored.get_mut(i) {
                    Some(Some(s)) => s.read(
                        off,
                        &Ctx {
                            now,
                            clocks: &clocks,
                        },
                    ),
                    _ => 0,
                }
            }
        }
    }

    /// A write of the lanes `m` of `v` (already shifted into place) at the word `a`.
    pub(super) fn periph_write(
        &mut self,
        i: usize,
        a: u32,
        v: u32,
        m: u32,
        cx: &mut SocCtx,
    ) -> Result<SocEffects, BusError> {
        let mut fx = SocEffects::default();
        let b = &BLOCKS[i];
        let off = a - b.base;
        let now = cx.now;
        // APB replicates sub-word writes (the value arrives replicated); AHB merges.
        let merge = |old: u32| (old & !m) | (v & m);
        if let Some(u) = USART_BLOCKS.iter().position(|n| *n == b.name) {
            self.sync_usart(u, now);
            if !self.gated(b) && !self.held(b) {
                let clocks = self.clocks_for(b);
                self.usart[u].write(
                    off,
                    v,
                    &Ctx {
                        now,
                        clocks: &clocks,
                    },
                );
            }
            return Ok(fx);
        }
        if b.name == "TIM2" {
            self.sync_tim2(now);
            if !self.gated(b) && !self.held(b) {
                let clocks = self.clocks_for(b);
                self.tim2.write(
                    off,
                    v,
                    &Ctx {
                        now,
                        clocks: &clocks,
                    },
                );
            }
            return Ok(fx);
        }
        if self.held(b) {
            if let Some(Some(s)) = self.stored.get_mut(i) {
                s.reset();
            }
            self.apply_gpio_resets();
            if b.name != "RCC" {
                return Ok(fx);
            }
        }
        if self.gated(b) {
            return Ok(fx);
        }
        match b.name {
            "RCC" => {
                self.sync_usarts(now);
                let before = self.rcc.hclk_hz();
                let w = merge(self.rcc.read(off));
                self.rcc.write(off, w);
                self.sync_usarts(now);
                self.apply_gpio_resets();
                fx.clock_changed = self.rcc.hclk_hz() != before;
            }
            "FLASH" => {
                self.fpec.debug_mode = cx.debug_latched;
                let w = merge(self.fpec.read(off));
                match self.fpec.write(off, w, cx.nv, cx.faults) {
                    FpecWrite::Ok => {}
                    FpecWrite::BusError => return Err(BusError),
                    FpecWrite::LockedAfterChange => fx.persist = true,
                }
                if std::mem::take(&mut self.fpec.obl_launch) {
                    // RM0316 §4.5.5: OBL_LAUNCH reloads the option bytes by a system reset.
                    self.obl_pending = true;
                    fx.persist = true;
                    fx.reset = Some(ResetCause::Software);
                }
            }
            "PWR" => {
                self.pwr.write(off, v);
                self.rcc.backup_writable = self.pwr.cr & pwr::DBP != 0;
            }
            "IWDG" => {
                fx.merge(self.sync_iwdg(now, cx.core_halted));
                if self.iwdg.write(off, v) {
                    fx.reset = Some(ResetCause::IndependentWatchdog);
                }
            }
            "EXTI" => self.exti.write(
                off,
                v,
                &Ctx {
                    now,
                    clocks: &Clocks::default(),
                },
            ),
            n if n.starts_with("GPIO") => {
                let g = &mut self.gpio[off_port(a) as usize];
                let w = if off == 0x18 || off == 0x28 {
                    v & m // BSRR/BRR: unwritten lanes change nothing
                } else {
                    merge(g_read_plain(g, off))
                };
                g.write(off, w);
            }
            _ => {
                let clocks = self.clocks_for(b);
                if let Some(Some(s)) = self.stored.get_mut(i) {
                    let cxp = Ctx {
                        now,
                        clocks: &clocks,
                    };
                    let w = if b.bus == Bus::Ahb {
                        merge(s.read(off, &cxp))
                    } else {
                        v
                    };
                    s.write(off, w, &cxp);
                }
            }
        }
        Ok(fx)
    }
}

/// GPIO port index of an address on AHB2 (0x4800_0000 + 0x400 · port).
fn off_port(a: u32) -> u32 {
    (a - 0x4800_0000) / 0x400
}

/// A GPIO register's value for a read-modify-write, without read side effects
/// (LCKR's key-sequence read).
fn g_read_plain(g: &GpioPort, off: u32) -> u32 {
    let mut c = g.clone();
    c.read(off)
}
