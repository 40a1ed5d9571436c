//! The family of the per-parameter distributions: Gaussian N(μ, σ²) or Laplace(μ, b).
//!
//! Both families have a location μ and a scale (σ for a Gaussian, b for a Laplace distribution),
//! held in the same tensors ([`GaussianWeights::sigma`](crate::GaussianWeights::sigma) is the scale
//! of either); the posterior's scale is softplus(ρ) in both. For Laplace distributions
//! q = Laplace(μ_q, b_q), p = Laplace(μ_p, b_p), with $d = |\mu_q - \mu_p|$,
//!
//! $$\mathrm{KL}(q\|p) = \ln\frac{b_p}{b_q} + \frac{d}{b_p} + \frac{b_q}{b_p}e^{-d/b_q} - 1,$$
//!
//! evaluated here as $(r - 1 - \ln r) + r\,(t - 1 + e^{-t})$ with $r = b_q/b_p$ and $t = d/b_q$:
//! two terms that are each ≥ 0, so no cancellation between them.
//!
//! A Laplace draw is μ + b·ε with ε a standard Laplace variable (an Exp(1) variable with a fair
//! random sign, [`Noise::standard_laplace`](crate::Noise::standard_laplace)), so the draw is
//! differentiable in μ and b as a Gaussian one is.

use std::fmt;
use std::str::FromStr;

use candle_core::Tensor;

use crate::{Error, Result};

/// The family of every weight's and bias's distribution in a prior and its posterior.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// N(μ, σ²), σ the scale.
    #[default]
    Gaussian,
    /// Laplace(μ, b), density e^{−|x−μ|/b}/(2b), b the scale.
    Laplace,
}

impl Family {
    /// Whether this is the Gaussian family (the default, left out of records).
    pub fn is_gaussian(&self) -> bool {
        *self == Family::Gaussian
    }

    /// The name used in settings and file metadata: `gaussian` or `laplace`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Gaussian => "gaussian",
            Family::Laplace => "laplace",
        }
    }
}

