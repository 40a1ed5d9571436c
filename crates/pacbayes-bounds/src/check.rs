//! Domain checks shared by every entry point, so that no NaN or out-of-range value reaches the math.

use crate::{Error, Result};

/// `x` ∈ [0, 1].
pub(crate) fn probability(name: &'static str, x: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(Error::InvalidValue { name, value: x, expected: "a number in [0, 1]" })
    }
}

/// `x` ∈ (0, 1), as a confidence parameter must be.
pub(crate) fn open_unit(name: &'static str, x: f64) -> Result<f64> {
    if x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(Error::InvalidValue { name, value: x, expected: "a number in (0, 1)" })
    }
}

/// `x` ≥ 0 and not NaN; +∞ is allowed.
pub(crate) fn non_negative(name: &'static str, x: f64) -> Result<f64> {
    if x >= 0.0 {
        Ok(x)
    } else {
        Err(Error::InvalidValue { name, value: x, expected: "a non-negative number" })
    }
}

/// `x` ≥ 0 and finite.
pub(crate) fn finite_non_negative(name: &'static str, x: f64) -> Result<f64> {
    if x >= 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err(Error::InvalidValue { name, value: x, expected: "a finite non-negative number" })
    }
}

/// `x` > 0 and finite.
pub(crate) fn positive(name: &'static str, x: f64) -> Result<f64> {
    if x > 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err(Error::InvalidValue { name, value: x, expected: "a finite positive number" })
    }
}

/// `x` moved up by 8ε relative: covers the rounding error of a short sum of non-negative terms.
pub(crate) fn round_up(x: f64) -> f64 {
    x + 8.0 * f64::EPSILON * x.abs()
}

/// A count ≥ 1.
pub(crate) fn count(name: &'static str, n: u64) -> Result<u64> {
    if n == 0 { Err(Error::ZeroCount { name }) } else { Ok(n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_fails_every_check() {
        assert!(probability("q", f64::NAN).is_err());
        assert!(open_unit("delta", f64::NAN).is_err());
        assert!(non_negative("c", f64::NAN).is_err());
        assert!(finite_non_negative("kl", f64::NAN).is_err());
        assert!(positive("sigma", f64::NAN).is_err());
    }

    #[test]
    fn boundaries() {
        assert!(probability("q", 0.0).is_ok() && probability("q", 1.0).is_ok());
        assert!(open_unit("delta", 0.0).is_err() && open_unit("delta", 1.0).is_err());
        assert!(non_negative("c", f64::INFINITY).is_ok());
        assert!(finite_non_negative("kl", f64::INFINITY).is_err());
        assert!(positive("sigma", 0.0).is_err());
        assert_eq!(count("n", 0), Err(Error::ZeroCount { name: "n" }));
    }
}
