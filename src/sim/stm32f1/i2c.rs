//! I2C1/I2C2 (RM0008 §26) as a master on a bus with **no device attached**: every address byte
//! is not acknowledged, as on silicon with nobody answering.
//!
//! Registers (§26.6): CR1, CR2, OAR1, OAR2, DR, SR1, SR2, CCR, TRISE (reset 0x0002); all other
//! resets 0. SR1's error flags (BERR, ARLO, AF, OVR, PECERR, TIMEOUT, SMBALERT) are rc_w0, the
//! rest of SR1 and SR2 read-only.
//!
//! Master sequence (§26.3.3, Figure 273): CR1.START with PE = 1 and the bus free: BUSY sets, a
//! START condition is generated, then SB and MSL set and START clears (EV5). SB clears by reading
//! SR1 and then writing DR with the address byte; the address (8 bits + ACK) takes 9 SCL periods
//! and, with nobody acknowledging, ends with SR1.AF (ADDR never sets, no data phase); the master
//! keeps the bus (BUSY, MSL) until software sets STOP, which generates a STOP condition (BUSY,
//! MSL and TRA clear, STOP clears), or START, a repeated start. A STOP or START requested during
//! the START condition or the address byte is generated after it. So HAL_I2C_Master_Transmit
//! (and IsDeviceReady, Mem_Write, ...) returns HAL_ERROR with HAL_I2C_ERROR_AF.
//!
//! Timing: SCL period from CCR in PCLK1 cycles (§26.6.8): standard mode 2·CCR, fast mode
//! 3·CCR (DUTY = 0) or 25·CCR (DUTY = 1). Simplified: a START and a STOP condition each take one
//! SCL period; TRISE (rise-time compensation, which lengthens SCL high on silicon) and FREQ (which
//! must match PCLK1 for the setup/hold times) are stored only; CCR = 0 stops SCL (nothing
//! progresses); the minimum CCR values are not enforced.
//!
//! PE = 0 returns SR1/SR2 and the START/STOP/ACK/POS/PEC bits to 0 and frees the bus at once
//! (silicon waits for the end of the transfer). SWRST = 1 holds every register at its reset value
//! (writes other than to CR1 are ignored) until SWRST is cleared. Not modelled: slave mode (no
//! master ever addresses OAR1/OAR2), SMBus (alert, PEC computation, timeouts), DMA requests, bus
//! errors and arbitration loss (a single master on a quiet bus has none).
//!
//! Interrupt outputs: 0 = I2Cx_EV (ITEVTEN: SB, ADDR, ADD10, STOPF, BTF; with ITBUFEN also TxE,
//! RxNE), 1 = I2Cx_ER (ITERREN: the error flags).

use crate::sim::periph::{Ctx, Peripheral, Ps, Ticker};

/// Which I2C (both on APB1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum I2cKind {
    I2c1,
    I2c2,
}

// CR1 bits (§26.6.1).
const PE: u32 = 1 << 0;
const START: u32 = 1 << 8;
const STOP: u32 = 1 << 9;
const SWRST: u32 = 1 << 15;
/// Bits cleared by hardware when PE = 0: START, STOP, ACK, POS, PEC.
const CR1_PE_CLEARED: u32 = 0x1F00;
// CR2 bits (§26.6.2).
const ITERREN: u32 = 1 << 8;
const ITEVTEN: u32 = 1 << 9;
const ITBUFEN: u32 = 1 << 10;
// SR1 bits (§26.6.6).
const SB: u32 = 1 << 0;
const ADDR: u32 = 1 << 1;
const AF: u32 = 1 << 10;
/// BERR, ARLO, AF, OVR, PECERR, TIMEOUT, SMBALERT.
const SR1_ERRORS: u32 = 0xDF00;
/// SB, ADDR, BTF, ADD10, STOPF.
const SR1_EVENTS: u32 = 0x1F;
/// TxE, RxNE.
const SR1_BUF: u32 = 0xC0;
// SR2 bits (§26.6.7).
const MSL: u32 = 1 << 0;
const BUSY: u32 = 1 << 1;
const TRA: u32 = 1 << 2;

