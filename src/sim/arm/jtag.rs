//! The SWJ-DP's JTAG side and the boundary-scan TAP, as the STM32's JTAG pins see them
//! (IEEE 1149.1 TAP controller; ADIv5 §B3 JTAG-DP; RM0008 §31.5-31.6 for the F1 chain).
//!
//! * Chain: TDI → boundary-scan TAP (5-bit IR) → Cortex-M TAP, the JTAG-DP (4-bit IR) → TDO,
//!   so the JTAG-DP's bits come out first; OpenOCD's `target/stm32f1x.cfg` declares the `cpu`
//!   TAP first and the `bs` TAP second for that reason.
//! * JTAG-DP IR (§B3.4): ABORT 0b1000, DPACC 0b1010, APACC 0b1011, IDCODE 0b1110, BYPASS 0b1111;
//!   other values select BYPASS. IR capture 0b0001. IDCODE: 0x3BA00477 (Cortex-M3), 0x4BA00477
//!   (Cortex-M4), 0x6BA00477 (Cortex-M7), as OpenOCD's target configs expect.
//! * DPACC/APACC: 35-bit DR, in: RnW (bit 0), A[3:2] (bits 2:1), DATAIN (34:3); Capture-DR
//!   loads the previous transaction's ACK (OK/FAULT 0b010, WAIT 0b001) and ReadResult; the
//!   transaction runs at Update-DR on the same DP/AP model as SWD (`dp.rs`). While a
//!   transaction is still in progress (`Fault::ApWait(n)`: n × 40 TCKs, the time of n DR scans)
//!   scans capture WAIT and their request is ignored (§B3.3.2); with ORUNDETECT a WAIT sets STICKYORUN, and AP accesses are dropped
//!   until it is cleared (§B2.2.2).
//! * Boundary-scan TAP: IDCODE 0b00001 (after reset), BYPASS 0b11111, the other instructions
//!   act as BYPASS here (no pins are modelled). Its IDCODE is 0x06<DEV_ID>041, the pattern of
//!   the reference manuals' boundary-scan ID codes (RM0008 §31.6.2: 0x06410041 for the
//!   medium-density F103; RM0316, RM0440, RM0351, RM0433 likewise).
//! * TRST resets both TAPs (Test-Logic-Reset, IDCODE selected); SRST is the chip's NRST.
//! * TMS is SWDIO: the switch sequences (≥ 50 TMS high, then 0xE79E to SWD or 0xE73C to JTAG)
//!   reach the SWJ-DP. While the SWJ-DP listens to SWD, is unpowered or the link is cut, TDO is
//!   not driven (reads 1, pulled up).

use super::super::Sim;

/// IEEE 1149.1 TAP controller states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reset,
    Idle,
    SelectDr,
    CaptureDr,
    ShiftDr,
    Exit1Dr,
    PauseDr,
    Exit2Dr,
    UpdateDr,
    SelectIr,
    CaptureIr,
    ShiftIr,
    Exit1Ir,
    PauseIr,
    Exit2Ir,
    UpdateIr,
}

impl State {
    fn next(self, tms: bool) -> State {
        use State::*;
        match (self, tms) {
            (Reset, true) => Reset,
            (Reset, false) => Idle,
            (Idle, true) | (UpdateDr, true) | (UpdateIr, true) => SelectDr,
            (Idle, false) | (UpdateDr, false) | (UpdateIr, false) => Idle,
            (SelectDr, true) => SelectIr,
            (SelectDr, false) => CaptureDr,
            (CaptureDr, true) | (ShiftDr, true) => Exit1Dr,
            (CaptureDr, false) | (ShiftDr, false) | (Exit2Dr, false) => ShiftDr,
            (Exit1Dr, true) | (Exit2Dr, true) => UpdateDr,
            (Exit1Dr, false) | (PauseDr, false) => PauseDr,
            (PauseDr, true) => Exit2Dr,
            (SelectIr, true) => Reset,
            (SelectIr, false) => CaptureIr,
            (CaptureIr, true) | (ShiftIr, true) => Exit1Ir,
            (CaptureIr, false) | (ShiftIr, false) | (Exit2Ir, false) => ShiftIr,
            (Exit1Ir, true) | (Exit2Ir, true) => UpdateIr,
            (Exit1Ir, false) | (PauseIr, false) => PauseIr,
            (PauseIr, true) => Exit2Ir,
        }
    }
}

