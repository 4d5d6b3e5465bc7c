//! The embedded flash controller of the STM32H743 (RM0433 Rev 7 §4,
//! "Embedded flash memory (FLASH)"), registers at 0x5200_2000, as OpenOCD's
//! `stm32h7x` driver and HAL firmware use it. Two banks of 1 MiB, each of
//! eight 128 KiB sectors, each with its own key, control, status and clear
//! registers: bank 1 at +0x000, bank 2 at +0x100; the option registers,
//! ACR and CRCDATAR answer at both (RM0433 §4.9, register map).
//!
//! Modelled:
//! * KEYRx 0x4567_0123 then 0xCDEF_89AB clears CRx.LOCK; a wrong key, or a
//!   KEYRx write while unlocked, is a bus error and keeps that bank locked
//!   until reset (RM0433 §4.5.1). OPTKEYR 0x0819_2A3B then 0x4C5D_6E7F
//!   clears OPTCR.OPTLOCK, independent of the bank locks; a wrong key: bus
//!   error, options locked until reset. Setting LOCK/OPTLOCK locks again.
//! * Programming through the write buffer (RM0433 §4.3.9): with PG set,
//!   stores of any width (PSIZE sets the parallelism, i.e. the time, not
//!   the store width) fill the 256-bit flash word (32 bytes, 32-aligned);
//!   programming starts when all 32 bytes are written, or on FW (force
//!   write, only while WBNE: the bytes not written stay 1). Errors (SRx,
//!   RM0433 §4.7), each discarding the write buffer and the store:
//!   PGSERR (§4.7.3: a store while PG is clear or the bank locked, a store
//!   with SER/BER set, PG cleared while the buffer holds data, START with PG
//!   set, with SER and BER together, or while the buffer holds data),
//!   STRBERR (§4.7.4: a byte of the buffer written twice), INCERR (§4.7.5: a
//!   store into another flash word before the buffer was full, or one
//!   crossing the flash-word boundary), WRPERR (§4.7.2: a sector whose WPSN
//!   bit is 0, or read-out protection level 1 with a debugger attached —
//!   the latter an assumption, as in the G4/L4 model), OPERR (§4.7.6: the
//!   injected `FlashProgramError` fault). WBNE while the buffer is
//!   partially filled; QW and BSY while an operation is queued or runs;
//!   EOP at the end of every successful program or erase (set whatever
//!   EOPIE; the FLASH interrupt follows each SR flag with its enable bit in
//!   CRx, which has the same bit position). CCRx clears SRx flags.
//!   A flash word that is not erased is programmed AND-wise: RM0433 §4.3.9
//!   only warns that overwriting a programmed flash word corrupts its ECC;
//!   the ECC and the read errors that would follow (SNECCERR, DBECCERR) are
//!   not modelled.
//! * Sector erase SER + SNB[10:8] + START (bit 7), bank erase BER + START
//!   (WRPERR if a sector of the bank is protected), mass erase of both
//!   banks by OPTCR.MER (bit 4, OPTLOCK clear; WRPERR in each bank that has
//!   a protected sector, nothing erased then) (RM0433 §4.3.10). START and
//!   MER read 1 until the erase ends (an assumption).
//! * Times in virtual time (DS12110 Rev 8 §6.3.x "Flash memory" table,
//!   typical, by PSIZE x8/x16/x32/x64; figures as remembered, not
//!   re-checked): flash word 290/180/130/100 µs, sector 2/1.8/1.1/1 s, mass
//!   erase 13/8/6/5 s (used for a bank erase too: the datasheet gives none).
//!   The content changes when the operation starts; an operation started
//!   while the bank is busy is queued behind the running one.
//! * Options (`options.rs`): `_PRG` registers writable while OPTLOCK is
//!   clear; OPTSTART (bit 1) sets OPTSR_CUR.OPT_BUSY, stores the `_PRG`
//!   values (`NvMem::opt_words`, persisted) and, when done, shows them in
//!   the `_CUR` registers (RM0433 §4.4.3; no OBL_LAUNCH). Option
//!   programming time: not in DS12110, 300 ms assumed. OPTCHANGEERR (with
//!   OPTCR.OPTCHANGEERRIE an interrupt; OPTCCR clears it) when the option
//!   bytes are frozen by level 2.
//! * Read-out protection (RM0433 §4.5.3): level 1 with a debugger attached
//!   since power-on: main-flash reads are bus errors (`flash_readable`),
//!   program/erase WRPERR; OPTSTART from level 1 to 0xAA mass-erases both
//!   banks first (OPT_BUSY for the mass erase time more); level 2 freezes
//!   the option bytes and disables the debug port: the SoC's
//!   `debug_port_silent` returns true while `rdp_level() == 2`, as the L4
//!   SoC does.
//!
//! Not modelled: bank swapping (SWAP_BANK_OPT and OPTCR.SWAP_BANK are
//! stored and shown; the banks stay in place), PCROP and secure-only areas
//! (PRARx/SCARx stored only), the CRC unit (CRCCRx/CRCSADDx/CRCEADDx stored,
//! CRCDATAR reads 0), ECC (ECC_FAxR reads 0), RDPERR/RDSERR, ACR's effect
//! on timing, the option bytes' validity check, the BOR level.

