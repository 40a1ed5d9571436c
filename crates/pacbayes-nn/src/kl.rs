//! The closed-form KL(Q‖P) between diagonal Gaussians, as a differentiable candle operation.
//!
//! Per coordinate, with x = σ_q/σ_p − 1 and z = (μ_q − μ_p)/σ_p,
//! KL = ½(x(2 + x) − 2 ln(1 + x) + z²), the form `pacbayes_bounds::kl_gaussian` uses: it keeps its
//! accuracy when Q is close to P. For a certificate ([`kl_value`]) each term is evaluated in f64
//! from the f32 parameters; in a training step, in f32 with a vectorized logarithm. Both sums are
//! accumulated in f64, in one pass; the gradients ∂KL/∂μ_q = (μ_q − μ_p)/σ_p² and
//! ∂KL/∂σ_q = σ_q/σ_p² − 1/σ_q take one more pass each.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Storage, Tensor, bail};

use crate::dispatch::kernel;
use crate::fastmath;
use crate::softplus::{f32_data, f32_pair};

/// One coordinate's KL in f64, ½(x² + z²) − (ln(1 + x) − x), with libm's `ln_1p`; negative
/// rounding noise is clamped to 0 and NaN propagates.
fn kl_term_libm(mq: f32, sq: f32, mp: f32, sp: f32) -> f64 {
    let sp = f64::from(sp);
    let x = (f64::from(sq) - sp) / sp;
    let z = (f64::from(mq) - f64::from(mp)) / sp;
    let term = 0.5 * (x * (2.0 + x) - 2.0 * x.ln_1p() + z * z);
    if term < 0.0 { 0.0 } else { term }
}

/// KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) summed over coordinates, in f64 with libm's `ln_1p`: the value
/// a certificate uses. The slices have equal lengths.
pub(crate) fn kl_sum(mu_q: &[f32], sigma_q: &[f32], mu_p: &[f32], sigma_p: &[f32]) -> f64 {
    let terms = mu_q.iter().zip(sigma_q).zip(mu_p).zip(sigma_p);
    terms.map(|(((&mq, &sq), &mp), &sp)| kl_term_libm(mq, sq, mp, sp)).sum()
}

/// Terms of [`kl_sum_fast`] computed per block (a vectorizable map), then summed.
const BLOCK: usize = 512;

/// Parallel partial sums of a block: independent additions instead of one dependency chain.
const LANES: usize = 8;

/// One coordinate's KL in f32, as [`kl_term_libm`] to a few ulps, with the vectorizable
/// [`fastmath::ln_minus_linear_f32`]; NaN when σ_q/σ_p is 0, subnormal, infinite or NaN.
#[inline(always)]
fn kl_term_fast(mq: f32, sq: f32, mp: f32, sp: f32) -> f32 {
    let r = sq / sp;
    let (x, z) = (r - 1.0, (mq - mp) / sp);
    let term = 0.5 * (x * x + z * z) - fastmath::ln_minus_linear_f32(r);
    let term = if term < 0.0 { 0.0 } else { term };
    if (f32::MIN_POSITIVE..=f32::MAX).contains(&r) { term } else { f32::NAN }
}

/// The same sum as [`kl_sum`] to about 10⁻⁶ relative (the f32 rounding of a training step's KL),
/// in one vectorized pass: terms in f32, accumulated in f64. Falls back to [`kl_sum`] when the
/// fast sum is not finite (some σ_q/σ_p out of the fast path's domain, or a non-finite input).
/// The value a certificate uses is [`kl_sum`]'s. Inlined, so that it is compiled for the
/// instruction set of the pass that calls it ([`dispatch::run`]).
#[inline(always)]
pub(crate) fn kl_sum_fast(mu_q: &[f32], sigma_q: &[f32], mu_p: &[f32], sigma_p: &[f32]) -> f64 {
    let mut terms = [0.0_f32; BLOCK];
    let mut lanes = [0.0_f64; LANES];
    let blocks =
        mu_q.chunks(BLOCK).zip(sigma_q.chunks(BLOCK)).zip(mu_p.chunks(BLOCK).zip(sigma_p.chunks(BLOCK)));
    for ((mq, sq), (mp, sp)) in blocks {
        let block = &mut terms[..mq.len()];
        for (t, ((&mq, &sq), (&mp, &sp))) in block.iter_mut().zip(mq.iter().zip(sq).zip(mp.iter().zip(sp))) {
            *t = kl_term_fast(mq, sq, mp, sp);
        }
        for chunk in block.chunks(LANES) {
            for (lane, &t) in lanes.iter_mut().zip(chunk) {
                *lane += f64::from(t);
            }
        }
    }
    let total: f64 = lanes.iter().sum();
    if total.is_finite() { total } else { kl_sum(mu_q, sigma_q, mu_p, sigma_p) }
}

