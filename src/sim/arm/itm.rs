//! Instrumentation trace macrocell (ARMv7-M ARM §C1.7) at 0xE000_0000; its
//! packets (§D4.2) go to the TPIU (`tpiu.rs`) and out of the SWO pin.
//!
//! * A write to stimulus port n (ITM_STIMn, 0x000 + 4n) of 1, 2 or 4 bytes
//!   emits a software-source instrumentation packet (§D4.2.8): the header
//!   `(n << 3) | SS` with SS = 0b01/0b10/0b11 for 1/2/4 bytes, then the
//!   payload little endian. Only when DEMCR.TRCENA, ITM_TCR.ITMENA and
//!   ITM_TER bit n are set, and for an unprivileged write only when
//!   ITM_TPR does not reserve the port's group of 8 (§C1.7.5); otherwise the
//!   write is ignored.
//! * A stimulus-port read returns FIFOREADY in bit 0 (§C1.7.3): 1 when the
//!   trace FIFO can take a packet, 0 while it is full. A write while it is
//!   full is lost and an overflow packet 0x70 (§D4.2.3) goes out before the
//!   next packet that fits, as on silicon.
//! * ITM_TCR.BUSY (bit 23) reads 1 while packets are queued or on the wire.
//! * The software lock (LAR/LSR, CoreSight): the core's writes to the
//!   control registers need ITM_LAR = 0xC5ACCE55 first and privilege; the
//!   debugger's writes are not subject to the lock (DDI 0314H §B2.1).
//!
//! Not modelled: local and global timestamps (TSENA, GTSFREQ: no timestamp
//! packets are emitted), synchronisation packets (SYNCENA with
//! DWT_CTRL.SYNCTAP), DWT hardware-source packets (TXENA), 256 ports (the
//! Cortex-M3/M4 have 32).

use super::super::chip::Chip;
use super::romtable::{ITM_ID, id_register};
use super::tpiu::{MAX_PACKET, PPB_TPIU, Site, Tpiu, TraceCx};

/// ITM_TCR bits.
pub(crate) mod tcr {
    pub(crate) const ITMENA: u32 = 1 << 0;
    pub(crate) const BUSY: u32 = 1 << 23;
    /// Writable: ITMENA, TSENA, SYNCENA, TXENA, SWOENA, TSPrescale,
    /// GTSFREQ, TraceBusID.
    pub(crate) const MASK: u32 = 0x007F_0F1F;
}

/// The overflow packet (§D4.2.3).
pub(crate) const OVERFLOW: u8 = 0x70;
/// ITM_LAR's unlock key.
const LAR_KEY: u32 = 0xC5AC_CE55;

/// Who makes an ITM access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The debugger through the AHB-AP.
    Debug,
    /// The core; `true` if privileged.
    Cpu(bool),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Itm {
    pub ter: u32,
    pub tpr: u32,
    pub tcr: u32,
    pub unlocked: bool,
    /// A stimulus write was lost to a full FIFO: an overflow packet is owed.
    pub overflow: bool,
    /// Packets emitted and lost since power-on.
    pub packets: u64,
    pub lost: u64,
    pub tpiu: Tpiu,
}

/// The packet for a `size`-byte write of `v` to stimulus port `port`.
pub(crate) fn packet(port: u32, size: u32, v: u32) -> ([u8; MAX_PACKET], usize) {
    let ss = match size {
        1 => 0b01,
        2 => 0b10,
        _ => 0b11,
    };
    let n = if size == 1 || size == 2 { size } else { 4 } as usize;
    let mut p = [0u8; MAX_PACKET];
    p[0] = ((port as u8 & 0x1F) << 3) | ss;
    p[1..1 + n].copy_from_slice(&v.to_le_bytes()[..n]);
    (p, n + 1)
}

impl Itm {
    /// The power-on state, feeding the sink at `sink` (the PPB TPIU if None).
    pub(crate) fn power_on(sink: Option<&Site>) -> Itm {
        Itm {
            tpiu: Tpiu::at(sink.unwrap_or(&PPB_TPIU)),
            ..Itm::default()
        }
    }

    /// Read of the word at `0xE000_0000 + off`.
    pub(crate) fn read(&mut self, off: u32, cx: &TraceCx) -> u32 {
        if let Some(v) = id_register(&ITM_ID, off) {
            return v;
        }
        match off {
            0x000..=0x07C => (self.tpiu.room(cx) >= MAX_PACKET) as u32,
            0xE00 => self.ter,
            0xE40 => self.tpr,
            0xE80 => {
                self.tpiu.advance(cx);
                self.tcr | if self.tpiu.busy() { tcr::BUSY } else { 0 }
            }
            // LSR: lock implemented (bit 0), locked (bit 1).
            0xFB4 => {
                if self.unlocked {
                    0x1
                } else {
                    0x3
                }
            }
            _ => 0,
        }
    }

