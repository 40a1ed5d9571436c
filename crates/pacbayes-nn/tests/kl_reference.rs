//! The network's KL(Q‖P) against the f64 reference of `pacbayes-bounds`, and a check that every
//! weight and bias of every layer is counted.

use candle_core::{Device, Tensor};
use pacbayes_bounds::kl_diag_gaussian;
use pacbayes_nn::{Architecture, Network, Noise, inverse_softplus};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn flat(t: &Tensor) -> Result<Vec<f64>, candle_core::Error> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?.into_iter().map(f64::from).collect())
}

/// Moves every posterior away from its prior: μ_Q = μ_P + 0.3·σ_P·ε, σ_Q = σ_P·e^{0.5 u}, u ∈ [−1, 1].
fn perturb(net: &Network, seed: u64) -> TestResult {
    let mut noise = Noise::new(seed);
    for p in net.params() {
        let n = p.prior_mu().elem_count();
        let eps = Tensor::from_vec(noise.standard_normal(n), p.dims(), net.device())?;
        let mu = (p.prior_mu() + (p.prior_sigma() * 0.3)?.mul(&eps)?)?;
        let sigma_p = flat(p.prior_sigma())?;
        let u = noise.truncated_normal(n, 0.5);
        let rho: Vec<f32> =
            sigma_p.iter().zip(&u).map(|(s, u)| inverse_softplus(s * f64::from(*u).exp()) as f32).collect();
        p.set_posterior(&mu, &Tensor::from_vec(rho, p.dims(), net.device())?)?;
    }
    Ok(())
}

#[test]
fn kl_matches_the_f64_reference_on_every_parameter() -> TestResult {
    let net = Network::from_seed(Architecture::FcnBinary, 0.03, 1, &Device::Cpu)?;
    perturb(&net, 2)?;
    let (mut mq, mut sq, mut mp, mut sp) = (vec![], vec![], vec![], vec![]);
    for p in net.params() {
        mq.extend(flat(p.mu().as_tensor())?);
        sq.extend(flat(&p.sigma()?)?);
        mp.extend(flat(p.prior_mu())?);
        sp.extend(flat(p.prior_sigma())?);
    }
    assert_eq!(mq.len(), Architecture::FcnBinary.num_params());
    let reference = kl_diag_gaussian(&mq, &sq, &mp, &sp)?;
    assert!(reference > 1000.0, "the perturbation should give a sizeable KL, got {reference}");
    // The f64 value: same terms, summed in a different order; relative tolerance 1e-10.
    let value = net.kl_value()?;
    assert!((value - reference).abs() <= 1e-10 * reference, "kl_value {value} vs reference {reference}");
    // The differentiable f32 tensor: f64 sums rounded to f32 and added; relative tolerance 1e-6.
    let tensor = f64::from(net.kl()?.to_vec0::<f32>()?);
    assert!((tensor - reference).abs() <= 1e-6 * reference, "kl {tensor} vs reference {reference}");
    Ok(())
}

#[test]
fn posterior_at_the_prior_has_zero_kl() -> TestResult {
    let net = Network::from_seed(Architecture::FcnBinary, 0.1, 3, &Device::Cpu)?;
    // Only the f32 rounding of ρ separates σ_Q from σ_P: far below a thousandth of a nat in total.
    let kl = net.kl_value()?;
    assert!((0.0..1e-3).contains(&kl), "KL at initialization {kl}");
    Ok(())
}

