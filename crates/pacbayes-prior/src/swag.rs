//! An ensemble-shaped prior scale, fitted on S_prior only: the diagonal part of SWA-Gaussian
//! (Maddox et al., 2019, "A Simple Baseline for Bayesian Uncertainty in Deep Learning").
//!
//! From the learnt prior's ERM solution $w_{\mathrm{ERM}}$, SGD continues on the training part of
//! S_prior with the ERM's loss, batch size, momentum (its velocity restarted at 0), dropout and
//! augmentation, at the constant rate $\eta = f\,\eta_{\mathrm{ERM}}$ ($f$ = `learning_rate_factor`,
//! default 1: the ERM's base rate), for $E$ = `epochs` more epochs. $K$ = `snapshots_per_epoch`
//! snapshots of the weights are taken in each epoch, evenly spaced over its steps (after step $j$
//! of $J$, $\lfloor jK/J\rfloor - \lfloor (j-1)K/J\rfloor$ of them, so that an epoch of fewer than
//! $K$ steps repeats some), $T = EK$ in all. Their first two moments give, for every weight $i$,
//!
//! $$\bar\theta_i = \frac1T\sum_{t=1}^T \theta_i^{(t)}, \qquad
//!   s_i = \Big(\frac1T\sum_{t=1}^T \big(\theta_i^{(t)} - \bar\theta_i\big)^2\Big)^{1/2}.$$
//!
//! The prior mean becomes the SWA mean $\bar\theta$. The spread is floored at a fraction $\varphi$
//! (`floor`, default 0.1) of its mean over all weights, $\tilde s_i = \max(s_i, \varphi\,\bar s)$,
//! so that a weight SGD never moves (an input that is always 0, for example) gets a scale of
//! $\varphi$ times the average rather than 0, and normalized to mean 1:
//! $\mathrm{shape}_i = \tilde s_i / \overline{\tilde s}$. Then $\sigma_i = c\,\mathrm{shape}_i$ with
//! $c = m\,\sigma_0$, and $m$ the largest value of `multipliers` whose stochastic validation error
//! (mean over `draws` weight draws) is at most the SWA mean network's validation error plus
//! `tolerance` (the smallest multiplier when none is), exactly as [`FisherScaled`](crate::FisherScaled)
//! chooses its scale.
//!
//! Every random choice derives from `seed`: the example order, dropout masks, shifts and flips of
//! the extra epochs from ChaCha8 streams 1–4 of it (the ERM draws from streams 0 only), the weight
//! draws of the candidates as [`FisherScaled`](crate::FisherScaled)'s. Nothing here sees S_bound,
//! so nothing is paid for these choices; the charges of σ₀'s own grid remain.

use candle_core::{Device, Tensor};
use pacbayes_bounds::Charge;
use pacbayes_data::{PriorSet, ValidationSet};
use pacbayes_nn::{Architecture, GaussianWeights, Mode, Network, Noise};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::augment::Augmented;
use crate::erm::{sgd_step, snapshot, tensors};
use crate::prior::same_architecture;
use crate::validation::{self, GlobalScale, GlobalScaleGrid, check_multipliers};
use crate::{Error, Learnt, Prior, Result};

/// Settings of the SWAG-shaped scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwagSettings {
    /// Epochs of SGD on S_prior after the ERM.
    pub epochs: usize,
    /// Snapshots of the weights per epoch, evenly spaced over its steps.
    pub snapshots_per_epoch: usize,
    /// The constant learning rate, as a multiple of the ERM's base learning rate.
    pub learning_rate_factor: f64,
    /// The floor of a weight's spread, as a fraction of the mean spread over all weights (in (0, 1]).
    pub floor: f64,
    /// Candidate global scales, as multiples of σ₀.
    pub multipliers: Vec<f64>,
    /// The validation error a candidate may add to the SWA mean network's.
    pub tolerance: f64,
    /// Weight draws per candidate on the validation slice.
    pub draws: usize,
    /// Seed of the extra epochs (example order, dropout, augmentation) and of the weight draws.
    pub seed: u64,
}

