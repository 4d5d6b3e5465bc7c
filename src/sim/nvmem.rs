//! Non-volatile memories of a chip: main flash, the option-byte image and,
//! on families that have them, the option words of a newer flash controller
//! and the one-time-programmable area. Family-free: what the bytes mean is
//! the family's flash controller's business (e.g. `stm32f1/fpec.rs`,
//! `stm32l4/flash.rs`); `storage.rs` keeps them on disk.

/// Main flash, option bytes and OTP.
#[derive(Debug, Clone)]
pub(crate) struct NvMem {
    /// Main flash, erased = 0xFF.
    pub flash: Vec<u8>,
    /// The option-byte block as the family stores it (STM32F1: the 16 bytes at
    /// 0x1FFF_F800, RDP, nRDP, USER, nUSER, Data0, nData0, Data1, nData1, WRP0,
    /// nWRP0 … WRP3, nWRP3; PM0075 §2.5). Unused (0xFF) on G4/L4.
    pub opt: [u8; 16],
    /// The option words of the stm32l4x-family flash controller as last
    /// programmed by OPTSTRT, in the order of `stm32l4::flash::OptionRegs`
    /// (OPTR, PCROP1SR, PCROP1ER, WRP1AR, WRP1BR, PCROP2SR, PCROP2ER, WRP2AR,
    /// WRP2BR, SEC1R, SEC2R; RM0351 §3.4.1, RM0440 §3.4.1), or of the
    /// STM32H743's (`stm32h7::options`: OPTSR, PRAR1, SCAR1, WPSN1, BOOT,
    /// PRAR2, SCAR2, WPSN2; RM0433 §4.4). Empty on the F1.
    pub opt_words: Vec<u32>,
    /// The one-time-programmable area (G4/L4: 1 KiB at 0x1FFF_7000, RM0351
    /// §3.3.1, RM0440 §3.3.1), erased = 0xFF. Empty on the F1.
    pub otp: Vec<u8>,
    /// Changed since the last save.
    pub dirty: bool,
}

impl NvMem {
    /// Erased flash of `flash_size` bytes with the given factory option bytes
    /// (no option words, no OTP: the F1 layout).
    pub(crate) fn blank(flash_size: usize, opt: [u8; 16]) -> NvMem {
        NvMem {
            flash: vec![0xFF; flash_size],
            opt,
            opt_words: Vec::new(),
            otp: Vec::new(),
            dirty: false,
        }
    }

    /// Completes an image read from an older storage file (which had no
    /// option words or OTP) with the factory values of `factory`.
    pub(crate) fn fill_missing(&mut self, factory: &NvMem) {
        if self.opt_words.len() != factory.opt_words.len() {
            self.opt_words = factory.opt_words.clone();
        }
        if self.otp.len() != factory.otp.len() {
            self.otp = factory.otp.clone();
        }
    }
}
