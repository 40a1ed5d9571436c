//! Settings of posterior training, checked before use.

use pacbayes_nn::Mode;
use serde::{Deserialize, Serialize};

use crate::choices::{LearningRateSchedule, OptimizerKind, Preconditioner, TrainMode, TrainOn};
use crate::objective::{Objective, ObjectiveKind};
use crate::{Error, Result};

/// Settings for training a posterior, unchecked (as read from a configuration file). Defaults follow
/// Pérez-Ortiz et al. (2021) for MNIST: the f-quad objective, SGD with learning rate 0.001 and
/// momentum 0.95, batch 250, δ = 0.025, p_min = 10⁻⁵, 100 epochs, local reparameterization, trained on
/// all of S.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosteriorSettings {
    /// The training objective: `f-classic`, `f-quad` (default), `f-lambda`, `f-kl` or `bbb`.
    pub objective: ObjectiveKind,
    /// `sgd` (default; with momentum, as PyTorch does it) or `adam` (no weight decay).
    pub optimizer: OptimizerKind,
    /// Passes over the training data (default 100).
    pub epochs: usize,
    /// Step size (default 0.001).
    pub learning_rate: f64,
    /// `constant` (default) or `cosine`: annealing of `learning_rate` towards 0 over `epochs`. The
    /// warm-up keeps its own rate constant. A run resumed with another `epochs` continues on the
    /// schedule of the new count from the step it reached.
    pub learning_rate_schedule: LearningRateSchedule,
    /// SGD momentum in [0, 1) (default 0.95).
    pub momentum: f64,
    /// Adam's β₁ in [0, 1) (default 0.9).
    pub adam_beta1: f64,
    /// Adam's β₂ in [0, 1) (default 0.999).
    pub adam_beta2: f64,
    /// Adam's ε > 0 (default 10⁻⁸).
    pub adam_epsilon: f64,
    /// Examples per step (default 250).
    pub batch_size: usize,
    /// The δ of the bound the objective stands for, in (0, 1) (default 0.025).
    pub delta: f64,
    /// The floor p_min of the bounded cross-entropy, in (0, 1) (default 10⁻⁵).
    pub p_min: f64,
    /// The weight β of the KL in `bbb` (default 1), finite and ≥ 0.
    pub beta: f64,
    /// `all` (default: all of S) or `bound` (S_bound only).
    pub train_on: TrainOn,
    /// `local` (default: local reparameterization) or `sample` (one weight draw per step).
    pub mode: TrainMode,
    /// Seed of the example order and of every noise draw (default 0).
    pub seed: u64,
    /// A wall-time budget in seconds for one run (default: none), finite and > 0.
    pub max_seconds: Option<f64>,
    /// Epochs of empirical risk minimization of the mean network before the bound is minimized
    /// (default 0: Q starts at the prior). With a data-free prior centred at a random
    /// initialization, Q's mean then starts at an SGD solution on the training data, as in
    /// Dziugaite & Roy (2017); ρ stays at the prior's. The bound holds all the same: Q may depend
    /// on all of S. A resumed run does not warm up again: it continues from its checkpoint, which
    /// is written by the bound's training only.
    pub warmup_epochs: usize,
    /// Step size of the warm-up: SGD with `momentum` on the bounded cross-entropy (default 0.1).
    pub warmup_learning_rate: f64,
    /// Draw the same noise at every step (default false): the objective becomes a deterministic
    /// function of (μ, ρ), for full-batch solvers such as L-BFGS.
    pub fixed_noise: bool,
    /// How SGD scales the steps of each coordinate: `kl` (default) preconditions by the inverse
    /// curvature of KL(Q‖P), normalized so that the μ steps of a prior with one scale are the plain
    /// steps (see [`pacbayes_nn::kl_preconditioned_momentum`]); `none` takes one learning rate for
    /// every μ and ρ, as Pérez-Ortiz et al. (2021) do, whose ρ updates are then lost to the f32
    /// rounding of ρ for a narrow prior. Adam, which rescales every coordinate itself, ignores it.
    pub preconditioner: Preconditioner,
}

impl Default for PosteriorSettings {
    fn default() -> Self {
        Self {
            objective: ObjectiveKind::FQuad,
            optimizer: OptimizerKind::Sgd,
            epochs: 100,
            learning_rate: 0.001,
            learning_rate_schedule: LearningRateSchedule::Constant,
            momentum: 0.95,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            batch_size: 250,
            delta: 0.025,
            p_min: 1e-5,
            beta: 1.0,
            train_on: TrainOn::All,
            mode: TrainMode::Local,
            seed: 0,
            max_seconds: None,
            warmup_epochs: 0,
            warmup_learning_rate: 0.1,
            fixed_noise: false,
            preconditioner: Preconditioner::Kl,
        }
    }
}

