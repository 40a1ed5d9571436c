//! Synthetic data with a known true risk, for validity tests of certificates.
//!
//! x ~ N(0, I_d), the clean label is 1 when w*·x > 0 and 0 otherwise, and each label is flipped
//! independently with probability η. For the linear classifier h_w(x) = 1[w·x > 0] the population 0-1
//! risk is exactly
//!
//! R(w) = η + (1 − 2η) · θ(w, w*) / π,
//!
//! where θ is the angle between w and w*: by rotational symmetry of the Gaussian, h_w and h_{w*}
//! disagree on a set of probability θ/π, and a flip turns agreement into error and error into
//! agreement. A certificate for a Gaussian posterior over w can therefore be compared with the true
//! expected risk E_w[R(w)], estimated to any precision by drawing w alone.

use rand_distr::{Distribution, StandardNormal};

use crate::dataset::{Dataset, TrainTest};
use crate::error::{Error, Result};
use crate::split::rng;

/// The teacher: a direction w* and a label-noise rate η.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearTeacher {
    w_star: Vec<f64>,
    label_noise: f64,
}

impl LinearTeacher {
    /// A teacher with direction `w_star` (finite, not zero) and label noise η ∈ [0, 1/2].
    pub fn new(w_star: Vec<f64>, label_noise: f64) -> Result<Self> {
        if w_star.is_empty() || w_star.iter().any(|x| !x.is_finite()) || norm(&w_star) <= 0.0 {
            return Err(Error::InvalidArgument {
                name: "w_star",
                reason: "expected a finite, non-zero vector".into(),
            });
        }
        if !(0.0..=0.5).contains(&label_noise) {
            return Err(Error::InvalidFraction {
                name: "label_noise",
                value: label_noise,
                expected: "[0, 0.5]",
            });
        }
        Ok(LinearTeacher { w_star, label_noise })
    }

    /// The input dimension d.
    pub fn dim(&self) -> usize {
        self.w_star.len()
    }

    /// The teacher direction w*.
    pub fn w_star(&self) -> &[f64] {
        &self.w_star
    }

    /// The label-noise rate η.
    pub fn label_noise(&self) -> f64 {
        self.label_noise
    }

    /// `n` examples drawn with a ChaCha20 generator keyed by `seed` (features stored as `f32`; the clean
    /// label is computed from the stored values). Two classes, shape `[d]`.
    pub fn sample(&self, n: usize, seed: u64) -> Dataset {
        let d = self.dim();
        let mut rng = rng(seed);
        let mut features = Vec::with_capacity(n * d);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let start = features.len();
            features.extend((0..d).map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                z as f32
            }));
            let clean = dot(&self.w_star, &features[start..]) > 0.0;
            let u: f64 = rand::Rng::random(&mut rng);
            labels.push(u32::from(clean != (u < self.label_noise)));
        }
        let name = format!("synthetic-linear(d={d},label_noise={})", self.label_noise);
        Dataset::new(name, features, vec![d], labels, 2)
            .expect("Gaussian features are finite, labels are 0 or 1")
    }

    /// A training set of `n_train` and an independent test set of `n_test` examples.
    pub fn train_test(&self, n_train: usize, n_test: usize, seed: u64) -> TrainTest {
        TrainTest {
            train: self.sample(n_train, seed),
            test: self.sample(n_test, seed ^ 0x7e57_5eed_7e57_5eed),
        }
    }

    /// The population 0-1 risk of h_w(x) = 1[w·x > 0]: η + (1 − 2η)·θ(w, w*)/π.
    pub fn true_risk(&self, w: &[f64]) -> Result<f64> {
        if w.len() != self.dim() || w.iter().any(|x| !x.is_finite()) || norm(w) <= 0.0 {
            let reason = format!("expected a finite, non-zero vector of dimension {}", self.dim());
            return Err(Error::InvalidArgument { name: "w", reason });
        }
        let cos = (dot_f64(w, &self.w_star) / (norm(w) * norm(&self.w_star))).clamp(-1.0, 1.0);
        let eta = self.label_noise;
        Ok(eta + (1.0 - 2.0 * eta) * cos.acos() / std::f64::consts::PI)
    }
}

/// The empirical 0-1 risk of h_w(x) = 1[w·x > 0] on `data` (NaN for an empty dataset).
pub fn linear_empirical_risk(w: &[f64], data: &Dataset) -> Result<f64> {
    if w.len() != data.n_features() {
        let reason = format!("dimension {} for data with {} features", w.len(), data.n_features());
        return Err(Error::InvalidArgument { name: "w", reason });
    }
    let errors =
        (0..data.len()).filter(|&i| u32::from(dot(w, data.row(i)) > 0.0) != data.labels()[i]).count();
    Ok(errors as f64 / data.len() as f64)
}

fn dot(w: &[f64], x: &[f32]) -> f64 {
    w.iter().zip(x).map(|(a, &b)| a * f64::from(b)).sum()
}

fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(v: &[f64]) -> f64 {
    dot_f64(v, v).sqrt()
}
