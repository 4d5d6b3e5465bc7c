//! The FLASH controller of OpenOCD's `stm32l4x` driver family, shared by
//! the STM32L476 (RM0351 Rev 9 §3) and the STM32G474 (RM0440 Rev 8 §3), at
//! 0x4002_2000.
//!
//! Modelled (register map RM0351 §3.7, RM0440 §3.7):
//! * ACR (reset 0x0000_0600; G4 0x0004_0600 with DBG_SWEN), PDKEYR
//!   (0x0415_2637, 0xFAFB_FCFD unlock ACR.RUN_PD), ECCR (ECCIE only).
//! * KEYR 0x4567_0123 then 0xCDEF_89AB clears CR.LOCK; a wrong key, or any
//!   KEYR write while unlocked, is a bus error and locks CR until the next
//!   reset (RM0351 §3.3.5, RM0440 §3.3.5). OPTKEYR 0x0819_2A3B then
//!   0x4C5D_6E7F clears CR.OPTLOCK, only while LOCK is clear; a wrong key
//!   is a bus error and locks the option registers until reset (§3.4.2).
//! * Standard programming of 64-bit double words: two 32-bit stores to one
//!   aligned double word, PG set (§3.3.7). Errors (SR, RM0351 §3.7.5,
//!   RM0440 §3.7.5), each refusing the write: PGSERR (a store while PG and
//!   FSTPG are clear, PG together with PER/MER, or an error flag of a previous
//!   operation still set), SIZERR (byte/half-word store), PGAERR (first word
//!   not double-word aligned, or the second word in another double word),
//!   WRPERR (WRP or PCROP area, or read-out protection level 1 with a
//!   debugger attached), PROGERR (the double word is not erased and the
//!   data is not all zero). OPERR accompanies an error when ERRIE is set;
//!   EOP is set at the end of a successful operation when EOPIE is set.
//! * Page erase PER + PNB + BKER + STRT, mass erase MER1/MER2 + STRT (a
//!   bank holding a WRP or PCROP area is not erased: WRPERR), BSY for the
//!   datasheet's typical times in virtual time (DS11789 §6.3.10 and DS12288
//!   §5.3.10: 81.69 µs per double word, 22.02 ms per page, 22.13 ms mass
//!   erase). The content changes when the operation starts; BSY, STRT and
//!   OPTSTRT read 1 until it ends (a bus access stalled by BSY on the real
//!   chip sees the same data, later). An operation started while BSY is
//!   queued behind the running one.
//! * Option registers (`options.rs`), writable while OPTLOCK is clear;
//!   OPTSTRT programs them into the option-byte area (`NvMem::opt_words`,
//!   persisted); they take effect at the next option-byte load: OBL_LAUNCH
//!   (only while OPTLOCK is clear) is a system reset that reloads them
//!   (RCC_CSR.OBLRSTF, §3.4.2), as is any other reset.
//! * Read-out protection (RM0351 §3.5.1, RM0440 §3.5.1): level 1 with a
//!   debugger attached since power-on: main flash reads are bus errors
//!   (`flash_readable`), program/erase WRPERR; level 2 silences the debug
//!   port (the SoC) and freezes the option bytes; OPTSTRT regressing level
//!   1 to 0 mass-erases main flash, keeping the pages of PCROP areas when
//!   PCROP1ER.PCROP_RDP is clear (partial mass erase), OTP untouched.
//! * The 1 KiB OTP at 0x1FFF_7000: programmed as main flash, never erased.
//!
//! * Fast programming of a 256-byte row with FSTPG (`fast.rs`, §3.3.7):
//!   MISERR when a double word comes more than 20 µs after the previous one,
//!   FASTERR with PGAERR/SIZERR/WRPERR/MISERR; STRT with FSTPG is PGSERR.
//!
//! Not modelled: ECC (ECCR flags, RDERR), PCROP's read protection
//! of data reads (the bus reads flash directly), the securable area
//! (SEC1R/SEC2R are stored only), option validity (OPTVERR).

use super::super::fault::FaultSet;
use super::super::nvmem::NvMem;
use super::super::time::Ps;
use super::options::{OptionRegs, PCROP_RDP, Protection, RDP_LEVEL0, Variant, geometry};

