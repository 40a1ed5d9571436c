//! A whole run: data → prior → posterior → certificate → table, in one new run folder.
//!
//! The run is built in a temporary sibling of its folder (`runs/.NAME.tmp-PID`) and renamed into
//! place when every stage has succeeded, so a failed or interrupted run never leaves a folder that
//! looks finished; an existing run folder is never overwritten.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;

use crate::certify::{CertificateKind, certify_run};
use crate::control::{Control, Stage};
use crate::error::{Context as _, Error, Result};
use crate::posterior::train_posterior;
use crate::prior::fit_prior;
use crate::prior_config::PriorConfig;
use crate::report::{TableOptions, report};
use crate::run_config::RunConfig;
use crate::run_dir::{RunDir, check_parent_writable};

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

/// Runs every stage of `config` in a new folder `runs_dir/NAME` (its name `config.name`), copying
/// the prior of one of `candidates` (finished run folders) made with the same `[prior]` settings,
/// if any: the prior depends on those settings only, so the result is the same. Every setting is
/// checked before any stage starts; `control`'s observer hears of each stage, and its stop flag
/// stops the run before its next stage (and posterior training after its current step).
///
/// # Errors
/// Invalid settings, a run folder that exists already, a stop, or a failing stage; the temporary
/// folder is removed in every case.
pub fn run_config(
    config: &RunConfig,
    runs_dir: &Path,
    candidates: &[PathBuf],
    control: &Control,
) -> Result<RunOutcome> {
    let reuse = candidates.iter().find(|dir| same_prior(dir, &config.prior));
    let start = Instant::now();
    config.check()?;
    let device = pacbayes_nn::device(config.device.as_deref().unwrap_or("cpu"))?;
    let name = &config.name;
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::invalid(format!("run name {name:?} is invalid: expected a plain folder name")));
    }
    let final_dir = runs_dir.join(name);
    if final_dir.exists() {
        return Err(Error::Exists { path: final_dir, advice: "choose another --name or remove it".into() });
    }
    check_parent_writable(&final_dir)?;
    let tmp = runs_dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // One of this process's id can only be left by a killed process that had the same id.
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io("removing", &tmp, e))?;
    }
    let built = build(config, &RunDir::new(&tmp), &final_dir, reuse.map(PathBuf::as_path), &device, control);
    if built.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let table = built?;
    pacbayes_nn::atomic::rename(&tmp, &final_dir)
        .map_err(|e| Error::io("renaming the run into", &final_dir, e))?;
    Ok(RunOutcome {
        certificate: RunDir::new(&final_dir).certificate(),
        run_dir: final_dir,
        table,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Whether the run in `dir` was made with `config`, every setting compared (with the `config.toml`
/// it saved).
pub fn made_with(dir: &Path, config: &RunConfig) -> bool {
    RunDir::new(dir).read_config().is_some_and(|saved| saved == *config)
}

/// Whether the run in `dir` was made with the prior settings `prior`.
fn same_prior(dir: &Path, prior: &PriorConfig) -> bool {
    RunDir::new(dir).read_config().is_some_and(|c| c.prior == *prior)
}

/// The files of a prior, copied when a prior is reused.
const PRIOR_FILES: [&str; 3] =
    [pacbayes_prior::WEIGHTS_FILE, pacbayes_prior::RECORD_FILE, pacbayes_prior::SPLIT_FILE];

/// The stages, in `tmp`; returns the table. Messages name the files where they will be once `tmp` is
/// renamed to `final_dir`.
fn build(
    config: &RunConfig,
    tmp: &RunDir,
    final_dir: &Path,
    reuse: Option<&Path>,
    device: &Device,
    control: &Control,
) -> Result<String> {
    let observer = control.observer();
    let stage = |i: usize, stage: Stage, what: &str| {
        if control.stopped() {
            return Err(Error::Interrupted { stage: stage.name() });
        }
        observer.run_stage(i, 4, what);
        Ok(())
    };
    let (tmp_name, final_name) = (tmp.path().display().to_string(), final_dir.display().to_string());
    let finally = |message: &str| observer.run_summary(&message.replace(&tmp_name, &final_name));
    match reuse {
        Some(source) => {
            stage(1, Stage::Prior, &format!("prior (the same as in {})", source.display()))?;
            std::fs::create_dir_all(tmp.path()).map_err(|e| Error::io("creating", tmp.path(), e))?;
            for file in PRIOR_FILES {
                std::fs::copy(source.join(file), tmp.file(file))
                    .map_err(|e| Error::io("copying", source.join(file), e))?;
            }
            // The run's wall time includes that of the prior it reuses.
            if let Some(prior) = RunDir::new(source).timings().remove("prior") {
                tmp.record_timing("prior", prior)?;
            }
        }
        None => {
            stage(1, Stage::Prior, "prior")?;
            finally(&fit_prior(&config.prior, tmp, device, control)?.summary);
        }
    }
    let resolved = config.to_toml().context("writing the resolved configuration")?;
    pacbayes_nn::atomic::write(&tmp.config(), resolved.as_bytes())
        .map_err(|e| Error::io("writing", tmp.config(), e))?;
    stage(2, Stage::Posterior, "posterior")?;
    finally(&train_posterior(&config.posterior, tmp, false, device, control)?.summary);
    stage(3, Stage::Certificate, "certificate")?;
    finally(&certify_run(&config.certificate, tmp, CertificateKind::Both, device, control)?.summary);
    stage(4, Stage::Table, "table")?;
    Ok(report(&[tmp.path().to_path_buf()], tmp.path(), &TableOptions::default())?
        .replace(&tmp_name, &final_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_folder_is_recognised_only_with_the_settings_it_was_made_with() {
        let dir = tempfile::tempdir().unwrap();
        let resolve = |text: &str| RunConfig::from_toml(text, "test").unwrap();
        let text = "name = \"r\"\n[posterior]\nepochs = 2\n";
        std::fs::write(RunDir::new(dir.path()).config(), resolve(text).to_toml().unwrap()).unwrap();
        assert!(made_with(dir.path(), &resolve(text)));
        // The same keys written out in full resolve to the same settings.
        assert!(made_with(
            dir.path(),
            &resolve("name = \"r\"\npreset = \"quick\"\n[posterior]\nepochs = 2\n")
        ));
        assert!(!made_with(dir.path(), &resolve("name = \"r\"\n[posterior]\nepochs = 3\n")));
        assert!(!made_with(dir.path(), &resolve("name = \"r\"\n[prior]\nsigma0 = 0.01\n")));
        assert!(!made_with(&dir.path().join("none"), &resolve(text)), "no folder, no match");
    }

    #[test]
    fn a_set_stop_flag_stops_the_run_before_its_first_stage_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let control = Control::silent();
        control.stop_flag().store(true, std::sync::atomic::Ordering::SeqCst);
        let mut config = RunConfig::from_preset(crate::Preset::Quick);
        config.name = "stopped".into();
        let err = run_config(&config, dir.path(), &[], &control).unwrap_err();
        assert!(matches!(err, Error::Interrupted { stage: "prior" }), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
