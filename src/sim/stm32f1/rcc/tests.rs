//! Unit tests of the RCC model (RM0008 §7.2, §7.3).

use super::*;

fn rcc() -> Rcc {
    Rcc::after_reset(0, ResetCause::PowerOn)
}

/// The usual 72 MHz set-up of an F103 board (HAL SystemClock_Config / CubeMX defaults):
/// HSE on, PLL = HSE × 9, APB1 /2, ADC /6, flash latency elsewhere.
fn to_72mhz(r: &mut Rcc) {
    r.write(0x00, r.read(0x00) | HSEON);
    assert_ne!(r.read(0x00) & HSERDY, 0);
    r.write(0x04, (7 << 18) | PLLSRC | (4 << 8) | (2 << 14)); // PLLMUL ×9, PPRE1 /2, ADCPRE /6
    r.write(0x00, r.read(0x00) | PLLON);
    assert_ne!(r.read(0x00) & PLLRDY, 0);
    r.write(0x04, r.read(0x04) | 2); // SW = PLL
}

#[test]
fn reset_values() {
    let r = rcc();
    assert_eq!(
        r.read(0x00),
        0x0000_8083,
        "CR: HSION, HSIRDY, HSITRIM = 16, HSICAL = 0x80"
    );
    assert_eq!(r.read(0x04), 0);
    assert_eq!(r.read(0x08), 0);
    assert_eq!(r.read(0x14), 0x14, "AHBENR: SRAMEN | FLITFEN");
    assert_eq!(r.read(0x18), 0);
    assert_eq!(r.read(0x1C), 0);
    assert_eq!(r.read(0x20), 0);
    assert_eq!(r.read(0x24), 0x0C00_0000, "CSR: PORRSTF | PINRSTF");
    assert_eq!(r.read(0x28), 0, "no AHBRSTR on the F103");
    assert_eq!(r.clocks(), Clocks::RESET);
}

#[test]
fn pll_from_hse_gives_72_mhz_and_the_derived_clocks() {
    let mut r = rcc();
    to_72mhz(&mut r);
    assert_eq!((r.read(0x04) >> 2) & 3, 2, "SWS = PLL");
    let c = r.clocks();
    assert_eq!(c.sysclk, 72_000_000);
    assert_eq!(c.hclk, 72_000_000);
    assert_eq!(c.pclk1, 36_000_000);
    assert_eq!(c.pclk2, 72_000_000);
    assert_eq!(c.tim_pclk1, 72_000_000, "APB1 prescaler 2: timers ×2");
    assert_eq!(c.tim_pclk2, 72_000_000, "APB2 prescaler 1: timers ×1");
    assert_eq!(c.adcclk, 12_000_000);
    assert_eq!(r.usb_hz(), 48_000_000, "USBPRE = 0: PLL / 1.5");
    assert_eq!(r.hclk_hz(), 72_000_000);
}

#[test]
fn pll_sources_and_multipliers() {
    let mut r = rcc();
    r.write(0x04, 0xF << 18); // HSI/2 × 16 (code 1111 is ×16 too)
    r.write(0x00, r.read(0x00) | PLLON);
    assert_eq!(r.pll_hz(), 64_000_000);
    r.write(0x00, r.read(0x00) & !PLLON);
    r.write(0x04, (0xE << 18) | PLLSRC | PLLXTPRE); // HSE/2 × 16, but HSE is off
    r.write(0x00, r.read(0x00) | PLLON);
    assert_eq!(
        r.read(0x00) & PLLRDY,
        0,
        "the PLL does not lock without its input"
    );
    r.write(0x00, r.read(0x00) | HSEON);
    assert_ne!(r.read(0x00) & PLLRDY, 0);
    assert_eq!(r.pll_hz(), 64_000_000);
}

#[test]
fn pll_configuration_is_locked_while_pllon() {
    let mut r = rcc();
    r.write(0x04, 7 << 18);
    r.write(0x00, r.read(0x00) | PLLON);
    r.write(0x04, (2 << 18) | PLLSRC | (4 << 4));
    assert_eq!(
        r.read(0x04),
        (7 << 18) | (4 << 4),
        "PLLMUL/PLLSRC kept, HPRE written"
    );
}