pub(crate) const KEY1: u32 = 0x4567_0123;
pub(crate) const KEY2: u32 = 0xCDEF_89AB;
pub(crate) const OPTKEY1: u32 = 0x0819_2A3B;
pub(crate) const OPTKEY2: u32 = 0x4C5D_6E7F;
const PDKEY1: u32 = 0x0415_2637;
const PDKEY2: u32 = 0xFAFB_FCFD;

// FLASH_SR bits (RM0351 §3.7.5)
pub(crate) const SR_EOP: u32 = 1 << 0;
pub(crate) const SR_OPERR: u32 = 1 << 1;
pub(crate) const SR_PROGERR: u32 = 1 << 3;
pub(crate) const SR_WRPERR: u32 = 1 << 4;
pub(crate) const SR_PGAERR: u32 = 1 << 5;
pub(crate) const SR_SIZERR: u32 = 1 << 6;
pub(crate) const SR_PGSERR: u32 = 1 << 7;
pub(crate) const SR_MISERR: u32 = 1 << 8;
pub(crate) const SR_FASTERR: u32 = 1 << 9;
pub(crate) const SR_BSY: u32 = 1 << 16;
/// Write-1-to-clear bits: EOP, OPERR, PROGERR … FASTERR, RDERR, OPTVERR.
const SR_W1C: u32 = 0xC3FB;

// FLASH_CR bits (RM0351 §3.7.6, RM0440 §3.7.6)
pub(crate) const CR_PG: u32 = 1 << 0;
pub(crate) const CR_PER: u32 = 1 << 1;
pub(crate) const CR_MER1: u32 = 1 << 2;
pub(crate) const CR_BKER: u32 = 1 << 11;
pub(crate) const CR_MER2: u32 = 1 << 15;
pub(crate) const CR_STRT: u32 = 1 << 16;
pub(crate) const CR_OPTSTRT: u32 = 1 << 17;
pub(crate) const CR_FSTPG: u32 = 1 << 18;
pub(crate) const CR_EOPIE: u32 = 1 << 24;
pub(crate) const CR_ERRIE: u32 = 1 << 25;
const CR_RDERRIE: u32 = 1 << 26;
pub(crate) const CR_OBL_LAUNCH: u32 = 1 << 27;
const CR_SEC_PROT: u32 = 0b11 << 28;
pub(crate) const CR_OPTLOCK: u32 = 1 << 30;
pub(crate) const CR_LOCK: u32 = 1 << 31;

/// Typical times (DS11789 Table 49, DS12288 Table 57), picoseconds.
pub(crate) const T_PROG_PS: Ps = 81_690_000;
pub(crate) const T_PAGE_ERASE_PS: Ps = 22_020_000_000;
pub(crate) const T_MASS_ERASE_PS: Ps = 22_130_000_000;
/// Option-byte programming: the datasheets give no figure; the option page
/// is erased and programmed like a page (an assumption).
pub(crate) const T_OPT_PS: Ps = T_PAGE_ERASE_PS;
/// Size of the OTP area, bytes.
pub(crate) const OTP_SIZE: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    Locked,
    Key1,
    Unlocked,
    /// A wrong sequence: locked until reset, every write a bus error.
    Blocked,
}

/// Where a programmed word goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Main,
    Otp,
}

/// What the SoC must do after a controller access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Outcome {
    /// The non-volatile memories changed and the controller was locked again.
    pub persist: bool,
    /// OBL_LAUNCH: reload the option bytes by a system reset.
    pub obl_launch: bool,
}

/// What an access needs besides the controller.
pub(crate) struct FlashCx<'a> {
    pub now: Ps,
    pub nv: &'a mut NvMem,
    pub faults: &'a FaultSet,
    /// A debugger has been attached since power-on (read-out protection).
    pub debug: bool,
}

/// A wrong key: the bus answers with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyError;

#[derive(Debug, Clone)]
pub(crate) struct FlashCtl {
    variant: Variant,
    pub acr: u32,
    keys: Keys,
    opt_keys: Keys,
    pd_key1: bool,
    pd_unlocked: bool,
    pub cr: u32,
    sr: u32,
    eccr: u32,
    /// The option registers as software sees and writes them.
    pub regs: OptionRegs,
    /// The options in effect since the last option-byte load.
    pub loaded: OptionRegs,
    prot: Protection,
    /// First word of a double word: (target, byte offset, value).
    half: Option<(Target, usize, u32)>,
    /// End of the running operation (BSY), if any.
    busy_until: Option<Ps>,
    /// The row of a fast-programming sequence, while it expects data.
    fast: Option<fast::FastRow>,
    eop_pending: bool,
    changed_since_unlock: bool,
}

