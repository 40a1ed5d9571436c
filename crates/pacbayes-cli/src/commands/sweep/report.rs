//! `pacbayes sweep report NAME`: the finished runs of a sweep in one table, and the best of them
//! certified for having been chosen.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::commands::report::report;
use crate::commands::sweep::NameArgs;
use crate::commands::sweep::manifest::{Manifest, SweepDir};
use crate::exit::UsageError;

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    sweep: NameArgs,
    /// Where table.{csv,parquet,md,tex} are written (default: the sweep folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Report the run with the lowest certificate, re-certified for its selection among the K
    /// configurations (ln K nats and δ′/K), as selected-certificate.json.
    #[arg(long, value_enum)]
    select: Option<Select>,
}

/// What to select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Select {
    /// The run with the lowest 0-1 certificate.
    Best,
}

pub(crate) fn run(a: &ReportArgs) -> Result<()> {
    let dir = SweepDir::new(&a.sweep.sweeps_dir, &a.sweep.name);
    let manifest = Manifest::read(&dir.0)?;
    let finished: Vec<PathBuf> =
        manifest.runs.iter().filter(|r| dir.finished(&r.name)).map(|r| dir.run(&r.name)).collect();
    if finished.is_empty() {
        return Err(UsageError(format!("sweep {}: no run has finished yet", manifest.name)).into());
    }
    let out = a.out.clone().unwrap_or_else(|| dir.0.clone());
    println!("{}", report(&finished, &out)?);
    println!("sweep {}: {} of {} runs finished", manifest.name, finished.len(), manifest.k);
    if a.select.is_some() {
        return Err(UsageError("--select best is not available in this build".into()).into());
    }
    Ok(())
}
