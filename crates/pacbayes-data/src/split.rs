//! Seeded, stratified splits of a training set into S_prior (with an optional validation slice) and
//! S_bound.
//!
//! The algorithm (recorded in manifests as [`SPLIT_ALGORITHM`]): a ChaCha20 generator is keyed with
//! the seed as little-endian bytes `0..8` of an otherwise zero 32-byte key; for each class in turn its
//! example indices, in ascending order, are shuffled by Fisher–Yates (index `j ≤ i` drawn by rejection
//! from `next_u64`); the first `round(prior_fraction · n_c)` go to the prior side, and of those the first
//! `round(validation_fraction · k_c)` to the validation slice. Every part is then sorted. Nothing here
//! depends on `rand`'s own sampling algorithms, so a split is stable across library versions.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::manifest::SplitManifest;
use crate::sets::{BoundSet, PriorSet, TrainSet, ValidationSet};

/// The name and version of the split algorithm, as written into manifests.
pub const SPLIT_ALGORITHM: &str = "stratified-chacha20-fisher-yates/v1";

/// How to split: the prior fraction α, the validation fraction of S_prior, and the seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    prior_fraction: f64,
    validation_fraction: f64,
    seed: u64,
}

impl SplitConfig {
    /// α ∈ [0, 1) of each class goes to S_prior, the rest to S_bound; α = 0 is a data-free prior.
    pub fn new(prior_fraction: f64, seed: u64) -> Result<Self> {
        check_fraction("prior_fraction", prior_fraction)?;
        Ok(SplitConfig { prior_fraction, validation_fraction: 0.0, seed })
    }

    /// Sets aside `validation_fraction` ∈ [0, 1) of S_prior (per class) as a validation slice.
    pub fn with_validation_fraction(mut self, validation_fraction: f64) -> Result<Self> {
        check_fraction("validation_fraction", validation_fraction)?;
        self.validation_fraction = validation_fraction;
        Ok(self)
    }

    /// α: the fraction of the training set on the prior side.
    pub fn prior_fraction(&self) -> f64 {
        self.prior_fraction
    }

    /// The fraction of the prior side kept for validation.
    pub fn validation_fraction(&self) -> f64 {
        self.validation_fraction
    }

    /// The seed of the ChaCha20 generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

fn check_fraction(name: &'static str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidFraction { name, value, expected: "[0, 1)" })
    }
}

/// A training set split into disjoint parts; the parts are reached only through typed views.
///
/// [`prior`](Split::prior) is what a prior may be fitted on, [`validation`](Split::validation) what it
/// may be stopped on, and [`bound`](Split::bound) the only part a certificate is computed on.
#[derive(Debug, Clone)]
pub struct Split {
    data: Dataset,
    config: SplitConfig,
    content_sha256: String,
    prior: Vec<usize>,
    validation: Vec<usize>,
    bound: Vec<usize>,
    all: Vec<usize>,
}

impl Split {
    /// Splits `data` as `config` says. Fails if any class has no training example, if α > 0 and a
    /// class gets no prior example, if a class gets no bound example, or if a validation slice was
    /// asked for and comes out empty.
    pub fn new(data: Dataset, config: SplitConfig) -> Result<Self> {
        let parts = partition(data.labels(), data.n_classes(), &config);
        let dataset = || data.name().to_owned();
        for (class, part) in parts.iter().enumerate() {
            let class = class as u32;
            let total = part.prior.len() + part.validation.len() + part.bound.len();
            let empty = if total == 0 {
                Some("train")
            } else if config.prior_fraction > 0.0 && part.prior.is_empty() {
                Some("prior")
            } else if part.bound.is_empty() {
                Some("bound")
            } else {
                None
            };
            if let Some(part) = empty {
                return Err(Error::EmptyClass { dataset: dataset(), class, part });
            }
        }
        let gather = |f: fn(&ClassPart) -> &Vec<usize>| {
            let mut v: Vec<usize> = parts.iter().flat_map(|p| f(p).iter().copied()).collect();
            v.sort_unstable();
            v
        };
        let (prior, validation, bound) =
            (gather(|p| &p.prior), gather(|p| &p.validation), gather(|p| &p.bound));
        if config.validation_fraction > 0.0 && validation.is_empty() {
            return Err(Error::EmptyPart { dataset: dataset(), part: "validation" });
        }
        let content_sha256 = data.content_sha256();
        let all = (0..data.len()).collect();
        Ok(Split { data, config, content_sha256, prior, validation, bound, all })
    }

