//! σ = softplus(ρ) = ln(1 + e^ρ) as one fused, differentiable candle operation, and its inverse.
//!
//! Composing softplus from candle's elementwise operations would take about seven passes over every
//! parameter (and lose accuracy for small σ, where 1 + e^ρ rounds to 1); the custom operation takes
//! one vectorized pass forward and one backward, computing ln(1 + e^−|ρ|) directly.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor, bail};

use crate::dispatch::kernel;
use crate::fastmath;
use crate::par::{self, at};

/// softplus(ρ) = max(ρ, 0) + ln(1 + e^−|ρ|) in f32, within a few ulps for every ρ (no overflow for
/// large ρ, no rounding to 0 for small σ; σ is floored at e^−87 ≈ 1.6·10⁻³⁸ for ρ < −87). NaN stays
/// NaN. Branch-free, so that a loop over a slice is vectorized.
#[inline(always)]
pub fn softplus(rho: f32) -> f32 {
    let positive_part = if rho > 0.0 { rho } else { 0.0 };
    positive_part + fastmath::ln_1p_unit(fastmath::exp(-rho.abs()))
}

/// The ρ with softplus(ρ) = σ, computed in f64: ρ = ln(e^σ − 1).
///
/// `sigma` must be positive; the caller checks it.
pub fn inverse_softplus(sigma: f64) -> f64 {
    if sigma > 20.0 { sigma + (-(-sigma).exp_m1()).ln() } else { sigma.exp_m1().ln() }
}

/// (softplus(ρ), sigmoid(ρ)) sharing one e^−|ρ|: σ and dσ/dρ for a fused pass.
#[inline(always)]
pub(crate) fn softplus_and_sigmoid(rho: f32) -> (f32, f32) {
    let e = fastmath::exp(-rho.abs());
    let (positive_part, numerator) = if rho > 0.0 { (rho, 1.0) } else { (0.0, e) };
    (positive_part + fastmath::ln_1p_unit(e), numerator / (1.0 + e))
}

/// dσ/dρ = 1 / (1 + e^−ρ), computed from e^−|ρ| (no overflow), branch-free.
#[inline(always)]
pub(crate) fn sigmoid(rho: f32) -> f32 {
    let e = fastmath::exp(-rho.abs());
    let numerator = if rho >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

/// σ = softplus(ρ) for each ρ of `rho`, into `sigma` (of the same length).
#[inline(always)]
fn softplus_block(rho: &[f32], sigma: &mut [f32]) {
    for (s, &r) in sigma.iter_mut().zip(rho) {
        *s = softplus(r);
    }
}

/// σ = softplus(ρ) and dσ/dρ = sigmoid(ρ) for each ρ of `rho`, into `sigma` and `slope`.
#[inline(always)]
pub(crate) fn softplus_sigmoid_block(rho: &[f32], sigma: &mut [f32], slope: &mut [f32]) {
    for ((s, d), &r) in sigma.iter_mut().zip(slope).zip(rho) {
        (*s, *d) = softplus_and_sigmoid(r);
    }
}

/// ∂L/∂ρ = ∂L/∂σ · sigmoid(ρ), into `out`.
#[inline(always)]
fn softplus_grad_block(rho: &[f32], grad: &[f32], out: &mut [f32]) {
    for (o, (&r, &g)) in out.iter_mut().zip(rho.iter().zip(grad)) {
        *o = g * sigmoid(r);
    }
}

/// The contiguous f32 data of a CPU storage.
pub(crate) fn f32_data<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &str,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else { bail!("{op}: expects f32 tensors") };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => bail!("{op}: expects contiguous tensors"),
    }
}

/// The contiguous f32 data of two CPU storages of equal lengths, for a binary operation `op`.
pub(crate) fn f32_pair<'a>(
    op: &str,
    (s1, l1): (&'a CpuStorage, &Layout),
    (s2, l2): (&'a CpuStorage, &Layout),
) -> candle_core::Result<(&'a [f32], &'a [f32])> {
    let (a, b) = (f32_data(s1, l1, op)?, f32_data(s2, l2, op)?);
    if a.len() != b.len() {
        bail!("{op}: {} and {} values", a.len(), b.len());
    }
    Ok((a, b))
}

/// σ = softplus(ρ), elementwise, differentiable in ρ.
///
/// # Errors
/// If `rho` is not an f32 tensor on the CPU.
pub fn softplus_tensor(rho: &Tensor) -> candle_core::Result<Tensor> {
    if !rho.device().is_cpu() {
        return crate::composed::softplus(rho);
    }
    rho.contiguous()?.apply_op1(Softplus)
}

struct Softplus;

impl CustomOp1 for Softplus {
    fn name(&self) -> &'static str {
        "softplus"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let rho = f32_data(storage, layout, self.name())?;
        let sigma =
            par::map(rho.len(), |start, sigma| kernel!(softplus_block(at(rho, start, sigma.len()), sigma)));
        Ok((CpuStorage::F32(sigma), layout.shape().clone()))
    }

    fn bwd(&self, rho: &Tensor, _sigma: &Tensor, grad_sigma: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(rho.contiguous()?.apply_op2_no_bwd(&grad_sigma.contiguous()?, &SoftplusGrad)?))
    }
}

