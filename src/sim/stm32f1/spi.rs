//! SPI1/SPI2 (RM0008 §25) in SPI mode, master side, with exact frame timing and hardware CRC.
//!
//! Registers (§25.5): CR1, CR2, SR (reset 0x0002: TXE), DR, CRCPR (reset 0x0007), RXCRCR,
//! TXCRCR; I2SCFGR and I2SPR (reset 0x0002) are stored when the device has I2S (high-density,
//! XL and connectivity lines: [`Spi::new`]'s `i2s`); on the medium-density F103 they are reserved
//! and read 0. I2S mode itself (I2SMOD) is not modelled.
//!
//! Master (MSTR = 1, SPE = 1, §25.3.3/§25.3.5): a DR write fills the TX buffer (TXE = 0); it
//! moves into the shift register as soon as that is free (TXE = 1, BSY = 1). A frame (8 bits, or
//! 16 with DFF) lasts `bits × 2^(BR+1)` PCLK cycles (SPI1: PCLK2, SPI2: PCLK1); at its end the
//! received frame goes to the RX buffer (RXNE), or is lost and sets OVR while RXNE is still set;
//! back-to-back frames keep BSY set. **No slave is attached: MISO floats high (the pin's pull-up
//! or a bus keeper on a board with nothing on it), so every received frame reads 0xFF (0xFFFF
//! with DFF)**. That is enough for HAL_SPI_Transmit and HAL_SPI_TransmitReceive to complete.
//! Receive-only master (RXONLY = 1, or BIDIMODE = 1 with BIDIOE = 0) clocks frames continuously
//! while SPE is set (§25.3.5); bidirectional transmit (BIDIMODE = 1, BIDIOE = 1) receives nothing.
//!
//! CRC (§25.3.6): with CRCEN, TXCRCR and RXCRCR are updated with every data frame sent and
//! received (CRC-8 with DFF = 0, CRC-16 with DFF = 1, polynomial CRCPR, initial value 0, data
//! MSB first, no reflection, no final XOR); both are reset "when the CRCEN bit is written to 1"
//! (§25.5.6/§25.5.7), taken as its 0 → 1 change: a CR1 write that keeps CRCEN set, as the one
//! setting CRCNEXT, must not clear them; the calculator is frozen during the CRC frame. With
//! CRCNEXT set, after the frame in progress and the data in the TX buffer, TXCRCR is sent as one
//! more frame; the frame received meanwhile is compared with RXCRCR (CRCERR on mismatch, which
//! with MISO at 0xFF is the usual outcome) and still goes to the RX buffer; CRCNEXT then clears.
//! Simplified: LSBFIRST does not change the CRC bit order (RM0008 does not say); CRCNEXT is not
//! modelled in receive-only mode (no CRC frame is inserted there).
//!
//! NSS (§25.3.1, §25.3.10): the master's NSS input is SSI with SSM = 1, the NSS pin with SSM = 0
//! and SSOE = 0 ([`Spi::set_nss_pin`], high unless driven), and none with SSOE = 1 (NSS is an
//! output). NSS low while MSTR = 1 is a mode fault: MODF sets, SPE and MSTR clear, the frame in
//! progress is lost. MODF clears with an SR access followed by a CR1 write; until then MSTR and
//! SPE cannot be set. OVR clears with a DR read followed by an SR read; CRCERR is rc_w0.
//!
//! Simplified: as a slave (MSTR = 0) nothing happens (no master drives SCK); clearing SPE stops
//! at once (the frame in progress is lost, BSY clears) where silicon finishes the frame; a BR or
//! DFF change applies from the next frame; no DMA requests; no TI mode or UDR (I2S only).

use crate::sim::periph::{Clocks, Ctx, Peripheral, Ps, Ticker};

#[cfg(test)]
mod tests;

/// Which SPI: SPI1 is on APB2 (PCLK2), SPI2 on APB1 (PCLK1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpiKind {
    Spi1,
    Spi2,
}

// CR1 bits (§25.5.1).
const MSTR: u32 = 1 << 2;
const SPE: u32 = 1 << 6;
const SSI: u32 = 1 << 8;
const SSM: u32 = 1 << 9;
const RXONLY: u32 = 1 << 10;
const DFF: u32 = 1 << 11;
const CRCNEXT: u32 = 1 << 12;
const CRCEN: u32 = 1 << 13;
const BIDIOE: u32 = 1 << 14;
const BIDIMODE: u32 = 1 << 15;
// CR2 bits (§25.5.2).
const SSOE: u32 = 1 << 2;
const ERRIE: u32 = 1 << 5;
const RXNEIE: u32 = 1 << 6;
const TXEIE: u32 = 1 << 7;
// SR bits (§25.5.3).
const RXNE: u32 = 1 << 0;
const TXE: u32 = 1 << 1;
const CRCERR: u32 = 1 << 4;
const MODF: u32 = 1 << 5;
const OVR: u32 = 1 << 6;
const BSY: u32 = 1 << 7;

