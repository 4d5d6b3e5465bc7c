//! Calls of the flash algorithm's routines through the MEM-AP's banked registers, and the
//! data's way into the RAM buffers meanwhile (see the parent module's doc).

use std::time::{Duration, Instant};

use probe_rs::architecture::arm::{ArmDebugInterface, ArmError, FullyQualifiedApAddress};
use probe_rs::flashing::{FlashAlgorithm, FlashError};
use probe_rs::{CoreStatus, HaltReason};

use super::{LOOP_BKPT, LOOP_PROGRESS};
use crate::diagnose::regs::DHCSR;
use crate::diagnose::regs::dhcsr::{C_DEBUGEN, DBGKEY, S_HALT, S_LOCKUP, S_REGRDY};
use crate::probe::batch::{ReadBatch, Reads};
use crate::probe::memap::{BD0, BD1, BD2, BD3, CSW, CSW_SIZE_INC, CSW_WORD_INC, DRW, REGWNR, TAR};
/// TAR auto-increment page (ADIv5 §C2.2.2).
const TAR_PAGE: u64 = crate::probe::memap::TAR_PAGE as u64;

/// The REGSEL values used (ARMv7-M ARM §C1.6.3).
const R0: u16 = 0;
const R4: u16 = 4;
const R5: u16 = 5;
const R6: u16 = 6;
const R7: u16 = 7;
const R8: u16 = 8;
const R9: u16 = 9;
const SP: u16 = 13;
const LR: u16 = 14;
const PC: u16 = 15;
const XPSR: u16 = 16;

/// DEMCR's fault vector catches (ARMv7-M ARM §C1.6.5): HARDERR, INTERR, BUSERR, STATERR,
/// CHKERR, NOCPERR, MMERR.
const VC_FAULTS: u32 = 0x7F0;

/// How long a routine is polled back to back once there is nothing left to load, and the
/// pauses between two DHCSR reads after that (doubling): an erase or the last `ProgramPage`
/// then costs a few reads, not one per transaction time (a 22 ms G4/L4 page erase is about
/// 120 back-to-back reads), and a routine that ends at once costs one.
const TIGHT: Duration = Duration::from_millis(2);
const PAUSE_FIRST: Duration = Duration::from_millis(4);
const PAUSE_MAX: Duration = Duration::from_millis(16);

/// The chunks' way into the RAM buffers, 1 KiB at a time, while the core erases or programs:
/// chunk `i` goes to buffer `i % n`, once the chunk that used that buffer before is programmed.
pub(super) struct Feed<'r> {
    pub(super) chunks: &'r [(u64, Vec<u8>)],
    pub(super) buffers: &'r [u64],
    /// The chunk being loaded and how many of its bytes are in RAM.
    pub(super) next: usize,
    pub(super) off: usize,
    /// Chunks programmed (their buffers are free).
    pub(super) programmed: usize,
    /// Chunks that may be in RAM ahead of `programmed`: one while erasing (the next one is
    /// loaded while the first is programmed), the buffer count while programming.
    pub(super) window: usize,
}

impl Feed<'_> {
    fn can_load(&self) -> bool {
        self.next < self.chunks.len() && self.next < self.programmed + self.window
    }

    /// Loads the next piece (up to 1 KiB, to the next TAR page boundary); false when there is
    /// nothing to load now.
    fn piece(&mut self, c: &mut Caller<'_>) -> Result<bool, ArmError> {
        if !self.can_load() {
            return Ok(false);
        }
        let data = &self.chunks[self.next].1;
        let addr = self.buffers[self.next % self.buffers.len()] + self.off as u64;
        let n = ((TAR_PAGE - addr % TAR_PAGE) as usize).min(data.len() - self.off);
        c.load(addr, &data[self.off..self.off + n])?;
        self.off += n;
        if self.off == data.len() {
            self.next += 1;
            self.off = 0;
        }
        Ok(true)
    }

    /// Loads chunk `i` completely (its buffer must be free).
    pub(super) fn load_through(&mut self, c: &mut Caller<'_>, i: usize) -> Result<(), ArmError> {
        while self.next <= i {
            if !self.piece(c)? {
                return Err(ArmError::Other("internal: a buffer is still in use".into()));
            }
        }
        Ok(())
    }
}

/// Calls algorithm routines through the banked registers; TAR stays at DHCSR's block except
/// while data is written to a buffer.
pub(super) struct Caller<'a> {
    i: &'a mut dyn ArmDebugInterface,
    ap: FullyQualifiedApAddress,
    /// The algorithm's `BKPT` (its load address): the return address of every call.
    bkpt: u32,
    static_base: u32,
    stack_top: u32,
    /// DEMCR before the run, written back by [`Caller::finish`].
    demcr: u32,
    /// TAR is at DHCSR's block.
    at_dcb: bool,
    /// A routine was started and DHCSR not read since.
    started: bool,
    /// The probe's deferred reads, if it has them (`probe/batch.rs`).
    reads: Option<ReadBatch>,
}

