//! Forward passes in which every example sees its own, independent draw of the weights from Q.
//!
//! **Fully connected layers** use the local reparameterization (Kingma et al., 2015): given its
//! input $h$, the pre-activations of a layer with independent Gaussian weights $W_{ji} \sim
//! N(\mu_{ji}, \sigma_{ji}^2)$ and biases $b_j \sim N(\mu_{b_j}, \sigma_{b_j}^2)$ are
//! $z_j = \sum_i W_{ji} h_i + b_j \sim
//! N\bigl(\mu_j \cdot h + \mu_{b_j},\ \sum_i \sigma_{ji}^2 h_i^2 + \sigma_{b_j}^2\bigr)$, exactly,
//! and independent across $j$ (the rows of $W$ are independent).
//! A layer's weights are independent of the earlier layers', so drawing each layer's
//! pre-activations from this law given the drawn activations of the layer before gives, for one
//! example, exactly the law of the network's output under one weight draw from Q. Fresh noise for
//! every example (and every repetition) makes the outputs of different examples independent, as if
//! each had been given its own weight draw. This is the computation of
//! [`Mode::Local`](pacbayes_nn::Mode::Local), here with σ² and the transposed means prepared once.
//!
//! **Convolutions** are not covered by that argument: the output positions of one example share a
//! kernel, so independent noise per position would be the law of a different model. For them the
//! kernel and bias are drawn in full, once per example, and the example is convolved with its own
//! draw. Later fully connected layers then proceed as above.
//!
//! **Laplace weights** ([`Family::Laplace`](pacbayes_nn::Family)) are not covered by it either: a
//! weighted sum of independent Laplace variables is not Laplace, and its law has no closed form to
//! draw from. Every layer of a Laplace network, fully connected or not, is therefore drawn in full
//! once per example (a batched product of each example with its own weight matrix). The outputs
//! have exactly the law of per-example draws from Q; the cost per example is that of a whole weight
//! draw, which is why a Laplace certificate uses fewer repetitions than a Gaussian one.

use candle_core::Tensor;
use pacbayes_nn::{Architecture, Family, Layer, LayerSpec, Network, Noise, Stage};

use crate::Result;

/// A layer's posterior, prepared for independent per-example draws.
#[derive(Debug)]
enum Prepared {
    /// A fully connected Gaussian layer, by the local reparameterization.
    Linear { mu_t: Tensor, var_t: Tensor, mu_b: Tensor, var_b: Tensor },
    /// A fully connected layer drawn in full per example: weights in (inputs, outputs) layout.
    LinearDrawn { family: Family, mu_t: Tensor, scale_t: Tensor, mu_b: Tensor, scale_b: Tensor },
    /// A convolution drawn in full per example.
    Conv { family: Family, mu: Tensor, sigma: Tensor, mu_b: Tensor, sigma_b: Tensor },
}

/// Draws the outputs of Q with an independent weight draw per example (see the module docs).
#[derive(Debug)]
pub struct GibbsSampler {
    architecture: Architecture,
    stages: Vec<Stage>,
    layers: Vec<Prepared>,
}

impl GibbsSampler {
    /// Prepares the posterior of `network` (σ = softplus(ρ) computed once).
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn new(network: &Network) -> Result<Self> {
        let mut layers = Vec::new();
        let family = network.family();
        for layer in network.layers() {
            let (w, b) = (layer.weight(), layer.bias());
            let (sigma_w, sigma_b) = (w.sigma()?.detach(), b.sigma()?.detach());
            let (mu_w, mu_b) = (w.mu().as_tensor().detach(), b.mu().as_tensor().detach());
            layers.push(match layer {
                Layer::Linear(_) if family != Family::Gaussian => Prepared::LinearDrawn {
                    family,
                    mu_t: mu_w.t()?.contiguous()?,
                    scale_t: sigma_w.t()?.contiguous()?,
                    mu_b,
                    scale_b: sigma_b,
                },
                Layer::Linear(_) => Prepared::Linear {
                    mu_t: mu_w.t()?.contiguous()?,
                    var_t: sigma_w.sqr()?.t()?.contiguous()?,
                    mu_b,
                    var_b: sigma_b.sqr()?,
                },
                Layer::Conv2d(_) => Prepared::Conv { family, mu: mu_w, sigma: sigma_w, mu_b, sigma_b },
            });
        }
        let architecture = network.architecture();
        Ok(Self { architecture, stages: architecture.stages(), layers })
    }

