//! A prior that sees no data: centred at a seeded random initialization.

use candle_core::Device;
use pacbayes_bounds::Charge;
use pacbayes_nn::{Architecture, GaussianWeights};

use crate::{Prior, Result, ScaleChoice};

/// P = N(w₀, σ₀² I) with w₀ the reference initialization drawn from `seed`
/// ([`GaussianWeights::random`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DataFree {
    scale: ScaleChoice,
    seed: u64,
}

impl DataFree {
    /// The data-free prior with scale `scale` and initialization seed `seed`.
    pub fn new(scale: ScaleChoice, seed: u64) -> Self {
        Self { scale, seed }
    }

    /// The scale and its grid.
    pub fn scale(&self) -> &ScaleChoice {
        &self.scale
    }

    /// The initialization seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl Prior for DataFree {
    fn weights(&self, architecture: Architecture, device: &Device) -> Result<GaussianWeights> {
        Ok(GaussianWeights::random(architecture, self.scale.sigma0(), self.seed, device)?)
    }

    fn description(&self) -> String {
        format!("data-free: random initialization (seed {}), sigma0 = {}", self.seed, self.scale.sigma0())
    }

    fn charges(&self) -> Vec<Charge> {
        self.scale.charges()
    }
}
