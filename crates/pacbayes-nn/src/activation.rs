//! ReLU, ReLU followed by dropout, and ReLU followed by k×k max-pooling, as candle operations
//! whose backward pass is one pass over the gradient.
//!
//! candle's backward pass of `relu` builds a zero tensor, a comparison, a conversion and a
//! product, and that of `max_pool2d` an upsampling, an equality mask, an average pooling, a second
//! upsampling and two products: each a fresh allocation the size of the activations (37 MB for the
//! second MNIST convolution at batch 250). Here the gradient of the input is written once, from the
//! input and the gradient of the output.
//!
//! candle 0.11's `max_pool2d` gradient is also off: it multiplies the gradient by (number of
//! maxima in the window)/k², where it should divide by the number of maxima, so a unique maximum
//! of a 2×2 window gets a quarter of its gradient. Here it gets all of it, as in PyTorch.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::dispatch::kernel;
use crate::kl::with_f32;
use crate::par::{self, at};
use crate::softplus::f32_data;

/// max(x, 0) elementwise, differentiable, with gradient 1 where x > 0 and 0 elsewhere.
///
/// # Errors
/// A tensor that is not f32 on the CPU.
pub(crate) fn relu(x: &Tensor) -> candle_core::Result<Tensor> {
    if !x.device().is_cpu() {
        return crate::composed::relu(x);
    }
    x.contiguous()?.apply_op1(Relu { mask: None })
}

/// max(x, 0) ⊙ mask (a dropout mask of as many values as x), differentiable in x: ReLU then
/// dropout as one operation.
///
/// # Errors
/// A tensor that is not f32 on the CPU, or a mask of another size.
pub(crate) fn relu_masked(x: &Tensor, mask: Vec<f32>) -> candle_core::Result<Tensor> {
    if mask.len() != x.elem_count() {
        bail!("relu-dropout: {} mask values for {} activations", mask.len(), x.elem_count());
    }
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?;
    if !x.device().is_cpu() {
        return crate::composed::relu_masked(x, &mask);
    }
    x.contiguous()?.apply_op1(Relu { mask: Some(mask) })
}

struct Relu {
    mask: Option<Tensor>,
}

/// 1 where x > 0, else 0, without a branch (the signs of activations are data: a branch on them
/// is mispredicted half the time, and keeps the loop from being vectorized).
#[inline(always)]
fn positive(x: f32) -> f32 {
    f32::from(u8::from(x > 0.0))
}

impl Relu {
    /// Runs `f` on the mask's values (None without a mask).
    fn with_mask<R>(
        &self,
        f: impl FnOnce(Option<&[f32]>) -> candle_core::Result<R>,
    ) -> candle_core::Result<R> {
        match &self.mask {
            Some(mask) => with_f32(mask, |m| f(Some(m))),
            None => f(None),
        }
    }
}

impl CustomOp1 for Relu {
    fn name(&self) -> &'static str {
        "relu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_data(storage, layout, self.name())?;
        let y = self.with_mask(|mask| Ok(relu_values(x, mask)))?;
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let (x, grad) = (x.contiguous()?, grad.contiguous()?);
        let grad_x =
            with_f32(&x, |x| with_f32(&grad, |g| self.with_mask(|mask| Ok(relu_gradient(x, g, mask)))))?;
        Ok(Some(Tensor::from_vec(grad_x, x.shape(), x.device())?))
    }
}

/// max(0, max of each k×k window) for x of shape (batch, channels, h, w): shape
/// (batch, channels, ⌊h/k⌋, ⌊w/k⌋), the same as ReLU then max-pooling with stride k. The gradient
/// goes to the first maximum of each window (row by row) when it is positive.
///
/// # Errors
/// A tensor that is not 4-d f32 on the CPU, or a window larger than the image.
pub(crate) fn relu_max_pool2d(x: &Tensor, k: usize) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    if k == 0 || k > h || k > w {
        bail!("relu-max-pool2d: window {k} does not fit a {h}×{w} input");
    }
    if !x.device().is_cpu() {
        return crate::composed::relu_max_pool2d(x, k);
    }
    x.contiguous()?.apply_op1(ReluMaxPool { k })
}

