//! The custom operations of this crate composed of candle's own operations: the path taken on any
//! device other than the CPU (CUDA, Metal), where the custom operations have no kernel.
//!
//! Each function computes what the custom operation of the same name computes, and candle's
//! automatic differentiation gives the same gradients; the tests below check both on the CPU,
//! where either path can run. The composed path is the slower one on the CPU (a graph node per
//! elementary operation), and the only one elsewhere.

use candle_core::{D, Tensor};

use crate::activation::Activation;

/// max(x, 0).
pub(crate) fn relu(x: &Tensor) -> candle_core::Result<Tensor> {
    x.relu()
}

/// max(x, 0) ⊙ mask.
pub(crate) fn relu_masked(x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    x.relu()? * mask
}

/// ReLU, then k×k max-pooling with stride k over the ⌊h/k⌋·⌊w/k⌋ whole windows.
pub(crate) fn relu_max_pool2d(x: &Tensor, k: usize) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (oh, ow) = (h / k, w / k);
    let x = x.relu()?.narrow(2, 0, oh * k)?.narrow(3, 0, ow * k)?;
    x.reshape((b, c, oh, k, ow, k))?.max(D::Minus1)?.max(3)
}

/// x·wᵀ + b.
pub(crate) fn affine(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    x.matmul(&w.t()?)?.broadcast_add(b)
}

/// m + √v ⊙ ε.
pub(crate) fn local_sample(mean: &Tensor, var: &Tensor, eps: &Tensor) -> candle_core::Result<Tensor> {
    mean + (var.sqrt()? * eps)?
}

/// softplus(ρ) = max(ρ, 0) + ln(1 + e^{−|ρ|}), which neither overflows nor loses σ for ρ ≪ 0.
pub(crate) fn softplus(rho: &Tensor) -> candle_core::Result<Tensor> {
    rho.relu()? + (rho.abs()?.neg()?.exp()? + 1.0)?.log()?
}

/// sigmoid(ρ) = dσ/dρ, with no graph.
pub(crate) fn sigmoid(rho: &Tensor) -> candle_core::Result<Tensor> {
    (rho.neg()?.exp()? + 1.0)?.recip()
}

/// w = μ + softplus(ρ) ⊙ ε.
pub(crate) fn draw(mu: &Tensor, rho: &Tensor, eps: &Tensor) -> candle_core::Result<Tensor> {
    mu + (softplus(rho)? * eps)?
}

/// softplus(ρ)².
pub(crate) fn variance(rho: &Tensor) -> candle_core::Result<Tensor> {
    softplus(rho)?.sqr()
}

/// KL(N(μ_Q, σ_Q²) ‖ N(μ_P, σ_P²)) summed over all coordinates, as a scalar:
/// $\sum_i \ln(\sigma_{P,i}/\sigma_{Q,i}) + \frac{\sigma_{Q,i}^2 + (\mu_{Q,i} - \mu_{P,i})^2}{2\sigma_{P,i}^2} - \frac12$.
pub(crate) fn kl(
    mu_q: &Tensor,
    sigma_q: &Tensor,
    mu_p: &Tensor,
    sigma_p: &Tensor,
) -> candle_core::Result<Tensor> {
    let var_p = sigma_p.sqr()?;
    let log_ratio = (sigma_p.log()? - sigma_q.log()?)?;
    let spread = ((sigma_q.sqr()? + (mu_q - mu_p)?.sqr()?)? / (var_p * 2.0)?)?;
    ((log_ratio + spread)? - 0.5)?.sum_all()
}