/// Runs `f` on the contiguous f32 data of a CPU tensor.
pub(crate) fn with_f32<R>(
    t: &Tensor,
    f: impl FnOnce(&[f32]) -> candle_core::Result<R>,
) -> candle_core::Result<R> {
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => f(f32_data(cpu, layout, "kl")?),
        _ => bail!("kl: expects tensors on the CPU"),
    }
}

/// KL(Q‖P) summed over all coordinates, as an f32 scalar tensor differentiable in `mu_q` and
/// `sigma_q`; the prior's mean and scale are constants. All four tensors have the same shape.
///
/// # Errors
/// Shapes that differ, or tensors that are not f32 on the CPU.
pub fn kl_tensor(
    mu_q: &Tensor,
    sigma_q: &Tensor,
    mu_p: &Tensor,
    sigma_p: &Tensor,
) -> candle_core::Result<Tensor> {
    for t in [sigma_q, mu_p, sigma_p] {
        if t.shape() != mu_q.shape() {
            bail!("kl: shapes {:?} and {:?} differ", mu_q.shape(), t.shape());
        }
    }
    if !mu_q.device().is_cpu() {
        return crate::composed::kl(mu_q, sigma_q, mu_p, sigma_p);
    }
    let op = Kl { mu_p: mu_p.contiguous()?, sigma_p: sigma_p.contiguous()? };
    mu_q.contiguous()?.apply_op2(&sigma_q.contiguous()?, op)
}

/// KL(Q‖P) summed over all coordinates, in f64 (no graph): the number a certificate uses.
///
/// # Errors
/// As [`kl_tensor`].
pub fn kl_value(
    mu_q: &Tensor,
    sigma_q: &Tensor,
    mu_p: &Tensor,
    sigma_p: &Tensor,
) -> candle_core::Result<f64> {
    let (mq, sq) = (mu_q.flatten_all()?.to_vec1::<f32>()?, sigma_q.flatten_all()?.to_vec1::<f32>()?);
    let (mp, sp) = (mu_p.flatten_all()?.to_vec1::<f32>()?, sigma_p.flatten_all()?.to_vec1::<f32>()?);
    if [sq.len(), mp.len(), sp.len()].iter().any(|&n| n != mq.len()) {
        bail!("kl: tensors of different sizes");
    }
    Ok(kl_sum(&mq, &sq, &mp, &sp))
}

struct Kl {
    mu_p: Tensor,
    sigma_p: Tensor,
}

impl CustomOp2 for Kl {
    fn name(&self) -> &'static str {
        "kl-diag-gaussian"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (mu_q, sigma_q) = f32_pair(self.name(), (s1, l1), (s2, l2))?;
        let kl = with_f32(&self.mu_p, |mu_p| {
            with_f32(&self.sigma_p, |sigma_p| Ok(kernel!(kl_sum_fast(mu_q, sigma_q, mu_p, sigma_p))))
        })?;
        Ok((CpuStorage::F32(vec![kl as f32]), Shape::from(())))
    }

    fn bwd(
        &self,
        mu_q: &Tensor,
        sigma_q: &Tensor,
        _kl: &Tensor,
        grad_kl: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let scale = grad_kl.to_dtype(DType::F32)?.to_vec0::<f32>()?;
        let (mu_q, sigma_q) = (mu_q.contiguous()?, sigma_q.contiguous()?);
        let (grad_mu, grad_sigma) = with_f32(&mu_q, |mq| {
            with_f32(&sigma_q, |sq| {
                with_f32(&self.mu_p, |mp| with_f32(&self.sigma_p, |sp| Ok(kl_grads(scale, mq, sq, mp, sp))))
            })
        })?;
        let device = mu_q.device();
        let grad_mu = Tensor::from_vec(grad_mu, mu_q.shape(), device)?;
        let grad_sigma = Tensor::from_vec(grad_sigma, sigma_q.shape(), device)?;
        Ok((Some(grad_mu), Some(grad_sigma)))
    }
}

