//! Unit tests of the STM32H743 SoC: RCC reset values and reset flags,
//! DBGMCU at both addresses and the APB-D ROM table, GPIO and USART3
//! reachability with their RCC gates, PWR's Stop/Standby, the debug link
//! and the flash controller at its address.

use super::super::family::STM32H743ZI;
use super::super::fault::FaultSet;
use super::super::nvmem::NvMem;
use super::super::soc::{Origin, PowerMode, ResetCause, Soc, SocCtx};
use super::super::time::Ps;
use super::H7Soc;
use super::options::factory_nv;

const RCC: u32 = 0x5802_4400;
const PWR: u32 = 0x5802_4800;
const GPIOA: u32 = 0x5802_0000;
const GPIOD: u32 = 0x5802_0C00;
const USART3: u32 = 0x4000_4800;

fn cx<'a>(now: Ps, nv: &'a mut NvMem, faults: &'a FaultSet) -> SocCtx<'a> {
    SocCtx {
        now,
        nv,
        faults,
        origin: Origin::Debug,
        debug_latched: true,
        debugen: true,
        core_halted: false,
    }
}

struct T {
    soc: H7Soc,
    nv: NvMem,
    f: FaultSet,
}

impl T {
    fn new() -> T {
        let nv = factory_nv(STM32H743ZI.flash_size);
        T {
            soc: H7Soc::power_on(&STM32H743ZI, &nv),
            nv,
            f: FaultSet::default(),
        }
    }
    fn rd(&mut self, a: u32) -> u32 {
        self.soc
            .read(a, 4, &mut cx(0, &mut self.nv, &self.f))
            .unwrap()
    }
    fn wr(&mut self, a: u32, v: u32) {
        self.soc
            .write(a, 4, v, &mut cx(0, &mut self.nv, &self.f))
            .unwrap();
    }
    fn reset(&mut self, cause: ResetCause) {
        self.soc
            .system_reset(cause, &mut cx(0, &mut self.nv, &self.f));
    }
}

#[test]
fn rcc_reset_values_and_the_hsi_64_mhz_clock() {
    let mut t = T::new();
    assert_eq!(t.rd(RCC), 0x0000_0025, "RCC_CR: HSION, HSIRDY, HSIDIVF");
    assert_eq!(t.rd(RCC + 0x10), 0, "RCC_CFGR: SW = SWS = HSI");
    assert_eq!(t.rd(RCC + 0x28), 0x0202_0200, "RCC_PLLCKSELR");
    assert_eq!(t.rd(RCC + 0x30), 0x0101_0280, "RCC_PLL1DIVR");
    assert_eq!(t.rd(RCC + 0xE0), 0, "RCC_AHB4ENR");
    assert_eq!(t.rd(RCC + 0xE8), 0, "RCC_APB1LENR");
    assert_eq!(t.soc.hclk_hz(), 64_000_000);
    // HSIDIV = /4.
    t.wr(RCC, 0x0000_0011);
    assert_eq!(t.soc.hclk_hz(), 16_000_000);
    assert_eq!(t.rd(RCC) & 0x3D, 0x35, "HSIRDY, HSIDIVF set; HSIDIV = 2");
}

#[test]
fn rcc_switches_to_pll1_only_when_it_is_ready() {
    let mut t = T::new();
    // HSE 8 MHz / M 4 · N 200 / P 2 = 200 MHz.
    t.wr(RCC + 0x28, (4 << 4) | 2);
    t.wr(RCC + 0x30, 199 | (1 << 9));
    t.wr(RCC + 0x10, 3);
    assert_eq!(t.rd(RCC + 0x10) & 0x3F, 3, "SWS stays HSI: PLL1 is off");
    t.wr(RCC, 0x0000_0001 | (1 << 16) | (1 << 24));
    assert_eq!(t.rd(RCC) & ((1 << 17) | (1 << 25)), (1 << 17) | (1 << 25));
    t.wr(RCC + 0x10, 3);
    assert_eq!(t.rd(RCC + 0x10) & 0x3F, 3 | (3 << 3));
    assert_eq!(t.soc.hclk_hz(), 200_000_000);
    // D1CPRE /2.
    t.wr(RCC + 0x18, 8 << 8);
    assert_eq!(t.soc.hclk_hz(), 100_000_000);
}

#[test]
fn rcc_rsr_flags_per_reset_cause_and_rmvf() {
    let mut t = T::new();
    let (cpu, d1, d2, bor, pin, por, sft, iwdg) = (
        1 << 17,
        1 << 19,
        1 << 20,
        1 << 21,
        1 << 22,
        1 << 23,
        1 << 24,
        1 << 26,
    );
    assert_eq!(t.rd(RCC + 0xD0), por | bor | pin | d1 | d2 | cpu);
    assert_eq!(t.rd(RCC + 0x130), t.rd(RCC + 0xD0), "RCC_C1_RSR alias");
    t.wr(RCC + 0xD0, 1 << 16);
    assert_eq!(t.rd(RCC + 0xD0), 0, "RMVF");
    t.reset(ResetCause::Software);
    assert_eq!(t.rd(RCC + 0xD0), sft | pin | cpu);
    t.reset(ResetCause::IndependentWatchdog);
    assert_eq!(t.rd(RCC + 0xD0), iwdg | sft | pin | cpu, "flags accumulate");
}