impl Family {
    /// The three terms of ln q(x) − ln p(x) for one coordinate, in f64, with q of location `mq`
    /// and scale `sq`, p of location `mp` and scale `sp`: ln(s_p/s_q), then the terms of p's and
    /// q's exponents (Gaussian: (x − μ_p)²/(2σ_p²) and −(x − μ_q)²/(2σ_q²); Laplace:
    /// |x − μ_p|/b_p and −|x − μ_q|/b_q). A caller sums them with a bound on its rounding.
    pub fn log_density_ratio_terms(self, x: f64, mq: f64, sq: f64, mp: f64, sp: f64) -> [f64; 3] {
        match self {
            Family::Gaussian => {
                [(sp / sq).ln(), (x - mp).powi(2) / (2.0 * sp * sp), -(x - mq).powi(2) / (2.0 * sq * sq)]
            }
            Family::Laplace => [(sp / sq).ln(), (x - mp).abs() / sp, -(x - mq).abs() / sq],
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Family {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "gaussian" => Ok(Family::Gaussian),
            "laplace" => Ok(Family::Laplace),
            other => Err(Error::UnknownFamily { name: other.to_string() }),
        }
    }
}

/// One coordinate's KL(Laplace(μ_q, b_q) ‖ Laplace(μ_p, b_p)) in f64 (see the module docs); the
/// rounding noise of a term that should be 0 is clamped to 0, and NaN propagates.
pub(crate) fn laplace_kl_term(mq: f64, bq: f64, mp: f64, bp: f64) -> f64 {
    let r = bq / bp;
    let x = r - 1.0;
    let scale_term = x - x.ln_1p();
    let t = (mq - mp).abs() / bq;
    let location_term = r * (t + (-t).exp_m1());
    let scale_term = if scale_term < 0.0 { 0.0 } else { scale_term };
    let location_term = if location_term < 0.0 { 0.0 } else { location_term };
    scale_term + location_term
}

/// KL(Q‖P) between products of Laplace distributions, summed over coordinates in f64: the value a
/// certificate uses. The slices have equal lengths.
pub(crate) fn laplace_kl_sum(mu_q: &[f32], b_q: &[f32], mu_p: &[f32], b_p: &[f32]) -> f64 {
    let terms = mu_q.iter().zip(b_q).zip(mu_p).zip(b_p);
    terms
        .map(|(((&mq, &bq), &mp), &bp)| {
            laplace_kl_term(f64::from(mq), f64::from(bq), f64::from(mp), f64::from(bp))
        })
        .sum()
}

/// KL(Q‖P) between products of Laplace distributions as a differentiable f32 scalar: `b_q` is the
/// posterior's scale as a tensor in the graph (softplus(ρ)), the prior's tensors are constants.
///
/// # Errors
/// Shapes that differ, or a candle failure.
pub(crate) fn laplace_kl_tensor(mu_q: &Tensor, b_q: &Tensor, mu_p: &Tensor, b_p: &Tensor) -> Result<Tensor> {
    let r = b_q.div(b_p)?;
    let scale_term = (r.clone() - 1.0)?.sub(&r.log()?)?;
    let t = mu_q.sub(mu_p)?.abs()?.div(b_q)?;
    let location_term = r.mul(&((t.clone() - 1.0)?.add(&t.neg()?.exp()?))?)?;
    Ok(scale_term.add(&location_term)?.sum_all()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KL by the trapezoidal rule on a fine grid over ±40 scales of both distributions.
    fn numerical_kl(mq: f64, bq: f64, mp: f64, bp: f64) -> f64 {
        let lo = (mq - 40.0 * bq).min(mp - 40.0 * bp);
        let hi = (mq + 40.0 * bq).max(mp + 40.0 * bp);
        let steps = 2_000_000;
        let h = (hi - lo) / steps as f64;
        let f = |x: f64| {
            let lq = -(x - mq).abs() / bq - (2.0 * bq).ln();
            let lp = -(x - mp).abs() / bp - (2.0 * bp).ln();
            lq.exp() * (lq - lp)
        };
        let inner: f64 = (1..steps).map(|i| f(lo + i as f64 * h)).sum();
        h * (inner + 0.5 * (f(lo) + f(hi)))
    }

    #[test]
    fn the_closed_form_matches_numerical_integration() {
        for (mq, bq, mp, bp) in [
            (0.0, 1.0, 0.0, 1.0),
            (0.3, 0.5, -0.2, 1.5),
            (-1.0, 2.0, 1.0, 0.7),
            (0.01, 0.005, 0.0, 0.005),
            (2.0, 0.1, 0.0, 0.3),
        ] {
            let closed = laplace_kl_term(mq, bq, mp, bp);
            let numerical = numerical_kl(mq, bq, mp, bp);
            assert!(
                (closed - numerical).abs() <= 1e-6 * numerical.max(1.0),
                "{mq} {bq} {mp} {bp}: {closed} vs {numerical}"
            );
        }
    }

    #[test]
    fn kl_is_zero_at_the_prior_and_positive_elsewhere() {
        assert!(laplace_kl_term(0.2, 0.03, 0.2, 0.03).abs() < 1e-300);
        // Q close to P: the second-order terms, ½x² + ½t², with x = r − 1.
        let (bp, x, d) = (0.005, 1e-4, 1e-7);
        let small = laplace_kl_term(d, bp * (1.0 + x), 0.0, bp);
        let t = d / (bp * (1.0 + x));
        let expected = 0.5 * x * x + 0.5 * t * t;
        assert!((small - expected).abs() < 1e-3 * expected, "{small} vs {expected}");
    }

    #[test]
    fn the_tensor_form_agrees_with_the_f64_sum() -> Result<()> {
        let dev = candle_core::Device::Cpu;
        let mq = [0.1_f32, -0.3, 0.0, 0.02];
        let bq = [0.05_f32, 0.2, 0.01, 0.03];
        let mp = [0.0_f32, -0.1, 0.0, 0.0];
        let bp = [0.04_f32, 0.1, 0.01, 0.05];
        let t = |v: &[f32]| Tensor::new(v, &dev);
        let tensor = laplace_kl_tensor(&t(&mq)?, &t(&bq)?, &t(&mp)?, &t(&bp)?)?.to_scalar::<f32>()?;
        let sum = laplace_kl_sum(&mq, &bq, &mp, &bp);
        assert!((f64::from(tensor) - sum).abs() < 1e-5 * sum, "{tensor} vs {sum}");
        Ok(())
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for family in [Family::Gaussian, Family::Laplace] {
            assert_eq!(family.name().parse::<Family>().ok(), Some(family));
        }
        assert!(matches!("cauchy".parse::<Family>(), Err(Error::UnknownFamily { .. })));
    }
}
