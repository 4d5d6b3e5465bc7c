//! SW-DP of the STM32F103's SWJ-DP (ADIv5.0 DPv1, DPIDR 0x1BA0_1477;
//! ADIv5 §B2 (DP registers), §B4 (SWD protocol), §B5.2 (SWJ-DP switching)).
//!
//! * Power-on: the SWJ-DP listens to JTAG; the SWD interface is selected by a
//!   line reset (≥ 50 SWCLK with SWDIO high) followed by the 16-bit
//!   JTAG-to-SWD sequence 0xE79E (0xE73C selects JTAG again). After every line
//!   reset the DP is in the protocol-error/lock-out state: it only answers a
//!   read of DPIDR (any other request gets no ACK).
//! * DPIDR, CTRL/STAT (CDBGPWRUPREQ/CSYSPWRUPREQ/CDBGRSTREQ mirrored to their
//!   ACK bits, ORUNDETECT, STICKYORUN, STICKYCMP, STICKYERR, WDATAERR, READOK,
//!   TRNMODE/TRNCNT/MASKLANE stored), WCR (SELECT.CTRLSEL = 1), SELECT
//!   (APSEL, APBANKSEL, CTRLSEL), RDBUFF, RESEND, ABORT (clears the sticky flags).
//! * Other chips' DPIDR come from `family.rs`; the STM32H7's DP is a DPv2
//!   (SELECT.DPBANKSEL: CTRL/STAT, DLCR, TARGETID, DLPIDR, EVENTSTAT).
//! * The DP cannot answer at all ([`Chip::dp_silent`]: no power, SWJ_CFG =
//!   0b100, Stop/Standby without the DBGMCU bit): no ACK, and the swj
//!   sequences are not seen. A request that is not answered because the DP is
//!   silent or the link is cut ([`Fault::DisconnectAfter`](super::Fault::DisconnectAfter))
//!   leaves the DP in the protocol-error state: once it can hear the probe
//!   again, it needs a line reset and a DPIDR read (§B4.3.3).
//! * Setting CTRL/STAT.CDBGPWRUPREQ latches the chip's "debug mode" for
//!   read-out protection (until power-on reset).
//! * ACKs: OK; WAIT while an AP access is still busy (only with
//!   [`Fault::ApWait`](super::Fault::ApWait)); FAULT for every request except
//!   DPIDR/CTRL/STAT/RESEND reads and ABORT writes while a sticky flag is set
//!   (§B4.2.3); no ACK when unpowered, disconnected, in JTAG mode or locked out.
//! * AP reads are posted (§B4.2.4): the ACK of an AP read carries the result
//!   of the previous AP read; the new result is fetched from RDBUFF or by the
//!   next AP read. AP accesses need CDBGPWRUPACK and CSYSPWRUPACK, else FAULT.

use super::super::chip::Chip;

// CTRL/STAT (§B2.2.2)
const ORUNDETECT: u32 = 1 << 0;
const STICKYORUN: u32 = 1 << 1;
const STICKYCMP: u32 = 1 << 4;
const STICKYERR: u32 = 1 << 5;
const READOK: u32 = 1 << 6;
const WDATAERR: u32 = 1 << 7;
const CDBGRSTREQ: u32 = 1 << 26;
const CDBGPWRUPREQ: u32 = 1 << 28;
const CSYSPWRUPREQ: u32 = 1 << 30;
const CTRL_WRITABLE: u32 = ORUNDETECT | 0x0FFF_FF0C | CDBGRSTREQ | CDBGPWRUPREQ | CSYSPWRUPREQ;
const STICKY: u32 = STICKYORUN | STICKYCMP | STICKYERR | WDATAERR;

/// Response of the target to one SWD request.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ack {
    Ok(u32),
    Wait,
    Fault,
    NoAck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Jtag,
    Swd,
}

#[derive(Debug, Clone)]
pub(crate) struct SwDp {
    wire: Wire,
    /// After a line reset only a DPIDR read is answered.
    lockout: bool,
    /// Consecutive SWDIO-high bits seen.
    ones: u32,
    /// Capturing the 16 bits after a line reset: (bits, count).
    capture: Option<(u16, u8)>,
    ctrl: u32,
    sticky: u32,
    readok: bool,
    select: u32,
    wcr: u32,
    rdbuff: u32,
    resend: u32,
    /// WAITs given to the current AP access (for `Fault::ApWait`).
    ap_waits: u32,
}

