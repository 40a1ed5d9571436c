//! Analytic FLOP counts of the dense work (matrix products and convolutions) of a network.
//!
//! A layer with M multiply-accumulates per example costs 2M FLOPs forward. A training step adds,
//! per matrix path, 2M for the weight gradient and 2M for the input gradient, except at the first
//! layer, whose input is data and needs no gradient. The mean network and
//! [`Mode::Sample`](pacbayes_nn::Mode::Sample) have one path; local reparameterization has two
//! (x·μ and x²·σ²). Elementwise work (sampling, softplus, KL, the update) is not counted, so the
//! achieved GFLOP/s derived from these counts is a lower bound on the work done.

use pacbayes_nn::{Architecture, LayerSpec};

/// Multiply-accumulates per example of each Gaussian layer of `architecture`, in order.
///
/// ```
/// use pacbayes_bench::flops::macs_per_layer;
/// use pacbayes_nn::Architecture;
/// assert_eq!(macs_per_layer(Architecture::Fcn), vec![784 * 600, 600 * 600, 600 * 600, 600 * 10]);
/// assert_eq!(macs_per_layer(Architecture::Cnn)[1], 24 * 24 * 64 * 32 * 9);
/// ```
pub fn macs_per_layer(architecture: Architecture) -> Vec<u64> {
    let shape = architecture.example_shape();
    let (mut height, mut width) = match shape.as_slice() {
        [_, h, w] => (*h, *w),
        _ => (1, 1),
    };
    let mut macs = Vec::new();
    for stage in architecture.stages() {
        match stage.layer {
            LayerSpec::Linear { inputs, outputs } => macs.push((inputs * outputs) as u64),
            LayerSpec::Conv2d { in_channels, out_channels, kernel, padding } => {
                (height, width) = (height + 2 * padding + 1 - kernel, width + 2 * padding + 1 - kernel);
                macs.push((height * width * out_channels * in_channels * kernel * kernel) as u64);
            }
        }
        if let Some(pool) = stage.max_pool {
            (height, width) = (height / pool, width / pool);
        }
    }
    macs
}

/// FLOPs of the dense work of one training example with `paths` matrix paths per layer (1: mean
/// network or one weight draw; 2: local reparameterization).
pub fn training_flop(architecture: Architecture, paths: u64) -> u64 {
    let macs = macs_per_layer(architecture);
    let first = macs.first().copied().unwrap_or(0);
    paths * (6 * macs.iter().sum::<u64>() - 2 * first)
}

/// FLOPs of the dense work of one example's forward pass with `paths` matrix paths per layer.
pub fn forward_flop(architecture: Architecture, paths: u64) -> u64 {
    paths * 2 * macs_per_layer(architecture).iter().sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_hand_computed_tables_of_the_pytorch_baseline() {
        let fcn: u64 = 784 * 600 + 2 * 600 * 600 + 600 * 10;
        assert_eq!(forward_flop(Architecture::Fcn, 1), 2 * fcn);
        assert_eq!(training_flop(Architecture::Fcn, 1), 6 * fcn - 2 * 784 * 600);
        assert_eq!(training_flop(Architecture::Fcn, 2), 2 * training_flop(Architecture::Fcn, 1));
        let cnn = [26 * 26 * 32 * 9, 24 * 24 * 64 * 32 * 9, 9216 * 128, 128 * 10];
        assert_eq!(macs_per_layer(Architecture::Cnn), cnn.to_vec());
        // The value bench.py reports as flop_per_example for the prior CNN.
        assert_eq!(training_flop(Architecture::Cnn, 1), 71_565_312);
    }
}
