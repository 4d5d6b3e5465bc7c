//! The decoded fault of the halted current target, for the consoles that do
//! not get the halt message (GDB's console) and for the `fault` command.

use super::Host;
use crate::command::CommandError;
use crate::diagnose::fault::FaultReport;

impl Host {
    /// The fault explanation lines of the halted current target
    /// (`diagnose::fault`), empty when the core is not in a fault handler,
    /// not locked up and not halted by a fault vector catch.
    pub fn fault_lines(&self) -> Result<Vec<String>, CommandError> {
        self.with_core(|core, _| {
            Ok(match FaultReport::read(core, false)? {
                Some(r) => r.explain(&|a| self.symbolize(a)),
                None => Vec::new(),
            })
        })
    }
}