#[test]
fn dbgmcu_on_the_cpu_bus_and_on_apb_d_is_one_register_file() {
    let mut t = T::new();
    assert_eq!(t.rd(0x5C00_1000), 0x2003_6450);
    assert_eq!(t.rd(0xE00E_1000), 0x2003_6450);
    t.wr(0xE00E_1004, 0xFFFF_FFFF);
    assert_eq!(t.rd(0x5C00_1004), 0x1070_003F, "CR: writable bits only");
    t.wr(0x5C00_1054, 1 << 18);
    assert_eq!(t.rd(0xE00E_1054), 1 << 18, "APB4FZ1.WDGLSD1");
    // A system reset keeps the debug domain.
    t.reset(ResetCause::Pin);
    assert_eq!(t.rd(0x5C00_1004), 0x1070_003F);
    // ST's CoreSight identity of DBGMCU: part 0x450, CoreSight class.
    assert_eq!((t.rd(0xE00E_1FE0), t.rd(0xE00E_1FE4)), (0x50, 0x04));
    assert_eq!(t.rd(0xE00E_1FF4), 0x90);
}

#[test]
fn apb_d_rom_tables_list_the_debug_components() {
    let mut t = T::new();
    let entries: Vec<u32> = (0..7).map(|i| t.rd(0xE00E_0000 + 4 * i)).collect();
    assert_eq!(
        entries,
        [0x1003, 0x3003, 0x4003, 0x1_3003, 0x1_4003, 0x1_5003, 0]
    );
    assert_eq!(t.rd(0xE00E_0FF4), 0x10, "ROM table class");
    // The funnels and the TPIU: ARM parts 0x908, 0x912; registers stored.
    assert_eq!((t.rd(0xE00E_4FE0), t.rd(0xE00E_4FE4)), (0x08, 0xB9));
    assert_eq!((t.rd(0xE00F_5FE0), t.rd(0xE00F_5FE4)), (0x12, 0xB9));
    t.wr(0xE00E_4000, 0x301);
    assert_eq!(t.rd(0xE00E_4000), 0x301);
    // The CPU ROM table: the Cortex-M7 table, the CTI absent.
    assert_eq!(t.rd(0xE00F_E000), 0x1003);
    assert_eq!(t.rd(0xE00F_E004), 0xFFF4_5002);
    assert_eq!(t.rd(0xE00F_EFE0), 0x50);
    // Nothing at 0xE00E_2000.
    assert!(
        t.soc
            .read(0xE00E_2000, 4, &mut cx(0, &mut t.nv, &t.f))
            .is_err()
    );
}

#[test]
fn gpio_needs_its_ahb4enr_bit_and_has_the_h7_reset_values() {
    let mut t = T::new();
    assert_eq!(t.rd(GPIOA), 0, "clock off: reads 0");
    t.wr(GPIOD + 0x14, 0xFF);
    t.wr(RCC + 0xE0, 0x7FF);
    assert_eq!(
        t.rd(GPIOD + 0x14),
        0,
        "the write with the clock off was ignored"
    );
    assert_eq!(t.rd(GPIOA), 0xABFF_FFFF);
    assert_eq!(t.rd(GPIOA + 0x08), 0x0C00_0000);
    assert_eq!(t.rd(GPIOA + 0x0C), 0x6400_0000);
    assert_eq!(t.rd(GPIOA + 0x400), 0xFFFF_FEBF);
    assert_eq!(t.rd(GPIOA + 0x408), 0x0000_00C0, "GPIOB_OSPEEDR");
    assert_eq!(t.rd(GPIOA + 0x2800), 0xFFFF_FFFF, "GPIOK");
    t.wr(GPIOD + 0x18, 1 << 7);
    assert_eq!(t.rd(GPIOD + 0x14), 1 << 7);
    assert_eq!(t.soc.gpio_odr(3), 1 << 7);
    // AHB4RSTR holds the port in reset.
    t.wr(RCC + 0x88, 1 << 3);
    assert_eq!(t.rd(GPIOD + 0x14), 0);
    // PA13/PA14 to GPIO: the SW-DP cannot be reached.
    assert!(!t.soc.debug_port_silent());
    t.wr(GPIOA, 0xA3FF_FFFF);
    assert!(t.soc.debug_port_silent());
}

