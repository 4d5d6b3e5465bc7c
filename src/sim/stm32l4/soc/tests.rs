//! SoC-level tests of the L476/G474 model: IWDG with the DBGMCU freeze,
//! low-power modes and the debug link, reset flags, the information block.

use super::super::super::family::{STM32G474RE, STM32L476RG};
use super::super::super::fault::FaultSet;
use super::super::super::soc::Origin;
use super::super::factory_nv;
use super::*;

mod timed;

const MS: Ps = 1_000_000_000;

fn cx<'a>(now: Ps, nv: &'a mut NvMem, faults: &'a FaultSet, halted: bool) -> SocCtx<'a> {
    SocCtx {
        now,
        nv,
        faults,
        origin: Origin::Debug,
        debug_latched: true,
        debugen: true,
        core_halted: halted,
    }
}

#[test]
fn iwdg_resets_unless_frozen_by_dbg_iwdg_stop() {
    let mut nv = factory_nv(Variant::L476, STM32L476RG.flash_size);
    let f = FaultSet::default();
    let mut soc = L4Soc::power_on(&STM32L476RG, Variant::L476, &nv);
    // Start: 0x0FFF ticks at /4 of 32 kHz = 512 ms.
    soc.write(IWDG, 4, 0xCCCC, &mut cx(0, &mut nv, &f, true))
        .unwrap();
    assert_eq!(soc.next_event(0, true), Some(512 * MS));
    let fx = soc.sync(&mut cx(512 * MS, &mut nv, &f, true));
    assert_eq!(fx.reset, Some(ResetCause::IndependentWatchdog));
    soc.system_reset(
        ResetCause::IndependentWatchdog,
        &mut cx(512 * MS, &mut nv, &f, true),
    );
    let csr = soc
        .read(RCC + 0x94, 4, &mut cx(512 * MS, &mut nv, &f, true))
        .unwrap();
    assert_eq!(
        csr & 0xFF00_0000,
        (1 << 29) | (1 << 27) | (1 << 26),
        "IWDGRSTF kept with BORRSTF/PINRSTF"
    );
    // DBGMCU_APB1FZR1.DBG_IWDG_STOP: halted, it does not count.
    let t = 600 * MS;
    soc.write(DBGMCU + 8, 4, DBG_IWDG_STOP, &mut cx(t, &mut nv, &f, true))
        .unwrap();
    soc.write(IWDG, 4, 0xCCCC, &mut cx(t, &mut nv, &f, true))
        .unwrap();
    assert_eq!(soc.next_event(t, true), None);
    assert_eq!(
        soc.sync(&mut cx(t + 2000 * MS, &mut nv, &f, true)).reset,
        None
    );
    assert_eq!(
        soc.read(DBGMCU, 4, &mut cx(t, &mut nv, &f, true)).unwrap(),
        0x1007_6415
    );
}

#[test]
fn stop_and_standby_keep_the_link_only_with_the_dbgmcu_bits() {
    let mut nv = factory_nv(Variant::G474, STM32G474RE.flash_size);
    let f = FaultSet::default();
    let mut soc = L4Soc::power_on(&STM32G474RE, Variant::G474, &nv);
    let mut c = cx(0, &mut nv, &f, false);
    assert_eq!(
        soc.enter_deep_sleep(&mut c),
        PowerMode::Stop,
        "LPMS = Stop 0 at reset"
    );
    assert!(soc.debug_port_silent());
    soc.leave_low_power(&mut c);
    soc.write(DBGMCU + 4, 4, 0b110, &mut c).unwrap(); // DBG_STOP | DBG_STANDBY
    soc.enter_deep_sleep(&mut c);
    assert!(!soc.debug_port_silent());
    soc.leave_low_power(&mut c);
    // Standby (LPMS = 011) needs PWREN to program PWR_CR1.
    soc.write(RCC + 0x58, 4, 1 << 28, &mut c).unwrap();
    soc.write(PWR, 4, 0x203, &mut c).unwrap();
    assert_eq!(soc.enter_deep_sleep(&mut c), PowerMode::Standby);
    assert!(!soc.debug_port_silent() && soc.debug_kept_in_low_power());
    soc.system_reset(ResetCause::Pin, &mut c);
    soc.write(RCC + 0x58, 4, 1 << 28, &mut c).unwrap();
    assert_eq!(
        soc.read(PWR + 0x10, 4, &mut c).unwrap() & (1 << 8),
        1 << 8,
        "SBF"
    );
    // A later system reset (a second NRST) keeps SBF; SCR.CSBF clears it.
    soc.system_reset(ResetCause::Pin, &mut c);
    soc.write(RCC + 0x58, 4, 1 << 28, &mut c).unwrap();
    assert_eq!(soc.read(PWR + 0x10, 4, &mut c).unwrap() & (1 << 8), 1 << 8);
    soc.write(PWR + 0x18, 4, 1 << 8, &mut c).unwrap();
    assert_eq!(soc.read(PWR + 0x10, 4, &mut c).unwrap() & (1 << 8), 0);
    // Shutdown (LPMS = 1xx): the debug logic is lost whatever DBGMCU says.
    soc.write(PWR, 4, 0x204, &mut c).unwrap();
    soc.enter_deep_sleep(&mut c);
    assert!(soc.debug_port_silent() && !soc.debug_kept_in_low_power());
}

