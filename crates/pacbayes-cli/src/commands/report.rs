//! `pacbayes report RUN_DIR...`: a tightness table from the certificates of several runs
//! ([`pacbayes_pipeline::report`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pacbayes_pipeline::{TableOptions, report};

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Run folders holding a certificate.json (or certificate files themselves).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where table.{csv,parquet,md,tex} are written.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    #[command(flatten)]
    style: TableOptions,
}

pub(crate) fn run(args: ReportArgs) -> Result<()> {
    println!("{}", report(&args.runs, &args.out, &args.style)?);
    Ok(())
}
