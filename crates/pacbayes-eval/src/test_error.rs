//! Test errors of three predictors built from Q: the stochastic (Gibbs) predictor, the posterior
//! mean network, and an ensemble of drawn networks.

use std::time::Instant;

use candle_core::Tensor;
use pacbayes_data::{Batch, Dataset};
use pacbayes_nn::{Network, Noise};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::estimate::batch_tensor;
use crate::loss::{loss_sums, rows};
use crate::{CheckedSettings, Error, GibbsSampler, Observer, Result};

/// How the ensemble combines its members.
pub const ENSEMBLE_RULE: &str = "mean probability (softmax averaged over the drawn networks, then argmax)";

/// The test errors reported beside a certificate (they inform no choice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestErrors {
    /// Number of test examples.
    pub n_test: usize,
    /// 0-1 error of the stochastic predictor, a fresh weight draw per test example: an unbiased
    /// estimate of the risk the certificate bounds.
    pub stochastic: f64,
    /// 0-1 error of the network with the posterior means as weights.
    pub mean: f64,
    /// 0-1 error of the ensemble of `ensemble_size` drawn networks.
    pub ensemble: f64,
    /// Networks in the ensemble.
    pub ensemble_size: usize,
    /// How the ensemble votes ([`ENSEMBLE_RULE`]).
    pub ensemble_rule: String,
    /// Wall time in seconds (not written to `certificate.json`: see its `wall_seconds`).
    #[serde(default, skip_serializing)]
    pub seconds: f64,
}

fn test_batches(network: &Network, test: &Dataset, batch_size: usize) -> Result<Vec<(Tensor, Vec<u32>)>> {
    let d = test.n_features();
    (0..test.len())
        .step_by(batch_size)
        .map(|start| {
            let end = (start + batch_size).min(test.len());
            let batch = Batch {
                features: test.features()[start * d..end * d].to_vec(),
                labels: test.labels()[start..end].to_vec(),
                shape: test.shape().to_vec(),
            };
            Ok((batch_tensor(&batch, network)?, batch.labels))
        })
        .collect()
}

fn softmax_rows(logits: &Tensor) -> Result<Vec<f64>> {
    let (values, classes) = rows(logits)?;
    let mut out = Vec::with_capacity(values.len());
    for row in values.chunks_exact(classes) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let exp: Vec<f64> = row.iter().map(|&v| f64::from(v - max).exp()).collect();
        let total: f64 = exp.iter().sum();
        out.extend(exp.iter().map(|e| e / total));
    }
    Ok(out)
}

/// The three test errors, with noise from `noise`.
///
/// # Errors
/// An empty test set, data that does not fit the network, or a candle failure.
pub fn test_errors(
    network: &Network,
    test: &Dataset,
    settings: &CheckedSettings,
    noise: &mut Noise,
    observer: &dyn Observer,
) -> Result<TestErrors> {
    let start = Instant::now();
    if test.is_empty() {
        return Err(Error::InvalidData { what: "test set", reason: "no examples".into() });
    }
    let s = settings.settings();
    let batches = test_batches(network, test, s.batch_size)?;
    let sampler = GibbsSampler::new(network)?;
    let units: Vec<Noise> = batches.iter().map(|_| noise.fork()).collect();
    let stochastic = batches
        .par_iter()
        .zip(units)
        .map(|((x, labels), mut n)| loss_sums(&sampler.forward(x, &mut n)?, labels, s.p_min))
        .collect::<Result<Vec<_>>>()?;
    let stochastic = stochastic.into_iter().fold(crate::LossSums::default(), |a, b| a + b).means().0;
    let mut mean_errors = 0.0;
    for (x, labels) in &batches {
        mean_errors += loss_sums(&network.forward_mean(x)?, labels, s.p_min)?.zero_one;
    }
    let classes = network.architecture().classes();
    let mut probs = vec![0.0; test.len() * classes];
    observer.begin("ensemble", s.ensemble_size as u64);
    for _ in 0..s.ensemble_size {
        let drawn = network.draw(noise)?;
        let member =
            batches.par_iter().map(|(x, _)| softmax_rows(&drawn.forward(x)?)).collect::<Result<Vec<_>>>()?;
        for (acc, p) in probs.iter_mut().zip(member.into_iter().flatten()) {
            *acc += p;
        }
        observer.advance(1);
    }
    let ensemble_errors = probs
        .chunks_exact(classes)
        .zip(test.labels())
        .filter(|(row, y)| {
            let best = (0..row.len()).fold(0, |b, c| if row[c] > row[b] { c } else { b });
            best != **y as usize
        })
        .count();
    let n = test.len() as f64;
    Ok(TestErrors {
        n_test: test.len(),
        stochastic,
        mean: mean_errors / n,
        ensemble: ensemble_errors as f64 / n,
        ensemble_size: s.ensemble_size,
        ensemble_rule: ENSEMBLE_RULE.to_owned(),
        seconds: start.elapsed().as_secs_f64(),
    })
}
