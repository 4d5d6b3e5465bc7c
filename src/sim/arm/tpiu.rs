//! The Cortex-M3/M4 TPIU at 0xE004_0000 (ARMv7-M ARM §C1.10, CoreSight
//! Components TRM DDI 0314H §9 "Trace Port Interface Unit", Cortex-M3 TRM
//! §11.2) and the trace FIFO between the ITM and the SWO pin.
//!
//! What the model does:
//! * the registers a debugger programs: CSPSR (current port size), ACPR
//!   (SWO prescaler, 13 bits), SPPR (0 = synchronous parallel port,
//!   1 = SWO Manchester, 2 = SWO NRZ/UART; reset 1), FFCR (EnFCont bit 1,
//!   TrigIn bit 8; reset 0x102 as on the Cortex-M3), FFSR, DEVID 0xCA1
//!   (NRZ and Manchester supported, synchronous port supported), DEVTYPE 0x11
//!   (trace port: what probe-rs's ROM-table walk looks for);
//! * the SWO output: the pin's bit rate is TRACECLKIN / (ACPR + 1), where
//!   TRACECLKIN is the core clock (HCLK, the STM32 ties it there: RM0008
//!   §31.17.2); a byte takes 10 bit times in NRZ (start, 8 data, stop) and 8
//!   in Manchester (probe-rs's estimate, `poll_interval_from_buf_size`), in
//!   virtual time, so a slow pin throttles the FIFO as on silicon;
//! * the formatter (FFCR.EnFCont = 1): the byte stream leaves in 16-byte
//!   frames (DDI 0314H §9.6.1): byte 0 is the ITM's trace ID
//!   (`(id << 1) | 1`, taking effect for the next byte), bytes 1–14 data,
//!   data on even bytes has its bit 0 in byte 15; a frame started when the
//!   FIFO runs dry is padded by a change to ID 0 (the null source). With
//!   EnFCont = 0 (bypass) the ITM bytes leave as they are;
//! * SPPR = 0 (synchronous port): the bytes leave at the same rate on the
//!   parallel trace port, which this chip does not capture: nothing on SWO.
//!
//! Another site: the same programmer's model serves a SoC's own SWO
//! component on its debug bus (a [`Site`]: CoreSight identity, DEVID,
//! DEVTYPE and whether CSPSR/FFCR exist), e.g. the STM32H7's CoreSight SWO
//! (ARM part 0x914, no formatter: the ITM bytes leave as they are) at
//! 0xE00E_3000 on APB-D (`stm32h7/swo.rs`). The SoC says where its sink is
//! (`Soc::swo_sink`) and which enables route trace to the pin
//! (`Soc::trace_pin_enabled`); the chip decodes those addresses to the one
//! instance the ITM feeds.
//!
//! The FIFO holds [`FIFO_BYTES`] bytes of ITM packets not yet on the wire
//! (the TRMs do not give the depth of the ITM and TPIU FIFOs; this is the
//! model's choice). Its state is brought up to date lazily, at each access
//! and when the probe captures, from the virtual time of the access.

use std::collections::VecDeque;

use super::super::time::{PS_PER_S, Ps};
use super::romtable::{CsId, TPIU_ID, id_register};

/// Where an instance sits and what it identifies as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site {
    /// Base addresses of its 4 KiB register window (on the SoC's debug bus,
    /// as the debugger sees it; 0xE004_0000 and up, `Chip::swo_sink_at`).
    pub bases: &'static [u32],
    /// The CoreSight PIDR/CIDR block.
    pub id: CsId,
    /// DEVID (0xFC8): bit 11 NRZ, bit 10 Manchester, bit 9 no synchronous port.
    pub devid: u32,
    /// DEVTYPE (0xFCC): 0x11, trace sink / trace port.
    pub devtype: u32,
    /// The formatter and the synchronous port exist (CSPSR, FFCR): a TPIU
    /// has them; a SWO has neither (they read 0, writes are ignored).
    pub formatter: bool,
}

/// The Cortex-M3/M4 TPIU in the core's PPB (Cortex-M3 TRM §11.2).
pub(crate) const PPB_TPIU: Site = Site {
    bases: &[0xE004_0000],
    id: TPIU_ID,
    devid: 0xCA1,
    devtype: 0x11,
    formatter: true,
};

