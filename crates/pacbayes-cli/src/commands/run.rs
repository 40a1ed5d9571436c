//! `pacbayes run`: data → prior → posterior → certificate → table, in one new run folder.
//!
//! The run is built in a temporary sibling of its folder (`runs/.NAME.tmp-PID`) and renamed into
//! place when every stage has succeeded, so a failed or interrupted run never leaves a folder that
//! looks finished; an existing run folder is never overwritten.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::commands::certify::{CERTIFICATE_FILE, CertifyConfig, certify_run};
use crate::commands::posterior::{PosteriorConfig, train_and_save};
use crate::commands::prior::{PriorConfig, check_prior, fit_and_save};
use crate::commands::report::{TableOptions, report};
use crate::config;
use crate::exit::UsageError;

/// The file the resolved configuration is saved to, inside the run folder.
pub(crate) const CONFIG_FILE: &str = "config.toml";

/// A schedule to start from; keys of a configuration file override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Preset {
    /// A short schedule for a first look: 50 prior epochs, 3 posterior epochs.
    #[default]
    Quick,
    /// The published schedule of Pérez-Ortiz et al. (2021): 70 prior epochs, 100 posterior epochs.
    Paper,
}

impl Preset {
    /// The keys that differ from the stage defaults (which are the published ones).
    fn overrides(self) -> &'static str {
        match self {
            Preset::Quick => "[prior.training]\nepochs = 50\n[posterior]\nepochs = 3\n",
            Preset::Paper => "",
        }
    }
}

/// Every setting of a run. Each table is the configuration of its stage's own command
/// (`pacbayes prior`, `pacbayes posterior`, `pacbayes certify`), with the same keys and defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RunConfig {
    /// The run folder's name (default: dataset-architecture-prior-objective-alpha-seed).
    pub(crate) name: String,
    /// The schedule the other keys override.
    pub(crate) preset: Preset,
    /// `pacbayes prior` settings: dataset, architecture, prior kind, α, σ₀, ERM schedule.
    pub(crate) prior: PriorConfig,
    /// `pacbayes posterior` settings: objective, optimizer, epochs, δ, ...
    pub(crate) posterior: PosteriorConfig,
    /// `pacbayes certify` settings: protocol, repetitions, δ, δ′, ...
    pub(crate) certificate: CertifyConfig,
    /// Where the tensors of every stage live: `cpu` (when absent), `cuda`, `cuda:N`, `metal` or
    /// `metal:N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) device: Option<String>,
}

impl RunConfig {
    /// The configuration in TOML `text` laid over its preset (the preset named in the text, or
    /// `preset` when given, which wins). Unknown keys are errors naming the key and its line.
    pub(crate) fn resolve(text: &str, preset: Option<Preset>) -> std::result::Result<Self, (usize, String)> {
        let given: RunConfig = config::parse(text)?; // checks every key, with line numbers
        let preset = preset.unwrap_or(given.preset);
        let mut merged: toml::Table = toml::from_str(preset.overrides()).expect("presets are valid TOML");
        let file: toml::Table = toml::from_str(text).map_err(|e| (1, e.message().to_owned()))?;
        merge(&mut merged, file);
        merged.insert("preset".into(), toml::Value::try_from(preset).expect("a preset serializes"));
        let mut config: RunConfig = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| (1, e.message().to_owned()))?;
        if config.name.is_empty() {
            config.name = config.default_name();
        }
        Ok(config)
    }

    /// Checks the settings of every stage, so that a bad value anywhere is reported before any
    /// stage starts (a bad `[certificate]` value would otherwise surface after the prior and the
    /// posterior have trained).
    ///
    /// # Errors
    /// The first setting outside its domain, named with its table.
    pub(crate) fn check(&self) -> Result<()> {
        check_prior(&self.prior).context("[prior]")?;
        self.posterior.clone().check().context("[posterior]")?;
        crate::commands::posterior::check_mode_for(self.prior.distribution, &self.posterior.mode)
            .context("[posterior]")?;
        self.certificate.0.check().context("[certificate]")?;
        Ok(())
    }

    fn default_name(&self) -> String {
        let dataset: String = self
            .prior
            .dataset
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("data")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
            .collect();
        format!(
            "{dataset}-{}-{}-{}-a{}-s{}",
            self.prior.architecture,
            self.prior.kind,
            self.posterior.objective,
            self.prior.prior_fraction,
            self.prior.seed
        )
    }
}

