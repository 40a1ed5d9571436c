//! Numbers as a table shows them: upper bounds rounded up, lower bounds down, other figures to the
//! nearest, at a given number of decimals, decided on the exact binary value of the f64.
//!
//! ```
//! use pacbayes_eval::{Kind, show};
//!
//! assert_eq!(show(0.020916, Kind::UpperBound, 4), "0.0210");
//! assert_eq!(show(0.020916, Kind::LowerBound, 4), "0.0209");
//! assert_eq!(show(0.020916, Kind::Estimate, 4), "0.0209");
//! assert_eq!(show(0.025, Kind::Setting, 4), "0.025"); // settings exactly as given
//! // Decided on the exact value of the f64: the one nearest 0.0209 lies below 0.0209, the one
//! // nearest 0.1 above 0.1 (0.1000000000000000055…), so the latter is shown one unit higher.
//! assert_eq!(show(0.0209, Kind::UpperBound, 4), "0.0209");
//! assert_eq!(show(0.1, Kind::UpperBound, 4), "0.1001");
//! assert_eq!(show(0.5, Kind::UpperBound, 4), "0.5000");
//! ```

/// How a figure of a table may be rounded for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An upper bound (a certificate): rounded up, so the shown value is never below it.
    UpperBound,
    /// A lower bound: rounded down.
    LowerBound,
    /// A measured or computed figure that bounds nothing (an error rate, a KL, a difference):
    /// rounded to the nearest.
    Estimate,
    /// A setting (δ, α, p_min): shown exactly, in its shortest form.
    Setting,
}

/// Decimals enough to write any f64 exactly (its binary fraction has at most 1074 digits).
const EXACT: usize = 1100;

/// `x` rounded to `decimals` decimals in the direction of `kind`. Non-finite values are shown as
/// `NaN`, `inf` and `-inf`.
pub fn show(x: f64, kind: Kind, decimals: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let x = if x == 0.0 { 0.0 } else { x }; // no "-0"
    match kind {
        Kind::Setting => x.to_string(),
        Kind::Estimate => {
            let s = format!("{x:.decimals$}");
            if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
                s.trim_start_matches('-').to_owned()
            } else {
                s
            }
        }
        Kind::UpperBound => directed(x, decimals, true),
        Kind::LowerBound => directed(x, decimals, false),
    }
}

/// `x` rounded toward +∞ (`up`) or −∞ at `decimals` decimals.
fn directed(x: f64, decimals: usize, up: bool) -> String {
    if x < 0.0 {
        // Rounding −x the other way and negating rounds x the asked way.
        let s = directed(-x, decimals, !up);
        return if s.chars().all(|c| c == '0' || c == '.') { s } else { format!("-{s}") };
    }
    let exact = format!("{x:.EXACT$}");
    let (int, frac) = exact.split_once('.').expect("a fixed-point form has a point");
    let (kept, rest) = frac.split_at(decimals);
    let mut digits: Vec<u8> = int.bytes().chain(kept.bytes()).collect();
    if up && rest.bytes().any(|b| b != b'0') {
        increment(&mut digits);
    }
    let split = digits.len() - decimals;
    let (int, frac) = digits.split_at(split);
    let int = String::from_utf8(int.to_vec()).expect("ASCII digits");
    let frac = String::from_utf8(frac.to_vec()).expect("ASCII digits");
    if decimals == 0 { int } else { format!("{int}.{frac}") }
}

/// Adds one unit in the last place of a string of decimal digits.
fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, b'1');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_and_carries() {
        assert_eq!(show(0.99995, Kind::UpperBound, 4), "1.0000");
        assert_eq!(show(9.99, Kind::UpperBound, 1), "10.0");
        assert_eq!(show(0.25, Kind::UpperBound, 2), "0.25", "exact values stay");
        assert_eq!(show(0.123, Kind::UpperBound, 0), "1");
        assert_eq!(show(-0.0209, Kind::UpperBound, 3), "-0.020");
        assert_eq!(show(-0.0209, Kind::LowerBound, 3), "-0.021");
        assert_eq!(show(-0.00001, Kind::UpperBound, 3), "0.000");
        assert_eq!(show(-0.00001, Kind::Estimate, 3), "0.000");
        assert_eq!(show(6.3e-6, Kind::Estimate, 4), "0.0000");
        assert_eq!(show(6.3e-6, Kind::UpperBound, 4), "0.0001");
        assert_eq!(show(1e-5, Kind::Setting, 4), "0.00001");
        assert_eq!(show(f64::NAN, Kind::UpperBound, 4), "NaN");
        assert_eq!(show(-0.0, Kind::LowerBound, 2), "0.00");
    }
}
