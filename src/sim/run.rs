//! The run loop: executes the core for a budget of cycles on the CPU thread,
//! adding what the processor model lacks (`arm/core.rs`) and keeping the
//! SoC's timers punctual.
//!
//! Per instruction, only what is armed is done:
//! * with halting debug enabled (DHCSR.C_DEBUGEN), before the instruction:
//!   FPB breakpoints and DWT PC comparators halt *before* it (DFSR.BKPT /
//!   DWTTRAP, PC on it), and a BKPT instruction halts on it (DFSR.BKPT);
//!   without C_DEBUGEN the processor takes BKPT as a HardFault (HFSR.DEBUGEVT),
//!   as the architecture says (ARMv7-M ARM §C1.4);
//! * on the Cortex-M7, a double-precision instruction is executed here
//!   (`arm/vfp64.rs`);
//! * after it: DWT data watchpoints halt (imprecise, after the access);
//!   C_STEP halts (DFSR.HALTED); with DEMCR.VC_* set, an exception entry into
//!   a fault handler halts on the handler's first instruction (DFSR.VCATCH);
//!   C_MASKINTS keeps PendSV, SysTick and interrupts from being taken while
//!   stepping; SysTick on its reference clock is corrected (`arm/systick.rs`).
//!
//! SoC events: the loop stops at the virtual time of the SoC's next event
//! (`Soc::next_event`), brings the SoC up to date there and drives the
//! interrupt lines from its levels; CPU accesses to SoC registers do the same
//! right after the instruction.
//!
//! Time skipping (docs/sim.md, "Time"): a core asleep in WFI/WFE does not
//! execute; the time to its next wake-up source (SysTick, a SoC event, the end
//! of the budget) passes at once. A core spinning in a loop that cannot
//! change anything before the next event — the same registers (FP included)
//! at the same PC one iteration later with no store in between, e.g.
//! `HAL_Delay` or polling a flag that only a timer sets — skips whole
//! iterations up to one iteration before that event. Both are exact: the
//! skipped cycles are counted into SysTick, DWT_CYCCNT and the SoC as if they
//! had been executed.

use rsemu::cpu::arm::v7m::Regs;
use rsemu::cpu::arm::v7m::sys::Exception;

use super::arm::core::{Cpu, exc};
use super::arm::debug::{C_MASKINTS, DFSR_BKPT, DFSR_DWTTRAP, DFSR_HALTED, DFSR_VCATCH, demcr};
use super::arm::systick::{self, RefClock};
use super::bus::ev;
use super::chip::{Chip, RunState};
use super::soc::PowerMode;

/// Instructions between two looks at the slow-changing state (lockup,
/// firmware reset request, SysTick clock source) and two idle-loop probes.
const SAMPLE_EVERY: u32 = 256;
/// Instructions after arming the idle detector before it gives up.
const WATCH_LIMIT: u32 = 4096;
/// Longest loop period (core cycles) the idle detector considers.
const MAX_PERIOD: u64 = 20_000;
/// Instructions one call of `Chip::run` executes at most: the CPU thread hands
/// the chip back to the probe side at least this often.
pub(crate) const MAX_INSTRUCTIONS: u64 = 20_000;

/// What the loop does per instruction, recomputed when the debug or SysTick
/// configuration may have changed.
#[derive(Debug, Clone, Copy, Default)]
struct Mode {
    /// Look before each instruction (breakpoints, BKPT, Cortex-M7 doubles).
    pre: bool,
    /// Halting debug enabled.
    debugen: bool,
    /// Some FPB comparator is enabled.
    fpb: bool,
    /// Some DWT PC comparator is enabled.
    dwt_pc: bool,
    /// Fault vector catches armed.
    vc: u32,
    /// C_MASKINTS.
    maskints: bool,
    /// SysTick counts the reference clock.
    systick_ref: bool,
    /// The core executes double precision through the wrapper.
    fp64: bool,
    /// The core has an FPU: FPSCR is kept across exception entry (`arm/fpctx.rs`).
    fpu: bool,
    /// DEMCR.TRCENA: the core's ITM accesses are executed here (`arm/itm_cpu.rs`).
    trcena: bool,
}

