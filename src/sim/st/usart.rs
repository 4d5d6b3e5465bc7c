//! The USART of the newer STM32 families (RM0316 §29, F3; the same
//! ISR/ICR/RDR/TDR layout in RM0351 §40, L4, and RM0440 §37, G4) in
//! asynchronous mode, with exact frame timing (the frame timer shared with
//! the F1 model, `frames.rs`), the host side of the F1 model (characters the
//! firmware transmits are collected, [`Usart::take_tx`]; the host's
//! characters are received, [`Usart::push_rx`]).
//!
//! Registers (§29.8): CR1 0x00, CR2 0x04, CR3 0x08, BRR 0x0C, GTPR 0x10,
//! RTOR 0x14, RQR 0x18 (write-only), ISR 0x1C (read-only, reset 0x0000_00C0:
//! TXE, TC), ICR 0x20 (write-1-to-clear, reads 0), RDR 0x24, TDR 0x28, and
//! in the G4's [`Layout::Presc`] PRESC 0x2C (RM0440 §37.8.12). Bits
//! the RM reserves read 0. Fields the RM makes writable only while the USART
//! is disabled (UE = 0) keep their value when written with UE = 1: CR1 M0/M1,
//! OVER8, WAKE, PCE, PS, DEAT, DEDT; BRR; CR2 except LBDIE, ABREN and RTOEN
//! (ADD also while RE = 0); CR3 except EIE, DMAR, DMAT, CTSIE and WUFIE.
//!
//! Flags: RXNE clears by reading RDR (a debugger read too, as on silicon) or
//! by RQR.RXFRQ; TXE clears by writing TDR and sets when TDR moves into the
//! shift register (or by RQR.TXFRQ, which discards TDR); TC sets when a frame
//! with data has left while TXE is set and clears by writing TDR or
//! ICR.TCCF; ORE, IDLE, CMF … clear only through ICR. BUSY reads 1 while a
//! character is on the RX line, TEACK/REACK follow TE/RE while UE is set,
//! SBKF is set from RQR.SBKRQ to the end of the break frame, RWU in mute mode.
//! Clearing UE stops everything at once: the frames on the lines are lost and
//! ISR returns to its reset value (§29.8.1 UE). Clearing TE during a frame
//! loses that frame (§29.5.2); clearing RE loses the character being received.
//!
//! Timing (§29.5.4): the kernel clock fck ([`Kernel`], chosen by the SoC from
//! RCC_CFGR3.USARTxSW on the F3, RCC_CCIPR.USARTxSEL on the L4/G4), on the
//! G4 divided by PRESC (RM0440 §37.5.7: 1, 2, 4, 6, 8, 10, 12, 16, 32, 64,
//! 128, 256), divided by USARTDIV: with OVER8 = 0 USARTDIV = BRR and
//! a bit lasts USARTDIV fck cycles; with OVER8 = 1 USARTDIV = BRR[15:4] << 4 |
//! BRR[2:0] << 1 and a bit lasts USARTDIV / 2 cycles. A frame is a start bit,
//! 7, 8 or 9 data bits (M1:M0 = 10, 00, 01; with PCE the parity bit is the
//! MSB of those) and 0.5/1/1.5/2 stop bits (CR2.STOP). When UE and TE become
//! both set an idle frame is sent first. Receiver: host characters go on the
//! line back to back while UE and RE are set; RXNE sets at the end of the
//! stop bits; a character completing while RXNE is set sets ORE and is lost
//! (with CR3.OVRDIS it overwrites RDR and ORE stays clear); one idle frame
//! after a received character sets IDLE once. CMF sets when a received
//! character equals CR2.ADD (8 bits, outside mute mode). Mute mode (CR1.MME
//! and RQR.MMRQ): woken by an idle line (WAKE = 0) or an address mark (WAKE =
//! 1, MSB set and the 4-bit or, with ADDM7, 7-bit ADD matching).
//!
//! Interrupt (one line to the NVIC): TXE·TXEIE, TC·TCIE, (RXNE|ORE)·RXNEIE,
//! IDLE·IDLEIE, PE·PEIE, CMF·CMIE, (FE|NF|ORE)·EIE, LBDF·LBDIE, CTSIF·CTSIE,
//! RTOF·RTOIE, EOBF·EOBIE, WUF·WUFIE.
//!
//! Simplified: the line is ideal (PE, FE, NF never set); no LIN break from the
//! host (LBDF), nCTS always asserted (CTS reads 1 with CTSE, CTSIF never
//! sets); no receiver timeout (RTOF), no auto baud rate (ABRRQ does nothing),
//! no wake-up from Stop (UESM, WUF); smartcard, IrDA, LIN, half-duplex,
//! synchronous and driver-enable modes are stored and timed as the
//! asynchronous mode; no DMA requests; TX/RX pin swap and inversions change
//! nothing (nothing is connected). The G4's FIFO mode (CR1.FIFOEN, RM0440
//! §37.5.4) is not modelled: FIFOEN, TXFEIE and RXFFIE are stored, the data
//! still goes through one TDR and one RDR as with FIFOEN = 0 (TXE is TXFNF
//! and RXNE RXFNE of a one-deep FIFO), TXFE/RXFF/TXFT/RXFT never set and the
//! CR3 FIFO thresholds read 0, as do the L4's CR3.UCESM and TCBGTIE.
//! Host-side collection and the receive queue are bounded as on the F1
//! (`TX_OUT_MAX`, [`RX_QUEUE_MAX`]).

