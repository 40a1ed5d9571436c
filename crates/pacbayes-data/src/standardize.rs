//! Feature standardization fitted on the prior side of a split only.
//!
//! The mean and scale become part of every hypothesis (the network sees standardized inputs), so they
//! may not depend on S_bound: a prior must be chosen without looking at the data the bound is computed
//! on. They are fitted on S_prior and its validation slice, and applied to every part and to the test
//! set. With α = 0 there is nothing to fit on and [`Standardizer::fit`] refuses.

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::split::Split;

/// Per-feature mean and scale: `x ↦ (x − mean) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// The mean of each feature over the prior side.
    pub mean: Vec<f32>,
    /// The standard deviation of each feature over the prior side (1 where it is 0).
    pub scale: Vec<f32>,
}

impl Standardizer {
    /// Fits on the prior side of `split` (S_prior and the validation slice), never on S_bound.
    pub fn fit(split: &Split) -> Result<Self> {
        let prior = split.prior();
        let d = prior.n_features();
        let rows: Vec<usize> = split.prior_side().collect();
        if rows.is_empty() {
            return Err(Error::EmptyPart { dataset: split.dataset_name().to_owned(), part: "prior" });
        }
        let data = split.dataset();
        let mut mean = vec![0.0f64; d];
        for &i in &rows {
            for (m, &x) in mean.iter_mut().zip(data.row(i)) {
                *m += f64::from(x);
            }
        }
        let n = rows.len() as f64;
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; d];
        for &i in &rows {
            for ((v, &x), m) in var.iter_mut().zip(data.row(i)).zip(&mean) {
                *v += (f64::from(x) - m).powi(2);
            }
        }
        let scale =
            var.iter().map(|v| (v / n).sqrt()).map(|s| if s > 0.0 { s as f32 } else { 1.0 }).collect();
        Ok(Standardizer { mean: mean.iter().map(|&m| m as f32).collect(), scale })
    }

    /// Standardizes every example of `data` in place. Fails if the feature count differs.
    pub fn apply(&self, data: &mut Dataset) -> Result<()> {
        if data.n_features() != self.mean.len() {
            let reason =
                format!("{} features, but the standardizer has {}", data.n_features(), self.mean.len());
            return Err(Error::InvalidArgument { name: "features", reason });
        }
        let d = self.mean.len();
        for row in data.features_mut().chunks_exact_mut(d) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = (*x - m) / s;
            }
        }
        Ok(())
    }
}

impl Split {
    /// Fits a [`Standardizer`] on the prior side, applies it to the whole training set (every part)
    /// and to `test`, and returns it. The manifest keeps the content hash of the data as split.
    pub fn standardize(&mut self, test: &mut Dataset) -> Result<Standardizer> {
        let st = Standardizer::fit(self)?;
        st.apply(test)?;
        st.apply(self.dataset_mut())?;
        Ok(st)
    }
}
