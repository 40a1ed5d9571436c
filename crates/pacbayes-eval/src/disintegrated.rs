//! The disintegrated certificate: a bound on the risk of one network $h$ drawn from Q.
//!
//! **The theorem** (Rivasplata, Kuzborskij, Szepesvári & Shawe-Taylor, NeurIPS 2020, Theorem 1(i)
//! with $F(h, S) = n\,\mathrm{kl}(\hat R_S(h)\|R(h))$ and Maurer's $\xi \le 2\sqrt n$; the same
//! statement is Viallard, Germain, Habrard & Morvant, Machine Learning 2023, Theorem 2; their
//! Rényi-divergence form is recorded beside it, see [`crate::RenyiRecord`]). Let P be a distribution over networks that does not
//! depend on the sample $S$ of $n$ examples, and let $Q_S$ be *any* stochastic kernel, i.e. any
//! distribution over networks that may be an arbitrary (measurable) function of $S$. Then with
//! probability at least $1 - \delta$ over the *joint* draw of $S \sim \mathcal D^n$ and
//! $h \sim Q_S$,
//! $$\mathrm{kl}\bigl(\hat R_S(h)\,\|\,R(h)\bigr) \le
//! \frac{\ln\frac{dQ_S}{dP}(h) + \ln\frac{2\sqrt n}{\delta}}{n}.$$
//!
//! **Here** $S$ is S_bound and P is the prior, built from S_prior only (independent of S_bound;
//! everything below holds conditionally on S_prior). Q is trained on all of the training set,
//! S_bound included: the theorem allows that, since it asks nothing of $Q_S$ but to be a kernel, so
//! no split of S_bound is needed for Q. What it does ask is that $h$ be drawn from $Q_S$ *once*,
//! with randomness independent of $S$, after Q is fixed: $h$ is drawn by [`crate::certify`] from a
//! [`Noise`] seeded with a recorded seed fixed before S_bound is looked at, and is never redrawn on
//! seeing its risk. $\hat R_S(h)$ is counted exactly (no Monte Carlo term), and the bound is inverted
//! upward with [`pacbayes_bounds::kl_inv_upper`]. Union-bound charges (the prior's choices, the K
//! configurations) are added to the numerator as for the Gibbs certificate, each at
//! $\delta e^{-c}$ of the total.
//!
//! For diagonal Gaussians Q = N(μ_Q, σ_Q²) and P = N(μ_P, σ_P²),
//! $$\ln\frac{dQ}{dP}(h) = \sum_j \ln\frac{\sigma_{P,j}}{\sigma_{Q,j}} +
//! \frac{(h_j - \mu_{P,j})^2}{2\sigma_{P,j}^2} - \frac{(h_j - \mu_{Q,j})^2}{2\sigma_{Q,j}^2},$$
//! computed in f64 from the f32 parameters and the drawn weights, rounded up by $10^{-12}$ of the
//! sum of the terms' magnitudes, and floored at 0 (for a negative value the certificate then uses
//! $\mathrm{kl} \le \ln(2\sqrt n/\delta)/n$, weaker than the theorem's statement). The
//! drawn weights are f32 roundings of an exact Gaussian draw, an idealization shared with every
//! sampled certificate. For Laplace distributions (scales b) the terms are
//! $\ln\frac{b_{P,j}}{b_{Q,j}} + \frac{|h_j - \mu_{P,j}|}{b_{P,j}} - \frac{|h_j - \mu_{Q,j}|}{b_{Q,j}}$
//! ([`pacbayes_nn::Family::log_density_ratio_terms`]), summed and rounded in the same way, and
//! the Rényi form uses the Laplace divergence ([`pacbayes_bounds::renyi_diag_laplace`]).

use candle_core::Tensor;
use pacbayes_bounds::{BoundInputs, BoundKind, Certificate, Ledger};
use pacbayes_data::BoundSet;
use pacbayes_nn::{Architecture, GaussianWeights, Network, Noise, SampledNetwork};
use serde::{Deserialize, Serialize};

use crate::estimate::bound_batches;
use crate::loss::loss_sums;
use crate::renyi::{RenyiRecord, renyi_divergence};
use crate::{CheckedSettings, Error, Result};

