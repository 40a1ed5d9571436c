//! The warm-up: empirical risk minimization of the mean network before the bound is minimized, so
//! that Q's mean starts at an SGD solution (Dziugaite & Roy 2017) rather than at the prior.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use argmin::core::Executor;
use argmin::core::observers::ObserverMode;
use pacbayes_data::Split;
use pacbayes_nn::Network;

use crate::metrics::EpochMetrics;
use crate::observer::{HookObserver, SharedHook};
use crate::problem::PosteriorProblem;
use crate::settings::CheckedSettings;
use crate::solver::{MinibatchSolver, PosteriorState};
use crate::{Error, Result};

/// Runs the warm-up of `settings` (none when `warmup_epochs` is 0) on `net` in place, and returns
/// its per-epoch metrics (the objective is the bounded cross-entropy of the mean network).
///
/// # Errors
/// As [`crate::train`].
pub(crate) fn warm_up(
    net: &Network,
    split: &Split,
    settings: &CheckedSettings,
    stop: &Arc<AtomicBool>,
    hook: &SharedHook,
) -> Result<Vec<EpochMetrics>> {
    let Some(warmup) = settings.warmup() else { return Ok(Vec::new()) };
    let problem = PosteriorProblem::new(net, split, &warmup)?;
    let solver = MinibatchSolver::new(&warmup, problem.data().len(), stop.clone());
    let max_iters = (warmup.settings().epochs * solver.steps_per_epoch()) as u64;
    let hook = SharedHook { warmup: true, ..hook.clone() };
    let result = Executor::new(problem, solver)
        .configure(|state: PosteriorState| state.max_iters(max_iters))
        .ctrlc(false)
        .add_observer(HookObserver(hook), ObserverMode::Always)
        .run()
        .map_err(Error::from_argmin)?;
    Ok(result.solver.history().to_vec())
}
