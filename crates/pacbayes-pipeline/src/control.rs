//! How a caller watches and stops the pipeline: one [`Observer`] for the progress of every stage, and
//! a stop flag, together a [`Control`].
//!
//! The pipeline never prints and never installs a signal handler: a command-line program draws its
//! progress bars in an observer and sets the stop flag from its Ctrl-C handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pacbayes_posterior::EpochMetrics;
use pacbayes_prior::EpochRecord;

/// A stage of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The prior, fitted on S_prior or built without data.
    Prior,
    /// The posterior, trained by minimizing a bound.
    Posterior,
    /// The certificate, computed on S_bound.
    Certificate,
    /// The tightness table.
    Table,
}

impl Stage {
    /// The stage's name: `prior`, `posterior`, `certificate`, `table`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Prior => "prior",
            Stage::Posterior => "posterior",
            Stage::Certificate => "certificate",
            Stage::Table => "table",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The progress of the pipeline, as it happens. Every method does nothing by default.
pub trait Observer: Send + Sync {
    /// [`crate::run_config`] starts stage `index` (from 1) of `total`: `what` names it.
    fn run_stage(&self, _index: usize, _total: usize, _what: &str) {}
    /// [`crate::run_config`] finished a stage, summed up in `summary` (one or a few lines).
    fn run_summary(&self, _summary: &str) {}
    /// `stage` (the prior or the posterior) starts training for at most `epochs` epochs.
    fn training_started(&self, _stage: Stage, _epochs: usize) {}
    /// After step `step` of `steps` of `epoch` (from 1) of a training `stage`.
    fn step(&self, _stage: Stage, _epoch: usize, _step: usize, _steps: usize) {}
    /// After an epoch of the prior's ERM.
    fn prior_epoch(&self, _record: &EpochRecord) {}
    /// After an epoch of the posterior's training.
    fn posterior_epoch(&self, _metrics: &EpochMetrics) {}
    /// After an epoch of the warm-up of the posterior's mean network.
    fn warmup_epoch(&self, _metrics: &EpochMetrics) {}
    /// A training `stage` is over.
    fn training_finished(&self, _stage: Stage) {}
    /// Certification begins a part (`what`) of `units` units of work.
    fn work_started(&self, _what: &str, _units: u64) {}
    /// `units` more units of the current part are done.
    fn work_advanced(&self, _units: u64) {}
    /// Certification is over.
    fn work_finished(&self) {}
}

/// The observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// What a caller hands to every stage: its observer and the stop flag.
///
/// Setting the stop flag stops posterior training cleanly after its current step (its checkpoint
/// written, so that it can be resumed), and [`crate::run_config`] before its next stage.
#[derive(Clone)]
pub struct Control {
    observer: Arc<dyn Observer>,
    stop: Arc<AtomicBool>,
}

impl Default for Control {
    fn default() -> Self {
        Self::new(Arc::new(Silent))
    }
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").field("stop", &self.stopped()).finish_non_exhaustive()
    }
}

impl Control {
    /// `observer`, with a stop flag of its own (not set).
    pub fn new(observer: Arc<dyn Observer>) -> Self {
        Self { observer, stop: Arc::new(AtomicBool::new(false)) }
    }

    /// No observer, no stop flag set.
    pub fn silent() -> Self {
        Self::default()
    }

    /// The same observer with `stop` as the stop flag (set by a Ctrl-C handler, say).
    #[must_use]
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = stop;
        self
    }

    /// The observer.
    pub fn observer(&self) -> &dyn Observer {
        self.observer.as_ref()
    }

    /// The stop flag.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Whether the stop flag is set.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The observer as the prior's ERM wants it.
    pub(crate) fn prior_hook(&self) -> FitHook {
        FitHook(self.observer.clone())
    }

    /// The observer as posterior training wants it.
    pub(crate) fn posterior_hook(&self) -> Box<dyn pacbayes_posterior::ProgressHook> {
        Box::new(PosteriorHook(self.observer.clone()))
    }

    /// The observer as certification wants it.
    pub(crate) fn certify_hook(&self) -> CertifyHook<'_> {
        CertifyHook(self.observer.as_ref())
    }
}

/// [`Observer`] as a [`pacbayes_prior::FitObserver`].
pub(crate) struct FitHook(Arc<dyn Observer>);

impl pacbayes_prior::FitObserver for FitHook {
    fn step(&mut self, epoch: usize, step: usize, steps: usize) {
        self.0.step(Stage::Prior, epoch, step, steps);
    }

    fn epoch(&mut self, record: &EpochRecord) {
        self.0.prior_epoch(record);
    }
}

/// [`Observer`] as a [`pacbayes_posterior::ProgressHook`].
struct PosteriorHook(Arc<dyn Observer>);

impl pacbayes_posterior::ProgressHook for PosteriorHook {
    fn step(&mut self, epoch: usize, step: usize, steps: usize) {
        self.0.step(Stage::Posterior, epoch, step, steps);
    }

    fn epoch(&mut self, metrics: &EpochMetrics) {
        self.0.posterior_epoch(metrics);
    }

    fn warmup_epoch(&mut self, metrics: &EpochMetrics) {
        self.0.warmup_epoch(metrics);
    }
}

/// [`Observer`] as a [`pacbayes_eval::Observer`].
pub(crate) struct CertifyHook<'a>(&'a dyn Observer);

impl pacbayes_eval::Observer for CertifyHook<'_> {
    fn begin(&self, stage: &str, units: u64) {
        self.0.work_started(stage, units);
    }

    fn advance(&self, units: u64) {
        self.0.work_advanced(units);
    }
}
