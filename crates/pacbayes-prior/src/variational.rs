//! A prior that is itself the posterior of a PAC-Bayes bound trained on S_prior alone.
//!
//! From the learnt prior $P_0 = \mathcal N(w_{\mathrm{ERM}}, \sigma_0^2 I)$, a Gaussian
//! $Q_0 = \mathcal N(\mu, \operatorname{diag}\sigma^2)$ is trained by [`pacbayes_posterior::train`] on
//! the training part of S_prior — with $n = |S_{\mathrm{prior}}|$ in its KL term, the objective,
//! optimizer, learning rate and epochs of [`VariationalSettings`], local reparameterization, the
//! KL-preconditioned SGD steps — so that every weight gets a scale of its own: wide where the S_prior
//! loss is flat, narrow where it is sharp, each paid for in the inner bound's KL. The prior of the
//! certificate is then
//!
//! $$P = \mathcal N\big(\mu,\ \operatorname{diag}(m\,\sigma)^2\big),$$
//!
//! with $m$ the largest value of `multipliers` whose stochastic validation error (mean over `draws`
//! weight draws) is at most the validation error of the mean network $\mu$ plus `tolerance` (the
//! smallest multiplier when none is), as [`FisherScaled`](crate::FisherScaled) chooses its scale.
//! $m = 1$ is $Q_0$ itself.
//!
//! Everything here is a function of S_prior (and the seeds): S_bound cannot be handed to
//! [`VariationalScaled::fit`], so nothing is paid for these choices; the charges of σ₀'s own grid
//! remain.

use candle_core::Device;
use pacbayes_bounds::Charge;
use pacbayes_data::{Dataset, PriorSet, Split, SplitConfig, ValidationSet};
use pacbayes_nn::{Architecture, GaussianWeights, Network};
use pacbayes_posterior::{
    EpochMetrics, ObjectiveKind, OptimizerKind, PosteriorSettings, TrainMode, TrainOn, TrainOptions, train,
};
use serde::{Deserialize, Serialize};

use crate::prior::same_architecture;
use crate::validation::{self, GlobalScale, GlobalScaleGrid, check_multipliers};
use crate::{Error, Learnt, Prior, Result};

/// Settings of the prior learnt as a PAC-Bayes posterior on S_prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VariationalSettings {
    /// The inner bound's training objective (default f-quad).
    pub objective: ObjectiveKind,
    /// The weight β of the KL when the objective is `bbb`.
    pub beta: f64,
    /// `sgd` (default, KL-preconditioned) or `adam`.
    pub optimizer: OptimizerKind,
    /// The inner bound's prior P₀ = N(w_ERM, (s σ₀)²), s this factor: a start wide enough for the
    /// S_prior loss to shape each scale (at a narrow σ₀ it hardly feels the noise).
    pub start_multiplier: f64,
    /// Passes over the training part of S_prior.
    pub epochs: usize,
    /// Step size.
    pub learning_rate: f64,
    /// Examples per step.
    pub batch_size: usize,
    /// Candidate multipliers m of the fitted scales.
    pub multipliers: Vec<f64>,
    /// The validation error a candidate may add to the mean network's.
    pub tolerance: f64,
    /// Weight draws per candidate on the validation slice.
    pub draws: usize,
    /// Seed of the inner training (example order, noise) and of the weight draws.
    pub seed: u64,
}

impl Default for VariationalSettings {
    fn default() -> Self {
        Self {
            objective: ObjectiveKind::FQuad,
            beta: 1.0,
            optimizer: OptimizerKind::Sgd,
            start_multiplier: 4.0,
            epochs: 5,
            learning_rate: 0.01,
            batch_size: 250,
            multipliers: vec![0.125, 0.25, 0.5, 1.0, 2.0],
            tolerance: 0.005,
            draws: 3,
            seed: 0,
        }
    }
}