/// Bytes of ITM packets the trace FIFO holds before the ITM reports it full.
pub(crate) const FIFO_BYTES: usize = 16;
/// The longest ITM packet (header + 4 payload bytes).
pub(crate) const MAX_PACKET: usize = 5;
/// SPPR values (DDI 0314H §9.3.4).
pub(crate) const SPPR_SYNC: u32 = 0;
pub(crate) const SPPR_MANCHESTER: u32 = 1;
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const SPPR_NRZ: u32 = 2;
/// FFCR.EnFCont: continuous formatting.
pub(crate) const FFCR_ENFCONT: u32 = 1 << 1;
/// Bytes the probe side keeps before the oldest are dropped (the probe's
/// capture buffer overflowing, not the target's FIFO).
const OUT_LIMIT: usize = 1 << 20;

/// Bytes that left the SWO pin with one pin setting: a receiver set to
/// another protocol or baud rate gets framing errors instead of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    /// SPPR when they were sent (1 Manchester, 2 NRZ).
    pub sppr: u32,
    /// The pin's bit rate, TRACECLKIN / (ACPR + 1), Hz.
    pub baud: u64,
    pub bytes: Vec<u8>,
}

/// What a trace access needs from the rest of the chip.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceCx {
    /// Virtual time of the access.
    pub now: Ps,
    /// TRACECLKIN, Hz (HCLK).
    pub traceclk_hz: u64,
    /// The SWO pin is driven by the TPIU (F1: DBGMCU_CR.TRACE_IOEN).
    pub pin: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Tpiu {
    pub cspsr: u32,
    pub acpr: u32,
    pub sppr: u32,
    pub ffcr: u32,
    /// ITM packet bytes waiting for the wire.
    fifo: VecDeque<u8>,
    /// The frame (or byte) being shifted out.
    wire: VecDeque<u8>,
    /// When the line finishes the byte it is sending (or went idle).
    line_free: Ps,
    /// The formatter's ID for the ITM's bytes (ITM_TCR.TraceBusID).
    pub trace_id: u8,
    /// What left the SWO pin and the probe has not taken yet, in runs of
    /// one pin setting.
    out: Vec<Segment>,
    /// Bytes that left the TPIU since power-on (pin or not).
    pub sent: u64,
}

impl Default for Tpiu {
    fn default() -> Tpiu {
        Tpiu {
            cspsr: 1,
            acpr: 0,
            sppr: SPPR_MANCHESTER,
            ffcr: 0x102,
            fifo: VecDeque::new(),
            wire: VecDeque::new(),
            line_free: 0,
            trace_id: 0,
            out: Vec::new(),
            sent: 0,
        }
    }
}

impl Tpiu {
    /// The power-on state of an instance at `site`: a SWO without a
    /// formatter passes the ITM bytes as they are (FFCR 0).
    pub(crate) fn at(site: &Site) -> Tpiu {
        let t = Tpiu::default();
        if site.formatter {
            t
        } else {
            Tpiu {
                cspsr: 0,
                ffcr: 0,
                ..t
            }
        }
    }

    pub(crate) fn read(&self, off: u32) -> u32 {
        self.read_at(&PPB_TPIU, off)
    }

    /// Read of the word at `off` in the window of an instance at `site`.
    pub(crate) fn read_at(&self, site: &Site, off: u32) -> u32 {
        if let Some(v) = id_register(&site.id, off) {
            return v;
        }
        match off {
            0x000 if site.formatter => 0xF, // SSPSR: port sizes 1..4
            0x004 if site.formatter => self.cspsr,
            0x010 => self.acpr,
            0x0F0 => self.sppr,
            // FFSR: FtNonStop (bit 3); FtStopped never.
            0x300 => 1 << 3,
            0x304 if site.formatter => self.ffcr,
            0xFC8 => site.devid,
            0xFCC => site.devtype, // trace sink, trace port (DDI 0314H §9.3)
            _ => 0,
        }
    }

    pub(crate) fn write(&mut self, off: u32, v: u32, cx: &TraceCx) {
        self.write_at(&PPB_TPIU, off, v, cx)
    }

    /// Write of the word at `off` in the window of an instance at `site`.
    pub(crate) fn write_at(&mut self, site: &Site, off: u32, v: u32, cx: &TraceCx) {
        // Bytes in flight leave at the old rate.
        self.advance(cx);
        match off {
            0x004 if site.formatter => self.cspsr = v & 0xF,
            0x010 => self.acpr = v & 0x1FFF,
            0x0F0 => self.sppr = v & 3,
            0x304 if site.formatter => self.ffcr = v & 0x102,
            _ => {}
        }
    }