/// The idle detector's state.
#[derive(Debug, Clone, Default)]
enum Idle {
    /// Counting instructions to the next probe.
    #[default]
    Counting,
    /// Watching for the next fetch of the probed PC.
    Armed,
    /// One iteration seen: the state to compare the next one with.
    Sampled(Box<Snapshot>),
}

#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    regs: Regs,
    fp: Option<[u32; 33]>,
    writes: u64,
    cycles: u64,
}

/// Run-loop state kept in the chip between quanta.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunLoop {
    /// Recompute [`Mode`] before the next instruction.
    pub mode_dirty: bool,
    mode: Mode,
    /// Core cycle at which the SoC's next event is due (u64::MAX: none).
    next_event: u64,
    /// The next event must be recomputed.
    event_dirty: bool,
    /// Interrupt levels last driven into the core.
    pub irq_applied: [u32; 8],
    refclock: RefClock,
    idle: Idle,
    since_sample: u32,
    since_armed: u32,
    tries: u8,
    prev_ipsr: u32,
    /// End of the current quantum (the idle detector does not skip past it).
    quantum_end: u64,
    /// An exception handler owes its first FP instruction the FPDSCR load
    /// (`arm/fpctx.rs`).
    pub fpdscr_owed: bool,
}

impl Chip {
    fn compute_mode(&mut self) -> Mode {
        let debugen = self.dbg.debugen();
        let fpb = self.fpb.enabled();
        let dwt_pc = self.port.lock().dwt.pc_armed;
        let fp64 = self.core.cfg.kind == super::arm::core::CoreKind::CortexM7;
        let systick_ref = self.core.with_sys(|s| systick::uses_reference(s));
        let vc = if debugen {
            self.dbg.demcr & demcr::VC_FAULTS
        } else {
            0
        };
        if vc != 0 && self.rl.mode.vc == 0 {
            self.rl.prev_ipsr = self.core.regs().xpsr & 0x1FF;
        }
        if self.core.has_fpu() {
            let vtor = self.core.with_sys(|s| s.vtor);
            self.port.lock().vtor = vtor;
        }
        if systick_ref && !self.rl.mode.systick_ref {
            let rc = &mut self.rl.refclock;
            self.core.with_sys(|s| rc.track(s));
        }
        let trcena = self.trcena();
        Mode {
            pre: debugen || fp64 || trcena,
            trcena,
            debugen,
            fpb: debugen && fpb,
            dwt_pc: debugen && dwt_pc,
            vc,
            maskints: debugen && self.dbg.dhcsr_c & C_MASKINTS != 0,
            systick_ref,
            fp64,
            fpu: self.core.has_fpu(),
        }
    }

    /// Recomputes the SoC's next event and drives the interrupt lines.
    fn refresh_soc(&mut self, cycles: u64) {
        let (levels, next) = {
            let b = self.port.lock();
            let mut levels = [0u32; 8];
            b.soc.irq_levels(&mut levels);
            let now = b.now(cycles);
            let next = b
                .soc
                .next_event(now, b.core_halted)
                .map(|t| cycles + b.time.cycles_until(cycles, t).max(1))
                .unwrap_or(u64::MAX);
            (levels, next)
        };
        // The trace FIFO gains room when a byte leaves the SWO pin (`arm/tpiu.rs`).
        let next = match self.trace_next_change() {
            Some(t) => next.min(cycles + self.port.lock().time.cycles_until(cycles, t).max(1)),
            None => next,
        };
        self.apply_irq_levels(levels, false);
        self.rl.next_event = next;
        self.rl.event_dirty = false;
    }

