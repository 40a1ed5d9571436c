//! A diagonal Gaussian (or Laplace) distribution over all the parameters of an architecture: what a
//! prior is, and what a posterior is once trained.

use candle_core::{DType, Device, Tensor};

use crate::noise::Noise;
use crate::param::{check_finite, check_shape};
use crate::{Architecture, Error, Family, Result};

/// Per-parameter means and scales, in the architecture's canonical order (`layers.0.weight`,
/// `layers.0.bias`, `layers.1.weight`, ...; see [`Architecture::params`]). Every tensor is f32,
/// contiguous, finite, with the architecture's shape; every scale is positive. The distributions
/// are Gaussian unless [`GaussianWeights::with_family`] says otherwise (the scale is then a
/// Laplace distribution's b: see [`Family`]).
#[derive(Debug, Clone)]
pub struct GaussianWeights {
    architecture: Architecture,
    family: Family,
    mu: Vec<Tensor>,
    sigma: Vec<Tensor>,
}

/// σ₀ as an f32, checked finite and positive (also after rounding to f32).
pub(crate) fn check_scale(name: &str, sigma0: f64) -> Result<f32> {
    let as_f32 = sigma0 as f32;
    if sigma0.is_finite() && as_f32 > 0.0 && as_f32.is_finite() {
        Ok(as_f32)
    } else {
        Err(Error::InvalidScale { name: name.to_string(), value: sigma0 })
    }
}

impl GaussianWeights {
    /// Means and scales given tensor by tensor, in canonical order.
    ///
    /// # Errors
    /// The wrong number of tensors, a shape that differs from the architecture's, a non-finite
    /// value, or a scale ≤ 0 — each naming the tensor (`layers.2.bias.sigma`, ...).
    pub fn new(architecture: Architecture, mu: Vec<Tensor>, sigma: Vec<Tensor>) -> Result<Self> {
        let params = architecture.params();
        for (what, list) in [("means", &mu), ("sigmas", &sigma)] {
            if list.len() != params.len() {
                return Err(Error::ParameterCount { what, expected: params.len(), found: list.len() });
            }
        }
        let mut out = Self { architecture, family: Family::Gaussian, mu: Vec::new(), sigma: Vec::new() };
        for ((name, shape), (m, s)) in params.iter().zip(mu.iter().zip(&sigma)) {
            let (mu_name, sigma_name) = (format!("{name}.mu"), format!("{name}.sigma"));
            let (m, s) = (m.to_dtype(DType::F32)?.contiguous()?, s.to_dtype(DType::F32)?.contiguous()?);
            check_shape(&mu_name, &m, shape)?;
            check_shape(&sigma_name, &s, shape)?;
            check_finite(&mu_name, &m)?;
            check_finite(&sigma_name, &s)?;
            let values = s.flatten_all()?.to_vec1::<f32>()?;
            if let Some(&bad) = values.iter().find(|&&v| v <= 0.0) {
                return Err(Error::InvalidScale { name: sigma_name, value: f64::from(bad) });
            }
            // Own copies: a prior must not change when the variables it was read from are trained.
            out.mu.push(m.copy()?);
            out.sigma.push(s.copy()?);
        }
        Ok(out)
    }

    /// Given means (for example a network trained on the prior data) with one scale σ₀ for every
    /// parameter.
    ///
    /// # Errors
    /// As [`GaussianWeights::new`], and σ₀ not finite and positive.
    pub fn from_means(architecture: Architecture, mu: Vec<Tensor>, sigma0: f64) -> Result<Self> {
        let s = check_scale("sigma0", sigma0)?;
        let sigma = mu
            .iter()
            .map(|m| Tensor::full(s, m.shape(), m.device()))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Self::new(architecture, mu, sigma)
    }

    /// The initialization of Pérez-Ortiz et al. with scale σ₀: weight means from a normal with
    /// standard deviation 1/√fan_in truncated at ±2 standard deviations, bias means 0, drawn from
    /// `Noise::new(seed)` in canonical parameter order.
    ///
    /// # Errors
    /// σ₀ not finite and positive.
    pub fn random(architecture: Architecture, sigma0: f64, seed: u64, device: &Device) -> Result<Self> {
        check_scale("sigma0", sigma0)?;
        let mu = random_means(architecture, &mut Noise::new(seed), device)?;
        Self::from_means(architecture, mu, sigma0)
    }

