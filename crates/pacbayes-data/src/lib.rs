//! Datasets and honest splits for PAC-Bayes certificates.
//!
//! Load a dataset, split its training set into S_prior and S_bound with a seeded, stratified split,
//! and hand each part only to what may see it: a prior gets a [`PriorSet`], a certificate a
//! [`BoundSet`] (the only view with a sample size `n()`). The [`SplitManifest`] records the split so
//! that a run can later prove which examples were used and that the parts were disjoint.
//!
//! ```
//! use pacbayes_data::{Split, SplitConfig, mnist};
//!
//! let data = mnist()?; // vendored, SHA-256 checked, pixels in [0, 1]
//! assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
//! assert_eq!(data.train.shape(), &[1, 28, 28]);
//!
//! let config = SplitConfig::new(0.5, 7)?.with_validation_fraction(0.1)?;
//! let split = Split::new(data.train, config)?;
//! let (prior, bound) = (split.prior(), split.bound());
//! assert_eq!(prior.len() + split.validation().map_or(0, |v| v.len()) + bound.n(), 60_000);
//!
//! let manifest = split.manifest();
//! assert_eq!(manifest.n_bound, bound.n());
//! println!("{}", manifest.to_json());
//! # Ok::<(), pacbayes_data::Error>(())
//! ```
//!
//! Sources: [`mnist`] and [`binary_mnist`] (vendored in `data/mnist`, overridable with
//! `$PACBAYES_MNIST_DIR`), [`fashion_mnist`] (vendored in `data/fashion-mnist`), CIFAR-10 from
//! the user's binary files ([`cifar10_from`]), any IDX directory ([`load_idx_dir`]), CSV and Parquet tables
//! ([`load_csv`], [`load_parquet`]), and [`LinearTeacher`], synthetic data whose true risk is known
//! exactly. Every bad input is an [`Error`] that names the file and what was wrong.

mod channel_norm;
mod cifar10;
mod dataset;
mod error;
mod fashion_mnist;
mod idx;
mod manifest;
mod mnist;
mod sets;
mod source;
mod split;
mod standardize;
mod subsample;
mod synthetic;
mod tabular;

pub use channel_norm::ChannelNormalizer;
pub use cifar10::{
    CIFAR10_CLASSES, CIFAR10_DIR_VAR, CIFAR10_RECORD_LEN, CIFAR10_SHAPE, CIFAR10_TEST_FILE,
    CIFAR10_TRAIN_FILES, cifar10_dir_from_env, cifar10_from, write_cifar10_batch,
};
pub use dataset::{Dataset, TrainTest};
pub use error::{Error, Location, Result};
pub use fashion_mnist::{
    FASHION_MNIST_CLASSES, FASHION_MNIST_DIR_VAR, default_fashion_mnist_dir, fashion_mnist,
    fashion_mnist_from,
};
pub use idx::{IdxArray, decode_idx, encode_idx, read_idx};
pub use manifest::{SplitManifest, check_disjoint, indices_sha256};
pub use mnist::{
    IDX_FILES, MNIST_DIR_VAR, SUMS_FILE, binary_mnist, binary_mnist_from, default_mnist_dir, load_idx_dir,
    mnist, mnist_from,
};
pub use sets::{Batch, BoundSet, PriorSet, TrainSet, ValidationSet};
pub use source::DatasetSpec;
pub use split::{SPLIT_ALGORITHM, Split, SplitConfig};
pub use standardize::Standardizer;
pub use subsample::{SUBSET_SEED, subsample};
pub use synthetic::{LinearTeacher, linear_empirical_risk};
pub use tabular::{TabularOptions, load_csv, load_parquet};