    /// Runs the core for up to `budget` core cycles (executed, slept or
    /// skipped). Returns the cycles that passed. Stops early when the core
    /// halts, locks up or is reset into a halt.
    pub(crate) fn run(&mut self, budget: u64) -> u64 {
        let start = self.cycles();
        let end = start.saturating_add(budget);
        let mut cycles = start;
        let first = self.exec.instructions;
        self.rl.quantum_end = end;
        self.rl.mode_dirty = true;
        self.rl.event_dirty = true;
        while self.run == RunState::Running && cycles < end {
            if self.rl.mode_dirty {
                self.rl.mode = self.compute_mode();
                self.rl.mode_dirty = false;
            }
            if self.rl.event_dirty {
                self.refresh_soc(cycles);
            }
            if cycles >= self.rl.next_event {
                self.publish(cycles);
                self.sync_soc();
                cycles = self.cycles();
                self.refresh_soc(cycles);
                continue;
            }
            if self.asleep {
                cycles = self.sleep_until(cycles, end);
                continue;
            }
            let mode = self.rl.mode;
            self.publish(cycles);
            let fpscr = if mode.fpu {
                if self.rl.fpdscr_owed {
                    let pc = self.core.pc();
                    self.fp_context_check(pc);
                }
                self.core.fpscr()
            } else {
                0
            };
            let n = if mode.pre {
                match self.before_instruction(&mode) {
                    Pre::Halt(bits) => {
                        self.halt(bits);
                        break;
                    }
                    Pre::Done(n) => n,
                    Pre::Step => self.step_once(&mode),
                }
            } else {
                self.core.step()
            };
            if n == 0 {
                break;
            }
            cycles += n;
            self.exec.instructions += 1;
            if self.exec.instructions - first >= MAX_INSTRUCTIONS {
                self.rl.since_sample = SAMPLE_EVERY; // look at the slow state now
            }
            if mode.systick_ref {
                let rc = &mut self.rl.refclock;
                self.core.with_sys(|s| rc.after_step(s, n));
            }
            let events = self.port.take_events();
            if events & ev::VECTOR != 0 && mode.fpu {
                self.fp_entry_fixup(fpscr);
            }
            if events != 0 {
                if self.after_events(events, cycles) {
                    cycles = self.cycles();
                    break;
                }
                // Time may have been skipped (idle loop).
                cycles = self.cycles();
            }
            if mode.vc != 0 && self.vector_catch(mode.vc) {
                break;
            }
            if self.step_pending {
                self.publish(cycles);
                if self.core.asleep() {
                    // Stepping over WFI/WFE does not sleep.
                    self.core.leave_sleep_and_lockup();
                }
                self.halt(DFSR_HALTED);
                break;
            }
            self.rl.since_sample += 1;
            if self.rl.since_sample >= SAMPLE_EVERY {
                self.rl.since_sample = 0;
                self.publish(cycles);
                if self.sample(cycles) {
                    break;
                }
                cycles = self.cycles();
                if self.exec.instructions - first >= MAX_INSTRUCTIONS {
                    break;
                }
            }
            if !matches!(self.rl.idle, Idle::Counting) {
                self.rl.since_armed += 1;
                if self.rl.since_armed > WATCH_LIMIT {
                    self.disarm_idle();
                }
            }
        }
        let cycles = self.cycles().max(cycles);
        self.publish(cycles);
        self.dbg.s_retire_st = true;
        let used = cycles - start;
        self.exec.cycles += used;
        used
    }

    #[inline]
    fn publish(&self, cycles: u64) {
        self.port
            .cycles
            .store(cycles, std::sync::atomic::Ordering::Relaxed);
    }

    /// One processor step, with C_MASKINTS applied.
    fn step_once(&mut self, mode: &Mode) -> u64 {
        if !mode.maskints {
            return self.core.step();
        }
        // C_MASKINTS (ARMv7-M ARM §C1.6.2): PendSV, SysTick and external
        // interrupts are not taken while the debugger steps.
        let saved = self.core.with_sys(|s| {
            let saved = s.enable;
            for e in [exc::PEND_SV, exc::SYSTICK] {
                s.set_enable(Exception(e), false);
            }
            // External interrupts: exception numbers 16 and up.
            s.enable[0] &= 0x0000_FFFF;
            for w in s.enable.iter_mut().skip(1) {
                *w = 0;
            }
            saved
        });
        let n = self.core.step();
        self.core.with_sys(|s| s.enable = saved);
        n
    }

