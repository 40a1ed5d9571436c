//! The Monte Carlo term: the empirical risk of Q is an expectation over weights, estimated from
//! draws; the estimate needs its own bound.
//!
//! If $\hat e$ is the mean of $m$ independent $[0,1]$-valued losses with mean $e$, then
//! (Langford & Caruana, 2002, from Chernoff's bound in kl form) with probability at least
//! $1-\delta'$,
//! $$e \le \hat e^{+} = \mathrm{kl}^{-1}_{\uparrow}\bigl(\hat e, \ln(2/\delta')/m\bigr).$$
//! The losses need only be independent and bounded, not identically distributed, so the $m$ draws may
//! be whole networks evaluated on all of the bound set or one draw per (example, repetition) pair.

use serde::{Deserialize, Serialize};

use crate::{Result, check, kl_inv_upper};

/// How the empirical risk was estimated: `samples` independent draws, bounded at confidence δ′.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McTerm {
    samples: u64,
    delta_mc: f64,
}

impl McTerm {
    /// # Errors
    /// `samples` = 0, or `delta_mc` ∉ (0, 1).
    pub fn new(samples: u64, delta_mc: f64) -> Result<Self> {
        Ok(Self {
            samples: check::count("mc_samples", samples)?,
            delta_mc: check::open_unit("delta_mc", delta_mc)?,
        })
    }

    /// m, the number of independent draws.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// δ′.
    pub fn delta_mc(&self) -> f64 {
        self.delta_mc
    }

    /// $\ln(2/\delta')/m$, rounded upward (8ε over its < 4ε of rounding error).
    pub fn complexity(&self) -> f64 {
        crate::check::round_up((2.0 / self.delta_mc).ln() / self.samples as f64)
    }

    /// $\hat e^{+}$ for an estimate $\hat e \in [0, 1]$.
    ///
    /// # Errors
    /// An estimate that is NaN or outside [0, 1].
    pub fn upper(&self, estimate: f64) -> Result<f64> {
        kl_inv_upper(check::probability("emp_risk", estimate)?, self.complexity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_draws_shrink_the_term() {
        let few = McTerm::new(1_000, 0.01).unwrap().upper(0.024).unwrap();
        let many = McTerm::new(1_000_000, 0.01).unwrap().upper(0.024).unwrap();
        assert!(0.024 < many && many < few);
        // kl(0.024‖few) reaches ln(200)/1000: the term is paid in full.
        assert!(crate::kl(0.024, few).unwrap() >= (200f64).ln() / 1_000.0);
    }

    #[test]
    fn invalid_terms_are_errors() {
        assert!(McTerm::new(0, 0.01).is_err());
        assert!(McTerm::new(10, 0.0).is_err());
        assert!(McTerm::new(10, 0.01).unwrap().upper(f64::NAN).is_err());
    }
}
