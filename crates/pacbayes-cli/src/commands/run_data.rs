//! What the later stages of a run read back from its folder: the prior, the architecture, and the
//! data split exactly as the prior recorded it (checked against its manifest).

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::Device;
use pacbayes_data::{Dataset, DatasetSpec, Split, SplitManifest, TabularOptions};
use pacbayes_nn::Architecture;
use pacbayes_prior::SavedPrior;

use crate::exit::UsageError;

/// A run folder's prior and data.
pub(crate) struct RunData {
    /// The prior, as saved by `pacbayes prior`.
    pub(crate) prior: SavedPrior,
    /// The architecture the prior was built for.
    pub(crate) architecture: Architecture,
    /// The training set split as the prior's manifest records it (verified).
    pub(crate) split: Split,
    /// The test set.
    pub(crate) test: Dataset,
}

/// Reads the prior in `run_dir` (its tensors on `device`), reloads its dataset and rebuilds the recorded split, checking every
/// hash and count of the manifest.
///
/// # Errors
/// A folder without a prior, a prior without a dataset or split, a dataset that cannot be loaded, or
/// a split that does not match its manifest.
pub(crate) fn load_run(run_dir: &Path, device: &Device) -> Result<RunData> {
    if !run_dir.join(pacbayes_prior::RECORD_FILE).exists() {
        return Err(UsageError(format!(
            "{}: no {} here; create the run folder with `pacbayes prior --out {}` first",
            run_dir.display(),
            pacbayes_prior::RECORD_FILE,
            run_dir.display()
        ))
        .into());
    }
    let prior = SavedPrior::load(run_dir, device)
        .with_context(|| format!("reading the prior in {}", run_dir.display()))?;
    let record = prior.record();
    let architecture: Architecture = record.architecture.parse()?;
    let missing = |what: &str| {
        UsageError(format!(
            "{}: prior.json records no {what}",
            run_dir.join(pacbayes_prior::RECORD_FILE).display()
        ))
    };
    if record.dataset.is_empty() {
        return Err(missing("dataset").into());
    }
    let manifest_value = record.split.clone().ok_or_else(|| missing("split"))?;
    let manifest: SplitManifest = serde_json::from_value(manifest_value).map_err(|e| {
        UsageError(format!("{}: split: {e}", run_dir.join(pacbayes_prior::RECORD_FILE).display()))
    })?;
    let spec: DatasetSpec = record.dataset.parse()?;
    let tabular = TabularOptions { label_column: record.label_column.clone(), ..TabularOptions::default() };
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