/// JTAG-DP instructions (ADIv5 §B3.4).
const IR_ABORT: u8 = 0b1000;
const IR_DPACC: u8 = 0b1010;
const IR_APACC: u8 = 0b1011;
const IR_IDCODE: u8 = 0b1110;
/// Boundary-scan TAP instructions (IEEE 1149.1; RM0008 §31.6.1).
const BS_IDCODE: u8 = 0b00001;
const BS_BYPASS: u8 = 0b11111;
/// TCKs an AP access stays busy per `Fault::ApWait` count: one DR scan of the F1 chain
/// (Select-DR to Update-DR through 35 + 1 bits), so n back-to-back scans capture WAIT and a
/// debugger that idles in Run-Test/Idle that long gets none.
const WAIT_TCKS: u32 = 40;

/// A shift register of up to 64 bits, LSB nearest TDO.
#[derive(Debug, Clone, Copy, Default)]
struct Reg {
    bits: u64,
    len: u32,
}

impl Reg {
    fn new(bits: u64, len: u32) -> Reg {
        Reg { bits, len }
    }

    /// Shifts `tdi` in at the top; returns the bit shifted out at the bottom.
    fn shift(&mut self, tdi: bool) -> bool {
        let out = self.bits & 1 != 0;
        self.bits >>= 1;
        if tdi {
            self.bits |= 1 << (self.len - 1);
        }
        out
    }
}

/// Counts of what crossed the JTAG pins, for the benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JtagStats {
    /// TCK rising edges.
    pub clocks: u64,
    /// DPACC/APACC/ABORT transactions run at Update-DR.
    pub dap_transactions: u64,
}

/// The JTAG pins of a virtual chip: TCK/TMS/TDI in, TDO out, TRST and SRST.
pub struct JtagPort {
    sim: Sim,
    state: State,
    tck: bool,
    tms: bool,
    tdi: bool,
    cpu_ir: u8,
    bs_ir: u8,
    /// IR shift registers during Shift-IR, DR ones during Shift-DR.
    cpu_sr: Reg,
    bs_sr: Reg,
    /// Whether the chip answered at the last capture (TDO driven).
    driven: bool,
    /// The previous DAP transaction's ReadResult; TCKs until the AP access in progress is done
    /// (`Fault::ApWait(n)`: n DR scans' worth); whether the last Capture-DR captured WAIT.
    result: u32,
    busy: u32,
    waited: bool,
    /// Consecutive TMS-high clocks, and the bits after ≥ 50 of them (a switch sequence).
    tms_ones: u32,
    switch: Option<(u16, u8)>,
    /// What crossed the pins.
    pub stats: JtagStats,
    ids: (u32, u32),
}

impl JtagPort {
    /// The pins of `sim`'s chip, TAPs in Test-Logic-Reset.
    pub fn new(sim: Sim) -> JtagPort {
        let ids = sim.shared().with_chip(|c| {
            let core = match c.ident.core {
                super::core::CoreKind::CortexM3 => 0x3BA0_0477,
                super::core::CoreKind::CortexM4F => 0x4BA0_0477,
                super::core::CoreKind::CortexM7 => 0x6BA0_0477,
            };
            (core, 0x0600_0041 | ((c.ident.idcode & 0xFFF) << 12))
        });
        JtagPort {
            sim,
            state: State::Reset,
            tck: false,
            tms: true,
            tdi: true,
            cpu_ir: IR_IDCODE,
            bs_ir: BS_IDCODE,
            cpu_sr: Reg::default(),
            bs_sr: Reg::default(),
            driven: true,
            result: 0,
            busy: 0,
            waited: false,
            tms_ones: 0,
            switch: None,
            stats: JtagStats::default(),
            ids,
        }
    }

    /// The JTAG-DP's and the boundary-scan TAP's IDCODEs.
    pub fn idcodes(&self) -> (u32, u32) {
        self.ids
    }

    /// TDO as sampled while TCK is low: the bit nearest TDO in a Shift state, else not driven.
    pub fn tdo(&self) -> bool {
        match self.state {
            State::ShiftDr | State::ShiftIr if self.driven => self.cpu_sr.bits & 1 != 0,
            _ => true,
        }
    }

