//! `certificate.json`: everything a referee needs to recompute the bound without the network.

use std::time::Instant;

use pacbayes_bounds::{BoundInputs, BoundKind, Certificate, Charge, Ledger, McTerm};
use pacbayes_data::{BoundSet, Dataset, SplitManifest};
use pacbayes_nn::{Network, Noise};
use pacbayes_provenance::Provenance;
use serde::{Deserialize, Serialize};

use crate::{
    CertifySettings, CheckedSettings, DisintegratedRecord, Error, HeldoutRecord, Observer, Protocol, Result,
    TestErrors, certify_disintegrated, configurations_charge, delta_mc_per_configuration, disintegrated_seed,
    estimate, prior_mean_errors, test_errors,
};

/// The format tag of `certificate.json`; [`CertificateRecord::verify`] rejects any other.
pub const FORMAT: &str = "pacbayes-certificate/1";

/// What the prior was and what building it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorSummary {
    /// `learnt`, `data-free`, `from-file`, or a user's own name.
    pub kind: String,
    /// One line.
    pub description: String,
    /// The union-bound charges of choices made in building it.
    pub charges: Vec<Charge>,
    /// Their total in nats.
    pub union_cost_nats: f64,
}

/// How the empirical risk was estimated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolRecord {
    /// `fast` or `classic`.
    pub name: Protocol,
    /// k, for the fast protocol.
    pub repetitions: Option<u64>,
    /// m, for the classic protocol.
    pub draws: Option<u64>,
    /// The number of independent draws the Monte Carlo term is paid on: k·n or m.
    pub mc_samples: u64,
}

/// The seeds of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seeds {
    /// The seed of every weight draw of the certification.
    pub certify: u64,
    /// The seed of the split (as in the manifest).
    pub split: u64,
}

/// Wall times in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallTimes {
    /// Estimating the empirical risk on S_bound.
    pub emp_risk: f64,
    /// The test errors.
    pub test: f64,
    /// The whole certification.
    pub total: f64,
    /// Fitting the prior, when known (from the prior's record).
    #[serde(default)]
    pub prior: Option<f64>,
    /// Training the posterior, when known (from the posterior's record).
    #[serde(default)]
    pub posterior: Option<f64>,
}

impl WallTimes {
    /// Prior, posterior and certificate together: the wall time of the run.
    pub fn run(&self) -> f64 {
        self.prior.unwrap_or(0.0) + self.posterior.unwrap_or(0.0) + self.total
    }
}

/// The contents of `certificate.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRecord {
    /// [`FORMAT`].
    pub format: String,
    /// The pacbayes version that wrote it.
    pub version: String,
    /// The run's name (its folder).
    pub run: String,
    /// The dataset, as a `--dataset` value.
    pub dataset: String,
    /// The architecture's name.
    pub architecture: String,
    /// The training objective of the posterior.
    pub objective: String,
    /// The prior.
    pub prior: PriorSummary,
    /// A summary of the posterior, free-form.
    pub posterior: serde_json::Value,
    /// The split manifest: S_bound is the set the bound is computed on.
    pub split: SplitManifest,
    /// The settings of the certification.
    pub settings: CertifySettings,
    /// The seeds.
    pub seeds: Seeds,
    /// The protocol.
    pub protocol: ProtocolRecord,
    /// Every union-bound charge paid: the prior's first, then any other.
    pub charges: Vec<Charge>,
    /// n = |S_bound|.
    pub n_bound: u64,
    /// KL(Q‖P) in nats.
    pub kl: f64,
    /// KL/n.
    pub kl_over_n: f64,
    /// The certificate for the 0-1 loss.
    pub zero_one: Certificate,
    /// The certificate for the bounded cross-entropy.
    pub cross_entropy: Certificate,
    /// p_min of the bounded cross-entropy.
    pub p_min: f64,
    /// The test errors.
    pub test: TestErrors,
    /// bound (0-1) − stochastic test error.
    pub gap: f64,
    /// The held-out baseline: the test-set bound of the prior's mean network on S_bound, a separate
    /// certificate at its own confidence (see [`HeldoutRecord`]); absent in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heldout: Option<HeldoutRecord>,
    /// The disintegrated certificate for one network drawn from Q (see [`DisintegratedRecord`]);
    /// absent in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disintegrated: Option<DisintegratedRecord>,
    /// SHA-256 of the files the certificate is about, checked by `pacbayes verify --run`; absent in
    /// records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<FileHashes>,
    /// Wall times. Not written to `certificate.json`, which holds only what the computation
    /// determines; the command line writes them to the run's `timings.json`.
    #[serde(default, skip_serializing)]
    pub wall_seconds: WallTimes,
    /// The code and machine that computed it (`unknown` in records written before it was recorded).
    #[serde(default = "Provenance::unknown")]
    pub provenance: Provenance,
}

