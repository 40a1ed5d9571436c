//! The settings of the prior stage, as in the `[prior]` table of a run configuration.

use std::path::PathBuf;

use pacbayes_data::{DatasetSpec, SplitConfig};
use pacbayes_nn::{Architecture, Family};
use pacbayes_prior::{LearntSettings, LrSchedule, ScaleChoice, ScaleFamily};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The prior scales of Pérez-Ortiz et al. (2021). A σ₀ chosen from them after looking at
/// certificates is paid for with ln 7 nats.
pub const PUBLISHED_SCALE_GRID: [f64; 7] = [0.1, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005];

/// Every setting of `pacbayes prior`, as in a TOML configuration file; flags override it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriorConfig {
    /// mnist, binary-mnist, fashion-mnist, cifar10:DIR, idx:DIR, csv:FILE or parquet:FILE.
    pub dataset: String,
    /// The label column of a table.
    pub label_column: String,
    /// fcn, cnn, fcn-binary, cnn9, cnn13, cnn15 or linear.
    pub architecture: String,
    /// learnt, data-free or from-file.
    pub kind: PriorKind,
    /// The checkpoint of a from-file prior.
    pub from: Option<PathBuf>,
    /// α: the fraction of the training set given to S_prior.
    pub prior_fraction: f64,
    /// The fraction of S_prior kept for early stopping.
    pub validation_fraction: f64,
    /// Seed of the split, the initialization, the example order and dropout.
    pub seed: u64,
    /// The prior scale σ₀ (default 0.005, from the default grid).
    pub sigma0: f64,
    /// The grid σ₀ is chosen from, whose ln K is paid; default the published grid of Pérez-Ortiz et
    /// al. (2021), [`PUBLISHED_SCALE_GRID`]; empty: σ₀ alone, fixed without looking at S_bound.
    pub scale_grid: Vec<f64>,
    /// ERM settings of a learnt prior.
    pub training: Training,
    /// How the scale of a learnt prior is set: `scalar` (σ₀ everywhere, default), `fisher`
    /// (shaped by the diagonal Fisher of S_prior, global scale chosen on S_prior's validation
    /// slice), `per-layer` (one multiple of σ₀ per layer, each chosen on that slice), `swag`
    /// (alias `ensemble`: 5 more epochs of SGD on S_prior, the mean moved to the average of 20
    /// snapshots and the scale shaped by their spread, global scale chosen on that slice) or
    /// `pac-bayes` (alias `variational`: the prior is the posterior of f-quad trained 5 epochs on
    /// S_prior from the learnt mean at 4σ₀, its scales multiplied by a factor chosen on that slice);
    /// nothing is paid for a shaped scale.
    pub scale: ScaleFamily,
    /// The family of the prior's (and so the posterior's) distributions: `gaussian` (default) or
    /// `laplace` (location μ, scale b = the prior's scale; the posterior trains in mode `sample`).
    pub distribution: Family,
}

/// The `[training]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Training {
    /// Maximum epochs of ERM.
    pub epochs: usize,
    /// Examples per SGD step.
    pub batch_size: usize,
    /// SGD learning rate.
    pub learning_rate: f64,
    /// Learning-rate schedule: cosine or constant.
    pub lr_schedule: LrSchedule,
    /// SGD momentum.
    pub momentum: f64,
    /// Dropout rate.
    pub dropout: f64,
    /// Translations of training images by up to this many pixels (default: 2 for images, 0 for
    /// other examples).
    pub shift: Option<usize>,
    /// Mirror each training image left to right with probability ½ (default: true for colour
    /// images, false otherwise).
    pub flip: Option<bool>,
    /// Epochs without improvement before stopping (0: never).
    pub patience: usize,
}

impl Default for PriorConfig {
    fn default() -> Self {
        Self {
            dataset: "mnist".into(),
            label_column: "label".into(),
            architecture: "fcn".into(),
            kind: PriorKind::Learnt,
            from: None,
            prior_fraction: 0.5,
            validation_fraction: 0.1,
            seed: 0,
            sigma0: 0.005,
            scale_grid: PUBLISHED_SCALE_GRID.to_vec(),
            training: Training::default(),
            scale: ScaleFamily::default(),
            distribution: Family::default(),
        }
    }
}

