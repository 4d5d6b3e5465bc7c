//! The `stm32l4x` option-byte and mass-erase sequences of OpenOCD 0.12's `stm32l4x.c`
//! (`stm32l4_unlock_reg`, `stm32l4_unlock_option_reg`, `stm32l4_write_option`,
//! `stm32l4_perform_obl_launch`, `stm32l4_mass_erase`; RM0351 §3.3.5, §3.4.2, RM0440 §5.3.6,
//! §5.4.2), on [`FlashRegs`]: a probe-rs core, or the unit tests' fake controller.

use super::{CR, KEY1, KEY2, KEYR, OPTKEY1, OPTKEY2, OPTKEYR, SR, cr, reg, sr, sr_words};

pub use crate::family::FlashRegs;

fn failed(msg: String) -> probe_rs::Error {
    probe_rs::Error::Other(msg)
}

/// `stm32l4_unlock_reg`: the KEYR keys unless FLASH_CR.LOCK is already clear (writing KEYR
/// while unlocked locks the controller until reset).
pub fn unlock_reg(r: &mut dyn FlashRegs) -> Result<(), probe_rs::Error> {
    if r.rd(reg(CR))? & cr::LOCK == 0 {
        return Ok(());
    }
    r.wr(reg(KEYR), KEY1)?;
    r.wr(reg(KEYR), KEY2)?;
    let c = r.rd(reg(CR))?;
    if c & cr::LOCK != 0 {
        return Err(failed(format!(
            "flash not unlocked: FLASH_CR = 0x{c:08x} still has LOCK set after the KEYR keys (a wrong key since the last reset locks FLASH_CR until reset); run 'reset halt' and try again"
        )));
    }
    Ok(())
}

/// `stm32l4_unlock_option_reg`: the OPTKEYR keys unless FLASH_CR.OPTLOCK is already clear.
pub fn unlock_option_reg(r: &mut dyn FlashRegs) -> Result<(), probe_rs::Error> {
    if r.rd(reg(CR))? & cr::OPTLOCK == 0 {
        return Ok(());
    }
    r.wr(reg(OPTKEYR), OPTKEY1)?;
    r.wr(reg(OPTKEYR), OPTKEY2)?;
    let c = r.rd(reg(CR))?;
    if c & cr::OPTLOCK != 0 {
        return Err(failed(format!(
            "options not unlocked: FLASH_CR = 0x{c:08x} still has OPTLOCK set after the OPTKEYR keys; run 'reset halt' and try again"
        )));
    }
    Ok(())
}

/// `stm32l4_wait_status_busy`: polls FLASH_SR.BSY (at most `timeout_ms`), then reports and
/// clears the error bits.
pub fn wait_busy(
    r: &mut dyn FlashRegs,
    what: &str,
    timeout_ms: u64,
) -> Result<(), probe_rs::Error> {
    let start = std::time::Instant::now();
    loop {
        let s = r.rd(reg(SR))?;
        if s & sr::BSY == 0 {
            if s & sr::ERRORS != 0 {
                r.wr(reg(SR), s & sr::ERRORS)?;
                return Err(failed(format!(
                    "{what} failed: FLASH_SR = 0x{s:08x}: {}",
                    sr_words(s).join("; ")
                )));
            }
            return Ok(());
        }
        if start.elapsed().as_millis() as u64 >= timeout_ms {
            return Err(failed(format!(
                "timed out waiting for flash during {what}: FLASH_SR = 0x{s:08x} still has BSY set after {timeout_ms} ms"
            )));
        }
    }
}

/// `stm32l4_write_option`: FLASH register `offset` ← (old & !mask) | (value & mask), then
/// OPTSTRT, wait, and LOCK|OPTLOCK (also on failure). The new value is in force after an
/// option load (`option_load`) or a power-on reset.
pub fn write_option(
    r: &mut dyn FlashRegs,
    offset: u32,
    value: u32,
    mask: u32,
) -> Result<(), probe_rs::Error> {
    let old = r.rd(reg(offset))?;
    let res = (|| {
        unlock_reg(r)?;
        unlock_option_reg(r)?;
        r.wr(reg(offset), (old & !mask) | (value & mask))?;
        r.wr(reg(CR), cr::OPTSTRT)?;
        wait_busy(r, "writing the option bytes", 2000)
    })();
    let lock = r.wr(reg(CR), cr::LOCK | cr::OPTLOCK);
    res?;
    lock
}

