//! KL divergence between diagonal Gaussians, in f64: the reference the tensor code is tested against.
//!
//! $$\mathrm{KL}\bigl(\mathcal N(\mu_q,\sigma_q^2)\,\|\,\mathcal N(\mu_p,\sigma_p^2)\bigr)
//! = \ln\frac{\sigma_p}{\sigma_q} + \frac{\sigma_q^2 + (\mu_q-\mu_p)^2}{2\sigma_p^2} - \frac12,$$
//! summed over coordinates. With $x = \sigma_q/\sigma_p - 1$ it is evaluated as
//! $\tfrac12\bigl(x(2+x) - 2\ln(1+x) + ((\mu_q-\mu_p)/\sigma_p)^2\bigr)$, which keeps its accuracy
//! when Q is close to P.

use crate::{Error, Result, check};

/// KL for one coordinate.
///
/// # Errors
/// A non-finite mean, or a scale that is not finite and positive.
pub fn kl_gaussian(mu_q: f64, sigma_q: f64, mu_p: f64, sigma_p: f64) -> Result<f64> {
    let sigma_q = check::positive("sigma_q", sigma_q)?;
    let sigma_p = check::positive("sigma_p", sigma_p)?;
    if !mu_q.is_finite() {
        return Err(Error::InvalidValue { name: "mu_q", value: mu_q, expected: "a finite number" });
    }
    if !mu_p.is_finite() {
        return Err(Error::InvalidValue { name: "mu_p", value: mu_p, expected: "a finite number" });
    }
    let x = (sigma_q - sigma_p) / sigma_p;
    let z = (mu_q - mu_p) / sigma_p;
    Ok((0.5 * (x * (2.0 + x) - 2.0 * x.ln_1p() + z * z)).max(0.0))
}

/// KL summed over coordinates of diagonal Gaussians given as parallel slices.
///
/// # Errors
/// Slices of different lengths, or any invalid coordinate (see [`kl_gaussian`]).
///
/// ```
/// # use pacbayes_bounds::kl_diag_gaussian;
/// let kl = kl_diag_gaussian(&[0.0, 1.0], &[0.1, 0.1], &[0.0, 0.0], &[0.1, 0.1])?;
/// assert!((kl - 50.0).abs() < 1e-12); // (1 − 0)² / (2 · 0.1²)
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn kl_diag_gaussian(mu_q: &[f64], sigma_q: &[f64], mu_p: &[f64], sigma_p: &[f64]) -> Result<f64> {
    let len = mu_q.len();
    for (name, other) in [("sigma_q", sigma_q.len()), ("mu_p", mu_p.len()), ("sigma_p", sigma_p.len())] {
        if other != len {
            return Err(Error::LengthMismatch { name, len: other, reference: "mu_q", expected: len });
        }
    }
    let mut total = 0.0;
    for i in 0..len {
        total += kl_gaussian(mu_q[i], sigma_q[i], mu_p[i], sigma_p[i])?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn matches_the_textbook_formula() {
        let (mq, sq, mp, sp) = (0.3_f64, 0.02_f64, -0.1_f64, 0.05_f64);
        let textbook = (sp / sq).ln() + (sq * sq + (mq - mp).powi(2)) / (2.0 * sp * sp) - 0.5;
        assert_relative_eq!(kl_gaussian(mq, sq, mp, sp).unwrap(), textbook, max_relative = 1e-14);
    }

    #[test]
    fn zero_for_identical_and_accurate_when_close() {
        assert!(kl_gaussian(0.2, 0.1, 0.2, 0.1).unwrap().abs() < 1e-300);
        // σ_q = σ_p(1 + h): KL ≈ h² for small h.
        let h = 1e-6;
        assert_relative_eq!(kl_gaussian(0.0, 0.1 * (1.0 + h), 0.0, 0.1).unwrap(), h * h, max_relative = 1e-5);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(kl_gaussian(0.0, 0.0, 0.0, 1.0).is_err());
        assert!(kl_gaussian(0.0, 1.0, f64::NAN, 1.0).is_err());
        assert!(matches!(
            kl_diag_gaussian(&[0.0], &[1.0, 1.0], &[0.0], &[1.0]),
            Err(Error::LengthMismatch { name: "sigma_q", .. })
        ));
    }
}