/// The optimizer of the minibatch solver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// SGD with momentum: v ← m·v + g, w ← w − lr·v.
    Sgd {
        /// The momentum m.
        momentum: f64,
    },
    /// Adam without weight decay.
    Adam {
        /// β₁.
        beta1: f64,
        /// β₂.
        beta2: f64,
        /// ε.
        epsilon: f64,
    },
}

/// [`PosteriorSettings`] that passed [`PosteriorSettings::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSettings {
    settings: PosteriorSettings,
    objective: Objective,
    optimizer: Optimizer,
    train_on: TrainOn,
    mode: Mode,
    preconditioner: Preconditioner,
}

fn bad<T>(name: &'static str, value: impl ToString, expected: &'static str) -> Result<T> {
    Err(Error::InvalidSetting { name, value: value.to_string(), expected })
}

fn unit(name: &'static str, x: f64, open_left: bool) -> Result<()> {
    let ok = if open_left { x > 0.0 && x < 1.0 } else { (0.0..1.0).contains(&x) };
    match (ok, open_left) {
        (true, _) => Ok(()),
        (false, true) => bad(name, x, "a number in (0, 1)"),
        (false, false) => bad(name, x, "a number in [0, 1)"),
    }
}

impl PosteriorSettings {
    /// Checks every setting.
    ///
    /// # Errors
    /// The first setting outside its domain, named.
    pub fn check(self) -> Result<CheckedSettings> {
        let objective = Objective::new(self.objective, self.beta);
        if !(self.beta >= 0.0 && self.beta.is_finite()) {
            return bad("beta", self.beta, "a finite number >= 0");
        }
        let optimizer = match self.optimizer {
            OptimizerKind::Sgd => Optimizer::Sgd { momentum: self.momentum },
            OptimizerKind::Adam => {
                Optimizer::Adam { beta1: self.adam_beta1, beta2: self.adam_beta2, epsilon: self.adam_epsilon }
            }
        };
        if self.epochs == 0 {
            return bad("epochs", 0, "at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", 0, "at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", self.learning_rate, "a finite number > 0");
        }
        unit("momentum", self.momentum, false)?;
        unit("adam_beta1", self.adam_beta1, false)?;
        unit("adam_beta2", self.adam_beta2, false)?;
        if !(self.adam_epsilon > 0.0 && self.adam_epsilon.is_finite()) {
            return bad("adam_epsilon", self.adam_epsilon, "a finite number > 0");
        }
        unit("delta", self.delta, true)?;
        unit("p_min", self.p_min, true)?;
        if !(self.warmup_learning_rate > 0.0 && self.warmup_learning_rate.is_finite()) {
            return bad("warmup_learning_rate", self.warmup_learning_rate, "a finite number > 0");
        }
        if let Some(s) = self.max_seconds
            && !(s > 0.0 && s.is_finite())
        {
            return bad("max_seconds", s, "a finite number of seconds > 0");
        }
        Ok(CheckedSettings {
            objective,
            optimizer,
            train_on: self.train_on,
            mode: self.mode.into(),
            preconditioner: self.preconditioner,
            settings: self,
        })
    }
}

impl CheckedSettings {
    /// The settings as given.
    pub fn settings(&self) -> &PosteriorSettings {
        &self.settings
    }

    /// The training objective.
    pub fn objective(&self) -> &Objective {
        &self.objective
    }

    /// The optimizer.
    pub fn optimizer(&self) -> Optimizer {
        self.optimizer
    }

    /// Which examples Q is trained on.
    pub fn train_on(&self) -> TrainOn {
        self.train_on
    }

    /// The forward mode of training.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// How SGD scales the steps of each coordinate.
    pub fn preconditioner(&self) -> Preconditioner {
        self.preconditioner
    }

