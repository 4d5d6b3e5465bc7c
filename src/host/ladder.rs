//! What the recovery ladder of [`super::connection::connect`] reports: how `init` got
//! connected ([`Recovery`]), and when every rung failed, what each one saw ([`LadderFailure`]),
//! written as the error the user reads.

/// How `init` got connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The first, plain attach worked.
    None,
    /// A lower SWCLK worked after `from_khz` failed.
    LowerSpeed {
        /// The configured speed that failed, kHz.
        from_khz: u32,
        /// The speed that worked, kHz.
        to_khz: u32,
    },
    /// Attaching with NRST asserted worked (the core is halted at the reset vector).
    UnderReset,
    /// Attaching under reset worked only at a lower SWCLK: two causes (the firmware cuts the
    /// link, and the line is not clean at `from_khz`).
    UnderResetLowerSpeed {
        /// The configured speed that failed, kHz.
        from_khz: u32,
        /// The speed that worked, kHz.
        to_khz: u32,
    },
    /// The board script asked for connect under reset (`connect_assert_srst`).
    Configured,
}

/// One rung of the recovery ladder and how it went.
#[derive(Debug, Clone)]
pub struct Rung {
    /// What was tried, e.g. `plain attach at 1000 kHz`.
    pub what: String,
    /// `Ok(note)` or the error in words.
    pub result: Result<String, String>,
}

/// Everything the ladder learnt when no step connected.
#[derive(Debug)]
pub struct LadderFailure {
    /// Chip name.
    pub chip: String,
    /// Adapter description.
    pub adapter: String,
    /// Steps tried, in order.
    pub rungs: Vec<Rung>,
    /// The step of the connection that failed (`line reset and DPIDR read`, …).
    pub step: String,
    /// Evidence class of the first failure.
    pub evidence: crate::diagnose::Evidence,
    /// Target voltage, volts.
    pub voltage: Option<f32>,
    /// NRST wiring as far as it could be checked.
    pub nrst: NrstState,
    /// Speed configured, kHz.
    pub speed_khz: u32,
    /// The first error (full chain).
    pub first_error: String,
    /// ST-Link firmware too old (minimum version), when probe-rs says so.
    pub firmware_outdated: Option<u8>,
    /// The flash driver of the target's family (`stm32f1x`, `stm32l4x`), named in the fixes.
    pub driver: &'static str,
    /// How firmware turns the family's SWD pins off (e.g. `AFIO_MAPR.SWJ_CFG`).
    pub swd_pins: &'static str,
    /// Where the family sets read-out protection level 2 (`None`: the family has no level 2).
    pub rdp2: Option<&'static str>,
}

/// What stdbg knows about the NRST line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NrstState {
    /// `reset_config` declares SRST.
    Configured,
    /// Checked: the line follows the probe.
    Wired,
    /// Checked: the line stays high while the probe asserts it.
    NotWired,
    /// Not checked (this probe cannot read its pins back, or the ladder stopped before).
    Unknown,
}

impl std::fmt::Display for LadderFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::diagnose::Evidence;
        let volts = match self.voltage {
            Some(v) => format!("{v:.2} V"),
            None => "not measured by this probe".into(),
        };
        writeln!(
            f,
            "could not connect to {} through {}",
            self.chip, self.adapter
        )?;
        writeln!(f, "  failed step: {} ({})", self.step, self.first_error)?;
        let tried: Vec<String> = self
            .rungs
            .iter()
            .map(|r| {
                format!(
                    "{}: {}",
                    r.what,
                    match &r.result {
                        Ok(n) => n.clone(),
                        Err(e) => e.clone(),
                    }
                )
            })
            .collect();
        writeln!(
            f,
            "  evidence: DPIDR not read; target voltage {volts}; SWCLK {} kHz",
            self.speed_khz
        )?;
        for t in tried {
            writeln!(f, "    tried {t}")?;
        }
        if let Some(min) = self.firmware_outdated {
            write!(
                f,
                "  cause: the ST-Link firmware is older than probe-rs supports (minimum J{min})\n  fix: update the probe with ST's ST-LinkUpgrade (STM32CubeProgrammer > Firmware upgrade), then run stdbg again"
            )?;
            return Ok(());
        }
        let powered = self.voltage.is_none_or(|v| v >= 1.4);
        if !powered {
            write!(
                f,
                "  cause: no target power: the probe measures {volts} on its target-voltage pin (VTref/3V3), so nothing can answer on SWD; the recovery steps were skipped\n  fix: power the board (USB or a 3.3 V supply), check that the probe's VTref/3V3 pin is wired to the board's 3.3 V and GND to GND, then run init again"
            )?;
            return Ok(());
        }
        match self.evidence {
            Evidence::NoAck | Evidence::LineErrors | Evidence::Wait => {
                let nrst = match self.nrst {
                    NrstState::NotWired => {
                        "NRST is not wired to the probe (the line stayed high while the probe asserted it), so stdbg could not connect under reset"
                    }
                    NrstState::Configured | NrstState::Wired => "connecting under reset failed too",
                    NrstState::Unknown => "connecting under reset did not help either",
                };
                write!(
                    f,
                    "  cause: the target is powered ({volts}) but the SW-DP gives no ACK at any speed. Most likely the firmware disabled the SWD pins ({}) or put the chip in Stop/Standby without the DBGMCU_CR debug bits; otherwise SWDIO/SWCLK are not connected. {nrst}.",
                    self.swd_pins
                )?;
                if let Some(rdp2) = self.rdp2.filter(|_| self.nrst != NrstState::NotWired) {
                    write!(
                        f,
                        " A chip at read-out protection level 2 ({rdp2}) looks exactly like this: it keeps its debug port off from reset on, even under reset."
                    )?;
                }
                write!(f, "\n  fix: ")?;
                if self.nrst == NrstState::NotWired {
                    write!(
                        f,
                        "wire the board's NRST to the probe's RST pin and add `reset_config(\"srst_only srst_nogate connect_assert_srst\");` to the board script; without that wire, hold the board's RESET button while starting stdbg (the debug port answers while NRST is low) and release it once connected; or set BOOT0 = 1 (boot from system memory), power-cycle, connect and run `{} mass_erase 0`",
                        self.driver
                    )?;
                } else {
                    write!(
                        f,
                        "check SWDIO, SWCLK and GND; with the wiring right, set BOOT0 = 1 (boot from system memory), power-cycle, connect and run `{} mass_erase 0` to remove the firmware",
                        self.driver
                    )?;
                }
                if self.rdp2.is_some() && self.nrst != NrstState::NotWired {
                    write!(
                        f,
                        ". If the chip was set to RDP level 2, that is permanent: nothing can be done over SWD (no unlock, no erase, not even with BOOT0); only the firmware on the chip can still change its own flash"
                    )?;
                }
                Ok(())
            }
            Evidence::Fault => write!(
                f,
                "  cause: the debug port answered FAULT during the connection (an AP access failed)\n  fix: run 'doctor' for the register-level evidence; if flash is read-protected, `{} unlock 0` (this erases the flash)",
                self.driver
            ),
            Evidence::Timeout => write!(
                f,
                "  cause: the debug port answers but the core did not halt in time (held in reset, or locked up)\n  fix: run 'doctor'; check that NRST is not held low by the board"
            ),
            Evidence::Other => write!(f, "  fix: run 'doctor' for a step-by-step check"),
        }
    }
}
