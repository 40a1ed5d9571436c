//! Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017), vendored in `data/fashion-mnist` and hash-checked
//! like MNIST: 60,000 training and 10,000 test greyscale images of 28×28 pixels, 10 classes of
//! clothing. The files come from Debian's `dataset-fashion-mnist` package (MIT licence, `LICENSE`
//! beside them); nothing is ever downloaded.

use std::path::{Path, PathBuf};

use crate::dataset::TrainTest;
use crate::error::Result;
use crate::mnist::{Checksums, load_dir};

/// The environment variable that overrides [`default_fashion_mnist_dir`].
pub const FASHION_MNIST_DIR_VAR: &str = "PACBAYES_FASHION_MNIST_DIR";

/// The class names of Fashion-MNIST, in label order.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The Fashion-MNIST directory: `$PACBAYES_FASHION_MNIST_DIR` if set, else `data/fashion-mnist` of
/// the workspace this crate was built from.
pub fn default_fashion_mnist_dir() -> PathBuf {
    match std::env::var_os(FASHION_MNIST_DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/fashion-mnist"),
    }
}

/// Fashion-MNIST from [`default_fashion_mnist_dir`]: images of shape (1, 28, 28), pixels in [0, 1],
/// the classes named by [`FASHION_MNIST_CLASSES`]. Every file is checked against `SHA256SUMS`.
///
/// ```
/// let data = pacbayes_data::fashion_mnist()?;
/// assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
/// assert_eq!(data.train.class_names()[9], "Ankle boot");
/// # Ok::<(), pacbayes_data::Error>(())
/// ```
pub fn fashion_mnist() -> Result<TrainTest> {
    fashion_mnist_from(&default_fashion_mnist_dir())
}

/// Fashion-MNIST from `dir`, which must hold `SHA256SUMS` listing each of the four files.
pub fn fashion_mnist_from(dir: &Path) -> Result<TrainTest> {
    let data = load_dir(dir, "fashion-mnist", Some(10), Checksums::Required)?;
    let names = || FASHION_MNIST_CLASSES.iter().map(|&n| n.to_owned()).collect::<Vec<_>>();
    Ok(TrainTest { train: data.train.with_class_names(names())?, test: data.test.with_class_names(names())? })
}
