//! Inverses of the binary kl in its second argument, certified to err only outward.
//!
//! $$\mathrm{kl}^{-1}_{\uparrow}(q, c) = \sup\\{p \in [q, 1] : \mathrm{kl}(q\|p) \le c\\},\qquad
//! \mathrm{kl}^{-1}_{\downarrow}(q, c) = \inf\\{p \in [0, q] : \mathrm{kl}(q\|p) \le c\\}.$$
//!
//! A root found by a floating-point solver can land a hair on either side of the true inverse, and a
//! bound that lands below it is optimistic. So the root from argmin's Brent solver is only a starting
//! point: it is then bracketed between two doubles, one where the exact kl is *certainly* at least
//! `c` (its computed value minus a rigorous bound on its rounding error is ≥ `c`) and one where it
//! is not, and the bracket is bisected on the bit patterns of the doubles until the two are adjacent.
//! The returned end is one where the exact kl is certainly ≥ `c`, hence on the safe side of the true
//! inverse, and within a few ulps of it.

use argmin::core::{CostFunction, Error as ArgminError, Executor};
use argmin::solver::brent::BrentRoot;

use crate::kl::KlTerms;
use crate::{Result, check};

/// The largest $p$ with $\mathrm{kl}(q\|p) \le c$ (1 when every $p < 1$ qualifies).
///
/// The result is never below the exact inverse and is within $10^{-12}$ of it relatively.
/// $q = 1$ gives 1; $c = 0$ gives $q$; $c = +\infty$ gives 1.
///
/// # Errors
/// When `q` is NaN or outside [0, 1], or `c` is NaN or negative.
///
/// ```
/// # use pacbayes_bounds::{kl, kl_inv_upper};
/// let p = kl_inv_upper(0.02, 0.01)?;
/// assert!(p > 0.02 && kl(0.02, p)? >= 0.01);
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn kl_inv_upper(q: f64, c: f64) -> Result<f64> {
    let q = check::probability("q", q)?;
    let c = check::non_negative("c", c)?;
    if c <= 0.0 {
        return Ok(q);
    }
    if q >= 1.0 || c.is_infinite() {
        return Ok(1.0);
    }
    let top = prev_double(1.0);
    if !KlTerms::new(q, top).certainly_at_least(c) {
        // Every double below one is within reach: the supremum is 1 itself.
        return Ok(1.0);
    }
    // Pinsker's inequality kl(q‖p) ≥ 2(p − q)² brackets the root.
    let hi = (q + (c / 2.0).sqrt()).min(top);
    let guess = brent_root(q, c, q, hi).unwrap_or(hi);
    Ok(certify_upper(q, c, guess.clamp(q, top)))
}

/// The smallest $p$ with $\mathrm{kl}(q\|p) \le c$ (0 when every $p > 0$ qualifies).
///
/// The result is never above the exact inverse. $q = 0$ gives 0; $c = 0$ gives $q$.
///
/// # Errors
/// When `q` is NaN or outside [0, 1], or `c` is NaN or negative.
pub fn kl_inv_lower(q: f64, c: f64) -> Result<f64> {
    let q = check::probability("q", q)?;
    let c = check::non_negative("c", c)?;
    if c <= 0.0 {
        return Ok(q);
    }
    if q <= 0.0 || c.is_infinite() {
        return Ok(0.0);
    }
    let bottom = f64::MIN_POSITIVE;
    if !KlTerms::new(q, bottom).certainly_at_least(c) {
        return Ok(0.0);
    }
    let lo = (q - (c / 2.0).sqrt()).max(bottom);
    let guess = brent_root(q, c, lo, q).unwrap_or(lo);
    Ok(certify_lower(q, c, guess.clamp(bottom, q)))
}

/// The root of $p \mapsto \mathrm{kl}(q\|p) - c$ in `[lo, hi]` by argmin's Brent solver, if it finds one.
fn brent_root(q: f64, c: f64, lo: f64, hi: f64) -> Option<f64> {
    struct Shifted {
        q: f64,
        c: f64,
    }
    impl CostFunction for Shifted {
        type Param = f64;
        type Output = f64;
        fn cost(&self, p: &f64) -> std::result::Result<f64, ArgminError> {
            Ok(KlTerms::new(self.q, *p).value() - self.c)
        }
    }
    let solver = BrentRoot::new(lo, hi, 0.0);
    let result =
        Executor::new(Shifted { q, c }, solver).configure(|state| state.max_iters(200)).run().ok()?;
    result.state.best_param.filter(|p| p.is_finite())
}

/// The smallest double in (q, 1) found where the exact kl is certainly ≥ c, starting near `guess`.
fn certify_upper(q: f64, c: f64, guess: f64) -> f64 {
    let safe = |p: f64| KlTerms::new(q, p).certainly_at_least(c);
    // Bracket: `lo` not certified (q itself, where kl = 0 < c, always qualifies), `hi` certified.
    let (mut lo, mut hi) = if safe(guess) {
        (expand(guess, |p| p > q && safe(p), Direction::Down).max(q), guess)
    } else {
        (guess, expand(guess, |p| p < 1.0 && !safe(p), Direction::Up).min(1.0))
    };
    if !safe(hi) {
        return 1.0;
    }
    while next_double(lo) < hi {
        let mid = bit_midpoint(lo, hi);
        if safe(mid) { hi = mid } else { lo = mid }
    }
    hi
}

