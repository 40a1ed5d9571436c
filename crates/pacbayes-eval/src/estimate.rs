//! The Monte Carlo estimate of the empirical Gibbs risk of Q on S_bound, by either protocol.
//!
//! The empirical Gibbs risk is $\hat R_S(Q) = \frac1n\sum_{i=1}^n \mathbb E_{w\sim Q}\,
//! \ell(w, x_i, y_i)$. Both protocols estimate it by a mean of independent $[0,1]$-valued
//! variables whose expectation is exactly $\hat R_S(Q)$:
//!
//! - **classic**: $m$ weight draws $w_j \sim Q$; the variables are the per-draw risks
//!   $\frac1n\sum_i \ell(w_j, x_i, y_i)$, i.i.d., $m$ of them;
//! - **fast**: a fresh draw $w_{ir}$ for every example $i$ and repetition $r = 1..k$; the variables
//!   are the single losses $\ell(w_{ir}, x_i, y_i)$, $kn$ of them, independent but not identically
//!   distributed (the mean of variable $(i, r)$ is the Gibbs loss of example $i$), whose average
//!   mean is $\hat R_S(Q)$ because every example appears exactly $k$ times.
//!
//! Hoeffding's inequality in its kl (Chernoff) form, $\Pr[\mathrm{kl}(\hat e\,\|\,e) > t,\ \hat e <
//! e] \le e^{-Nt}$, holds for the mean $\hat e$ of $N$ independent, not necessarily identically
//! distributed, $[0,1]$ variables with mean $e$ (Hoeffding 1963, Theorem 1; used for this purpose
//! by Langford & Caruana 2002). So with probability $1-\delta'$,
//! $\hat R_S(Q) \le \mathrm{kl}^{-1}_{\uparrow}(\hat e, \ln(2/\delta')/N)$ with $N = m$ or $N = kn$:
//! that is [`McTerm`](pacbayes_bounds::McTerm), paid on `mc_samples`.
//!
//! Every draw comes from a [`Noise`] seeded from the settings and forked once per unit of work, in a
//! fixed order, so results do not depend on the number of threads.

use std::time::Instant;

use candle_core::Tensor;
use pacbayes_data::{Batch, BoundSet};
use pacbayes_nn::{Network, Noise};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::loss::{LossSums, loss_sums};
use crate::{CheckedSettings, GibbsSampler, Protocol, Result};

/// Watches long work: a progress bar, or nothing (`()`).
pub trait Observer: Sync {
    /// A stage of `units` units of work begins.
    fn begin(&self, _stage: &str, _units: u64) {}
    /// `units` more units are done.
    fn advance(&self, _units: u64) {}
}

impl Observer for () {}

/// The Monte Carlo estimate of the empirical Gibbs risk for both losses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEstimate {
    /// The protocol.
    pub protocol: Protocol,
    /// k, for the fast protocol.
    pub repetitions: Option<u64>,
    /// m, for the classic protocol.
    pub draws: Option<u64>,
    /// N, the number of independent variables averaged: k·n or m.
    pub mc_samples: u64,
    /// $\hat e$ for the 0-1 loss.
    pub zero_one: f64,
    /// $\hat e$ for the bounded cross-entropy.
    pub cross_entropy: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Features of a batch as an (examples, features) tensor on the network's device.
pub(crate) fn batch_tensor(batch: &Batch, network: &Network) -> Result<Tensor> {
    let width = batch.features.len() / batch.len().max(1);
    Ok(Tensor::from_vec(batch.features.clone(), (batch.len(), width), network.device())?)
}

pub(crate) fn bound_batches(
    network: &Network,
    bound: BoundSet<'_>,
    batch_size: usize,
) -> Result<Vec<(Tensor, Vec<u32>)>> {
    bound.batches(batch_size).map(|b| Ok((batch_tensor(&b, network)?, b.labels))).collect()
}

