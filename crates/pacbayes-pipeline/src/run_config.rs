//! The typed configuration of a run: one value for every stage, its presets, its TOML form, and one
//! check of every stage's settings.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Context as _, Error, Result};
use crate::prior_config::PriorConfig;

/// The settings of the posterior stage, as in the `[posterior]` table. The keys, their domains and
/// their defaults (Pérez-Ortiz et al. 2021 for MNIST: f-quad, SGD with learning rate 0.001 and
/// momentum 0.95, batch 250, δ = 0.025, p_min = 10⁻⁵, 100 epochs) are those of
/// [`pacbayes_posterior::PosteriorSettings`]; unknown keys are errors.
pub type PosteriorConfig = pacbayes_posterior::PosteriorSettings;

/// The settings of the certificate stage, as in the `[certificate]` table. The keys and defaults
/// are those of [`pacbayes_eval::CertifySettings`]: `protocol = "fast"`, `repetitions` = ⌈10⁶/n⌉,
/// `draws = 1000` (classic), `delta = 0.025`, `delta_mc = 0.01`, `p_min = 1e-5`, `seed = 0`,
/// `batch_size = 1000`, `ensemble_size = 100`, `configurations = 1`.
pub type CertifyConfig = pacbayes_eval::CertifySettings;

/// A schedule to start from; keys of a configuration file override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// A short schedule for a first look: 50 prior epochs, 3 posterior epochs.
    #[default]
    Quick,
    /// The published schedule of Pérez-Ortiz et al. (2021): 70 prior epochs, 100 posterior epochs.
    Paper,
}

impl Preset {
    /// The preset's name in a configuration: `quick` or `paper`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Paper => "paper",
        }
    }

    /// Sets the keys that differ from the stage defaults (which are the published ones).
    fn apply(self, config: &mut RunConfig) {
        match self {
            Preset::Quick => {
                config.prior.training.epochs = 50;
                config.posterior.epochs = 3;
            }
            Preset::Paper => {}
        }
    }

    /// The keys that differ from the stage defaults, as TOML.
    fn overrides(self) -> &'static str {
        match self {
            Preset::Quick => "[prior.training]\nepochs = 50\n[posterior]\nepochs = 3\n",
            Preset::Paper => "",
        }
    }
}

/// Every setting of a run. Each table is the configuration of its stage's own command
/// (`pacbayes prior`, `pacbayes posterior`, `pacbayes certify`), with the same keys and defaults.
///
/// ```
/// use pacbayes_pipeline::{Preset, RunConfig};
///
/// let mut config = RunConfig::from_preset(Preset::Quick);
/// config.name = "fcn-f-kl".into();
/// config.posterior.objective = pacbayes_posterior::ObjectiveKind::FKl;
/// config.check()?;
/// // The same run, from its TOML text.
/// let text = config.to_toml()?;
/// assert_eq!(RunConfig::from_toml(&text, "config.toml")?, config);
/// # Ok::<(), pacbayes_pipeline::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// The run folder's name (default: dataset-architecture-prior-objective-alpha-seed).
    pub name: String,
    /// The schedule the other keys override.
    pub preset: Preset,
    /// `pacbayes prior` settings: dataset, architecture, prior kind, α, σ₀, ERM schedule.
    pub prior: PriorConfig,
    /// `pacbayes posterior` settings: objective, optimizer, epochs, δ, ...
    pub posterior: PosteriorConfig,
    /// `pacbayes certify` settings: protocol, repetitions, δ, δ′, ...
    pub certificate: CertifyConfig,
    /// Where the tensors of every stage live: `cpu` (when absent), `cuda`, `cuda:N`, `metal` or
    /// `metal:N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

impl RunConfig {
    /// The settings of `preset`, every other setting at its default; the name is left empty (see
    /// [`RunConfig::default_name`]).
    pub fn from_preset(preset: Preset) -> Self {
        let mut config = Self { preset, ..Self::default() };
        preset.apply(&mut config);
        config
    }

