//! Unit tests of the STM32F303 SoC (RM0316).

use super::*;
use crate::sim::family::STM32F303VC;
use crate::sim::fault::FaultSet;
use crate::sim::soc::Origin;
use crate::sim::stm32f1::fpec::{FACTORY_OPTION_BYTES_F3, KEY1, KEY2};

const RCC: u32 = 0x4002_1000;
const FLASH: u32 = 0x4002_2000;
const GPIOA: u32 = 0x4800_0000;
const GPIOE: u32 = 0x4800_1000;
const USART1: u32 = 0x4001_3800;

struct Rig {
    soc: F3Soc,
    nv: NvMem,
    faults: FaultSet,
    now: Ps,
}

impl Rig {
    fn new() -> Rig {
        Rig::with_options(FACTORY_OPTION_BYTES_F3)
    }
    fn with_options(opt: [u8; 16]) -> Rig {
        let nv = NvMem::blank(STM32F303VC.flash_size, opt);
        Rig {
            soc: F3Soc::power_on(&STM32F303VC, &nv),
            nv,
            faults: FaultSet::default(),
            now: 0,
        }
    }
    fn cx(&mut self) -> SocCtx<'_> {
        SocCtx {
            now: self.now,
            nv: &mut self.nv,
            faults: &self.faults,
            origin: Origin::Debug,
            debug_latched: true,
            debugen: true,
            core_halted: true,
        }
    }
    fn rd(&mut self, a: u32) -> u32 {
        let mut soc = std::mem::replace(&mut self.soc, F3Soc::power_on(&STM32F303VC, &self.nv));
        let v = soc.read(a, 4, &mut self.cx());
        self.soc = soc;
        v.unwrap_or_else(|_| panic!("bus error reading {a:#x}"))
    }
    fn try_wr(&mut self, a: u32, size: u32, v: u32) -> Result<SocEffects, BusError> {
        let mut soc = std::mem::replace(&mut self.soc, F3Soc::power_on(&STM32F303VC, &self.nv));
        let r = if (0x0800_0000..0x0804_0000).contains(&a) {
            soc.flash_write(a - 0x0800_0000, size, v, &mut self.cx())
        } else {
            soc.write(a, size, v, &mut self.cx())
        };
        self.soc = soc;
        r
    }
    fn wr(&mut self, a: u32, v: u32) -> SocEffects {
        self.try_wr(a, 4, v)
            .unwrap_or_else(|_| panic!("bus error writing {a:#x}"))
    }
    fn reset(&mut self, cause: ResetCause) {
        let mut soc = std::mem::replace(&mut self.soc, F3Soc::power_on(&STM32F303VC, &self.nv));
        soc.system_reset(cause, &mut self.cx());
        self.soc = soc;
    }
    fn unlock(&mut self) {
        self.wr(FLASH + 0x04, KEY1);
        self.wr(FLASH + 0x04, KEY2);
        assert_eq!(self.rd(FLASH + 0x10) & 0x80, 0, "FPEC unlocked");
    }
    /// Erases the option bytes, programs RDP = 0xAA (level 0) and `byte` at `off`.
    fn program_option(&mut self, off: u32, byte: u8) {
        self.wr(FLASH + 0x08, KEY1);
        self.wr(FLASH + 0x08, KEY2);
        self.wr(FLASH + 0x10, 1 << 9 | 1 << 5); // OPTWRE | OPTER
        self.wr(FLASH + 0x10, 1 << 9 | 1 << 5 | 1 << 6); // STRT
        self.wr(FLASH + 0x10, 1 << 9 | 1 << 4); // OPTWRE | OPTPG
        self.try_wr(0x1FFF_F800, 2, 0xAA).unwrap();
        self.try_wr(0x1FFF_F800 + off, 2, byte as u32).unwrap();
        assert_eq!(self.rd(FLASH + 0x0C) & 0x14, 0, "no PGERR/WRPRTERR");
    }
}

#[test]
fn rcc_reset_values_rm0316_9_4() {
    let mut r = Rig::new();
    assert_eq!(
        r.rd(RCC) & !0xFF00,
        0x83,
        "CR: HSION | HSIRDY | HSITRIM 16 (§9.4.1)"
    );
    assert_eq!(r.rd(RCC + 0x04), 0, "CFGR (§9.4.2)");
    assert_eq!(r.rd(RCC + 0x14), 0x14, "AHBENR: SRAMEN | FLITFEN (§9.4.6)");
    assert_eq!(r.rd(RCC + 0x20), 0x18, "BDCR: LSEDRV = 11 (§9.4.9)");
    assert_eq!(
        r.rd(RCC + 0x24),
        0x0C00_0000,
        "CSR: PORRSTF | PINRSTF (§9.4.10)"
    );
    for off in [0x08, 0x0C, 0x10, 0x18, 0x1C, 0x28, 0x2C, 0x30, 0x34] {
        assert_eq!(r.rd(RCC + off), 0, "RCC + {off:#x}");
    }
    assert_eq!(r.soc.hclk_hz(), 8_000_000);
}

