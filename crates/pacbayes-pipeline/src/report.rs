//! The table stage: a tightness table from the certificates of several runs.

use std::path::{Path, PathBuf};

use clap::Args;
use pacbayes_eval::{CertificateRecord, CheckedStyle, MAX_DECIMALS, TableStyle, TightnessTable};

use crate::error::{Context as _, Error, Result};
use crate::run_dir::CERTIFICATE_FILE;

/// Which runs a table accepts and how it is shown; the data files (CSV, Parquet) always hold every column at full
/// precision.
#[derive(Debug, Clone, Args)]
pub struct TableOptions {
    /// Decimals of the Markdown, LaTeX and terminal tables (certificates rounded up, lower bounds
    /// down, other figures to the nearest) [0 to 12].
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..=MAX_DECIMALS as i64))]
    decimals: u8,
    /// The columns of the Markdown, LaTeX and terminal tables, comma-separated, by their names in
    /// table.csv [default: architecture,prior,objective,prior_fraction,n_bound,kl_over_n,emp_risk,
    /// stochastic_test_error,bound,heldout_bound,disintegrated_bound; on the terminal run,n_bound,
    /// kl,emp_risk,stochastic_test_error,bound,heldout_bound,disintegrated_bound].
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// Shows the best (smallest) certificate of each group in bold (Markdown, LaTeX).
    #[arg(long)]
    bold_best: bool,
    /// The columns whose values define a group for --bold-best, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "dataset,architecture")]
    group_by: Vec<String>,
    /// Shows every column on the terminal, at full width (default: fitted to 100 characters).
    #[arg(long)]
    wide: bool,
    /// Accepts certificates made by different code (commits) in one table; by default such a
    /// table is refused.
    #[arg(long)]
    allow_mixed: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        let style = TableStyle::default();
        Self {
            decimals: style.decimals as u8,
            columns: style.columns,
            bold_best: style.bold_best,
            group_by: style.group_by,
            wide: style.wide,
            allow_mixed: false,
        }
    }
}

impl TableOptions {
    /// The checked style.
    ///
    /// # Errors
    /// An unknown column (exit status 2).
    pub fn check(&self) -> Result<CheckedStyle> {
        let style = TableStyle {
            decimals: usize::from(self.decimals),
            columns: self.columns.clone(),
            bold_best: self.bold_best,
            group_by: self.group_by.clone(),
            wide: self.wide,
            ..TableStyle::default()
        };
        Ok(style.check()?)
    }
}

/// Reads and verifies the certificate of every run, writes `table.{csv,parquet,md,tex}` into `out`,
/// and returns the table as printed on a terminal. A certificate that does not verify is an error:
/// no table is made from it; so are certificates made by different code, unless `allow_mixed`.
///
/// # Errors
/// A run without a certificate, a certificate that does not verify, mixed code, an unknown column,
/// or a file that cannot be written.
pub fn report(run_dirs: &[PathBuf], out: &Path, style: &TableOptions) -> Result<String> {
    report_with_columns(run_dirs, out, style, Vec::new())
}

/// As [`report`], with `extra` text columns (name, one value per run) added to the data files.
pub fn report_with_columns(
    run_dirs: &[PathBuf],
    out: &Path,
    style: &TableOptions,
    extra: Vec<(String, Vec<String>)>,
) -> Result<String> {
    let checked = style.check()?;
    let mut records = Vec::with_capacity(run_dirs.len());
    for dir in run_dirs {
        if !dir.exists() {
            return Err(Error::invalid(format!("{}: no such run folder or certificate file", dir.display())));
        }
        let file = if dir.is_dir() { dir.join(CERTIFICATE_FILE) } else { dir.clone() };
        if !file.is_file() {
            return Err(Error::invalid(format!(
                "{}: no {CERTIFICATE_FILE} here; certify the run with `pacbayes certify --run {}` first",
                dir.display(),
                dir.display()
            )));
        }
        let record = CertificateRecord::read(&file)?;
        record.verify().with_context(|| file.display().to_string())?;
        records.push(record);
    }
    let mut table = TightnessTable::new(&records);
    for (name, values) in extra {
        table = table.with_column(&name, values)?;
    }
    if !style.allow_mixed {
        table
            .check_single_code()
            .map_err(|e| Error::invalid(format!("{e}; rerun the older runs, or pass --allow-mixed")))?;
    }
    let paths = table.write_with(out, &checked)?;
    let written: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Ok(format!("{}\nwritten: {}", table.to_terminal(&checked), written.join(", ")))
}