/// The largest double in (0, q) found where the exact kl is certainly ≥ c, starting near `guess`.
fn certify_lower(q: f64, c: f64, guess: f64) -> f64 {
    let safe = |p: f64| KlTerms::new(q, p).certainly_at_least(c);
    // Bracket: `lo` certified, `hi` not (q itself, where kl = 0 < c).
    let (mut lo, mut hi) = if safe(guess) {
        (guess, expand(guess, |p| p < q && safe(p), Direction::Up).min(q))
    } else {
        (expand(guess, |p| p > 0.0 && !safe(p), Direction::Down).max(0.0), guess)
    };
    if !safe(lo) {
        return 0.0;
    }
    while next_double(lo) < hi {
        let mid = bit_midpoint(lo, hi);
        if safe(mid) { lo = mid } else { hi = mid }
    }
    lo
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

/// Steps away from `start` by doubling distances while `keep_going` holds; returns the first point
/// where it fails (possibly beyond [0, 1], which the callers clamp).
fn expand(start: f64, keep_going: impl Fn(f64) -> bool, direction: Direction) -> f64 {
    let mut step = start.abs().max(f64::MIN_POSITIVE) * 4.0 * f64::EPSILON;
    loop {
        let p = match direction {
            Direction::Up => start + step,
            Direction::Down => start - step,
        };
        if !keep_going(p) {
            return p;
        }
        step *= 2.0;
    }
}

/// The double halfway between two non-negative doubles in ulps (their bit patterns are ordered).
fn bit_midpoint(lo: f64, hi: f64) -> f64 {
    let (a, b) = (lo.to_bits(), hi.to_bits());
    f64::from_bits(a + (b - a) / 2)
}

fn next_double(x: f64) -> f64 {
    f64::from_bits(x.to_bits() + 1)
}

fn prev_double(x: f64) -> f64 {
    f64::from_bits(x.to_bits() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kl;

    #[test]
    fn exact_cases() {
        assert_eq!(kl_inv_upper(0.3, 0.0).unwrap().to_bits(), 0.3f64.to_bits());
        assert_eq!(kl_inv_lower(0.3, 0.0).unwrap().to_bits(), 0.3f64.to_bits());
        assert_eq!(kl_inv_upper(1.0, 0.5).unwrap().to_bits(), 1f64.to_bits());
        assert_eq!(kl_inv_lower(0.0, 0.5).unwrap().to_bits(), 0u64);
        assert_eq!(kl_inv_upper(0.2, 1e6).unwrap().to_bits(), 1f64.to_bits());
        assert_eq!(kl_inv_upper(0.2, f64::INFINITY).unwrap().to_bits(), 1f64.to_bits());
        assert_eq!(kl_inv_lower(0.2, 1e6).unwrap().to_bits(), 0u64);
    }

    #[test]
    fn q_zero_matches_the_closed_form_from_above() {
        for c in [1e-300_f64, 1e-12, 1e-3, 0.5, 5.0, 30.0] {
            let exact = -(-c).exp_m1();
            let p = kl_inv_upper(0.0, c).unwrap();
            assert!(p >= exact && (p - exact) <= 1e-14 * exact, "c = {c}: {p} vs {exact}");
        }
    }

    #[test]
    fn q_one_lower_matches_the_closed_form_from_below() {
        for c in [1e-12_f64, 1e-3, 0.5, 5.0, 300.0] {
            let exact = (-c).exp();
            let p = kl_inv_lower(1.0, c).unwrap();
            assert!(p <= exact && (exact - p) <= 1e-12 * exact, "c = {c}: {p} vs {exact}");
        }
    }

    #[test]
    fn the_returned_point_satisfies_the_constraint_it_certifies() {
        for (q, c) in [(0.024, 0.0123), (0.5, 1e-9), (1e-6, 3.0), (0.97, 0.01), (0.3, 1e-15)] {
            let up = kl_inv_upper(q, c).unwrap();
            let low = kl_inv_lower(q, c).unwrap();
            assert!(kl(q, up).unwrap() >= c, "upper ({q}, {c})");
            assert!(kl(q, low).unwrap() >= c, "lower ({q}, {c})");
            // Moving inward by 1e-12 (relative) no longer reaches c: the ends are tight.
            assert!(kl(q, up * (1.0 - 1e-12)).unwrap() < c, "upper tight ({q}, {c})");
            assert!(low <= 0.0 || kl(q, low * (1.0 + 1e-12)).unwrap() < c, "lower tight ({q}, {c})");
        }
    }

    #[test]
    fn invalid_arguments_are_errors() {
        assert!(kl_inv_upper(f64::NAN, 0.1).is_err());
        assert!(kl_inv_upper(0.1, f64::NAN).is_err());
        assert!(kl_inv_upper(1.1, 0.1).is_err());
        assert!(kl_inv_upper(0.1, -1e-300).is_err());
        assert!(kl_inv_lower(-0.1, 0.1).is_err());
    }
}
