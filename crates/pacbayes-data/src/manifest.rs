//! The split manifest (`split.json`): what a run records so that its split can be rebuilt and checked.
//!
//! The manifest alone names the data (by content hash), the settings, and the SHA-256 of each part's
//! index list. [`SplitManifest::verify`] rebuilds the split from the data and the settings, checks
//! every hash and count against the manifest, and checks that the parts are pairwise disjoint: a run
//! that carries a verified manifest provably fitted its prior on examples disjoint from S_bound.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dataset::{Dataset, hex};
use crate::error::{Error, Result};
use crate::split::{SPLIT_ALGORITHM, Split, SplitConfig};

/// Sizes, settings and index hashes of a split. JSON keys are the field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitManifest {
    /// The dataset's name.
    pub dataset: String,
    /// SHA-256 of the training set's content ([`Dataset::content_sha256`]).
    pub content_sha256: String,
    /// The split algorithm and its version.
    pub algorithm: String,
    /// The seed of the split.
    pub seed: u64,
    /// α, the fraction of each class on the prior side.
    pub prior_fraction: f64,
    /// The fraction of the prior side kept for validation.
    pub validation_fraction: f64,
    /// Number of classes.
    pub n_classes: u32,
    /// Size of the training set.
    pub n_train: usize,
    /// Size of S_prior without the validation slice.
    pub n_prior: usize,
    /// Size of the validation slice.
    pub n_validation: usize,
    /// n = |S_bound|.
    pub n_bound: usize,
    /// Examples per class in S_prior (validation excluded).
    pub prior_class_counts: Vec<usize>,
    /// Examples per class in the validation slice.
    pub validation_class_counts: Vec<usize>,
    /// Examples per class in S_bound.
    pub bound_class_counts: Vec<usize>,
    /// SHA-256 of S_prior's ascending index list, each index as a little-endian `u64`.
    pub prior_indices_sha256: String,
    /// SHA-256 of the validation slice's index list, encoded the same way.
    pub validation_indices_sha256: String,
    /// SHA-256 of S_bound's index list, encoded the same way.
    pub bound_indices_sha256: String,
}

impl SplitManifest {
    pub(crate) fn describe(
        data: &Dataset,
        config: &SplitConfig,
        content_sha256: &str,
        [prior, validation, bound]: [&[usize]; 3],
    ) -> Self {
        let counts = |idx: &[usize]| {
            let mut c = vec![0; data.n_classes() as usize];
            for &i in idx {
                c[data.labels()[i] as usize] += 1;
            }
            c
        };
        SplitManifest {
            dataset: data.name().to_owned(),
            content_sha256: content_sha256.to_owned(),
            algorithm: SPLIT_ALGORITHM.to_owned(),
            seed: config.seed(),
            prior_fraction: config.prior_fraction(),
            validation_fraction: config.validation_fraction(),
            n_classes: data.n_classes(),
            n_train: data.len(),
            n_prior: prior.len(),
            n_validation: validation.len(),
            n_bound: bound.len(),
            prior_class_counts: counts(prior),
            validation_class_counts: counts(validation),
            bound_class_counts: counts(bound),
            prior_indices_sha256: indices_sha256(prior),
            validation_indices_sha256: indices_sha256(validation),
            bound_indices_sha256: indices_sha256(bound),
        }
    }

    /// The settings recorded in the manifest, checked.
    pub fn config(&self) -> Result<SplitConfig> {
        SplitConfig::new(self.prior_fraction, self.seed)?.with_validation_fraction(self.validation_fraction)
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest of strings and numbers serializes")
    }

    /// Parses a manifest from JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| Error::InvalidArgument { name: "split manifest", reason: e.to_string() })
    }

    /// Rebuilds the split of `data` from the recorded settings, checks that it matches this manifest
    /// field by field (content hash and index hashes included) and that its parts are pairwise
    /// disjoint, and returns it.
    pub fn verify(&self, data: Dataset) -> Result<Split> {
        if self.algorithm != SPLIT_ALGORITHM {
            return Err(mismatch("algorithm", &self.algorithm, SPLIT_ALGORITHM));
        }
        let content = data.content_sha256();
        if content != self.content_sha256 {
            return Err(mismatch("content_sha256", &self.content_sha256, &content));
        }
        let split = Split::new(data, self.config()?)?;
        let rebuilt = split.manifest();
        let fields: [(&'static str, String, String); 8] = [
            ("dataset", self.dataset.clone(), rebuilt.dataset.clone()),
            ("n_train", self.n_train.to_string(), rebuilt.n_train.to_string()),
            ("n_prior", self.n_prior.to_string(), rebuilt.n_prior.to_string()),
            ("n_validation", self.n_validation.to_string(), rebuilt.n_validation.to_string()),
            ("n_bound", self.n_bound.to_string(), rebuilt.n_bound.to_string()),
            ("prior_indices_sha256", self.prior_indices_sha256.clone(), rebuilt.prior_indices_sha256.clone()),
            (
                "validation_indices_sha256",
                self.validation_indices_sha256.clone(),
                rebuilt.validation_indices_sha256.clone(),
            ),
            ("bound_indices_sha256", self.bound_indices_sha256.clone(), rebuilt.bound_indices_sha256.clone()),
        ];
        for (field, expected, found) in fields {
            if expected != found {
                return Err(mismatch(field, &expected, &found));
            }
        }
        if rebuilt != *self {
            return Err(mismatch("class counts", "the recorded counts", "different counts"));
        }
        check_disjoint(&split)?;
        Ok(split)
    }
}

/// SHA-256 (lowercase hex) of an index list, each index as a little-endian `u64`.
pub fn indices_sha256(indices: &[usize]) -> String {
    let mut h = Sha256::new();
    for &i in indices {
        h.update((i as u64).to_le_bytes());
    }
    hex(&h.finalize())
}

/// Checks that S_prior, the validation slice and S_bound are pairwise disjoint and cover the
/// training set exactly once.
pub fn check_disjoint(split: &Split) -> Result<()> {
    let mut seen = vec![0u8; split.n_train()];
    let validation = split.validation().map_or(&[][..], |v| v.indices());
    for &i in split.prior().indices().iter().chain(validation).chain(split.bound().indices()) {
        seen[i] = seen[i].saturating_add(1);
    }
    match seen.iter().position(|&c| c != 1) {
        None => Ok(()),
        Some(i) => Err(mismatch(
            "parts",
            "disjoint parts covering the training set",
            &format!("example {i} in {} parts", seen[i]),
        )),
    }
}

fn mismatch(field: &'static str, expected: &str, found: &str) -> Error {
    Error::ManifestMismatch { field, expected: expected.to_owned(), found: found.to_owned() }
}
