//! How a forward pass treats the Gaussian weights.

use crate::{Error, Result};

/// The forward mode of a stochastic network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// One weight draw w = μ + σ ⊙ ε per forward call (per minibatch), by reparameterization:
    /// every example of the batch sees the same network.
    Sample,
    /// Local reparameterization: each pre-activation is drawn from its exact marginal given the
    /// input, N(x·μ + μ_b, x²·σ² + σ_b²), independently per example and unit. Cheaper and with less
    /// variance than [`Mode::Sample`] for training; not a single network, so not for certificates.
    Local,
    /// The mean network (weights μ), deterministic.
    Mean,
    /// The mean network with inverted dropout after the hidden stages marked for it, for training
    /// a prior mean by empirical risk minimization (Pérez-Ortiz et al. use rate 0.2).
    MeanDropout {
        /// The probability of dropping a unit, in [0, 1).
        rate: f32,
    },
}

impl Mode {
    /// Whether the mode draws from σ (and so needs σ = softplus(ρ) computed).
    pub fn is_stochastic(&self) -> bool {
        matches!(self, Mode::Sample | Mode::Local)
    }

    /// Checks the dropout rate of [`Mode::MeanDropout`].
    ///
    /// # Errors
    /// A rate outside [0, 1) (NaN included).
    pub fn check(&self) -> Result<()> {
        match *self {
            Mode::MeanDropout { rate } if !(0.0..1.0).contains(&rate) => Err(Error::InvalidDropout { rate }),
            _ => Ok(()),
        }
    }
}