impl Default for SwagSettings {
    fn default() -> Self {
        Self {
            epochs: 5,
            snapshots_per_epoch: 4,
            learning_rate_factor: 1.0,
            floor: 0.1,
            multipliers: vec![0.5, 1.0, 2.0, 4.0, 8.0],
            tolerance: 0.005,
            draws: 3,
            seed: 0,
        }
    }
}

impl SwagSettings {
    /// Checks every setting.
    ///
    /// # Errors
    /// The first setting outside its domain, named.
    pub fn check(&self) -> Result<()> {
        let invalid = |name, value: String, expected| Err(Error::InvalidSetting { name, value, expected });
        if self.epochs == 0 {
            return invalid("epochs", "0".into(), "at least 1");
        }
        if self.snapshots_per_epoch == 0 || self.epochs * self.snapshots_per_epoch < 2 {
            return invalid(
                "snapshots_per_epoch",
                self.snapshots_per_epoch.to_string(),
                "at least 1, and at least 2 snapshots in all",
            );
        }
        if !(self.learning_rate_factor > 0.0 && self.learning_rate_factor.is_finite()) {
            return invalid(
                "learning_rate_factor",
                self.learning_rate_factor.to_string(),
                "a finite positive number",
            );
        }
        if !(self.floor > 0.0 && self.floor <= 1.0) {
            return invalid("floor", self.floor.to_string(), "a number in (0, 1]");
        }
        check_multipliers(&self.multipliers)
    }
}

/// What the SWAG-shaped scale was fitted on and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwagRecord {
    /// The settings used.
    pub settings: SwagSettings,
    /// |S_prior| (its training part) the extra epochs ran on.
    pub n_prior: usize,
    /// Size of the validation slice the global scale was chosen on.
    pub n_validation: usize,
    /// The constant learning rate of the extra epochs.
    pub learning_rate: f64,
    /// Snapshots averaged (`epochs` × `snapshots_per_epoch`).
    pub snapshots: usize,
    /// The mean over all weights of the snapshot standard deviation, $\bar s$.
    pub mean_spread: f64,
    /// Weights whose spread was below the floor $\varphi\,\bar s$ and were raised to it.
    pub floored: usize,
    /// The validation error of the ERM solution (the learnt prior's mean).
    pub erm_validation_error: f64,
    /// The validation error of the SWA mean (this prior's mean); the tolerance is counted from it.
    pub mean_validation_error: f64,
    /// (multiplier, stochastic validation error) of every candidate.
    pub candidates: Vec<(f64, f64)>,
    /// The chosen multiplier m of σ₀.
    pub multiplier: f64,
    /// The chosen global scale c = m σ₀: σᵢ = c · shapeᵢ, the shape of mean 1.
    pub scale: f64,
}

/// P = N(θ̄, diag σ²): the SWA mean of SGD snapshots on S_prior, σ shaped by their spread.
#[derive(Debug, Clone)]
pub struct SwagScaled {
    weights: GaussianWeights,
    base: Learnt,
    record: SwagRecord,
}

/// Running first and second moments of snapshots, accumulated as differences from an origin (the
/// starting weights) so that the f32 sums keep the digits of small spreads.
pub(crate) struct Moments {
    origin: Vec<Tensor>,
    sum: Vec<Tensor>,
    sum_sq: Vec<Tensor>,
    count: usize,
}

impl Moments {
    /// No snapshot yet; differences are taken from `origin`.
    pub(crate) fn new(origin: &[Tensor]) -> Result<Self> {
        let zeros = || origin.iter().map(Tensor::zeros_like).collect::<candle_core::Result<Vec<_>>>();
        Ok(Self { origin: origin.to_vec(), sum: zeros()?, sum_sq: zeros()?, count: 0 })
    }