#[test]
fn switch_to_an_unready_source_happens_when_it_becomes_ready() {
    let mut r = rcc();
    r.write(0x04, 1); // SW = HSE, HSE off
    assert_eq!(r.read(0x04), 1, "SWS still HSI");
    assert_eq!(r.sysclk_hz(), HSI_HZ);
    r.write(0x00, r.read(0x00) | HSEON);
    assert_eq!(r.read(0x04), 1 | (1 << 2), "SWS = HSE once HSERDY");
    assert_eq!(r.sysclk_hz(), HSE_HZ);
}

#[test]
fn a_clock_in_use_cannot_be_stopped() {
    let mut r = rcc();
    r.write(0x00, 0); // HSI is SYSCLK
    assert_eq!(r.read(0x00) & (HSION | HSIRDY), HSION | HSIRDY);
    to_72mhz(&mut r);
    r.write(0x00, HSION); // try to stop HSE and the PLL
    assert_eq!(r.read(0x00) & (HSEON | PLLON), HSEON | PLLON);
    r.write(0x00, HSEON | PLLON); // HSI is no longer used: it may stop
    assert_eq!(r.read(0x00) & (HSION | HSIRDY), 0);
    assert_eq!(r.clocks().sysclk, 72_000_000);
}

#[test]
fn hsebyp_is_writable_only_with_hse_off() {
    let mut r = rcc();
    r.write(0x00, HSION | HSEON);
    r.write(0x00, HSION | HSEON | HSEBYP);
    assert_eq!(r.read(0x00) & HSEBYP, 0);
    r.write(0x00, HSION);
    r.write(0x00, HSION | HSEBYP);
    assert_ne!(r.read(0x00) & HSEBYP, 0);
}

#[test]
fn prescalers() {
    let mut r = rcc();
    r.write(0x04, (0xF << 4) | (7 << 8) | (5 << 11) | (3 << 14)); // HPRE /512, PPRE1 /16, PPRE2 /4, ADC /8
    let c = r.clocks();
    assert_eq!(c.hclk, 8_000_000 / 512);
    assert_eq!(c.pclk1, 8_000_000 / 512 / 16);
    assert_eq!(c.pclk2, 8_000_000 / 512 / 4);
    assert_eq!(c.tim_pclk1, 2 * c.pclk1);
    assert_eq!(c.tim_pclk2, 2 * c.pclk2);
    assert_eq!(c.adcclk, c.pclk2 / 8);
    r.write(0x04, 0xB << 4); // HPRE code 1011 = /16
    assert_eq!(r.clocks().hclk, 500_000);
}

#[test]
fn ready_interrupt_flags_enables_and_clear_bits() {
    let mut r = rcc();
    r.write(0x08, 1 << 11); // HSERDYIE
    assert!(!r.irq());
    r.write(0x00, r.read(0x00) | HSEON);
    assert_eq!(r.read(0x08), (1 << 11) | CIR_HSE, "HSERDYF with its enable");
    assert!(r.irq());
    r.write(0x08, (1 << 11) | (1 << 19)); // HSERDYC
    assert_eq!(r.read(0x08), 1 << 11, "flag cleared, clear bit reads 0");
    assert!(!r.irq());
    // A source becoming ready without its enable does not set the flag.
    r.write(0x24, LSION);
    assert_eq!(r.read(0x08) & CIR_LSI, 0);
    assert_eq!(r.read(0x24) & LSIRDY, LSIRDY);
    // Flags are read-only.
    r.write(0x08, 0x9F);
    assert_eq!(r.read(0x08), 0);
}

#[test]
fn pll_ready_flag() {
    let mut r = rcc();
    r.write(0x08, 1 << 12); // PLLRDYIE
    r.write(0x00, r.read(0x00) | PLLON);
    assert_eq!(r.read(0x08) & CIR_PLL, CIR_PLL);
    assert!(r.irq());
    r.write(0x08, 0); // enable off: the line drops, the flag stays
    assert!(!r.irq());
    assert_eq!(r.read(0x08), CIR_PLL);
}

