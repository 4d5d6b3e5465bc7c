//! USB full-speed device registers (RM0008 §23.5) at 0x4000_5C00 and the 512-byte packet memory
//! (PMA) at 0x4000_6000, stored with their access semantics. **No host is connected**: no bus
//! reset, SOF/ESOF, suspend, wake-up or transaction ever happens on the wire, so CTR, SOF, ESOF,
//! SUSP, WKUP, ERR and PMAOVR never set, FNR stays 0 (frame number 0, no lock, RXDP/RXDM read 0:
//! the line state is not modelled) and the endpoints never transfer.
//!
//! Registers: EP0R..EP7R (0x00..0x1C), CNTR (0x40, reset 0x0003: FRES | PDWN), ISTR (0x44),
//! FNR (0x48, read-only), DADDR (0x4C), BTABLE (0x50, bits 15:3). EPnR bits (§23.5.2): EA,
//! EP_TYPE and EP_KIND read/write; STAT_TX, DTOG_TX, STAT_RX and DTOG_RX toggle when written 1;
//! CTR_TX and CTR_RX rc_w0; SETUP read-only. ISTR: ESOF..PMAOVR (bits 8..14) rc_w0; CTR, DIR
//! and EP_ID read-only.
//!
//! CNTR.FRES (§23.5.3) forces a USB reset "exactly like a RESET signalling on the USB": setting
//! it (0 → 1) sets ISTR.RESET (the flag is "set when the USB peripheral detects an active USB
//! RESET signal at its inputs"), and while it is set the endpoint registers (except
//! CTR_RX/CTR_TX, kept "to avoid missing a correct packet notification") and DADDR ("the function
//! address and endpoint registers are reset by an USB reset event") are held at 0. The reset
//! value FRES = 1 after a system reset sets no flag (ISTR resets to 0). Interrupt outputs: 0 = USB_HP_CAN_TX (high-priority
//! CTR of isochronous/double-buffered endpoints: never, without transactions), 1 =
//! USB_LP_CAN_RX0 (ISTR flags enabled in CNTR). The USBWakeUp line goes through EXTI line 18.
//!
//! Packet memory (§23.5.3, Figure 224): 256 half-words, each in the low half of a 32-bit slot of
//! the APB address space (0x4000_6000 + 4·n holds PMA bytes 2n, 2n+1), so the block spans 1 KiB;
//! the upper half of each slot reads 0. A write to the upper half-word address (0x…2) lands in
//! the slot's half-word too, since the bus replicates sub-word writes onto all lanes (what
//! silicon does there RM0008 does not say). The memory is shared with bxCAN (not modelled) and is
//! not cleared by a reset.

use crate::sim::periph::{Ctx, Peripheral};

// CNTR (§23.5.3).
const FRES: u32 = 1 << 0;
const PDWN: u32 = 1 << 1;
const CTRM: u32 = 1 << 15;
// ISTR.
const CTR: u32 = 1 << 15;
const RESET: u32 = 1 << 10;
/// ISTR bits 8..14 (ESOF, SOF, RESET, SUSP, WKUP, ERR, PMAOVR): rc_w0, enabled by the same
/// CNTR bits.
const ISTR_FLAGS: u32 = 0x7F00;
// EPnR.
const EP_RW: u32 = 0x070F;
const EP_TOGGLE: u32 = 0x7070;
const EP_CTR: u32 = 0x8080;

/// The USB device register block (0x4000_5C00..0x4000_5FFF).
#[derive(Debug, Clone)]
pub(crate) struct Usb {
    ep: [u32; 8],
    cntr: u32,
    istr: u32,
    daddr: u32,
    btable: u32,
}

impl Usb {
    pub(crate) fn new() -> Usb {
        Usb {
            ep: [0; 8],
            cntr: FRES | PDWN,
            istr: 0,
            daddr: 0,
            btable: 0,
        }
    }

    fn in_reset(&self) -> bool {
        self.cntr & FRES != 0
    }

    fn hold_reset(&mut self) {
        for ep in &mut self.ep {
            *ep &= EP_CTR;
        }
        self.daddr = 0;
    }
}

impl Default for Usb {
    fn default() -> Usb {
        Usb::new()
    }
}

