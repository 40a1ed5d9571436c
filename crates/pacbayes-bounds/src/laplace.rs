//! KL divergence between products of Laplace distributions, in f64: the reference that `verify`
//! recomputes a Laplace certificate's KL with.
//!
//! For q = Laplace(μ_q, b_q) and p = Laplace(μ_p, b_p), densities $e^{-|x-\mu|/b}/(2b)$, with
//! $d = |\mu_q - \mu_p|$,
//! $$\mathrm{KL}(q\|p) = \ln\frac{b_p}{b_q} + \frac{d}{b_p} + \frac{b_q}{b_p}e^{-d/b_q} - 1,$$
//! evaluated as $(r - 1 - \ln r) + r\,(t - 1 + e^{-t})$ with $r = b_q/b_p$, $t = d/b_q$: two terms
//! that are each ≥ 0, the first computed as $x - \ln(1 + x)$ with $x = r - 1$ so that it keeps its
//! accuracy when Q is close to P.

use crate::{Error, Result, check};

/// KL for one coordinate.
///
/// # Errors
/// A non-finite location, or a scale that is not finite and positive.
///
/// ```
/// # use pacbayes_bounds::kl_laplace;
/// // Same scale, locations one scale apart: 1 − 1 + e^{-1}.
/// let kl = kl_laplace(1.0, 1.0, 0.0, 1.0)?;
/// assert!((kl - (-1.0_f64).exp()).abs() < 1e-15);
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn kl_laplace(mu_q: f64, b_q: f64, mu_p: f64, b_p: f64) -> Result<f64> {
    let b_q = check::positive("b_q", b_q)?;
    let b_p = check::positive("b_p", b_p)?;
    for (name, value) in [("mu_q", mu_q), ("mu_p", mu_p)] {
        if !value.is_finite() {
            return Err(Error::InvalidValue { name, value, expected: "a finite number" });
        }
    }
    let x = (b_q - b_p) / b_p;
    let t = (mu_q - mu_p).abs() / b_q;
    let scale_term = (x - x.ln_1p()).max(0.0);
    let location_term = ((1.0 + x) * (t + (-t).exp_m1())).max(0.0);
    Ok(scale_term + location_term)
}

/// KL summed over coordinates of products of Laplace distributions given as parallel slices.
///
/// # Errors
/// Slices of different lengths, or any invalid coordinate (see [`kl_laplace`]).
pub fn kl_diag_laplace(mu_q: &[f64], b_q: &[f64], mu_p: &[f64], b_p: &[f64]) -> Result<f64> {
    let len = mu_q.len();
    for (name, other) in [("b_q", b_q.len()), ("mu_p", mu_p.len()), ("b_p", b_p.len())] {
        if other != len {
            return Err(Error::LengthMismatch { name, len: other, reference: "mu_q", expected: len });
        }
    }
    let mut total = 0.0;
    for i in 0..len {
        total += kl_laplace(mu_q[i], b_q[i], mu_p[i], b_p[i])?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KL by Simpson's rule over ±60 scales, split at both locations (the kinks of the densities).
    fn by_quadrature(mq: f64, bq: f64, mp: f64, bp: f64) -> f64 {
        let f = |x: f64| {
            let lq = -(x - mq).abs() / bq - (2.0 * bq).ln();
            let lp = -(x - mp).abs() / bp - (2.0 * bp).ln();
            lq.exp() * (lq - lp)
        };
        crate::quadrature::around_kinks(f, mq, mp, 60.0 * bq.max(bp), 200_000)
    }

    #[test]
    fn matches_numerical_integration() {
        for (mq, bq, mp, bp) in
            [(0.0, 1.0, 0.0, 1.0), (0.3, 0.5, -0.2, 1.5), (-1.0, 2.0, 1.0, 0.7), (0.01, 0.005, 0.0, 0.005)]
        {
            let closed = kl_laplace(mq, bq, mp, bp).unwrap();
            let numeric = by_quadrature(mq, bq, mp, bp);
            assert!((closed - numeric).abs() <= 1e-9 * numeric.max(1.0), "{closed} vs {numeric}");
        }
    }

    #[test]
    fn zero_at_the_prior_accurate_near_it_and_invalid_inputs_refused() {
        assert!(kl_laplace(0.2, 0.1, 0.2, 0.1).unwrap().abs() < 1e-300);
        // b_q = b_p(1 + h), same location: KL ≈ h²/2.
        let h = 1e-6;
        let kl = kl_laplace(0.0, 1.0 + h, 0.0, 1.0).unwrap();
        assert!((kl / (0.5 * h * h) - 1.0).abs() < 1e-4, "{kl}");
        assert!(kl_laplace(0.0, 0.0, 0.0, 1.0).is_err());
        assert!(kl_laplace(f64::NAN, 1.0, 0.0, 1.0).is_err());
        assert!(kl_diag_laplace(&[0.0], &[1.0, 1.0], &[0.0], &[1.0]).is_err());
        let sum = kl_diag_laplace(&[0.0, 1.0], &[1.0, 1.0], &[0.0, 0.0], &[1.0, 1.0]).unwrap();
        assert!((sum - (-1.0_f64).exp()).abs() < 1e-15);
    }
}
