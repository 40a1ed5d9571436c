//! The output of the local reparameterization, m + √v ⊙ ε, as one candle operation.
//!
//! Composed as `mean + var.sqrt() * eps`, it is three graph nodes, each a fresh tensor the size of
//! a layer's output forward and, backward, a zero-filled gradient and an addition; here it is one
//! pass forward and one backward.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor, bail};

use crate::dispatch::kernel;
use crate::kl::with_f32;
use crate::par::{self, at};
use crate::softplus::f32_pair;

/// m + √v ⊙ ε for pre-activation means `mean` and variances `var` of equal shapes and noise `eps`
/// of as many values, differentiable in both.
///
/// # Errors
/// Tensors that are not f32 on the CPU, or sizes that differ.
pub(crate) fn local_sample(mean: &Tensor, var: &Tensor, eps: Vec<f32>) -> candle_core::Result<Tensor> {
    if mean.shape() != var.shape() || eps.len() != mean.elem_count() {
        bail!(
            "local-sample: means {:?}, variances {:?}, {} noise values",
            mean.shape(),
            var.shape(),
            eps.len()
        );
    }
    let eps = Tensor::from_vec(eps, mean.shape(), mean.device())?;
    if !mean.device().is_cpu() {
        return crate::composed::local_sample(mean, var, &eps);
    }
    mean.contiguous()?.apply_op2(&var.contiguous()?, LocalSample { eps })
}

struct LocalSample {
    eps: Tensor,
}

impl CustomOp2 for LocalSample {
    fn name(&self) -> &'static str {
        "local-sample"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (mean, var) = f32_pair(self.name(), (s1, l1), (s2, l2))?;
        let y = with_f32(&self.eps, |eps| {
            Ok(par::map(mean.len(), |start, y| {
                let n = y.len();
                kernel!(local_sample_block(at(mean, start, n), at(var, start, n), at(eps, start, n), y));
            }))
        })?;
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    /// ∂L/∂m = ∂L/∂y and ∂L/∂v = ∂L/∂y · ε / (2√v) (0 where v = 0, as the limit of a vanishing
    /// spread that has no direction to move in).
    fn bwd(
        &self,
        _mean: &Tensor,
        var: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (var, grad) = (var.contiguous()?, grad.contiguous()?);
        let grad_var = with_f32(&var, |v| {
            with_f32(&grad, |g| {
                with_f32(&self.eps, |eps| {
                    Ok(par::map(v.len(), |start, out| {
                        let n = out.len();
                        kernel!(local_sample_grad_block(
                            at(g, start, n),
                            at(v, start, n),
                            at(eps, start, n),
                            out
                        ));
                    }))
                })
            })
        })?;
        Ok((Some(grad), Some(Tensor::from_vec(grad_var, var.shape(), var.device())?)))
    }
}

/// y = m + √v ⊙ ε, into `y`.
#[inline(always)]
fn local_sample_block(mean: &[f32], var: &[f32], eps: &[f32], y: &mut [f32]) {
    for (y, ((&m, &v), &e)) in y.iter_mut().zip(mean.iter().zip(var).zip(eps)) {
        *y = m + v.sqrt() * e;
    }
}

/// ∂L/∂v = ∂L/∂y · ε / (2√v), 0 where v ≤ 0, into `out`.
#[inline(always)]
fn local_sample_grad_block(g: &[f32], var: &[f32], eps: &[f32], out: &mut [f32]) {
    for (o, ((&g, &v), &e)) in out.iter_mut().zip(g.iter().zip(var).zip(eps)) {
        *o = if v > 0.0 { 0.5 * g * e / v.sqrt() } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    /// Both passes give the same bits run with AVX2 and FMA as with the baseline instruction set,
    /// on inputs with edge values (±0, subnormals, ±∞, NaN; negative variances too).
    #[test]
    fn passes_give_the_same_bits_on_either_instruction_set() {
        use crate::dispatch::{assert_same_bits, both, edge_values};
        let (mean, var) = (edge_values(4099, 1.0, 27), edge_values(4099, 1.0, 28));
        let (eps, g) = (edge_values(4099, 1.0, 29), edge_values(4099, 1.0, 30));
        let (base, fast) = both(
            #[inline(always)]
            || {
                let (mut y, mut d) = (vec![0.0; mean.len()], vec![0.0; mean.len()]);
                local_sample_block(&mean, &var, &eps, &mut y);
                local_sample_grad_block(&g, &var, &eps, &mut d);
                (y, d)
            },
        );
        assert_same_bits("sample", &base.0, &fast.0);
        assert_same_bits("grad_var", &base.1, &fast.1);
    }

    /// Values and gradients equal those of `mean + var.sqrt() * eps` composed from candle
    /// operations.
    #[test]
    fn matches_the_composed_operations() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(12);
        let n = 40_007; // more than one chunk
        let mean = Var::from_vec(noise.standard_normal(n), n, &dev)?;
        let var: Vec<f32> = noise.standard_normal(n).iter().map(|z| 0.01 + z * z).collect();
        let var = Var::from_vec(var, n, &dev)?;
        let eps = noise.standard_normal(n);
        let weights = Tensor::from_vec(noise.standard_normal(n), n, &dev)?;
        let ours = local_sample(mean.as_tensor(), var.as_tensor(), eps.clone())?;
        let theirs = (mean.as_tensor() + var.as_tensor().sqrt()?.mul(&Tensor::from_vec(eps, n, &dev)?)?)?;
        let close = |a: &Tensor, b: &Tensor| {
            values(a).iter().zip(values(b)).all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
        };
        assert!(close(&ours, &theirs));
        let g1 = ours.mul(&weights)?.sum_all()?.backward()?;
        let g2 = theirs.mul(&weights)?.sum_all()?.backward()?;
        for v in [&mean, &var] {
            assert!(close(g1.get(v).expect("gradient"), g2.get(v).expect("gradient")));
        }
        assert!(local_sample(mean.as_tensor(), var.as_tensor(), vec![0.0; 3]).is_err());
        Ok(())
    }
}
