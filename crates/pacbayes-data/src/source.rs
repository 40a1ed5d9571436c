//! Naming a dataset on the command line or in a configuration: `mnist`, `binary-mnist`,
//! `fashion-mnist`, `cifar10:DIR` (or `cifar10` with `$PACBAYES_CIFAR10_DIR`), `idx:DIR`,
//! `csv:FILE`, `parquet:FILE`; any of them followed by `[N]` for a fixed stratified subset of `N`
//! training examples ([`subsample`]).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::cifar10::{CIFAR10_DIR_VAR, cifar10_dir_from_env, cifar10_from};
use crate::dataset::TrainTest;
use crate::error::{Error, Result};
use crate::fashion_mnist::fashion_mnist;
use crate::mnist::{binary_mnist, load_idx_dir, mnist};
use crate::subsample::subsample;
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
    /// `examples` training examples of another dataset (its test set whole), written `SPEC[N]`.
    Subset {
        /// The dataset subsampled.
        of: Box<DatasetSpec>,
        /// How many training examples are kept.
        examples: usize,
    },
}

impl DatasetSpec {
    /// Whether the images are normalized per channel with statistics fitted on the prior side of
    /// the split ([`Split::normalize_channels`](crate::Split::normalize_channels)): CIFAR-10.
    pub fn normalizes_channels(&self) -> bool {
        match self {
            DatasetSpec::Cifar10(_) => true,
            DatasetSpec::Subset { of, .. } => of.normalizes_channels(),
            _ => false,
        }
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
            DatasetSpec::Subset { of, examples } => {
                let whole = of.load(tabular)?;
                Ok(TrainTest { train: subsample(&whole.train, *examples)?, test: whole.test })
            }
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
        if let Some((of, examples)) = s.strip_suffix(']').and_then(|inner| inner.rsplit_once('[')) {
            let examples = examples.parse().map_err(|_| Error::InvalidArgument {
                name: "dataset",
                reason: format!("{s:?}: expected a number of training examples between the brackets"),
            })?;
            return Ok(DatasetSpec::Subset { of: Box::new(of.parse()?), examples });
        }
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
                    "{s:?}: expected mnist, binary-mnist, fashion-mnist, cifar10:DIR, idx:DIR, csv:FILE or parquet:FILE, optionally followed by [N]"
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
            DatasetSpec::Subset { of, examples } => write!(f, "{of}[{examples}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_is_written_with_its_size_in_brackets() {
        for text in ["mnist[3000]", "fashion-mnist[10]", "csv:data/blobs.csv[50]", "cifar10:/x[7]"] {
            let spec: DatasetSpec = text.parse().unwrap();
            assert!(matches!(spec, DatasetSpec::Subset { .. }), "{text}");
            assert_eq!(spec.to_string(), text);
        }
        assert!("cifar10:/x[7]".parse::<DatasetSpec>().unwrap().normalizes_channels());
        for bad in ["mnist[]", "mnist[x]", "mnist[-1]", "nope[10]"] {
            assert!(bad.parse::<DatasetSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_subset_of_mnist_keeps_the_test_set_whole() {
        let data = "mnist[1000]".parse::<DatasetSpec>().unwrap().load(&TabularOptions::default()).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (1000, 10_000));
        assert_eq!(data.train.name(), "mnist[1000]");
        let err = "mnist[60001]".parse::<DatasetSpec>().unwrap().load(&TabularOptions::default());
        assert!(err.unwrap_err().to_string().contains("between 1 and 60000"));
    }
}
