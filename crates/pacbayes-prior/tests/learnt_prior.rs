//! Fitting, saving and loading priors on small synthetic data.

use candle_core::Device;
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_nn::{Architecture, GaussianWeights, Network};
use pacbayes_prior::{
    DataFree, EpochRecord, Error, FitObserver, Learnt, LearntSettings, Prior, PriorRecord, SavedPrior,
    ScaleChoice, error_rate,
};

const ARCH: Architecture = Architecture::Linear { inputs: 5, classes: 2 };

fn split(seed: u64) -> Split {
    let teacher = LinearTeacher::new(vec![1.0, -2.0, 0.5, 0.0, 1.0], 0.05).unwrap();
    let data = teacher.train_test(2_000, 10, seed).train;
    Split::new(data, SplitConfig::new(0.5, seed).unwrap().with_validation_fraction(0.2).unwrap()).unwrap()
}

fn settings(epochs: usize) -> LearntSettings {
    LearntSettings {
        epochs,
        batch_size: 50,
        learning_rate: 0.05,
        momentum: 0.9,
        dropout: 0.0,
        patience: 0,
        ..Default::default()
    }
}

#[derive(Default)]
struct Log(Vec<EpochRecord>, usize);

impl FitObserver for Log {
    fn step(&mut self, _epoch: usize, _step: usize, _steps: usize) {
        self.1 += 1;
    }
    fn epoch(&mut self, record: &EpochRecord) {
        self.0.push(record.clone());
    }
}

#[test]
fn erm_on_the_prior_split_learns_the_teacher() {
    let split = split(1);
    let mut log = Log::default();
    let checked = settings(8).check().unwrap();
    let prior =
        Learnt::fit(ARCH, &checked, split.prior(), split.validation(), &Device::Cpu, &mut log).unwrap();
    assert_eq!(log.0.len(), 8);
    assert_eq!(log.1, 8 * split.prior().len().div_ceil(50));
    let first = log.0.first().unwrap().train_loss;
    let last = log.0.last().unwrap().train_loss;
    assert!(last < 0.7 * first, "loss {first} → {last}");
    // Label noise 5%: the mean network ends close to it on the validation slice.
    let val = log.0[prior.record().best_epoch - 1].validation_error.unwrap();
    assert!(val < 0.15, "validation error {val}");
    let net = Network::from_prior(&prior.weights(ARCH, &Device::Cpu).unwrap()).unwrap();
    let bound_error = error_rate(&net, split.bound().batches(500), &Device::Cpu).unwrap();
    assert!(bound_error < 0.15, "error on S_bound {bound_error}");
}

#[test]
fn fitting_is_deterministic_for_a_seed() {
    let split = split(2);
    let fit = |seed| {
        let s = LearntSettings { seed, ..settings(2) }.check().unwrap();
        let p = Learnt::fit(ARCH, &s, split.prior(), None, &Device::Cpu, &mut ()).unwrap();
        p.gaussian().mu()[0].flatten_all().unwrap().to_vec1::<f32>().unwrap()
    };
    assert_eq!(fit(5), fit(5));
    assert_ne!(fit(5), fit(6));
}

#[test]
fn a_divergent_training_is_an_error_naming_the_step() {
    let split = split(3);
    let s = LearntSettings { learning_rate: 1e300, ..settings(3) }.check().unwrap();
    match Learnt::fit(ARCH, &s, split.prior(), None, &Device::Cpu, &mut ()) {
        Err(Error::Diverged { epoch, step, .. }) => assert!(epoch >= 1 && step >= 1),
        other => panic!("expected divergence, got {other:?}"),
    }
}

#[test]
fn the_scale_grid_is_paid_for() {
    let p = DataFree::new(ScaleChoice::from_grid(0.03, vec![0.01, 0.03, 0.1]).unwrap(), 0);
    assert!((p.charges()[0].cost_nats - 3f64.ln()).abs() < 1e-15);
    assert!(LearntSettings { sigma0: -1.0, ..Default::default() }.check().is_err());
}

#[test]
fn saved_priors_round_trip_and_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prior");
    let prior = DataFree::new(ScaleChoice::fixed(0.05).unwrap(), 9);
    let weights = prior.weights(ARCH, &Device::Cpu).unwrap();
    let record = PriorRecord::describe("data-free", &prior, ARCH);
    SavedPrior::save(&out, &weights, &record).unwrap();
    let back = SavedPrior::load(&out, &Device::Cpu).unwrap();
    assert_eq!(back.record(), &record);
    let same = |a: &GaussianWeights, b: &GaussianWeights| {
        a.mu().iter().zip(b.mu()).all(|(x, y)| {
            x.flatten_all().unwrap().to_vec1::<f32>().unwrap()
                == y.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        })
    };
    assert!(same(&weights, back.gaussian()));
    assert!(matches!(SavedPrior::save(&out, &weights, &record), Err(Error::OutputExists { .. })));
    // Nothing but the finished folder is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert!(matches!(back.weights(Architecture::Fcn, &Device::Cpu), Err(Error::ArchitectureMismatch { .. })));
}
