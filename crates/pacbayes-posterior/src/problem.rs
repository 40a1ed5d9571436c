//! The optimization problem: a network whose posterior is trained, the data it is trained on, and
//! the objective's terms on a batch.

use candle_core::{Device, Tensor};
use pacbayes_data::{Batch, BoundSet, Split, TrainSet};
use pacbayes_nn::{Network, Noise};

use crate::choices::TrainOn;
use crate::loss::{bounded_cross_entropy, misclassified};
use crate::objective::ObjectiveScale;
use crate::settings::CheckedSettings;
use crate::{Error, Result};

/// The examples Q is trained on: all of S or S_bound.
#[derive(Debug, Clone, Copy)]
pub enum TrainingData<'a> {
    /// All of S.
    All(TrainSet<'a>),
    /// S_bound only.
    Bound(BoundSet<'a>),
}

impl<'a> TrainingData<'a> {
    /// The part of `split` that `train_on` names.
    pub fn of(split: &'a Split, train_on: TrainOn) -> Self {
        match train_on {
            TrainOn::All => Self::All(split.train()),
            TrainOn::Bound => Self::Bound(split.bound()),
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            Self::All(s) => s.len(),
            Self::Bound(s) => s.n(),
        }
    }

    /// True when there is no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The examples at `positions` (within this part).
    pub fn gather(&self, positions: &[usize]) -> Batch {
        match self {
            Self::All(s) => s.gather(positions),
            Self::Bound(s) => s.gather(positions),
        }
    }
}

/// The objective's terms on one batch.
#[derive(Debug)]
pub struct StepTerms {
    /// The mean bounded cross-entropy (differentiable scalar).
    pub risk: Tensor,
    /// KL(Q‖P) (differentiable scalar).
    pub kl: Tensor,
    /// The objective (differentiable scalar).
    pub objective: Tensor,
    /// Examples of the batch the stochastic network misclassified.
    pub wrong: usize,
}

/// The network being trained, the data, and the settings: what argmin's `Executor` runs a solver on.
#[derive(Debug)]
pub struct PosteriorProblem<'a> {
    net: &'a Network,
    data: TrainingData<'a>,
    scale: ObjectiveScale,
    settings: CheckedSettings,
}

impl<'a> PosteriorProblem<'a> {
    /// Training `net`'s posterior on the part of `split` the settings name, with n = |S_bound| of
    /// `split` in the objective.
    ///
    /// # Errors
    /// Empty training data.
    pub fn new(net: &'a Network, split: &'a Split, settings: &CheckedSettings) -> Result<Self> {
        let data = TrainingData::of(split, settings.train_on());
        if data.is_empty() {
            return Err(Error::EmptyData);
        }
        let scale = ObjectiveScale {
            n_bound: split.bound().n(),
            n_train: data.len(),
            delta: settings.settings().delta,
        };
        Ok(Self { net, data, scale, settings: settings.clone() })
    }

    /// The network.
    pub fn network(&self) -> &'a Network {
        self.net
    }

    /// The training data.
    pub fn data(&self) -> &TrainingData<'a> {
        &self.data
    }

    /// n = |S_bound|, the number of examples Q is trained on, and δ.
    pub fn scale(&self) -> &ObjectiveScale {
        &self.scale
    }

    /// The settings.
    pub fn settings(&self) -> &CheckedSettings {
        &self.settings
    }

    /// The terms of the objective on `batch`, with noise from `noise`.
    ///
    /// # Errors
    /// A batch that does not fit the architecture, or a candle failure.
    pub fn terms(&self, batch: &Batch, noise: &mut Noise) -> Result<StepTerms> {
        let (x, y) = tensors(batch, self.net.device())?;
        let (logits, kl) = self.net.forward_and_kl(&x, self.settings.mode(), noise)?;
        let risk = bounded_cross_entropy(&logits, &y, self.settings.settings().p_min)?;
        let objective = self.settings.objective().tensor(&risk, &kl, &self.scale)?;
        Ok(StepTerms { wrong: misclassified(&logits, &y)?, risk, kl, objective })
    }

    /// The objective over all the training data in f64, for the current posterior: the surrogate risk
    /// averaged over every example (with noise from `noise`, batches of 1,000), KL from
    /// [`Network::kl_value`], and the objective's [`value`](crate::Objective::value).
    ///
    /// # Errors
    /// As [`PosteriorProblem::terms`].
    pub fn evaluate(&self, noise: &mut Noise) -> Result<Evaluation> {
        let n = self.data.len();
        let (mut risk_sum, mut wrong) = (0.0, 0usize);
        let positions: Vec<usize> = (0..n).collect();
        for chunk in positions.chunks(1000) {
            let batch = self.data.gather(chunk);
            let (x, y) = tensors(&batch, self.net.device())?;
            let logits = self.net.forward(&x, self.settings.mode(), noise)?;
            let risk = bounded_cross_entropy(&logits, &y, self.settings.settings().p_min)?;
            risk_sum += f64::from(risk.to_scalar::<f32>()?) * chunk.len() as f64;
            wrong += misclassified(&logits, &y)?;
        }
        let risk = risk_sum / n as f64;
        let kl = self.net.kl_value()?;
        let objective = self.settings.objective().value(risk.clamp(0.0, 1.0), kl, &self.scale)?;
        Ok(Evaluation { risk, kl, objective, error: wrong as f64 / n as f64 })
    }
}

/// The objective and its terms over all the training data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean bounded cross-entropy.
    pub risk: f64,
    /// KL(Q‖P) in f64.
    pub kl: f64,
    /// The objective.
    pub objective: f64,
    /// 0-1 error of the stochastic network.
    pub error: f64,
}

/// Features (batch, features) and labels (batch) of a batch, as tensors.
pub(crate) fn tensors(batch: &Batch, device: &Device) -> Result<(Tensor, Tensor)> {
    let n = batch.len();
    let x = Tensor::from_slice(&batch.features, (n, batch.features.len() / n.max(1)), device)?;
    let y = Tensor::from_slice(&batch.labels, n, device)?;
    Ok((x, y))
}
