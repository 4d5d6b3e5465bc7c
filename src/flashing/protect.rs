//! `flash protect` for stm32f1x banks: FLASH_WRPR bits through the option bytes WRP0–WRP3
//! (RM0008 §3.5.7, PM0075 §2.5, RM0316 §4.4): the family's option-byte rewrite
//! ([`crate::family::stm32f1::rewrite_options`]) with the changed WRP bits. RDP, USER and the data
//! bytes are kept; a chip under read-out protection is refused (erasing its option bytes would
//! mass-erase the flash). The new protection takes effect after a reset.

use probe_rs::MemoryInterface;

use crate::command::CommandError;
use crate::family::{Line, stm32f1};
use crate::host::Host;

fn failed(msg: String) -> probe_rs::Error {
    probe_rs::Error::Other(msg)
}

/// Sets (`on`) or clears the write protection of FLASH_WRPR bits `first..=last` of an stm32f1x
/// bank through the option bytes. The core must be halted.
pub fn set_protection(
    host: &Host,
    line: &Line,
    first: u32,
    last: u32,
    on: bool,
) -> Result<(), CommandError> {
    let v = stm32f1::variant(line);
    let result = host.with_core(|core, target| {
        if !core.core_halted()? {
            return Err(failed(format!("Target not halted: halt {target} first ('halt' or 'reset halt')")));
        }
        let obr = core.read_word_32(stm32f1::FLASH_OBR)?;
        if obr & stm32f1::OBR_RDPRT != 0 {
            return Err(failed(format!(
                "read-out protection is on (FLASH_OBR = 0x{obr:08x}, RDPRT = 1): rewriting the option bytes would remove it and mass-erase the flash; run 'stm32f1x unlock 0' and 'reset halt' first if that is what you want"
            )));
        }
        let mut opts = stm32f1::current_options(core, &v)?;
        let mut prot = u32::from_le_bytes([opts[4], opts[5], opts[6], opts[7]]);
        for b in first..=last {
            if on {
                prot &= !(1 << b);
            } else {
                prot |= 1 << b;
            }
        }
        opts[4..8].copy_from_slice(&prot.to_le_bytes());
        stm32f1::rewrite_options(core, &opts)
    });
    result.map_err(|e| {
        // Our own messages arrive wrapped by with_core; keep them readable.
        let text = e.to_string();
        CommandError::failed(format!("flash protect: {text}"))
    })
}
