//! The prior stage: fit (or build) the prior on S_prior and save it in a new run folder.

use candle_core::Device;
use pacbayes_data::{DatasetSpec, Split, SplitConfig, TabularOptions};
use pacbayes_nn::{Architecture, Family, Network};
use pacbayes_prior::{
    DataFree, FisherScaled, FisherSettings, FromFile, Learnt, PerLayerScaled, PerLayerSettings, Prior,
    PriorRecord, SavedPrior, ScaleFamily, ScaleFit, SwagScaled, SwagSettings, VariationalScaled,
    VariationalSettings, error_rate,
};

use crate::control::{Control, Stage};
use crate::error::{Context as _, Error, Result};
use crate::prior_config::{PriorConfig, PriorKind};
use crate::run_dir::{RunDir, TIMINGS_FILE, stage_timing, timings_text};

/// What [`fit_prior`] saved.
#[derive(Debug, Clone)]
pub struct PriorOutcome {
    /// The prior's record, as saved in `prior.json`.
    pub record: PriorRecord,
    /// The test error of the prior's mean network.
    pub mean_test_error: f64,
    /// One line: where the prior is, what it is, its mean network's test error and its union cost.
    pub summary: String,
}

/// Builds the prior that `config` describes with its tensors on `device`, and saves it into the new
/// run folder `out` (which must not exist). The folder appears whole, its `timings.json` included,
/// or not at all. The ERM of a learnt prior reports its steps and epochs to `control`'s observer.
///
/// # Errors
/// Invalid settings, data that cannot be loaded, an existing `out`, or a file that cannot be written.
pub fn fit_prior(
    config: &PriorConfig,
    out: &RunDir,
    device: &Device,
    control: &Control,
) -> Result<PriorOutcome> {
    let spec: DatasetSpec = config.dataset.parse()?;
    let tabular = TabularOptions { label_column: config.label_column.clone(), ..TabularOptions::default() };
    let data = spec.load(&tabular)?;
    let architecture = Architecture::for_data(
        &config.architecture,
        data.train.n_features(),
        data.train.n_classes() as usize,
    )?;
    let scale = config.scale_choice()?;
    let split_config = SplitConfig::new(config.prior_fraction, config.seed)?.with_validation_fraction(
        if config.kind == PriorKind::Learnt { config.validation_fraction } else { 0.0 },
    )?;
    let mut split = Split::new(data.train, split_config)?;
    let mut test = data.test;
    if spec.normalizes_channels() {
        split.normalize_channels(&mut test)?;
    }
    let colour = matches!(split.prior().shape(), [3, _, _]);
    config.check_scale_family()?;
    let (weights, mut record) = match config.kind {
        PriorKind::Learnt => {
            // Colour images: the random crops (padding 4) and flips of the CIFAR-10 reference training.
            let shift = match split.prior().shape().len() {
                3 if colour => 4,
                3 => 2,
                _ => 0,
            };
            let settings = config.learnt_settings(shift, colour).check()?;
            let observer = control.observer();
            observer.training_started(Stage::Prior, config.training.epochs);
            let mut hook = control.prior_hook();
            let fitted =
                Learnt::fit(architecture, &settings, split.prior(), split.validation(), device, &mut hook);
            observer.training_finished(Stage::Prior);
            let prior = fitted?;
            let (shaped, scale_fit): (Box<dyn Prior>, Option<ScaleFit>) = match config.scale {
                ScaleFamily::Scalar => (Box::new(prior.clone()), None),
                ScaleFamily::Fisher => {
                    let settings = FisherSettings { seed: config.seed, ..FisherSettings::default() };
                    let shaped =
                        FisherScaled::fit(&prior, &settings, split.prior(), split.validation(), device)?;
                    let fit = ScaleFit::Fisher(shaped.record().clone());
                    (Box::new(shaped), Some(fit))
                }
                ScaleFamily::PerLayer => {
                    let settings = PerLayerSettings { seed: config.seed, ..PerLayerSettings::default() };
                    let shaped = PerLayerScaled::fit(&prior, &settings, split.validation(), device)?;
                    let fit = ScaleFit::PerLayer(shaped.record().clone());
                    (Box::new(shaped), Some(fit))
                }
                ScaleFamily::Swag => {
                    let settings = SwagSettings { seed: config.seed, ..SwagSettings::default() };
                    let shaped =
                        SwagScaled::fit(&prior, &settings, split.prior(), split.validation(), device)?;
                    let fit = ScaleFit::Swag(shaped.record().clone());
                    (Box::new(shaped), Some(fit))
                }
                ScaleFamily::PacBayes => {
                    let settings =
                        VariationalSettings { seed: config.seed, ..VariationalSettings::default() };
                    let shaped =
                        VariationalScaled::fit(&prior, &settings, split.prior(), split.validation(), device)?;
                    let fit = ScaleFit::PacBayes(shaped.record().clone());
                    (Box::new(shaped), Some(fit))
                }
            };
            let mut record = PriorRecord::describe("learnt", shaped.as_ref(), architecture);
            record.fit = Some(prior.record().clone());
            record.scale_fit = scale_fit;
            (shaped.weights(architecture, device)?, record)
        }
        PriorKind::DataFree => {
            let prior = DataFree::new(scale, config.seed);
            (prior.weights(architecture, device)?, PriorRecord::describe("data-free", &prior, architecture))
        }
        PriorKind::FromFile => {
            let path =
                config.from.clone().ok_or_else(|| Error::invalid("kind = from-file needs --from FILE"))?;
            let prior = FromFile::new(path, Some(scale));
            (prior.weights(architecture, device)?, PriorRecord::describe("from-file", &prior, architecture))
        }
    };
    let weights = weights.with_family(config.distribution);
    record.distribution = config.distribution;
    if config.distribution != Family::Gaussian {
        record.description = format!("{}, {} distributions", record.description, config.distribution);
    }
    record.seed = Some(config.seed);
    record.dataset.clone_from(&config.dataset);
    record.label_column.clone_from(&config.label_column);
    record.split = Some(serde_json::to_value(split.manifest())?);
    let net = Network::from_prior(&weights)?;
    let test_error = error_rate(&net, test_batches(&test), device)?;
    record.mean_test_error = Some(test_error);
    let timings = match &record.fit {
        Some(fit) => {
            let epochs: Vec<f64> = fit.curve.iter().map(|e| e.seconds).collect();
            let total = epochs.last().copied().unwrap_or(0.0);
            Some(timings_text(serde_json::Map::new(), "prior", stage_timing(total, epochs))?)
        }
        None => None,
    };
    let also: Vec<(&str, &[u8])> = timings.iter().map(|text| (TIMINGS_FILE, text.as_bytes())).collect();
    SavedPrior::save_with(out.path(), &weights, &record, &also)
        .with_context(|| format!("saving the prior into {}", out.path().display()))?;
    let summary = format!(
        "prior saved in {}: {}; mean network test error {:.2}%, union cost {:.3} nats",
        out.path().display(),
        record.description,
        100.0 * test_error,
        record.union_cost_nats
    );
    Ok(PriorOutcome { record, mean_test_error: test_error, summary })
}

/// The test set in batches of 1,000 examples.
fn test_batches(test: &pacbayes_data::Dataset) -> impl Iterator<Item = pacbayes_data::Batch> + '_ {
    let n = test.len();
    (0..n).step_by(1000).map(move |start| {
        let end = (start + 1000).min(n);
        pacbayes_data::Batch {
            features: test.features()[start * test.n_features()..end * test.n_features()].to_vec(),
            labels: test.labels()[start..end].to_vec(),
            shape: test.shape().to_vec(),
        }
    })
}
