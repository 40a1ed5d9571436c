//! Checkpoints of posterior training, saved and loaded through argmin's [`Checkpoint`] trait.
//!
//! A checkpoint folder holds `state.safetensors` (every μ and ρ under the names of
//! [`pacbayes_nn::Network::save_posterior`], and the optimizer's moments as `moments.{k}.{i}`) and
//! `state.json` (the number of steps done, the sums of the epoch in progress, the metrics of the
//! epochs done, and the settings). No generator state is needed: every draw is seeded from (seed,
//! epoch, step).
//!
//! A checkpoint is never half-written, and a process killed while it saves one leaves one to resume
//! from. The new folder is written as `{dir}.tmp` (its files synced), the previous one renamed to
//! `{dir}.old`, the new one renamed into place, and only then is `{dir}.old` removed: `{dir}` exists
//! only as a whole checkpoint, and when it is missing `{dir}.old` is whole (a kill between the two
//! renames), so resuming takes it back. A leftover `{dir}.tmp` is never read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use argmin::core::checkpointing::{Checkpoint, CheckpointingFrequency};
use argmin::core::{Error as ArgminError, State};
use candle_core::{Device, Tensor, Var};
use pacbayes_nn::Network;
use serde::{Deserialize, Serialize};

use crate::metrics::{EpochMetrics, temporary};
use crate::settings::PosteriorSettings;
use crate::solver::{EpochSums, MinibatchSolver, PosteriorState};
use crate::{Error, Result};

/// The tensors file of a checkpoint folder.
pub const CHECKPOINT_TENSORS: &str = "state.safetensors";
/// The JSON file of a checkpoint folder.
pub const CHECKPOINT_STATE: &str = "state.json";

/// What `state.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// Minibatch steps done.
    pub steps_done: u64,
    /// The sums of the epoch in progress.
    pub sums: EpochSums,
    /// The metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// How many lists of moments the optimizer keeps (0 before the first step).
    pub moment_lists: usize,
    /// The settings of the run.
    pub settings: PosteriorSettings,
}

/// A checkpoint folder for one network's training.
pub struct CheckpointDir {
    dir: PathBuf,
    vars: Vec<(String, Var)>,
    template: MinibatchSolver,
    settings: PosteriorSettings,
    max_iters: u64,
    resume: bool,
    every: u64,
}

impl CheckpointDir {
    /// Checkpoints of `net` in `dir`, every `every` steps (argmin's frequency), restoring from
    /// `dir` at the start when `resume` is set. `template` is the solver a restored state is put
    /// into; `max_iters` the step budget of the resumed run.
    pub(crate) fn new(
        dir: &Path,
        net: &Network,
        template: MinibatchSolver,
        settings: &PosteriorSettings,
        max_iters: u64,
        resume: bool,
        every: u64,
    ) -> Self {
        let mut vars = Vec::new();
        for p in net.params() {
            vars.push((format!("{}.mu", p.name()), p.mu().clone()));
            vars.push((format!("{}.rho", p.name()), p.rho().clone()));
        }
        Self { dir: dir.to_path_buf(), vars, template, settings: settings.clone(), max_iters, resume, every }
    }