/// A frame in the shift register.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// PCLK cycles left.
    left: u64,
    /// The CRC frame (CRCNEXT) rather than data.
    crc: bool,
    /// Frame width, bits.
    bits: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Spi {
    kind: SpiKind,
    i2s: bool,
    cr1: u32,
    cr2: u32,
    sr: u32,
    rx_buf: u16,
    tx_buf: u16,
    crcpr: u32,
    rxcrc: u32,
    txcrc: u32,
    i2scfgr: u32,
    i2spr: u32,
    shift: Option<Frame>,
    /// Level of the NSS pin (used with SSM = 0, SSOE = 0).
    nss_pin: bool,
    /// SR was accessed while MODF was set: the next CR1 write clears it.
    modf_seen: bool,
    /// DR was read while OVR was set: the next SR read clears it.
    ovr_seen: bool,
    ticker: Ticker,
}

/// One CRC step over the `bits` low bits of `data`, MSB first (§25.3.6).
fn crc_update(crc: u32, data: u32, bits: u32, poly: u32) -> u32 {
    let mask = if bits == 16 { 0xFFFF } else { 0xFF };
    let mut crc = crc & mask;
    for i in (0..bits).rev() {
        let feedback = ((crc >> (bits - 1)) ^ (data >> i)) & 1;
        crc = (crc << 1) & mask;
        if feedback != 0 {
            crc ^= poly & mask;
        }
    }
    crc
}

impl Spi {
    /// An SPI in its reset state, its clock starting at `now`; `i2s`: the device has the I2S
    /// registers (false on the medium-density F103).
    pub(crate) fn new(kind: SpiKind, i2s: bool, now: Ps) -> Spi {
        Spi {
            kind,
            i2s,
            cr1: 0,
            cr2: 0,
            sr: TXE,
            rx_buf: 0,
            tx_buf: 0,
            crcpr: 7,
            rxcrc: 0,
            txcrc: 0,
            i2scfgr: 0,
            i2spr: 2,
            shift: None,
            nss_pin: true,
            modf_seen: false,
            ovr_seen: false,
            ticker: Ticker::new(now),
        }
    }

    fn pclk(&self, clocks: &Clocks) -> u64 {
        match self.kind {
            SpiKind::Spi1 => clocks.pclk2,
            SpiKind::Spi2 => clocks.pclk1,
        }
    }

    fn bits(&self) -> u32 {
        if self.cr1 & DFF != 0 { 16 } else { 8 }
    }

    fn master(&self) -> bool {
        self.cr1 & (SPE | MSTR) == SPE | MSTR
    }

    fn receive_only(&self) -> bool {
        let bidi = self.cr1 & BIDIMODE != 0;
        (!bidi && self.cr1 & RXONLY != 0) || (bidi && self.cr1 & BIDIOE == 0)
    }

    fn receives(&self) -> bool {
        !(self.cr1 & BIDIMODE != 0 && self.cr1 & BIDIOE != 0)
    }

    /// The NSS input of the master is low.
    fn nss_low(&self) -> bool {
        if self.cr1 & SSM != 0 {
            self.cr1 & SSI == 0
        } else if self.cr2 & SSOE != 0 {
            false
        } else {
            !self.nss_pin
        }
    }

    fn check_mode_fault(&mut self) {
        if self.cr1 & MSTR != 0 && self.nss_low() {
            self.sr |= MODF;
            self.cr1 &= !(SPE | MSTR);
            self.stop();
        }
    }

    fn stop(&mut self) {
        self.shift = None;
        self.sr &= !BSY;
    }

    /// The master drives the NSS pin's level (only used with SSM = 0 and SSOE = 0).
    #[cfg_attr(not(test), allow(dead_code))] // used by the tests
    pub(crate) fn set_nss_pin(&mut self, level: bool, cx: &Ctx) {
        self.sync(cx);
        self.nss_pin = level;
        self.check_mode_fault();
    }

    /// Starts the next frame if the shift register is free.
    fn start(&mut self) {
        if self.shift.is_some() || !self.master() {
            return;
        }
        let bits = self.bits();
        let crc = if self.sr & TXE == 0 {
            self.sr |= TXE;
            if self.cr1 & CRCEN != 0 {
                self.txcrc = crc_update(self.txcrc, self.tx_buf as u32, bits, self.crcpr);
            }
            false
        } else if self.cr1 & CRCNEXT != 0 && self.cr1 & CRCEN != 0 && !self.receive_only() {
            true
        } else if self.receive_only() {
            false
        } else {
            self.sr &= !BSY;
            return;
        };
        let br = (self.cr1 >> 3) & 7;
        self.shift = Some(Frame {
            left: (bits as u64) << (br + 1),
            crc,
            bits,
        });
        self.sr |= BSY;
    }

