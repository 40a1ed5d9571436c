//! Small synthetic problems shared by the tests.

#![allow(dead_code)]

use candle_core::Device;
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_nn::{Architecture, GaussianWeights, Network};
use pacbayes_posterior::{CheckedSettings, ObjectiveKind, OptimizerKind, PosteriorSettings};

/// 240 examples in 3 features from a noisy linear teacher, split half and half.
pub fn split(n: usize) -> Split {
    let teacher = LinearTeacher::new(vec![1.0, -0.5, 0.25], 0.05).unwrap();
    Split::new(teacher.sample(n, 11), SplitConfig::new(0.5, 5).unwrap()).unwrap()
}

/// A data-free prior for linear-3-2 and a network whose posterior starts at it.
pub fn network(arch: &str, sigma0: f64) -> (GaussianWeights, Network) {
    let arch: Architecture = arch.parse().unwrap();
    let prior = GaussianWeights::random(arch, sigma0, 3, &Device::Cpu).unwrap();
    let net = Network::from_prior(&prior).unwrap();
    (prior, net)
}

/// Settings for a few quick epochs.
pub fn settings(objective: ObjectiveKind, optimizer: OptimizerKind, epochs: usize) -> CheckedSettings {
    PosteriorSettings {
        objective,
        optimizer,
        epochs,
        batch_size: 40,
        learning_rate: if optimizer == OptimizerKind::Adam { 0.01 } else { 0.05 },
        momentum: 0.9,
        ..PosteriorSettings::default()
    }
    .check()
    .unwrap()
}

/// Every μ and ρ of the network, as bits.
pub fn bits(net: &Network) -> Vec<u32> {
    net.vars()
        .iter()
        .flat_map(|v| v.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .map(f32::to_bits)
        .collect()
}
