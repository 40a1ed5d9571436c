//! A labelled dataset held in memory: contiguous row-major `f32` features and `u32` class labels.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Labelled examples with a fixed per-example shape.
///
/// Example `i` occupies `features()[i * n_features() .. (i + 1) * n_features()]`, laid out row-major in
/// the order of [`shape`](Dataset::shape) (for images `(channels, height, width)`, pixels in [0, 1]).
#[derive(Debug, Clone)]
pub struct Dataset {
    name: String,
    features: Vec<f32>,
    shape: Vec<usize>,
    n_features: usize,
    labels: Vec<u32>,
    n_classes: u32,
    class_names: Vec<String>,
}

impl Dataset {
    /// Checks and assembles a dataset: `features.len() == labels.len() * product(shape)`, every label
    /// below `n_classes`, every feature finite. Classes are named `"0"`, `"1"`, ...
    pub fn new(
        name: impl Into<String>,
        features: Vec<f32>,
        shape: Vec<usize>,
        labels: Vec<u32>,
        n_classes: u32,
    ) -> Result<Self> {
        let name = name.into();
        let n_features: usize = shape.iter().product();
        if shape.is_empty() || n_features == 0 {
            return Err(invalid("shape", format!("{shape:?}: expected non-empty dimensions >= 1")));
        }
        if n_classes == 0 {
            return Err(invalid("n_classes", "0: expected at least one class".into()));
        }
        if Some(features.len()) != labels.len().checked_mul(n_features) {
            let reason = format!(
                "{} values for {} examples of {n_features} features: expected {}",
                features.len(),
                labels.len(),
                labels.len().saturating_mul(n_features)
            );
            return Err(invalid("features", reason));
        }
        if let Some(i) = labels.iter().position(|&l| l >= n_classes) {
            let reason = format!("label {} of example {i} is outside 0..{n_classes}", labels[i]);
            return Err(invalid("labels", reason));
        }
        if let Some(i) = features.iter().position(|x| !x.is_finite()) {
            let reason = format!("value {} of example {} is not finite", features[i], i / n_features);
            return Err(invalid("features", reason));
        }
        let class_names = (0..n_classes).map(|c| c.to_string()).collect();
        Ok(Dataset { name, features, shape, n_features, labels, n_classes, class_names })
    }

    /// Replaces the class names (one per class, in class-index order).
    pub fn with_class_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() != self.n_classes as usize {
            let reason = format!("{} names for {} classes", names.len(), self.n_classes);
            return Err(invalid("class_names", reason));
        }
        self.class_names = names;
        Ok(self)
    }

    /// The dataset's name as recorded in manifests (`mnist`, `binary-mnist`, a file name, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The shape of one example, for example `[1, 28, 28]` for MNIST or `[d]` for tabular data.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of features per example (the product of [`shape`](Dataset::shape)).
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of classes; every label lies in `0..n_classes`.
    pub fn n_classes(&self) -> u32 {
        self.n_classes
    }

    /// The class names, in class-index order.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// All features, row-major, `len() * n_features()` values.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// All labels.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The features of example `i`. Panics if `i >= len()`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }

    /// Number of examples of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        count_classes(self.labels.iter().copied(), self.n_classes)
    }

    /// SHA-256 (lowercase hex) of the content: shape, number of classes, features (`f32`
    /// little-endian) and labels (`u32` little-endian). The name is not included.
    pub fn content_sha256(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"pacbayes-data/dataset/v1");
        h.update((self.shape.len() as u64).to_le_bytes());
        for &d in &self.shape {
            h.update((d as u64).to_le_bytes());
        }
        h.update(u64::from(self.n_classes).to_le_bytes());
        h.update((self.len() as u64).to_le_bytes());
        update_le(&mut h, &self.features, &self.labels);
        hex(&h.finalize())
    }

    /// The examples at `indices`, in that order, as a new dataset with the same name and classes.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(indices.len() * self.n_features);
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        Dataset { features, labels, ..self.clone_meta() }
    }

    /// The same examples under another name.
    pub(crate) fn renamed(mut self, name: String) -> Dataset {
        self.name = name;
        self
    }

    /// Relabels every example with `map(label)`, for `n_classes` new classes named `names`.
    pub fn relabel(self, name: &str, names: Vec<String>, map: impl Fn(u32) -> u32) -> Result<Dataset> {
        let n_classes = names.len() as u32;
        let labels = self.labels.iter().map(|&l| map(l)).collect();
        Dataset::new(name, self.features, self.shape, labels, n_classes)?.with_class_names(names)
    }

    pub(crate) fn features_mut(&mut self) -> &mut [f32] {
        &mut self.features
    }

    fn clone_meta(&self) -> Dataset {
        Dataset {
            name: self.name.clone(),
            features: Vec::new(),
            shape: self.shape.clone(),
            n_features: self.n_features,
            labels: Vec::new(),
            n_classes: self.n_classes,
            class_names: self.class_names.clone(),
        }
    }
}

/// A training set and its held-out test set (same shape, same classes).
#[derive(Debug, Clone)]
pub struct TrainTest {
    /// The training set S, to be split into S_prior and S_bound.
    pub train: Dataset,
    /// The test set, used only for final evaluation.
    pub test: Dataset,
}

pub(crate) fn count_classes(labels: impl Iterator<Item = u32>, n_classes: u32) -> Vec<usize> {
    let mut counts = vec![0; n_classes as usize];
    for l in labels {
        counts[l as usize] += 1;
    }
    counts
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(target_endian = "little")]
fn update_le(h: &mut Sha256, features: &[f32], labels: &[u32]) {
    h.update(bytemuck::cast_slice::<f32, u8>(features));
    h.update(bytemuck::cast_slice::<u32, u8>(labels));
}

#[cfg(not(target_endian = "little"))]
fn update_le(h: &mut Sha256, features: &[f32], labels: &[u32]) {
    for x in features {
        h.update(x.to_le_bytes());
    }
    for l in labels {
        h.update(l.to_le_bytes());
    }
}

fn invalid(name: &'static str, reason: String) -> Error {
    Error::InvalidArgument { name, reason }
}
