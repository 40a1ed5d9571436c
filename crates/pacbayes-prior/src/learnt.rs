//! A prior whose mean is learnt on S_prior.

use candle_core::Device;
use pacbayes_bounds::Charge;
use pacbayes_data::{PriorSet, ValidationSet};
use pacbayes_nn::{Architecture, GaussianWeights};
use serde::{Deserialize, Serialize};

use crate::erm::{self, EpochRecord, FitObserver};
use crate::prior::same_architecture;
use crate::settings::{CheckedSettings, LearntSettings};
use crate::{Error, Prior, Result, ScaleChoice};

/// How a learnt prior was fitted: the settings, the data sizes and the training curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    /// The settings used.
    pub settings: LearntSettings,
    /// |S_prior| used for training.
    pub n_prior: usize,
    /// Size of the validation slice (0: none, no early stopping).
    pub n_validation: usize,
    /// One record per epoch run.
    pub curve: Vec<EpochRecord>,
    /// The epoch whose weights became the prior mean.
    pub best_epoch: usize,
}

/// P = N(w_ERM, σ₀² I): the mean network trained by ERM on S_prior, with scale σ₀.
#[derive(Debug, Clone)]
pub struct Learnt {
    weights: GaussianWeights,
    scale: ScaleChoice,
    record: FitRecord,
}

impl Learnt {
    /// Fits the prior mean on `prior` (S_prior without its validation slice), stopping early on
    /// `validation` (a slice of S_prior) when given. S_bound cannot be passed here: the types of
    /// `pacbayes-data` keep it out.
    ///
    /// # Errors
    /// An empty prior set, data that does not fit `architecture`, or a diverging loss.
    pub fn fit(
        architecture: Architecture,
        settings: &CheckedSettings,
        prior: PriorSet<'_>,
        validation: Option<ValidationSet<'_>>,
        device: &Device,
        observer: &mut dyn FitObserver,
    ) -> Result<Self> {
        if prior.is_empty() {
            return Err(Error::EmptyPriorSet);
        }
        if prior.n_features() != architecture.inputs() || prior.n_classes() as usize > architecture.classes()
        {
            return Err(Error::DataMismatch {
                architecture: architecture.to_string(),
                expected: architecture.inputs(),
                found: prior.n_features(),
                needed: architecture.classes(),
                classes: prior.n_classes(),
            });
        }
        let outcome = erm::train(architecture, settings, prior, validation, device, observer)?;
        let weights = GaussianWeights::from_means(architecture, outcome.means, settings.scale().sigma0())?;
        let record = FitRecord {
            settings: settings.settings().clone(),
            n_prior: prior.len(),
            n_validation: validation.map_or(0, |v| v.len()),
            curve: outcome.curve,
            best_epoch: outcome.best_epoch,
        };
        Ok(Self { weights, scale: settings.scale().clone(), record })
    }

    /// The same mean with another scale (for example the next value of a declared grid).
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn rescaled(&self, scale: ScaleChoice) -> Result<Self> {
        let weights = GaussianWeights::from_means(
            self.weights.architecture(),
            self.weights.mu().to_vec(),
            scale.sigma0(),
        )?;
        Ok(Self { weights, scale, record: self.record.clone() })
    }

    /// The prior's weights as fitted.
    pub fn gaussian(&self) -> &GaussianWeights {
        &self.weights
    }

    /// σ₀ and its grid.
    pub fn scale(&self) -> &ScaleChoice {
        &self.scale
    }

    /// How it was fitted.
    pub fn record(&self) -> &FitRecord {
        &self.record
    }
}

impl Prior for Learnt {
    fn weights(&self, architecture: Architecture, _device: &Device) -> Result<GaussianWeights> {
        same_architecture(self.weights.architecture(), architecture)?;
        Ok(self.weights.clone())
    }

    fn description(&self) -> String {
        format!(
            "learnt: ERM on {} prior examples ({} epochs, best {}), sigma0 = {}",
            self.record.n_prior,
            self.record.curve.len(),
            self.record.best_epoch,
            self.scale.sigma0()
        )
    }

    fn charges(&self) -> Vec<Charge> {
        self.scale.charges()
    }
}