impl FlashCtl {
    /// State after a reset: option registers loaded from the option-byte area
    /// (RM0351 §3.4.2).
    pub(crate) fn after_reset(variant: Variant, nv: &NvMem) -> FlashCtl {
        let loaded = if nv.opt_words.is_empty() {
            variant.factory()
        } else {
            OptionRegs::from_words(&nv.opt_words)
        };
        FlashCtl {
            variant,
            acr: match variant {
                Variant::L476 => 0x0000_0600,
                Variant::G474 => 0x0004_0600,
            },
            keys: Keys::Locked,
            opt_keys: Keys::Locked,
            pd_key1: false,
            pd_unlocked: false,
            cr: CR_LOCK | CR_OPTLOCK,
            sr: 0,
            eccr: 0,
            regs: loaded,
            loaded,
            prot: Protection::of(variant, &loaded),
            half: None,
            busy_until: None,
            fast: None,
            eop_pending: false,
            changed_since_unlock: false,
        }
    }

    /// The read-out protection level in effect (0, 1, 2).
    pub(crate) fn rdp_level(&self) -> u8 {
        self.loaded.rdp_level()
    }

    /// Main flash can be read: not at RDP level ≥ 1 once a debugger was
    /// attached (RM0351 §3.5.1 Table 13).
    pub(crate) fn flash_readable(&self, debug_latched: bool) -> bool {
        self.rdp_level() == 0 || !debug_latched
    }

    /// Ends the running operation if its time has come.
    pub(crate) fn settle(&mut self, now: Ps) {
        self.settle_fast(now);
        if let Some(t) = self.busy_until
            && now >= t
        {
            self.busy_until = None;
            self.cr &= !(CR_STRT | CR_OPTSTRT);
            if std::mem::take(&mut self.eop_pending) && self.cr & CR_EOPIE != 0 {
                self.sr |= SR_EOP;
            }
        }
    }

    /// When BSY falls, or a fast-programming row misses its data.
    pub(crate) fn next_event(&self) -> Option<Ps> {
        let miss = self.fast.map(|r| r.deadline() + 1);
        [self.busy_until, miss].into_iter().flatten().min()
    }

    /// The FLASH global interrupt line (EOP with EOPIE, OPERR with ERRIE).
    pub(crate) fn irq(&self) -> bool {
        (self.sr & SR_EOP != 0 && self.cr & CR_EOPIE != 0)
            || (self.sr & SR_OPERR != 0 && self.cr & CR_ERRIE != 0)
    }

    /// Register read at `off` from 0x4002_2000.
    pub(crate) fn read(&mut self, off: u32, now: Ps) -> u32 {
        self.settle(now);
        match off {
            0x00 => self.acr,
            0x10 => self.sr | if self.busy_until.is_some() { SR_BSY } else { 0 },
            0x14 => self.cr,
            0x18 => self.eccr,
            _ => match OptionRegs::index_of(self.variant, off) {
                Some(i) => self.regs.get(i),
                None => 0, // KEYR, OPTKEYR, PDKEYR are write-only; reserved
            },
        }
    }

