//! The minibatch solver: SGD with momentum or Adam over the posterior's candle variables,
//! implemented against argmin's [`Solver`] trait.
//!
//! One `next_iter` is **one minibatch step**; argmin's iteration counter is the number of steps
//! done, so epoch and step follow from it (`epoch = iter / steps_per_epoch + 1`). The example order
//! of an epoch is a shuffle seeded by (seed, epoch), and the noise of a step is seeded by (seed,
//! epoch, step): nothing random is carried from step to step, so a checkpoint needs only the
//! counters, μ, ρ and the optimizer's moments to resume bit for bit. The state's "parameter" is a
//! light [`StepHandle`]; the variables are updated in place.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use argmin::core::{
    Error as ArgminError, IterState, KV, Problem, Solver, State, TerminationReason, TerminationStatus,
};
use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};
use pacbayes_nn::{
    AdamStep, KlGroup, Network, Noise, SigmaSummary, adam_step, kl_preconditioned_momentum,
    sgd_descend_master, sgd_momentum_step,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::choices::Preconditioner;
use crate::metrics::EpochMetrics;
use crate::problem::{Evaluation, PosteriorProblem};
use crate::settings::{CheckedSettings, Optimizer};
use crate::{Error, Result};

/// Where a step was: epoch and step within it, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepHandle {
    /// The epoch.
    pub epoch: usize,
    /// The step within the epoch.
    pub step: usize,
}

/// The argmin state of posterior training: the iteration counter is the number of steps done, the
/// cost the last step's objective.
pub type PosteriorState = IterState<StepHandle, (), (), (), (), f64>;

/// Sums over the steps of the current epoch so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochSums {
    /// Σ objective × batch size.
    pub objective: f64,
    /// Σ risk × batch size.
    pub risk: f64,
    /// Examples misclassified.
    pub wrong: usize,
    /// Examples seen.
    pub examples: usize,
    /// Seconds spent.
    pub seconds: f64,
}

