//! The RTT poll: drains the up channels, fills the down channels, hands the bytes on (TCP
//! servers, console lines, the defmt decoder). See the parent module.

use std::time::Instant;

use probe_rs::rtt::Rtt;

use super::super::{Host, HostEvent};
use super::{PollReport, READ_CHUNK};
use super::{RttError, State, rtt_op};
use crate::command::CommandError;
use crate::diagnose;
use crate::host::lines::printable;

impl Host {
    /// The poller's hook: one RTT poll when RTT is started, the target connected and the polling
    /// interval has passed since the last one. Errors are logged once until a poll succeeds.
    pub fn poll_rtt(&self) {
        {
            let s = self.rtt_state();
            if !s.started || s.last_poll.is_some_and(|t| t.elapsed() < s.interval) {
                return;
            }
        }
        if self.conn().is_none() {
            return;
        }
        match self.rtt_poll_once() {
            Ok(_) => self.rtt_state().failing = false,
            Err(e) => {
                let mut s = self.rtt_state();
                if !s.failing {
                    s.failing = true;
                    drop(s);
                    tracing::warn!("rtt: polling failed (retried every poll): {e}");
                }
            }
        }
    }

    /// One RTT poll now: drains every up channel (up to [`READ_CHUNK`] bytes each) and writes
    /// what is queued for the down channels, then hands the data on. Never halts the core.
    pub fn rtt_poll_once(&self) -> Result<PollReport, CommandError> {
        let mut s = self.rtt_state();
        s.last_poll = Some(Instant::now());
        let inputs: Vec<(usize, Vec<u8>)> = s
            .servers
            .values()
            .map(|v| (v.channel, v.take_input()))
            .filter(|(_, b)| !b.is_empty())
            .collect();
        for (ch, b) in inputs {
            s.down_queue.entry(ch).or_default().extend_from_slice(&b);
        }
        if s.rtt.is_none()
            && let Some(p) = s.ptr
        {
            match self.with_core(|core, _| rtt_op(Rtt::attach_at(core, p)))? {
                Ok(r) => s.rtt = Some(r),
                Err(e) => {
                    return Err(diagnose::command_error(
                        "attach to the RTT control block again",
                        &e,
                    ));
                }
            }
        }
        let State {
            rtt, down_queue, ..
        } = &mut *s;
        let Some(rtt) = rtt.as_mut() else {
            return Err(RttError::NoControlBlock.into());
        };
        let ptr = rtt.ptr();
        let polled = self.with_core(|core, _| {
            let mut got = Vec::new();
            let mut buf = vec![0u8; READ_CHUNK];
            for ch in rtt.up_channels.iter_mut() {
                match ch.read(core, &mut buf) {
                    Ok(0) => {}
                    Ok(n) => got.push((ch.number(), buf[..n].to_vec())),
                    Err(probe_rs::rtt::Error::Probe(e)) => return Err(e),
                    Err(e) => return Ok(Err(e)),
                }
            }
            let mut written = 0;
            for ch in rtt.down_channels.iter_mut() {
                let Some(q) = down_queue.get_mut(&ch.number()).filter(|q| !q.is_empty()) else {
                    continue;
                };
                match ch.write(core, q) {
                    Ok(n) => {
                        q.drain(..n);
                        written += n;
                    }
                    Err(probe_rs::rtt::Error::Probe(e)) => return Err(e),
                    Err(e) => return Ok(Err(e)),
                }
            }
            Ok(Ok((got, written)))
        })?;
        let (got, written) = match polled {
            Ok(v) => v,
            Err(e) => {
                // The firmware re-initialised its control block (a reset, a new image): the next
                // poll attaches again at the same address.
                s.rtt = None;
                if matches!(e, probe_rs::rtt::Error::ReadPointerChanged) {
                    // What a reset does (the firmware zeroes its block and starts over): not a
                    // failure.
                    tracing::info!(
                        "rtt: the firmware re-initialised its control block at {ptr:#010x} (a reset?): reading it again from its start"
                    );
                    return Ok(PollReport::default());
                }
                return Err(diagnose::command_error("read the RTT channels", &e));
            }
        };
        let read = got.iter().map(|(_, b)| b.len()).sum();
        let mut out = Vec::new();
        for (ch, bytes) in got {
            for v in s.servers.values().filter(|v| v.channel == ch) {
                v.send(&bytes);
            }
            let lines = match (ch, s.defmt.as_mut()) {
                (0, Some(d)) => d.feed(&bytes),
                _ => s
                    .lines
                    .entry(ch)
                    .or_default()
                    .feed(&bytes)
                    .iter()
                    .map(|l| printable(l))
                    .collect(),
            };
            out.extend(lines.into_iter().map(|l| (ch, format!("[rtt{ch}] {l}"))));
        }
        drop(s);
        let stdout = self.serial().stdout_enabled();
        for (ch, line) in out {
            if stdout {
                println!("{line}");
            }
            self.events().send(HostEvent::Target {
                target: format!("rtt{ch}"),
                lines: vec![line],
                origin: None,
            });
        }
        Ok(PollReport { read, written })
    }
}
