//! Times one training step (forward, KL, cross-entropy, backward, SGD update) of a stochastic
//! network on a batch of random inputs, per forward mode.
//!
//! `cargo run --release -p pacbayes-nn --example step_timing -- [fcn|cnn|...] [batch] [steps]`

use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use candle_core::{Device, Tensor};
use candle_nn::Optimizer;
use pacbayes_nn::{Architecture, Mode, Network, Noise};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arch: Architecture = args.get(1).map_or("fcn", String::as_str).parse()?;
    let batch: usize = args.get(2).map_or(Ok(250), |s| s.parse())?;
    let steps: usize = args.get(3).map_or(Ok(20), |s| s.parse())?;
    let dev = Device::Cpu;
    let net = Network::from_seed(arch, 0.03, 0, &dev)?;
    let mut noise = Noise::new(1);
    let x = Tensor::from_vec(noise.standard_normal(batch * arch.inputs()), (batch, arch.inputs()), &dev)?;
    let y = Tensor::from_vec((0..batch as u32).map(|i| i % arch.classes() as u32).collect(), batch, &dev)?;
    let mut sgd = candle_nn::SGD::new(net.vars(), 1e-3)?;
    for mode in [Mode::Mean, Mode::Local, Mode::Sample] {
        let mut step = || -> Result<(), Box<dyn std::error::Error>> {
            let (logits, kl) = net.forward_and_kl(&x, mode, &mut noise)?;
            let loss = (candle_nn::loss::cross_entropy(&logits, &y)? + (kl / 30_000.0)?)?;
            sgd.step(&loss.backward()?)?;
            Ok(())
        };
        step()?;
        let start = Instant::now();
        for _ in 0..steps {
            step()?;
        }
        let per_step = start.elapsed().as_secs_f64() / steps as f64;
        println!(
            "{arch} {mode:?}: {:.1} ms per step of {batch} examples ({:.1} s per 60,000 examples)",
            per_step * 1e3,
            per_step * 60_000.0 / batch as f64
        );
    }
    let start = Instant::now();
    for _ in 0..steps {
        net.kl_value()?;
    }
    println!("kl_value: {:.1} ms", start.elapsed().as_secs_f64() * 1e3 / steps as f64);
    Ok(())
}
