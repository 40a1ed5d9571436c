//! The per-epoch metrics table, written as CSV and Parquet through polars (eager API).

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, CsvWriter, DataFrame, ParquetWriter, SerWriter};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What one epoch of posterior training measured. The row of epoch 0 is the start, Q as
/// initialised: its objective, risk and error are one evaluation over all the training data (with
/// the noise of stream (seed, 0, 0)), its learning rate 0 and its seconds the evaluation's; the
/// rows of later epochs average the steps of the epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch: 0 for the start, then from 1.
    pub epoch: usize,
    /// Mean objective over the epoch's steps (weighted by batch size).
    pub objective: f64,
    /// KL(Q‖P) in f64 at the end of the epoch.
    pub kl: f64,
    /// Mean bounded cross-entropy over the epoch's steps.
    pub risk: f64,
    /// Fraction of training examples the stochastic network misclassified during the epoch.
    pub train_error: f64,
    /// The learning rate of the epoch's last step.
    pub learning_rate: f64,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
    /// Mean posterior scale σ_Q at the end of the epoch.
    #[serde(default)]
    pub sigma_mean: f64,
    /// Smallest σ_Q at the end of the epoch.
    #[serde(default)]
    pub sigma_min: f64,
    /// Largest σ_Q at the end of the epoch.
    #[serde(default)]
    pub sigma_max: f64,
    /// Mean of ln(σ_Q/σ_P) at the end of the epoch (0 at the prior's scales).
    #[serde(default)]
    pub sigma_log_ratio: f64,
}

impl EpochMetrics {
    /// Sets the σ_Q statistics from `summary`.
    pub fn with_sigma(mut self, summary: &pacbayes_nn::SigmaSummary) -> Self {
        self.sigma_mean = summary.mean;
        self.sigma_min = summary.min;
        self.sigma_max = summary.max;
        self.sigma_log_ratio = summary.mean_log_ratio;
        self
    }
}

/// The metrics as a table, one row per epoch; columns as the fields of [`EpochMetrics`] but
/// `seconds` (the clock is kept out of the data files, so that the same training gives the same
/// bytes).
///
/// # Errors
/// Only on a polars failure.
pub fn metrics_frame(rows: &[EpochMetrics]) -> std::result::Result<DataFrame, polars::error::PolarsError> {
    let f = |name: &str, get: fn(&EpochMetrics) -> f64| {
        Column::new(name.into(), rows.iter().map(get).collect::<Vec<f64>>())
    };
    DataFrame::new(
        rows.len(),
        vec![
            Column::new("epoch".into(), rows.iter().map(|r| r.epoch as u64).collect::<Vec<u64>>()),
            f("objective", |r| r.objective),
            f("kl", |r| r.kl),
            f("risk", |r| r.risk),
            f("train_error", |r| r.train_error),
            f("learning_rate", |r| r.learning_rate),
            f("sigma_mean", |r| r.sigma_mean),
            f("sigma_min", |r| r.sigma_min),
            f("sigma_max", |r| r.sigma_max),
            f("sigma_log_ratio", |r| r.sigma_log_ratio),
        ],
    )
}

/// Writes `rows` as `csv_path` and `parquet_path`, each through a temporary sibling renamed into
/// place.
///
/// # Errors
/// A file that cannot be written.
pub fn write_metrics(rows: &[EpochMetrics], csv_path: &Path, parquet_path: &Path) -> Result<()> {
    let table = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Table { path, source }
    };
    let mut frame = metrics_frame(rows).map_err(table(csv_path))?;
    write_atomic(csv_path, |file| {
        CsvWriter::new(file).include_header(true).finish(&mut frame).map_err(table(csv_path))
    })?;
    write_atomic(parquet_path, |file| {
        ParquetWriter::new(file).finish(&mut frame).map(|_| ()).map_err(table(parquet_path))
    })
}

/// The temporary sibling a file is written to before it is renamed into place.
pub(crate) fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes a file through a temporary sibling, synced and renamed into place
/// ([`pacbayes_nn::atomic`]).
pub(crate) fn write_atomic(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let mut file = pacbayes_nn::atomic::AtomicFile::create(path).map_err(Error::io(path))?;
    write(file.as_file_mut())?;
    file.commit().map_err(Error::io(path))
}
