//! The enumerated posterior settings other than the objective: each is a serde value (its key in a
//! configuration) and a clap value (its flag), written with the same kebab-case names.

use pacbayes_nn::Mode;
use serde::{Deserialize, Serialize};

/// How SGD scales the steps of each coordinate: the setting `preconditioner` and the flag
/// `--preconditioner`, `kl` (default) or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preconditioner {
    /// Steps scaled by the inverse curvature of KL(Q‖P), normalized by the mean σ_P².
    #[default]
    Kl,
    /// One learning rate for every μ and ρ.
    None,
}

impl Preconditioner {
    /// The name used in settings and flags: `kl` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kl => "kl",
            Self::None => "none",
        }
    }
}

/// How the learning rate changes over the bound's training: the setting `learning_rate_schedule`
/// and the flag `--learning-rate-schedule`, `constant` (default) or `cosine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LearningRateSchedule {
    /// `learning_rate` at every step.
    #[default]
    Constant,
    /// Cosine annealing from `learning_rate` towards 0 over all the steps of `epochs`:
    /// $\eta_t = \tfrac{\eta}{2}\bigl(1 + \cos(\pi t / T)\bigr)$ at step $t \in [0, T)$.
    Cosine,
}

impl LearningRateSchedule {
    /// The name used in settings and flags: `constant` or `cosine`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine",
        }
    }

    /// The learning rate at step `t` (from 0) of `total` steps, starting from `base`.
    pub fn at(self, base: f64, t: usize, total: usize) -> f64 {
        match self {
            Self::Constant => base,
            Self::Cosine => {
                let progress = t as f64 / total.max(1) as f64;
                0.5 * base * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
            }
        }
    }
}

/// The optimizer's name: the setting `optimizer` and the flag `--optimizer`, `sgd` (default) or
/// `adam`. Its parameters come from other settings ([`Optimizer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// SGD with momentum.
    #[default]
    Sgd,
    /// Adam without weight decay.
    Adam,
}

impl OptimizerKind {
    /// The name used in settings and flags: `sgd` or `adam`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Adam => "adam",
        }
    }
}

/// Which examples Q is trained on: the setting `train_on` and the flag `--train-on`, `all`
/// (default) or `bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TrainOn {
    /// All of S (S_prior, validation slice and S_bound).
    #[default]
    All,
    /// S_bound only.
    Bound,
}

impl TrainOn {
    /// The name used in settings and flags: `all` or `bound`.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Bound => "bound",
        }
    }
}

/// The forward mode of training: the setting `mode` and the flag `--mode`, `local` (default) or
/// `sample`. The [`Mode`]s of the mean network are not ways to train Q.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TrainMode {
    /// The local reparameterization ([`Mode::Local`]).
    #[default]
    Local,
    /// One weight draw per step ([`Mode::Sample`]).
    Sample,
}

impl TrainMode {
    /// The name used in settings and flags: `local` or `sample`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Sample => "sample",
        }
    }
}

impl From<TrainMode> for Mode {
    fn from(mode: TrainMode) -> Self {
        match mode {
            TrainMode::Local => Mode::Local,
            TrainMode::Sample => Mode::Sample,
        }
    }
}

macro_rules! display_by_name {
    ($($t:ty),+) => {
        $(impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        })+
    };
}

display_by_name!(Preconditioner, LearningRateSchedule, OptimizerKind, TrainOn, TrainMode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cosine_schedule_anneals_from_the_base_rate_towards_zero() {
        let (base, total) = (0.01, 240);
        let constant: Vec<f64> =
            (0..total).map(|t| LearningRateSchedule::Constant.at(base, t, total)).collect();
        assert!(constant.iter().all(|&lr| (lr - base).abs() < 1e-15));
        let cosine: Vec<f64> = (0..total).map(|t| LearningRateSchedule::Cosine.at(base, t, total)).collect();
        assert!((cosine[0] - base).abs() < 1e-15);
        assert!((cosine[total / 2] - base / 2.0).abs() < 1e-12);
        assert!(cosine.windows(2).all(|w| w[1] < w[0]), "strictly decreasing");
        // The last step still moves, by about base·π²/(4T²).
        let last = cosine[total - 1];
        assert!(last > 0.0 && last < base * 1e-3, "{last}");
        // Past the end the rate stays at its floor, 0.
        assert!(LearningRateSchedule::Cosine.at(base, total + 5, total).abs() < 1e-15);
    }
}
