//! Per-layer prior scales, fitted on S_prior only: layer $l$ (its weights and its bias) gets
//! $\sigma_l = m_l\,\sigma_0$, with each multiplier $m_l$ chosen on the validation slice of S_prior.
//!
//! The layers are taken in turn, first to last, for `sweeps` passes. For layer $l$, with every other
//! layer at its current multiplier, $m_l$ becomes the largest value of `multipliers` whose
//! stochastic validation error (mean over `draws` weight draws) is at most the mean network's
//! validation error plus `tolerance`, or the smallest value when none is. A layer whose weights the
//! data leaves free thus gets a wide prior, in which a posterior can move cheaply, and a sensitive
//! layer stays narrow. Nothing here sees S_bound, so nothing is paid for these choices; the charges
//! of σ₀'s own grid remain.

use candle_core::{Device, Tensor};
use pacbayes_bounds::Charge;
use pacbayes_data::ValidationSet;
use pacbayes_nn::{Architecture, GaussianWeights};
use serde::{Deserialize, Serialize};

use crate::prior::same_architecture;
use crate::validation::{self, check_multipliers, stochastic_error};
use crate::{Learnt, Prior, Result};

/// Settings of the per-layer scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerLayerSettings {
    /// Candidate multipliers of σ₀ for each layer.
    pub multipliers: Vec<f64>,
    /// The validation error a candidate may add to the mean network's.
    pub tolerance: f64,
    /// Weight draws per candidate on the validation slice.
    pub draws: usize,
    /// Passes over the layers.
    pub sweeps: usize,
    /// Seed of the weight draws.
    pub seed: u64,
}

impl Default for PerLayerSettings {
    fn default() -> Self {
        Self { multipliers: vec![0.5, 1.0, 2.0, 4.0, 8.0], tolerance: 0.005, draws: 3, sweeps: 1, seed: 0 }
    }
}

/// What the per-layer scales were fitted on and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerLayerRecord {
    /// The settings used.
    pub settings: PerLayerSettings,
    /// Size of the validation slice the multipliers were chosen on.
    pub n_validation: usize,
    /// The mean network's validation error.
    pub mean_validation_error: f64,
    /// (layer, multiplier, stochastic validation error) of every candidate tried, in order.
    pub candidates: Vec<(usize, f64, f64)>,
    /// The chosen multiplier of σ₀ for each layer.
    pub multipliers: Vec<f64>,
}

/// P = N(w_ERM, diag σ²) with σ = m_l σ₀ on layer l.
#[derive(Debug, Clone)]
pub struct PerLayerScaled {
    weights: GaussianWeights,
    base: Learnt,
    record: PerLayerRecord,
}

impl PerLayerScaled {
    /// Chooses a scale for each layer of the learnt prior `base` on `validation` (a slice of
    /// S_prior; S_bound cannot be passed).
    ///
    /// # Errors
    /// No validation slice, bad multipliers, or a candle failure.
    pub fn fit(
        base: &Learnt,
        settings: &PerLayerSettings,
        validation: Option<ValidationSet<'_>>,
        device: &Device,
    ) -> Result<Self> {
        let validation = validation::slice(validation)?;
        check_multipliers(&settings.multipliers)?;
        let means = base.gaussian();
        let sigma0 = base.scale().sigma0();
        let mean_validation_error = validation::mean_error(means, validation, device)?;
        let mut grid = settings.multipliers.clone();
        grid.sort_by(f64::total_cmp);
        let layers = means.mu().len() / 2;
        let mut chosen = vec![1.0; layers];
        let mut candidates = Vec::new();
        for _ in 0..settings.sweeps.max(1) {
            for layer in 0..layers {
                let mut best = grid[0];
                for &m in &grid {
                    chosen[layer] = m;
                    let weights = scaled(means, &chosen, sigma0)?;
                    let error = stochastic_error(&weights, validation, settings.draws, settings.seed)?;
                    candidates.push((layer, m, error));
                    if error <= mean_validation_error + settings.tolerance {
                        best = m;
                    }
                }
                chosen[layer] = best;
            }
        }
        let weights = scaled(means, &chosen, sigma0)?;
        let record = PerLayerRecord {
            settings: settings.clone(),
            n_validation: validation.len(),
            mean_validation_error,
            candidates,
            multipliers: chosen,
        };
        Ok(Self { weights, base: base.clone(), record })
    }

