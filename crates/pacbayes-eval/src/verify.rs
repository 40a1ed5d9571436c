//! Checking a `certificate.json` without the network: every bound recomputed from the recorded
//! quantities, and every recorded quantity checked against the others.

use std::path::Path;

use pacbayes_bounds::Certificate;

use crate::{
    CertificateRecord, Error, FORMAT, HeldoutRecord, Protocol, Result, configurations_charge,
    delta_mc_per_configuration, disintegrated_seed,
};

/// Relative closeness for recorded f64 values that were computed by the same formula.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

fn reject<T>(field: &str, reason: impl Into<String>) -> Result<T> {
    Err(Error::rejected(field, reason))
}

fn check_close(field: &str, recorded: f64, expected: f64) -> Result<()> {
    if close(recorded, expected) {
        Ok(())
    } else {
        reject(field, format!("recorded {recorded}, expected {expected}"))
    }
}

fn check_unit(field: &str, x: f64) -> Result<()> {
    if (0.0..=1.0).contains(&x) { Ok(()) } else { reject(field, format!("{x} is not in [0, 1]")) }
}

impl CertificateRecord {
    /// Recomputes both certificates from their recorded inputs ([`Certificate::verify`]) and checks
    /// that the record is consistent: the format, n against the split manifest, δ and δ′ against
    /// the settings (δ′/K for a run chosen among K configurations), the Monte Carlo sample count
    /// against the protocol (k·n or m), the charges against the prior's and their sum, the ln K
    /// charge of the configurations, KL/n, the test errors and the gap.
    ///
    /// # Errors
    /// [`Error::Rejected`] naming the first field that does not check.
    pub fn verify(&self) -> Result<()> {
        if self.format != FORMAT {
            return reject(
                "format",
                format!("{:?} is not a known format (expected {FORMAT:?})", self.format),
            );
        }
        let version_ok = self.version.split('.').count() == 3
            && self.version.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !version_ok {
            return reject("version", format!("{:?} is not a version MAJOR.MINOR.PATCH", self.version));
        }
        let settings = self.settings.check().map_err(|e| Error::rejected("settings", e.to_string()))?;
        let s = settings.settings();
        let split = &self.split;
        if self.n_bound != split.n_bound as u64 {
            return reject(
                "n_bound",
                format!("{} differs from the manifest's n_bound = {}", self.n_bound, split.n_bound),
            );
        }
        if split.n_prior + split.n_validation + split.n_bound != split.n_train {
            return reject("split", "n_prior + n_validation + n_bound differs from n_train");
        }
        if split.bound_class_counts.iter().sum::<usize>() != split.n_bound {
            return reject("split.bound_class_counts", "the counts do not add up to n_bound");
        }
        if self.seeds.certify != s.seed || self.seeds.split != split.seed {
            return reject("seeds", "the seeds differ from the settings' and the manifest's");
        }
        let p = &self.protocol;
        let expected_samples = match (p.name, p.repetitions, p.draws) {
            (Protocol::Fast, Some(k), None) => k.checked_mul(self.n_bound),
            (Protocol::Classic, None, Some(m)) => Some(m),
            _ => return reject("protocol", "fast records repetitions only, classic draws only"),
        };
        if expected_samples != Some(p.mc_samples) {
            return reject("protocol.mc_samples", format!("{} is not what the protocol draws", p.mc_samples));
        }
        if p.name != s.protocol {
            return reject("protocol.name", "differs from the settings");
        }
        let prior_total = self.prior.charges.iter().fold(0.0, |t, c| t + c.cost_nats);
        check_close("prior.union_cost_nats", self.prior.union_cost_nats, prior_total)?;
        if !self.charges.starts_with(&self.prior.charges) {
            return reject("charges", "the prior's charges are not all paid");
        }
        if let Some(charge) = configurations_charge(s.configurations)? {
            if !self.charges[self.prior.charges.len()..].contains(&charge) {
                return reject(
                    "charges",
                    format!(
                        "settings.configurations = {} but no charge of ln {} = {} nats for that choice",
                        s.configurations, s.configurations, charge.cost_nats
                    ),
                );
            }
        }
        let delta_mc = delta_mc_per_configuration(s.delta_mc, s.configurations);
        for (name, cert) in [("zero_one", &self.zero_one), ("cross_entropy", &self.cross_entropy)] {
            self.check_certificate(name, cert, s.delta, delta_mc)?;
        }
        check_close("p_min", self.p_min, s.p_min)?;
        check_close("kl_over_n", self.kl_over_n, self.kl / self.n_bound as f64)?;
        let t = &self.test;
        if t.n_test == 0 || t.ensemble_size == 0 {
            return reject("test", "no test examples or an empty ensemble");
        }
        for (field, x) in
            [("test.stochastic", t.stochastic), ("test.mean", t.mean), ("test.ensemble", t.ensemble)]
        {
            check_unit(field, x)?;
        }
        check_close("gap", self.gap, self.zero_one.bound - t.stochastic)?;
        if let Some(h) = &self.heldout {
            if h.n != self.n_bound || h.errors > h.n {
                return reject(
                    "heldout.n",
                    format!("{} errors of {} examples, n_bound = {}", h.errors, h.n, self.n_bound),
                );
            }
            // δ_h may be smaller than the charges require (records of earlier versions paid every
            // charge), never larger; the bound must be the tail inversion at the recorded δ_h.
            let most =
                HeldoutRecord::new(h.errors, h.n, s.delta, crate::heldout_charges_nats(&self.charges))?;
            if !(h.delta > 0.0 && h.delta <= most.delta * (1.0 + 1e-12)) {
                return reject(
                    "heldout.delta",
                    format!("recorded {}, at most {} with the run's charges", h.delta, most.delta),
                );
            }
            let again = pacbayes_bounds::binomial_tail_upper(h.errors, h.n, h.delta)?;
            check_close("heldout.bound", h.bound, again)?;
        }
        if let Some(d) = &self.disintegrated {
            if d.seed != disintegrated_seed(s.seed) {
                return reject(
                    "disintegrated.seed",
                    format!("recorded {}, expected {}", d.seed, disintegrated_seed(s.seed)),
                );
            }
            let ledger: pacbayes_bounds::Ledger = self.charges.iter().cloned().collect();
            let expected = d
                .recomputed(self.n_bound, s.delta, &ledger)
                .map_err(|e| Error::rejected("disintegrated", e.to_string()))?;
            check_close("disintegrated.certificate.bound", d.certificate.bound, expected.certificate.bound)?;
            if d.certificate != expected.certificate {
                return reject(
                    "disintegrated.certificate",
                    "differs from its recomputation from errors, n, ln dQ/dP and the charges",
                );
            }
            if let Some(r) = &d.renyi {
                check_close("disintegrated.renyi.alpha", r.alpha, s.renyi_alpha)?;
                let again = expected.renyi.as_ref().map_or(f64::NAN, |e| e.bound);
                check_close("disintegrated.renyi.bound", r.bound, again)?;
                if d.renyi != expected.renyi {
                    return reject(
                        "disintegrated.renyi",
                        "differs from its recomputation from errors, n, the divergence and the charges",
                    );
                }
            }
        }
        let w = &self.wall_seconds;
        let stages = [w.prior.unwrap_or(0.0), w.posterior.unwrap_or(0.0)];
        if ![w.emp_risk, w.test, w.total].iter().chain(&stages).all(|x| x.is_finite() && *x >= 0.0) {
            return reject("wall_seconds", "times must be finite and non-negative");
        }
        Ok(())
    }

