//! The timings: prior and posterior epochs, the certificate's draw and fast pass, the matrix
//! product. Data is loaded and batches of S_bound are built before any clock starts.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use pacbayes_data::{Batch, Dataset, Split, SplitConfig, TrainSet};
use pacbayes_nn::{Architecture, Mode, Network, Noise};
use pacbayes_posterior::{PosteriorSettings, TrainMode, TrainOptions};
use pacbayes_prior::{Learnt, LearntSettings, PUBLISHED_LEARNING_RATE};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::budget::{BATCH, BOUND_EXAMPLES, EVAL_BATCH, MATMUL_N, POSTERIOR_EPOCH, PRIOR_EPOCH};
use crate::figure::{Figure, MatmulFigure};
use crate::flops::{forward_flop, training_flop};
use crate::posterior::PosteriorTrainer;
use crate::{Error, Result};

/// The prior scale σ₀ of every network built here.
const SIGMA0: f64 = 0.03;

/// Features (batch, features) and labels (batch) of a batch, as tensors.
///
/// # Errors
/// Only on a candle failure.
pub fn tensors(batch: &Batch, device: &Device) -> Result<(Tensor, Tensor)> {
    let n = batch.len();
    let x = Tensor::from_slice(&batch.features, (n, batch.features.len() / n.max(1)), device)?;
    let y = Tensor::from_slice(&batch.labels, n, device)?;
    Ok((x, y))
}

/// A split with prior fraction 0.5 (seed 0) of the first 2·`examples` examples of `train`, or of
/// all of it when that is fewer.
fn prior_split(train: &Dataset, examples: usize) -> Result<Split> {
    let data = if 2 * examples >= train.len() {
        train.clone()
    } else {
        train.subset(&(0..2 * examples).collect::<Vec<_>>())
    };
    Ok(Split::new(data, SplitConfig::new(0.5, 0)?)?)
}

/// Seconds per prior epoch (30,000 examples) of `architecture` through [`Learnt::fit`] with one
/// epoch and the published settings (SGD, momentum 0.95, lr 0.005, batch 250, dropout 0.2), on a
/// prior split of about `examples` examples of `train`; a fit on `warmup_steps` batches first.
///
/// # Errors
/// Data that does not fit the architecture, or a candle failure.
pub fn prior_epoch(
    architecture: Architecture,
    train: &Dataset,
    examples: usize,
    warmup_steps: usize,
) -> Result<Figure> {
    let settings = LearntSettings {
        epochs: 1,
        patience: 0,
        learning_rate: PUBLISHED_LEARNING_RATE,
        ..LearntSettings::default()
    }
    .check()?;
    let device = Device::Cpu;
    if warmup_steps > 0 {
        let warm = prior_split(train, warmup_steps * BATCH)?;
        Learnt::fit(architecture, &settings, warm.prior(), None, &device, &mut ())?;
    }
    let split = prior_split(train, examples)?;
    let start = Instant::now();
    Learnt::fit(architecture, &settings, split.prior(), None, &device, &mut ())?;
    let seconds = start.elapsed().as_secs_f64();
    let n = split.prior().len();
    Ok(Figure::scaled(seconds, n, n.div_ceil(BATCH), PRIOR_EPOCH, training_flop(architecture, 1)))
}

/// Seconds per posterior epoch (60,000 examples, f-quad, batch 250, SGD with momentum 0.95 and
/// lr 0.001) in `mode`, timed over the first `examples` of a seeded shuffle of `train`, after
/// `warmup_steps` untimed steps. The batches are gathered inside the timing, as in an epoch.
///
/// # Errors
/// Data that does not fit the architecture, a diverging objective, or a candle failure.
pub fn posterior_epoch(
    architecture: Architecture,
    mode: Mode,
    train: TrainSet<'_>,
    examples: usize,
    warmup_steps: usize,
) -> Result<Figure> {
    let device = Device::Cpu;
    let net = Network::from_seed(architecture, SIGMA0, 0, &device)?;
    let mut trainer = PosteriorTrainer::new(net, mode, 0.001, 0.95, Noise::new(1))?;
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(0));
    order.truncate(examples);
    let mut run = |positions: &[usize], step: usize| -> Result<()> {
        let (x, y) = tensors(&train.gather(positions), &device)?;
        let value = trainer.step(&x, &y)?;
        if !value.is_finite() {
            return Err(Error::Diverged { step, value });
        }
        Ok(())
    };
    for (step, positions) in order.chunks(BATCH).take(warmup_steps).enumerate() {
        run(positions, step + 1)?;
    }
    let start = Instant::now();
    for (step, positions) in order.chunks(BATCH).enumerate() {
        run(positions, step + 1)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let paths = if mode == Mode::Local { 2 } else { 1 };
    let steps = order.len().div_ceil(BATCH);
    Ok(Figure::scaled(seconds, order.len(), steps, POSTERIOR_EPOCH, training_flop(architecture, paths)))
}

