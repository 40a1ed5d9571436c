//! Typed read-only views of the parts of a [`Split`](crate::Split).
//!
//! Each view is a sorted list of indices into the training set. The types are distinct and cannot be
//! built outside this crate, so a function that fits a prior takes a [`PriorSet`] and cannot be handed
//! S_bound, and a certificate takes a [`BoundSet`], the only view with an `n()`.

use crate::dataset::{Dataset, count_classes};

/// Features and labels of some examples, copied out contiguously (row-major `f32`, `u32` labels).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `labels.len() * product(shape)` values, row-major.
    pub features: Vec<f32>,
    /// One label per example.
    pub labels: Vec<u32>,
    /// The shape of one example.
    pub shape: Vec<usize>,
}

impl Batch {
    /// Number of examples in the batch.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the batch holds no example.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

#[derive(Debug, Clone, Copy)]
struct View<'a> {
    data: &'a Dataset,
    indices: &'a [usize],
}

impl View<'_> {
    fn gather(&self, positions: impl Iterator<Item = usize>) -> Batch {
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for p in positions {
            let i = self.indices[p];
            features.extend_from_slice(self.data.row(i));
            labels.push(self.data.labels()[i]);
        }
        Batch { features, labels, shape: self.data.shape().to_vec() }
    }
}

macro_rules! view_methods {
    ($a:lifetime) => {
        /// The indices of this part's examples in the training set, ascending.
        pub fn indices(&self) -> &$a [usize] {
            self.view.indices
        }

        /// The features and label of the `position`-th example of this part. Panics if out of range.
        pub fn example(&self, position: usize) -> (&$a [f32], u32) {
            let i = self.view.indices[position];
            (self.view.data.row(i), self.view.data.labels()[i])
        }

        /// The examples at `positions` (positions within this part, not training-set indices).
        /// Panics if a position is out of range.
        pub fn gather(&self, positions: &[usize]) -> Batch {
            self.view.gather(positions.iter().copied())
        }

        /// All examples of this part, in order, `batch_size` at a time (the last batch may be smaller).
        /// Panics if `batch_size` is 0.
        pub fn batches(&self, batch_size: usize) -> impl Iterator<Item = Batch> + use<$a> {
            assert!(batch_size > 0, "batch_size must be positive");
            let view = self.view;
            let n = view.indices.len();
            (0..n).step_by(batch_size).map(move |start| view.gather(start..(start + batch_size).min(n)))
        }

        /// All examples of this part as one batch.
        pub fn to_batch(&self) -> Batch {
            self.view.gather(0..self.view.indices.len())
        }

        /// Number of examples of each class in this part.
        pub fn class_counts(&self) -> Vec<usize> {
            let labels = self.view.data.labels();
            count_classes(self.view.indices.iter().map(|&i| labels[i]), self.view.data.n_classes())
        }

        /// The shape of one example.
        pub fn shape(&self) -> &$a [usize] {
            self.view.data.shape()
        }

        /// Number of features per example.
        pub fn n_features(&self) -> usize {
            self.view.data.n_features()
        }

        /// Number of classes of the dataset.
        pub fn n_classes(&self) -> u32 {
            self.view.data.n_classes()
        }
    };
}

/// S_prior (without the validation slice): the only training data a prior may be fitted on.
#[derive(Debug, Clone, Copy)]
pub struct PriorSet<'a> {
    view: View<'a>,
}

impl<'a> PriorSet<'a> {
    pub(crate) fn new(data: &'a Dataset, indices: &'a [usize]) -> Self {
        PriorSet { view: View { data, indices } }
    }

    /// Number of examples the prior may be fitted on (`n_prior`; 0 for a data-free prior).
    pub fn len(&self) -> usize {
        self.view.indices.len()
    }

    /// True for a data-free prior (α = 0).
    pub fn is_empty(&self) -> bool {
        self.view.indices.is_empty()
    }

    view_methods!('a);
}

/// The validation slice, carved from S_prior only (for early stopping of the prior).
#[derive(Debug, Clone, Copy)]
pub struct ValidationSet<'a> {
    view: View<'a>,
}

impl<'a> ValidationSet<'a> {
    pub(crate) fn new(data: &'a Dataset, indices: &'a [usize]) -> Self {
        ValidationSet { view: View { data, indices } }
    }

    /// Number of validation examples (`n_validation`).
    pub fn len(&self) -> usize {
        self.view.indices.len()
    }

    /// Never true: an empty validation slice is not built.
    pub fn is_empty(&self) -> bool {
        self.view.indices.is_empty()
    }

    view_methods!('a);
}

/// S_bound: the examples a certificate is computed on, disjoint from S_prior and the validation slice.
#[derive(Debug, Clone, Copy)]
pub struct BoundSet<'a> {
    view: View<'a>,
}

impl<'a> BoundSet<'a> {
    pub(crate) fn new(data: &'a Dataset, indices: &'a [usize]) -> Self {
        BoundSet { view: View { data, indices } }
    }

    /// n = |S_bound| (`n_bound`), the sample size every bound is computed with. Always at least 1.
    pub fn n(&self) -> usize {
        self.view.indices.len()
    }

    view_methods!('a);
}

/// The whole training set S (S_prior, the validation slice and S_bound together): what a posterior
/// may be trained on, since a bound holds for every Q at once as long as the prior never saw S_bound.
/// Its size is not a sample size of any bound; use [`BoundSet::n`] for that.
#[derive(Debug, Clone, Copy)]
pub struct TrainSet<'a> {
    view: View<'a>,
}

impl<'a> TrainSet<'a> {
    pub(crate) fn new(data: &'a Dataset, indices: &'a [usize]) -> Self {
        TrainSet { view: View { data, indices } }
    }

    /// Number of training examples (`n_train`).
    pub fn len(&self) -> usize {
        self.view.indices.len()
    }

    /// Never true: a split is not built from an empty training set.
    pub fn is_empty(&self) -> bool {
        self.view.indices.is_empty()
    }

    view_methods!('a);
}