    /// Write of the low `size` bytes of `v` at `0xE000_0000 + off` (`off`
    /// word aligned for the control registers); `trcena` is DEMCR.TRCENA.
    pub(crate) fn write(
        &mut self,
        off: u32,
        size: u32,
        v: u32,
        src: Source,
        trcena: bool,
        cx: &TraceCx,
    ) {
        if off < 0x80 {
            self.stimulus(off / 4, size, v, src, trcena, cx);
            return;
        }
        if off == 0xFB0 {
            self.unlocked = v == LAR_KEY;
            return;
        }
        let allowed = match src {
            Source::Debug => true,
            Source::Cpu(privileged) => privileged && self.unlocked,
        };
        if !allowed {
            return;
        }
        match off {
            0xE00 => self.ter = v,
            0xE40 => self.tpr = v & 0xF,
            0xE80 => {
                self.tcr = v & tcr::MASK;
                self.tpiu.trace_id = ((v >> 16) & 0x7F) as u8;
            }
            _ => {}
        }
    }

    fn stimulus(&mut self, port: u32, size: u32, v: u32, src: Source, trcena: bool, cx: &TraceCx) {
        let enabled = trcena && self.tcr & tcr::ITMENA != 0 && self.ter & (1 << port) != 0;
        let permitted = match src {
            Source::Cpu(false) => self.tpr & (1 << (port / 8)) == 0,
            _ => true,
        };
        if !enabled || !permitted {
            return;
        }
        let (p, n) = packet(port, size, v);
        if self.overflow {
            if self.tpiu.room(cx) < n + 1 {
                self.lost += 1;
                return;
            }
            self.tpiu.push(&[OVERFLOW], cx);
            self.overflow = false;
        }
        if self.tpiu.push(&p[..n], cx) {
            self.packets += 1;
        } else {
            self.overflow = true;
            self.lost += 1;
        }
    }
}

impl Chip {
    /// The trace context now: virtual time, TRACECLKIN (HCLK), the SWO pin.
    pub(crate) fn trace_cx(&self) -> TraceCx {
        let c = self.cycles();
        let b = self.port.lock();
        TraceCx {
            now: b.now(c),
            traceclk_hz: b.time.hz(),
            pin: b.soc.trace_pin_enabled(),
        }
    }

    /// DEMCR.TRCENA (the processor's copy is authoritative, `debug.rs`).
    pub(crate) fn trcena(&self) -> bool {
        use super::core::Cpu;
        self.core
            .with_sys(|s| s.demcr & super::debug::demcr::TRCENA != 0)
    }

    /// An ITM access of the debugger or the core at `a` (0xE000_0000..
    /// 0xE000_0FFF) of `size` bytes; returns the value read (0 for a write).
    pub(crate) fn itm_access(&mut self, a: u32, size: u32, write: Option<u32>, src: Source) -> u32 {
        let cx = self.trace_cx();
        let off = a & 0xFFF;
        match write {
            Some(v) => {
                let trcena = self.trcena();
                self.itm.write(off & !3, size, v, src, trcena, &cx);
                0
            }
            None => {
                let w = self.itm.read(off & !3, &cx);
                match size {
                    4 => w,
                    2 => (w >> ((a & 2) * 8)) & 0xFFFF,
                    _ => (w >> ((a & 3) * 8)) & 0xFF,
                }
            }
        }
    }

    /// The SoC's own trace sink, if its registers are at `a` (word aligned):
    /// the site and the offset in its window.
    /// Sinks sit in the debug region above the core's PPB (0xE004_0000 and
    /// up), so other addresses cost no look-up.
    pub(crate) fn swo_sink_at(&self, a: u32) -> Option<(&'static Site, u32)> {
        if a < 0xE004_0000 {
            return None;
        }
        let site = self.port.lock().soc.swo_sink()?;
        let base = site.bases.iter().find(|&&b| (b..b + 0x1000).contains(&a))?;
        Some((site, a - base))
    }

    /// A debugger access to the SoC's own trace sink (`swo_sink_at`): word
    /// registers, a sub-word read takes its lanes, a sub-word write merges.
    pub(crate) fn swo_sink_access(
        &mut self,
        site: &Site,
        off: u32,
        a: u32,
        size: u32,
        write: Option<u32>,
    ) -> u32 {
        let cx = self.trace_cx();
        let w = off & !3;
        let old = self.itm.tpiu.read_at(site, w);
        let sh = (a & 3) * 8;
        let m = match size {
            4 => u32::MAX,
            2 => 0xFFFF << sh,
            _ => 0xFF << sh,
        };
        match write {
            Some(v) => {
                self.itm
                    .tpiu
                    .write_at(site, w, (old & !m) | ((v << sh) & m), &cx);
                0
            }
            None => (old & m) >> sh,
        }
    }

    /// What left the SWO pin since the last call (the probe's capture), in
    /// runs of one pin setting.
    pub(crate) fn take_swo(&mut self) -> Vec<super::tpiu::Segment> {
        let cx = self.trace_cx();
        self.itm.tpiu.take_segments(&cx)
    }

