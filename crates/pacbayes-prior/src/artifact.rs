//! A prior on disk: `prior.safetensors` (means and scales) and `prior.json` (what it is, what it
//! cost, the split it saw, how it was trained), written together or not at all.

use std::path::{Path, PathBuf};

use candle_core::Device;
use pacbayes_bounds::Charge;
use pacbayes_nn::{Architecture, GaussianWeights};
use pacbayes_provenance::Provenance;
use serde::{Deserialize, Serialize};

use crate::prior::same_architecture;
use crate::{Error, FitRecord, Prior, Result};

/// How a shaped prior scale was fitted on S_prior (written as the record of its family).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScaleFit {
    /// The Fisher-shaped scale.
    Fisher(crate::FisherRecord),
    /// The per-layer scales.
    PerLayer(crate::PerLayerRecord),
    /// The SWAG-shaped scale (and SWA mean).
    Swag(crate::SwagRecord),
    /// The posterior trained on S_prior (its mean and scales).
    PacBayes(crate::VariationalRecord),
}

/// File name of the tensors.
pub const WEIGHTS_FILE: &str = "prior.safetensors";
/// File name of the description.
pub const RECORD_FILE: &str = "prior.json";
/// File name of the split manifest, written beside the prior when the record has one.
pub const SPLIT_FILE: &str = "split.json";

/// The contents of `prior.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorRecord {
    /// `learnt`, `data-free`, `from-file`, or a user's own name.
    pub kind: String,
    /// The prior's one-line description.
    pub description: String,
    /// The architecture's name.
    pub architecture: String,
    /// The dataset, as a `--dataset` value (`mnist`, `csv:FILE`, ...); empty for a prior built
    /// without data.
    pub dataset: String,
    /// The label column of a table (unused by other datasets).
    pub label_column: String,
    /// Union-bound charges for choices made in building it.
    pub charges: Vec<Charge>,
    /// Their total in nats.
    pub union_cost_nats: f64,
    /// The seed of every random choice, where one was made.
    pub seed: Option<u64>,
    /// The split manifest of the training set: S_prior is what the prior may have seen, S_bound
    /// what the certificate is computed on (none when the prior was built without data).
    pub split: Option<serde_json::Value>,
    /// The training record of a learnt prior.
    pub fit: Option<FitRecord>,
    /// How a learnt scale was fitted, on S_prior only (none for a scale σ₀ alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_fit: Option<ScaleFit>,
    /// The family of the prior's distributions (absent: Gaussian).
    #[serde(default, skip_serializing_if = "pacbayes_nn::Family::is_gaussian")]
    pub distribution: pacbayes_nn::Family,
    /// Test error of the prior's mean network, measured for reports (it informs no choice).
    pub mean_test_error: Option<f64>,
    /// The pacbayes version that wrote it.
    pub version: String,
    /// The code and machine that made it (`unknown` in records written before it was recorded).
    #[serde(default = "Provenance::unknown")]
    pub provenance: Provenance,
}

impl PriorRecord {
    /// A record for `prior` with the given kind; the rest is filled in by the caller.
    pub fn describe(kind: &str, prior: &dyn Prior, architecture: Architecture) -> Self {
        let charges = prior.charges();
        Self {
            kind: kind.to_owned(),
            description: prior.description(),
            architecture: architecture.to_string(),
            dataset: String::new(),
            label_column: String::new(),
            union_cost_nats: charges.iter().fold(0.0, |t, c| t + c.cost_nats),
            charges,
            seed: None,
            split: None,
            fit: None,
            scale_fit: None,
            distribution: pacbayes_nn::Family::Gaussian,
            mean_test_error: None,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            provenance: Provenance::current(),
        }
    }
}

/// A prior read back from its folder.
#[derive(Debug, Clone)]
pub struct SavedPrior {
    weights: GaussianWeights,
    record: PriorRecord,
}

impl SavedPrior {
    /// Writes `weights` and `record` into the new folder `dir`, through a temporary sibling renamed
    /// into place, so that a failure leaves no folder that looks complete.
    ///
    /// # Errors
    /// `dir` exists already, or a file cannot be written.
    pub fn save(dir: &Path, weights: &GaussianWeights, record: &PriorRecord) -> Result<()> {
        Self::save_with(dir, weights, record, &[])
    }

    /// As [`SavedPrior::save`], with `also` (file names and contents) written into the folder as
    /// well, before it is renamed into place: the folder appears with every file or not at all. Each
    /// file is synced before the rename, and the parent folder after it.
    ///
    /// # Errors
    /// As [`SavedPrior::save`].
    pub fn save_with(
        dir: &Path,
        weights: &GaussianWeights,
        record: &PriorRecord,
        also: &[(&str, &[u8])],
    ) -> Result<()> {
        if dir.exists() {
            return Err(Error::OutputExists { path: dir.to_path_buf() });
        }
        let tmp = temporary_sibling(dir);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        // One of this process's id can only be left by a killed process that had the same id.
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let written = (|| {
            weights.save(tmp.join(WEIGHTS_FILE))?;
            let json = serde_json::to_string_pretty(record).expect("a record serializes");
            let file = tmp.join(RECORD_FILE);
            pacbayes_nn::atomic::write(&file, (json + "\n").as_bytes()).map_err(io(&file))?;
            if let Some(split) = &record.split {
                let json = serde_json::to_string_pretty(split).expect("a manifest serializes");
                let file = tmp.join(SPLIT_FILE);
                pacbayes_nn::atomic::write(&file, (json + "\n").as_bytes()).map_err(io(&file))?;
            }
            for (name, bytes) in also {
                let file = tmp.join(name);
                pacbayes_nn::atomic::write(&file, bytes).map_err(io(&file))?;
            }
            pacbayes_nn::atomic::rename(&tmp, dir).map_err(io(dir))
        })();
        if written.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        written
    }

    /// Reads the prior in folder `dir`.
    ///
    /// # Errors
    /// A missing or unreadable file, a `prior.json` that does not parse, or tensors that do not
    /// match the recorded architecture.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let path = dir.join(RECORD_FILE);
        let text =
            std::fs::read_to_string(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        let record: PriorRecord =
            serde_json::from_str(&text).map_err(|source| Error::Json { path, source })?;
        let architecture: Architecture = record.architecture.parse()?;
        let weights = GaussianWeights::load(architecture, dir.join(WEIGHTS_FILE), None, device)?;
        Ok(Self { weights, record })
    }

    /// The record.
    pub fn record(&self) -> &PriorRecord {
        &self.record
    }

    /// The weights.
    pub fn gaussian(&self) -> &GaussianWeights {
        &self.weights
    }
}

impl Prior for SavedPrior {
    fn weights(&self, architecture: Architecture, _device: &Device) -> Result<GaussianWeights> {
        same_architecture(self.weights.architecture(), architecture)?;
        Ok(self.weights.clone())
    }

    fn description(&self) -> String {
        self.record.description.clone()
    }

    fn charges(&self) -> Vec<Charge> {
        self.record.charges.clone()
    }
}

fn temporary_sibling(dir: &Path) -> PathBuf {
    let name = dir.file_name().map_or_else(|| "prior".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
