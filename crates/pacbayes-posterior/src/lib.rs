//! Posterior optimization: find the Gaussian Q over weights that minimizes a PAC-Bayes bound.
//!
//! Q starts at the prior P ([`Network::from_prior`](pacbayes_nn::Network::from_prior): μ = μ_P,
//! ρ = softplus⁻¹(σ_P)) and is trained on all of S or on S_bound only (the bound holds for every Q at
//! once as long as P never saw S_bound) by minimizing a training [`Objective`]: a bound evaluated on
//! the bounded cross-entropy, with n = |S_bound| in its KL term. The minibatch solver (SGD with
//! momentum or Adam, [`MinibatchSolver`]) implements argmin's `Solver` trait and runs under argmin's
//! `Executor`, one iteration per minibatch step, with a progress observer ([`ProgressHook`]),
//! checkpoints ([`CheckpointDir`], through argmin's `Checkpoint` trait), and three ways to stop:
//! the epoch budget, a wall-time budget and a stop flag. Small full-batch problems can also be
//! solved with argmin's L-BFGS ([`train_lbfgs`]).
//!
//! ```
//! use candle_core::Device;
//! use pacbayes_data::{LinearTeacher, Split, SplitConfig};
//! use pacbayes_nn::{Architecture, GaussianWeights, Network, Noise};
//! use pacbayes_posterior::{PosteriorProblem, PosteriorSettings, TrainOptions, train};
//!
//! let teacher = LinearTeacher::new(vec![1.0, -0.5], 0.05)?;
//! let split = Split::new(teacher.sample(300, 1), SplitConfig::new(0.5, 2)?)?;
//! let prior = GaussianWeights::random(Architecture::Linear { inputs: 2, classes: 2 }, 0.1, 3, &Device::Cpu)?;
//! let net = Network::from_prior(&prior)?;
//! let settings = PosteriorSettings { epochs: 5, batch_size: 50, learning_rate: 0.05, ..Default::default() }
//!     .check()?;
//! let before = PosteriorProblem::new(&net, &split, &settings)?.evaluate(&mut Noise::new(9))?;
//! let outcome = train(&net, &split, &settings, TrainOptions::default())?;
//! assert_eq!(outcome.metrics.len(), 6); // epoch 0 (the start), then 5 epochs
//! let after = PosteriorProblem::new(&net, &split, &settings)?.evaluate(&mut Noise::new(9))?;
//! assert!(after.objective < before.objective);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every random draw is seeded: the example order of epoch e by (seed, e), the noise of step s of
//! epoch e by (seed, e, s), so that a run stopped and resumed from its checkpoint ends with the same
//! Q, bit for bit, as one that ran through. A NaN or infinite risk, KL or objective stops training
//! with [`Error::NonFinite`], naming the epoch, the step and the term.

mod checkpoint;
mod choices;
mod error;
mod lbfgs;
mod loss;
mod metrics;
mod objective;
mod observer;
mod problem;
mod record;
mod settings;
mod solver;
mod train;
mod warmup;

pub use checkpoint::{CHECKPOINT_STATE, CHECKPOINT_TENSORS, CheckpointDir, CheckpointRecord};
pub use choices::{LearningRateSchedule, OptimizerKind, Preconditioner, TrainMode, TrainOn};
pub use error::{Error, Result};
pub use lbfgs::{FullBatchObjective, LbfgsOutcome, train_lbfgs};
pub use loss::{bounded_cross_entropy, misclassified};
pub use metrics::{EpochMetrics, metrics_frame, write_metrics};
pub use objective::{Objective, ObjectiveKind, ObjectiveScale, kl_inv_gradients, optimal_lambda};
pub use observer::ProgressHook;
pub use problem::{Evaluation, PosteriorProblem, StepTerms, TrainingData};
pub use record::{
    CHECKPOINT_DIR, METRICS_CSV, METRICS_PARQUET, PosteriorRecord, RECORD_FILE, WEIGHTS_FILE, save_posterior,
};
pub use settings::{CheckedSettings, Optimizer, PosteriorSettings};
pub use solver::{EpochSums, MinibatchSolver, PosteriorState, StepHandle, stream_seed};
pub use train::{StopReason, TrainOptions, TrainOutcome, train};
