//! `pacbayes report RUN_DIR...`: a tightness table from the certificates of several runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use pacbayes_eval::{CertificateRecord, TightnessTable};

use crate::commands::certify::CERTIFICATE_FILE;

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Run folders holding a certificate.json (or certificate files themselves).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where table.{csv,parquet,md,tex} are written.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

pub(crate) fn run(args: ReportArgs) -> Result<()> {
    println!("{}", report(&args.runs, &args.out)?);
    Ok(())
}

/// Reads and verifies the certificate of every run, writes `table.{csv,parquet,md,tex}` into `out`,
/// and returns the table as printed on a terminal. A certificate that does not verify is an error:
/// no table is made from it.
///
/// # Errors
/// A run without a certificate, a certificate that does not verify, or a file that cannot be
/// written.
pub(crate) fn report(run_dirs: &[PathBuf], out: &Path) -> Result<String> {
    let mut records = Vec::with_capacity(run_dirs.len());
    for dir in run_dirs {
        let file = if dir.is_dir() { dir.join(CERTIFICATE_FILE) } else { dir.clone() };
        let record = CertificateRecord::read(&file)?;
        record.verify().with_context(|| format!("{}", file.display()))?;
        records.push(record);
    }
    let table = TightnessTable::new(&records);
    let paths = table.write(out)?;
    let written: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Ok(format!("{table}\nwritten: {}", written.join(", ")))
}
