//! A curvature-shaped prior scale, fitted on S_prior only: $\sigma_i^2 \propto 1/(F_{ii} + \lambda)$
//! with $F$ the diagonal empirical Fisher of the S_prior loss at the prior mean, and one global
//! scale chosen on the validation slice of S_prior.
//!
//! The Fisher diagonal is estimated from minibatch gradients $g_b$ of the mean cross-entropy,
//! $F_{ii} \approx \overline{b\,g_{b,i}^2}$ over the batches of S_prior; λ is the mean of F over all
//! coordinates, so that the shape $\sqrt{2\bar F/(F_{ii} + \bar F)}$ lies in $(0, \sqrt2]$ and is 1 where
//! the curvature is average. The scale $s$ multiplies the shape: the largest value of
//! `multipliers × σ₀` whose stochastic validation error (mean over `draws` weight draws) is at most
//! the mean network's validation error plus `tolerance` (the smallest multiplier when none is).
//! Nothing here sees S_bound, so nothing is paid for these choices; the charges of σ₀'s own grid
//! remain.

use candle_core::{Device, Tensor};
use pacbayes_bounds::Charge;
use pacbayes_data::{PriorSet, ValidationSet};
use pacbayes_nn::{Architecture, GaussianWeights, Network};
use serde::{Deserialize, Serialize};

use crate::erm::tensors;
use crate::prior::same_architecture;
use crate::validation::{self, GlobalScale, GlobalScaleGrid, check_multipliers};
use crate::{Learnt, Prior, Result};

/// How the prior's scale is set: one σ₀ for every weight, or shaped per weight from S_prior.
///
/// Read from (and written as) `scalar`, `fisher`, `per-layer`, `swag` and `pac-bayes`; `ensemble` is
/// read as `swag`, `variational` as `pac-bayes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScaleFamily {
    /// σ₀ for every weight and bias.
    #[default]
    Scalar,
    /// σᵢ² ∝ 1/(F_ii + λ) from the diagonal Fisher of S_prior, with one global scale chosen on the
    /// validation slice of S_prior ([`FisherScaled`]).
    Fisher,
    /// σ_l = m_l σ₀ for each layer, every m_l chosen on the validation slice of S_prior
    /// ([`PerLayerScaled`](crate::PerLayerScaled)).
    PerLayer,
    /// σᵢ ∝ the spread of SGD snapshots on S_prior around their average (diagonal SWA-Gaussian),
    /// the mean moved to that average, with one global scale chosen on the validation slice of
    /// S_prior ([`SwagScaled`](crate::SwagScaled)). Also read as `ensemble`.
    #[serde(alias = "ensemble")]
    Swag,
    /// The posterior of a PAC-Bayes bound trained on S_prior alone from the learnt prior, its
    /// scales multiplied by one factor chosen on the validation slice of S_prior
    /// ([`VariationalScaled`](crate::VariationalScaled)). Also read as `variational`.
    #[serde(rename = "pac-bayes", alias = "variational")]
    PacBayes,
}

impl std::str::FromStr for ScaleFamily {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "scalar" => Ok(Self::Scalar),
            "fisher" => Ok(Self::Fisher),
            "per-layer" => Ok(Self::PerLayer),
            "swag" | "ensemble" => Ok(Self::Swag),
            "pac-bayes" | "variational" => Ok(Self::PacBayes),
            _ => Err(
                "expected scalar, fisher, per-layer, swag (alias ensemble) or pac-bayes (alias variational)"
                    .to_owned(),
            ),
        }
    }
}

impl std::fmt::Display for ScaleFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Scalar => "scalar",
            Self::Fisher => "fisher",
            Self::PerLayer => "per-layer",
            Self::Swag => "swag",
            Self::PacBayes => "pac-bayes",
        })
    }
}

/// Settings of the Fisher-shaped scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FisherSettings {
    /// Examples per gradient of the Fisher estimate.
    pub batch_size: usize,
    /// Candidate global scales, as multiples of σ₀.
    pub multipliers: Vec<f64>,
    /// The validation error a candidate may add to the mean network's.
    pub tolerance: f64,
    /// Weight draws per candidate on the validation slice.
    pub draws: usize,
    /// Seed of the weight draws.
    pub seed: u64,
}

impl Default for FisherSettings {
    fn default() -> Self {
        Self {
            batch_size: 250,
            multipliers: vec![0.5, 1.0, 2.0, 4.0, 8.0],
            tolerance: 0.005,
            draws: 3,
            seed: 0,
        }
    }
}

/// What the Fisher-shaped scale was fitted on and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FisherRecord {
    /// The settings used.
    pub settings: FisherSettings,
    /// |S_prior| the Fisher diagonal was estimated on.
    pub n_prior: usize,
    /// Size of the validation slice the global scale was chosen on.
    pub n_validation: usize,
    /// λ = mean of the Fisher diagonal.
    pub lambda: f64,
    /// The mean network's validation error.
    pub mean_validation_error: f64,
    /// (multiplier, stochastic validation error) of every candidate.
    pub candidates: Vec<(f64, f64)>,
    /// The chosen multiplier of σ₀.
    pub multiplier: f64,
}

/// P = N(w_ERM, diag σ²) with σ shaped by the Fisher diagonal of S_prior.
#[derive(Debug, Clone)]
pub struct FisherScaled {
    weights: GaussianWeights,
    base: Learnt,
    record: FisherRecord,
}