    fn write(&self, solver: &MinibatchSolver, steps_done: u64) -> Result<()> {
        let tmp = temporary(&self.dir);
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(Error::io(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(Error::io(&tmp))?;
        let written = self.write_into(&tmp, solver, steps_done);
        if written.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        written?;
        recover(&self.dir)?;
        let old = aside(&self.dir);
        if self.dir.exists() {
            std::fs::rename(&self.dir, &old).map_err(Error::io(&self.dir))?;
        }
        pacbayes_nn::atomic::rename(&tmp, &self.dir).map_err(Error::io(&self.dir))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(Error::io(&old))?;
        }
        Ok(())
    }

    /// The checkpoint's files, synced, in the folder `tmp`.
    fn write_into(&self, tmp: &Path, solver: &MinibatchSolver, steps_done: u64) -> Result<()> {
        let mut tensors: HashMap<String, Tensor> =
            self.vars.iter().map(|(name, v)| (name.clone(), v.as_tensor().clone())).collect();
        for (k, list) in solver.moments().iter().enumerate() {
            for (i, t) in list.iter().enumerate() {
                tensors.insert(format!("moments.{k}.{i}"), t.clone());
            }
        }
        let path = tmp.join(CHECKPOINT_TENSORS);
        let bytes = safetensors::serialize(tensors, None).map_err(candle_core::Error::from)?;
        std::fs::write(&path, bytes).map_err(Error::io(&path))?;
        pacbayes_nn::atomic::sync_file(&path).map_err(Error::io(&path))?;
        let record = CheckpointRecord {
            steps_done,
            sums: solver.epoch_sums().clone(),
            history: solver.history().to_vec(),
            moment_lists: solver.moments().len(),
            settings: self.settings.clone(),
        };
        let path = tmp.join(CHECKPOINT_STATE);
        let text = serde_json::to_string_pretty(&record)
            .map_err(|source| Error::Json { path: path.clone(), source })?;
        std::fs::write(&path, text).map_err(Error::io(&path))?;
        pacbayes_nn::atomic::sync_file(&path).map_err(Error::io(&path))?;
        pacbayes_nn::atomic::sync_folder(tmp).map_err(Error::io(tmp))
    }

    /// Saves the state after `state`'s steps (what the executor does every `every` steps; training
    /// also calls it once when it stops).
    pub(crate) fn save_now(&self, solver: &MinibatchSolver, state: &PosteriorState) -> Result<()> {
        self.write(solver, state.get_iter())
    }

    fn read(&self) -> Result<(MinibatchSolver, PosteriorState)> {
        let resume = |reason: String| Error::Resume { path: self.dir.clone(), reason };
        recover(&self.dir)?;
        let path = self.dir.join(CHECKPOINT_STATE);
        if !path.is_file() {
            return Err(resume(format!("no {CHECKPOINT_STATE}: nothing to resume from")));
        }
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        let record: CheckpointRecord =
            serde_json::from_str(&text).map_err(|source| Error::Json { path: path.clone(), source })?;
        if let Some(name) = differing_setting(&record.settings, &self.settings) {
            return Err(resume(format!(
                "setting {name} differs from the checkpoint's (only epochs and max_seconds may change)"
            )));
        }
        let mut tensors = candle_core::safetensors::load(self.dir.join(CHECKPOINT_TENSORS), &Device::Cpu)?;
        let mut take = |name: &str, like: &Tensor| -> Result<Tensor> {
            let t = tensors.remove(name).ok_or_else(|| resume(format!("tensor {name} is missing")))?;
            if t.dims() != like.dims() {
                return Err(resume(format!(
                    "tensor {name} has shape {:?}, expected {:?}",
                    t.dims(),
                    like.dims()
                )));
            }
            Ok(t)
        };
        let mut restored = Vec::with_capacity(self.vars.len());
        for (name, var) in &self.vars {
            restored.push(take(name, var.as_tensor())?);
        }
        let mut moments = Vec::with_capacity(record.moment_lists);
        let (mus, rhos): (Vec<_>, Vec<_>) = self.vars.iter().partition(|(n, _)| n.ends_with(".mu"));
        let order: Vec<&Var> = mus.iter().chain(&rhos).map(|(_, v)| v).collect();
        for k in 0..record.moment_lists {
            let list = order
                .iter()
                .enumerate()
                .map(|(i, v)| take(&format!("moments.{k}.{i}"), v.as_tensor()))
                .collect::<Result<Vec<_>>>()?;
            moments.push(list);
        }
        for ((_, var), t) in self.vars.iter().zip(restored) {
            var.set(&t)?;
        }
        let mut solver = self.template.clone();
        solver.restore(moments, record.sums, record.history);
        let mut state = PosteriorState::new().max_iters(self.max_iters);
        for _ in 0..record.steps_done {
            state.increment_iter();
        }
        Ok((solver, state))
    }
}

/// Where the previous checkpoint is while the new one is renamed into place.
fn aside(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".old");
    dir.with_file_name(name)
}

/// Puts back the state a kill during [`CheckpointDir::write`] may have left: a missing `dir` beside a
/// whole `{dir}.old` (killed between the two renames) takes it back; a `{dir}.old` beside `dir`
/// (killed before it was removed) is removed.
fn recover(dir: &Path) -> Result<()> {
    let old = aside(dir);
    if !old.exists() {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(&old).map_err(Error::io(&old))
    } else {
        pacbayes_nn::atomic::rename(&old, dir).map_err(Error::io(dir))
    }
}

/// The first setting, other than `epochs` and `max_seconds`, in which two settings differ.
fn differing_setting(a: &PosteriorSettings, b: &PosteriorSettings) -> Option<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return Some("(unreadable settings)".into());
    };
    a.iter()
        .find(|(k, v)| !matches!(k.as_str(), "epochs" | "max_seconds") && b.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
}

impl Checkpoint<MinibatchSolver, PosteriorState> for CheckpointDir {
    fn save(&self, solver: &MinibatchSolver, state: &PosteriorState) -> std::result::Result<(), ArgminError> {
        Ok(self.save_now(solver, state)?)
    }

    fn load(&self) -> std::result::Result<Option<(MinibatchSolver, PosteriorState)>, ArgminError> {
        if self.resume { Ok(Some(self.read()?)) } else { Ok(None) }
    }

    fn frequency(&self) -> CheckpointingFrequency {
        CheckpointingFrequency::Every(self.every)
    }
}
