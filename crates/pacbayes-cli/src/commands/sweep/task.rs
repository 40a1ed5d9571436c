//! One run of a sweep, as an executor's child process or a Slurm array task runs it:
//! `pacbayes sweep run-task NAME --index I`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::commands::sweep::manifest::{Manifest, SweepDir};
use crate::progress::Terminal;
use pacbayes_pipeline::{RunOutcome, run_config};

/// What a task did.
#[derive(Debug)]
pub(crate) enum TaskOutcome {
    /// The run had finished before: nothing was done.
    Finished(PathBuf),
    /// The run was made now.
    Ran(RunOutcome),
}

/// Runs the run numbered `index` of the sweep in `dir`, unless it has finished already. The
/// temporary folders of an earlier attempt at it are removed first: an executor starts a task only
/// when no other attempt at the same run is alive.
///
/// # Errors
/// An index outside the sweep, or a failing run.
pub(crate) fn run_task(dir: &SweepDir, index: usize) -> Result<TaskOutcome> {
    let manifest = Manifest::read(&dir.0)?;
    let planned = manifest.run(index)?;
    if dir.finished(&planned.name) {
        return Ok(TaskOutcome::Finished(dir.run(&planned.name)));
    }
    let config = manifest.config(planned)?;
    let runs = dir.runs();
    std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    remove_attempts(&runs, &planned.name)?;
    let reusable = finished_runs(dir, &manifest);
    Ok(TaskOutcome::Ran(run_config(&config, &runs, &reusable, &Terminal::stoppable()?)?))
}

/// Removes the temporary folders (`.NAME.tmp-PID`) that unfinished attempts at `name` left, and
/// a folder of that name without a certificate.
fn remove_attempts(runs: &Path, name: &str) -> Result<()> {
    let prefix = format!(".{name}.tmp-");
    for entry in std::fs::read_dir(runs).with_context(|| format!("reading {}", runs.display()))? {
        let path = entry?.path();
        let stale = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix));
        if stale {
            std::fs::remove_dir_all(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// The finished runs of the sweep: a run whose prior settings equal one of theirs copies its prior.
fn finished_runs(dir: &SweepDir, manifest: &Manifest) -> Vec<PathBuf> {
    manifest.runs.iter().filter(|r| dir.finished(&r.name)).map(|r| dir.run(&r.name)).collect()
}