/// The diagonal empirical Fisher of the mean cross-entropy at `means`, over `prior` in batches.
///
/// # Errors
/// Data that does not fit the architecture, or a candle failure.
pub fn diagonal_fisher(
    means: &GaussianWeights,
    prior: PriorSet<'_>,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Tensor>> {
    let net = Network::from_prior(means)?;
    let vars = net.mean_vars();
    let mut sums: Vec<Tensor> =
        vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<_>>()?;
    let mut batches = 0usize;
    for batch in prior.batches(batch_size.max(1)) {
        let b = batch.len() as f64;
        let (x, y) = tensors(&batch, device)?;
        let loss = candle_nn::loss::cross_entropy(&net.forward_mean(&x)?, &y)?;
        let grads = loss.backward()?;
        for (sum, var) in sums.iter_mut().zip(&vars) {
            if let Some(g) = grads.get(var.as_tensor()) {
                *sum = (&*sum + g.sqr()?.affine(b, 0.0)?)?;
            }
        }
        batches += 1;
    }
    let n = batches.max(1) as f64;
    Ok(sums.into_iter().map(|s| s.affine(1.0 / n, 0.0)).collect::<candle_core::Result<_>>()?)
}

impl FisherScaled {
    /// Shapes the scale of the learnt prior `base` by the Fisher diagonal of `prior` at its mean and
    /// chooses the global scale on `validation` (both slices of S_prior; S_bound cannot be passed).
    ///
    /// # Errors
    /// No validation slice, an empty prior set, or a candle failure.
    pub fn fit(
        base: &Learnt,
        settings: &FisherSettings,
        prior: PriorSet<'_>,
        validation: Option<ValidationSet<'_>>,
        device: &Device,
    ) -> Result<Self> {
        let validation = validation::required(prior, validation)?;
        check_multipliers(&settings.multipliers)?;
        let means = base.gaussian();
        let fisher = diagonal_fisher(means, prior, settings.batch_size, device)?;
        let (mut total, mut count) = (0.0, 0usize);
        for f in &fisher {
            total += f64::from(f.sum_all()?.to_scalar::<f32>()?);
            count += f.elem_count();
        }
        let lambda = (total / count.max(1) as f64).max(f64::MIN_POSITIVE);
        let shape: Vec<Tensor> = fisher
            .iter()
            .map(|f| f.affine(1.0, lambda)?.recip()?.affine(2.0 * lambda, 0.0)?.sqrt())
            .collect::<candle_core::Result<_>>()?;
        let grid = GlobalScaleGrid {
            multipliers: &settings.multipliers,
            sigma0: base.scale().sigma0(),
            tolerance: settings.tolerance,
            draws: settings.draws,
            seed: settings.seed,
        };
        let GlobalScale { weights, multiplier, candidates, mean_validation_error } =
            grid.choose(means, &shape, validation, device)?;
        let record = FisherRecord {
            settings: settings.clone(),
            n_prior: prior.len(),
            n_validation: validation.len(),
            lambda,
            mean_validation_error,
            candidates,
            multiplier,
        };
        Ok(Self { weights, base: base.clone(), record })
    }

    /// What it was fitted on and chose.
    pub fn record(&self) -> &FisherRecord {
        &self.record
    }
}

impl Prior for FisherScaled {
    fn weights(&self, architecture: Architecture, _device: &Device) -> Result<GaussianWeights> {
        same_architecture(self.weights.architecture(), architecture)?;
        Ok(self.weights.clone())
    }

    fn description(&self) -> String {
        format!(
            "{}; scale shaped by the diagonal Fisher of S_prior, {} x sigma0 chosen on {} validation examples",
            self.base.description(),
            self.record.multiplier,
            self.record.n_validation
        )
    }

    fn charges(&self) -> Vec<Charge> {
        self.base.charges()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pacbayes_data::{LinearTeacher, Split};

    fn fitted(split: &Split) -> FisherScaled {
        let base = crate::test_support::tiny_learnt(split);
        FisherScaled::fit(&base, &FisherSettings::default(), split.prior(), split.validation(), &Device::Cpu)
            .unwrap()
    }

    fn values(w: &GaussianWeights) -> Vec<f32> {
        w.mu()
            .iter()
            .chain(w.sigma())
            .flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .collect()
    }

    #[test]
    fn the_fisher_prior_sees_s_prior_only_and_has_a_shaped_scale() {
        let teacher = LinearTeacher::new(vec![1.0, -0.5, 0.25], 0.05).unwrap();
        let (split, other_split) = crate::test_support::with_bound_negated(&teacher.sample(400, 3));
        let (a, b) = (fitted(&split), fitted(&other_split));
        let arch = a.weights.architecture();
        let (wa, wb) = (a.weights(arch, &Device::Cpu).unwrap(), b.weights(arch, &Device::Cpu).unwrap());
        assert_eq!(values(&wa), values(&wb), "changing S_bound changed the prior");
        let sigmas: Vec<f32> =
            wa.sigma().iter().flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect();
        assert_eq!(sigmas.len(), arch.num_params());
        let (lo, hi) = sigmas.iter().fold((f32::MAX, 0.0_f32), |(l, h), &s| (l.min(s), h.max(s)));
        let top = (2.0_f64.sqrt() * a.record.multiplier * 0.03) as f32;
        assert!(lo > 0.0 && hi <= top * 1.0001 && lo < hi, "sigma in [{lo}, {hi}], cap {top}");
        assert_eq!(a.record.candidates.len(), 5);
        assert!(a.record.n_validation > 0 && a.record.n_prior > 0);
        assert!(a.charges().is_empty());
    }
}
