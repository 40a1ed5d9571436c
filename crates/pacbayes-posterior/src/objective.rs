//! Training objectives: PAC-Bayes bounds evaluated on a surrogate risk, as differentiable tensors.
//!
//! With $r$ the surrogate risk (bounded cross-entropy, in [0, 1]), KL = KL(Q‖P), $n = |S_\text{bound}|$
//! (the $n$ of the certificate the objective stands for, even when Q is trained on all of S) and
//! $B = (\mathrm{KL} + \ln(2\sqrt n/\delta))/n$, exactly as in `pacbayes_bounds`:
//!
//! | name | objective |
//! |---|---|
//! | `f-classic` | $r + \sqrt{B/2}$ (McAllester) |
//! | `f-quad` | $\bigl(\sqrt{r + B/2} + \sqrt{B/2}\bigr)^2$ (Rivasplata et al.) |
//! | `f-lambda` | $\frac{r}{1-\lambda/2} + \frac{B}{\lambda(1-\lambda/2)}$ at $\lambda^\star = 2/(\sqrt{2r/B+1}+1)$, the closed-form minimizer for the current $(r, B)$, held constant for the gradient (alternating minimization, Thiemann et al.) |
//! | `f-kl` | $\mathrm{kl}^{-1}_{\uparrow}(r, B)$, gradients from the implicit function theorem |
//! | `bbb` | $r + \beta\,\mathrm{KL}/m$, $m$ the number of examples Q is trained on (the ELBO's scaling) |
//!
//! For `f-kl`, with $p = \mathrm{kl}^{-1}(r, B)$ and $F(r, p) = \mathrm{kl}(r\|p) - B = 0$:
//! $\partial p/\partial B = p(1-p)/(p-r)$ and
//! $\partial p/\partial r = -\ln\frac{r(1-p)}{p(1-r)}\cdot\frac{p(1-p)}{p-r}$. The value is the certified
//! inverse [`pacbayes_bounds::kl_inv_upper`]; the gradients enter through the expression
//! $p + g_r (r - \bar r) + g_B (B - \bar B)$ (bars: detached copies), whose value is $p$ and whose
//! gradient is theirs.

use candle_core::Tensor;
use pacbayes_bounds::{BoundInputs, kl_inv_upper, mcallester_bound, quad_bound};
use serde::{Deserialize, Serialize};

use crate::Result;

/// A training objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// McAllester's bound (`f-classic`).
    Classic,
    /// The quadratic bound (`f-quad`).
    Quad,
    /// Thiemann et al.'s λ-bound with λ at its closed-form optimum (`f-lambda`).
    Lambda,
    /// The kl-inversion bound (`f-kl`).
    Kl,
    /// Bayes by backprop: r + β·KL/m (`bbb`).
    Bbb {
        /// The KL weight β ≥ 0.
        beta: f64,
    },
}

/// The name of a training objective, as the setting `objective` and the flag `--objective` take it:
/// `f-classic`, `f-quad` (default), `f-lambda`, `f-kl` or `bbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectiveKind {
    /// McAllester's bound.
    FClassic,
    /// The quadratic bound.
    #[default]
    FQuad,
    /// Thiemann et al.'s λ-bound with λ at its closed-form optimum.
    FLambda,
    /// The kl-inversion bound.
    FKl,
    /// Bayes by backprop: r + β·KL/m.
    Bbb,
}

impl ObjectiveKind {
    /// The name used in settings, flags and records.
    pub fn name(self) -> &'static str {
        match self {
            Self::FClassic => "f-classic",
            Self::FQuad => "f-quad",
            Self::FLambda => "f-lambda",
            Self::FKl => "f-kl",
            Self::Bbb => "bbb",
        }
    }
}

impl std::fmt::Display for ObjectiveKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an objective needs besides r and KL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectiveScale {
    /// n = |S_bound|.
    pub n_bound: usize,
    /// The number of examples Q is trained on (for `bbb`).
    pub n_train: usize,
    /// δ of the bound.
    pub delta: f64,
}

impl ObjectiveScale {
    /// ln(2√n/δ)/n and 1/n: B = KL/n + this.
    fn complexity_parts(&self) -> (f64, f64) {
        let n = self.n_bound as f64;
        ((2.0 * n.sqrt() / self.delta).ln() / n, 1.0 / n)
    }

