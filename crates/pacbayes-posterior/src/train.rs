//! Training a posterior: the minibatch solver run by argmin's `Executor`, with the progress
//! observer, checkpoints, and the three ways of stopping.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use argmin::core::observers::ObserverMode;
use argmin::core::{Executor, State, TerminationReason, TerminationStatus};
use pacbayes_data::Split;
use pacbayes_nn::{Network, Noise};
use serde::{Deserialize, Serialize};

use crate::checkpoint::CheckpointDir;
use crate::metrics::EpochMetrics;
use crate::observer::{HookObserver, ProgressHook, SharedHook};
use crate::problem::PosteriorProblem;
use crate::settings::CheckedSettings;
use crate::solver::{MinibatchSolver, PosteriorState, stream_seed};
use crate::warmup::warm_up;
use crate::{Error, Result};

/// How a training run ends besides its settings.
pub struct TrainOptions {
    /// A checkpoint folder, written at the end of every epoch and when training stops (none: no
    /// checkpoints).
    pub checkpoint_dir: Option<PathBuf>,
    /// Resume from the checkpoint folder (which must exist) instead of starting at the prior.
    pub resume: bool,
    /// Set to stop cleanly after the current step (a Ctrl-C handler sets it).
    pub stop: Arc<AtomicBool>,
    /// Called after every step and every epoch.
    pub hook: Box<dyn ProgressHook>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            checkpoint_dir: None,
            resume: false,
            stop: Arc::new(AtomicBool::new(false)),
            hook: Box::new(()),
        }
    }
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Every epoch ran.
    Completed,
    /// The wall-time budget `max_seconds` ran out.
    TimeBudget,
    /// The stop flag was set (Ctrl-C).
    Interrupted,
}

/// What a training run produced (the posterior itself is in the network's variables).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// The metrics of the warm-up epochs (empty without a warm-up, or when resumed).
    pub warmup: Vec<EpochMetrics>,
    /// The metrics of every completed epoch (of earlier runs too, when resumed).
    pub metrics: Vec<EpochMetrics>,
    /// Minibatch steps done in total.
    pub steps_done: u64,
    /// Steps per epoch.
    pub steps_per_epoch: usize,
    /// Why training stopped.
    pub stop_reason: StopReason,
    /// KL(Q‖P) in f64 at the end.
    pub kl: f64,
    /// Wall-clock seconds of this run.
    pub seconds: f64,
}

/// Trains `net`'s posterior on `split` (all of S or S_bound, as the settings say), starting where the
/// network is (at the prior, for a network from [`Network::from_prior`]) or at the checkpoint when
/// resuming. One argmin iteration is one minibatch step.
///
/// # Errors
/// Empty training data, a non-finite risk, KL or objective (the error names epoch, step and term;
/// the last checkpoint written, at the end of an epoch, is kept), a checkpoint that cannot be read or
/// written, or a candle failure.
pub fn train(
    net: &Network,
    split: &Split,
    settings: &CheckedSettings,
    options: TrainOptions,
) -> Result<TrainOutcome> {
    let started = Instant::now();
    let hook = SharedHook { hook: Rc::new(RefCell::new(options.hook)), warmup: false };
    let warmup =
        if options.resume { Vec::new() } else { warm_up(net, split, settings, &options.stop, &hook)? };
    let problem = PosteriorProblem::new(net, split, settings)?;
    let mut solver = MinibatchSolver::new(settings, problem.data().len(), options.stop.clone());
    if !options.resume {
        let evaluated = Instant::now();
        let start = problem.evaluate(&mut Noise::new(stream_seed(settings.settings().seed, 0, 0)))?;
        solver.record_start(&start, &net.sigma_summary()?, evaluated.elapsed().as_secs_f64());
    }
    let steps = solver.steps_per_epoch();
    let max_iters = (settings.settings().epochs * steps) as u64;
    let checkpoint = |dir: &PathBuf| {
        CheckpointDir::new(
            dir,
            net,
            solver.clone(),
            settings.settings(),
            max_iters,
            options.resume,
            steps as u64,
        )
    };
    let final_checkpoint = options.checkpoint_dir.as_ref().map(checkpoint);
    if options.resume && options.checkpoint_dir.is_none() {
        return Err(Error::InvalidSetting {
            name: "resume",
            value: "true".into(),
            expected: "a checkpoint folder to resume from",
        });
    }
    let mut executor = Executor::new(problem, solver.clone())
        .configure(|state: PosteriorState| state.max_iters(max_iters))
        .ctrlc(false)
        .add_observer(HookObserver(hook), ObserverMode::Always);
    if let Some(dir) = &options.checkpoint_dir {
        executor = executor.checkpointing(checkpoint(dir));
    }
    let result = executor.run().map_err(Error::from_argmin)?;
    if let Some(c) = &final_checkpoint {
        c.save_now(&result.solver, &result.state)?;
    }
    let stop_reason = match result.state.get_termination_status() {
        TerminationStatus::Terminated(TerminationReason::Timeout) => StopReason::TimeBudget,
        TerminationStatus::Terminated(TerminationReason::Interrupt) => StopReason::Interrupted,
        _ => StopReason::Completed,
    };
    Ok(TrainOutcome {
        warmup,
        metrics: result.solver.history().to_vec(),
        steps_done: result.state.get_iter(),
        steps_per_epoch: steps,
        stop_reason,
        kl: net.kl_value()?,
        seconds: started.elapsed().as_secs_f64(),
    })
}
