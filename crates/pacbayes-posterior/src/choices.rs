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

display_by_name!(Preconditioner, OptimizerKind, TrainOn, TrainMode);
