//! The Arm part of the virtual chip, family-free: the processor (`core.rs`,
//! rsemu behind one trait, with the wrapper's additions `fp64.rs`/`vfp64.rs`
//! and `systick.rs`), halting debug and the debugger's view of the SCS
//! (`debug.rs`), the FPB, DWT, ITM and TPIU (ARMv7-M ARM §C1; the core's ITM
//! accesses are executed by the wrapper, `itm_cpu.rs`), the ROM table
//! (ADIv5 §D1), and the debug port: SW-DP (`dp.rs`, ADIv5 §B2/§B4) and
//! the access ports (`ap.rs`, ADIv5 §C2), the Cortex-M7 caches' control
//! registers (`cache.rs`).

pub(crate) mod ap;
pub(crate) mod cache;
pub(crate) mod core;
pub(crate) mod debug;
pub(crate) mod dp;
pub(crate) mod dwt;
pub(crate) mod fp64;
pub(crate) mod fpb;
pub(crate) mod fpctx;
pub(crate) mod itm;
pub(crate) mod itm_cpu;
pub mod jtag;
pub(crate) mod ppb;
pub(crate) mod romtable;
pub mod swd_pins;
pub(crate) mod systick;
pub(crate) mod tpiu;
pub(crate) mod vfp64;
