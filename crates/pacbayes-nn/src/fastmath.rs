//! e^y, ln(1 + u) and ln(r) − (r − 1) in f32, written without calls or branches
//! so that a loop over a slice compiles to SIMD code.
//!
//! libm's `expf`, `log1pf` and `log1p` are calls the compiler cannot vectorize; on the ~500k
//! parameters of the MNIST FCN, softplus and the KL spent more time in them than the matrix
//! products took. These versions use the textbook range reductions and short polynomials, with
//! errors within a few ulps of the correctly rounded results (the tests check it against f64).

use std::f32::consts::{LN_2 as LN_2_F32, SQRT_2 as SQRT_2_F32};

/// ln 2 split as a high part with trailing zero bits (so k·hi is exact for |k| < 2⁸) and the rest.
const LN_2_HI: f32 = 0.693_145_75;
const LN_2_LO: f32 = 1.428_606_8e-6;

/// 1.5·2²³: adding it to an f32 of magnitude below 2²² leaves the integer part in the mantissa.
const ROUND_F32: f32 = 12_582_912.0;

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

/// ln(r) − (r − 1) for a normal, positive, finite f32 r (the caller checks), within a few ulps of
/// the result (also when r is close to 1, where it is ≈ −(r − 1)²/2), by the reduction
/// r = m·2^e with m in [√½, √2), ln m = 2·atanh(s) with |s| ≤ 0.172 by
/// its series up to s⁹ (truncation below 3·10⁻⁹ of the result).
#[inline(always)]
pub(crate) fn ln_minus_linear_f32(r: f32) -> f32 {
    let bits = r.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let (m, e) = if m > SQRT_2_F32 { (0.5 * m, e + 1) } else { (m, e) };
    let x = r - 1.0;
    let d = m - 1.0;
    let s = d / (m + 1.0);
    let s2 = s * s;
    let mut p = 1.0 / 9.0;
    for c in [1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0] {
        p = p * s2 + c;
    }
    (e as f32 * LN_2_F32 + (d - x)) + (2.0 * s * s2 * p - s * d)
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
    fn ln_minus_linear_f32_is_within_a_few_ulps() {
        let check = |r: f32| {
            let want = f64::from(r).ln() - (f64::from(r) - 1.0);
            let got = f64::from(ln_minus_linear_f32(r));
            assert!((got - want).abs() <= 1e-6 * want.abs() + 1e-30, "r = {r}: {got} vs {want}");
        };
        grid().filter(|y| y.abs() <= 80.0).for_each(|y| check(y.exp() as f32));
        for k in 1..24 {
            let x = 0.5_f32.powi(k);
            check(1.0 + x);
            check(1.0 - x);
        }
        assert!(ln_minus_linear_f32(1.0).abs() < f32::MIN_POSITIVE);
    }
}
