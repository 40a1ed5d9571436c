//! A fixed, seeded subset of a training set, for runs that study how a certificate depends on the
//! amount of data (`mnist[3000]`: 3,000 of MNIST's 60,000 training examples).
//!
//! The subset is stratified: class `c` of `n_c` examples contributes its share `N · n_c / n`, rounded
//! by largest remainder so that the shares sum to exactly `N` (ties to the lower class index). Within
//! each class the examples are those first in the same ChaCha20 Fisher–Yates order as
//! [`Split`](crate::Split), keyed with [`SUBSET_SEED`]; the subset keeps the original order. It
//! depends on the data alone, never on a run's split seed, so runs that differ in their split seed
//! share their examples.

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::split::{rng, shuffle};

/// The key of the subset's generator (fixed: a subset is part of the dataset's name).
pub const SUBSET_SEED: u64 = 0x5eed_5ab5e7;

/// The first `examples` of `data` in the stratified, seeded order described in the module docs,
/// named `NAME[examples]`.
///
/// # Errors
/// `examples` of zero or above `data.len()`.
pub fn subsample(data: &Dataset, examples: usize) -> Result<Dataset> {
    if examples == 0 || examples > data.len() {
        return Err(Error::InvalidArgument {
            name: "dataset",
            reason: format!(
                "{}[{examples}]: expected between 1 and {} examples (the size of its training set)",
                data.name(),
                data.len()
            ),
        });
    }
    let shares = shares(&data.class_counts(), examples);
    let mut by_class = vec![Vec::new(); data.n_classes() as usize];
    for (i, &label) in data.labels().iter().enumerate() {
        by_class[label as usize].push(i);
    }
    let mut rng = rng(SUBSET_SEED);
    let mut kept = Vec::with_capacity(examples);
    for (mut indices, share) in by_class.into_iter().zip(shares) {
        shuffle(&mut indices, &mut rng);
        kept.extend_from_slice(&indices[..share]);
    }
    kept.sort_unstable();
    Ok(data.subset(&kept).renamed(format!("{}[{examples}]", data.name())))
}

/// Largest-remainder shares of `total` in proportion to `counts` (each at most its count).
fn shares(counts: &[usize], total: usize) -> Vec<usize> {
    let n: usize = counts.iter().sum();
    let mut shares: Vec<usize> = counts.iter().map(|&c| c * total / n).collect();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    // Largest remainder first; the sort is stable, so ties go to the lower class index.
    order.sort_by_key(|&c| std::cmp::Reverse(counts[c] * total % n));
    let missing = total - shares.iter().sum::<usize>();
    for &c in order.iter().take(missing) {
        shares[c] += 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(labels: Vec<u32>) -> Dataset {
        let features = (0..labels.len()).map(|i| i as f32).collect();
        Dataset::new("toy", features, vec![1], labels, 3).unwrap()
    }

    #[test]
    fn shares_sum_to_the_total_and_follow_the_class_sizes() {
        assert_eq!(shares(&[50, 30, 20], 10), vec![5, 3, 2]);
        assert_eq!(shares(&[1, 1, 1], 2), vec![1, 1, 0]);
        let counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
        for total in [1, 7, 1000, 3000, 10_000, 59_999, 60_000] {
            let s = shares(&counts, total);
            assert_eq!(s.iter().sum::<usize>(), total);
            for (share, count) in s.iter().zip(counts) {
                let exact = (count * total) as f64 / 60_000.0;
                assert!((*share as f64 - exact).abs() < 1.0, "{share} for {exact}");
            }
        }
    }

    #[test]
    fn a_subset_is_stratified_fixed_and_named() {
        let labels: Vec<u32> = (0..300).map(|i| [0, 0, 1, 2, 2, 2][i % 6]).collect();
        let data = toy(labels);
        let a = subsample(&data, 60).unwrap();
        assert_eq!(a.name(), "toy[60]");
        assert_eq!(a.class_counts(), vec![20, 10, 30]);
        assert_eq!(a.content_sha256(), subsample(&data, 60).unwrap().content_sha256());
        // Each feature is its example's original index: kept in order, without repeats.
        assert!(a.features().windows(2).all(|w| w[0] < w[1]));
        // A larger subset differs, and the whole set is the identity but for the name.
        assert_ne!(subsample(&data, 90).unwrap().content_sha256(), a.content_sha256());
        assert_eq!(subsample(&data, 300).unwrap().content_sha256(), data.content_sha256());
    }

    #[test]
    fn sizes_outside_the_training_set_are_refused() {
        let data = toy(vec![0, 1, 2]);
        for bad in [0, 4] {
            let err = subsample(&data, bad).unwrap_err().to_string();
            assert!(err.contains(&format!("toy[{bad}]")) && err.contains("between 1 and 3"), "{err}");
        }
    }
}
