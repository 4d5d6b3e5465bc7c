//! Turning probe-rs errors into messages that say what failed, the evidence, the likely cause
//! and what to do. The probe-rs error chain is walked (`source()` and downcasts at each level)
//! rather than matched on one pattern, because ST-Link and DAP errors arrive nested
//! (`Error::Arm(ArmError::Probe(DebugProbeError::ProbeSpecific(..)))`).

use std::error::Error as StdError;

use probe_rs::architecture::arm::{ArmError, DapError};

use crate::command::CommandError;
use crate::host::connection::ConnectError;

/// What the error chain shows, from the most to the least specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The SW-DP gave no ACK at all.
    NoAck,
    /// A FAULT response (sticky error set, e.g. after a bus fault on an AP access).
    Fault,
    /// WAIT responses until the probe gave up.
    Wait,
    /// Parity errors or garbled ACKs on the wire.
    LineErrors,
    /// A timeout waiting for the core.
    Timeout,
    /// Nothing recognised.
    Other,
}

/// Every message in the chain, outermost first, without repeats.
pub fn chain(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let m = e.to_string();
        if !out.iter().any(|o| o.contains(&m)) {
            out.push(m);
        }
        cur = e.source();
    }
    out
}

/// Classifies the chain by downcasting each level.
pub fn evidence(err: &(dyn StdError + 'static)) -> Evidence {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(d) = e.downcast_ref::<DapError>() {
            return match d {
                DapError::NoAcknowledge => Evidence::NoAck,
                DapError::FaultResponse => Evidence::Fault,
                DapError::WaitResponse => Evidence::Wait,
                DapError::IncorrectParity => Evidence::LineErrors,
                _ => Evidence::Other,
            };
        }
        if let Some(a) = e.downcast_ref::<ArmError>() {
            match a {
                ArmError::Timeout => return Evidence::Timeout,
                ArmError::NoTargetResponse { .. } => return Evidence::NoAck,
                _ => {}
            }
        }
        if let Some(probe_rs::Error::Timeout) = e.downcast_ref::<probe_rs::Error>() {
            return Evidence::Timeout;
        }
        cur = e.source();
    }
    Evidence::Other
}

/// The advice for a class of evidence.
pub fn advice(ev: Evidence) -> Option<&'static str> {
    match ev {
        Evidence::NoAck => Some(
            "the target gave no answer on SWD. Likely: no target power or a loose SWDIO/SWCLK/GND wire, or the firmware disabled the SWD pins or entered Stop/Standby. Try: check wiring and power, then connect under reset by adding `reset_config srst_only srst_nogate connect_assert_srst` to the board script (needs NRST wired)",
        ),
        Evidence::Fault => Some(
            "the debug port answered FAULT (a sticky error: an access the bus refused, e.g. an address that does not exist or read-protected flash). Check the address against the chip's memory map",
        ),
        Evidence::Wait => Some(
            "the debug port kept answering WAIT: the bus is stalled, often because the core is in a low-power mode. Set the DBGMCU_CR low-power debug bits (the target script's examine-end handler does) or connect under reset",
        ),
        Evidence::LineErrors => Some(
            "the SWD line shows parity or ACK errors: the signal is marginal at this clock. Lower the speed, e.g. `adapter speed 480`, and shorten the wires",
        ),
        Evidence::Timeout => Some(
            "the core did not respond in time. It may be held in reset, locked up, or sleeping; try `reset halt`, or connect under reset",
        ),
        Evidence::Other => None,
    }
}

/// A command failure: `<what> failed: <chain>` and, when the evidence points somewhere, why and
/// what to do.
pub fn command_error(what: &str, err: &(dyn StdError + 'static)) -> CommandError {
    // probe-rs's "Other" errors that stdbg raised itself already are complete messages.
    if let Some(probe_rs::Error::Other(m)) = err.downcast_ref::<probe_rs::Error>() {
        return CommandError::failed(m.clone());
    }
    let mut msg = format!("{what} failed: {}", chain(err).join(": "));
    if let Some(a) = advice(evidence(err)) {
        msg.push_str("\n  why: ");
        msg.push_str(a);
    }
    CommandError::failed(msg)
}

/// An `init` failure explained.
pub fn connect_error(err: &ConnectError) -> CommandError {
    let mut msg = chain(err).join(": ");
    if let Some(a) = advice(evidence(err)) {
        msg.push_str("\n  why: ");
        msg.push_str(a);
    }
    CommandError::failed(msg)
}
