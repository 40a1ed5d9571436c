//! A 2-d convolution with Gaussian kernels and biases.

use candle_core::Tensor;

use crate::noise::Noise;
use crate::param::GaussianParam;
use crate::{Mode, Result};

/// A 2-d convolution (stride 1, no padding) whose kernel W ~ N(μ_W, σ_W²) and bias
/// b ~ N(μ_b, σ_b²) are elementwise independent. The kernel has shape (out, in, k, k), as in
/// PyTorch's `nn.Conv2d`.
#[derive(Debug)]
pub struct GaussianConv2d {
    weight: GaussianParam,
    bias: GaussianParam,
}

/// conv(x, w) + b for x of shape (batch, in, h, w), as a matrix product over unfolded patches.
fn conv(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(crate::im2col::conv2d(x, w, b)?)
}

impl GaussianConv2d {
    pub(crate) fn new(weight: GaussianParam, bias: GaussianParam) -> Self {
        Self { weight, bias }
    }

    /// The kernel, shape (out, in, k, k).
    pub fn weight(&self) -> &GaussianParam {
        &self.weight
    }

    /// The bias, shape (out).
    pub fn bias(&self) -> &GaussianParam {
        &self.bias
    }

    /// The forward pass on x of shape (batch, in, h, w), in the given mode; `sigmas` as for
    /// [`GaussianLinear::forward`](crate::GaussianLinear::forward). In [`Mode::Local`] the
    /// pre-activation variance is conv(x², σ_W²) + σ_b², with independent noise per example,
    /// channel and position.
    ///
    /// # Errors
    /// An input with the wrong number of channels, or a candle failure.
    pub fn forward(
        &self,
        x: &Tensor,
        mode: Mode,
        noise: &mut Noise,
        sigmas: Option<&[Tensor; 2]>,
    ) -> Result<Tensor> {
        let spread = sigmas.map(crate::param::Spread::Sigmas);
        crate::param::gaussian_forward(&self.weight, &self.bias, x, mode, noise, spread, conv)
    }

    /// The forward pass with given (drawn or mean) kernel and bias.
    pub(crate) fn forward_fixed(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
        conv(x, weight, bias)
    }
}
