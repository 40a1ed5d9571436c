//! `pacbayes verify FILE`: recompute a certificate from its recorded quantities.
//! `pacbayes verify --run DIR`: also bind it to the run's files and recount what can be recounted.
//!
//! With `--run`, on top of the checks of `verify FILE`:
//! - the SHA-256 of `prior.safetensors`, `posterior.safetensors`, `network.safetensors`, the split
//!   manifest and the data must equal the recorded ones (the data is reloaded and checked against
//!   the manifest's content hash);
//! - KL(Q‖P) is recomputed in f64 from the two weight files; a recorded KL below it (beyond
//!   10⁻⁶·max(1, KL) for the f32 accumulation of the certification) is rejected;
//! - the held-out errors of the prior's mean network and the disintegrated errors of
//!   `network.safetensors` on S_bound are recounted exactly, and ln dQ/dP(h) recomputed;
//! - the empirical Gibbs risk ê (0-1) is re-estimated by the fast protocol with fresh draws (seed
//!   `--seed`, repetitions until `--budget` seconds are spent, at least one). With ê_r the recorded
//!   mean of N_r independent [0, 1] variables and ê_f the fresh mean of N_f, both with mean
//!   $\hat R_S(Q)$, Hoeffding's inequality gives
//!   $\Pr[|\hat e - \hat R_S(Q)| > t] \le 2e^{-2Nt^2}$; with $t_N = \sqrt{\ln(4/10^{-6})/(2N)}$ for
//!   each, a record is rejected when $|\hat e_r - \hat e_f| > t_{N_r} + t_{N_f}$, which happens to an
//!   honest record with probability at most $10^{-6}$.
//!
//! Every rejection names the field and both values, with exit status 2.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use pacbayes_eval::{CertificateRecord, LossSums, estimate_fast};
use pacbayes_nn::{Network, Noise};

use crate::exit::UsageError;
use pacbayes_pipeline::{CERTIFICATE_FILE, NETWORK_FILE};

/// The false-rejection probability of the Gibbs re-estimate.
const FALSE_REJECTION: f64 = 1e-6;
use pacbayes_eval::{Kind, show};

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A certificate.json (without --run).
    #[arg(required_unless_present = "run", conflicts_with = "run")]
    file: Option<PathBuf>,
    /// A run folder: also check its files' hashes, the KL, the recounted errors and ê.
    #[arg(long)]
    run: Option<PathBuf>,
    /// Seed of the fresh draws of the Gibbs re-estimate (--run).
    #[arg(long, default_value = "1")]
    seed: u64,
    /// Seconds to spend re-estimating the Gibbs risk (--run); at least one repetition is made.
    #[arg(long, default_value = "30", value_parser = crate::args::non_negative)]
    budget: f64,
    /// Where the tensors of --run live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a
    /// build with the `cuda` or `metal` feature).
    #[arg(long)]
    device: Option<String>,
}

pub(crate) fn run(args: VerifyArgs) -> Result<()> {
    match (&args.file, &args.run) {
        (_, Some(dir)) => {
            let device = crate::device::resolve(args.device.as_deref())?;
            println!("{}", verify_run(dir, args.seed, args.budget, &device)?);
        }
        (Some(file), None) => println!("{}", verify(file)?),
        (None, None) => return Err(UsageError("expected a certificate.json or --run DIR".into()).into()),
    }
    Ok(())
}

/// Reads and verifies the certificate in `file`; on success, a line saying what it certifies and one
/// saying which code and machine computed it.
///
/// # Errors
/// An unreadable file, or a record that does not verify (exit status 2: the input is at fault).
pub(crate) fn verify(file: &std::path::Path) -> Result<String> {
    let record = CertificateRecord::read(file)?;
    record.verify()?;
    let (z, c) = (&record.zero_one, &record.cross_entropy);
    // Certified upper bounds are shown rounded up, never to the nearest.
    let up = |x: f64| show(x, Kind::UpperBound, 4);
    Ok(format!(
        "ok: risk ≤ {} (0-1 loss), ≤ {} (bounded cross-entropy), each with probability ≥ {} \
         (n = {}, KL = {:.2} nats, {} Monte Carlo draws)\nmade by: {}",
        up(z.bound),
        up(c.bound),
        // A run chosen among K pays δ′/K in each Monte Carlo term: δ′ in all.
        1.0 - z.delta - z.delta_mc.map_or(0.0, |_| record.settings.delta_mc),
        record.n_bound,
        record.kl,
        record.protocol.mc_samples,
        record.provenance.summary()
    ))
}

fn rejected(field: &str, recorded: impl std::fmt::Display, found: impl std::fmt::Display) -> anyhow::Error {
    UsageError(format!("certificate rejected: {field}: recorded {recorded}, recomputed {found}")).into()
}

/// All parameters of a network's prior and posterior as f64 vectors: (μ_Q, σ_Q, μ_P, σ_P).
fn flat_params(network: &Network) -> Result<[Vec<f64>; 4]> {
    let (q, p) = (network.posterior()?, network.prior());
    let flat = |ts: &[candle_core::Tensor]| -> Result<Vec<f64>> {
        let mut out = Vec::new();
        for t in ts {
            out.extend(t.flatten_all()?.to_vec1::<f32>()?.into_iter().map(f64::from));
        }
        Ok(out)
    };
    Ok([flat(q.mu())?, flat(q.sigma())?, flat(p.mu())?, flat(p.sigma())?])
}

