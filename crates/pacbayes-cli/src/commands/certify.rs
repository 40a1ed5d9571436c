//! `pacbayes certify`: certify the posterior of a run folder on its S_bound and write
//! `certificate.json`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pacbayes_bounds::Ledger;
use pacbayes_eval::{CertifySettings, Observer, PriorSummary, Protocol, RunContext};
use pacbayes_nn::Network;
use serde::{Deserialize, Serialize};

use crate::commands::run_data::load_run;
use crate::config;
use crate::exit::UsageError;

/// The file a certificate is written to, inside the run folder.
pub(crate) const CERTIFICATE_FILE: &str = "certificate.json";

/// Every setting of `pacbayes certify`, as in a TOML configuration file; flags override it. The keys
/// and defaults are those of [`CertifySettings`]: `protocol = "fast"`, `repetitions` = ⌈10⁶/n⌉,
/// `draws = 1000` (classic), `delta = 0.025`, `delta_mc = 0.01`, `p_min = 1e-5`, `seed = 0`,
/// `batch_size = 1000`, `ensemble_size = 100`, `configurations = 1`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct CertifyConfig(pub(crate) CertifySettings);

#[derive(Debug, Args)]
pub(crate) struct CertifyArgs {
    /// The run folder (made by `pacbayes prior`, with a posterior from `pacbayes posterior`).
    #[arg(long)]
    run: PathBuf,
    /// A TOML file with any of the settings below (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// fast (an independent draw per example and repetition) or classic (whole-network draws).
    #[arg(long)]
    protocol: Option<String>,
    /// k, repetitions of the fast protocol [default: ceil(1e6 / n)].
    #[arg(long, value_parser = crate::args::positive_count)]
    repetitions: Option<u64>,
    /// m, weight draws of the classic protocol [default: 1000].
    #[arg(long, value_parser = crate::args::positive_count)]
    draws: Option<u64>,
    /// δ of the bound, in (0, 1) [default: 0.025].
    #[arg(long, value_parser = crate::args::open_unit)]
    delta: Option<f64>,
    /// δ′ of the Monte Carlo term, in (0, 1) [default: 0.01].
    #[arg(long, value_parser = crate::args::open_unit)]
    delta_mc: Option<f64>,
    /// p_min of the bounded cross-entropy, in (0, 1) [default: 1e-5].
    #[arg(long, value_parser = crate::args::open_unit)]
    p_min: Option<f64>,
    /// Seed of every weight draw [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// K, the configurations this run was chosen among by their certificates; ln K is paid in the
    /// KL term and δ′/K in the Monte Carlo term [default: 1].
    #[arg(long, value_parser = crate::args::positive_count)]
    configurations: Option<u64>,
    /// Examples per forward pass [default: 1000].
    #[arg(long, value_parser = positive_size)]
    batch_size: Option<usize>,
    /// Networks drawn for the ensemble's test error [default: 100].
    #[arg(long, value_parser = positive_size)]
    ensemble_size: Option<usize>,
    /// α of the Rényi form of the disintegrated certificate, finite and > 1 [default: 2].
    #[arg(long)]
    renyi_alpha: Option<f64>,
    /// Which certificates: gibbs (the stochastic predictor Q), disintegrated (one network drawn from
    /// Q, saved as network.safetensors) or both. The Gibbs certificate is recorded in every
    /// certificate.json; with `disintegrated` it is still computed and recorded, and the summary
    /// leads with the drawn network.
    #[arg(long, default_value = "both", value_parser = ["gibbs", "disintegrated", "both"])]
    kind: String,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature).
    #[arg(long)]
    device: Option<String>,
}

/// A whole number ≥ 1 that counts things held in memory.
fn positive_size(s: &str) -> std::result::Result<usize, String> {
    let n = crate::args::positive_count(s)?;
    usize::try_from(n).map_err(|_| "expected a smaller whole number".to_owned())
}

