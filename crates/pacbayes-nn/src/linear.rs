//! y = x·wᵀ + b as one candle operation whose backward pass computes only the gradients it needs.
//!
//! Composed as `x.matmul(&w.t())?.broadcast_add(b)`, candle's backward pass computes
//! ∂L/∂x = (∂L/∂y)·w even when x is the data (for the first layer of the MNIST FCN that is one
//! product of 250×600×784 per step and mode, 13% of the FLOPs of a local-reparameterization
//! step), returns ∂L/∂w transposed, so that adding it to w's gradient is a strided pass, and sums
//! ∂L/∂b over the batch with a strided reduction, after a node of its own for the addition. Here the bias is added to
//! the product's own output, ∂L/∂w = (∂L/∂y)ᵀ·x comes out in w's layout, ∂L/∂b is a pass over the
//! rows of ∂L/∂y, and ∂L/∂x is computed only when x takes part in the graph.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor, bail};

use crate::kl::with_f32;
use crate::softplus::f32_data;

/// x·wᵀ + b for x of shape (batch, inputs), w of shape (outputs, inputs) and b of shape (outputs):
/// shape (batch, outputs). Differentiable in w and b, and in x when x is itself a variable or the
/// result of tracked operations.
///
/// # Errors
/// Shapes that do not fit, or tensors that are not f32 on the CPU.
pub(crate) fn affine(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let ((_, inputs), (outputs, w_inputs)) = (x.dims2()?, w.dims2()?);
    if inputs != w_inputs || b.dims() != [outputs] {
        bail!("linear: input of {inputs} columns, weight {:?}, bias {:?}", w.dims(), b.dims());
    }
    if !x.device().is_cpu() {
        return crate::composed::affine(x, w, b);
    }
    x.apply_op3(w, &b.contiguous()?, Affine { input_grad: x.track_op() })
}

struct Affine {
    /// Whether the backward pass returns ∂L/∂x.
    input_grad: bool,
}

impl CustomOp3 for Affine {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        w: &CpuStorage,
        w_layout: &Layout,
        b: &CpuStorage,
        b_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (batch, inputs) = x_layout.shape().dims2()?;
        let outputs = w_layout.shape().dims2()?.0;
        let bias = f32_data(b, b_layout, self.name())?;
        let w_t = w_layout.transpose(0, 1)?;
        let CpuStorage::F32(mut y) = x.matmul(w, (1, batch, outputs, inputs), x_layout, &w_t)? else {
            bail!("linear: expects f32 tensors")
        };
        for row in y.chunks_mut(outputs) {
            row.iter_mut().zip(bias).for_each(|(y, b)| *y += b);
        }
        Ok((CpuStorage::F32(y), Shape::from((batch, outputs))))
    }

    /// ∂L/∂x = (∂L/∂y)·w (when x needs it), ∂L/∂w = (∂L/∂y)ᵀ·x and ∂L/∂b = Σ_rows ∂L/∂y.
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let grad_w = grad.t()?.matmul(x)?;
        let grad_x = if self.input_grad { Some(grad.matmul(w)?) } else { None };
        let outputs = b.elem_count();
        let grad_b = with_f32(&grad, |g| {
            let mut sums = vec![0.0_f32; outputs];
            for row in g.chunks(outputs) {
                sums.iter_mut().zip(row).for_each(|(s, g)| *s += g);
            }
            Ok(sums)
        })?;
        Ok((grad_x, Some(grad_w), Some(Tensor::from_vec(grad_b, b.shape(), b.device())?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    fn assert_close(a: &Tensor, b: &Tensor) {
        for (x, y) in values(a).iter().zip(values(b)) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// Values and gradients equal those of `x.matmul(&w.t())?.broadcast_add(b)`, for x a variable
    /// and for x data.
    #[test]
    fn matches_the_composed_operations_and_skips_the_data_gradient() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(5);
        let (batch, inputs, outputs) = (7, 13, 5);
        let x = Var::from_vec(noise.standard_normal(batch * inputs), (batch, inputs), &dev)?;
        let w = Var::from_vec(noise.standard_normal(outputs * inputs), (outputs, inputs), &dev)?;
        let b = Var::from_vec(noise.standard_normal(outputs), outputs, &dev)?;
        let weights = Tensor::from_vec(noise.standard_normal(batch * outputs), (batch, outputs), &dev)?;

        let y = affine(x.as_tensor(), w.as_tensor(), b.as_tensor())?;
        let y_ref = x.as_tensor().matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
        assert_eq!(y.dims(), &[batch, outputs]);
        assert_close(&y, &y_ref);

        let grads = y.mul(&weights)?.sum_all()?.backward()?;
        let grads_ref = y_ref.mul(&weights)?.sum_all()?.backward()?;
        let missing = || candle_core::Error::Msg("no gradient".into());
        for v in [&x, &w, &b] {
            let (a, r) = (grads.get(v).ok_or_else(missing)?, grads_ref.get(v).ok_or_else(missing)?);
            assert_eq!(a.dims(), v.dims());
            assert_close(a, r);
        }

        // x as data: w and b still get their gradients, x none.
        let data = x.as_tensor().detach();
        let grads = affine(&data, w.as_tensor(), b.as_tensor())?.mul(&weights)?.sum_all()?.backward()?;
        assert!(grads.get(&data).is_none());
        for v in [&w, &b] {
            assert_close(grads.get(v).ok_or_else(missing)?, grads_ref.get(v).ok_or_else(missing)?);
        }
        Ok(())
    }

    #[test]
    fn rejects_shapes_that_do_not_fit() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let zeros = |shape: &[usize]| Tensor::zeros(shape, candle_core::DType::F32, &dev);
        assert!(affine(&zeros(&[2, 3])?, &zeros(&[4, 5])?, &zeros(&[4])?).is_err());
        assert!(affine(&zeros(&[2, 3])?, &zeros(&[4, 3])?, &zeros(&[5])?).is_err());
        assert!(affine(&zeros(&[2, 3])?, &zeros(&[4, 3])?, &zeros(&[4])?).is_ok());
        Ok(())
    }
}
