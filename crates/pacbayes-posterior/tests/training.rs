//! Training on small synthetic problems: the objective decreases, every objective and optimizer
//! trains, the reported KL is the KL of the saved tensors, and the saved files are complete.

mod common;

use clap::ValueEnum;
use pacbayes_bounds::kl_diag_gaussian;
use pacbayes_nn::{Network, Noise, softplus};
use pacbayes_posterior::{
    LearningRateSchedule, METRICS_CSV, METRICS_PARQUET, ObjectiveKind, OptimizerKind, PosteriorProblem,
    PosteriorRecord, PosteriorSettings, RECORD_FILE, StopReason, TrainMode, TrainOn, TrainOptions,
    WEIGHTS_FILE, save_posterior, train,
};

#[test]
fn minimizing_f_quad_decreases_f_quad() {
    let split = common::split(240);
    let (_, net) = common::network("linear-3-2", 0.3);
    let settings = common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 15);
    let problem = PosteriorProblem::new(&net, &split, &settings).unwrap();
    let before = problem.evaluate(&mut Noise::new(99)).unwrap();
    let outcome = train(&net, &split, &settings, TrainOptions::default()).unwrap();
    let after = problem.evaluate(&mut Noise::new(99)).unwrap();
    assert_eq!(outcome.stop_reason, StopReason::Completed);
    assert_eq!(outcome.metrics.len(), 16);
    assert!(after.objective < before.objective - 0.01, "{before:?} -> {after:?}");
    assert!(after.kl > 0.0 && before.kl < 1e-3);
    let first = outcome.metrics.first().unwrap().objective;
    let last = outcome.metrics.last().unwrap().objective;
    assert!(last < first, "per-epoch objective {first} -> {last}");
}

#[test]
fn a_cosine_schedule_anneals_the_recorded_learning_rate_and_still_trains() {
    let split = common::split(240);
    let (_, net) = common::network("linear-3-2", 0.3);
    let settings = PosteriorSettings {
        learning_rate_schedule: LearningRateSchedule::Cosine,
        ..common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 6).settings().clone()
    }
    .check()
    .unwrap();
    let base = settings.settings().learning_rate;
    let outcome = train(&net, &split, &settings, TrainOptions::default()).unwrap();
    let steps = outcome.steps_per_epoch;
    let total = 6 * steps;
    // Each epoch's row holds the rate of its last step: (base/2)(1 + cos(π t/T)), t = e·steps − 1.
    for row in &outcome.metrics[1..] {
        let t = (row.epoch * steps - 1) as f64;
        let expected = 0.5 * base * (1.0 + (std::f64::consts::PI * t / total as f64).cos());
        assert!((row.learning_rate - expected).abs() <= 1e-12 * base, "{row:?} against {expected}");
    }
    let rates: Vec<f64> = outcome.metrics[1..].iter().map(|m| m.learning_rate).collect();
    assert!(rates.windows(2).all(|w| w[1] < w[0]) && rates[5] < 0.01 * base, "{rates:?}");
    let (first, last) = (outcome.metrics[0].objective, outcome.metrics[6].objective);
    assert!(last < first, "per-epoch objective {first} -> {last}");
}

#[test]
fn every_objective_and_optimizer_trains() {
    let split = common::split(160);
    for &objective in ObjectiveKind::value_variants() {
        for &optimizer in OptimizerKind::value_variants() {
            let (_, net) = common::network("linear-3-2", 0.3);
            let settings = common::settings(objective, optimizer, 3);
            let problem = PosteriorProblem::new(&net, &split, &settings).unwrap();
            let before = problem.evaluate(&mut Noise::new(1)).unwrap();
            let outcome = train(&net, &split, &settings, TrainOptions::default())
                .unwrap_or_else(|e| panic!("{objective} with {optimizer}: {e}"));
            let after = problem.evaluate(&mut Noise::new(1)).unwrap();
            assert_eq!(outcome.metrics.len(), 4);
            assert_eq!(outcome.steps_done, 3 * outcome.steps_per_epoch as u64);
            assert!(outcome.metrics.iter().all(|m| m.objective.is_finite() && m.kl >= 0.0));
            assert!(after.objective < before.objective, "{objective}/{optimizer}: {before:?} -> {after:?}");
        }
    }
}

#[test]
fn both_modes_train_on_all_of_s_and_on_the_bound_set() {
    let split = common::split(160);
    for (mode, train_on) in [(TrainMode::Sample, TrainOn::All), (TrainMode::Local, TrainOn::Bound)] {
        let (_, net) = common::network("linear-3-2", 0.3);
        let settings = pacbayes_posterior::PosteriorSettings {
            mode,
            train_on,
            ..common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 2).settings().clone()
        }
        .check()
        .unwrap();
        let outcome = train(&net, &split, &settings, TrainOptions::default()).unwrap();
        let n = if train_on == TrainOn::Bound { split.bound().n() } else { split.n_train() };
        assert_eq!(outcome.steps_per_epoch, n.div_ceil(40), "{mode} {train_on}");
    }
}

