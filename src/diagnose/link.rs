//! Looking at the debug link without a probe-rs session: line reset and DPIDR read, the AP and
//! core IDs, and the STM32 registers that explain a failure. Works on any probe probe-rs can
//! turn into an ARM debug interface (the virtual CMSIS-DAP, CMSIS-DAP, ST-Link, J-Link).

use probe_rs::architecture::arm::dp::{DPIDR, DpAddress, DpRegister};
use probe_rs::architecture::arm::sequences::DefaultArmSequence;
use probe_rs::architecture::arm::{ArmError, FullyQualifiedApAddress};
use probe_rs::probe::Probe;

use super::{ids, regs};

/// What one look at the link found. Each field is `None` when it could not be read (the
/// error of the first failure is in `error`).
#[derive(Debug, Clone, Default)]
pub struct LinkIds {
    /// SWCLK used, kHz.
    pub khz: u32,
    /// SW-DP DPIDR.
    pub dpidr: Option<u32>,
    /// AHB-AP IDR (AP register 0xFC).
    pub ap_idr: Option<u32>,
    /// Cortex-M CPUID.
    pub cpuid: Option<u32>,
    /// DBGMCU_IDCODE.
    pub idcode: Option<u32>,
    /// DHCSR.
    pub dhcsr: Option<u32>,
    /// DBGMCU_CR (at the address of the chip's family; F1 when the chip is unknown).
    pub dbgmcu_cr: Option<u32>,
    /// The watchdog-freeze register (DBGMCU_APB1_FZ/APB1FZR1; DBGMCU_CR itself on F1).
    pub dbgmcu_fz: Option<u32>,
    /// The flash controller's state, decoded by the chip's family (F1/F3/G4/L4 only).
    pub flash: Option<crate::family::FlashState>,
    /// The reset-flag register (RCC_CSR) of the chip's family.
    pub rcc_csr: Option<u32>,
    /// The first failure, explained by [`super::chain`].
    pub error: Option<String>,
    /// The failure's evidence class.
    pub evidence: Option<super::Evidence>,
}

/// How much to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Only the DPIDR (line reset + DPIDR read + power-up).
    Dpidr,
    /// DPIDR, AP IDR, CPUID, DBGMCU, DHCSR and the family's flash option registers.
    Full,
}

fn note(ids: &mut LinkIds, e: &ArmError) {
    if ids.error.is_none() {
        ids.error = Some(super::chain(e).join(": "));
        ids.evidence = Some(super::evidence(e));
    }
}

/// Opens the debug port on `probe` (at the speed it is set to) and reads the IDs; returns the
/// probe for further use (or `None` when probe-rs consumed it on an error it does not give back).
pub fn look(mut probe: Probe, ap: u8, depth: Depth) -> (Option<Probe>, LinkIds) {
    let mut ids = LinkIds {
        khz: probe.speed_khz(),
        ..LinkIds::default()
    };
    if dp_answers(&mut probe, false) == Some(false) {
        note(&mut ids, &no_answer_error());
        return (Some(probe), ids);
    }
    if let Err(e) = probe.attach_to_unspecified() {
        ids.error = Some(super::chain(&e).join(": "));
        ids.evidence = Some(super::evidence(&e));
        return (Some(probe), ids);
    }
    let mut iface = match probe.try_into_arm_debug_interface(DefaultArmSequence::create()) {
        Ok(i) => i,
        Err((p, e)) => {
            note(&mut ids, &e);
            return (Some(p), ids);
        }
    };
    // Line reset, JTAG-to-SWD, DPIDR read, CTRL/STAT power-up (DebugPortSetup/Start).
    if let Err(e) = iface.select_debug_port(DpAddress::Default) {
        note(&mut ids, &e);
        return (Some(iface.close()), ids);
    }
    match iface.read_raw_dp_register(DpAddress::Default, DPIDR::ADDRESS) {
        Ok(v) => ids.dpidr = Some(v),
        Err(e) => note(&mut ids, &e),
    }
    if depth == Depth::Full && ids.dpidr.is_some() {
        let apa = FullyQualifiedApAddress::v1_with_default_dp(ap);
        match iface.read_raw_ap_register(&apa, 0xFC) {
            Ok(v) => ids.ap_idr = Some(v),
            Err(e) => note(&mut ids, &e),
        }
        match iface.memory_interface(&apa) {
            Ok(mut mem) => {
                let rd = |mem: &mut Box<
                    dyn probe_rs::architecture::arm::memory::ArmMemoryInterface + '_,
                >,
                          addr: u64,
                          ids: &mut LinkIds| match mem.read_word_32(addr) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        note(ids, &e);
                        None
                    }
                };
                ids.cpuid = rd(&mut mem, ids::CPUID, &mut ids);
                ids.dhcsr = rd(&mut mem, regs::DHCSR, &mut ids);
                ids.idcode = crate::family::read_idcode(&mut |a: u64| mem.read_word_32(a).ok());
                if ids.idcode.is_none() {
                    // Record why the first address did not answer.
                    let first = crate::family::idcode_addresses()[0];
                    rd(&mut mem, first, &mut ids);
                }
                let line = crate::family::line_for(ids.idcode, &[]);
                if let Some(d) = line.debug() {
                    ids.dbgmcu_cr = rd(&mut mem, d.cr, &mut ids);
                    ids.dbgmcu_fz = if d.freeze_in_cr() {
                        ids.dbgmcu_cr
                    } else {
                        rd(&mut mem, d.freeze, &mut ids)
                    };
                }
                let known = ids
                    .idcode
                    .is_some_and(|c| crate::family::line((c & 0xFFF) as u16).is_some());
                if known {
                    if let Some(fam) = line.driver.and_then(|d| d.family()) {
                        let pages =
                            u64::from(line.max_kib) * 1024 / u64::from(line.page_size.max(1));
                        ids.flash = fam.read_flash(line, 0, 0x0800_0000, pages, &mut |a: u64| {
                            mem.read_word_32(a).ok()
                        });
                    }
                    if let Some(r) = line.reset() {
                        ids.rcc_csr = rd(&mut mem, r.csr, &mut ids);
                    }
                }
            }
            Err(e) => note(&mut ids, &e),
        }
    }
    (Some(iface.close()), ids)
}