    /// Sets TCK, TMS and TDI (OpenOCD remote_bitbang's `'0'`-`'7'`); a rising TCK edge clocks
    /// the TAPs.
    pub fn write(&mut self, tck: bool, tms: bool, tdi: bool) {
        let rising = tck && !self.tck;
        self.tck = tck;
        self.tms = tms;
        self.tdi = tdi;
        if rising {
            self.clock(tms, tdi);
        }
    }

    /// TRST and SRST (`true` = asserted, i.e. driven low).
    pub fn reset(&mut self, trst: bool, srst: bool) {
        if trst {
            self.state = State::Reset;
            self.cpu_ir = IR_IDCODE;
            self.bs_ir = BS_IDCODE;
        }
        self.sim.shared().with_chip(|c| {
            if !c.faults.no_nrst() {
                c.set_nrst(srst);
            }
        });
    }

    fn clock(&mut self, tms: bool, tdi: bool) {
        self.stats.clocks += 1;
        self.busy = self.busy.saturating_sub(1);
        self.watch_switch(tms);
        match self.state {
            State::CaptureDr => self.capture_dr(),
            State::CaptureIr => {
                self.driven = self.sim.shared().with_chip(|c| c.jtag_selected());
                // IEEE 1149.1: the IR captures ...01.
                self.cpu_sr = Reg::new(0b0001, 4);
                self.bs_sr = Reg::new(0b00001, 5);
            }
            State::ShiftDr | State::ShiftIr => {
                let mid = self.bs_sr.shift(tdi);
                self.cpu_sr.shift(mid);
            }
            _ => {}
        }
        self.state = self.state.next(tms);
        match self.state {
            State::Reset => {
                self.cpu_ir = IR_IDCODE;
                self.bs_ir = BS_IDCODE;
            }
            State::UpdateIr => {
                self.cpu_ir = (self.cpu_sr.bits & 0xF) as u8;
                self.bs_ir = (self.bs_sr.bits & 0x1F) as u8;
            }
            State::UpdateDr => self.update_dr(),
            _ => {}
        }
    }

    fn capture_dr(&mut self) {
        self.driven = self.sim.shared().with_chip(|c| c.jtag_selected());
        self.bs_sr = match self.bs_ir {
            BS_IDCODE => Reg::new(u64::from(self.ids.1), 32),
            BS_BYPASS => Reg::new(0, 1),
            _ => Reg::new(0, 1),
        };
        self.cpu_sr = match self.cpu_ir {
            IR_IDCODE => Reg::new(u64::from(self.ids.0), 32),
            IR_DPACC | IR_APACC | IR_ABORT => {
                self.waited = self.busy > 0;
                let ack: u64 = if self.waited { 0b001 } else { 0b010 };
                Reg::new(ack | (u64::from(self.result) << 3), 35)
            }
            _ => Reg::new(0, 1),
        };
    }

    fn update_dr(&mut self) {
        let ir = self.cpu_ir;
        if !matches!(ir, IR_DPACC | IR_APACC | IR_ABORT) || !self.driven {
            return;
        }
        let v = self.cpu_sr.bits;
        let data = (v >> 3) as u32;
        if ir == IR_ABORT {
            self.waited = false;
            self.stats.dap_transactions += 1;
            self.sim.shared().with_chip(|c| c.jtag_abort(data));
            if data & 1 != 0 {
                self.busy = 0;
            }
            return;
        }
        if std::mem::take(&mut self.waited) {
            // WAIT was captured for this scan: its request is ignored (and with ORUNDETECT,
            // STICKYORUN is set, so the AP accesses after it are dropped too).
            self.sim.shared().with_chip(|c| c.jtag_wait());
            return;
        }
        let rnw = v & 1 != 0;
        let a = ((v >> 1) & 0b11) as u8 * 4;
        self.stats.dap_transactions += 1;
        let (result, waits) = self.sim.shared().with_chip_after_wire(1, 1000, |c| {
            c.jtag_transaction(ir == IR_APACC, rnw, a, data)
        });
        self.result = result;
        self.busy = waits * WAIT_TCKS;
    }

