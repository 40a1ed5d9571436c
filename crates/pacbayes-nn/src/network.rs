//! A stochastic network: the Gaussian layers of an architecture, run in one of the forward modes,
//! with the KL(Q‖P) of all its parameters.

use candle_core::{DType, Device, Tensor, Var};

use crate::architecture::{LayerSpec, Stage};
use crate::fused::Scales;
use crate::layer::{Layer, run_stages};
use crate::noise::Noise;
use crate::param::GaussianParam;
use crate::{Architecture, Family, GaussianConv2d, GaussianLinear, GaussianWeights, Mode, Result};

/// A network with Gaussian weights: posterior Q (trainable μ, ρ) and prior P (constant μ_P, σ_P)
/// for every weight and bias of every layer.
#[derive(Debug)]
pub struct Network {
    architecture: Architecture,
    family: Family,
    stages: Vec<Stage>,
    layers: Vec<Layer>,
    device: Device,
}

impl Network {
    /// A network whose prior is the reference initialization with scale σ₀ drawn from `seed` (see
    /// [`GaussianWeights::random`]) and whose posterior starts at that prior.
    ///
    /// # Errors
    /// σ₀ not finite and positive.
    pub fn from_seed(architecture: Architecture, sigma0: f64, seed: u64, device: &Device) -> Result<Self> {
        Self::from_prior(&GaussianWeights::random(architecture, sigma0, seed, device)?)
    }