/// The SWCLK frequencies to try, from `start_khz` down to `floor_khz`, as the probe rounds
/// them (`set_speed` returns the speed it actually uses; asking for one kHz less than the last
/// one walks down the probe's own table). The probe is left at the last speed tried.
pub fn speed_table(probe: &mut Probe, start_khz: u32, floor_khz: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut ask = start_khz;
    while ask >= floor_khz {
        match probe.set_speed(ask) {
            Ok(k) if k >= floor_khz && !out.contains(&k) => {
                out.push(k);
                if k == 0 {
                    break;
                }
                ask = k - 1;
            }
            _ => break,
        }
    }
    out
}

/// A quick look whether the SW-DP answers at all, through the probe's raw DAP access: a line
/// reset, the JTAG-to-SWD sequence, another line reset and one DPIDR read (ADIv5 §B4.3.3,
/// §B5.2.1), with NRST held low when `under_reset`. probe-rs's own connection retries the
/// DPIDR read for a full second before it gives up (`RESET_RECOVERY_TIMEOUT` of
/// `DefaultArmSequence::debug_port_connect`); the recovery ladder and `doctor` ask here first so
/// that a dead link costs milliseconds per step instead of a second. `Some(true)`: it answers;
/// `Some(false)`: no valid answer (no ACK, WAIT or a parity error); `None`: this probe has no raw
/// DAP access before it is attached (ST-Link, J-Link), so only probe-rs's connection can tell.
pub fn dp_answers(probe: &mut Probe, under_reset: bool) -> Option<bool> {
    use probe_rs::architecture::arm::RegisterAddress;
    let dap = probe.try_as_dap_probe()?;
    if under_reset {
        dap.swj_pins(0, 0x80, 0).ok()?;
    }
    let answer = (|| {
        dap.swj_sequence(51, 0x0007_FFFF_FFFF_FFFF).ok()?;
        dap.swj_sequence(16, 0xE79E).ok()?;
        dap.swj_sequence(51 + 3, 0x0007_FFFF_FFFF_FFFF).ok()?;
        Some(
            dap.raw_read_register(RegisterAddress::DpRegister(DPIDR::ADDRESS))
                .is_ok(),
        )
    })();
    if under_reset {
        let _ = dap.swj_pins(0x80, 0x80, 0);
    }
    answer
}

/// The error probe-rs gives when nothing answers on the debug port, for a step that
/// [`dp_answers`] found dead.
pub fn no_answer_error() -> ArmError {
    ArmError::NoTargetResponse {
        source: Box::new(ArmError::Dap(
            probe_rs::architecture::arm::DapError::NoAcknowledge,
        )),
    }
}