impl<'a> Caller<'a> {
    pub(super) fn new(
        i: &'a mut dyn ArmDebugInterface,
        ap: FullyQualifiedApAddress,
        reads: Option<&ReadBatch>,
        algo: &FlashAlgorithm,
    ) -> Result<Self, ArmError> {
        let csw = i.read_raw_ap_register(&ap, CSW)?;
        if csw & CSW_SIZE_INC != CSW_WORD_INC {
            i.write_raw_ap_register(&ap, CSW, (csw & !CSW_SIZE_INC) | CSW_WORD_INC)?;
        }
        i.write_raw_ap_register(&ap, TAR, DHCSR as u32)?;
        let demcr = i.read_raw_ap_register(&ap, BD3)?;
        i.write_raw_ap_register(&ap, BD3, demcr | VC_FAULTS)?;
        Ok(Caller {
            i,
            ap,
            bkpt: algo.load_address as u32,
            static_base: algo.static_base as u32,
            stack_top: algo.stack_top as u32,
            demcr,
            at_dcb: true,
            started: false,
            reads: reads.cloned(),
        })
    }

    fn select_dcb(&mut self) -> Result<(), ArmError> {
        if !self.at_dcb {
            self.i.write_raw_ap_register(&self.ap, TAR, DHCSR as u32)?;
            self.at_dcb = true;
        }
        Ok(())
    }

    /// Writes `data` (a multiple of 4 bytes) to RAM at `addr`.
    pub(super) fn load(&mut self, addr: u64, data: &[u8]) -> Result<(), ArmError> {
        self.at_dcb = false;
        let words: Vec<u32> = data
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        // Writes only: nothing to wait for (they go with the next read or flush).
        Reads::new(&mut *self.i, &self.ap, None).write_words(addr as u32, &words)
    }

    /// Reads core registers of the halted core, in one batch with a probe that batches reads:
    /// DCRSR, then DCRDR, each. S_REGRDY is not polled in between: the transfer takes a few
    /// core cycles and the next DAP transaction is far later (a JTAG scan is 40 clocks or
    /// more, an SWD one 46).
    fn read_regs<const N: usize>(&mut self, sel: [u16; N]) -> Result<[u32; N], FlashError> {
        self.select_dcb().map_err(core)?;
        let mut r = Reads::new(&mut *self.i, &self.ap, self.reads.as_ref());
        for s in sel {
            r.write(BD1, u32::from(s)).map_err(core)?;
            r.read(BD2).map_err(core)?;
        }
        let v = r.finish().map_err(core)?;
        let mut out = [0u32; N];
        for (o, v) in out.iter_mut().zip(v) {
            *o = v;
        }
        Ok(out)
    }

    /// Starts the routine at `pc` with `args` in r0–r3 (and r9, SP, xPSR on `init`), returning
    /// to the `BKPT`.
    pub(super) fn start(&mut self, pc: u64, args: &[u32], init: bool) -> Result<(), ArmError> {
        self.select_dcb()?;
        let mut regs: Vec<(u16, u32)> = args
            .iter()
            .enumerate()
            .map(|(n, v)| (R0 + n as u16, *v))
            .collect();
        if init {
            regs.extend([
                (R9, self.static_base),
                (SP, self.stack_top),
                (XPSR, 1 << 24),
            ]);
        }
        regs.extend([(LR, self.bkpt | 1), (PC, pc as u32)]);
        self.start_regs(&regs)
    }

    /// Writes `regs` (REGSEL, value) and runs the core.
    fn start_regs(&mut self, regs: &[(u16, u32)]) -> Result<(), ArmError> {
        self.select_dcb()?;
        for &(sel, v) in regs {
            self.i.write_raw_ap_register(&self.ap, BD2, v)?;
            self.i
                .write_raw_ap_register(&self.ap, BD1, u32::from(sel) | REGWNR)?;
        }
        // Run. Whether the register writes completed (S_REGRDY) is seen in the first DHCSR
        // read of the wait, in the same batch of transactions (when the core is halted again
        // by then: S_REGRDY is UNKNOWN while it runs, ARMv7-M ARM §C1.6.2).
        self.i
            .write_raw_ap_register(&self.ap, BD0, DBGKEY | C_DEBUGEN)?;
        self.started = true;
        Ok(())
    }

    /// Waits until the routine stops at the `BKPT`, loading `feed`'s next pieces meanwhile;
    /// returns r0.
    pub(super) fn wait(
        &mut self,
        timeout: Duration,
        feed: &mut Feed<'_>,
    ) -> Result<u32, FlashError> {
        self.wait_halt(timeout, feed, None)?;
        let [pc, r0] = self.read_regs([PC, R0])?;
        if pc != self.bkpt {
            // A fault vector catch (or a breakpoint) halted the routine.
            return Err(FlashError::UnexpectedCoreStatus {
                status: CoreStatus::Halted(HaltReason::Exception),
            });
        }
        Ok(r0)
    }

