//! The convolution of a batch with one kernel and bias, as one matrix product over the whole batch.
//!
//! The batch's k×k patches are unfolded into one column matrix of shape
//! (channels·k·k, batch·positions), so that the forward pass is the single product
//! (out, channels·k·k) × (channels·k·k, batch·positions) and the kernel's gradient the single
//! product of the output gradient (out, batch·positions) with the columns transposed. Per-example
//! column matrices would make these 250 small products and, for the gradient, a sum over the batch
//! of a (batch, out, channels·k·k) tensor. The input's gradient, when the input needs one, is
//! computed a few examples at a time, so that its column matrix (166 MB for the second MNIST
//! convolution at batch 250) is never allocated whole. The bias is added, and its gradient summed,
//! in the passes that reorder the output and its gradient between the product's layout and
//! (batch, out, h, w), so that the convolution is one node of the graph.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, Device, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::im2col::Geometry;
use crate::kl::with_f32;
use crate::softplus::f32_data;

/// Examples whose input gradient is computed together.
const EXAMPLES_PER_CHUNK: usize = 25;

/// The columns of the examples of `x` (a batch of images) as one matrix of shape
/// (rows, examples·positions): entry (row, e·positions + p) is example e's entry (row, p) of
/// [`crate::im2col`].
fn unfold(x: &[f32], g: Geometry) -> Vec<f32> {
    let (positions, ow) = (g.positions(), g.out_w());
    let width = g.batch * positions;
    let mut cols = vec![0f32; g.rows() * width];
    cols.par_chunks_mut(width).enumerate().for_each(|(row, strip)| {
        for (e, image) in x.chunks(g.image()).enumerate() {
            g.row_segments(row, |input, output| {
                let at = e * positions + output;
                strip[at..at + ow].copy_from_slice(&image[input..input + ow]);
            });
        }
    });
    cols
}

/// Adds the columns `cols` (rows, examples·positions) of `images.len() / g.image()` examples back
/// into the input positions they were read from: the adjoint of [`unfold`].
fn fold_into(images: &mut [f32], cols: &[f32], g: Geometry) {
    let (positions, ow) = (g.positions(), g.out_w());
    let width = images.len() / g.image() * positions;
    images.par_chunks_mut(g.image()).enumerate().for_each(|(e, image)| {
        for (row, strip) in cols.chunks(width).enumerate() {
            g.row_segments(row, |input, output| {
                let at = e * positions + output;
                for (dst, src) in image[input..input + ow].iter_mut().zip(&strip[at..at + ow]) {
                    *dst += src;
                }
            });
        }
    });
}

/// (a, b, c) ↦ (b, a, c): swaps the two leading axes of a contiguous array, adding `shift[i]` to
/// the values of index i of the first axis when `shift` is given (its length is `a`).
fn swap_leading(data: &[f32], (a, b, c): (usize, usize, usize), shift: Option<&[f32]>) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    out.par_chunks_mut(a * c).enumerate().for_each(|(j, block)| {
        for (i, dst) in block.chunks_mut(c).enumerate() {
            let src = &data[(i * b + j) * c..(i * b + j + 1) * c];
            match shift {
                Some(shift) => dst.iter_mut().zip(src).for_each(|(d, s)| *d = s + shift[i]),
                None => dst.copy_from_slice(src),
            }
        }
    });
    out
}

/// The sum of each row of a contiguous (rows, width) array, in f64.
fn row_sums(data: &[f32], width: usize) -> Vec<f32> {
    data.par_chunks(width).map(|row| row.iter().map(|&v| f64::from(v)).sum::<f64>() as f32).collect()
}

/// (x, w, b) ↦ w·im2col(x) + b of shape (batch, out, h − k + 1, w − k + 1) for x (batch, in, h, w),
/// one kernel w (out, in, k, k) and a bias b (out), as one graph node: the columns are an internal
/// buffer, kept for the backward pass, instead of a graph node of their own (which would cost a
/// zero-filled gradient and an addition the size of the columns).
pub(crate) struct UnfoldedConv {
    kernel: usize,
    cols: Mutex<Option<Tensor>>,
    /// Whether a backward pass may come (an input tracks gradients), so the columns are kept.
    keep: bool,
}

/// conv(x, w) + b of shape (batch, out, h − k + 1, w − k + 1) for x (batch, in, h, w), one kernel
/// w (out, in, k, k) and a bias b (out), stride 1, no padding.
pub(crate) fn conv(x: &Tensor, w: &Tensor, b: &Tensor, kernel: usize) -> candle_core::Result<Tensor> {
    let keep = x.track_op() || w.track_op() || b.track_op();
    let op = UnfoldedConv { kernel, cols: Mutex::new(None), keep };
    x.contiguous()?.apply_op3(&w.contiguous()?, &b.contiguous()?, op)
}

