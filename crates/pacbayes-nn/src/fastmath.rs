//! e^y and ln(1 + u) in f32, and ln(r) in f64, written without calls or branches so that a loop
//! over a slice compiles to SIMD code.
//!
//! libm's `expf`, `log1pf` and `log1p` are calls the compiler cannot vectorize; on the ~500k
//! parameters of the MNIST FCN, softplus and the KL spent more time in them than the matrix
//! products took. These versions use the textbook range reductions and short polynomials, with
//! errors within a few ulps of the correctly rounded results (the tests check it against f64).

use std::f32::consts::LN_2 as LN_2_F32;
use std::f64::consts::{LN_2, SQRT_2};

/// ln 2 split as a high part with trailing zero bits (so k·hi is exact for |k| < 2⁸) and the rest.
const LN_2_HI: f32 = 0.693_145_75;
const LN_2_LO: f32 = 1.428_606_8e-6;

/// 1.5·2²³: adding it to an f32 of magnitude below 2²² leaves the integer part in the mantissa.
const ROUND_F32: f32 = 12_582_912.0;

/// 2⁵²: the f64 whose mantissa bits are an integer n below 2⁵² is 2⁵² + n.
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// The smallest exponent [`exp`] is evaluated at: e^−87 ≈ 1.6·10⁻³⁸ keeps the result a normal f32.
pub(crate) const EXP_MIN: f32 = -87.0;

/// e^y for y ≤ 88 (larger y overflow to +∞), floored at e^−87 for smaller y. NaN stays NaN.
///
/// y = k·ln 2 + f with k = round(y / ln 2), |f| ≤ ln2 / 2, e^f by its Taylor polynomial of degree 7
/// (truncation below 5·10⁻⁹ relative), and 2^k put into the exponent bits.
#[inline(always)]
pub(crate) fn exp(y: f32) -> f32 {
    let y = if y < EXP_MIN { EXP_MIN } else { y };
    let y = if y > 88.5 { 88.5 } else { y };
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer with plain SSE2 arithmetic
    // (`round_ties_even` would be a call to `rintf` on the baseline x86-64 target).
    let k = (y * (1.0 / LN_2_F32) + ROUND_F32) - ROUND_F32;
    let f = (y - k * LN_2_HI) - k * LN_2_LO;
    let mut p = 1.0 / 5040.0;
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p * f + c;
    }
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    p * scale
}

/// ln(1 + u) for u in [0, 1] (NaN stays NaN): 2·atanh(s) with s = u / (2 + u) ≤ 1/3, by its series
/// up to s¹⁵ (truncation below 10⁻⁸ relative).
#[inline(always)]
pub(crate) fn ln_1p_unit(u: f32) -> f32 {
    let s = u / (2.0 + u);
    let s2 = s * s;
    let mut p = 1.0 / 15.0;
    for c in [1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0] {
        p = p * s2 + c;
    }
    2.0 * s * p
}

/// ln(r) − (r − 1) for a normal, positive, finite f64 r (the caller checks), to about 10⁻⁹
/// relative, also when r is close to 1, where it is ≈ −(r − 1)²/2 (no cancellation).
///
/// r = m·2^e with m in [√½, √2); ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172, by its series
/// up to s¹³ (truncation below 2·10⁻¹⁰ of the result). For e = 0, m − 1 = r − 1 exactly and
/// 2·atanh(s) − (m − 1) = −s·(m − 1) + 2s·(s²/3 + s⁴/5 + …), with no cancellation.
#[inline(always)]
pub(crate) fn ln_minus_linear(r: f64) -> f64 {
    let bits = r.to_bits();
    // The biased exponent as an f64 without an integer conversion (none is SIMD on SSE2).
    let e = (f64::from_bits(TWO_52.to_bits() | ((bits >> 52) & 0x7ff)) - TWO_52) - 1023.0;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let (m, e) = if m > SQRT_2 { (0.5 * m, e + 1.0) } else { (m, e) };
    let x = r - 1.0;
    let d = m - 1.0;
    let s = d / (m + 1.0);
    let s2 = s * s;
    let mut p = 1.0 / 13.0;
    for c in [1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0] {
        p = p * s2 + c;
    }
    // 2·atanh(s) = d − s·d + 2s·s²·p, since 2s = d − s·d exactly in real arithmetic.
    let ln_m_minus_d = 2.0 * s * s2 * p - s * d;
    // ln r − x = (e·ln 2 + d − x) + (ln m − d); for e = 0 the first part is exactly 0.
    (e * LN_2 + (d - x)) + ln_m_minus_d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> impl Iterator<Item = f64> {
        (-4000..=4000).map(|i| f64::from(i) / 100.0)
    }

    #[test]
    fn exp_is_within_a_few_ulps() {
        for y in grid().filter(|y| *y >= -87.0 && *y <= 88.0) {
            let got = f64::from(exp(y as f32));
            let want = f64::from(y as f32).exp();
            assert!((got - want).abs() <= 4e-7 * want, "exp({y}) = {got}, want {want}");
        }
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(-1000.0) > 0.0 && exp(1000.0).is_infinite());
    }

    #[test]
    fn ln_1p_is_within_a_few_ulps() {
        for i in 0..=10_000 {
            let u = (f64::from(i) / 10_000.0).powi(3);
            let got = f64::from(ln_1p_unit(u as f32));
            let want = f64::from(u as f32).ln_1p();
            assert!((got - want).abs() <= 3e-7 * want, "ln_1p({u}) = {got}, want {want}");
        }
        assert!(ln_1p_unit(f32::NAN).is_nan());
    }

    #[test]
    fn ln_minus_linear_matches_libm_and_keeps_accuracy_near_one() {
        for y in grid() {
            let r = y.exp();
            let (got, want) = (ln_minus_linear(r), r.ln() - (r - 1.0));
            assert!((got - want).abs() <= 1e-9 * want.abs() + 1e-15, "r = {r}: {got} vs {want}");
        }
        // ln(1 + x) − x = Σ_{n≥2} (−1)^{n+1} xⁿ/n, summed from the smallest term.
        let series = |x: f64| (2..60).rev().map(|n| -(-x).powi(n) / f64::from(n)).sum::<f64>();
        for k in 2..40 {
            let x = 0.5_f64.powi(k);
            for r in [1.0 + x, 1.0 - x] {
                let want = series(r - 1.0);
                let got = ln_minus_linear(r);
                assert!((got - want).abs() <= 1e-9 * want.abs(), "r = 1 ± 2^-{k}: {got} vs {want}");
            }
        }
    }
}
