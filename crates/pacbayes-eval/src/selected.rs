//! A certificate re-computed for having been chosen: the run with the lowest certificate among K
//! finished runs (a sweep) is certified again as one of K configurations, from its recorded
//! quantities, with no new sampling.

use pacbayes_bounds::Ledger;

use crate::record::kl_certificate;
use crate::{CertificateRecord, Error, HeldoutRecord, Result, configurations_charge};

impl CertificateRecord {
    /// This certificate as that of a run chosen among `k` configurations by their certificates (a
    /// run chosen among K₀ already is then one of K₀·k): its settings record the new count, the
    /// ln(K₀·k) charge replaces the ln K₀ one, the Monte Carlo term is paid at δ′/(K₀·k), and the
    /// held-out baseline at the new total of charges. The estimate ê, the KL and every count are
    /// the recorded ones, so the result is what [`crate::certify`] would have written with
    /// `configurations = K₀·k`, and it verifies ([`CertificateRecord::verify`]).
    ///
    /// # Errors
    /// `k` = 0, or a record whose quantities no longer make a certificate.
    pub fn selected_among(&self, k: u64) -> Result<CertificateRecord> {
        if k == 0 {
            return Err(Error::InvalidSetting {
                name: "configurations",
                value: "0".into(),
                expected: "at least 1 configuration",
            });
        }
        let before = self.settings.configurations;
        let after = before.checked_mul(k).ok_or_else(|| Error::InvalidSetting {
            name: "configurations",
            value: format!("{before} × {k}"),
            expected: "a count below 2^64",
        })?;
        let old = configurations_charge(before)?;
        let new = configurations_charge(after)?;
        let prior = self.prior.charges.len();
        let rest = self.charges[prior..].iter().filter(|c| old.as_ref() != Some(*c));
        let ledger: Ledger = self.charges[..prior].iter().chain(&new).chain(rest).cloned().collect();
        let mut selected = self.clone();
        selected.settings.configurations = after;
        let s = &selected.settings;
        let mc_samples = self.protocol.mc_samples;
        selected.zero_one =
            kl_certificate(self.zero_one.emp_risk, self.kl, self.n_bound, s, mc_samples, &ledger)?;
        selected.cross_entropy =
            kl_certificate(self.cross_entropy.emp_risk, self.kl, self.n_bound, s, mc_samples, &ledger)?;
        selected.heldout = match &self.heldout {
            Some(h) => Some(HeldoutRecord::new(
                h.errors,
                h.n,
                s.delta,
                crate::heldout_charges_nats(ledger.charges()),
            )?),
            None => None,
        };
        selected.disintegrated = match &self.disintegrated {
            Some(d) => Some(d.recomputed(self.n_bound, s.delta, &ledger)?),
            None => None,
        };
        selected.charges = ledger.charges().to_vec();
        selected.gap = selected.zero_one.bound - self.test.stochastic;
        Ok(selected)
    }
}