    /// When the trace FIFO next changes (a byte finishes on the wire), if
    /// bytes are pending.
    pub(crate) fn trace_next_change(&mut self) -> Option<super::super::time::Ps> {
        let cx = self.trace_cx();
        self.itm.tpiu.advance(&cx);
        self.itm.tpiu.next_change(cx.traceclk_hz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(now: u64) -> TraceCx {
        TraceCx {
            now,
            traceclk_hz: 8_000_000,
            pin: true,
        }
    }

    fn enabled() -> Itm {
        let mut itm = Itm::default();
        itm.tpiu.sppr = super::super::tpiu::SPPR_NRZ;
        itm.tpiu.ffcr = 0x100;
        itm.write(0xE80, 4, 0x0001_0001, Source::Debug, true, &cx(0));
        itm.write(0xE00, 4, 0b11, Source::Debug, true, &cx(0));
        itm
    }

    #[test]
    fn packets_have_the_port_and_size_in_the_header() {
        assert_eq!(packet(0, 1, 0x41).0[..2], [0x01, 0x41]);
        assert_eq!(packet(1, 2, 0xBEEF).0[..3], [0x0A, 0xEF, 0xBE]);
        assert_eq!(packet(31, 4, 0x1234_5678).0, [0xFB, 0x78, 0x56, 0x34, 0x12]);
    }

    #[test]
    fn writes_are_gated_by_trcena_itmena_ter_and_tpr() {
        let mut itm = enabled();
        itm.write(0x000, 1, b'a' as u32, Source::Cpu(true), false, &cx(0)); // no TRCENA
        itm.write(0x008, 1, b'b' as u32, Source::Cpu(true), true, &cx(0)); // TER bit 2 clear
        itm.write(0x004, 2, 0x1234, Source::Cpu(false), true, &cx(0)); // unprivileged, TPR 0
        itm.write(0xE40, 4, 1, Source::Debug, true, &cx(0));
        itm.write(0x000, 1, b'c' as u32, Source::Cpu(false), true, &cx(0)); // TPR reserves 0..7
        itm.write(0x000, 1, b'd' as u32, Source::Cpu(true), true, &cx(0));
        let out = itm.tpiu.take_output(&cx(u64::MAX / 2));
        assert_eq!(out, [0x0A, 0x34, 0x12, 0x01, b'd']);
        // ITMENA off: nothing.
        itm.write(0xE80, 4, 0, Source::Debug, true, &cx(0));
        itm.write(
            0x000,
            1,
            b'e' as u32,
            Source::Cpu(true),
            true,
            &cx(u64::MAX / 2),
        );
        assert!(itm.tpiu.take_output(&cx(u64::MAX / 2 + 1)).is_empty());
    }

    #[test]
    fn the_core_needs_the_lock_key_and_privilege_for_control_registers() {
        let mut itm = Itm::default();
        itm.write(0xE00, 4, 1, Source::Cpu(true), true, &cx(0));
        assert_eq!(itm.ter, 0);
        assert_eq!(itm.read(0xFB4, &cx(0)), 3);
        itm.write(0xFB0, 4, LAR_KEY, Source::Cpu(true), true, &cx(0));
        assert_eq!(itm.read(0xFB4, &cx(0)), 1);
        itm.write(0xE00, 4, 1, Source::Cpu(false), true, &cx(0));
        assert_eq!(itm.ter, 0);
        itm.write(0xE00, 4, 1, Source::Cpu(true), true, &cx(0));
        assert_eq!(itm.ter, 1);
    }

    #[test]
    fn a_write_to_a_full_fifo_is_lost_and_an_overflow_packet_follows() {
        let mut itm = enabled();
        // 8 MHz, ACPR 0: 1.25 µs a byte. Three 4-byte packets fill the FIFO.
        for k in 0..3 {
            assert_eq!(itm.read(0x000, &cx(0)), 1, "packet {k}");
            itm.write(
                0x000,
                4,
                0x0403_0201 * (k + 1),
                Source::Cpu(true),
                true,
                &cx(0),
            );
        }
        assert_eq!(itm.read(0x000, &cx(0)), 0);
        assert_ne!(itm.read(0xE80, &cx(0)) & tcr::BUSY, 0);
        itm.write(0x000, 1, b'X' as u32, Source::Cpu(true), true, &cx(0));
        assert_eq!(itm.lost, 1);
        // Later, room again: 0x70 then the packet.
        itm.write(
            0x000,
            1,
            b'Y' as u32,
            Source::Cpu(true),
            true,
            &cx(20_000_000),
        );
        let out = itm.tpiu.take_output(&cx(1_000_000_000));
        let mut want = Vec::new();
        for k in 1..=3u8 {
            want.extend([0x03, k, 2 * k, 3 * k, 4 * k]);
        }
        want.extend([OVERFLOW, 0x01, b'Y']);
        assert_eq!(out, want);
        assert_eq!(itm.read(0xE80, &cx(1_000_000_000)) & tcr::BUSY, 0);
    }
}
