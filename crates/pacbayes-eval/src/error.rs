//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong, with the offending setting, field or file named.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting outside its domain.
    #[error("{name} = {value} is invalid: expected {expected}")]
    InvalidSetting {
        /// The setting (`delta`, `p_min`, `repetitions`, ...).
        name: &'static str,
        /// The value received, as text.
        value: String,
        /// The domain, in words.
        expected: &'static str,
    },
    /// A data set that cannot be evaluated (empty, or not fitting the network).
    #[error("{what}: {reason}")]
    InvalidData {
        /// Which set (`S_bound`, `test set`).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A certificate record that does not check: a recomputed quantity differs from the recorded
    /// one, or two recorded quantities contradict each other.
    #[error("certificate rejected: {field}: {reason}")]
    Rejected {
        /// The field of `certificate.json` at fault (`zero_one.bound`, `split.n_bound`, ...).
        field: String,
        /// What does not match.
        reason: String,
    },
    /// A table setting naming a column the table does not have.
    #[error("{setting}: {name:?} is not a column of the table (columns: {known})")]
    UnknownColumn {
        /// The setting (`columns`, `group_by`).
        setting: &'static str,
        /// The name given.
        name: String,
        /// The columns there are.
        known: String,
    },
    /// Certificates made by different code, gathered in one table without leave to mix them.
    #[error(
        "{run} was made by code {code} but {first_run} by {first_code}: a table holds the runs of one \
         code"
    )]
    MixedCode {
        /// The first run of the table.
        first_run: String,
        /// Its code ([`pacbayes_provenance::Provenance::code`]).
        first_code: String,
        /// The first run made by other code.
        run: String,
        /// Its code.
        code: String,
    },
    /// The bound arithmetic refused its inputs.
    #[error(transparent)]
    Bounds(#[from] pacbayes_bounds::Error),
    /// The network failed (a candle error or an input that does not fit).
    #[error(transparent)]
    Network(#[from] pacbayes_nn::Error),
    /// A table could not be built or written.
    #[error("table: {0}")]
    Table(#[from] polars::error::PolarsError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file that is not a certificate at all (another record, or JSON of another kind).
    #[error("{path} is not a certificate: {reason}")]
    NotACertificate {
        /// The file.
        path: PathBuf,
        /// What it lacks.
        reason: String,
    },
    /// A file that is not valid JSON for what it should hold.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Self::Network(pacbayes_nn::Error::Candle(e))
    }
}

impl Error {
    /// True when the error was caused by the input (a setting, a file, a certificate) rather than
    /// by a failure of the program.
    pub fn is_input(&self) -> bool {
        match self {
            Self::Network(e) => e.is_input(),
            Self::Table(_) => false,
            _ => true,
        }
    }

    pub(crate) fn rejected(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Rejected { field: field.into(), reason: reason.into() }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