/// Seconds per posterior epoch (60,000 examples) through [`pacbayes_posterior::train`] with one
/// epoch and its defaults (f-quad, SGD with momentum 0.95, lr 0.001, batch 250, trained on all of
/// S) in `mode`, on the first `examples` examples of `train` (all of it when that is fewer); a
/// one-epoch run on `warmup_steps` batches first.
///
/// # Errors
/// Data that does not fit the architecture, a diverging objective, or a candle failure.
pub fn posterior_epoch_trained(
    architecture: Architecture,
    mode: TrainMode,
    train: &Dataset,
    examples: usize,
    warmup_steps: usize,
) -> Result<Figure> {
    let settings = PosteriorSettings { epochs: 1, mode, ..PosteriorSettings::default() }.check()?;
    let device = Device::Cpu;
    let first = |n: usize| -> Result<Split> {
        let data = if n >= train.len() { train.clone() } else { train.subset(&(0..n).collect::<Vec<_>>()) };
        Ok(Split::new(data, SplitConfig::new(0.5, 0)?)?)
    };
    if warmup_steps > 0 {
        let net = Network::from_seed(architecture, SIGMA0, 0, &device)?;
        pacbayes_posterior::train(&net, &first(warmup_steps * BATCH)?, &settings, TrainOptions::default())?;
    }
    let split = first(examples)?;
    let net = Network::from_seed(architecture, SIGMA0, 0, &device)?;
    let start = Instant::now();
    let outcome = pacbayes_posterior::train(&net, &split, &settings, TrainOptions::default())?;
    // The epoch-0 row is an evaluation pass before training, not part of the epoch.
    let evaluation = outcome.metrics.first().filter(|m| m.epoch == 0).map_or(0.0, |m| m.seconds);
    let seconds = start.elapsed().as_secs_f64() - evaluation;
    let paths = if settings.mode() == Mode::Local { 2 } else { 1 };
    let (n, steps) = (split.n_train(), outcome.steps_done as usize);
    Ok(Figure::scaled(seconds, n, steps, POSTERIOR_EPOCH, training_flop(architecture, paths)))
}

fn misclassified(logits: &Tensor, labels: &Tensor) -> Result<usize> {
    let wrong = logits.argmax(1)?.ne(labels)?.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
    Ok(wrong as usize)
}

/// The two certificate timings of the FCN on the first `examples` of `bound` (in batches of
/// 1,000), each repeated `repetitions` times after `warmup` untimed repetitions: seconds per
/// Monte Carlo weight draw ([`Network::draw`], then [`pacbayes_nn::SampledNetwork::forward`]
/// over the examples, counting errors) and seconds per fast-protocol pass (one
/// local-reparameterization forward over them), both scaled to 30,000 bound examples.
///
/// # Errors
/// Data that does not fit the FCN, or a candle failure.
pub fn certificate(
    bound: &[Batch],
    examples: usize,
    repetitions: usize,
    warmup: usize,
) -> Result<[Figure; 2]> {
    let device = Device::Cpu;
    let net = Network::from_seed(Architecture::Fcn, SIGMA0, 0, &device)?;
    let mut noise = Noise::new(2);
    let mut batches = Vec::new();
    let mut n = 0;
    for batch in bound.iter().take(examples.div_ceil(EVAL_BATCH)) {
        batches.push(tensors(batch, &device)?);
        n += batch.len();
    }
    let mut timed = |one: &mut dyn FnMut(&mut Noise) -> Result<usize>| -> Result<f64> {
        for _ in 0..warmup {
            one(&mut noise)?;
        }
        let start = Instant::now();
        for _ in 0..repetitions {
            one(&mut noise)?;
        }
        Ok(start.elapsed().as_secs_f64() / repetitions as f64)
    };
    let classic = timed(&mut |noise| {
        let drawn = net.draw(noise)?;
        batches.iter().map(|(x, y)| misclassified(&drawn.forward(x)?, y)).sum()
    })?;
    let fast = timed(&mut |noise| {
        batches.iter().map(|(x, y)| misclassified(&net.forward(x, Mode::Local, noise)?, y)).sum()
    })?;
    let steps = batches.len() * repetitions;
    Ok([
        Figure::scaled(classic, n, steps, BOUND_EXAMPLES, forward_flop(Architecture::Fcn, 1)),
        Figure::scaled(fast, n, steps, BOUND_EXAMPLES, forward_flop(Architecture::Fcn, 2)),
    ])
}

/// GFLOP/s of a 1024 × 1024 f32 matrix product ([`Tensor::matmul`]), averaged over
/// `repetitions` products after two untimed ones.
///
/// # Errors
/// Only on a candle failure.
pub fn matmul(repetitions: usize) -> Result<MatmulFigure> {
    let device = Device::Cpu;
    let mut noise = Noise::new(3);
    let a = noise.normal_tensor((MATMUL_N, MATMUL_N), &device)?;
    let b = noise.normal_tensor((MATMUL_N, MATMUL_N), &device)?;
    for _ in 0..2 {
        a.matmul(&b)?;
    }
    let start = Instant::now();
    for _ in 0..repetitions {
        a.matmul(&b)?;
    }
    let seconds = start.elapsed().as_secs_f64() / repetitions as f64;
    let flop = 2 * (MATMUL_N as u64).pow(3);
    Ok(MatmulFigure { seconds, n: MATMUL_N, repetitions, flop, gflops: flop as f64 / seconds / 1e9 })
}
