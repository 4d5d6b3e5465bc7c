//! Debug adapters stdbg adds to probe-rs's, as probe-rs probes (below the host, like probe-rs's
//! own `probe/<driver>` modules).

pub mod batch;
pub mod jtag_dp;
pub mod memap;
pub mod remote_bitbang;