    /// Whether the network has convolutions (drawn in full per example, which is slower).
    pub fn has_convolutions(&self) -> bool {
        self.layers.iter().any(|l| matches!(l, Prepared::Conv { .. }))
    }

    /// Whether some layer is drawn in full per example (a convolution, or any layer of a
    /// non-Gaussian network): a repetition then costs a whole weight draw per example.
    pub fn draws_per_example(&self) -> bool {
        self.layers.iter().any(|l| !matches!(l, Prepared::Linear { .. }))
    }

    /// The logits for a batch `x` (any shape with the architecture's number of values per
    /// example), every row computed under its own independent weight draw from Q, with all noise
    /// taken from `noise`.
    ///
    /// # Errors
    /// An input that does not fit the architecture, or a candle failure.
    pub fn forward(&self, x: &Tensor, noise: &mut Noise) -> Result<Tensor> {
        self.forward_from(&self.shape_input(x)?, None, noise)
    }

    /// The mean and standard deviation of the first layer's pre-activations given the input, when
    /// the first layer is fully connected: they do not depend on the draw, so repetitions over the
    /// same batch compute them once ([`GibbsSampler::forward_with_stem`]).
    ///
    /// # Errors
    /// As [`GibbsSampler::forward`].
    pub fn stem(&self, x: &Tensor) -> Result<Option<Stem>> {
        let Some(Prepared::Linear { mu_t, var_t, mu_b, var_b }) = self.layers.first() else {
            return Ok(None);
        };
        let h = self.shape_input(x)?;
        let h = if h.rank() > 2 { h.flatten_from(1)? } else { h };
        let mean = h.matmul(mu_t)?.broadcast_add(mu_b)?;
        let sd = h.sqr()?.matmul(var_t)?.broadcast_add(var_b)?.sqrt()?;
        Ok(Some(Stem { x: h, mean, sd }))
    }

    /// As [`GibbsSampler::forward`] on the input the stem was computed from, with the same draws
    /// from the same `noise`.
    ///
    /// # Errors
    /// A candle failure.
    pub fn forward_with_stem(&self, stem: &Stem, noise: &mut Noise) -> Result<Tensor> {
        self.forward_from(&stem.x, Some(stem), noise)
    }

    fn shape_input(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.architecture.prepare_input(x)?)
    }

    fn forward_from(&self, x: &Tensor, stem: Option<&Stem>, noise: &mut Noise) -> Result<Tensor> {
        let mut h = x.clone();
        for (i, (stage, layer)) in self.stages.iter().zip(&self.layers).enumerate() {
            if matches!(stage.layer, LayerSpec::Linear { .. }) && h.rank() > 2 {
                h = h.flatten_from(1)?;
            }
            h = stage.layer.pad_input(&h)?;
            h = match (layer, stem) {
                (Prepared::Linear { .. }, Some(stem)) if i == 0 => {
                    let eps = noise.normal_tensor(stem.mean.shape(), stem.mean.device())?;
                    stem.mean.add(&stem.sd.mul(&eps)?)?
                }
                (Prepared::Linear { mu_t, var_t, mu_b, var_b }, _) => {
                    let mean = h.matmul(mu_t)?.broadcast_add(mu_b)?;
                    let sd = h.sqr()?.matmul(var_t)?.broadcast_add(var_b)?.sqrt()?;
                    let eps = noise.normal_tensor(mean.shape(), mean.device())?;
                    mean.add(&sd.mul(&eps)?)?
                }
                (Prepared::LinearDrawn { family, mu_t, scale_t, mu_b, scale_b }, _) => {
                    linear_per_example(&h, *family, [mu_t, scale_t, mu_b, scale_b], noise)?
                }
                (Prepared::Conv { family, mu, sigma, mu_b, sigma_b }, _) => {
                    conv_per_example(&h, *family, [mu, sigma, mu_b, sigma_b], noise)?
                }
            };
            if stage.relu {
                h = h.relu()?;
            }
            if let Some(k) = stage.max_pool {
                h = h.max_pool2d(k)?;
            }
        }
        Ok(h)
    }
}

