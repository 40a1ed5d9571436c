//! A run folder: its layout, the names of its files, and what the later stages read back from it.
//!
//! ```text
//! runs/NAME/
//!   config.toml            the resolved RunConfig (made by run_config)
//!   prior.safetensors      prior.json  split.json        (fit_prior)
//!   posterior.safetensors  posterior.json  metrics.csv  metrics.parquet  checkpoint/ (train_posterior)
//!   certificate.json       network.safetensors           (certify_run)
//!   timings.json           the wall-clock times of the stages, the one file that records the clock
//!   table.{csv,parquet,md,tex}                           (report)
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The resolved configuration of a run.
pub const CONFIG_FILE: &str = "config.toml";
/// The certificate; a folder without one is not certified, whatever else it holds.
pub const CERTIFICATE_FILE: &str = "certificate.json";
/// The drawn network that the disintegrated certificate certifies.
pub const NETWORK_FILE: &str = "network.safetensors";
/// The wall-clock times of the stages.
pub const TIMINGS_FILE: &str = "timings.json";
/// The posterior's weights.
pub const POSTERIOR_WEIGHTS_FILE: &str = "posterior.safetensors";

/// A run folder, by its path; it need not exist yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunDir(PathBuf);

impl RunDir {
    /// The run folder at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The file `name` inside the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Its `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.file(CONFIG_FILE)
    }

    /// Its `certificate.json`.
    pub fn certificate(&self) -> PathBuf {
        self.file(CERTIFICATE_FILE)
    }

    /// Its `network.safetensors`.
    pub fn network(&self) -> PathBuf {
        self.file(NETWORK_FILE)
    }

    /// Its `posterior.safetensors`.
    pub fn posterior_weights(&self) -> PathBuf {
        self.file(POSTERIOR_WEIGHTS_FILE)
    }

    /// Its `posterior.json`, written last by posterior training.
    pub fn posterior_record(&self) -> PathBuf {
        self.file(pacbayes_posterior::RECORD_FILE)
    }

    /// Its `prior.json`.
    pub fn prior_record(&self) -> PathBuf {
        self.file(pacbayes_prior::RECORD_FILE)
    }

    /// The working state of an unfinished (or extendable) posterior training.
    pub fn checkpoint(&self) -> PathBuf {
        self.file(pacbayes_posterior::CHECKPOINT_DIR)
    }

    /// Whether the run is certified (its folder holds a certificate).
    pub fn is_certified(&self) -> bool {
        self.certificate().is_file()
    }

    /// The run's configuration, from its `config.toml`; `None` when there is none or it does not
    /// parse.
    pub fn read_config(&self) -> Option<crate::RunConfig> {
        let text = std::fs::read_to_string(self.config()).ok()?;
        crate::run_config::parse(&text).ok()
    }

    /// The run's name: the `name` of its `config.toml` (a run being built in a temporary folder
    /// knows its final name there), or else the folder's name.
    pub fn name(&self) -> String {
        std::fs::read_to_string(self.config())
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|table| table.get("name").and_then(|v| v.as_str()).map(str::to_owned))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| {
                self.0
                    .file_name()
                    .map_or_else(|| self.0.display().to_string(), |n| n.to_string_lossy().into_owned())
            })
    }

    /// The times recorded in `timings.json`, or an empty object when there are none (a run of an
    /// earlier version, or a stage not run yet).
    pub fn timings(&self) -> Map<String, Value> {
        std::fs::read_to_string(self.file(TIMINGS_FILE))
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    }

    /// The total seconds of `stage` (`prior`, `posterior`, `certificate`).
    pub fn stage_seconds(&self, stage: &str) -> Option<f64> {
        let key = if stage == "certificate" { "total" } else { "seconds" };
        self.timings().get(stage)?.get(key)?.as_f64()
    }

    /// The wall time in seconds of the whole run (its prior, also when reused from another run, its
    /// posterior and its certificate); `None` before it is certified.
    pub fn run_seconds(&self) -> Option<f64> {
        let stage = |name: &str| self.stage_seconds(name);
        Some(stage("certificate")? + stage("prior").unwrap_or(0.0) + stage("posterior").unwrap_or(0.0))
    }

    /// Records `times` as the entry of `stage` in `timings.json`, keeping the other stages'
    /// entries; written through a temporary sibling synced and renamed into place.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn record_timing(&self, stage: &str, times: Value) -> Result<()> {
        let path = self.file(TIMINGS_FILE);
        let text = timings_text(self.timings(), stage, times)?;
        pacbayes_nn::atomic::write(&path, text.as_bytes()).map_err(|e| Error::io("writing", path, e))
    }

    /// Checks that files can be created in the existing folder.
    ///
    /// # Errors
    /// The folder is not writable.
    pub fn check_writable(&self) -> Result<()> {
        pacbayes_nn::atomic::check_writable(&self.0)
            .map_err(|e| Error::invalid(format!("{}: cannot write files here: {e}", self.0.display())))
    }

    /// Removes the temporary files a killed process left in the folder: hidden `.NAME.XXXXXX.tmp`
    /// files (see [`pacbayes_nn::atomic`]), never read, and as large as the weights they were to
    /// become. A stage that writes into a run folder is the only one writing there, so none of them
    /// is being written.
    ///
    /// # Errors
    /// The folder cannot be listed or a temporary file cannot be removed.
    pub fn remove_temporaries(&self) -> Result<()> {
        let listed =
            std::fs::read_dir(&self.0).map_err(|e| Error::invalid(format!("{}: {e}", self.0.display())))?;
        for entry in listed.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_temporary(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
                let path = entry.path();
                std::fs::remove_file(&path)
                    .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
            }
        }
        Ok(())
    }
}

