//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong, with the offending tensor, value or name spelled out.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error raised by candle (shape mismatch in an operation, unsupported dtype, ...).
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// A device name that is not `cpu`, `cuda[:N]` or `metal[:N]`.
    #[error("device {name:?} is invalid: expected cpu, cuda, cuda:N, metal or metal:N")]
    UnknownDevice {
        /// The name received.
        name: String,
    },
    /// A GPU device whose backend this build of candle does not have.
    #[error("device {name:?} needs candle's {feature} backend: build pacbayes with `--features {feature}`")]
    DeviceNotBuilt {
        /// The name received.
        name: String,
        /// The cargo feature that builds the backend.
        feature: &'static str,
    },
    /// A GPU that could not be opened.
    #[error("device {name:?} cannot be used: {source}")]
    DeviceUnavailable {
        /// The name received.
        name: String,
        /// candle's error.
        source: Box<candle_core::Error>,
    },
    /// A distribution family name that is not `gaussian` or `laplace`.
    #[error("distribution {name:?} is invalid: expected gaussian or laplace")]
    UnknownFamily {
        /// The name received.
        name: String,
    },
    /// A file whose distribution family differs from the one expected.
    #[error("{path}: holds {found} distributions, expected {expected}")]
    FamilyMismatch {
        /// The file.
        path: PathBuf,
        /// The family expected by the caller.
        expected: String,
        /// The family recorded in the file.
        found: String,
    },
    /// The local reparameterization asked of a family for which it is not exact.
    #[error(
        "the local reparameterization is exact for Gaussian weights only: a network with {family} weights runs in mode sample"
    )]
    LocalNeedsGaussian {
        /// The family of the network.
        family: String,
    },
    /// A scale that must be finite and positive was not (σ₀ ≤ 0, a prior σ ≤ 0, NaN).
    #[error("{name} = {value} is invalid: expected a finite scale > 0")]
    InvalidScale {
        /// The argument or tensor (`sigma0`, `layers.1.bias.sigma`, ...).
        name: String,
        /// The offending value.
        value: f64,
    },
    /// A dropout rate outside [0, 1).
    #[error("dropout rate {rate} is invalid: expected a number in [0, 1)")]
    InvalidDropout {
        /// The rate received.
        rate: f32,
    },
    /// An architecture name that the parser does not know.
    #[error("unknown architecture {name:?}: expected one of {expected}")]
    UnknownArchitecture {
        /// The name received.
        name: String,
        /// The accepted names, in words.
        expected: &'static str,
    },
    /// An architecture whose input or output size does not fit the data.
    #[error(
        "architecture {architecture} takes {expected_inputs} inputs and {expected_classes} classes, but the data has {inputs} inputs and {classes} classes"
    )]
    ArchitectureDataMismatch {
        /// The architecture's name.
        architecture: String,
        /// Its input size.
        expected_inputs: usize,
        /// Its number of outputs.
        expected_classes: usize,
        /// The data's input size.
        inputs: usize,
        /// The data's number of classes.
        classes: usize,
    },
    /// A checkpoint written for another architecture.
    #[error("{path}: written for architecture {found}, expected {expected}")]
    ArchitectureMismatch {
        /// The file.
        path: PathBuf,
        /// The architecture expected by the caller.
        expected: String,
        /// The architecture recorded in the file.
        found: String,
    },
    /// A tensor whose shape does not match the architecture.
    #[error("tensor {tensor} has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The tensor's name (`layers.0.weight.mu`, ...).
        tensor: String,
        /// The shape the architecture requires.
        expected: Vec<usize>,
        /// The shape received.
        found: Vec<usize>,
    },
    /// The wrong number of tensors for the architecture.
    #[error("{what}: got {found} tensors, the architecture has {expected} parameters")]
    ParameterCount {
        /// Which list (`means`, `sigmas`).
        what: &'static str,
        /// The architecture's number of parameter tensors.
        expected: usize,
        /// The number received.
        found: usize,
    },
    /// A NaN or infinite value in a tensor that must be finite.
    #[error("tensor {tensor} holds {value} at flat index {index}: expected finite values")]
    NonFinite {
        /// The tensor's name.
        tensor: String,
        /// The first offending flat index.
        index: usize,
        /// The value found there.
        value: f32,
    },
    /// A checkpoint lacks a tensor the architecture needs.
    #[error("{path}: tensor {tensor} is missing")]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
    },
    /// A checkpoint holds a tensor the architecture has no place for.
    #[error("{path}: unexpected tensor {tensor} (not a parameter of architecture {architecture})")]
    UnexpectedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The architecture's name.
        architecture: String,
    },
    /// A checkpoint tensor stored in a dtype that cannot hold weights.
    #[error("tensor {tensor} has dtype {dtype}: expected a floating-point dtype")]
    UnsupportedDtype {
        /// The tensor's name.
        tensor: String,
        /// The dtype found, as safetensors spells it.
        dtype: String,
    },
    /// A network input whose shape the architecture cannot take.
    #[error(
        "input of shape {found:?} does not fit architecture {architecture} (expected (batch, {expected}))"
    )]
    InputShape {
        /// The architecture's name.
        architecture: String,
        /// The per-example shape expected, in words.
        expected: String,
        /// The shape received.
        found: Vec<usize>,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file that is not a valid safetensors file.
    #[error("{path}: not a valid safetensors file: {source}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: safetensors::SafeTensorError,
    },
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// True when the error was caused by the input (a setting, a file, a tensor) rather than by a
    /// failure of the program.
    pub fn is_input(&self) -> bool {
        !matches!(self, Self::Candle(_))
    }
}
