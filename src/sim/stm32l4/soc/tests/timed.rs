//! The timed blocks of the L476/G474 SoC (`soc/timed.rs`): USART1..3 and
//! TIM2 reset values, RCC gating and reset hold, the CCIPR kernel mux, the
//! G4's USART_PRESC, frame times at a given BRR, NVIC lines, the
//! DBGMCU_APB1FZR1.DBG_TIM2_STOP freeze.

use super::super::super::super::family::{STM32G474RE, STM32L476RG};
use super::super::super::super::fault::FaultSet;
use super::super::super::factory_nv;
use super::super::*;
use super::cx;

const US: Ps = 1_000_000;
const MS: Ps = 1_000_000_000;
const USART2: u32 = 0x4000_4400;
const USART1: u32 = 0x4001_3800;
const TIM2: u32 = 0x4000_0000;
const APB1RSTR1: u32 = RCC + 0x38;
const APB1ENR1: u32 = RCC + 0x58;
const APB2ENR: u32 = RCC + 0x60;
const CCIPR: u32 = RCC + 0x88;
// USART offsets (RM0351 §40.8, RM0440 §37.8).
const CR1: u32 = 0x00;
const BRR: u32 = 0x0C;
const ISR: u32 = 0x1C;
const TDR: u32 = 0x28;
const PRESC: u32 = 0x2C;
const UE: u32 = 1;
const RE: u32 = 1 << 2;
const TE: u32 = 1 << 3;
const TXEIE: u32 = 1 << 7;

struct Rig {
    soc: L4Soc,
    nv: NvMem,
    f: FaultSet,
    now: Ps,
    halted: bool,
}

impl Rig {
    fn new(variant: Variant) -> Rig {
        let ident = match variant {
            Variant::G474 => &STM32G474RE,
            Variant::L476 => &STM32L476RG,
        };
        let nv = factory_nv(variant, ident.flash_size);
        Rig {
            soc: L4Soc::power_on(ident, variant, &nv),
            nv,
            f: FaultSet::default(),
            now: 0,
            halted: false,
        }
    }
    fn wr(&mut self, a: u32, v: u32) {
        let mut c = cx(self.now, &mut self.nv, &self.f, self.halted);
        self.soc.write(a, 4, v, &mut c).unwrap();
    }
    fn rd(&mut self, a: u32) -> u32 {
        let mut c = cx(self.now, &mut self.nv, &self.f, self.halted);
        self.soc.read(a, 4, &mut c).unwrap()
    }
    fn set(&mut self, a: u32, bits: u32) {
        let v = self.rd(a);
        self.wr(a, v | bits);
    }
    fn at(&mut self, t: Ps) {
        self.now = t;
        let mut c = cx(t, &mut self.nv, &self.f, self.halted);
        self.soc.sync(&mut c);
    }
    fn irq(&self, n: u32) -> bool {
        let mut out = [0; 8];
        self.soc.irq_levels(&mut out);
        out[(n / 32) as usize] & (1 << (n % 32)) != 0
    }
    /// USART `base` at `brr`, TE | RE then UE (as the blinky firmware).
    fn usart_on(&mut self, base: u32, brr: u32) {
        self.wr(base + BRR, brr);
        self.wr(base + CR1, TE | RE);
        self.set(base + CR1, UE);
    }
    /// The time the first character sent at `self.now` on USART `i` left
    /// the TX pin (a preamble goes first), or None if none did by `until`.
    fn first_tx_end(&mut self, i: usize, base: u32, until: Ps) -> Option<Ps> {
        self.wr(base + TDR, u32::from(b'h'));
        self.at(until);
        let frames = self.soc.usart[i].take_tx();
        frames.first().map(|f| {
            assert_eq!(f.data, u16::from(b'h'));
            f.at
        })
    }
}

#[test]
fn usart_reset_values_gating_and_reset_hold() {
    let mut r = Rig::new(Variant::G474);
    // Clock off: reads 0, writes ignored.
    r.wr(USART2 + BRR, 139);
    assert_eq!(r.rd(USART2 + ISR), 0);
    r.set(APB1ENR1, 1 << 17);
    assert_eq!(r.rd(USART2 + BRR), 0, "the gated write was ignored");
    assert_eq!(r.rd(USART2 + ISR), 0x0000_00C0, "ISR reset value: TXE, TC");
    assert_eq!(r.rd(USART2 + CR1), 0);
    assert_eq!(r.rd(USART2 + PRESC), 0);
    r.wr(USART2 + BRR, 139);
    assert_eq!(r.rd(USART2 + BRR), 139);
    // APB1RSTR1.USART2RST holds it in reset: reset values, writes ignored.
    r.wr(APB1RSTR1, 1 << 17);
    assert_eq!(r.rd(USART2 + BRR), 0);
    r.wr(USART2 + BRR, 139);
    r.wr(APB1RSTR1, 0);
    assert_eq!(r.rd(USART2 + BRR), 0);
    // USART1 is on APB2 (APB2ENR bit 14).
    r.wr(USART1 + BRR, 77);
    assert_eq!(r.rd(USART1 + BRR), 0);
    r.wr(APB2ENR, 1 << 14);
    r.wr(USART1 + BRR, 77);
    assert_eq!(r.rd(USART1 + BRR), 77);
}

