//! The STM32H743's SWO trace path (RM0433 §60.2, §60.4): the Cortex-M7's
//! ITM drives the ATB into the SWO trace funnel SWTF (0xE00E_4000 on
//! APB-D), whose output feeds the SWO (CoreSight SWO, ARM part 0x914, at
//! 0xE00E_3000 on APB-D) and its pin TRACESWO (PB3, AF0 = its reset state).
//!
//! * The SWO's programmer's model is `arm/tpiu.rs`'s at another [`Site`]:
//!   SWO_CODR (0x010, the prescaler: bit rate = TRACECLKIN / (CODR + 1)),
//!   SWO_SPPR (0x0F0: 1 Manchester, 2 NRZ), SWO_FFSR (0x300), DEVID
//!   0xEA0 (NRZ, Manchester, no synchronous port), DEVTYPE 0x11, the
//!   CoreSight ID block of part 0x914 (what probe-rs's ROM-table walk looks
//!   for as `PeripheralType::Swo`). The SWO has no formatter: CSPSR and
//!   FFCR read 0 and the ITM's bytes leave as they are. The debugger reaches
//!   it through AP2 or the core's view of APB-D (`Soc::swo_sink`).
//! * SWTF_CTRL (0xE00E_4000, CoreSight funnel): ENS0 (bit 0) the
//!   Cortex-M7's slave port, ENS1 (bit 1) the Cortex-M4's (dual-core parts;
//!   kept, unused here), HT bits 8–11; reset 0x300 (both ports disabled).
//!   SWTF_PRIORITY (0x004) is kept.
//! * TRACESWO carries the trace (`Soc::trace_pin_enabled`) only when
//!   DBGMCU_CR has TRACECLKEN (bit 20, the trace clock TRACECLKIN),
//!   D1DBGCKEN (bit 21, the D1 debug clock: the core's ATB side) and
//!   D3DBGCKEN (bit 22, the D3 debug clock: APB-D, where SWTF and SWO sit)
//!   set (RM0433 §60.5.8; OpenOCD's stm32h7x.cfg and probe-rs's STM32H7
//!   sequence set all three), SWTF_CTRL.ENS0 is set and PB3 is in AF0.
//!   Otherwise the bytes leave the model's FIFO unseen (a simplification:
//!   on silicon a stopped trace clock stalls the ITM instead).
//! * TRACECLKIN is the CPU clock (rcc_c_ck, HSI 64 MHz after reset), the
//!   clock ST's SWO examples divide (`SystemCoreClock / SWO speed`).
//!
//! Not modelled: the CPU's alias of SWO at 0x5C00_3000 (and of SWTF at
//! 0x5C00_4000; a firmware's own SWO set-up writes there: those registers
//! are stored only), the software lock (LAR/LSR; debugger accesses are not
//! subject to it).

use super::super::arm::romtable::{CORESIGHT_CIDR, CsId, arm_pidr};
use super::super::arm::tpiu::Site;
use super::super::st::gpio::GpioPort;

/// The SWO on APB-D.
pub(crate) const SWO_BASE: u32 = 0xE00E_3000;
/// SWTF_CTRL (SWTF_PRIORITY at +4 is stored as written).
pub(crate) const SWTF_CTRL: u32 = 0xE00E_4000;
/// SWTF_CTRL reset value: HT = 3, both slave ports disabled.
pub(crate) const SWTF_CTRL_RESET: u32 = 0x300;
/// SWTF_CTRL writable bits: ENS0, ENS1, HT.
pub(crate) const SWTF_CTRL_MASK: u32 = 0xF03;
/// SWTF_CTRL.ENS0: the Cortex-M7's slave port.
pub(crate) const ENS0: u32 = 1 << 0;

// DBGMCU_CR (RM0433 §60.5.8).
pub(crate) const TRACECLKEN: u32 = 1 << 20;
pub(crate) const D1DBGCKEN: u32 = 1 << 21;
pub(crate) const D3DBGCKEN: u32 = 1 << 22;

/// The SWO as a site of the TPIU model.
pub(crate) static SWO_SITE: Site = Site {
    bases: &[SWO_BASE],
    id: CsId {
        pidr: arm_pidr(0x914, 0),
        cidr: CORESIGHT_CIDR,
    },
    devid: 0xEA0,
    devtype: 0x11,
    formatter: false,
};

/// PB3 is TRACESWO: alternate-function mode with AF0.
fn pb3_traceswo(gpiob: &GpioPort) -> bool {
    (gpiob.moder >> 6) & 3 == 0b10 && gpiob.af(3) == 0
}

/// Whether the ITM's bytes reach TRACESWO (see the module documentation).
pub(crate) fn pin_enabled(dbgmcu_cr: u32, swtf_ctrl: u32, gpiob: &GpioPort) -> bool {
    let clocks = TRACECLKEN | D1DBGCKEN | D3DBGCKEN;
    dbgmcu_cr & clocks == clocks && swtf_ctrl & ENS0 != 0 && pb3_traceswo(gpiob)
}
