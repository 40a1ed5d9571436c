//! Loading real and hand-written files, and a clear error for every bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pacbayes_data::{
    Error, IDX_FILES, Location, Split, SplitConfig, TabularOptions, TrainTest, binary_mnist, encode_idx,
    load_csv, load_idx_dir, load_parquet, mnist, mnist_from,
};
use sha2::{Digest, Sha256};

fn full_mnist() -> &'static TrainTest {
    static DATA: OnceLock<TrainTest> = OnceLock::new();
    DATA.get_or_init(|| mnist().expect("vendored MNIST loads"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("in-memory write");
    enc.finish().expect("in-memory write")
}

/// A tiny IDX dataset: `n_train` training and 4 test images of 2×3 pixels, labels `i % 3`.
fn write_idx_dir(dir: &Path, n_train: usize, gzipped: bool) {
    let labels = |n: usize| (0..n).map(|i| (i % 3) as u8).collect::<Vec<_>>();
    let pixels = |n: usize| (0..n * 6).map(|i| (i * 37 % 256) as u8).collect::<Vec<_>>();
    let files = [
        encode_idx(&[n_train, 2, 3], &pixels(n_train)),
        encode_idx(&[n_train], &labels(n_train)),
        encode_idx(&[4, 2, 3], &pixels(4)),
        encode_idx(&[4], &labels(4)),
    ];
    for (stem, bytes) in IDX_FILES.iter().zip(files) {
        if gzipped {
            std::fs::write(dir.join(format!("{stem}.gz")), gzip(&bytes)).expect("write");
        } else {
            std::fs::write(dir.join(stem), bytes).expect("write");
        }
    }
}

fn write_sums(dir: &Path) {
    let mut sums = String::new();
    for stem in IDX_FILES {
        let name = format!("{stem}.gz");
        let hash = Sha256::digest(std::fs::read(dir.join(&name)).expect("read"));
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        sums.push_str(&format!("{hex}  {name}\n"));
    }
    std::fs::write(dir.join("SHA256SUMS"), sums).expect("write");
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

fn path_of(dir: &Path, i: usize, gz: bool) -> PathBuf {
    dir.join(if gz { format!("{}.gz", IDX_FILES[i]) } else { IDX_FILES[i].to_owned() })
}

#[test]
fn mnist_has_the_known_shape_counts_and_pixel_range() {
    let d = full_mnist();
    assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
    assert_eq!(d.train.shape(), &[1, 28, 28]);
    assert_eq!(d.train.n_classes(), 10);
    let train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
    assert_eq!(d.train.class_counts(), train_counts);
    assert_eq!(d.test.class_counts(), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    let (lo, hi) = d.train.features().iter().fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(lo.abs() < f32::EPSILON && (hi - 1.0).abs() < f32::EPSILON, "pixels in [{lo}, {hi}]");
}

#[test]
fn binary_mnist_merges_digits() {
    let b = binary_mnist().expect("binary MNIST loads");
    let counts = full_mnist().train.class_counts();
    assert_eq!(b.train.n_classes(), 2);
    assert_eq!(b.train.name(), "binary-mnist");
    assert_eq!(b.train.class_counts(), [counts[..5].iter().sum::<usize>(), counts[5..].iter().sum()]);
    let same =
        b.train.labels().iter().zip(full_mnist().train.labels()).all(|(&b, &d)| b == u32::from(d >= 5));
    assert!(same);
}

#[test]
fn idx_dirs_load_gzipped_or_raw_alike() {
    let (a, b) = (tmp(), tmp());
    write_idx_dir(a.path(), 30, true);
    write_idx_dir(b.path(), 30, false);
    let (x, y) = (load_idx_dir(a.path(), None).expect("gz"), load_idx_dir(b.path(), None).expect("raw"));
    assert_eq!(x.train.features(), y.train.features());
    assert_eq!(x.train.shape(), &[1, 2, 3]);
    assert_eq!(x.train.n_classes(), 3);
    assert_eq!(x.test.labels(), &[0, 1, 2, 0]);
    assert!((x.train.row(0)[1] - 37.0 / 255.0).abs() < 1e-7);
}

#[test]
fn hash_mismatch_names_the_file() {
    let dir = tmp();
    write_idx_dir(dir.path(), 30, true);
    write_sums(dir.path());
    mnist_from(dir.path()).expect("matching sums load");
    let victim = path_of(dir.path(), 2, true);
    let mut bytes = std::fs::read(&victim).expect("read");
    let last = bytes.len() - 9;
    bytes[last] ^= 1; // the hash is checked before anything is decoded
    std::fs::write(&victim, bytes).expect("write");
    let err = mnist_from(dir.path()).expect_err("tampered file");
    assert!(matches!(&err, Error::HashMismatch { path, .. } if *path == victim), "{err}");
    assert!(err.to_string().contains("t10k-images-idx3-ubyte.gz"));
}

#[test]
fn missing_file_is_named() {
    let dir = tmp();
    write_idx_dir(dir.path(), 30, true);
    std::fs::remove_file(path_of(dir.path(), 1, true)).expect("remove");
    let err = load_idx_dir(dir.path(), None).expect_err("missing labels");
    assert!(matches!(err, Error::MissingFile { .. }));
    assert!(err.to_string().contains("train-labels-idx1-ubyte[.gz]: no such file"), "{err}");
    let err = mnist_from(&dir.path().join("nowhere")).expect_err("no directory");
    assert!(err.to_string().ends_with("SHA256SUMS: no such file"), "{err}");
}

#[test]
fn truncated_idx_reports_byte_offset() {
    let dir = tmp();
    write_idx_dir(dir.path(), 30, false);
    let p = path_of(dir.path(), 0, false);
    let bytes = std::fs::read(&p).expect("read");
    std::fs::write(&p, &bytes[..bytes.len() - 5]).expect("write");
    let err = load_idx_dir(dir.path(), None).expect_err("truncated");
    assert!(
        matches!(err, Error::Truncated { at: Location::Byte(16), expected: 180, found: 175, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("train-images-idx3-ubyte: truncated at byte offset 16"));
}

#[test]
fn wrong_magic_is_reported() {
    let dir = tmp();
    write_idx_dir(dir.path(), 30, false);
    let p = path_of(dir.path(), 3, false);
    let mut bytes = std::fs::read(&p).expect("read");
    bytes[2] = 0x0d; // float instead of unsigned byte
    std::fs::write(&p, bytes).expect("write");
    let err = load_idx_dir(dir.path(), None).expect_err("bad magic");
    assert!(matches!(&err, Error::WrongMagic { found: 0x0000_0d01, path, .. } if *path == p), "{err}");
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = tmp();
    write_idx_dir(dir.path(), 30, true);
    std::fs::write(path_of(dir.path(), 1, true), gzip(&encode_idx(&[29], &[0; 29]))).expect("write");
    let err = load_idx_dir(dir.path(), None).expect_err("count mismatch");
    assert!(matches!(err, Error::CountMismatch { n_images: 30, n_labels: 29, .. }), "{err}");
    assert!(err.to_string().contains("30 images, but"), "{err}");
}

#[test]
fn label_outside_class_range_names_its_offset() {
    let dir = tmp();
    write_idx_dir(dir.path(), 30, false);
    let mut labels = vec![0u8; 30];
    labels[7] = 10;
    std::fs::write(path_of(dir.path(), 1, false), encode_idx(&[30], &labels)).expect("write");
    let err = load_idx_dir(dir.path(), Some(10)).expect_err("label 10");
    assert!(matches!(err, Error::LabelOutOfRange { at: Location::Byte(15), n_classes: 10, .. }), "{err}");
    // With inferred classes, a test label beyond the training labels is out of range too.
    write_idx_dir(dir.path(), 30, false);
    std::fs::write(path_of(dir.path(), 3, false), encode_idx(&[4], &[0, 1, 2, 3])).expect("write");
    let err = load_idx_dir(dir.path(), None).expect_err("test label 3");
    assert!(err.to_string().contains("label 3 at byte offset 11 is outside the class range 0..3"), "{err}");
}

#[test]
fn empty_files_are_reported() {
    let dir = tmp();
    write_idx_dir(dir.path(), 30, true);
    std::fs::write(path_of(dir.path(), 0, true), b"").expect("write");
    let err = load_idx_dir(dir.path(), None).expect_err("empty idx");
    assert!(matches!(err, Error::Empty { .. }) && err.to_string().contains("the file is empty"), "{err}");
    let csv = dir.path().join("empty.csv");
    std::fs::write(&csv, b"").expect("write");
    assert!(matches!(load_csv(&csv, &TabularOptions::default()), Err(Error::Empty { .. })));
    std::fs::write(&csv, b"a,b,label\n").expect("write");
    let err = load_csv(&csv, &TabularOptions::default()).expect_err("header only");
    assert!(err.to_string().contains("no data rows"), "{err}");
}

fn csv_file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("table.csv");
    std::fs::write(&p, text).expect("write");
    p
}

/// 40 rows, two features, string labels in two classes.
fn good_csv() -> String {
    let mut s = "x1,species,x2\n".to_owned();
    for i in 0..40 {
        let class = if i % 2 == 0 { "cat" } else { "dog" };
        s.push_str(&format!("{},{class},{}\n", i as f64 * 0.5, 100 - i));
    }
    s
}

#[test]
fn csv_loads_with_string_labels_and_held_out_test_set() {
    let dir = tmp();
    let p = csv_file(dir.path(), &good_csv());
    let opts = TabularOptions { label_column: "species".into(), ..TabularOptions::default() };
    let d = load_csv(&p, &opts).expect("csv");
    assert_eq!((d.train.len(), d.test.len()), (32, 8));
    assert_eq!(d.train.class_names(), &["cat", "dog"]);
    assert_eq!(d.test.class_counts(), [4, 4]);
    assert_eq!(d.train.shape(), &[2]);
    // Row order is kept; feature columns are x1 then x2, the label column is skipped.
    let (x, y) = (d.train.row(0), d.train.labels()[0]);
    let i = (x[0] * 2.0).round() as usize;
    assert!((x[1] - (100 - i) as f32).abs() < 1e-6 && y == (i % 2) as u32);
}

#[test]
fn standardization_is_fitted_on_the_prior_side_only() {
    let dir = tmp();
    let p = csv_file(dir.path(), &good_csv());
    let opts = TabularOptions { label_column: "species".into(), test_fraction: 0.25, test_seed: 3 };
    let mut d = load_csv(&p, &opts).expect("csv");
    let mut split = Split::new(d.train, SplitConfig::new(0.5, 1).expect("alpha")).expect("split");
    let st = split.standardize(&mut d.test).expect("fit");
    let prior = split.prior().to_batch();
    for j in 0..2 {
        let col: Vec<f64> = prior.features.iter().skip(j).step_by(2).map(|&x| f64::from(x)).collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "feature {j}: mean {mean}, var {var}");
    }
    let bound = split.bound().to_batch();
    let bound_mean =
        bound.features.iter().step_by(2).map(|&x| f64::from(x)).sum::<f64>() / bound.len() as f64;
    assert!(bound_mean.abs() > 1e-6, "the bound part was not used for fitting, so its mean is not exactly 0");
    assert_eq!(st.mean.len(), 2);
    let alpha_zero =
        Split::new(split_data_copy(&p, &opts), SplitConfig::new(0.0, 1).expect("alpha")).expect("split");
    assert!(matches!(
        pacbayes_data::Standardizer::fit(&alpha_zero),
        Err(Error::EmptyPart { part: "prior", .. })
    ));
}

fn split_data_copy(p: &Path, opts: &TabularOptions) -> pacbayes_data::Dataset {
    load_csv(p, opts).expect("csv").train
}

#[test]
fn csv_non_numeric_and_missing_values_name_the_line() {
    let dir = tmp();
    let p = csv_file(dir.path(), "a,b,label\n1,2,0\n3,oops,1\n5,6,0\n");
    let err = load_csv(&p, &TabularOptions::default()).expect_err("non-numeric");
    assert!(
        matches!(&err, Error::NonNumeric { at: Location::Line(3), value, .. } if value == "oops"),
        "{err}"
    );
    assert!(err.to_string().contains("column \"b\" at line 3: \"oops\" is not a number"), "{err}");
    let p = csv_file(dir.path(), "a,b,label\n1,2,0\n3,4,1\n5,,0\n");
    let err = load_csv(&p, &TabularOptions::default()).expect_err("missing");
    assert!(matches!(err, Error::MissingValue { at: Location::Line(4), .. }), "{err}");
    let p = csv_file(dir.path(), "a,b,label\n1,2,0\n3,4,-1\n");
    let err = load_csv(&p, &TabularOptions::default()).expect_err("negative label");
    assert!(matches!(err, Error::LabelOutOfRange { at: Location::Line(3), .. }), "{err}");
    let err = load_csv(&p, &TabularOptions { label_column: "y".into(), ..TabularOptions::default() })
        .expect_err("no such column");
    assert!(err.to_string().contains("no column \"y\" (columns: a, b, label)"), "{err}");
}

#[test]
fn parquet_round_trip_matches_csv() {
    use polars::prelude::{CsvReadOptions, ParquetWriter, SerReader};
    let dir = tmp();
    let csv = csv_file(dir.path(), &good_csv());
    let mut df = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(csv.clone()))
        .and_then(|r| r.finish())
        .expect("polars reads its own csv");
    let pq = dir.path().join("table.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).expect("create")).finish(&mut df).expect("write parquet");
    let opts = TabularOptions { label_column: "species".into(), ..TabularOptions::default() };
    let (a, b) = (load_csv(&csv, &opts).expect("csv"), load_parquet(&pq, &opts).expect("parquet"));
    assert_eq!(a.train.features(), b.train.features());
    assert_eq!(a.test.labels(), b.test.labels());
    assert_eq!(b.train.name(), "parquet:table.parquet");
}