impl Peripheral for Usb {
    fn name(&self) -> &'static str {
        "USB"
    }

    fn read(&mut self, off: u32, _cx: &Ctx) -> u32 {
        match off {
            0x00..=0x1C => self.ep[(off / 4) as usize],
            0x40 => self.cntr,
            0x44 => self.istr,
            0x48 => 0, // FNR: no SOF, no line state
            0x4C => self.daddr,
            0x50 => self.btable,
            _ => 0,
        }
    }

    fn write(&mut self, off: u32, v: u32, _cx: &Ctx) {
        let v = v & 0xFFFF;
        match off {
            0x00..=0x1C if !self.in_reset() => {
                let ep = &mut self.ep[(off / 4) as usize];
                let mut n = (*ep & !EP_RW) | (v & EP_RW);
                n ^= v & EP_TOGGLE;
                n &= v | !EP_CTR;
                *ep = n;
            }
            0x40 => {
                let was = self.in_reset();
                self.cntr = v & 0xFF1F;
                if self.in_reset() {
                    self.hold_reset();
                    if !was {
                        self.istr |= RESET;
                    }
                }
            }
            0x44 => self.istr &= v | !ISTR_FLAGS,
            0x4C if !self.in_reset() => self.daddr = v & 0xFF,
            0x50 => self.btable = v & 0xFFF8,
            _ => {}
        }
    }

    fn irq(&self, line: usize) -> bool {
        match line {
            0 => false,
            1 => {
                self.istr & self.cntr & ISTR_FLAGS != 0
                    || (self.istr & CTR != 0 && self.cntr & CTRM != 0)
            }
            _ => false,
        }
    }

    fn reset(&mut self) {
        *self = Usb::new();
    }
}

/// The packet memory: 256 × 16 bits on 32-bit boundaries (0x4000_6000..0x4000_63FF).
#[derive(Debug, Clone)]
pub(crate) struct UsbPma {
    words: [u16; 256],
}

impl UsbPma {
    pub(crate) fn new() -> UsbPma {
        UsbPma { words: [0; 256] }
    }
}

impl Default for UsbPma {
    fn default() -> UsbPma {
        UsbPma::new()
    }
}

