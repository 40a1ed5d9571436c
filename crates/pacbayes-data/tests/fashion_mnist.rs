//! The vendored Fashion-MNIST: it loads with its class names, its hashes are checked, and a
//! corrupted copy is refused with the file named.

use pacbayes_data::{
    DatasetSpec, Error, FASHION_MNIST_CLASSES, IDX_FILES, SUMS_FILE, TabularOptions,
    default_fashion_mnist_dir, fashion_mnist_from,
};

#[test]
fn fashion_mnist_loads_with_its_shape_counts_and_class_names() {
    let spec: DatasetSpec = "fashion-mnist".parse().expect("name parses");
    assert_eq!(spec.to_string(), "fashion-mnist");
    let d = spec.load(&TabularOptions::default()).expect("vendored Fashion-MNIST loads");
    assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
    assert_eq!(d.train.shape(), &[1, 28, 28]);
    assert_eq!(d.train.name(), "fashion-mnist");
    // Fashion-MNIST is balanced: 6,000 training and 1,000 test images of each class.
    assert_eq!(d.train.class_counts(), [6000; 10]);
    assert_eq!(d.test.class_counts(), [1000; 10]);
    assert_eq!(d.train.class_names(), FASHION_MNIST_CLASSES);
    assert_eq!(d.test.class_names()[0], "T-shirt/top");
    let (lo, hi) = d.train.features().iter().fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(lo.abs() < f32::EPSILON && (hi - 1.0).abs() < f32::EPSILON, "pixels in [{lo}, {hi}]");
}

#[test]
fn a_corrupted_copy_is_refused_naming_the_file() {
    let src = default_fashion_mnist_dir();
    let dir = tempfile::tempdir().expect("temporary directory");
    let names = IDX_FILES.iter().map(|stem| format!("{stem}.gz")).chain([SUMS_FILE.to_owned()]);
    for name in names {
        std::fs::copy(src.join(&name), dir.path().join(&name)).expect("copy");
    }
    // One flipped bit in the test labels (the smallest file): the SHA-256 no longer matches.
    let victim = dir.path().join(format!("{}.gz", IDX_FILES[3]));
    let mut bytes = std::fs::read(&victim).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    std::fs::write(&victim, bytes).expect("write");
    let err = fashion_mnist_from(dir.path()).expect_err("corrupted copy");
    assert!(matches!(&err, Error::HashMismatch { path, .. } if *path == victim), "{err}");
    assert!(err.to_string().contains("t10k-labels-idx1-ubyte.gz"), "{err}");

    // A copy whose SHA256SUMS lacks a file is refused as well: the sums are required, not optional.
    std::fs::copy(src.join(format!("{}.gz", IDX_FILES[3])), &victim).expect("restore");
    fashion_mnist_from(dir.path()).expect("restored copy loads");
    let sums = std::fs::read_to_string(src.join(SUMS_FILE)).expect("read");
    let kept: String = sums.lines().filter(|l| !l.contains(IDX_FILES[0])).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join(SUMS_FILE), kept).expect("write");
    let err = fashion_mnist_from(dir.path()).expect_err("unlisted file");
    assert!(matches!(&err, Error::UnlistedFile { .. }), "{err}");
    assert!(err.to_string().contains("train-images-idx3-ubyte.gz"), "{err}");
}
