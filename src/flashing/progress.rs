//! Progress bars on stderr (indicatif), fed by probe-rs's flash [`ProgressEvent`]s and by stdbg's
//! own read-back loops. Drawn only when `HostConfig::progress_bars` is true (stderr is a
//! terminal); otherwise every call is a no-op, so piped output never contains bar text.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use probe_rs::flashing::{FlashProgress, ProgressEvent, ProgressOperation};

/// The bars of one flash operation.
pub struct ProgressUi {
    enabled: bool,
    multi: MultiProgress,
    bars: [Option<ProgressBar>; 4],
}

fn slot(op: ProgressOperation) -> usize {
    match op {
        ProgressOperation::Fill => 0,
        ProgressOperation::Erase => 1,
        ProgressOperation::Program => 2,
        ProgressOperation::Verify => 3,
    }
}

fn label(op: ProgressOperation) -> &'static str {
    match op {
        ProgressOperation::Fill => "Reading",
        ProgressOperation::Erase => "Erasing",
        ProgressOperation::Program => "Programming",
        ProgressOperation::Verify => "Verifying",
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg:>12} [{bar:30}] {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

impl ProgressUi {
    /// Bars drawn on stderr when `enabled`, else hidden.
    pub fn new(enabled: bool) -> Self {
        let target = if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        ProgressUi {
            enabled,
            multi: MultiProgress::with_draw_target(target),
            bars: [None, None, None, None],
        }
    }

    /// Whether bars are drawn.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// A new bar labelled `msg` for `total` bytes (hidden when disabled).
    pub fn bar(&self, msg: &'static str, total: u64) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let pb = self.multi.add(ProgressBar::new(total));
        pb.set_style(style());
        pb.set_message(msg);
        pb
    }

    /// Handles one probe-rs event.
    pub fn handle(&mut self, ev: ProgressEvent) {
        if !self.enabled {
            return;
        }
        match ev {
            ProgressEvent::AddProgressBar { operation, total } => {
                let pb = self.bar(label(operation), total.unwrap_or(0));
                self.bars[slot(operation)] = Some(pb);
            }
            ProgressEvent::Started(op) => {
                if let Some(pb) = &self.bars[slot(op)] {
                    pb.reset_elapsed();
                }
            }
            ProgressEvent::Progress {
                operation, size, ..
            } => {
                if let Some(pb) = &self.bars[slot(operation)] {
                    pb.inc(size);
                }
            }
            ProgressEvent::Finished(op) => {
                if let Some(pb) = &self.bars[slot(op)] {
                    pb.finish();
                }
            }
            ProgressEvent::Failed(op) => {
                if let Some(pb) = &self.bars[slot(op)] {
                    pb.abandon_with_message("failed");
                }
            }
            ProgressEvent::DiagnosticMessage { message } => {
                tracing::info!("flash algorithm: {message}")
            }
            _ => {}
        }
    }

    /// A probe-rs progress sink feeding these bars.
    pub fn flash_progress(&mut self) -> FlashProgress<'_> {
        FlashProgress::new(move |ev| self.handle(ev))
    }
}

impl Drop for ProgressUi {
    fn drop(&mut self) {
        let mut drawn = false;
        for pb in self.bars.iter().flatten() {
            if !pb.is_finished() {
                pb.finish_and_clear();
            } else {
                drawn = true;
            }
        }
        // indicatif leaves the cursor at the end of the last finished bar; end that line so the
        // next output (e.g. `** Programming Finished **` on stdout) starts on its own line.
        if drawn {
            use std::io::Write;
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err);
            let _ = err.flush();
        }
    }
}
