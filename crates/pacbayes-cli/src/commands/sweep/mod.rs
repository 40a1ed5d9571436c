//! `pacbayes sweep`: many runs from one grid file, on this machine or a Slurm cluster, merged into
//! one table, with the choice of the best run paid for.
//!
//! ```text
//! pacbayes sweep GRID.toml [--executor local --jobs N | --executor slurm ...] [--dry-run]
//! pacbayes sweep status NAME
//! pacbayes sweep report NAME [--select best]
//! pacbayes sweep run-task NAME --index I        (what each child process or array task runs)
//! ```

mod grid;
mod local;
mod manifest;
mod report;
mod slurm;
mod task;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};

use crate::exit::UsageError;
use grid::{DEFAULT_MAX_RUNS, Grid};
use manifest::{Manifest, SweepDir};
use slurm::SlurmOptions;

/// `pacbayes sweep`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct SweepArgs {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    #[command(flatten)]
    start: StartArgs,
}

/// Expanding a grid file and running (or submitting) its runs.
#[derive(Debug, Args)]
struct StartArgs {
    /// The grid file (TOML: `name`, a `[base]` run configuration, a `[grid]` of lists).
    #[arg(required = true)]
    grid: Option<PathBuf>,
    /// Where the runs go: local child processes, or a Slurm job array.
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    executor: Executor,
    /// Runs at a time (local executor); the cores are shared among them.
    #[arg(long, default_value_t = 1, value_parser = crate::args::positive_count)]
    jobs: u64,
    /// Allow a grid of more than 1000 runs (up to this many).
    #[arg(long)]
    max_runs: Option<usize>,
    /// Expand and check the grid, write the manifest (and the Slurm script), run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where sweep folders are created.
    #[arg(long, default_value = "sweeps")]
    sweeps_dir: PathBuf,
    #[command(flatten)]
    slurm: SlurmOptions,
}

/// Where a sweep's runs are executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Executor {
    /// Child processes of this binary, `--jobs` at a time.
    Local,
    /// A Slurm job array submitted with `sbatch`, one array task per run.
    Slurm,
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// What has finished, and what Slurm still holds.
    Status(NameArgs),
    /// Merges the finished runs into one table; `--select best` certifies the best for its choice.
    Report(report::ReportArgs),
    /// Runs one run of a sweep (what each child process and array task does).
    RunTask(TaskArgs),
}

#[derive(Debug, Args)]
struct NameArgs {
    /// The sweep's name (its folder under --sweeps-dir).
    name: String,
    /// Where sweep folders are.
    #[arg(long, default_value = "sweeps")]
    sweeps_dir: PathBuf,
}

#[derive(Debug, Args)]
struct TaskArgs {
    #[command(flatten)]
    sweep: NameArgs,
    /// The run's number in the sweep (the Slurm array task id).
    #[arg(long)]
    index: usize,
}

pub(crate) fn run(args: SweepArgs) -> Result<()> {
    match args.command {
        Some(SweepCommand::Status(a)) => status(&a),
        Some(SweepCommand::Report(a)) => report::run(&a),
        Some(SweepCommand::RunTask(a)) => {
            let dir = SweepDir::new(&a.sweep.sweeps_dir, &a.sweep.name);
            match task::run_task(&dir, a.index)? {
                task::TaskOutcome::Finished(path) => println!("{} has finished already", path.display()),
                task::TaskOutcome::Ran(outcome) => {
                    println!("{}\ncertificate: {}", outcome.table, outcome.certificate.display());
                }
            }
            Ok(())
        }
        None => start(&args.start),
    }
}

fn start(a: &StartArgs) -> Result<()> {
    let path = a
        .grid
        .as_ref()
        .ok_or_else(|| UsageError("a grid file is needed: pacbayes sweep GRID.toml".into()))?;
    let grid = Grid::read(path, a.max_runs.unwrap_or(DEFAULT_MAX_RUNS))?;
    let manifest = Manifest::of(&grid)?;
    let dir = SweepDir::new(&a.sweeps_dir, &manifest.name);
    if a.executor == Executor::Slurm && !a.dry_run && which("sbatch").is_none() {
        return Err(UsageError(
            "sbatch is not on the PATH: --executor slurm needs Slurm's client commands".into(),
        )
        .into());
    }
    manifest.write_or_match(&dir.0)?;
    let finished = manifest.runs.iter().filter(|r| dir.finished(&r.name)).count();
    eprintln!(
        "sweep {}: K = {} configurations ({} finished), manifest {}",
        manifest.name,
        manifest.k,
        finished,
        dir.0.join(manifest::MANIFEST_FILE).display()
    );
    match a.executor {
        Executor::Local if a.dry_run => {
            for r in &manifest.runs {
                println!("{}: {}", r.name, local::values(&manifest, r));
            }
        }
        Executor::Local => {
            let ran = local::run_local(&dir, &a.sweeps_dir, &manifest, a.jobs as usize)?;
            println!(
                "sweep {}: {ran} runs made, all {} finished; `pacbayes sweep report {}` merges them",
                manifest.name, manifest.k, manifest.name
            );
        }
        Executor::Slurm => {
            println!("{}", slurm::submit(&a.sweeps_dir, &dir, &manifest, &a.slurm, a.dry_run)?)
        }
    }
    Ok(())
}

fn status(a: &NameArgs) -> Result<()> {
    let dir = SweepDir::new(&a.sweeps_dir, &a.name);
    let manifest = Manifest::read(&dir.0)?;
    let jobs = slurm::Jobs::read(&dir)?;
    let queued = if jobs.submissions.is_empty() { Vec::new() } else { slurm::queue_states(&jobs)? };
    let mut finished = 0;
    for r in &manifest.runs {
        let state = if dir.finished(&r.name) {
            finished += 1;
            "finished".to_owned()
        } else {
            queued
                .iter()
                .find(|(i, _)| *i == r.index)
                .map_or_else(|| "not finished".to_owned(), |(_, s)| s.to_lowercase())
        };
        println!("{}  {state:<12}  {}", r.name, local::values(&manifest, r));
    }
    let ids: Vec<&str> = jobs.submissions.iter().map(|s| s.job_id.as_str()).collect();
    let jobs_line = if ids.is_empty() { String::new() } else { format!("; Slurm jobs {}", ids.join(", ")) };
    println!("sweep {}: {finished} of {} runs finished{jobs_line}", manifest.name, manifest.k);
    Ok(())
}

/// The path of `program` on the PATH, if it is there.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(program)).find(|p| p.is_file()))
}