#[test]
fn information_block_otp_signature_and_option_view() {
    let mut nv = factory_nv(Variant::G474, STM32G474RE.flash_size);
    let f = FaultSet::default();
    let mut soc = L4Soc::power_on(&STM32G474RE, Variant::G474, &nv);
    let mut c = cx(0, &mut nv, &f, true);
    assert_eq!(soc.read(0x1FFF_75E0, 2, &mut c).unwrap(), 512, "F_SIZE");
    assert_eq!(
        soc.read(0x1FFF_7590, 4, &mut c).unwrap(),
        0x066B_FF33,
        "UID[31:0]"
    );
    assert_eq!(
        soc.read(0x1FFF_7000, 4, &mut c).unwrap(),
        0xFFFF_FFFF,
        "OTP erased"
    );
    assert_eq!(
        soc.read(0x1FFF_7800, 4, &mut c).unwrap(),
        0xFFEF_F8AA,
        "OPTR"
    );
    assert_eq!(soc.read(0x1FFF_7804, 4, &mut c).unwrap(), !0xFFEF_F8AA);
    // Stores to the OTP without PG: PGSERR in FLASH_SR, OTP unchanged.
    soc.write(0x1FFF_7000, 4, 0, &mut c).unwrap();
    assert_eq!(soc.read(FLASH_IF + 0x10, 4, &mut c).unwrap(), 1 << 7);
    assert_eq!(soc.read(0x1FFF_7000, 4, &mut c).unwrap(), 0xFFFF_FFFF);
    assert!(
        soc.read(0x1FFF_7830, 4, &mut c).is_err(),
        "beyond the option bytes"
    );
}

#[test]
fn exti_swier_pends_the_nvic_line_on_both_variants() {
    // RM0351 §14.5, RM0440 §15.5: EXTI at 0x4001_0400; EXTI0 is NVIC line 6, EXTI9_5 23.
    const EXTI: u32 = 0x4001_0400;
    for (ident, variant, imr1) in [
        (&STM32L476RG, Variant::L476, 0xFF82_0000),
        (&STM32G474RE, Variant::G474, 0x1F84_0000),
    ] {
        let mut nv = factory_nv(variant, ident.flash_size);
        let f = FaultSet::default();
        let mut soc = L4Soc::power_on(ident, variant, &nv);
        let mut c = cx(0, &mut nv, &f, true);
        assert_eq!(soc.read(EXTI, 4, &mut c).unwrap(), imr1);
        soc.write(EXTI, 4, imr1 | 1 | (1 << 7), &mut c).unwrap();
        soc.write(EXTI + 0x10, 4, 1 | (1 << 7), &mut c).unwrap();
        let mut out = [0; 8];
        soc.irq_levels(&mut out);
        assert_eq!(out[0], (1 << 6) | (1 << 23));
        soc.write(EXTI + 0x14, 4, 1, &mut c).unwrap();
        soc.irq_levels(&mut out);
        assert_eq!(out[0], 1 << 23, "PR0 cleared, PR7 still set");
        soc.system_reset(ResetCause::Pin, &mut c);
        soc.irq_levels(&mut out);
        assert_eq!(out[0], 0);
        assert_eq!(soc.read(EXTI + 0x14, 4, &mut c).unwrap(), 0);
    }
}
