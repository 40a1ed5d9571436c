//! The posterior training step both harnesses time: forward with the KL, bounded cross-entropy,
//! the f-quad objective, backward, and SGD with momentum over every μ and ρ.

use candle_core::{Tensor, Var};
use pacbayes_nn::{Mode, Network, Noise};

use crate::{Error, Result};

/// p_min of the bounded cross-entropy.
pub const P_MIN: f64 = 1e-5;
/// The bound-set size n in the f-quad objective.
pub const N_BOUND: usize = 30_000;
/// The confidence δ in the f-quad objective.
pub const DELTA: f64 = 0.025;

/// Cross-entropy with log-probabilities clamped below at ln p_min, divided by ln(1/p_min) so
/// that it lies in [0, 1]: the bounded loss of Pérez-Ortiz et al.
///
/// # Errors
/// Logits not of shape (batch, classes) or labels not of shape (batch).
pub fn bounded_cross_entropy(logits: &Tensor, labels: &Tensor, p_min: f64) -> Result<Tensor> {
    let log_probs = candle_nn::ops::log_softmax(logits, 1)?.maximum(p_min.ln() as f32)?;
    Ok((candle_nn::loss::nll(&log_probs, labels)? / (1.0 / p_min).ln())?)
}

/// The f-quad objective (√(r + c) + √c)² with c = (KL + ln(2√n/δ)) / (2n).
///
/// # Errors
/// Only on a candle failure.
pub fn f_quad(risk: &Tensor, kl: &Tensor, n: usize, delta: f64) -> Result<Tensor> {
    let n = n as f64;
    let c = ((kl + (2.0 * n.sqrt() / delta).ln())? / (2.0 * n))?;
    Ok((risk + &c)?.sqrt()?.add(&c.sqrt()?)?.sqr()?)
}

/// SGD with momentum over a posterior's μ and ρ (PyTorch's rule: v ← m·v + g, w ← w − lr·v).
pub struct PosteriorTrainer {
    net: Network,
    vars: Vec<Var>,
    velocity: Vec<Tensor>,
    mode: Mode,
    learning_rate: f64,
    momentum: f64,
    noise: Noise,
}

impl PosteriorTrainer {
    /// A trainer of `net` in `mode` (learning rate 0.001 and momentum 0.95 in the benchmark).
    ///
    /// # Errors
    /// A learning rate not finite and positive, or a momentum outside [0, 1).
    pub fn new(net: Network, mode: Mode, learning_rate: f64, momentum: f64, noise: Noise) -> Result<Self> {
        if !(learning_rate > 0.0 && learning_rate.is_finite()) {
            let value = learning_rate.to_string();
            return Err(Error::InvalidSetting {
                name: "learning_rate",
                value,
                expected: "a positive number",
            });
        }
        if !(0.0..1.0).contains(&momentum) {
            let value = momentum.to_string();
            return Err(Error::InvalidSetting { name: "momentum", value, expected: "a number in [0, 1)" });
        }
        let vars = net.vars();
        let velocity = vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<_>>()?;
        Ok(Self { net, vars, velocity, mode, learning_rate, momentum, noise })
    }

    /// The network being trained.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The f-quad objective of the batch (x, y) before the step, then one update.
    ///
    /// # Errors
    /// A batch that does not fit the network, or a candle failure.
    pub fn step(&mut self, x: &Tensor, y: &Tensor) -> Result<f64> {
        let (logits, kl) = self.net.forward_and_kl(x, self.mode, &mut self.noise)?;
        let risk = bounded_cross_entropy(&logits, y, P_MIN)?;
        let objective = f_quad(&risk, &kl, N_BOUND, DELTA)?;
        let grads = objective.backward()?;
        // In place, as the solver of `pacbayes_posterior` does: an update composed of candle
        // operations allocates two tensors per parameter and step, whose fresh pages the kernel
        // zeroes (a third of this step's time in mode local).
        for (var, v) in self.vars.iter().zip(&self.velocity) {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            pacbayes_nn::sgd_momentum_step(var, v, g, self.learning_rate, self.momentum)?;
        }
        Ok(f64::from(objective.to_scalar::<f32>()?))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;
    use pacbayes_nn::Architecture;

    use super::*;

    #[test]
    fn bounded_cross_entropy_clamps_and_rescales() -> Result<()> {
        let dev = Device::Cpu;
        // Row 0: uniform over 2 classes (−ln p = ln 2); row 1: the label's probability ≈ e⁻⁴⁰.
        let logits = Tensor::from_vec(vec![0.0_f32, 0.0, 40.0, 0.0], (2, 2), &dev)?;
        let labels = Tensor::from_vec(vec![0_u32, 1], 2, &dev)?;
        let value = f64::from(bounded_cross_entropy(&logits, &labels, P_MIN)?.to_scalar::<f32>()?);
        let expected = (2f64.ln() + (1.0 / P_MIN).ln()) / 2.0 / (1.0 / P_MIN).ln();
        assert!((value - expected).abs() < 1e-6, "{value} vs {expected}");
        Ok(())
    }

    #[test]
    fn f_quad_matches_its_formula() -> Result<()> {
        let dev = Device::Cpu;
        let (r, kl, n) = (0.1_f64, 500.0_f64, 30_000_usize);
        let risk = Tensor::new(r as f32, &dev)?;
        let value = f64::from(f_quad(&risk, &Tensor::new(kl as f32, &dev)?, n, DELTA)?.to_scalar::<f32>()?);
        let c = (kl + (2.0 * (n as f64).sqrt() / DELTA).ln()) / (2.0 * n as f64);
        let expected = ((r + c).sqrt() + c.sqrt()).powi(2);
        assert!((value - expected).abs() < 1e-6 * expected, "{value} vs {expected}");
        Ok(())
    }

    #[test]
    fn training_steps_lower_the_objective_on_a_separable_problem() -> Result<()> {
        let dev = Device::Cpu;
        let arch = Architecture::Linear { inputs: 4, classes: 2 };
        let mut noise = Noise::new(3);
        let x_values = noise.standard_normal(64 * 4);
        let labels: Vec<u32> = x_values.chunks(4).map(|row| u32::from(row[0] > 0.0)).collect();
        let x = Tensor::from_vec(x_values, (64, 4), &dev)?;
        let y = Tensor::from_vec(labels, 64, &dev)?;
        for mode in [Mode::Local, Mode::Sample] {
            let net = Network::from_seed(arch, 0.03, 0, &dev)?;
            let mut trainer = PosteriorTrainer::new(net, mode, 0.05, 0.9, Noise::new(5))?;
            let first = trainer.step(&x, &y)?;
            let mut last = first;
            for _ in 0..60 {
                last = trainer.step(&x, &y)?;
            }
            assert!(last < first, "{mode:?}: objective {first} → {last}");
        }
        Ok(())
    }

    #[test]
    fn bad_optimizer_settings_are_named() -> Result<()> {
        let net =
            || Network::from_seed(Architecture::Linear { inputs: 2, classes: 2 }, 0.03, 0, &Device::Cpu);
        let name = |r: Result<PosteriorTrainer>| match r {
            Err(Error::InvalidSetting { name, .. }) => name,
            _ => "accepted",
        };
        assert_eq!(
            name(PosteriorTrainer::new(net()?, Mode::Local, f64::NAN, 0.9, Noise::new(0))),
            "learning_rate"
        );
        assert_eq!(name(PosteriorTrainer::new(net()?, Mode::Local, 0.1, 1.0, Noise::new(0))), "momentum");
        Ok(())
    }
}
