//! The posterior stage: train the posterior Q of a run folder's prior by minimizing a bound, and
//! save it beside the prior.
//!
//! The run folder receives `posterior.safetensors`, `posterior.json`, `metrics.csv` and
//! `metrics.parquet`, each written through a temporary sibling renamed into place, and a
//! `checkpoint/` folder, written at the end of every epoch and when training stops. The checkpoint
//! is kept after training, so that a training that was stopped (the stop flag), ran out of its
//! `max_seconds`, or is to be extended with more epochs can be resumed; delete it to save space. A
//! folder that has a `posterior.json` already is refused unless resuming.

use candle_core::Device;
use pacbayes_nn::{Family, Network};
use pacbayes_posterior::{PosteriorRecord, StopReason, TrainMode, TrainOptions, save_posterior, train};

use crate::control::{Control, Stage};
use crate::error::{Context as _, Error, Result};
use crate::run_config::PosteriorConfig;
use crate::run_dir::{RunDir, stage_timing};

/// What [`train_posterior`] saved.
#[derive(Debug, Clone)]
pub struct PosteriorOutcome {
    /// The posterior's record, as saved in `posterior.json`.
    pub record: PosteriorRecord,
    /// Why training stopped: completed, its time budget, or the stop flag.
    pub stop_reason: StopReason,
    /// One line: where the posterior is, how it was trained, its KL and its speed.
    pub summary: String,
}

/// The local reparameterization is exact for Gaussian weights only: a prior of another family
/// needs `mode = "sample"`.
///
/// # Errors
/// `mode = "local"` with a family other than Gaussian.
pub fn check_mode_for(family: Family, mode: TrainMode) -> Result<()> {
    if family != Family::Gaussian && mode == TrainMode::Local {
        return Err(Error::invalid(format!(
            "mode = \"local\" needs Gaussian distributions (the local reparameterization is exact for them only); \
             the prior's are {family}: set [posterior] mode = \"sample\" (--mode sample)"
        )));
    }
    Ok(())
}

/// Trains the posterior of the prior in `run` as `config` says (continuing from its checkpoint when
/// `resume`), with the tensors on `device`, and saves it into `run`. The run folder's
/// `posterior.json` is written last (after `timings.json`), so that it says the posterior beside it
/// is whole. Training stops cleanly, its checkpoint written, when `control`'s stop flag is set.
///
/// # Errors
/// Invalid settings, a folder without a prior, a posterior there already (unless `resume`), or a
/// failing step or save.
pub fn train_posterior(
    config: &PosteriorConfig,
    run: &RunDir,
    resume: bool,
    device: &Device,
    control: &Control,
) -> Result<PosteriorOutcome> {
    let run_dir = run.path();
    let settings = config.clone().check()?;
    if run.posterior_record().exists() && !resume {
        return Err(Error::invalid(format!(
            "{} exists already; pass --resume to continue its training, or use another run folder",
            run.posterior_record().display()
        )));
    }
    let data = run.load(device)?;
    run.check_writable()?;
    run.remove_temporaries()?;
    check_mode_for(data.prior.gaussian().family(), config.mode)?;
    let net = Network::from_prior(data.prior.gaussian())?;
    let options = TrainOptions {
        checkpoint_dir: Some(run.checkpoint()),
        resume,
        stop: control.stop_flag(),
        hook: control.posterior_hook(),
    };
    control.observer().training_started(Stage::Posterior, config.epochs);
    let trained = train(&net, &data.split, &settings, options);
    control.observer().training_finished(Stage::Posterior);
    let outcome = trained.with_context(|| format!("training the posterior in {}", run_dir.display()))?;
    let record = PosteriorRecord::describe(&settings, &net, &data.split, &outcome);
    let epochs = outcome.warmup.iter().chain(&outcome.metrics).map(|m| m.seconds).collect();
    run.record_timing("posterior", stage_timing(record.wall_seconds, epochs))?;
    save_posterior(run_dir, &net, &record, &outcome.metrics)
        .with_context(|| format!("saving the posterior into {}", run_dir.display()))?;
    let last = outcome.metrics.last().map_or(String::new(), |m| format!(", objective {:.4}", m.objective));
    let per_epoch = if record.epochs_run > 0 { record.wall_seconds / record.epochs_run as f64 } else { 0.0 };
    let stopped = match outcome.stop_reason {
        StopReason::Completed => String::new(),
        StopReason::TimeBudget => "; stopped by --max-seconds, continue with --resume".into(),
        StopReason::Interrupted => "; interrupted, continue with --resume".into(),
    };
    let summary = format!(
        "posterior saved in {}: {} on {}, {} epochs ({} steps){last}, KL {:.3} nats, {per_epoch:.2} s per epoch{stopped}",
        run_dir.display(),
        record.objective,
        data.architecture,
        record.epochs_run,
        record.steps_run,
        record.kl,
    );
    Ok(PosteriorOutcome { record, stop_reason: outcome.stop_reason, summary })
}
