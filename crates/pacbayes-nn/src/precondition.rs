//! SGD momentum steps preconditioned by the curvature of KL(Q‖P), in place.
//!
//! Per coordinate the KL's second derivatives are
//! $\partial^2\mathrm{KL}/\partial\mu^2 = 1/\sigma_P^2$ and, with σ = softplus(ρ) and
//! $s = d\sigma/d\rho = \operatorname{sigmoid}(\rho)$,
//! $\partial^2\mathrm{KL}/\partial\rho^2 \approx s^2\,(1/\sigma_P^2 + 1/\sigma^2)$ (exact at σ = σ_P,
//! and the Gauss–Newton part elsewhere; it is always positive). Plain SGD on (μ, ρ) with one
//! learning rate gives ρ steps that are about $\sigma^2/\sigma_P^2 \cdot s^2/\sigma^2$ times too small
//! relative to μ's: with σ_P = 0.005 the ρ gradient carries the factor s ≈ σ = 0.005 twice over,
//! and the ρ updates of a learning rate of 0.001 fall below the f32 spacing of ρ.
//!
//! The preconditioned velocity is $v \leftarrow m\,v + c\,p \odot g$ with
//! $p_\mu = \sigma_P^2$ and $p_\rho = \sigma_P^2\sigma^2 / (s^2(\sigma^2 + \sigma_P^2))$, the inverse
//! curvatures; `c` is a normalization chosen by the caller (for example 1/mean(σ_P²), so that the μ
//! steps of a prior with one scale are the plain SGD steps).

use candle_core::{CpuStorage, InplaceOp2, InplaceOp3, Layout, Tensor};

use crate::dispatch::kernel;
use crate::par::{self, at};
use crate::softplus::{f32_data, softplus_and_sigmoid};
use crate::update::{f32_data_mut, momentum_block};

/// Which variable a preconditioned step updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlGroup {
    /// A posterior mean μ: its inverse KL curvature is σ_P².
    Mean,
    /// A posterior ρ (σ = softplus(ρ)): its inverse KL curvature is σ_P²σ²/(s²(σ² + σ_P²)).
    Rho,
}

/// The inverse KL curvature of one ρ coordinate, σ_P²σ²/(s²(σ² + σ_P²)), s = sigmoid(ρ).
#[inline(always)]
pub fn rho_inverse_curvature(rho: f32, prior_sigma: f32) -> f32 {
    let (sigma, slope) = softplus_and_sigmoid(rho);
    let (sq, pq) = (sigma * sigma, prior_sigma * prior_sigma);
    pq * sq / (slope * slope * (sq + pq))
}

/// One preconditioned momentum update of the velocity, in place: v ← m·v + c·p ⊙ g, with p the
/// inverse KL curvature of `group` (see the module documentation). `var` is the variable itself
/// (read for ρ, unused for μ); `prior_sigma` is σ_P, of the variable's shape. Then
/// [`sgd_descend`] moves the variable.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use pacbayes_nn::{KlGroup, kl_preconditioned_momentum};
/// let dev = Device::Cpu;
/// let v = Tensor::zeros(2, candle_core::DType::F32, &dev)?;
/// let g = Tensor::new(&[1.0_f32, -2.0], &dev)?;
/// let sigma_p = Tensor::new(&[0.1_f32, 0.2], &dev)?;
/// kl_preconditioned_momentum(&v, &g, &g, &sigma_p, KlGroup::Mean, 10.0, 0.9)?;
/// let v = v.to_vec1::<f32>()?;
/// assert!((v[0] - 0.1).abs() < 1e-6 && (v[1] + 0.8).abs() < 1e-6);
/// # Ok::<(), candle_core::Error>(())
/// ```
///
/// # Errors
/// Tensors that are not contiguous f32 on the CPU, or of different sizes.
pub fn kl_preconditioned_momentum(
    velocity: &Tensor,
    grad: &Tensor,
    var: &Tensor,
    prior_sigma: &Tensor,
    group: KlGroup,
    scale: f64,
    momentum: f64,
) -> candle_core::Result<()> {
    let (momentum, scale) = (momentum as f32, scale as f32);
    let grad = grad.contiguous()?;
    match group {
        KlGroup::Mean => velocity.inplace_op3(&grad, prior_sigma, &MeanMomentum { momentum, scale }),
        KlGroup::Rho => {
            // The gradient is scaled first (into a fresh tensor), then accumulated: three inputs.
            let scaled = grad.apply_op2_no_bwd(&var.contiguous()?, &RhoScale { prior_sigma, scale })?;
            velocity.inplace_op2(&scaled, &Accumulate { momentum })
        }
    }
}