/// Where the master is in the sequence; the `u64`s are PCLK1 cycles left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Start(u64),
    /// SB set: waiting for the address byte.
    AddressWait,
    Address(u64),
    /// The address was not acknowledged: the master holds the bus.
    Held,
    Stop(u64),
}

#[derive(Debug, Clone)]
pub(crate) struct I2c {
    kind: I2cKind,
    cr1: u32,
    cr2: u32,
    oar1: u32,
    oar2: u32,
    dr: u32,
    sr1: u32,
    sr2: u32,
    ccr: u32,
    trise: u32,
    phase: Phase,
    /// SR1 flags seen by the last SR1 read (for the SB/ADDR clearing sequences).
    sr1_seen: u32,
    ticker: Ticker,
}

impl I2c {
    /// An I2C in its reset state, its clock starting at `now`.
    pub(crate) fn new(kind: I2cKind, now: Ps) -> I2c {
        I2c {
            kind,
            cr1: 0,
            cr2: 0,
            oar1: 0,
            oar2: 0,
            dr: 0,
            sr1: 0,
            sr2: 0,
            ccr: 0,
            trise: 2,
            phase: Phase::Idle,
            sr1_seen: 0,
            ticker: Ticker::new(now),
        }
    }

    /// One SCL period in PCLK1 cycles (0: SCL stopped).
    fn scl_cycles(&self) -> u64 {
        let ccr = (self.ccr & 0xFFF) as u64;
        let fast = self.ccr & (1 << 15) != 0;
        let duty = self.ccr & (1 << 14) != 0;
        ccr * match (fast, duty) {
            (false, _) => 2,
            (true, false) => 3,
            (true, true) => 25,
        }
    }

    fn left(&self) -> Option<u64> {
        match self.phase {
            Phase::Start(n) | Phase::Address(n) | Phase::Stop(n) => Some(n),
            _ => None,
        }
    }

    fn set_left(&mut self, n: u64) {
        match &mut self.phase {
            Phase::Start(l) | Phase::Address(l) | Phase::Stop(l) => *l = n,
            _ => {}
        }
    }

    /// Acts on a pending START/STOP request when the current phase allows it.
    fn proceed(&mut self) {
        if self.cr1 & PE == 0 || self.cr1 & SWRST != 0 {
            return;
        }
        let scl = self.scl_cycles();
        match self.phase {
            Phase::Idle if self.cr1 & START != 0 => {
                self.sr2 |= BUSY;
                self.phase = Phase::Start(scl);
            }
            Phase::AddressWait | Phase::Held if self.cr1 & STOP != 0 => {
                self.phase = Phase::Stop(scl);
            }
            Phase::AddressWait | Phase::Held if self.cr1 & START != 0 => {
                self.phase = Phase::Start(scl); // repeated start
            }
            _ => {}
        }
    }

    fn phase_done(&mut self) {
        match self.phase {
            Phase::Start(_) => {
                self.cr1 &= !START;
                self.sr1 |= SB;
                self.sr2 |= MSL | BUSY;
                self.phase = Phase::AddressWait;
            }
            Phase::Address(_) => {
                self.sr1 |= AF; // nobody acknowledged
                self.phase = Phase::Held;
            }
            Phase::Stop(_) => {
                self.cr1 &= !STOP;
                self.sr2 &= !(MSL | BUSY | TRA);
                self.phase = Phase::Idle;
            }
            _ => {}
        }
        self.proceed();
    }

    fn disable(&mut self) {
        self.cr1 &= !CR1_PE_CLEARED;
        self.sr1 = 0;
        self.sr2 = 0;
        self.sr1_seen = 0;
        self.phase = Phase::Idle;
    }

    fn write_cr1(&mut self, v: u32) {
        let v = v & 0xBFFB;
        if v & SWRST != 0 {
            let ticker = self.ticker;
            *self = I2c {
                ticker,
                cr1: SWRST,
                ..I2c::new(self.kind, 0)
            };
            return;
        }
        self.cr1 = v;
        if v & PE == 0 {
            self.disable();
        }
        self.proceed();
    }
}

