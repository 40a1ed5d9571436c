//! The Rényi form of the disintegrated certificate (Viallard, Germain, Habrard & Morvant, Machine
//! Learning 2023): the same drawn network $h$, the same exact count of its errors on S_bound, and in
//! place of $\ln\frac{dQ}{dP}(h)$ the divergence $D_\alpha(Q\|P)$ of the distributions, with a
//! confidence term $\frac{2\alpha-1}{\alpha-1}\ln\frac2\delta$ (see
//! [`pacbayes_bounds::disintegrated_renyi_bound`] for the statement).
//!
//! **What is claimed.** Each of the two forms holds on its own with probability at least
//! $1-\delta$ (over S_bound and the draw of $h$). Both are recorded; a reader who reports the
//! smaller of the two after seeing both must run each at δ/2 (a union bound over the two forms).
//! The order α is the setting `renyi_alpha` (default 2), fixed before S_bound is looked at.

use candle_core::Tensor;
use pacbayes_bounds::{disintegrated_renyi_bound, renyi_diag_gaussian, renyi_diag_laplace};
use pacbayes_nn::{Family, GaussianWeights};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The Rényi form of the disintegrated certificate, recorded in `certificate.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenyiRecord {
    /// The order α > 1.
    pub alpha: f64,
    /// $D_\alpha(Q\|P)$ in nats, rounded up. JSON has no infinity: a divergence that is not finite
    /// is recorded as $10^{300}$, which makes the bound 1 as an infinite one does.
    pub divergence: f64,
    /// Every union-bound charge of the run in nats, paid at $\frac{2\alpha-1}{\alpha-1}$ each.
    pub charges_nats: f64,
    /// The certified upper bound on the risk of $h$.
    pub bound: f64,
}

/// The largest divergence written to a record (see [`RenyiRecord::divergence`]).
const LARGEST: f64 = 1e300;

impl RenyiRecord {
    /// The certificate of a network with `errors` mistakes on `n` examples, at δ with `charges_nats`.
    ///
    /// # Errors
    /// `errors` > `n`, n = 0, δ ∉ (0, 1), α not finite and > 1, or a negative divergence.
    pub fn new(
        alpha: f64,
        divergence: f64,
        errors: u64,
        n: u64,
        delta: f64,
        charges_nats: f64,
    ) -> Result<Self> {
        if errors > n || n == 0 {
            return Err(Error::InvalidData {
                what: "S_bound",
                reason: format!("{errors} errors of {n} examples"),
            });
        }
        let divergence = divergence.min(LARGEST);
        let bound =
            disintegrated_renyi_bound(errors as f64 / n as f64, divergence, n, delta, alpha, charges_nats)?;
        Ok(Self { alpha, divergence, charges_nats, bound })
    }
}

fn flat(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.flatten_all()?.to_dtype(candle_core::DType::F64)?.to_vec1::<f64>()?)
}

/// $D_\alpha(Q\|P)$ of `posterior` and `prior` (diagonal Gaussian or Laplace distributions, of one
/// family), in f64 from their parameters, rounded up (see [`renyi_diag_gaussian`] and
/// [`renyi_diag_laplace`]).
///
/// # Errors
/// Parameter lists or shapes that differ, distributions of different families, an invalid scale,
/// or a candle failure.
pub fn renyi_divergence(posterior: &GaussianWeights, prior: &GaussianWeights, alpha: f64) -> Result<f64> {
    if posterior.mu().len() != prior.mu().len() {
        return Err(Error::InvalidData {
            what: "posterior",
            reason: "parameter count differs from P's".into(),
        });
    }
    if posterior.family() != prior.family() {
        return Err(Error::InvalidData {
            what: "posterior",
            reason: format!("{} distributions, P's are {}", posterior.family(), prior.family()),
        });
    }
    let (mut mq, mut sq, mut mp, mut sp) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..posterior.mu().len() {
        mq.extend(flat(&posterior.mu()[i])?);
        sq.extend(flat(&posterior.sigma()[i])?);
        mp.extend(flat(&prior.mu()[i])?);
        sp.extend(flat(&prior.sigma()[i])?);
    }
    Ok(match posterior.family() {
        Family::Gaussian => renyi_diag_gaussian(alpha, &mq, &sq, &mp, &sp)?,
        Family::Laplace => renyi_diag_laplace(alpha, &mq, &sq, &mp, &sp)?,
    })
}