use super::super::nvmem::NvMem;
use super::super::stm32l4::flash::{FlashCx, KEY1, KEY2, KeyError, OPTKEY1, OPTKEY2};
use super::super::time::Ps;
mod bank;

use super::options::{self, OPTSR_OPT_BUSY, OPTSR_OPTCHANGEERR, OptionRegs, RDP_LEVEL0};
use bank::{Bank, Latch, WriteBuf};

/// Bytes per bank and per sector (RM0433 §4.3.4).
pub(crate) const BANK_SIZE: usize = 1 << 20;
pub(crate) const SECTOR_SIZE: usize = 128 * 1024;
/// Bytes per flash word (256 bits, RM0433 §4.3.9).
pub(crate) const WORD: usize = 32;

// FLASH_CRx bits (RM0433 §4.9.4).
pub(crate) const CR_LOCK: u32 = 1 << 0;
pub(crate) const CR_PG: u32 = 1 << 1;
pub(crate) const CR_SER: u32 = 1 << 2;
pub(crate) const CR_BER: u32 = 1 << 3;
pub(crate) const CR_PSIZE: u32 = 0b11 << 4;
pub(crate) const CR_FW: u32 = 1 << 6;
pub(crate) const CR_START: u32 = 1 << 7;
pub(crate) const CR_SNB: u32 = 0b111 << 8;
const CR_CRC_EN: u32 = 1 << 15;
/// The interrupt enables EOPIE 16 … CRCRDERRIE 28, at the positions of their SR flags.
const CR_IE: u32 = 0x1FEF_0000;
/// Reset value: LOCK, PSIZE = x64.
pub(crate) const CR_RESET: u32 = CR_LOCK | CR_PSIZE;

// FLASH_SRx bits (RM0433 §4.9.5).
pub(crate) const SR_BSY: u32 = 1 << 0;
pub(crate) const SR_WBNE: u32 = 1 << 1;
pub(crate) const SR_QW: u32 = 1 << 2;
pub(crate) const SR_EOP: u32 = 1 << 16;
pub(crate) const SR_WRPERR: u32 = 1 << 17;
pub(crate) const SR_PGSERR: u32 = 1 << 18;
pub(crate) const SR_STRBERR: u32 = 1 << 19;
pub(crate) const SR_INCERR: u32 = 1 << 21;
pub(crate) const SR_OPERR: u32 = 1 << 22;
/// Flags CCRx clears (CLR_EOP 16 … CLR_CRCRDERR 28, RM0433 §4.9.6).
const SR_CLEARABLE: u32 = 0x1FEF_0000;

// FLASH_OPTCR bits (RM0433 §4.9.7).
pub(crate) const OPTCR_OPTLOCK: u32 = 1 << 0;
pub(crate) const OPTCR_OPTSTART: u32 = 1 << 1;
pub(crate) const OPTCR_MER: u32 = 1 << 4;
pub(crate) const OPTCR_OPTCHANGEERRIE: u32 = 1 << 30;
// OPTCR.SWAP_BANK (bit 31): stored and shown, no effect.

