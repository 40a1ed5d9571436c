//! `sweep.json` and the layout of a sweep folder:
//!
//! ```text
//! sweeps/NAME/
//!   sweep.json                  the manifest: grid, K, every run's values, configuration and hash
//!   runs/run-000/ ...           one run folder per configuration (as `pacbayes run` makes them)
//!   logs/run-000.log            what each run printed
//!   slurm/submit-1.sh           the job-array scripts submitted, with jobs.json (their job ids)
//!   table.{csv,parquet,md,tex}  `pacbayes sweep report`
//!   selected-certificate.json   `pacbayes sweep report --select best`
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::commands::sweep::grid::Grid;
use crate::exit::UsageError;
use pacbayes_pipeline::CERTIFICATE_FILE;
use pacbayes_pipeline::RunConfig;

/// The format tag of `sweep.json`.
pub(crate) const FORMAT: &str = "pacbayes-sweep/1";
/// The manifest's file name.
pub(crate) const MANIFEST_FILE: &str = "sweep.json";

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlannedRun {
    /// Its number.
    pub(crate) index: usize,
    /// Its folder's name under `runs/`.
    pub(crate) name: String,
    /// The grid's value for each key, as TOML values (`"0.01"`, `"\"f-kl\""`).
    pub(crate) values: Vec<String>,
    /// SHA-256 of `config`.
    pub(crate) config_sha256: String,
    /// The resolved configuration (TOML, every default written out).
    pub(crate) config: String,
}

/// The contents of `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    /// [`FORMAT`].
    pub(crate) format: String,
    /// The sweep's name.
    pub(crate) name: String,
    /// The code that expanded the grid: commit, dirty flag, versions, CPU.
    pub(crate) provenance: pacbayes_eval::Provenance,
    /// The grid's keys, in the order of `values`.
    pub(crate) keys: Vec<String>,
    /// The values of each key, as TOML values.
    pub(crate) grid: Vec<Vec<String>>,
    /// The base configuration, as TOML.
    pub(crate) base: String,
    /// K, the number of configurations.
    pub(crate) k: usize,
    /// Every run.
    pub(crate) runs: Vec<PlannedRun>,
}

impl Manifest {
    /// The manifest of `grid`.
    ///
    /// # Errors
    /// A configuration that cannot be written as TOML.
    pub(crate) fn of(grid: &Grid) -> Result<Self> {
        let runs = grid
            .points
            .iter()
            .map(|p| {
                let config = toml::to_string(&p.config).context("writing a run configuration")?;
                Ok(PlannedRun {
                    index: p.index,
                    name: p.config.name.clone(),
                    values: p.values.iter().map(ToString::to_string).collect(),
                    config_sha256: sha256_hex(config.as_bytes()),
                    config,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Manifest {
            format: FORMAT.into(),
            name: grid.name.clone(),
            provenance: pacbayes_eval::Provenance::current(),
            keys: grid.axes.iter().map(|a| a.key.clone()).collect(),
            grid: grid.axes.iter().map(|a| a.values.iter().map(ToString::to_string).collect()).collect(),
            base: toml::to_string(&grid.base).context("writing the base configuration")?,
            k: runs.len(),
            runs,
        })
    }

    /// Reads `sweep.json` from the sweep folder `dir`.
    ///
    /// # Errors
    /// A missing or unreadable manifest, or one of another format.
    pub(crate) fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            UsageError(format!("{}: {e}; expected a sweep folder made by `pacbayes sweep`", path.display()))
        })?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| UsageError(format!("{}: not a sweep manifest ({e})", path.display())))?;
        if manifest.format != FORMAT {
            return Err(UsageError(format!(
                "{}: format {:?}, expected {FORMAT:?}",
                path.display(),
                manifest.format
            ))
            .into());
        }
        Ok(manifest)
    }

    /// Writes the manifest into `dir` (created if needed) through a temporary sibling; a manifest
    /// there already must be this one (the same grid and configurations).
    ///
    /// # Errors
    /// A sweep folder made with another grid, or a file that cannot be written.
    pub(crate) fn write_or_match(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_FILE);
        if path.exists() {
            let existing = Manifest::read(dir)?;
            let same = existing.keys == self.keys
                && existing.grid == self.grid
                && existing
                    .runs
                    .iter()
                    .map(|r| &r.config_sha256)
                    .eq(self.runs.iter().map(|r| &r.config_sha256));
            if !same {
                return Err(UsageError(format!(
                    "{} was made with another grid; choose another sweep name or remove the folder",
                    dir.display()
                ))
                .into());
            }
            return Ok(());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let text = serde_json::to_string_pretty(self).context("writing sweep.json")? + "\n";
        pacbayes_nn::atomic::write(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The run numbered `index`.
    ///
    /// # Errors
    /// An index outside 0..K.
    pub(crate) fn run(&self, index: usize) -> Result<&PlannedRun> {
        self.runs.get(index).ok_or_else(|| {
            UsageError(format!(
                "--index {index} is invalid: the sweep {} has runs 0 to {}",
                self.name,
                self.k - 1
            ))
            .into()
        })
    }

    /// The configuration of `run`, parsed.
    ///
    /// # Errors
    /// A manifest whose configuration no longer parses (edited by hand, or another version).
    pub(crate) fn config(&self, run: &PlannedRun) -> Result<RunConfig> {
        pacbayes_pipeline::parse(&run.config).map_err(|(line, message)| {
            UsageError(format!("sweep.json, run {}, configuration line {line}: {message}", run.index)).into()
        })
    }
}

/// The folders of a sweep.
#[derive(Debug, Clone)]
pub(crate) struct SweepDir(pub(crate) PathBuf);

impl SweepDir {
    /// The folder of the sweep `name` under `sweeps_dir`.
    pub(crate) fn new(sweeps_dir: &Path, name: &str) -> Self {
        Self(sweeps_dir.join(name))
    }

    /// Where the run folders are.
    pub(crate) fn runs(&self) -> PathBuf {
        self.0.join("runs")
    }

    /// Where each run's output goes.
    pub(crate) fn logs(&self) -> PathBuf {
        self.0.join("logs")
    }

    /// The folder of the run `name`.
    pub(crate) fn run(&self, name: &str) -> PathBuf {
        self.runs().join(name)
    }

    /// Whether the run `name` has finished (its folder holds a certificate).
    pub(crate) fn finished(&self, name: &str) -> bool {
        self.run(name).join(CERTIFICATE_FILE).is_file()
    }
}

/// Lower-case hexadecimal SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
