//! y = x·wᵀ as one candle operation whose backward pass computes only the gradients it needs.
//!
//! Composed as `x.matmul(&w.t())`, candle's backward pass computes ∂L/∂x = (∂L/∂y)·w even when x is
//! the data (for the first layer of the MNIST FCN that is one product of 250×600×784 per step and
//! mode, 13% of a local-reparameterization step), and returns ∂L/∂w transposed, so that adding it
//! to w's gradient is a strided pass. Here ∂L/∂w = (∂L/∂y)ᵀ·x comes out in w's own layout, and
//! ∂L/∂x is computed only when x takes part in the graph.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor, bail};

/// x·wᵀ for x of shape (batch, inputs) and w of shape (outputs, inputs): shape (batch, outputs).
/// Differentiable in w, and in x when x is itself a variable or the result of tracked operations.
///
/// # Errors
/// Tensors that are not matrices with the same number of columns, or not on the CPU.
pub(crate) fn linear(x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let ((_, inputs), (_, w_inputs)) = (x.dims2()?, w.dims2()?);
    if inputs != w_inputs {
        bail!("linear: input of {inputs} columns, weight of {w_inputs}");
    }
    x.apply_op2(w, Linear { input_grad: x.track_op() })
}

struct Linear {
    /// Whether the backward pass returns ∂L/∂x.
    input_grad: bool,
}

impl CustomOp2 for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        w: &CpuStorage,
        w_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (batch, inputs) = x_layout.shape().dims2()?;
        let outputs = w_layout.shape().dims2()?.0;
        let w_t = w_layout.transpose(0, 1)?;
        let y = x.matmul(w, (1, batch, outputs, inputs), x_layout, &w_t)?;
        Ok((y, Shape::from((batch, outputs))))
    }

    /// ∂L/∂x = (∂L/∂y)·w (when x needs it) and ∂L/∂w = (∂L/∂y)ᵀ·x.
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let grad_w = grad.t()?.matmul(x)?;
        let grad_x = if self.input_grad { Some(grad.matmul(w)?) } else { None };
        Ok((grad_x, Some(grad_w)))
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

    /// Values and gradients equal those of `x.matmul(&w.t())`, for x a variable and for x data.
    #[test]
    fn matches_the_composed_product_and_skips_the_data_gradient() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let mut noise = crate::Noise::new(5);
        let (batch, inputs, outputs) = (7, 13, 5);
        let x = Var::from_vec(noise.standard_normal(batch * inputs), (batch, inputs), &dev)?;
        let w = Var::from_vec(noise.standard_normal(outputs * inputs), (outputs, inputs), &dev)?;
        let weights = Tensor::from_vec(noise.standard_normal(batch * outputs), (batch, outputs), &dev)?;

        let y = linear(x.as_tensor(), w.as_tensor())?;
        let y_ref = x.as_tensor().matmul(&w.as_tensor().t()?)?;
        assert_eq!(y.dims(), &[batch, outputs]);
        assert_close(&y, &y_ref);

        let grads = y.mul(&weights)?.sum_all()?.backward()?;
        let grads_ref = y_ref.mul(&weights)?.sum_all()?.backward()?;
        for v in [&x, &w] {
            let missing = || candle_core::Error::Msg("no gradient".into());
            let (a, b) = (grads.get(v).ok_or_else(missing)?, grads_ref.get(v).ok_or_else(missing)?);
            assert_eq!(a.dims(), v.dims());
            assert_close(a, b);
        }

        // x as data: w still gets its gradient, x none.
        let data = x.as_tensor().detach();
        let grads = linear(&data, w.as_tensor())?.mul(&weights)?.sum_all()?.backward()?;
        assert!(grads.get(&data).is_none());
        assert_close(
            grads.get(&w).ok_or_else(|| candle_core::Error::Msg("no gradient".into()))?,
            grads_ref.get(&w).unwrap(),
        );
        Ok(())
    }

    #[test]
    fn rejects_mismatched_widths() {
        let dev = Device::Cpu;
        let (x, w) = (
            Tensor::zeros((2, 3), candle_core::DType::F32, &dev),
            Tensor::zeros((4, 5), candle_core::DType::F32, &dev),
        );
        assert!(linear(&x.unwrap(), &w.unwrap()).is_err());
    }
}
