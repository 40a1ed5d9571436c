//! How many examples each figure times: the same numbers as `BUDGETS` in
//! `benches/pytorch/bench.py`, so that both harnesses do the same work.

use serde::{Deserialize, Serialize};

/// Examples prior training runs over in one epoch (|S_prior| with prior fraction 0.5).
pub const PRIOR_EPOCH: usize = 30_000;
/// Examples posterior training runs over in one epoch (all of S).
pub const POSTERIOR_EPOCH: usize = 60_000;
/// Examples a certificate evaluates (|S_bound| with prior fraction 0.5).
pub const BOUND_EXAMPLES: usize = 30_000;
/// Examples per training step.
pub const BATCH: usize = 250;
/// Examples per forward pass when evaluating a certificate.
pub const EVAL_BATCH: usize = 1000;
/// Side of the square matrices of the matrix-product figure.
pub const MATMUL_N: usize = 1024;

/// Examples timed per figure; what is timed is scaled to a whole epoch (or to |S_bound|).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Prior-training examples timed for the FCN.
    pub prior_fcn: usize,
    /// Prior-training examples timed for the CNN.
    pub prior_cnn: usize,
    /// Posterior-training examples timed for the FCN, per forward mode.
    pub posterior_fcn: usize,
    /// Posterior-training examples timed for the CNN, per forward mode.
    pub posterior_cnn: usize,
    /// Bound examples evaluated per draw and per fast-protocol pass.
    pub bound: usize,
    /// Timed repetitions of the classic draw and of the fast pass.
    pub draws: usize,
    /// Timed repetitions of the matrix product.
    pub matmul_reps: usize,
    /// Untimed steps (or repetitions) before each timing.
    pub warmup_steps: usize,
}

impl Budget {
    /// The full run: whole epochs where they take seconds, fractions of an epoch for the CNN.
    pub fn full() -> Self {
        Self {
            prior_fcn: PRIOR_EPOCH,
            prior_cnn: 7_500,
            posterior_fcn: POSTERIOR_EPOCH,
            posterior_cnn: 5_000,
            bound: BOUND_EXAMPLES,
            draws: 3,
            matmul_reps: 20,
            warmup_steps: 2,
        }
    }

    /// A smoke test: a few steps of each figure.
    pub fn quick() -> Self {
        Self {
            prior_fcn: 1_000,
            prior_cnn: 500,
            posterior_fcn: 500,
            posterior_cnn: 250,
            bound: 2_000,
            draws: 1,
            matmul_reps: 3,
            warmup_steps: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_fit_in_their_epochs_and_the_json_keys_are_the_baselines() {
        for b in [Budget::full(), Budget::quick()] {
            assert!(b.prior_fcn <= PRIOR_EPOCH && b.prior_cnn <= PRIOR_EPOCH);
            assert!(b.posterior_fcn <= POSTERIOR_EPOCH && b.posterior_cnn <= POSTERIOR_EPOCH);
            assert!(b.bound <= BOUND_EXAMPLES && b.draws >= 1 && b.matmul_reps >= 1);
        }
        let json = serde_json::to_value(Budget::quick()).expect("serializable");
        let mut keys: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        let expected = [
            "bound",
            "draws",
            "matmul_reps",
            "posterior_cnn",
            "posterior_fcn",
            "prior_cnn",
            "prior_fcn",
            "warmup_steps",
        ];
        assert_eq!(keys, expected);
    }
}
