//! A Gaussian layer of either kind, and the loop that runs the stages of an architecture.

use candle_core::{DType, Tensor};

use crate::activation::Activation;
use crate::architecture::{LayerSpec, Stage};
use crate::fused::Scales;
use crate::noise::Noise;
use crate::param::{GaussianParam, Spread, gaussian_forward};
use crate::{Architecture, Error, GaussianConv2d, GaussianLinear, Mode, Result};

/// A Gaussian layer of a [`Network`](crate::Network).
#[derive(Debug)]
pub enum Layer {
    /// A fully connected layer.
    Linear(GaussianLinear),
    /// A 2-d convolution.
    Conv2d(GaussianConv2d),
}

impl Layer {
    /// The weight (or kernel).
    pub fn weight(&self) -> &GaussianParam {
        match self {
            Layer::Linear(l) => l.weight(),
            Layer::Conv2d(c) => c.weight(),
        }
    }

    /// The bias.
    pub fn bias(&self) -> &GaussianParam {
        match self {
            Layer::Linear(l) => l.bias(),
            Layer::Conv2d(c) => c.bias(),
        }
    }

    /// The forward pass in the given mode (see [`GaussianLinear::forward`]).
    ///
    /// # Errors
    /// An input that does not fit, or a candle failure.
    pub fn forward(
        &self,
        x: &Tensor,
        mode: Mode,
        noise: &mut Noise,
        sigmas: Option<&[Tensor; 2]>,
    ) -> Result<Tensor> {
        match self {
            Layer::Linear(l) => l.forward(x, mode, noise, sigmas),
            Layer::Conv2d(c) => c.forward(x, mode, noise, sigmas),
        }
    }

    /// The forward pass by the fused operations, with this step's scales of the weight and the bias
    /// (computed here when not given), followed by `activation` inside a convolution's own
    /// operation when the mode allows (its pre-activation is then the layer's output: not in
    /// [`Mode::Local`]). Returns whether the activation was applied.
    pub(crate) fn forward_fused(
        &self,
        x: &Tensor,
        mode: Mode,
        noise: &mut Noise,
        scales: Option<&[Scales; 2]>,
        activation: Option<Activation>,
    ) -> Result<(Tensor, bool)> {
        let spread = scales.map(Spread::Fused);
        match self {
            Layer::Linear(l) => {
                let y = gaussian_forward(
                    l.weight(),
                    l.bias(),
                    x,
                    mode,
                    noise,
                    spread,
                    GaussianLinear::forward_fixed,
                )?;
                Ok((y, false))
            }
            Layer::Conv2d(c) => {
                let activation = activation.filter(|_| mode != Mode::Local);
                let op = |x: &Tensor, w: &Tensor, b: &Tensor| {
                    Ok(crate::im2col::conv2d_activated(x, w, b, activation)?)
                };
                Ok((
                    gaussian_forward(c.weight(), c.bias(), x, mode, noise, spread, op)?,
                    activation.is_some(),
                ))
            }
        }
    }

    /// The forward pass of a layer of the given kind with fixed weight and bias.
    pub(crate) fn forward_fixed(
        spec: &LayerSpec,
        x: &Tensor,
        weight: &Tensor,
        bias: &Tensor,
    ) -> Result<Tensor> {
        match spec {
            LayerSpec::Linear { .. } => GaussianLinear::forward_fixed(x, weight, bias),
            LayerSpec::Conv2d { .. } => GaussianConv2d::forward_fixed(x, weight, bias),
        }
    }
}

impl Architecture {
    /// The input as the first layer takes it: f32, shape (batch, example shape), normalized as
    /// [`Architecture::input_normalization`] says. Any shape with the architecture's number of values
    /// per example is accepted. Code that runs the layers itself (a sampler, an exporter) starts here.
    ///
    /// # Errors
    /// An input with the wrong number of values per example.
    pub fn prepare_input(&self, x: &Tensor) -> Result<Tensor> {
        shape_input(*self, x)
    }
}

/// The input as f32 with shape (batch, example shape of the architecture), normalized as the
/// architecture says ([`Architecture::input_normalization`]).
fn shape_input(architecture: Architecture, x: &Tensor) -> Result<Tensor> {
    let dims = x.dims();
    let per_example: usize = dims.iter().skip(1).product();
    if dims.len() < 2 || per_example != architecture.inputs() {
        return Err(Error::InputShape {
            architecture: architecture.to_string(),
            expected: format!("{:?}", architecture.example_shape()),
            found: dims.to_vec(),
        });
    }
    let mut shape = vec![dims[0]];
    shape.extend(architecture.example_shape());
    let mut x = if x.dtype() == DType::F32 { x.clone() } else { x.to_dtype(DType::F32)? };
    if let Some((shift, scale)) = architecture.input_normalization() {
        x = x.affine(1.0 / f64::from(scale), -f64::from(shift) / f64::from(scale))?;
    }
    if x.dims() == shape.as_slice() { Ok(x) } else { Ok(x.reshape(shape)?) }
}

/// Runs the stages: for each, reshape as the layer needs, apply the layer (through `layer`), then
/// ReLU, max-pooling and — when `dropout` is given and the stage is marked for it — dropout with
/// masks drawn from `noise`.
pub(crate) fn run_stages(
    architecture: Architecture,
    stages: &[Stage],
    x: &Tensor,
    dropout: Option<f32>,
    noise: &mut Noise,
    mut layer: impl FnMut(usize, &Tensor, &mut Noise, Option<Activation>) -> Result<(Tensor, bool)>,
) -> Result<Tensor> {
    let mut x = shape_input(architecture, x)?;
    for (i, stage) in stages.iter().enumerate() {
        if matches!(stage.layer, LayerSpec::Linear { .. }) && x.rank() > 2 {
            x = x.flatten_from(1)?;
        }
        let rate = dropout.filter(|_| stage.dropout);
        // A convolution may apply its ReLU (and pooling) itself; ReLU then dropout is one operation.
        let fusable = match (&stage.layer, stage.relu, stage.max_pool, rate) {
            (LayerSpec::Conv2d { .. }, true, Some(k), _) => Some(Activation::ReluMaxPool(k)),
            (LayerSpec::Conv2d { .. }, true, None, None) => Some(Activation::Relu),
            _ => None,
        };
        x = stage.layer.pad_input(&x)?;
        let (y, activated) = layer(i, &x, noise, fusable)?;
        x = match (stage.relu && !activated, stage.max_pool.filter(|_| !activated), rate) {
            (true, None, Some(rate)) => {
                let mask = noise.dropout_mask(y.elem_count(), rate);
                crate::activation::relu_masked(&y, mask)?
            }
            (true, None, None) => crate::activation::relu(&y)?,
            (true, Some(k), _) => crate::activation::relu_max_pool2d(&y, k)?,
            (false, Some(k), _) => y.max_pool2d(k)?,
            (false, None, _) => y,
        };
        if let (Some(rate), false) = (rate, stage.relu && stage.max_pool.is_none() && !activated) {
            let mask = noise.dropout_mask(x.elem_count(), rate);
            x = x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)?;
        }
    }
    Ok(x)
}