/// ACR reset value (LATENCY 7, WRHIGHFREQ 3) and writable bits (RM0433 §4.9.1).
pub(crate) const ACR_RESET: u32 = 0x37;
const ACR_WRITABLE: u32 = 0x3F;

const US: Ps = 1_000_000;
const MS: Ps = 1_000 * US;
/// Typical times by PSIZE (x8, x16, x32, x64), DS12110 (see the module doc).
pub(crate) const T_WORD_PS: [Ps; 4] = [290 * US, 180 * US, 130 * US, 100 * US];
pub(crate) const T_SECTOR_PS: [Ps; 4] = [2000 * MS, 1800 * MS, 1100 * MS, 1000 * MS];
pub(crate) const T_MASS_PS: [Ps; 4] = [13_000 * MS, 8_000 * MS, 6_000 * MS, 5_000 * MS];
/// Option-byte programming (an assumption: DS12110 gives no figure).
pub(crate) const T_OPT_PS: Ps = 300 * MS;

/// What the SoC must do after a controller access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Outcome {
    /// The non-volatile memories changed and the controller was locked again.
    pub persist: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct FlashCtl {
    pub acr: u32,
    banks: [Bank; 2],
    opt_keys: Latch,
    optcr: u32,
    /// OPTSR_CUR.OPTCHANGEERR.
    opt_change_err: bool,
    /// The options in effect (`_CUR` registers).
    pub cur: OptionRegs,
    /// The options software wrote (`_PRG` registers).
    pub prg: OptionRegs,
    /// A running option change: when it ends, and what `cur` becomes then.
    opt_busy: Option<(Ps, OptionRegs)>,
    /// End of the mass erase started by OPTCR.MER.
    mer_until: Option<Ps>,
    changed_since_unlock: bool,
}

impl FlashCtl {
    /// State after a reset: the option registers show the stored option
    /// bytes (RM0433 §4.4.2), both banks and OPTCR locked.
    pub(crate) fn after_reset(nv: &NvMem) -> FlashCtl {
        let cur = OptionRegs::from_nv(nv);
        FlashCtl {
            acr: ACR_RESET,
            banks: [Bank::after_reset(), Bank::after_reset()],
            opt_keys: Latch::Locked,
            optcr: OPTCR_OPTLOCK,
            opt_change_err: false,
            cur,
            prg: cur,
            opt_busy: None,
            mer_until: None,
            changed_since_unlock: false,
        }
    }

    /// The read-out protection level in effect (0, 1, 2).
    pub(crate) fn rdp_level(&self) -> u8 {
        self.cur.rdp_level()
    }

    /// Main flash can be read: not at RDP level ≥ 1 once a debugger was
    /// attached (RM0433 §4.5.3).
    pub(crate) fn flash_readable(&self, debug_latched: bool) -> bool {
        self.rdp_level() == 0 || !debug_latched
    }

    /// Ends the operations whose time has come.
    pub(crate) fn settle(&mut self, now: Ps) {
        for b in &mut self.banks {
            b.settle(now);
        }
        if let Some((t, regs)) = self.opt_busy
            && now >= t
        {
            self.opt_busy = None;
            self.cur = regs;
            self.optcr &= !OPTCR_OPTSTART;
        }
        if self.mer_until.is_some_and(|t| now >= t) {
            self.mer_until = None;
            self.optcr &= !OPTCR_MER;
        }
    }

    /// When the next running operation ends.
    pub(crate) fn next_event(&self) -> Option<Ps> {
        let banks = self.banks.iter().filter_map(Bank::next_end);
        let opt = self.opt_busy.map(|(t, _)| t);
        banks.chain(opt).chain(self.mer_until).min()
    }

