//! `timings.json`: the wall-clock times of a run folder's stages, the one file of a run that
//! records the clock.
//!
//! Every other file of a run (weights, records, metrics, certificate, tables) holds only what the
//! computation determines, so that the same computation gives the same bytes: a resumed run ends
//! with the files of an uninterrupted one, and two runs can be compared by their hashes. The times
//! go here instead, one object per stage:
//!
//! ```json
//! { "prior": { "seconds": 61.2, "epoch_seconds": [1.3, 2.5] },
//!   "posterior": { "seconds": 93.0, "epoch_seconds": [5.5, 29.4, 58.1, 87.0] },
//!   "certificate": { "emp_risk": 42.1, "test": 28.8, "total": 75.7 } }
//! ```
//!
//! `checkpoint/` (the working state of an unfinished posterior) keeps its own times as well.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

/// The file's name inside a run folder.
pub(crate) const TIMINGS_FILE: &str = "timings.json";

/// The times recorded in `run_dir`, or an empty object when there are none (a run of an earlier
/// version, or a stage not run yet).
pub(crate) fn read(run_dir: &Path) -> Map<String, Value> {
    std::fs::read_to_string(run_dir.join(TIMINGS_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// The total seconds of `stage` (`prior`, `posterior`; `certificate` has `total`).
pub(crate) fn seconds(run_dir: &Path, stage: &str) -> Option<f64> {
    let key = if stage == "certificate" { "total" } else { "seconds" };
    read(run_dir).get(stage)?.get(key)?.as_f64()
}

/// Records `times` as the entry of `stage`, keeping the other stages' entries; written through a
/// temporary sibling synced and renamed into place.
///
/// # Errors
/// The file cannot be written.
pub(crate) fn record(run_dir: &Path, stage: &str, times: Value) -> Result<()> {
    let path = run_dir.join(TIMINGS_FILE);
    let text = text(read(run_dir), stage, times)?;
    pacbayes_nn::atomic::write(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// The file's text with `times` as the entry of `stage` beside the entries of `all`.
pub(crate) fn text(mut all: Map<String, Value>, stage: &str, times: Value) -> Result<String> {
    all.insert(stage.to_owned(), times);
    Ok(serde_json::to_string_pretty(&Value::Object(all))?)
}

/// The entry of a stage trained epoch by epoch.
pub(crate) fn stage(seconds: f64, epoch_seconds: Vec<f64>) -> Value {
    serde_json::json!({ "seconds": seconds, "epoch_seconds": epoch_seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_kept_side_by_side() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).is_empty() && seconds(dir.path(), "prior").is_none());
        record(dir.path(), "prior", stage(2.5, vec![1.0, 2.5])).unwrap();
        record(dir.path(), "certificate", serde_json::json!({ "total": 4.0 })).unwrap();
        record(dir.path(), "prior", stage(3.5, vec![3.5])).unwrap();
        assert!(seconds(dir.path(), "prior").is_some_and(|s| (s - 3.5).abs() < 1e-12));
        assert!(seconds(dir.path(), "certificate").is_some_and(|s| (s - 4.0).abs() < 1e-12));
        assert_eq!(read(dir.path()).len(), 2);
    }
}