use std::collections::VecDeque;

use crate::sim::periph::{Clocks, Ctx, Peripheral, Ps};
use crate::sim::st::frames::{LineEnds, Lines, Shift, TxKind, TxOut};
pub(crate) use crate::sim::stm32f1::usart::{RX_QUEUE_MAX, TxFrame};

mod regs;
#[cfg(test)]
mod tests;

use regs::*;
pub(crate) use regs::{Kernel, Layout};

/// One USART (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct Usart {
    name: &'static str,
    kernel: Kernel,
    layout: Layout,
    /// USART_PRESC (G4 layout only).
    presc: u32,
    cr1: u32,
    cr2: u32,
    cr3: u32,
    brr: u32,
    gtpr: u32,
    rtor: u32,
    /// The stored ISR flags (BUSY, TEACK, REACK, SBKF, RWU, CTS are derived).
    isr: u32,
    rdr: u16,
    tdr: u16,
    /// The frames on the lines; counts half cycles of fck (2 × fck).
    line: Lines,
    preamble_due: bool,
    break_due: bool,
    muted: bool,
    idle_armed: bool,
    rx_queue: VecDeque<u8>,
    tx_out: TxOut,
}

impl Usart {
    /// A USART named `name` (RM spelling, e.g. "USART1") in its reset state,
    /// counting on `kernel` from virtual time `now`.
    pub(crate) fn new(name: &'static str, kernel: Kernel, now: Ps) -> Usart {
        Usart::with_layout(name, kernel, Layout::Plain, now)
    }

    /// As [`Usart::new`], with the register set of `layout`.
    pub(crate) fn with_layout(
        name: &'static str,
        kernel: Kernel,
        layout: Layout,
        now: Ps,
    ) -> Usart {
        Usart {
            name,
            kernel,
            layout,
            presc: 0,
            cr1: 0,
            cr2: 0,
            cr3: 0,
            brr: 0,
            gtpr: 0,
            rtor: 0,
            isr: ISR_RESET,
            rdr: 0,
            tdr: 0,
            line: Lines::new(now),
            preamble_due: false,
            break_due: false,
            muted: false,
            idle_armed: false,
            rx_queue: VecDeque::new(),
            tx_out: TxOut::default(),
        }
    }

    /// Selects the kernel clock (RCC_CFGR3.USARTxSW changed), after counting
    /// up to `cx.now` with the old one.
    pub(crate) fn set_kernel(&mut self, kernel: Kernel, cx: &Ctx) {
        self.sync(cx);
        self.kernel = kernel;
    }

