//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong while checking settings, training, checkpointing or saving a posterior.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting outside its domain.
    #[error("{name} = {value} is invalid: expected {expected}")]
    InvalidSetting {
        /// The setting, as named in configuration files and flags (`objective`, `delta`, ...).
        name: &'static str,
        /// The value received, as text.
        value: String,
        /// The domain, in words.
        expected: &'static str,
    },
    /// The data Q is trained on has no example.
    #[error("the training data is empty")]
    EmptyData,
    /// A term of the objective, its gradient or the parameters became NaN or infinite.
    #[error(
        "training diverged at epoch {epoch}, step {step}: the {term} became {value}; the last good checkpoint is kept; lower the learning rate"
    )]
    NonFinite {
        /// The epoch (from 1).
        epoch: usize,
        /// The step within the epoch (from 1).
        step: usize,
        /// Which term: `risk`, `kl`, `objective`, the `gradient` of the objective, or the updated
        /// `parameters` (checked at the end of each epoch, before the checkpoint).
        term: &'static str,
        /// The value it took.
        value: f64,
    },
    /// A checkpoint that cannot be resumed with these settings.
    #[error("{path}: cannot resume: {reason}")]
    Resume {
        /// The checkpoint folder.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file that cannot be parsed or written.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// Writing the metrics table failed.
    #[error("{path}: {source}")]
    Table {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: polars::error::PolarsError,
    },
    /// From the bound arithmetic (a kl inverse outside its domain).
    #[error(transparent)]
    Bounds(#[from] pacbayes_bounds::Error),
    /// From the stochastic-network layer (bad checkpoint, shape, NaN, ...).
    #[error(transparent)]
    Network(#[from] pacbayes_nn::Error),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The optimization driver failed for another reason.
    #[error("optimization failed: {0}")]
    Solver(String),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// True when the error was caused by the input (a setting, a file, a diverging configuration)
    /// rather than by a failure of the program.
    pub fn is_input(&self) -> bool {
        match self {
            Self::Network(e) => e.is_input(),
            Self::Candle(_) | Self::Solver(_) | Self::Table { .. } => false,
            _ => true,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// Back from argmin's error type: our own errors come through unchanged.
    pub(crate) fn from_argmin(err: argmin::core::Error) -> Self {
        match err.downcast::<Error>() {
            Ok(e) => e,
            Err(other) => match other.downcast::<candle_core::Error>() {
                Ok(e) => Self::Candle(e),
                Err(other) => Self::Solver(format!("{other:#}")),
            },
        }
    }
}