impl SwDp {
    pub(crate) fn power_on() -> SwDp {
        SwDp {
            wire: Wire::Jtag,
            lockout: true,
            ones: 0,
            capture: None,
            ctrl: 0,
            sticky: 0,
            readok: false,
            select: 0,
            wcr: 0x40,
            rdbuff: 0,
            resend: 0,
            ap_waits: 0,
        }
    }

    fn powered_up(&self) -> bool {
        self.ctrl & CDBGPWRUPREQ != 0 && self.ctrl & CSYSPWRUPREQ != 0
    }

    fn ctrl_stat(&self) -> u32 {
        let mut v = self.ctrl | self.sticky;
        if self.ctrl & CDBGRSTREQ != 0 {
            v |= 1 << 27;
        }
        if self.ctrl & CDBGPWRUPREQ != 0 {
            v |= 1 << 29;
        }
        if self.ctrl & CSYSPWRUPREQ != 0 {
            v |= 1 << 31;
        }
        if self.readok {
            v |= READOK;
        }
        v
    }
}

impl Chip {
    /// Bits clocked out by the probe with SWDIO driven (`swj_sequence`), LSB first.
    pub(crate) fn swj_bits(&mut self, bit_len: u8, bits: u64) {
        if self.dp_silent() {
            return;
        }
        for i in 0..bit_len.min(64) {
            let b = (bits >> i) & 1 == 1;
            let dp = &mut self.dp;
            if let Some((v, n)) = dp.capture.as_mut() {
                *v |= (b as u16) << *n;
                *n += 1;
                if *n == 16 {
                    match *v {
                        0xE79E => dp.wire = Wire::Swd,
                        0xE73C => dp.wire = Wire::Jtag,
                        _ => {}
                    }
                    dp.capture = None;
                }
            }
            if b {
                dp.ones += 1;
                if dp.ones == 50 {
                    // Line reset (§B4.3.3).
                    self.stats.line_resets += 1;
                    dp.lockout = true;
                    dp.capture = None;
                }
            } else {
                if dp.ones >= 50 && dp.capture.is_none() {
                    dp.capture = Some((0, 1)); // this 0 is bit 0 of a possible switch sequence
                }
                dp.ones = 0;
            }
        }
    }

    /// One SWD transaction. `a` is A[3:2] as a byte address (0, 4, 8, 0xC).
    pub(crate) fn swd_request(
        &mut self,
        apndp: bool,
        rnw: bool,
        a: u8,
        wdata: u32,
        swclk_khz: u32,
    ) -> Ack {
        let line_bad = self.faults.line_error_khz().is_some_and(|k| swclk_khz > k);
        if let Err(ack) = self.swd_request_phase(apndp, rnw, a, line_bad) {
            return ack;
        }
        if apndp {
            self.ap_access(rnw, a, wdata)
        } else {
            self.dp_register(rnw, a, wdata)
        }
    }

    /// What the DP answers a request before any register is touched (counted in the stats):
    /// no ACK (unpowered, link cut, line errors, JTAG selected, locked out after a line reset
    /// except for a DPIDR read), FAULT while a sticky flag is set (except DPIDR/CTRL/STAT/RESEND
    /// reads and ABORT writes, §B4.2.3), and for an AP access WAIT (`Fault::ApWait`) or FAULT
    /// without CDBGPWRUPACK/CSYSPWRUPACK. `Ok(())`: the access goes ahead.
    fn swd_request_phase(
        &mut self,
        apndp: bool,
        rnw: bool,
        a: u8,
        line_bad: bool,
    ) -> Result<(), Ack> {
        let s = &mut self.stats;
        match (apndp, rnw) {
            (false, true) => s.dp_reads += 1,
            (false, false) => s.dp_writes += 1,
            (true, true) => s.ap_reads += 1,
            (true, false) => s.ap_writes += 1,
        }
        let cut = self.faults.consume_link();
        let silent = self.dp_silent();
        if cut || silent {
            // The request never reached the DP intact: protocol error state.
            self.dp.lockout = true;
        }
        if silent || cut || line_bad || self.dp.wire != Wire::Swd {
            self.stats.no_acks += 1;
            return Err(Ack::NoAck);
        }
        if self.dp.lockout {
            if !apndp && rnw && a == 0 {
                self.dp.lockout = false;
            } else {
                self.stats.no_acks += 1;
                return Err(Ack::NoAck);
            }
        }
        let allowed_with_sticky = !apndp && ((rnw && matches!(a, 0 | 4 | 8)) || (!rnw && a == 0));
        if self.dp.sticky & STICKY != 0 && !allowed_with_sticky {
            self.stats.faults += 1;
            return Err(Ack::Fault);
        }
        if apndp {
            let waits = self.faults.ap_wait();
            if self.dp.ap_waits < waits {
                self.dp.ap_waits += 1;
                self.stats.waits += 1;
                if self.dp.ctrl & ORUNDETECT != 0 {
                    self.dp.sticky |= STICKYORUN;
                }
                return Err(Ack::Wait);
            }
            self.dp.ap_waits = 0;
            if !self.dp.powered_up() {
                self.dp.sticky |= STICKYERR;
                self.stats.faults += 1;
                return Err(Ack::Fault);
            }
        }
        Ok(())
    }

