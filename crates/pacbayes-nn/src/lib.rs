//! Stochastic (Gaussian-weight) layers and architectures on candle, for PAC-Bayes certificates.
//!
//! A [`Network`] holds, for every weight and bias of every layer, a posterior Q = N(μ, σ²) with
//! σ = softplus(ρ) — μ and ρ are candle [`Var`](candle_core::Var)s, so an optimizer differentiates
//! through them — and a prior P = N(μ_P, σ_P²) held as constants ([`GaussianWeights`]). It runs in
//! three [`Mode`]s: one weight draw per forward pass, the local reparameterization (independent
//! pre-activation noise per example), and the mean network (optionally with dropout, for training a
//! prior mean). [`Network::kl`] is the closed-form KL(Q‖P) over all parameters, differentiable;
//! [`Network::kl_value`] the same in f64 for a certificate.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use pacbayes_nn::{Architecture, GaussianWeights, Mode, Network, Noise};
//!
//! let device = Device::Cpu;
//! let arch: Architecture = "linear-4-3".parse()?;
//! // A data-free prior: the reference initialization (seed 42) with scale σ₀ = 0.03;
//! // the posterior starts at the prior, so KL(Q‖P) ≈ 0.
//! let prior = GaussianWeights::random(arch, 0.03, 42, &device)?;
//! let net = Network::from_prior(&prior)?;
//! assert!(net.kl_value()? < 1e-6);
//!
//! // One training step's worth of work: logits with local reparameterization, and the KL.
//! let x = Tensor::from_vec(vec![0.5_f32; 2 * 4], (2, 4), &device)?;
//! let mut noise = Noise::new(7); // every random draw comes from this seeded generator
//! let (logits, kl) = net.forward_and_kl(&x, Mode::Local, &mut noise)?;
//! assert_eq!(logits.dims(), &[2, 3]);
//! let grads = (logits.sum_all()? + kl)?.backward()?;
//! assert!(net.vars().iter().all(|v| grads.get(v).is_some())); // every μ and ρ gets a gradient
//!
//! // A network drawn from Q evaluates any number of batches with the same weights.
//! let drawn = net.draw(&mut noise)?;
//! assert_eq!(drawn.forward(&x)?.dims(), &[2, 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every random draw (initial means, weight and pre-activation noise, dropout masks) comes from a
//! [`Noise`] generator seeded by the caller: candle's own CPU generator cannot be seeded and is
//! never used. The same seed gives the same numbers, bit for bit, on the same machine.
//!
//! The elementwise passes over parameters and activations (σ = softplus(ρ) and its slope, weight
//! draws, variances, the KL and its gradients, ReLU, the optimizer updates) run with AVX2 and FMA
//! where the CPU has both, chosen at run time ([`simd`]), and with the target's baseline
//! instruction set elsewhere: no build-wide `target-cpu` is needed, and a pass gives the same
//! values, bit for bit, either way (NaN results aside, whose sign IEEE 754 leaves unspecified;
//! [`force_baseline_simd`] runs the baseline on any CPU).
//!
//! # Checkpoints
//!
//! Tensor names, for parameter `{p}` = `layers.{i}.weight` or `layers.{i}.bias` (i counts the
//! Gaussian layers from 0; weights have PyTorch's layouts (out, in) and (out, in, k, k)). Priors
//! are saved with [`GaussianWeights::save`] and loaded with [`GaussianWeights::load`]; posteriors
//! with [`Network::save_posterior`] and [`Network::load_posterior`].
//!
//! | file                         | tensors               | meaning                           |
//! |------------------------------|-----------------------|-----------------------------------|
//! | prior ([`GaussianWeights`])  | `{p}.mu`, `{p}.sigma` | mean and scale σ                  |
//! | posterior ([`Network`])      | `{p}.mu`, `{p}.rho`   | mean and ρ, with σ = softplus(ρ)  |
//!
//! All tensors are written as f32; f64, f16 and bf16 are accepted on loading. The header metadata
//! records `format = pacbayes-nn`, `content` (`gaussian-weights` or `posterior`) and
//! `architecture` (its name, e.g. `fcn`) and, for Laplace distributions ([`Family::Laplace`]),
//! `distribution = laplace`; a file without metadata (for example exported from
//! PyTorch) is accepted, and one recording another architecture is rejected. Loading checks that
//! every expected tensor is present, that no other tensor is, that shapes match the architecture,
//! and that values are finite (and scales positive), naming the tensor in any error. Files are
//! written to a temporary sibling, synced and renamed into place ([`atomic`]), so a failed or killed
//! save leaves the previous file, or none, and never a truncated one.

mod activation;
mod architecture;
pub mod atomic;
mod checkpoint;
mod composed;
mod conv;
mod device;
mod dispatch;
mod error;
mod family;
mod fastmath;
mod fused;
mod gaussian_conv;
mod gaussian_linear;
mod im2col;
mod kl;
mod layer;
mod linear;
mod mode;
mod network;
mod noise;
mod par;
mod param;
mod precondition;
mod reparam;
mod softplus;
mod threads;
mod update;
mod weights;

pub use architecture::{Architecture, LayerSpec, Stage};
pub use device::device;
pub use dispatch::{Simd, force_baseline_simd, simd};
pub use error::{Error, Result};
pub use family::Family;
pub use gaussian_conv::GaussianConv2d;
pub use gaussian_linear::GaussianLinear;
pub use im2col::{conv2d, im2col};
pub use kl::{kl_tensor, kl_value};
pub use layer::Layer;
pub use mode::Mode;
pub use network::{Network, SampledNetwork, SigmaSummary};
pub use noise::{NORMAL_BLOCK, Noise};
pub use param::{GaussianParam, non_finite_value};
pub use precondition::{
    KlGroup, kl_preconditioned_momentum, rho_inverse_curvature, sgd_descend, sgd_descend_master,
};
pub use softplus::{inverse_softplus, softplus, softplus_tensor};
pub use threads::init_threads;
pub use update::{AdamStep, adam_step, sgd_momentum_step};
pub use weights::{GaussianWeights, random_means};