/// act(conv(x, w) + b) for x (batch, in, h, w), w (out, in, k, k) or one kernel per example
/// (batch, out, in, k, k), and b (out) or (batch, out); stride 1, no padding.
pub(crate) fn conv2d(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    activation: Option<Activation>,
) -> candle_core::Result<Tensor> {
    let y = if w.rank() == 5 {
        let batch = x.dim(0)?;
        let outputs = (0..batch)
            .map(|e| {
                let bias = if b.rank() == 2 { b.get(e)? } else { b.clone() };
                let out = bias.dim(0)?;
                x.narrow(0, e, 1)?
                    .conv2d(&w.get(e)?, 0, 1, 1, 1)?
                    .broadcast_add(&bias.reshape((1, out, 1, 1))?)
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Tensor::cat(&outputs, 0)?
    } else {
        let out = w.dim(0)?;
        let bias =
            if b.rank() == 2 { b.reshape((x.dim(0)?, out, 1, 1))? } else { b.reshape((1, out, 1, 1))? };
        x.conv2d(w, 0, 1, 1, 1)?.broadcast_add(&bias)?
    };
    match activation {
        None => Ok(y),
        Some(Activation::Relu) => relu(&y),
        Some(Activation::ReluMaxPool(k)) => relu_max_pool2d(&y, k),
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::*;
    use crate::Noise;

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    /// Values agree within `tol` relative to 1 + |value|.
    fn assert_close(what: &str, a: &Tensor, b: &Tensor, tol: f32) {
        assert_eq!(a.dims(), b.dims(), "{what}: shapes");
        for (i, (p, q)) in values(a).iter().zip(values(b)).enumerate() {
            assert!((p - q).abs() <= tol * (1.0 + q.abs()), "{what}[{i}]: kernel {p}, composed {q}");
        }
    }

    /// The kernel's and the composed path's outputs, and their gradients with respect to `vars`
    /// for the loss Σ output ⊙ weights (random weights, so that every output counts).
    fn compare(
        what: &str,
        vars: &[&Var],
        kernel: impl Fn() -> candle_core::Result<Tensor>,
        composed: impl Fn() -> candle_core::Result<Tensor>,
        noise: &mut Noise,
    ) -> candle_core::Result<()> {
        let (ours, theirs) = (kernel()?, composed()?);
        assert_close(what, &ours, &theirs, 1e-5);
        let weights = Tensor::from_vec(noise.standard_normal(ours.elem_count()), ours.shape(), &Device::Cpu)?;
        let g1 = (&ours * &weights)?.sum_all()?.backward()?;
        let g2 = (&theirs * &weights)?.sum_all()?.backward()?;
        for (i, var) in vars.iter().enumerate() {
            let (a, b) = (g1.get(var).expect("kernel gradient"), g2.get(var).expect("composed gradient"));
            assert_close(&format!("{what}: gradient {i}"), a, b, 1e-4);
        }
        Ok(())
    }

    fn var(noise: &mut Noise, shape: &[usize], scale: f32) -> candle_core::Result<Var> {
        let n = shape.iter().product();
        let v: Vec<f32> = noise.standard_normal(n).into_iter().map(|x| x * scale).collect();
        Var::from_vec(v, shape, &Device::Cpu)
    }

    #[test]
    fn activations_match_their_kernels() -> candle_core::Result<()> {
        let mut noise = Noise::new(11);
        let x = var(&mut noise, &[3, 2, 7, 6], 1.0)?;
        compare("relu", &[&x], || crate::activation::relu(&x), || relu(&x), &mut noise)?;
        let mask: Vec<f32> = (0..x.elem_count()).map(|i| if i % 3 == 0 { 0.0 } else { 1.5 }).collect();
        let mask_t = Tensor::from_vec(mask.clone(), x.shape(), &Device::Cpu)?;
        compare(
            "relu-dropout",
            &[&x],
            || crate::activation::relu_masked(&x, mask.clone()),
            || relu_masked(&x, &mask_t),
            &mut noise,
        )?;
        for k in [2, 3] {
            compare(
                "relu-max-pool2d",
                &[&x],
                || crate::activation::relu_max_pool2d(&x, k),
                || relu_max_pool2d(&x, k),
                &mut noise,
            )?;
        }
        Ok(())
    }

    #[test]
    fn the_affine_map_and_the_local_sample_match_their_kernels() -> candle_core::Result<()> {
        let mut noise = Noise::new(12);
        let (x, w, b) =
            (var(&mut noise, &[5, 4], 1.0)?, var(&mut noise, &[3, 4], 1.0)?, var(&mut noise, &[3], 1.0)?);
        compare(
            "affine",
            &[&x, &w, &b],
            || crate::linear::affine(&x, &w, &b),
            || affine(&x, &w, &b),
            &mut noise,
        )?;
        let mean = var(&mut noise, &[5, 3], 1.0)?;
        let var_v: Vec<f32> = noise.standard_normal(15).into_iter().map(|v| 0.1 + v * v).collect();
        let variance_var = Var::from_vec(var_v, (5, 3), &Device::Cpu)?;
        let eps = noise.standard_normal(15);
        let eps_t = Tensor::from_vec(eps.clone(), (5, 3), &Device::Cpu)?;
        compare(
            "local-sample",
            &[&mean, &variance_var],
            || crate::reparam::local_sample(&mean, &variance_var, eps.clone()),
            || local_sample(&mean, &variance_var, &eps_t),
            &mut noise,
        )
    }

    #[test]
    fn the_per_parameter_passes_match_their_kernels() -> candle_core::Result<()> {
        let mut noise = Noise::new(13);
        let mu = var(&mut noise, &[40], 0.1)?;
        // ρ across the range of the posteriors' scales, from σ ≈ e^{−8} to σ ≈ 2.
        let rho_v: Vec<f32> = (0..40).map(|i| -8.0 + 0.25 * i as f32).collect();
        let rho = Var::from_vec(rho_v, 40, &Device::Cpu)?;
        compare(
            "softplus",
            &[&rho],
            || crate::softplus::softplus_tensor(&rho),
            || softplus(&rho),
            &mut noise,
        )?;
        let scales = crate::fused::Scales::of(&rho)?;
        let eps = noise.standard_normal(40);
        let eps_t = Tensor::from_vec(eps.clone(), 40, &Device::Cpu)?;
        compare(
            "draw",
            &[&mu, &rho],
            || crate::fused::draw(&mu, &rho, &scales, eps.clone()),
            || draw(&mu, &rho, &eps_t),
            &mut noise,
        )?;
        compare(
            "variance",
            &[&rho],
            || crate::fused::variance(&rho, &scales),
            || variance(&rho),
            &mut noise,
        )?;
        let prior_mu = Tensor::from_vec(noise.standard_normal(40), 40, &Device::Cpu)?.affine(0.1, 0.0)?;
        let prior_sigma = Tensor::from_vec(vec![0.03f32; 40], 40, &Device::Cpu)?;
        compare(
            "kl(mu, rho)",
            &[&mu, &rho],
            || crate::fused::kl(&mu, &rho, &scales, &prior_mu, &prior_sigma),
            || kl(&mu, &softplus(&rho)?, &prior_mu, &prior_sigma),
            &mut noise,
        )?;
        let sigma = Var::from_vec(
            noise.standard_normal(40).into_iter().map(|v| 0.01 + 0.02 * v.abs()).collect(),
            40,
            &Device::Cpu,
        )?;
        compare(
            "kl(mu, sigma)",
            &[&mu, &sigma],
            || crate::kl::kl_tensor(&mu, &sigma, &prior_mu, &prior_sigma),
            || kl(&mu, &sigma, &prior_mu, &prior_sigma),
            &mut noise,
        )?;
        let (s1, s2) = (crate::fused::Scales::composed(&rho)?, scales);
        assert_close("scales: sigma", &s1.sigma, &s2.sigma, 1e-6);
        assert_close("scales: slope", &s1.slope, &s2.slope, 1e-6);
        Ok(())
    }

    #[test]
    fn convolutions_match_their_kernels() -> candle_core::Result<()> {
        let mut noise = Noise::new(14);
        let x = var(&mut noise, &[2, 3, 8, 7], 1.0)?;
        let w = var(&mut noise, &[4, 3, 3, 3], 0.3)?;
        let b = var(&mut noise, &[4], 0.3)?;
        for activation in [None, Some(Activation::Relu), Some(Activation::ReluMaxPool(2))] {
            compare(
                "conv2d",
                &[&x, &w, &b],
                || crate::im2col::conv2d_activated(&x, &w, &b, activation),
                || conv2d(&x, &w, &b, activation),
                &mut noise,
            )?;
        }
        let w5 = var(&mut noise, &[2, 4, 3, 3, 3], 0.3)?;
        let b2 = var(&mut noise, &[2, 4], 0.3)?;
        compare(
            "conv2d per example",
            &[&x, &w5, &b2],
            || crate::im2col::conv2d_activated(&x, &w5, &b2, Some(Activation::Relu)),
            || conv2d(&x, &w5, &b2, Some(Activation::Relu)),
            &mut noise,
        )
    }
}
