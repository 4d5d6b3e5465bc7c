//! The virtual STM32 (placeholder with the agreed API; the model lands from the `sim` branch).
#![allow(missing_docs, dead_code)]
use std::path::PathBuf;
use probe_rs::probe::{DebugProbe, DebugProbeError, WireProtocol};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipModel { Stm32f103c8, Stm32f103cb }
impl ChipModel {
    pub fn name(&self) -> &'static str { match self { Self::Stm32f103c8 => "STM32F103C8", Self::Stm32f103cb => "STM32F103CB" } }
    pub fn from_name(s: &str) -> Option<Self> { let u = s.to_ascii_uppercase(); if u.starts_with("STM32F103C8") { Some(Self::Stm32f103c8) } else if u.starts_with("STM32F103CB") { Some(Self::Stm32f103cb) } else { None } }
    pub fn probe_rs_target_name(&self) -> &'static str { self.name() }
    pub fn flash_size(&self) -> u32 { match self { Self::Stm32f103c8 => 64 * 1024, Self::Stm32f103cb => 128 * 1024 } }
    pub fn ram_size(&self) -> u32 { 20 * 1024 }
}
pub struct SimConfig { pub chip: ChipModel, pub storage: Option<PathBuf> }
#[derive(Debug, Clone, Copy, Default)]
pub struct DapStats { pub dp_reads: u64, pub dp_writes: u64, pub ap_reads: u64, pub ap_writes: u64, pub waits: u64, pub faults: u64, pub no_acks: u64, pub line_resets: u64 }
impl DapStats { pub fn total(&self) -> u64 { self.dp_reads + self.dp_writes + self.ap_reads + self.ap_writes } }
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault { NoPower, NoNrst, LineErrorsAboveKhz(u32), DisconnectAfter(u64) }
#[derive(Debug, thiserror::Error)]
pub enum SimError { #[error("the virtual target is not built yet")] NotBuilt }
#[derive(Clone)]
pub struct Sim { chip: ChipModel }
impl Sim {
    pub fn new(cfg: SimConfig) -> Result<Sim, SimError> { Ok(Sim { chip: cfg.chip }) }
    pub fn probe(&self) -> SimProbe { SimProbe }
    pub fn chip(&self) -> ChipModel { self.chip }
    pub fn stats(&self) -> DapStats { DapStats::default() }
    pub fn reset_stats(&self) {}
    pub fn flush_storage(&self) -> Result<(), SimError> { Ok(()) }
    pub fn inject(&self, _f: Fault) {}
    pub fn clear_faults(&self) {}
    pub fn faults(&self) -> Vec<Fault> { vec![] }
    pub fn gpio_odr(&self, _p: char) -> u32 { 0 }
    pub fn read_nonvolatile(&self, _a: u32, len: usize) -> Vec<u8> { vec![0xff; len] }
}
#[derive(Debug)]
pub struct SimProbe;
impl DebugProbe for SimProbe {
    fn get_name(&self) -> &str { "sim" }
    fn speed_khz(&self) -> u32 { 1000 }
    fn set_speed(&mut self, s: u32) -> Result<u32, DebugProbeError> { Ok(s) }
    fn attach(&mut self) -> Result<(), DebugProbeError> { Err(DebugProbeError::Other("sim not built".into())) }
    fn detach(&mut self) -> Result<(), probe_rs::Error> { Ok(()) }
    fn target_reset(&mut self) -> Result<(), DebugProbeError> { Ok(()) }
    fn target_reset_assert(&mut self) -> Result<(), DebugProbeError> { Ok(()) }
    fn target_reset_deassert(&mut self) -> Result<(), DebugProbeError> { Ok(()) }
    fn select_protocol(&mut self, _p: WireProtocol) -> Result<(), DebugProbeError> { Ok(()) }
    fn active_protocol(&self) -> Option<WireProtocol> { Some(WireProtocol::Swd) }
    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> { self }
}
