//! Value parsers that reject NaN and out-of-domain numbers at the command line, naming the domain.

fn number(s: &str) -> Result<f64, String> {
    let x: f64 = s.trim().parse().map_err(|_| "expected a number".to_owned())?;
    if x.is_nan() { Err("expected a number, not NaN".to_owned()) } else { Ok(x) }
}

/// A number in [0, 1].
pub(crate) fn probability(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if (0.0..=1.0).contains(&x) { Ok(x) } else { Err("expected a number in [0, 1]".to_owned()) }
}

/// A number in (0, 1).
pub(crate) fn open_unit(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if x > 0.0 && x < 1.0 { Ok(x) } else { Err("expected a number in (0, 1)".to_owned()) }
}

/// A finite number ≥ 0.
pub(crate) fn non_negative(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if x >= 0.0 && x.is_finite() { Ok(x) } else { Err("expected a finite number >= 0".to_owned()) }
}

/// A whole number ≥ 1.
pub(crate) fn positive_count(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err("expected a whole number >= 1".to_owned()),
        Ok(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert!(probability("nan").is_err() && probability("1.01").is_err() && probability("1").is_ok());
        assert!(open_unit("0").is_err() && open_unit("1").is_err() && open_unit("0.5").is_ok());
        assert!(non_negative("-1").is_err() && non_negative("inf").is_err() && non_negative("0").is_ok());
        assert!(positive_count("0").is_err() && positive_count("-3").is_err() && positive_count("7").is_ok());
    }
}
