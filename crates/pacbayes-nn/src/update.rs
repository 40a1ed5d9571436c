//! Optimizer updates done in place, in one pass per tensor, without allocating: SGD with momentum
//! (PyTorch's form) and Adam (no weight decay).
//!
//! Written with candle's elementwise operations, an update is four to ten operations per
//! parameter tensor, each a fresh allocation and a pass, followed by a copy into the variable.

use candle_core::{CpuStorage, InplaceOp2, InplaceOp3, Layout, Tensor, Var, bail};

use crate::dispatch::kernel;
use crate::par::{self, at};
use crate::softplus::f32_data;

/// The contiguous f32 data of a CPU storage, mutably.
pub(crate) fn f32_data_mut<'a>(
    storage: &'a mut CpuStorage,
    layout: &Layout,
    op: &str,
) -> candle_core::Result<&'a mut [f32]> {
    let CpuStorage::F32(data) = storage else { bail!("{op}: expects f32 tensors") };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&mut data[start..end]),
        None => bail!("{op}: expects contiguous tensors"),
    }
}

/// One SGD step with momentum as PyTorch does it, in place: v ← m·v + g, then w ← w − lr·v.
/// `velocity` starts as zeros of the variable's shape and is owned by the caller.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// let dev = Device::Cpu;
/// let w = Var::new(&[1.0_f32, 2.0], &dev)?;
/// let v = Tensor::zeros(2, candle_core::DType::F32, &dev)?;
/// let g = Tensor::new(&[0.5_f32, -1.0], &dev)?;
/// pacbayes_nn::sgd_momentum_step(&w, &v, &g, 0.1, 0.9)?;
/// assert_eq!(w.to_vec1::<f32>()?, [0.95, 2.1]);
/// # Ok::<(), candle_core::Error>(())
/// ```
///
/// # Errors
/// Tensors that are not contiguous f32 on the CPU, or of different sizes.
pub fn sgd_momentum_step(
    var: &Var,
    velocity: &Tensor,
    grad: &Tensor,
    learning_rate: f64,
    momentum: f64,
) -> candle_core::Result<()> {
    velocity.inplace_op2(&grad.contiguous()?, &Momentum { momentum: momentum as f32 })?;
    var.as_tensor().inplace_op2(velocity, &Descend { learning_rate: learning_rate as f32 })
}

/// v ← m·v + g.
struct Momentum {
    momentum: f32,
}

impl InplaceOp2 for Momentum {
    fn name(&self) -> &'static str {
        "sgd-momentum"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (v, g) = (f32_data_mut(s1, l1, self.name())?, f32_data(s2, l2, self.name())?);
        if v.len() != g.len() {
            bail!("{}: {} values and {} gradients", self.name(), v.len(), g.len());
        }
        let momentum = self.momentum;
        par::fill(v, |start, v| kernel!(momentum_block(momentum, v, at(g, start, v.len()))));
        Ok(())
    }
}

/// v ← m·v + g, elementwise.
#[inline(always)]
pub(crate) fn momentum_block(momentum: f32, v: &mut [f32], g: &[f32]) {
    v.iter_mut().zip(g).for_each(|(v, &g)| *v = momentum * *v + g);
}

/// w ← w − lr·v.
pub(crate) struct Descend {
    pub(crate) learning_rate: f32,
}

impl InplaceOp2 for Descend {
    fn name(&self) -> &'static str {
        "sgd-descend"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (w, v) = (f32_data_mut(s1, l1, self.name())?, f32_data(s2, l2, self.name())?);
        if w.len() != v.len() {
            bail!("{}: {} values and {} steps", self.name(), w.len(), v.len());
        }
        let lr = self.learning_rate;
        par::fill(w, |start, w| kernel!(descend_block(lr, w, at(v, start, w.len()))));
        Ok(())
    }
}

/// w ← w − lr·v, elementwise.
#[inline(always)]
fn descend_block(learning_rate: f32, w: &mut [f32], v: &[f32]) {
    w.iter_mut().zip(v).for_each(|(w, &v)| *w -= learning_rate * v);
}

/// Adam's settings for [`adam_step`].
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    /// The learning rate.
    pub learning_rate: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to √v̂ in the denominator.
    pub epsilon: f64,
    /// The step count, from 1 (for the bias corrections).
    pub t: u32,
}

/// One Adam step (no weight decay) in place: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², then
/// w ← w − lr·m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). The moments start as zeros of the
/// variable's shape and are owned by the caller.
///
/// # Errors
/// Tensors that are not contiguous f32 on the CPU, or of different sizes.
pub fn adam_step(
    var: &Var,
    m: &Tensor,
    v: &Tensor,
    grad: &Tensor,
    step: AdamStep,
) -> candle_core::Result<()> {
    let grad = grad.contiguous()?;
    m.inplace_op2(&grad, &Moment { decay: step.beta1 as f32, square: false })?;
    v.inplace_op2(&grad, &Moment { decay: step.beta2 as f32, square: true })?;
    var.as_tensor().inplace_op3(m, v, &AdamDescend(step))
}

/// m ← β·m + (1 − β)·g (or g²).
struct Moment {
    decay: f32,
    square: bool,
}

impl InplaceOp2 for Moment {
    fn name(&self) -> &'static str {
        "adam-moment"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (m, g) = (f32_data_mut(s1, l1, self.name())?, f32_data(s2, l2, self.name())?);
        if m.len() != g.len() {
            bail!("{}: {} values and {} gradients", self.name(), m.len(), g.len());
        }
        let (decay, square) = (self.decay, self.square);
        par::fill(m, |start, m| kernel!(moment_block(decay, square, m, at(g, start, m.len()))));
        Ok(())
    }
}