impl VariationalSettings {
    /// The settings of the inner posterior training on `n` examples.
    fn posterior(&self) -> PosteriorSettings {
        PosteriorSettings {
            objective: self.objective,
            beta: self.beta,
            optimizer: self.optimizer,
            epochs: self.epochs,
            learning_rate: self.learning_rate,
            batch_size: self.batch_size,
            train_on: TrainOn::Bound,
            mode: TrainMode::Local,
            seed: self.seed,
            ..PosteriorSettings::default()
        }
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// The first setting outside its domain, named.
    pub fn check(&self) -> Result<()> {
        check_multipliers(&self.multipliers)?;
        if !(self.start_multiplier > 0.0 && self.start_multiplier.is_finite()) {
            return Err(Error::InvalidSetting {
                name: "start_multiplier",
                value: self.start_multiplier.to_string(),
                expected: "a finite positive number",
            });
        }
        self.posterior().check()?;
        Ok(())
    }
}

/// What the prior learnt as a posterior on S_prior was fitted on and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariationalRecord {
    /// The settings used.
    pub settings: VariationalSettings,
    /// |S_prior| (its training part): the n of the inner bound.
    pub n_prior: usize,
    /// Size of the validation slice the multiplier was chosen on.
    pub n_validation: usize,
    /// The inner training, epoch by epoch (epoch 0: Q₀ at P₀).
    pub curve: Vec<EpochMetrics>,
    /// KL(Q₀‖P₀) in nats at the end.
    pub kl: f64,
    /// The validation error of the ERM solution (P₀'s mean).
    pub erm_validation_error: f64,
    /// The validation error of Q₀'s mean (this prior's mean); the tolerance is counted from it.
    pub mean_validation_error: f64,
    /// (multiplier, stochastic validation error) of every candidate.
    pub candidates: Vec<(f64, f64)>,
    /// The chosen multiplier m of Q₀'s scales.
    pub multiplier: f64,
}

/// P = N(μ, diag (m σ)²), with (μ, σ) a PAC-Bayes posterior trained on S_prior.
#[derive(Debug, Clone)]
pub struct VariationalScaled {
    weights: GaussianWeights,
    base: Learnt,
    record: VariationalRecord,
}

/// The training part of S_prior as a split whose bound side is all of it, so that the inner bound's
/// n is |S_prior|.
fn prior_as_split(prior: PriorSet<'_>, seed: u64) -> Result<Split> {
    let batch = prior.to_batch();
    let data = Dataset::new("s-prior", batch.features, batch.shape, batch.labels, prior.n_classes())?;
    Ok(Split::new(data, SplitConfig::new(0.0, seed)?)?)
}

/// P₀ = N(w_ERM, (s σ₀)²): the learnt prior's mean with its scale multiplied by `s`.
fn start_prior(base: &Learnt, s: f64) -> Result<GaussianWeights> {
    let means = base.gaussian();
    Ok(GaussianWeights::from_means(means.architecture(), means.mu().to_vec(), s * base.scale().sigma0())?)
}

impl VariationalScaled {
    /// Trains a posterior of the bound on `prior` from the learnt prior `base`, and chooses the
    /// multiplier of its scales on `validation` (both slices of S_prior; S_bound cannot be passed).
    ///
    /// # Errors
    /// Invalid settings, no validation slice, an empty prior set, a non-finite objective, or a
    /// candle failure.
    pub fn fit(
        base: &Learnt,
        settings: &VariationalSettings,
        prior: PriorSet<'_>,
        validation: Option<ValidationSet<'_>>,
        device: &Device,
    ) -> Result<Self> {
        settings.check()?;
        let validation = validation::required(prior, validation)?;
        let split = prior_as_split(prior, settings.seed)?;
        let sigma0 = base.scale().sigma0();
        let start = start_prior(base, settings.start_multiplier)?;
        let net = Network::from_prior(&start)?;
        let outcome = train(&net, &split, &settings.posterior().check()?, TrainOptions::default())?;
        let fitted = net.posterior()?;
        // The shape handed to the grid is σ/σ₀, so that the candidate m·σ₀·shape is m·σ.
        let shape = fitted
            .sigma()
            .iter()
            .map(|s| s.affine(1.0 / sigma0, 0.0))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let erm_validation_error = validation::mean_error(base.gaussian(), validation, device)?;
        let grid = GlobalScaleGrid {
            multipliers: &settings.multipliers,
            sigma0,
            tolerance: settings.tolerance,
            draws: settings.draws,
            seed: settings.seed,
        };
        let GlobalScale { weights, multiplier, candidates, mean_validation_error } =
            grid.choose(&fitted, &shape, validation, device)?;
        let record = VariationalRecord {
            settings: settings.clone(),
            n_prior: prior.len(),
            n_validation: validation.len(),
            curve: outcome.metrics,
            kl: outcome.kl,
            erm_validation_error,
            mean_validation_error,
            candidates,
            multiplier,
        };
        Ok(Self { weights, base: base.clone(), record })
    }

