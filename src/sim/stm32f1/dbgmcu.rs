//! MCU debug component DBGMCU (RM0008 §31.16) at 0xE004_2000.
//! IDCODE reads 0x2003_6410 (DEV_ID 0x410 medium density, REV_ID 0x2003 =
//! revision X) from the debugger, also under system reset. Per the errata
//! sheet of the medium-density devices (ES096, "Debug registers cannot be
//! read by user software") the registers are accessible to the CPU only in
//! debug mode (modelled as DHCSR.C_DEBUGEN = 1): otherwise the CPU reads 0
//! and its writes are ignored. CR is reset by power-on reset only.

/// Writable DBGMCU_CR bits: DBG_SLEEP/STOP/STANDBY, TRACE_IOEN, TRACE_MODE,
/// DBG_IWDG_STOP … DBG_TIMx_STOP.
const CR_MASK: u32 = 0x007F_FFE7;

#[derive(Debug, Clone, Default)]
pub(crate) struct Dbgmcu {
    pub cr: u32,
}

impl Dbgmcu {
    /// Register read; `idcode` is the chip's DBGMCU_IDCODE (0x2003_6410 on the F103).
    pub(crate) fn read(&self, off: u32, accessible: bool, idcode: u32) -> u32 {
        if !accessible {
            return 0;
        }
        match off {
            0x0 => idcode,
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
