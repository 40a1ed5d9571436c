//! The surrogate loss: cross-entropy bounded to [0, 1].

use candle_core::{D, DType, Tensor};

use crate::Result;

/// The mean over the batch of the bounded cross-entropy
/// $-\ln(\max(p_y, p_\text{min})) / \ln(1/p_\text{min})$, computed from the log-softmax (so that no
/// probability underflows before the logarithm). Each term lies in [0, 1], so the mean is a risk
/// that a PAC-Bayes bound applies to. `labels` are u32 class indices.
///
/// # Errors
/// Shapes that do not fit, or a candle failure.
pub fn bounded_cross_entropy(logits: &Tensor, labels: &Tensor, p_min: f64) -> Result<Tensor> {
    let log_p = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_p.gather(&labels.unsqueeze(1)?, 1)?.squeeze(1)?;
    let floored = picked.maximum(p_min.ln())?;
    Ok(floored.mean_all()?.affine(-1.0 / (1.0 / p_min).ln(), 0.0)?)
}

/// The number of examples whose largest logit is not their label.
///
/// # Errors
/// Shapes that do not fit, or a candle failure.
pub fn misclassified(logits: &Tensor, labels: &Tensor) -> Result<usize> {
    let wrong = logits.argmax(1)?.ne(labels)?.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
    Ok(wrong as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_the_definition_and_stays_in_the_unit_interval() {
        let logits =
            Tensor::new(&[[2.0_f32, 0.0, -1.0], [0.0, 0.0, 0.0], [-40.0, 40.0, 0.0]], &Device::Cpu).unwrap();
        let labels = Tensor::new(&[0_u32, 2, 0], &Device::Cpu).unwrap();
        let p_min = 1e-5_f64;
        let got =
            f64::from(bounded_cross_entropy(&logits, &labels, p_min).unwrap().to_scalar::<f32>().unwrap());
        let p0 = 2f64.exp() / (2f64.exp() + 1.0 + (-1f64).exp());
        let p1: f64 = 1.0 / 3.0;
        let terms = [-p0.ln(), -p1.ln(), -p_min.ln()].map(|t| t / (1.0 / p_min).ln());
        let expected = terms.iter().sum::<f64>() / 3.0;
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        assert!(terms[2] <= 1.0 + 1e-12 && got <= 1.0);
        assert_eq!(misclassified(&logits, &labels).unwrap(), 2);
    }
}