/// m ← β·m + (1 − β)·g (or g² when `square`), elementwise.
#[inline(always)]
fn moment_block(decay: f32, square: bool, m: &mut [f32], g: &[f32]) {
    let (b, c) = (decay, 1.0 - decay);
    if square {
        m.iter_mut().zip(g).for_each(|(m, &g)| *m = b * *m + c * (g * g));
    } else {
        m.iter_mut().zip(g).for_each(|(m, &g)| *m = b * *m + c * g);
    }
}

/// w ← w − lr·m̂/(√v̂ + ε).
struct AdamDescend(AdamStep);

impl InplaceOp3 for AdamDescend {
    fn name(&self) -> &'static str {
        "adam-descend"
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
        let w = f32_data_mut(s1, l1, self.name())?;
        let (m, v) = (f32_data(s2, l2, self.name())?, f32_data(s3, l3, self.name())?);
        if w.len() != m.len() || w.len() != v.len() {
            bail!("{}: {}, {} and {} values", self.name(), w.len(), m.len(), v.len());
        }
        let s = self.0;
        let t = i32::try_from(s.t).unwrap_or(i32::MAX);
        let m_scale = (1.0 / (1.0 - s.beta1.powi(t))) as f32;
        let v_scale = (1.0 / (1.0 - s.beta2.powi(t))) as f32;
        let scales = AdamScales { lr: s.learning_rate as f32, eps: s.epsilon as f32, m_scale, v_scale };
        par::fill(w, |start, w| {
            let n = w.len();
            kernel!(adam_descend_block(scales, w, at(m, start, n), at(v, start, n)));
        });
        Ok(())
    }
}

/// The step's constants of [`adam_descend_block`]: w ← w − lr·(m·m_scale)/(√(v·v_scale) + ε).
#[derive(Debug, Clone, Copy)]
struct AdamScales {
    lr: f32,
    eps: f32,
    m_scale: f32,
    v_scale: f32,
}

/// w ← w − lr·m̂/(√v̂ + ε), elementwise.
#[inline(always)]
fn adam_descend_block(s: AdamScales, w: &mut [f32], m: &[f32], v: &[f32]) {
    for ((w, &m), &v) in w.iter_mut().zip(m).zip(v) {
        *w -= s.lr * (m * s.m_scale) / ((v * s.v_scale).sqrt() + s.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn close(a: &Tensor, b: &Tensor) -> bool {
        let (a, b) = (a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-6 * (1.0 + y.abs()))
    }

    /// Each update gives the same bits run with AVX2 and FMA as with the baseline instruction set,
    /// on values with edges (±0, subnormals, ±∞, NaN).
    #[test]
    fn passes_give_the_same_bits_on_either_instruction_set() {
        use crate::dispatch::{assert_same_bits, both, edge_values};
        let (w0, v0, g) =
            (edge_values(2049, 1.0, 17), edge_values(2049, 1e-3, 18), edge_values(2049, 1.0, 19));
        let v_sq: Vec<f32> = v0.iter().map(|v| v * v).collect();
        let (base, fast) = both(
            #[inline(always)]
            || {
                let (mut v, mut w, mut m1, mut m2, mut wa) =
                    (v0.clone(), w0.clone(), v0.clone(), v_sq.clone(), w0.clone());
                momentum_block(0.9, &mut v, &g);
                descend_block(1e-3, &mut w, &v);
                moment_block(0.9, false, &mut m1, &g);
                moment_block(0.999, true, &mut m2, &g);
                let scales = AdamScales { lr: 1e-3, eps: 1e-8, m_scale: 10.0, v_scale: 1000.5 };
                adam_descend_block(scales, &mut wa, &m1, &m2);
                [v, w, m1, m2, wa]
            },
        );
        for ((b, f), what) in base.iter().zip(&fast).zip(["velocity", "sgd", "m", "v", "adam"]) {
            assert_same_bits(what, b, f);
        }
    }

    #[test]
    fn in_place_updates_match_the_candle_formulas() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(9);
        let w0 = Tensor::from_vec(noise.standard_normal(37), 37, &dev)?;
        let (sgd, adam) = (Var::from_tensor(&w0)?, Var::from_tensor(&w0)?);
        let (mut w_sgd, mut w_adam) = (w0.clone(), w0.clone());
        let zeros = || w0.zeros_like();
        let (vel, m, v) = (zeros()?, zeros()?, zeros()?);
        let (mut vel_ref, mut m_ref, mut v_ref) = (zeros()?, zeros()?, zeros()?);
        for t in 1..=3 {
            let g = Tensor::from_vec(noise.standard_normal(37), 37, &dev)?;
            sgd_momentum_step(&sgd, &vel, &g, 0.1, 0.9)?;
            vel_ref = ((&vel_ref * 0.9)? + &g)?;
            w_sgd = (&w_sgd - (&vel_ref * 0.1)?)?;
            let step = AdamStep { learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, t };
            adam_step(&adam, &m, &v, &g, step)?;
            m_ref = ((&m_ref * 0.9)? + (&g * 0.1)?)?;
            v_ref = ((&v_ref * 0.999)? + (g.sqr()? * 0.001)?)?;
            let m_hat = (&m_ref / (1.0 - 0.9_f64.powi(t as i32)))?;
            let v_hat = (&v_ref / (1.0 - 0.999_f64.powi(t as i32)))?;
            w_adam = (&w_adam - ((m_hat / (v_hat.sqrt()? + 1e-8)?)? * 0.01)?)?;
        }
        assert!(close(&vel, &vel_ref) && close(sgd.as_tensor(), &w_sgd));
        assert!(close(&m, &m_ref) && close(&v, &v_ref) && close(adam.as_tensor(), &w_adam));
        assert!(!close(sgd.as_tensor(), &w0), "the variable moved");
        Ok(())
    }
}