    /// The request phase of an SWD write seen at pin level (`swd_pins.rs`): the target sends
    /// its ACK before the host sends the data (§B4.2.2), so the checks and counters of
    /// [`Chip::swd_request`] run here, and after `Ack::Ok` [`Chip::swd_write_data`] does the
    /// write. There is no SWCLK setting at pin level, so line errors above a clock do not apply.
    pub(crate) fn swd_write_request(&mut self, apndp: bool, a: u8) -> Ack {
        match self.swd_request_phase(apndp, false, a, false) {
            Ok(()) => Ack::Ok(0),
            Err(ack) => ack,
        }
    }

    /// A write's data parity was wrong: CTRL/STAT.WDATAERR, the write is dropped (§B4.2.2).
    pub(crate) fn swd_wdataerr(&mut self) {
        self.dp.sticky |= WDATAERR;
    }

    /// The data phase of an SWD write whose request got OK ([`Chip::swd_write_request`]).
    pub(crate) fn swd_write_data(&mut self, apndp: bool, a: u8, w: u32) {
        if apndp {
            self.ap_access(false, a, w);
        } else {
            self.dp_register(false, a, w);
        }
    }

    fn dp_register(&mut self, rnw: bool, a: u8, w: u32) -> Ack {
        let id = self.ident;
        let v2 = id.dp_version >= 2;
        let mut latch = false;
        let dp = &mut self.dp;
        if rnw {
            let v = match a {
                0 => id.dpidr,
                4 if v2 => match dp.select & 0xF {
                    0 => dp.ctrl_stat(),
                    1 => dp.wcr,      // DLCR
                    2 => id.targetid, // TARGETID
                    3 => 0x0000_0001, // DLPIDR: PROTVSN 1, TINSTANCE 0
                    _ => 0,           // EVENTSTAT and reserved
                },
                4 => {
                    if dp.select & 1 == 0 {
                        dp.ctrl_stat()
                    } else {
                        dp.wcr
                    }
                }
                8 => dp.resend,
                _ => {
                    // RDBUFF: result of the last posted AP read, no new AP access.
                    dp.readok = true;
                    dp.resend = dp.rdbuff;
                    dp.rdbuff
                }
            };
            Ack::Ok(v)
        } else {
            match a {
                0 => {
                    // ABORT (§B2.2.1)
                    if w & 1 != 0 {
                        dp.ap_waits = 0; // DAPABORT
                    }
                    if w & (1 << 1) != 0 {
                        dp.sticky &= !STICKYCMP;
                    }
                    if w & (1 << 2) != 0 {
                        dp.sticky &= !STICKYERR;
                    }
                    if w & (1 << 3) != 0 {
                        dp.sticky &= !WDATAERR;
                    }
                    if w & (1 << 4) != 0 {
                        dp.sticky &= !STICKYORUN;
                    }
                }
                4 => {
                    let bank = if v2 { dp.select & 0xF } else { dp.select & 1 };
                    match bank {
                        0 => {
                            dp.ctrl = w & CTRL_WRITABLE;
                            latch = w & CDBGPWRUPREQ != 0;
                        }
                        1 => dp.wcr = w & 0x3C7,
                        _ => {}
                    }
                }
                8 => dp.select = w & if v2 { 0xFF00_00FF } else { 0xFF00_00F1 },
                _ => {} // RDBUFF is read-only
            }
            if latch {
                self.latch_debug_mode();
            }
            Ack::Ok(0)
        }
    }