    /// Register write at `off` (a 32-bit value; the SoC replicates sub-word
    /// writes as the AHB-to-APB bridge does).
    pub(crate) fn write(
        &mut self,
        off: u32,
        v: u32,
        cx: &mut FlashCx,
    ) -> Result<Outcome, KeyError> {
        self.settle(cx.now);
        match off {
            0x00 => {
                let mut m = match self.variant {
                    Variant::L476 => 0x5F07, // LATENCY[2:0] PRFTEN ICEN DCEN ICRST DCRST SLEEP_PD
                    Variant::G474 => 0x4_5F0F, // LATENCY[3:0] … DBG_SWEN
                };
                if self.pd_unlocked {
                    m |= 1 << 13; // RUN_PD (RM0351 §3.7.2)
                }
                self.acr = (self.acr & !m) | (v & m);
            }
            0x04 => {
                (self.pd_key1, self.pd_unlocked) = match (self.pd_key1, v) {
                    (false, PDKEY1) => (true, self.pd_unlocked),
                    (true, PDKEY2) => (false, true),
                    _ => (false, self.pd_unlocked),
                }
            }
            0x08 => self.write_keyr(v)?,
            0x0C => self.write_optkeyr(v)?,
            0x10 => self.sr &= !(v & SR_W1C),
            0x14 => return Ok(self.write_cr(v, cx)),
            0x18 => self.eccr = (self.eccr & !(1 << 24)) | (v & (1 << 24)),
            _ => {
                if let Some(i) = OptionRegs::index_of(self.variant, off)
                    && self.cr & (CR_LOCK | CR_OPTLOCK) == 0
                {
                    let w = self.variant.writable(i);
                    let old = self.regs.get(i);
                    self.regs.set(i, (old & !w) | (v & w));
                }
            }
        }
        Ok(Outcome::default())
    }

    fn write_keyr(&mut self, v: u32) -> Result<(), KeyError> {
        self.keys = match (self.keys, v) {
            (Keys::Locked, KEY1) => Keys::Key1,
            (Keys::Key1, KEY2) => {
                self.cr &= !CR_LOCK;
                Keys::Unlocked
            }
            _ => {
                // RM0351 §3.3.5: "An incorrect sequence locks up the FLASH_CR
                // register until the next system reset", with a bus error.
                self.cr |= CR_LOCK | CR_OPTLOCK;
                self.half = None;
                self.keys = Keys::Blocked;
                self.opt_keys = Keys::Blocked;
                return Err(KeyError);
            }
        };
        Ok(())
    }

    fn write_optkeyr(&mut self, v: u32) -> Result<(), KeyError> {
        if self.cr & CR_LOCK != 0 && self.opt_keys != Keys::Blocked {
            // RM0351 §3.4.2: FLASH_CR must be unlocked first; no effect.
            return Ok(());
        }
        self.opt_keys = match (self.opt_keys, v) {
            (Keys::Locked, OPTKEY1) => Keys::Key1,
            (Keys::Key1, OPTKEY2) => {
                self.cr &= !CR_OPTLOCK;
                Keys::Unlocked
            }
            _ => {
                self.cr |= CR_OPTLOCK;
                self.opt_keys = Keys::Blocked;
                return Err(KeyError);
            }
        };
        Ok(())
    }

    fn write_cr(&mut self, v: u32, cx: &mut FlashCx) -> Outcome {
        let mut o = Outcome::default();
        if self.cr & CR_LOCK != 0 {
            return o; // RM0351 §3.7.6: CR is write-protected while LOCK is set
        }
        let pnb = match self.variant {
            Variant::L476 => 0xFF << 3,
            Variant::G474 => 0x7F << 3,
        };
        let writable = CR_PG
            | CR_PER
            | CR_MER1
            | pnb
            | CR_BKER
            | CR_MER2
            | CR_FSTPG
            | CR_EOPIE
            | CR_ERRIE
            | CR_RDERRIE;
        let sec = if self.variant == Variant::G474 {
            v & CR_SEC_PROT // set-only, cleared by reset (RM0440 §3.7.6)
        } else {
            0
        };
        let kept = self.cr & (CR_STRT | CR_OPTSTRT | CR_OPTLOCK | CR_SEC_PROT);
        self.cr = kept | sec | (v & writable);
        if self.cr & (CR_PG | CR_FSTPG) == 0 {
            self.half = None;
        }
        if v & CR_LOCK != 0 {
            self.cr |= CR_LOCK | CR_OPTLOCK;
            self.keys = Keys::Locked;
            if self.opt_keys != Keys::Blocked {
                self.opt_keys = Keys::Locked;
            }
            self.half = None;
            o.persist = std::mem::take(&mut self.changed_since_unlock);
            return o;
        }
        if v & CR_OPTLOCK != 0 {
            self.cr |= CR_OPTLOCK;
            if self.opt_keys != Keys::Blocked {
                self.opt_keys = Keys::Locked;
            }
        }
        let opt_open = self.cr & CR_OPTLOCK == 0;
        if v & CR_OBL_LAUNCH != 0 && opt_open {
            o.obl_launch = true;
            o.persist = std::mem::take(&mut self.changed_since_unlock);
            return o;
        }
        if v & CR_OPTSTRT != 0 && opt_open {
            self.start_options(cx);
        } else if v & CR_STRT != 0 {
            self.start_erase(cx);
        }
        o
    }

