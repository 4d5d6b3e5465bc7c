//! (to be written)

use crate::command::Registry;

/// Registers the commands of this file.
pub fn register(_reg: &mut Registry) {}
