//! The per-parameter work of a training step as single passes over μ and ρ: a weight draw
//! w = μ + softplus(ρ) ⊙ ε, the variance softplus(ρ)² of the local reparameterization, and
//! KL(Q‖P) from (μ, ρ), each a candle operation whose backward pass is one more pass that includes
//! dσ/dρ = sigmoid(ρ). σ and dσ/dρ are computed once per step ([`Scales`]) and shared by the
//! operations, so the transcendental functions run once per parameter and step.
//!
//! Built from candle's elementwise operations, the same work is a graph of several nodes per
//! parameter (softplus, square or multiply-add, transposes, KL), and every node costs a fresh
//! allocation and a pass forward, and a zero-filled gradient, an addition and a pass backward.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Shape, Tensor, bail};

use crate::kl::{kl_sum_fast, with_f32};
use crate::par::{self, at};
use crate::softplus::{f32_pair, softplus_and_sigmoid};

/// σ = softplus(ρ) and its slope dσ/dρ = sigmoid(ρ) at the current ρ, computed in one pass: constants
/// (not graph nodes) that the fused operations of one step read. Stale once ρ changes.
#[derive(Debug, Clone)]
pub(crate) struct Scales {
    pub(crate) sigma: Tensor,
    pub(crate) slope: Tensor,
}

impl Scales {
    /// σ and dσ/dρ of `rho`.
    ///
    /// # Errors
    /// A tensor that is not f32 on the CPU.
    pub(crate) fn of(rho: &Tensor) -> candle_core::Result<Self> {
        if !rho.device().is_cpu() {
            return Self::composed(rho);
        }
        let (sigma, slope) = with_f32(&rho.contiguous()?, |rho| {
            let (mut sigma, mut slope) = (vec![0.0; rho.len()], vec![0.0; rho.len()]);
            par::fill2(&mut sigma, &mut slope, |start, sigma, slope| {
                let rho = at(rho, start, sigma.len());
                for ((s, d), &r) in sigma.iter_mut().zip(slope).zip(rho) {
                    (*s, *d) = softplus_and_sigmoid(r);
                }
            });
            Ok((sigma, slope))
        })?;
        let (shape, device) = (rho.shape(), rho.device());
        Ok(Self {
            sigma: Tensor::from_vec(sigma, shape, device)?,
            slope: Tensor::from_vec(slope, shape, device)?,
        })
    }
}

impl Scales {
    /// σ and dσ/dρ of `rho` from candle's operations, on any device.
    pub(crate) fn composed(rho: &Tensor) -> candle_core::Result<Self> {
        let rho = rho.detach();
        Ok(Self { sigma: crate::composed::softplus(&rho)?, slope: crate::composed::sigmoid(&rho)? })
    }
}

/// w = μ + softplus(ρ) ⊙ ε for noise `eps` of μ's shape, differentiable in μ and ρ; `scales` are
/// those of `rho`.
///
/// # Errors
/// Tensors that are not f32 on the CPU, or shapes that differ.
pub(crate) fn draw(mu: &Tensor, rho: &Tensor, scales: &Scales, eps: Vec<f32>) -> candle_core::Result<Tensor> {
    let eps = Tensor::from_vec(eps, mu.shape(), mu.device())?;
    if !mu.device().is_cpu() {
        return crate::composed::draw(mu, rho, &eps);
    }
    mu.contiguous()?.apply_op2(&rho.contiguous()?, Draw { eps, scales: scales.clone() })
}

struct Draw {
    eps: Tensor,
    scales: Scales,
}

impl CustomOp2 for Draw {
    fn name(&self) -> &'static str {
        "gaussian-draw"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (mu, _) = f32_pair(self.name(), (s1, l1), (s2, l2))?;
        let w = with_f32(&self.eps, |eps| {
            with_f32(&self.scales.sigma, |sigma| {
                Ok(par::map(mu.len(), |start, w| {
                    let (mu, sigma, eps) =
                        (at(mu, start, w.len()), at(sigma, start, w.len()), at(eps, start, w.len()));
                    for (w, ((&m, &s), &e)) in w.iter_mut().zip(mu.iter().zip(sigma).zip(eps)) {
                        *w = m + s * e;
                    }
                }))
            })
        })?;
        Ok((CpuStorage::F32(w), l1.shape().clone()))
    }

    /// ∂L/∂μ = ∂L/∂w and ∂L/∂ρ = ∂L/∂w · ε · sigmoid(ρ).
    fn bwd(
        &self,
        _mu: &Tensor,
        rho: &Tensor,
        _w: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let grad_rho = with_f32(&grad, |g| {
            with_f32(&self.scales.slope, |slope| {
                with_f32(&self.eps, |eps| {
                    Ok(par::map(g.len(), |start, out| {
                        let (g, slope, eps) =
                            (at(g, start, out.len()), at(slope, start, out.len()), at(eps, start, out.len()));
                        for (o, ((&g, &d), &e)) in out.iter_mut().zip(g.iter().zip(slope).zip(eps)) {
                            *o = g * e * d;
                        }
                    }))
                })
            })
        })?;
        let grad_rho = Tensor::from_vec(grad_rho, rho.shape(), rho.device())?;
        Ok((Some(grad), Some(grad_rho)))
    }
}