/// The first layer's pre-activation law for a batch (see [`GibbsSampler::stem`]).
#[derive(Debug, Clone)]
pub struct Stem {
    x: Tensor,
    mean: Tensor,
    sd: Tensor,
}

/// Examples per call of the per-example convolution (bounds the memory of the unfolded patches).
const CONV_CHUNK: usize = 64;

/// Examples per call of the per-example fully connected layer (bounds the memory of the drawn
/// weight matrices: 16 draws of the MNIST FCN's first layer are 30 MB).
const LINEAR_CHUNK: usize = 16;

/// `len` draws of a parameter with location `mu` and scale `scale` from `family`, stacked on a new
/// first axis.
fn draws(family: Family, len: usize, mu: &Tensor, scale: &Tensor, noise: &mut Noise) -> Result<Tensor> {
    let mut shape = vec![len];
    shape.extend(mu.dims());
    Ok(noise.standard_tensor(family, shape, mu.device())?.broadcast_mul(scale)?.broadcast_add(mu)?)
}

/// Each example convolved with its own kernel and bias drawn from Q, by a batched matrix product
/// over unfolded patches ([`pacbayes_nn::conv2d`] with one kernel per example).
fn conv_per_example(h: &Tensor, family: Family, params: [&Tensor; 4], noise: &mut Noise) -> Result<Tensor> {
    per_example(h, CONV_CHUNK, family, params, noise, |x, w, b| Ok(pacbayes_nn::conv2d(x, w, b)?))
}

/// Each example (a row of `h`) times its own weight matrix, plus its own bias, both drawn from Q:
/// weights in (inputs, outputs) layout, so that the product is a batched (1 × inputs)·(inputs ×
/// outputs) one.
fn linear_per_example(h: &Tensor, family: Family, params: [&Tensor; 4], noise: &mut Noise) -> Result<Tensor> {
    per_example(h, LINEAR_CHUNK, family, params, noise, |x, w, b| {
        Ok(x.unsqueeze(1)?.contiguous()?.matmul(w)?.squeeze(1)?.add(b)?)
    })
}

