//! Naming a dataset on the command line or in a configuration: `mnist`, `binary-mnist`, `idx:DIR`,
//! `csv:FILE`, `parquet:FILE`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::dataset::TrainTest;
use crate::error::{Error, Result};
use crate::mnist::{binary_mnist, load_idx_dir, mnist};
use crate::tabular::{TabularOptions, load_csv, load_parquet};

/// Where a dataset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetSpec {
    /// The vendored MNIST set, 10 classes.
    Mnist,
    /// MNIST with digits 0–4 as class 0 and 5–9 as class 1.
    BinaryMnist,
    /// An IDX directory in the MNIST layout.
    Idx(PathBuf),
    /// A CSV file with a header line.
    Csv(PathBuf),
    /// A Parquet file.
    Parquet(PathBuf),
}

impl DatasetSpec {
    /// Loads the training and test sets (`tabular` is used by CSV and Parquet only).
    pub fn load(&self, tabular: &TabularOptions) -> Result<TrainTest> {
        match self {
            DatasetSpec::Mnist => mnist(),
            DatasetSpec::BinaryMnist => binary_mnist(),
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
            Some(("idx", p)) => Ok(DatasetSpec::Idx(path(p)?)),
            Some(("csv", p)) => Ok(DatasetSpec::Csv(path(p)?)),
            Some(("parquet", p)) => Ok(DatasetSpec::Parquet(path(p)?)),
            _ => Err(Error::InvalidArgument {
                name: "dataset",
                reason: format!("{s:?}: expected mnist, binary-mnist, idx:DIR, csv:FILE or parquet:FILE"),
            }),
        }
    }
}

impl fmt::Display for DatasetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatasetSpec::Mnist => f.write_str("mnist"),
            DatasetSpec::BinaryMnist => f.write_str("binary-mnist"),
            DatasetSpec::Idx(p) => write!(f, "idx:{}", p.display()),
            DatasetSpec::Csv(p) => write!(f, "csv:{}", p.display()),
            DatasetSpec::Parquet(p) => write!(f, "parquet:{}", p.display()),
        }
    }
}
