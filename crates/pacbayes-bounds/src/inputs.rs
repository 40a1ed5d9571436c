//! The checked quantities a PAC-Bayes bound is computed from.

use serde::{Deserialize, Serialize};

use crate::{Result, check};

/// Empirical risk, KL divergence, sample size and confidence, each checked once at construction so
/// that no NaN, negative KL, empty sample or δ ∉ (0, 1) can reach a formula.
///
/// `n` is the number of examples the empirical risk was measured on (|S_bound|), nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundInputs {
    emp_risk: f64,
    kl: f64,
    n: u64,
    delta: f64,
}

impl BoundInputs {
    /// Checks $\hat r \in [0,1]$, $\mathrm{KL} \ge 0$ finite, $n \ge 1$ and $\delta \in (0, 1)$.
    ///
    /// # Errors
    /// The first argument outside its domain, named.
    pub fn new(emp_risk: f64, kl: f64, n: u64, delta: f64) -> Result<Self> {
        Ok(Self {
            emp_risk: check::probability("emp_risk", emp_risk)?,
            kl: check::finite_non_negative("kl", kl)?,
            n: check::count("n", n)?,
            delta: check::open_unit("delta", delta)?,
        })
    }

    /// The empirical risk $\hat r$ (an upper confidence value when a Monte Carlo term was paid).
    pub fn emp_risk(&self) -> f64 {
        self.emp_risk
    }

    /// KL(Q‖P) in nats.
    pub fn kl(&self) -> f64 {
        self.kl
    }

    /// The number of examples behind the empirical risk.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The confidence parameter δ.
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// The same inputs with extra nats added to the KL (union-bound costs enter the bound there).
    pub(crate) fn with_extra_nats(self, nats: f64) -> Self {
        Self { kl: self.kl + nats, ..self }
    }

    /// The same inputs with another empirical risk (already checked by the caller).
    pub(crate) fn with_emp_risk(self, emp_risk: f64) -> Self {
        Self { emp_risk, ..self }
    }

    /// $\ln(2\sqrt n/\delta)$, the confidence term of the kl, McAllester, quadratic and λ bounds.
    pub fn confidence_nats(&self) -> f64 {
        std::f64::consts::LN_2 + 0.5 * (self.n as f64).ln() - self.delta.ln()
    }

    /// $(\mathrm{KL} + \ln(2\sqrt n/\delta))/n$, the right-hand side of the kl bound, rounded
    /// upward: its terms are all non-negative, so the rounding error is below 4ε relative, and 8ε is
    /// added.
    pub fn complexity(&self) -> f64 {
        crate::check::round_up((self.kl + self.confidence_nats()) / self.n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn each_argument_is_checked_and_named() {
        let name = |r: Result<BoundInputs>| match r {
            Err(Error::InvalidValue { name, .. }) => name,
            Err(Error::ZeroCount { name }) => name,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(name(BoundInputs::new(1.5, 1.0, 10, 0.05)), "emp_risk");
        assert_eq!(name(BoundInputs::new(f64::NAN, 1.0, 10, 0.05)), "emp_risk");
        assert_eq!(name(BoundInputs::new(0.1, -1.0, 10, 0.05)), "kl");
        assert_eq!(name(BoundInputs::new(0.1, f64::INFINITY, 10, 0.05)), "kl");
        assert_eq!(name(BoundInputs::new(0.1, 1.0, 0, 0.05)), "n");
        assert_eq!(name(BoundInputs::new(0.1, 1.0, 10, 0.0)), "delta");
        assert_eq!(name(BoundInputs::new(0.1, 1.0, 10, 1.0)), "delta");
    }

    #[test]
    fn confidence_term_uses_n() {
        let inputs = BoundInputs::new(0.0, 0.0, 30_000, 0.025).unwrap();
        let expected = (2.0 * 30_000f64.sqrt() / 0.025).ln();
        assert!((inputs.confidence_nats() - expected).abs() < 1e-13);
    }
}
