//! A learnt prior small enough for unit tests: 3 epochs of ERM of a linear model on S_prior.

use candle_core::Device;
use pacbayes_data::Split;
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
