//! The cost of a prior epoch and of a posterior epoch of a CIFAR-10 CNN (default `cnn9`) on this
//! machine, on generated data of the real size (50,000 images of 3×32×32, pixels uniform in
//! [0, 1], labels `i mod 10`): a few steps of batch 250 are timed after one untimed step, and the
//! epochs are extrapolated from them.
//!
//! A prior epoch is over S_prior of a split with α = 0.5 and a 10% validation slice (22,500
//! images, as in `cifar10_table`); a posterior epoch is over all 50,000 training images.
//!
//! `RAYON_NUM_THREADS=2 cargo run --release -p pacbayes-bench --example cifar_cnn_epoch -- [cnn9|cnn13|cnn15] [STEPS]`

use candle_core::Device;
use pacbayes_bench::measure::posterior_epoch;
use pacbayes_data::{Dataset, Split, SplitConfig};
use pacbayes_nn::{Architecture, Mode};
use pacbayes_prior::{Learnt, LearntSettings};
use rand::{Rng, SeedableRng};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TRAIN: usize = 50_000;
const BATCH: usize = 250;
const PRIOR_EPOCH: usize = 22_500;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pacbayes_nn::init_threads();
    let mut args = std::env::args().skip(1);
    let architecture: Architecture = args.next().as_deref().unwrap_or("cnn9").parse()?;
    let steps: usize = args.next().as_deref().unwrap_or("3").parse()?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let features: Vec<f32> = (0..TRAIN * 3072).map(|_| rng.random::<f32>()).collect();
    let labels: Vec<u32> = (0..TRAIN as u32).map(|i| i % 10).collect();
    let data = Dataset::new("generated", features, vec![3, 32, 32], labels, 10)?;
    println!("{architecture}: {} parameters, {TRAIN} generated images", architecture.num_params());

    // Prior: ERM (SGD, dropout 0.2, crops and flips) for one epoch over the first (1 + steps)
    // batches of a prior part; the first batch alone is fitted once before, untimed.
    let settings =
        LearntSettings { epochs: 1, patience: 0, shift: 4, flip: true, ..LearntSettings::default() }
            .check()?;
    let subset = |n: usize| data.subset(&(0..2 * n).collect::<Vec<_>>());
    let device = Device::Cpu;
    let warm = Split::new(subset(BATCH), SplitConfig::new(0.5, 0)?)?;
    Learnt::fit(architecture, &settings, warm.prior(), None, &device, &mut ())?;
    let timed = Split::new(subset(steps * BATCH), SplitConfig::new(0.5, 0)?)?;
    let start = std::time::Instant::now();
    Learnt::fit(architecture, &settings, timed.prior(), None, &device, &mut ())?;
    let per_example = start.elapsed().as_secs_f64() / timed.prior().len() as f64;
    println!(
        "prior epoch ({PRIOR_EPOCH} images): {:.0} s, from {} images timed ({:.1} ms per image)",
        per_example * PRIOR_EPOCH as f64,
        timed.prior().len(),
        1e3 * per_example
    );

    // Posterior: f-quad steps in each training mode over the whole training set.
    let all = Split::new(data, SplitConfig::new(0.0, 0)?)?;
    for mode in [Mode::Local, Mode::Sample] {
        let figure = posterior_epoch(architecture, mode, all.train(), steps * BATCH, 1)?;
        let per_example = 1.0 / figure.examples_per_second;
        println!(
            "posterior epoch ({TRAIN} images, {mode:?}): {:.0} s, from {} images timed ({:.1} ms per image)",
            per_example * TRAIN as f64,
            figure.examples_timed,
            1e3 * per_example
        );
    }
    Ok(())
}
