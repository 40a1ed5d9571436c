//! The held-out baseline: the test-set bound of the prior's mean network on S_bound.
//!
//! The prior P was built without S_bound, so its mean network $h_P$ (the prior means as weights)
//! is a fixed classifier as far as S_bound is concerned, and its error count
//! $k = n\hat R_{S_\text{bound}}(h_P)$ is $\mathrm{Bin}(n, R(h_P))$. The exact binomial tail
//! inversion ([`pacbayes_bounds::binomial_tail_upper`], Langford 2005) then gives, with probability
//! at least $1 - \delta_h$ over S_bound,
//! $$R(h_P) \le \bar p(k, n, \delta_h).$$
//!
//! **What is claimed.** This is a certificate for a *different predictor* (the deterministic network
//! $h_P$, not the Gibbs classifier Q) and an *event of its own*: it holds with probability
//! $1 - \delta_h$ on its own, and the PAC-Bayes certificate holds with probability
//! $1 - \delta - \delta'$ on its own. Both hold together with probability at least
//! $1 - \delta_h - \delta - \delta'$ (a union bound); reporting the better of the two for a chosen
//! predictor would need that total. `advantage` = held-out bound − PAC-Bayes bound compares two
//! guarantees a reader could have obtained from the same S_bound; it is positive when the PAC-Bayes
//! certificate is the tighter one.
//!
//! $\delta_h = \delta\,e^{-c}$ where $c$ is every union-bound charge of the run in nats that could
//! change $h_P$: a run chosen among K configurations (one of which may have had another prior) pays
//! ln K here too, so the baseline is never optimistic. A choice of the prior's *scale* alone (σ₀
//! from a grid, [`Scope::PriorScale`]) leaves the mean network as it is and is not paid: charging
//! it would loosen the baseline and flatter the PAC-Bayes certificate beside it. With no such
//! charge, $\delta_h = \delta$. Records of earlier versions paid every charge; a smaller
//! $\delta_h$ is only more conservative, and [`crate::CertificateRecord::verify`] accepts it.

use pacbayes_bounds::{Charge, Scope, binomial_tail_upper};
use pacbayes_data::BoundSet;
use pacbayes_nn::Network;
use serde::{Deserialize, Serialize};

use crate::estimate::bound_batches;
use crate::loss::loss_sums;
use crate::{CheckedSettings, Result};

/// The held-out baseline recorded in `certificate.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldoutRecord {
    /// Errors of the prior's mean network on S_bound (an exact count).
    pub errors: u64,
    /// n = |S_bound|.
    pub n: u64,
    /// $\delta_h = \delta e^{-c}$, the confidence of this bound (see the module documentation).
    pub delta: f64,
    /// $\bar p(k, n, \delta_h)$: the test-set bound on the risk of the prior's mean network.
    pub bound: f64,
}

/// The number of examples of `bound` that the prior's mean network of `network` misclassifies.
///
/// # Errors
/// Data that does not fit the network, or a candle failure.
pub fn prior_mean_errors(network: &Network, bound: BoundSet<'_>, settings: &CheckedSettings) -> Result<u64> {
    let prior = Network::from_prior(&network.prior())?;
    let s = settings.settings();
    let mut errors = 0.0;
    for (x, labels) in bound_batches(&prior, bound, s.batch_size)? {
        errors += loss_sums(&prior.forward_mean(&x)?, &labels, s.p_min)?.zero_one;
    }
    // A sum of 0s and 1s below 2^53: exact.
    Ok(errors.round() as u64)
}

/// The charges the held-out baseline pays, in nats: those that could change the prior's mean
/// network (see the module documentation).
pub fn heldout_charges_nats(charges: &[Charge]) -> f64 {
    charges.iter().filter(|c| c.scope != Scope::PriorScale).map(|c| c.cost_nats).sum()
}

impl HeldoutRecord {
    /// The baseline for `errors` mistakes on `n` examples at δ·exp(−`charges_nats`).
    ///
    /// # Errors
    /// `n` = 0, `errors` > `n`, or a δ outside (0, 1).
    pub fn new(errors: u64, n: u64, delta: f64, charges_nats: f64) -> Result<Self> {
        // Rounded down (4ε relative) so that the confidence is never overstated.
        let delta = delta * (-charges_nats).exp() * (1.0 - 4.0 * f64::EPSILON);
        Ok(Self { errors, n, delta, bound: binomial_tail_upper(errors, n, delta)? })
    }
}
