//! Progress on the terminal: the pipeline's [`Observer`] as progress bars and lines on stderr, and
//! the stop flag that Ctrl-C sets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use pacbayes_pipeline::{Control, Observer, Stage};
use pacbayes_posterior::EpochMetrics;
use pacbayes_prior::EpochRecord;

/// A progress bar for a training stage, with a summary line after each epoch.
struct EpochProgress {
    bar: ProgressBar,
    epochs: usize,
}

impl EpochProgress {
    fn new(stage: &'static str, epochs: usize) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {msg} [{bar:30}] {pos}/{len} steps, {elapsed} (eta {eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(stage);
        Self { bar, epochs }
    }
}

/// A line above `bar` (or on stderr when there is no terminal, or no bar).
fn line(bar: Option<&ProgressBar>, text: String) {
    match bar {
        Some(bar) if !bar.is_hidden() => bar.println(text),
        _ => eprintln!("{text}"),
    }
}

/// The observer of the `pacbayes` command: a bar over each epoch's steps and one line per epoch, a
/// bar over the certificate's draws, and the stages of `pacbayes run`, all on stderr.
#[derive(Default)]
pub(crate) struct Terminal {
    training: Mutex<Option<EpochProgress>>,
    work: Mutex<Option<ProgressBar>>,
}

impl Terminal {
    /// A [`Control`] that reports here, without a stop flag anyone sets.
    pub(crate) fn control() -> Control {
        Control::new(Arc::new(Terminal::default()))
    }

    /// A [`Control`] that reports here, whose stop flag Ctrl-C sets.
    ///
    /// # Errors
    /// The Ctrl-C handler cannot be installed.
    pub(crate) fn stoppable() -> Result<Control> {
        Ok(Self::control().with_stop(stop_flag()?))
    }

    fn epoch_line(&self, text: String) {
        let training = self.training.lock().expect("the progress lock");
        line(training.as_ref().map(|p| &p.bar), text);
    }
}

impl Observer for Terminal {
    fn run_stage(&self, index: usize, total: usize, what: &str) {
        eprintln!("[{index}/{total}] {what}");
    }

    fn run_summary(&self, summary: &str) {
        eprintln!("{summary}");
    }

    fn training_started(&self, stage: Stage, epochs: usize) {
        *self.training.lock().expect("the progress lock") = Some(EpochProgress::new(stage.name(), epochs));
    }

    fn step(&self, _stage: Stage, epoch: usize, step: usize, steps: usize) {
        if let Some(p) = self.training.lock().expect("the progress lock").as_ref() {
            if step == 1 {
                p.bar.set_length(steps as u64);
                p.bar.set_message(format!("epoch {epoch}/{}", p.epochs));
            }
            p.bar.set_position(step as u64);
        }
    }

    fn prior_epoch(&self, r: &EpochRecord) {
        let validation =
            r.validation_error.map_or(String::new(), |v| format!(", validation error {:.2}%", 100.0 * v));
        self.epoch_line(format!(
            "prior epoch {:>3}: loss {:.4}, train error {:.2}%{validation}, {:.1} s",
            r.epoch,
            r.train_loss,
            100.0 * r.train_error,
            r.seconds
        ));
    }

    fn posterior_epoch(&self, m: &EpochMetrics) {
        self.epoch_line(format!(
            "posterior epoch {:>3}: objective {:.5}, KL {:.3}, risk {:.4}, train error {:.2}%, {:.1} s",
            m.epoch,
            m.objective,
            m.kl,
            m.risk,
            100.0 * m.train_error,
            m.seconds
        ));
    }

    fn warmup_epoch(&self, m: &EpochMetrics) {
        self.epoch_line(format!(
            "warm-up epoch {:>3}: bounded cross-entropy {:.4}, train error {:.2}% (mean network), {:.1} s",
            m.epoch,
            m.risk,
            100.0 * m.train_error,
            m.seconds
        ));
    }

    fn training_finished(&self, _stage: Stage) {
        if let Some(p) = self.training.lock().expect("the progress lock").take() {
            p.bar.finish_and_clear();
        }
    }

    fn work_started(&self, what: &str, units: u64) {
        let mut work = self.work.lock().expect("the progress lock");
        let bar = work.get_or_insert_with(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("certify {msg} [{bar:30}] {pos}/{len}, {elapsed} (eta {eta})")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        bar.set_length(units);
        bar.set_position(0);
        bar.set_message(what.to_owned());
    }

    fn work_advanced(&self, units: u64) {
        if let Some(bar) = self.work.lock().expect("the progress lock").as_ref() {
            bar.inc(units);
        }
    }

    fn work_finished(&self) {
        if let Some(bar) = self.work.lock().expect("the progress lock").take() {
            bar.finish_and_clear();
        }
    }
}

/// The stop flag, set by Ctrl-C (the handler is installed once per process).
fn stop_flag() -> Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(flag) = FLAG.get() {
        flag.store(false, Ordering::SeqCst);
        return Ok(flag.clone());
    }
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&flag))
        .map_err(|e| anyhow::Error::new(e).context("installing the Ctrl-C handler"))?;
    Ok(FLAG.get_or_init(|| flag).clone())
}