    /// Whether the next step is an exception entry: a pending, enabled exception with a higher
    /// priority than the execution priority (ARMv7-M ARM §B1.5.4: active exceptions, PRIMASK,
    /// FAULTMASK, BASEPRI), C_MASKINTS applied. The entry comes before the instruction at the
    /// PC, so a breakpoint there does not halt the core until the handler returns (OpenOCD's
    /// `cortex_m maskisr auto` relies on that).
    fn exception_next(&self, mode: &Mode) -> bool {
        let r = self.core.regs();
        self.core.with_sys(|s| {
            let Some((e, p)) = s.highest_pending() else {
                return false;
            };
            // C_MASKINTS holds back PendSV, SysTick and external interrupts (see `step_once`).
            if mode.maskints && (e.0 == exc::PEND_SV || e.0 == exc::SYSTICK || e.0 >= 16) {
                return false;
            }
            let mut prio = s.active_priority();
            if r.faultmask {
                prio = prio.min(-1);
            }
            if r.primask {
                prio = prio.min(0);
            }
            if r.basepri != 0 {
                prio = prio.min(i32::from(r.basepri & s.group_mask()));
            }
            p < prio
        })
    }

    /// The checks before an instruction (halting debug, Cortex-M7 doubles).
    fn before_instruction(&mut self, mode: &Mode) -> Pre {
        let pc = self.core.pc();
        if mode.fpb && self.fpb.breaks_at(pc) && !self.exception_next(mode) {
            return Pre::Halt(DFSR_BKPT);
        }
        if mode.dwt_pc && self.port.lock().dwt.pc_match(pc) {
            return Pre::Halt(DFSR_DWTTRAP);
        }
        let Ok(hw1) = self.port.debug_read(pc, 2) else {
            return Pre::Step; // the fetch faults: the processor takes it
        };
        if mode.debugen && hw1 & 0xFF00 == 0xBE00 {
            return Pre::Halt(DFSR_BKPT);
        }
        if mode.fp64
            && let Some(n) = self.try_fp64(pc, hw1 as u16)
        {
            return Pre::Done(n);
        }
        if super::arm::itm_cpu::may_be_load_store(hw1 as u16)
            && let Some(n) = super::arm::itm_cpu::execute_at(self, pc, hw1 as u16)
        {
            // The trace FIFO's next change moves (`refresh_soc`).
            self.rl.event_dirty = true;
            return Pre::Done(n);
        }
        Pre::Step
    }

    /// Looks at the events CPU accesses raised. True when the loop must stop.
    fn after_events(&mut self, events: u32, cycles: u64) -> bool {
        self.publish(cycles);
        if events & ev::RESET != 0 {
            let cause = self.port.lock().pending_reset.take();
            if let Some(c) = cause {
                self.system_reset(c);
                return self.run != RunState::Running;
            }
        }
        if events & ev::DWT != 0 {
            let hit = std::mem::take(&mut self.port.lock().dwt.pending_trap);
            if hit && self.dbg.debugen() {
                self.halt(DFSR_DWTTRAP);
                return true;
            }
        }
        if events & ev::PERIPH != 0 {
            self.rl.event_dirty = true;
            self.rl.mode_dirty = true;
        }
        if events & ev::WFI != 0 && self.core.asleep() {
            self.asleep = true;
            let deep = self.core.with_sys(|s| s.scr & (1 << 2) != 0);
            if deep {
                let mode = self.enter_deep_sleep();
                tracing::debug!("virtual STM32: deep sleep ({mode:?})");
            }
            self.disarm_idle();
        }
        if events & ev::WATCH != 0 {
            return self.idle_watch(cycles);
        }
        false
    }

    fn enter_deep_sleep(&mut self) -> PowerMode {
        let c = self.cycles();
        let mut b = self.port.lock();
        let now = b.now(c);
        let bus = &mut *b;
        let mut cx = super::soc::SocCtx {
            now,
            nv: &mut bus.nv,
            faults: &bus.faults,
            origin: super::soc::Origin::Cpu,
            debug_latched: bus.debug_latched,
            debugen: bus.debugen,
            core_halted: bus.core_halted,
        };
        bus.soc.enter_deep_sleep(&mut cx)
    }

