//! Convolution as a matrix product: unfold the input's k×k patches into columns (im2col) and
//! multiply by the kernel.
//!
//! candle's CPU convolution runs its backward pass through a direct transposed convolution, which
//! is an order of magnitude slower than a matrix product of the same size. Unfolding by hand makes the
//! forward pass and both gradients (kernel and input) batched matrix products, and lets every example
//! of a batch use its own kernel when the kernels are drawn per example.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::activation::Activation;
use crate::softplus::f32_data;

/// The sizes of an unfolding: input (batch, channels, height, width), square kernel of side k,
/// stride 1, no padding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub(crate) batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    kernel: usize,
}

impl Geometry {
    pub(crate) fn of(shape: &Shape, kernel: usize) -> candle_core::Result<Self> {
        let &[batch, channels, height, width] = shape.dims() else {
            bail!("im2col: expects (batch, channels, height, width), got {shape:?}")
        };
        if kernel == 0 || kernel > height || kernel > width {
            bail!("im2col: kernel {kernel} does not fit a {height}×{width} input");
        }
        Ok(Self { batch, channels, height, width, kernel })
    }

    /// The same images and kernel for a batch of `batch` examples.
    pub(crate) fn with_batch(self, batch: usize) -> Self {
        Self { batch, ..self }
    }

    pub(crate) fn out_h(&self) -> usize {
        self.height - self.kernel + 1
    }

    pub(crate) fn out_w(&self) -> usize {
        self.width - self.kernel + 1
    }

    /// Rows of one example's column matrix: channels · k · k.
    pub(crate) fn rows(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    /// Columns of one example's column matrix: output positions.
    pub(crate) fn positions(&self) -> usize {
        self.out_h() * self.out_w()
    }

    pub(crate) fn image(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Calls `f(input offset, offset among the positions)` for every segment of row `row` =
    /// (c, i, j) of one example's column matrix: at output row `oh`, `out_w` values of input row
    /// `oh + i` from column `j`.
    pub(crate) fn row_segments(&self, row: usize, mut f: impl FnMut(usize, usize)) {
        let k = self.kernel;
        let (c, i, j) = (row / (k * k), (row / k) % k, row % k);
        for oh in 0..self.out_h() {
            f((c * self.height + oh + i) * self.width + j, oh * self.out_w());
        }
    }

    /// Calls `f(row, input offset, output offset)` for every row segment of one example: row
    /// (c, i, j) at output row `oh` reads `out_w` values of input row `oh + i` from column `j`.
    fn for_each_segment(&self, mut f: impl FnMut(usize, usize, usize)) {
        for row in 0..self.rows() {
            self.row_segments(row, |input, output| f(row, input, row * self.positions() + output));
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

/// conv(x, w) + b with x (batch, in, h, w), w (out, in, k, k) or, one kernel per example,
/// (batch, out, in, k, k), and b (out) or (batch, out); stride 1, no padding. Output
/// (batch, out, h−k+1, w−k+1).
///
/// # Errors
/// Shapes that do not fit, or a candle failure.
pub fn conv2d(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    conv2d_activated(x, w, b, None)
}

/// [`conv2d`] followed by `activation`, in the convolution's own operation when there is one
/// kernel for the batch.
pub(crate) fn conv2d_activated(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    activation: Option<Activation>,
) -> candle_core::Result<Tensor> {
    if !x.device().is_cpu() {
        return crate::composed::conv2d(x, w, b, activation);
    }
    let (batch, _, h, wd) = x.dims4()?;
    let per_example = w.rank() == 5;
    let dims = w.dims();
    let (out, k) = if per_example { (dims[1], dims[3]) } else { (dims[0], dims[2]) };
    if !per_example && b.rank() == 1 {
        return crate::conv::conv(x, w, b, k, activation);
    }
    let y = conv2d_unfolded(x, w, b, (batch, out, k), (h, wd))?;
    match activation {
        None => Ok(y),
        Some(Activation::Relu) => crate::activation::relu(&y),
        Some(Activation::ReluMaxPool(k)) => crate::activation::relu_max_pool2d(&y, k),
    }
}

/// conv(x, w) + b through the per-example column matrices of [`im2col`].
fn conv2d_unfolded(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    (batch, out, k): (usize, usize, usize),
    (h, wd): (usize, usize),
) -> candle_core::Result<Tensor> {
    let per_example = w.rank() == 5;
    let cols = im2col(x, k)?;
    let rows = cols.dim(1)?;
    let y = if per_example {
        w.reshape((batch, out, rows))?.matmul(&cols)?
    } else {
        w.reshape((out, rows))?.broadcast_left(batch)?.matmul(&cols)?
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