    /// A network with prior P = `prior` and posterior initialised at it: μ_Q = μ_P, σ_Q = σ_P (up
    /// to the f32 rounding of ρ = softplus⁻¹(σ_P)). The posterior's variables are fresh copies.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn from_prior(prior: &GaussianWeights) -> Result<Self> {
        let architecture = prior.architecture();
        let stages = architecture.stages();
        let names = architecture.params();
        let mut layers = Vec::with_capacity(stages.len());
        for (i, stage) in stages.iter().enumerate() {
            let param = |j: usize| {
                let k = 2 * i + j;
                GaussianParam::at_prior(
                    names[k].0.clone(),
                    prior.family(),
                    prior.mu()[k].clone(),
                    prior.sigma()[k].clone(),
                )
            };
            let (weight, bias) = (param(0)?, param(1)?);
            layers.push(match stage.layer {
                LayerSpec::Linear { .. } => Layer::Linear(GaussianLinear::new(weight, bias)),
                LayerSpec::Conv2d { .. } => Layer::Conv2d(GaussianConv2d::new(weight, bias)),
            });
        }
        Ok(Self { architecture, family: prior.family(), stages, layers, device: prior.device().clone() })
    }

    /// The architecture.
    pub fn architecture(&self) -> Architecture {
        self.architecture
    }

    /// The family of every parameter's prior and posterior.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The Gaussian layers, in order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Every parameter tensor in canonical order: `layers.0.weight`, `layers.0.bias`, ...
    pub fn params(&self) -> impl Iterator<Item = &GaussianParam> {
        self.layers.iter().flat_map(|l| [l.weight(), l.bias()])
    }

    /// The posterior means μ of every parameter, in canonical order (trainable).
    pub fn mean_vars(&self) -> Vec<Var> {
        self.params().map(|p| p.mu().clone()).collect()
    }

    /// The posterior ρ of every parameter, in canonical order (trainable).
    pub fn rho_vars(&self) -> Vec<Var> {
        self.params().map(|p| p.rho().clone()).collect()
    }

    /// All trainable variables: [`Network::mean_vars`] followed by [`Network::rho_vars`]. Give these
    /// to an optimizer to train the posterior; give only the means to train a prior mean by ERM.
    pub fn vars(&self) -> Vec<Var> {
        let mut vars = self.mean_vars();
        vars.extend(self.rho_vars());
        vars
    }

    /// The prior P.
    pub fn prior(&self) -> GaussianWeights {
        let (mu, sigma) = self.params().map(|p| (p.prior_mu().clone(), p.prior_sigma().clone())).unzip();
        GaussianWeights::from_parts(self.architecture, self.family(), mu, sigma)
    }

    /// The posterior Q as means and scales (detached copies): for example, to serve as the prior of
    /// another network (a prior mean trained by ERM, with [`GaussianWeights::from_means`] on
    /// [`GaussianWeights::mu`]).
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn posterior(&self) -> Result<GaussianWeights> {
        let mut mu = Vec::new();
        let mut sigma = Vec::new();
        for p in self.params() {
            mu.push(p.mu().as_tensor().copy()?.detach());
            sigma.push(p.sigma()?.detach());
        }
        Ok(GaussianWeights::from_parts(self.architecture, self.family(), mu, sigma))
    }

    /// The number of scalar parameters (weights and biases).
    pub fn num_params(&self) -> usize {
        self.architecture.num_params()
    }

    /// The logits for a batch `x` (f32; shape (batch, inputs) or (batch, 1, 28, 28) for MNIST — any
    /// shape with the architecture's number of values per example), in the given mode. Random draws
    /// come from `noise` (none in [`Mode::Mean`]).
    ///
    /// # Errors
    /// An input that does not fit the architecture, an invalid dropout rate, or a candle failure.
    pub fn forward(&self, x: &Tensor, mode: Mode, noise: &mut Noise) -> Result<Tensor> {
        let scales = if mode.is_stochastic() { Some(self.scales()?) } else { None };
        self.forward_with(x, mode, noise, scales.as_deref())
    }

    /// σ = softplus(ρ) and dσ/dρ of every layer's weight and bias at the current ρ.
    fn scales(&self) -> Result<Vec<[Scales; 2]>> {
        self.layers.iter().map(|l| Ok([l.weight().scales()?, l.bias().scales()?])).collect()
    }

    fn forward_with(
        &self,
        x: &Tensor,
        mode: Mode,
        noise: &mut Noise,
        scales: Option<&[[Scales; 2]]>,
    ) -> Result<Tensor> {
        mode.check()?;
        let dropout = match mode {
            Mode::MeanDropout { rate } if rate > 0.0 => Some(rate),
            _ => None,
        };
        run_stages(self.architecture, &self.stages, x, dropout, noise, |i, x, noise, activation| {
            self.layers[i].forward_fused(x, mode, noise, scales.map(|s| &s[i]), activation)
        })
    }

    /// The logits of the mean network.
    ///
    /// # Errors
    /// As [`Network::forward`].
    pub fn forward_mean(&self, x: &Tensor) -> Result<Tensor> {
        self.forward(x, Mode::Mean, &mut Noise::new(0))
    }

    /// The logits and the KL(Q‖P), computing σ = softplus(ρ) and dσ/dρ once for both: what a
    /// training step of a PAC-Bayes objective needs. Each parameter's draw (or variance) and KL
    /// are single fused passes over its μ and ρ.
    ///
    /// # Errors
    /// As [`Network::forward`].
    pub fn forward_and_kl(&self, x: &Tensor, mode: Mode, noise: &mut Noise) -> Result<(Tensor, Tensor)> {
        let scales = self.scales()?;
        let logits = self.forward_with(x, mode, noise, Some(&scales))?;
        Ok((logits, self.kl_with(&scales)?))
    }

    /// KL(Q‖P) summed over every weight and bias of every layer, as a differentiable f32 scalar
    /// (each parameter's sum is accumulated in f64).
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn kl(&self) -> Result<Tensor> {
        self.kl_with(&self.scales()?)
    }

    fn kl_with(&self, scales: &[[Scales; 2]]) -> Result<Tensor> {
        let mut total = Tensor::zeros((), DType::F32, &self.device)?;
        for (layer, [sw, sb]) in self.layers.iter().zip(scales) {
            total = total.add(&layer.weight().kl_fused(sw)?)?.add(&layer.bias().kl_fused(sb)?)?;
        }
        Ok(total)
    }

    /// KL(Q‖P) summed over every weight and bias of every layer, in f64: the value a certificate
    /// uses.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn kl_value(&self) -> Result<f64> {
        self.params().map(GaussianParam::kl_value).sum()
    }

    /// Statistics of the posterior scales σ_Q = softplus(ρ) over every weight and bias: what shows
    /// whether training moved them.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn sigma_summary(&self) -> Result<SigmaSummary> {
        let (mut sum, mut log_ratio, mut count) = (0.0_f64, 0.0_f64, 0usize);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in self.params() {
            let sigma = p.sigma()?.flatten_all()?.to_vec1::<f32>()?;
            let prior = p.prior_sigma().flatten_all()?.to_vec1::<f32>()?;
            for (&s, &sp) in sigma.iter().zip(&prior) {
                let s = f64::from(s);
                sum += s;
                log_ratio += (s / f64::from(sp)).ln();
                min = min.min(s);
                max = max.max(s);
            }
            count += sigma.len();
        }
        let n = count.max(1) as f64;
        Ok(SigmaSummary { mean: sum / n, min, max, mean_log_ratio: log_ratio / n })
    }

    /// One network drawn from Q, with weights and biases drawn in canonical order from `noise`:
    /// the same draws as a forward pass in [`Mode::Sample`] would make from the same state. The
    /// drawn network evaluates any number of batches with the same weights, as a Monte Carlo
    /// estimate of the empirical risk of Q requires.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn draw(&self, noise: &mut Noise) -> Result<SampledNetwork> {
        let mut weights = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let w = layer.weight().sample(&layer.weight().scales()?, noise)?.detach();
            let b = layer.bias().sample(&layer.bias().scales()?, noise)?.detach();
            weights.push([w, b]);
        }
        Ok(SampledNetwork { architecture: self.architecture, stages: self.stages.clone(), weights })
    }
}

/// Statistics of the posterior scales σ_Q of a [`Network`] ([`Network::sigma_summary`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SigmaSummary {
    /// Mean σ_Q.
    pub mean: f64,
    /// Smallest σ_Q.
    pub min: f64,
    /// Largest σ_Q.
    pub max: f64,
    /// Mean of ln(σ_Q/σ_P): 0 at the prior's scales.
    pub mean_log_ratio: f64,
}

/// A deterministic network drawn from a [`Network`]'s posterior (see [`Network::draw`]).
#[derive(Debug, Clone)]
pub struct SampledNetwork {
    architecture: Architecture,
    stages: Vec<Stage>,
    weights: Vec<[Tensor; 2]>,
}

impl SampledNetwork {
    /// The logits for a batch, as [`Network::forward`] takes it.
    ///
    /// # Errors
    /// An input that does not fit the architecture, or a candle failure.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut unused = Noise::new(0);
        run_stages(self.architecture, &self.stages, x, None, &mut unused, |i, x, _, _| {
            let [w, b] = &self.weights[i];
            Ok((Layer::forward_fixed(&self.stages[i].layer, x, w, b)?, false))
        })
    }

    /// The drawn weight and bias of every layer.
    pub fn weights(&self) -> &[[Tensor; 2]] {
        &self.weights
    }
}