impl CustomOp3 for UnfoldedConv {
    fn name(&self) -> &'static str {
        "unfolded-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, w) = (f32_data(s1, l1, self.name())?, f32_data(s2, l2, self.name())?);
        let bias = f32_data(s3, l3, self.name())?;
        let g = Geometry::of(l1.shape(), self.kernel)?;
        let out = l2.shape().dims().first().copied().unwrap_or(0);
        if w.len() != out * g.rows() || bias.len() != out {
            bail!(
                "{}: kernel {:?} and bias {:?} do not fit input {:?}",
                self.name(),
                l2.shape(),
                l3.shape(),
                l1.shape()
            );
        }
        let device = Device::Cpu;
        let cols = Tensor::from_vec(unfold(x, g), (g.rows(), g.batch * g.positions()), &device)?;
        let y = Tensor::from_slice(w, (out, g.rows()), &device)?.matmul(&cols)?;
        let y = with_f32(&y, |y| Ok(swap_leading(y, (out, g.batch, g.positions()), Some(bias))))?;
        if self.keep {
            if let Ok(mut kept) = self.cols.lock() {
                *kept = Some(cols);
            }
        }
        Ok((CpuStorage::F32(y), Shape::from((g.batch, out, g.out_h(), g.out_w()))))
    }

    /// ∂L/∂w = ∂L/∂y · colsᵀ over the whole batch, ∂L/∂b the sums of ∂L/∂y over examples and
    /// positions, and ∂L/∂x = fold(wᵀ · ∂L/∂y) a chunk of examples at a time (only when x needs it).
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = Geometry::of(x.shape(), self.kernel)?;
        let (out, positions) = (w.dim(0)?, g.positions());
        let kept = self.cols.lock().ok().and_then(|mut c| c.take());
        let cols = match kept {
            Some(cols) => cols,
            None => {
                let unfolded = with_f32(&x.contiguous()?, |x| Ok(unfold(x, g)))?;
                Tensor::from_vec(unfolded, (g.rows(), g.batch * positions), x.device())?
            }
        };
        let grad = with_f32(&grad.contiguous()?, |grad| Ok(swap_leading(grad, (g.batch, out, positions), None)))?;
        let grad_b = Tensor::from_vec(row_sums(&grad, g.batch * positions), b.shape(), b.device())?;
        let grad = Tensor::from_vec(grad, (out, g.batch * positions), x.device())?;
        let grad_w = grad.matmul(&cols.t()?)?.reshape(w.shape())?;
        drop(cols);
        let grad_x = if x.track_op() {
            let w_t = w.reshape((out, g.rows()))?.t()?;
            let mut grad_x = vec![0f32; g.batch * g.image()];
            for (chunk, images) in grad_x.chunks_mut(EXAMPLES_PER_CHUNK * g.image()).enumerate() {
                let (first, n) = (chunk * EXAMPLES_PER_CHUNK, images.len() / g.image());
                let grad_cols = w_t.matmul(&grad.narrow(1, first * positions, n * positions)?)?;
                with_f32(&grad_cols, |cols| {
                    fold_into(images, cols, g);
                    Ok(())
                })?;
            }
            Some(Tensor::from_vec(grad_x, x.shape(), x.device())?)
        } else {
            None
        };
        Ok((grad_x, Some(grad_w), Some(grad_b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapping_the_leading_axes_twice_is_the_identity() {
        let data: Vec<f32> = (0..2 * 3 * 4).map(|i| i as f32).collect();
        let swapped = swap_leading(&data, (2, 3, 4), None);
        assert_eq!(swapped[4..8], data[12..16]); // (0, 1, ·) of the result is (1, 0, ·) of the input
        assert_eq!(swap_leading(&swapped, (3, 2, 4), None), data);
        let shifted = swap_leading(&data, (2, 3, 4), Some(&[10.0, 20.0]));
        let added = |i: usize| [10.0_f32, 20.0][i / 4 % 2];
        assert!(shifted.iter().zip(&swapped).enumerate().all(|(i, (s, d))| (s - d - added(i)).abs() < 1e-5));
        let sums = row_sums(&data[..8], 4);
        assert!((sums[0] - 6.0).abs() < 1e-6 && (sums[1] - 22.0).abs() < 1e-6);
    }

    /// The adjoint of the unfolding: ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩.
    #[test]
    fn folding_is_the_adjoint_of_unfolding() -> candle_core::Result<()> {
        let g = Geometry::of(&Shape::from((3, 2, 5, 4)), 2)?;
        let mut noise = crate::Noise::new(9);
        let x = noise.standard_normal(3 * g.image());
        let c = noise.standard_normal(g.rows() * 3 * g.positions());
        let lhs: f64 = unfold(&x, g).iter().zip(&c).map(|(a, b)| f64::from(a * b)).sum();
        let mut folded = vec![0f32; x.len()];
        fold_into(&mut folded, &c, g);
        let rhs: f64 = x.iter().zip(&folded).map(|(a, b)| f64::from(a * b)).sum();
        assert!((lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs()), "{lhs} vs {rhs}");
        Ok(())
    }
}
