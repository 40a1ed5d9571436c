//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong while building, fitting, saving or loading a prior.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting outside its domain.
    #[error("{name} = {value} is invalid: expected {expected}")]
    InvalidSetting {
        /// The setting, as named in configuration files and flags (`sigma0`, `learning_rate`, ...).
        name: &'static str,
        /// The value received, as text.
        value: String,
        /// The domain, in words.
        expected: &'static str,
    },
    /// The prior was built for another architecture than the one asked for.
    #[error("the prior is for architecture {prior}, not {requested}")]
    ArchitectureMismatch {
        /// The prior's architecture.
        prior: String,
        /// The architecture asked for.
        requested: String,
    },
    /// The data handed to the fitter does not fit the architecture.
    #[error(
        "the prior data has {found} features per example and {classes} classes; {architecture} needs {expected} features and {needed} classes"
    )]
    DataMismatch {
        /// The architecture.
        architecture: String,
        /// Features per example it takes.
        expected: usize,
        /// Features per example of the data.
        found: usize,
        /// Its number of outputs.
        needed: usize,
        /// Classes in the data.
        classes: u32,
    },
    /// The prior split is empty, so there is nothing to learn from.
    #[error("the prior split is empty (prior_fraction = 0): a learnt prior needs prior_fraction > 0")]
    EmptyPriorSet,
    /// Training produced a loss that is NaN or infinite.
    #[error(
        "training diverged: the loss became {loss} at epoch {epoch}, step {step}; lower the learning rate"
    )]
    Diverged {
        /// The epoch (from 1).
        epoch: usize,
        /// The step within the epoch (from 1).
        step: usize,
        /// The loss value.
        loss: f64,
    },
    /// The output folder exists already: a prior is never written over another.
    #[error("{path} exists already; choose another output folder")]
    OutputExists {
        /// The folder.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A `prior.json` that cannot be parsed.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// From the stochastic-network layer (bad checkpoint, shape, NaN, ...).
    #[error(transparent)]
    Nn(#[from] pacbayes_nn::Error),
    /// From the bounds crate (a union-bound charge).
    #[error(transparent)]
    Bounds(#[from] pacbayes_bounds::Error),
    /// From the data crate (a set that cannot be built).
    #[error(transparent)]
    Data(#[from] pacbayes_data::Error),
    /// From the posterior's training (the prior fitted as a posterior on S_prior).
    #[error(transparent)]
    Posterior(#[from] pacbayes_posterior::Error),
    /// From candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// True when the error was caused by the input (a setting, a file, the data) rather than by a
    /// failure of the program.
    pub fn is_input(&self) -> bool {
        match self {
            Self::Candle(_) => false,
            Self::Posterior(e) => e.is_input(),
            _ => true,
        }
    }
}
