//! The command line: one subcommand per stage of the pipeline.

use clap::{Parser, Subcommand};

use crate::commands::bound::BoundCommand;
use crate::commands::certify::CertifyArgs;
use crate::commands::data::DataCommand;
use crate::commands::posterior::PosteriorArgs;
use crate::commands::predict::PredictArgs;
use crate::commands::prior::PriorArgs;
use crate::commands::report::ReportArgs;
use crate::commands::run::RunArgs;
use crate::commands::sweep::SweepArgs;
use crate::commands::verify::VerifyArgs;

/// Honest, tight, checkable PAC-Bayes risk certificates.
#[derive(Debug, Parser)]
#[command(name = "pacbayes", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Data → prior → posterior → certificate → table in one new run folder (MNIST FCN by default).
    Run(RunArgs),
    /// The bound calculator: kl inverses and certificates from numbers.
    #[command(subcommand)]
    Bound(BoundCommand),
    /// Datasets and splits: counts per class and the split manifest.
    #[command(subcommand)]
    Data(DataCommand),
    /// Fits a prior on S_prior (or builds a data-free or from-file one) and saves it in a new folder.
    Prior(PriorArgs),
    /// Trains the posterior of a run folder's prior by minimizing a PAC-Bayes bound, and saves it there.
    Posterior(PosteriorArgs),
    /// Certifies a run's posterior on its S_bound and writes certificate.json into the run folder.
    Certify(CertifyArgs),
    /// Recomputes a certificate.json from its recorded quantities; exit status 2 on any mismatch.
    Verify(VerifyArgs),
    /// Gathers the certificates of several runs into a tightness table (CSV, Parquet, Markdown, LaTeX).
    Report(ReportArgs),
    /// Many runs from one grid file, locally or on a Slurm cluster, merged into one table.
    Sweep(SweepArgs),
    /// Predicts classes with the certified drawn network of a run (network.safetensors).
    Predict(PredictArgs),
}
