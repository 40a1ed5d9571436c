//! The CIFAR-10 binary loader on small files of the real format written here, every bad file
//! named with its byte offset or record, and the per-channel normalization fitted on the prior
//! side only.

use std::path::Path;

use pacbayes_data::{
    CIFAR10_RECORD_LEN, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, ChannelNormalizer, DatasetSpec, Error,
    Location, Split, SplitConfig, TabularOptions, cifar10_from, write_cifar10_batch,
};

/// Writes `per_file` records to each of the six files: labels `(i + file) % 10`, pixel `j` of image
/// `i` equal to `(7·i + 3·j + 11·file) mod 256`, so every file and image differs.
fn write_folder(dir: &Path, per_file: usize) {
    let names = CIFAR10_TRAIN_FILES.iter().chain([&CIFAR10_TEST_FILE]);
    for (file, name) in names.enumerate() {
        let labels: Vec<u8> = (0..per_file).map(|i| ((i + file) % 10) as u8).collect();
        let pixels: Vec<u8> = (0..per_file * 3072)
            .map(|k| {
                let (i, j) = (k / 3072, k % 3072);
                ((7 * i + 3 * j + 11 * file) % 256) as u8
            })
            .collect();
        write_cifar10_batch(&dir.join(name), &labels, &pixels).expect("write");
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

#[test]
fn the_six_files_load_in_order_channel_major() {
    let dir = tmp();
    write_folder(dir.path(), 120);
    let data = cifar10_from(dir.path()).expect("loads");
    assert_eq!((data.train.len(), data.test.len()), (600, 120));
    assert_eq!(data.train.shape(), &[3, 32, 32]);
    assert_eq!(data.train.class_names()[9], "truck");
    // Record 5 of data_batch_2.bin (file 1) is training example 125: label (5 + 1) % 10.
    assert_eq!(data.train.labels()[125], 6);
    // Its pixel j = 1024 (the first green value) is (7·5 + 3·1024 + 11) mod 256.
    let expected = f32::from(((7 * 5 + 3 * 1024 + 11) % 256) as u8) / 255.0;
    assert!((data.train.row(125)[1024] - expected).abs() < 1e-7);
    assert_eq!(data.test.labels()[0], 5);
    assert_eq!(data.train.class_counts(), [60; 10]);

    let spec: DatasetSpec = format!("cifar10:{}", dir.path().display()).parse().expect("parses");
    assert!(spec.normalizes_channels());
    assert_eq!(spec.to_string(), format!("cifar10:{}", dir.path().display()));
    let again = spec.load(&TabularOptions::default()).expect("loads");
    assert_eq!(again.train.content_sha256(), data.train.content_sha256());
}

#[test]
fn a_length_not_a_multiple_of_3073_names_the_file_and_the_cut_record() {
    let dir = tmp();
    write_folder(dir.path(), 100);
    let victim = dir.path().join(CIFAR10_TRAIN_FILES[2]);
    let mut bytes = std::fs::read(&victim).expect("read");
    bytes.truncate(bytes.len() - 100);
    std::fs::write(&victim, &bytes).expect("write");
    let err = cifar10_from(dir.path()).expect_err("cut file");
    let at = 99 * CIFAR10_RECORD_LEN as u64;
    assert!(
        matches!(&err, Error::PartialRecord { path, at: Location::Byte(b), .. } if *path == victim && *b == at),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("data_batch_3.bin") && text.contains(&format!("byte offset {at}")), "{text}");
    assert!(!text.contains('\n'));
}

#[test]
fn a_label_above_9_names_the_file_the_record_and_the_offset() {
    let dir = tmp();
    write_folder(dir.path(), 100);
    let victim = dir.path().join(CIFAR10_TEST_FILE);
    let mut bytes = std::fs::read(&victim).expect("read");
    bytes[37 * CIFAR10_RECORD_LEN] = 10;
    std::fs::write(&victim, &bytes).expect("write");
    let err = cifar10_from(dir.path()).expect_err("bad label");
    assert!(matches!(&err, Error::LabelOutOfRange { path, .. } if *path == victim), "{err}");
    let text = err.to_string();
    let offset = 37 * CIFAR10_RECORD_LEN;
    assert!(text.contains("test_batch.bin") && text.contains("label 10"), "{text}");
    assert!(text.contains(&format!("record 37 (byte offset {offset})")), "{text}");
}

#[test]
fn missing_empty_and_absent_files_are_named() {
    let dir = tmp();
    write_folder(dir.path(), 20);
    std::fs::remove_file(dir.path().join(CIFAR10_TRAIN_FILES[3])).expect("remove");
    let err = cifar10_from(dir.path()).expect_err("missing batch");
    assert!(matches!(&err, Error::MissingFile { path } if path.ends_with("data_batch_4.bin")), "{err}");

    write_folder(dir.path(), 20);
    std::fs::write(dir.path().join(CIFAR10_TRAIN_FILES[0]), b"").expect("write");
    let err = cifar10_from(dir.path()).expect_err("empty file");
    assert!(matches!(&err, Error::Empty { path, .. } if path.ends_with("data_batch_1.bin")), "{err}");

    let empty = tmp();
    let err = cifar10_from(empty.path()).expect_err("empty folder");
    assert!(matches!(&err, Error::EmptyFolder { .. }), "{err}");
    assert!(err.to_string().contains(&empty.path().display().to_string()), "{err}");

    let err = cifar10_from(&empty.path().join("nowhere")).expect_err("no folder");
    assert!(matches!(&err, Error::MissingFile { path } if path.ends_with("nowhere")), "{err}");
    assert!(err.is_input());
}

#[test]
fn channel_normalization_is_fitted_on_the_prior_side_only() {
    let dir = tmp();
    write_folder(dir.path(), 100);
    let data = cifar10_from(dir.path()).expect("loads");
    let mut test = data.test.clone();
    let config = SplitConfig::new(0.5, 3).expect("config").with_validation_fraction(0.2).expect("config");
    let mut split = Split::new(data.train.clone(), config).expect("split");
    let fitted = ChannelNormalizer::fit(&split).expect("fit");
    let norm = split.normalize_channels(&mut test).expect("normalize").expect("a prior side");
    assert_eq!(fitted, norm);

    // The reference: mean and standard deviation of each channel over the prior side, in f64, from
    // the indices the manifest records as S_prior and validation.
    let prior: Vec<usize> =
        split.prior().indices().iter().chain(split.validation().unwrap().indices()).copied().collect();
    for c in 0..3 {
        let values: Vec<f64> = prior
            .iter()
            .flat_map(|&i| data.train.row(i)[c * 1024..(c + 1) * 1024].iter().map(|&x| f64::from(x)))
            .collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((f64::from(norm.mean[c]) - mean).abs() < 1e-5, "channel {c}");
        assert!((f64::from(norm.scale[c]) - sd).abs() < 1e-5, "channel {c}");
    }
    // Changing every image of S_bound (same labels, so the same seeded split) changes nothing fitted.
    let bound: Vec<usize> = split.bound().indices().to_vec();
    assert!(!bound.is_empty());
    let mut features = data.train.features().to_vec();
    for &i in &bound {
        features[i * 3072..(i + 1) * 3072].iter_mut().for_each(|x| *x = 1.0 - *x * 0.5);
    }
    let changed =
        pacbayes_data::Dataset::new("cifar10", features, vec![3, 32, 32], data.train.labels().to_vec(), 10)
            .expect("dataset");
    let other = Split::new(changed, config).expect("split");
    assert_eq!(other.bound().indices(), bound.as_slice());
    assert_eq!(ChannelNormalizer::fit(&other).expect("fit"), norm);
    // Every part and the test set are normalized: the first test pixel moved.
    let before = data.test.row(0)[0];
    let after = test.row(0)[0];
    assert!((after - (before - norm.mean[0]) / norm.scale[0]).abs() < 1e-6);

    // α = 0: nothing to fit on, nothing changed.
    let mut test0 = data.test.clone();
    let mut split0 = Split::new(data.train, SplitConfig::new(0.0, 3).expect("config")).expect("split");
    assert!(split0.normalize_channels(&mut test0).expect("no-op").is_none());
    assert_eq!(test0.features(), data.test.features());
}
