//! stdbg: a scriptable, OpenOCD-style debug host for STM32 microcontrollers.
//!
//! Layout: [`command`] (the one dispatcher and every command), [`host`] (state, the host thread,
//! run control, the probe-rs session), [`script`] (Rhai engine and object model), [`server`]
//! (telnet console, REPL), [`sim`] (the virtual STM32), [`family`] (everything per STM32 family:
//! DEV_ID table, debug/reset registers, flash controllers, option-byte commands), [`diagnose`] (error explanations),
//! [`cli`] (the `stdbg` command line).
pub mod cli;
pub mod command;
pub mod diagnose;
pub mod family;
pub mod flashing;
pub mod gdb;
pub mod host;
pub mod log;
pub mod probe;
pub mod script;
pub mod server;
pub mod sim;
