//! Turning probe-rs errors into messages that say what failed, the evidence, the likely cause
//! and what to do. The probe-rs error chain is walked (`source()` and downcasts at each level)
//! rather than matched on one pattern, because ST-Link and DAP errors arrive nested
//! (`Error::Arm(ArmError::Probe(DebugProbeError::ProbeSpecific(..)))`).

pub mod doctor;
pub mod fault;
pub mod ids;
pub mod link;
pub mod regs;

use std::error::Error as StdError;

use probe_rs::architecture::arm::dp::DebugPortError;
use probe_rs::architecture::arm::{ArmError, DapError};
use probe_rs::probe::DebugProbeError;
use probe_rs::probe::stlink::StlinkError;

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
        let m = plain_words(&e.to_string());
        if !out.iter().any(|o| o.contains(&m)) && !GENERIC.contains(&m.as_str()) {
            out.push(m);
        }
        cur = e.source();
    }
    out
}

/// probe-rs messages that print Rust values with `{:?}` (`Error using access port
/// FullyQualifiedApAddress { dp: Default, ap: V1(0) }.`), in words.
pub fn plain_words(msg: &str) -> String {
    let mut out = msg.to_string();
    while let Some(i) = out.find("FullyQualifiedApAddress {") {
        let Some(len) = out[i..].find('}') else { break };
        let inner = &out[i..i + len];
        let ap = inner
            .split("V1(")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .map(|n| format!("AP {n}"))
            .unwrap_or_else(|| "the access port".to_string());
        out.replace_range(i..i + len + 1, &ap);
    }
    out
}

/// probe-rs wrapper messages that only say which layer an error passed through; the chain is
/// clearer without them (the levels below say what happened).
const GENERIC: &[&str] = &[
    "An ARM specific error occurred.",
    "An error occurred in the communication with an access port or debug port.",
    "Error in previous batched command.",
];

/// The name of an ST-Link status (`SwdDpWait`, …). probe-rs 0.32 does not export the status
/// type, so its `Debug` name is what stdbg can match on.
fn stlink_status(e: &StlinkError) -> Option<String> {
    match e {
        StlinkError::CommandFailed(s) => Some(format!("{s:?}")),
        _ => None,
    }
}

/// Classifies one ST-Link status name.
fn stlink_evidence(status: &str) -> Evidence {
    match status {
        "SwdDpWait" | "SwdApWait" | "JtagCmdWait" => Evidence::Wait,
        "SwdApFault"
        | "SwdDpFault"
        | "SwdApStickyError"
        | "SwdApStickyorunError"
        | "SwdApWdataError" => Evidence::Fault,
        "SwdApParityError" | "SwdDpParityError" => Evidence::LineErrors,
        "SwdDpError"
        | "SwdApError"
        | "JtagNoDeviceConnected"
        | "JtagGetIdcodeError"
        | "JtagDbgPowerError" => Evidence::NoAck,
        _ => Evidence::Other,
    }
}