    /// The configuration in TOML `text` laid over its preset (the preset named in the text, or
    /// `preset` when given, which wins), its name the default one when the text gives none. Unknown
    /// keys are errors naming the key and its line (from 1).
    ///
    /// # Errors
    /// The line and message of the first key that does not parse.
    pub fn resolve(text: &str, preset: Option<Preset>) -> std::result::Result<Self, (usize, String)> {
        let given: RunConfig = parse(text)?; // checks every key, with line numbers
        let preset = preset.unwrap_or(given.preset);
        let mut merged: toml::Table = toml::from_str(preset.overrides()).expect("presets are valid TOML");
        let file: toml::Table = toml::from_str(text).map_err(|e| (1, e.message().to_owned()))?;
        merge(&mut merged, file);
        merged.insert("preset".into(), toml::Value::try_from(preset).expect("a preset serializes"));
        let mut config: RunConfig = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| (1, e.message().to_owned()))?;
        if config.name.is_empty() {
            config.name = config.default_name();
        }
        Ok(config)
    }

    /// As [`RunConfig::resolve`] (the preset the text names), with `origin` (a file's name) in the
    /// error.
    ///
    /// # Errors
    /// [`Error::Parse`] for the first key that does not parse.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        Self::resolve(text, None).map_err(|(line, message)| Error::Parse {
            origin: origin.to_owned(),
            line,
            message,
        })
    }

    /// The configuration as TOML, every key written out: the `config.toml` of a run folder.
    ///
    /// # Errors
    /// A value TOML cannot hold.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string(self)?)
    }

    /// Sets the seed of every stage (split, prior, posterior, certificate).
    pub fn set_seed(&mut self, seed: u64) {
        self.prior.seed = seed;
        self.posterior.seed = seed;
        self.certificate.seed = seed;
    }

    /// Checks the settings of every stage, so that a bad value anywhere is reported before any
    /// stage starts (a bad `[certificate]` value would otherwise surface after the prior and the
    /// posterior have trained).
    ///
    /// # Errors
    /// The first setting outside its domain, named with its table.
    pub fn check(&self) -> Result<()> {
        self.prior.check().context("[prior]")?;
        self.posterior.clone().check().context("[posterior]")?;
        crate::posterior::check_mode_for(self.prior.distribution, self.posterior.mode)
            .context("[posterior]")?;
        self.certificate.check().context("[certificate]")?;
        Ok(())
    }

    /// The name of a run with these settings when none is given:
    /// `dataset-architecture-prior-objective-aALPHA-sSEED`.
    pub fn default_name(&self) -> String {
        let dataset: String = self
            .prior
            .dataset
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("data")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
            .collect();
        format!(
            "{dataset}-{}-{}-{}-a{}-s{}",
            self.prior.architecture,
            self.prior.kind,
            self.posterior.objective,
            self.prior.prior_fraction,
            self.prior.seed
        )
    }
}

/// Lays `over` onto `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Parses TOML text (every key optional, unknown keys an error); an error gives the line (from 1)
/// and the message, which starts with the key when the error is in its value
/// (`objective: unknown variant …`).
///
/// # Errors
/// The line and message of the first key that does not parse.
pub fn parse<T: DeserializeOwned>(text: &str) -> std::result::Result<T, (usize, String)> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let message = e.message().trim();
        let Some(start) = e.span().map(|s| s.start.min(text.len())) else { return (1, message.to_owned()) };
        let line = text[..start].matches('\n').count() + 1;
        match key_of_value_at(text, start) {
            Some(key) => (line, format!("{key}: {message}")),
            None => (line, message.to_owned()),
        }
    })
}

/// The key whose value starts at byte `start` of `text` when key and value are on one line
/// (`key = value`, or inside an inline table or an array on that line): the text between the last
/// `{` or `,` before the last `=` of the line before `start`, and that `=`. None when the error is
/// not in a value (an unknown key, say, whose span is the key itself).
fn key_of_value_at(text: &str, start: usize) -> Option<&str> {
    let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
    let before = &line[..line.rfind('=')?];
    let key = before[before.rfind(['{', ',']).map_or(0, |i| i + 1)..].trim();
    (!key.is_empty()).then_some(key)
}

