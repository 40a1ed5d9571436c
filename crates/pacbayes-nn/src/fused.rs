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

use crate::dispatch::kernel;
use crate::kl::{kl_sum_fast, with_f32};
use crate::par::{self, at};
use crate::softplus::{f32_pair, softplus_sigmoid_block};

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
                kernel!(softplus_sigmoid_block(at(rho, start, sigma.len()), sigma, slope))
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
                    let n = w.len();
                    kernel!(draw_block(at(mu, start, n), at(sigma, start, n), at(eps, start, n), w));
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
                        let n = out.len();
                        kernel!(draw_grad_block(
                            at(g, start, n),
                            at(slope, start, n),
                            at(eps, start, n),
                            out
                        ));
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
            Ok(par::map(sigma.len(), |start, var| kernel!(variance_block(at(sigma, start, var.len()), var))))
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
                        kernel!(variance_grad_block(
                            at(g, start, n),
                            at(sigma, start, n),
                            at(slope, start, n),
                            out
                        ));
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
                        kernel!(kl_sum_fast(q.0, q.1, at(mu_p, start, n), at(sigma_p, start, n)))
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
                                let q = (at(mu, start, n), at(sigma, start, n), at(slope, start, n));
                                let p = (at(mu_p, start, n), at(sigma_p, start, n));
                                kernel!(kl_rho_grad_block(scale, q, p, grad_mu, grad_rho));
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

/// w = μ + σ ⊙ ε, into `w`.
#[inline(always)]
fn draw_block(mu: &[f32], sigma: &[f32], eps: &[f32], w: &mut [f32]) {
    for (w, ((&m, &s), &e)) in w.iter_mut().zip(mu.iter().zip(sigma).zip(eps)) {
        *w = m + s * e;
    }
}

/// ∂L/∂ρ = ∂L/∂w · ε · dσ/dρ, into `out`.
#[inline(always)]
fn draw_grad_block(g: &[f32], slope: &[f32], eps: &[f32], out: &mut [f32]) {
    for (o, ((&g, &d), &e)) in out.iter_mut().zip(g.iter().zip(slope).zip(eps)) {
        *o = g * e * d;
    }
}

/// σ², into `var`.
#[inline(always)]
fn variance_block(sigma: &[f32], var: &mut [f32]) {
    for (v, &s) in var.iter_mut().zip(sigma) {
        *v = s * s;
    }
}

/// ∂L/∂ρ = ∂L/∂σ² · 2σ · dσ/dρ, into `out`.
#[inline(always)]
fn variance_grad_block(g: &[f32], sigma: &[f32], slope: &[f32], out: &mut [f32]) {
    for (o, ((&g, &s), &d)) in out.iter_mut().zip(g.iter().zip(sigma).zip(slope)) {
        *o = 2.0 * g * s * d;
    }
}

/// scale · ∂KL/∂μ = scale · (μ − μ_P)/σ_P² and scale · ∂KL/∂ρ = scale · (σ/σ_P² − 1/σ) · dσ/dρ, for
/// Q's (μ, σ, dσ/dρ) and P's (μ_P, σ_P), into `grad_mu` and `grad_rho`.
#[inline(always)]
fn kl_rho_grad_block(
    scale: f32,
    (mu, sigma, slope): (&[f32], &[f32], &[f32]),
    (mu_p, sigma_p): (&[f32], &[f32]),
    grad_mu: &mut [f32],
    grad_rho: &mut [f32],
) {
    let q = mu.iter().zip(sigma.iter().zip(slope));
    let inputs = q.zip(mu_p.iter().zip(sigma_p));
    for ((gm, gr), ((&m, (&s, &d)), (&mp, &sp))) in grad_mu.iter_mut().zip(grad_rho).zip(inputs) {
        let precision = 1.0 / (sp * sp);
        *gm = scale * (m - mp) * precision;
        *gr = scale * (s * precision - 1.0 / s) * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    /// Each pass gives the same bits run with AVX2 and FMA as with the baseline instruction set, on
    /// inputs with edge values (±0, subnormals, ±∞, NaN) and spread widely; the KL sum also in the
    /// ranges training sees.
    #[test]
    fn passes_give_the_same_bits_on_either_instruction_set() {
        use crate::dispatch::{assert_same_bits, both, edge_values};
        let n = 20 + 4099;
        let rho = edge_values(4099, 20.0, 5);
        let (mu, eps, g) = (edge_values(4099, 1.0, 6), edge_values(4099, 1.0, 7), edge_values(4099, 3.0, 8));
        let mu_p = edge_values(4099, 1.0, 9);
        let sigma_p: Vec<f32> = edge_values(4099, 1.0, 10).iter().map(|z| 0.03 * (0.5 * z).exp()).collect();
        let (base, fast) = both(
            #[inline(always)]
            || {
                let (mut sigma, mut slope) = (vec![0.0; n], vec![0.0; n]);
                softplus_sigmoid_block(&rho, &mut sigma, &mut slope);
                let mut outs = vec![vec![0.0_f32; n]; 6];
                let [w, dw, var, dvar, gm, gr] = &mut outs[..] else { unreachable!() };
                draw_block(&mu, &sigma, &eps, w);
                draw_grad_block(&g, &slope, &eps, dw);
                variance_block(&sigma, var);
                variance_grad_block(&g, &sigma, &slope, dvar);
                kl_rho_grad_block(0.37, (&mu, &sigma, &slope), (&mu_p, &sigma_p), gm, gr);
                let kl = kl_sum_fast(&mu, &sigma, &mu_p, &sigma_p);
                // Q near P, as in training (the inputs after the 20 edge values): a finite sum from
                // the fast path.
                let (mp, sp) = (&mu_p[20..], &sigma_p[20..]);
                let sq: Vec<f32> = sp.iter().map(|s| s * 1.1).collect();
                let kl_near = kl_sum_fast(&mu[20..], &sq, mp, sp);
                (sigma, slope, outs, [kl, kl_near])
            },
        );
        assert_same_bits("sigma", &base.0, &fast.0);
        assert_same_bits("slope", &base.1, &fast.1);
        for ((b, f), what) in
            base.2.iter().zip(&fast.2).zip(["w", "dw", "var", "dvar", "grad_mu", "grad_rho"])
        {
            assert_same_bits(what, b, f);
        }
        assert_same_bits("kl", &base.3, &fast.3);
        assert!(base.3[1].is_finite() && base.3[1] > 0.0, "the fast path: {}", base.3[1]);
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
