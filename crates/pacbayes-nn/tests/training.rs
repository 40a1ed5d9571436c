//! A few steps of gradient descent on a PAC-Bayes-style objective (cross-entropy + KL/n) through
//! candle's backprop: gradients reach both μ and ρ, and the objective goes down.

use candle_core::{Device, Tensor};
use candle_nn::Optimizer;
use pacbayes_nn::{Architecture, Mode, Network, Noise};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Two Gaussian blobs in the plane, centred at (−1.5, −1.5) (class 0) and (1.5, 1.5) (class 1).
fn blobs(n: usize, seed: u64) -> Result<(Tensor, Tensor), candle_core::Error> {
    let mut noise = Noise::new(seed);
    let z = noise.standard_normal(2 * n);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    let x: Vec<f32> =
        z.iter().enumerate().map(|(k, v)| v * 0.5 + if labels[k / 2] == 1 { 1.5 } else { -1.5 }).collect();
    Ok((Tensor::from_vec(x, (n, 2), &Device::Cpu)?, Tensor::from_vec(labels, n, &Device::Cpu)?))
}

/// Cross-entropy of `mode` plus KL/n, averaged over 20 fixed noise seeds (a low-variance estimate).
fn objective(net: &Network, x: &Tensor, y: &Tensor, mode: Mode) -> Result<f64, Box<dyn std::error::Error>> {
    let n = x.dim(0)? as f64;
    let mut total = 0.0;
    for seed in 0..20 {
        let logits = net.forward(x, mode, &mut Noise::new(1000 + seed))?;
        total += f64::from(candle_nn::loss::cross_entropy(&logits, y)?.to_vec0::<f32>()?);
    }
    Ok(total / 20.0 + net.kl_value()? / n)
}

#[test]
fn gradient_descent_reduces_the_objective_through_mu_and_rho() -> TestResult {
    let (x, y) = blobs(200, 1)?;
    let n = 200.0;
    for mode in [Mode::Local, Mode::Sample] {
        let net = Network::from_seed(Architecture::Linear { inputs: 2, classes: 2 }, 0.1, 3, &Device::Cpu)?;
        let mut sgd = candle_nn::SGD::new(net.vars(), 0.1)?;
        let mut noise = Noise::new(4);
        let rho_before: Vec<f32> = net.layers()[0].weight().rho().as_tensor().flatten_all()?.to_vec1()?;
        let before = objective(&net, &x, &y, mode)?;
        for step in 0..30 {
            let (logits, kl) = net.forward_and_kl(&x, mode, &mut noise)?;
            let loss = (candle_nn::loss::cross_entropy(&logits, &y)? + (kl / n)?)?;
            let grads = loss.backward()?;
            if step == 0 {
                for var in net.vars() {
                    let g = grads.get(&var).ok_or("a variable received no gradient")?;
                    let norm = g.sqr()?.sum_all()?.to_vec0::<f32>()?;
                    assert!(norm > 0.0 && norm.is_finite(), "{mode:?}: gradient norm² {norm}");
                }
            }
            sgd.step(&grads)?;
        }
        let after = objective(&net, &x, &y, mode)?;
        assert!(after < 0.5 * before, "{mode:?}: objective {before} → {after}");
        let rho_after: Vec<f32> = net.layers()[0].weight().rho().as_tensor().flatten_all()?.to_vec1()?;
        assert!(
            rho_before.iter().zip(&rho_after).any(|(a, b)| (a - b).abs() > 1e-4),
            "{mode:?}: ρ did not move"
        );
        let pred = net.forward_mean(&x)?.argmax(1)?;
        let hits = pred.eq(&y)?.to_dtype(candle_core::DType::F32)?.sum_all()?.to_vec0::<f32>()?;
        assert!(hits / 200.0 > 0.97, "{mode:?}: mean network accuracy {}", hits / 200.0);
    }
    Ok(())
}
