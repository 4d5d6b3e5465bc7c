//! STM32F103 (medium-density) specific parts: RM0008 Rev 21 peripherals and
//! the system-memory area.

pub(crate) mod afio;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod blocks;
pub(crate) mod dbgmcu;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod exti;
pub(crate) mod fpec;
pub(crate) mod gpio;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod i2c;
pub(crate) mod iwdg;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod map;
pub(crate) mod pwr;
#[allow(dead_code)] // clocks(), clock_enabled() ...: wired into the bus by the SoC rewrite
pub(crate) mod rcc;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod spi;
pub(crate) mod sysmem;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod tim;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod unmodelled;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod usart;
#[allow(dead_code)] // wired into the bus by the SoC rewrite
pub(crate) mod usb;

/// Peripheral base addresses (RM0008 §3.3, Table 3).
pub(crate) mod addr {
    pub const PWR: u32 = 0x4000_7000;
    pub const IWDG: u32 = 0x4000_3000;
    pub const AFIO: u32 = 0x4001_0000;
    pub const GPIOA: u32 = 0x4001_0800;
    pub const GPIOE_END: u32 = 0x4001_1C00;
    pub const RCC: u32 = 0x4002_1000;
    pub const FLASH_IF: u32 = 0x4002_2000;
    /// End (exclusive) of the peripheral address range that exists on the bus
    /// (AHB ends with CRC at 0x4002_3000..0x4002_33FF).
    pub const PERIPH_END: u32 = 0x4002_4000;
    pub const DBGMCU: u32 = 0xE004_2000;
}
