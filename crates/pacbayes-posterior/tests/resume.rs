//! Checkpoints: a run stopped and resumed ends with the same Q, bit for bit, as one that ran
//! through; a non-finite term stops training, names where, and keeps the last good checkpoint.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{Tensor, Var};
use pacbayes_posterior::{
    CHECKPOINT_STATE, CheckpointRecord, EpochMetrics, Error, ObjectiveKind, OptimizerKind, PosteriorSettings,
    ProgressHook, StopReason, TrainOptions, train,
};

fn through(
    objective: ObjectiveKind,
    optimizer: OptimizerKind,
    epochs: usize,
) -> (Vec<u32>, Vec<EpochMetrics>) {
    let split = common::split(200);
    let (_, net) = common::network("linear-3-2", 0.3);
    let outcome =
        train(&net, &split, &common::settings(objective, optimizer, epochs), TrainOptions::default())
            .unwrap();
    (common::bits(&net), outcome.metrics)
}

#[test]
fn stopped_after_some_epochs_and_resumed_equals_uninterrupted() {
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let (expected, metrics) = through(ObjectiveKind::FQuad, optimizer, 5);
        let split = common::split(200);
        let dir = tempfile::tempdir().unwrap();
        let options = |resume| TrainOptions {
            checkpoint_dir: Some(dir.path().join("checkpoint")),
            resume,
            ..TrainOptions::default()
        };
        let (_, first) = common::network("linear-3-2", 0.3);
        train(&first, &split, &common::settings(ObjectiveKind::FQuad, optimizer, 2), options(false)).unwrap();
        assert_ne!(common::bits(&first), expected);
        // A fresh process: a new network at the prior, restored from the checkpoint.
        let (_, second) = common::network("linear-3-2", 0.3);
        let outcome =
            train(&second, &split, &common::settings(ObjectiveKind::FQuad, optimizer, 5), options(true))
                .unwrap();
        assert_eq!(common::bits(&second), expected, "{optimizer}");
        assert_eq!(outcome.metrics.len(), 6);
        // The metrics of the first epochs come back from the checkpoint's JSON (to within its
        // decimal round trip); those after the resume are recomputed from the same Q.
        for (a, b) in outcome.metrics.iter().zip(&metrics) {
            assert_eq!(a.epoch, b.epoch);
            assert!(
                (a.objective - b.objective).abs() <= 1e-12 && (a.kl - b.kl).abs() <= 1e-12 * b.kl.max(1.0)
            );
        }
    }
}

/// Sets the stop flag after a given step of a given epoch, as a Ctrl-C handler would.
struct StopAt {
    epoch: usize,
    step: usize,
    flag: Arc<AtomicBool>,
}

