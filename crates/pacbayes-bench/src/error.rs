//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong, with the offending setting or file named.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting outside its domain.
    #[error("{name} = {value} is invalid: expected {expected}")]
    InvalidSetting {
        /// The setting (`threads`, `examples`, ...).
        name: &'static str,
        /// The value received, as text.
        value: String,
        /// The domain, in words.
        expected: &'static str,
    },
    /// The data could not be loaded or split.
    #[error(transparent)]
    Data(#[from] pacbayes_data::Error),
    /// The network failed (a candle error or an input that does not fit).
    #[error(transparent)]
    Network(#[from] pacbayes_nn::Error),
    /// Fitting a prior failed.
    #[error(transparent)]
    Prior(#[from] pacbayes_prior::Error),
    /// Training a posterior failed.
    #[error(transparent)]
    Posterior(#[from] pacbayes_posterior::Error),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// The training objective stopped being finite.
    #[error("the objective is {value} at step {step}")]
    Diverged {
        /// The step, from 1.
        step: usize,
        /// The objective's value.
        value: f64,
    },
    /// Writing the results failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