/// The estimate by the protocol of `settings`, with noise from `noise`.
///
/// # Errors
/// Data that does not fit the network, or a candle failure.
pub fn estimate(
    network: &Network,
    bound: BoundSet<'_>,
    settings: &CheckedSettings,
    noise: &mut Noise,
    observer: &dyn Observer,
) -> Result<RiskEstimate> {
    match settings.settings().protocol {
        Protocol::Fast => {
            let k = settings.repetitions_for(bound.n() as u64);
            estimate_fast(network, bound, k, settings, noise, observer)
        }
        Protocol::Classic => {
            estimate_classic(network, bound, settings.settings().draws, settings, noise, observer)
        }
    }
}

/// The fast protocol: k repetitions over S_bound, an independent weight draw for every (example,
/// repetition) pair through [`GibbsSampler`]; `mc_samples` = k·n.
///
/// # Errors
/// As [`estimate`].
pub fn estimate_fast(
    network: &Network,
    bound: BoundSet<'_>,
    repetitions: u64,
    settings: &CheckedSettings,
    noise: &mut Noise,
    observer: &dyn Observer,
) -> Result<RiskEstimate> {
    let start = Instant::now();
    let s = settings.settings();
    let sampler = GibbsSampler::new(network)?;
    let batches = bound_batches(network, bound, s.batch_size)?;
    // The first layer's pre-activation law depends on the input only: computed once per batch.
    let stems = batches.par_iter().map(|(x, _)| sampler.stem(x)).collect::<Result<Vec<_>>>()?;
    let units: Vec<(usize, Noise)> =
        (0..repetitions).flat_map(|_| 0..batches.len()).map(|b| (b, noise.fork())).collect();
    observer.begin("fast protocol", units.len() as u64);
    let sums = units
        .into_par_iter()
        .map(|(b, mut unit_noise)| {
            let (x, labels) = &batches[b];
            let logits = match &stems[b] {
                Some(stem) => sampler.forward_with_stem(stem, &mut unit_noise)?,
                None => sampler.forward(x, &mut unit_noise)?,
            };
            let sums = loss_sums(&logits, labels, s.p_min)?;
            observer.advance(1);
            Ok(sums)
        })
        .collect::<Result<Vec<LossSums>>>()?;
    let total = sums.into_iter().fold(LossSums::default(), |a, b| a + b);
    let (zero_one, cross_entropy) = total.means();
    Ok(RiskEstimate {
        protocol: Protocol::Fast,
        repetitions: Some(repetitions),
        draws: None,
        mc_samples: total.count,
        zero_one,
        cross_entropy,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The classic protocol: m networks drawn from Q ([`Network::draw`]), each evaluated on all of
/// S_bound; $\hat e$ is the mean of the m per-draw risks and `mc_samples` = m.
///
/// # Errors
/// As [`estimate`].
pub fn estimate_classic(
    network: &Network,
    bound: BoundSet<'_>,
    draws: u64,
    settings: &CheckedSettings,
    noise: &mut Noise,
    observer: &dyn Observer,
) -> Result<RiskEstimate> {
    let start = Instant::now();
    let s = settings.settings();
    let batches = bound_batches(network, bound, s.batch_size)?;
    let seeds: Vec<Noise> = (0..draws).map(|_| noise.fork()).collect();
    observer.begin("classic protocol", draws);
    let per_draw = seeds
        .into_par_iter()
        .map(|mut draw_noise| {
            let drawn = network.draw(&mut draw_noise)?;
            let mut sums = LossSums::default();
            for (x, labels) in &batches {
                sums = sums + loss_sums(&drawn.forward(x)?, labels, s.p_min)?;
            }
            observer.advance(1);
            Ok(sums.means())
        })
        .collect::<Result<Vec<(f64, f64)>>>()?;
    let m = per_draw.len() as f64;
    let (zo, ce) = per_draw.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    Ok(RiskEstimate {
        protocol: Protocol::Classic,
        repetitions: None,
        draws: Some(draws),
        mc_samples: draws,
        zero_one: (zo / m).clamp(0.0, 1.0),
        cross_entropy: (ce / m).clamp(0.0, 1.0),
        seconds: start.elapsed().as_secs_f64(),
    })
}
