//! Settings of a learnt prior, checked before use.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, ScaleChoice};

/// The prior's ERM step size of Pérez-Ortiz et al. (2021).
pub const PUBLISHED_LEARNING_RATE: f64 = 0.005;

/// The default ERM step size: on MNIST's FCN, 50 epochs with the other defaults, the validation
/// slice of S_prior (α = 0.5) reached 1.40% at 0.02, against 1.77% at the published
/// [`PUBLISHED_LEARNING_RATE`] and 1.47% at 0.05.
pub const DEFAULT_LEARNING_RATE: f64 = 0.02;

/// How the learning rate changes over the epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The same rate at every epoch (the reference code's schedule).
    Constant,
    /// Cosine decay from the base rate at epoch 1 towards 0 after the last epoch:
    /// $\eta_e = \tfrac12\eta\,(1 + \cos(\pi (e-1)/E))$.
    #[default]
    Cosine,
}

impl LrSchedule {
    /// The rate of `epoch` (from 1) of `epochs`, for base rate `base`.
    pub fn rate(self, base: f64, epoch: usize, epochs: usize) -> f64 {
        match self {
            LrSchedule::Constant => base,
            LrSchedule::Cosine => {
                let progress = (epoch.saturating_sub(1)) as f64 / epochs.max(1) as f64;
                0.5 * base * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

/// Settings for fitting a prior mean by empirical risk minimization, unchecked. Defaults follow
/// Pérez-Ortiz et al. (2021) — SGD with momentum 0.95, batch 250, dropout 0.2, σ₀ = 0.03 — with two
/// departures: a cosine learning-rate decay, and a base rate of 0.02 instead of the published
/// [`PUBLISHED_LEARNING_RATE`] (chosen on the validation slice of S_prior: see
/// `experiments/README.md`). The epoch of lowest validation error is kept (`patience` = 0: all
/// epochs run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LearntSettings {
    /// Maximum number of passes over S_prior.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// SGD step size (at the first epoch).
    pub learning_rate: f64,
    /// How the step size changes over the epochs.
    pub lr_schedule: LrSchedule,
    /// SGD momentum in [0, 1).
    pub momentum: f64,
    /// Dropout rate in [0, 1) after hidden layers.
    pub dropout: f64,
    /// Data augmentation: each training image is translated by up to this many pixels in each
    /// direction, drawn per image and epoch from the seed (0: none; images only).
    pub shift: usize,
    /// Data augmentation: each training image is mirrored left to right with probability ½, drawn
    /// per image and epoch from the seed (false: never; images only). With `shift` = 4 this is the
    /// random crop (padding 4) and flip of the CIFAR-10 reference training.
    pub flip: bool,
    /// Stop after this many epochs without a better validation error (0: never stop early).
    pub patience: usize,
    /// Seed of the initialization, the example order and the dropout masks.
    pub seed: u64,
    /// The prior scale.
    pub sigma0: f64,
    /// The grid σ₀ was chosen from (empty: σ₀ alone).
    pub scale_grid: Vec<f64>,
}

impl Default for LearntSettings {
    fn default() -> Self {
        Self {
            epochs: 70,
            batch_size: 250,
            learning_rate: DEFAULT_LEARNING_RATE,
            lr_schedule: LrSchedule::Cosine,
            momentum: 0.95,
            dropout: 0.2,
            shift: 0,
            flip: false,
            patience: 0,
            seed: 0,
            sigma0: 0.03,
            scale_grid: Vec::new(),
        }
    }
}

/// [`LearntSettings`] that passed [`LearntSettings::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSettings {
    settings: LearntSettings,
    scale: ScaleChoice,
}

impl LearntSettings {
    /// Checks every setting.
    ///
    /// # Errors
    /// The first setting outside its domain, named.
    pub fn check(self) -> Result<CheckedSettings> {
        let bad = |name: &'static str, value: String, expected: &'static str| {
            Err(Error::InvalidSetting { name, value, expected })
        };
        if self.epochs == 0 {
            return bad("epochs", "0".into(), "at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "0".into(), "at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", self.learning_rate.to_string(), "a finite positive number");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum", self.momentum.to_string(), "a number in [0, 1)");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout", self.dropout.to_string(), "a number in [0, 1)");
        }
        let scale = if self.scale_grid.is_empty() {
            ScaleChoice::fixed(self.sigma0)?
        } else {
            ScaleChoice::from_grid(self.sigma0, self.scale_grid.clone())?
        };
        Ok(CheckedSettings { settings: self, scale })
    }
}

impl CheckedSettings {
    /// The settings.
    pub fn settings(&self) -> &LearntSettings {
        &self.settings
    }

    /// σ₀ and its grid.
    pub fn scale(&self) -> &ScaleChoice {
        &self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_each_bad_setting_is_named() {
        assert!(LearntSettings::default().check().is_ok());
        let name = |s: LearntSettings| match s.check() {
            Err(Error::InvalidSetting { name, .. }) => name,
            other => panic!("expected a setting error, got {other:?}"),
        };
        let d = LearntSettings::default;
        assert_eq!(name(LearntSettings { epochs: 0, ..d() }), "epochs");
        assert_eq!(name(LearntSettings { batch_size: 0, ..d() }), "batch_size");
        assert_eq!(name(LearntSettings { learning_rate: f64::NAN, ..d() }), "learning_rate");
        assert_eq!(name(LearntSettings { momentum: 1.0, ..d() }), "momentum");
        assert_eq!(name(LearntSettings { dropout: -0.1, ..d() }), "dropout");
        assert_eq!(name(LearntSettings { sigma0: 0.0, ..d() }), "sigma0");
        assert_eq!(name(LearntSettings { scale_grid: vec![0.01], ..d() }), "sigma0");
    }
}