    /// Parts already known to be valid (taken from a network).
    pub(crate) fn from_parts(
        architecture: Architecture,
        family: Family,
        mu: Vec<Tensor>,
        sigma: Vec<Tensor>,
    ) -> Self {
        Self { architecture, family, mu, sigma }
    }

    /// The same means and scales as the locations and scales of distributions of `family`.
    #[must_use]
    pub fn with_family(mut self, family: Family) -> Self {
        self.family = family;
        self
    }

    /// The family of every parameter's distribution.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The architecture.
    pub fn architecture(&self) -> Architecture {
        self.architecture
    }

    /// The means, in canonical order.
    pub fn mu(&self) -> &[Tensor] {
        &self.mu
    }

    /// The scales σ, in canonical order.
    pub fn sigma(&self) -> &[Tensor] {
        &self.sigma
    }

    /// The device the tensors live on.
    pub fn device(&self) -> &Device {
        self.mu.first().map_or(&Device::Cpu, Tensor::device)
    }
}

/// Initial means as in Pérez-Ortiz et al. (see [`GaussianWeights::random`]), drawn from `noise`.
///
/// # Errors
/// Only on a candle failure.
pub fn random_means(architecture: Architecture, noise: &mut Noise, device: &Device) -> Result<Vec<Tensor>> {
    let mut mu = Vec::new();
    for stage in architecture.stages() {
        let [w_shape, b_shape] = stage.layer.param_shapes();
        let std = 1.0 / (stage.layer.fan_in() as f64).sqrt();
        let w = noise.truncated_normal(w_shape.iter().product(), std);
        mu.push(Tensor::from_vec(w, w_shape, device)?);
        mu.push(Tensor::zeros(b_shape, DType::F32, device)?);
    }
    Ok(mu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_scales_and_shapes_are_named() -> Result<()> {
        let arch = Architecture::Linear { inputs: 3, classes: 2 };
        for bad in [0.0, -0.1, f64::NAN, f64::INFINITY, 1e-60] {
            assert!(matches!(
                GaussianWeights::random(arch, bad, 0, &Device::Cpu),
                Err(Error::InvalidScale { .. })
            ));
        }
        let dev = Device::Cpu;
        let w = Tensor::zeros((2, 3), DType::F32, &dev)?;
        let b = Tensor::zeros(3, DType::F32, &dev)?;
        let err = GaussianWeights::from_means(arch, vec![w.clone(), b], 0.1);
        assert!(
            matches!(err, Err(Error::ShapeMismatch { ref tensor, .. }) if tensor == "layers.0.bias.mu"),
            "{err:?}"
        );
        let nan_b = Tensor::new(&[0.0_f32, f32::NAN], &dev)?;
        let err = GaussianWeights::from_means(arch, vec![w.clone(), nan_b], 0.1);
        assert!(
            matches!(err, Err(Error::NonFinite { ref tensor, index: 1, .. }) if tensor == "layers.0.bias.mu")
        );
        let neg = Tensor::new(&[0.1_f32, -0.1], &dev)?;
        let zeros_b = Tensor::zeros(2, DType::F32, &dev)?;
        let err = GaussianWeights::new(arch, vec![w.clone(), zeros_b.clone()], vec![w.ones_like()?, neg]);
        assert!(matches!(err, Err(Error::InvalidScale { ref name, .. }) if name == "layers.0.bias.sigma"));
        assert!(matches!(GaussianWeights::from_means(arch, vec![w], 0.1), Err(Error::ParameterCount { .. })));
        Ok(())
    }

    #[test]
    fn random_means_follow_the_reference_initialization() -> Result<()> {
        let prior = GaussianWeights::random(Architecture::FcnBinary, 0.03, 11, &Device::Cpu)?;
        let w = prior.mu()[0].flatten_all()?.to_vec1::<f32>()?;
        let std = 1.0 / 784f64.sqrt();
        assert!(w.iter().all(|&x| f64::from(x.abs()) <= 2.0 * std + 1e-9));
        let sd = (w.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        assert!((sd / std - 0.88).abs() < 0.01, "sd/std = {}", sd / std);
        assert!(prior.mu()[1].flatten_all()?.to_vec1::<f32>()?.iter().all(|&b| b == 0.0));
        let sigmas = prior.sigma()[3].to_vec1::<f32>()?;
        assert!(sigmas.iter().all(|&s| (s - 0.03).abs() < 1e-9));
        Ok(())
    }
}