    /// A vector catch (DEMCR.VC_*) on entry to a fault handler: halt on its
    /// first instruction (ARMv7-M ARM §C1.6.5).
    fn vector_catch(&mut self, vc: u32) -> bool {
        let regs = self.core.regs();
        let ipsr = regs.xpsr & 0x1FF;
        let prev = std::mem::replace(&mut self.rl.prev_ipsr, ipsr);
        if ipsr == prev || !(exc::HARD_FAULT..=exc::USAGE_FAULT).contains(&ipsr) {
            return false;
        }
        // An entry, not a return into an interrupted fault handler: the PC is
        // the handler's first instruction.
        let vtor = self.core.with_sys(|s| s.vtor);
        let entry = self.port.debug_read(vtor.wrapping_add(4 * ipsr), 4).ok();
        if entry.map(|v| v & !1) != Some(regs.r[15]) {
            return false;
        }
        let (cfsr, hfsr) = self.core.with_sys(|s| (s.cfsr, s.hfsr));
        let entry_error = cfsr & 0x1818 != 0 || cfsr & (1 << 18) != 0 || hfsr & 2 != 0;
        let caught = match ipsr {
            exc::HARD_FAULT => {
                vc & demcr::VC_HARDERR != 0 || (entry_error && vc & demcr::VC_INTERR != 0)
            }
            exc::MEM_MANAGE => vc & demcr::VC_MMERR != 0,
            exc::BUS_FAULT => vc & demcr::VC_BUSERR != 0,
            _ => {
                (cfsr & 0x3_0000 != 0 && vc & demcr::VC_STATERR != 0)
                    || (cfsr & 0x300_0000 != 0 && vc & demcr::VC_CHKERR != 0)
                    || (cfsr & (1 << 19) != 0 && vc & demcr::VC_NOCPERR != 0)
                    || (cfsr & (1 << 18) != 0 && vc & demcr::VC_INTERR != 0)
            }
        };
        if caught {
            self.halt(DFSR_VCATCH);
        }
        caught
    }

    /// The slow look every [`SAMPLE_EVERY`] instructions. True: stop.
    fn sample(&mut self, cycles: u64) -> bool {
        if self.core.take_reset_request() {
            self.system_reset(super::soc::ResetCause::Software);
            return self.run != RunState::Running;
        }
        if self.core.locked_up() {
            let pc = self.core.pc();
            tracing::debug!("virtual STM32: the core locked up (PC {pc:#010x})");
            self.run = RunState::LockedUp;
            return true;
        }
        if !self.asleep && self.core.asleep() {
            // Asleep without a fetched WFI: SLEEPONEXIT.
            self.asleep = true;
        }
        let (systick_ref, vtor) = self.core.with_sys(|s| (systick::uses_reference(s), s.vtor));
        if systick_ref != self.rl.mode.systick_ref || self.trcena() != self.rl.mode.trcena {
            self.rl.mode_dirty = true;
        }
        if self.rl.mode.fpu {
            self.port.lock().vtor = vtor;
        }
        if matches!(self.rl.idle, Idle::Counting) {
            let pc = self.core.pc();
            self.port.lock().watch_pc = pc;
            self.rl.idle = Idle::Armed;
            self.rl.since_armed = 0;
            self.rl.tries = 0;
        }
        let _ = cycles;
        false
    }

    fn disarm_idle(&mut self) {
        self.rl.idle = Idle::Counting;
        self.port.lock().watch_pc = 1;
    }

    fn snapshot(&self, cycles: u64) -> Snapshot {
        let fp = self.core.has_fpu().then(|| {
            let mut v = [0u32; 33];
            for (i, s) in v.iter_mut().take(32).enumerate() {
                *s = self.core.s(i as u8);
            }
            v[32] = self.core.fpscr();
            v
        });
        Snapshot {
            regs: self.core.regs(),
            fp,
            writes: self.port.lock().cpu_writes,
            cycles,
        }
    }