#[test]
fn the_reported_kl_is_the_kl_of_the_saved_tensors() {
    let split = common::split(240);
    let (prior, net) = common::network("linear-3-2", 0.2);
    let settings = common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 4);
    let outcome = train(&net, &split, &settings, TrainOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let record = PosteriorRecord::describe(&settings, &net, &split, &outcome);
    save_posterior(dir.path(), &net, &record, &outcome.metrics).unwrap();
    for f in [WEIGHTS_FILE, RECORD_FILE, METRICS_CSV, METRICS_PARQUET] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let loaded = Network::load_posterior(&prior, dir.path().join(WEIGHTS_FILE)).unwrap();
    let (mut mq, mut sq, mut mp, mut sp) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let f64s = |t: &candle_core::Tensor| -> Vec<f64> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap().into_iter().map(f64::from).collect()
    };
    for p in loaded.params() {
        mq.extend(f64s(p.mu().as_tensor()));
        sq.extend(
            p.rho()
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .into_iter()
                .map(|r| f64::from(softplus(r))),
        );
        mp.extend(f64s(p.prior_mu()));
        sp.extend(f64s(p.prior_sigma()));
    }
    let reference = kl_diag_gaussian(&mq, &sq, &mp, &sp).unwrap();
    assert!(outcome.kl > 0.01, "training moved Q away from P: {}", outcome.kl);
    assert!((outcome.kl - reference).abs() <= 1e-9 * reference.max(1.0), "{} vs {reference}", outcome.kl);
    let back = PosteriorRecord::load(dir.path()).unwrap();
    // JSON keeps every field (floats to within JSON's decimal round trip) but the clock.
    assert_eq!(
        (&back.objective, &back.settings, &back.split),
        (&record.objective, &record.settings, &record.split)
    );
    assert_eq!(
        (back.steps_run, back.n_bound, back.n_train),
        (record.steps_run, record.n_bound, record.n_train)
    );
    assert!(record.wall_seconds > 0.0 && back.wall_seconds.abs() < 1e-300);
    assert!(!std::fs::read_to_string(dir.path().join("posterior.json")).unwrap().contains("wall_seconds"));
    assert!((back.kl - reference).abs() <= 1e-9 * reference.max(1.0));
    assert_eq!(back.epochs_run, 4);
    let csv = std::fs::read_to_string(dir.path().join(METRICS_CSV)).unwrap();
    assert_eq!(csv.lines().count(), 6, "a header, the start and one row per epoch: {csv}");
    assert!(csv.lines().nth(1).is_some_and(|row| row.starts_with("0,")), "{csv}");
    assert!(csv.starts_with("epoch,objective,kl,risk,train_error,learning_rate,sigma_mean"), "{csv}");
    assert!(!csv.contains("seconds"), "the clock stays out of the data files: {csv}");
}

#[test]
fn a_warm_up_trains_the_mean_network_and_leaves_rho_at_the_prior() {
    let split = common::split(240);
    let (_, net) = common::network("linear-3-2", 0.3);
    let rho_before: Vec<Vec<f32>> =
        net.rho_vars().iter().map(|v| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap()).collect();
    let settings = PosteriorSettings {
        warmup_epochs: 6,
        warmup_learning_rate: 0.5,
        ..common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 1).settings().clone()
    }
    .check()
    .unwrap();
    let warm = settings.warmup().unwrap();
    let problem = PosteriorProblem::new(&net, &split, &warm).unwrap();
    let before = problem.evaluate(&mut Noise::new(2)).unwrap();
    let outcome = train(&net, &split, &settings, TrainOptions::default()).unwrap();
    assert_eq!(outcome.warmup.len(), 6);
    let last_warmup = outcome.warmup.last().unwrap();
    assert!(last_warmup.risk < before.risk - 0.01, "{before:?} -> {last_warmup:?}");
    // The bound's training starts where the warm-up ended: its epoch-0 KL is that of the moved
    // mean alone, since ρ is still the prior's.
    assert!(outcome.metrics[0].kl > 0.1, "{:?}", outcome.metrics[0]);
    let fresh =
        PosteriorSettings { epochs: 1, warmup_epochs: 6, warmup_learning_rate: 0.5, ..Default::default() };
    let (_, again) = common::network("linear-3-2", 0.3);
    let warm_only = fresh.check().unwrap().warmup().unwrap();
    assert_eq!(warm_only.mode(), pacbayes_nn::Mode::Mean);
    train(&again, &split, &warm_only, TrainOptions::default()).unwrap();
    for (var, before) in again.rho_vars().iter().zip(&rho_before) {
        assert_eq!(&var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap(), before);
    }
}
