//! `pacbayes sweep report NAME`: the finished runs of a sweep in one table, and the best of them
//! certified again for having been chosen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use pacbayes_eval::CertificateRecord;

use crate::commands::sweep::NameArgs;
use crate::commands::sweep::manifest::{Manifest, PlannedRun, SweepDir};
use crate::exit::UsageError;
use pacbayes_pipeline::CERTIFICATE_FILE;
use pacbayes_pipeline::{TableOptions, report_with_columns};

/// The file of the selected certificate, in the sweep folder.
pub(crate) const SELECTED_FILE: &str = "selected-certificate.json";
/// The folder of the selected certificates of a selection per group.
pub(crate) const SELECTED_DIR: &str = "selected";

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    sweep: NameArgs,
    /// Where table.{csv,parquet,md,tex} are written (default: the sweep folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Certify the run with the lowest 0-1 certificate again for its selection among the K
    /// configurations it was chosen from (ln K nats, δ′/K): selected-certificate.json.
    #[arg(long, value_enum)]
    select: Option<Select>,
    /// Select within each group of runs that share these grid keys' values (e.g. the best σ₀ for
    /// each α: --per prior.prior_fraction); each choice pays the size of its group.
    #[arg(long, value_delimiter = ',', requires = "select")]
    per: Vec<String>,
    #[command(flatten)]
    table: TableOptions,
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
    let finished: Vec<&PlannedRun> = manifest.runs.iter().filter(|r| dir.finished(&r.name)).collect();
    if finished.is_empty() {
        return Err(UsageError(format!("sweep {}: no run has finished yet", manifest.name)).into());
    }
    let positions: Vec<usize> = a
        .per
        .iter()
        .map(|key| {
            manifest.keys.iter().position(|k| k == key).ok_or_else(|| {
                UsageError(format!(
                    "--per {key}: not a key of the grid (its keys: {})",
                    manifest.keys.join(", ")
                ))
            })
        })
        .collect::<std::result::Result<_, _>>()?;
    let out = a.out.clone().unwrap_or_else(|| dir.0.clone());
    let dirs: Vec<PathBuf> = finished.iter().map(|r| dir.run(&r.name)).collect();
    // The grid's values as columns of the data files, beside the certificates' own.
    let grid: Vec<(String, Vec<String>)> = manifest
        .keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            (key.clone(), finished.iter().map(|r| r.values[i].trim_matches('"').to_owned()).collect())
        })
        .collect();
    println!("{}", report_with_columns(&dirs, &out, &a.table, grid)?);
    println!("sweep {}: {} of {} runs finished", manifest.name, finished.len(), manifest.k);
    if a.select.is_none() {
        return Ok(());
    }
    // Every planned run of a group counts in its K, finished or not: the choice was among them.
    let mut groups: BTreeMap<Vec<String>, Vec<&PlannedRun>> = BTreeMap::new();
    for r in &manifest.runs {
        groups.entry(positions.iter().map(|&p| r.values[p].clone()).collect()).or_default().push(r);
    }
    for (values, members) in &groups {
        let k = members.len() as u64;
        let mut best: Option<(CertificateRecord, &PlannedRun)> = None;
        for r in members.iter().filter(|r| dir.finished(&r.name)) {
            let path = dir.run(&r.name).join(CERTIFICATE_FILE);
            let record = CertificateRecord::read(&path)?;
            record.verify().with_context(|| path.display().to_string())?;
            if best.as_ref().is_none_or(|(b, _)| record.zero_one.bound < b.zero_one.bound) {
                best = Some((record, r));
            }
        }
        let Some((record, run)) = best else { continue };
        let selected = record.selected_among(k)?;
        selected.verify().context("the selected certificate")?;
        let path = selected_path(
            &dir.0,
            &positions.iter().map(|&p| manifest.keys[p].as_str()).collect::<Vec<_>>(),
            values,
        );
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let _ = std::fs::remove_file(&path);
        selected.write_new(&path)?;
        let done = members.iter().filter(|r| dir.finished(&r.name)).count();
        let unfinished = if done < members.len() {
            format!(" ({} of them unfinished, paid for all the same)", members.len() - done)
        } else {
            String::new()
        };
        println!(
            "selected {} among {k} configurations{unfinished}: certificate {} → {} with ln {k} and δ′/{k} paid; {}",
            run.name,
            record.zero_one.bound,
            selected.zero_one.bound,
            path.display()
        );
    }
    Ok(())
}

/// `selected-certificate.json`, or `selected/KEY=VALUE,....json` for a selection per group.
fn selected_path(dir: &Path, keys: &[&str], values: &[String]) -> PathBuf {
    if keys.is_empty() {
        return dir.join(SELECTED_FILE);
    }
    let name: Vec<String> = keys
        .iter()
        .zip(values)
        .map(|(k, v)| format!("{k}={}", v.trim_matches('"').replace('/', "_")))
        .collect();
    dir.join(SELECTED_DIR).join(format!("{}.json", name.join(",")))
}
