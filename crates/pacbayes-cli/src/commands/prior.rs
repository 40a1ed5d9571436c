//! `pacbayes prior`: fit (or build) a prior on S_prior and save it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::Device;
use clap::Args;
use pacbayes_data::{DatasetSpec, Split, SplitConfig, TabularOptions};
use pacbayes_nn::{Architecture, Family, Network};
use pacbayes_prior::{
    DataFree, FisherScaled, FisherSettings, FromFile, Learnt, LearntSettings, LrSchedule, PerLayerScaled,
    PerLayerSettings, Prior, PriorRecord, SavedPrior, ScaleChoice, ScaleFamily, ScaleFit, error_rate,
};
use serde::{Deserialize, Serialize};

use crate::config;
use crate::exit::UsageError;
use crate::progress::EpochProgress;

/// The prior scales of Pérez-Ortiz et al. (2021). A σ₀ chosen from them after looking at
/// certificates is paid for with ln 7 nats.
pub(crate) const PUBLISHED_SCALE_GRID: [f64; 7] = [0.1, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005];

/// Every setting of `pacbayes prior`, as in a TOML configuration file; flags override it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct PriorConfig {
    /// mnist, binary-mnist, fashion-mnist, cifar10:DIR, idx:DIR, csv:FILE or parquet:FILE.
    pub(crate) dataset: String,
    /// The label column of a table.
    pub(crate) label_column: String,
    /// fcn, cnn, fcn-binary, cnn9, cnn13, cnn15 or linear.
    pub(crate) architecture: String,
    /// learnt, data-free or from-file.
    pub(crate) kind: String,
    /// The checkpoint of a from-file prior.
    pub(crate) from: Option<PathBuf>,
    /// α: the fraction of the training set given to S_prior.
    pub(crate) prior_fraction: f64,
    /// The fraction of S_prior kept for early stopping.
    pub(crate) validation_fraction: f64,
    /// Seed of the split, the initialization, the example order and dropout.
    pub(crate) seed: u64,
    /// The prior scale σ₀ (default 0.005, from the default grid).
    pub(crate) sigma0: f64,
    /// The grid σ₀ is chosen from, whose ln K is paid; default the published grid of Pérez-Ortiz et
    /// al. (2021), [`PUBLISHED_SCALE_GRID`]; empty: σ₀ alone, fixed without looking at S_bound.
    pub(crate) scale_grid: Vec<f64>,
    /// ERM settings of a learnt prior.
    pub(crate) training: Training,
    /// How the scale of a learnt prior is set: `scalar` (σ₀ everywhere, default), `fisher`
    /// (shaped by the diagonal Fisher of S_prior, global scale chosen on S_prior's validation
    /// slice) or `per-layer` (one multiple of σ₀ per layer, each chosen on that slice); nothing is
    /// paid for a shaped scale.
    pub(crate) scale: ScaleFamily,
    /// The family of the prior's (and so the posterior's) distributions: `gaussian` (default) or
    /// `laplace` (location μ, scale b = the prior's scale; the posterior trains in mode `sample`).
    pub(crate) distribution: Family,
}

/// The `[training]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Training {
    pub(crate) epochs: usize,
    pub(crate) batch_size: usize,
    pub(crate) learning_rate: f64,
    pub(crate) lr_schedule: LrSchedule,
    pub(crate) momentum: f64,
    pub(crate) dropout: f64,
    /// Translations of training images by up to this many pixels (default: 2 for images, 0 for
    /// other examples).
    pub(crate) shift: Option<usize>,
    /// Mirror each training image left to right with probability ½ (default: true for colour
    /// images, false otherwise).
    pub(crate) flip: Option<bool>,
    pub(crate) patience: usize,
}

impl Default for PriorConfig {
    fn default() -> Self {
        Self {
            dataset: "mnist".into(),
            label_column: "label".into(),
            architecture: "fcn".into(),
            kind: "learnt".into(),
            from: None,
            prior_fraction: 0.5,
            validation_fraction: 0.1,
            seed: 0,
            sigma0: 0.005,
            scale_grid: PUBLISHED_SCALE_GRID.to_vec(),
            training: Training::default(),
            scale: ScaleFamily::default(),
            distribution: Family::default(),
        }
    }
}

