//! What a trained posterior is saved as: `posterior.safetensors`, `posterior.json`, and the metrics
//! table.

use std::io::Write;
use std::path::Path;

use pacbayes_data::Split;
use pacbayes_nn::Network;
use pacbayes_provenance::Provenance;
use serde::{Deserialize, Serialize};

use crate::metrics::{EpochMetrics, write_atomic, write_metrics};
use crate::settings::CheckedSettings;
use crate::train::{StopReason, TrainOutcome};
use crate::{Error, Result};

/// The posterior's tensors (`{p}.mu`, `{p}.rho`; see [`Network::save_posterior`]).
pub const WEIGHTS_FILE: &str = "posterior.safetensors";
/// The posterior's record ([`PosteriorRecord`]).
pub const RECORD_FILE: &str = "posterior.json";
/// The metrics table as CSV.
pub const METRICS_CSV: &str = "metrics.csv";
/// The metrics table as Parquet.
pub const METRICS_PARQUET: &str = "metrics.parquet";
/// The checkpoint folder kept beside them.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// Everything needed to know how a posterior was trained, written as `posterior.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PosteriorRecord {
    /// The objective's name (`f-quad`, ...).
    pub objective: String,
    /// Every setting, defaults written out.
    pub settings: crate::PosteriorSettings,
    /// The seed of the example order and the noise.
    pub seed: u64,
    /// The architecture's name.
    pub architecture: String,
    /// n = |S_bound|, the n of the objective's KL term.
    pub n_bound: usize,
    /// The number of examples Q was trained on.
    pub n_train: usize,
    /// The split manifest.
    pub split: serde_json::Value,
    /// KL(Q‖P) in f64, from [`Network::kl_value`] on the saved posterior.
    pub kl: f64,
    /// Completed epochs.
    pub epochs_run: usize,
    /// Minibatch steps done.
    pub steps_run: u64,
    /// Why training stopped.
    pub stop_reason: StopReason,
    /// Wall-clock seconds summed over the warm-up, the start's evaluation and the completed epochs (of
    /// every resumed run). Not written to `posterior.json`, which holds only what the training
    /// determines (the same bytes for a resumed run as for an uninterrupted one); the command line
    /// writes it to the run's `timings.json`.
    #[serde(default, skip_serializing)]
    pub wall_seconds: f64,
    /// The version of pacbayes that trained it.
    pub pacbayes_version: String,
    /// The code and machine that trained it (`unknown` in records written before it was recorded).
    #[serde(default = "Provenance::unknown")]
    pub provenance: Provenance,
}

impl PosteriorRecord {
    /// The record of a run that produced `outcome` for `net` on `split`.
    pub fn describe(
        settings: &CheckedSettings,
        net: &Network,
        split: &Split,
        outcome: &TrainOutcome,
    ) -> Self {
        let s = settings.settings();
        let n_train = match settings.train_on() {
            crate::TrainOn::All => split.n_train(),
            crate::TrainOn::Bound => split.bound().n(),
        };
        Self {
            objective: settings.objective().name().into(),
            settings: s.clone(),
            seed: s.seed,
            architecture: net.architecture().to_string(),
            n_bound: split.bound().n(),
            n_train,
            split: serde_json::to_value(split.manifest()).unwrap_or(serde_json::Value::Null),
            kl: outcome.kl,
            epochs_run: outcome.metrics.last().map_or(0, |m| m.epoch),
            steps_run: outcome.steps_done,
            stop_reason: outcome.stop_reason,
            wall_seconds: outcome.warmup.iter().chain(&outcome.metrics).map(|m| m.seconds).sum(),
            pacbayes_version: env!("CARGO_PKG_VERSION").into(),
            provenance: Provenance::current(),
        }
    }

    /// Reads `dir/posterior.json`.
    ///
    /// # Errors
    /// A missing or malformed file.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(RECORD_FILE);
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        serde_json::from_str(&text).map_err(|source| Error::Json { path, source })
    }
}

/// Writes the posterior of `net`, its record and the metrics into `dir` (which exists), each file
/// through a temporary sibling, synced and renamed into place ([`pacbayes_nn::atomic`]).
///
/// `posterior.json` says that the files beside it are whole and belong together: an earlier one is
/// removed before anything else is written and the new one is written last, so that a process killed
/// in between leaves a folder without a record (to be trained again, or resumed) rather than a record
/// beside weights it does not describe.
///
/// # Errors
/// A file that cannot be written.
pub fn save_posterior(
    dir: &Path,
    net: &Network,
    record: &PosteriorRecord,
    metrics: &[EpochMetrics],
) -> Result<()> {
    let path = dir.join(RECORD_FILE);
    let text =
        serde_json::to_string_pretty(record).map_err(|source| Error::Json { path: path.clone(), source })?;
    match std::fs::remove_file(&path) {
        Ok(()) => pacbayes_nn::atomic::sync_folder(dir).map_err(Error::io(dir))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&path)(e)),
    }
    net.save_posterior(dir.join(WEIGHTS_FILE))?;
    write_metrics(metrics, &dir.join(METRICS_CSV), &dir.join(METRICS_PARQUET))?;
    write_atomic(&path, |file| file.write_all(text.as_bytes()).map_err(Error::io(&path)))
}
