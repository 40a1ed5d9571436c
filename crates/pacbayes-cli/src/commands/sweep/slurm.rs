//! The Slurm executor: one job array per submission, one array task per unfinished run, each task
//! `pacbayes sweep run-task NAME --index $SLURM_ARRAY_TASK_ID` on the shared sweep folder.
//! Nothing in pacbayes coordinates the tasks but Slurm: they are independent processes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::commands::sweep::manifest::{Manifest, SweepDir};
use crate::exit::UsageError;

/// The `sbatch` options of a sweep.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct SlurmOptions {
    /// Slurm partition (`#SBATCH --partition`).
    #[arg(long)]
    pub(crate) partition: Option<String>,
    /// Time limit of each task (`#SBATCH --time`, e.g. 02:00:00).
    #[arg(long)]
    pub(crate) time: Option<String>,
    /// Cores of each task (`#SBATCH --cpus-per-task`); the run uses that many threads.
    #[arg(long, default_value_t = 2)]
    pub(crate) cpus_per_task: usize,
    /// Memory of each task (`#SBATCH --mem`, e.g. 4G).
    #[arg(long)]
    pub(crate) mem: Option<String>,
    /// At most this many tasks at once (the `%LIMIT` of `--array`).
    #[arg(long)]
    pub(crate) array_limit: Option<usize>,
    /// Any other `#SBATCH` option, as written after `#SBATCH ` (repeatable).
    #[arg(long = "sbatch-arg", value_name = "ARG")]
    pub(crate) sbatch_args: Vec<String>,
}

/// The job ids of a sweep's submissions (`slurm/jobs.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Jobs {
    /// Each submission: its job id and the run numbers it covers.
    pub(crate) submissions: Vec<Submission>,
}

/// One `sbatch` of a job array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Submission {
    /// The job id `sbatch` printed.
    pub(crate) job_id: String,
    /// The run numbers of its array tasks.
    pub(crate) indices: Vec<usize>,
    /// Its script.
    pub(crate) script: PathBuf,
}

impl Jobs {
    fn path(dir: &SweepDir) -> PathBuf {
        dir.0.join("slurm").join("jobs.json")
    }

    /// The submissions recorded in `dir` (none when there is no file).
    pub(crate) fn read(dir: &SweepDir) -> Result<Self> {
        let path = Self::path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("reading {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Jobs::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn write(&self, dir: &SweepDir) -> Result<()> {
        let path = Self::path(dir);
        let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }
}

/// The `--array` value of `indices`: ranges where they are consecutive (`0-3,7,9-10`).
pub(crate) fn array_spec(indices: &[usize], limit: Option<usize>) -> String {
    let mut spec = String::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        if !spec.is_empty() {
            spec.push(',');
        }
        if i == j {
            let _ = write!(spec, "{}", indices[i]);
        } else {
            let _ = write!(spec, "{}-{}", indices[i], indices[j]);
        }
        i = j + 1;
    }
    if let Some(limit) = limit {
        let _ = write!(spec, "%{limit}");
    }
    spec
}

/// The job-array script for the runs `indices` of the sweep in `dir` (absolute paths, so that a
/// task can start on any node that sees the shared folder).
pub(crate) fn script(
    exe: &Path,
    sweeps_dir: &Path,
    dir: &SweepDir,
    manifest: &Manifest,
    indices: &[usize],
    options: &SlurmOptions,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(s, "#SBATCH --job-name=pacbayes-{}", manifest.name);
    let _ = writeln!(s, "#SBATCH --array={}", array_spec(indices, options.array_limit));
    let _ = writeln!(s, "#SBATCH --output={}/slurm-%A_%a.log", dir.logs().display());
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", options.cpus_per_task);
    let _ = writeln!(s, "#SBATCH --ntasks=1");
    if let Some(p) = &options.partition {
        let _ = writeln!(s, "#SBATCH --partition={p}");
    }
    if let Some(t) = &options.time {
        let _ = writeln!(s, "#SBATCH --time={t}");
    }
    if let Some(m) = &options.mem {
        let _ = writeln!(s, "#SBATCH --mem={m}");
    }
    for arg in &options.sbatch_args {
        let _ = writeln!(s, "#SBATCH {arg}");
    }
    let _ = writeln!(
        s,
        "# {} runs of {}; generated by pacbayes {}",
        indices.len(),
        manifest.k,
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s, "export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{}}}\"", options.cpus_per_task);
    let _ = writeln!(
        s,
        "exec {} sweep run-task {} --index \"$SLURM_ARRAY_TASK_ID\" --sweeps-dir {}",
        shell_quote(&exe.display().to_string()),
        shell_quote(&manifest.name),
        shell_quote(&sweeps_dir.display().to_string())
    );
    s
}