/// SHA-256 (lowercase hex) of what a certificate binds: the weights, the split and the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHashes {
    /// `prior.safetensors`.
    pub prior_safetensors: String,
    /// `posterior.safetensors`.
    pub posterior_safetensors: String,
    /// `network.safetensors`, when a disintegrated certificate was made.
    pub network_safetensors: Option<String>,
    /// The split manifest, as [`SplitManifest::to_json`] writes it.
    pub split_manifest: String,
    /// The training data, as the manifest's `content_sha256` records it.
    pub data: String,
}

/// What a certificate says about the run besides the network and the data.
#[derive(Debug, Clone, PartialEq)]
pub struct RunContext {
    /// The run's name.
    pub run: String,
    /// The dataset, as a `--dataset` value.
    pub dataset: String,
    /// The training objective of the posterior.
    pub objective: String,
    /// The prior.
    pub prior: PriorSummary,
    /// A summary of the posterior.
    pub posterior: serde_json::Value,
    /// The split manifest; its `n_bound` must be the size of the bound set.
    pub split: SplitManifest,
}

/// The kl certificate for an estimate $\hat e$ from `mc_samples` draws.
///
/// The Monte Carlo term is paid at δ′/K for a run chosen among K configurations.
pub(crate) fn kl_certificate(
    emp_risk: f64,
    kl: f64,
    n: u64,
    s: &CertifySettings,
    mc_samples: u64,
    ledger: &Ledger,
) -> Result<Certificate> {
    let inputs = BoundInputs::new(emp_risk, kl, n, s.delta)?;
    let mc = McTerm::new(mc_samples, delta_mc_per_configuration(s.delta_mc, s.configurations))?;
    Ok(Certificate::compute(&inputs, Some(mc), &BoundKind::Kl, ledger)?)
}

/// Certifies `network` (Q, with its prior P inside) on `bound`, reports its test errors on `test`,
/// and records everything.
///
/// The ledger holds the prior's charges (from `context.prior`), then ln K for a run chosen among
/// K = `settings.configurations` configurations ([`crate::configurations_charge`]; the Monte Carlo
/// term is then paid at δ′/K as well), then `extra` (other choices made on S_bound after the prior,
/// for example among posterior checkpoints). The empirical risk is
/// estimated by the protocol of `settings` (see [`crate::estimate`]); the same draws serve both
/// losses, and each certificate holds with probability at least $1 - \delta - \delta'$.
///
/// # Errors
/// A manifest whose `n_bound` differs from `bound.n()`, an empty test set, data that does not fit
/// the network, or a candle failure.
pub fn certify(
    network: &Network,
    bound: BoundSet<'_>,
    test: &Dataset,
    settings: &CheckedSettings,
    extra: &Ledger,
    context: RunContext,
    observer: &dyn Observer,
) -> Result<CertificateRecord> {
    let start = Instant::now();
    let n = bound.n() as u64;
    if context.split.n_bound != bound.n() {
        return Err(Error::InvalidData {
            what: "S_bound",
            reason: format!(
                "{} examples, but the manifest records n_bound = {}",
                bound.n(),
                context.split.n_bound
            ),
        });
    }
    let s = settings.settings();
    let mut root = Noise::new(s.seed);
    let (mut bound_noise, mut test_noise) = (root.fork(), root.fork());
    let risk = estimate(network, bound, settings, &mut bound_noise, observer)?;
    let tests = test_errors(network, test, settings, &mut test_noise, observer)?;
    let configurations = configurations_charge(s.configurations)?;
    let ledger: Ledger =
        context.prior.charges.iter().chain(&configurations).chain(extra.charges()).cloned().collect();
    // Rounding can leave the KL of a posterior at its prior a hair below 0 (the true value is ≥ 0);
    // anything more negative is an error that BoundInputs reports.
    let raw_kl = network.kl_value()?;
    let kl = if (-1e-6..0.0).contains(&raw_kl) { 0.0 } else { raw_kl };
    let heldout_errors = prior_mean_errors(network, bound, settings)?;
    let heldout =
        HeldoutRecord::new(heldout_errors, n, s.delta, crate::heldout_charges_nats(ledger.charges()))?;
    let (disintegrated, _) =
        certify_disintegrated(network, bound, settings, &ledger, disintegrated_seed(s.seed))?;
    let zero_one = kl_certificate(risk.zero_one, kl, n, s, risk.mc_samples, &ledger)?;
    let cross_entropy = kl_certificate(risk.cross_entropy, kl, n, s, risk.mc_samples, &ledger)?;
    Ok(CertificateRecord {
        format: FORMAT.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        run: context.run,
        dataset: context.dataset,
        architecture: network.architecture().to_string(),
        objective: context.objective,
        prior: context.prior,
        posterior: context.posterior,
        seeds: Seeds { certify: s.seed, split: context.split.seed },
        split: context.split,
        settings: s.clone(),
        protocol: ProtocolRecord {
            name: risk.protocol,
            repetitions: risk.repetitions,
            draws: risk.draws,
            mc_samples: risk.mc_samples,
        },
        charges: ledger.charges().to_vec(),
        n_bound: n,
        kl,
        kl_over_n: kl / n as f64,
        gap: zero_one.bound - tests.stochastic,
        heldout: Some(heldout),
        disintegrated: Some(disintegrated),
        files: None,
        zero_one,
        cross_entropy,
        p_min: s.p_min,
        wall_seconds: WallTimes {
            emp_risk: risk.seconds,
            test: tests.seconds,
            total: start.elapsed().as_secs_f64(),
            prior: None,
            posterior: None,
        },
        test: tests,
        provenance: Provenance::current(),
    })
}