/// w ← w − lr·v, in place.
///
/// # Errors
/// As [`crate::sgd_momentum_step`].
pub fn sgd_descend(var: &Tensor, velocity: &Tensor, learning_rate: f64) -> candle_core::Result<()> {
    var.inplace_op2(velocity, &crate::update::Descend { learning_rate: learning_rate as f32 })
}

/// w ← w − lr·v on an f64 master copy `master` of the variable, then the variable ← f32(master):
/// steps below the f32 spacing of w accumulate in the master copy instead of being rounded away.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// let dev = Device::Cpu;
/// let w = Tensor::new(&[-5.3_f32], &dev)?;
/// let master = w.to_dtype(DType::F64)?;
/// let v = Tensor::new(&[1e-4_f32], &dev)?;
/// for _ in 0..10 {
///     // Each step, 10⁻⁷, is below half the f32 spacing at 5.3 (2.4·10⁻⁷).
///     pacbayes_nn::sgd_descend_master(&w, &master, &v, 1e-3)?;
/// }
/// assert!(w.to_vec1::<f32>()?[0] < -5.3, "ten steps of 10⁻⁷ add up to one f32 spacing");
/// # Ok::<(), candle_core::Error>(())
/// ```
///
/// # Errors
/// A variable that is not contiguous f32, a master copy that is not contiguous f64 (both on the
/// CPU), or sizes that differ.
pub fn sgd_descend_master(
    var: &Tensor,
    master: &Tensor,
    velocity: &Tensor,
    learning_rate: f64,
) -> candle_core::Result<()> {
    master.inplace_op2(velocity, &DescendF64 { learning_rate })?;
    var.inplace_op2(master, &RoundToF32)
}

fn f64_parts<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> candle_core::Result<&'a [f64]> {
    let CpuStorage::F64(data) = s else { candle_core::bail!("{op}: expects an f64 master copy") };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{op}: expects contiguous tensors"),
    }
}

/// master ← master − lr·v, in f64.
struct DescendF64 {
    learning_rate: f64,
}

impl InplaceOp2 for DescendF64 {
    fn name(&self) -> &'static str {
        "sgd-descend-master"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let CpuStorage::F64(data) = s1 else {
            candle_core::bail!("{}: expects an f64 master copy", self.name())
        };
        let Some((a, b)) = l1.contiguous_offsets() else {
            candle_core::bail!("{}: expects contiguous tensors", self.name())
        };
        let (w, v) = (&mut data[a..b], f32_data(s2, l2, self.name())?);
        check_len(self.name(), w.len(), v.len())?;
        let lr = self.learning_rate;
        par::fill(w, |start, w| kernel!(descend_f64_block(lr, w, at(v, start, w.len()))));
        Ok(())
    }
}

/// w ← f32(master).
struct RoundToF32;

impl InplaceOp2 for RoundToF32 {
    fn name(&self) -> &'static str {
        "round-master-to-f32"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (w, master) = (f32_data_mut(s1, l1, self.name())?, f64_parts(s2, l2, self.name())?);
        check_len(self.name(), w.len(), master.len())?;
        par::fill(w, |start, w| kernel!(round_block(w, at(master, start, w.len()))));
        Ok(())
    }
}

