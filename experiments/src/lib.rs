//! Shared driver of the experiment binaries: run a grid of typed configurations ([`RunConfig`])
//! through the pipeline of `pacbayes run` ([`pacbayes_pipeline`]), reuse a prior across runs that
//! share it, and write the tightness table beside the wall time of every run and the machine it ran
//! on. The grids themselves are in [`plans`].
//!
//! Run folders go to `experiments/runs/` (not committed); tables to `experiments/results/NAME/`
//! (committed). A run whose folder exists already is not run again, so an interrupted experiment
//! resumes where it stopped.

pub mod plans;
mod progress;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser};
use pacbayes_eval::{CertificateRecord, Provenance};
use pacbayes_pipeline::{Preset, RunConfig, RunDir, TableOptions, made_with, report, run_config};

/// Command-line options shared by the experiment binaries.
#[derive(Debug, Args)]
pub struct Options {
    /// The schedule of every run: quick (minutes per run) or paper (the published schedule).
    #[arg(long, value_enum, default_value = "quick")]
    pub preset: Preset,
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
    pub table: TableOptions,
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

/// Sets the keys of a run's configuration that differ from its preset's.
type Settings = Box<dyn Fn(&mut RunConfig)>;

/// One run of a grid: its name and its settings, laid over the preset of the experiment's schedule.
pub struct Planned {
    /// The run folder's name.
    pub name: String,
    settings: Settings,
}

impl std::fmt::Debug for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planned").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Planned {
    /// A run named `name` whose configuration is its preset's with the changes `settings` makes.
    ///
    /// ```
    /// use experiments::Planned;
    /// use pacbayes_pipeline::{Preset, RunConfig};
    /// use pacbayes_posterior::ObjectiveKind;
    ///
    /// let run = Planned::new("mnist-fcn-f-kl", |c: &mut RunConfig| c.posterior.objective = ObjectiveKind::FKl);
    /// let config = run.config(Preset::Quick);
    /// assert_eq!((config.name.as_str(), config.posterior.epochs), ("mnist-fcn-f-kl", 3));
    /// ```
    pub fn new(name: impl Into<String>, settings: impl Fn(&mut RunConfig) + 'static) -> Self {
        Self { name: name.into(), settings: Box::new(settings) }
    }

    /// The run's whole configuration under `preset`.
    pub fn config(&self, preset: Preset) -> RunConfig {
        let mut config = RunConfig::from_preset(preset);
        (self.settings)(&mut config);
        config.name.clone_from(&self.name);
        config
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
    let control = if options.dry_run { pacbayes_pipeline::Control::silent() } else { progress::control()? };
    let mut dirs = Vec::new();
    for (i, planned) in selected.iter().enumerate() {
        let config = planned.config(options.preset);
        if options.dry_run {
            println!("# {}/{}: {}\n{}", i + 1, selected.len(), planned.name, config.to_toml()?);
            continue;
        }
        let dir = options.runs_dir.join(&planned.name);
        if RunDir::new(&dir).is_certified() {
            if !made_with(&dir, &config) {
                anyhow::bail!(
                    "{} holds a run made with other settings than the planned ones; move it away or \
                     choose another --runs-dir",
                    dir.display()
                );
            }
            eprintln!("== {} ({}/{}): done already", planned.name, i + 1, selected.len());
        } else {
            eprintln!("== {} ({}/{})", planned.name, i + 1, selected.len());
            let outcome = run_config(&config, &options.runs_dir, &finished_runs(&options.runs_dir), &control)
                .with_context(|| format!("run {}", planned.name))?;
            eprintln!("{}", outcome.table);
        }
        // The times the run recorded, whether it ran now or earlier: prior (also when reused),
        // posterior and certificate.
        let seconds = RunDir::new(&dir).run_seconds();
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
    let table = report(&dirs, &results, &options.table)?;
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