    /// An AP register access after [`Chip::swd_request_phase`] let it through: reads are
    /// posted (the ACK carries the previous read's result, §B4.2.4), errors set STICKYERR.
    fn ap_access(&mut self, rnw: bool, a: u8, w: u32) -> Ack {
        let apsel = self.dp.select >> 24;
        let reg = (self.dp.select & 0xF0) as u8 | a;
        if rnw {
            let previous = self.dp.rdbuff;
            let result = self.ap_read_sel(apsel, reg);
            match result {
                Ok(v) => {
                    self.dp.rdbuff = v;
                    self.dp.readok = true;
                }
                Err(_) => {
                    self.dp.rdbuff = 0;
                    self.dp.readok = false;
                    self.dp.sticky |= STICKYERR;
                }
            }
            self.dp.resend = previous;
            Ack::Ok(previous)
        } else {
            if self.ap_write_sel(apsel, reg, w).is_err() {
                self.dp.sticky |= STICKYERR;
            }
            Ack::Ok(0)
        }
    }
}

impl Chip {
    /// Whether the SWJ-DP listens to JTAG (power-on state, or after the 0xE73C sequence) and
    /// can answer at all.
    pub(crate) fn jtag_selected(&self) -> bool {
        self.dp.wire == Wire::Jtag && !self.dp_silent() && !self.faults.link_cut()
    }

    /// One DPACC/APACC transaction at Update-DR of a JTAG-DP scan (ADIv5 §B3.3): `a` is
    /// A[3:2] as a byte address. Returns the ReadResult the next scan captures and how many
    /// scans will get WAIT before it is complete (`Fault::ApWait`).
    ///
    /// Differences from SWD (§B3.2): an AP read's result comes with the next scan (no posted
    /// read through RDBUFF; RDBUFF reads as zero); while a sticky flag is set, AP transactions
    /// are discarded; STICKYORUN, STICKYCMP and STICKYERR are cleared by writing 1 to them in
    /// CTRL/STAT (ABORT clears them on SWD only). A DPACC read at 0x0 returns DPIDR.
    pub(crate) fn jtag_transaction(&mut self, apacc: bool, rnw: bool, a: u8, w: u32) -> (u32, u32) {
        if self.faults.consume_link() {
            return (0, 0); // cut now: the next capture floats (see `jtag_selected`)
        }
        let s = &mut self.stats;
        match (apacc, rnw) {
            (false, true) => s.dp_reads += 1,
            (false, false) => s.dp_writes += 1,
            (true, true) => s.ap_reads += 1,
            (true, false) => s.ap_writes += 1,
        }
        if !apacc {
            if !rnw && a == 4 {
                self.dp.sticky &= !(w & (STICKYORUN | STICKYCMP | STICKYERR));
            }
            if rnw && a == 0xC {
                return (0, 0); // RDBUFF: RAZ on JTAG-DP
            }
            return match self.dp_register(rnw, a, w) {
                Ack::Ok(v) => (v, 0),
                _ => (0, 0),
            };
        }
        if self.dp.sticky & STICKY != 0 {
            return (0, 0);
        }
        let waits = self.faults.ap_wait();
        if !self.dp.powered_up() {
            self.dp.sticky |= STICKYERR;
            return (0, waits);
        }
        let apsel = self.dp.select >> 24;
        let reg = (self.dp.select & 0xF0) as u8 | a;
        if rnw {
            match self.ap_read_sel(apsel, reg) {
                Ok(v) => (v, waits),
                Err(_) => {
                    self.dp.sticky |= STICKYERR;
                    (0, waits)
                }
            }
        } else {
            if self.ap_write_sel(apsel, reg, w).is_err() {
                self.dp.sticky |= STICKYERR;
            }
            (0, waits)
        }
    }

    /// A JTAG-DP scan that captured WAIT: with ORUNDETECT, STICKYORUN is set (ADIv5 §B2.2.2).
    pub(crate) fn jtag_wait(&mut self) {
        self.stats.waits += 1;
        if self.dp.ctrl & ORUNDETECT != 0 {
            self.dp.sticky |= STICKYORUN;
        }
    }

    /// A JTAG ABORT scan (IR 0b1000): DATAIN bit 0 (DAPABORT) abandons the AP transaction in
    /// progress (§B2.2.1); the other bits are SWD-only.
    pub(crate) fn jtag_abort(&mut self, w: u32) {
        if w & 1 != 0 {
            self.dp.ap_waits = 0;
        }
    }
}