#[test]
fn usart3_is_gated_by_apb1lenr_and_transmits_from_pclk1() {
    let mut t = T::new();
    assert_eq!(t.rd(USART3 + 0x1C), 0, "clock off: ISR reads 0");
    t.wr(RCC + 0xE8, 1 << 18);
    assert_eq!(t.rd(USART3 + 0x1C), 0x0000_00C0, "ISR reset: TXE, TC");
    t.wr(USART3 + 0x0C, 556); // 115200 baud from 64 MHz
    t.wr(USART3, 0b1001); // TE, UE
    let mut c = cx(0, &mut t.nv, &t.f);
    t.soc
        .write(USART3 + 0x28, 4, u32::from(b'H'), &mut c)
        .unwrap();
    // Idle frame + one frame: 20 bits of 556 cycles at 64 MHz.
    let done = t.soc.next_event(0, false).unwrap();
    let frames_ps = 20 * 556 * 1_000_000 / 64;
    assert!(done <= frames_ps);
    t.soc.sync(&mut cx(frames_ps, &mut t.nv, &t.f));
    let mut out = Vec::new();
    t.soc.take_serial_output(&mut out);
    assert_eq!(out, vec![("usart3", b"H".to_vec())]);
}

#[test]
fn stop_and_standby_silence_the_dp_unless_dbgmcu_keeps_d1() {
    let mut t = T::new();
    assert_eq!(
        t.soc.enter_deep_sleep(&mut cx(0, &mut t.nv, &t.f)),
        PowerMode::Stop
    );
    assert!(t.soc.debug_port_silent(), "Stop without DBGSTOP_D1");
    t.wr(0x5C00_1004, 1 << 1);
    assert!(!t.soc.debug_port_silent());
    t.soc.leave_low_power(&mut cx(0, &mut t.nv, &t.f));
    assert_eq!(t.rd(PWR + 0x10) & (1 << 5), 1 << 5, "STOPF");
    t.wr(PWR + 0x10, 0b111);
    assert_eq!(
        t.soc.enter_deep_sleep(&mut cx(0, &mut t.nv, &t.f)),
        PowerMode::Standby
    );
    assert!(t.soc.debug_port_silent(), "Standby without DBGSTBY_D1");
    assert!(!t.soc.debug_kept_in_low_power());
    t.reset(ResetCause::Pin);
    assert_eq!(t.rd(0x5C00_1004), 0, "the debug logic lost its power");
    assert_eq!(
        t.rd(PWR + 0x10) & (1 << 6),
        1 << 6,
        "SBF survives the reset"
    );
    assert_eq!(t.rd(PWR + 0x18), 0x6000, "D3CR: VOS Scale 3, VOSRDY");
}

#[test]
fn flash_controller_is_wired_at_0x5200_2000() {
    let mut t = T::new();
    assert_eq!(t.rd(0x5200_200C), 0x31, "FLASH_CR1: LOCK, PSIZE x64");
    // A byte store is replicated on all lanes (0x0202_0202 into FLASH_ACR).
    let r = t
        .soc
        .write(0x5200_2001, 1, 0x02, &mut cx(0, &mut t.nv, &t.f));
    assert!(r.is_ok());
    assert_eq!(t.rd(0x5200_2000), 0x02, "ACR: LATENCY 2, WRHIGHFREQ 0");
    // A byte store is replicated on all lanes: 0x2323_2323 is no key.
    let r = t
        .soc
        .write(0x5200_2004, 1, 0x23, &mut cx(0, &mut t.nv, &t.f));
    assert!(r.is_err(), "a wrong key is a bus error");
    t.reset(ResetCause::Pin);
    t.wr(0x5200_2004, 0x4567_0123);
    t.wr(0x5200_2004, 0xCDEF_89AB);
    assert_eq!(t.rd(0x5200_200C), 0x30, "unlocked after the reset");
    t.wr(0x5200_200C, 0x30 | (1 << 16) | 2); // EOPIE, PG
    for i in 0..8 {
        let mut c = cx(0, &mut t.nv, &t.f);
        assert!(t.soc.flash_write(i * 4, 4, 0x1234_5600 + i, &mut c).is_ok());
    }
    assert_eq!(t.nv.flash[..4], [0x00, 0x56, 0x34, 0x12]);
    assert_eq!(t.nv.flash[28..32], [0x07, 0x56, 0x34, 0x12]);
    let end = t.soc.next_event(0, false).expect("the flash word is busy");
    t.soc.sync(&mut cx(end, &mut t.nv, &t.f));
    assert_eq!(t.rd(0x5200_2010) & (1 << 16), 1 << 16, "SR1.EOP");
    let mut irq = [0; 8];
    t.soc.irq_levels(&mut irq);
    assert_eq!(irq[0], 1 << 4, "FLASH is NVIC line 4");
    assert!(!t.soc.debug_port_silent());
    // Level 2 in the stored option bytes: loaded at the reset, debug off.
    t.nv.opt_words[0] = (t.nv.opt_words[0] & !0xFF00) | 0xCC00;
    t.reset(ResetCause::Pin);
    assert!(t.soc.debug_port_silent(), "RDP level 2");
}