/// Each of the 8 parameter tensors of the FCN (weights and biases of 4 layers), moved on its own by
/// z = 0.5 prior standard deviations, must add exactly n·z²/2 nats: a layer or a bias left out of
/// the sum would show up as a missing term.
#[test]
fn every_layer_and_bias_counts_in_the_kl() -> TestResult {
    let net = Network::from_seed(Architecture::Fcn, 0.05, 4, &Device::Cpu)?;
    let params: Vec<_> = net.params().collect();
    assert_eq!(params.len(), 8);
    let mut expected_total = 0.0;
    for (k, p) in params.iter().enumerate() {
        let before = net.kl_value()?;
        let shifted = (p.prior_mu() + (p.prior_sigma() * 0.5)?)?;
        p.set_posterior(&shifted, &p.rho().as_tensor().copy()?)?;
        let added = net.kl_value()? - before;
        let n = p.prior_mu().elem_count() as f64;
        assert!(
            (added - n * 0.125).abs() <= 1e-4 * n * 0.125 + 1e-3,
            "{}: KL grew by {added}, expected {}",
            p.name(),
            n * 0.125
        );
        expected_total += n * 0.125;
        let tensor = f64::from(net.kl()?.to_vec0::<f32>()?);
        assert!(
            (tensor - expected_total).abs() <= 1e-5 * expected_total + 1e-3,
            "after {k}: {tensor} vs {expected_total}"
        );
    }
    let all = 0.125 * Architecture::Fcn.num_params() as f64;
    assert!((net.kl_value()? - all).abs() <= 1e-4 * all);
    Ok(())
}

/// A network with one more layer, with the same perturbation per parameter, has more KL: the
/// FCN-binary (2 layers) against the FCN (4 layers, whose first layer has the same shape).
#[test]
fn adding_layers_adds_kl() -> TestResult {
    let small = Network::from_seed(Architecture::FcnBinary, 0.05, 5, &Device::Cpu)?;
    let large = Network::from_seed(Architecture::Fcn, 0.05, 5, &Device::Cpu)?;
    for net in [&small, &large] {
        for p in net.params() {
            p.set_posterior(&(p.prior_mu() + (p.prior_sigma() * 0.5)?)?, &p.rho().as_tensor().copy()?)?;
        }
    }
    let per = |arch: Architecture| 0.125 * arch.num_params() as f64;
    let (ks, kl) = (small.kl_value()?, large.kl_value()?);
    assert!((ks - per(Architecture::FcnBinary)).abs() <= 1e-4 * ks);
    assert!((kl - per(Architecture::Fcn)).abs() <= 1e-4 * kl);
    assert!(kl > ks + 10_000.0);
    Ok(())
}

/// The same for the deeper CNNs (the MNIST `cnn6` and the CIFAR-10 CNNs), in one evaluation per
/// network (they have up to 13 million parameters): each weight and each bias of each of the 6, 9,
/// 13 and 15 layers is moved by
/// z = √(2C/n) prior standard deviations, so that each tensor adds exactly C = 1000 nats whatever
/// its size. The total must be (number of tensors)·C: a layer or a bias left out of the sum (as the
/// 15-layer KL of the reference code leaves layers out) would be 1000 nats short, one counted twice
/// 1000 nats over.
#[test]
fn every_layer_and_bias_of_the_deeper_cnns_counts_in_the_kl() -> TestResult {
    const PER_TENSOR: f64 = 1000.0;
    for (arch, layers) in [
        (Architecture::Cnn6, 6),
        (Architecture::Cnn9, 9),
        (Architecture::Cnn13, 13),
        (Architecture::Cnn15, 15),
    ] {
        let net = Network::from_seed(arch, 0.05, 6, &Device::Cpu)?;
        let params: Vec<_> = net.params().collect();
        assert_eq!(params.len(), 2 * layers, "{arch}");
        for p in &params {
            let z = (2.0 * PER_TENSOR / p.prior_mu().elem_count() as f64).sqrt();
            p.set_posterior(&(p.prior_mu() + (p.prior_sigma() * z)?)?, &p.rho().as_tensor().copy()?)?;
        }
        let expected = PER_TENSOR * params.len() as f64;
        let value = net.kl_value()?;
        assert!((value - expected).abs() <= 0.05 * PER_TENSOR, "{arch}: KL {value}, expected {expected}");
        let tensor = f64::from(net.kl()?.to_vec0::<f32>()?);
        assert!((tensor - expected).abs() <= 0.05 * PER_TENSOR, "{arch}: kl {tensor}, expected {expected}");
    }
    Ok(())
}