    /// Virtual time one byte takes on the wire now.
    pub(crate) fn byte_ps(&self, traceclk_hz: u64) -> Ps {
        let bits: u64 = if self.sppr == SPPR_MANCHESTER { 8 } else { 10 };
        let num = bits as u128 * PS_PER_S as u128 * (self.acpr as u128 + 1);
        (num / traceclk_hz.max(1) as u128).max(1) as Ps
    }

    /// Free bytes in the FIFO (after bringing it up to `cx.now`).
    pub(crate) fn room(&mut self, cx: &TraceCx) -> usize {
        self.advance(cx);
        FIFO_BYTES - self.fifo.len()
    }

    /// Queues an ITM packet; false (nothing queued) if it does not fit.
    pub(crate) fn push(&mut self, bytes: &[u8], cx: &TraceCx) -> bool {
        if self.room(cx) < bytes.len() {
            return false;
        }
        self.fifo.extend(bytes);
        self.advance(cx);
        true
    }

    /// Bytes queued or on the wire (ITM_TCR.BUSY while any).
    pub(crate) fn busy(&self) -> bool {
        !self.fifo.is_empty() || !self.wire.is_empty()
    }

    /// When the next byte finishes on the wire, if any is pending.
    pub(crate) fn next_change(&self, traceclk_hz: u64) -> Option<Ps> {
        self.busy()
            .then(|| self.line_free + self.byte_ps(traceclk_hz))
    }

    /// Shifts out every byte whose wire time has passed by `cx.now`.
    pub(crate) fn advance(&mut self, cx: &TraceCx) {
        if !self.busy() {
            self.line_free = self.line_free.max(cx.now);
            return;
        }
        let bps = self.byte_ps(cx.traceclk_hz);
        while self.line_free + bps <= cx.now {
            if self.wire.is_empty() && !self.refill() {
                break;
            }
            let Some(b) = self.wire.pop_front() else {
                break;
            };
            self.line_free += bps;
            self.sent += 1;
            if cx.pin && self.sppr != SPPR_SYNC {
                let baud = cx.traceclk_hz / (self.acpr as u64 + 1);
                match self.out.last_mut() {
                    Some(seg) if seg.sppr == self.sppr && seg.baud == baud => {
                        if seg.bytes.len() >= OUT_LIMIT {
                            seg.bytes.drain(..OUT_LIMIT / 2);
                        }
                        seg.bytes.push(b);
                    }
                    _ => self.out.push(Segment {
                        sppr: self.sppr,
                        baud,
                        bytes: vec![b],
                    }),
                }
            }
        }
        if !self.busy() {
            self.line_free = self.line_free.max(cx.now);
        }
    }

    /// Moves the next frame (formatter) or byte (bypass) onto the wire.
    fn refill(&mut self) -> bool {
        if self.fifo.is_empty() {
            return false;
        }
        if self.ffcr & FFCR_ENFCONT == 0 {
            let b = self.fifo.pop_front().unwrap_or(0);
            self.wire.push_back(b);
            return true;
        }
        let n = self.fifo.len().min(14);
        let data: Vec<u8> = self.fifo.drain(..n).collect();
        self.wire.extend(format_frame(self.trace_id, &data));
        true
    }

    /// Takes what left the SWO pin since the last call, by pin setting.
    pub(crate) fn take_segments(&mut self, cx: &TraceCx) -> Vec<Segment> {
        self.advance(cx);
        std::mem::take(&mut self.out)
    }

    /// Takes what left the SWO pin since the last call, whatever the setting.
    #[cfg(test)]
    pub(crate) fn take_output(&mut self, cx: &TraceCx) -> Vec<u8> {
        self.take_segments(cx)
            .into_iter()
            .flat_map(|s| s.bytes)
            .collect()
    }
}

