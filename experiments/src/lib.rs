//! Shared driver of the experiment binaries: run a grid of configurations through the `pacbayes run`
//! pipeline, reuse a prior across runs that share it, and write the tightness table beside the wall
//! time of every run and the machine it ran on.
//!
//! Run folders go to `experiments/runs/` (not committed); tables to `experiments/results/NAME/`
//! (committed). A run whose folder exists already is not run again, so an interrupted experiment
//! resumes where it stopped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, ValueEnum};
use pacbayes_eval::{CertificateRecord, Provenance};

/// The schedule of every run of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Schedule {
    /// The `quick` preset: minutes per run.
    Quick,
    /// The published schedule (`paper` preset).
    Paper,
}

impl Schedule {
    fn name(self) -> &'static str {
        match self {
            Schedule::Quick => "quick",
            Schedule::Paper => "paper",
        }
    }
}

/// Command-line options shared by the experiment binaries.
#[derive(Debug, Args)]
pub struct Options {
    /// The schedule of every run.
    #[arg(long, value_enum, default_value = "quick")]
    pub preset: Schedule,
    /// Where run folders are created.
    #[arg(long, default_value = "experiments/runs")]
    pub runs_dir: PathBuf,
    /// Where the tables are written (default: experiments/results/NAME).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Run only the runs whose name contains one of these texts (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print the planned runs and their configurations, and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Which runs the table accepts (every run made by one code, unless --allow-mixed) and how it
    /// is shown.
    #[command(flatten)]
    pub table: pacbayes_cli::TableOptions,
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    options: Options,
}

/// The `main` of an experiment binary: parses the shared options from the command line and runs
/// `plan` ([`run_grid`]).
///
/// # Errors
/// As [`run_grid`].
pub fn main(experiment: &str, plan: &[Planned]) -> Result<()> {
    pacbayes_nn::init_threads();
    run_grid(experiment, plan, &Cli::parse().options)
}

/// One run of a grid: its name and the TOML of its configuration (without `name` and `preset`).
#[derive(Debug, Clone)]
pub struct Planned {
    /// The run folder's name.
    pub name: String,
    /// The configuration's tables.
    pub config: String,
}

impl Planned {
    /// A run named `name` with configuration `config`.
    pub fn new(name: impl Into<String>, config: impl Into<String>) -> Self {
        Self { name: name.into(), config: config.into() }
    }
}

/// Runs `plan` (skipping runs already done), then writes `table.{csv,parquet,md,tex}` and
/// `runs.csv` (wall time per run, schedule, and the code and machine of each run's certificate:
/// commit, dirty tree, pacbayes and rustc versions, CPU) into the results folder.
///
/// # Errors
/// A run that fails, or a table that cannot be written.
pub fn run_grid(experiment: &str, plan: &[Planned], options: &Options) -> Result<()> {
    let results =
        options.results_dir.clone().unwrap_or_else(|| Path::new("experiments/results").join(experiment));
    let wanted =
        |p: &&Planned| options.only.is_empty() || options.only.iter().any(|o| p.name.contains(o.as_str()));
    let selected: Vec<&Planned> = plan.iter().filter(wanted).collect();
    let mut timings = String::from("run,seconds,schedule,commit,dirty,pacbayes,rustc,cpu\n");
    let mut dirs = Vec::new();
    for (i, planned) in selected.iter().enumerate() {
        let text = format!(
            "name = \"{}\"\npreset = \"{}\"\n{}",
            planned.name,
            options.preset.name(),
            planned.config
        );
        if options.dry_run {
            println!("# {}/{}: {}\n{text}", i + 1, selected.len(), planned.name);
            continue;
        }
        let dir = options.runs_dir.join(&planned.name);
        if dir.join("certificate.json").exists() {
            if !pacbayes_cli::made_with(&dir, &text)? {
                anyhow::bail!(
                    "{} holds a run made with other settings than the planned ones; move it away or \
                     choose another --runs-dir",
                    dir.display()
                );
            }
            eprintln!("== {} ({}/{}): done already", planned.name, i + 1, selected.len());
        } else {
            eprintln!("== {} ({}/{})", planned.name, i + 1, selected.len());
            let outcome =
                pacbayes_cli::run_reusing_prior(&text, &options.runs_dir, &finished_runs(&options.runs_dir))
                    .with_context(|| format!("run {}", planned.name))?;
            eprintln!("{}", outcome.table);
        }
        // The times the run recorded, whether it ran now or earlier: prior (also when reused),
        // posterior and certificate.
        let seconds = pacbayes_cli::run_seconds(&dir);
        let made_by = CertificateRecord::read(&dir.join("certificate.json"))
            .map_or_else(|_| Provenance::unknown(), |r| r.provenance);
        let dirty = made_by.dirty.map_or_else(|| "unknown".to_owned(), |d| d.to_string());
        let _ = writeln!(
            timings,
            "{},{},{},{},{},{},{},{}",
            csv_cell(&planned.name),
            seconds.map_or(String::new(), |s| s.to_string()),
            options.preset.name(),
            csv_cell(&made_by.commit),
            dirty,
            csv_cell(&made_by.pacbayes),
            csv_cell(&made_by.rustc),
            csv_cell(&made_by.cpu),
        );
        dirs.push(dir);
    }
    if options.dry_run || dirs.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(&results).with_context(|| format!("creating {}", results.display()))?;
    let table = pacbayes_cli::report_runs(&dirs, &results, &options.table)?;
    pacbayes_nn::atomic::write(&results.join("runs.csv"), timings.as_bytes())?;
    pacbayes_nn::atomic::write(&results.join("machine.txt"), machine().as_bytes())?;
    println!("{table}");
    Ok(())
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The finished runs in `runs_dir` (of any experiment): candidates whose prior a run may reuse.
fn finished_runs(runs_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("certificate.json").exists())
        .collect();
    dirs.sort();
    dirs
}

/// The machine and the date, for the results folder.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("cpu: {cpu}\ncores: {cores}\ndate: {date}\npacbayes: {}\n", env!("CARGO_PKG_VERSION"))
}
