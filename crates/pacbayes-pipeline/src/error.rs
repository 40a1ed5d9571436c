//! The one error type of the pipeline, and which of its errors the input caused.

use std::path::PathBuf;

/// What can go wrong in a stage of the pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting outside its domain, a combination of settings that does not fit together, or a
    /// run folder that does not hold what a stage needs; the message says what was expected.
    #[error("{message}")]
    Invalid {
        /// What was wrong, and what was expected.
        message: String,
    },
    /// A configuration text that does not parse, or holds an unknown key.
    #[error("{origin}, line {line}: {message}")]
    Parse {
        /// Where the text comes from (a file's name, or a description of the text).
        origin: String,
        /// The line of the error, from 1.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A file or folder that a stage would overwrite; it never does.
    #[error("{} exists already; {advice}", path.display())]
    Exists {
        /// The existing file or folder.
        path: PathBuf,
        /// What to do instead.
        advice: String,
    },
    /// A file-system operation that failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done (`writing`, `copying`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The stop flag of the [`crate::Control`] was set between two stages.
    #[error("interrupted: the stop flag was set before the {stage} stage")]
    Interrupted {
        /// The stage that was not started.
        stage: &'static str,
    },
    /// An error with what was being done when it happened (`[prior]`, `training the posterior in
    /// runs/x`).
    #[error("{context}")]
    Context {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: Box<Error>,
    },
    /// From the bound calculator.
    #[error(transparent)]
    Bounds(#[from] pacbayes_bounds::Error),
    /// From data loading and splitting.
    #[error(transparent)]
    Data(#[from] pacbayes_data::Error),
    /// From the networks.
    #[error(transparent)]
    Nn(#[from] pacbayes_nn::Error),
    /// From the prior.
    #[error(transparent)]
    Prior(#[from] pacbayes_prior::Error),
    /// From posterior training.
    #[error(transparent)]
    Posterior(#[from] pacbayes_posterior::Error),
    /// From certification and tables.
    #[error(transparent)]
    Eval(#[from] pacbayes_eval::Error),
    /// From tensor operations.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A JSON value that does not serialize.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A configuration that does not serialize to TOML.
    #[error(transparent)]
    Toml(#[from] toml::ser::Error),
}

/// The pipeline's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Invalid`] with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid { message: message.into() }
    }

    /// `self` with what was being done when it happened.
    #[must_use]
    pub fn context(self, context: impl Into<String>) -> Self {
        Self::Context { context: context.into(), source: Box::new(self) }
    }

    /// An [`Error::Io`]: `action` (`writing`, `reading`) on `path` failed with `source`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }

    /// True when the error was caused by the input (a setting, a file, a folder the user chose)
    /// rather than by the program: `pacbayes` exits with status 2 for these.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Invalid { .. } | Error::Parse { .. } | Error::Exists { .. } | Error::Bounds(_) => true,
            Error::Io { source, .. } => is_environment(source),
            Error::Context { source, .. } => source.is_input(),
            Error::Data(e) => e.is_input(),
            Error::Nn(e) => e.is_input(),
            Error::Prior(e) => e.is_input(),
            Error::Posterior(e) => e.is_input(),
            Error::Eval(e) => e.is_input(),
            Error::Interrupted { .. } | Error::Candle(_) | Error::Json(_) | Error::Toml(_) => false,
        }
    }
}

/// A file-system error that the user's choice of files or folders caused: a read-only or full output
/// folder, a path through a regular file, a missing file.
pub fn is_environment(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        err.kind(),
        ErrorKind::NotFound
            | ErrorKind::PermissionDenied
            | ErrorKind::AlreadyExists
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::StorageFull
            | ErrorKind::QuotaExceeded
            | ErrorKind::FileTooLarge
            | ErrorKind::NotADirectory
            | ErrorKind::IsADirectory
            | ErrorKind::DirectoryNotEmpty
    )
}

/// Adds context to the error of a result.
pub(crate) trait Context<T> {
    /// The error, if any, with `context` computed.
    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T>;
    /// The error, if any, with `context`.
    fn context(self, context: &str) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }

    fn context(self, context: &str) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }
}

/// The messages of `err` and of its sources, joined by `: ` (as `{:#}` shows an `anyhow` error).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_are_told_from_internal_ones() {
        assert!(Error::invalid("x").is_input());
        assert!(Error::invalid("x").context("[prior]").is_input());
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        assert!(Error::io("reading", "f", missing).is_input());
        let broken = std::io::Error::other("disk on fire");
        assert!(!Error::io("reading", "f", broken).is_input());
        assert!(!Error::Interrupted { stage: "posterior" }.is_input());
        let e = Error::invalid("bad delta").context("[certificate]");
        assert_eq!(chain(&e), "[certificate]: bad delta");
    }
}
