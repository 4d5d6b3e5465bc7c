//! Image loading, checks against the memory map, and flashing through probe-rs (to be written).