    /// Raises error flags (and OPERR with ERRIE, RM0351 §3.7.5).
    fn fail(&mut self, flags: u32) {
        self.sr |= flags;
        if self.cr & CR_ERRIE != 0 {
            self.sr |= SR_OPERR;
        }
    }

    /// Error flags of a previous operation that block the next one with PGSERR
    /// (RM0351 §3.3.6/§3.3.7 and PGSERR in §3.7.5; RM0440 §3.7.5 adds WRPERR).
    fn stale_errors(&self) -> bool {
        let mut m = SR_PROGERR | SR_SIZERR | SR_PGAERR | SR_PGSERR | SR_MISERR | SR_FASTERR;
        if self.variant == Variant::G474 {
            m |= SR_WRPERR;
        }
        self.sr & m != 0
    }

    /// Read-out protection level ≥ 1 with a debugger: no program or erase of main flash.
    fn rdp_blocks(&self, cx: &FlashCx) -> bool {
        self.rdp_level() != 0 && cx.debug
    }

    /// BSY for `t` from now (or from the end of the running operation).
    fn busy(&mut self, now: Ps, t: Ps) {
        let start = self.busy_until.map_or(now, |b| b.max(now));
        self.busy_until = Some(start + t);
        self.eop_pending = true;
        self.changed_since_unlock = true;
    }

    /// STRT: page or mass erase (RM0351 §3.3.6).
    fn start_erase(&mut self, cx: &mut FlashCx) {
        let op = self.cr & (CR_PER | CR_MER1 | CR_MER2);
        if op == 0 {
            return;
        }
        if self.cr & (CR_PG | CR_FSTPG) != 0
            || (op & CR_PER != 0 && op != CR_PER)
            || self.stale_errors()
        {
            return self.fail(SR_PGSERR);
        }
        if cx.faults.flash_program_error() {
            return self.fail(SR_PROGERR);
        }
        if self.rdp_blocks(cx) {
            return self.fail(SR_WRPERR);
        }
        let g = geometry(self.variant, self.loaded.optr);
        let size = cx.nv.flash.len();
        let (range, t) = if op == CR_PER {
            let page = ((self.cr >> 3) & 0xFF) as usize;
            let bank = usize::from(g.dual && self.cr & CR_BKER != 0);
            if page >= g.pages_per_bank {
                return self.fail(SR_PGSERR);
            }
            let start = bank * g.bank_size() + page * g.page_size;
            (start..start + g.page_size, T_PAGE_ERASE_PS)
        } else if !g.dual {
            (0..size, T_MASS_ERASE_PS)
        } else {
            let b = g.bank_size();
            let lo = if op & CR_MER1 != 0 { 0 } else { b };
            let hi = if op & CR_MER2 != 0 { size } else { b };
            (lo..hi, T_MASS_ERASE_PS)
        };
        if self.prot.hits(range.clone()) {
            return self.fail(SR_WRPERR);
        }
        cx.nv.flash[range].fill(0xFF);
        cx.nv.dirty = true;
        self.cr |= CR_STRT;
        self.busy(cx.now, t);
    }

    /// OPTSTRT: the option registers are programmed into the option-byte area
    /// (RM0351 §3.4.2), with the mass erase of an RDP regression (§3.5.1).
    fn start_options(&mut self, cx: &mut FlashCx) {
        if self.rdp_level() == 2 {
            return; // level 2: the option bytes can no longer be changed
        }
        if self.rdp_level() == 1 && self.regs.optr as u8 == RDP_LEVEL0 {
            if self.loaded.pcrop1er & PCROP_RDP != 0 || self.prot.pcrop.is_empty() {
                cx.nv.flash.fill(0xFF);
                // The full mass erase removes the PCROP areas with their code: PCROP1SR/ER and
                // PCROP2SR/ER return to the factory values (RM0351 §3.5.2, RM0440 §5.5.2;
                // written from memory of the RMs, see docs/sim.md).
                let mut w = self.regs.to_words();
                let f = self.variant.factory().to_words();
                for i in [1, 2, 5, 6] {
                    w[i] = f[i];
                }
                self.regs = OptionRegs::from_words(&w);
            } else {
                // Partial mass erase: every page without a PCROP byte.
                let g = geometry(self.variant, self.loaded.optr);
                for p in 0..cx.nv.flash.len() / g.page_size {
                    let r = p * g.page_size..(p + 1) * g.page_size;
                    if !self
                        .prot
                        .pcrop
                        .iter()
                        .any(|a| a.start < r.end && r.start < a.end)
                    {
                        cx.nv.flash[r].fill(0xFF);
                    }
                }
            }
        }
        cx.nv.opt_words = self.regs.to_words();
        cx.nv.dirty = true;
        self.cr |= CR_OPTSTRT;
        self.busy(cx.now, T_OPT_PS);
    }