/// The configuration in the file `path`, or the defaults when there is none.
///
/// # Errors
/// A file that cannot be read, or does not parse ([`Error::Parse`] names the file and the line).
pub fn read_or_default<T: DeserializeOwned + Default>(path: Option<&std::path::Path>) -> Result<T> {
    let Some(path) = path else { return Ok(T::default()) };
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
    parse(&text).map_err(|(line, message)| Error::Parse { origin: path.display().to_string(), line, message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::chain;

    #[test]
    fn presets_resolve_and_file_keys_win() {
        let quick = RunConfig::resolve("", None).unwrap();
        assert_eq!(quick.preset, Preset::Quick);
        assert_eq!(quick.prior.training.epochs, 50);
        assert_eq!(quick.posterior.epochs, 3);
        assert_eq!(quick.name, "mnist-fcn-learnt-f-quad-a0.5-s0");
        let paper = RunConfig::resolve("preset = \"paper\"\n", None).unwrap();
        assert_eq!(paper.prior.training.epochs, PriorConfig::default().training.epochs);
        assert_eq!(paper.posterior.epochs, PosteriorConfig::default().epochs);
        let own = RunConfig::resolve("[posterior]\nepochs = 3\n", Some(Preset::Paper)).unwrap();
        assert_eq!((own.posterior.epochs, own.preset), (3, Preset::Paper));
        assert_eq!(own.prior.training.epochs, 70);
    }

    #[test]
    fn a_typed_preset_is_the_preset_of_the_text() {
        for preset in [Preset::Quick, Preset::Paper] {
            let mut typed = RunConfig::from_preset(preset);
            typed.name = typed.default_name();
            assert_eq!(typed, RunConfig::resolve("", Some(preset)).unwrap(), "{preset:?}");
            let text = typed.to_toml().unwrap();
            assert_eq!(RunConfig::from_toml(&text, "x").unwrap(), typed);
        }
    }

    #[test]
    fn every_stage_is_checked_before_any_work() {
        assert!(RunConfig::resolve("", None).unwrap().check().is_ok());
        for (text, table, key) in [
            ("[certificate]\ndelta = 1.5\n", "[certificate]", "delta"),
            ("[certificate]\ndelta_mc = 0.0\n", "[certificate]", "delta_mc"),
            ("[posterior]\nlearning_rate = -1.0\n", "[posterior]", "learning_rate"),
            ("[prior]\nprior_fraction = 1.5\n", "[prior]", "prior_fraction"),
            ("[prior]\narchitecture = \"resnet\"\n", "[prior]", "resnet"),
            ("[prior]\ndataset = \"nope\"\n", "[prior]", "nope"),
            ("[prior]\nkind = \"from-file\"\n", "[prior]", "from-file"),
            ("[prior.training]\nepochs = 0\n", "[prior]", "epochs"),
        ] {
            let err = RunConfig::resolve(text, None).unwrap().check().unwrap_err();
            assert!(err.is_input(), "{text}");
            let message = chain(&err);
            assert!(message.starts_with(table) && message.contains(key), "{text}: {message}");
        }
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let (line, message) = RunConfig::resolve("name = \"x\"\n[posterior]\nepoch = 3\n", None).unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("epoch"), "{message}");
        let err = RunConfig::from_toml("[prior]\nsigma = 1\n", "grid.toml").unwrap_err();
        assert!(err.is_input() && err.to_string().starts_with("grid.toml, line 2: "), "{err}");
    }

    #[test]
    fn a_bad_value_is_named_by_its_key() {
        let (line, message) = parse::<PriorConfig>("seed = 1\n[training]\nepochs = \"many\"\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.starts_with("epochs: invalid type: string"), "{message}");
        let (line, message) =
            parse::<PriorConfig>("seed = 1\ntraining = { batch_size = 5, epochs = -1 }\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.starts_with("epochs: "), "{message}");
        // An unknown key is the error itself: its message names it, once.
        let (line, message) = parse::<PriorConfig>("seed = 1\nsigma = 0.1\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.starts_with("unknown field `sigma`"), "{message}");
    }

    #[test]
    fn an_enumerated_posterior_setting_names_its_line_its_key_and_its_values() {
        for (key, bad, values) in [
            ("objective", "f-foo", "one of `f-classic`, `f-quad`, `f-lambda`, `f-kl`, `bbb`"),
            ("optimizer", "lbfgs", "`sgd` or `adam`"),
            ("train_on", "prior", "`all` or `bound`"),
            ("mode", "mean", "`local` or `sample`"),
            ("preconditioner", "fisher", "`kl` or `none`"),
            ("learning_rate_schedule", "linear", "`constant` or `cosine`"),
        ] {
            let text = format!("name = \"x\"\n[posterior]\nepochs = 3\n{key} = \"{bad}\"\n");
            let err = RunConfig::from_toml(&text, "config.toml").unwrap_err();
            let message = err.to_string();
            assert!(err.is_input(), "{message}");
            assert!(message.starts_with("config.toml, line 4: "), "{message}");
            let named = format!("line 4: {key}: unknown variant `{bad}`, expected {values}");
            assert!(message.contains(&named), "{message}");
            let (line, message) =
                parse::<PosteriorConfig>(&format!("epochs = 3\n{key} = \"{bad}\"\n")).unwrap_err();
            assert_eq!(line, 2);
            assert!(
                message.starts_with(&format!("{key}: unknown variant")) && message.contains(values),
                "{message}"
            );
        }
        let typed: PosteriorConfig =
            parse("objective = \"f-kl\"\noptimizer = \"adam\"\ntrain_on = \"bound\"\nmode = \"sample\"\npreconditioner = \"none\"\n")
                .unwrap();
        let expected = PosteriorConfig {
            objective: pacbayes_posterior::ObjectiveKind::FKl,
            optimizer: pacbayes_posterior::OptimizerKind::Adam,
            train_on: pacbayes_posterior::TrainOn::Bound,
            mode: pacbayes_posterior::TrainMode::Sample,
            preconditioner: pacbayes_posterior::Preconditioner::None,
            ..PosteriorConfig::default()
        };
        assert_eq!(typed, expected);
    }

    #[test]
    fn stage_tables_reject_unknown_keys_and_default_missing_ones() {
        let (line, message) = parse::<PriorConfig>("dataset = \"mnist\"\nsigma = 0.1\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("sigma"), "{message}");
        let (line, message) = parse::<PriorConfig>("[training]\nepochs = 3\nlr = 0.1\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("lr"), "{message}");
        let c: PriorConfig = parse("sigma0 = 0.05\n[training]\nepochs = 3\n").unwrap();
        assert_eq!(c.training.epochs, 3);
        assert_eq!(c.training.batch_size, PriorConfig::default().training.batch_size);
        assert!((c.sigma0 - 0.05).abs() < 1e-15);
        let c: CertifyConfig = parse("protocol = \"classic\"\ndraws = 50\n").unwrap();
        assert_eq!((c.protocol, c.draws), (pacbayes_eval::Protocol::Classic, 50));
        let (line, message) = parse::<CertifyConfig>("delta = 0.05\nrepetition = 3\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("repetition"), "{message}");
    }
}