    /// What it was fitted on and chose.
    pub fn record(&self) -> &VariationalRecord {
        &self.record
    }
}

impl Prior for VariationalScaled {
    fn weights(&self, architecture: Architecture, _device: &Device) -> Result<GaussianWeights> {
        same_architecture(self.weights.architecture(), architecture)?;
        Ok(self.weights.clone())
    }

    fn description(&self) -> String {
        let last = self.record.curve.last();
        format!(
            "{}; pac-bayes: posterior of {} trained {} epochs on {} S_prior examples (KL {:.1} nats, mean sigma {:.3e}), {} x its scales chosen on {} validation examples",
            self.base.description(),
            self.record.settings.objective,
            self.record.settings.epochs,
            self.record.n_prior,
            self.record.kl,
            last.map_or(f64::NAN, |m| m.sigma_mean),
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
    use pacbayes_data::LinearTeacher;

    use crate::test_support::{dead_feature_data as data, flat, split_config as config, with_bound_negated};
    use crate::{PriorRecord, SavedPrior, ScaleFamily, ScaleFit};

    /// Large steps, so that the scales of a 8-parameter model move in a few epochs.
    fn settings() -> VariationalSettings {
        VariationalSettings {
            epochs: 20,
            learning_rate: 0.05,
            batch_size: 20,
            ..VariationalSettings::default()
        }
    }

    fn fit(split: &Split, base: &Learnt, settings: &VariationalSettings) -> VariationalScaled {
        VariationalScaled::fit(base, settings, split.prior(), split.validation(), &Device::Cpu).unwrap()
    }

    #[test]
    fn the_prior_is_the_posterior_trained_on_s_prior_with_its_scales_multiplied() {
        let split = Split::new(data(), config()).unwrap();
        let base = crate::test_support::tiny_learnt(&split);
        let settings = settings();
        let prior = fit(&split, &base, &settings);
        let record = prior.record();
        assert_eq!(record.n_prior, split.prior().len());
        assert_eq!(record.curve.len(), settings.epochs + 1);
        assert!(record.kl > 0.0 && record.kl.is_finite(), "KL {}", record.kl);

        // The same training, run directly on S_prior as a split of its own.
        let own = prior_as_split(split.prior(), settings.seed).unwrap();
        assert_eq!(own.bound().n(), split.prior().len());
        let net = Network::from_prior(&start_prior(&base, settings.start_multiplier).unwrap()).unwrap();
        train(&net, &own, &settings.posterior().check().unwrap(), TrainOptions::default()).unwrap();
        let q = net.posterior().unwrap();
        let arch = q.architecture();
        let weights = prior.weights(arch, &Device::Cpu).unwrap();
        assert_eq!(flat(weights.mu()), flat(q.mu()), "the prior's mean is Q0's");
        let m = record.multiplier as f32;
        for (got, want) in flat(weights.sigma()).iter().zip(flat(q.sigma())) {
            assert!((got - m * want).abs() <= 1e-6 * m * want, "{got} vs {m} x {want}");
        }

        // linear-3-2: weights (2 × 3, row-major), then biases (2). The dead feature's weights (1 and
        // 4) feel the KL alone, whose gradient is 0 at P0: they keep P0's scale s σ0 and their mean. The others
        // are shaped by the loss: their scales moved away from σ0 and differ from each other.
        let sigma0 = (settings.start_multiplier * base.scale().sigma0()) as f32;
        let (qs, q_mu, p_mu) = (flat(q.sigma()), flat(q.mu()), flat(base.gaussian().mu()));
        for i in [1, 4] {
            assert!((qs[i] - sigma0).abs() <= 1e-6 * sigma0, "dead weight {i}: sigma {}", qs[i]);
            assert!((q_mu[i] - p_mu[i]).abs() <= 1e-6, "dead weight {i}: mean {} vs {}", q_mu[i], p_mu[i]);
        }
        let live: Vec<f32> = [0, 2, 3, 5].iter().map(|&i| qs[i]).collect();
        assert!(
            live.iter().all(|s| (s - sigma0).abs() > 1e-4 * sigma0),
            "live sigmas {live:?}, sigma0 {sigma0}"
        );
        let (lo, hi) = live.iter().fold((f32::MAX, 0.0f32), |(l, h), &s| (l.min(s), h.max(s)));
        assert!(hi > lo * 1.01, "live sigmas all alike: {live:?}");
        assert!(record.erm_validation_error <= 1.0 && record.mean_validation_error <= 1.0);
        assert!(prior.charges().is_empty());
    }

    #[test]
    fn the_multiplier_is_the_largest_within_the_tolerance() {
        let split = Split::new(data(), config()).unwrap();
        let base = crate::test_support::tiny_learnt(&split);
        let fitted = |tolerance| fit(&split, &base, &VariationalSettings { tolerance, ..settings() }).record;
        assert!((fitted(1.0).multiplier - 2.0).abs() < 1e-12);
        assert!((fitted(-1.0).multiplier - 0.125).abs() < 1e-12);
        let record = fitted(0.005);
        let limit = record.mean_validation_error + 0.005;
        let expected = record.candidates.iter().filter(|c| c.1 <= limit).map(|c| c.0).fold(0.125, f64::max);
        assert!((record.multiplier - expected).abs() < 1e-12, "{:?}", record.candidates);
    }

    #[test]
    fn it_sees_s_prior_only_and_its_record_round_trips() {
        let (split, other_split) = with_bound_negated(&data());
        let settings = VariationalSettings { seed: 5, ..settings() };
        let a = fit(&split, &crate::test_support::tiny_learnt(&split), &settings);
        let b = fit(&other_split, &crate::test_support::tiny_learnt(&other_split), &settings);
        let arch = a.weights.architecture();
        let (wa, wb) = (a.weights(arch, &Device::Cpu).unwrap(), b.weights(arch, &Device::Cpu).unwrap());
        assert_eq!(flat(wa.mu()), flat(wb.mu()), "changing S_bound changed the prior");
        assert_eq!(flat(wa.sigma()), flat(wb.sigma()), "changing S_bound changed the prior");
        // Equal records but for the seconds the epochs took.
        let timeless = |r: &VariationalRecord| {
            let mut r = r.clone();
            r.curve.iter_mut().for_each(|e| e.seconds = 0.0);
            r
        };
        assert_eq!(timeless(&a.record), timeless(&b.record));

        let mut record = PriorRecord::describe("learnt", &a, arch);
        record.scale_fit = Some(ScaleFit::PacBayes(a.record.clone()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prior");
        SavedPrior::save(&path, &wa, &record).unwrap();
        let saved = SavedPrior::load(&path, &Device::Cpu).unwrap();
        assert_eq!(saved.record(), &record);
        assert!(matches!(&saved.record().scale_fit, Some(ScaleFit::PacBayes(r)) if r == &a.record));
        assert!(saved.record().description.contains("pac-bayes"), "{}", saved.record().description);
    }

    #[test]
    fn the_family_is_named_pac_bayes_and_read_as_variational_too() {
        assert_eq!("pac-bayes".parse::<ScaleFamily>(), Ok(ScaleFamily::PacBayes));
        assert_eq!("variational".parse::<ScaleFamily>(), Ok(ScaleFamily::PacBayes));
        assert_eq!(ScaleFamily::PacBayes.to_string(), "pac-bayes");
        assert_eq!(serde_json::to_string(&ScaleFamily::PacBayes).unwrap(), "\"pac-bayes\"");
        for name in ["\"pac-bayes\"", "\"variational\""] {
            assert_eq!(serde_json::from_str::<ScaleFamily>(name).unwrap(), ScaleFamily::PacBayes);
        }
    }

    #[test]
    fn bad_settings_and_a_missing_validation_slice_are_refused() {
        let d = VariationalSettings::default;
        assert!(d().check().is_ok());
        for (bad, name) in [
            (VariationalSettings { epochs: 0, ..d() }, "epochs"),
            (VariationalSettings { learning_rate: -1.0, ..d() }, "learning_rate"),
            (VariationalSettings { batch_size: 0, ..d() }, "batch_size"),
            (VariationalSettings { multipliers: vec![], ..d() }, "multipliers"),
            (VariationalSettings { start_multiplier: 0.0, ..d() }, "start_multiplier"),
        ] {
            let err = bad.check().unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
            assert!(err.is_input(), "{err}");
        }
        let teacher = LinearTeacher::new(vec![1.0, -0.5, 0.25], 0.05).unwrap();
        let split = Split::new(teacher.sample(200, 3), SplitConfig::new(0.5, 7).unwrap()).unwrap();
        let base = crate::test_support::tiny_learnt(&split);
        let err = VariationalScaled::fit(&base, &d(), split.prior(), None, &Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("validation"), "{err}");
    }
}