    fn frame_done(&mut self, f: Frame) {
        if self.receives() {
            let miso = if f.bits == 16 { 0xFFFF } else { 0xFF };
            if f.crc {
                if miso != self.rxcrc & if f.bits == 16 { 0xFFFF } else { 0xFF } {
                    self.sr |= CRCERR;
                }
                self.cr1 &= !CRCNEXT;
            } else if self.cr1 & CRCEN != 0 {
                self.rxcrc = crc_update(self.rxcrc, miso, f.bits, self.crcpr);
            }
            if self.sr & RXNE != 0 {
                self.sr |= OVR;
            } else {
                self.rx_buf = miso as u16;
                self.sr |= RXNE;
            }
        } else if f.crc {
            self.cr1 &= !CRCNEXT;
        }
        self.start();
    }
}

impl Peripheral for Spi {
    fn name(&self) -> &'static str {
        match self.kind {
            SpiKind::Spi1 => "SPI1",
            SpiKind::Spi2 => "SPI2",
        }
    }

    fn read(&mut self, off: u32, cx: &Ctx) -> u32 {
        self.sync(cx);
        match off {
            0x00 => self.cr1,
            0x04 => self.cr2,
            0x08 => {
                let sr = self.sr;
                if sr & MODF != 0 {
                    self.modf_seen = true;
                }
                if self.ovr_seen {
                    self.sr &= !OVR;
                    self.ovr_seen = false;
                }
                sr
            }
            0x0C => {
                self.sr &= !RXNE;
                self.ovr_seen = self.sr & OVR != 0;
                self.rx_buf as u32
            }
            0x10 => self.crcpr,
            0x14 => self.rxcrc,
            0x18 => self.txcrc,
            0x1C if self.i2s => self.i2scfgr,
            0x20 if self.i2s => self.i2spr,
            _ => 0,
        }
    }

    fn write(&mut self, off: u32, v: u32, cx: &Ctx) {
        self.sync(cx);
        match off {
            0x00 => {
                let mut v = v & 0xFFFF;
                if self.sr & MODF != 0 {
                    if self.modf_seen {
                        self.sr &= !MODF;
                        self.modf_seen = false;
                    } else {
                        v &= !(SPE | MSTR);
                    }
                }
                if v & CRCEN != 0 && self.cr1 & CRCEN == 0 {
                    self.rxcrc = 0;
                    self.txcrc = 0;
                }
                self.cr1 = v;
                if !self.master() {
                    self.stop();
                }
                self.check_mode_fault();
                self.start();
            }
            0x04 => {
                self.cr2 = v & 0xE7;
                self.check_mode_fault();
            }
            0x08 => {
                if self.sr & MODF != 0 {
                    self.modf_seen = true;
                }
                self.sr &= v | !CRCERR; // CRCERR rc_w0, the rest read-only
            }
            0x0C => {
                self.tx_buf = (v & 0xFFFF) as u16;
                self.sr &= !TXE;
                self.start();
            }
            0x10 => self.crcpr = v & 0xFFFF,
            0x1C if self.i2s => self.i2scfgr = v & 0x0FBF,
            0x20 if self.i2s => self.i2spr = v & 0x03FF,
            _ => {}
        }
    }

    fn sync(&mut self, cx: &Ctx) {
        let hz = self.pclk(cx.clocks);
        loop {
            let due = self
                .shift
                .and_then(|f| self.ticker.time_of(f.left, hz).map(|t| (f, t)))
                .filter(|&(_, t)| t <= cx.now);
            let Some((f, _)) = due else {
                let k = self.ticker.advance(cx.now, hz);
                if let Some(f) = self.shift.as_mut() {
                    f.left -= k.min(f.left);
                }
                return;
            };
            self.ticker.advance_cycles(f.left, hz);
            self.shift = None;
            self.frame_done(f);
        }
    }

    fn next_event(&self, cx: &Ctx) -> Option<Ps> {
        let f = self.shift?;
        self.ticker
            .time_of(f.left, self.pclk(cx.clocks))
            .map(|t| t.max(cx.now))
    }

    fn irq(&self, line: usize) -> bool {
        let on = |flag: u32, enable: u32| self.sr & flag != 0 && self.cr2 & enable != 0;
        line == 0 && (on(TXE, TXEIE) || on(RXNE, RXNEIE) || on(OVR | MODF | CRCERR, ERRIE))
    }

    fn reset(&mut self) {
        *self = Spi {
            nss_pin: self.nss_pin,
            ticker: self.ticker,
            ..Spi::new(self.kind, self.i2s, 0)
        };
    }
}
