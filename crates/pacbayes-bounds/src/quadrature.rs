//! Simpson's rule, for the tests that check closed forms against numerical integration.

/// ∫ₐᵇ f by Simpson's rule with `steps` (even) intervals.
pub(crate) fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, steps: usize) -> f64 {
    let h = (b - a) / steps as f64;
    let inner: f64 = (1..steps).map(|i| f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 }).sum();
    h / 3.0 * (f(a) + f(b) + inner)
}

/// ∫ f over ±`wide` around the two kinks `m1`, `m2` of a Laplace-type integrand, split at them.
pub(crate) fn around_kinks(f: impl Fn(f64) -> f64 + Copy, m1: f64, m2: f64, wide: f64, steps: usize) -> f64 {
    let (lo, hi) = (m1.min(m2), m1.max(m2));
    let middle = if hi > lo { simpson(f, lo, hi, steps) } else { 0.0 };
    simpson(f, lo - wide, lo, steps) + middle + simpson(f, hi, hi + wide, steps)
}
