//! MNIST (vendored, hash-checked), binary MNIST, and any IDX dataset in the MNIST file layout.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dataset::{Dataset, TrainTest, hex};
use crate::error::{Error, Location, Result};
use crate::idx::{IdxArray, decode_idx, read_bytes};

/// The environment variable that overrides [`default_mnist_dir`].
pub const MNIST_DIR_VAR: &str = "PACBAYES_MNIST_DIR";

/// The standard file names (without `.gz`): training images, training labels, test images, test labels.
pub const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// The checksum file: lines of `<sha256>  <file name>`, hashes of the files as stored.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// The MNIST directory: `$PACBAYES_MNIST_DIR` if set, else `data/mnist` of the workspace this crate
/// was built from.
pub fn default_mnist_dir() -> PathBuf {
    match std::env::var_os(MNIST_DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist"),
    }
}

/// MNIST from [`default_mnist_dir`]: 60,000 training and 10,000 test images of shape (1, 28, 28),
/// pixels in [0, 1], 10 classes. Every file is checked against `SHA256SUMS`.
pub fn mnist() -> Result<TrainTest> {
    mnist_from(&default_mnist_dir())
}

/// MNIST from `dir`, which must hold `SHA256SUMS` listing each of the four files.
pub fn mnist_from(dir: &Path) -> Result<TrainTest> {
    load_dir(dir, "mnist", Some(10), Checksums::Required)
}

/// Binary MNIST (Dziugaite & Roy, 2017): digits 0–4 become class 0, digits 5–9 class 1.
pub fn binary_mnist() -> Result<TrainTest> {
    binarize(mnist()?)
}

/// Binary MNIST from `dir` (see [`mnist_from`]).
pub fn binary_mnist_from(dir: &Path) -> Result<TrainTest> {
    binarize(mnist_from(dir)?)
}

fn binarize(data: TrainTest) -> Result<TrainTest> {
    let names = vec!["0-4".to_owned(), "5-9".to_owned()];
    let map = |digit: u32| u32::from(digit >= 5);
    Ok(TrainTest {
        train: data.train.relabel("binary-mnist", names.clone(), map)?,
        test: data.test.relabel("binary-mnist", names, map)?,
    })
}

/// Any IDX dataset in the MNIST layout (Fashion-MNIST, KMNIST, ...) from `dir`, each file gzipped
/// (`<name>.gz`) or raw (`<name>`). With `n_classes = None` the classes are `0..=max` of the training
/// labels. If `dir` holds `SHA256SUMS`, every file it lists is checked.
pub fn load_idx_dir(dir: &Path, n_classes: Option<u32>) -> Result<TrainTest> {
    let name = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    load_dir(dir, &format!("idx:{name}"), n_classes, Checksums::IfPresent)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checksums {
    Required,
    IfPresent,
}

pub(crate) fn load_dir(dir: &Path, name: &str, n_classes: Option<u32>, mode: Checksums) -> Result<TrainTest> {
    let sums_path = dir.join(SUMS_FILE);
    let sums = match (std::fs::read_to_string(&sums_path), mode) {
        (Ok(text), _) => Some(parse_sums(&text)),
        (Err(e), Checksums::IfPresent) if e.kind() == std::io::ErrorKind::NotFound => None,
        (Err(e), _) => return Err(Error::io(&sums_path, e)),
    };
    let load = |stem: &str| -> Result<(PathBuf, IdxArray)> {
        let path = find(dir, stem)?;
        let bytes = read_bytes(&path)?;
        if let Some(sums) = &sums {
            verify(&path, &bytes, sums, &sums_path, mode)?;
        }
        let array = decode_idx(&path, &bytes)?;
        Ok((path, array))
    };
    let [train_x, train_y, test_x, test_y] = IDX_FILES;
    let (train_x, train_y) = (load(train_x)?, load(train_y)?);
    let (test_x, test_y) = (load(test_x)?, load(test_y)?);
    let n_classes = match n_classes {
        Some(k) => k,
        None => train_y.1.data.iter().copied().max().map_or(1, |m| u32::from(m) + 1),
    };
    Ok(TrainTest {
        train: assemble(name, train_x, train_y, n_classes)?,
        test: assemble(name, test_x, test_y, n_classes)?,
    })
}

/// `dir/<stem>.gz` if it exists, else `dir/<stem>`.
fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    let gz = dir.join(format!("{stem}.gz"));
    let raw = dir.join(stem);
    if gz.is_file() {
        Ok(gz)
    } else if raw.is_file() {
        Ok(raw)
    } else {
        Err(Error::MissingFile { path: dir.join(format!("{stem}[.gz]")) })
    }
}

fn parse_sums(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (hash, name) = line.trim().split_once(char::is_whitespace)?;
            let name = name.trim_start().trim_start_matches('*');
            Some((hash.to_ascii_lowercase(), name.to_owned()))
        })
        .collect()
}

fn verify(
    path: &Path,
    bytes: &[u8],
    sums: &[(String, String)],
    sums_path: &Path,
    mode: Checksums,
) -> Result<()> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Some((expected, _)) = sums.iter().find(|(_, n)| *n == file_name) else {
        return match mode {
            Checksums::Required => Err(Error::UnlistedFile { path: path.into(), sums: sums_path.into() }),
            Checksums::IfPresent => Ok(()),
        };
    };
    let found = hex(&Sha256::digest(bytes));
    if found == *expected {
        Ok(())
    } else {
        Err(Error::HashMismatch { path: path.into(), expected: expected.clone(), found })
    }
}

fn assemble(
    name: &str,
    (images_path, images): (PathBuf, IdxArray),
    (labels_path, labels): (PathBuf, IdxArray),
    n_classes: u32,
) -> Result<Dataset> {
    if images.dims.len() < 2 {
        let expected = "at least 2 (examples, features...)";
        return Err(Error::WrongDimensions { path: images_path, found: images.dims.len(), expected });
    }
    if labels.dims.len() != 1 {
        return Err(Error::WrongDimensions { path: labels_path, found: labels.dims.len(), expected: "1" });
    }
    let (n_images, n_labels) = (images.dims[0], labels.dims[0]);
    if n_images != n_labels {
        return Err(Error::CountMismatch { images: images_path, n_images, labels: labels_path, n_labels });
    }
    if let Some(i) = labels.data.iter().position(|&l| u32::from(l) >= n_classes) {
        return Err(Error::LabelOutOfRange {
            path: labels_path,
            at: Location::Byte(labels.header_len() + i as u64),
            label: labels.data[i].to_string(),
            n_classes,
        });
    }
    // Images get a channel axis: (rows, cols) becomes (1, rows, cols); other ranks are kept.
    let mut shape = images.dims[1..].to_vec();
    if shape.len() == 2 {
        shape.insert(0, 1);
    }
    let features = images.data.iter().map(|&p| f32::from(p) / 255.0).collect();
    let labels = labels.data.iter().map(|&l| u32::from(l)).collect();
    Dataset::new(name, features, shape, labels, n_classes)
}