impl Default for Training {
    fn default() -> Self {
        let l = LearntSettings::default();
        Self {
            epochs: l.epochs,
            batch_size: l.batch_size,
            learning_rate: l.learning_rate,
            lr_schedule: l.lr_schedule,
            momentum: l.momentum,
            dropout: l.dropout,
            shift: None,
            flip: None,
            patience: l.patience,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct PriorArgs {
    /// A TOML file with any of the settings below (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The folder to create (it must not exist).
    #[arg(long)]
    out: PathBuf,
    /// mnist, binary-mnist, fashion-mnist, cifar10:DIR, idx:DIR, csv:FILE or parquet:FILE.
    #[arg(long)]
    dataset: Option<String>,
    /// The label column of a CSV or Parquet table (default: label).
    #[arg(long)]
    label_column: Option<String>,
    /// fcn, cnn, fcn-binary, cnn9, cnn13, cnn15 or linear.
    #[arg(long)]
    architecture: Option<String>,
    /// learnt, data-free or from-file.
    #[arg(long)]
    kind: Option<String>,
    /// The checkpoint of a from-file prior.
    #[arg(long)]
    from: Option<PathBuf>,
    /// α ∈ [0, 1): fraction of the training set given to S_prior.
    #[arg(long)]
    prior_fraction: Option<f64>,
    /// Fraction of S_prior kept for early stopping.
    #[arg(long)]
    validation_fraction: Option<f64>,
    /// Seed of every random choice.
    #[arg(long)]
    seed: Option<u64>,
    /// The prior scale σ₀ (default 0.005).
    #[arg(long)]
    sigma0: Option<f64>,
    /// The grid σ₀ is chosen from, comma-separated; its ln K is paid (default: the published grid
    /// 0.1,0.05,0.04,0.03,0.02,0.01,0.005).
    #[arg(long, value_delimiter = ',')]
    scale_grid: Option<Vec<f64>>,
    /// σ₀ alone, fixed without looking at S_bound: no grid, nothing paid.
    #[arg(long, conflicts_with = "scale_grid")]
    no_scale_grid: bool,
    /// Maximum epochs of ERM.
    #[arg(long)]
    epochs: Option<usize>,
    /// Examples per SGD step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// SGD learning rate.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Learning-rate schedule: cosine (default) or constant.
    #[arg(long, value_parser = parse_schedule)]
    lr_schedule: Option<LrSchedule>,
    /// SGD momentum.
    #[arg(long)]
    momentum: Option<f64>,
    /// Dropout rate.
    #[arg(long)]
    dropout: Option<f64>,
    /// Translate each training image by up to this many pixels (0: no augmentation).
    #[arg(long)]
    shift: Option<usize>,
    /// Mirror training images left to right at random: true or false (default: true for colour
    /// images).
    #[arg(long)]
    flip: Option<bool>,
    /// Epochs without improvement before stopping (0: never).
    #[arg(long)]
    patience: Option<usize>,
    /// The scale of a learnt prior: scalar (σ₀ everywhere), fisher or per-layer (shaped on S_prior).
    #[arg(long)]
    scale: Option<ScaleFamily>,
    /// The family of the prior's distributions: gaussian (default) or laplace.
    #[arg(long)]
    distribution: Option<Family>,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature).
    #[arg(long)]
    device: Option<String>,
}

impl PriorArgs {
    pub(crate) fn resolve(&self) -> Result<PriorConfig> {
        let mut c: PriorConfig = config::read_or_default(self.config.as_deref())?;
        macro_rules! set {
            ($($field:ident).+ = $flag:ident) => {
                if let Some(v) = &self.$flag {
                    c.$($field).+ = v.clone();
                }
            };
        }
        set!(dataset = dataset);
        set!(label_column = label_column);
        set!(architecture = architecture);
        set!(kind = kind);
        set!(prior_fraction = prior_fraction);
        set!(validation_fraction = validation_fraction);
        set!(seed = seed);
        set!(sigma0 = sigma0);
        set!(scale_grid = scale_grid);
        if self.no_scale_grid {
            c.scale_grid.clear();
        }
        set!(training.epochs = epochs);
        set!(training.batch_size = batch_size);
        set!(training.learning_rate = learning_rate);
        set!(training.lr_schedule = lr_schedule);
        set!(training.momentum = momentum);
        set!(training.dropout = dropout);
        if self.shift.is_some() {
            c.training.shift = self.shift;
        }
        if self.flip.is_some() {
            c.training.flip = self.flip;
        }
        set!(training.patience = patience);
        set!(scale = scale);
        set!(distribution = distribution);
        if self.from.is_some() {
            c.from.clone_from(&self.from);
        }
        Ok(c)
    }
}

pub(crate) fn run(args: PriorArgs) -> Result<()> {
    let config = args.resolve()?;
    let device = crate::device::resolve(args.device.as_deref())?;
    if args.out.exists() {
        return Err(UsageError(format!(
            "{} exists already; choose another output folder",
            args.out.display()
        ))
        .into());
    }
    crate::output::check_parent_writable(&args.out)?;
    let summary = fit_and_save(&config, &args.out, &device)?;
    println!("{summary}");
    Ok(())
}

/// The ERM settings of a learnt prior, with the shift and flip the data calls for when the
/// configuration leaves them out.
fn learnt_settings(config: &PriorConfig, default_shift: usize, default_flip: bool) -> LearntSettings {
    let t = &config.training;
    LearntSettings {
        epochs: t.epochs,
        batch_size: t.batch_size,
        learning_rate: t.learning_rate,
        lr_schedule: t.lr_schedule,
        momentum: t.momentum,
        dropout: t.dropout,
        shift: t.shift.unwrap_or(default_shift),
        flip: t.flip.unwrap_or(default_flip),
        patience: t.patience,
        seed: config.seed,
        sigma0: config.sigma0,
        scale_grid: config.scale_grid.clone(),
    }
}

/// A prior scale other than the scalar one is fitted on S_prior: it needs a learnt prior.
fn check_scale_family(config: &PriorConfig) -> Result<()> {
    if config.scale != ScaleFamily::Scalar && config.kind != "learnt" {
        return Err(UsageError(format!(
            "scale = {} needs kind = learnt (it is fitted on S_prior), not kind = {:?}",
            config.scale, config.kind
        ))
        .into());
    }
    Ok(())
}

/// Checks every setting of `config` that can be checked without loading the data: the dataset's
/// name, the architecture's name, the prior kind, the split's fractions, σ₀ and its grid, and the
/// ERM settings of a learnt prior. `pacbayes run` calls it before any stage starts.
///
/// # Errors
/// The first setting outside its domain, named.
pub(crate) fn check_prior(config: &PriorConfig) -> Result<()> {
    config.dataset.parse::<DatasetSpec>()?;
    if !config.architecture.trim().eq_ignore_ascii_case("linear") {
        config.architecture.parse::<Architecture>()?;
    }
    SplitConfig::new(config.prior_fraction, config.seed)?
        .with_validation_fraction(config.validation_fraction)?;
    check_scale_family(config)?;
    match config.kind.as_str() {
        "learnt" => {
            learnt_settings(config, 0, false).check()?;
        }
        "data-free" | "from-file" => {
            if config.scale_grid.is_empty() {
                ScaleChoice::fixed(config.sigma0)?;
            } else {
                ScaleChoice::from_grid(config.sigma0, config.scale_grid.clone())?;
            }
            if config.kind == "from-file" && config.from.is_none() {
                return Err(UsageError("kind = from-file needs --from FILE".into()).into());
            }
        }
        other => {
            return Err(UsageError(format!(
                "kind = {other:?} is invalid: expected learnt, data-free or from-file"
            ))
            .into());
        }
    }
    Ok(())
}

/// Builds the prior that `config` describes with its tensors on `device`, saves it into `out`, and
/// returns a one-line summary. The folder `out` appears whole, its `timings.json` included, or not at
/// all.
pub(crate) fn fit_and_save(config: &PriorConfig, out: &Path, device: &Device) -> Result<String> {
    let device = device.clone();
    let spec: DatasetSpec = config.dataset.parse()?;
    let tabular = TabularOptions { label_column: config.label_column.clone(), ..TabularOptions::default() };
    let data = spec.load(&tabular)?;
    let architecture = Architecture::for_data(
        &config.architecture,
        data.train.n_features(),
        data.train.n_classes() as usize,
    )?;
    let scale = if config.scale_grid.is_empty() {
        ScaleChoice::fixed(config.sigma0)?
    } else {
        ScaleChoice::from_grid(config.sigma0, config.scale_grid.clone())?
    };
    let test = data.test;
    let split_config = SplitConfig::new(config.prior_fraction, config.seed)?
        .with_validation_fraction(if config.kind == "learnt" { config.validation_fraction } else { 0.0 })?;
    let mut split = Split::new(data.train, split_config)?;
    let mut test = test;
    if spec.normalizes_channels() {
        split.normalize_channels(&mut test)?;
    }
    let colour = matches!(split.prior().shape(), [3, _, _]);
    check_scale_family(config)?;
    let (weights, mut record) = match config.kind.as_str() {
        "learnt" => {
            let t = &config.training;
            // Colour images: the random crops (padding 4) and flips of the CIFAR-10 reference training.
            let shift = match split.prior().shape().len() {
                3 if colour => 4,
                3 => 2,
                _ => 0,
            };
            let settings = learnt_settings(config, shift, colour).check()?;
            let mut progress = EpochProgress::new("prior", t.epochs);
            let prior = Learnt::fit(
                architecture,
                &settings,
                split.prior(),
                split.validation(),
                &device,
                &mut progress,
            )?;
            progress.finish();
            if config.scale == ScaleFamily::Fisher {
                let settings = FisherSettings { seed: config.seed, ..FisherSettings::default() };
                let shaped =
                    FisherScaled::fit(&prior, &settings, split.prior(), split.validation(), &device)?;
                let mut record = PriorRecord::describe("learnt", &shaped, architecture);
                record.fit = Some(prior.record().clone());
                record.scale_fit = Some(ScaleFit::Fisher(shaped.record().clone()));
                (shaped.weights(architecture, &device)?, record)
            } else if config.scale == ScaleFamily::PerLayer {
                let settings = PerLayerSettings { seed: config.seed, ..PerLayerSettings::default() };
                let shaped = PerLayerScaled::fit(&prior, &settings, split.validation(), &device)?;
                let mut record = PriorRecord::describe("learnt", &shaped, architecture);
                record.fit = Some(prior.record().clone());
                record.scale_fit = Some(ScaleFit::PerLayer(shaped.record().clone()));
                (shaped.weights(architecture, &device)?, record)
            } else {
                let mut record = PriorRecord::describe("learnt", &prior, architecture);
                record.fit = Some(prior.record().clone());
                (prior.weights(architecture, &device)?, record)
            }
        }
        "data-free" => {
            let prior = DataFree::new(scale, config.seed);
            (prior.weights(architecture, &device)?, PriorRecord::describe("data-free", &prior, architecture))
        }
        "from-file" => {
            let path =
                config.from.clone().ok_or_else(|| UsageError("kind = from-file needs --from FILE".into()))?;
            let prior = FromFile::new(path, Some(scale));
            (prior.weights(architecture, &device)?, PriorRecord::describe("from-file", &prior, architecture))
        }
        other => {
            return Err(UsageError(format!(
                "kind = {other:?} is invalid: expected learnt, data-free or from-file"
            ))
            .into());
        }
    };
    let weights = weights.with_family(config.distribution);
    record.distribution = config.distribution;
    if config.distribution != Family::Gaussian {
        record.description = format!("{}, {} distributions", record.description, config.distribution);
    }
    record.seed = Some(config.seed);
    record.dataset.clone_from(&config.dataset);
    record.label_column.clone_from(&config.label_column);
    record.split = Some(serde_json::to_value(split.manifest())?);
    let net = Network::from_prior(&weights)?;
    let test_error = error_rate(&net, test_batches(&test), &device)?;
    record.mean_test_error = Some(test_error);
    let timings = match &record.fit {
        Some(fit) => {
            let epochs: Vec<f64> = fit.curve.iter().map(|e| e.seconds).collect();
            let total = epochs.last().copied().unwrap_or(0.0);
            let stage = crate::timings::stage(total, epochs);
            Some(crate::timings::text(serde_json::Map::new(), "prior", stage)?)
        }
        None => None,
    };
    let also: Vec<(&str, &[u8])> =
        timings.iter().map(|text| (crate::timings::TIMINGS_FILE, text.as_bytes())).collect();
    SavedPrior::save_with(out, &weights, &record, &also)
        .with_context(|| format!("saving the prior into {}", out.display()))?;
    Ok(format!(
        "prior saved in {}: {}; mean network test error {:.2}%, union cost {:.3} nats",
        out.display(),
        record.description,
        100.0 * test_error,
        record.union_cost_nats
    ))
}

fn test_batches(test: &pacbayes_data::Dataset) -> impl Iterator<Item = pacbayes_data::Batch> + '_ {
    let n = test.len();
    (0..n).step_by(1000).map(move |start| {
        let end = (start + 1000).min(n);
        pacbayes_data::Batch {
            features: test.features()[start * test.n_features()..end * test.n_features()].to_vec(),
            labels: test.labels()[start..end].to_vec(),
            shape: test.shape().to_vec(),
        }
    })
}

fn parse_schedule(s: &str) -> std::result::Result<LrSchedule, String> {
    match s.trim() {
        "cosine" => Ok(LrSchedule::Cosine),
        "constant" => Ok(LrSchedule::Constant),
        _ => Err("expected cosine or constant".to_owned()),
    }
}