struct ReluMaxPool {
    k: usize,
}

impl CustomOp1 for ReluMaxPool {
    fn name(&self) -> &'static str {
        "relu-max-pool2d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_data(storage, layout, self.name())?;
        let dims = layout.shape().dims4()?;
        let y = relu_max_pool_values(x, dims, self.k);
        let (b, c, oh, ow) = Activation::ReluMaxPool(self.k).output_dims(dims);
        Ok((CpuStorage::F32(y), Shape::from((b, c, oh, ow))))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let (x, grad) = (x.contiguous()?, grad.contiguous()?);
        let dims = x.dims4()?;
        let grad_x = with_f32(&x, |x| with_f32(&grad, |g| Ok(relu_max_pool_gradient(x, g, dims, self.k))))?;
        Ok(Some(Tensor::from_vec(grad_x, x.shape(), x.device())?))
    }
}

/// What a convolution's own operation applies to its output (see [`crate::conv`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Activation {
    /// max(x, 0).
    Relu,
    /// ReLU then k×k max-pooling with stride k.
    ReluMaxPool(usize),
}

impl Activation {
    /// The output's dimensions for an input of dimensions (batch, channels, h, w).
    pub(crate) fn output_dims(
        self,
        (b, c, h, w): (usize, usize, usize, usize),
    ) -> (usize, usize, usize, usize) {
        match self {
            Activation::Relu => (b, c, h, w),
            Activation::ReluMaxPool(k) => (b, c, h / k, w / k),
        }
    }

    /// The activation of `x`, of dimensions `dims` (batch, channels, h, w).
    pub(crate) fn forward(self, x: &[f32], dims: (usize, usize, usize, usize)) -> Vec<f32> {
        match self {
            Activation::Relu => relu_values(x, None),
            Activation::ReluMaxPool(k) => relu_max_pool_values(x, dims, k),
        }
    }

    /// ∂L/∂x from x and ∂L/∂y.
    pub(crate) fn backward(self, x: &[f32], grad: &[f32], dims: (usize, usize, usize, usize)) -> Vec<f32> {
        match self {
            Activation::Relu => relu_gradient(x, grad, None),
            Activation::ReluMaxPool(k) => relu_max_pool_gradient(x, grad, dims, k),
        }
    }
}

/// max(x, 0) ⊙ mask (or max(x, 0) without a mask).
fn relu_values(x: &[f32], mask: Option<&[f32]>) -> Vec<f32> {
    par::map(x.len(), |start, y| {
        let n = y.len();
        kernel!(relu_block(at(x, start, n), mask.map(|m| at(m, start, n)), y));
    })
}

/// max(x, 0) ⊙ mask (or max(x, 0) without a mask), into `y`.
#[inline(always)]
fn relu_block(x: &[f32], mask: Option<&[f32]>, y: &mut [f32]) {
    match mask {
        Some(mask) => {
            for ((y, &x), &m) in y.iter_mut().zip(x).zip(mask) {
                *y = x.max(0.0) * m;
            }
        }
        None => {
            for (y, &x) in y.iter_mut().zip(x) {
                *y = x.max(0.0);
            }
        }
    }
}

/// ∂L/∂y ⊙ mask where x > 0, else 0 (without a mask: ∂L/∂y where x > 0).
fn relu_gradient(x: &[f32], grad: &[f32], mask: Option<&[f32]>) -> Vec<f32> {
    par::map(x.len(), |start, out| {
        let n = out.len();
        kernel!(relu_gradient_block(at(x, start, n), at(grad, start, n), mask.map(|m| at(m, start, n)), out));
    })
}

/// The pass of [`relu_gradient`] into `out`.
#[inline(always)]
fn relu_gradient_block(x: &[f32], g: &[f32], mask: Option<&[f32]>, out: &mut [f32]) {
    match mask {
        Some(mask) => {
            for (o, ((&x, &g), &m)) in out.iter_mut().zip(x.iter().zip(g).zip(mask)) {
                *o = g * m * positive(x);
            }
        }
        None => {
            for (o, (&x, &g)) in out.iter_mut().zip(x.iter().zip(g)) {
                *o = g * positive(x);
            }
        }
    }
}

