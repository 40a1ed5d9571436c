//! The closed-form KL(Q‖P) between diagonal Gaussians, as a differentiable candle operation.
//!
//! Per coordinate, with x = σ_q/σ_p − 1 and z = (μ_q − μ_p)/σ_p,
//! KL = ½(x(2 + x) − 2 ln(1 + x) + z²), the form `pacbayes_bounds::kl_gaussian` uses: it keeps its
//! accuracy when Q is close to P. Each term is evaluated in f64 from the f32 parameters and the sum
//! is accumulated in f64, in one pass; the gradients ∂KL/∂μ_q = (μ_q − μ_p)/σ_p² and
//! ∂KL/∂σ_q = σ_q/σ_p² − 1/σ_q take one more pass each.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Storage, Tensor, bail};

use crate::softplus::f32_data;

/// KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) summed over coordinates, in f64. The slices have equal lengths.
pub(crate) fn kl_sum(mu_q: &[f32], sigma_q: &[f32], mu_p: &[f32], sigma_p: &[f32]) -> f64 {
    let mut total = 0.0_f64;
    for (((&mq, &sq), &mp), &sp) in mu_q.iter().zip(sigma_q).zip(mu_p).zip(sigma_p) {
        let sp = f64::from(sp);
        let x = (f64::from(sq) - sp) / sp;
        let z = (f64::from(mq) - f64::from(mp)) / sp;
        total += (0.5 * (x * (2.0 + x) - 2.0 * x.ln_1p() + z * z)).max(0.0);
    }
    total
}

/// Runs `f` on the contiguous f32 data of a CPU tensor.
fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> candle_core::Result<R>) -> candle_core::Result<R> {
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
        let mu_q = f32_data(s1, l1, self.name())?;
        let sigma_q = f32_data(s2, l2, self.name())?;
        let kl = with_f32(&self.mu_p, |mu_p| {
            with_f32(&self.sigma_p, |sigma_p| Ok(kl_sum(mu_q, sigma_q, mu_p, sigma_p)))
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
        let grad = |wrt| KlGrad { wrt, scale, mu_p: self.mu_p.clone(), sigma_p: self.sigma_p.clone() };
        let grad_mu = mu_q.apply_op2_no_bwd(&sigma_q, &grad(Wrt::Mu))?;
        let grad_sigma = mu_q.apply_op2_no_bwd(&sigma_q, &grad(Wrt::Sigma))?;
        Ok((Some(grad_mu), Some(grad_sigma)))
    }
}

#[derive(Clone, Copy)]
enum Wrt {
    Mu,
    Sigma,
}

/// (μ_q, σ_q) ↦ scale · ∂KL/∂μ_q or scale · ∂KL/∂σ_q.
struct KlGrad {
    wrt: Wrt,
    scale: f32,
    mu_p: Tensor,
    sigma_p: Tensor,
}

impl CustomOp2 for KlGrad {
    fn name(&self) -> &'static str {
        "kl-diag-gaussian-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let mu_q = f32_data(s1, l1, self.name())?;
        let sigma_q = f32_data(s2, l2, self.name())?;
        let scale = self.scale;
        let out: Vec<f32> = match self.wrt {
            Wrt::Mu => with_f32(&self.mu_p, |mu_p| {
                with_f32(&self.sigma_p, |sigma_p| {
                    Ok(mu_q
                        .iter()
                        .zip(mu_p)
                        .zip(sigma_p)
                        .map(|((&mq, &mp), &sp)| scale * (mq - mp) / (sp * sp))
                        .collect())
                })
            })?,
            Wrt::Sigma => with_f32(&self.sigma_p, |sigma_p| {
                Ok(sigma_q
                    .iter()
                    .zip(sigma_p)
                    .map(|(&sq, &sp)| scale * (sq / (sp * sp) - 1.0 / sq))
                    .collect())
            })?,
        };
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

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