/// A 64-bit seed for the stream of (seed, epoch, step), by SplitMix64 mixing.
pub fn stream_seed(seed: u64, epoch: usize, step: usize) -> u64 {
    let mut z = seed;
    for part in [epoch as u64, step as u64] {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_add(part);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// SGD with momentum (PyTorch's form) or Adam (no weight decay) over minibatches.
#[derive(Debug, Clone)]
pub struct MinibatchSolver {
    settings: CheckedSettings,
    n_train: usize,
    moments: Vec<Vec<Tensor>>,
    sums: EpochSums,
    history: Vec<EpochMetrics>,
    order: Option<(usize, Vec<usize>)>,
    started: Option<Instant>,
    stop: Arc<AtomicBool>,
    kl_scale: Option<f64>,
}

/// 1/mean(σ_P²) over every coordinate of `sigmas`: the normalization of the KL preconditioner
/// under which the μ steps of a prior with one scale are the plain SGD steps.
fn inverse_mean_square(sigmas: &[&Tensor]) -> Result<f64> {
    let (mut sum, mut count) = (0.0, 0usize);
    for s in sigmas {
        sum += f64::from(s.sqr()?.sum_all()?.to_scalar::<f32>()?);
        count += s.elem_count();
    }
    Ok(count as f64 / sum)
}

impl MinibatchSolver {
    /// A solver for `n_train` training examples; `stop` ends training cleanly after the current
    /// step when set (for example by a Ctrl-C handler).
    pub fn new(settings: &CheckedSettings, n_train: usize, stop: Arc<AtomicBool>) -> Self {
        Self {
            settings: settings.clone(),
            n_train,
            moments: Vec::new(),
            sums: EpochSums::default(),
            history: Vec::new(),
            order: None,
            started: None,
            stop,
            kl_scale: None,
        }
    }

    /// Steps per epoch: ⌈n_train / batch_size⌉.
    pub fn steps_per_epoch(&self) -> usize {
        self.n_train.div_ceil(self.settings.settings().batch_size)
    }

    /// The learning rate of step `iter` (from 0) under the settings' schedule, over all the steps
    /// of `epochs`.
    pub fn learning_rate(&self, iter: usize) -> f64 {
        let s = self.settings.settings();
        s.learning_rate_schedule.at(s.learning_rate, iter, s.epochs * self.steps_per_epoch())
    }

    /// The metrics of every completed epoch, after the row of epoch 0 (the start).
    pub fn history(&self) -> &[EpochMetrics] {
        &self.history
    }

    /// The optimizer's moments: for SGD one list (velocities), followed with the KL preconditioner by
    /// the f64 master copies of the variables; for Adam two (first and second moments); each in the
    /// order of [`pacbayes_nn::Network::vars`]; empty before the first step.
    pub fn moments(&self) -> &[Vec<Tensor>] {
        &self.moments
    }

    /// The sums of the epoch in progress.
    pub fn epoch_sums(&self) -> &EpochSums {
        &self.sums
    }

    /// Records the objective at the start of training as the row of epoch 0: `evaluation` over all
    /// the training data, before any step.
    pub(crate) fn record_start(&mut self, evaluation: &Evaluation, sigma: &SigmaSummary, seconds: f64) {
        let row = EpochMetrics {
            epoch: 0,
            objective: evaluation.objective,
            kl: evaluation.kl,
            risk: evaluation.risk,
            train_error: evaluation.error,
            learning_rate: 0.0,
            seconds,
            ..EpochMetrics::default()
        };
        self.history.push(row.with_sigma(sigma));
    }

    /// Restores the state a checkpoint saved.
    pub(crate) fn restore(&mut self, moments: Vec<Vec<Tensor>>, sums: EpochSums, history: Vec<EpochMetrics>) {
        self.moments = moments;
        self.sums = sums;
        self.history = history;
    }

    /// The example order of `epoch`: a shuffle seeded by (seed, epoch), or index order with fixed
    /// noise (so that a full batch sees the same draws at every step).
    fn order(&mut self, epoch: usize) -> &[usize] {
        if self.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut order: Vec<usize> = (0..self.n_train).collect();
            let s = self.settings.settings();
            if !s.fixed_noise {
                order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream_seed(s.seed, epoch, 0)));
            }
            self.order = Some((epoch, order));
        }
        &self.order.as_ref().expect("just set").1
    }

    /// One optimizer update of `vars` (the μ then the ρ of `net`'s parameters, as
    /// [`Network::vars`] lists them) from `grads` with learning rate `lr`, in place; `t` is the
    /// step count from 1.
    fn update(&mut self, net: &Network, vars: &[Var], grads: &GradStore, t: usize, lr: f64) -> Result<()> {
        let lists = match self.settings.optimizer() {
            Optimizer::Sgd { .. } => 1,
            Optimizer::Adam { .. } => 2,
        };
        if self.moments.is_empty() {
            // Each list has storage of its own: the updates write into the moments in place.
            let zeros =
                || vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<Vec<_>>>();
            self.moments = (0..lists).map(|_| zeros()).collect::<candle_core::Result<_>>()?;
        }
        let preconditioned = self.settings.preconditioner() == Preconditioner::Kl
            && matches!(self.settings.optimizer(), Optimizer::Sgd { .. });
        if preconditioned && self.moments.len() == lists {
            // The f64 master copies of μ and ρ, kept as one more list (and checkpointed with it).
            let masters: candle_core::Result<Vec<Tensor>> =
                vars.iter().map(|v| v.as_tensor().to_dtype(DType::F64)).collect();
            self.moments.push(masters?);
        }
        let prior_sigmas: Vec<&Tensor> = net.params().map(|p| p.prior_sigma()).collect();
        if preconditioned && self.kl_scale.is_none() {
            self.kl_scale = Some(inverse_mean_square(&prior_sigmas)?);
        }
        for (i, var) in vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            match self.settings.optimizer() {
                Optimizer::Sgd { momentum } if preconditioned => {
                    let n = prior_sigmas.len();
                    let group = if i < n { KlGroup::Mean } else { KlGroup::Rho };
                    let velocity = &self.moments[0][i];
                    let scale = self.kl_scale.unwrap_or(1.0);
                    let (sigma, v) = (prior_sigmas[i % n], var.as_tensor());
                    kl_preconditioned_momentum(velocity, g, v, sigma, group, scale, momentum)?;
                    sgd_descend_master(v, &self.moments[1][i], velocity, lr)?;
                }
                Optimizer::Sgd { momentum } => sgd_momentum_step(var, &self.moments[0][i], g, lr, momentum)?,
                Optimizer::Adam { beta1, beta2, epsilon } => {
                    let step = AdamStep { learning_rate: lr, beta1, beta2, epsilon, t: t as u32 };
                    adam_step(var, &self.moments[0][i], &self.moments[1][i], g, step)?;
                }
            }
        }
        Ok(())
    }

    fn step(&mut self, p: &PosteriorProblem<'_>, iter: usize) -> Result<(StepHandle, f64, KV)> {
        let started = Instant::now();
        self.started.get_or_insert(started);
        let steps = self.steps_per_epoch();
        let (epoch, step) = (iter / steps + 1, iter % steps + 1);
        if step == 1 {
            self.sums = EpochSums::default();
        }
        let s = self.settings.settings().clone();
        let lo = (step - 1) * s.batch_size;
        let hi = (lo + s.batch_size).min(self.n_train);
        let batch = p.data().gather(&self.order(epoch)[lo..hi]);
        let mut noise = Noise::new(if s.fixed_noise { s.seed } else { stream_seed(s.seed, epoch, step) });
        let terms = p.terms(&batch, &mut noise)?;
        let mut values = [0.0; 3];
        for (k, (term, t)) in [("risk", &terms.risk), ("kl", &terms.kl), ("objective", &terms.objective)]
            .into_iter()
            .enumerate()
        {
            let value = f64::from(t.to_scalar::<f32>()?);
            if !value.is_finite() {
                return Err(Error::NonFinite { epoch, step, term, value });
            }
            values[k] = value;
        }
        let [risk, _, objective] = values;
        let grads = terms.objective.backward()?;
        let vars = p.network().vars();
        for var in &vars {
            if let Some(g) = grads.get(var.as_tensor())
                && let Some(value) = pacbayes_nn::non_finite_value(g)?
            {
                return Err(Error::NonFinite { epoch, step, term: "gradient", value: f64::from(value) });
            }
        }
        let learning_rate = self.learning_rate(iter);
        self.update(p.network(), &vars, &grads, iter + 1, learning_rate)?;
        let size = batch.len() as f64;
        self.sums.objective += objective * size;
        self.sums.risk += risk * size;
        self.sums.wrong += terms.wrong;
        self.sums.examples += batch.len();
        self.sums.seconds += started.elapsed().as_secs_f64();
        let mut kv = KV::new();
        kv.insert("epoch", (epoch as u64).into());
        kv.insert("step", (step as u64).into());
        kv.insert("steps", (steps as u64).into());
        kv.insert("objective", objective.into());
        kv.insert("learning_rate", learning_rate.into());
        if step == steps {
            // The end of an epoch is checkpointed: make sure what is saved is finite.
            for var in &vars {
                let value = f64::from(var.as_tensor().sum_all()?.to_scalar::<f32>()?);
                if !value.is_finite() {
                    return Err(Error::NonFinite { epoch, step, term: "parameters", value });
                }
            }
            let kl = p.network().kl_value()?;
            if !kl.is_finite() {
                return Err(Error::NonFinite { epoch, step, term: "kl", value: kl });
            }
            let n = self.sums.examples as f64;
            let row = EpochMetrics {
                epoch,
                objective: self.sums.objective / n,
                kl,
                risk: self.sums.risk / n,
                train_error: self.sums.wrong as f64 / n,
                learning_rate,
                seconds: self.sums.seconds,
                ..EpochMetrics::default()
            }
            .with_sigma(&p.network().sigma_summary()?);
            kv.insert("epoch_objective", row.objective.into());
            kv.insert("epoch_kl", row.kl.into());
            kv.insert("epoch_risk", row.risk.into());
            kv.insert("epoch_train_error", row.train_error.into());
            kv.insert("epoch_seconds", row.seconds.into());
            kv.insert("epoch_sigma_mean", row.sigma_mean.into());
            kv.insert("epoch_sigma_min", row.sigma_min.into());
            kv.insert("epoch_sigma_max", row.sigma_max.into());
            kv.insert("epoch_sigma_log_ratio", row.sigma_log_ratio.into());
            self.history.push(row);
        }
        Ok((StepHandle { epoch, step }, objective, kv))
    }
}

impl Solver<PosteriorProblem<'_>, PosteriorState> for MinibatchSolver {
    fn name(&self) -> &str {
        match self.settings.optimizer() {
            Optimizer::Sgd { .. } => "minibatch SGD with momentum",
            Optimizer::Adam { .. } => "minibatch Adam",
        }
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<PosteriorProblem<'_>>,
        state: PosteriorState,
    ) -> std::result::Result<(PosteriorState, Option<KV>), ArgminError> {
        let p = problem.problem.as_ref().ok_or_else(|| Error::Solver("the problem is missing".into()))?;
        let (handle, cost, kv) = self.step(p, state.get_iter() as usize)?;
        Ok((state.param(handle).cost(cost), Some(kv)))
    }

    fn terminate(&mut self, _state: &PosteriorState) -> TerminationStatus {
        if self.stop.load(Ordering::SeqCst) {
            return TerminationStatus::Terminated(TerminationReason::Interrupt);
        }
        let budget = self.settings.settings().max_seconds;
        let started = *self.started.get_or_insert_with(Instant::now);
        if budget.is_some_and(|b| started.elapsed().as_secs_f64() > b) {
            return TerminationStatus::Terminated(TerminationReason::Timeout);
        }
        TerminationStatus::NotTerminated
    }
}