/// scale · ∂KL/∂μ_q = scale · (μ_q − μ_p)/σ_p² and scale · ∂KL/∂σ_q = scale · (σ_q/σ_p² − 1/σ_q),
/// both in one pass.
fn kl_grads(
    scale: f32,
    mu_q: &[f32],
    sigma_q: &[f32],
    mu_p: &[f32],
    sigma_p: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let n = mu_q.len();
    let (mut grad_mu, mut grad_sigma) = (vec![0.0; n], vec![0.0; n]);
    let (q, p) = ((mu_q, sigma_q), (mu_p, sigma_p));
    kernel!(kl_grads_block(scale, q, p, &mut grad_mu, &mut grad_sigma));
    (grad_mu, grad_sigma)
}

/// The pass of [`kl_grads`] into `grad_mu` and `grad_sigma`, for Q's (μ_q, σ_q) and P's (μ_p, σ_p).
#[inline(always)]
fn kl_grads_block(
    scale: f32,
    (mu_q, sigma_q): (&[f32], &[f32]),
    (mu_p, sigma_p): (&[f32], &[f32]),
    grad_mu: &mut [f32],
    grad_sigma: &mut [f32],
) {
    let inputs = mu_q.iter().zip(sigma_q).zip(mu_p.iter().zip(sigma_p));
    for ((gm, gs), ((&mq, &sq), (&mp, &sp))) in grad_mu.iter_mut().zip(grad_sigma).zip(inputs) {
        let precision = 1.0 / (sp * sp);
        *gm = scale * (mq - mp) * precision;
        *gs = scale * (sq * precision - 1.0 / sq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn fast_sum_matches_libm_sum_near_and_far_from_the_prior() {
        let mut noise = crate::Noise::new(11);
        let n = 3001; // not a multiple of the block or the lanes
        let mu_p = noise.standard_normal(n);
        let sigma_p: Vec<f32> = noise.standard_normal(n).iter().map(|z| 0.03 * (0.5 * z).exp()).collect();
        for spread in [0.0_f32, 1e-6, 1e-3, 0.3, 3.0] {
            let mu_q: Vec<f32> =
                mu_p.iter().zip(noise.standard_normal(n)).map(|(m, z)| m + spread * z).collect();
            let sigma_q: Vec<f32> =
                sigma_p.iter().zip(noise.standard_normal(n)).map(|(s, z)| s * (spread * z).exp()).collect();
            let (fast, libm) =
                (kl_sum_fast(&mu_q, &sigma_q, &mu_p, &sigma_p), kl_sum(&mu_q, &sigma_q, &mu_p, &sigma_p));
            assert!((fast - libm).abs() <= 1e-5 * libm + 1e-300, "spread {spread}: {fast} vs {libm}");
        }
        let mut sigma_q = sigma_p.clone();
        sigma_q[7] = 0.0;
        assert!(kl_sum_fast(&mu_p, &sigma_q, &mu_p, &sigma_p).is_infinite());
        sigma_q[7] = f32::NAN;
        assert!(kl_sum_fast(&mu_p, &sigma_q, &mu_p, &sigma_p).is_nan());
    }

    /// The KL sum and its gradients give the same bits run with AVX2 and FMA as with the baseline
    /// instruction set: near the prior, far from it, and with edge values (±0, subnormal, ±∞, NaN
    /// σ_q, which send the sum to its libm fallback).
    #[test]
    fn passes_give_the_same_bits_on_either_instruction_set() {
        use crate::dispatch::{assert_same_bits, both, edge_values};
        let m = 3001;
        let mu_p = edge_values(m, 1.0, 12);
        let sigma_p: Vec<f32> =
            edge_values(m, 1.0, 13)[20..].iter().map(|z| 0.03 * (0.5 * z).exp()).collect();
        let mu_p = &mu_p[20..];
        let mut cases = Vec::new();
        for spread in [0.0_f32, 1e-3, 0.3, 3.0] {
            let mut noise = crate::Noise::new(14);
            let mu_q: Vec<f32> =
                mu_p.iter().zip(noise.standard_normal(m)).map(|(m, z)| m + spread * z).collect();
            let sigma_q: Vec<f32> =
                sigma_p.iter().zip(noise.standard_normal(m)).map(|(s, z)| s * (spread * z).exp()).collect();
            cases.push((mu_q, sigma_q));
        }
        // Edge values in μ_q and σ_q (the 20 first values of each).
        let edges = (edge_values(m - 20, 0.1, 15), edge_values(m - 20, 0.03, 16));
        cases.push(edges);
        for (mu_q, sigma_q) in &cases {
            let (base, fast) = both(
                #[inline(always)]
                || {
                    let (mut gm, mut gs) = (vec![0.0; m], vec![0.0; m]);
                    kl_grads_block(0.7, (mu_q, sigma_q), (mu_p, &sigma_p), &mut gm, &mut gs);
                    ([kl_sum_fast(mu_q, sigma_q, mu_p, &sigma_p)], gm, gs)
                },
            );
            assert_same_bits("kl", &base.0, &fast.0);
            assert_same_bits("grad_mu", &base.1, &fast.1);
            assert_same_bits("grad_sigma", &base.2, &fast.2);
        }
    }

    #[test]
    fn gradients_match_finite_differences() -> Result<(), candle_core::Error> {
        let dev = Device::Cpu;
        let mu_p = Tensor::new(&[0.1_f32, -0.2, 0.0], &dev)?;
        let sigma_p = Tensor::new(&[0.05_f32, 0.1, 0.2], &dev)?;
        let (mq, sq) = ([0.12_f32, -0.1, 0.3], [0.04_f32, 0.15, 0.2]);
        let mu_q = Var::new(&mq, &dev)?;
        let sigma_q = Var::new(&sq, &dev)?;
        let grads = kl_tensor(mu_q.as_tensor(), sigma_q.as_tensor(), &mu_p, &sigma_p)?.backward()?;
        let missing = || candle_core::Error::Msg("no gradient".into());
        let g_mu = grads.get(&mu_q).ok_or_else(missing)?.to_vec1::<f32>()?;
        let g_sigma = grads.get(&sigma_q).ok_or_else(missing)?.to_vec1::<f32>()?;
        let (mp, sp) = ([0.1_f64, -0.2, 0.0], [0.05_f64, 0.1, 0.2]);
        let kl = |m: [f64; 3], s: [f64; 3]| -> f64 {
            (0..3)
                .map(|i| {
                    (sp[i] / s[i]).ln() + (s[i] * s[i] + (m[i] - mp[i]).powi(2)) / (2.0 * sp[i] * sp[i]) - 0.5
                })
                .sum()
        };
        let (m0, s0) = (mq.map(f64::from), sq.map(f64::from));
        let h = 1e-6;
        for i in 0..3 {
            let (mut mp_, mut mm) = (m0, m0);
            mp_[i] += h;
            mm[i] -= h;
            let fd = (kl(mp_, s0) - kl(mm, s0)) / (2.0 * h);
            assert!(
                (f64::from(g_mu[i]) - fd).abs() < 1e-3 * fd.abs().max(1.0),
                "mu {i}: {} vs {fd}",
                g_mu[i]
            );
            let (mut sp_, mut sm) = (s0, s0);
            sp_[i] += h;
            sm[i] -= h;
            let fd = (kl(m0, sp_) - kl(m0, sm)) / (2.0 * h);
            assert!(
                (f64::from(g_sigma[i]) - fd).abs() < 1e-3 * fd.abs().max(1.0),
                "sigma {i}: {} vs {fd}",
                g_sigma[i]
            );
        }
        Ok(())
    }
}