impl CertificateRecord {
    /// A few lines for the terminal; bounds rounded up at 4 decimals.
    pub fn summary(&self) -> String {
        let p = &self.protocol;
        let how = match p.name {
            Protocol::Fast => format!("fast, k = {} repetitions", p.repetitions.unwrap_or(0)),
            Protocol::Classic => format!("classic, m = {} weight draws", p.draws.unwrap_or(0)),
        };
        let (z, c) = (&self.zero_one, &self.cross_entropy);
        // Upper bounds are shown rounded up, so that no printed bound is below the certified one.
        let up = |x: f64| crate::show(x, crate::Kind::UpperBound, 4);
        format!(
            "{run}: {arch} on {data}, n = {n}, KL = {kl:.2} nats (KL/n = {kln:.4}), union cost {u:.3} nats\n\
             protocol {how}: {mc} Monte Carlo draws, delta = {d}, delta_mc = {dmc}\n\
             0-1 loss:   emp risk {ez:.4} (upper {uz}) -> risk <= {bz}\n\
             bounded CE: emp risk {ec:.4} (upper {uc}) -> risk <= {bc}\n\
             test error: stochastic {ts:.4}, mean network {tm:.4}, ensemble of {te} {tv:.4}; gap {gap:.4}{held}{dis}",
            run = self.run,
            arch = self.architecture,
            data = self.dataset,
            n = self.n_bound,
            kl = self.kl,
            kln = self.kl_over_n,
            u = z.union_cost_nats,
            mc = p.mc_samples,
            d = z.delta,
            dmc = z.delta_mc.unwrap_or(0.0),
            ez = z.emp_risk,
            uz = up(z.emp_risk_upper),
            bz = up(z.bound),
            ec = c.emp_risk,
            uc = up(c.emp_risk_upper),
            bc = up(c.bound),
            ts = self.test.stochastic,
            tm = self.test.mean,
            te = self.test.ensemble_size,
            tv = self.test.ensemble,
            gap = self.gap,
            held = self.heldout.as_ref().map_or_else(String::new, |h| format!(
                "\nheld-out:   prior mean network {e}/{n} errors on S_bound -> risk <= {b} \
                 (test-set bound, delta = {d:.4}); advantage of PAC-Bayes {a:+.4}",
                e = h.errors,
                n = h.n,
                b = up(h.bound),
                d = h.delta,
                a = h.bound - z.bound,
            )),
            dis = self.disintegrated.as_ref().map_or_else(String::new, |d| format!(
                "\ndisintegrated: one network drawn from Q (seed {seed}), {e}/{n} errors on S_bound, \
                 ln dQ/dP = {r:.2} nats -> its risk <= {b}{renyi}",
                seed = d.seed,
                e = d.errors,
                n = self.n_bound,
                r = d.log_density_ratio,
                b = up(d.certificate.bound),
                renyi = d.renyi.as_ref().map_or_else(String::new, |x| format!(
                    "\n               Rényi form: D_{a} = {dv:.2} nats -> its risk <= {b}",
                    a = x.alpha,
                    dv = x.divergence,
                    b = up(x.bound),
                )),
            )),
        )
    }
}