impl Peripheral for I2c {
    fn name(&self) -> &'static str {
        match self.kind {
            I2cKind::I2c1 => "I2C1",
            I2cKind::I2c2 => "I2C2",
        }
    }

    fn read(&mut self, off: u32, cx: &Ctx) -> u32 {
        self.sync(cx);
        match off {
            0x00 => self.cr1,
            0x04 => self.cr2,
            0x08 => self.oar1,
            0x0C => self.oar2,
            0x10 => {
                self.sr1 &= !(1 << 6); // RxNE
                self.dr
            }
            0x14 => {
                self.sr1_seen = self.sr1;
                self.sr1
            }
            0x18 => {
                if self.sr1_seen & ADDR != 0 {
                    self.sr1 &= !ADDR;
                }
                self.sr1_seen &= !ADDR;
                self.sr2
            }
            0x1C => self.ccr,
            0x20 => self.trise,
            _ => 0,
        }
    }

    fn write(&mut self, off: u32, v: u32, cx: &Ctx) {
        self.sync(cx);
        if self.cr1 & SWRST != 0 && off != 0x00 {
            return; // held in reset
        }
        match off {
            0x00 => self.write_cr1(v),
            0x04 => self.cr2 = v & 0x1F3F,
            0x08 => self.oar1 = v & 0xC3FF,
            0x0C => self.oar2 = v & 0xFF,
            0x10 => {
                self.dr = v & 0xFF;
                if self.phase == Phase::AddressWait && self.sr1_seen & SB != 0 {
                    self.sr1 &= !SB;
                    self.sr1_seen &= !SB;
                    self.phase = Phase::Address(9 * self.scl_cycles());
                }
            }
            0x14 => self.sr1 &= v | !SR1_ERRORS,
            0x1C => {
                self.ccr = v & 0xCFFF;
                // A phase that could not start with SCL stopped (CCR = 0) starts now.
                let scl = self.scl_cycles();
                match self.phase {
                    Phase::Start(0) => self.phase = Phase::Start(scl),
                    Phase::Address(0) => self.phase = Phase::Address(9 * scl),
                    Phase::Stop(0) => self.phase = Phase::Stop(scl),
                    _ => {}
                }
            }
            0x20 => self.trise = v & 0x3F,
            _ => {}
        }
    }

    fn sync(&mut self, cx: &Ctx) {
        let hz = cx.clocks.pclk1;
        loop {
            let due = self
                .left()
                .filter(|&n| n > 0)
                .and_then(|n| self.ticker.time_of(n, hz).map(|t| (n, t)))
                .filter(|&(_, t)| t <= cx.now);
            let Some((n, _)) = due else {
                let k = self.ticker.advance(cx.now, hz);
                if let Some(n) = self.left().filter(|&n| n > 0) {
                    self.set_left(n - k.min(n));
                }
                return;
            };
            self.ticker.advance_cycles(n, hz);
            self.phase_done();
        }
    }

    fn next_event(&self, cx: &Ctx) -> Option<Ps> {
        let n = self.left().filter(|&n| n > 0)?;
        self.ticker
            .time_of(n, cx.clocks.pclk1)
            .map(|t| t.max(cx.now))
    }

    fn irq(&self, line: usize) -> bool {
        match line {
            0 => {
                self.cr2 & ITEVTEN != 0
                    && (self.sr1 & SR1_EVENTS != 0
                        || (self.cr2 & ITBUFEN != 0 && self.sr1 & SR1_BUF != 0))
            }
            1 => self.cr2 & ITERREN != 0 && self.sr1 & SR1_ERRORS != 0,
            _ => false,
        }
    }

    fn reset(&mut self) {
        *self = I2c {
            ticker: self.ticker,
            ..I2c::new(self.kind, 0)
        };
    }
}

#[cfg(test)]
mod tests;