    /// Adds one snapshot (tensors in the origin's order and shapes).
    pub(crate) fn add(&mut self, snapshot: &[Tensor]) -> Result<()> {
        for (((s, q), o), w) in self.sum.iter_mut().zip(&mut self.sum_sq).zip(&self.origin).zip(snapshot) {
            let d = (w - o)?;
            *q = (&*q + d.sqr()?)?;
            *s = (&*s + d)?;
        }
        self.count += 1;
        Ok(())
    }

    /// Snapshots added.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The average snapshot θ̄.
    pub(crate) fn mean(&self) -> Result<Vec<Tensor>> {
        let n = self.count.max(1) as f64;
        Ok(self
            .sum
            .iter()
            .zip(&self.origin)
            .map(|(s, o)| s.affine(1.0 / n, 0.0)? + o)
            .collect::<candle_core::Result<_>>()?)
    }

    /// The standard deviation of the snapshots, (mean of d² − (mean of d)²)^{1/2}, clamped at 0.
    pub(crate) fn std(&self) -> Result<Vec<Tensor>> {
        let n = self.count.max(1) as f64;
        Ok(self
            .sum
            .iter()
            .zip(&self.sum_sq)
            .map(|(s, q)| {
                let m = s.affine(1.0 / n, 0.0)?;
                (q.affine(1.0 / n, 0.0)? - m.sqr()?)?.relu()?.sqrt()
            })
            .collect::<candle_core::Result<_>>()?)
    }
}

/// Snapshots due after step `step` (from 1) of `steps`, for `per_epoch` snapshots per epoch.
fn due(step: usize, steps: usize, per_epoch: usize) -> usize {
    step * per_epoch / steps - (step - 1) * per_epoch / steps
}