#[test]
fn pll_from_hse_times_9_gives_72_mhz_hclk() {
    let mut r = Rig::new();
    r.wr(RCC, 0x83 | 1 << 16); // HSEON
    assert_ne!(r.rd(RCC) & 1 << 17, 0, "HSERDY");
    // PLLSRC = HSE/PREDIV (PREDIV 1), PLLMUL = 0111 (×9), PPRE1 = /2.
    r.wr(RCC + 0x04, 1 << 16 | 7 << 18 | 4 << 8);
    r.wr(RCC, 0x83 | 1 << 16 | 1 << 24);
    assert_ne!(r.rd(RCC) & 1 << 25, 0, "PLLRDY");
    let fx = r.wr(RCC + 0x04, 1 << 16 | 7 << 18 | 4 << 8 | 2);
    assert!(fx.clock_changed);
    assert_eq!((r.rd(RCC + 0x04) >> 2) & 3, 2, "SWS = PLL");
    assert_eq!(r.soc.hclk_hz(), 72_000_000);
    let c = r.soc.rcc.clocks();
    assert_eq!(
        (c.pclk1, c.pclk2, c.tim_pclk1),
        (36_000_000, 72_000_000, 72_000_000)
    );
    // The PLL in use cannot be stopped; its configuration is frozen while on.
    r.wr(RCC, 0x83 | 1 << 16);
    assert_ne!(r.rd(RCC) & 1 << 24, 0);
    r.wr(RCC + 0x04, 2);
    assert_eq!(r.rd(RCC + 0x04) & 0x003F_0000, 1 << 16 | 7 << 18);
    // HSI/2 × 16 = 64 MHz.
    let mut r = Rig::new();
    r.wr(RCC + 0x04, 14 << 18);
    r.wr(RCC, 0x83 | 1 << 24);
    r.wr(RCC + 0x04, 14 << 18 | 2);
    assert_eq!(r.soc.hclk_hz(), 64_000_000);
}

#[test]
fn gpio_clock_gating_and_reserved_addresses() {
    let mut r = Rig::new();
    assert_eq!(r.rd(GPIOA), 0, "GPIOA clock off: reads 0");
    r.wr(GPIOE, 1 << 18);
    r.wr(RCC + 0x14, 0x14 | 1 << 21 | 1 << 17); // IOPEEN, IOPAEN
    assert_eq!(r.rd(GPIOE), 0, "the write with the clock off was ignored");
    assert_eq!(r.rd(GPIOA), 0xA800_0000);
    r.wr(GPIOE, 1 << 18);
    r.wr(GPIOE + 0x18, 1 << 9);
    assert_eq!(r.soc.gpio_odr(4), 1 << 9);
    // A byte write to BSRR's reset half touches only its pins.
    r.try_wr(GPIOE + 0x1B, 1, 1 << 1).unwrap(); // BR9 = bit 25
    assert_eq!(r.soc.gpio_odr(4), 0);
    // RCC_AHBRSTR.IOPERST holds the port in reset.
    r.wr(RCC + 0x28, 1 << 21);
    r.wr(RCC + 0x28, 0);
    assert_eq!(r.rd(GPIOE), 0);
    let mut soc = F3Soc::power_on(&STM32F303VC, &r.nv);
    for a in [
        0x4800_1800,
        0x4000_0C00,
        0x4002_4400,
        0x5000_0800,
        0x4001_5000,
    ] {
        assert!(soc.read(a, 4, &mut r.cx()).is_err(), "{a:#x}: bus error");
    }
    assert_eq!(
        soc.read(0x4000_002C, 4, &mut r.cx()).unwrap(),
        0,
        "TIM2 clock off reads 0"
    );
}

#[test]
fn swd_pins_given_to_gpio_silence_the_debug_port_until_reset() {
    let mut r = Rig::new();
    assert!(!r.soc.debug_port_silent());
    r.wr(RCC + 0x14, 0x14 | 1 << 17);
    r.wr(GPIOA, 0xA800_0000 & !(3 << 28)); // PA14 input
    assert!(r.soc.debug_port_silent());
    r.reset(ResetCause::Pin);
    assert!(!r.soc.debug_port_silent());
    r.wr(RCC + 0x14, 0x14 | 1 << 17);
    r.wr(GPIOA + 0x24, 5 << 20); // PA13 on AF5
    assert!(r.soc.debug_port_silent());
}

