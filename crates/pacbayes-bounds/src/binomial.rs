//! The exact binomial tail and its inversion: the test-set bound of a single classifier.
//!
//! A classifier $h$ chosen without looking at a sample $S$ of $n$ i.i.d. examples makes
//! $k = n\hat R_S(h)$ errors, and $k \sim \mathrm{Bin}(n, R(h))$. The one-sided Clopper–Pearson bound
//! (Langford, 2005, "Tutorial on practical prediction theory", Thm 3.3, the test-set bound) is
//! $$\bar p(k, n, \delta) = \max\\{p \in [0, 1] : \Pr[\mathrm{Bin}(n, p) \le k] \ge \delta\\},$$
//! and $\Pr_S\bigl[R(h) \le \bar p(k, n, \delta)\bigr] \ge 1 - \delta$.
//!
//! The tail $F(p) = \sum_{i \le k} \binom{n}{i} p^i (1-p)^{n-i}$ is evaluated in log space with a
//! rigorous bound on its rounding error, and $\bar p$ is found by bisection on the bit patterns of
//! the doubles, keeping only points where $\ln F(p) + \text{error} < \ln\delta$ is *certain*: since
//! $F$ decreases in $p$, each such point lies above the exact $\bar p$. The returned value is the
//! lowest such double found, then moved up by four more ulps; it is never below the exact bound
//! and within about $10^{-10}$ of it relatively (the error bound of the tail grows with $k$).

use crate::{Error, Result, check};

/// The test-set (Clopper–Pearson) upper bound on the risk of one classifier with `errors` mistakes
/// on `n` examples it was not chosen with, at confidence `delta`.
///
/// Returns 1 when `errors` = `n`; $1 - \delta^{1/n}$ (from above) when `errors` = 0.
///
/// # Errors
/// `n` = 0, `errors` > `n`, or `delta` ∉ (0, 1).
///
/// ```
/// # use pacbayes_bounds::binomial_tail_upper;
/// // 543 errors on 29,997 held-out examples, δ = 0.025.
/// let p = binomial_tail_upper(543, 29_997, 0.025)?;
/// assert!(p > 543.0 / 29_997.0 && p < 0.0198);
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn binomial_tail_upper(errors: u64, n: u64, delta: f64) -> Result<f64> {
    let n = check::count("n", n)?;
    let delta = check::open_unit("delta", delta)?;
    if errors > n {
        return Err(Error::Inconsistent { reason: format!("errors = {errors} exceeds n = {n}") });
    }
    if errors == n {
        return Ok(1.0);
    }
    let tail = LogTail::new(errors, n);
    // ln δ rounded down: the test below must be at least as strict as the exact one.
    let ln_delta = delta.ln();
    let ln_delta = ln_delta - 4.0 * f64::EPSILON * ln_delta.abs();
    let below = |p: f64| {
        let (value, error) = tail.ln_value(p);
        value + error < ln_delta
    };
    // F(0) = 1 ≥ δ (not below); F(1) = 0 < δ (certainly below) since errors < n.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while f64::from_bits(lo.to_bits() + 1) < hi {
        let mid = f64::from_bits(lo.to_bits() + (hi.to_bits() - lo.to_bits()) / 2);
        if below(mid) { hi = mid } else { lo = mid }
    }
    // `hi` is certified above the exact bound; four more ulps cover the ulp of the bisection itself.
    Ok(f64::from_bits(hi.to_bits() + 4).min(1.0))
}

/// The lower tail $\ln \Pr[\mathrm{Bin}(n, p) \le k]$ with its rounding-error bound.
///
/// The error bound is deliberately generous (factors of 2–4 over a first-order analysis): a few
/// ulps of looseness cost nothing, an optimistic bound is what must never happen.
pub fn binomial_ln_cdf(errors: u64, n: u64, p: f64) -> Result<f64> {
    let n = check::count("n", n)?;
    let p = check::probability("p", p)?;
    if errors > n {
        return Err(Error::Inconsistent { reason: format!("errors = {errors} exceeds n = {n}") });
    }
    if errors == n {
        return Ok(0.0);
    }
    Ok(LogTail::new(errors, n).ln_value(p).0)
}

struct LogTail {
    n: u64,
    /// $\ln\binom{n}{i}$ for $i = 0..=k$, each with an absolute error bound.
    ln_choose: Vec<(f64, f64)>,
}