impl AsRef<Path> for RunDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

/// The text of `timings.json` with `times` as the entry of `stage` beside the entries of `all`.
pub(crate) fn timings_text(mut all: Map<String, Value>, stage: &str, times: Value) -> Result<String> {
    all.insert(stage.to_owned(), times);
    Ok(serde_json::to_string_pretty(&Value::Object(all))?)
}

/// The `timings.json` entry of a stage trained epoch by epoch.
pub(crate) fn stage_timing(seconds: f64, epoch_seconds: Vec<f64>) -> Value {
    serde_json::json!({ "seconds": seconds, "epoch_seconds": epoch_seconds })
}

/// Whether `name` has the form `.NAME.XXXXXX.tmp` of a temporary sibling.
fn is_temporary(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else { return false };
    inner.rsplit_once('.').is_some_and(|(base, random)| {
        !base.is_empty() && random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Creates the parent folder of the new file or folder `out` if needed, and checks that files can be
/// created in it, so that a read-only folder is reported at once rather than after the training
/// whose results it would lose.
///
/// # Errors
/// The parent cannot be created (a path through a regular file, for one) or is not writable.
pub fn check_parent_writable(out: &Path) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if parent.exists() && !parent.is_dir() {
        return Err(Error::invalid(format!(
            "{}: cannot write into {}: it is not a folder",
            out.display(),
            parent.display()
        )));
    }
    std::fs::create_dir_all(parent).and_then(|()| pacbayes_nn::atomic::check_writable(parent)).map_err(|e| {
        Error::invalid(format!("{}: cannot write into {}: {e}", out.display(), parent.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_kept_side_by_side() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        assert!(run.timings().is_empty() && run.stage_seconds("prior").is_none());
        run.record_timing("prior", stage_timing(2.5, vec![1.0, 2.5])).unwrap();
        assert!(run.run_seconds().is_none(), "not certified");
        run.record_timing("certificate", serde_json::json!({ "total": 4.0 })).unwrap();
        run.record_timing("prior", stage_timing(3.5, vec![3.5])).unwrap();
        assert!(run.stage_seconds("prior").is_some_and(|s| (s - 3.5).abs() < 1e-12));
        assert!(run.stage_seconds("certificate").is_some_and(|s| (s - 4.0).abs() < 1e-12));
        assert!(run.run_seconds().is_some_and(|s| (s - 7.5).abs() < 1e-12));
        assert_eq!(run.timings().len(), 2);
    }

    #[test]
    fn only_temporary_siblings_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = pacbayes_nn::atomic::AtomicFile::create(&dir.path().join("posterior.json")).unwrap();
        std::io::Write::write_all(&mut file, b"{").unwrap();
        // A kill leaves the temporary behind (forget: no drop, as after SIGKILL).
        let left = file.temporary_path().to_path_buf();
        std::mem::forget(file);
        assert!(left.is_file());
        for kept in ["posterior.json", ".hidden", ".a.b.tmp", "x.abcdef.tmp"] {
            std::fs::write(dir.path().join(kept), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".d.abcdef.tmp")).unwrap();
        RunDir::new(dir.path()).remove_temporaries().unwrap();
        assert!(!left.exists());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".a.b.tmp", ".d.abcdef.tmp", ".hidden", "posterior.json", "x.abcdef.tmp"]);
    }

    #[test]
    fn the_name_comes_from_the_config_else_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path().join(".x.tmp-1"));
        std::fs::create_dir(run.path()).unwrap();
        assert_eq!(run.name(), ".x.tmp-1");
        std::fs::write(run.config(), "name = \"x\"\n").unwrap();
        assert_eq!(run.name(), "x");
    }
}