    fn check_certificate(&self, name: &str, cert: &Certificate, delta: f64, delta_mc: f64) -> Result<()> {
        let field = |f: &str| format!("{name}.{f}");
        cert.verify().map_err(|e| Error::rejected(name, e.to_string()))?;
        if cert.kind != "kl" {
            return reject(&field("kind"), format!("{:?}: a certificate here is a kl bound", cert.kind));
        }
        if cert.n != self.n_bound {
            return reject(&field("n"), format!("{} differs from n_bound = {}", cert.n, self.n_bound));
        }
        check_close(&field("kl"), cert.kl, self.kl)?;
        check_close(&field("delta"), cert.delta, delta)?;
        check_close(&field("delta_mc"), cert.delta_mc.unwrap_or(f64::NAN), delta_mc)?;
        if cert.mc_samples != Some(self.protocol.mc_samples) {
            return reject(&field("mc_samples"), "differs from the protocol's");
        }
        if cert.charges != self.charges || cert.grid.is_some() || cert.grid_charge.is_some() {
            return reject(&field("charges"), "differ from the charges recorded for the run");
        }
        if cert.bound > 1.0 {
            return reject(&field("bound"), "a risk bound above 1");
        }
        Ok(())
    }

    /// Reads a record from a JSON file.
    ///
    /// # Errors
    /// An unreadable file, [`Error::NotACertificate`] for JSON without the certificate's `format`,
    /// or a certificate record that does not parse (unknown keys included).
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.into(), source })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| Error::Json { path: path.into(), source })?;
        let not = |reason: String| Err(Error::NotACertificate { path: path.into(), reason });
        match value.get("format") {
            _ if !value.is_object() => return not("it holds no JSON object".into()),
            None => return not(format!("it has no \"format\": {FORMAT:?}")),
            Some(serde_json::Value::String(f)) if f == FORMAT => {}
            Some(other) => return not(format!("its format is {other}, not {FORMAT:?}")),
        }
        serde_json::from_value(value).map_err(|source| Error::Json { path: path.into(), source })
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record of numbers and strings serializes") + "\n"
    }

    /// Writes the record to the new file `path`, through a temporary sibling synced and renamed into
    /// place ([`pacbayes_nn::atomic::write_new`]): the rename itself refuses an existing file, so two
    /// writers racing for one path never overwrite each other.
    ///
    /// # Errors
    /// `path` exists already, or the file cannot be written.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        pacbayes_nn::atomic::write_new(path, self.to_json().as_bytes()).map_err(|source| {
            let source = if source.kind() == std::io::ErrorKind::AlreadyExists {
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "exists already; it is never overwritten",
                )
            } else {
                source
            };
            Error::Io { path: path.into(), source }
        })
    }
}
