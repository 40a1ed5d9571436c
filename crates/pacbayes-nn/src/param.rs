//! One Gaussian parameter tensor (a weight or a bias): the posterior's μ and ρ as trainable
//! variables, the prior's μ_P and σ_P as constants.

use candle_core::{Tensor, Var};

use crate::family::{laplace_kl_sum, laplace_kl_tensor};
use crate::fused::Scales;
use crate::noise::Noise;
use crate::softplus::{inverse_softplus, softplus_tensor};
use crate::{Error, Family, Result, fused, kl};

/// A weight or bias tensor with posterior Q = N(μ, softplus(ρ)²) and prior P = N(μ_P, σ_P²),
/// elementwise independent.
#[derive(Debug)]
pub struct GaussianParam {
    name: String,
    family: Family,
    mu: Var,
    rho: Var,
    prior_mu: Tensor,
    prior_sigma: Tensor,
}

/// First non-finite value of a tensor, as an error naming it.
pub(crate) fn check_finite(name: &str, t: &Tensor) -> Result<()> {
    let values = t.flatten_all()?.to_vec1::<f32>()?;
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite { tensor: name.to_string(), index, value: values[index] }),
        None => Ok(()),
    }
}

/// A value of `t` (any float type, any device) that is not finite, if there is one: a parallel scan
/// of a contiguous f32 tensor on the CPU, else a check of its sum. For checks on every training
/// step, where reducing each gradient to its sum on one thread would be a serial pass.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let t = Tensor::new(&[1.0_f32, f32::NAN, 2.0], &Device::Cpu)?;
/// assert!(pacbayes_nn::non_finite_value(&t)?.is_some_and(f32::is_nan));
/// assert_eq!(pacbayes_nn::non_finite_value(&t.ones_like()?)?, None);
/// # Ok::<(), candle_core::Error>(())
/// ```
///
/// # Errors
/// A tensor whose values cannot be read or summed.
pub fn non_finite_value(t: &Tensor) -> candle_core::Result<Option<f32>> {
    if t.device().is_cpu() && t.dtype() == candle_core::DType::F32 && t.is_contiguous() {
        let (storage, layout) = t.storage_and_layout();
        if let candle_core::Storage::Cpu(cpu) = &*storage {
            let values = crate::softplus::f32_data(cpu, layout, "non-finite check")?;
            return Ok(crate::par::first_non_finite(values));
        }
    }
    let sum = t.sum_all()?.to_dtype(candle_core::DType::F32)?.to_scalar::<f32>()?;
    Ok((!sum.is_finite()).then_some(sum))
}

/// Checks that a tensor has the expected shape.
pub(crate) fn check_shape(name: &str, t: &Tensor, expected: &[usize]) -> Result<()> {
    if t.dims() == expected {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            tensor: name.to_string(),
            expected: expected.to_vec(),
            found: t.dims().to_vec(),
        })
    }
}

impl GaussianParam {
    /// A parameter whose posterior starts at its prior: μ = μ_P and ρ = softplus⁻¹(σ_P).
    /// The prior tensors are f32, of equal shapes, finite, with σ_P > 0 (the caller checks).
    pub(crate) fn at_prior(
        name: String,
        family: Family,
        prior_mu: Tensor,
        prior_sigma: Tensor,
    ) -> Result<Self> {
        let rho: Vec<f32> = prior_sigma
            .flatten_all()?
            .to_vec1::<f32>()?
            .iter()
            .map(|&s| inverse_softplus(f64::from(s)) as f32)
            .collect();
        let rho = Var::from_vec(rho, prior_sigma.shape(), prior_sigma.device())?;
        let mu = Var::from_tensor(&prior_mu.detach())?;
        Ok(Self {
            name,
            family,
            mu,
            rho,
            prior_mu: prior_mu.contiguous()?,
            prior_sigma: prior_sigma.contiguous()?,
        })
    }

    /// The parameter's name, `layers.{i}.weight` or `layers.{i}.bias`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The family of the prior and the posterior.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The shape of the tensor.
    pub fn dims(&self) -> &[usize] {
        self.mu.dims()
    }

    /// The posterior mean μ (trainable).
    pub fn mu(&self) -> &Var {
        &self.mu
    }

    /// The posterior's ρ, with σ = softplus(ρ) (trainable).
    pub fn rho(&self) -> &Var {
        &self.rho
    }

    /// The prior mean μ_P (constant).
    pub fn prior_mu(&self) -> &Tensor {
        &self.prior_mu
    }

    /// The prior scale σ_P (constant).
    pub fn prior_sigma(&self) -> &Tensor {
        &self.prior_sigma
    }

