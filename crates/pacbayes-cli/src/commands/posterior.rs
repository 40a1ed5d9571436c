//! `pacbayes posterior`: train the posterior Q of a run folder's prior by minimizing a bound, and
//! save it beside the prior ([`pacbayes_pipeline::train_posterior`]); Ctrl-C stops the training
//! cleanly, its checkpoint written, so that `--resume` continues it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pacbayes_pipeline::{PosteriorConfig, RunDir, train_posterior};
use pacbayes_posterior::{
    LearningRateSchedule, ObjectiveKind, OptimizerKind, Preconditioner, TrainMode, TrainOn,
};

use crate::progress::Terminal;

#[derive(Debug, Args)]
pub(crate) struct PosteriorArgs {
    /// The run folder made by `pacbayes prior --out DIR`; the posterior is saved into it.
    #[arg(long)]
    prior: PathBuf,
    /// A TOML file with any of the settings below (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// f-classic, f-quad, f-lambda, f-kl or bbb.
    #[arg(long, value_enum)]
    objective: Option<ObjectiveKind>,
    /// Passes over the training data.
    #[arg(long)]
    epochs: Option<usize>,
    /// Step size.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// constant or cosine (annealing towards 0 over the epochs).
    #[arg(long, value_enum)]
    learning_rate_schedule: Option<LearningRateSchedule>,
    /// SGD momentum in [0, 1).
    #[arg(long)]
    momentum: Option<f64>,
    /// sgd or adam.
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerKind>,
    /// Adam's β₁ in [0, 1) (default 0.9).
    #[arg(long)]
    adam_beta1: Option<f64>,
    /// Adam's β₂ in [0, 1) (default 0.999).
    #[arg(long)]
    adam_beta2: Option<f64>,
    /// Adam's ε > 0 (default 1e-8).
    #[arg(long)]
    adam_epsilon: Option<f64>,
    /// Examples per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// δ of the bound the objective stands for, in (0, 1).
    #[arg(long)]
    delta: Option<f64>,
    /// Floor of the bounded cross-entropy, in (0, 1).
    #[arg(long)]
    p_min: Option<f64>,
    /// KL weight of the bbb objective.
    #[arg(long)]
    beta: Option<f64>,
    /// all (all of S) or bound (S_bound only).
    #[arg(long, value_enum)]
    train_on: Option<TrainOn>,
    /// local (local reparameterization) or sample (one weight draw per step).
    #[arg(long, value_enum)]
    mode: Option<TrainMode>,
    /// Seed of the example order and of every noise draw.
    #[arg(long)]
    seed: Option<u64>,
    /// Epochs of ERM of the mean network before the bound is minimized (0: Q starts at the prior).
    #[arg(long)]
    warmup_epochs: Option<usize>,
    /// Step size of the warm-up (SGD with momentum on the bounded cross-entropy).
    #[arg(long)]
    warmup_learning_rate: Option<f64>,
    /// Wall-time budget in seconds; training stops cleanly after the step that exceeds it.
    #[arg(long)]
    max_seconds: Option<f64>,
    /// Draw the same noise at every step, so that the objective is a deterministic function of
    /// (μ, ρ): `--fixed-noise` or `--fixed-noise true|false` (default false).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    fixed_noise: Option<bool>,
    /// Continue from the run folder's checkpoint (same settings; epochs and max-seconds may change).
    #[arg(long)]
    resume: bool,
    /// kl (SGD steps preconditioned by the KL's curvature, on f64 master copies) or none (one
    /// learning rate for every μ and ρ).
    #[arg(long, value_enum)]
    preconditioner: Option<Preconditioner>,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature).
    #[arg(long)]
    device: Option<String>,
}

impl PosteriorArgs {
    pub(crate) fn resolve(&self) -> Result<PosteriorConfig> {
        let mut c: PosteriorConfig = pacbayes_pipeline::read_or_default(self.config.as_deref())?;
        macro_rules! set {
            ($($field:ident),+) => {
                $(if let Some(v) = &self.$field {
                    c.$field = v.clone();
                })+
            };
        }
        set!(objective, epochs, learning_rate, momentum, optimizer, batch_size, delta, p_min, beta);
        set!(train_on, mode, seed, warmup_epochs, warmup_learning_rate, preconditioner);
        set!(adam_beta1, adam_beta2, adam_epsilon, fixed_noise, learning_rate_schedule);
        if self.max_seconds.is_some() {
            c.max_seconds = self.max_seconds;
        }
        Ok(c)
    }
}

pub(crate) fn run(args: PosteriorArgs) -> Result<()> {
    let config = args.resolve()?;
    let device = crate::device::resolve(args.device.as_deref())?;
    let control = Terminal::stoppable()?;
    let outcome = train_posterior(&config, &RunDir::new(&args.prior), args.resume, &device, &control)?;
    println!("{}", outcome.summary);
    Ok(())
}