impl ProgressHook for StopAt {
    fn step(&mut self, epoch: usize, step: usize, _steps: usize) {
        if (epoch, step) == (self.epoch, self.step) {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_stop_in_the_middle_of_an_epoch_resumes_bit_for_bit() {
    let (expected, _) = through(ObjectiveKind::FKl, OptimizerKind::Adam, 4);
    let split = common::split(200);
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("checkpoint");
    let flag = Arc::new(AtomicBool::new(false));
    let (_, first) = common::network("linear-3-2", 0.3);
    let options = TrainOptions {
        checkpoint_dir: Some(checkpoint.clone()),
        resume: false,
        stop: flag.clone(),
        hook: Box::new(StopAt { epoch: 2, step: 3, flag: flag.clone() }),
    };
    let stopped =
        train(&first, &split, &common::settings(ObjectiveKind::FKl, OptimizerKind::Adam, 4), options)
            .unwrap();
    assert_eq!(stopped.stop_reason, StopReason::Interrupted);
    assert_eq!(stopped.steps_done, stopped.steps_per_epoch as u64 + 3);
    assert_eq!(stopped.metrics.len(), 2);
    let record: CheckpointRecord =
        serde_json::from_str(&std::fs::read_to_string(checkpoint.join(CHECKPOINT_STATE)).unwrap()).unwrap();
    assert_eq!(record.steps_done, stopped.steps_done);
    let (_, second) = common::network("linear-3-2", 0.3);
    let options = TrainOptions { checkpoint_dir: Some(checkpoint), resume: true, ..TrainOptions::default() };
    let resumed =
        train(&second, &split, &common::settings(ObjectiveKind::FKl, OptimizerKind::Adam, 4), options)
            .unwrap();
    assert_eq!(resumed.stop_reason, StopReason::Completed);
    assert_eq!(resumed.metrics.len(), 5);
    assert_eq!(common::bits(&second), expected);
}

#[test]
fn resuming_with_other_settings_or_without_a_checkpoint_is_an_error() {
    let split = common::split(200);
    let dir = tempfile::tempdir().unwrap();
    let options = |resume| TrainOptions {
        checkpoint_dir: Some(dir.path().join("checkpoint")),
        resume,
        ..TrainOptions::default()
    };
    let (_, net) = common::network("linear-3-2", 0.3);
    let missing =
        train(&net, &split, &common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 2), options(true))
            .unwrap_err();
    assert!(matches!(missing, Error::Resume { .. }), "{missing}");
    train(&net, &split, &common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 1), options(false))
        .unwrap();
    let other =
        train(&net, &split, &common::settings(ObjectiveKind::FClassic, OptimizerKind::Sgd, 2), options(true))
            .unwrap_err();
    assert!(other.to_string().contains("objective"), "{other}");
}

/// Breaks the posterior after a given step, as a diverging update would: ρ so large that σ²
/// overflows f32.
struct Sabotage {
    at: (usize, usize),
    rho: Var,
}

impl ProgressHook for Sabotage {
    fn step(&mut self, epoch: usize, step: usize, _steps: usize) {
        if (epoch, step) == self.at {
            let huge = Tensor::full(1e30_f32, self.rho.shape(), self.rho.device()).unwrap();
            self.rho.set(&huge).unwrap();
        }
    }
}

#[test]
fn a_non_finite_term_names_epoch_step_and_term_and_keeps_the_last_good_checkpoint() {
    let split = common::split(200);
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("checkpoint");
    let (_, net) = common::network("linear-3-2", 0.3);
    let settings = common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 4);
    let options = TrainOptions {
        checkpoint_dir: Some(checkpoint.clone()),
        hook: Box::new(Sabotage { at: (3, 1), rho: net.rho_vars()[0].clone() }),
        ..TrainOptions::default()
    };
    let err = train(&net, &split, &settings, options).unwrap_err();
    let Error::NonFinite { epoch, step, term, value } = err else { panic!("expected NonFinite, got {err}") };
    assert_eq!((epoch, step), (3, 2), "{term} {value}");
    // σ² overflows: the pre-activation noise is infinite, the logits NaN.
    assert_eq!(term, "risk");
    assert!(!value.is_finite());
    let message = Error::NonFinite { epoch, step, term, value }.to_string();
    assert!(message.contains("epoch 3, step 2") && message.contains(term), "{message}");
    // The checkpoint is the one written at the end of epoch 2, and it resumes to the end.
    let record: CheckpointRecord =
        serde_json::from_str(&std::fs::read_to_string(checkpoint.join(CHECKPOINT_STATE)).unwrap()).unwrap();
    assert_eq!(record.history.len(), 3);
    assert_eq!(record.steps_done as usize, 2 * split.n_train().div_ceil(40));
    let (_, fresh) = common::network("linear-3-2", 0.3);
    let options = TrainOptions { checkpoint_dir: Some(checkpoint), resume: true, ..TrainOptions::default() };
    let resumed = train(&fresh, &split, &settings, options).unwrap();
    assert_eq!(resumed.metrics.len(), 5);
    assert!(resumed.kl.is_finite());
}

/// Sets ρ to NaN after the last step of an epoch: the end-of-epoch check refuses to checkpoint it.
struct NanAfterStep {
    at: (usize, usize),
    mu: Var,
}

impl ProgressHook for NanAfterStep {
    fn step(&mut self, epoch: usize, step: usize, _steps: usize) {
        if (epoch, step) == self.at {
            let nan = Tensor::full(f32::NAN, self.mu.shape(), self.mu.device()).unwrap();
            self.mu.set(&nan).unwrap();
        }
    }
}

#[test]
fn non_finite_parameters_are_caught_before_they_are_checkpointed() {
    let split = common::split(200);
    let steps = split.n_train().div_ceil(40);
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("checkpoint");
    let (_, net) = common::network("linear-3-2", 0.3);
    let options = TrainOptions {
        checkpoint_dir: Some(checkpoint.clone()),
        hook: Box::new(NanAfterStep { at: (1, steps - 1), mu: net.mean_vars()[1].clone() }),
        ..TrainOptions::default()
    };
    let err = train(&net, &split, &common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 3), options)
        .unwrap_err();
    let Error::NonFinite { epoch, step, term, .. } = err else { panic!("expected NonFinite, got {err}") };
    assert_eq!((epoch, step), (1, steps), "{term}");
    assert!(!checkpoint.exists(), "no checkpoint of a broken posterior is written");
}

#[test]
fn a_spent_time_budget_stops_cleanly_and_the_run_resumes() {
    let (expected, _) = through(ObjectiveKind::FQuad, OptimizerKind::Sgd, 3);
    let split = common::split(200);
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("checkpoint");
    let budget = PosteriorSettings {
        max_seconds: Some(1e-9),
        ..common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 3).settings().clone()
    }
    .check()
    .unwrap();
    let (_, net) = common::network("linear-3-2", 0.3);
    let options = TrainOptions { checkpoint_dir: Some(checkpoint.clone()), ..TrainOptions::default() };
    let stopped = train(&net, &split, &budget, options).unwrap();
    assert_eq!(stopped.stop_reason, StopReason::TimeBudget);
    assert!(stopped.steps_done < 3 * stopped.steps_per_epoch as u64);
    assert!(checkpoint.join(CHECKPOINT_STATE).is_file());
    let options = TrainOptions { checkpoint_dir: Some(checkpoint), resume: true, ..TrainOptions::default() };
    let resumed =
        train(&net, &split, &common::settings(ObjectiveKind::FQuad, OptimizerKind::Sgd, 3), options).unwrap();
    assert_eq!(resumed.stop_reason, StopReason::Completed);
    assert_eq!(common::bits(&net), expected);
}
