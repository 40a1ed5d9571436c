//! CIFAR-10 in its binary format (Krizhevsky, 2009). The files are the user's: nothing is vendored
//! or downloaded. A folder holds `data_batch_1.bin` … `data_batch_5.bin` (the 50,000 training
//! images) and `test_batch.bin` (the 10,000 test images); each file is a sequence of 3,073-byte
//! records, one label byte (0–9) followed by the 32×32 image as 1,024 red, 1,024 green and 1,024
//! blue bytes, each plane row by row.

use std::path::{Path, PathBuf};

use crate::dataset::{Dataset, TrainTest};
use crate::error::{Error, Location, Result};

/// The environment variable naming the CIFAR-10 folder when a dataset is named `cifar10` alone.
pub const CIFAR10_DIR_VAR: &str = "PACBAYES_CIFAR10_DIR";

/// The training files, in the order their records are concatenated.
pub const CIFAR10_TRAIN_FILES: [&str; 5] =
    ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

/// The test file.
pub const CIFAR10_TEST_FILE: &str = "test_batch.bin";

/// The class names, in label order.
pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// The shape of one image: (channels, height, width).
pub const CIFAR10_SHAPE: [usize; 3] = [3, 32, 32];

/// Bytes of one record: one label byte and 3 · 32 · 32 pixel bytes.
pub const CIFAR10_RECORD_LEN: usize = 1 + 3 * 32 * 32;

const EXPECTED_FILES: &str = "data_batch_1.bin … data_batch_5.bin and test_batch.bin";

/// The CIFAR-10 folder of `$PACBAYES_CIFAR10_DIR`, if the variable is set and not empty.
pub fn cifar10_dir_from_env() -> Option<PathBuf> {
    std::env::var_os(CIFAR10_DIR_VAR).filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// CIFAR-10 from `dir`: the training images of the five batch files (in order) and the test
/// images, of shape (3, 32, 32), pixels in [0, 1], classes named by [`CIFAR10_CLASSES`].
///
/// # Errors
/// A folder that does not exist or holds none of the files ([`Error::EmptyFolder`]), a missing file
/// ([`Error::MissingFile`]), an empty file, a length that is not a multiple of 3,073 bytes
/// ([`Error::PartialRecord`], with the byte offset of the cut record), or a label above 9
/// ([`Error::LabelOutOfRange`], with its byte offset and record).
pub fn cifar10_from(dir: &Path) -> Result<TrainTest> {
    if !dir.is_dir() {
        return Err(Error::MissingFile { path: dir.to_path_buf() });
    }
    let all = CIFAR10_TRAIN_FILES.iter().chain([&CIFAR10_TEST_FILE]);
    if !all.clone().any(|name| dir.join(name).exists()) {
        return Err(Error::EmptyFolder {
            path: dir.to_path_buf(),
            dataset: "CIFAR-10",
            expected: EXPECTED_FILES,
        });
    }
    if let Some(missing) = all.map(|name| dir.join(name)).find(|p| !p.exists()) {
        return Err(Error::MissingFile { path: missing });
    }
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for name in CIFAR10_TRAIN_FILES {
        read_records(&dir.join(name), &mut features, &mut labels)?;
    }
    let train = assemble(features, labels)?;
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    read_records(&dir.join(CIFAR10_TEST_FILE), &mut features, &mut labels)?;
    Ok(TrainTest { train, test: assemble(features, labels)? })
}

fn assemble(features: Vec<f32>, labels: Vec<u32>) -> Result<Dataset> {
    let names = CIFAR10_CLASSES.iter().map(|&n| n.to_owned()).collect();
    Dataset::new("cifar10", features, CIFAR10_SHAPE.to_vec(), labels, 10)?.with_class_names(names)
}

/// Appends the records of `path` to `features` (pixels / 255) and `labels`.
fn read_records(path: &Path, features: &mut Vec<f32>, labels: &mut Vec<u32>) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.is_empty() {
        return Err(Error::Empty { path: path.to_path_buf(), what: "no bytes" });
    }
    let record_len = CIFAR10_RECORD_LEN;
    if bytes.len() % record_len != 0 {
        let start = bytes.len() / record_len * record_len;
        return Err(Error::PartialRecord {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
            record_len: record_len as u64,
            at: Location::Byte(start as u64),
        });
    }
    features.reserve(bytes.len() / record_len * (record_len - 1));
    for (i, record) in bytes.chunks_exact(record_len).enumerate() {
        let label = record[0];
        if label > 9 {
            return Err(Error::LabelOutOfRange {
                path: path.to_path_buf(),
                at: Location::Record { index: i, byte: (i * record_len) as u64 },
                label: label.to_string(),
                n_classes: 10,
            });
        }
        labels.push(u32::from(label));
        features.extend(record[1..].iter().map(|&p| f32::from(p) / 255.0));
    }
    Ok(())
}

/// Writes `labels.len()` records in the CIFAR-10 binary format to `path`, image `i` taken from
/// `pixels[i * 3072 .. (i + 1) * 3072]` (channel-major bytes): for tests and examples that need
/// files of the real format.
///
/// # Errors
/// `pixels` of the wrong length, or a write failure.
pub fn write_cifar10_batch(path: &Path, labels: &[u8], pixels: &[u8]) -> Result<()> {
    let image = CIFAR10_RECORD_LEN - 1;
    if pixels.len() != labels.len() * image {
        let reason = format!("{} pixel bytes for {} records of {image}", pixels.len(), labels.len());
        return Err(Error::InvalidArgument { name: "pixels", reason });
    }
    let mut bytes = Vec::with_capacity(labels.len() * CIFAR10_RECORD_LEN);
    for (label, image) in labels.iter().zip(pixels.chunks_exact(image)) {
        bytes.push(*label);
        bytes.extend_from_slice(image);
    }
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}