    /// B = (KL + ln(2√n/δ))/n in f64.
    pub fn complexity(&self, kl: f64) -> f64 {
        let (c, inv_n) = self.complexity_parts();
        kl * inv_n + c
    }
}

/// λ* = 2/(√(2r/B + 1) + 1), the minimizer of the λ-bound for given r and B.
pub fn optimal_lambda(risk: f64, complexity: f64) -> f64 {
    2.0 / ((2.0 * risk / complexity + 1.0).sqrt() + 1.0)
}

/// ∂p/∂r and ∂p/∂B of p = kl⁻¹(r, B), by the implicit function theorem (0 once p reaches 1).
pub fn kl_inv_gradients(risk: f64, p: f64) -> (f64, f64) {
    if p >= 1.0 || p <= risk {
        return (0.0, 0.0);
    }
    let q = risk.clamp(1e-12, 1.0 - 1e-12);
    let d_b = p * (1.0 - p) / (p - risk);
    let d_r = -(q * (1.0 - p) / (p * (1.0 - q))).ln() * d_b;
    (d_r, d_b)
}

impl Objective {
    /// The objective of that kind (`beta` is used by `bbb` only).
    pub fn new(kind: ObjectiveKind, beta: f64) -> Self {
        match kind {
            ObjectiveKind::FClassic => Self::Classic,
            ObjectiveKind::FQuad => Self::Quad,
            ObjectiveKind::FLambda => Self::Lambda,
            ObjectiveKind::FKl => Self::Kl,
            ObjectiveKind::Bbb => Self::Bbb { beta },
        }
    }

    /// The objective's kind.
    pub fn kind(&self) -> ObjectiveKind {
        match self {
            Self::Classic => ObjectiveKind::FClassic,
            Self::Quad => ObjectiveKind::FQuad,
            Self::Lambda => ObjectiveKind::FLambda,
            Self::Kl => ObjectiveKind::FKl,
            Self::Bbb { .. } => ObjectiveKind::Bbb,
        }
    }

    /// The name used in settings and records.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The objective as a differentiable scalar, from the scalar surrogate risk and KL tensors.
    ///
    /// # Errors
    /// A candle failure, or (for `f-kl`) a risk outside [0, 1].
    pub fn tensor(&self, risk: &Tensor, kl: &Tensor, scale: &ObjectiveScale) -> Result<Tensor> {
        let (c, inv_n) = scale.complexity_parts();
        let b = kl.affine(inv_n, c)?;
        Ok(match *self {
            Self::Classic => (risk + b.affine(0.5, 0.0)?.sqrt()?)?,
            Self::Quad => {
                let half = b.affine(0.5, 0.0)?;
                ((risk + &half)?.sqrt()? + half.sqrt()?)?.sqr()?
            }
            Self::Lambda | Self::Kl if !(scalar(risk)?.is_finite() && scalar(&b)?.is_finite()) => {
                // Left to the caller's check, which names the term that is not finite.
                risk.affine(f64::NAN, 0.0)?
            }
            Self::Lambda => {
                let (r, bv) = (scalar(risk)?, scalar(&b)?);
                let lambda = optimal_lambda(r, bv);
                let shrink = 1.0 - lambda / 2.0;
                (risk.affine(1.0 / shrink, 0.0)? + b.affine(1.0 / (lambda * shrink), 0.0)?)?
            }
            Self::Kl => {
                let (r, bv) = (scalar(risk)?, scalar(&b)?);
                let p = kl_inv_upper(r.clamp(0.0, 1.0), bv)?;
                let (d_r, d_b) = kl_inv_gradients(r, p);
                let dr = risk.sub(&risk.detach())?.affine(d_r, 0.0)?;
                let db = b.sub(&b.detach())?.affine(d_b, 0.0)?;
                (dr + db)?.affine(1.0, p)?
            }
            Self::Bbb { beta } => (risk + kl.affine(beta / scale.n_train as f64, 0.0)?)?,
        })
    }

