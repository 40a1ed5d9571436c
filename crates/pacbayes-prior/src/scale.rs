//! The prior scale σ₀ and the grid it was chosen from.

use pacbayes_bounds::Charge;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// σ₀, taken from a declared grid of candidates.
///
/// Whoever tries several σ₀ and keeps the one with the best certificate has looked at S_bound K
/// times: declaring the grid makes the certificate pay $\ln K$ nats for it. A grid of one value
/// (the default) costs nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleChoice {
    sigma0: f64,
    grid: Vec<f64>,
}

impl ScaleChoice {
    /// σ₀ fixed in advance (a grid of one).
    ///
    /// # Errors
    /// σ₀ not finite and positive.
    pub fn fixed(sigma0: f64) -> Result<Self> {
        Self::from_grid(sigma0, vec![sigma0])
    }

    /// σ₀ chosen from `grid`, which must contain it.
    ///
    /// # Errors
    /// σ₀ or a grid value not finite and positive, an empty grid, or σ₀ not in the grid.
    pub fn from_grid(sigma0: f64, grid: Vec<f64>) -> Result<Self> {
        let positive = |x: f64| x > 0.0 && x.is_finite();
        if !positive(sigma0) {
            return Err(invalid("sigma0", sigma0, "a finite positive number"));
        }
        if grid.is_empty() {
            return Err(Error::InvalidSetting {
                name: "scale_grid",
                value: "[]".into(),
                expected: "at least one value",
            });
        }
        if let Some(&bad) = grid.iter().find(|&&x| !positive(x)) {
            return Err(invalid("scale_grid", bad, "finite positive values"));
        }
        if !grid.iter().any(|&x| (x - sigma0).abs() <= 1e-12 * sigma0) {
            return Err(Error::InvalidSetting {
                name: "sigma0",
                value: format!("{sigma0} (grid {grid:?})"),
                expected: "a value of scale_grid (or an empty scale_grid, for a σ₀ fixed without looking at S_bound)",
            });
        }
        Ok(Self { sigma0, grid })
    }

    /// σ₀.
    pub fn sigma0(&self) -> f64 {
        self.sigma0
    }

    /// The declared grid.
    pub fn grid(&self) -> &[f64] {
        &self.grid
    }

    /// $\ln K$ for a grid of K > 1 values; nothing for a fixed σ₀.
    pub fn charges(&self) -> Vec<Charge> {
        if self.grid.len() < 2 {
            return Vec::new();
        }
        let reason =
            format!("prior scale sigma0 = {} chosen from a grid of {}", self.sigma0, self.grid.len());
        vec![Charge::choice(reason, self.grid.len() as u64).expect("the grid is not empty").of_prior_scale()]
    }
}

fn invalid(name: &'static str, value: f64, expected: &'static str) -> Error {
    Error::InvalidSetting { name, value: value.to_string(), expected }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_costs_ln_k_and_a_fixed_scale_nothing() {
        assert!(ScaleChoice::fixed(0.03).unwrap().charges().is_empty());
        let choice = ScaleChoice::from_grid(0.03, vec![0.01, 0.02, 0.03, 0.04]).unwrap();
        let cost = choice.charges()[0].cost_nats;
        assert!((cost - 4f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn bad_scales_are_errors() {
        for bad in [0.0, -0.1, f64::NAN, f64::INFINITY] {
            assert!(ScaleChoice::fixed(bad).is_err(), "{bad}");
        }
        assert!(ScaleChoice::from_grid(0.03, vec![]).is_err());
        assert!(ScaleChoice::from_grid(0.03, vec![0.01, 0.02]).is_err());
        assert!(ScaleChoice::from_grid(0.03, vec![0.03, -1.0]).is_err());
    }
}
