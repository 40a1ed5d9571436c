//! Progress on the terminal: a bar over each epoch's steps and one line per epoch, on stderr.

use indicatif::{ProgressBar, ProgressStyle};
use pacbayes_prior::{EpochRecord, FitObserver};

/// A progress bar for a training stage, with a summary line after each epoch.
pub(crate) struct EpochProgress {
    bar: ProgressBar,
    stage: &'static str,
    epochs: usize,
}

impl EpochProgress {
    pub(crate) fn new(stage: &'static str, epochs: usize) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {msg} [{bar:30}] {pos}/{len} steps, {elapsed} (eta {eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(stage);
        Self { bar, stage, epochs }
    }

    /// A line above the bar (or on stderr when there is no terminal).
    pub(crate) fn line(&self, text: String) {
        if self.bar.is_hidden() { eprintln!("{text}") } else { self.bar.println(text) }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl FitObserver for EpochProgress {
    fn step(&mut self, epoch: usize, step: usize, steps: usize) {
        if step == 1 {
            self.bar.set_length(steps as u64);
            self.bar.set_message(format!("epoch {epoch}/{}", self.epochs));
        }
        self.bar.set_position(step as u64);
    }

    fn epoch(&mut self, r: &EpochRecord) {
        let validation =
            r.validation_error.map_or(String::new(), |v| format!(", validation error {:.2}%", 100.0 * v));
        self.line(format!(
            "{} epoch {:>3}: loss {:.4}, train error {:.2}%{validation}, {:.1} s",
            self.stage,
            r.epoch,
            r.train_loss,
            100.0 * r.train_error,
            r.seconds
        ));
    }
}

/// Posterior training's progress: the same bar and one line per epoch; the bar is cleared when
/// training drops it.
pub(crate) struct PosteriorProgress(EpochProgress);

impl PosteriorProgress {
    pub(crate) fn new(epochs: usize) -> Self {
        Self(EpochProgress::new("posterior", epochs))
    }
}

impl pacbayes_posterior::ProgressHook for PosteriorProgress {
    fn step(&mut self, epoch: usize, step: usize, steps: usize) {
        FitObserver::step(&mut self.0, epoch, step, steps);
    }

    fn epoch(&mut self, m: &pacbayes_posterior::EpochMetrics) {
        self.0.line(format!(
            "posterior epoch {:>3}: objective {:.5}, KL {:.3}, risk {:.4}, train error {:.2}%, {:.1} s",
            m.epoch,
            m.objective,
            m.kl,
            m.risk,
            100.0 * m.train_error,
            m.seconds
        ));
    }

    fn warmup_epoch(&mut self, m: &pacbayes_posterior::EpochMetrics) {
        self.0.line(format!(
            "warm-up epoch {:>3}: bounded cross-entropy {:.4}, train error {:.2}% (mean network), {:.1} s",
            m.epoch,
            m.risk,
            100.0 * m.train_error,
            m.seconds
        ));
    }
}

impl Drop for PosteriorProgress {
    fn drop(&mut self) {
        self.0.finish();
    }
}