/// The examples of `h` in chunks of `chunk`: for each chunk, one weight and one bias draw per
/// example (in that order, from `noise`), then `layer(examples, weights, biases)`.
fn per_example(
    h: &Tensor,
    chunk: usize,
    family: Family,
    [mu, scale, mu_b, scale_b]: [&Tensor; 4],
    noise: &mut Noise,
    layer: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let batch = h.dim(0)?;
    let mut out = Vec::with_capacity(batch.div_ceil(chunk));
    for start in (0..batch).step_by(chunk) {
        let len = chunk.min(batch - start);
        let w = draws(family, len, mu, scale, noise)?;
        let b = draws(family, len, mu_b, scale_b, noise)?;
        out.push(layer(&h.narrow(0, start, len)?, &w, &b)?);
    }
    Ok(Tensor::cat(&out, 0)?)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn input(n: usize, arch: Architecture, seed: u64) -> Tensor {
        let values: Vec<f32> =
            Noise::new(seed).standard_normal(n * arch.inputs()).iter().map(|v| v.abs()).collect();
        Tensor::from_vec(values, (n, arch.inputs()), &Device::Cpu).unwrap()
    }

    #[test]
    fn with_tiny_scales_every_architecture_gives_the_mean_network() {
        // cnn9: padded convolutions, drawn per example as the mean network pads them.
        for arch in [
            Architecture::Cnn,
            Architecture::Cnn6,
            Architecture::Cnn9,
            Architecture::FcnBinary,
            Architecture::Linear { inputs: 6, classes: 3 },
        ] {
            let net = Network::from_seed(arch, 1e-7, 3, &Device::Cpu).unwrap();
            let x = input(2, arch, 1);
            let sampled = GibbsSampler::new(&net).unwrap().forward(&x, &mut Noise::new(5)).unwrap();
            let mean = net.forward_mean(&x).unwrap();
            let diff =
                (sampled - mean).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-3, "{arch}: {diff}");
        }
    }

    #[test]
    fn each_example_gets_its_own_draw_with_the_law_of_q() {
        // A linear model: the logits of x are exactly N(μ·x + μ_b, x²·σ² + σ_b²) under Q.
        let arch = Architecture::Linear { inputs: 3, classes: 2 };
        let net = Network::from_seed(arch, 0.5, 3, &Device::Cpu).unwrap();
        let copies = 20_000;
        let one = [0.5f32, -1.0, 2.0];
        let x = Tensor::from_vec(one.repeat(copies), (copies, 3), &Device::Cpu).unwrap();
        let out = GibbsSampler::new(&net).unwrap().forward(&x, &mut Noise::new(9)).unwrap();
        let out = out.to_vec2::<f32>().unwrap();
        let layer = &net.layers()[0];
        let mu = layer.weight().mu().as_tensor().to_vec2::<f32>().unwrap();
        let sigma = layer.weight().sigma().unwrap().to_vec2::<f32>().unwrap();
        let (mu_b, sigma_b) = (
            layer.bias().mu().as_tensor().to_vec1::<f32>().unwrap(),
            layer.bias().sigma().unwrap().to_vec1::<f32>().unwrap(),
        );
        for c in 0..2 {
            let mean: f64 = f64::from(mu_b[c]) + (0..3).map(|i| f64::from(mu[c][i] * one[i])).sum::<f64>();
            let var: f64 = f64::from(sigma_b[c]).powi(2)
                + (0..3).map(|i| f64::from(sigma[c][i] * one[i]).powi(2)).sum::<f64>();
            let values: Vec<f64> = out.iter().map(|r| f64::from(r[c])).collect();
            let m = values.iter().sum::<f64>() / copies as f64;
            let v = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / copies as f64;
            assert!((m - mean).abs() < 5.0 * (var / copies as f64).sqrt(), "class {c}: mean {m} vs {mean}");
            assert!((v / var - 1.0).abs() < 0.05, "class {c}: variance {v} vs {var}");
            // Consecutive copies are independent draws: no correlation.
            let cov = values.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum::<f64>() / (copies - 1) as f64;
            assert!((cov / v).abs() < 0.04, "class {c}: lag-1 correlation {}", cov / v);
        }
    }

    #[test]
    fn laplace_layers_draw_their_weights_per_example() {
        // A linear model with Laplace weights: the logit of x is μ·x + μ_b + Σᵢ bᵢxᵢεᵢ + b_b ε_b with
        // independent standard Laplace ε (variance 2), so its variance is 2(Σᵢ (bᵢxᵢ)² + b_b²), its
        // mean absolute deviation exceeds none of a Gaussian's of that variance, and copies are
        // independent.
        let arch = Architecture::Linear { inputs: 3, classes: 2 };
        let prior = pacbayes_nn::GaussianWeights::random(arch, 0.5, 3, &Device::Cpu)
            .unwrap()
            .with_family(Family::Laplace);
        let net = Network::from_prior(&prior).unwrap();
        let copies = 40_000;
        let one = [0.5f32, -1.0, 2.0];
        let x = Tensor::from_vec(one.repeat(copies), (copies, 3), &Device::Cpu).unwrap();
        let sampler = GibbsSampler::new(&net).unwrap();
        assert!(sampler.draws_per_example() && !sampler.has_convolutions());
        let out = sampler.forward(&x, &mut Noise::new(9)).unwrap().to_vec2::<f32>().unwrap();
        let layer = &net.layers()[0];
        let mu = layer.weight().mu().as_tensor().to_vec2::<f32>().unwrap();
        let b = layer.weight().sigma().unwrap().to_vec2::<f32>().unwrap();
        let mu_b = layer.bias().mu().as_tensor().to_vec1::<f32>().unwrap();
        let b_b = layer.bias().sigma().unwrap().to_vec1::<f32>().unwrap();
        for c in 0..2 {
            let mean: f64 = f64::from(mu_b[c]) + (0..3).map(|i| f64::from(mu[c][i] * one[i])).sum::<f64>();
            let var: f64 = 2.0
                * (f64::from(b_b[c]).powi(2)
                    + (0..3).map(|i| f64::from(b[c][i] * one[i]).powi(2)).sum::<f64>());
            let values: Vec<f64> = out.iter().map(|r| f64::from(r[c])).collect();
            let m = values.iter().sum::<f64>() / copies as f64;
            let v = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / copies as f64;
            assert!((m - mean).abs() < 5.0 * (var / copies as f64).sqrt(), "class {c}: mean {m} vs {mean}");
            assert!((v / var - 1.0).abs() < 0.05, "class {c}: variance {v} vs {var}");
            // Heavier tails than a Gaussian's: excess kurtosis > 0.5 (a sum of four Laplace terms).
            let kurtosis =
                values.iter().map(|x| (x - m).powi(4)).sum::<f64>() / copies as f64 / (v * v) - 3.0;
            assert!(kurtosis > 0.5, "class {c}: excess kurtosis {kurtosis}");
            let cov = values.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum::<f64>() / (copies - 1) as f64;
            assert!((cov / v).abs() < 0.03, "class {c}: lag-1 correlation {}", cov / v);
        }
    }

    #[test]
    fn convolutions_draw_a_kernel_per_example() {
        let arch = Architecture::Cnn;
        let net = Network::from_seed(arch, 0.05, 3, &Device::Cpu).unwrap();
        let row = input(1, arch, 2).to_vec2::<f32>().unwrap().remove(0);
        let x = Tensor::from_vec(row.repeat(2), (2, arch.inputs()), &Device::Cpu).unwrap();
        let sampler = GibbsSampler::new(&net).unwrap();
        assert!(sampler.has_convolutions());
        let out = sampler.forward(&x, &mut Noise::new(1)).unwrap().to_vec2::<f32>().unwrap();
        assert!(out[0].iter().zip(&out[1]).any(|(a, b)| (a - b).abs() > 1e-4), "the same draw twice");
        let again = sampler.forward(&x, &mut Noise::new(1)).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(out, again, "the same seed, the same draws");
        assert!(sampler.stem(&x).unwrap().is_none());
    }

    #[test]
    fn the_stem_changes_nothing_but_the_work() {
        let arch = Architecture::FcnBinary;
        let net = Network::from_seed(arch, 0.05, 3, &Device::Cpu).unwrap();
        let x = input(4, arch, 2);
        let sampler = GibbsSampler::new(&net).unwrap();
        let stem = sampler.stem(&x).unwrap().unwrap();
        let direct = sampler.forward(&x, &mut Noise::new(8)).unwrap().to_vec2::<f32>().unwrap();
        let stemmed = sampler.forward_with_stem(&stem, &mut Noise::new(8)).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(direct, stemmed);
    }
}