/// A ChaCha8 generator on stream `index` of `seed` (the ERM draws from streams 0).
fn stream(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Runs the extra epochs of SGD from the mean of `base` on `prior`, handing every snapshot to
/// `on_snapshot` and accumulating its moments. Returns the moments and the learning rate.
fn collect(
    base: &Learnt,
    settings: &SwagSettings,
    prior: PriorSet<'_>,
    device: &Device,
    on_snapshot: &mut dyn FnMut(&[Tensor]),
) -> Result<(Moments, f64)> {
    let erm = &base.record().settings;
    let net = Network::from_prior(base.gaussian())?;
    let vars = net.mean_vars();
    let mut velocity =
        vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<Vec<_>>>()?;
    let mut moments = Moments::new(&snapshot(&vars)?)?;
    let learning_rate = settings.learning_rate_factor * erm.learning_rate;
    let batch_size = erm.batch_size.max(1);
    let mode = Mode::MeanDropout { rate: erm.dropout as f32 };
    let mut order_rng = stream(settings.seed, 1);
    let mut noise = Noise::from_rng(stream(settings.seed, 2));
    let mut augmented =
        Augmented::new(prior, erm.shift, stream(settings.seed, 3), erm.flip, stream(settings.seed, 4))?;
    let mut order: Vec<usize> = (0..prior.len()).collect();
    let steps = order.len().div_ceil(batch_size);
    for epoch in 1..=settings.epochs {
        order.shuffle(&mut order_rng);
        for (step, positions) in order.chunks(batch_size).enumerate() {
            let (x, y) = tensors(&augmented.batch(positions), device)?;
            let loss = candle_nn::loss::cross_entropy(&net.forward(&x, mode, &mut noise)?, &y)?;
            let loss_value = f64::from(loss.to_scalar::<f32>()?);
            if !loss_value.is_finite() {
                return Err(Error::Diverged { epoch, step: step + 1, loss: loss_value });
            }
            sgd_step(&vars, &mut velocity, &loss, learning_rate, erm.momentum)?;
            for _ in 0..due(step + 1, steps, settings.snapshots_per_epoch) {
                let taken = snapshot(&vars)?;
                on_snapshot(&taken);
                moments.add(&taken)?;
            }
        }
    }
    Ok((moments, learning_rate))
}

/// Sum and number of the elements of `tensors`.
fn total(tensors: &[Tensor]) -> Result<(f64, usize)> {
    let (mut sum, mut count) = (0.0, 0usize);
    for t in tensors {
        sum += f64::from(t.sum_all()?.to_scalar::<f32>()?);
        count += t.elem_count();
    }
    Ok((sum, count))
}

impl SwagScaled {
    /// Continues SGD from the mean of the learnt prior `base` on `prior`, moves the mean to the
    /// average of the snapshots, shapes the scale by their spread and chooses the global scale on
    /// `validation` (both slices of S_prior; S_bound cannot be passed).
    ///
    /// # Errors
    /// Invalid settings, no validation slice, an empty prior set, snapshots that never moved, a
    /// diverging loss, or a candle failure.
    pub fn fit(
        base: &Learnt,
        settings: &SwagSettings,
        prior: PriorSet<'_>,
        validation: Option<ValidationSet<'_>>,
        device: &Device,
    ) -> Result<Self> {
        Self::fit_observed(base, settings, prior, validation, device, &mut |_| {})
    }

    /// [`SwagScaled::fit`], handing every snapshot to `on_snapshot` as it is taken.
    pub(crate) fn fit_observed(
        base: &Learnt,
        settings: &SwagSettings,
        prior: PriorSet<'_>,
        validation: Option<ValidationSet<'_>>,
        device: &Device,
        on_snapshot: &mut dyn FnMut(&[Tensor]),
    ) -> Result<Self> {
        settings.check()?;
        let validation = validation::required(prior, validation)?;
        let (moments, learning_rate) = collect(base, settings, prior, device, on_snapshot)?;
        let spread = moments.std()?;
        let (spread_sum, count) = total(&spread)?;
        let mean_spread = spread_sum / count.max(1) as f64;
        if !(mean_spread > 0.0 && mean_spread.is_finite()) {
            return Err(Error::InvalidSetting {
                name: "learning_rate_factor",
                value: settings.learning_rate_factor.to_string(),
                expected: "a rate at which SGD moves the weights (every snapshot was the same)",
            });
        }
        let lowest = settings.floor * mean_spread;
        let mut floored = 0usize;
        for s in &spread {
            let below = s.lt(lowest)?.to_dtype(candle_core::DType::F32)?.sum_all()?.to_scalar::<f32>()?;
            floored += below as usize;
        }
        let raised = spread.iter().map(|s| s.maximum(lowest)).collect::<candle_core::Result<Vec<_>>>()?;
        let (raised_sum, _) = total(&raised)?;
        let norm = count as f64 / raised_sum;
        let shape = raised.iter().map(|s| s.affine(norm, 0.0)).collect::<candle_core::Result<Vec<_>>>()?;
        let architecture = base.gaussian().architecture();
        let sigma0 = base.scale().sigma0();
        let means = GaussianWeights::from_means(architecture, moments.mean()?, sigma0)?;
        let erm_validation_error = validation::mean_error(base.gaussian(), validation, device)?;
        let grid = GlobalScaleGrid {
            multipliers: &settings.multipliers,
            sigma0,
            tolerance: settings.tolerance,
            draws: settings.draws,
            seed: settings.seed,
        };
        let GlobalScale { weights, multiplier, candidates, mean_validation_error } =
            grid.choose(&means, &shape, validation, device)?;
        let record = SwagRecord {
            settings: settings.clone(),
            n_prior: prior.len(),
            n_validation: validation.len(),
            learning_rate,
            snapshots: moments.count(),
            mean_spread,
            floored,
            erm_validation_error,
            mean_validation_error,
            candidates,
            multiplier,
            scale: multiplier * sigma0,
        };
        Ok(Self { weights, base: base.clone(), record })
    }

    /// What it was fitted on and chose.
    pub fn record(&self) -> &SwagRecord {
        &self.record
    }
}

impl Prior for SwagScaled {
    fn weights(&self, architecture: Architecture, _device: &Device) -> Result<GaussianWeights> {
        same_architecture(self.weights.architecture(), architecture)?;
        Ok(self.weights.clone())
    }

    fn description(&self) -> String {
        format!(
            "{}; swag: mean and scale shape from {} SGD snapshots over {} more epochs on S_prior, {} x sigma0 chosen on {} validation examples",
            self.base.description(),
            self.record.snapshots,
            self.record.settings.epochs,
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
    use pacbayes_data::{LinearTeacher, Split, SplitConfig};

    use crate::test_support::{dead_feature_data as data, flat, split_config as config, with_bound_negated};
    use crate::{PriorRecord, SavedPrior, ScaleFit};

    fn fit(split: &Split, base: &Learnt, settings: &SwagSettings) -> (SwagScaled, Vec<Vec<f32>>) {
        let mut snapshots = Vec::new();
        let prior = SwagScaled::fit_observed(
            base,
            settings,
            split.prior(),
            split.validation(),
            &Device::Cpu,
            &mut |s| snapshots.push(flat(s)),
        )
        .unwrap();
        (prior, snapshots)
    }

    #[test]
    fn moments_of_hand_made_snapshots() {
        // One weight at 1, 2, 3, 6 (from an origin of 10): mean 3, variance (4 + 1 + 0 + 9)/4 = 3.5.
        // A second weight that never moves: spread 0.
        let origin = [Tensor::new(&[10.0f32, 5.0], &Device::Cpu).unwrap()];
        let mut moments = Moments::new(&origin).unwrap();
        for w in [1.0f32, 2.0, 3.0, 6.0] {
            moments.add(&[Tensor::new(&[w, 5.0], &Device::Cpu).unwrap()]).unwrap();
        }
        assert_eq!(moments.count(), 4);
        let (mean, std) = (flat(&moments.mean().unwrap()), flat(&moments.std().unwrap()));
        assert!((mean[0] - 3.0).abs() < 1e-6 && (mean[1] - 5.0).abs() < 1e-6, "{mean:?}");
        assert!((std[0] - 3.5f32.sqrt()).abs() < 1e-5 && std[1] == 0.0, "{std:?}");
    }

    #[test]
    fn snapshots_are_spread_evenly_over_each_epoch() {
        for (steps, per_epoch) in [(10, 4), (3, 4), (1, 4), (7, 7), (250, 1)] {
            let taken: Vec<usize> = (1..=steps).map(|j| due(j, steps, per_epoch)).collect();
            assert_eq!(taken.iter().sum::<usize>(), per_epoch, "{steps} steps, {per_epoch}");
            // The last step of an epoch always takes one: the epoch ends on a snapshot.
            assert!(taken[steps - 1] >= 1);
        }
        // ⌊4j/10⌋ for j = 0..10 is 0 0 0 1 1 2 2 2 3 3 4: snapshots after steps 3, 5, 8 and 10.
        assert_eq!((1..=10).map(|j| due(j, 10, 4)).collect::<Vec<_>>(), [0, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
    }

    #[test]
    fn the_mean_is_the_snapshot_average_and_sigma_follows_the_spread() {
        let split = Split::new(data(), config()).unwrap();
        let base = crate::test_support::tiny_learnt(&split);
        let settings = SwagSettings { epochs: 3, snapshots_per_epoch: 4, ..SwagSettings::default() };
        let (prior, snapshots) = fit(&split, &base, &settings);
        let record = prior.record();
        assert_eq!(snapshots.len(), 12);
        assert_eq!(record.snapshots, 12);
        let arch = prior.weights.architecture();
        let weights = prior.weights(arch, &Device::Cpu).unwrap();
        let (mu, sigma) = (flat(weights.mu()), flat(weights.sigma()));
        let n = mu.len();
        assert_eq!(n, arch.num_params());
        // The average and the spread of the snapshots, in f64.
        let t = snapshots.len() as f64;
        let mean: Vec<f64> =
            (0..n).map(|i| snapshots.iter().map(|s| f64::from(s[i])).sum::<f64>() / t).collect();
        let spread: Vec<f64> = (0..n)
            .map(|i| (snapshots.iter().map(|s| (f64::from(s[i]) - mean[i]).powi(2)).sum::<f64>() / t).sqrt())
            .collect();
        for i in 0..n {
            assert!(
                (f64::from(mu[i]) - mean[i]).abs() < 1e-6,
                "mean of weight {i}: {} vs {}",
                mu[i],
                mean[i]
            );
        }
        // The SWA mean is not the ERM solution: SGD moved.
        assert_ne!(mu, flat(base.gaussian().mu()));
        // σ_i = m σ0 max(s_i, φ s̄) / mean(max(s, φ s̄)).
        let s_bar = spread.iter().sum::<f64>() / n as f64;
        assert!((record.mean_spread - s_bar).abs() <= 1e-3 * s_bar, "{} vs {s_bar}", record.mean_spread);
        let raised: Vec<f64> = spread.iter().map(|&s| s.max(settings.floor * s_bar)).collect();
        let norm = raised.iter().sum::<f64>() / n as f64;
        let c = record.multiplier * base.scale().sigma0();
        assert!((record.scale - c).abs() < 1e-15);
        for i in 0..n {
            let want = c * raised[i] / norm;
            assert!((f64::from(sigma[i]) - want).abs() <= 2e-3 * want, "sigma {i}: {} vs {want}", sigma[i]);
        }
        // linear-3-2: weights (2 × 3, row-major), then biases (2). The dead feature's weights (1 and
        // 4) never move: they get the floor, the smallest σ; the others differ from each other.
        for i in [1, 4] {
            assert!(
                snapshots.iter().all(|s| s[i].to_bits() == snapshots[0][i].to_bits()),
                "weight {i} moved"
            );
            let floor = c * settings.floor * s_bar / norm;
            assert!((f64::from(sigma[i]) - floor).abs() <= 2e-3 * floor, "{} vs {floor}", sigma[i]);
        }
        assert_eq!(record.floored, 2);
        let live: Vec<f32> = [0, 2, 3, 5, 6, 7].iter().map(|&i| sigma[i]).collect();
        let (lo, hi) = live.iter().fold((f32::MAX, 0.0f32), |(l, h), &s| (l.min(s), h.max(s)));
        assert!(hi > 1.5 * lo && lo > sigma[1], "live sigmas {live:?}, floor {}", sigma[1]);
        assert!(record.erm_validation_error <= 1.0 && record.mean_validation_error <= 1.0);
        assert!(prior.charges().is_empty());
    }

    #[test]
    fn the_multiplier_is_the_largest_within_the_tolerance() {
        let split = Split::new(data(), config()).unwrap();
        let base = crate::test_support::tiny_learnt(&split);
        let fitted = |tolerance| {
            let settings = SwagSettings { tolerance, epochs: 2, ..SwagSettings::default() };
            fit(&split, &base, &settings).0.record
        };
        // Any error is tolerated: the widest scale; none is: the narrowest.
        assert!((fitted(1.0).multiplier - 8.0).abs() < 1e-12);
        assert!((fitted(-1.0).multiplier - 0.5).abs() < 1e-12);
        for tolerance in [0.0, 0.005, 0.05] {
            let record = fitted(tolerance);
            assert_eq!(record.candidates.len(), 5);
            let limit = record.mean_validation_error + tolerance;
            let expected = record.candidates.iter().filter(|c| c.1 <= limit).map(|c| c.0).fold(0.5, f64::max);
            assert!(
                (record.multiplier - expected).abs() < 1e-12,
                "tolerance {tolerance}: {:?}",
                record.candidates
            );
        }
    }

    #[test]
    fn it_sees_s_prior_only_and_its_record_round_trips() {
        let (split, other_split) = with_bound_negated(&data());
        let settings = SwagSettings { seed: 5, ..SwagSettings::default() };
        let (a, _) = fit(&split, &crate::test_support::tiny_learnt(&split), &settings);
        let (b, _) = fit(&other_split, &crate::test_support::tiny_learnt(&other_split), &settings);
        let arch = a.weights.architecture();
        let (wa, wb) = (a.weights(arch, &Device::Cpu).unwrap(), b.weights(arch, &Device::Cpu).unwrap());
        assert_eq!(flat(wa.mu()), flat(wb.mu()), "changing S_bound changed the prior");
        assert_eq!(flat(wa.sigma()), flat(wb.sigma()), "changing S_bound changed the prior");
        assert_eq!(a.record, b.record);

        // prior.json and the tensors read back as written, the record as a SWAG record.
        let mut record = PriorRecord::describe("learnt", &a, arch);
        record.scale_fit = Some(ScaleFit::Swag(a.record.clone()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prior");
        SavedPrior::save(&path, &wa, &record).unwrap();
        let saved = SavedPrior::load(&path, &Device::Cpu).unwrap();
        assert_eq!(saved.record(), &record);
        assert!(matches!(&saved.record().scale_fit, Some(ScaleFit::Swag(r)) if r == &a.record));
        assert_eq!(flat(saved.gaussian().sigma()), flat(wa.sigma()));
        assert!(saved.record().description.contains("swag"), "{}", saved.record().description);
    }

    #[test]
    fn the_family_is_named_swag_and_read_as_ensemble_too() {
        use crate::ScaleFamily;
        assert_eq!("swag".parse::<ScaleFamily>(), Ok(ScaleFamily::Swag));
        assert_eq!("ensemble".parse::<ScaleFamily>(), Ok(ScaleFamily::Swag));
        assert_eq!(ScaleFamily::Swag.to_string(), "swag");
        assert_eq!(serde_json::to_string(&ScaleFamily::Swag).unwrap(), "\"swag\"");
        for name in ["\"swag\"", "\"ensemble\""] {
            assert_eq!(serde_json::from_str::<ScaleFamily>(name).unwrap(), ScaleFamily::Swag);
        }
        assert!("swa".parse::<ScaleFamily>().unwrap_err().contains("swag"));
    }

    #[test]
    fn bad_settings_and_a_missing_validation_slice_are_refused() {
        let d = SwagSettings::default;
        let name = |s: SwagSettings| match s.check() {
            Err(Error::InvalidSetting { name, .. }) => name,
            other => panic!("expected a setting error, got {other:?}"),
        };
        assert!(d().check().is_ok());
        assert_eq!(name(SwagSettings { epochs: 0, ..d() }), "epochs");
        assert_eq!(name(SwagSettings { epochs: 1, snapshots_per_epoch: 1, ..d() }), "snapshots_per_epoch");
        assert_eq!(name(SwagSettings { learning_rate_factor: 0.0, ..d() }), "learning_rate_factor");
        assert_eq!(name(SwagSettings { floor: 0.0, ..d() }), "floor");
        assert_eq!(name(SwagSettings { multipliers: vec![], ..d() }), "multipliers");
        let teacher = LinearTeacher::new(vec![1.0, -0.5, 0.25], 0.05).unwrap();
        let split = Split::new(teacher.sample(200, 3), SplitConfig::new(0.5, 7).unwrap()).unwrap();
        let base = crate::test_support::tiny_learnt(&split);
        let err = SwagScaled::fit(&base, &d(), split.prior(), None, &Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("validation"), "{err}");
    }
}