/// For each k×k window of an (h×w) plane, calls `f(window index, offset of its first maximum in
/// the plane, maximum)`.
fn windows(plane: &[f32], (h, w): (usize, usize), k: usize, mut f: impl FnMut(usize, usize, f32)) {
    let (oh, ow) = (h / k, w / k);
    for i in 0..oh {
        for j in 0..ow {
            let (mut best, mut at) = (f32::NEG_INFINITY, (i * k) * w + j * k);
            for di in 0..k {
                let row = (i * k + di) * w + j * k;
                for (dj, &v) in plane[row..row + k].iter().enumerate() {
                    if v > best {
                        (best, at) = (v, row + dj);
                    }
                }
            }
            f(i * ow + j, at, best);
        }
    }
}

/// max(0, max of each k×k window) of `x`, of dimensions (b, c, h, w).
fn relu_max_pool_values(x: &[f32], (b, c, h, w): (usize, usize, usize, usize), k: usize) -> Vec<f32> {
    let (oh, ow) = (h / k, w / k);
    let mut y = vec![0.0_f32; b * c * oh * ow];
    y.par_chunks_mut(oh * ow).zip(x.par_chunks(h * w)).for_each(|(y, plane)| {
        windows(plane, (h, w), k, |o, _, max| y[o] = max.max(0.0));
    });
    y
}