#[test]
fn reset_flags_survive_a_system_reset_and_rmvf_clears_them() {
    let mut r = Rcc::after_reset(0, ResetCause::PowerOn);
    r = Rcc::after_reset(r.csr, ResetCause::Software);
    assert_eq!(r.read(0x24), 0x1C00_0000);
    r = Rcc::after_reset(r.csr, ResetCause::IndependentWatchdog);
    assert_eq!(r.read(0x24), 0x3C00_0000);
    r.write(0x24, RMVF | LSION);
    assert_eq!(r.read(0x24), LSION | LSIRDY);
    assert_eq!(r.clocks().lsi, LSI_HZ);
}

#[test]
fn enable_and_reset_registers_keep_their_writable_bits() {
    let mut r = rcc();
    for (off, mask) in [
        (0x0C, APB2_MASK),
        (0x10, APB1_MASK),
        (0x14, AHB_MASK),
        (0x18, APB2_MASK),
        (0x1C, APB1_MASK),
    ] {
        r.write(off, u32::MAX);
        assert_eq!(r.read(off), mask, "offset {off:#x}");
    }
    assert!(r.clock_enabled(Bus::Apb2, 14)); // USART1EN
    assert!(r.held_in_reset(Bus::Apb1, 0)); // TIM2RST
    assert!(!r.held_in_reset(Bus::Ahb, 0));
    r.write(0x1C, 1 << 17);
    assert!(r.clock_enabled(Bus::Apb1, 17));
    assert!(!r.clock_enabled(Bus::Apb1, 18));
    assert!(
        !r.clock_enabled(Bus::Apb1, 99),
        "out of range is off, no panic"
    );
}

#[test]
fn bdcr_needs_dbp_and_rtcsel_is_write_once() {
    let mut r = rcc();
    r.write(0x20, LSEON | (1 << 8) | RTCEN);
    assert_eq!(r.read(0x20), 0, "write-protected without PWR_CR.DBP");
    r.backup_writable = true;
    r.write(0x20, LSEON | (1 << 8) | RTCEN);
    assert_eq!(r.read(0x20), LSEON | LSERDY | (1 << 8) | RTCEN);
    assert_eq!(r.clocks().lse, LSE_HZ);
    r.write(0x20, LSEON | (2 << 8) | RTCEN);
    assert_eq!(
        r.read(0x20) & RTCSEL,
        1 << 8,
        "RTCSEL changes only after a backup-domain reset"
    );
    r.write(0x20, BDRST);
    assert_eq!(r.read(0x20), BDRST);
    r.write(0x20, 0);
    r.write(0x20, 2 << 8);
    assert_eq!(r.read(0x20), 2 << 8);
}

#[test]
fn bdcr_survives_a_system_reset_not_a_power_on() {
    let mut r = rcc();
    r.backup_writable = true;
    r.write(0x20, LSEON);
    let after = Rcc::after_system_reset(&r, ResetCause::Pin);
    assert_eq!(after.read(0x20), LSEON | LSERDY);
    assert!(!after.backup_writable);
    let por = Rcc::after_system_reset(&r, ResetCause::PowerOn);
    assert_eq!(por.read(0x20), 0);
}

#[test]
fn usbpre_cannot_be_cleared_with_the_usb_clock_on() {
    let mut r = rcc();
    r.write(0x04, USBPRE);
    r.write(0x1C, USBEN);
    r.write(0x04, 0);
    assert_eq!(r.read(0x04) & USBPRE, USBPRE);
    r.write(0x1C, 0);
    r.write(0x04, 0);
    assert_eq!(r.read(0x04) & USBPRE, 0);
}

#[test]
fn mco_selection() {
    let mut r = rcc();
    assert_eq!(r.mco_hz(), 0);
    r.write(0x04, 4 << 24);
    assert_eq!(r.mco_hz(), 8_000_000);
    r.write(0x04, 6 << 24);
    assert_eq!(r.mco_hz(), 0, "HSE off");
    to_72mhz(&mut r);
    r.write(0x04, r.read(0x04) | (7 << 24));
    assert_eq!(r.mco_hz(), 36_000_000);
}

#[test]
fn leaving_stop_selects_hsi() {
    let mut r = rcc();
    to_72mhz(&mut r);
    r.exit_stop();
    assert_eq!(r.read(0x00) & (HSEON | PLLON | HSION), HSION);
    assert_eq!(r.read(0x04) & 0xF, 0);
    assert_eq!(r.hclk_hz(), HSI_HZ);
}