#[test]
fn fpec_programs_half_words_and_erases_2_kib_pages() {
    let mut r = Rig::new();
    assert_eq!(r.rd(FLASH + 0x10), 0x80, "CR: LOCK (§4.5.5)");
    assert_eq!(r.rd(FLASH), 0x30, "ACR (§4.5.1)");
    assert_eq!(
        r.rd(FLASH + 0x1C),
        0xFFFF_7700,
        "OBR of the factory option bytes"
    );
    assert_eq!(r.rd(FLASH + 0x20), 0xFFFF_FFFF, "WRPR");
    assert!(
        r.try_wr(0x0800_0000, 2, 0x1234).is_err(),
        "PG = 0: bus error"
    );
    r.unlock();
    r.wr(FLASH + 0x10, 1); // PG
    for a in [0x0800_07FE, 0x0800_0800, 0x0800_0FFE, 0x0800_1000] {
        r.try_wr(a, 2, 0xA55A).unwrap();
    }
    assert!(
        r.try_wr(0x0800_0004, 4, 0).is_err(),
        "word write: bus error"
    );
    r.try_wr(0x0800_0800, 2, 0x0000).unwrap();
    assert_eq!(
        r.rd(FLASH + 0x0C) & 0x24,
        0x24,
        "PGERR (not erased) and EOP"
    );
    r.wr(FLASH + 0x0C, 0x34);
    assert_eq!(r.rd(FLASH + 0x0C), 0, "SR is write-1-to-clear");
    // Page erase of page 1 (0x0800_0800..0x0800_0FFF).
    r.wr(FLASH + 0x10, 2);
    r.wr(FLASH + 0x14, 0x0800_0C00);
    r.wr(FLASH + 0x10, 2 | 1 << 6);
    let f = &r.nv.flash;
    assert_eq!(&f[0x7FE..0x800], &[0x5A, 0xA5], "page 0 kept");
    assert!(f[0x800..0x1000].iter().all(|&b| b == 0xFF), "page 1 erased");
    assert_eq!(&f[0x1000..0x1002], &[0x5A, 0xA5], "page 2 kept");
}

#[test]
fn obl_launch_reloads_the_option_bytes_with_a_reset() {
    let mut r = Rig::new();
    r.unlock();
    r.program_option(4, 0x42); // Data0
    assert_eq!(
        r.rd(FLASH + 0x1C) >> 16 & 0xFF,
        0xFF,
        "OBR keeps the loaded value"
    );
    let fx = r.wr(FLASH + 0x10, 1 << 13);
    assert_eq!(
        fx.reset,
        Some(ResetCause::Software),
        "OBL_LAUNCH asks for a reset"
    );
    r.reset(ResetCause::Software);
    assert_eq!(r.rd(FLASH + 0x1C), 0xFF42_7700);
    assert_eq!(
        r.rd(RCC + 0x24) & 0xFE80_0000,
        1 << 25 | 1 << 26 | 1 << 27,
        "OBLRSTF | PINRSTF, PORRSTF kept"
    );
    // OBL_LAUNCH is ignored while CR is locked.
    let fx = r.wr(FLASH + 0x10, 1 << 13);
    assert_eq!(fx.reset, None);
}

#[test]
fn rdp_levels_and_the_permanent_level_2() {
    let mut opt = FACTORY_OPTION_BYTES_F3;
    (opt[0], opt[1]) = (0x00, 0xFF);
    let r = Rig::with_options(opt);
    assert_eq!(r.soc.fpec.obr & 6, 2, "any other RDP: level 1");
    assert!(!r.soc.flash_readable(true));
    assert!(r.soc.flash_readable(false));
    assert!(!r.soc.debug_port_silent());
    (opt[0], opt[1]) = (0xCC, 0x33);
    let mut r = Rig::with_options(opt);
    assert_eq!(r.soc.fpec.obr & 6, 6, "0xCC: level 2");
    assert!(r.soc.debug_port_silent(), "level 2: debug disabled");
    r.reset(ResetCause::Pin);
    assert!(r.soc.debug_port_silent(), "for good");
    r.unlock();
    r.wr(FLASH + 0x08, KEY1);
    r.wr(FLASH + 0x08, KEY2);
    assert_eq!(
        r.rd(FLASH + 0x10) & 1 << 9,
        0,
        "OPTWRE cannot be set in level 2"
    );
}

