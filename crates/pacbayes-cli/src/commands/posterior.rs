//! `pacbayes posterior`: train the posterior Q of a run folder's prior by minimizing a bound, and
//! save it beside the prior.
//!
//! The run folder (made by `pacbayes prior --out DIR`) receives `posterior.safetensors`,
//! `posterior.json`, `metrics.csv` and `metrics.parquet`, each written through a temporary sibling
//! renamed into place, and a `checkpoint/` folder, written at the end of every epoch and when
//! training stops. The checkpoint is kept after training, so that `--resume` can continue a run that
//! was interrupted (Ctrl-C), ran out of its `--max-seconds`, or is to be extended with more
//! `--epochs`; delete it to save space. A folder that has a `posterior.json` already is refused
//! unless `--resume` is given.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use clap::Args;
use pacbayes_nn::Network;
use pacbayes_posterior::{
    CHECKPOINT_DIR, PosteriorRecord, PosteriorSettings, RECORD_FILE, StopReason, TrainOptions,
    save_posterior, train,
};

use crate::commands::run_data::load_run;
use crate::config;
use crate::exit::UsageError;
use crate::progress::PosteriorProgress;

/// Every setting of `pacbayes posterior`, as in a TOML configuration file; flags override it. The
/// keys, their domains and their defaults (Pérez-Ortiz et al. 2021 for MNIST: f-quad, SGD with
/// learning rate 0.001 and momentum 0.95, batch 250, δ = 0.025, p_min = 10⁻⁵, 100 epochs) are those
/// of [`PosteriorSettings`]; unknown keys are errors.
pub(crate) type PosteriorConfig = PosteriorSettings;

#[derive(Debug, Args)]
pub(crate) struct PosteriorArgs {
    /// The run folder made by `pacbayes prior --out DIR`; the posterior is saved into it.
    #[arg(long)]
    prior: PathBuf,
    /// A TOML file with any of the settings below (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// f-classic, f-quad, f-lambda, f-kl or bbb.
    #[arg(long)]
    objective: Option<String>,
    /// Passes over the training data.
    #[arg(long)]
    epochs: Option<usize>,
    /// Step size.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// SGD momentum in [0, 1).
    #[arg(long)]
    momentum: Option<f64>,
    /// sgd or adam.
    #[arg(long)]
    optimizer: Option<String>,
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
    #[arg(long)]
    train_on: Option<String>,
    /// local (local reparameterization) or sample (one weight draw per step).
    #[arg(long)]
    mode: Option<String>,
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
    #[arg(long)]
    preconditioner: Option<String>,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature).
    #[arg(long)]
    device: Option<String>,
}

impl PosteriorArgs {
    pub(crate) fn resolve(&self) -> Result<PosteriorConfig> {
        let mut c: PosteriorConfig = config::read_or_default(self.config.as_deref())?;
        macro_rules! set {
            ($($field:ident),+) => {
                $(if let Some(v) = &self.$field {
                    c.$field = v.clone();
                })+
            };
        }
        set!(objective, epochs, learning_rate, momentum, optimizer, batch_size, delta, p_min, beta);
        set!(train_on, mode, seed, warmup_epochs, warmup_learning_rate, preconditioner);
        set!(adam_beta1, adam_beta2, adam_epsilon, fixed_noise);
        if self.max_seconds.is_some() {
            c.max_seconds = self.max_seconds;
        }
        Ok(c)
    }
}

pub(crate) fn run(args: PosteriorArgs) -> Result<()> {
    let config = args.resolve()?;
    let device = crate::device::resolve(args.device.as_deref())?;
    let summary = train_and_save(&config, &args.prior, args.resume, &device)?;
    println!("{summary}");
    Ok(())
}

/// The stop flag, set by Ctrl-C (the handler is installed once per process).
fn stop_flag() -> Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(flag) = FLAG.get() {
        flag.store(false, Ordering::SeqCst);
        return Ok(flag.clone());
    }
    let flag = Arc::new(AtomicBool::new(false));
    let handler = flag.clone();
    match ctrlc::set_handler(move || handler.store(true, Ordering::SeqCst)) {
        // Another part of the program handles Ctrl-C already: training then stops only by its budgets.
        Ok(()) | Err(ctrlc::Error::MultipleHandlers) => Ok(FLAG.get_or_init(|| flag).clone()),
        Err(e) => Err(anyhow::Error::new(e).context("installing the Ctrl-C handler")),
    }
}

/// The local reparameterization is exact for Gaussian weights only: a prior of another family
/// needs `mode = "sample"`.
pub(crate) fn check_mode_for(family: pacbayes_nn::Family, mode: &str) -> Result<()> {
    if family != pacbayes_nn::Family::Gaussian && mode == "local" {
        return Err(UsageError(format!(
            "mode = \"local\" needs Gaussian distributions (the local reparameterization is exact for them only); \
             the prior's are {family}: set [posterior] mode = \"sample\" (--mode sample)"
        ))
        .into());
    }
    Ok(())
}

/// Trains the posterior of the prior in `run_dir` as `config` says, saves it into `run_dir`, and
/// returns a one-line summary; the tensors live on `device`. The run folder's `posterior.json` is
/// written last (after `timings.json`), so that it says the posterior beside it is whole.
pub(crate) fn train_and_save(
    config: &PosteriorConfig,
    run_dir: &Path,
    resume: bool,
    device: &candle_core::Device,
) -> Result<String> {
    let settings = config.clone().check()?;
    if run_dir.join(RECORD_FILE).exists() && !resume {
        return Err(UsageError(format!(
            "{} exists already; pass --resume to continue its training, or use another run folder",
            run_dir.join(RECORD_FILE).display()
        ))
        .into());
    }
    let run = load_run(run_dir, device)?;
    crate::output::check_writable(run_dir)?;
    crate::output::remove_temporaries(run_dir)?;
    check_mode_for(run.prior.gaussian().family(), &config.mode)?;
    let net = Network::from_prior(run.prior.gaussian())?;
    let options = TrainOptions {
        checkpoint_dir: Some(run_dir.join(CHECKPOINT_DIR)),
        resume,
        stop: stop_flag()?,
        hook: Box::new(PosteriorProgress::new(config.epochs)),
    };
    let outcome = train(&net, &run.split, &settings, options)
        .with_context(|| format!("training the posterior in {}", run_dir.display()))?;
    let record = PosteriorRecord::describe(&settings, &net, &run.split, &outcome);
    let epochs = outcome.warmup.iter().chain(&outcome.metrics).map(|m| m.seconds).collect();
    crate::timings::record(run_dir, "posterior", crate::timings::stage(record.wall_seconds, epochs))?;
    save_posterior(run_dir, &net, &record, &outcome.metrics)
        .with_context(|| format!("saving the posterior into {}", run_dir.display()))?;
    let last = outcome.metrics.last().map_or(String::new(), |m| format!(", objective {:.4}", m.objective));
    let per_epoch = if record.epochs_run > 0 { record.wall_seconds / record.epochs_run as f64 } else { 0.0 };
    let stopped = match outcome.stop_reason {
        StopReason::Completed => String::new(),
        StopReason::TimeBudget => "; stopped by --max-seconds, continue with --resume".into(),
        StopReason::Interrupted => "; interrupted, continue with --resume".into(),
    };
    Ok(format!(
        "posterior saved in {}: {} on {}, {} epochs ({} steps){last}, KL {:.3} nats, {per_epoch:.2} s per epoch{stopped}",
        run_dir.display(),
        record.objective,
        run.architecture,
        record.epochs_run,
        record.steps_run,
        record.kl,
    ))
}
