//! The simulator's CPU thread: decides when the core runs and for how long
//! (see `docs/sim.md`, "Time").
//!
//! * **Coupled to the wire.** A probe request grants the core the cycles that
//!   pass during its SWD transactions (`Shared::with_chip_after_wire`); the
//!   thread executes them before the request takes effect. Deterministic.
//! * **Free-running when the probe is idle** for [`IDLE`]: the core runs in
//!   wall time at its clock, never ahead of real time (time skipping of sleep
//!   and idle loops included, so a one-second delay takes a second).
//! * A core that does not execute (halted, held in reset, locked up,
//!   unpowered) still lets virtual time pass in wall time while the probe is
//!   idle, for the SoC's timers (a watchdog); the thread wakes when the next
//!   SoC event is due.
//!
//! After every quantum, what the USARTs sent is handed to the serial sink. A
//! panic of the processor model is caught here: the core locks up and the
//! log says so (never a lost chip, a hung probe or a dead thread).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Shared;
use super::time::PS_PER_S;

/// Longest run of core cycles between two hand-backs of the chip when coupled
/// to the wire.
const QUANTUM: u64 = 20_000;
/// Longest stretch of virtual time one free-running quantum may cover (the
/// run loop also stops after `run::MAX_INSTRUCTIONS`), seconds.
const FREE_QUANTUM_S: f64 = 0.01;
/// Least virtual time a free-running quantum covers, seconds.
const MIN_BATCH_S: f64 = 0.001;
/// A running core free-runs in wall time once the probe has been idle this long.
pub(crate) const IDLE: Duration = Duration::from_millis(2);

/// The simulator thread: runs the core when wire time or wall time allows.
pub(crate) fn cpu_thread(shared: Arc<Shared>) {
    // Free-running anchor: (activity sequence, wall start, cycles at start).
    let mut anchor: Option<(u64, Instant, u64)> = None;
    // Same for the virtual time of a core that does not execute: (sequence, wall start, time_ps).
    let mut idle_anchor: Option<(u64, Instant, u64)> = None;
    loop {
        let mut g = shared.lock();
        let (grant, coupled) = loop {
            if g.shutdown {
                return;
            }
            let Some(chip) = g.chip.as_mut() else {
                g = shared.cv.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            if !chip.core_active() {
                let deadline = chip.timer_deadline_ps();
                let now_ps = chip.now();
                g.credit = 0;
                anchor = None;
                // Halted, in reset or locked up: no instructions, but a running
                // watchdog keeps counting in wall time once the probe is idle.
                let Some(deadline) = deadline else {
                    idle_anchor = None;
                    g = shared.cv.wait(g).unwrap_or_else(|e| e.into_inner());
                    continue;
                };
                let idle = g.last_activity.elapsed();
                let wait = if g.waiters > 0 {
                    Duration::from_millis(50)
                } else if idle < IDLE {
                    IDLE - idle
                } else {
                    let seq = g.activity_seq;
                    let (_, start, t0) = match idle_anchor {
                        Some(a) if a.0 == seq => a,
                        _ => {
                            let a = (seq, Instant::now(), now_ps);
                            idle_anchor = Some(a);
                            a
                        }
                    };
                    let due = t0 + start.elapsed().as_nanos() as u64 * 1000;
                    if due > now_ps {
                        let chip = g.chip.as_mut().expect("chip present");
                        chip.advance_idle(due - now_ps);
                    }
                    let left_ps = deadline.saturating_sub(due.max(now_ps));
                    Duration::from_secs_f64(left_ps as f64 / PS_PER_S as f64)
                        .clamp(Duration::from_micros(500), Duration::from_millis(100))
                };
                shared.cv.notify_all();
                g = shared
                    .cv
                    .wait_timeout(g, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                continue;
            }
            idle_anchor = None;
            if g.credit > 0 {
                anchor = None;
                break (g.credit.min(QUANTUM), true);
            }
            let idle = g.last_activity.elapsed();
            if g.waiters > 0 || idle < IDLE {
                let wait = if g.waiters > 0 {
                    Duration::from_millis(50)
                } else {
                    IDLE - idle
                };
                g = shared
                    .cv
                    .wait_timeout(g, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                continue;
            }
            // Free-running, throttled to the core clock in wall time.
            let chip = g.chip.as_ref().expect("chip present");
            let (hz, cycles) = (chip.hclk_hz(), chip.cycles());
            let seq = g.activity_seq;
            let (_, start, c0) = match anchor {
                Some(a) if a.0 == seq => a,
                _ => {
                    let a = (seq, Instant::now(), cycles);
                    anchor = Some(a);
                    a
                }
            };
            let due = (start.elapsed().as_secs_f64() * hz as f64) as u64;
            let done = cycles.saturating_sub(c0);
            // Run in batches of at least MIN_BATCH of virtual time: fewer, longer
            // quanta (a core that mostly sleeps or idles then costs almost nothing).
            let min_batch = (hz as f64 * MIN_BATCH_S) as u64;
            if due >= done + min_batch {
                let cap = ((hz as f64 * FREE_QUANTUM_S) as u64).max(QUANTUM);
                break ((due - done).min(cap), false);
            }
            let ahead = (done + min_batch).saturating_sub(due);
            let sleep = Duration::from_secs_f64((ahead as f64 / hz as f64).max(0.000_2));
            g = shared
                .cv
                .wait_timeout(g, sleep)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        let mut chip = g.chip.take().expect("chip present");
        let sink = g.serial_sink.clone();
        drop(g);
        // The processor model is an early crate: if it ever panics, the chip
        // goes back to the probe side locked up (a halt or reset leaves that)
        // instead of being lost with this thread.
        let used = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| chip.run(grant)))
        {
            Ok(used) => used,
            Err(_) => {
                chip.emulator_failed();
                0
            }
        };
        // USART output goes to the sink; without one it stays in the chip
        // for `Sim::take_serial`.
        let serial = if sink.is_some() {
            chip.take_serial()
        } else {
            Vec::new()
        };
        let mut g = shared.lock();
        let active = chip.core_active();
        g.chip = Some(chip);
        if coupled {
            g.credit = if active {
                g.credit.saturating_sub(used)
            } else {
                0
            };
        }
        drop(g);
        shared.cv.notify_all();
        if let Some(sink) = sink {
            for (name, bytes) in &serial {
                sink(name, bytes);
            }
        }
    }
}