/// ∂L/∂x of [`relu_max_pool_values`]: each window's gradient goes to its first maximum, when positive.
fn relu_max_pool_gradient(
    x: &[f32],
    grad: &[f32],
    (_, _, h, w): (usize, usize, usize, usize),
    k: usize,
) -> Vec<f32> {
    let pooled = (h / k) * (w / k);
    let mut grad_x = vec![0.0_f32; x.len()];
    let planes = grad_x.par_chunks_mut(h * w).zip(x.par_chunks(h * w)).zip(grad.par_chunks(pooled));
    planes.for_each(|((out, plane), g)| {
        windows(plane, (h, w), k, |o, at, max| {
            if max > 0.0 {
                out[at] = g[o];
            }
        });
    });
    grad_x
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    /// ReLU and its gradient, with and without a mask, give the same bits run with AVX2 and FMA as
    /// with the baseline instruction set, on inputs with edge values (±0, subnormals, ±∞, NaN).
    #[test]
    fn passes_give_the_same_bits_on_either_instruction_set() {
        use crate::dispatch::{assert_same_bits, both, edge_values};
        let (x, g) = (edge_values(4099, 1.0, 24), edge_values(4099, 1.0, 25));
        let mask: Vec<f32> = crate::Noise::new(26).dropout_mask(x.len(), 0.2);
        let (base, fast) = both(
            #[inline(always)]
            || {
                let mut outs = vec![vec![0.0_f32; x.len()]; 4];
                let [y, ym, d, dm] = &mut outs[..] else { unreachable!() };
                relu_block(&x, None, y);
                relu_block(&x, Some(&mask), ym);
                relu_gradient_block(&x, &g, None, d);
                relu_gradient_block(&x, &g, Some(&mask), dm);
                outs
            },
        );
        for ((b, f), what) in base.iter().zip(&fast).zip(["relu", "relu masked", "grad", "grad masked"]) {
            assert_same_bits(what, b, f);
        }
    }

    /// ReLU: values and gradients equal candle's `relu` (on inputs without zeros, where the two
    /// choose different subgradients).
    #[test]
    fn relu_matches_candle() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(8);
        let x = Var::from_vec(noise.standard_normal(3 * 70_001), (3, 70_001), &dev)?; // several chunks
        let (ours, theirs) = (relu(x.as_tensor())?, x.relu()?);
        assert_eq!(values(&ours), values(&theirs));
        let weights = Tensor::from_vec(noise.standard_normal(ours.elem_count()), ours.shape(), &dev)?;
        let g1 = (&ours * &weights)?.sum_all()?.backward()?;
        let g2 = (&theirs * &weights)?.sum_all()?.backward()?;
        assert_eq!(values(g1.get(&x).expect("gradient")), values(g2.get(&x).expect("gradient")));
        Ok(())
    }

    /// ReLU then dropout: values and gradients equal `relu(x) * mask` composed from candle
    /// operations.
    #[test]
    fn relu_then_dropout_matches_the_composed_operations() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(10);
        let n = 70_001;
        let x = Var::from_vec(noise.standard_normal(n), n, &dev)?;
        let mask = noise.dropout_mask(n, 0.2);
        let ours = relu_masked(x.as_tensor(), mask.clone())?;
        let theirs = x.relu()?.mul(&Tensor::from_vec(mask, n, &dev)?)?;
        assert_eq!(values(&ours), values(&theirs));
        let weights = Tensor::from_vec(noise.standard_normal(n), n, &dev)?;
        let g1 = (&ours * &weights)?.sum_all()?.backward()?;
        let g2 = (&theirs * &weights)?.sum_all()?.backward()?;
        assert_eq!(values(g1.get(&x).expect("gradient")), values(g2.get(&x).expect("gradient")));
        assert!(relu_masked(x.as_tensor(), vec![1.0; 3]).is_err());
        Ok(())
    }

    /// ReLU then max-pooling: values equal candle's `relu` then `max_pool2d`, and the gradient
    /// equals central finite differences of Σ weights ⊙ y, which is piecewise linear in x (with
    /// this seed no two values of a window, and no value and 0, are within the step of each other).
    /// candle 0.11's own `max_pool2d` gradient is not the reference: it multiplies the gradient by
    /// (number of maxima)/k², so a unique maximum gets a quarter of it with 2×2 windows.
    #[test]
    fn relu_max_pool_matches_candle_values_and_finite_differences() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(8);
        let shape = (2, 3, 7, 6); // 7 rows: the last one is left out by the 2×2 windows
        let data = noise.standard_normal(2 * 3 * 7 * 6);
        let x = Var::from_vec(data.clone(), shape, &dev)?;
        let y = relu_max_pool2d(x.as_tensor(), 2)?;
        assert_eq!(y.dims(), &[2, 3, 3, 3]);
        assert_eq!(values(&y), values(&x.relu()?.max_pool2d(2)?));
        let weights = Tensor::from_vec(noise.standard_normal(y.elem_count()), y.shape(), &dev)?;
        let grads = (&y * &weights)?.sum_all()?.backward()?;
        let grad = values(grads.get(&x).expect("gradient"));
        let w = values(&weights);
        // The pooled values are copies of inputs, so this sum in f64 has no f32 rounding.
        let f = |v: Vec<f32>| -> candle_core::Result<f64> {
            let y = values(&relu_max_pool2d(&Tensor::from_vec(v, shape, &dev)?, 2)?);
            Ok(y.iter().zip(&w).map(|(&y, &w)| f64::from(y) * f64::from(w)).sum())
        };
        let h = 1e-4_f32;
        for (i, &g) in grad.iter().enumerate() {
            let (mut plus, mut minus) = (data.clone(), data.clone());
            plus[i] += h;
            minus[i] -= h;
            let fd = ((f(plus)? - f(minus)?) / f64::from(plus_minus(data[i], h))) as f32;
            assert!(
                (g - fd).abs() <= 1e-2 * (1.0 + fd.abs()),
                "x[{i}]: gradient {g}, finite difference {fd}"
            );
        }
        assert!(grad.iter().filter(|g| g.abs() > 0.0).count() >= 9, "some windows pass a gradient");
        Ok(())
    }

    /// The f32 distance between x + h and x − h, as rounded.
    fn plus_minus(x: f32, h: f32) -> f32 {
        (x + h) - (x - h)
    }

    #[test]
    fn a_window_of_negatives_passes_no_gradient_and_ties_go_to_the_first() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let x = Var::from_vec(vec![-1.0_f32, -2.0, -3.0, -0.5, 2.0, 1.0, 2.0, 0.0], (1, 2, 2, 2), &dev)?;
        let y = relu_max_pool2d(x.as_tensor(), 2)?;
        assert_eq!(values(&y), [0.0, 2.0]);
        let grads = (y * 3.0)?.sum_all()?.backward()?;
        assert_eq!(values(grads.get(&x).expect("gradient")), [0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0]);
        assert!(relu_max_pool2d(x.as_tensor(), 3).is_err());
        Ok(())
    }
}
