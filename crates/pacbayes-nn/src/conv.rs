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

use std::borrow::Cow;
use std::sync::Mutex;

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Storage, Tensor, bail};
use rayon::prelude::*;

use crate::activation::Activation;
use crate::im2col::Geometry;
use crate::softplus::f32_data;

/// Examples unfolded together: 25 make a column matrix of 16.6 MB for the second MNIST
/// convolution, which is filled again for each chunk instead of allocated.
const EXAMPLES_PER_CHUNK: usize = 25;

/// Writes the columns of the examples of `x` (a batch of `g.batch` images) into `cols`, as one
/// matrix of shape (rows, examples·positions): entry (row, e·positions + p) is example e's entry
/// (row, p) of [`crate::im2col`].
fn unfold_into(cols: &mut [f32], x: &[f32], g: Geometry) {
    let (positions, ow) = (g.positions(), g.out_w());
    cols.par_chunks_mut(g.batch * positions).enumerate().for_each(|(row, strip)| {
        for (e, image) in x.chunks(g.image()).enumerate() {
            g.row_segments(row, |input, output| {
                let at = e * positions + output;
                strip[at..at + ow].copy_from_slice(&image[input..input + ow]);
            });
        }
    });
}

/// Adds the columns `cols` (rows, examples·positions) of `images.len() / g.image()` examples back
/// into the input positions they were read from: the adjoint of [`unfold_into`].
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

/// (a, b, c) ↦ (b, a, c): writes the contiguous array `data` with its two leading axes swapped
/// into `out`, adding `shift[i]` to the values of index i of the first axis when `shift` is given
/// (its length is `a`).
fn swap_leading_into(out: &mut [f32], data: &[f32], (a, b, c): (usize, usize, usize), shift: Option<&[f32]>) {
    out.par_chunks_mut(a * c).enumerate().for_each(|(j, block)| {
        for (i, dst) in block.chunks_mut(c).enumerate() {
            let src = &data[(i * b + j) * c..(i * b + j + 1) * c];
            match shift {
                Some(shift) => dst.iter_mut().zip(src).for_each(|(d, s)| *d = s + shift[i]),
                None => dst.copy_from_slice(src),
            }
        }
    });
}

/// Adds the sum of each row of a contiguous (rows, width) array to `sums`, in f64.
fn add_row_sums(sums: &mut [f64], data: &[f32], width: usize) {
    let partial: Vec<f64> =
        data.par_chunks(width).map(|row| row.iter().map(|&v| f64::from(v)).sum()).collect();
    sums.iter_mut().zip(partial).for_each(|(s, p)| *s += p);
}

/// a·b for f32 CPU storages with 2-d layouts (m, k) and (k, n) (any strides): a fresh (m, n).
fn product(a: (&CpuStorage, &Layout), b: (&CpuStorage, &Layout)) -> candle_core::Result<Vec<f32>> {
    let ((m, k), n) = (a.1.shape().dims2()?, b.1.shape().dims2()?.1);
    match a.0.matmul(b.0, (1, m, n, k), a.1, b.1)? {
        CpuStorage::F32(v) => Ok(v),
        _ => bail!("unfolded-conv2d: expects f32 tensors"),
    }
}

/// A reusable column matrix: a CPU storage to multiply by, refilled for each chunk of examples.
struct Columns {
    storage: CpuStorage,
}

impl Columns {
    fn new(g: Geometry) -> Self {
        Self {
            storage: CpuStorage::F32(vec![0.0; g.rows() * g.batch.min(EXAMPLES_PER_CHUNK) * g.positions()]),
        }
    }

    /// The columns of the examples `x` (`chunk.batch` of them), with their layout.
    fn fill(&mut self, x: &[f32], chunk: Geometry) -> candle_core::Result<(&CpuStorage, Layout)> {
        let CpuStorage::F32(buffer) = &mut self.storage else {
            bail!("unfolded-conv2d: expects f32 tensors")
        };
        let width = chunk.batch * chunk.positions();
        unfold_into(&mut buffer[..chunk.rows() * width], x, chunk);
        Ok((&self.storage, Layout::contiguous((chunk.rows(), width))))
    }
}

/// (x, w, b) ↦ act(w·im2col(x) + b) for x (batch, in, h, w), one kernel w (out, in, k, k), a bias
/// b (out) and an optional activation, as one graph node: the columns are unfolded again in the
/// backward pass instead of being kept (they would take 166 MB), and the pre-activation is kept
/// instead of being a node of its own (which would cost a tensor the size of the convolution's
/// output, a zero-filled gradient and an addition).
pub(crate) struct UnfoldedConv {
    kernel: usize,
    activation: Option<Activation>,
    /// The pre-activation, kept by the forward pass for the backward one (with an activation).
    pre: Mutex<Option<Vec<f32>>>,
}