    /// What it was fitted on and chose.
    pub fn record(&self) -> &PerLayerRecord {
        &self.record
    }
}

/// The means with σ = `multipliers[l]` · σ₀ on the two tensors (weight, bias) of layer l.
fn scaled(means: &GaussianWeights, multipliers: &[f64], sigma0: f64) -> Result<GaussianWeights> {
    let sigma = means
        .mu()
        .iter()
        .enumerate()
        .map(|(i, mu)| Tensor::full((multipliers[i / 2] * sigma0) as f32, mu.dims(), mu.device()))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(GaussianWeights::new(means.architecture(), means.mu().to_vec(), sigma)?)
}

impl Prior for PerLayerScaled {
    fn weights(&self, architecture: Architecture, _device: &Device) -> Result<GaussianWeights> {
        same_architecture(self.weights.architecture(), architecture)?;
        Ok(self.weights.clone())
    }

    fn description(&self) -> String {
        let m: Vec<String> = self.record.multipliers.iter().map(f64::to_string).collect();
        format!(
            "{}; per-layer scales [{}] x sigma0 chosen on {} validation examples",
            self.base.description(),
            m.join(", "),
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
    use pacbayes_data::{LinearTeacher, Split, SplitConfig};

    fn split() -> Split {
        let teacher = LinearTeacher::new(vec![1.0, -0.5, 0.25], 0.05).unwrap();
        let config = SplitConfig::new(0.5, 7).unwrap().with_validation_fraction(0.25).unwrap();
        Split::new(teacher.sample(400, 3), config).unwrap()
    }

    fn base(split: &Split) -> Learnt {
        crate::test_support::tiny_learnt(split)
    }

    fn sigmas(w: &GaussianWeights) -> Vec<Vec<f32>> {
        w.sigma().iter().map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect()
    }

    #[test]
    fn each_layer_gets_one_scale_from_the_grid_chosen_by_the_tolerance() {
        let split = split();
        let base = base(&split);
        let sigma0 = base.scale().sigma0();
        let fit = |tolerance| {
            let settings = PerLayerSettings { tolerance, ..PerLayerSettings::default() };
            PerLayerScaled::fit(&base, &settings, split.validation(), &Device::Cpu).unwrap()
        };
        // Any error is tolerated: every layer takes the widest scale; none is: the narrowest.
        for (tolerance, expected) in [(1.0, 8.0), (-1.0, 0.5)] {
            let prior = fit(tolerance);
            assert_eq!(prior.record.multipliers, vec![expected]);
            assert_eq!(prior.record.candidates.len(), 5);
            let arch = prior.weights.architecture();
            for (i, s) in sigmas(&prior.weights(arch, &Device::Cpu).unwrap()).iter().enumerate() {
                let want = (expected * sigma0) as f32;
                assert!(s.iter().all(|&x| (x - want).abs() <= 1e-6 * want), "tensor {i}");
            }
            assert!(prior.charges().is_empty());
        }
        // The default tolerance keeps every chosen multiplier within the grid, and each choice is
        // the largest candidate of its layer within the tolerance.
        let prior = fit(0.005);
        let limit = prior.record.mean_validation_error + 0.005;
        for (layer, &m) in prior.record.multipliers.iter().enumerate() {
            let within: Vec<f64> = prior
                .record
                .candidates
                .iter()
                .filter(|c| c.0 == layer && c.2 <= limit)
                .map(|c| c.1)
                .collect();
            let expected = within.iter().copied().fold(0.5, f64::max);
            assert!((m - expected).abs() < 1e-12, "layer {layer}: {m} against {expected}");
        }
    }

    #[test]
    fn without_a_validation_slice_it_is_refused() {
        let teacher = LinearTeacher::new(vec![1.0, -0.5, 0.25], 0.05).unwrap();
        let split = Split::new(teacher.sample(200, 3), SplitConfig::new(0.5, 7).unwrap()).unwrap();
        let base = base(&split);
        let err = PerLayerScaled::fit(&base, &PerLayerSettings::default(), None, &Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("validation"), "{err}");
    }
}
