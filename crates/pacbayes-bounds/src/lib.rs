//! PAC-Bayes bounds in exact, conservative f64 arithmetic.
//!
//! Everything a risk certificate is computed from, with no tensors: the binary kl and its inverses
//! (certified to err only on the safe side), the classic family of PAC-Bayes bounds, the Monte Carlo
//! term for a sampled empirical risk, union-bound accounting, and the KL and Rényi divergences between diagonal Gaussians.
//!
//! ```
//! use pacbayes_bounds::{BoundInputs, BoundKind, Certificate, Ledger, McTerm};
//!
//! // Empirical risk 0.024 estimated from 1,000 weight draws on |S_bound| = 30,000 examples.
//! let inputs = BoundInputs::new(0.024, 450.0, 30_000, 0.025)?;
//! let mc = McTerm::new(1_000, 0.01)?;
//! let cert = Certificate::compute(&inputs, Some(mc), &BoundKind::Kl, &Ledger::new())?;
//! assert!(cert.emp_risk_upper > 0.024 && cert.bound > cert.emp_risk_upper);
//! println!("risk ≤ {:.4} with probability ≥ {}", cert.bound, 1.0 - 0.025 - 0.01);
//! # Ok::<(), pacbayes_bounds::Error>(())
//! ```
//!
//! All inputs are checked on entry: NaN, a probability outside [0, 1], a negative KL, n = 0 or a
//! δ ∉ (0, 1) is an [`Error`] naming the argument, never a panic or a silent value.

/// The Rust examples of the workspace README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;

mod binomial;
mod bound;
mod certificate;
mod check;
mod error;
mod gaussian;
mod inputs;
mod inverse;
mod kl;
mod laplace;
mod mc;
#[cfg(test)]
mod quadrature;
mod renyi;
mod renyi_laplace;
mod union;

pub use binomial::{binomial_ln_cdf, binomial_tail_upper};
pub use bound::{
    BoundKind, Grid, RiskBound, catoni_bound, kl_bound, lambda_bound, mcallester_bound, quad_bound,
};
pub use certificate::Certificate;
pub use error::{Error, Result};
pub use gaussian::{kl_diag_gaussian, kl_gaussian};
pub use inputs::BoundInputs;
pub use inverse::{kl_inv_lower, kl_inv_upper};
pub use kl::kl;
pub use laplace::{kl_diag_laplace, kl_laplace};
pub use mc::McTerm;
pub use renyi::{disintegrated_renyi_bound, renyi_diag_gaussian, renyi_gaussian};
pub use renyi_laplace::{renyi_diag_laplace, renyi_laplace};
pub use union::{Charge, ExponentialGrid, GridPoint, Ledger, Scope};