/// Lays `over` onto `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A TOML file with any of the settings (tables [prior], [posterior], [certificate]).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The schedule to start from.
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// The run folder's name (inside --runs-dir); it must not exist.
    #[arg(long)]
    name: Option<String>,
    /// Where run folders are created.
    #[arg(long, default_value = "runs")]
    runs_dir: PathBuf,
    /// The seed of every stage (split, prior, posterior, certificate).
    #[arg(long)]
    seed: Option<u64>,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature); the key `device` of the configuration.
    #[arg(long)]
    device: Option<String>,
}

/// What a finished run left behind.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run folder.
    pub run_dir: PathBuf,
    /// Its `certificate.json`.
    pub certificate: PathBuf,
    /// The tightness table of the run, as printed.
    pub table: String,
    /// Wall time of the whole run in seconds.
    pub seconds: f64,
}

pub(crate) fn run(args: RunArgs) -> Result<()> {
    let text = match &args.config {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?
        }
        None => String::new(),
    };
    let shown =
        args.config.as_ref().map_or_else(|| "the default configuration".into(), |p| p.display().to_string());
    let mut config = RunConfig::resolve(&text, args.preset)
        .map_err(|(line, message)| UsageError(format!("{shown}, line {line}: {message}")))?;
    if let Some(name) = &args.name {
        config.name.clone_from(name);
    }
    if let Some(seed) = args.seed {
        config.prior.seed = seed;
        config.posterior.seed = seed;
        config.certificate.0.seed = seed;
    }
    if args.device.is_some() {
        config.device.clone_from(&args.device);
    }
    let outcome = run_pipeline(&config, &args.runs_dir, None)?;
    println!("{}", outcome.table);
    println!("certificate: {}", outcome.certificate.display());
    Ok(())
}

/// Runs the pipeline of `text` (a run configuration in TOML; empty for the defaults) in a new folder
/// under `runs_dir`.
///
/// # Errors
/// A configuration that does not parse, a run folder that exists already, or a failing stage; the
/// temporary folder is removed in every case.
pub fn run_from_toml(text: &str, runs_dir: &Path) -> Result<RunOutcome> {
    run_reusing_prior(text, runs_dir, &[])
}

/// As [`run_from_toml`], but when one of the finished runs in `candidates` was made with exactly
/// the same `[prior]` settings, its prior (and split) is copied instead of fitted again: the prior
/// depends on those settings only, so the result is the same.
///
/// # Errors
/// As [`run_from_toml`].
pub fn run_reusing_prior(text: &str, runs_dir: &Path, candidates: &[PathBuf]) -> Result<RunOutcome> {
    let config = RunConfig::resolve(text, None)
        .map_err(|(line, message)| UsageError(format!("run configuration, line {line}: {message}")))?;
    run_config(&config, runs_dir, candidates)
}

/// Runs the pipeline of the resolved `config` in a new folder under `runs_dir`, copying the prior of
/// one of `candidates` made with the same `[prior]` settings, if any.
///
/// # Errors
/// As [`run_from_toml`].
pub(crate) fn run_config(config: &RunConfig, runs_dir: &Path, candidates: &[PathBuf]) -> Result<RunOutcome> {
    let reuse = candidates.iter().find(|dir| same_prior(dir, &config.prior));
    run_pipeline(config, runs_dir, reuse.map(PathBuf::as_path))
}

