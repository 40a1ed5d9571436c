//! The Rényi divergence between products of Laplace distributions, for the Rényi form of the
//! disintegrated bound ([`crate::disintegrated_renyi_bound`]) with Laplace priors and posteriors.
//!
//! For q = Laplace(μ_q, b_q), p = Laplace(μ_p, b_p) and α > 1, with $\Delta = |\mu_q - \mu_p|$,
//! $u = b_q/b_p = 1 + x$ and $\hat c = (\alpha-1)u$, integrating $q^\alpha p^{1-\alpha}$ over the
//! three pieces between and beyond the two locations gives
//! $$(\alpha-1)\,D_\alpha(q\|p) = -(\alpha-1)\ln(1+x) - \ln\bigl(1-(\alpha-1)x\bigr) +
//! \frac{(\alpha-1)\Delta}{b_p} +
//! \ln\Bigl(1 + \frac{\hat c}{\alpha+\hat c}\bigl(e^{-(\alpha+\hat c)\Delta/b_q} - 1\bigr)\Bigr),$$
//! finite when $(\alpha-1)x < 1$ (that is, $\alpha/b_q > (\alpha-1)/b_p$) and $+\infty$ otherwise.
//! Every term is computed with `ln_1p`/`exp_m1`, so the value keeps its accuracy when Q is close to
//! P; as α → 1 it tends to KL(q‖p) ([`crate::kl_laplace`]).

use crate::renyi::{order, sum_rounded_up};
use crate::{Error, Result, check};

/// $D_\alpha$ for one coordinate, as computed; $+\infty$ past the edge (see the module docs).
///
/// # Errors
/// α not finite and > 1, a non-finite location, or a scale that is not finite and positive.
///
/// ```
/// # use pacbayes_bounds::{kl_laplace, renyi_laplace};
/// let (kl, d2) = (kl_laplace(0.3, 0.1, 0.0, 0.2)?, renyi_laplace(2.0, 0.3, 0.1, 0.0, 0.2)?);
/// assert!(d2 >= kl);
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn renyi_laplace(alpha: f64, mu_q: f64, b_q: f64, mu_p: f64, b_p: f64) -> Result<f64> {
    Ok(terms(alpha, mu_q, b_q, mu_p, b_p)?.0)
}

/// $D_\alpha$ for one coordinate and the sum of the magnitudes of the terms it was computed from.
fn terms(alpha: f64, mu_q: f64, b_q: f64, mu_p: f64, b_p: f64) -> Result<(f64, f64)> {
    let alpha = order(alpha)?;
    let b_q = check::positive("b_q", b_q)?;
    let b_p = check::positive("b_p", b_p)?;
    for (name, mu) in [("mu_q", mu_q), ("mu_p", mu_p)] {
        if !mu.is_finite() {
            return Err(Error::InvalidValue { name, value: mu, expected: "a finite number" });
        }
    }
    let (am1, x) = (alpha - 1.0, (b_q - b_p) / b_p);
    if am1 * x >= 1.0 {
        return Ok((f64::INFINITY, f64::INFINITY));
    }
    let delta = (mu_q - mu_p).abs();
    let c_hat = am1 * (1.0 + x);
    let mixed = c_hat / (alpha + c_hat) * (-(alpha + c_hat) * delta / b_q).exp_m1();
    let parts = [-am1 * x.ln_1p(), -(-am1 * x).ln_1p(), am1 * delta / b_p, mixed.ln_1p()];
    let value = parts.iter().sum::<f64>() / am1;
    Ok((value.max(0.0), parts.iter().map(|t| t.abs()).sum::<f64>() / am1))
}

/// $D_\alpha$ summed over coordinates of products of Laplace distributions given as parallel
/// slices (compensated summation), rounded up by $10^{-12}$ of the sum of the magnitudes of every
/// term: never below the exact divergence of the given numbers.
///
/// # Errors
/// Slices of different lengths, or any invalid coordinate (see [`renyi_laplace`]).
pub fn renyi_diag_laplace(alpha: f64, mu_q: &[f64], b_q: &[f64], mu_p: &[f64], b_p: &[f64]) -> Result<f64> {
    sum_rounded_up([mu_q, b_q, mu_p, b_p], ["b_q", "mu_p", "b_p"], |i| {
        terms(alpha, mu_q[i], b_q[i], mu_p[i], b_p[i])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kl_laplace;

    /// $\frac{1}{\alpha-1}\ln\int q^\alpha p^{1-\alpha}$ by Simpson's rule, split at the two
    /// locations (the kinks), over ±80 of the larger scale.
    fn by_quadrature(alpha: f64, mq: f64, bq: f64, mp: f64, bp: f64) -> f64 {
        let f = |x: f64| {
            let lq = -(x - mq).abs() / bq - (2.0 * bq).ln();
            let lp = -(x - mp).abs() / bp - (2.0 * bp).ln();
            (alpha * lq + (1.0 - alpha) * lp).exp()
        };
        crate::quadrature::around_kinks(f, mq, mp, 80.0 * bq.max(bp), 400_000).ln() / (alpha - 1.0)
    }

    #[test]
    fn matches_numerical_integration() {
        for (alpha, mq, bq, mp, bp) in [
            (2.0, 0.3, 0.8, 0.0, 1.0),
            (1.5, -1.0, 1.2, 0.5, 1.0),
            (3.0, 0.1, 0.5, 0.0, 0.7),
            (2.0, 0.0, 0.9, 0.0, 1.0),
            (2.0, 0.02, 0.005, 0.0, 0.005),
        ] {
            let closed = renyi_laplace(alpha, mq, bq, mp, bp).unwrap();
            let numeric = by_quadrature(alpha, mq, bq, mp, bp);
            assert!(
                (closed - numeric).abs() <= 1e-8 * numeric.max(1.0),
                "{alpha} {mq} {bq}: {closed} vs {numeric}"
            );
        }
    }

    #[test]
    fn tends_to_the_kl_grows_with_the_order_and_is_infinite_past_the_edge() {
        let kl = kl_laplace(0.3, 0.1, 0.0, 0.2).unwrap();
        let near = renyi_laplace(1.0 + 1e-7, 0.3, 0.1, 0.0, 0.2).unwrap();
        assert!((near / kl - 1.0).abs() < 1e-5, "{near} vs {kl}");
        let values: Vec<f64> = [1.1, 1.5, 2.0, 4.0, 10.0]
            .iter()
            .map(|&a| renyi_laplace(a, 0.3, 0.1, 0.0, 0.2).unwrap())
            .collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]) && values[0] >= kl, "{values:?}");
        assert!(renyi_laplace(2.0, 0.2, 0.1, 0.2, 0.1).unwrap().abs() < 1e-300);
        // α = 2: finite while b_q < 2 b_p.
        assert!(renyi_laplace(2.0, 0.0, 1.99, 0.0, 1.0).unwrap().is_finite());
        assert!(renyi_laplace(2.0, 0.0, 2.0, 0.0, 1.0).unwrap().is_infinite());
        assert!(
            renyi_diag_laplace(2.0, &[0.0, 0.0], &[1.0, 2.5], &[0.0, 0.0], &[1.0, 1.0])
                .unwrap()
                .is_infinite()
        );
        assert!(renyi_diag_laplace(2.0, &[0.0], &[1.0, 1.0], &[0.0], &[1.0]).is_err());
        assert!(renyi_laplace(1.0, 0.0, 1.0, 0.0, 1.0).is_err());
    }
}