/// `stm32l4_perform_obl_launch`: keys, then FLASH_CR = OBL_LAUNCH, a system reset that reloads
/// the option bytes. The chip resets under the write, so neither its answer nor the relock is
/// checked.
pub fn obl_launch(r: &mut dyn FlashRegs) -> Result<(), probe_rs::Error> {
    unlock_reg(r)?;
    unlock_option_reg(r)?;
    let _ = r.wr(reg(CR), cr::OBL_LAUNCH);
    let _ = r.wr(reg(CR), cr::LOCK | cr::OPTLOCK);
    Ok(())
}

/// `stm32l4_mass_erase`: unlock, wait, CR = MER1 (| MER2 on dual-bank parts), | STRT, wait,
/// LOCK (also on failure).
pub fn mass_erase(r: &mut dyn FlashRegs, dual: bool) -> Result<(), probe_rs::Error> {
    let action = if dual { cr::MER1 | cr::MER2 } else { cr::MER1 };
    let res = (|| {
        unlock_reg(r)?;
        wait_busy(r, "mass erase", 1000)?;
        r.wr(reg(CR), action)?;
        r.wr(reg(CR), action | cr::STRT)?;
        wait_busy(r, "mass erase", 30_000)
    })();
    let lock = r.wr(reg(CR), cr::LOCK);
    res?;
    lock
}

#[cfg(test)]
pub(crate) mod fake {
    //! A small model of the G4/L4 FLASH register interface (RM0351 §3.3.5, §3.4.2): key
    //! sequences (a wrong key locks until "reset"), OPTSTRT copies nothing but clears BSY,
    //! OBL_LAUNCH is recorded. It logs every write.

    use super::*;
    use crate::family::stm32l4::{OPTR, PCROP1ER, PCROP1SR, WRP1AR, WRP1BR, WRP2AR, WRP2BR};
    use std::collections::HashMap;

    /// The fake controller.
    #[derive(Debug, Default)]
    pub struct Fake {
        pub regs: HashMap<u64, u32>,
        pub writes: Vec<(u64, u32)>,
        key_step: u8,
        optkey_step: u8,
        pub jammed: bool,
        pub obl_launched: bool,
    }

    impl Fake {
        pub fn new(optr: u32) -> Self {
            let mut f = Fake::default();
            f.regs.insert(reg(CR), cr::LOCK | cr::OPTLOCK);
            f.regs.insert(reg(OPTR), optr);
            f.regs.insert(reg(SR), 0);
            f.regs.insert(reg(WRP1AR), 0x0000_00FF);
            f.regs.insert(reg(WRP1BR), 0x0000_00FF);
            f.regs.insert(reg(WRP2AR), 0x0000_00FF);
            f.regs.insert(reg(WRP2BR), 0x0000_00FF);
            f.regs.insert(reg(PCROP1SR), 0xFFFF);
            f.regs.insert(reg(PCROP1ER), 0);
            f
        }
    }