    /// The watched PC was fetched again. True: stop.
    fn idle_watch(&mut self, cycles: u64) -> bool {
        let now = self.snapshot(cycles);
        match std::mem::take(&mut self.rl.idle) {
            Idle::Armed => self.rl.idle = Idle::Sampled(Box::new(now)),
            Idle::Sampled(prev) => {
                let same = prev.regs == now.regs && prev.fp == now.fp && prev.writes == now.writes;
                let period = now.cycles - prev.cycles;
                if same && period > 0 && period <= MAX_PERIOD {
                    return self.skip_idle_loop(now, period);
                }
                self.rl.tries += 1;
                if self.rl.tries > 4 {
                    self.disarm_idle();
                } else {
                    self.rl.idle = Idle::Sampled(Box::new(now));
                }
            }
            Idle::Counting => {}
        }
        false
    }

    /// A pure loop of `period` cycles: skip whole iterations up to one before
    /// the next event that could end it. True: stop.
    fn skip_idle_loop(&mut self, now: Snapshot, period: u64) -> bool {
        if self.core.take_reset_request() {
            self.system_reset(super::soc::ResetCause::Software);
            return self.run != RunState::Running;
        }
        let cycles = now.cycles;
        let mut limit = self.rl.next_event;
        if let Some(w) = self
            .core
            .with_sys(|s| systick::cycles_to_wrap(s, self.rl.refclock.frac))
        {
            limit = limit.min(cycles + w);
        }
        limit = limit.min(self.rl.quantum_end);
        let k = limit.saturating_sub(cycles) / period;
        if k >= 2 {
            let skip = (k - 1) * period;
            self.skip_cycles(cycles, skip);
        }
        self.rl.idle = Idle::Sampled(Box::new(Snapshot {
            cycles: self.cycles(),
            ..now
        }));
        false
    }

    /// `skip` core cycles pass without executing: SysTick, DWT_CYCCNT and the
    /// SoC see them.
    fn skip_cycles(&mut self, cycles: u64, skip: u64) {
        let rc = &mut self.rl.refclock;
        let counting = !self.asleep || self.port.lock().soc.power_mode() == PowerMode::Run;
        if counting {
            self.core.with_sys(|s| systick::skip(s, rc, skip));
        }
        self.exec.skipped_cycles += skip;
        self.publish(cycles + skip);
    }

    /// Asleep: time passes to the next wake-up source at once. Returns the
    /// new cycle count.
    fn sleep_until(&mut self, cycles: u64, end: u64) -> u64 {
        let mut limit = end.min(self.rl.next_event);
        let run_mode = self.port.lock().soc.power_mode() == PowerMode::Run;
        if run_mode
            && let Some(w) = self
                .core
                .with_sys(|s| systick::cycles_to_wrap(s, self.rl.refclock.frac))
        {
            limit = limit.min(cycles + w);
        }
        let skip = limit.saturating_sub(cycles);
        if skip > 0 {
            self.skip_cycles(cycles, skip);
        }
        let c = self.cycles();
        // Let the processor see what became pending (it wakes up if so).
        let n = self.core.step();
        self.publish(c + n);
        if !self.core.asleep() {
            self.asleep = false;
            if !run_mode {
                let fx = {
                    let c = self.cycles();
                    let mut b = self.port.lock();
                    let now = b.now(c);
                    let bus = &mut *b;
                    let mut cx = super::soc::SocCtx {
                        now,
                        nv: &mut bus.nv,
                        faults: &bus.faults,
                        origin: super::soc::Origin::Cpu,
                        debug_latched: bus.debug_latched,
                        debugen: bus.debugen,
                        core_halted: bus.core_halted,
                    };
                    bus.soc.leave_low_power(&mut cx)
                };
                let c = self.cycles();
                self.port.lock().apply(c, fx);
            }
        }
        self.cycles()
    }

    /// Executes a Cortex-M7 double-precision instruction at `pc` if it is
    /// one; returns the cycles it took.
    fn try_fp64(&mut self, pc: u32, hw1: u16) -> Option<u64> {
        super::arm::fp64::execute_at(self, pc, hw1)
    }
}

/// What to do about the next instruction.
enum Pre {
    /// A debug event: halt before it.
    Halt(u32),
    /// The wrapper executed it; cycles taken.
    Done(u64),
    /// The processor executes it.
    Step,
}
