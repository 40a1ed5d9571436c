//! A whole run of the benchmark on MNIST and its JSON record, with the keys of the PyTorch
//! baseline (`benches/pytorch/bench.py`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pacbayes_data::{Batch, Split, SplitConfig, TrainTest};
use pacbayes_nn::Architecture;
use pacbayes_posterior::TrainMode;
use serde::{Deserialize, Serialize};

use crate::budget::{BOUND_EXAMPLES, Budget, EVAL_BATCH};
use crate::measure;
use crate::{Error, Result};

/// The record of one run, as written by `--json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `pacbayes` (or `pytorch` for the baseline).
    pub harness: String,
    /// The version of what was measured.
    pub version: String,
    /// The number of threads the run used.
    pub threads: usize,
    /// Whether this was a smoke test.
    pub quick: bool,
    /// The examples timed per figure.
    pub budget: Budget,
    /// When the run ended, seconds since 1970-01-01 UTC.
    pub unix_time: u64,
    /// The processor architecture.
    pub machine: String,
    /// What the posterior epochs timed (see [`PosteriorPath`]).
    pub posterior_training: String,
    /// Wall-clock seconds of the measurements (data loading excluded).
    pub total_seconds: f64,
    /// Every figure by name: `matmul_1024`, `prior_epoch_{fcn,cnn}`,
    /// `posterior_epoch_{fcn,cnn}_{local,sample}`, `certificate_classic_draw_fcn`,
    /// `certificate_fast_pass_fcn`.
    pub figures: BTreeMap<String, serde_json::Value>,
}

impl Report {
    /// Writes the report as pretty JSON.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("a report is always serializable") + "\n";
        std::fs::write(path, text).map_err(|source| Error::Io { path: path.to_path_buf(), source })
    }
}

/// What a posterior epoch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosteriorPath {
    /// [`pacbayes_posterior::train`] for one epoch: argmin's Executor over the minibatch solver,
    /// with its metrics ([`measure::posterior_epoch_trained`]).
    Train,
    /// The training step of [`crate::posterior::PosteriorTrainer`] alone, in a plain loop
    /// ([`measure::posterior_epoch`]).
    Inline,
}

impl PosteriorPath {
    fn describe(self) -> &'static str {
        match self {
            PosteriorPath::Train => {
                "pacbayes_posterior::train, one epoch (argmin Executor, SGD with momentum)"
            }
            PosteriorPath::Inline => {
                "Network::forward_and_kl + bounded CE + f-quad + backward + SGD momentum"
            }
        }
    }
}

fn value<T: Serialize>(figure: &T) -> serde_json::Value {
    serde_json::to_value(figure).expect("a figure is always serializable")
}

/// Runs every figure on `data` (MNIST, or anything with 784 features and 10 classes) with
/// `budget`, timing posterior epochs through `posterior`, reporting each figure's name and
/// seconds to `progress` as it completes.
///
/// # Errors
/// Data that does not fit the networks, or a candle failure.
pub fn run(
    data: &TrainTest,
    budget: &Budget,
    posterior: PosteriorPath,
    threads: usize,
    quick: bool,
    progress: &mut dyn FnMut(&str, f64),
) -> Result<Report> {
    let started = Instant::now();
    let mut figures = BTreeMap::new();
    let mut record = |name: String, seconds: f64, figure: serde_json::Value| {
        progress(&name, seconds);
        figures.insert(name, figure);
    };
    let matmul = measure::matmul(budget.matmul_reps)?;
    record("matmul_1024".into(), matmul.seconds, value(&matmul));
    let architectures = [(Architecture::Fcn, "fcn"), (Architecture::Cnn, "cnn")];
    for (arch, name) in architectures {
        let examples = if name == "fcn" { budget.prior_fcn } else { budget.prior_cnn };
        let f = measure::prior_epoch(arch, &data.train, examples, budget.warmup_steps)?;
        record(format!("prior_epoch_{name}"), f.seconds, value(&f));
    }
    let split = Split::new(data.train.clone(), SplitConfig::new(0.5, 0)?)?;
    for (arch, name) in architectures {
        let examples = if name == "fcn" { budget.posterior_fcn } else { budget.posterior_cnn };
        for mode in [TrainMode::Local, TrainMode::Sample] {
            let warmup = budget.warmup_steps;
            let f = match posterior {
                PosteriorPath::Train => {
                    measure::posterior_epoch_trained(arch, mode, &data.train, examples, warmup)?
                }
                PosteriorPath::Inline => {
                    measure::posterior_epoch(arch, mode.into(), split.train(), examples, warmup)?
                }
            };
            record(format!("posterior_epoch_{name}_{mode}"), f.seconds, value(&f));
        }
    }
    let bound: Vec<Batch> = split.bound().batches(EVAL_BATCH).take(BOUND_EXAMPLES / EVAL_BATCH).collect();
    let [classic, fast] = measure::certificate(&bound, budget.bound, budget.draws, 1)?;
    record("certificate_classic_draw_fcn".into(), classic.seconds, value(&classic));
    record("certificate_fast_pass_fcn".into(), fast.seconds, value(&fast));
    Ok(Report {
        harness: "pacbayes".into(),
        version: format!("pacbayes {} (candle-core 0.11)", env!("CARGO_PKG_VERSION")),
        threads,
        quick,
        budget: budget.clone(),
        unix_time: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        machine: std::env::consts::ARCH.into(),
        posterior_training: posterior.describe().into(),
        total_seconds: started.elapsed().as_secs_f64(),
        figures,
    })
}
