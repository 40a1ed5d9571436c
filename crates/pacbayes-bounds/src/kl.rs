//! The binary relative entropy (Bernoulli KL divergence).
//!
//! $$\mathrm{kl}(q \,\|\, p) = q \ln\frac{q}{p} + (1-q)\ln\frac{1-q}{1-p},$$
//! with $0 \ln 0 = 0$, so that $\mathrm{kl}(0\|p) = -\ln(1-p)$, $\mathrm{kl}(1\|p) = -\ln p$, and
//! $\mathrm{kl}(q\|p) = +\infty$ when $p \in \\{0, 1\\}$ and $q \ne p$.

use crate::{Result, check};

/// $\mathrm{kl}(q\|p)$ for $q, p \in [0, 1]$.
///
/// Each logarithm of a ratio is computed without cancellation (through `ln_1p` when the ratio is
/// near one), so the result is accurate to a few ulps of $|q\ln(q/p)| + |(1-q)\ln((1-q)/(1-p))|$.
///
/// # Errors
/// [`Error::InvalidValue`](crate::Error::InvalidValue) when `q` or `p` is NaN or outside [0, 1].
///
/// ```
/// # use pacbayes_bounds::kl;
/// assert!((kl(0.5, 0.5)? - 0.0).abs() < 1e-300);
/// assert!((kl(0.0, 0.5)? - 2f64.ln()).abs() < 1e-15);
/// assert!(kl(0.1, 0.0)?.is_infinite());
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn kl(q: f64, p: f64) -> Result<f64> {
    let q = check::probability("q", q)?;
    let p = check::probability("p", p)?;
    Ok(KlTerms::new(q, p).value().max(0.0))
}

/// The two terms of kl(q‖p), with a rigorous bound on the rounding error of their computation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KlTerms {
    /// $q \ln(q/p)$.
    head: f64,
    /// $(1-q) \ln((1-q)/(1-p))$.
    tail: f64,
    /// A bound on the absolute rounding error of `head` plus that of `tail`.
    term_error: f64,
}

impl KlTerms {
    /// Both arguments must already lie in [0, 1].
    pub(crate) fn new(q: f64, p: f64) -> Self {
        let (head, head_error) = if q <= 0.0 {
            (0.0, 0.0)
        } else if p <= 0.0 {
            (f64::INFINITY, 0.0)
        } else {
            weighted(q, ln_ratio(q, p, q - p))
        };
        let (tail, tail_error) = if q >= 1.0 {
            (0.0, 0.0)
        } else if p >= 1.0 {
            (f64::INFINITY, 0.0)
        } else {
            weighted(1.0 - q, ln_ratio(1.0 - q, 1.0 - p, p - q))
        };
        Self { head, tail, term_error: head_error + tail_error }
    }

    /// The computed kl (may be a few ulps below zero when q ≈ p).
    pub(crate) fn value(self) -> f64 {
        self.head + self.tail
    }

    /// A bound on |computed − exact|: the terms' errors and the rounding of their sum, doubled.
    pub(crate) fn error_bound(self) -> f64 {
        2.0 * (self.term_error + f64::EPSILON * self.value().abs())
    }

    /// True when the exact kl(q‖p) is certainly at least `c`, despite rounding.
    pub(crate) fn certainly_at_least(self, c: f64) -> bool {
        let value = self.value();
        value.is_infinite() || value - self.error_bound() >= c
    }
}

/// `weight · ln`, where the weight carries one rounding (1 − q) and the product another.
fn weighted(weight: f64, (ln, ln_error): (f64, f64)) -> (f64, f64) {
    let term = weight * ln;
    (term, weight * ln_error + 2.0 * f64::EPSILON * term.abs())
}

/// $\ln(a/b)$ for $a, b > 0$ and a bound on its absolute error, given `diff` = $a - b$.
///
/// `a`, `b` and `diff` may each carry one rounding (relative error ε) from their computation.
fn ln_ratio(a: f64, b: f64, diff: f64) -> (f64, f64) {
    const E: f64 = f64::EPSILON;
    if diff.abs() <= 0.5 * b {
        // Ratio in [1/2, 3/2]: ln(1 + diff/b). diff/b carries ≤ 3ε, the condition number of ln_1p
        // on [−½, ½] is ≤ 1.45, and ln_1p adds one rounding: ≤ 5.4ε relative, 6ε taken.
        let value = (diff / b).ln_1p();
        (value, 6.0 * E * value.abs())
    } else {
        let ratio = a / b;
        if ratio >= f64::MIN_POSITIVE && ratio.is_finite() {
            // The ratio carries ≤ 3ε relative, i.e. ≤ 3ε absolute after ln, plus ln's own rounding.
            let value = ratio.ln();
            (value, 4.0 * E + E * value.abs())
        } else {
            // The quotient under- or overflows: |ln a − ln b| > 700, so no cancellation.
            let value = a.ln() - b.ln();
            (value, 2.0 * E * (a.ln().abs() + b.ln().abs()) + 4.0 * E)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn closed_forms_at_the_edges() {
        for p in [1e-300, 1e-9, 0.3, 0.5, 0.999_999] {
            assert_relative_eq!(kl(0.0, p).unwrap(), -(-p).ln_1p(), max_relative = 1e-15);
            assert_relative_eq!(kl(1.0, p).unwrap(), -p.ln(), max_relative = 1e-15);
        }
        assert!(kl(0.3, 0.0).unwrap().is_infinite());
        assert!(kl(0.3, 1.0).unwrap().is_infinite());
        assert!(kl(0.0, 0.0).unwrap().abs() < f64::MIN_POSITIVE);
        assert!(kl(1.0, 1.0).unwrap().abs() < f64::MIN_POSITIVE);
        assert!(kl(0.0, 1.0).unwrap().is_infinite());
    }

    #[test]
    fn zero_on_the_diagonal_and_positive_off_it() {
        for q in [1e-12, 0.01, 0.25, 0.5, 0.9, 1.0 - 1e-12] {
            assert!(kl(q, q).unwrap().abs() < f64::MIN_POSITIVE);
            assert!(kl(q, q * 0.999).unwrap() > 0.0);
        }
    }

    #[test]
    fn second_order_expansion_near_the_diagonal() {
        // kl(q‖q+h) = h²/(2q(1−q)) + O(h³): checks that cancellation does not destroy small values.
        let (q, h) = (0.3_f64, 1e-7_f64);
        let expected = h * h / (2.0 * q * (1.0 - q));
        assert_relative_eq!(kl(q, q + h).unwrap(), expected, max_relative = 1e-6);
    }

    #[test]
    fn invalid_arguments_are_errors() {
        assert!(kl(f64::NAN, 0.5).is_err());
        assert!(kl(0.5, f64::NAN).is_err());
        assert!(kl(-0.1, 0.5).is_err());
        assert!(kl(0.5, 1.5).is_err());
    }
}