/// σ² = softplus(ρ)², differentiable in ρ: the variance the local reparameterization propagates;
/// `scales` are those of `rho`.
///
/// # Errors
/// A tensor that is not f32 on the CPU.
pub(crate) fn variance(rho: &Tensor, scales: &Scales) -> candle_core::Result<Tensor> {
    if !rho.device().is_cpu() {
        return crate::composed::variance(rho);
    }
    rho.contiguous()?.apply_op1(Variance { scales: scales.clone() })
}

struct Variance {
    scales: Scales,
}

impl CustomOp1 for Variance {
    fn name(&self) -> &'static str {
        "softplus-squared"
    }

    fn cpu_fwd(&self, _storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let var = with_f32(&self.scales.sigma, |sigma| {
            Ok(par::map(sigma.len(), |start, var| {
                let sigma = at(sigma, start, var.len());
                for (v, &s) in var.iter_mut().zip(sigma) {
                    *v = s * s;
                }
            }))
        })?;
        Ok((CpuStorage::F32(var), layout.shape().clone()))
    }

    /// ∂L/∂ρ = ∂L/∂σ² · 2σ · sigmoid(ρ).
    fn bwd(&self, rho: &Tensor, _var: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let grad_rho = with_f32(&grad.contiguous()?, |g| {
            with_f32(&self.scales.sigma, |sigma| {
                with_f32(&self.scales.slope, |slope| {
                    Ok(par::map(g.len(), |start, out| {
                        let n = out.len();
                        let inputs = at(g, start, n).iter().zip(at(sigma, start, n)).zip(at(slope, start, n));
                        for (o, ((&g, &s), &d)) in out.iter_mut().zip(inputs) {
                            *o = 2.0 * g * s * d;
                        }
                    }))
                })
            })
        })?;
        Ok(Some(Tensor::from_vec(grad_rho, rho.shape(), rho.device())?))
    }
}

/// KL(N(μ, softplus(ρ)²) ‖ N(μ_P, σ_P²)) summed over all coordinates, as an f32 scalar tensor
/// differentiable in μ and ρ (the sum is accumulated in f64, as [`crate::kl_tensor`] does);
/// `scales` are those of `rho`.
///
/// # Errors
/// Tensors that are not f32 on the CPU, or shapes that differ.
pub(crate) fn kl(
    mu: &Tensor,
    rho: &Tensor,
    scales: &Scales,
    prior_mu: &Tensor,
    prior_sigma: &Tensor,
) -> candle_core::Result<Tensor> {
    for t in [rho, prior_mu, prior_sigma, &scales.sigma] {
        if t.shape() != mu.shape() {
            bail!("kl: shapes {:?} and {:?} differ", mu.shape(), t.shape());
        }
    }
    if !mu.device().is_cpu() {
        return crate::composed::kl(mu, &crate::composed::softplus(rho)?, prior_mu, prior_sigma);
    }
    let op = KlRho {
        scales: scales.clone(),
        prior_mu: prior_mu.contiguous()?,
        prior_sigma: prior_sigma.contiguous()?,
    };
    mu.contiguous()?.apply_op2(&rho.contiguous()?, op)
}

struct KlRho {
    scales: Scales,
    prior_mu: Tensor,
    prior_sigma: Tensor,
}

