//! A fully connected layer with Gaussian weights and biases.

use candle_core::Tensor;

use crate::noise::Noise;
use crate::param::GaussianParam;
use crate::{Mode, Result};

/// A fully connected layer y = x·Wᵀ + b with W ~ N(μ_W, σ_W²) and b ~ N(μ_b, σ_b²), elementwise
/// independent. The weight has shape (outputs, inputs), as in PyTorch's `nn.Linear`.
#[derive(Debug)]
pub struct GaussianLinear {
    weight: GaussianParam,
    bias: GaussianParam,
}

/// x·wᵀ + b for x of shape (batch, inputs).
fn affine(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(crate::linear::affine(x, w, b)?)
}

impl GaussianLinear {
    pub(crate) fn new(weight: GaussianParam, bias: GaussianParam) -> Self {
        Self { weight, bias }
    }

    /// The weight, shape (outputs, inputs).
    pub fn weight(&self) -> &GaussianParam {
        &self.weight
    }

    /// The bias, shape (outputs).
    pub fn bias(&self) -> &GaussianParam {
        &self.bias
    }

    /// The forward pass on x of shape (batch, inputs), in the given mode; `sigmas` are the
    /// weight's and the bias's σ when the caller has them already (they are computed otherwise).
    /// Dropout is not a layer's business: [`Mode::MeanDropout`] acts as [`Mode::Mean`] here.
    ///
    /// # Errors
    /// An input of the wrong width, or a candle failure.
    pub fn forward(
        &self,
        x: &Tensor,
        mode: Mode,
        noise: &mut Noise,
        sigmas: Option<&[Tensor; 2]>,
    ) -> Result<Tensor> {
        let spread = sigmas.map(crate::param::Spread::Sigmas);
        crate::param::gaussian_forward(&self.weight, &self.bias, x, mode, noise, spread, affine)
    }

    /// The forward pass with given (drawn or mean) weight and bias.
    pub(crate) fn forward_fixed(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
        affine(x, weight, bias)
    }
}
