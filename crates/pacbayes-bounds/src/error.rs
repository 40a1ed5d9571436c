//! The one error type of this crate.

/// What went wrong, with the offending argument named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A real-valued argument outside its domain (NaN included).
    #[error("{name} = {value} is invalid: expected {expected}")]
    InvalidValue {
        /// The argument, as the formulas name it (`q`, `delta`, `kl`, ...).
        name: &'static str,
        /// The value received.
        value: f64,
        /// The domain, in words (for example "a number in (0, 1)").
        expected: &'static str,
    },
    /// A count that must be positive was zero.
    #[error("{name} = 0 is invalid: expected a positive count")]
    ZeroCount {
        /// The argument (`n`, `mc_samples`, `candidates`, ...).
        name: &'static str,
    },
    /// Two parallel slices of different lengths.
    #[error("{name} has length {len}, but {reference} has length {expected}")]
    LengthMismatch {
        /// The slice whose length is wrong.
        name: &'static str,
        /// Its length.
        len: usize,
        /// The slice it must match.
        reference: &'static str,
        /// The length of that slice.
        expected: usize,
    },
    /// Confidence parameters whose total failure probability is not below one.
    #[error("delta + delta_mc = {total} is invalid: the certificate needs a total below 1")]
    ConfidenceBudget {
        /// δ + δ′.
        total: f64,
    },
    /// A grid given with no points, or points outside the allowed range.
    #[error("{name}: {reason}")]
    InvalidGrid {
        /// Which grid (`lambda_grid`, `catoni_grid`).
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A recorded quantity that does not match its recomputation.
    #[error("{field}: recorded {recorded}, recomputed {recomputed}")]
    Mismatch {
        /// The field.
        field: &'static str,
        /// The value recorded.
        recorded: f64,
        /// The value recomputed from the recorded inputs.
        recomputed: f64,
    },
    /// Quantities that contradict each other.
    #[error("{reason}")]
    Inconsistent {
        /// What contradicts what.
        reason: String,
    },
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
