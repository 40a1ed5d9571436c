//! What the later stages of a run read back from its folder: the prior, the architecture, and the
//! data split exactly as the prior recorded it (checked against its manifest).

use candle_core::Device;
use pacbayes_data::{Dataset, DatasetSpec, Split, SplitManifest, TabularOptions};
use pacbayes_nn::Architecture;
use pacbayes_prior::SavedPrior;

use crate::error::{Context as _, Error, Result};
use crate::run_dir::RunDir;

/// A run folder's prior and data.
pub struct RunData {
    /// The prior, as saved by [`crate::fit_prior`].
    pub prior: SavedPrior,
    /// The architecture the prior was built for.
    pub architecture: Architecture,
    /// The training set split as the prior's manifest records it (verified).
    pub split: Split,
    /// The test set.
    pub test: Dataset,
}

impl RunDir {
    /// Reads the prior of the run (its tensors on `device`), reloads its dataset and rebuilds the
    /// recorded split, checking every hash and count of the manifest.
    ///
    /// # Errors
    /// A folder without a prior, a prior without a dataset or split, a dataset that cannot be
    /// loaded, or a split that does not match its manifest.
    pub fn load(&self, device: &Device) -> Result<RunData> {
        let run_dir = self.path();
        if !self.prior_record().exists() {
            return Err(Error::invalid(format!(
                "{}: no {} here; create the run folder with `pacbayes prior --out {}` first",
                run_dir.display(),
                pacbayes_prior::RECORD_FILE,
                run_dir.display()
            )));
        }
        let prior = SavedPrior::load(run_dir, device)
            .with_context(|| format!("reading the prior in {}", run_dir.display()))?;
        let record = prior.record();
        let architecture: Architecture = record.architecture.parse()?;
        let missing = |what: &str| {
            Error::invalid(format!("{}: prior.json records no {what}", self.prior_record().display()))
        };
        if record.dataset.is_empty() {
            return Err(missing("dataset"));
        }
        let manifest_value = record.split.clone().ok_or_else(|| missing("split"))?;
        let manifest: SplitManifest = serde_json::from_value(manifest_value)
            .map_err(|e| Error::invalid(format!("{}: split: {e}", self.prior_record().display())))?;
        let spec: DatasetSpec = record.dataset.parse()?;
        let tabular =
            TabularOptions { label_column: record.label_column.clone(), ..TabularOptions::default() };
        let data = spec.load(&tabular)?;
        let mut split = manifest
            .verify(data.train)
            .with_context(|| format!("checking the split recorded in {}", run_dir.display()))?;
        let mut test = data.test;
        // The same per-channel normalization as the prior's: fitted on the prior side alone.
        if spec.normalizes_channels() {
            split.normalize_channels(&mut test)?;
        }
        Ok(RunData { prior, architecture, split, test })
    }
}
