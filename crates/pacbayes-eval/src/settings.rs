//! The settings of a certification, checked before any draw is made.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The number of effective draws the default fast protocol aims at: k = ⌈10⁶ / n⌉ repetitions.
pub const DEFAULT_FAST_DRAWS: u64 = 1_000_000;

/// How the empirical Gibbs risk of Q on S_bound is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// An independent weight draw for every (example, repetition) pair; the Monte Carlo term is
    /// paid on k·n draws (see [`crate::estimate_fast`]).
    #[default]
    Fast,
    /// m whole networks drawn from Q, each evaluated on all of S_bound; the Monte Carlo term is
    /// paid on m draws (see [`crate::estimate_classic`]).
    Classic,
}

impl Protocol {
    /// `fast` or `classic`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Fast => "fast",
            Self::Classic => "classic",
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "fast" => Ok(Self::Fast),
            "classic" => Ok(Self::Classic),
            other => Err(Error::InvalidSetting {
                name: "protocol",
                value: other.to_owned(),
                expected: "fast or classic",
            }),
        }
    }
}

/// Every setting of a certification, unchecked (as read from a file or flags); [`check`] it.
///
/// [`check`]: CertifySettings::check
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CertifySettings {
    /// The protocol (default `fast`).
    pub protocol: Protocol,
    /// k, the repetitions of the fast protocol (default ⌈10⁶ / n⌉).
    pub repetitions: Option<u64>,
    /// m, the weight draws of the classic protocol (default 1,000).
    pub draws: u64,
    /// δ of the PAC-Bayes bound, in (0, 1) (default 0.025).
    pub delta: f64,
    /// δ′ of the Monte Carlo term, in (0, 1) (default 0.01).
    pub delta_mc: f64,
    /// p_min of the bounded cross-entropy, in (0, 1) (default 10⁻⁵).
    pub p_min: f64,
    /// Seed of every draw (default 0).
    pub seed: u64,
    /// Examples per forward pass (default 1,000).
    pub batch_size: usize,
    /// Networks drawn for the ensemble's test error (default 100).
    pub ensemble_size: usize,
    /// K, the number of configurations (posterior hyper-parameters, checkpoints, ...) this run was
    /// chosen among after comparing their certificates: ln K nats are paid (default 1: nothing).
    pub configurations: u64,
    /// α of the Rényi form of the disintegrated certificate, finite and > 1 (default 2).
    pub renyi_alpha: f64,
}

impl Default for CertifySettings {
    fn default() -> Self {
        Self {
            protocol: Protocol::Fast,
            repetitions: None,
            draws: 1_000,
            delta: 0.025,
            delta_mc: 0.01,
            p_min: 1e-5,
            seed: 0,
            batch_size: 1_000,
            ensemble_size: 100,
            configurations: 1,
            renyi_alpha: 2.0,
        }
    }
}

fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> Error {
    Error::InvalidSetting { name, value: value.to_string(), expected }
}

fn open_unit(name: &'static str, x: f64) -> Result<f64> {
    if x > 0.0 && x < 1.0 { Ok(x) } else { Err(invalid(name, x, "a number in (0, 1)")) }
}

impl CertifySettings {
    /// Checks every setting.
    ///
    /// # Errors
    /// δ, δ′ or p_min outside (0, 1) (NaN included), δ + δ′ ≥ 1, a count of zero, or a Rényi
    /// order that is not finite and > 1.
    pub fn check(&self) -> Result<CheckedSettings> {
        open_unit("delta", self.delta)?;
        open_unit("delta_mc", self.delta_mc)?;
        open_unit("p_min", self.p_min)?;
        if self.delta + self.delta_mc >= 1.0 {
            return Err(invalid("delta + delta_mc", self.delta + self.delta_mc, "a total below 1"));
        }
        if !(self.renyi_alpha > 1.0 && self.renyi_alpha.is_finite()) {
            return Err(invalid("renyi_alpha", self.renyi_alpha, "a finite number > 1"));
        }
        if self.repetitions == Some(0) {
            return Err(invalid("repetitions", 0, "a whole number >= 1"));
        }
        for (name, value) in [
            ("draws", self.draws),
            ("batch_size", self.batch_size as u64),
            ("ensemble_size", self.ensemble_size as u64),
            ("configurations", self.configurations),
        ] {
            if value == 0 {
                return Err(invalid(name, 0, "a whole number >= 1"));
            }
        }
        Ok(CheckedSettings(self.clone()))
    }
}

/// Settings that passed [`CertifySettings::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSettings(CertifySettings);

impl CheckedSettings {
    /// The settings.
    pub fn settings(&self) -> &CertifySettings {
        &self.0
    }

    /// k for a bound set of `n` examples: the setting, or ⌈10⁶ / n⌉.
    pub fn repetitions_for(&self, n: u64) -> u64 {
        self.0.repetitions.unwrap_or_else(|| DEFAULT_FAST_DRAWS.div_ceil(n.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let name = |s: CertifySettings| match s.check() {
            Err(Error::InvalidSetting { name, .. }) => name,
            other => panic!("expected an error, got {other:?}"),
        };
        let d = CertifySettings::default;
        assert_eq!(name(CertifySettings { delta: 0.0, ..d() }), "delta");
        assert_eq!(name(CertifySettings { delta: f64::NAN, ..d() }), "delta");
        assert_eq!(name(CertifySettings { delta_mc: 1.0, ..d() }), "delta_mc");
        assert_eq!(name(CertifySettings { p_min: 0.0, ..d() }), "p_min");
        assert_eq!(name(CertifySettings { delta: 0.6, delta_mc: 0.5, ..d() }), "delta + delta_mc");
        assert_eq!(name(CertifySettings { repetitions: Some(0), ..d() }), "repetitions");
        assert_eq!(name(CertifySettings { draws: 0, ..d() }), "draws");
        assert_eq!(name(CertifySettings { ensemble_size: 0, ..d() }), "ensemble_size");
        assert_eq!(name(CertifySettings { renyi_alpha: 1.0, ..d() }), "renyi_alpha");
        assert_eq!(name(CertifySettings { renyi_alpha: f64::INFINITY, ..d() }), "renyi_alpha");
        let checked = d().check().unwrap();
        assert_eq!(checked.repetitions_for(30_000), 34);
        assert_eq!(checked.repetitions_for(1_000_000), 1);
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(serde_json::from_str::<CertifySettings>(r#"{"delta": 0.05, "deltaa": 1}"#).is_err());
        let s: CertifySettings = serde_json::from_str(r#"{"protocol": "classic", "draws": 7}"#).unwrap();
        assert_eq!((s.protocol, s.draws), (Protocol::Classic, 7));
    }
}