/// master ← master − lr·v, elementwise in f64.
#[inline(always)]
fn descend_f64_block(learning_rate: f64, w: &mut [f64], v: &[f32]) {
    w.iter_mut().zip(v).for_each(|(w, &v)| *w -= learning_rate * f64::from(v));
}

/// w ← f32(master), elementwise.
#[inline(always)]
fn round_block(w: &mut [f32], master: &[f64]) {
    w.iter_mut().zip(master).for_each(|(w, &m)| *w = m as f32);
}

fn check_len(op: &str, a: usize, b: usize) -> candle_core::Result<()> {
    if a == b { Ok(()) } else { candle_core::bail!("{op}: {a} and {b} values") }
}

/// v ← m·v + c·σ_P²·g.
struct MeanMomentum {
    momentum: f32,
    scale: f32,
}

impl InplaceOp3 for MeanMomentum {
    fn name(&self) -> &'static str {
        "kl-preconditioned-momentum-mean"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<()> {
        let v = f32_data_mut(s1, l1, self.name())?;
        let (g, sp) = (f32_data(s2, l2, self.name())?, f32_data(s3, l3, self.name())?);
        check_len(self.name(), v.len(), g.len())?;
        check_len(self.name(), v.len(), sp.len())?;
        let constants = (self.momentum, self.scale);
        par::fill(v, |start, v| {
            let n = v.len();
            kernel!(mean_momentum_block(constants, v, at(g, start, n), at(sp, start, n)));
        });
        Ok(())
    }
}

/// v ← m·v + c·σ_P²·g, elementwise, for (m, c) = `(momentum, scale)`.
#[inline(always)]
fn mean_momentum_block((m, c): (f32, f32), v: &mut [f32], g: &[f32], sp: &[f32]) {
    for ((v, &g), &sp) in v.iter_mut().zip(g).zip(sp) {
        *v = m * *v + c * sp * sp * g;
    }
}

/// (g, ρ) ↦ c·p_ρ·g.
struct RhoScale<'a> {
    prior_sigma: &'a Tensor,
    scale: f32,
}