/// One 16-byte formatter frame carrying `data` (1..=14 bytes) of source `id`
/// (DDI 0314H §9.6.1; see the module documentation for the padding).
pub(crate) fn format_frame(id: u8, data: &[u8]) -> [u8; 16] {
    let mut f = [0u8; 16];
    let mut aux = 0u8;
    f[0] = (id << 1) | 1; // aux bit 0 = 0: the new ID applies to byte 1
    let n = data.len().min(14);
    for (i, &d) in data.iter().take(n).enumerate() {
        let pos = i + 1;
        if pos % 2 == 0 {
            f[pos] = d & 0xFE;
            aux |= (d & 1) << (pos / 2);
        } else {
            f[pos] = d;
        }
    }
    if n < 14 {
        let next = n + 1;
        if next.is_multiple_of(2) {
            // An even slot is free: change to the null source there.
            f[next] = 0x01;
        } else {
            // The last data byte sits on an even slot: put the ID change there,
            // taking effect after the next byte, and move the byte behind it.
            let d = data[n - 1];
            f[n] = 0x01;
            aux |= 1 << (n / 2);
            f[next] = d;
        }
    }
    f[15] = aux;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes frames as probe-rs's `tmc::Frame` does (DDI 0314H §9.6.1).
    fn deformat(frames: &[u8], want: u8) -> Vec<u8> {
        let mut id = 0u8;
        let mut out = Vec::new();
        for f in frames.chunks_exact(16) {
            let mut i = 0;
            while i < 15 {
                let b = f[i];
                let lsb = (f[15] >> (i >> 1)) & 1;
                if i & 1 == 1 {
                    if id == want {
                        out.push(b);
                    }
                } else if b & 1 == 0 {
                    if id == want {
                        out.push(b | lsb);
                    }
                } else {
                    let new = b >> 1;
                    let next = if lsb == 1 { id } else { new };
                    id = new;
                    if i < 14 {
                        i += 1;
                        if next == want {
                            out.push(f[i]);
                        }
                    }
                }
                i += 1;
            }
        }
        out
    }

    #[test]
    fn frames_round_trip_for_every_length() {
        for n in 1..=14usize {
            let data: Vec<u8> = (0..n as u8).map(|k| 0x31 + 2 * k).collect();
            let f = format_frame(1, &data);
            assert_eq!(f[0], 0x03, "n={n}");
            assert_eq!(deformat(&f, 1), data, "n={n}: {f:02x?}");
        }
    }

    #[test]
    fn full_frame_layout() {
        let data: Vec<u8> = (1..=14).collect();
        let f = format_frame(1, &data);
        assert_eq!(f, [3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0]);
        // Bit 0 of the data on even bytes 2..14 goes to byte 15, bits 1..7.
        let f = format_frame(1, &[0xFF; 14]);
        let mut want = [0xFF; 16];
        want[0] = 3;
        for k in 1..8 {
            want[2 * k] = 0xFE;
        }
        want[15] = 0xFE;
        assert_eq!(f, want);
    }

    #[test]
    fn nrz_rate_is_traceclk_over_acpr_plus_one() {
        let mut t = Tpiu {
            sppr: SPPR_NRZ,
            ffcr: 0x100,
            acpr: 71, // 72 MHz / 72 = 1 Mbit/s: 100 000 bytes/s
            ..Tpiu::default()
        };
        let cx = |now| TraceCx {
            now,
            traceclk_hz: 72_000_000,
            pin: true,
        };
        assert_eq!(t.byte_ps(72_000_000), 10_000_000);
        // Manchester: 8 bit times a byte.
        let m = Tpiu {
            sppr: SPPR_MANCHESTER,
            acpr: 71,
            ..Tpiu::default()
        };
        assert_eq!(m.byte_ps(72_000_000), 8_000_000);
        assert!(t.push(&[1, 0x41], &cx(0)));
        assert!(t.take_output(&cx(9_999_999)).is_empty());
        assert_eq!(t.take_output(&cx(10_000_000)), [1]);
        assert_eq!(t.take_output(&cx(20_000_000)), [0x41]);
        assert!(!t.busy());
    }

    #[test]
    fn full_fifo_refuses_a_packet_until_bytes_leave() {
        let mut t = Tpiu {
            sppr: SPPR_NRZ,
            ffcr: 0x100,
            acpr: 0,
            ..Tpiu::default()
        };
        let cx = |now| TraceCx {
            now,
            traceclk_hz: 1_000_000, // 10 µs a byte
            pin: false,
        };
        // A byte counts in the FIFO until it has left the wire.
        for _ in 0..3 {
            assert!(t.push(&[9; 5], &cx(0)));
        }
        assert_eq!(t.room(&cx(0)), FIFO_BYTES - 15);
        assert!(!t.push(&[9; 5], &cx(0)));
        assert!(t.push(&[9; 5], &cx(40_000_000)));
        // No pin: nothing is captured, the bytes still leave.
        assert!(t.take_output(&cx(1_000_000_000)).is_empty());
        assert_eq!(t.sent, 20);
    }
}