    /// S_prior without the validation slice: what a prior may be fitted on (empty when α = 0).
    pub fn prior(&self) -> PriorSet<'_> {
        PriorSet::new(&self.data, &self.prior)
    }

    /// The validation slice carved from S_prior, if one was asked for.
    pub fn validation(&self) -> Option<ValidationSet<'_>> {
        (!self.validation.is_empty()).then(|| ValidationSet::new(&self.data, &self.validation))
    }

    /// S_bound: the only part a certificate may be computed on, with its size n.
    pub fn bound(&self) -> BoundSet<'_> {
        BoundSet::new(&self.data, &self.bound)
    }

    /// The whole training set S, every part together in index order: what a posterior may be
    /// trained on (the bound's n is still [`BoundSet::n`]).
    pub fn train(&self) -> TrainSet<'_> {
        TrainSet::new(&self.data, &self.all)
    }

    /// The settings the split was made with.
    pub fn config(&self) -> &SplitConfig {
        &self.config
    }

    /// The name of the dataset split.
    pub fn dataset_name(&self) -> &str {
        self.data.name()
    }

    /// Number of training examples (all parts together).
    pub fn n_train(&self) -> usize {
        self.data.len()
    }

    /// The manifest: sizes, settings, per-class counts and the SHA-256 of each part's index list.
    pub fn manifest(&self) -> SplitManifest {
        SplitManifest::describe(
            &self.data,
            &self.config,
            &self.content_sha256,
            [&self.prior, &self.validation, &self.bound],
        )
    }

    /// The SHA-256 of the training set's content at the time of the split.
    pub fn content_sha256(&self) -> &str {
        &self.content_sha256
    }

    pub(crate) fn dataset(&self) -> &Dataset {
        &self.data
    }

    pub(crate) fn dataset_mut(&mut self) -> &mut Dataset {
        &mut self.data
    }

    pub(crate) fn prior_side(&self) -> impl Iterator<Item = usize> + '_ {
        self.prior.iter().chain(&self.validation).copied()
    }
}

#[derive(Default)]
struct ClassPart {
    prior: Vec<usize>,
    validation: Vec<usize>,
    bound: Vec<usize>,
}

fn partition(labels: &[u32], n_classes: u32, config: &SplitConfig) -> Vec<ClassPart> {
    let mut by_class = vec![Vec::new(); n_classes as usize];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let mut rng = rng(config.seed);
    by_class
        .into_iter()
        .map(|mut idx| {
            shuffle(&mut idx, &mut rng);
            let k = round_share(config.prior_fraction, idx.len());
            let bound = idx.split_off(k);
            let v = round_share(config.validation_fraction, idx.len());
            let prior = idx.split_off(v);
            ClassPart { prior, validation: idx, bound }
        })
        .collect()
}

/// `round(fraction · n)`, at most `n`.
fn round_share(fraction: f64, n: usize) -> usize {
    ((fraction * n as f64).round() as usize).min(n)
}

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    ChaCha20Rng::from_seed(key)
}

/// Fisher–Yates with an unbiased draw of `j ∈ 0..=i` by rejection.
pub(crate) fn shuffle(v: &mut [usize], rng: &mut ChaCha20Rng) {
    for i in (1..v.len()).rev() {
        let bound = i as u64 + 1;
        let limit = u64::MAX - u64::MAX % bound;
        let j = loop {
            let x = rng.next_u64();
            if x < limit {
                break x % bound;
            }
        };
        v.swap(i, j as usize);
    }
}

/// A stratified two-way partition of `labels` (used for tabular test sets): the sorted indices of
/// `round(fraction · n_c)` examples of each class, and the sorted rest.
pub(crate) fn stratified_holdout(
    labels: &[u32],
    n_classes: u32,
    fraction: f64,
    seed: u64,
) -> [Vec<usize>; 2] {
    let config = SplitConfig { prior_fraction: fraction, validation_fraction: 0.0, seed };
    let parts = partition(labels, n_classes, &config);
    let mut held: Vec<usize> = parts.iter().flat_map(|p| p.prior.iter().copied()).collect();
    let mut rest: Vec<usize> = parts.iter().flat_map(|p| p.bound.iter().copied()).collect();
    held.sort_unstable();
    rest.sort_unstable();
    [held, rest]
}

#[cfg(test)]
mod train_view_tests {
    use super::*;
    use crate::LinearTeacher;

    #[test]
    fn the_train_view_holds_every_part_in_index_order() {
        let data = LinearTeacher::new(vec![1.0, 0.5], 0.1).unwrap().sample(50, 3);
        let config = SplitConfig::new(0.4, 1).unwrap().with_validation_fraction(0.25).unwrap();
        let split = Split::new(data, config).unwrap();
        let train = split.train();
        assert_eq!(train.len(), 50);
        assert_eq!(train.indices(), (0..50).collect::<Vec<_>>().as_slice());
        let v = split.validation().map_or(0, |v| v.len());
        assert_eq!(split.prior().len() + v + split.bound().n(), train.len());
        let (row, label) = train.example(7);
        assert_eq!(split.dataset().row(7), row);
        assert_eq!(split.dataset().labels()[7], label);
        assert_eq!(train.batches(16).map(|b| b.len()).collect::<Vec<_>>(), [16, 16, 16, 2]);
    }
}