/// Whether the run in `dir` was made with the configuration `text` (a run configuration in TOML),
/// every resolved setting compared.
///
/// # Errors
/// A configuration that does not parse.
pub fn made_with(dir: &Path, text: &str) -> Result<bool> {
    let config = RunConfig::resolve(text, None)
        .map_err(|(line, message)| UsageError(format!("run configuration, line {line}: {message}")))?;
    Ok(std::fs::read_to_string(dir.join(CONFIG_FILE))
        .ok()
        .and_then(|saved| config::parse::<RunConfig>(&saved).ok())
        .is_some_and(|saved| saved == config))
}

/// Whether the run in `dir` was made with the prior settings `prior`.
fn same_prior(dir: &Path, prior: &PriorConfig) -> bool {
    std::fs::read_to_string(dir.join(CONFIG_FILE))
        .ok()
        .and_then(|text| config::parse::<RunConfig>(&text).ok())
        .is_some_and(|c| c.prior == *prior)
}

/// Reads, verifies and tabulates the certificates of `run_dirs`, writing `table.*` into `out` in
/// the style of `options`; returns the table as printed.
///
/// # Errors
/// A run without a verified certificate, runs made by different code (unless `options` allow it),
/// or a file that cannot be written.
pub fn report_runs(run_dirs: &[PathBuf], out: &Path, options: &TableOptions) -> Result<String> {
    report(run_dirs, out, options)
}