/// Verifies the certificate of `run_dir` against the run's files (see the module documentation), with
/// the tensors on `device`.
pub(crate) fn verify_run(
    run_dir: &Path,
    seed: u64,
    budget: f64,
    device: &candle_core::Device,
) -> Result<String> {
    let cert_file = run_dir.join(CERTIFICATE_FILE);
    if !cert_file.is_file() {
        return Err(
            UsageError(format!("{}: missing; expected a certified run folder", cert_file.display())).into()
        );
    }
    let record = CertificateRecord::read(&cert_file)?;
    record.verify()?;
    let recorded = record.files.as_ref().ok_or_else(|| {
        UsageError(format!(
            "{}: records no file hashes (files); certify again to bind them",
            cert_file.display()
        ))
    })?;
    let found = pacbayes_pipeline::file_hashes(
        &pacbayes_pipeline::RunDir::new(run_dir),
        &record.split,
        record.disintegrated.is_some(),
    )?;
    for (field, r, f) in [
        ("files.prior_safetensors", &recorded.prior_safetensors, &found.prior_safetensors),
        ("files.posterior_safetensors", &recorded.posterior_safetensors, &found.posterior_safetensors),
        ("files.split_manifest", &recorded.split_manifest, &found.split_manifest),
        ("files.data", &recorded.data, &found.data),
    ] {
        if r != f {
            return Err(rejected(field, r, f));
        }
    }
    if recorded.network_safetensors != found.network_safetensors {
        return Err(rejected(
            "files.network_safetensors",
            format!("{:?}", recorded.network_safetensors),
            format!("{:?}", found.network_safetensors),
        ));
    }
    let run = pacbayes_pipeline::RunDir::new(run_dir).load(device)?;
    if run.split.manifest() != record.split {
        return Err(UsageError(format!(
            "certificate rejected: split: differs from the manifest in {}",
            run_dir.display()
        ))
        .into());
    }
    let network = Network::load_posterior(run.prior.gaussian(), run_dir.join("posterior.safetensors"))?;
    let [mq, sq, mp, sp] = flat_params(&network)?;
    let kl = match network.family() {
        pacbayes_nn::Family::Gaussian => pacbayes_bounds::kl_diag_gaussian(&mq, &sq, &mp, &sp)?,
        pacbayes_nn::Family::Laplace => pacbayes_bounds::kl_diag_laplace(&mq, &sq, &mp, &sp)?,
    };
    if record.kl < kl - 1e-6 * kl.max(1.0) {
        return Err(rejected("kl", record.kl, kl));
    }
    let settings = record.settings.check()?;
    let bound = run.split.bound();
    if let Some(h) = &record.heldout {
        let errors = pacbayes_eval::prior_mean_errors(&network, bound, &settings)?;
        if errors != h.errors {
            return Err(rejected("heldout.errors", h.errors, errors));
        }
    }
    if let Some(d) = &record.disintegrated {
        let drawn = pacbayes_eval::load_drawn(network.architecture(), &run_dir.join(NETWORK_FILE))?;
        let drawn = crate::device::drawn_on(drawn, device)?;
        let mut errors = 0.0;
        for b in bound.batches(settings.settings().batch_size) {
            let width = b.features.len() / b.len().max(1);
            let x = candle_core::Tensor::from_vec(b.features.clone(), (b.len(), width), network.device())?;
            errors += pacbayes_eval::loss_sums(&drawn.forward_mean(&x)?, &b.labels, 0.5)?.zero_one;
        }
        let errors = errors.round() as u64;
        if errors != d.errors {
            return Err(rejected("disintegrated.errors", d.errors, errors));
        }
        let prior_of_drawn = drawn.prior();
        let layers: Vec<[candle_core::Tensor; 2]> =
            prior_of_drawn.mu().chunks(2).map(|c| [c[0].clone(), c[1].clone()]).collect();
        let ratio = pacbayes_eval::log_density_ratio(&network.posterior()?, &network.prior(), &layers)?;
        if d.log_density_ratio < ratio - 1e-6 * ratio.abs().max(1.0) {
            return Err(rejected("disintegrated.log_density_ratio", d.log_density_ratio, ratio));
        }
        if let Some(r) = &d.renyi {
            let divergence =
                pacbayes_eval::renyi_divergence(&network.posterior()?, &network.prior(), r.alpha)?;
            if r.divergence < divergence.min(1e300) - 1e-6 * divergence.abs().max(1.0) {
                return Err(rejected("disintegrated.renyi.divergence", r.divergence, divergence));
            }
        }
    }
    // The Gibbs risk, re-estimated with fresh draws.
    let start = Instant::now();
    let mut noise = Noise::new(seed);
    let mut total = LossSums::default();
    loop {
        let e = estimate_fast(&network, bound, 1, &settings, &mut noise, &())?;
        total = total
            + LossSums {
                zero_one: e.zero_one * e.mc_samples as f64,
                cross_entropy: 0.0,
                count: e.mc_samples,
            };
        if start.elapsed().as_secs_f64() >= budget {
            break;
        }
    }
    let fresh = total.means().0;
    let t = |n: u64| ((4.0 / FALSE_REJECTION).ln() / (2.0 * n as f64)).sqrt();
    let width = t(record.protocol.mc_samples) + t(total.count);
    let emp = record.zero_one.emp_risk;
    if (emp - fresh).abs() > width {
        return Err(UsageError(format!(
            "certificate rejected: zero_one.emp_risk: recorded {emp}, re-estimated {fresh} from {} fresh draws; \
             they differ by more than {width:.6} (false rejection ≤ {FALSE_REJECTION})",
            total.count
        ))
        .into());
    }
    Ok(format!(
        "{}; files, KL ({kl:.4} nats recomputed), held-out and disintegrated errors recounted, ê re-estimated \
         {fresh:.6} ± {width:.6} from {} fresh draws",
        verify(&cert_file)?,
        total.count
    ))
}