#[test]
fn a_character_takes_ten_bit_times_of_the_reset_pclk1() {
    // G474: PCLK1 = HSI16 = 16 MHz, BRR = 139: a bit is 139 / 16 MHz = 8.6875 µs;
    // the preamble and the character are 10 bits each: 173.75 µs.
    let mut r = Rig::new(Variant::G474);
    r.set(APB1ENR1, 1 << 17);
    r.usart_on(USART2, 139);
    assert_eq!(r.soc.next_event(0, false), Some(86_875_000), "preamble end");
    assert_eq!(r.first_tx_end(1, USART2, 173_750_000 - 1), None);
    r.at(173_750_000);
    let mut out = Vec::new();
    r.soc.take_serial_output(&mut out);
    assert_eq!(out, vec![("usart2", b"h".to_vec())]);
    // L476: MSI 4 MHz, BRR = 35: 8.75 µs a bit, 175 µs for both frames.
    let mut r = Rig::new(Variant::L476);
    r.set(APB1ENR1, 1 << 17);
    r.usart_on(USART2, 35);
    assert_eq!(r.first_tx_end(1, USART2, MS), Some(175 * US));
}

#[test]
fn ccipr_usart2sel_picks_pclk1_sysclk_hsi16_or_lse() {
    // L476 on MSI 4 MHz with PPRE1 = 101 (/4): PCLK1 = 1 MHz.
    let frame_end = |sel: u32, extra: &dyn Fn(&mut Rig)| {
        let mut r = Rig::new(Variant::L476);
        r.wr(RCC + 0x08, 0b101 << 8);
        r.wr(CCIPR, sel << 2);
        extra(&mut r);
        r.set(APB1ENR1, 1 << 17);
        r.usart_on(USART2, 35);
        r.first_tx_end(1, USART2, 100 * MS)
    };
    assert_eq!(frame_end(0b00, &|_| {}), Some(700 * US), "PCLK1 1 MHz");
    assert_eq!(frame_end(0b01, &|_| {}), Some(175 * US), "SYSCLK 4 MHz");
    assert_eq!(frame_end(0b10, &|_| {}), None, "HSI16 off after reset");
    let hsi_on = |r: &mut Rig| r.wr(RCC, 0x63 | (1 << 8));
    // 2 × 10 bits × 35 / 16 MHz = 43.75 µs.
    assert_eq!(frame_end(0b10, &hsi_on), Some(43_750_000), "HSI16");
    let lse_on = |r: &mut Rig| r.wr(RCC + 0x90, 1);
    // 2 × 10 × 35 / 32768 Hz = 21.362… ms, rounded up to the tick.
    let lse = frame_end(0b11, &lse_on).expect("LSE frame");
    assert_eq!(lse, (700 * 1_000_000_000_000u64).div_ceil(32_768));
}

#[test]
fn g474_presc_divides_the_kernel_clock_and_the_l476_has_none() {
    let mut r = Rig::new(Variant::G474);
    r.set(APB1ENR1, 1 << 17);
    r.wr(USART2 + PRESC, 0b0011); // /6
    assert_eq!(r.rd(USART2 + PRESC), 3);
    r.usart_on(USART2, 139);
    r.wr(USART2 + PRESC, 0); // UE = 1: PRESC keeps its value
    assert_eq!(r.rd(USART2 + PRESC), 3);
    assert_eq!(r.first_tx_end(1, USART2, 10 * MS), Some(6 * 173_750_000));
    let mut r = Rig::new(Variant::L476);
    r.set(APB1ENR1, 1 << 17);
    r.wr(USART2 + PRESC, 3);
    assert_eq!(r.rd(USART2 + PRESC), 0, "reserved on the L476");
}

#[test]
fn usart_and_tim2_interrupts_reach_their_nvic_lines() {
    let mut r = Rig::new(Variant::L476);
    r.set(APB1ENR1, (1 << 17) | 1);
    // TIM2: update every 1000 cycles of the 4 MHz timer clock = 250 µs.
    r.wr(TIM2 + 0x2C, 999); // ARR
    r.wr(TIM2 + 0x0C, 1); // DIER.UIE
    r.wr(TIM2, 1); // CR1.CEN
    assert_eq!(r.soc.next_event(0, false), Some(250 * US));
    assert!(!r.irq(28));
    r.at(250 * US);
    assert!(r.irq(28), "TIM2 on line 28");
    assert_eq!(r.rd(TIM2 + 0x10) & 1, 1, "SR.UIF");
    r.usart_on(USART2, 35);
    assert!(!r.irq(38));
    r.set(USART2 + CR1, TXEIE);
    assert!(r.irq(38), "USART2 on line 38 (TXE·TXEIE)");
}

#[test]
fn tim2_counts_the_doubled_apb1_clock_and_stops_under_dbg_tim2_stop() {
    let mut r = Rig::new(Variant::G474);
    // PPRE1 = 100 (/2): PCLK1 8 MHz, the timer clock 16 MHz (×2).
    r.wr(RCC + 0x08, 5 | (0b100 << 8));
    assert_eq!(r.soc.rcc.clocks().pclk1, 8_000_000);
    r.set(APB1ENR1, 1);
    r.wr(TIM2 + 0x2C, 15_999); // ARR: 1 ms at 16 MHz
    r.wr(TIM2, 1);
    r.at(MS / 2);
    assert_eq!(r.rd(TIM2 + 0x24), 8_000, "CNT after 0.5 ms at 16 MHz");
    // DBGMCU_APB1FZR1.DBG_TIM2_STOP with the core halted: no count.
    r.wr(DBGMCU + 8, 1);
    r.halted = true;
    let mut c = cx(r.now, &mut r.nv, &r.f, true);
    r.soc.set_core_halted(true, &mut c);
    r.at(MS);
    assert_eq!(r.rd(TIM2 + 0x24), 8_000, "frozen while halted");
    r.halted = false;
    let mut c = cx(r.now, &mut r.nv, &r.f, false);
    r.soc.set_core_halted(false, &mut c);
    r.at(MS + MS / 4);
    assert_eq!(r.rd(TIM2 + 0x24), 12_000, "counts again once resumed");
}