    /// The SoC's per-access step: counts up to `cx.now` with the kernel
    /// clock in force, takes `kernel` (RCC's mux may have changed), and
    /// returns to the reset state if RCC holds the USART in reset.
    pub(crate) fn sync_in_soc(&mut self, kernel: Kernel, held: bool, cx: &Ctx) {
        self.set_kernel(kernel, cx);
        if held {
            self.reset();
        }
    }

    fn tick_hz(&self, c: &Clocks) -> u64 {
        2 * self.kernel.hz(c)
    }

    /// Data bits per frame, parity included (M1:M0, §29.8.1).
    fn data_bits(&self) -> u64 {
        match (self.cr1 & M1 != 0, self.cr1 & M0 != 0) {
            (true, _) => 7,
            (false, true) => 9,
            (false, false) => 8,
        }
    }

    /// Ticks (half fck cycles) of half a bit.
    fn half_bit_ticks(&self) -> u64 {
        let div = if self.cr1 & OVER8 != 0 {
            ((self.brr & 0xFFF0) / 2 + (self.brr & 7)) as u64
        } else {
            self.brr as u64
        };
        // The prescaler divides fck (RM0440 §37.5.7): a tick stays half an
        // fck cycle, a bit lasts PRESC times as many.
        div * PRESC_DIV[(self.presc & 0xF) as usize]
    }

    /// Half-bits of a frame: start, data, stop (CR2.STOP 1, 0.5, 2, 1.5).
    fn frame_half_bits(&self) -> u64 {
        let stop = [2, 1, 4, 3][((self.cr2 >> 12) & 3) as usize];
        2 * (1 + self.data_bits()) + stop
    }

    fn frame_ticks(&self) -> u64 {
        self.frame_half_bits() * self.half_bit_ticks()
    }

    fn tx_on(&self) -> bool {
        self.cr1 & (UE | TE) == UE | TE
    }

    fn rx_on(&self) -> bool {
        self.cr1 & (UE | RE) == UE | RE
    }

    fn parity(&self, v: u16, bits: u64) -> u16 {
        let ones = (v as u32 & ((1 << bits) - 1)).count_ones() as u16;
        (ones & 1) ^ u16::from(self.cr1 & PS != 0)
    }

    fn start_tx(&mut self) {
        if self.line.tx.is_some() || !self.tx_on() || self.half_bit_ticks() == 0 {
            return;
        }
        let (what, half_bits) = if self.preamble_due {
            self.preamble_due = false;
            (TxKind::Preamble, self.frame_half_bits())
        } else if self.break_due {
            // A frame time low plus one stop bit (§29.5.2 "Break characters").
            (TxKind::Break, 2 * (2 + self.data_bits()) + 2)
        } else if self.isr & TXE == 0 {
            self.isr |= TXE;
            (TxKind::Data(self.tdr), self.frame_half_bits())
        } else {
            return;
        };
        self.line.tx = Some(Shift {
            what,
            left: half_bits * self.half_bit_ticks(),
        });
    }

    fn start_rx(&mut self) {
        if self.line.rx.is_some() || !self.rx_on() || self.half_bit_ticks() == 0 {
            return;
        }
        let Some(byte) = self.rx_queue.pop_front() else {
            return;
        };
        let bits = self.data_bits();
        let mut v = byte as u16 & ((1 << bits) - 1);
        if self.cr1 & PCE != 0 {
            let data = bits - 1;
            v = (v & ((1 << data) - 1)) | (self.parity(v, data) << data);
        }
        self.line.idle_left = None;
        self.line.rx = Some(Shift {
            what: v,
            left: self.frame_ticks(),
        });
    }

    /// Queues host characters for the receiver (after counting up to
    /// `cx.now`); returns how many were taken (the queue holds at most
    /// [`RX_QUEUE_MAX`]).
    pub(crate) fn push_rx(&mut self, bytes: &[u8], cx: &Ctx) -> usize {
        self.sync(cx);
        let n = bytes.len().min(RX_QUEUE_MAX - self.rx_queue.len());
        self.rx_queue.extend(&bytes[..n]);
        self.start_rx();
        n
    }

    /// The characters transmitted since the last call, oldest first.
    pub(crate) fn take_tx(&mut self) -> Vec<TxFrame> {
        self.tx_out.take()
    }