/// The disintegrated certificate recorded in `certificate.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisintegratedRecord {
    /// The seed of the draw: $h$ = [`Network::draw`] from `Noise::new(seed)`.
    pub seed: u64,
    /// $\ln\frac{dQ}{dP}(h)$ in nats, as computed (before the floor at 0).
    pub log_density_ratio: f64,
    /// Errors of $h$ on S_bound (an exact count).
    pub errors: u64,
    /// The kl certificate with $\hat R_S(h)$ = errors/n, KL replaced by max(0, `log_density_ratio`),
    /// no Monte Carlo term, and the run's charges.
    pub certificate: Certificate,
    /// The Rényi form of the certificate for the same $h$ (absent in records of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renyi: Option<RenyiRecord>,
}

/// The seed of the disintegrated draw for a run with certification seed `seed`: a stream of its
/// own, distinct from every draw of the Gibbs estimate.
pub fn disintegrated_seed(seed: u64) -> u64 {
    seed ^ 0x6469_7369_6e74_6567 // "disinteg"
}

fn flat(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

/// $\ln\frac{dQ}{dP}(h)$ for diagonal Gaussian or Laplace distributions, rounded up (see the
/// module documentation).
///
/// `weights` are the drawn layers ([`SampledNetwork::weights`]), in the order of the parameters of
/// `posterior` and `prior`.
///
/// # Errors
/// Shapes that differ, or a candle failure.
pub fn log_density_ratio(
    posterior: &GaussianWeights,
    prior: &GaussianWeights,
    weights: &[[Tensor; 2]],
) -> Result<f64> {
    let family = posterior.family();
    if prior.family() != family {
        return Err(Error::InvalidData {
            what: "prior",
            reason: format!("{} distributions, the posterior's are {family}", prior.family()),
        });
    }
    let drawn: Vec<&Tensor> = weights.iter().flatten().collect();
    if drawn.len() != posterior.mu().len() || drawn.len() != prior.mu().len() {
        return Err(Error::InvalidData {
            what: "drawn network",
            reason: "parameter count differs from Q's".into(),
        });
    }
    let (mut total, mut magnitude) = (0.0_f64, 0.0_f64);
    for (i, h) in drawn.into_iter().enumerate() {
        let (h, mq, sq) = (flat(h)?, flat(&posterior.mu()[i])?, flat(&posterior.sigma()[i])?);
        let (mp, sp) = (flat(&prior.mu()[i])?, flat(&prior.sigma()[i])?);
        if [mq.len(), sq.len(), mp.len(), sp.len()].iter().any(|&l| l != h.len()) {
            return Err(Error::InvalidData {
                what: "drawn network",
                reason: format!("parameter {i} has another shape"),
            });
        }
        for j in 0..h.len() {
            let (x, mq, sq, mp, sp) =
                (f64::from(h[j]), f64::from(mq[j]), f64::from(sq[j]), f64::from(mp[j]), f64::from(sp[j]));
            for t in family.log_density_ratio_terms(x, mq, sq, mp, sp) {
                total += t;
                magnitude += t.abs();
            }
        }
    }
    if !total.is_finite() {
        return Err(Error::InvalidData { what: "drawn network", reason: format!("ln dQ/dP = {total}") });
    }
    Ok(total + 1e-12 * magnitude)
}

/// The errors of a drawn network on S_bound.
///
/// # Errors
/// Data that does not fit the network, or a candle failure.
pub fn drawn_errors(
    network: &Network,
    drawn: &SampledNetwork,
    bound: BoundSet<'_>,
    settings: &CheckedSettings,
) -> Result<u64> {
    let s = settings.settings();
    let mut errors = 0.0;
    for (x, labels) in bound_batches(network, bound, s.batch_size)? {
        errors += loss_sums(&drawn.forward(&x)?, &labels, s.p_min)?.zero_one;
    }
    Ok(errors.round() as u64)
}

impl DisintegratedRecord {
    /// The certificate for `errors` mistakes of $h$ on `n` examples with $\ln dQ/dP(h)$ =
    /// `log_density_ratio`, at δ with the charges of `ledger`.
    ///
    /// # Errors
    /// `errors` > `n`, `n` = 0, or δ ∉ (0, 1).
    pub fn new(
        seed: u64,
        log_density_ratio: f64,
        errors: u64,
        n: u64,
        delta: f64,
        ledger: &Ledger,
    ) -> Result<Self> {
        if errors > n {
            return Err(Error::InvalidData {
                what: "S_bound",
                reason: format!("{errors} errors of {n} examples"),
            });
        }
        let inputs = BoundInputs::new(errors as f64 / n as f64, log_density_ratio.max(0.0), n, delta)?;
        let certificate = Certificate::compute(&inputs, None, &BoundKind::Kl, ledger)?;
        Ok(Self { seed, log_density_ratio, errors, certificate, renyi: None })
    }

    /// The same record with the Rényi form of order `alpha` for $D_\alpha(Q\|P)$ = `divergence`,
    /// for `n` examples at δ with the charges of `ledger`.
    ///
    /// # Errors
    /// As [`RenyiRecord::new`].
    pub fn with_renyi(
        self,
        alpha: f64,
        divergence: f64,
        n: u64,
        delta: f64,
        ledger: &Ledger,
    ) -> Result<Self> {
        let renyi = RenyiRecord::new(alpha, divergence, self.errors, n, delta, ledger.total_nats())?;
        Ok(Self { renyi: Some(renyi), ..self })
    }
}

impl DisintegratedRecord {
    /// The same draw certified again from its recorded numbers, for `n` examples at δ with the
    /// charges of `ledger`.
    ///
    /// # Errors
    /// As [`DisintegratedRecord::new`].
    pub fn recomputed(&self, n: u64, delta: f64, ledger: &Ledger) -> Result<Self> {
        let again = Self::new(self.seed, self.log_density_ratio, self.errors, n, delta, ledger)?;
        match &self.renyi {
            Some(r) => again.with_renyi(r.alpha, r.divergence, n, delta, ledger),
            None => Ok(again),
        }
    }
}

/// Draws $h$ from Q with `seed`, counts its errors on S_bound and certifies it, in both forms (the
/// Rényi form of order `renyi_alpha` of `settings`).
///
/// # Errors
/// Data that does not fit the network, or a candle failure.
pub fn certify_disintegrated(
    network: &Network,
    bound: BoundSet<'_>,
    settings: &CheckedSettings,
    ledger: &Ledger,
    seed: u64,
) -> Result<(DisintegratedRecord, SampledNetwork)> {
    let drawn = network.draw(&mut Noise::new(seed))?;
    let ratio = log_density_ratio(&network.posterior()?, &network.prior(), drawn.weights())?;
    let errors = drawn_errors(network, &drawn, bound, settings)?;
    let (s, n) = (settings.settings(), bound.n() as u64);
    let record = DisintegratedRecord::new(seed, ratio, errors, n, s.delta, ledger)?;
    let divergence = renyi_divergence(&network.posterior()?, &network.prior(), s.renyi_alpha)?;
    Ok((record.with_renyi(s.renyi_alpha, divergence, n, s.delta, ledger)?, drawn))
}

/// Writes the drawn network to the new file `path` (safetensors, one tensor per parameter named as
/// [`Architecture::params`] names it: `layers.0.weight`, `layers.0.bias`, ...), through a temporary
/// sibling synced and renamed into place ([`pacbayes_nn::atomic`]).
///
/// # Errors
/// `path` exists already, or the file cannot be written.
pub fn save_drawn(drawn: &SampledNetwork, architecture: Architecture, path: &std::path::Path) -> Result<()> {
    if path.exists() {
        let source =
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "exists already; it is never overwritten");
        return Err(Error::Io { path: path.into(), source });
    }
    let names = architecture.params();
    let tensors: std::collections::HashMap<String, Tensor> =
        names.into_iter().map(|(name, _)| name).zip(drawn.weights().iter().flatten().cloned()).collect();
    let io = |source| Error::Io { path: path.into(), source };
    let file = pacbayes_nn::atomic::AtomicFile::create(path).map_err(io)?;
    candle_core::safetensors::save(&tensors, file.temporary_path())?;
    file.commit_new().map_err(io)
}

/// Reads a network written by [`save_drawn`] as a deterministic [`Network`] (Q = P = a point mass
/// in effect: use [`Network::forward_mean`]).
///
/// # Errors
/// An unreadable file, or a tensor missing or of another shape than `architecture` needs.
pub fn load_drawn(architecture: Architecture, path: &std::path::Path) -> Result<Network> {
    let device = candle_core::Device::Cpu;
    let mut tensors = candle_core::safetensors::load(path, &device)?;
    let mut mu = Vec::new();
    for (name, shape) in architecture.params() {
        let t = tensors.remove(&name).ok_or_else(|| Error::InvalidData {
            what: "network.safetensors",
            reason: format!("{}: no tensor {name}", path.display()),
        })?;
        if t.dims() != shape.as_slice() {
            return Err(Error::InvalidData {
                what: "network.safetensors",
                reason: format!("{}: {name} has shape {:?}, expected {shape:?}", path.display(), t.dims()),
            });
        }
        mu.push(t.to_dtype(candle_core::DType::F32)?);
    }
    let weights = GaussianWeights::from_means(architecture, mu, 1.0)?;
    Ok(Network::from_prior(&weights)?)
}
