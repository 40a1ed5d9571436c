//! Networks with Laplace priors and posteriors: the KL counts every layer, draws have the right
//! scale, files record the family, and the local reparameterization is refused.

use candle_core::{Device, Tensor};
use pacbayes_nn::{Architecture, Error, Family, GaussianWeights, Mode, Network, Noise};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn laplace(arch: Architecture, scale: f64, seed: u64) -> Result<Network, Error> {
    Network::from_prior(
        &GaussianWeights::random(arch, scale, seed, &Device::Cpu)?.with_family(Family::Laplace),
    )
}

/// t > 0 with t − 1 + e^{−t} = c: the shift, in prior scales, at which one coordinate of a Laplace
/// posterior with the prior's scale adds c nats (Newton's method from above).
fn shift_for(c: f64) -> f64 {
    let mut t = c + (2.0 * c).sqrt() + 1.0;
    for _ in 0..100 {
        t -= (t - 1.0 + (-t).exp() - c) / (1.0 - (-t).exp());
    }
    t
}

/// Each weight and each bias of every architecture's layers is shifted so that each tensor adds
/// exactly C = 1000 nats: the total must be (number of tensors)·C, in f64 and in the training
/// step's f32 KL. A tensor left out of the sum would be 1000 nats short.
#[test]
fn every_layer_and_bias_counts_in_the_laplace_kl() -> TestResult {
    const PER_TENSOR: f64 = 1000.0;
    for arch in [
        Architecture::FcnBinary,
        Architecture::Fcn,
        Architecture::Cnn,
        Architecture::Cnn6,
        Architecture::Cnn9,
        Architecture::Cnn13,
        Architecture::Cnn15,
    ] {
        let net = laplace(arch, 0.05, 6)?;
        assert_eq!(net.family(), Family::Laplace);
        let params: Vec<_> = net.params().collect();
        for p in &params {
            let t = shift_for(PER_TENSOR / p.prior_mu().elem_count() as f64);
            p.set_posterior(&(p.prior_mu() + (p.prior_sigma() * t)?)?, &p.rho().as_tensor().copy()?)?;
        }
        let expected = PER_TENSOR * params.len() as f64;
        let value = net.kl_value()?;
        assert!((value - expected).abs() <= 0.05 * PER_TENSOR, "{arch}: KL {value}, expected {expected}");
        let tensor = f64::from(net.kl()?.to_vec0::<f32>()?);
        assert!((tensor - expected).abs() <= 0.05 * PER_TENSOR, "{arch}: kl {tensor}, expected {expected}");
    }
    Ok(())
}

#[test]
fn a_laplace_network_starts_at_its_prior_and_its_kl_has_gradients() -> TestResult {
    let net = laplace(Architecture::FcnBinary, 0.03, 2)?;
    assert!(net.kl_value()? < 1e-6, "{}", net.kl_value()?);
    // Move μ by one prior scale and halve σ: both gradients are non-zero and point back to P.
    for p in net.params() {
        let rho = p.rho().as_tensor().affine(1.0, -0.7)?;
        p.set_posterior(&(p.prior_mu() + (p.prior_sigma() * 1.0)?)?, &rho)?;
    }
    let grads = net.kl()?.backward()?;
    let first = net.params().next().expect("a parameter");
    let g_mu = grads.get(first.mu()).expect("∂KL/∂μ").flatten_all()?.to_vec1::<f32>()?;
    let g_rho = grads.get(first.rho()).expect("∂KL/∂ρ").flatten_all()?.to_vec1::<f32>()?;
    assert!(g_mu.iter().all(|&g| g > 0.0), "μ above μ_P: KL grows with μ");
    assert!(g_rho.iter().all(|&g| g < 0.0), "σ below σ_P: KL falls as ρ grows");
    Ok(())
}

#[test]
fn sampled_weights_spread_as_laplace_draws_and_local_mode_is_refused() -> TestResult {
    let arch = Architecture::Linear { inputs: 200, classes: 50 };
    let net = laplace(arch, 0.1, 3)?;
    let drawn = net.draw(&mut Noise::new(4))?;
    let w = drawn.weights()[0][0].flatten_all()?.to_vec1::<f32>()?;
    let mu = net.params().next().expect("weight").mu().as_tensor().flatten_all()?.to_vec1::<f32>()?;
    let dev: Vec<f64> = w.iter().zip(&mu).map(|(&w, &m)| f64::from(w - m)).collect();
    let n = dev.len() as f64;
    // Laplace(0, b): E|ε| = b and Var = 2b² (10,000 draws: standard errors 1% and 2%).
    let mean_abs = dev.iter().map(|d| d.abs()).sum::<f64>() / n;
    let var = dev.iter().map(|d| d * d).sum::<f64>() / n;
    assert!((mean_abs / 0.1 - 1.0).abs() < 0.04, "{mean_abs}");
    assert!((var / 0.02 - 1.0).abs() < 0.08, "{var}");
    let x = Tensor::ones((2, 200), candle_core::DType::F32, &Device::Cpu)?;
    let err = net.forward(&x, Mode::Local, &mut Noise::new(0)).expect_err("local mode");
    assert!(matches!(err, Error::LocalNeedsGaussian { .. }), "{err}");
    let (logits, kl) = net.forward_and_kl(&x, Mode::Sample, &mut Noise::new(0))?;
    assert_eq!(logits.dims(), &[2, 50]);
    assert!(kl.to_vec0::<f32>()?.abs() < 1e-3);
    Ok(())
}

#[test]
fn files_record_the_family_and_a_mismatch_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let arch = Architecture::Linear { inputs: 4, classes: 3 };
    let prior = GaussianWeights::random(arch, 0.05, 1, &Device::Cpu)?.with_family(Family::Laplace);
    prior.save(dir.path().join("prior.safetensors"))?;
    let loaded = GaussianWeights::load(arch, dir.path().join("prior.safetensors"), None, &Device::Cpu)?;
    assert_eq!(loaded.family(), Family::Laplace);
    let net = Network::from_prior(&loaded)?;
    net.save_posterior(dir.path().join("posterior.safetensors"))?;
    let back = Network::load_posterior(&loaded, dir.path().join("posterior.safetensors"))?;
    assert_eq!(back.family(), Family::Laplace);
    // The posterior of a Laplace prior read against a Gaussian prior: refused, naming the file.
    let gaussian = loaded.clone().with_family(Family::Gaussian);
    let err =
        Network::load_posterior(&gaussian, dir.path().join("posterior.safetensors")).expect_err("mismatch");
    assert!(matches!(err, Error::FamilyMismatch { .. }), "{err}");
    // Gaussian files record no family: their bytes are those of files written before families.
    gaussian.save(dir.path().join("gaussian.safetensors"))?;
    let bytes = std::fs::read(dir.path().join("gaussian.safetensors"))?;
    assert!(!String::from_utf8_lossy(&bytes).contains("distribution"));
    assert!(
        String::from_utf8_lossy(&std::fs::read(dir.path().join("prior.safetensors"))?).contains("laplace")
    );
    Ok(())
}
