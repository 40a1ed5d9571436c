//! Convolution as a matrix product: unfold the input's k×k patches into columns (im2col) and
//! multiply by the kernel.
//!
//! candle's CPU convolution runs its backward pass through a direct transposed convolution, which
//! is an order of magnitude slower than a matrix product of the same size. Unfolding by hand makes the
//! forward pass and both gradients (kernel and input) batched matrix products, and lets every example
//! of a batch use its own kernel when the kernels are drawn per example.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Device, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::softplus::f32_data;

/// The sizes of an unfolding: input (batch, channels, height, width), square kernel of side k,
/// stride 1, no padding.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    kernel: usize,
}

impl Geometry {
    fn of(shape: &Shape, kernel: usize) -> candle_core::Result<Self> {
        let &[batch, channels, height, width] = shape.dims() else {
            bail!("im2col: expects (batch, channels, height, width), got {shape:?}")
        };
        if kernel == 0 || kernel > height || kernel > width {
            bail!("im2col: kernel {kernel} does not fit a {height}×{width} input");
        }
        Ok(Self { batch, channels, height, width, kernel })
    }

    fn out_h(&self) -> usize {
        self.height - self.kernel + 1
    }

    fn out_w(&self) -> usize {
        self.width - self.kernel + 1
    }

    /// Rows of one example's column matrix: channels · k · k.
    fn rows(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    /// Columns of one example's column matrix: output positions.
    fn positions(&self) -> usize {
        self.out_h() * self.out_w()
    }

    fn image(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Calls `f(row, input offset, output offset)` for every row segment of one example: row
    /// (c, i, j) at output row `oh` reads `out_w` values of input row `oh + i` from column `j`.
    fn for_each_segment(&self, mut f: impl FnMut(usize, usize, usize)) {
        let (k, ow) = (self.kernel, self.out_w());
        for c in 0..self.channels {
            for i in 0..k {
                for j in 0..k {
                    let row = (c * k + i) * k + j;
                    for oh in 0..self.out_h() {
                        let input = (c * self.height + oh + i) * self.width + j;
                        f(row, input, row * self.positions() + oh * ow);
                    }
                }
            }
        }
    }
}

/// Unfolds x of shape (batch, channels, h, w) into columns of shape
/// (batch, channels·k·k, (h−k+1)·(w−k+1)): entry ((c·k + i)·k + j, oh·(w−k+1) + ow) of example b
/// is x[b, c, oh + i, ow + j]. A kernel of shape (out, channels, k, k) reshaped to
/// (out, channels·k·k) times this matrix is the convolution, output (out, positions).
///
/// # Errors
/// An input that is not 4-d f32 on the CPU, or a kernel larger than the image.
pub fn im2col(x: &Tensor, kernel: usize) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1(Im2Col { kernel })
}

struct Im2Col {
    kernel: usize,
}

/// The column matrices of a batch of images, as [`im2col`] lays them out.
fn unfold(x: &[f32], g: Geometry) -> Vec<f32> {
    let per_example = g.rows() * g.positions();
    let mut cols = vec![0f32; g.batch * per_example];
    let ow = g.out_w();
    cols.par_chunks_mut(per_example).zip(x.par_chunks(g.image())).for_each(|(out, image)| {
        g.for_each_segment(|_, input, output| {
            out[output..output + ow].copy_from_slice(&image[input..input + ow]);
        });
    });
    cols
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_data(storage, layout, self.name())?;
        let g = Geometry::of(layout.shape(), self.kernel)?;
        Ok((CpuStorage::F32(unfold(x, g)), Shape::from((g.batch, g.rows(), g.positions()))))
    }

    fn bwd(&self, x: &Tensor, _cols: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        if !x.track_op() {
            // The input is data (the first layer): no gradient is needed.
            return Ok(None);
        }
        let col2im = Col2Im { kernel: self.kernel, input: x.shape().clone() };
        Ok(Some(grad.contiguous()?.apply_op1_no_bwd(&col2im)?))
    }
}

/// The adjoint of [`Im2Col`]: sums the columns back into the input positions they were read from.
struct Col2Im {
    kernel: usize,
    input: Shape,
}

impl CustomOp1 for Col2Im {
    fn name(&self) -> &'static str {
        "col2im"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let cols = f32_data(storage, layout, self.name())?;
        let g = Geometry::of(&self.input, self.kernel)?;
        let per_example = g.rows() * g.positions();
        if cols.len() != g.batch * per_example {
            bail!("col2im: {} values for an input of shape {:?}", cols.len(), self.input);
        }
        let mut x = vec![0f32; g.batch * g.image()];
        let ow = g.out_w();
        x.par_chunks_mut(g.image()).zip(cols.par_chunks(per_example)).for_each(|(image, cols)| {
            g.for_each_segment(|_, input, output| {
                for (dst, src) in image[input..input + ow].iter_mut().zip(&cols[output..output + ow]) {
                    *dst += src;
                }
            });
        });
        Ok((CpuStorage::F32(x), self.input.clone()))
    }
}

/// x (batch, in, h, w) ↦ w·im2col(x) of shape (batch, out, positions) for one kernel w
/// (out, in, k, k), as one graph node: the column matrices are an internal buffer, kept for the
/// backward pass, instead of a graph node of their own (which would cost a zero-filled gradient
/// and an addition the size of the columns, 166 MB for the second MNIST convolution at batch 250).
struct UnfoldedConv {
    kernel: usize,
    cols: Mutex<Option<Tensor>>,
    /// Whether a backward pass may come (an input tracks gradients), so the columns are kept.
    keep: bool,
}

