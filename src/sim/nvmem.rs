//! Non-volatile memories of a chip: main flash and the option-byte image.
//! Family-free: what the bytes mean is the family's flash controller's
//! business (e.g. `stm32f1/fpec.rs`); `storage.rs` keeps them on disk.

/// Main flash and option bytes.
#[derive(Debug, Clone)]
pub(crate) struct NvMem {
    /// Main flash, erased = 0xFF.
    pub flash: Vec<u8>,
    /// The option-byte block as the family stores it (STM32F1: the 16 bytes at
    /// 0x1FFF_F800, RDP, nRDP, USER, nUSER, Data0, nData0, Data1, nData1, WRP0,
    /// nWRP0 … WRP3, nWRP3; PM0075 §2.5).
    pub opt: [u8; 16],
    /// Changed since the last save.
    pub dirty: bool,
}

impl NvMem {
    /// Erased flash of `flash_size` bytes with the given factory option bytes.
    pub(crate) fn blank(flash_size: usize, opt: [u8; 16]) -> NvMem {
        NvMem {
            flash: vec![0xFF; flash_size],
            opt,
            dirty: false,
        }
    }
}
