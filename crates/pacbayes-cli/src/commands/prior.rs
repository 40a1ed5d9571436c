//! `pacbayes prior`: fit (or build) a prior on S_prior and save it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pacbayes_nn::Family;
use pacbayes_pipeline::{PriorConfig, PriorKind, RunDir, fit_prior};
use pacbayes_prior::{LrSchedule, ScaleFamily};

use crate::exit::UsageError;
use crate::progress::Terminal;

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
    #[arg(long, value_enum)]
    kind: Option<PriorKind>,
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
    /// The scale of a learnt prior: scalar (σ₀ everywhere), fisher, per-layer, swag (alias
    /// ensemble: SWA mean and snapshot spread of more SGD epochs) or pac-bayes (alias variational:
    /// the posterior of a bound trained on S_prior) (shaped on S_prior).
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
        let mut c: PriorConfig = pacbayes_pipeline::read_or_default(self.config.as_deref())?;
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
    pacbayes_pipeline::check_parent_writable(&args.out)?;
    let outcome = fit_prior(&config, &RunDir::new(&args.out), &device, &Terminal::control())?;
    println!("{}", outcome.summary);
    Ok(())
}

fn parse_schedule(s: &str) -> std::result::Result<LrSchedule, String> {
    match s.trim() {
        "cosine" => Ok(LrSchedule::Cosine),
        "constant" => Ok(LrSchedule::Constant),
        _ => Err("expected cosine or constant".to_owned()),
    }
}
