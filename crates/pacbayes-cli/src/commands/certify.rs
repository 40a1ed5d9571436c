//! `pacbayes certify`: certify the posterior of a run folder on its S_bound and write
//! `certificate.json` ([`pacbayes_pipeline::certify_run`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pacbayes_eval::Protocol;
use pacbayes_pipeline::{CertificateKind, CertifyConfig, RunDir, certify_run};

use crate::progress::Terminal;

#[derive(Debug, Args)]
pub(crate) struct CertifyArgs {
    /// The run folder (made by `pacbayes prior`, with a posterior from `pacbayes posterior`).
    #[arg(long)]
    run: PathBuf,
    /// A TOML file with any of the settings below (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// fast (an independent draw per example and repetition) or classic (whole-network draws).
    #[arg(long)]
    protocol: Option<String>,
    /// k, repetitions of the fast protocol [default: ceil(1e6 / n)].
    #[arg(long, value_parser = crate::args::positive_count)]
    repetitions: Option<u64>,
    /// m, weight draws of the classic protocol [default: 1000].
    #[arg(long, value_parser = crate::args::positive_count)]
    draws: Option<u64>,
    /// δ of the bound, in (0, 1) [default: 0.025].
    #[arg(long, value_parser = crate::args::open_unit)]
    delta: Option<f64>,
    /// δ′ of the Monte Carlo term, in (0, 1) [default: 0.01].
    #[arg(long, value_parser = crate::args::open_unit)]
    delta_mc: Option<f64>,
    /// p_min of the bounded cross-entropy, in (0, 1) [default: 1e-5].
    #[arg(long, value_parser = crate::args::open_unit)]
    p_min: Option<f64>,
    /// Seed of every weight draw [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// K, the configurations this run was chosen among by their certificates; ln K is paid in the
    /// KL term and δ′/K in the Monte Carlo term [default: 1].
    #[arg(long, value_parser = crate::args::positive_count)]
    configurations: Option<u64>,
    /// Examples per forward pass [default: 1000].
    #[arg(long, value_parser = positive_size)]
    batch_size: Option<usize>,
    /// Networks drawn for the ensemble's test error [default: 100].
    #[arg(long, value_parser = positive_size)]
    ensemble_size: Option<usize>,
    /// α of the Rényi form of the disintegrated certificate, finite and > 1 [default: 2].
    #[arg(long)]
    renyi_alpha: Option<f64>,
    /// Which certificates: gibbs (the stochastic predictor Q), disintegrated (one network drawn from
    /// Q, saved as network.safetensors) or both. The Gibbs certificate is recorded in every
    /// certificate.json; with `disintegrated` it is still computed and recorded, and the summary
    /// leads with the drawn network.
    #[arg(long, value_enum, default_value_t = CertificateKind::Both)]
    pub(crate) kind: CertificateKind,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature).
    #[arg(long)]
    device: Option<String>,
}

/// A whole number ≥ 1 that counts things held in memory.
fn positive_size(s: &str) -> std::result::Result<usize, String> {
    let n = crate::args::positive_count(s)?;
    usize::try_from(n).map_err(|_| "expected a smaller whole number".to_owned())
}

impl CertifyArgs {
    pub(crate) fn resolve(&self) -> Result<CertifyConfig> {
        let mut c: CertifyConfig = pacbayes_pipeline::read_or_default(self.config.as_deref())?;
        let s = &mut c;
        if let Some(p) = &self.protocol {
            s.protocol = p.parse::<Protocol>()?;
        }
        if self.repetitions.is_some() {
            s.repetitions = self.repetitions;
        }
        s.draws = self.draws.unwrap_or(s.draws);
        s.delta = self.delta.unwrap_or(s.delta);
        s.delta_mc = self.delta_mc.unwrap_or(s.delta_mc);
        s.p_min = self.p_min.unwrap_or(s.p_min);
        s.seed = self.seed.unwrap_or(s.seed);
        s.configurations = self.configurations.unwrap_or(s.configurations);
        s.batch_size = self.batch_size.unwrap_or(s.batch_size);
        s.ensemble_size = self.ensemble_size.unwrap_or(s.ensemble_size);
        s.renyi_alpha = self.renyi_alpha.unwrap_or(s.renyi_alpha);
        Ok(c)
    }
}

pub(crate) fn run(args: CertifyArgs) -> Result<()> {
    let config = args.resolve()?;
    let device = crate::device::resolve(args.device.as_deref())?;
    let outcome = certify_run(&config, &RunDir::new(&args.run), args.kind, &device, &Terminal::control())?;
    println!("{}", outcome.summary);
    Ok(())
}