fn run_pipeline(config: &RunConfig, runs_dir: &Path, reuse: Option<&Path>) -> Result<RunOutcome> {
    let start = Instant::now();
    config.check()?;
    let device = crate::device::resolve(config.device.as_deref())?;
    let name = &config.name;
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(UsageError(format!("run name {name:?} is invalid: expected a plain folder name")).into());
    }
    let final_dir = runs_dir.join(name);
    if final_dir.exists() {
        return Err(UsageError(format!(
            "{} exists already; choose another --name or remove it",
            final_dir.display()
        ))
        .into());
    }
    crate::output::check_parent_writable(&final_dir)?;
    let tmp = runs_dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // One of this process's id can only be left by a killed process that had the same id.
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    let built = build(config, &tmp, &final_dir, reuse, &device);
    if built.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let table = built?;
    pacbayes_nn::atomic::rename(&tmp, &final_dir)
        .with_context(|| format!("renaming the run into {}", final_dir.display()))?;
    Ok(RunOutcome {
        certificate: final_dir.join(CERTIFICATE_FILE),
        run_dir: final_dir,
        table,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The files of a prior, copied when a prior is reused.
const PRIOR_FILES: [&str; 3] =
    [pacbayes_prior::WEIGHTS_FILE, pacbayes_prior::RECORD_FILE, pacbayes_prior::SPLIT_FILE];

/// The stages, in `tmp`; returns the table. Messages name the files where they will be once `tmp` is
/// renamed to `final_dir`.
fn build(
    config: &RunConfig,
    tmp: &Path,
    final_dir: &Path,
    reuse: Option<&Path>,
    device: &candle_core::Device,
) -> Result<String> {
    let stage = |i: usize, what: &str| eprintln!("[{i}/4] {what}");
    let (tmp_name, final_name) = (tmp.display().to_string(), final_dir.display().to_string());
    let finally = |message: String| message.replace(&tmp_name, &final_name);
    match reuse {
        Some(source) => {
            stage(1, &format!("prior (the same as in {})", source.display()));
            std::fs::create_dir_all(tmp).with_context(|| format!("creating {}", tmp.display()))?;
            for file in PRIOR_FILES {
                std::fs::copy(source.join(file), tmp.join(file))
                    .with_context(|| format!("copying {}", source.join(file).display()))?;
            }
            // The run's wall time includes that of the prior it reuses.
            if let Some(prior) = crate::timings::read(source).remove("prior") {
                crate::timings::record(tmp, "prior", prior)?;
            }
        }
        None => {
            stage(1, "prior");
            eprintln!("{}", finally(fit_and_save(&config.prior, tmp, device)?));
        }
    }
    let resolved = toml::to_string(config).context("writing the resolved configuration")?;
    pacbayes_nn::atomic::write(&tmp.join(CONFIG_FILE), resolved.as_bytes()).context("writing config.toml")?;
    stage(2, "posterior");
    eprintln!("{}", finally(train_and_save(&config.posterior, tmp, false, device)?));
    stage(3, "certificate");
    eprintln!("{}", finally(certify_run(&config.certificate, tmp, "both", device)?));
    stage(4, "table");
    Ok(finally(report(&[tmp.to_path_buf()], tmp, &TableOptions::default())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_and_file_keys_win() {
        let quick = RunConfig::resolve("", None).unwrap();
        assert_eq!(quick.preset, Preset::Quick);
        assert_eq!(quick.prior.training.epochs, 50);
        assert_eq!(quick.posterior.epochs, 3);
        assert_eq!(quick.name, "mnist-fcn-learnt-f-quad-a0.5-s0");
        let paper = RunConfig::resolve("preset = \"paper\"\n", None).unwrap();
        assert_eq!(paper.prior.training.epochs, PriorConfig::default().training.epochs);
        assert_eq!(paper.posterior.epochs, PosteriorConfig::default().epochs);
        let own = RunConfig::resolve("[posterior]\nepochs = 3\n", Some(Preset::Paper)).unwrap();
        assert_eq!((own.posterior.epochs, own.preset), (3, Preset::Paper));
        assert_eq!(own.prior.training.epochs, 70);
    }

    #[test]
    fn every_stage_is_checked_before_any_work() {
        assert!(RunConfig::resolve("", None).unwrap().check().is_ok());
        for (text, table, key) in [
            ("[certificate]\ndelta = 1.5\n", "[certificate]", "delta"),
            ("[certificate]\ndelta_mc = 0.0\n", "[certificate]", "delta_mc"),
            ("[posterior]\nlearning_rate = -1.0\n", "[posterior]", "learning_rate"),
            ("[prior]\nprior_fraction = 1.5\n", "[prior]", "prior_fraction"),
            ("[prior]\narchitecture = \"resnet\"\n", "[prior]", "resnet"),
            ("[prior]\ndataset = \"nope\"\n", "[prior]", "nope"),
            ("[prior]\nkind = \"from-file\"\n", "[prior]", "from-file"),
            ("[prior.training]\nepochs = 0\n", "[prior]", "epochs"),
        ] {
            let message = format!("{:#}", RunConfig::resolve(text, None).unwrap().check().unwrap_err());
            assert!(message.starts_with(table) && message.contains(key), "{text}: {message}");
        }
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let (line, message) = RunConfig::resolve("name = \"x\"\n[posterior]\nepoch = 3\n", None).unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("epoch"), "{message}");
    }

    #[test]
    fn a_run_folder_is_recognised_only_with_the_settings_it_was_made_with() {
        let dir = std::env::temp_dir().join(format!("pacbayes-made-with-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "name = \"r\"\n[posterior]\nepochs = 2\n";
        let saved = toml::to_string(&RunConfig::resolve(text, None).unwrap()).unwrap();
        std::fs::write(dir.join(CONFIG_FILE), saved).unwrap();
        assert!(made_with(&dir, text).unwrap());
        // The same keys written out in full resolve to the same settings.
        assert!(made_with(&dir, "name = \"r\"\npreset = \"quick\"\n[posterior]\nepochs = 2\n").unwrap());
        assert!(!made_with(&dir, "name = \"r\"\n[posterior]\nepochs = 3\n").unwrap());
        assert!(!made_with(&dir, "name = \"r\"\n[prior]\nsigma0 = 0.01\n").unwrap());
        assert!(made_with(&dir, "[posterior]\nepoch = 2\n").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!made_with(&dir, text).unwrap(), "no folder, no match");
    }
}