/// Writes the script for the unfinished runs that no submitted task is working on, submits it with
/// `sbatch` unless `dry_run`, and returns what it did, in a line.
///
/// # Errors
/// `sbatch` missing or failing, or a file that cannot be written.
pub(crate) fn submit(
    sweeps_dir: &Path,
    dir: &SweepDir,
    manifest: &Manifest,
    options: &SlurmOptions,
    dry_run: bool,
) -> Result<String> {
    let mut jobs = Jobs::read(dir)?;
    let queued = if dry_run { Vec::new() } else { queued_tasks(&jobs)? };
    let indices: Vec<usize> = manifest
        .runs
        .iter()
        .filter(|r| !dir.finished(&r.name) && !queued.contains(&r.index))
        .map(|r| r.index)
        .collect();
    if indices.is_empty() {
        return Ok(format!("sweep {}: nothing to submit (finished or queued)", manifest.name));
    }
    let sweeps_dir = std::path::absolute(sweeps_dir).context("resolving --sweeps-dir")?;
    let dir = SweepDir::new(&sweeps_dir, &manifest.name);
    std::fs::create_dir_all(dir.logs()).with_context(|| format!("creating {}", dir.logs().display()))?;
    std::fs::create_dir_all(dir.0.join("slurm")).context("creating the slurm folder")?;
    let exe = std::env::current_exe().context("finding the pacbayes binary")?;
    let path = dir.0.join("slurm").join(format!("submit-{}.sh", jobs.submissions.len() + 1));
    std::fs::write(&path, script(&exe, &sweeps_dir, &dir, manifest, &indices, options))
        .with_context(|| format!("writing {}", path.display()))?;
    if dry_run {
        return Ok(format!(
            "{} written ({} array tasks); not submitted (--dry-run)",
            path.display(),
            indices.len()
        ));
    }
    let out = Command::new("sbatch").arg("--parsable").arg(&path).output().map_err(|e| {
        UsageError(format!("sbatch cannot be run ({e}): --executor slurm needs Slurm's sbatch on the PATH"))
    })?;
    if !out.status.success() {
        anyhow::bail!("sbatch {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let job_id = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or("").to_owned();
    jobs.submissions.push(Submission {
        job_id: job_id.clone(),
        indices: indices.clone(),
        script: path.clone(),
    });
    jobs.write(&dir)?;
    Ok(format!("submitted job {job_id}: {} array tasks ({})", indices.len(), path.display()))
}

/// The run numbers of the sweep's array tasks that Slurm still holds (pending or running).
pub(crate) fn queued_tasks(jobs: &Jobs) -> Result<Vec<usize>> {
    Ok(queue_states(jobs)?.into_iter().map(|(index, _)| index).collect())
}

/// The state of each of the sweep's array tasks that `squeue` lists: (run number, state).
pub(crate) fn queue_states(jobs: &Jobs) -> Result<Vec<(usize, String)>> {
    if jobs.submissions.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = jobs.submissions.iter().map(|s| s.job_id.as_str()).collect();
    let out = Command::new("squeue")
        .args(["--noheader", "--array", "--format=%K %T", "--jobs", &ids.join(",")])
        .output()
        .map_err(|e| UsageError(format!("squeue cannot be run ({e}): a Slurm sweep needs Slurm's squeue")))?;
    // squeue fails on job ids it no longer knows: then nothing of those jobs is queued.
    if !out.status.success() {
        return Ok(Vec::new());
    }
    Ok(parse_squeue(&String::from_utf8_lossy(&out.stdout)))
}

/// Lines of `%K %T` (array task id, state); ranges of pending tasks (`4-7%2`) are expanded.
pub(crate) fn parse_squeue(text: &str) -> Vec<(usize, String)> {
    let mut states = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(ids), Some(state)) = (parts.next(), parts.next()) else { continue };
        let ids = ids.trim_start_matches('[').split(['%', ']']).next().unwrap_or("");
        for part in ids.split(',') {
            let bounds: Vec<usize> = part.split('-').filter_map(|x| x.parse().ok()).collect();
            match bounds.as_slice() {
                [one] => states.push((*one, state.to_owned())),
                [from, to] => states.extend((*from..=*to).map(|i| (i, state.to_owned()))),
                _ => {}
            }
        }
    }
    states
}

/// `text` quoted for a POSIX shell when it needs to be.
fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:=,".contains(c)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs_join_consecutive_runs() {
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[0, 2, 3, 4, 7], None), "0,2-4,7");
        assert_eq!(array_spec(&[5], None), "5");
    }

    #[test]
    fn squeue_lines_give_each_task_its_state() {
        let states = parse_squeue("3 RUNNING\n[4-6%2] PENDING\n9 PENDING\n");
        let got: Vec<(usize, &str)> = states.iter().map(|(i, s)| (*i, s.as_str())).collect();
        assert_eq!(got, [(3, "RUNNING"), (4, "PENDING"), (5, "PENDING"), (6, "PENDING"), (9, "PENDING")]);
    }

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("/srv/sweeps"), "/srv/sweeps");
        assert_eq!(shell_quote("/srv/my sweeps"), "'/srv/my sweeps'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