    /// ISR as read: the stored flags and the derived status bits.
    fn isr(&self) -> u32 {
        let mut v = self.isr;
        if self.line.rx.is_some() {
            v |= BUSY;
        }
        if self.cr1 & UE != 0 {
            if self.cr1 & TE != 0 {
                v |= TEACK;
            }
            if self.cr1 & RE != 0 {
                v |= REACK;
            }
        }
        if self.break_due {
            v |= SBKF;
        }
        if self.muted {
            v |= RWU;
        }
        if self.cr3 & CTSE != 0 {
            v |= CTS; // nCTS asserted
        }
        v
    }

    fn write_cr1(&mut self, v: u32) {
        let (tx_was, rx_was, ue_was) = (self.tx_on(), self.rx_on(), self.cr1 & UE != 0);
        let mut v = v & self.layout.cr1_mask();
        if ue_was {
            v = (v & !CR1_UE0_ONLY) | (self.cr1 & CR1_UE0_ONLY);
        }
        self.cr1 = v;
        if ue_was && v & UE == 0 {
            // UE = 0: prescalers and outputs stop at once, flags to reset values.
            self.line.tx = None;
            self.line.rx = None;
            self.line.idle_left = None;
            self.idle_armed = false;
            self.preamble_due = false;
            self.break_due = false;
            self.muted = false;
            self.isr = ISR_RESET;
            return;
        }
        if tx_was && !self.tx_on() {
            self.line.tx = None; // §29.5.2: the frame being sent is lost
            self.preamble_due = false;
        }
        if self.tx_on() && !tx_was {
            self.preamble_due = true;
        }
        if rx_was && !self.rx_on() {
            self.line.rx = None;
            self.line.idle_left = None;
        }
        self.start_tx();
        self.start_rx();
    }

    fn write_rqr(&mut self, v: u32) {
        if v & SBKRQ != 0 {
            self.break_due = true;
            self.start_tx();
        }
        if v & MMRQ != 0 && self.cr1 & MME != 0 {
            self.muted = true;
        }
        if v & RXFRQ != 0 {
            self.isr &= !RXNE;
        }
        if v & TXFRQ != 0 {
            self.isr |= TXE;
        }
    }
}

impl Peripheral for Usart {
    fn name(&self) -> &'static str {
        self.name
    }

    fn read(&mut self, off: u32, cx: &Ctx) -> u32 {
        self.sync(cx);
        match off {
            0x00 => self.cr1,
            0x04 => self.cr2,
            0x08 => self.cr3,
            0x0C => self.brr,
            0x10 => self.gtpr,
            0x14 => self.rtor,
            0x1C => self.isr(),
            0x24 => {
                self.isr &= !RXNE;
                self.rdr as u32
            }
            0x28 => self.tdr as u32,
            0x2C => self.presc,
            _ => 0, // RQR, ICR write-only; reserved
        }
    }

    fn write(&mut self, off: u32, v: u32, cx: &Ctx) {
        self.sync(cx);
        let ue = self.cr1 & UE != 0;
        match off {
            0x00 => self.write_cr1(v),
            0x04 => {
                let mut keep = if ue { !CR2_ANYTIME } else { 0 };
                if self.cr1 & RE != 0 && ue {
                    keep |= CR2_ADD;
                }
                let keep = keep & CR2_MASK;
                self.cr2 = (self.cr2 & keep) | (v & CR2_MASK & !keep);
            }
            0x08 => {
                let keep = if ue { CR3_MASK & !CR3_ANYTIME } else { 0 };
                self.cr3 = (self.cr3 & keep) | (v & CR3_MASK & !keep);
            }
            0x0C if !ue => self.brr = v & 0xFFFF,
            0x2C if !ue && self.layout == Layout::Presc => self.presc = v & 0xF,
            0x10 => self.gtpr = v & 0xFFFF,
            0x14 => self.rtor = v,
            0x18 => self.write_rqr(v),
            0x20 => self.isr &= !(v & ICR_MASK),
            0x28 => {
                self.tdr = (v & 0x1FF) as u16;
                self.isr &= !(TXE | TC);
                self.start_tx();
            }
            _ => {}
        }
    }

    fn sync(&mut self, cx: &Ctx) {
        let hz = self.tick_hz(cx.clocks);
        Lines::sync(self, cx.now, hz);
    }

    fn next_event(&self, cx: &Ctx) -> Option<Ps> {
        self.line.next_event(cx.now, self.tick_hz(cx.clocks))
    }

    fn irq(&self, line: usize) -> bool {
        let (isr, cr1, cr2, cr3) = (self.isr, self.cr1, self.cr2, self.cr3);
        let on = |flag: u32, reg: u32, enable: u32| isr & flag != 0 && reg & enable != 0;
        line == 0
            && (on(TXE, cr1, TXEIE)
                || on(TC, cr1, TCIE)
                || on(RXNE | ORE, cr1, RXNEIE)
                || on(IDLE, cr1, IDLEIE)
                || on(PE, cr1, PEIE)
                || on(CMF, cr1, CMIE)
                || on(RTOF, cr1, RTOIE)
                || on(EOBF, cr1, EOBIE)
                || on(FE | NF | ORE, cr3, EIE)
                || on(LBDF, cr2, LBDIE)
                || on(CTSIF, cr3, CTSIE)
                || on(WUF, cr3, WUFIE))
    }

    fn reset(&mut self) {
        let queue = std::mem::take(&mut self.rx_queue);
        let out = std::mem::take(&mut self.tx_out);
        *self = Usart {
            rx_queue: queue,
            tx_out: out,
            line: self.line.cleared(),
            ..Usart::with_layout(self.name, self.kernel, self.layout, 0)
        };
    }
}

