//! Watching training: a progress hook, fed by an argmin observer from the solver's key-value log.

use std::cell::RefCell;
use std::rc::Rc;

use argmin::core::observers::Observe;
use argmin::core::{Error, KV};

use crate::metrics::EpochMetrics;
use crate::solver::PosteriorState;

/// Watches posterior training: a progress bar, a log line per epoch, or nothing (`()`).
pub trait ProgressHook {
    /// After each step of `steps` in `epoch` (both from 1).
    fn step(&mut self, _epoch: usize, _step: usize, _steps: usize) {}
    /// After each epoch.
    fn epoch(&mut self, _metrics: &EpochMetrics) {}
    /// After each epoch of the warm-up (see `warmup_epochs`); its steps are reported by `step`.
    fn warmup_epoch(&mut self, _metrics: &EpochMetrics) {}
}

impl ProgressHook for () {}

/// One hook for the warm-up and the training that follows it; `warmup` says which phase reports.
#[derive(Clone)]
pub(crate) struct SharedHook {
    pub(crate) hook: Rc<RefCell<Box<dyn ProgressHook>>>,
    pub(crate) warmup: bool,
}

impl ProgressHook for SharedHook {
    fn step(&mut self, epoch: usize, step: usize, steps: usize) {
        self.hook.borrow_mut().step(epoch, step, steps);
    }

    fn epoch(&mut self, metrics: &EpochMetrics) {
        let mut hook = self.hook.borrow_mut();
        if self.warmup { hook.warmup_epoch(metrics) } else { hook.epoch(metrics) }
    }
}

/// An argmin observer that reads the solver's log after every step and calls a [`ProgressHook`].
pub(crate) struct HookObserver(pub(crate) SharedHook);

fn uint(kv: &KV, key: &str) -> Option<usize> {
    kv.get(key).and_then(|v| v.get_uint()).map(|v| v as usize)
}

fn float(kv: &KV, key: &str) -> Option<f64> {
    kv.get(key).and_then(|v| v.get_float())
}

/// The epoch's metrics, when the log closes an epoch.
pub(crate) fn epoch_metrics(kv: &KV) -> Option<EpochMetrics> {
    Some(EpochMetrics {
        epoch: uint(kv, "epoch")?,
        objective: float(kv, "epoch_objective")?,
        kl: float(kv, "epoch_kl")?,
        risk: float(kv, "epoch_risk")?,
        train_error: float(kv, "epoch_train_error")?,
        learning_rate: float(kv, "learning_rate")?,
        seconds: float(kv, "epoch_seconds")?,
        sigma_mean: float(kv, "epoch_sigma_mean").unwrap_or(0.0),
        sigma_min: float(kv, "epoch_sigma_min").unwrap_or(0.0),
        sigma_max: float(kv, "epoch_sigma_max").unwrap_or(0.0),
        sigma_log_ratio: float(kv, "epoch_sigma_log_ratio").unwrap_or(0.0),
    })
}

impl Observe<PosteriorState> for HookObserver {
    fn observe_iter(&mut self, _state: &PosteriorState, kv: &KV) -> Result<(), Error> {
        if let (Some(epoch), Some(step), Some(steps)) =
            (uint(kv, "epoch"), uint(kv, "step"), uint(kv, "steps"))
        {
            self.0.step(epoch, step, steps);
        }
        if let Some(m) = epoch_metrics(kv) {
            self.0.epoch(&m);
        }
        Ok(())
    }
}
