//! Empirical risk minimization of the mean network on S_prior: SGD with momentum, dropout, early
//! stopping on a validation slice of S_prior.

use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use pacbayes_data::{Batch, PriorSet, ValidationSet};
use pacbayes_nn::{Architecture, Mode, Network, Noise};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::augment::Augmented;
use crate::settings::CheckedSettings;
use crate::{Error, Result};

/// What one epoch of prior training measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's steps (with dropout).
    pub train_loss: f64,
    /// The learning rate of the epoch.
    pub learning_rate: f64,
    /// Fraction of training examples misclassified during the epoch (with dropout).
    pub train_error: f64,
    /// Error of the mean network on the validation slice of S_prior, if there is one.
    pub validation_error: Option<f64>,
    /// Seconds since training started. Not written to `prior.json` (the same fit gives the same
    /// bytes); the command line writes the times to the run's `timings.json`.
    #[serde(default, skip_serializing)]
    pub seconds: f64,
}

/// Watches prior training: a progress bar, a log line per epoch, or nothing (`()`).
pub trait FitObserver {
    /// After each step of `steps` in `epoch`.
    fn step(&mut self, _epoch: usize, _step: usize, _steps: usize) {}
    /// After each epoch.
    fn epoch(&mut self, _record: &EpochRecord) {}
}

impl FitObserver for () {}

/// The trained means and the curve that produced them.
pub(crate) struct ErmOutcome {
    pub(crate) means: Vec<Tensor>,
    pub(crate) curve: Vec<EpochRecord>,
    pub(crate) best_epoch: usize,
}

/// Trains the mean network of `architecture` on `prior` only.
pub(crate) fn train(
    architecture: Architecture,
    settings: &CheckedSettings,
    prior: PriorSet<'_>,
    validation: Option<ValidationSet<'_>>,
    device: &Device,
    observer: &mut dyn FitObserver,
) -> Result<ErmOutcome> {
    let s = settings.settings();
    let net = Network::from_seed(architecture, settings.scale().sigma0(), s.seed, device)?;
    let vars = net.mean_vars();
    let mut velocity =
        vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<Vec<_>>>()?;
    let mut order: Vec<usize> = (0..prior.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let mut noise = Noise::new(s.seed.wrapping_add(1));
    let mode = Mode::MeanDropout { rate: s.dropout as f32 };
    let start = Instant::now();
    let (mut curve, mut best) = (Vec::new(), None::<(f64, usize, Vec<Tensor>)>);
    let steps = order.len().div_ceil(s.batch_size);
    let mut augmented = Augmented::new(
        prior,
        s.shift,
        ChaCha8Rng::seed_from_u64(s.seed.wrapping_add(2)),
        s.flip,
        ChaCha8Rng::seed_from_u64(s.seed.wrapping_add(3)),
    )?;
    for epoch in 1..=s.epochs {
        order.shuffle(&mut rng);
        let learning_rate = s.lr_schedule.rate(s.learning_rate, epoch, s.epochs);
        let (mut loss_sum, mut wrong) = (0.0, 0usize);
        for (step, positions) in order.chunks(s.batch_size).enumerate() {
            let (x, y) = tensors(&augmented.batch(positions), device)?;
            let logits = net.forward(&x, mode, &mut noise)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
            let loss_value = f64::from(loss.to_scalar::<f32>()?);
            if !loss_value.is_finite() {
                return Err(Error::Diverged { epoch, step: step + 1, loss: loss_value });
            }
            sgd_step(&vars, &mut velocity, &loss, learning_rate, s.momentum)?;
            loss_sum += loss_value * positions.len() as f64;
            wrong += misclassified(&logits, &y)?;
            observer.step(epoch, step + 1, steps);
        }
        let validation_error = validation.map(|v| error_rate(&net, v.batches(1000), device)).transpose()?;
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / prior.len() as f64,
            learning_rate,
            train_error: wrong as f64 / prior.len() as f64,
            validation_error,
            seconds: start.elapsed().as_secs_f64(),
        };
        observer.epoch(&record);
        curve.push(record);
        let score = validation_error.unwrap_or(f64::NEG_INFINITY);
        if best.as_ref().is_none_or(|(b, _, _)| score < *b || validation_error.is_none()) {
            best = Some((score, epoch, snapshot(&vars)?));
        } else if s.patience > 0 && best.as_ref().is_some_and(|(_, e, _)| epoch - e >= s.patience) {
            break;
        }
    }
    let (_, best_epoch, means) = best.expect("at least one epoch ran");
    Ok(ErmOutcome { means, curve, best_epoch })
}

/// One step of SGD with momentum, as PyTorch does it: v ← m·v + g, w ← w − lr·v, in place (one
/// pass per tensor for each, no allocation).
pub(crate) fn sgd_step(
    vars: &[Var],
    velocity: &mut [Tensor],
    loss: &Tensor,
    lr: f64,
    momentum: f64,
) -> Result<()> {
    let grads = loss.backward()?;
    for (var, v) in vars.iter().zip(velocity.iter_mut()) {
        let Some(g) = grads.get(var.as_tensor()) else { continue };
        pacbayes_nn::sgd_momentum_step(var, v, g, lr, momentum)?;
    }
    Ok(())
}

/// A copy of the current value of every variable.
pub(crate) fn snapshot(vars: &[Var]) -> Result<Vec<Tensor>> {
    Ok(vars.iter().map(|v| v.as_tensor().copy()).collect::<candle_core::Result<_>>()?)
}

/// Features (batch, features) and labels (batch) of a batch, as tensors.
pub(crate) fn tensors(batch: &Batch, device: &Device) -> Result<(Tensor, Tensor)> {
    let n = batch.len();
    let x = Tensor::from_slice(&batch.features, (n, batch.features.len() / n.max(1)), device)?;
    let y = Tensor::from_slice(&batch.labels, n, device)?;
    Ok((x, y))
}

pub(crate) fn misclassified(logits: &Tensor, labels: &Tensor) -> Result<usize> {
    let predicted = logits.argmax(1)?;
    let wrong = predicted.ne(labels)?.to_dtype(candle_core::DType::F32)?.sum_all()?.to_scalar::<f32>()?;
    Ok(wrong as usize)
}

/// The error rate of the mean network of `net` over `batches`.
///
/// # Errors
/// A batch that does not fit the architecture, or a candle failure.
pub fn error_rate(net: &Network, batches: impl Iterator<Item = Batch>, device: &Device) -> Result<f64> {
    let (mut wrong, mut total) = (0usize, 0usize);
    for batch in batches {
        let (x, y) = tensors(&batch, device)?;
        wrong += misclassified(&net.forward_mean(&x)?, &y)?;
        total += batch.len();
    }
    Ok(if total == 0 { 0.0 } else { wrong as f64 / total as f64 })
}