    /// Runs [`ERASE_LOOP`] (loaded at `at`) over `count` sectors of `size` bytes from `first`
    /// with the algorithm's `EraseSector` at `erase_sector`; `seen` gets the loop's progress
    /// word (the next sector's address) as the polls read it. Returns the last `EraseSector`
    /// result and the sector it was for.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn erase_loop(
        &mut self,
        at: u64,
        erase_sector: u64,
        (first, size, count): (u64, u64, usize),
        timeout: Duration,
        feed: &mut Feed<'_>,
        seen: &mut dyn FnMut(u64),
    ) -> Result<(u32, u64), FlashError> {
        let word = at + LOOP_PROGRESS;
        self.load(word, &(first as u32).to_le_bytes())
            .map_err(core)?;
        self.start_regs(&[
            (R4, first as u32),
            (R5, size as u32),
            (R6, count as u32),
            (R7, erase_sector as u32 | 1),
            (R8, word as u32),
            (PC, at as u32),
        ])
        .map_err(core)?;
        self.wait_halt(timeout, feed, Some((word, seen)))?;
        let [pc, r0, r4] = self.read_regs([PC, R0, R4])?;
        if pc != (at + LOOP_BKPT) as u32 {
            return Err(FlashError::UnexpectedCoreStatus {
                status: CoreStatus::Halted(HaltReason::Exception),
            });
        }
        Ok((r0, u64::from(r4)))
    }

    /// Polls DHCSR until the core halts (an error for lockup, a register write that did not
    /// complete, or `timeout`), loading `feed`'s next pieces meanwhile; with `progress`, the
    /// RAM word there is read with each poll and given to its function.
    fn wait_halt(
        &mut self,
        timeout: Duration,
        feed: &mut Feed<'_>,
        mut progress: Option<(u64, &mut dyn FnMut(u64))>,
    ) -> Result<(), FlashError> {
        let start = Instant::now();
        // Nothing left to load: DHCSR back to back for TIGHT, then after pauses that double.
        let mut idle: Option<(Instant, Duration)> = None;
        loop {
            if feed.piece(self).map_err(core)? {
                continue;
            }
            match &mut idle {
                None => idle = Some((Instant::now(), PAUSE_FIRST)),
                Some((since, pause)) if since.elapsed() >= TIGHT => {
                    std::thread::sleep(*pause);
                    *pause = (*pause * 2).min(PAUSE_MAX);
                }
                Some(_) => {}
            }
            let dhcsr = match &mut progress {
                None => {
                    self.select_dcb().map_err(core)?;
                    self.i.read_raw_ap_register(&self.ap, BD0).map_err(core)?
                }
                Some((word, seen)) => {
                    // Memory reads while the core runs: the progress word, then DHCSR.
                    let mut r = Reads::new(&mut *self.i, &self.ap, self.reads.as_ref());
                    r.write(TAR, *word as u32).map_err(core)?;
                    r.read(DRW).map_err(core)?;
                    r.write(TAR, DHCSR as u32).map_err(core)?;
                    r.read(BD0).map_err(core)?;
                    let v = r.finish().map_err(core)?;
                    self.at_dcb = true;
                    seen(u64::from(v[0]));
                    v[1]
                }
            };
            if std::mem::take(&mut self.started) && dhcsr & (S_HALT | S_REGRDY) == S_HALT {
                return Err(FlashError::Core(probe_rs::Error::Other(format!(
                    "a core register write to start the flash algorithm did not complete (DHCSR 0x{dhcsr:08x})"
                ))));
            }
            if dhcsr & S_LOCKUP != 0 {
                return Err(FlashError::UnexpectedCoreStatus {
                    status: CoreStatus::LockedUp,
                });
            }
            if dhcsr & S_HALT != 0 {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(FlashError::Core(probe_rs::Error::Timeout));
            }
        }
    }

    pub(super) fn call(
        &mut self,
        pc: u64,
        args: &[u32],
        init: bool,
        timeout: Duration,
        feed: &mut Feed<'_>,
    ) -> Result<u32, FlashError> {
        self.start(pc, args, init).map_err(core)?;
        self.wait(timeout, feed)
    }

    /// Halts the core if a routine still runs (after a failure) and writes DEMCR back.
    pub(super) fn finish(mut self) -> Result<(), ArmError> {
        use crate::diagnose::regs::dhcsr::C_HALT;
        self.select_dcb()?;
        let dhcsr = self.i.read_raw_ap_register(&self.ap, BD0)?;
        if dhcsr & S_HALT == 0 {
            self.i
                .write_raw_ap_register(&self.ap, BD0, DBGKEY | C_DEBUGEN | C_HALT)?;
        }
        self.i.write_raw_ap_register(&self.ap, BD3, self.demcr)?;
        self.i.flush()
    }
}

pub(super) fn core(e: ArmError) -> FlashError {
    FlashError::Core(e.into())
}