    /// The FLASH interrupt line (NVIC position 4 on the H743): an SRx flag
    /// with its enable bit in CRx, or OPTCHANGEERR with OPTCHANGEERRIE
    /// (RM0433 §4.8).
    pub(crate) fn irq(&self) -> bool {
        self.banks.iter().any(|b| b.sr & b.cr & CR_IE != 0)
            || (self.opt_change_err && self.optcr & OPTCR_OPTCHANGEERRIE != 0)
    }

    fn optsr_cur(&self) -> u32 {
        let busy = if self.opt_busy.is_some() {
            OPTSR_OPT_BUSY
        } else {
            0
        };
        let err = if self.opt_change_err {
            OPTSR_OPTCHANGEERR
        } else {
            0
        };
        self.cur.optsr() | busy | err
    }

    /// Register read at `off` from 0x5200_2000 (0..0x200; the rest reads 0).
    pub(crate) fn read(&mut self, off: u32, now: Ps) -> u32 {
        self.settle(now);
        if let Some(s) = options::slot(off) {
            return match (s.word, s.prg) {
                (options::W_OPTSR, false) => self.optsr_cur(),
                (options::W_OPTSR, true) => self.prg.optsr(),
                (w, true) => self.prg.words[w],
                (w, false) => self.cur.words[w],
            };
        }
        let b = &self.banks[(off >> 8) as usize & 1];
        match off & 0xFF {
            _ if off >= 0x200 => 0,
            0x00 => self.acr,
            0x0C => b.cr,
            0x10 => b.status(),
            0x18 => {
                let swap = self.cur.optsr() & options::OPTSR_SWAP_BANK_OPT;
                self.optcr | swap
            }
            o @ 0x50..=0x58 => b.crc[((o - 0x50) / 4) as usize],
            // KEYRx, OPTKEYR, CCRx, OPTCCR are write-only; CRCDATAR and
            // ECC_FAxR read 0 (not modelled); reserved.
            _ => 0,
        }
    }

    /// Register write at `off` (a 32-bit value; the SoC replicates sub-word
    /// writes on all lanes). A wrong key is a bus error.
    pub(crate) fn write(
        &mut self,
        off: u32,
        v: u32,
        cx: &mut FlashCx,
    ) -> Result<Outcome, KeyError> {
        self.settle(cx.now);
        if off >= 0x200 {
            return Ok(Outcome::default());
        }
        let opt_open = self.optcr & OPTCR_OPTLOCK == 0;
        if let Some(s) = options::slot(off) {
            if s.prg && opt_open {
                self.prg.write(s.word, v);
            }
            return Ok(Outcome::default());
        }
        let bank = (off >> 8) as usize & 1;
        match off & 0xFF {
            0x00 => self.acr = (self.acr & !ACR_WRITABLE) | (v & ACR_WRITABLE),
            0x04 => {
                let b = &mut self.banks[bank];
                if b.keys.feed(v, (KEY1, KEY2)).is_err() {
                    // "An incorrect sequence locks up FLASH_CRx until the next reset."
                    b.cr |= CR_LOCK;
                    b.buf = None;
                    return Err(KeyError);
                }
                if b.keys == Latch::Open {
                    b.cr &= !CR_LOCK;
                }
            }
            0x08 => {
                if self.opt_keys.feed(v, (OPTKEY1, OPTKEY2)).is_err() {
                    self.optcr |= OPTCR_OPTLOCK;
                    return Err(KeyError);
                }
                if self.opt_keys == Latch::Open {
                    self.optcr &= !OPTCR_OPTLOCK;
                }
            }
            0x0C => return Ok(self.write_cr(bank, v, cx)),
            0x14 => self.banks[bank].sr &= !(v & SR_CLEARABLE),
            0x18 => return Ok(self.write_optcr(v, cx)),
            0x24 if v & OPTSR_OPTCHANGEERR != 0 => self.opt_change_err = false,
            o @ 0x50..=0x58 => self.banks[bank].crc[((o - 0x50) / 4) as usize] = v,
            _ => {}
        }
        Ok(Outcome::default())
    }

