//! `pacbayes run`: data → prior → posterior → certificate → table, in one new run folder
//! ([`pacbayes_pipeline::run_config`]). Ctrl-C stops the run before its next stage (posterior
//! training after its current step); the unfinished run leaves no folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pacbayes_pipeline::{Preset, RunConfig, run_config};

use crate::exit::UsageError;
use crate::progress::Terminal;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A TOML file with any of the settings (tables [prior], [posterior], [certificate]).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The schedule to start from.
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// The run folder's name (inside --runs-dir); it must not exist.
    #[arg(long)]
    name: Option<String>,
    /// Where run folders are created.
    #[arg(long, default_value = "runs")]
    runs_dir: PathBuf,
    /// The seed of every stage (split, prior, posterior, certificate).
    #[arg(long)]
    seed: Option<u64>,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature); the key `device` of the configuration.
    #[arg(long)]
    device: Option<String>,
}

pub(crate) fn run(args: RunArgs) -> Result<()> {
    let text = match &args.config {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?
        }
        None => String::new(),
    };
    let shown =
        args.config.as_ref().map_or_else(|| "the default configuration".into(), |p| p.display().to_string());
    let mut config = RunConfig::resolve(&text, args.preset)
        .map_err(|(line, message)| UsageError(format!("{shown}, line {line}: {message}")))?;
    if let Some(name) = &args.name {
        config.name.clone_from(name);
    }
    if let Some(seed) = args.seed {
        config.set_seed(seed);
    }
    if args.device.is_some() {
        config.device.clone_from(&args.device);
    }
    let outcome = run_config(&config, &args.runs_dir, &[], &Terminal::stoppable()?)?;
    println!("{}", outcome.table);
    println!("certificate: {}", outcome.certificate.display());
    Ok(())
}