    /// σ = softplus(ρ), differentiable in ρ.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn sigma(&self) -> Result<Tensor> {
        Ok(softplus_tensor(self.rho.as_tensor())?)
    }

    /// KL(Q‖P) summed over the tensor's entries, as a differentiable f32 scalar.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn kl(&self) -> Result<Tensor> {
        self.kl_fused(&self.scales()?)
    }

    /// σ = softplus(ρ) and dσ/dρ at the current ρ, for the fused operations of one step.
    pub(crate) fn scales(&self) -> Result<Scales> {
        Ok(Scales::of(self.rho.as_tensor())?)
    }

    /// [`GaussianParam::kl`] with this step's `scales`.
    pub(crate) fn kl_fused(&self, scales: &Scales) -> Result<Tensor> {
        let (mu, rho) = (self.mu.as_tensor(), self.rho.as_tensor());
        match self.family {
            Family::Gaussian => Ok(fused::kl(mu, rho, scales, &self.prior_mu, &self.prior_sigma)?),
            Family::Laplace => laplace_kl_tensor(mu, &self.sigma()?, &self.prior_mu, &self.prior_sigma),
        }
    }

    /// KL(Q‖P) summed over the tensor's entries, in f64.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn kl_value(&self) -> Result<f64> {
        let (mu, sigma) = (self.mu.as_tensor(), &self.sigma()?);
        match self.family {
            Family::Gaussian => Ok(kl::kl_value(mu, sigma, &self.prior_mu, &self.prior_sigma)?),
            Family::Laplace => {
                let flat = |t: &Tensor| -> Result<Vec<f32>> { Ok(t.flatten_all()?.to_vec1::<f32>()?) };
                let (mq, bq) = (flat(mu)?, flat(sigma)?);
                let (mp, bp) = (flat(&self.prior_mu)?, flat(&self.prior_sigma)?);
                Ok(laplace_kl_sum(&mq, &bq, &mp, &bp))
            }
        }
    }

    /// A draw μ + σ ⊙ ε with ε from `noise`, differentiable in μ and ρ (through `sigma`).
    pub(crate) fn sample_with(&self, sigma: &Tensor, noise: &mut Noise) -> Result<Tensor> {
        let eps = noise.standard_tensor(self.family, self.mu.shape(), self.mu.device())?;
        Ok(self.mu.as_tensor().add(&sigma.mul(&eps)?)?)
    }

    /// The same draw as [`GaussianParam::sample_with`] (the same ε from `noise`), as one fused pass
    /// from μ and ρ with this step's `scales`.
    pub(crate) fn sample(&self, scales: &Scales, noise: &mut Noise) -> Result<Tensor> {
        let eps = noise.standard(self.family, self.mu.elem_count());
        Ok(fused::draw(self.mu.as_tensor(), self.rho.as_tensor(), scales, eps)?)
    }

    /// σ² = softplus(ρ)², differentiable in ρ, in one pass with this step's `scales`.
    pub(crate) fn variance(&self, scales: &Scales) -> Result<Tensor> {
        Ok(fused::variance(self.rho.as_tensor(), scales)?)
    }

    /// Overwrites the posterior's μ and ρ.
    ///
    /// # Errors
    /// A shape that differs from the parameter's, or a non-finite value; the tensors are named
    /// `{name}.mu` and `{name}.rho` in the error.
    pub fn set_posterior(&self, mu: &Tensor, rho: &Tensor) -> Result<()> {
        for (suffix, t) in [("mu", mu), ("rho", rho)] {
            let name = format!("{}.{suffix}", self.name);
            check_shape(&name, t, self.dims())?;
            check_finite(&name, t)?;
        }
        self.mu.set(&mu.to_dtype(candle_core::DType::F32)?)?;
        self.rho.set(&rho.to_dtype(candle_core::DType::F32)?)?;
        Ok(())
    }
}

/// What a stochastic forward pass spreads the weights by: σ tensors given by the caller (a graph
/// through σ), or this step's [`Scales`] for the fused operations.
#[derive(Clone, Copy)]
pub(crate) enum Spread<'a> {
    /// The weight's and the bias's σ, as differentiable tensors.
    Sigmas(&'a [Tensor; 2]),
    /// The weight's and the bias's σ and dσ/dρ, for the fused passes from μ and ρ.
    Fused(&'a [Scales; 2]),
}

/// The forward pass shared by the Gaussian layers, given the layer's map `op(x, weight, bias)`
/// (affine or convolution): the mean weights, one draw, or the local reparameterization
/// N(op(x, μ_W, μ_b), op(x², σ_W², σ_b²)) with independent noise per output. Without `spread`,
/// the scales are computed here. Both spreads give the same numbers from the same noise.
pub(crate) fn gaussian_forward(
    weight: &GaussianParam,
    bias: &GaussianParam,
    x: &Tensor,
    mode: crate::Mode,
    noise: &mut crate::noise::Noise,
    spread: Option<Spread<'_>>,
    op: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let (mu_w, mu_b) = (weight.mu().as_tensor(), bias.mu().as_tensor());
    if !mode.is_stochastic() {
        return op(x, mu_w, mu_b);
    }
    if mode == crate::Mode::Local && weight.family() != Family::Gaussian {
        return Err(Error::LocalNeedsGaussian { family: weight.family().to_string() });
    }
    let owned;
    let spread = match spread {
        Some(s) => s,
        None => {
            owned = [weight.scales()?, bias.scales()?];
            Spread::Fused(&owned)
        }
    };
    if mode == crate::Mode::Sample {
        let (w, b) = match spread {
            Spread::Sigmas([sw, sb]) => (weight.sample_with(sw, noise)?, bias.sample_with(sb, noise)?),
            Spread::Fused([cw, cb]) => (weight.sample(cw, noise)?, bias.sample(cb, noise)?),
        };
        return op(x, &w, &b);
    }
    let mean = op(x, mu_w, mu_b)?;
    let (var_w, var_b) = match spread {
        Spread::Sigmas([sw, sb]) => (sw.sqr()?, sb.sqr()?),
        Spread::Fused([cw, cb]) => (weight.variance(cw)?, bias.variance(cb)?),
    };
    let var = op(&x.sqr()?, &var_w, &var_b)?;
    let eps = noise.standard_normal(mean.elem_count());
    Ok(crate::reparam::local_sample(&mean, &var, eps)?)
}