impl CertifyArgs {
    pub(crate) fn resolve(&self) -> Result<CertifyConfig> {
        let mut c: CertifyConfig = config::read_or_default(self.config.as_deref())?;
        let s = &mut c.0;
        if let Some(p) = &self.protocol {
            s.protocol = p.parse::<Protocol>()?;
        }
        if self.repetitions.is_some() {
            s.repetitions = self.repetitions;
        }
        s.draws = self.draws.unwrap_or(s.draws);
        s.delta = self.delta.unwrap_or(s.delta);
        s.delta_mc = self.delta_mc.unwrap_or(s.delta_mc);
        s.p_min = self.p_min.unwrap_or(s.p_min);
        s.seed = self.seed.unwrap_or(s.seed);
        s.configurations = self.configurations.unwrap_or(s.configurations);
        s.batch_size = self.batch_size.unwrap_or(s.batch_size);
        s.ensemble_size = self.ensemble_size.unwrap_or(s.ensemble_size);
        s.renyi_alpha = self.renyi_alpha.unwrap_or(s.renyi_alpha);
        Ok(c)
    }
}

pub(crate) fn run(args: CertifyArgs) -> Result<()> {
    let config = args.resolve()?;
    let device = crate::device::resolve(args.device.as_deref())?;
    println!("{}", certify_run(&config, &args.run, &args.kind, &device)?);
    Ok(())
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
struct Bar(ProgressBar);

impl Observer for Bar {
    fn begin(&self, stage: &str, units: u64) {
        self.0.set_length(units);
        self.0.set_position(0);
        self.0.set_message(stage.to_owned());
    }

    fn advance(&self, units: u64) {
        self.0.inc(units);
    }
}

/// The file the disintegrated certificate's drawn network is written to, inside the run folder.
pub(crate) const NETWORK_FILE: &str = "network.safetensors";

/// Certifies the posterior of `run_dir` on its S_bound (the certificates of `kind`: `gibbs`,
/// `disintegrated` or `both`; the tensors on `device`), writes `certificate.json` into it (never over
/// an existing one), and returns the certificate in a few lines.
///
/// `certificate.json` is written last: a folder without one has no certificate, whatever else it
/// holds, so that a `network.safetensors` left by an interrupted certification (its certificate never
/// written) is replaced, while a certified one is never overwritten.
///
/// # Errors
/// A folder without prior or posterior, a split that does not match its manifest, invalid settings,
/// or an existing certificate.
pub(crate) fn certify_run(
    config: &CertifyConfig,
    run_dir: &Path,
    kind: &str,
    device: &candle_core::Device,
) -> Result<String> {
    let out = run_dir.join(CERTIFICATE_FILE);
    let network_out = run_dir.join(NETWORK_FILE);
    if out.exists() {
        return Err(UsageError(format!("{} exists already; it is never overwritten", out.display())).into());
    }
    let settings = config.0.check()?;
    let run = load_run(run_dir, device)?;
    unfinished_posterior(run_dir)?;
    crate::output::check_writable(run_dir)?;
    crate::output::remove_temporaries(run_dir)?;
    // Not certified: what an interrupted certification left.
    match std::fs::remove_file(&network_out) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing {}", network_out.display()));
        }
        _ => {}
    }
    let posterior_path = run_dir.join("posterior.safetensors");
    if !posterior_path.is_file() {
        return Err(UsageError(format!(
            "{}: no posterior.safetensors here; train one with `pacbayes posterior --prior {}` first",
            run_dir.display(),
            run_dir.display()
        ))
        .into());
    }
    let network = Network::load_posterior(run.prior.gaussian(), &posterior_path)
        .with_context(|| format!("reading {}", posterior_path.display()))?;
    let posterior_json = run_dir.join("posterior.json");
    let posterior: serde_json::Value = if posterior_json.is_file() {
        let text = std::fs::read_to_string(&posterior_json)?;
        serde_json::from_str(&text).map_err(|e| UsageError(format!("{}: {e}", posterior_json.display())))?
    } else {
        serde_json::Value::Null
    };
    let objective = posterior.get("objective").and_then(|v| v.as_str()).unwrap_or("unknown").to_owned();
    let record = run.prior.record();
    let context = RunContext {
        run: run_name(run_dir),
        dataset: record.dataset.clone(),
        objective,
        prior: PriorSummary {
            kind: record.kind.clone(),
            description: record.description.clone(),
            charges: record.charges.clone(),
            union_cost_nats: record.union_cost_nats,
        },
        posterior,
        split: run.split.manifest(),
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("certify {msg} [{bar:30}] {pos}/{len}, {elapsed} (eta {eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let bar = Bar(bar);
    // ln K and δ′/K for `configurations` = K are paid inside pacbayes_eval::certify.
    let choices = Ledger::new();
    let certificate =
        pacbayes_eval::certify(&network, run.split.bound(), &run.test, &settings, &choices, context, &bar)?;
    bar.0.finish_and_clear();
    let mut certificate = certificate;
    if kind == "gibbs" {
        certificate.disintegrated = None;
    }
    certificate.verify().context("the certificate just computed does not verify")?;
    if let Some(d) = &certificate.disintegrated {
        // The very network certified: the same seed draws the same weights.
        let drawn = network.draw(&mut pacbayes_nn::Noise::new(d.seed))?;
        pacbayes_eval::save_drawn(&drawn, network.architecture(), &network_out)?;
    }
    let hashes = crate::commands::verify::file_hashes(
        run_dir,
        &certificate.split,
        certificate.disintegrated.is_some(),
    );
    certificate.files = match hashes {
        Ok(h) => Some(h),
        Err(e) => {
            let _ = std::fs::remove_file(&network_out);
            return Err(e);
        }
    };
    let w = &certificate.wall_seconds;
    let times = serde_json::json!({ "emp_risk": w.emp_risk, "test": w.test, "total": w.total });
    crate::timings::record(run_dir, "certificate", times)?;
    if let Err(e) = certificate.write_new(&out) {
        let _ = std::fs::remove_file(&network_out);
        return Err(e.into());
    }
    let mut summary = certificate.summary();
    if kind == "disintegrated" {
        if let Some(line) = summary.lines().find(|l| l.starts_with("disintegrated:")).map(str::to_owned) {
            summary = format!("{line}\n{summary}");
        }
    }
    let saved = if certificate.disintegrated.is_some() {
        format!(", the certified drawn network to {}", network_out.display())
    } else {
        String::new()
    };
    Ok(format!("{summary}\ncertificate written to {}{saved}", out.display()))
}

/// Refuses a posterior whose training has not finished: `pacbayes posterior` writes `posterior.json`
/// last, so a checkpoint without it is a training interrupted (or a save killed half-way).
fn unfinished_posterior(run_dir: &Path) -> Result<()> {
    let checkpoint = run_dir.join(pacbayes_posterior::CHECKPOINT_DIR);
    let aside = run_dir.join(format!("{}.old", pacbayes_posterior::CHECKPOINT_DIR));
    if !run_dir.join(pacbayes_posterior::RECORD_FILE).exists() && (checkpoint.exists() || aside.exists()) {
        return Err(UsageError(format!(
            "{}: the posterior's training has not finished (a checkpoint but no {}); continue it with \
             `pacbayes posterior --prior {} --resume`",
            run_dir.display(),
            pacbayes_posterior::RECORD_FILE,
            run_dir.display()
        ))
        .into());
    }
    Ok(())
}

/// The run's name: the `name` of its `config.toml` (a run being built in a temporary folder knows
/// its final name there), or else the folder's name.
fn run_name(run_dir: &Path) -> String {
    std::fs::read_to_string(run_dir.join(crate::commands::run::CONFIG_FILE))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("name").and_then(|v| v.as_str()).map(str::to_owned))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| {
            run_dir
                .file_name()
                .map_or_else(|| run_dir.display().to_string(), |n| n.to_string_lossy().into_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_has_the_documented_defaults_and_rejects_unknown_keys() {
        let c: CertifyConfig = crate::config::parse("protocol = \"classic\"\ndraws = 50\n").unwrap();
        assert_eq!((c.0.protocol, c.0.draws), (Protocol::Classic, 50));
        assert!((c.0.delta - 0.025).abs() < 1e-15 && (c.0.delta_mc - 0.01).abs() < 1e-15);
        assert!(c.0.repetitions.is_none());
        let (line, message) =
            crate::config::parse::<CertifyConfig>("delta = 0.05\nrepetition = 3\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("repetition"), "{message}");
    }
}
