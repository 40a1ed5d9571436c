//! Settings of a learnt prior, checked before use.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, ScaleChoice};

/// Settings for fitting a prior mean by empirical risk minimization, unchecked. Defaults follow
/// Pérez-Ortiz et al. (2021): SGD with learning rate 0.005 and momentum 0.95, batch 250, dropout
/// 0.2, σ₀ = 0.03.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LearntSettings {
    /// Maximum number of passes over S_prior.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// SGD step size.
    pub learning_rate: f64,
    /// SGD momentum in [0, 1).
    pub momentum: f64,
    /// Dropout rate in [0, 1) after hidden layers.
    pub dropout: f64,
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
            learning_rate: 0.005,
            momentum: 0.95,
            dropout: 0.2,
            patience: 10,
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