/// Drains what `usarts` transmitted into `out` as (instance name, bytes),
/// `names[i]` naming `usarts[i]` (`Soc::take_serial_output`).
pub(crate) fn drain_serial(
    usarts: &mut [Usart],
    names: &[&'static str],
    out: &mut Vec<(&'static str, Vec<u8>)>,
) {
    for (u, &name) in usarts.iter_mut().zip(names) {
        let frames = u.take_tx();
        if !frames.is_empty() {
            out.push((name, frames.iter().map(|f| f.data as u8).collect()));
        }
    }
}

impl LineEnds for Usart {
    fn lines(&mut self) -> &mut Lines {
        &mut self.line
    }

    fn tx_done(&mut self, what: TxKind, at: Ps) {
        match what {
            TxKind::Data(v) => {
                let bits = self.data_bits() - u64::from(self.cr1 & PCE != 0);
                self.tx_out.push(TxFrame {
                    data: v & ((1 << bits) - 1),
                    at,
                });
                if self.isr & TXE != 0 {
                    self.isr |= TC;
                }
            }
            TxKind::Break => self.break_due = false,
            TxKind::Preamble => {}
        }
        self.start_tx();
    }

    fn rx_done(&mut self, v: u16) {
        let msb = 1 << (self.data_bits() - 1);
        if self.muted {
            let add = self.cr2 >> 24;
            let mask = if self.cr2 & ADDM7 != 0 { 0x7F } else { 0xF };
            let mark = self.cr1 & WAKE != 0 && v & msb != 0 && (v as u32 & mask) == (add & mask);
            if !mark {
                if self.cr1 & WAKE == 0 {
                    self.line.idle_left = Some(self.frame_ticks()); // wake-up by idle line
                }
                self.start_rx();
                return;
            }
            self.muted = false;
        } else if (v as u32 & 0xFF) == self.cr2 >> 24 {
            self.isr |= CMF;
        }
        if self.isr & RXNE == 0 || self.cr3 & OVRDIS != 0 {
            self.rdr = v;
            self.isr |= RXNE;
        } else {
            self.isr |= ORE;
        }
        self.idle_armed = true;
        self.line.idle_left = Some(self.frame_ticks());
        self.start_rx();
    }

    fn idle_detected(&mut self) {
        if self.muted {
            if self.cr1 & WAKE == 0 {
                self.muted = false;
            }
        } else if self.idle_armed {
            self.isr |= IDLE;
        }
        self.idle_armed = false;
    }
}
