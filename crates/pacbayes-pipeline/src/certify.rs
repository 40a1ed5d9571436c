//! The certificate stage: certify the posterior of a run folder on its S_bound and write
//! `certificate.json`.

use std::path::Path;

use candle_core::Device;
use pacbayes_bounds::Ledger;
use pacbayes_data::SplitManifest;
use pacbayes_eval::{CertificateRecord, FileHashes, PriorSummary, RunContext};
use pacbayes_nn::Network;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::control::Control;
use crate::error::{Context as _, Error, Result};
use crate::run_config::CertifyConfig;
use crate::run_dir::RunDir;

/// Which certificates a certification leads with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CertificateKind {
    /// The stochastic predictor Q only.
    Gibbs,
    /// One network drawn from Q (saved as `network.safetensors`); the Gibbs certificate is still
    /// computed and recorded.
    Disintegrated,
    /// Both.
    #[default]
    Both,
}

/// What [`certify_run`] wrote.
#[derive(Debug, Clone)]
pub struct CertifyOutcome {
    /// The certificate, as written in `certificate.json`.
    pub certificate: CertificateRecord,
    /// The certificate in a few lines, with where it was written.
    pub summary: String,
}

/// Certifies the posterior of `run` on its S_bound (the certificates of `kind`; the tensors on
/// `device`), writes `certificate.json` into it (never over an existing one), and returns it.
/// `control`'s observer follows the Monte Carlo estimates.
///
/// `certificate.json` is written last: a folder without one has no certificate, whatever else it
/// holds, so that a `network.safetensors` left by an interrupted certification (its certificate never
/// written) is replaced, while a certified one is never overwritten.
///
/// # Errors
/// A folder without prior or posterior, a split that does not match its manifest, invalid settings,
/// or an existing certificate.
pub fn certify_run(
    config: &CertifyConfig,
    run: &RunDir,
    kind: CertificateKind,
    device: &Device,
    control: &Control,
) -> Result<CertifyOutcome> {
    let run_dir = run.path();
    let out = run.certificate();
    let network_out = run.network();
    if out.exists() {
        return Err(Error::Exists { path: out, advice: "it is never overwritten".into() });
    }
    let settings = config.check()?;
    let data = run.load(device)?;
    unfinished_posterior(run)?;
    run.check_writable()?;
    run.remove_temporaries()?;
    // Not certified: what an interrupted certification left.
    match std::fs::remove_file(&network_out) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::io("removing", network_out, e));
        }
        _ => {}
    }
    let posterior_path = run.posterior_weights();
    if !posterior_path.is_file() {
        return Err(Error::invalid(format!(
            "{}: no posterior.safetensors here; train one with `pacbayes posterior --prior {}` first",
            run_dir.display(),
            run_dir.display()
        )));
    }
    let network = Network::load_posterior(data.prior.gaussian(), &posterior_path)
        .with_context(|| format!("reading {}", posterior_path.display()))?;
    let posterior_json = run.posterior_record();
    let posterior: serde_json::Value = if posterior_json.is_file() {
        let text =
            std::fs::read_to_string(&posterior_json).map_err(|e| Error::io("reading", &posterior_json, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::invalid(format!("{}: {e}", posterior_json.display())))?
    } else {
        serde_json::Value::Null
    };
    let objective = posterior.get("objective").and_then(|v| v.as_str()).unwrap_or("unknown").to_owned();
    let record = data.prior.record();
    let context = RunContext {
        run: run.name(),
        dataset: record.dataset.clone(),
        objective,
        prior: PriorSummary {
            kind: record.kind.clone(),
            description: record.description.clone(),
            charges: record.charges.clone(),
            union_cost_nats: record.union_cost_nats,
        },
        posterior,
        split: data.split.manifest(),
    };
    // ln K and δ′/K for `configurations` = K are paid inside pacbayes_eval::certify.
    let choices = Ledger::new();
    let certified = pacbayes_eval::certify(
        &network,
        data.split.bound(),
        &data.test,
        &settings,
        &choices,
        context,
        &control.certify_hook(),
    );
    control.observer().work_finished();
    let mut certificate = certified?;
    if kind == CertificateKind::Gibbs {
        certificate.disintegrated = None;
    }
    certificate.verify().context("the certificate just computed does not verify")?;
    if let Some(d) = &certificate.disintegrated {
        // The very network certified: the same seed draws the same weights.
        let drawn = network.draw(&mut pacbayes_nn::Noise::new(d.seed))?;
        pacbayes_eval::save_drawn(&drawn, network.architecture(), &network_out)?;
    }
    let hashes = file_hashes(run, &certificate.split, certificate.disintegrated.is_some());
    certificate.files = match hashes {
        Ok(h) => Some(h),
        Err(e) => {
            let _ = std::fs::remove_file(&network_out);
            return Err(e);
        }
    };
    let w = &certificate.wall_seconds;
    let times = serde_json::json!({ "emp_risk": w.emp_risk, "test": w.test, "total": w.total });
    run.record_timing("certificate", times)?;
    if let Err(e) = certificate.write_new(&out) {
        let _ = std::fs::remove_file(&network_out);
        return Err(e.into());
    }
    let mut summary = certificate.summary();
    if kind == CertificateKind::Disintegrated {
        if let Some(line) = summary.lines().find(|l| l.starts_with("disintegrated:")).map(str::to_owned) {
            summary = format!("{line}\n{summary}");
        }
    }
    let saved = if certificate.disintegrated.is_some() {
        format!(", the certified drawn network to {}", network_out.display())
    } else {
        String::new()
    };
    let summary = format!("{summary}\ncertificate written to {}{saved}", out.display());
    Ok(CertifyOutcome { certificate, summary })
}

/// Refuses a posterior whose training has not finished: posterior training writes `posterior.json`
/// last, so a checkpoint without it is a training interrupted (or a save killed half-way).
fn unfinished_posterior(run: &RunDir) -> Result<()> {
    let run_dir = run.path();
    let aside = run.file(&format!("{}.old", pacbayes_posterior::CHECKPOINT_DIR));
    if !run.posterior_record().exists() && (run.checkpoint().exists() || aside.exists()) {
        return Err(Error::invalid(format!(
            "{}: the posterior's training has not finished (a checkpoint but no {}); continue it with \
             `pacbayes posterior --prior {} --resume`",
            run_dir.display(),
            pacbayes_posterior::RECORD_FILE,
            run_dir.display()
        )));
    }
    Ok(())
}

/// The hashes a certificate of `run` records: its prior's and posterior's weights (and its drawn
/// network's when `with_network`), its split manifest and its data.
///
/// # Errors
/// A missing or unreadable file.
pub fn file_hashes(run: &RunDir, split: &SplitManifest, with_network: bool) -> Result<FileHashes> {
    Ok(FileHashes {
        prior_safetensors: sha256_file(&run.file(pacbayes_prior::WEIGHTS_FILE))?,
        posterior_safetensors: sha256_file(&run.posterior_weights())?,
        network_safetensors: if with_network { Some(sha256_file(&run.network())?) } else { None },
        split_manifest: hex(&Sha256::digest(split.to_json().as_bytes())),
        data: split.content_sha256.clone(),
    })
}

fn sha256_file(path: &Path) -> Result<String> {
    if !path.is_file() {
        return Err(Error::invalid(format!("{}: missing; expected the run's file", path.display())));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
