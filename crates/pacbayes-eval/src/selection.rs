//! The price of choosing a run among K configurations by their certificates.
//!
//! A run selected among $K$ configurations (posterior hyper-parameters, checkpoints, ...) after
//! comparing their certificates is certified by a union bound over all $K$: each of the $K$
//! PAC-Bayes bounds is taken at $\delta/K$, which adds $\ln K$ nats to the KL term, and each of the
//! $K$ Monte Carlo estimates at $\delta'/K$, which turns $\ln(2/\delta')/N$ into $\ln(2K/\delta')/N$.
//! Both are paid by [`crate::certify`] from `configurations` in the settings, and
//! [`crate::CertificateRecord::verify`] rejects a record that does not pay both in full.

use pacbayes_bounds::Charge;

use crate::Result;

/// The ln K charge for a run chosen among `configurations` (None when K = 1: nothing to pay).
///
/// # Errors
/// `configurations` = 0.
pub fn configurations_charge(configurations: u64) -> Result<Option<Charge>> {
    if configurations == 1 {
        return Ok(None);
    }
    let reason = format!("this run chosen among {configurations} configurations by their certificates");
    Ok(Some(Charge::choice(reason, configurations)?))
}

/// δ′/K: the confidence of the Monte Carlo term of a run chosen among K configurations.
pub fn delta_mc_per_configuration(delta_mc: f64, configurations: u64) -> f64 {
    delta_mc / configurations.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_configuration_costs_nothing_and_k_costs_ln_k() {
        assert!(configurations_charge(1).unwrap().is_none());
        let c = configurations_charge(8).unwrap().unwrap();
        assert!((c.cost_nats - 8f64.ln()).abs() < 1e-15);
        assert!(configurations_charge(0).is_err());
        assert!((delta_mc_per_configuration(0.01, 4) - 0.0025).abs() < 1e-18);
    }
}