impl Peripheral for UsbPma {
    fn name(&self) -> &'static str {
        "USB/CAN SRAM"
    }

    fn read(&mut self, off: u32, _cx: &Ctx) -> u32 {
        self.words.get((off / 4) as usize).map_or(0, |&w| w as u32)
    }

    fn write(&mut self, off: u32, v: u32, _cx: &Ctx) {
        if let Some(w) = self.words.get_mut((off / 4) as usize) {
            *w = v as u16;
        }
    }

    /// The SRAM keeps its content across a reset.
    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::periph::Clocks;

    const CX: Ctx = Ctx {
        now: 0,
        clocks: &Clocks::RESET,
    };
    const CNTR: u32 = 0x40;
    const ISTR: u32 = 0x44;

    /// HAL's USB_DevInit: CNTR = FRES, CNTR = 0, ISTR = 0.
    fn usb() -> Usb {
        let mut u = Usb::new();
        u.write(CNTR, FRES, &CX);
        u.write(CNTR, 0, &CX);
        assert_eq!(u.read(ISTR, &CX), 0, "FRES was already set: no new reset");
        u.write(ISTR, 0, &CX);
        u
    }

    #[test]
    fn reset_values() {
        let mut u = Usb::new();
        for off in (0..0x54).step_by(4) {
            let want = if off == CNTR { 3 } else { 0 };
            assert_eq!(u.read(off, &CX), want, "offset {off:#x}");
        }
        assert_eq!(u.name(), "USB");
    }

    #[test]
    fn epnr_access_semantics() {
        let mut u = usb();
        // EA = 1, EP_TYPE = control (01), STAT_RX = VALID (11), STAT_TX = NAK (10) from 0.
        u.write(0x04, 0x0201 | 0x3000 | 0x0020 | EP_CTR, &CX);
        assert_eq!(u.read(0x04, &CX), 0x3221);
        // Writing the value read back toggles the toggle bits back to 0: the usual mistake.
        u.write(0x04, 0x3221 | EP_CTR, &CX);
        assert_eq!(u.read(0x04, &CX), 0x0201);
        // Writing 0 to the toggle bits keeps them; rw bits take the written value.
        u.write(0x04, 0x3000 | EP_CTR, &CX);
        u.write(0x04, 0x0003 | EP_CTR, &CX);
        assert_eq!(u.read(0x04, &CX), 0x3003);
        // CTR bits: rc_w0 (they cannot be set by software), SETUP read-only.
        u.ep[1] |= EP_CTR | (1 << 11);
        u.write(0x04, 0x0003 | 0x0080, &CX);
        assert_eq!(
            u.read(0x04, &CX),
            0x3003 | 0x0080 | (1 << 11),
            "CTR_RX cleared, CTR_TX kept"
        );
        u.write(0x04, 0x0003, &CX);
        assert_eq!(u.read(0x04, &CX), 0x3003 | (1 << 11));
        u.ep[2] = 0;
        u.write(0x08, EP_CTR, &CX);
        assert_eq!(u.read(0x08, &CX), 0, "writing 1 sets no CTR");
    }

    #[test]
    fn forced_reset_sets_reset_and_holds_the_endpoints() {
        let mut u = usb();
        u.write(0x00, 0x0280, &CX);
        u.write(0x4C, 0x80, &CX); // EF
        u.ep[0] |= EP_CTR;
        u.write(CNTR, FRES | (1 << 10), &CX); // + RESETM
        assert_eq!(u.read(0x00, &CX), EP_CTR, "all but CTR_RX/CTR_TX reset");
        assert_eq!(u.read(0x4C, &CX), 0);
        assert_eq!(u.read(ISTR, &CX), RESET);
        assert!(u.irq(1));
        u.write(0x00, 0x0201 | EP_CTR, &CX);
        assert_eq!(u.read(0x00, &CX), EP_CTR, "held in reset");
        u.write(CNTR, 1 << 10, &CX); // release
        u.write(0x00, 0x0201 | EP_CTR, &CX);
        assert_eq!(u.read(0x00, &CX), 0x0201 | EP_CTR);
        assert!(!u.irq(0));
        u.write(ISTR, !RESET, &CX);
        assert_eq!(u.read(ISTR, &CX), 0);
        assert!(!u.irq(1));
    }

    #[test]
    fn istr_is_rc_w0_and_registers_keep_their_bits() {
        let mut u = usb();
        u.istr = 0x7F00 | CTR | 0x13;
        u.write(ISTR, 0xFFFF, &CX);
        assert_eq!(u.read(ISTR, &CX), 0x7F00 | CTR | 0x13);
        u.write(ISTR, 0, &CX);
        assert_eq!(u.read(ISTR, &CX), CTR | 0x13, "CTR, DIR, EP_ID read-only");
        u.write(CNTR, 0xFFFF & !FRES, &CX);
        assert_eq!(u.read(CNTR, &CX), 0xFF1E);
        assert!(u.irq(1), "CTR with CTRM");
        u.write(0x48, 0xFFFF, &CX);
        assert_eq!(u.read(0x48, &CX), 0, "FNR read-only, no frames");
        u.write(0x4C, 0xFFFF, &CX);
        assert_eq!(u.read(0x4C, &CX), 0xFF);
        u.write(0x50, 0xFFFF, &CX);
        assert_eq!(u.read(0x50, &CX), 0xFFF8);
        u.write(0x20, 5, &CX);
        assert_eq!(u.read(0x20, &CX), 0, "reserved");
        u.reset();
        assert_eq!(u.read(CNTR, &CX), 3);
    }

    #[test]
    fn packet_memory_is_256_half_words_on_word_boundaries() {
        let mut p = UsbPma::new();
        p.write(0, 0xDEAD_BEEF, &CX);
        assert_eq!(p.read(0, &CX), 0xBEEF, "upper half of the slot reads 0");
        p.write(0x3FC, 0x1234, &CX);
        assert_eq!(p.read(0x3FC, &CX), 0x1234);
        p.write(0x400, 1, &CX);
        assert_eq!(p.read(0x400, &CX), 0, "outside the memory");
        p.reset();
        assert_eq!(p.read(0, &CX), 0xBEEF, "kept across a reset");
        assert_eq!(p.name(), "USB/CAN SRAM");
    }
}
