//! Injectable faults, and the single place each layer asks about them.
//!
//! Every layer of the model consults the [`FaultSet`] at the point where the
//! corresponding real-world failure would show up:
//!
//! | Fault | Layer | Effect |
//! |---|---|---|
//! | [`Fault::NoPower`] | wire / SW-DP (`dp.rs`) | no ACK to any request; Vtarget reads 0 V |
//! | [`Fault::LineErrorsAboveKhz`] | wire (`dp.rs`) | above that SWCLK, every request gets no valid ACK |
//! | [`Fault::DisconnectAfter`] | wire (`dp.rs`) | after N more requests the link is dead (no ACK) |
//! | [`Fault::ApWait`] | AHB-AP (`ap.rs`) | every AP access is answered WAIT N times before it completes |
//! | [`Fault::BusErrorAt`] | system bus (`bus.rs`) | accesses to the range end in a bus error (AP: STICKYERR + FAULT; core: fault) |
//! | [`Fault::FlashProgramError`] | FPEC (`stm32f1/fpec.rs`) | every program/erase ends with PGERR, flash unchanged |
//! | [`Fault::NoNrst`] | reset pin (`probe.rs`) | NRST is not wired: asserting it has no effect |

/// A fault to inject into a [`Sim`](super::Sim) with [`Sim::inject`](super::Sim::inject).
///
/// Faults stay active until [`Sim::clear_faults`](super::Sim::clear_faults).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The target is unpowered: the core stops, the SW-DP never drives an ACK
    /// (the probe sees no-ACK, ADIv5 §B4.2.2), swj sequences have no effect and
    /// the probe's target-voltage reading is 0 V. Clearing it
    /// ([`Sim::clear_faults`](super::Sim::clear_faults)) powers the chip up
    /// again: a power-on reset (flash and option bytes kept).
    NoPower,
    /// The NRST line is not connected to the probe: `target_reset_assert`,
    /// `target_reset_deassert` and the nRESET bit of `swj_pins` have no effect
    /// on the chip (the pin reads back high because of the pull-up, RM0008 §7.1.2).
    NoNrst,
    /// Signal integrity: when the probe's SWCLK is above this many kHz, no
    /// request gets a valid ACK (counted as no-ACK). Lower the speed to recover.
    LineErrorsAboveKhz(u32),
    /// The link breaks after this many further SWD transactions (counted from
    /// the moment of injection): every later request gets no ACK, and the DP
    /// is left in the protocol-error state (after clearing, the probe needs a
    /// line reset and a DPIDR read, ADIv5 §B4.3.3). The chip keeps running.
    DisconnectAfter(u64),
    /// Each AHB-AP access (CSW/TAR/DRW/…) is answered WAIT this many times
    /// before it is accepted (ADIv5 §B4.2.2: the AP is still busy). The probe
    /// retries, each retry is counted in [`DapStats::waits`](super::DapStats::waits).
    ApWait(u32),
    /// System-bus accesses (from the AHB-AP or from the core) to addresses in
    /// `start..end` (bytes, end exclusive) end in a bus error.
    BusErrorAt {
        /// First faulty byte address.
        start: u32,
        /// One past the last faulty byte address.
        end: u32,
    },
    /// The flash memory interface fails: every program or erase operation ends
    /// with FLASH_SR.PGERR set and the flash unchanged (RM0008 §3.4.2 error flags).
    FlashProgramError,
}

/// The set of active faults plus the little state some of them need.
#[derive(Debug, Default, Clone)]
pub(crate) struct FaultSet {
    list: Vec<Fault>,
    /// Transactions left before the link dies (for `DisconnectAfter`).
    disconnect_budget: Option<u64>,
    /// Fast flag for the bus: some `BusErrorAt` is active.
    pub(crate) bus_ranges: Vec<(u32, u32)>,
}

impl FaultSet {
    pub(crate) fn inject(&mut self, fault: Fault) {
        match &fault {
            Fault::DisconnectAfter(n) => {
                self.disconnect_budget = Some(match self.disconnect_budget {
                    Some(b) => b.min(*n),
                    None => *n,
                })
            }
            Fault::BusErrorAt { start, end } => self.bus_ranges.push((*start, *end)),
            _ => {}
        }
        self.list.push(fault);
    }

    pub(crate) fn clear(&mut self) {
        *self = FaultSet::default();
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.list.clone()
    }

    pub(crate) fn no_power(&self) -> bool {
        self.list.contains(&Fault::NoPower)
    }

    pub(crate) fn no_nrst(&self) -> bool {
        self.list.contains(&Fault::NoNrst)
    }

    pub(crate) fn flash_program_error(&self) -> bool {
        self.list.contains(&Fault::FlashProgramError)
    }

    /// Lowest `LineErrorsAboveKhz` threshold, if any.
    pub(crate) fn line_error_khz(&self) -> Option<u32> {
        self.list
            .iter()
            .filter_map(|f| match f {
                Fault::LineErrorsAboveKhz(k) => Some(*k),
                _ => None,
            })
            .min()
    }

    pub(crate) fn ap_wait(&self) -> u32 {
        self.list
            .iter()
            .filter_map(|f| match f {
                Fault::ApWait(n) => Some(*n),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// Whether the link is cut (no request gets through any more).
    pub(crate) fn link_cut(&self) -> bool {
        self.disconnect_budget == Some(0)
    }

    /// Called once per wire request; returns true when the link is (now) cut.
    pub(crate) fn consume_link(&mut self) -> bool {
        match &mut self.disconnect_budget {
            None => false,
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
        }
    }

    /// True when `addr..addr+len` touches an injected bus-error range.
    #[inline]
    pub(crate) fn bus_error(&self, addr: u32, len: u32) -> bool {
        if self.bus_ranges.is_empty() {
            return false;
        }
        let a = addr as u64;
        let b = a + len as u64;
        self.bus_ranges
            .iter()
            .any(|&(s, e)| a < e as u64 && (s as u64) < b)
    }
}
