//! The posterior's scales train: ρ moves under the default settings, and reaches its closed-form
//! optimum where there is one.

mod common;

use candle_core::{Device, Tensor};
use pacbayes_data::{Dataset, Split, SplitConfig};
use pacbayes_nn::{GaussianWeights, Network, inverse_softplus, softplus};
use pacbayes_posterior::{PosteriorSettings, Preconditioner, TrainOptions, train};

/// 240 examples whose features are all 0, with labels alternating between two classes: the risk
/// of a linear network does not depend on its weights, only on its biases.
fn zero_features() -> Split {
    let n = 240;
    let data =
        Dataset::new("zeros", vec![0.0; 3 * n], vec![3], (0..n as u32).map(|i| i % 2).collect(), 2).unwrap();
    Split::new(data, SplitConfig::new(0.5, 5).unwrap()).unwrap()
}

/// The prior's weights with posterior μ = μ_P + 3σ_P and σ_Q = 4σ_P for every weight (biases at the
/// prior).
fn displaced(prior: &GaussianWeights) -> Network {
    let net = Network::from_prior(prior).unwrap();
    for p in net.params().filter(|p| p.name().ends_with("weight")) {
        let sp = p.prior_sigma();
        let mu = (p.prior_mu() + (sp * 3.0).unwrap()).unwrap();
        let rho: Vec<f32> = sp
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|&s| inverse_softplus(4.0 * f64::from(s)) as f32)
            .collect();
        let rho = Tensor::from_vec(rho, sp.shape(), &Device::Cpu).unwrap();
        p.set_posterior(&mu, &rho).unwrap();
    }
    net
}

/// The largest |σ_Q/σ_P − 1| and |μ_Q − μ_P|/σ_P over the weights.
fn distance_from_prior(net: &Network) -> (f64, f64) {
    let (mut sigma, mut mean) = (0.0_f64, 0.0_f64);
    for p in net.params().filter(|p| p.name().ends_with("weight")) {
        let values = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (mq, rho, mp, sp) = (
            values(p.mu().as_tensor()),
            values(p.rho().as_tensor()),
            values(p.prior_mu()),
            values(p.prior_sigma()),
        );
        for i in 0..mq.len() {
            let s = f64::from(sp[i]);
            sigma = sigma.max((f64::from(softplus(rho[i])) / s - 1.0).abs());
            mean = mean.max((f64::from(mq[i]) - f64::from(mp[i])).abs() / s);
        }
    }
    (sigma, mean)
}

/// Where the risk does not depend on the weights, the objective depends on them through
/// KL(Q‖P) alone, which is minimal at σ_Q = σ_P and μ_Q = μ_P (KL = 0): the KL-preconditioned
/// steps of the default settings (learning rate 0.001, momentum 0.95) take a posterior that starts
/// at σ_Q = 4σ_P, μ_Q = μ_P + 3σ_P from a narrow prior (σ_P = 0.005, as for MNIST) there, and
/// one learning rate for μ and ρ does not.
#[test]
fn rho_reaches_the_closed_form_optimum_of_a_kl_only_objective() {
    let split = zero_features();
    let (prior, _) = common::network("linear-3-2", 0.005);
    let settings = |preconditioner: Preconditioner| {
        PosteriorSettings { epochs: 60, batch_size: 40, preconditioner, ..Default::default() }
            .check()
            .unwrap()
    };
    let net = displaced(&prior);
    let start = distance_from_prior(&net);
    assert!((start.0 - 3.0).abs() < 1e-3 && (start.1 - 3.0).abs() < 1e-3, "{start:?}");
    train(&net, &split, &settings(Preconditioner::Kl), TrainOptions::default()).unwrap();
    let (sigma, mean) = distance_from_prior(&net);
    assert!(sigma < 1e-3 && mean < 1e-3, "KL-preconditioned: sigma {sigma}, mean {mean}");
    let plain = displaced(&prior);
    train(&plain, &split, &settings(Preconditioner::None), TrainOptions::default()).unwrap();
    let (sigma, _) = distance_from_prior(&plain);
    assert!(sigma > 0.5, "one learning rate: sigma still {sigma} from the optimum");
}

/// Under the default settings, on a small problem with a narrow prior, every ρ leaves its starting
/// value, and the metrics show σ_Q moving.
#[test]
fn every_rho_changes_under_the_default_settings() {
    let split = common::split(240);
    let (prior, net) = common::network("linear-3-2", 0.005);
    let settings = PosteriorSettings { epochs: 3, batch_size: 40, ..Default::default() }.check().unwrap();
    let outcome = train(&net, &split, &settings, TrainOptions::default()).unwrap();
    let mut unchanged = 0;
    for (p, sp) in net.params().zip(prior.sigma()) {
        let rho = p.rho().as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let start = sp.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        unchanged += rho
            .iter()
            .zip(&start)
            .filter(|(r, s)| r.to_bits() == (inverse_softplus(f64::from(**s)) as f32).to_bits())
            .count();
    }
    assert_eq!(unchanged, 0, "ρ entries left at their start");
    let (first, last) = (&outcome.metrics[0], outcome.metrics.last().unwrap());
    assert!((first.sigma_mean - 0.005).abs() < 1e-6 && first.sigma_log_ratio.abs() < 1e-5, "{first:?}");
    // σ_Q spreads around σ_P (a few parts in 10³ after 18 steps of learning rate 0.001).
    assert!(
        (last.sigma_log_ratio - first.sigma_log_ratio).abs() > 1e-4 && last.sigma_max - last.sigma_min > 1e-5,
        "{first:?} -> {last:?}"
    );
}