    /// The controller locked again: whether the change must be saved.
    fn locked_again(&mut self) -> Outcome {
        Outcome {
            persist: std::mem::take(&mut self.changed_since_unlock),
        }
    }

    fn write_cr(&mut self, bank: usize, v: u32, cx: &mut FlashCx) -> Outcome {
        let b = &mut self.banks[bank];
        if b.cr & CR_LOCK != 0 {
            return Outcome::default(); // CRx is write-protected while LOCK is set
        }
        let writable = CR_PG | CR_SER | CR_BER | CR_PSIZE | CR_SNB | CR_CRC_EN | CR_IE;
        let had_data = b.buf.is_some();
        let pg_dropped = b.cr & CR_PG != 0 && v & CR_PG == 0;
        b.cr = (b.cr & CR_START) | (v & writable);
        if had_data && (pg_dropped || v & CR_START != 0) {
            // PG cleared, or an erase started, with data in the buffer.
            b.fail(SR_PGSERR);
        }
        if v & CR_LOCK != 0 {
            b.cr |= CR_LOCK;
            b.keys.close();
            b.buf = None;
            return self.locked_again();
        }
        if v & CR_FW != 0 && b.buf.is_some() {
            self.commit(bank, cx);
        }
        if v & CR_START != 0 && !had_data {
            self.start_erase(bank, cx);
        }
        Outcome::default()
    }

    fn write_optcr(&mut self, v: u32, cx: &mut FlashCx) -> Outcome {
        if self.optcr & OPTCR_OPTLOCK != 0 {
            return Outcome::default();
        }
        let kept = self.optcr & (OPTCR_OPTSTART | OPTCR_MER);
        self.optcr = kept | (v & OPTCR_OPTCHANGEERRIE);
        if v & OPTCR_OPTLOCK != 0 {
            self.optcr |= OPTCR_OPTLOCK;
            self.opt_keys.close();
            return self.locked_again();
        }
        if v & OPTCR_MER != 0 {
            self.mass_erase(cx);
        }
        if v & OPTCR_OPTSTART != 0 && self.opt_busy.is_none() {
            self.start_options(cx);
        }
        Outcome::default()
    }

    /// Read-out protection level ≥ 1 with a debugger: no program or erase.
    fn rdp_blocks(&self, cx: &FlashCx) -> bool {
        self.rdp_level() != 0 && cx.debug
    }

    /// START: sector or bank erase (RM0433 §4.3.10).
    fn start_erase(&mut self, bank: usize, cx: &mut FlashCx) {
        let rdp = self.rdp_blocks(cx);
        let b = &mut self.banks[bank];
        let op = b.cr & (CR_SER | CR_BER);
        if op == 0 {
            return;
        }
        if b.cr & CR_PG != 0 || op == CR_SER | CR_BER {
            return b.fail(SR_PGSERR);
        }
        let base = bank * BANK_SIZE;
        let (sectors, t) = if op == CR_SER {
            let s = ((b.cr & CR_SNB) >> 8) as usize;
            (s..s + 1, T_SECTOR_PS[b.psize()])
        } else {
            (0..BANK_SIZE / SECTOR_SIZE, T_MASS_PS[b.psize()])
        };
        if rdp || sectors.clone().any(|s| self.cur.sector_protected(bank, s)) {
            return b.fail(SR_WRPERR);
        }
        if cx.faults.flash_program_error() {
            return b.fail(SR_OPERR);
        }
        let range = base + sectors.start * SECTOR_SIZE..base + sectors.end * SECTOR_SIZE;
        if let Some(cells) = cx.nv.flash.get_mut(range) {
            cells.fill(0xFF);
            cx.nv.dirty = true;
        }
        b.cr |= CR_START;
        b.busy(cx.now, t, true);
        self.changed_since_unlock = true;
    }