/// (ρ, ∂L/∂σ) ↦ ∂L/∂ρ = ∂L/∂σ · sigmoid(ρ), in one pass.
struct SoftplusGrad;

impl CustomOp2 for SoftplusGrad {
    fn name(&self) -> &'static str {
        "softplus-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (rho, grad) = f32_pair(self.name(), (s1, l1), (s2, l2))?;
        let out = par::map(rho.len(), |start, out| {
            let n = out.len();
            kernel!(softplus_grad_block(at(rho, start, n), at(grad, start, n), out));
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn softplus_is_accurate_and_inverted() {
        for sigma in [1e-8_f64, 1e-4, 0.03, 0.1, 1.0, 5.0, 30.0] {
            let rho = inverse_softplus(sigma);
            let back = f64::from(softplus(rho as f32));
            assert!((back - sigma).abs() <= 1e-6 * sigma, "sigma {sigma}: rho {rho} gives {back}");
        }
        assert!(softplus(100.0).is_finite() && softplus(-100.0) > 0.0);
    }

    #[test]
    fn softplus_and_sigmoid_match_f64_references() {
        for i in -3000..=3000 {
            let rho = i as f32 / 50.0;
            let r = f64::from(rho);
            let want = r.max(0.0) + (-r.abs()).exp().ln_1p();
            let got = f64::from(softplus(rho));
            assert!((got - want).abs() <= 5e-7 * want, "softplus({rho}) = {got}, want {want}");
            let want = 1.0 / (1.0 + (-r).exp());
            let got = f64::from(sigmoid(rho));
            assert!((got - want).abs() <= 5e-7 * want, "sigmoid({rho}) = {got}, want {want}");
        }
        assert!(softplus(f32::NAN).is_nan() && sigmoid(f32::NAN).is_nan());
        assert!(softplus(f32::INFINITY).is_infinite());
    }

    /// Each pass gives the same bits run with AVX2 and FMA as with the baseline instruction set,
    /// on ρ at the edges (±0, subnormals, ±∞, NaN, beyond the floor of e^y) and spread widely.
    #[test]
    fn passes_give_the_same_bits_on_either_instruction_set() {
        let rho = crate::dispatch::edge_values(4099, 30.0, 3);
        let grad = crate::dispatch::edge_values(4099, 2.0, 4);
        let n = rho.len();
        let (base, fast) = crate::dispatch::both(
            #[inline(always)]
            || {
                let (mut sigma, mut slope, mut both) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
                let mut g = vec![0.0; n];
                softplus_block(&rho, &mut sigma);
                softplus_sigmoid_block(&rho, &mut both, &mut slope);
                softplus_grad_block(&rho, &grad, &mut g);
                [sigma, both, slope, g]
            },
        );
        for ((b, f), what) in base.iter().zip(&fast).zip(["softplus", "sigma", "slope", "grad"]) {
            crate::dispatch::assert_same_bits(what, b, f);
        }
    }

    #[test]
    fn gradient_is_the_sigmoid() -> Result<(), candle_core::Error> {
        let rho = Var::from_vec(vec![-4.0_f32, -0.5, 0.0, 2.0], 4, &Device::Cpu)?;
        let sigma = softplus_tensor(rho.as_tensor())?;
        let expected: Vec<f32> = [-4.0_f32, -0.5, 0.0, 2.0].iter().map(|&r| softplus(r)).collect();
        assert_eq!(sigma.to_vec1::<f32>()?, expected);
        let grads = (sigma * 3.0)?.sum_all()?.backward()?;
        let g =
            grads.get(&rho).ok_or_else(|| candle_core::Error::Msg("no gradient".into()))?.to_vec1::<f32>()?;
        assert_eq!(g.len(), 4);
        for (r, g) in [-4.0_f32, -0.5, 0.0, 2.0].iter().zip(g) {
            assert!((g - 3.0 * sigmoid(*r)).abs() < 1e-6, "rho {r}: grad {g}");
        }
        Ok(())
    }
}
