//! How the shaped scale families judge a width on the validation slice of S_prior.
//!
//! A candidate prior $\mathcal N(\mu, \operatorname{diag}\sigma^2)$ is judged by its stochastic
//! validation error, the mean 0-1 error of `draws` networks drawn from it, against the validation
//! error of its mean network $\mu$ plus a tolerance. [`GlobalScaleGrid`] lays $\sigma = m\,\sigma_0
//! \cdot \mathrm{shape}$ over a per-weight shape for each multiplier $m$ of a grid and keeps the
//! widest that passes (the Fisher, SWAG and PAC-Bayes families); the per-layer family applies the
//! same test one layer at a time. Only S_prior's validation slice is read, so nothing is paid.

use candle_core::{Device, Tensor};
use pacbayes_data::{PriorSet, ValidationSet};
use pacbayes_nn::{GaussianWeights, Network, Noise};

use crate::erm::{error_rate, misclassified, tensors};
use crate::{Error, Result};

/// Examples per forward pass on the validation slice.
const BATCH: usize = 1000;

/// The validation slice a shaped scale is chosen on, after checking that there is one.
///
/// # Errors
/// No (or an empty) validation slice.
pub(crate) fn slice(validation: Option<ValidationSet<'_>>) -> Result<ValidationSet<'_>> {
    validation.filter(|v| !v.is_empty()).ok_or_else(|| Error::InvalidSetting {
        name: "validation_fraction",
        value: "0".into(),
        expected: "a validation slice of S_prior (> 0)",
    })
}

/// [`slice`], after checking that S_prior's training part is not empty either.
///
/// # Errors
/// An empty prior set, or no (or an empty) validation slice.
pub(crate) fn required<'a>(
    prior: PriorSet<'_>,
    validation: Option<ValidationSet<'a>>,
) -> Result<ValidationSet<'a>> {
    let validation = slice(validation)?;
    if prior.is_empty() {
        return Err(Error::EmptyPriorSet);
    }
    Ok(validation)
}

/// Checks that `multipliers` is a non-empty list of finite positive values.
pub(crate) fn check_multipliers(multipliers: &[f64]) -> Result<()> {
    if multipliers.is_empty() || multipliers.iter().any(|m| !(*m > 0.0 && m.is_finite())) {
        return Err(Error::InvalidSetting {
            name: "multipliers",
            value: format!("{multipliers:?}"),
            expected: "finite positive values",
        });
    }
    Ok(())
}

/// The validation error of the mean network of `weights`.
pub(crate) fn mean_error(
    weights: &GaussianWeights,
    validation: ValidationSet<'_>,
    device: &Device,
) -> Result<f64> {
    error_rate(&Network::from_prior(weights)?, validation.batches(BATCH), device)
}

/// Mean 0-1 error on `validation` of `draws` networks drawn from `weights`.
pub(crate) fn stochastic_error(
    weights: &GaussianWeights,
    validation: ValidationSet<'_>,
    draws: usize,
    seed: u64,
) -> Result<f64> {
    let net = Network::from_prior(weights)?;
    let mut noise = Noise::new(seed);
    let (mut wrong, mut total) = (0usize, 0usize);
    for _ in 0..draws.max(1) {
        let drawn = net.draw(&mut noise)?;
        for batch in validation.batches(BATCH) {
            let (x, y) = tensors(&batch, net.device())?;
            wrong += misclassified(&drawn.forward(&x)?, &y)?;
            total += batch.len();
        }
    }
    Ok(wrong as f64 / total.max(1) as f64)
}

/// The outcome of [`GlobalScaleGrid::choose`].
pub(crate) struct GlobalScale {
    /// The means with the chosen scale.
    pub(crate) weights: GaussianWeights,
    /// The chosen multiplier of σ₀.
    pub(crate) multiplier: f64,
    /// (multiplier, stochastic validation error) of every candidate.
    pub(crate) candidates: Vec<(f64, f64)>,
    /// The validation error of the mean network, from which the tolerance is counted.
    pub(crate) mean_validation_error: f64,
}

/// The candidates of a global scale $c = m\,\sigma_0$ laid over a per-weight shape, and the rule
/// that chooses among them on the validation slice of S_prior.
pub(crate) struct GlobalScaleGrid<'a> {
    /// Candidate multipliers m of σ₀ (finite, positive, not empty).
    pub(crate) multipliers: &'a [f64],
    /// σ₀.
    pub(crate) sigma0: f64,
    /// The validation error a candidate may add to the mean network's.
    pub(crate) tolerance: f64,
    /// Weight draws per candidate.
    pub(crate) draws: usize,
    /// Seed of the weight draws.
    pub(crate) seed: u64,
}

impl GlobalScaleGrid<'_> {
    /// Tries σ = m σ₀ · `shape` around the means of `means` for every multiplier, smallest first,
    /// and keeps the largest whose stochastic validation error is at most the mean network's
    /// validation error plus the tolerance (the smallest when none is).
    pub(crate) fn choose(
        &self,
        means: &GaussianWeights,
        shape: &[Tensor],
        validation: ValidationSet<'_>,
        device: &Device,
    ) -> Result<GlobalScale> {
        let mean_validation_error = mean_error(means, validation, device)?;
        let mut multipliers = self.multipliers.to_vec();
        multipliers.sort_by(f64::total_cmp);
        let (mut candidates, mut chosen) = (Vec::new(), (multipliers[0], None));
        for &m in &multipliers {
            let sigma =
                shape.iter().map(|s| s.affine(m * self.sigma0, 0.0)).collect::<candle_core::Result<_>>()?;
            let weights = GaussianWeights::new(means.architecture(), means.mu().to_vec(), sigma)?;
            let error = stochastic_error(&weights, validation, self.draws, self.seed)?;
            candidates.push((m, error));
            if error <= mean_validation_error + self.tolerance || chosen.1.is_none() {
                chosen = (m, Some(weights));
            }
        }
        let weights = chosen.1.expect("at least one candidate");
        Ok(GlobalScale { weights, multiplier: chosen.0, candidates, mean_validation_error })
    }
}