    impl FlashRegs for Fake {
        fn rd(&mut self, addr: u64) -> Result<u32, probe_rs::Error> {
            Ok(*self.regs.get(&addr).unwrap_or(&0))
        }
        fn wr(&mut self, addr: u64, v: u32) -> Result<(), probe_rs::Error> {
            self.writes.push((addr, v));
            let c = self.regs[&reg(CR)];
            match addr {
                a if a == reg(KEYR) => {
                    if self.jammed || c & cr::LOCK == 0 {
                        self.jammed = true;
                    } else if self.key_step == 0 && v == KEY1 {
                        self.key_step = 1;
                    } else if self.key_step == 1 && v == KEY2 {
                        self.regs.insert(reg(CR), c & !cr::LOCK);
                        self.key_step = 0;
                    } else {
                        self.jammed = true;
                    }
                }
                a if a == reg(OPTKEYR) => {
                    if c & cr::LOCK != 0 {
                    } else if self.optkey_step == 0 && v == OPTKEY1 {
                        self.optkey_step = 1;
                    } else if self.optkey_step == 1 && v == OPTKEY2 {
                        self.regs.insert(reg(CR), c & !cr::OPTLOCK);
                        self.optkey_step = 0;
                    }
                }
                a if a == reg(CR) => {
                    if c & cr::LOCK != 0 {
                        return Ok(()); // locked: CR writes ignored
                    }
                    if v & cr::OBL_LAUNCH != 0 {
                        self.obl_launched = true;
                    }
                    if v & cr::OPTSTRT != 0 && c & cr::OPTLOCK != 0 {
                        return Ok(());
                    }
                    let keep = v & !(cr::STRT | cr::OPTSTRT | cr::OBL_LAUNCH);
                    self.regs.insert(
                        reg(CR),
                        keep | (c & (cr::LOCK | cr::OPTLOCK)) | (v & (cr::LOCK | cr::OPTLOCK)),
                    );
                }
                a if a == reg(SR) => {
                    let s = self.regs[&reg(SR)];
                    self.regs.insert(reg(SR), s & !v);
                }
                a => {
                    if c & cr::OPTLOCK == 0 {
                        self.regs.insert(a, v);
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::Fake;
    use super::*;
    use crate::family::stm32l4::OPTR;

    #[test]
    fn write_option_sequence_as_openocd() {
        let mut f = Fake::new(0xFFEF_F8AA);
        write_option(&mut f, OPTR, 0xBB, 0xFF).unwrap();
        assert_eq!(f.regs[&reg(OPTR)], 0xFFEF_F8BB);
        assert_eq!(
            f.writes,
            vec![
                (reg(KEYR), KEY1),
                (reg(KEYR), KEY2),
                (reg(OPTKEYR), OPTKEY1),
                (reg(OPTKEYR), OPTKEY2),
                (reg(OPTR), 0xFFEF_F8BB),
                (reg(CR), cr::OPTSTRT),
                (reg(CR), cr::LOCK | cr::OPTLOCK),
            ]
        );
        assert_eq!(
            f.regs[&reg(CR)] & (cr::LOCK | cr::OPTLOCK),
            cr::LOCK | cr::OPTLOCK
        );
    }

    #[test]
    fn a_jammed_controller_is_reported_and_nothing_written() {
        let mut f = Fake::new(0xFFEF_F8AA);
        f.jammed = true;
        let e = write_option(&mut f, OPTR, 0x00, 0xFF)
            .unwrap_err()
            .to_string();
        assert!(e.contains("flash not unlocked"), "{e}");
        assert_eq!(f.regs[&reg(OPTR)], 0xFFEF_F8AA);
    }

    #[test]
    fn option_errors_are_decoded() {
        let mut f = Fake::new(0xFFEF_F8AA);
        f.regs.insert(reg(SR), sr::OPTVERR);
        let e = write_option(&mut f, OPTR, 0x00, 0xFF)
            .unwrap_err()
            .to_string();
        assert!(e.contains("OPTVERR"), "{e}");
        assert_eq!(f.regs[&reg(SR)], 0, "error bits cleared");
        assert_eq!(f.writes.last(), Some(&(reg(CR), cr::LOCK | cr::OPTLOCK)));
    }

    #[test]
    fn mass_erase_and_obl_launch_sequences() {
        let mut f = Fake::new(0xFFEF_F8AA);
        mass_erase(&mut f, true).unwrap();
        assert_eq!(
            &f.writes[2..],
            &[
                (reg(CR), cr::MER1 | cr::MER2),
                (reg(CR), cr::MER1 | cr::MER2 | cr::STRT),
                (reg(CR), cr::LOCK),
            ]
        );
        let mut f = Fake::new(0xFFEF_F8AA);
        obl_launch(&mut f).unwrap();
        assert!(f.obl_launched);
        assert!(f.writes.contains(&(reg(CR), cr::OBL_LAUNCH)));
    }
}