impl LogTail {
    fn new(k: u64, n: u64) -> Self {
        let eps = f64::EPSILON;
        let mut ln_choose = Vec::with_capacity(k as usize + 1);
        let (mut s, mut err) = (0.0_f64, 0.0_f64);
        ln_choose.push((s, err));
        for i in 1..=k {
            // ln((n − i + 1)/i): the quotient has relative error ≤ ε/2 (absolute ≤ ε/2 after ln),
            // ln adds ≤ 1 ulp of its result; the sum adds ≤ ε/2 of |s|.
            let step = ((n - i + 1) as f64 / i as f64).ln();
            s += step;
            err += 2.0 * eps * (1.0 + step.abs() + s.abs());
            ln_choose.push((s, err));
        }
        Self { n, ln_choose }
    }

    /// $(\ln F(p), e)$ with $|\ln F(p) - \text{computed}| \le e$ (rigorously, with margin).
    fn ln_value(&self, p: f64) -> (f64, f64) {
        let eps = f64::EPSILON;
        let k = self.ln_choose.len() - 1;
        if p <= 0.0 {
            return (0.0, 0.0);
        }
        if p >= 1.0 {
            return (f64::NEG_INFINITY, 0.0);
        }
        // ln p and ln(1 − p) (ln_1p(−p) is exact to ≤ 1 ulp; −p is exact).
        let (lp, lq) = (p.ln(), (-p).ln_1p());
        let mut terms = Vec::with_capacity(k + 1);
        let mut max_err = 0.0_f64;
        for (i, &(lc, lc_err)) in self.ln_choose.iter().enumerate() {
            let (a, b) = (i as f64 * lp, (self.n - i as u64) as f64 * lq);
            let value = lc + a + b;
            // Each of lp, lq is within 1 ulp; products and sums add ≤ ε/2 of their magnitudes each.
            let err = lc_err + 4.0 * eps * (lc.abs() + a.abs() + b.abs() + value.abs());
            max_err = max_err.max(err);
            terms.push(value);
        }
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top == f64::NEG_INFINITY {
            return (f64::NEG_INFINITY, 0.0);
        }
        // Σ exp(t − top) ≥ 1; each exp within 2 ulps after the subtraction (≤ ε/2 · |t − top|
        // absolute in its argument, covered by 4ε|value| above), the sum of m positive terms within
        // mε relative; underflowed terms lose < 2^-1074 each.
        let sum: f64 = terms.iter().map(|t| (t - top).exp()).sum();
        let m = terms.len() as f64;
        let sum_err_rel = 2.0 * (m + 4.0) * eps + m * f64::from_bits(1);
        let value = top + sum.ln();
        let err = max_err + 2.0 * sum_err_rel + 4.0 * eps * (top.abs() + value.abs() + 1.0);
        (value, 2.0 * err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_errors_match_the_closed_form_from_above() {
        for (n, delta) in [(1u64, 0.5f64), (10, 0.05), (1_000, 0.01), (100_000, 1e-9)] {
            let exact = -(delta.ln() / n as f64).exp_m1();
            let p = binomial_tail_upper(0, n, delta).unwrap();
            assert!(p >= exact && p - exact <= 1e-12 * exact, "n = {n}: {p} vs {exact}");
        }
    }

    #[test]
    fn all_errors_give_one_and_bad_input_is_an_error() {
        assert!((binomial_tail_upper(7, 7, 0.05).unwrap() - 1.0).abs() < 1e-300);
        assert!(binomial_tail_upper(8, 7, 0.05).is_err());
        assert!(binomial_tail_upper(1, 0, 0.05).is_err());
        assert!(binomial_tail_upper(1, 7, 0.0).is_err());
        assert!(binomial_tail_upper(1, 7, 1.0).is_err());
        assert!(binomial_tail_upper(1, 7, f64::NAN).is_err());
    }

    #[test]
    fn the_tail_at_the_bound_is_below_delta() {
        for (k, n, delta) in [(543u64, 29_997u64, 0.025), (3, 50, 0.1), (499, 1_000, 0.01)] {
            let p = binomial_tail_upper(k, n, delta).unwrap();
            assert!(binomial_ln_cdf(k, n, p).unwrap() < delta.ln());
            // One part in 1e-10 lower, the tail is already above δ: the bound is tight.
            assert!(binomial_ln_cdf(k, n, p * (1.0 - 1e-10)).unwrap() > delta.ln());
        }
    }
}
