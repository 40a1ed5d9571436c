//! Naming a dataset on the command line or in a configuration: `mnist`, `binary-mnist`,
//! `fashion-mnist`, `cifar10:DIR` (or `cifar10` with `$PACBAYES_CIFAR10_DIR`), `idx:DIR`,
//! `csv:FILE`, `parquet:FILE`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::cifar10::{CIFAR10_DIR_VAR, cifar10_dir_from_env, cifar10_from};
use crate::dataset::TrainTest;
use crate::error::{Error, Result};
use crate::fashion_mnist::fashion_mnist;
use crate::mnist::{binary_mnist, load_idx_dir, mnist};
use crate::tabular::{TabularOptions, load_csv, load_parquet};

/// Where a dataset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetSpec {
    /// The vendored MNIST set, 10 classes.
    Mnist,
    /// MNIST with digits 0–4 as class 0 and 5–9 as class 1.
    BinaryMnist,
    /// The vendored Fashion-MNIST set, 10 classes of clothing.
    FashionMnist,
    /// CIFAR-10 in its binary format from a folder; `None`: the folder of `$PACBAYES_CIFAR10_DIR`.
    Cifar10(Option<PathBuf>),
    /// An IDX directory in the MNIST layout.
    Idx(PathBuf),
    /// A CSV file with a header line.
    Csv(PathBuf),
    /// A Parquet file.
    Parquet(PathBuf),
}

impl DatasetSpec {
    /// Whether the images are normalized per channel with statistics fitted on the prior side of
    /// the split ([`Split::normalize_channels`](crate::Split::normalize_channels)): CIFAR-10.
    pub fn normalizes_channels(&self) -> bool {
        matches!(self, DatasetSpec::Cifar10(_))
    }

    /// Loads the training and test sets (`tabular` is used by CSV and Parquet only).
    pub fn load(&self, tabular: &TabularOptions) -> Result<TrainTest> {
        match self {
            DatasetSpec::Mnist => mnist(),
            DatasetSpec::BinaryMnist => binary_mnist(),
            DatasetSpec::FashionMnist => fashion_mnist(),
            DatasetSpec::Cifar10(Some(dir)) => cifar10_from(dir),
            DatasetSpec::Cifar10(None) => match cifar10_dir_from_env() {
                Some(dir) => cifar10_from(&dir),
                None => Err(Error::InvalidArgument {
                    name: "dataset",
                    reason: format!(
                        "cifar10 names no folder and ${CIFAR10_DIR_VAR} is not set: use cifar10:DIR"
                    ),
                }),
            },
            DatasetSpec::Idx(dir) => load_idx_dir(dir, None),
            DatasetSpec::Csv(file) => load_csv(file, tabular),
            DatasetSpec::Parquet(file) => load_parquet(file, tabular),
        }
    }
}

impl FromStr for DatasetSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let path = |p: &str| {
            if p.is_empty() {
                Err(Error::InvalidArgument { name: "dataset", reason: format!("{s:?} names no path") })
            } else {
                Ok(PathBuf::from(p))
            }
        };
        match s.split_once(':') {
            None if s == "mnist" => Ok(DatasetSpec::Mnist),
            None if s == "binary-mnist" => Ok(DatasetSpec::BinaryMnist),
            None if s == "fashion-mnist" => Ok(DatasetSpec::FashionMnist),
            None if s == "cifar10" => Ok(DatasetSpec::Cifar10(None)),
            Some(("cifar10", p)) => Ok(DatasetSpec::Cifar10(Some(path(p)?))),
            Some(("idx", p)) => Ok(DatasetSpec::Idx(path(p)?)),
            Some(("csv", p)) => Ok(DatasetSpec::Csv(path(p)?)),
            Some(("parquet", p)) => Ok(DatasetSpec::Parquet(path(p)?)),
            _ => Err(Error::InvalidArgument {
                name: "dataset",
                reason: format!(
                    "{s:?}: expected mnist, binary-mnist, fashion-mnist, cifar10:DIR, idx:DIR, csv:FILE or parquet:FILE"
                ),
            }),
        }
    }
}

impl fmt::Display for DatasetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatasetSpec::Mnist => f.write_str("mnist"),
            DatasetSpec::BinaryMnist => f.write_str("binary-mnist"),
            DatasetSpec::FashionMnist => f.write_str("fashion-mnist"),
            DatasetSpec::Cifar10(None) => f.write_str("cifar10"),
            DatasetSpec::Cifar10(Some(p)) => write!(f, "cifar10:{}", p.display()),
            DatasetSpec::Idx(p) => write!(f, "idx:{}", p.display()),
            DatasetSpec::Csv(p) => write!(f, "csv:{}", p.display()),
            DatasetSpec::Parquet(p) => write!(f, "parquet:{}", p.display()),
        }
    }
}