    /// A store into main flash or the OTP area at byte offset `off`
    /// (RM0351 §3.3.7, §3.3.8). Errors are flags, never bus errors.
    pub(crate) fn program(
        &mut self,
        target: Target,
        off: usize,
        size: u32,
        v: u32,
        cx: &mut FlashCx,
    ) {
        self.settle(cx.now);
        let cr = self.cr;
        if cr & CR_FSTPG != 0 {
            return self.program_fast(target, off, size, v, cx);
        }
        if cr & CR_LOCK != 0
            || cr & CR_PG == 0
            || cr & (CR_PER | CR_MER1 | CR_MER2) != 0
            || self.stale_errors()
        {
            self.half = None;
            return self.fail(SR_PGSERR);
        }
        if size != 4 {
            self.half = None;
            return self.fail(SR_SIZERR);
        }
        if target == Target::Main && (self.rdp_blocks(cx) || self.prot.hits(off..off + 4)) {
            self.half = None;
            return self.fail(SR_WRPERR);
        }
        let Some((t, first_off, first)) = self.half.take() else {
            if !off.is_multiple_of(8) {
                return self.fail(SR_PGAERR);
            }
            self.half = Some((target, off, v));
            return;
        };
        if t != target || off != first_off + 4 {
            return self.fail(SR_PGAERR);
        }
        if cx.faults.flash_program_error() {
            return self.fail(SR_PROGERR);
        }
        let data = (u64::from(v) << 32) | u64::from(first);
        let mem: &mut [u8] = match target {
            Target::Main => &mut cx.nv.flash,
            Target::Otp => &mut cx.nv.otp,
        };
        let Some(cells) = mem.get_mut(first_off..first_off + 8) else {
            return self.fail(SR_PGAERR);
        };
        if data != 0 && cells.iter().any(|b| *b != 0xFF) {
            return self.fail(SR_PROGERR);
        }
        cells.copy_from_slice(&data.to_le_bytes());
        cx.nv.dirty = true;
        self.busy(cx.now, T_PROG_PS);
    }

    /// The option-byte area as the bus shows it (RM0351 Table 9, RM0440
    /// Table 8): bank 1 at 0x1FFF_7800, bank 2 at 0x1FFF_F800, each option
    /// as a word followed by its complement. `None` outside.
    pub(crate) fn option_area_read(&self, a: u32, nv: &NvMem) -> Option<u32> {
        let o = if nv.opt_words.is_empty() {
            self.variant.factory()
        } else {
            OptionRegs::from_words(&nv.opt_words)
        };
        let sec = self.variant == Variant::G474;
        let (slot, bank2) = match a {
            0x1FFF_7800..0x1FFF_7830 => ((a - 0x1FFF_7800) / 8, false),
            0x1FFF_F800..0x1FFF_F830 => ((a - 0x1FFF_F800) / 8, true),
            _ => return None,
        };
        let w = match (slot, bank2) {
            (0, false) => o.optr,
            (1, false) => o.pcrop1sr,
            (2, false) => o.pcrop1er,
            (3, false) => o.wrp1ar,
            (4, false) => o.wrp1br,
            (5, false) if sec => o.sec1r,
            (1, true) => o.pcrop2sr,
            (2, true) => o.pcrop2er,
            (3, true) => o.wrp2ar,
            (4, true) => o.wrp2br,
            (5, true) if sec => o.sec2r,
            _ => u32::MAX,
        };
        Some(if a & 4 == 0 { w } else { !w })
    }
}

mod fast;
#[cfg(test)]
mod tests;
