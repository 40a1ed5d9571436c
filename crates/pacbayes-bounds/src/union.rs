//! Union-bound accounting: every choice made by looking at the bound set has a price in nats.
//!
//! If a bound holds with probability $1-\delta_k$ for each candidate $k$ and
//! $\sum_k \delta_k \le \delta$, it holds for all candidates at once with probability $1-\delta$.
//! With $\delta_k = \delta w_k$ for weights $\sum_k w_k \le 1$, choosing candidate $k$ costs
//! $\ln(1/w_k)$ nats, added to the KL: $\ln K$ for a uniform choice among $K$.

use serde::{Deserialize, Serialize};

use crate::{Result, check};

/// One paid choice: why, and how many nats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    /// What was chosen, and among what.
    pub reason: String,
    /// $\ln(1/w_k)$.
    pub cost_nats: f64,
    /// What the choice could change (absent in records: [`Scope::Any`]).
    #[serde(default, skip_serializing_if = "Scope::is_any")]
    pub scope: Scope,
}

/// What a paid choice could change, so that a certificate for a predictor the choice did not
/// touch need not pay it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Anything: every certificate of the run pays it.
    #[default]
    Any,
    /// Only the scale of the prior (σ₀): the prior's mean network, and so the held-out baseline
    /// that certifies it, is the same whichever candidate was chosen.
    PriorScale,
}

impl Scope {
    /// `true` for [`Scope::Any`].
    pub fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

impl Charge {
    /// A uniform choice among `candidates`: $\ln K$ nats.
    ///
    /// # Errors
    /// `candidates` = 0.
    pub fn choice(reason: impl Into<String>, candidates: u64) -> Result<Self> {
        let k = check::count("candidates", candidates)?;
        Ok(Self { reason: reason.into(), cost_nats: (k as f64).ln(), scope: Scope::Any })
    }

    /// The same charge, for a choice that changes only the prior's scale.
    #[must_use]
    pub fn of_prior_scale(self) -> Self {
        Self { scope: Scope::PriorScale, ..self }
    }

    /// A cost declared directly (for a weighting of the user's own).
    ///
    /// # Errors
    /// A cost that is NaN, negative or infinite.
    pub fn nats(reason: impl Into<String>, cost_nats: f64) -> Result<Self> {
        let cost_nats = check::finite_non_negative("cost_nats", cost_nats)?;
        Ok(Self { reason: reason.into(), cost_nats, scope: Scope::Any })
    }
}

/// Every charge paid towards one certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ledger(Vec<Charge>);

impl Ledger {
    /// An empty ledger (no choice made on the bound set).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a charge.
    pub fn pay(&mut self, charge: Charge) -> &mut Self {
        self.0.push(charge);
        self
    }

    /// The charges, in the order paid.
    pub fn charges(&self) -> &[Charge] {
        &self.0
    }

    /// Their sum in nats.
    pub fn total_nats(&self) -> f64 {
        self.0.iter().fold(0.0, |total, c| total + c.cost_nats)
    }
}

impl FromIterator<Charge> for Ledger {
    fn from_iter<I: IntoIterator<Item = Charge>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// The countable grid of Dziugaite & Roy (2017): $\lambda_j = c\,e^{-j/b}$ for $j = 1, 2, \dots$,
/// with weights $6/(\pi^2 j^2)$, so that choosing $j$ costs $2\ln j + \ln(\pi^2/6)$ nats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExponentialGrid {
    top: f64,
    resolution: f64,
}

/// A point of an [`ExponentialGrid`] and the charge for choosing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridPoint {
    /// The index $j \ge 1$.
    pub j: u64,
    /// $\lambda_j$.
    pub value: f64,
    /// $2\ln j + \ln(\pi^2/6)$.
    pub charge: Charge,
}

impl ExponentialGrid {
    /// The grid with scale `top` = $c$ and resolution `resolution` = $b$ (both > 0).
    ///
    /// # Errors
    /// A non-positive or non-finite `top` or `resolution`.
    pub fn new(top: f64, resolution: f64) -> Result<Self> {
        Ok(Self { top: check::positive("top", top)?, resolution: check::positive("resolution", resolution)? })
    }

    /// The grid of Dziugaite & Roy: $c = 0.1$, $b = 100$.
    pub fn dziugaite_roy() -> Self {
        Self { top: 0.1, resolution: 100.0 }
    }

    /// $\lambda_j$ and its charge.
    ///
    /// # Errors
    /// `j` = 0 (the grid starts at 1).
    pub fn point(&self, j: u64) -> Result<GridPoint> {
        let j = check::count("j", j)?;
        let cost = 2.0 * (j as f64).ln() + (std::f64::consts::PI.powi(2) / 6.0).ln();
        Ok(GridPoint {
            j,
            value: self.top * (-(j as f64) / self.resolution).exp(),
            charge: Charge::nats(
                format!("grid point j = {j} of c·exp(-j/b), c = {}, b = {}", self.top, self.resolution),
                cost,
            )?,
        })
    }

    /// The grid point nearest to `value` in $j$; a value above the top of the grid is clamped to
    /// $j = 1$, never extrapolated.
    ///
    /// # Errors
    /// A `value` that is not finite and positive.
    pub fn snap(&self, value: f64) -> Result<GridPoint> {
        let value = check::positive("value", value)?;
        let j = (self.resolution * (self.top / value).ln()).round();
        // `j` may be negative or zero above the top; the grid has no such points.
        let j = if j.is_finite() && j >= 1.0 { j.min(u64::MAX as f64) as u64 } else { 1 };
        self.point(j)
    }
}

impl std::fmt::Display for Charge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.4} nats: {}", self.cost_nats, self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn uniform_choice_costs_ln_k() {
        assert!(Charge::choice("one", 1).unwrap().cost_nats.abs() < 1e-300);
        assert!((Charge::choice("eight", 8).unwrap().cost_nats - 8f64.ln()).abs() < 1e-15);
        assert_eq!(Charge::choice("none", 0), Err(Error::ZeroCount { name: "candidates" }));
        assert!(Charge::nats("bad", -1.0).is_err());
        assert!(Charge::nats("bad", f64::NAN).is_err());
    }

    #[test]
    fn ledger_sums_its_charges() {
        let ledger: Ledger =
            [Charge::choice("a", 2).unwrap(), Charge::choice("b", 3).unwrap()].into_iter().collect();
        assert!((ledger.total_nats() - 6f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn exponential_grid_weights_sum_to_at_most_one() {
        let grid = ExponentialGrid::dziugaite_roy();
        let total: f64 = (1..200_000).map(|j| (-grid.point(j).unwrap().charge.cost_nats).exp()).sum();
        assert!(total <= 1.0 && total > 0.9999, "{total}");
    }

    #[test]
    fn snapping_never_yields_nan_or_j_zero() {
        let grid = ExponentialGrid::dziugaite_roy();
        for v in [1e-300, 1e-6, 0.05, 0.0999, 0.1, 5.0, 1e300] {
            let p = grid.snap(v).unwrap();
            assert!(p.j >= 1 && p.value.is_finite() && p.charge.cost_nats.is_finite(), "{v}");
        }
        assert_eq!(grid.snap(5.0).unwrap().j, 1);
        let p = grid.snap(0.1 * (-0.37f64).exp()).unwrap();
        assert_eq!(p.j, 37);
        assert!(grid.snap(0.0).is_err() && grid.snap(f64::NAN).is_err());
        assert!(grid.point(0).is_err());
    }
}
