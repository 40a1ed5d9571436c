//! Fixtures of the unit tests: a small dataset, its split, a learnt prior small enough to fit in
//! milliseconds (3 epochs of ERM of a linear model on S_prior), and the same data with S_bound
//! changed.

use candle_core::{Device, Tensor};
use pacbayes_data::{Dataset, LinearTeacher, Split, SplitConfig};
use pacbayes_nn::Architecture;

use crate::{Learnt, LearntSettings};

/// The prior mean of `linear-3-2` after 3 epochs of ERM on `split`'s S_prior, on the CPU.
pub(crate) fn tiny_learnt(split: &Split) -> Learnt {
    let arch: Architecture = "linear-3-2".parse().unwrap();
    let settings =
        LearntSettings { epochs: 3, batch_size: 20, learning_rate: 0.05, dropout: 0.0, ..Default::default() }
            .check()
            .unwrap();
    Learnt::fit(arch, &settings, split.prior(), split.validation(), &Device::Cpu, &mut ()).unwrap()
}

/// 400 examples of a linear teacher in 3 features, the middle one set to 0 everywhere: the
/// weights it multiplies get no gradient from the loss.
pub(crate) fn dead_feature_data() -> Dataset {
    let teacher = LinearTeacher::new(vec![1.0, -0.5, 0.25], 0.05).unwrap();
    let data = teacher.sample(400, 3);
    let mut features = data.features().to_vec();
    features.chunks_exact_mut(3).for_each(|x| x[1] = 0.0);
    Dataset::new("dead-feature", features, vec![3], data.labels().to_vec(), 2).unwrap()
}

/// Half of the data for the prior, a quarter of that for its validation slice.
pub(crate) fn split_config() -> SplitConfig {
    SplitConfig::new(0.5, 7).unwrap().with_validation_fraction(0.25).unwrap()
}

/// The split of `data` (3 features per example) by [`split_config`], and the split of the same data
/// with the features of every S_bound example negated: the same S_prior and validation slice (the
/// split is stratified by label), another S_bound.
pub(crate) fn with_bound_negated(data: &Dataset) -> (Split, Split) {
    let split = Split::new(data.clone(), split_config()).unwrap();
    let bound: Vec<usize> = split.bound().indices().to_vec();
    let mut features = data.features().to_vec();
    for &i in &bound {
        features[3 * i..3 * i + 3].iter_mut().for_each(|x| *x = -*x);
    }
    let other = Dataset::new("negated", features, vec![3], data.labels().to_vec(), 2).unwrap();
    let other_split = Split::new(other, split_config()).unwrap();
    assert_eq!(other_split.bound().indices(), &bound[..]);
    (split, other_split)
}

/// Every value of `tensors`, flattened in order.
pub(crate) fn flat(tensors: &[Tensor]) -> Vec<f32> {
    tensors.iter().flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect()
}