impl candle_core::CustomOp2 for RhoScale<'_> {
    fn name(&self) -> &'static str {
        "kl-preconditioned-rho-scale"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, candle_core::Shape)> {
        let (g, rho) = (f32_data(s1, l1, self.name())?, f32_data(s2, l2, self.name())?);
        check_len(self.name(), g.len(), rho.len())?;
        let c = self.scale;
        let out = crate::kl::with_f32(self.prior_sigma, |sp| {
            check_len(self.name(), g.len(), sp.len())?;
            Ok(par::map(g.len(), |start, out| {
                let n = out.len();
                kernel!(rho_scale_block(c, at(g, start, n), at(rho, start, n), at(sp, start, n), out));
            }))
        })?;
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// c·p_ρ·g for each (g, ρ, σ_P), into `out`.
#[inline(always)]
fn rho_scale_block(c: f32, g: &[f32], rho: &[f32], sp: &[f32], out: &mut [f32]) {
    for (o, ((&g, &r), &sp)) in out.iter_mut().zip(g.iter().zip(rho).zip(sp)) {
        *o = c * rho_inverse_curvature(r, sp) * g;
    }
}

/// v ← m·v + g.
struct Accumulate {
    momentum: f32,
}

impl InplaceOp2 for Accumulate {
    fn name(&self) -> &'static str {
        "momentum-accumulate"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (v, g) = (f32_data_mut(s1, l1, self.name())?, f32_data(s2, l2, self.name())?);
        check_len(self.name(), v.len(), g.len())?;
        let momentum = self.momentum;
        par::fill(v, |start, v| kernel!(momentum_block(momentum, v, at(g, start, v.len()))));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softplus::inverse_softplus;
    use candle_core::Device;

    /// The KL of one coordinate in ρ, for finite differences.
    fn kl_rho(rho: f64, sp: f64) -> f64 {
        let s = rho.exp().ln_1p();
        (sp / s).ln() + s * s / (2.0 * sp * sp) - 0.5
    }

    #[test]
    fn the_rho_preconditioner_inverts_the_kl_curvature_at_the_prior() {
        for sp in [0.005_f64, 0.03, 0.3] {
            let rho = inverse_softplus(sp);
            let h = 1e-3;
            let curvature = (kl_rho(rho + h, sp) - 2.0 * kl_rho(rho, sp) + kl_rho(rho - h, sp)) / (h * h);
            let p = f64::from(rho_inverse_curvature(rho as f32, sp as f32));
            assert!((p * curvature - 1.0).abs() < 1e-2, "sigma_p {sp}: p {p}, curvature {curvature}");
        }
    }

    /// Each pass gives the same bits run with AVX2 and FMA as with the baseline instruction set,
    /// on values with edges (±0, subnormals, ±∞, NaN).
    #[test]
    fn passes_give_the_same_bits_on_either_instruction_set() {
        use crate::dispatch::{assert_same_bits, both, edge_values};
        let (v0, g, rho) =
            (edge_values(2049, 1e-3, 20), edge_values(2049, 1.0, 21), edge_values(2049, 10.0, 22));
        let sp: Vec<f32> = edge_values(2049, 1.0, 23).iter().map(|z| 0.01 * (0.5 * z).exp()).collect();
        let master0: Vec<f64> = g.iter().map(|&x| f64::from(x) * 1.000_000_1).collect();
        let (base, fast) = both(
            #[inline(always)]
            || {
                let (mut vm, mut scaled, mut w) = (v0.clone(), vec![0.0; g.len()], vec![0.0; g.len()]);
                let mut master = master0.clone();
                mean_momentum_block((0.9, 3.0), &mut vm, &g, &sp);
                rho_scale_block(3.0, &g, &rho, &sp, &mut scaled);
                descend_f64_block(1e-3, &mut master, &vm);
                round_block(&mut w, &master);
                ([vm, scaled, w], master)
            },
        );
        for ((b, f), what) in base.0.iter().zip(&fast.0).zip(["mean velocity", "rho scaled", "rounded"]) {
            assert_same_bits(what, b, f);
        }
        assert_same_bits("master", &base.1, &fast.1);
    }

    #[test]
    fn preconditioned_velocities_follow_the_formula() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let g = Tensor::new(&[0.5_f32, -1.0, 2.0], &dev)?;
        let sp = Tensor::new(&[0.005_f32, 0.05, 0.5], &dev)?;
        let rho = Tensor::new(&[-5.0_f32, -3.0, 0.2], &dev)?;
        let (vm, vr) = (g.zeros_like()?, g.zeros_like()?);
        for _ in 0..2 {
            kl_preconditioned_momentum(&vm, &g, &rho, &sp, KlGroup::Mean, 3.0, 0.5)?;
            kl_preconditioned_momentum(&vr, &g, &rho, &sp, KlGroup::Rho, 3.0, 0.5)?;
        }
        let (vm, vr) = (vm.to_vec1::<f32>()?, vr.to_vec1::<f32>()?);
        for i in 0..3 {
            let (gi, spi, ri) =
                ([0.5_f64, -1.0, 2.0][i], [0.005_f64, 0.05, 0.5][i], [-5.0_f64, -3.0, 0.2][i]);
            let want_m = 1.5 * 3.0 * spi * spi * gi;
            let (s, slope) = (ri.exp().ln_1p(), 1.0 / (1.0 + (-ri).exp()));
            let want_r = 1.5 * 3.0 * spi * spi * s * s / (slope * slope * (s * s + spi * spi)) * gi;
            assert!((f64::from(vm[i]) - want_m).abs() <= 1e-5 * want_m.abs(), "{i}: {} vs {want_m}", vm[i]);
            assert!((f64::from(vr[i]) - want_r).abs() <= 1e-4 * want_r.abs(), "{i}: {} vs {want_r}", vr[i]);
        }
        Ok(())
    }
}
