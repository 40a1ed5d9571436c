//! The two bounded losses a certificate is computed for.
//!
//! - the 0-1 loss $\mathbf 1[\arg\max_c f_c(x) \ne y]$ (ties go to the smallest class index);
//! - the bounded cross-entropy of Pérez-Ortiz et al. (2021),
//!   $\ell(x, y) = -\ln\max(p_y, p_{\min}) / \ln(1/p_{\min}) \in [0, 1]$, with $p$ the softmax of
//!   the logits, computed in f64.

use candle_core::Tensor;

use crate::{Error, Result};

/// Sums of both losses over some examples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LossSums {
    /// Σ 0-1 loss.
    pub zero_one: f64,
    /// Σ bounded cross-entropy.
    pub cross_entropy: f64,
    /// The number of examples.
    pub count: u64,
}

impl std::ops::Add for LossSums {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            zero_one: self.zero_one + other.zero_one,
            cross_entropy: self.cross_entropy + other.cross_entropy,
            count: self.count + other.count,
        }
    }
}

impl LossSums {
    /// The mean 0-1 loss and the mean bounded cross-entropy (0 for no example).
    pub fn means(&self) -> (f64, f64) {
        let n = self.count.max(1) as f64;
        (self.zero_one / n, self.cross_entropy / n)
    }
}

/// The bounded cross-entropy of one row of logits for label `y`.
pub fn bounded_cross_entropy(logits: &[f32], y: usize, p_min: f64) -> f64 {
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let log_norm = max + logits.iter().map(|&v| (f64::from(v) - max).exp()).sum::<f64>().ln();
    let log_p = f64::from(logits[y]) - log_norm;
    let clipped = log_p.max(p_min.ln());
    // -ln max(p, p_min) / ln(1/p_min), clamped against rounding outside [0, 1].
    (-clipped / -p_min.ln()).clamp(0.0, 1.0)
}

/// The predicted class of one row of logits (the first maximum).
pub fn predicted(logits: &[f32]) -> usize {
    let mut best = 0;
    for (c, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = c;
        }
    }
    best
}

/// The logits of a batch as rows of f32 values, checked to be finite.
pub(crate) fn rows(logits: &Tensor) -> Result<(Vec<f32>, usize)> {
    let classes = logits.dim(1)?;
    let values = logits.flatten_all()?.to_vec1::<f32>()?;
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(Error::InvalidData { what: "logits", reason: format!("the network produced {v}") });
    }
    Ok((values, classes))
}

/// Both losses summed over a batch of logits and its labels.
///
/// # Errors
/// Non-finite logits, or a candle failure.
pub fn loss_sums(logits: &Tensor, labels: &[u32], p_min: f64) -> Result<LossSums> {
    let (values, classes) = rows(logits)?;
    let mut sums = LossSums::default();
    if values.len() != classes * labels.len() {
        let reason = format!("{} rows of logits for {} labels", values.len() / classes.max(1), labels.len());
        return Err(Error::InvalidData { what: "labels", reason });
    }
    for (row, &y) in values.chunks_exact(classes).zip(labels) {
        let y = y as usize;
        if y >= classes {
            return Err(Error::InvalidData {
                what: "labels",
                reason: format!("label {y} for a network with {classes} classes"),
            });
        }
        sums.zero_one += f64::from(u8::from(predicted(row) != y));
        sums.cross_entropy += bounded_cross_entropy(row, y, p_min);
        sums.count += 1;
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cross_entropy_lies_in_the_unit_interval() {
        let p_min = 1e-5;
        // Uniform over 2 classes: ln 2 / ln 1e5.
        let uniform = bounded_cross_entropy(&[0.0, 0.0], 0, p_min);
        assert!((uniform - 2f64.ln() / 1e5f64.ln()).abs() < 1e-12);
        // A confident mistake is clipped at p_min: loss 1.
        assert!((bounded_cross_entropy(&[100.0, -100.0], 1, p_min) - 1.0).abs() < 1e-12);
        assert!(bounded_cross_entropy(&[100.0, -100.0], 0, p_min).abs() < 1e-12);
        assert_eq!(predicted(&[0.1, 0.7, 0.7]), 1);
    }
}