/// Classifies the chain by downcasting each level (`probe_rs::Error`, `ArmError`, `DapError`,
/// `DebugPortError`, `DebugProbeError`, and `StlinkError` behind `ProbeSpecific`).
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
        if let Some(s) = e.downcast_ref::<StlinkError>().and_then(stlink_status) {
            let ev = stlink_evidence(&s);
            if ev != Evidence::Other {
                return ev;
            }
        }
        if let Some(DebugProbeError::ProbeSpecific(b)) = e.downcast_ref::<DebugProbeError>()
            && let Some(s) = b.downcast_ref::<StlinkError>().and_then(stlink_status)
        {
            let ev = stlink_evidence(&s);
            if ev != Evidence::Other {
                return ev;
            }
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

/// The step of a connection an error chain shows failing, in OpenOCD-like words.
pub fn failed_step(err: &(dyn StdError + 'static)) -> &'static str {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(a) = e.downcast_ref::<ArmError>() {
            match a {
                ArmError::NoTargetResponse { .. } => return "line reset and DPIDR read",
                ArmError::AccessPort { .. } => return "AP access (AHB-AP register or memory read)",
                ArmError::CoreNotHalted | ArmError::Timeout => return "core halt",
                _ => {}
            }
        }
        if let Some(d) = e.downcast_ref::<DebugPortError>() {
            match d {
                DebugPortError::TargetPowerUpFailed => {
                    return "debug power-up (CTRL/STAT CDBGPWRUPACK)";
                }
                DebugPortError::Dap(_) => return "line reset and DPIDR read",
                _ => {}
            }
        }
        if let Some(DebugProbeError::ProbeCouldNotBeCreated(_) | DebugProbeError::Usb(_)) =
            e.downcast_ref::<DebugProbeError>()
        {
            return "open probe";
        }
        if let Some(StlinkError::ProbeFirmwareOutdated(_)) = e.downcast_ref::<StlinkError>() {
            return "open probe";
        }
        if let Some(DebugProbeError::ProbeSpecific(b)) = e.downcast_ref::<DebugProbeError>()
            && let Some(StlinkError::ProbeFirmwareOutdated(_)) = b.downcast_ref::<StlinkError>()
        {
            return "open probe";
        }
        if let Some(probe_rs::Error::Timeout) = e.downcast_ref::<probe_rs::Error>() {
            return "core halt";
        }
        cur = e.source();
    }
    match evidence(err) {
        Evidence::NoAck | Evidence::LineErrors => "line reset and DPIDR read",
        Evidence::Fault | Evidence::Wait => "AP access",
        Evidence::Timeout => "core halt",
        Evidence::Other => "attach",
    }
}

/// The minimum firmware probe-rs wants, when the chain says the ST-Link firmware is too old.
pub fn stlink_firmware_outdated(err: &(dyn StdError + 'static)) -> Option<u8> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(StlinkError::ProbeFirmwareOutdated(v)) = e.downcast_ref::<StlinkError>() {
            return Some(*v);
        }
        if let Some(DebugProbeError::ProbeSpecific(b)) = e.downcast_ref::<DebugProbeError>()
            && let Some(StlinkError::ProbeFirmwareOutdated(v)) = b.downcast_ref::<StlinkError>()
        {
            return Some(*v);
        }
        cur = e.source();
    }
    None
}

/// Whether the chain is a link-level failure the recovery ladder may fix (no ACK, line errors,
/// WAIT, FAULT, a core that does not answer).
pub fn is_link_failure(err: &(dyn StdError + 'static)) -> bool {
    is_under_reset_timeout(err)
        || matches!(
            evidence(err),
            Evidence::NoAck
                | Evidence::LineErrors
                | Evidence::Wait
                | Evidence::Fault
                | Evidence::Timeout
        )
}

/// probe-rs's `attach_under_reset` timed out waiting for the halt (it turns that timeout into an
/// `Other` message): the debug port answered under reset, but the core left reset running,
/// because the reset vector catch (DEMCR.VC_CORERESET) was set without DHCSR.C_DEBUGEN, which a
/// power-on or a wake-up from Standby clears (ARMv7-M ARM §C1.6.5). A lower SWCLK does not help.
pub fn is_under_reset_timeout(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(probe_rs::Error::Other(m)) = e.downcast_ref::<probe_rs::Error>()
            && m.starts_with("Timeout while attaching to target under reset")
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The advice for a class of evidence.
pub fn advice(ev: Evidence) -> Option<&'static str> {
    match ev {
        Evidence::NoAck => Some(
            "the SW-DP gave no ACK. If this happened right after the target ran, the firmware most likely disabled the SWD pins (AFIO_MAPR.SWJ_CFG on an STM32F1, PA13/PA14 in GPIOA_MODER on the F3, G4, L4 and H7) or entered Stop/Standby with the DBGMCU_CR debug bits cleared; 'doctor' measures the target voltage and tries each speed and a connection under reset",
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