    /// OPTCR.MER: both banks erased (RM0433 §4.3.10, "mass erase").
    fn mass_erase(&mut self, cx: &mut FlashCx) {
        let rdp = self.rdp_blocks(cx);
        let mut refused = false;
        for (i, b) in self.banks.iter_mut().enumerate() {
            if rdp || (0..BANK_SIZE / SECTOR_SIZE).any(|s| self.cur.sector_protected(i, s)) {
                b.fail(SR_WRPERR);
                refused = true;
            }
        }
        if refused {
            return;
        }
        if cx.faults.flash_program_error() {
            return self.banks.iter_mut().for_each(|b| b.fail(SR_OPERR));
        }
        cx.nv.flash.fill(0xFF);
        cx.nv.dirty = true;
        let t = T_MASS_PS[self.banks[0].psize()];
        for b in &mut self.banks {
            b.buf = None;
            b.busy(cx.now, t, false);
        }
        self.mer_until = self.banks.iter().filter_map(Bank::last_end).max();
        self.optcr |= OPTCR_MER;
        self.changed_since_unlock = true;
    }

    /// OPTSTART: the `_PRG` values are programmed (RM0433 §4.4.3), with
    /// the mass erase of an RDP regression (§4.5.3).
    fn start_options(&mut self, cx: &mut FlashCx) {
        if self.rdp_level() == 2 {
            // Level 2: the option bytes can no longer be changed.
            self.opt_change_err = true;
            return;
        }
        let mut t = T_OPT_PS;
        if self.rdp_level() == 1 && (self.prg.words[options::W_OPTSR] >> 8) as u8 == RDP_LEVEL0 {
            cx.nv.flash.fill(0xFF);
            for b in &mut self.banks {
                b.buf = None;
            }
            t += T_MASS_PS[self.banks[0].psize()];
        }
        cx.nv.opt_words = self.prg.words.to_vec();
        cx.nv.dirty = true;
        self.optcr |= OPTCR_OPTSTART;
        self.opt_busy = Some((cx.now + t, self.prg));
        self.changed_since_unlock = true;
    }

    /// A store of `size` bytes (1, 2, 4) into main flash at byte offset
    /// `off` (RM0433 §4.3.9). Errors are flags, never bus errors.
    pub(crate) fn program(&mut self, off: usize, size: u32, v: u32, cx: &mut FlashCx) {
        self.settle(cx.now);
        if off >= cx.nv.flash.len() {
            return;
        }
        let bank = (off / BANK_SIZE).min(1);
        let rdp = self.rdp_blocks(cx);
        let protected = self
            .cur
            .sector_protected(bank, (off % BANK_SIZE) / SECTOR_SIZE);
        let b = &mut self.banks[bank];
        if b.cr & CR_LOCK != 0 || b.cr & CR_PG == 0 || b.cr & (CR_SER | CR_BER) != 0 {
            return b.fail(SR_PGSERR);
        }
        if rdp || protected {
            return b.fail(SR_WRPERR);
        }
        let word = off - off % WORD;
        let (at, n) = (off % WORD, size.clamp(1, 4) as usize);
        if at + n > WORD || b.buf.is_some_and(|w| w.word != word) {
            return b.fail(SR_INCERR);
        }
        let buf = b.buf.get_or_insert(WriteBuf {
            word,
            data: [0xFF; WORD],
            written: 0,
        });
        let mask = ((1u64 << n) - 1) as u32;
        if buf.written & (mask << at) != 0 {
            return b.fail(SR_STRBERR);
        }
        buf.written |= mask << at;
        buf.data[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
        if buf.written == u32::MAX {
            self.commit(bank, cx);
        }
    }

    /// The write buffer of `bank` goes to the flash (full, or FW).
    fn commit(&mut self, bank: usize, cx: &mut FlashCx) {
        let b = &mut self.banks[bank];
        let Some(buf) = b.buf.take() else {
            return;
        };
        if cx.faults.flash_program_error() {
            return b.fail(SR_OPERR);
        }
        if let Some(cells) = cx.nv.flash.get_mut(buf.word..buf.word + WORD) {
            for (c, d) in cells.iter_mut().zip(buf.data) {
                *c &= d;
            }
            cx.nv.dirty = true;
        }
        b.busy(cx.now, T_WORD_PS[b.psize()], false);
        self.changed_since_unlock = true;
    }
}