impl CustomOp2 for KlRho {
    fn name(&self) -> &'static str {
        "kl-diag-gaussian-rho"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (mu, _) = f32_pair(self.name(), (s1, l1), (s2, l2))?;
        let kl = with_f32(&self.scales.sigma, |sigma| {
            with_f32(&self.prior_mu, |mu_p| {
                with_f32(&self.prior_sigma, |sigma_p| {
                    Ok(par::sum(mu.len(), |start, n| {
                        let q = (at(mu, start, n), at(sigma, start, n));
                        kl_sum_fast(q.0, q.1, at(mu_p, start, n), at(sigma_p, start, n))
                    }))
                })
            })
        })?;
        Ok((CpuStorage::F32(vec![kl as f32]), Shape::from(())))
    }

    /// ∂KL/∂μ = (μ − μ_P)/σ_P² and ∂KL/∂ρ = (σ/σ_P² − 1/σ) · sigmoid(ρ), scaled, in one pass.
    fn bwd(
        &self,
        mu: &Tensor,
        rho: &Tensor,
        _kl: &Tensor,
        grad_kl: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let scale = grad_kl.to_dtype(DType::F32)?.to_vec0::<f32>()?;
        let n = mu.elem_count();
        let (mut grad_mu, mut grad_rho) = (vec![0.0_f32; n], vec![0.0_f32; n]);
        let (sigma, slope) = (&self.scales.sigma, &self.scales.slope);
        with_f32(mu, |mu| {
            with_f32(sigma, |sigma| {
                with_f32(slope, |slope| {
                    with_f32(&self.prior_mu, |mu_p| {
                        with_f32(&self.prior_sigma, |sigma_p| {
                            par::fill2(&mut grad_mu, &mut grad_rho, |start, grad_mu, grad_rho| {
                                let n = grad_mu.len();
                                let q = at(mu, start, n)
                                    .iter()
                                    .zip(at(sigma, start, n).iter().zip(at(slope, start, n)));
                                let inputs = q.zip(at(mu_p, start, n).iter().zip(at(sigma_p, start, n)));
                                let outputs = grad_mu.iter_mut().zip(grad_rho);
                                for ((gm, gr), ((&m, (&s, &d)), (&mp, &sp))) in outputs.zip(inputs) {
                                    let precision = 1.0 / (sp * sp);
                                    *gm = scale * (m - mp) * precision;
                                    *gr = scale * (s * precision - 1.0 / s) * d;
                                }
                            });
                            Ok(())
                        })
                    })
                })
            })
        })?;
        let grad_mu = Tensor::from_vec(grad_mu, mu.shape(), mu.device())?;
        let grad_rho = Tensor::from_vec(grad_rho, rho.shape(), rho.device())?;
        Ok((Some(grad_mu), Some(grad_rho)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    fn close(a: &Tensor, b: &Tensor) -> bool {
        values(a).iter().zip(values(b)).all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
    }

    /// The fused draw, variance and KL give the values and gradients of the same quantities
    /// composed from candle operations through σ = softplus(ρ).
    #[test]
    fn fused_operations_match_the_composed_graph() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(21);
        let n = 53;
        let mu = Var::from_vec(noise.standard_normal(n), n, &dev)?;
        let rho: Vec<f32> = noise.standard_normal(n).iter().map(|z| 2.0 * z - 3.0).collect();
        let rho = Var::from_vec(rho, n, &dev)?;
        let prior_mu = Tensor::from_vec(noise.standard_normal(n), n, &dev)?;
        let prior_sigma = Tensor::from_vec(vec![0.05_f32; n], n, &dev)?;
        let eps = noise.standard_normal(n);
        let weights = Tensor::from_vec(noise.standard_normal(n), n, &dev)?;

        let scales = Scales::of(rho.as_tensor())?;
        let w = draw(mu.as_tensor(), rho.as_tensor(), &scales, eps.clone())?;
        let var = variance(rho.as_tensor(), &scales)?;
        let kl_fused = kl(mu.as_tensor(), rho.as_tensor(), &scales, &prior_mu, &prior_sigma)?;
        let loss = ((w.mul(&weights)?.sum_all()? + var.mul(&weights)?.sum_all()?)? + &kl_fused)?;
        let fused = loss.backward()?;

        let sigma = crate::softplus_tensor(rho.as_tensor())?;
        let w_ref = mu.as_tensor().add(&sigma.mul(&Tensor::from_vec(eps, n, &dev)?)?)?;
        let var_ref = sigma.sqr()?;
        let kl_ref = crate::kl_tensor(mu.as_tensor(), &sigma, &prior_mu, &prior_sigma)?;
        let loss_ref = ((w_ref.mul(&weights)?.sum_all()? + var_ref.mul(&weights)?.sum_all()?)? + &kl_ref)?;
        let composed = loss_ref.backward()?;

        assert!(close(&w, &w_ref) && close(&var, &var_ref) && close(&kl_fused, &kl_ref));
        for v in [&mu, &rho] {
            let missing = || candle_core::Error::Msg("no gradient".into());
            let (a, b) = (fused.get(v).ok_or_else(missing)?, composed.get(v).ok_or_else(missing)?);
            assert!(close(a, b), "gradients differ: {:?} vs {:?}", values(a), values(b));
        }
        Ok(())
    }
}