/// act(conv(x, w) + b) for x (batch, in, h, w), one kernel w (out, in, k, k) and a bias b (out),
/// stride 1, no padding: shape (batch, out, h − k + 1, w − k + 1) before the activation.
pub(crate) fn conv(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    kernel: usize,
    activation: Option<Activation>,
) -> candle_core::Result<Tensor> {
    let op = UnfoldedConv { kernel, activation, pre: Mutex::new(None) };
    x.contiguous()?.apply_op3(&w.contiguous()?, &b.contiguous()?, op)
}

/// The chunks of examples of a batch: (first example, its geometry).
fn chunks(g: Geometry) -> impl Iterator<Item = (usize, Geometry)> {
    (0..g.batch)
        .step_by(EXAMPLES_PER_CHUNK)
        .map(move |first| (first, g.with_batch(EXAMPLES_PER_CHUNK.min(g.batch - first))))
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
        let w_layout = Layout::contiguous_with_offset((out, g.rows()), l2.start_offset());
        let mut columns = Columns::new(g);
        let mut y = vec![0f32; g.batch * out * g.positions()];
        for (first, chunk) in chunks(g) {
            let images = &x[first * g.image()..(first + chunk.batch) * g.image()];
            let (cols, cols_layout) = columns.fill(images, chunk)?;
            let y_t = product((s2, &w_layout), (cols, &cols_layout))?;
            let block = &mut y[first * out * g.positions()..(first + chunk.batch) * out * g.positions()];
            swap_leading_into(block, &y_t, (out, chunk.batch, g.positions()), Some(bias));
        }
        let dims = (g.batch, out, g.out_h(), g.out_w());
        let Some(activation) = self.activation else {
            return Ok((CpuStorage::F32(y), Shape::from(dims)));
        };
        let activated = activation.forward(&y, dims);
        if let Ok(mut pre) = self.pre.lock() {
            *pre = Some(y);
        }
        Ok((CpuStorage::F32(activated), Shape::from(activation.output_dims(dims))))
    }

    /// Per chunk of examples: ∂L/∂w += ∂L/∂y · colsᵀ, ∂L/∂b += the sums of ∂L/∂y over examples and
    /// positions, and ∂L/∂x = fold(wᵀ · ∂L/∂y) (only when x needs it).
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = Geometry::of(x.shape(), self.kernel)?;
        let (out, positions, rows) = (w.dim(0)?, g.positions(), g.rows());
        let (x, w, grad) = (x.contiguous()?, w.contiguous()?, grad.contiguous()?);
        let (x_storage, x_layout) = x.storage_and_layout();
        let (w_storage, w_layout) = w.storage_and_layout();
        let (g_storage, g_layout) = grad.storage_and_layout();
        let (Storage::Cpu(x_cpu), Storage::Cpu(w_cpu), Storage::Cpu(g_cpu)) =
            (&*x_storage, &*w_storage, &*g_storage)
        else {
            bail!("{}: expects tensors on the CPU", self.name())
        };
        let (xs, gs) = (f32_data(x_cpu, x_layout, self.name())?, f32_data(g_cpu, g_layout, self.name())?);
        // ∂L/∂(pre-activation), through the activation when there is one.
        let gs: Cow<'_, [f32]> = match self.activation {
            None => Cow::Borrowed(gs),
            Some(activation) => {
                let pre = self.pre.lock().ok().and_then(|mut p| p.take());
                let Some(pre) = pre else { bail!("{}: backward pass without a forward pass", self.name()) };
                Cow::Owned(activation.backward(&pre, gs, (g.batch, out, g.out_h(), g.out_w())))
            }
        };
        let w_t = Layout::contiguous_with_offset((out, rows), w_layout.start_offset()).transpose(0, 1)?;
        let input_grad = x.track_op();
        let mut columns = Columns::new(g);
        let mut grad_t = CpuStorage::F32(vec![0.0; out * g.batch.min(EXAMPLES_PER_CHUNK) * positions]);
        let (mut grad_w, mut grad_b) = (vec![0f32; out * rows], vec![0f64; out]);
        let mut grad_x = if input_grad { vec![0f32; g.batch * g.image()] } else { Vec::new() };
        for (first, chunk) in chunks(g) {
            let width = chunk.batch * positions;
            // ∂L/∂y of the chunk as (out, examples·positions), the product's layout.
            let CpuStorage::F32(buffer) = &mut grad_t else { bail!("{}: expects f32 tensors", self.name()) };
            let block = &gs[first * out * positions..(first + chunk.batch) * out * positions];
            swap_leading_into(&mut buffer[..out * width], block, (chunk.batch, out, positions), None);
            add_row_sums(&mut grad_b, &buffer[..out * width], width);
            let grad_layout = Layout::contiguous((out, width));
            let images = &xs[first * g.image()..(first + chunk.batch) * g.image()];
            let (cols, cols_layout) = columns.fill(images, chunk)?;
            let part = product((&grad_t, &grad_layout), (cols, &cols_layout.transpose(0, 1)?))?;
            grad_w.iter_mut().zip(part).for_each(|(gw, p)| *gw += p);
            if input_grad {
                let grad_cols = product((w_cpu, &w_t), (&grad_t, &grad_layout))?;
                fold_into(
                    &mut grad_x[first * g.image()..(first + chunk.batch) * g.image()],
                    &grad_cols,
                    chunk,
                );
            }
        }
        let grad_b: Vec<f32> = grad_b.iter().map(|&s| s as f32).collect();
        let device = x.device();
        let grad_x = if input_grad { Some(Tensor::from_vec(grad_x, x.shape(), device)?) } else { None };
        Ok((
            grad_x,
            Some(Tensor::from_vec(grad_w, w.shape(), device)?),
            Some(Tensor::from_vec(grad_b, b.shape(), device)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapping_the_leading_axes_twice_is_the_identity() {
        let data: Vec<f32> = (0..2 * 3 * 4).map(|i| i as f32).collect();
        let (mut swapped, mut back, mut shifted) = (vec![0.0; 24], vec![0.0; 24], vec![0.0; 24]);
        swap_leading_into(&mut swapped, &data, (2, 3, 4), None);
        assert_eq!(swapped[4..8], data[12..16]); // (0, 1, ·) of the result is (1, 0, ·) of the input
        swap_leading_into(&mut back, &swapped, (3, 2, 4), None);
        assert_eq!(back, data);
        swap_leading_into(&mut shifted, &data, (2, 3, 4), Some(&[10.0, 20.0]));
        let added = |i: usize| [10.0_f32, 20.0][i / 4 % 2];
        assert!(shifted.iter().zip(&swapped).enumerate().all(|(i, (s, d))| (s - d - added(i)).abs() < 1e-5));
        let mut sums = [1.0, 0.0];
        add_row_sums(&mut sums, &data[..8], 4);
        assert!((sums[0] - 7.0).abs() < 1e-12 && (sums[1] - 22.0).abs() < 1e-12);
    }

    /// With an activation, values and gradients equal those of the convolution followed by the
    /// activation's own operation.
    #[test]
    fn an_activation_inside_matches_the_activation_after() -> candle_core::Result<()> {
        use candle_core::{Device, Var};
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(14);
        let x = Var::from_vec(noise.standard_normal(3 * 2 * 8 * 7), (3, 2, 8, 7), &dev)?;
        let w = Var::from_vec(noise.standard_normal(4 * 2 * 3 * 3), (4, 2, 3, 3), &dev)?;
        let b = Var::from_vec(noise.standard_normal(4), 4, &dev)?;
        let values = |t: &Tensor| t.flatten_all().and_then(|t| t.to_vec1::<f32>());
        for activation in [Activation::Relu, Activation::ReluMaxPool(2)] {
            let fused = conv(x.as_tensor(), w.as_tensor(), b.as_tensor(), 3, Some(activation))?;
            let pre = conv(x.as_tensor(), w.as_tensor(), b.as_tensor(), 3, None)?;
            let after = match activation {
                Activation::Relu => crate::activation::relu(&pre)?,
                Activation::ReluMaxPool(k) => crate::activation::relu_max_pool2d(&pre, k)?,
            };
            assert_eq!(fused.dims(), after.dims());
            assert_eq!(values(&fused)?, values(&after)?);
            let weights = Tensor::from_vec(noise.standard_normal(fused.elem_count()), fused.shape(), &dev)?;
            let g1 = (&fused * &weights)?.sum_all()?.backward()?;
            let g2 = (&after * &weights)?.sum_all()?.backward()?;
            for v in [&x, &w, &b] {
                let (a, r) = (values(g1.get(v).expect("gradient"))?, values(g2.get(v).expect("gradient"))?);
                assert!(
                    a.iter().zip(&r).all(|(a, r)| (a - r).abs() <= 1e-5 * (1.0 + r.abs())),
                    "{activation:?}"
                );
            }
        }
        Ok(())
    }

    /// The adjoint of the unfolding: ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩.
    #[test]
    fn folding_is_the_adjoint_of_unfolding() -> candle_core::Result<()> {
        let g = Geometry::of(&Shape::from((3, 2, 5, 4)), 2)?;
        let mut noise = crate::Noise::new(9);
        let x = noise.standard_normal(3 * g.image());
        let c = noise.standard_normal(g.rows() * 3 * g.positions());
        let mut cols = vec![0f32; c.len()];
        unfold_into(&mut cols, &x, g);
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| f64::from(a * b)).sum();
        let mut folded = vec![0f32; x.len()];
        fold_into(&mut folded, &c, g);
        let rhs: f64 = x.iter().zip(&folded).map(|(a, b)| f64::from(a * b)).sum();
        assert!((lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs()), "{lhs} vs {rhs}");
        Ok(())
    }
}
