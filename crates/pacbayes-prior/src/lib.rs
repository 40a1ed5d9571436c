//! Priors for PAC-Bayes certificates.
//!
//! A prior P is a diagonal Gaussian over the weights of a network. It may depend on anything but
//! S_bound: on nothing ([`DataFree`]), on S_prior ([`Learnt`], the mean network trained by ERM on the
//! prior split), or on a network trained elsewhere ([`FromFile`]). Choices that *did* look at
//! S_bound, such as σ₀ taken from a grid after comparing certificates, are declared
//! ([`ScaleChoice`]) and paid for as union-bound charges ([`Prior::charges`]).
//!
//! A learnt prior's scale can also be shaped on S_prior, at no cost to the certificate (each records
//! what it was fitted on in [`ScaleFit`]): by the diagonal Fisher of the S_prior loss
//! ([`FisherScaled`]), one multiple of σ₀ per layer ([`PerLayerScaled`]), the spread of SGD
//! snapshots ([`SwagScaled`]), or as the posterior of a PAC-Bayes bound trained on S_prior alone
//! ([`VariationalScaled`]).
//!
//! A prior of one's own takes a few lines: implement [`Prior`].
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use pacbayes_nn::{Architecture, GaussianWeights};
//! use pacbayes_prior::{Prior, Result};
//!
//! /// Every mean at zero, one scale everywhere.
//! struct Centred {
//!     sigma0: f64,
//! }
//!
//! impl Prior for Centred {
//!     fn weights(&self, architecture: Architecture, device: &Device) -> Result<GaussianWeights> {
//!         let means = architecture
//!             .params()
//!             .into_iter()
//!             .map(|(_, shape)| Tensor::zeros(shape, candle_core::DType::F32, device))
//!             .collect::<candle_core::Result<Vec<_>>>()?;
//!         Ok(GaussianWeights::from_means(architecture, means, self.sigma0)?)
//!     }
//!
//!     fn description(&self) -> String {
//!         format!("centred at zero, sigma0 = {}", self.sigma0)
//!     }
//! }
//!
//! let prior = Centred { sigma0: 0.1 };
//! let weights = prior.weights(Architecture::Linear { inputs: 4, classes: 3 }, &Device::Cpu)?;
//! assert_eq!(weights.mu()[0].dims(), &[3, 4]);
//! assert!(prior.charges().is_empty());
//! # Ok::<(), pacbayes_prior::Error>(())
//! ```

mod artifact;
mod augment;
mod data_free;
mod erm;
mod error;
mod fisher;
mod from_file;
mod learnt;
mod per_layer;
mod prior;
mod scale;
mod settings;
mod swag;
#[cfg(test)]
mod test_support;
mod validation;
mod variational;

pub use artifact::{PriorRecord, RECORD_FILE, SPLIT_FILE, SavedPrior, ScaleFit, WEIGHTS_FILE};
pub use data_free::DataFree;
pub use erm::{EpochRecord, FitObserver, error_rate};
pub use error::{Error, Result};
pub use fisher::{FisherRecord, FisherScaled, FisherSettings, ScaleFamily, diagonal_fisher};
pub use from_file::FromFile;
pub use learnt::{FitRecord, Learnt};
pub use per_layer::{PerLayerRecord, PerLayerScaled, PerLayerSettings};
pub use prior::Prior;
pub use scale::ScaleChoice;
pub use settings::{
    CheckedSettings, DEFAULT_LEARNING_RATE, LearntSettings, LrSchedule, PUBLISHED_LEARNING_RATE,
};
pub use swag::{SwagRecord, SwagScaled, SwagSettings};
pub use variational::{VariationalRecord, VariationalScaled, VariationalSettings};