    /// Passes the SWJ switch sequences on TMS to the SWJ-DP (ADIv5 §B5.2).
    fn watch_switch(&mut self, tms: bool) {
        if let Some((v, n)) = self.switch.as_mut() {
            *v |= u16::from(tms) << *n;
            *n += 1;
            if *n == 16 {
                let seq = *v;
                self.switch = None;
                if seq == 0xE79E || seq == 0xE73C {
                    self.sim.shared().with_chip(|c| {
                        c.swj_bits(50, u64::MAX >> 14);
                        c.swj_bits(16, u64::from(seq));
                    });
                }
            }
        }
        if tms {
            self.tms_ones += 1;
        } else {
            if self.tms_ones >= 50 && self.switch.is_none() {
                self.switch = Some((0, 1));
            }
            self.tms_ones = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{ChipModel, SimConfig};

    fn port() -> JtagPort {
        let sim = Sim::new(SimConfig {
            chip: ChipModel::from_name("STM32F103C8").unwrap(),
            storage: None,
        })
        .unwrap();
        JtagPort::new(sim)
    }

    fn clock(p: &mut JtagPort, tms: bool, tdi: bool) -> bool {
        p.write(false, tms, tdi);
        let tdo = p.tdo();
        p.write(true, tms, tdi);
        tdo
    }

    /// Shifts `len` bits of `v` (LSB first), leaving the Shift state on the last; returns TDO.
    fn shift(p: &mut JtagPort, v: u64, len: u32) -> u64 {
        let mut out = 0;
        for i in 0..len {
            let last = i == len - 1;
            if clock(p, last, (v >> i) & 1 != 0) {
                out |= 1 << i;
            }
        }
        clock(p, true, false); // Exit1 -> Update
        clock(p, false, false); // -> Idle
        out
    }

    fn to_shift_dr(p: &mut JtagPort) {
        for tms in [true, false, false] {
            clock(p, tms, false);
        }
    }

    fn to_shift_ir(p: &mut JtagPort) {
        for tms in [true, true, false, false] {
            clock(p, tms, false);
        }
    }

    fn reset(p: &mut JtagPort) {
        for _ in 0..5 {
            clock(p, true, false);
        }
        clock(p, false, false);
    }

    #[test]
    fn idcode_scan_gives_both_taps_ids_dp_first() {
        let mut p = port();
        reset(&mut p);
        to_shift_dr(&mut p);
        let v = shift(&mut p, 0, 64);
        assert_eq!(v as u32, 0x3BA0_0477);
        assert_eq!((v >> 32) as u32, 0x0641_0041);
    }

    #[test]
    fn bypass_is_one_bit_per_tap_and_ir_captures_01() {
        let mut p = port();
        reset(&mut p);
        to_shift_ir(&mut p);
        let captured = shift(&mut p, 0x1FF, 9);
        assert_eq!(captured, 0b0_0001_0001);
        to_shift_dr(&mut p);
        // Two bypass bits (zeros) come out before the pattern shifted in.
        let out = shift(&mut p, 0b1011, 6);
        assert_eq!(out, 0b101100);
    }

    /// A DPACC write of CTRL/STAT (power-up requests), then a read of it: the result comes with
    /// the next scan, with ACK OK.
    #[test]
    fn dpacc_ctrl_stat_write_then_read_returns_acks_on_the_next_scan() {
        let mut p = port();
        reset(&mut p);
        to_shift_ir(&mut p);
        shift(&mut p, u64::from(BS_BYPASS) << 4 | u64::from(IR_DPACC), 9);
        let scan = |p: &mut JtagPort, rnw: bool, a: u8, data: u32| -> (u64, u32) {
            to_shift_dr(p);
            // The bs TAP is in BYPASS: one extra bit at the end of the chain.
            let v = u64::from(rnw) | u64::from(a >> 2) << 1 | u64::from(data) << 3;
            let out = shift(p, v, 36);
            (out & 0b111, (out >> 3) as u32)
        };
        scan(&mut p, false, 4, 0x5000_0000);
        scan(&mut p, true, 4, 0);
        let (ack, ctrl) = scan(&mut p, true, 0xC, 0);
        assert_eq!(ack, 0b010);
        assert_eq!(
            ctrl & 0xF000_0000,
            0xF000_0000,
            "CDBG/CSYS PWRUPREQ and ACK: {ctrl:#x}"
        );
    }
}