    /// The objective in f64, through the bound functions of `pacbayes_bounds` where there is one
    /// (their outward rounding and cap at 1 included).
    ///
    /// # Errors
    /// A risk outside [0, 1], a negative or non-finite KL.
    pub fn value(&self, risk: f64, kl: f64, scale: &ObjectiveScale) -> Result<f64> {
        let inputs = || BoundInputs::new(risk, kl, scale.n_bound as u64, scale.delta);
        Ok(match *self {
            Self::Classic => mcallester_bound(&inputs()?),
            Self::Quad => quad_bound(&inputs()?),
            Self::Kl => kl_inv_upper(risk, inputs()?.complexity())?,
            Self::Lambda => {
                let b = inputs()?.complexity();
                let lambda = optimal_lambda(risk, b);
                let shrink = 1.0 - lambda / 2.0;
                risk / shrink + b / (lambda * shrink)
            }
            Self::Bbb { beta } => risk + beta * kl / scale.n_train as f64,
        })
    }
}

fn scalar(t: &Tensor) -> Result<f64> {
    Ok(f64::from(t.to_dtype(candle_core::DType::F32)?.to_scalar::<f32>()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};
    use clap::ValueEnum;

    const SCALE: ObjectiveScale = ObjectiveScale { n_bound: 500, n_train: 1000, delta: 0.025 };

    fn at(objective: Objective, r: f64, kl: f64) -> (f64, f64, f64) {
        let rv = Var::new(r as f32, &Device::Cpu).unwrap();
        let kv = Var::new(kl as f32, &Device::Cpu).unwrap();
        let out = objective.tensor(rv.as_tensor(), kv.as_tensor(), &SCALE).unwrap();
        let grads = out.backward().unwrap();
        let g = |v: &Var| f64::from(grads.get(v).unwrap().to_scalar::<f32>().unwrap());
        (f64::from(out.to_scalar::<f32>().unwrap()), g(&rv), g(&kv))
    }

    #[test]
    fn tensor_objectives_match_the_bound_formulas() {
        for kind in ObjectiveKind::value_variants() {
            let (o, name) = (Objective::new(*kind, 0.5), kind.name());
            for (r, kl) in [(0.1, 5.0), (0.3, 40.0), (0.02, 0.5)] {
                let (v, _, _) = at(o, r, kl);
                let reference = o.value(r, kl, &SCALE).unwrap();
                assert!(
                    (v - reference).abs() < 1e-5 * reference.max(1e-3),
                    "{name} {r} {kl}: {v} vs {reference}"
                );
            }
        }
    }

    #[test]
    fn every_gradient_matches_finite_differences() {
        for kind in ObjectiveKind::value_variants() {
            let (o, name) = (Objective::new(*kind, 0.5), kind.name());
            for (r, kl) in [(0.1, 5.0), (0.3, 40.0)] {
                let (_, g_r, g_kl) = at(o, r, kl);
                let f = |r: f64, kl: f64| o.value(r, kl, &SCALE).unwrap();
                let (hr, hk) = (1e-6, 1e-4);
                let fd_r = (f(r + hr, kl) - f(r - hr, kl)) / (2.0 * hr);
                let fd_kl = (f(r, kl + hk) - f(r, kl - hk)) / (2.0 * hk);
                assert!((g_r - fd_r).abs() < 2e-3 * fd_r.abs().max(1e-3), "{name} d/dr: {g_r} vs {fd_r}");
                assert!(
                    (g_kl - fd_kl).abs() < 2e-3 * fd_kl.abs().max(1e-6),
                    "{name} d/dkl: {g_kl} vs {fd_kl}"
                );
            }
        }
    }

    #[test]
    fn a_non_finite_input_gives_a_non_finite_objective_not_an_error() {
        let nan = Tensor::new(f32::NAN, &Device::Cpu).unwrap();
        let kl = Tensor::new(1.0_f32, &Device::Cpu).unwrap();
        for kind in ObjectiveKind::value_variants() {
            let (o, name) = (Objective::new(*kind, 1.0), kind.name());
            let v = o.tensor(&nan, &kl, &SCALE).unwrap().to_scalar::<f32>().unwrap();
            assert!(!v.is_finite(), "{name}: {v}");
        }
    }

    #[test]
    fn optimal_lambda_minimizes_the_lambda_bound() {
        let (r, b) = (0.1, 0.02);
        let f = |l: f64| r / (1.0 - l / 2.0) + b / (l * (1.0 - l / 2.0));
        let l = optimal_lambda(r, b);
        assert!(l > 0.0 && l < 2.0);
        assert!(f(l) <= f(l * 1.01) && f(l) <= f(l * 0.99));
    }
}