impl Default for Training {
    fn default() -> Self {
        let l = LearntSettings::default();
        Self {
            epochs: l.epochs,
            batch_size: l.batch_size,
            learning_rate: l.learning_rate,
            lr_schedule: l.lr_schedule,
            momentum: l.momentum,
            dropout: l.dropout,
            shift: None,
            flip: None,
            patience: l.patience,
        }
    }
}

impl PriorConfig {
    /// The ERM settings of a learnt prior, with the shift and flip the data calls for when the
    /// configuration leaves them out.
    pub fn learnt_settings(&self, default_shift: usize, default_flip: bool) -> LearntSettings {
        let t = &self.training;
        LearntSettings {
            epochs: t.epochs,
            batch_size: t.batch_size,
            learning_rate: t.learning_rate,
            lr_schedule: t.lr_schedule,
            momentum: t.momentum,
            dropout: t.dropout,
            shift: t.shift.unwrap_or(default_shift),
            flip: t.flip.unwrap_or(default_flip),
            patience: t.patience,
            seed: self.seed,
            sigma0: self.sigma0,
            scale_grid: self.scale_grid.clone(),
        }
    }

    /// The choice of σ₀: fixed, or from the grid whose ln K is paid.
    ///
    /// # Errors
    /// σ₀ or a grid value outside (0, ∞), or σ₀ not in its grid.
    pub fn scale_choice(&self) -> Result<ScaleChoice> {
        Ok(if self.scale_grid.is_empty() {
            ScaleChoice::fixed(self.sigma0)?
        } else {
            ScaleChoice::from_grid(self.sigma0, self.scale_grid.clone())?
        })
    }

    /// A prior scale other than the scalar one is fitted on S_prior: it needs a learnt prior.
    pub(crate) fn check_scale_family(&self) -> Result<()> {
        if self.scale != ScaleFamily::Scalar && self.kind != PriorKind::Learnt {
            return Err(Error::invalid(format!(
                "scale = {} needs kind = learnt (it is fitted on S_prior), not kind = \"{}\"",
                self.scale, self.kind
            )));
        }
        Ok(())
    }

    /// Checks every setting that can be checked without loading the data: the dataset's name, the
    /// architecture's name, the prior kind, the split's fractions, σ₀ and its grid, and the ERM
    /// settings of a learnt prior. [`crate::RunConfig::check`] calls it before any stage starts.
    ///
    /// # Errors
    /// The first setting outside its domain, named.
    pub fn check(&self) -> Result<()> {
        self.dataset.parse::<DatasetSpec>()?;
        if !self.architecture.trim().eq_ignore_ascii_case("linear") {
            self.architecture.parse::<Architecture>()?;
        }
        SplitConfig::new(self.prior_fraction, self.seed)?
            .with_validation_fraction(self.validation_fraction)?;
        self.check_scale_family()?;
        match self.kind {
            PriorKind::Learnt => {
                self.learnt_settings(0, false).check()?;
            }
            PriorKind::DataFree | PriorKind::FromFile => {
                self.scale_choice()?;
                if self.kind == PriorKind::FromFile && self.from.is_none() {
                    return Err(Error::invalid("kind = from-file needs --from FILE"));
                }
            }
        }
        Ok(())
    }
}

/// How a prior is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PriorKind {
    /// Fitted by ERM on S_prior.
    #[default]
    Learnt,
    /// Centred at a seeded random initialization, without data.
    DataFree,
    /// Read from a checkpoint file (`from`).
    FromFile,
}

impl PriorKind {
    /// The kind's name in configurations and flags: `learnt`, `data-free`, `from-file`.
    pub fn name(self) -> &'static str {
        match self {
            PriorKind::Learnt => "learnt",
            PriorKind::DataFree => "data-free",
            PriorKind::FromFile => "from-file",
        }
    }
}

impl std::fmt::Display for PriorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    /// The names of a flag's values, and those of the configuration's key.
    fn names<T: ValueEnum + Serialize>() -> Vec<(String, String)> {
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
    fn flags_and_keys_name_the_same_values() {
        for (flag, key) in names::<PriorKind>()
            .into_iter()
            .chain(names::<crate::Preset>())
            .chain(names::<crate::CertificateKind>())
        {
            assert_eq!(flag, key);
        }
        let kinds: Vec<String> = PriorKind::value_variants().iter().map(ToString::to_string).collect();
        assert_eq!(kinds, ["learnt", "data-free", "from-file"]);
        let (line, message) = crate::parse::<PriorConfig>(
            "seed = 1
kind = \"learned\"\n",
        )
        .unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("data-free"), "{message}");
    }
}