    /// The settings of the warm-up, if there is one: `warmup_epochs` of SGD with momentum on the
    /// bounded cross-entropy of the mean network (the `bbb` objective with β = 0), at
    /// `warmup_learning_rate`, with the same batches, seed and data.
    pub fn warmup(&self) -> Option<CheckedSettings> {
        let s = &self.settings;
        if s.warmup_epochs == 0 {
            return None;
        }
        // The `mode` setting stays that of the bound's training: the warm-up's, the mean network
        // (`Mode::Mean`), is not a setting's value.
        let settings = PosteriorSettings {
            objective: ObjectiveKind::Bbb,
            optimizer: OptimizerKind::Sgd,
            preconditioner: Preconditioner::None,
            epochs: s.warmup_epochs,
            learning_rate: s.warmup_learning_rate,
            learning_rate_schedule: LearningRateSchedule::Constant,
            beta: 0.0,
            warmup_epochs: 0,
            max_seconds: None,
            fixed_noise: false,
            ..s.clone()
        };
        Some(CheckedSettings {
            objective: Objective::new(ObjectiveKind::Bbb, 0.0),
            optimizer: Optimizer::Sgd { momentum: s.momentum },
            train_on: self.train_on,
            mode: Mode::Mean,
            preconditioner: Preconditioner::None,
            settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_each_bad_setting_is_named() {
        assert!(PosteriorSettings::default().check().is_ok());
        let name = |s: PosteriorSettings| match s.check() {
            Err(Error::InvalidSetting { name, .. }) => name,
            other => panic!("expected a setting error, got {other:?}"),
        };
        let d = PosteriorSettings::default;
        assert_eq!(name(PosteriorSettings { epochs: 0, ..d() }), "epochs");
        assert_eq!(name(PosteriorSettings { batch_size: 0, ..d() }), "batch_size");
        assert_eq!(name(PosteriorSettings { learning_rate: f64::NAN, ..d() }), "learning_rate");
        assert_eq!(name(PosteriorSettings { momentum: 1.0, ..d() }), "momentum");
        assert_eq!(name(PosteriorSettings { adam_beta2: -0.1, ..d() }), "adam_beta2");
        assert_eq!(name(PosteriorSettings { adam_epsilon: 0.0, ..d() }), "adam_epsilon");
        assert_eq!(name(PosteriorSettings { delta: 1.0, ..d() }), "delta");
        assert_eq!(name(PosteriorSettings { delta: 0.0, ..d() }), "delta");
        assert_eq!(name(PosteriorSettings { p_min: f64::NAN, ..d() }), "p_min");
        assert_eq!(name(PosteriorSettings { beta: -1.0, ..d() }), "beta");
        assert_eq!(name(PosteriorSettings { max_seconds: Some(0.0), ..d() }), "max_seconds");
    }

    /// The names of a flag's values, and those of the setting.
    fn names<T: clap::ValueEnum + Serialize>() -> Vec<(String, String)> {
        T::value_variants()
            .iter()
            .map(|v| {
                let flag = v.to_possible_value().expect("a named value").get_name().to_owned();
                let key = serde_json::to_value(v).expect("serializes").as_str().expect("a string").to_owned();
                (flag, key)
            })
            .collect()
    }

    #[test]
    fn flags_and_settings_name_the_same_values() {
        let all = [
            names::<ObjectiveKind>(),
            names::<OptimizerKind>(),
            names::<TrainOn>(),
            names::<TrainMode>(),
            names::<Preconditioner>(),
            names::<LearningRateSchedule>(),
        ];
        for (flag, key) in all.iter().flatten() {
            assert_eq!(flag, key);
        }
        let keys = |i: usize| all[i].iter().map(|(_, key)| key.as_str()).collect::<Vec<_>>();
        assert_eq!(keys(0), ["f-classic", "f-quad", "f-lambda", "f-kl", "bbb"]);
        assert_eq!(keys(1), ["sgd", "adam"]);
        assert_eq!(keys(2), ["all", "bound"]);
        assert_eq!(keys(3), ["local", "sample"]);
        assert_eq!(keys(4), ["kl", "none"]);
        assert_eq!(keys(5), ["constant", "cosine"]);
        // Display writes the same names.
        let shown = [
            ObjectiveKind::FKl.to_string(),
            OptimizerKind::Adam.to_string(),
            TrainOn::Bound.to_string(),
            TrainMode::Sample.to_string(),
            Preconditioner::None.to_string(),
        ];
        assert_eq!(shown, ["f-kl", "adam", "bound", "sample", "none"]);
        // A value that is not a setting's is refused when read, with the names that are.
        let mean = serde_json::from_str::<PosteriorSettings>(r#"{"mode": "mean"}"#).unwrap_err().to_string();
        assert!(mean.contains("local") && mean.contains("sample"), "{mean}");
        let written = serde_json::to_value(PosteriorSettings::default()).unwrap();
        assert_eq!(
            ["objective", "optimizer", "train_on", "mode", "preconditioner"].map(|k| written[k].clone()),
            ["f-quad", "sgd", "all", "local", "kl"]
        );
    }

    #[test]
    fn every_train_mode_is_its_forward_mode() {
        assert_eq!(Mode::from(TrainMode::Local), Mode::Local);
        assert_eq!(Mode::from(TrainMode::Sample), Mode::Sample);
        let sample = PosteriorSettings { mode: TrainMode::Sample, ..PosteriorSettings::default() };
        assert_eq!(sample.check().unwrap().mode(), Mode::Sample);
    }
}