impl CustomOp2 for UnfoldedConv {
    fn name(&self) -> &'static str {
        "unfolded-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, w) = (f32_data(s1, l1, self.name())?, f32_data(s2, l2, self.name())?);
        let g = Geometry::of(l1.shape(), self.kernel)?;
        let out = l2.shape().dims().first().copied().unwrap_or(0);
        if w.len() != out * g.rows() {
            bail!("{}: kernel {:?} does not fit input {:?}", self.name(), l2.shape(), l1.shape());
        }
        let device = Device::Cpu;
        let cols = Tensor::from_vec(unfold(x, g), (g.batch, g.rows(), g.positions()), &device)?;
        let w = Tensor::from_slice(w, (out, g.rows()), &device)?;
        let y = w.broadcast_left(g.batch)?.matmul(&cols)?.flatten_all()?.to_vec1::<f32>()?;
        if self.keep {
            if let Ok(mut kept) = self.cols.lock() {
                *kept = Some(cols);
            }
        }
        Ok((CpuStorage::F32(y), Shape::from((g.batch, out, g.positions()))))
    }

    /// ∂L/∂w = Σ_b ∂L/∂y_b · cols_bᵀ and ∂L/∂x = col2im(wᵀ · ∂L/∂y_b) (only when x needs it).
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let kept = self.cols.lock().ok().and_then(|mut c| c.take());
        let cols = match kept {
            Some(cols) => cols,
            None => x.apply_op1_no_bwd(&Im2Col { kernel: self.kernel })?,
        };
        let (batch, out, rows) = (cols.dim(0)?, w.dim(0)?, cols.dim(1)?);
        let grad = grad.contiguous()?;
        let grad_w = grad.matmul(&cols.t()?)?.sum(0)?.reshape(w.shape())?;
        let grad_x = if x.track_op() {
            let grad_cols = w.reshape((out, rows))?.t()?.broadcast_left(batch)?.matmul(&grad)?;
            let col2im = Col2Im { kernel: self.kernel, input: x.shape().clone() };
            Some(grad_cols.apply_op1_no_bwd(&col2im)?)
        } else {
            None
        };
        Ok((grad_x, Some(grad_w)))
    }
}

/// conv(x, w) + b with x (batch, in, h, w), w (out, in, k, k) or, one kernel per example,
/// (batch, out, in, k, k), and b (out) or (batch, out); stride 1, no padding. Output
/// (batch, out, h−k+1, w−k+1).
///
/// # Errors
/// Shapes that do not fit, or a candle failure.
pub fn conv2d(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let (batch, _, h, wd) = x.dims4()?;
    let per_example = w.rank() == 5;
    let dims = w.dims();
    let (out, k) = if per_example { (dims[1], dims[3]) } else { (dims[0], dims[2]) };
    let y = if per_example {
        let cols = im2col(x, k)?;
        w.reshape((batch, out, cols.dim(1)?))?.matmul(&cols)?
    } else {
        let keep = x.track_op() || w.track_op();
        x.contiguous()?
            .apply_op2(&w.contiguous()?, UnfoldedConv { kernel: k, cols: Mutex::new(None), keep })?
    };
    let (oh, ow) = (h - k + 1, wd - k + 1);
    let bias = if b.rank() == 2 { b.reshape((batch, out, 1))? } else { b.reshape((1, out, 1))? };
    y.broadcast_add(&bias)?.reshape((batch, out, oh, ow))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    #[test]
    fn matches_candle_convolution_forward_and_backward() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(3);
        let x = Var::from_vec(noise.standard_normal(2 * 3 * 7 * 6), (2, 3, 7, 6), &dev)?;
        let w = Var::from_vec(noise.standard_normal(4 * 3 * 3 * 3), (4, 3, 3, 3), &dev)?;
        let b = Var::from_vec(noise.standard_normal(4), 4, &dev)?;
        let ours = conv2d(x.as_tensor(), w.as_tensor(), b.as_tensor())?;
        let theirs = x.conv2d(&w, 0, 1, 1, 1)?.broadcast_add(&b.reshape((1, 4, 1, 1))?)?;
        assert_eq!(ours.dims(), theirs.dims());
        let weights = Tensor::from_vec(noise.standard_normal(ours.elem_count()), ours.shape(), &dev)?;
        let g1 = (&ours * &weights)?.sum_all()?.backward()?;
        let g2 = (&theirs * &weights)?.sum_all()?.backward()?;
        let close = |a: &Tensor, b: &Tensor| {
            values(a).iter().zip(values(b)).all(|(p, q)| (p - q).abs() <= 1e-4 * (1.0 + q.abs()))
        };
        assert!(close(&ours, &theirs));
        for var in [&x, &w, &b] {
            let (a, b) = (g1.get(var).expect("gradient"), g2.get(var).expect("gradient"));
            assert!(close(a, b), "gradients differ");
        }
        Ok(())
    }

    #[test]
    fn per_example_kernels_match_one_convolution_per_example() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(4);
        let x = Tensor::from_vec(noise.standard_normal(3 * 2 * 5 * 5), (3, 2, 5, 5), &dev)?;
        let w = Tensor::from_vec(noise.standard_normal(3 * 4 * 2 * 2 * 2), (3, 4, 2, 2, 2), &dev)?;
        let b = Tensor::from_vec(noise.standard_normal(3 * 4), (3, 4), &dev)?;
        let all = conv2d(&x, &w, &b)?;
        for e in 0..3 {
            let one = conv2d(&x.narrow(0, e, 1)?, &w.get(e)?, &b.get(e)?)?;
            let a = values(&all.narrow(0, e, 1)?);
            assert!(a.iter().zip(values(&one)).all(|(p, q)| (p - q).abs() <= 1e-5 * (1.0 + q.abs())));
        }
        Ok(())
    }
}
