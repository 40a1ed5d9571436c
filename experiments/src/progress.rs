//! The progress of an experiment's runs on stderr, one line per stage and per epoch, and Ctrl-C as
//! the pipeline's stop flag (a stopped run leaves no folder, and runs again next time).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use pacbayes_pipeline::{Control, Observer};
use pacbayes_posterior::EpochMetrics;
use pacbayes_prior::EpochRecord;

/// Lines on stderr: the stages of each run with their summaries, and every training epoch.
struct Lines;

impl Observer for Lines {
    fn run_stage(&self, index: usize, total: usize, what: &str) {
        eprintln!("[{index}/{total}] {what}");
    }

    fn run_summary(&self, summary: &str) {
        eprintln!("{summary}");
    }

    fn prior_epoch(&self, r: &EpochRecord) {
        let validation =
            r.validation_error.map_or(String::new(), |v| format!(", validation error {:.2}%", 100.0 * v));
        eprintln!(
            "prior epoch {:>3}: loss {:.4}, train error {:.2}%{validation}, {:.1} s",
            r.epoch,
            r.train_loss,
            100.0 * r.train_error,
            r.seconds
        );
    }

    fn posterior_epoch(&self, m: &EpochMetrics) {
        eprintln!(
            "posterior epoch {:>3}: objective {:.5}, KL {:.3}, risk {:.4}, train error {:.2}%, {:.1} s",
            m.epoch,
            m.objective,
            m.kl,
            m.risk,
            100.0 * m.train_error,
            m.seconds
        );
    }

    fn warmup_epoch(&self, m: &EpochMetrics) {
        eprintln!(
            "warm-up epoch {:>3}: bounded cross-entropy {:.4}, train error {:.2}% (mean network), {:.1} s",
            m.epoch,
            m.risk,
            100.0 * m.train_error,
            m.seconds
        );
    }
}

/// The control of an experiment: progress lines on stderr, and a stop flag that Ctrl-C sets.
///
/// # Errors
/// The Ctrl-C handler cannot be installed.
pub(crate) fn control() -> Result<Control> {
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))
        .context("installing the Ctrl-C handler")?;
    Ok(Control::new(Arc::new(Lines)).with_stop(stop))
}
