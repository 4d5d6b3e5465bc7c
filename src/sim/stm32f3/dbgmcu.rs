//! MCU debug component DBGMCU of the STM32F303 (RM0316 §33.16) at 0xE004_2000:
//! IDCODE 0x00 (DEV_ID 0x422, REV_ID from the identity), CR 0x04 (DBG_SLEEP 0,
//! DBG_STOP 1, DBG_STANDBY 2, TRACE_IOEN 5, TRACE_MODE 7:6), APB1_FZ 0x08
//! (DBG_TIM2/3/4/6/7_STOP 0..2, 4, 5, DBG_RTC_STOP 10, DBG_WWDG_STOP 11,
//! DBG_IWDG_STOP 12, DBG_I2C1/2_SMBUS_TIMEOUT 21/22, DBG_CAN_STOP 25),
//! APB2_FZ 0x0C (DBG_TIM1/8/15/16/17_STOP 0..4). Reserved bits read 0. The CPU
//! and the debugger both reach it (the F1's errata ES096 restriction does not
//! apply). Its registers are reset by power-on only (§33.16.3: "asynchronously
//! reset by the PORESET"; a system reset keeps them, so a debugger's freeze
//! bits survive `reset`).

/// DBGMCU_CR.DBG_STOP / DBG_STANDBY (§33.16.3).
pub(crate) const DBG_STOP: u32 = 1 << 1;
pub(crate) const DBG_STANDBY: u32 = 1 << 2;
/// DBGMCU_APB1_FZ.DBG_IWDG_STOP (§33.16.4).
pub(crate) const DBG_IWDG_STOP: u32 = 1 << 12;

const CR_MASK: u32 = 0xE7;
const APB1_FZ_MASK: u32 = 0x0260_1C37;
const APB2_FZ_MASK: u32 = 0x1F;

#[derive(Debug, Clone, Default)]
pub(crate) struct Dbgmcu {
    pub cr: u32,
    pub apb1_fz: u32,
    pub apb2_fz: u32,
}

impl Dbgmcu {
    pub(crate) fn read(&self, off: u32, idcode: u32) -> u32 {
        match off {
            0x0 => idcode,
            0x4 => self.cr,
            0x8 => self.apb1_fz,
            0xC => self.apb2_fz,
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32) {
        match off {
            0x4 => self.cr = v & CR_MASK,
            0x8 => self.apb1_fz = v & APB1_FZ_MASK,
            0xC => self.apb2_fz = v & APB2_FZ_MASK,
            _ => {}
        }
    }
}
