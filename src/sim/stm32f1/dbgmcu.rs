//! MCU debug component DBGMCU (RM0008 §31.16) at 0xE004_2000.
//! IDCODE reads 0x2003_6410 (DEV_ID 0x410 medium density, REV_ID 0x2003 =
//! revision X) from the debugger, also under system reset. Per the STM32F10xx
//! errata sheet for medium-density devices (ES096, "Debug registers cannot
//! be read by user software") the
//! CPU reads 0 from IDCODE and CR. CR is reset by power-on reset only.

pub(crate) const IDCODE: u32 = 0x2003_6410;
/// Writable DBGMCU_CR bits: DBG_SLEEP/STOP/STANDBY, TRACE_IOEN, TRACE_MODE,
/// DBG_IWDG_STOP … DBG_TIMx_STOP.
const CR_MASK: u32 = 0x007F_FFE7;

#[derive(Debug, Clone, Default)]
pub(crate) struct Dbgmcu {
    pub cr: u32,
}

impl Dbgmcu {
    pub(crate) fn read(&self, off: u32, from_debugger: bool) -> u32 {
        if !from_debugger {
            return 0;
        }
        match off {
            0x0 => IDCODE,
            0x4 => self.cr,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        if off == 4 {
            self.cr = v & CR_MASK;
        }
    }
}