#[test]
fn usart1_prints_at_the_baud_rate_of_its_kernel_clock() {
    let mut r = Rig::new();
    r.wr(RCC + 0x18, 1 << 14); // USART1EN
    r.wr(USART1 + 0x0C, 69); // 8 MHz / 69 = 115 942 baud
    r.wr(USART1, 0x9); // TE | UE
    assert_eq!(r.rd(USART1 + 0x1C), 0x0020_00C0, "TEACK | TXE | TC");
    r.wr(USART1 + 0x28, b'F' as u32);
    // Idle frame + 'F': 20 bits of 69 cycles at 8 MHz = 172.5 µs.
    r.now = 172_500_000 - 1;
    let mut soc = std::mem::replace(&mut r.soc, F3Soc::power_on(&STM32F303VC, &r.nv));
    soc.sync(&mut r.cx());
    let mut out = Vec::new();
    soc.take_serial_output(&mut out);
    assert!(out.is_empty());
    r.now = 172_500_000;
    soc.sync(&mut r.cx());
    soc.take_serial_output(&mut out);
    assert_eq!(out, [("usart1", b"F".to_vec())]);
    // HSI as kernel clock (CFGR3.USART1SW = 11) after PCLK2 is divided: same timing.
    r.soc = soc;
    let mut irq = [0; 8];
    r.wr(USART1, 0x9 | 1 << 6); // TCIE
    r.soc.irq_levels(&mut irq);
    assert_ne!(irq[1] & 1 << (37 - 32), 0, "USART1 on NVIC line 37");
}

#[test]
fn tim2_is_a_32_bit_timer_with_its_interrupt_on_line_28() {
    let mut r = Rig::new();
    const TIM2: u32 = 0x4000_0000;
    r.wr(RCC + 0x1C, 1); // TIM2EN
    assert_eq!(
        r.rd(TIM2 + 0x2C),
        0xFFFF_FFFF,
        "ARR reset value (RM0316 §21.4.12)"
    );
    r.wr(TIM2 + 0x28, 7); // PSC: 1 MHz
    r.wr(TIM2 + 0x2C, 99_999); // 100 ms, above 16 bits
    r.wr(TIM2 + 0x0C, 1); // UIE
    r.wr(TIM2 + 0x14, 1); // UG: load PSC
    r.wr(TIM2 + 0x10, 0);
    r.wr(TIM2, 1); // CEN
    r.now = 70_000 * 1_000_000; // 70 ms
    assert_eq!(r.rd(TIM2 + 0x24), 70_000, "CNT counts past 0xFFFF");
    assert_eq!(r.rd(TIM2 + 0x10) & 1, 0);
    r.now = 100_000 * 1_000_000;
    assert_eq!(r.rd(TIM2 + 0x10) & 1, 1, "UIF at the overflow");
    let mut irq = [0; 8];
    r.soc.irq_levels(&mut irq);
    assert_eq!(irq[0] & 1 << 28, 1 << 28, "TIM2 on NVIC line 28");
    r.wr(TIM2 + 0x24, 0xFFFF_FFF0);
    assert_eq!(r.rd(TIM2 + 0x24), 0xFFFF_FFF0);
    let Model::Stored(_) = map::BLOCKS[map::index_at(0x4000_0400).unwrap()].model else {
        panic!("TIM3 stays stored only");
    };
    assert_eq!(map::TIM2[11].reset, 0xFFFF_FFFF);
}

#[test]
fn exti_swier_pends_nvic_line_40_and_a_reset_clears_it() {
    // RM0316 §14.3: EXTI at 0x4001_0400, always clocked; EXTI15_10 is NVIC line 40.
    const EXTI: u32 = 0x4001_0400;
    let mut r = Rig::new();
    assert_eq!(r.rd(EXTI), 0x1F80_0000, "IMR1");
    assert_eq!(r.rd(EXTI + 0x20), 0xFFFF_FFFC, "IMR2");
    r.wr(EXTI, 0x1F80_0000 | (1 << 13));
    r.wr(EXTI + 0x10, 1 << 13);
    assert_eq!(r.rd(EXTI + 0x14), 1 << 13, "PR1");
    let mut out = [0; 8];
    r.soc.irq_levels(&mut out);
    assert_eq!(out[1], 1 << (40 - 32));
    r.reset(ResetCause::Pin);
    assert_eq!(r.rd(EXTI + 0x14), 0);
    r.soc.irq_levels(&mut out);
    assert_eq!(out[1], 0);
}
